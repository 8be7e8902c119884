/*
 * A candidate's live-bytes score without building its whole plan.
 *
 * A round of the search scores about a thousand candidates, each the
 * current plan with the segments in a window of positions [lo, hi]
 * replaced (bound.c says why the steps before the window are the current
 * plan's and those after it the same, shifted). Building each candidate
 * whole made a round cost the plan's length, and a deep chain needs a
 * round per layer and level of peak: the search grew with the square of
 * the depth. Here a candidate costs its window and its neighbourhood.
 *
 * Call E the tensors the window's operators read or write. Every buffer
 * of a tensor outside E is touched only by operators outside the window,
 * whose steps are the same in the candidate, so its life is the same
 * (shifted after the window) and its bytes too: whether a tensor is cut
 * into row bands depends only on the steps touching it. A buffer of such a
 * tensor alive inside the window is alive across all of it. The buffers
 * of E's tensors change: a streamed window cuts its input into row bands
 * that a channel split reads whole, rings replace tensors, slices come and
 * go. But every operator touching a tensor of E lies in [lo', hi'], from
 * the first to the last position of an operator touching one (widened to
 * whole segments, to the start for a model input and to the end for a
 * model output, whose lives a rule ties to the plan's ends), so the
 * sub-plan of positions [lo', hi'] (sched_build_range) gives E's buffers
 * exactly as the whole candidate would, their band cuts and lives
 * included.
 *
 * So the candidate's live bytes are: the current plan's before the
 * sub-plan's steps and after them (shifted), worked out once per round as
 * running maxima from either end; and inside, the current plan's bytes
 * less its E buffers (the same at every window step) plus the sub-plan's
 * E buffers. The peak, its steps and the op at the first of them follow.
 * Tensors sharing a buffer (reshape views, planar inputs) and operator
 * state are left to whole builds, as are buffers whose life a rule sets
 * at the window's steps.
 *
 * Most candidates lose by their peak alone (a deep depthwise chain: 95 %),
 * so before building one the search asks for a floor under its peak
 * (sched_sub_floor): the current plan's peak outside the sub-plan's
 * steps, and inside the window the bytes alive across it plus the most
 * a streamed segment of the window already in the template cache surely
 * holds at one step (tmpl.c: its rings, the rows of the tensors it reads
 * from its start, those it writes to its end). A candidate whose floor is
 * above the best peak of the round is not built.
 *
 * PEXC_SEARCH_CHECK=1 builds every candidate whole as well and stops if
 * the two scores differ, or the score falls below the floor
 * (tests/test_search_bound.py).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sched/subplan.h"

enum { SUB_PLAIN = 1, SUB_INPUT = 2, SUB_OUTPUT = 4 };

static void free_round(sched_sub *sb) {
    free(sb->pos_of_op);
    free(sb->pmin);
    free(sb->pmax);
    free(sb->live);
    free(sb->pre_max);
    free(sb->suf_max);
    free(sb->pre_cnt);
    free(sb->suf_cnt);
    free(sb->pre_at);
    free(sb->suf_at);
    free(sb->step_op);
    free(sb->b_first);
    free(sb->b_last);
    free(sb->b_tensor);
    free(sb->b_size);
    free(sb->tb_start);
    free(sb->tb_list);
    free(sb->forced);
    sb->pos_of_op = sb->pmin = sb->pmax = sb->pre_cnt = sb->suf_cnt = sb->pre_at = sb->suf_at = sb->step_op = NULL;
    sb->b_first = sb->b_last = sb->b_tensor = sb->tb_start = sb->tb_list = sb->forced = NULL;
    sb->live = sb->pre_max = sb->suf_max = sb->b_size = NULL;
    sb->ok = 0;
}

void sched_sub_free(sched_sub *sb) {
    free_round(sb);
    free(sb->tflag);
    free(sb->mark);
    free(sb->e_list);
    free(sb->dc);
    free(sb->ds);
    memset(sb, 0, sizeof *sb);
}

/* Per graph: which tensors own their buffer alone, inputs, outputs. */
static int graph_flags(sched_sub *sb, const ir_graph *g, const k_call *calls) {
    free(sb->tflag);
    free(sb->mark);
    free(sb->e_list);
    sb->tflag = malloc((size_t)g->n_tensors + 1);
    sb->mark = calloc((size_t)g->n_tensors + 1, sizeof(int32_t));
    sb->e_list = malloc(sizeof(int32_t) * ((size_t)g->n_tensors + 1));
    sb->g = NULL;
    if (!sb->tflag || !sb->mark || !sb->e_list) return -1;
    sb->stamp = 0;
    for (int32_t t = 0; t < g->n_tensors; t++) {
        const ir_tensor *x = &g->tensors[t];
        sb->tflag[t] = (uint8_t)((x->is_variable ? 0 : SUB_PLAIN) | (x->is_input ? SUB_INPUT : 0) |
                                 (x->is_output ? SUB_OUTPUT : 0));
    }
    /* reshape views share their input's buffer; a planar input's buffer
     * is its NHWC view's */
    for (int32_t op = 0; op < g->n_ops; op++) {
        const k_call *k = &calls[op];
        if (k->kind != K_NOP) continue;
        if (k->out >= 0) sb->tflag[k->out] &= (uint8_t)~SUB_PLAIN;
        if (k->in[0] >= 0) sb->tflag[k->in[0]] &= (uint8_t)~SUB_PLAIN;
    }
    for (int32_t i = 0; i < g->n_inputs; i++) {
        int32_t v = plan_planar_view(g, calls, g->inputs[i]);
        if (v < 0) continue;
        sb->tflag[v] &= (uint8_t)~SUB_PLAIN;
        sb->tflag[g->inputs[i]] &= (uint8_t)~SUB_PLAIN;
    }
    sb->g = g;
    return 0;
}

