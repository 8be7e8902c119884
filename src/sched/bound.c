/*
 * A lower bound on a candidate's score from the part of the plan it leaves
 * alone, so the search builds only the candidates that can win.
 *
 * A round of the search tries about a thousand candidates, each the
 * current plan with the segments in a window of operator positions
 * [lo, hi] replaced. Segments never cross the window's edges (any segment
 * overlapping the new one is taken out, and the window spans those too),
 * and a plan is built position by position, so the steps of positions
 * before lo (the prefix) are the same steps in the candidate as in the
 * current plan, and those after hi (the suffix) the same steps shifted by
 * however many steps the window gains or loses.
 *
 * A buffer every step of the current plan touches lies in the prefix has
 * the same life in the candidate: the window's operators read and write
 * the same tensors whatever their segments, so no window step can touch a
 * buffer the current window's steps do not (a tensor made before lo and
 * read at or after it is touched by the current window too). The same
 * holds for a buffer touched only in the suffix, shifted. So at each
 * prefix step the candidate holds at least the bytes of the current
 * plan's prefix-only buffers alive there, and likewise in the suffix: a
 * lower bound on each step's live bytes, so on the peak; where the bound
 * reaches the best score's peak, every step at the bound is a step at the
 * peak (live bytes never exceed the peak), so it bounds the steps at the
 * peak too; and the steps outside the window bound the step count.
 * keep_if_better (search.c) skips the build when that bound already loses.
 *
 * The bound's statistics depend on lo alone (prefix) or hi alone
 * (suffix), and a round's candidates share a few dozen of each: they are
 * worked out once per round and position. Streamed model inputs and
 * outputs (--stream-input, --stream-output) let a step depend on the
 * segment after it, so the bound is off for them. PEXC_SEARCH_CHECK=1 in
 * the environment builds every candidate anyway and stops with a message
 * if one scores below its bound (tests/test_search_bound.py).
 */
#include <stdlib.h>
#include <string.h>

#include "sched/bound.h"

void sched_bound_free(sched_bound *bd) {
    free(bd->step_pos);
    free(bd->first);
    free(bd->last);
    free(bd->size);
    free(bd->memo);
    free(bd->diff);
    memset(bd, 0, sizeof *bd);
}

static int grow(void **x, int32_t *cap, int32_t n, size_t sz) {
    if (n <= *cap) return 0;
    void *y = realloc(*x, sz * (size_t)n);
    if (!y) return -1;
    *x = y;
    *cap = n;
    return 0;
}

int sched_bound_take(sched_bound *bd, const ir_graph *g, const plan_t *p, const stream_cache *c,
                     const plan_segment *segs, int32_t n_segs) {
    bd->ok = 0;
    if (g->stream_input || g->stream_output) return 0;
    int32_t ns = p->n_steps, nb = p->n_buffers, np = g->n_ops;
    if (grow((void **)&bd->step_pos, &bd->cap_steps, ns + 1, sizeof(int32_t)) ||
        grow((void **)&bd->diff, &bd->cap_diff, ns + 2, sizeof(int64_t)) ||
        grow((void **)&bd->first, &bd->cap_first, nb + 1, sizeof(int32_t)) ||
        grow((void **)&bd->last, &bd->cap_last, nb + 1, sizeof(int32_t)) ||
        grow((void **)&bd->size, &bd->cap_size, nb + 1, sizeof(size_t)) ||
        grow((void **)&bd->memo, &bd->cap_memo, 2 * (np + 1), sizeof(sched_bound_stat)))
        return -1;
    /* each step's position: its operator's, or for a step of a segment the
     * segment's first position (a channel split's slices run its operators
     * in turn; a window's edge is never inside a segment) */
    int32_t *seg_first = malloc(sizeof(int32_t) * (size_t)(np + 1));
    int32_t *pos_of = malloc(sizeof(int32_t) * (size_t)(np + 1));
    if (!seg_first || !pos_of) {
        free(seg_first);
        free(pos_of);
        return -1;
    }
    for (int32_t i = 0; i < np; i++) {
        seg_first[i] = i;
        pos_of[p->order[i]] = i;
    }
    for (int32_t i = 0; i < n_segs; i++)
        for (int32_t q = segs[i].op_first; q <= segs[i].op_last && q < np; q++) seg_first[q] = segs[i].op_first;
    int32_t u = 0;
    for (int32_t s = 0; s < ns; s++) {
        while (u < c->n_uses && c->uses[u].step0 + c->uses[u].n <= s) u++;
        if (u < c->n_uses && c->uses[u].step0 <= s) bd->step_pos[s] = seg_first[c->t[c->uses[u].tmpl].s];
        else bd->step_pos[s] = seg_first[pos_of[p->steps[s].call]];
    }
    /* positions must not fall: else the steps are not in position order
     * and the bound's premise fails (not seen; then no bound) */
    int mono = 1;
    for (int32_t s = 1; s < ns; s++)
        if (bd->step_pos[s] < bd->step_pos[s - 1]) mono = 0;
    free(seg_first);
    free(pos_of);
    if (!mono) return 0;
    for (int32_t i = 0; i < nb; i++) {
        bd->first[i] = p->buffers[i].first;
        bd->last[i] = p->buffers[i].last;
        bd->size[i] = plan_footprint(p, i);
    }
    bd->n_steps = ns;
    bd->n_bufs = nb;
    bd->n_pos = np;
    for (int32_t i = 0; i < 2 * (np + 1); i++) bd->memo[i].known = 0;
    bd->ok = 1;
    return 0;
}