static void note_touch(sched_sub *sb, int32_t t, int32_t pos) {
    if (t < 0 || sb->g->tensors[t].data) return;
    if (pos < sb->pmin[t]) sb->pmin[t] = pos;
    if (pos > sb->pmax[t]) sb->pmax[t] = pos;
}

int sched_sub_take(sched_sub *sb, const sched_bound *bd, const ir_graph *g, const k_call *calls,
                   const int32_t *order, const plan_t *p, const stream_cache *c) {
    free_round(sb);
    if (!bd->ok || g->stream_input || g->stream_output) return 0;
    if (sb->g != g && graph_flags(sb, g, calls)) return -1;
    sb->calls = calls;
    int32_t ns = p->n_steps, nb = p->n_buffers, nt = g->n_tensors, no = g->n_ops;
    sb->n_ops = no;
    sb->n_tensors = nt;
    sb->n_steps = ns;
    sb->n_bufs = nb;
    size_t s1 = (size_t)ns + 1, b1 = (size_t)nb + 1, t1 = (size_t)nt + 1;
    sb->pos_of_op = malloc(sizeof(int32_t) * ((size_t)no + 1));
    sb->pmin = malloc(sizeof(int32_t) * t1);
    sb->pmax = malloc(sizeof(int32_t) * t1);
    sb->live = malloc(sizeof(size_t) * s1);
    sb->pre_max = malloc(sizeof(size_t) * s1);
    sb->suf_max = malloc(sizeof(size_t) * s1);
    sb->pre_cnt = malloc(sizeof(int32_t) * s1);
    sb->suf_cnt = malloc(sizeof(int32_t) * s1);
    sb->pre_at = malloc(sizeof(int32_t) * s1);
    sb->suf_at = malloc(sizeof(int32_t) * s1);
    sb->step_op = malloc(sizeof(int32_t) * s1);
    sb->b_first = malloc(sizeof(int32_t) * b1);
    sb->b_last = malloc(sizeof(int32_t) * b1);
    sb->b_tensor = malloc(sizeof(int32_t) * b1);
    sb->b_size = malloc(sizeof(size_t) * b1);
    sb->tb_start = calloc(t1 + 1, sizeof(int32_t));
    sb->tb_list = malloc(sizeof(int32_t) * b1);
    sb->forced = malloc(sizeof(int32_t) * b1);
    int64_t *d = calloc(s1 + 1, sizeof(int64_t));
    if (!sb->pos_of_op || !sb->pmin || !sb->pmax || !sb->live || !sb->pre_max || !sb->suf_max || !sb->pre_cnt ||
        !sb->suf_cnt || !sb->pre_at || !sb->suf_at || !sb->step_op || !sb->b_first || !sb->b_last || !sb->b_tensor ||
        !sb->b_size || !sb->tb_start || !sb->tb_list || !sb->forced || !d) {
        free(d);
        free_round(sb);
        return -1;
    }
    for (int32_t t = 0; t < nt; t++) {
        sb->pmin[t] = INT32_MAX;
        sb->pmax[t] = -1;
    }
    for (int32_t pos = 0; pos < no; pos++) {
        const k_call *k = &calls[order[pos]];
        sb->pos_of_op[order[pos]] = pos;
        note_touch(sb, k->in[0], pos);
        note_touch(sb, k->in[1], pos);
        note_touch(sb, k->out, pos);
        for (int32_t i = 0; i < k->n_whole; i++) note_touch(sb, k->whole_in[i], pos);
    }
    /* the buffers, by tensor, and those whose life a rule sets */
    sb->n_forced = 0;
    for (int32_t i = 0; i < nb; i++) {
        const plan_buffer *x = &p->buffers[i];
        sb->b_first[i] = x->first;
        sb->b_last[i] = x->last;
        sb->b_tensor[i] = x->tensor;
        sb->b_size[i] = plan_footprint(p, i);
        sb->tb_start[x->tensor + 1]++;
        d[x->first] += (int64_t)sb->b_size[i];
        d[x->last + 1] -= (int64_t)sb->b_size[i];
        uint8_t f = sb->tflag[x->tensor];
        if (!(f & SUB_PLAIN) || (f & (SUB_INPUT | SUB_OUTPUT)) || (x->first == 0 && x->last == 0))
            sb->forced[sb->n_forced++] = i;
    }
    for (int32_t t = 0; t < nt; t++) sb->tb_start[t + 1] += sb->tb_start[t];
    for (int32_t i = 0; i < nb; i++) sb->tb_list[sb->tb_start[sb->b_tensor[i]]++] = i;
    for (int32_t t = nt; t > 0; t--) sb->tb_start[t] = sb->tb_start[t - 1];
    sb->tb_start[0] = 0;
    int64_t run = 0;
    for (int32_t s = 0; s < ns; s++) {
        run += d[s];
        sb->live[s] = (size_t)run;
        sb->step_op[s] = sched_step_op(c, p, s);
    }
    free(d);
    /* running maxima, their counts and first steps, from either end */
    sb->pre_max[0] = 0;
    sb->pre_cnt[0] = sb->pre_at[0] = 0;
    for (int32_t s = 0; s < ns; s++) {
        size_t v = sb->live[s], m = sb->pre_max[s];
        sb->pre_max[s + 1] = !sb->pre_cnt[s] || v > m ? v : m;
        sb->pre_cnt[s + 1] = !sb->pre_cnt[s] || v > m ? 1 : sb->pre_cnt[s] + (v == m);
        sb->pre_at[s + 1] = !sb->pre_cnt[s] || v > m ? s : sb->pre_at[s];
    }
    sb->suf_max[ns] = 0;
    sb->suf_cnt[ns] = 0;
    sb->suf_at[ns] = ns;
    for (int32_t s = ns - 1; s >= 0; s--) {
        size_t v = sb->live[s], m = sb->suf_max[s + 1];
        int first = !sb->suf_cnt[s + 1] || v > m;
        sb->suf_max[s] = first ? v : m;
        sb->suf_cnt[s] = first ? 1 : sb->suf_cnt[s + 1] + (v == m);
        sb->suf_at[s] = first || v == m ? s : sb->suf_at[s + 1];
    }
    sb->ok = 1;
    return 0;
}

/* A run of steps' most live bytes, how many steps hold them and the first. */
typedef struct {
    size_t max;
    int32_t cnt, at;
} part;

/* A candidate's window in the current plan: positions [lo, hi] and the
 * sub-plan's [lo2, hi2], the current plan's steps [a, b) and [a2, b2), E
 * marked. 0: left to a whole build. */
typedef struct {
    int32_t lo, hi, lo2, hi2, a, b, a2, b2, ne;
} window;

static int window_of(sched_sub *sb, const sched_bound *bd, const int32_t *order, const plan_segment *cur,
                     int32_t n_cur, const plan_segment *trial, int32_t m, window *w) {
    int32_t lo, hi;
    if (!sb->ok || !sched_bound_span(cur, n_cur, trial, m, &lo, &hi) || hi >= sb->n_ops) return 0;
    const ir_graph *g = sb->g;
    if (++sb->stamp == INT32_MAX) {
        memset(sb->mark, 0, sizeof(int32_t) * (size_t)sb->n_tensors);
        sb->stamp = 1;
    }
    /* E, the window's tensors, and the positions touching them */
    int32_t ne = 0, lo2 = lo, hi2 = hi;
    for (int32_t pos = lo; pos <= hi; pos++) {
        const k_call *k = &sb->calls[order[pos]];
        for (int32_t x = 0; x < 3 + k->n_whole; x++) {
            int32_t t = x == 0 ? k->in[0] : x == 1 ? k->in[1] : x == 2 ? k->out : k->whole_in[x - 3];
            if (t < 0 || g->tensors[t].data || sb->mark[t] == sb->stamp) continue;
            if (!(sb->tflag[t] & SUB_PLAIN)) return 0;
            sb->mark[t] = sb->stamp;
            sb->e_list[ne++] = t;
            if (sb->pmin[t] < lo2) lo2 = sb->pmin[t];
            if (sb->pmax[t] > hi2) hi2 = sb->pmax[t];
            if (sb->tflag[t] & SUB_INPUT) lo2 = 0;
            if (sb->tflag[t] & SUB_OUTPUT) hi2 = sb->n_ops - 1;
        }
    }
    for (int32_t i = 0; i < m; i++) { /* whole segments */
        if (trial[i].op_first <= lo2 && lo2 <= trial[i].op_last) lo2 = trial[i].op_first;
        if (trial[i].op_first <= hi2 && hi2 <= trial[i].op_last) hi2 = trial[i].op_last;
    }
    int32_t nc = sb->n_steps, a2 = sched_bound_step_at(bd, lo2), a = sched_bound_step_at(bd, lo),
            b = sched_bound_step_at(bd, hi + 1), b2 = sched_bound_step_at(bd, hi2 + 1);
    if (a >= b) return 0;
    /* a rule-set life ending or starting inside the window: not the same
     * across it */
    if (a == 0 || b == nc)
        for (int32_t j = 0; j < sb->n_forced; j++) {
            int32_t i = sb->forced[j];
            if (sb->mark[sb->b_tensor[i]] == sb->stamp) continue;
            if ((sb->b_first[i] >= a && sb->b_first[i] < b) || (sb->b_last[i] >= a && sb->b_last[i] < b)) return 0;
        }
    *w = (window){lo, hi, lo2, hi2, a, b, a2, b2, ne};
    return 1;
}