int32_t sched_bound_step_at(const sched_bound *bd, int32_t pos) {
    int32_t lo = 0, hi = bd->n_steps;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (bd->step_pos[mid] < pos) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* side 0: the prefix before position at; 1: the suffix after it. */
static const sched_bound_stat *stat_of(sched_bound *bd, int side, int32_t at) {
    sched_bound_stat *st = &bd->memo[side * (bd->n_pos + 1) + at];
    if (st->known) return st;
    int32_t s0, s1; /* the steps [s0, s1) it covers */
    if (side == 0) {
        s0 = 0;
        s1 = sched_bound_step_at(bd, at);
    } else {
        s0 = sched_bound_step_at(bd, at + 1);
        s1 = bd->n_steps;
    }
    int64_t *d = bd->diff;
    for (int32_t s = s0; s <= s1; s++) d[s] = 0;
    for (int32_t i = 0; i < bd->n_bufs; i++) {
        if (bd->first[i] < s0 || bd->last[i] >= s1 || bd->last[i] < bd->first[i]) continue;
        /* [0, 0] is also what a buffer no step touches gets (a row band
         * nobody reads), whose existence depends on the whole plan */
        if (bd->last[i] == 0) continue;
        d[bd->first[i]] += (int64_t)bd->size[i];
        d[bd->last[i] + 1] -= (int64_t)bd->size[i];
    }
    int64_t run = 0;
    size_t best = 0;
    int32_t count = 0;
    for (int32_t s = s0; s < s1; s++) {
        run += d[s];
        size_t v = (size_t)run;
        if (v > best) {
            best = v;
            count = 1;
        } else if (v == best) {
            count++;
        }
    }
    st->peak = best;
    st->at_peak = best ? count : 0;
    st->steps = s1 - s0;
    st->known = 1;
    return st;
}

int sched_bound_span(const plan_segment *cur, int32_t n_cur, const plan_segment *trial, int32_t n_trial,
                     int32_t *lo_out, int32_t *hi_out) {
    /* every segment in one plan and not in the other. A candidate keeps
     * the current segments it keeps in their order and appends its own
     * (search.c, with_segment), so one walk finds them; any other list
     * only widens the window, which keeps what is said of it true */
    int32_t lo = INT32_MAX, hi = -1, j = 0;
    for (int32_t i = 0; i < n_cur; i++) {
        if (j < n_trial && !memcmp(&cur[i], &trial[j], sizeof cur[i])) {
            j++;
            continue;
        }
        if (cur[i].op_first < lo) lo = cur[i].op_first;
        if (cur[i].op_last > hi) hi = cur[i].op_last;
    }
    for (; j < n_trial; j++) {
        if (trial[j].op_first < lo) lo = trial[j].op_first;
        if (trial[j].op_last > hi) hi = trial[j].op_last;
    }
    *lo_out = lo;
    *hi_out = hi;
    return hi >= 0 && lo >= 0;
}

int sched_bound_window(sched_bound *bd, const plan_segment *cur, int32_t n_cur, const plan_segment *trial,
                       int32_t n_trial, sched_bound_stat *out) {
    int32_t lo, hi;
    if (!bd->ok || !sched_bound_span(cur, n_cur, trial, n_trial, &lo, &hi) || hi >= bd->n_pos) return 0;
    const sched_bound_stat *pre = stat_of(bd, 0, lo), *suf = stat_of(bd, 1, hi);
    out->peak = pre->peak > suf->peak ? pre->peak : suf->peak;
    out->at_peak = (pre->peak == out->peak ? pre->at_peak : 0) + (suf->peak == out->peak ? suf->at_peak : 0);
    if (!out->peak) out->at_peak = 0;
    out->steps = pre->steps + suf->steps;
    return 1;
}