int sched_sub_floor(sched_sub *sb, const sched_bound *bd, const int32_t *order, const plan_segment *cur,
                    int32_t n_cur, const plan_segment *trial, int32_t m, stream_cache *c, size_t *floor) {
    window w;
    if (!window_of(sb, bd, order, cur, n_cur, trial, m, &w)) return 0;
    /* the bytes alive across the window that are no window tensor's */
    int64_t across = (int64_t)sb->live[w.a];
    for (int32_t e = 0; e < w.ne; e++) {
        int32_t t = sb->e_list[e];
        for (int32_t j = sb->tb_start[t]; j < sb->tb_start[t + 1]; j++) {
            int32_t i = sb->tb_list[j];
            if (sb->b_first[i] <= w.a && w.a <= sb->b_last[i]) across -= (int64_t)sb->b_size[i];
        }
    }
    if (across < 0) return 0;
    size_t own = 0;
    int any = 0;
    for (int32_t i = 0; i < m; i++) {
        if (trial[i].rows <= 0 || trial[i].op_first < w.lo || trial[i].op_last > w.hi) continue;
        int32_t t = sched_tmpl_find(c, order, &trial[i]);
        if (t < 0) continue;
        if (c->t[t].own_peak > own) own = c->t[t].own_peak;
        c->t[t].used = c->tick; /* (a template the floors use stays cached) */
        any = 1;
    }
    size_t f = sb->pre_max[w.a2] > sb->suf_max[w.b2] ? sb->pre_max[w.a2] : sb->suf_max[w.b2];
    if (any && (size_t)across + own > f) f = (size_t)across + own;
    *floor = f;
    return 1;
}

int sched_sub_eval(sched_sub *sb, const sched_bound *bd, const int32_t *order, const plan_segment *cur,
                   int32_t n_cur, const plan_segment *trial, int32_t m, stream_cache *c, sched_sub_score *out) {
    window w;
    if (!window_of(sb, bd, order, cur, n_cur, trial, m, &w)) return 0;
    const ir_graph *g = sb->g;
    int32_t ne = w.ne, lo2 = w.lo2, hi2 = w.hi2, nc = sb->n_steps, a2 = w.a2, a = w.a, b = w.b, b2 = w.b2;
    /* the current plan's E buffers over its steps [a2, b2) */
    size_t nr = (size_t)(b2 - a2) + 1;
    if (sched_scratch((void **)&sb->dc, &sb->cap_dc, nr, sizeof(int64_t))) return -1;
    int64_t *dc = sb->dc;
    memset(dc, 0, sizeof(int64_t) * nr);
    for (int32_t e = 0; e < ne; e++) {
        int32_t t = sb->e_list[e];
        for (int32_t j = sb->tb_start[t]; j < sb->tb_start[t + 1]; j++) {
            int32_t i = sb->tb_list[j];
            if (sb->b_first[i] < a2 || sb->b_last[i] >= b2 || sb->b_last[i] < sb->b_first[i]) return 0;
            dc[sb->b_first[i] - a2] += (int64_t)sb->b_size[i];
            dc[sb->b_last[i] + 1 - a2] -= (int64_t)sb->b_size[i];
        }
    }
    for (size_t s = 1; s < nr; s++) dc[s] += dc[s - 1];
    /* the sub-plan */
    util_arena tmp;
    util_arena_init(&tmp, (size_t)1 << 30);
    plan_t sp;
    util_err e2 = {{0}};
    if (sched_build_range(g, sb->calls, order, trial, m, lo2, hi2, &sp, &tmp, c, &e2)) {
        util_arena_free(&tmp); /* the whole build says what fails */
        return 0;
    }
    int32_t ns = sp.n_steps, delta = ns - (b2 - a2), nw = (b - a) + delta;
    sb->n_sub_steps += ns;
    int rc = 0;
    if (nw < 0 || sched_scratch((void **)&sb->ds, &sb->cap_ds, (size_t)ns + 2, sizeof(int64_t))) {
        rc = nw < 0 ? 0 : -1;
        goto done;
    }
    int64_t *ds = sb->ds;
    memset(ds, 0, sizeof(int64_t) * ((size_t)ns + 2));
    for (int32_t i = 0; i < sp.n_buffers; i++) {
        const plan_buffer *x = &sp.buffers[i];
        if (sb->mark[x->tensor] != sb->stamp) continue;
        /* (never touched, or touched at the sub-plan's first step only) */
        if (a2 > 0 && x->first == 0 && x->last == 0) goto done;
        if (x->last < x->first || x->last >= ns) goto done;
        int64_t f = (int64_t)plan_footprint(&sp, i);
        ds[x->first] += f;
        ds[x->last + 1] -= f;
    }
    /* the candidate's steps [a2, a2 + ns): the current plan's bytes less
     * its E buffers (across the window: as at its first step), plus the
     * sub-plan's E buffers */
    part r = {0, 0, 0};
    int64_t run = 0, across = (int64_t)sb->live[a] - dc[a - a2];
    for (int32_t s = 0; s < ns; s++) {
        run += ds[s];
        int32_t t = a2 + s, cc = t < a ? t : t < a + nw ? -1 : t - delta;
        int64_t v = run + (cc < 0 ? across : (int64_t)sb->live[cc] - dc[cc - a2]);
        if (v < 0) goto done;
        if (!r.cnt || (size_t)v > r.max) {
            r.max = (size_t)v;
            r.cnt = 1;
            r.at = t;
        } else if ((size_t)v == r.max) {
            r.cnt++;
        }
    }
    part parts[3] = {{sb->pre_max[a2], sb->pre_cnt[a2], sb->pre_at[a2]},
                     r,
                     {sb->suf_max[b2], sb->suf_cnt[b2], sb->suf_at[b2] + delta}};
    size_t peak = 0;
    for (int i = 0; i < 3; i++)
        if (parts[i].cnt && parts[i].max > peak) peak = parts[i].max;
    int32_t at_peak = 0, first = -1;
    for (int i = 0; i < 3; i++)
        if (parts[i].cnt && parts[i].max == peak) {
            at_peak += parts[i].cnt;
            if (first < 0) first = parts[i].at;
        }
    int32_t op = 0;
    if (first >= 0 && first < a2) op = sb->step_op[first];
    else if (first >= a2 && first < a2 + ns) op = sched_step_op(c, &sp, first - a2);
    else if (first >= 0) op = sb->step_op[first - delta];
    out->peak = peak;
    out->at_peak = at_peak;
    out->steps = nc + delta;
    out->peak_pos = sb->pos_of_op[op]; /* (no steps: op 0's, as score_plan says) */
    rc = 1;
done:
    util_arena_free(&tmp);
    if (rc == 1) sb->n_fast++;
    else if (!rc) sb->n_fallback++;
    return rc;
}
