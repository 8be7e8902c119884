/*
 * The schedule search: which operators to split along channels or stream
 * by rows, in which order, scored by peak SRAM (live bytes, then the placed
 * arena) and then by steps; under a --sram budget the fewest-step plan that
 * fits. sched.c builds each candidate plan.
 *
 * The search is bottleneck driven: find the step with the most live bytes,
 * try every qualifying segment through it with several slice counts, keep the
 * one that lowers the overall peak most (fewest extra steps on ties), repeat
 * until nothing helps. The peak is measured on the real plan each candidate
 * would produce, so slices, partial sums and every other buffer count.
 *
 * Most candidates are not built whole: a round scores each from a
 * sub-plan of the positions around the window it changes and the current
 * plan's running maxima, after skipping those whose unchanged steps or
 * whose floor already lose (bound.c, subplan.c).
 *
 * The default schedule asks for less than the least peak: the least peak
 * whose predicted instructions (cost.c) stay within
 * SCHED_DEFAULT_SLOWDOWN (1.015x) the baseline's, so that it runs within
 * 1.05x measured. The search runs as for min-sram, keeping the plan of
 * each round (falling peak); when the least peak costs too much,
 * choose_default picks among those plans and the least-peak plan relaxed
 * to looser targets.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/bound.h"
#include "sched/subplan.h"
#include "sched/sched_int.h"

/* ---- search ------------------------------------------------------------- */

static const int32_t slice_counts[] = {2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128};

/* How good a plan is: least peak first, then fewest steps at the peak (so
 * the search can work through ties one step at a time), then fewest steps. */
typedef struct {
    size_t peak;
    int32_t at_peak, steps, peak_step;
} score;

/* What the search keeps between candidates. */
typedef struct {
    int placed;           /* score by the placed arena (else by live bytes) */
    stream_cache *cache;  /* streamed segments' templates, plan storage */
    size_t *live;         /* live bytes per step of the plan scored last */
    size_t live_cap;
    int64_t *diff;        /* live_profile's difference array, all zero between uses */
    size_t diff_cap;
    sched_bound *bound;   /* the current plan's, for the candidates of a round (bound.c) */
    sched_sub *sub;       /* the same for scoring candidates by sub-plans (subplan.c) */
    int check;            /* build every candidate and check its bound and sub-plan score (PEXC_SEARCH_CHECK) */
    long n_built, n_skipped, n_sub;
} scorer;

/* plan_live_profile into scr->live, its difference array kept between
 * candidates and cleared as the sweep reads it (a fresh zeroed array per
 * candidate was a tenth of a deep chain's search). */
static int live_profile(scorer *scr, const plan_t *p, size_t *peak, int32_t *peak_step) {
    size_t n = (size_t)p->n_steps + 2;
    if (n > scr->diff_cap) {
        int64_t *d = calloc(n, sizeof(int64_t));
        if (!d) return -1;
        free(scr->diff);
        scr->diff = d;
        scr->diff_cap = n;
    }
    int64_t *d = scr->diff;
    for (int32_t i = 0; i < p->n_buffers; i++) {
        const plan_buffer *b = &p->buffers[i];
        int64_t f = (int64_t)plan_footprint(p, i);
        d[b->first] += f;
        d[b->last + 1] -= f;
    }
    int64_t run = 0;
    size_t best = 0;
    int32_t at = 0;
    for (int32_t s = 0; s < p->n_steps; s++) {
        run += d[s];
        d[s] = 0;
        scr->live[s] = (size_t)run;
        if ((size_t)run > best) {
            best = (size_t)run;
            at = s;
        }
    }
    d[p->n_steps] = d[p->n_steps + 1] = 0;
    *peak = best;
    *peak_step = at;
    return 0;
}

/* lose_above, lose_at_peak, lose_steps (SIZE_MAX, 0, 0: none): the caller
 * only wants to know whether the plan beats that score within the step cap.
 * The placed arena is never below the live bytes, so a plan whose live peak
 * exceeds lose_above cannot, nor one whose live peak equals it with more
 * steps at that peak (or as many and no fewer steps): such a plan is not
 * placed, and sc gets its live figures, which lose too. In a deep chain
 * most candidates tie with the many equal peaks elsewhere, and placing
 * each cost a third of the search. */
/* Does a plan of these live figures (sc->at_peak not yet counted) lose,
 * scored by the placed arena? lose_* as for score_plan. */
static int live_loses(const score *sc, size_t lose_above, int32_t lose_at_peak, int32_t lose_steps) {
    return lose_above != SIZE_MAX && sc->peak >= lose_above &&
           (sc->peak > lose_above || sc->at_peak > lose_at_peak ||
            (sc->at_peak == lose_at_peak && sc->steps >= lose_steps));
}

static int score_plan_as(const ir_graph *g, const k_call *calls, scorer *scr, int placed, const int32_t *order,
                         const plan_segment *segs, int32_t n, size_t lose_above, int32_t lose_at_peak,
                         int32_t lose_steps, score *sc, util_err *err) {
    util_arena tmp;
    util_arena_init(&tmp, (size_t)1 << 30);
    plan_t p;
    if (sched_build_cached(g, calls, order, segs, n, &p, &tmp, scr->cache, err)) {
        util_arena_free(&tmp);
        return -1;
    }
    /* every entry is written: reused, not cleared (a deep chain's plans
     * have 100,000 steps, and the search scores 100,000 of them) */
    if (sched_scratch((void **)&scr->live, &scr->live_cap, (size_t)p.n_steps + 1, sizeof(size_t))) {
        util_arena_free(&tmp);
        return util_fail(err, "out of memory");
    }
    size_t *live = scr->live;
    if (live_profile(scr, &p, &sc->peak, &sc->peak_step)) {
        util_arena_free(&tmp);
        return util_fail(err, "out of memory");
    }
    if (placed && sc->peak >= lose_above && lose_above != SIZE_MAX) {
        sc->steps = p.n_steps;
        sc->at_peak = 0;
        for (int32_t st = 0; st < p.n_steps; st++)
            if (live[st] == sc->peak) sc->at_peak++;
        if (live_loses(sc, lose_above, lose_at_peak, lose_steps)) {
            sc->peak_step = 0;
            util_arena_free(&tmp);
            return 0;
        }
    }
    /* the placed arena, not only the live bytes: a band group must stay
     * contiguous, so freed bytes below it are not always usable */
    if (placed && plan_memory(&p, &tmp, err)) {
        util_arena_free(&tmp);
        return -1;
    }
    if (placed && p.arena_bytes > sc->peak) sc->peak = p.arena_bytes;
    sc->steps = p.n_steps;
    sc->at_peak = 0;
    for (int32_t st = 0; st < p.n_steps; st++)
        if (live[st] == sc->peak) sc->at_peak++;
    /* remember the position (in the operator order) of the op at the peak */
    int32_t op = p.n_steps ? sched_step_op(scr->cache, &p, sc->peak_step) : 0;
    sc->peak_step = 0;
    for (int32_t i = 0; i < g->n_ops; i++)
        if (p.order[i] == op) sc->peak_step = i;
    util_arena_free(&tmp);
    return 0;
}

static int score_plan(const ir_graph *g, const k_call *calls, scorer *scr, const int32_t *order,
                      const plan_segment *segs, int32_t n, size_t lose_above, int32_t lose_at_peak,
                      int32_t lose_steps, score *sc, util_err *err) {
    return score_plan_as(g, calls, scr, scr->placed, order, segs, n, lose_above, lose_at_peak, lose_steps, sc, err);
}

/* Takes the plan segs[0, n) as the one a round's candidates change. */
static int take_bound(const ir_graph *g, const k_call *calls, scorer *scr, const int32_t *order,
                      const plan_segment *segs, int32_t n, util_err *err) {
    util_arena tmp;
    util_arena_init(&tmp, (size_t)1 << 30);
    plan_t p;
    int rc = sched_build_cached(g, calls, order, segs, n, &p, &tmp, scr->cache, err);
    if (!rc && sched_bound_take(scr->bound, g, &p, scr->cache, segs, n)) rc = util_fail(err, "out of memory");
    if (!rc && scr->sub && sched_sub_take(scr->sub, scr->bound, g, calls, order, &p, scr->cache))
        rc = util_fail(err, "out of memory");
    util_arena_free(&tmp);
    return rc;
}

/* Every step costs flash in generated code (a 6-byte step-table row, 12
 * when a pixel index passes 65,535), so a plan may take at most this many:
 * 384 KiB of table at most. mobilenet_v2's least-peak plan with streamed
 * input takes 23,541 steps (141 KB), which with its 3.8 MB of constants
 * still fits the 4 MiB of the M4 board. */
#define SCHED_MAX_STEPS 65536

static int better(const score *a, const score *b, size_t budget) {
    int a_ok = a->steps <= SCHED_MAX_STEPS, b_ok = b->steps <= SCHED_MAX_STEPS;
    if (a_ok != b_ok) return a_ok;
    if (!a_ok) return a->steps < b->steps;
    if (budget && a->peak <= budget && b->peak <= budget) return a->steps < b->steps;
    if (a->peak != b->peak) return a->peak < b->peak;
    if (a->at_peak != b->at_peak) return a->at_peak < b->at_peak;
    return a->steps < b->steps;
}

/* Scores the candidate trial[0, m) and keeps it in best_set when it beats
 * *best. */
static int keep_if_better(const ir_graph *g, const k_call *calls, scorer *scr, const int32_t *order,
                          const plan_segment *segs, int32_t n, const plan_segment *trial, int32_t m, score *best,
                          int32_t *best_n, plan_segment *best_set, util_err *err) {
    score sc;
    /* a plan over the cap loses to an in-cap best whatever its peak, and
     * one in the cap with a higher peak loses too */
    size_t lose_above = best->steps <= SCHED_MAX_STEPS ? best->peak : SIZE_MAX;
    /* the steps outside the window it changes may already lose (bound.c) */
    sched_bound_stat lb;
    int have = lose_above != SIZE_MAX && scr->bound && sched_bound_window(scr->bound, segs, n, trial, m, &lb) &&
               lb.peak > 0;
    if (have && !scr->check &&
        (lb.peak > best->peak ||
         (lb.peak == best->peak &&
          (lb.at_peak > best->at_peak || (lb.at_peak == best->at_peak && lb.steps >= best->steps))))) {
        scr->n_skipped++;
        return 0;
    }
    /* a floor under its peak from the window's cached streamed segments
     * and the bytes alive across the window (subplan.c) */
    size_t floor = 0;
    if (lose_above != SIZE_MAX && scr->sub &&
        sched_sub_floor(scr->sub, scr->bound, order, segs, n, trial, m, scr->cache, &floor) && floor > best->peak &&
        !scr->check) {
        scr->n_skipped++;
        return 0;
    }
    if (!scr->check) floor = 0; /* (checked below: every floor, not only those that skip) */
    /* the live figures from the window's sub-plan (subplan.c): all the
     * live scorer needs, and enough for the placed one when they lose */
    sched_sub_score fast;
    int fr = scr->sub ? sched_sub_eval(scr->sub, scr->bound, order, segs, n, trial, m, scr->cache, &fast) : 0;
    if (fr < 0) return util_fail(err, "out of memory");
    if (fr) {
        sc = (score){fast.peak, fast.at_peak, fast.steps, fast.peak_pos};
        if (scr->check) {
            score whole;
            if (score_plan_as(g, calls, scr, 0, order, trial, m, SIZE_MAX, 0, 0, &whole, err)) return -1;
            if (whole.peak != sc.peak || whole.at_peak != sc.at_peak || whole.steps != sc.steps ||
                whole.peak_step != sc.peak_step)
                return util_fail(err, "search check: a candidate's sub-plan scores %zu B, %d steps at it, %d steps, "
                                      "peak at position %d; built whole %zu B, %d, %d, %d",
                                 sc.peak, sc.at_peak, sc.steps, sc.peak_step, whole.peak, whole.at_peak, whole.steps,
                                 whole.peak_step);
        }
        if (scr->placed && !live_loses(&sc, lose_above, best->at_peak, best->steps)) fr = 0;
        else if (scr->placed) sc.peak_step = 0;
    }
    if (fr) {
        scr->n_sub++;
    } else {
        scr->n_built++;
        if (score_plan(g, calls, scr, order, trial, m, lose_above, best->at_peak, best->steps, &sc, err)) return -1;
    }
    if (floor && sc.peak < floor)
        return util_fail(err, "search check: a candidate scores %zu B, below its floor %zu B", sc.peak, floor);
    if (have && (sc.peak < lb.peak || (sc.peak == lb.peak && sc.at_peak < lb.at_peak) || sc.steps < lb.steps))
        return util_fail(err, "search check: a candidate scores %zu B, %d steps at it, %d steps, below its bound "
                              "%zu B, %d, %d",
                         sc.peak, sc.at_peak, sc.steps, lb.peak, lb.at_peak, lb.steps);
    if (better(&sc, best, 0)) {
        *best = sc;
        *best_n = m;
        memcpy(best_set, trial, sizeof(plan_segment) * (size_t)m);
    }
    return 0;
}

/* trial = segs without those overlapping [s, e], plus [s, e] x K. */
static int32_t with_segment(const plan_segment *segs, int32_t n, plan_segment add, plan_segment *trial) {
    int32_t m = 0;
    for (int32_t i = 0; i < n; i++)
        if (segs[i].op_last < add.op_first || segs[i].op_first > add.op_last) trial[m++] = segs[i];
    trial[m++] = add;
    return m;
}

#define SW 12 /* how far from the peak a streamed segment may start or end */
/* Step sizes tried for streamed segments: {rows, fraction of a row}. */
static const int32_t stream_grains[][2] = {{1, 0}, {2, 0}, {4, 0}, {1, 4}, {1, 16}};
static const int32_t stream_rows_relax[] = {1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 128, 256};
/* Fractions of a row per step tried once the segments are chosen. */
static const int32_t stream_fracs[] = {8, 16};

/* Adds s to the candidate list if it is not there yet. */
static int32_t add_cand(int32_t *c, int32_t n, int32_t s) {
    for (int32_t i = 0; i < n; i++)
        if (c[i] == s) return n;
    c[n] = s;
    return n + 1;
}

/* Relax: fewer slices, more rows per streamed step (or no split at all)
 * wherever the peak stays within target, so the schedule is as fast as the
 * memory it reaches. */
static int relax(const ir_graph *g, const k_call *calls, scorer *scr, const int32_t *order, plan_segment *segs,
                 int32_t *np, plan_segment *trial, size_t target, score *cur, util_err *err) {
    for (int32_t i = 0; i < *np; i++) {
        while (segs[i].rows > 0 && segs[i].frac > 1) {
            plan_segment save = segs[i];
            segs[i].frac = save.frac / 2 > 1 ? save.frac / 2 : 0;
            score sc;
            if (score_plan(g, calls, scr, order, segs, *np, SIZE_MAX, 0, 0, &sc, err)) return -1;
            /* equal steps go on: on a narrow tensor 1/16 and 1/8 of a row
             * are both one pixel, and coarser fractions may still help */
            if (sc.peak > target || sc.steps > cur->steps) {
                segs[i] = save;
                break;
            }
            *cur = sc;
        }
        if (segs[i].rows > 0 && segs[i].frac <= 1) {
            for (size_t ri = 0; ri < sizeof stream_rows_relax / sizeof stream_rows_relax[0]; ri++) {
                int32_t r = stream_rows_relax[ri];
                if (r <= segs[i].rows) continue;
                plan_segment save = segs[i];
                segs[i].rows = r;
                score sc;
                if (score_plan(g, calls, scr, order, segs, *np, SIZE_MAX, 0, 0, &sc, err)) return -1;
                if (sc.peak > target || sc.steps >= cur->steps) {
                    segs[i] = save;
                    if (sc.peak > target) break;
                } else {
                    *cur = sc;
                }
            }
        }
        for (;;) {
            plan_segment save = segs[i];
            int32_t k = save.n_slices;
            size_t ki = 0;
            while (ki < sizeof slice_counts / sizeof slice_counts[0] && slice_counts[ki] < k) ki++;
            score sc;
            if (ki == 0 || save.rows > 0) { /* try removing the segment */
                memcpy(trial, segs, sizeof(plan_segment) * (size_t)*np);
                trial[i] = trial[*np - 1];
                if (score_plan(g, calls, scr, order, trial, *np - 1, SIZE_MAX, 0, 0, &sc, err)) return -1;
                if (sc.peak <= target) {
                    memcpy(segs, trial, sizeof(plan_segment) * (size_t)(*np - 1));
                    (*np)--;
                    i--;
                }
                break;
            }
            segs[i].n_slices = slice_counts[ki - 1];
            if (score_plan(g, calls, scr, order, segs, *np, SIZE_MAX, 0, 0, &sc, err)) return -1;
            if (sc.peak > target) {
                segs[i] = save;
                break;
            }
        }
    }
    return 0;
}

/* The plans the search passes through, one per round (the first with no
 * segment), of falling peak: the default schedule picks among them. */
typedef struct {
    plan_segment *segs; /* [cap * stride] */
    int32_t *n;
    int32_t count, cap, stride;
} snaps;

static int snaps_add(snaps *sn, const plan_segment *segs, int32_t n) {
    if (sn->count == sn->cap) {
        int32_t cap = sn->cap ? sn->cap * 2 : 32;
        plan_segment *s2 = realloc(sn->segs, sizeof(plan_segment) * (size_t)cap * (size_t)sn->stride);
        if (!s2) return -1;
        sn->segs = s2;
        int32_t *n2 = realloc(sn->n, sizeof(int32_t) * (size_t)cap);
        if (!n2) return -1;
        sn->n = n2;
        sn->cap = cap;
    }
    memcpy(sn->segs + (size_t)sn->count * (size_t)sn->stride, segs, sizeof(plan_segment) * (size_t)n);
    sn->n[sn->count++] = n;
    return 0;
}

/* segs[0, *np) relaxed to target (SIZE_MAX: to their own peak), with the
 * resulting peak and predicted cost. */
static int relaxed_cost(const ir_graph *g, const k_call *calls, scorer *scr, const int32_t *order, plan_segment *segs,
                        int32_t *np, plan_segment *trial, size_t target, size_t *peak, double *cost, util_err *err) {
    score cur;
    if (score_plan(g, calls, scr, order, segs, *np, SIZE_MAX, 0, 0, &cur, err)) return -1;
    if (relax(g, calls, scr, order, segs, np, trial, target == SIZE_MAX ? cur.peak : target, &cur, err)) return -1;
    *peak = cur.peak;
    util_arena tmp;
    util_arena_init(&tmp, (size_t)1 << 30);
    plan_t q;
    int rc = sched_build(g, calls, order, segs, *np, &q, &tmp, err);
    if (!rc) *cost = sched_plan_cost(g, calls, &q);
    util_arena_free(&tmp);
    return rc;
}

static int snap_relaxed(const ir_graph *g, const k_call *calls, scorer *scr, const int32_t *order, const snaps *sn,
                        int32_t i, plan_segment *segs, int32_t *np, plan_segment *trial, size_t *peak, double *cost,
                        util_err *err) {
    *np = sn->n[i];
    memcpy(segs, sn->segs + (size_t)i * (size_t)sn->stride, sizeof(plan_segment) * (size_t)*np);
    return relaxed_cost(g, calls, scr, order, segs, np, trial, SIZE_MAX, peak, cost, err);
}

/* limit > 0: the default rule, for a least-peak plan segs[0, *np) that
 * costs more than limit. Two kinds of candidates, each of falling peak and
 * (nearly always) rising cost, so bisections find the least peak within
 * the limit in a few builds:
 *   - the plans the search passed through (snapshots, each relaxed to its
 *     own peak); the first has no segment and costs what the baseline does;
 *   - the least-peak plan relaxed to a looser target (fewer slices, more
 *     rows per step), the way --sram relaxes to its budget: a plan a few
 *     hundred bytes above the least peak often runs at the baseline's
 *     speed where the least peak needs one-channel slices.
 * On return segs[0, *np) is the chosen plan. */
static int choose_default(const ir_graph *g, const k_call *calls, scorer *scr, const int32_t *order,
                          const snaps *sn, double limit, plan_segment *segs, int32_t *np, plan_segment *trial,
                          util_err *err) {
    size_t stride = (size_t)sn->stride;
    plan_segment *least = malloc(sizeof(plan_segment) * stride * 2);
    if (!least) return util_fail(err, "out of memory");
    plan_segment *best = least + stride;
    int32_t n_least = *np, n_best = 0;
    memcpy(least, segs, sizeof(plan_segment) * (size_t)*np);
    score s0;
    if (score_plan(g, calls, scr, order, segs, *np, SIZE_MAX, 0, 0, &s0, err)) goto fail;
    size_t least_peak = s0.peak, best_peak = SIZE_MAX, pk;
    double c;
    /* the snapshots: the last one passing */
    int32_t lo = 0, hi = sn->count;
    if (sn->count > 1) {
        if (snap_relaxed(g, calls, scr, order, sn, sn->count - 1, segs, np, trial, &pk, &c, err)) goto fail;
        if (c <= limit) lo = hi = sn->count - 1;
        else hi = sn->count - 1;
    }
    while (hi - lo > 1) {
        int32_t mid = lo + (hi - lo) / 2;
        if (snap_relaxed(g, calls, scr, order, sn, mid, segs, np, trial, &pk, &c, err)) goto fail;
        if (c <= limit) lo = mid;
        else hi = mid;
    }
    if (snap_relaxed(g, calls, scr, order, sn, lo, segs, np, trial, &best_peak, &c, err)) goto fail;
    n_best = *np;
    memcpy(best, segs, sizeof(plan_segment) * (size_t)*np);
    /* the least-peak plan relaxed: bisect the target between its peak
     * (too costly) and the snapshot's (within the limit) */
    size_t t_lo = least_peak, t_hi = best_peak;
    for (int it = 0; it < 16 && t_hi > t_lo + 16 && t_hi - t_lo > t_hi / 200; it++) {
        size_t mid = t_lo + (t_hi - t_lo) / 2;
        *np = n_least;
        memcpy(segs, least, sizeof(plan_segment) * (size_t)n_least);
        if (relaxed_cost(g, calls, scr, order, segs, np, trial, mid, &pk, &c, err)) goto fail;
        if (c <= limit && pk < best_peak) {
            best_peak = pk;
            n_best = *np;
            memcpy(best, segs, sizeof(plan_segment) * (size_t)*np);
            t_hi = pk < mid ? pk : mid;
        } else if (c <= limit) {
            t_hi = mid;
        } else {
            t_lo = mid;
        }
    }
    *np = n_best;
    memcpy(segs, best, sizeof(plan_segment) * (size_t)n_best);
    free(least);
    return 0;
fail:
    free(least);
    return -1;
}

static int search(const ir_graph *g, const k_call *calls, size_t budget, int stream, double limit, scorer *scr,
                  plan_t *p, plan_t *least, util_arena *a, util_err *err) {
    snaps sn = {NULL, NULL, 0, 0, g->n_ops + 2};
    plan_segment *segs = util_alloc(a, sizeof(plan_segment) * (size_t)(g->n_ops + 2));
    plan_segment *trial = util_alloc(a, sizeof(plan_segment) * (size_t)(g->n_ops + 2));
    plan_segment *best_set = util_alloc(a, sizeof(plan_segment) * (size_t)(g->n_ops + 2));
    plan_segment *trial2 = util_alloc(a, sizeof(plan_segment) * (size_t)(g->n_ops + 2));
    if (!segs || !trial || !best_set || !trial2) return util_fail(err, "out of memory");
    int32_t n = 0;
    int32_t *order = util_alloc(a, sizeof(int32_t) * (size_t)(g->n_ops + 1));
    if (!order) return util_fail(err, "out of memory");
    for (int32_t i = 0; i < g->n_ops; i++) order[i] = i;
    score cur;
    if (score_plan(g, calls, scr, order, segs, n, SIZE_MAX, 0, 0, &cur, err)) return -1;
    /* Operator order: where branches leave a choice (a residual block's
     * skip path against its main path), swap neighbouring independent
     * operators while that lowers the peak. Every order tried is a
     * topological one, and the verifier checks the result anyway. */
    for (int pass = 0; pass < 8; pass++) {
        int improved = 0;
        for (int32_t i = 0; i + 1 < g->n_ops; i++) {
            if (sched_op_reads(g, order[i + 1], calls[order[i]].out) || sched_share_state(g, order[i], order[i + 1])) continue;
            int32_t t = order[i];
            order[i] = order[i + 1];
            order[i + 1] = t;
            score sc;
            if (score_plan(g, calls, scr, order, segs, n, SIZE_MAX, 0, 0, &sc, err)) return -1;
            if (better(&sc, &cur, 0) && sc.peak < cur.peak) {
                cur = sc;
                improved = 1;
            } else {
                order[i + 1] = order[i];
                order[i] = t;
            }
        }
        if (!improved) break;
    }
    if (limit > 0 && snaps_add(&sn, segs, n)) goto oom;
    int32_t *starts = util_alloc(a, sizeof(int32_t) * (size_t)(g->n_ops + 40));
    int32_t *ends = util_alloc(a, sizeof(int32_t) * (size_t)(g->n_ops + 40));
    if (!starts || !ends) goto oom;
    for (int round = 0; round < 400; round++) {
        if (budget && cur.peak <= budget) break;
        /* (no bound with streamed model inputs or outputs: bound.c) */
        if (scr->bound && !g->stream_input && !g->stream_output && take_bound(g, calls, scr, order, segs, n, err))
            goto fail;
        int32_t peak_op = cur.peak_step;
        score best = cur;
        int32_t best_n = -1;
        for (int32_t s = peak_op - 8 < 0 ? 0 : peak_op - 8; s <= peak_op; s++) {
            for (int32_t e = peak_op > s ? peak_op : s + 1; e < g->n_ops && e <= s + 8; e++) {
                if (!sched_segment_ok(g, calls, order, s, e)) continue;
                int32_t C = sched_entry_channels(&calls[order[s]]);
                for (size_t ki = 0; ki < sizeof slice_counts / sizeof slice_counts[0]; ki++) {
                    int32_t K = slice_counts[ki];
                    if (K > C) break;
                    int32_t m = with_segment(segs, n, (plan_segment){s, e, K, 0, 0}, trial);
                    if (keep_if_better(g, calls, scr, order, segs, n, trial, m, &best, &best_n, best_set, err)) goto fail;
                }
            }
        }
        if (stream) {
            /* streamed chains through the peak: starts and ends near it, and
             * those of the streamed segments already chosen that reach the
             * window, so a chain can grow or merge with its neighbours (every
             * earlier segment's start made the candidates grow with the
             * depth: a 200-layer chain tried a chain from each) */
            int32_t ns = 0, ne = 0;
            for (int32_t s = peak_op - SW < 0 ? 0 : peak_op - SW; s <= peak_op; s++) ns = add_cand(starts, ns, s);
            for (int32_t e = peak_op; e < g->n_ops && e <= peak_op + SW; e++) ne = add_cand(ends, ne, e);
            for (int32_t i = 0; i < n; i++) {
                if (segs[i].rows <= 0) continue;
                if (segs[i].op_first > peak_op + SW + 1 || segs[i].op_last < peak_op - SW - 1) continue;
                ns = add_cand(starts, ns, segs[i].op_first);
                ne = add_cand(ends, ne, segs[i].op_last);
            }
            for (int32_t si = 0; si < ns; si++)
                for (int32_t ei = 0; ei < ne; ei++) {
                    int32_t s = starts[si], e = ends[ei];
                    if (s > peak_op + SW + 1 || e < peak_op - SW - 1 || e < s) continue;
                    if (!(s <= peak_op && e >= peak_op) && !(e + 1 >= peak_op && s <= peak_op + 1)) continue;
                    if (!sched_stream_ok(g, calls, order, s, e)) continue;
                    for (size_t ri = 0; ri < sizeof stream_grains / sizeof stream_grains[0]; ri++) {
                        plan_segment add = {s, e, 1, stream_grains[ri][0], stream_grains[ri][1]};
                        int32_t m = with_segment(segs, n, add, trial);
                        if (keep_if_better(g, calls, scr, order, segs, n, trial, m, &best, &best_n, best_set, err)) goto fail;
                    }
                }
            /* split the streamed segment holding the peak in two, the second
             * part free to end elsewhere: a whole tensor at a low-resolution
             * point between two chains can cost less than the rings one long
             * chain keeps alive from its start */
            for (int32_t i = 0; i < n; i++) {
                plan_segment sg = segs[i];
                if (sg.rows <= 0 || sg.op_first > peak_op || sg.op_last < peak_op) continue;
                for (int32_t k = sg.op_first; k < sg.op_last; k++) {
                    if (!sched_stream_ok(g, calls, order, sg.op_first, k)) continue;
                    for (int32_t ei = 0; ei < ne; ei++) {
                        int32_t e = ends[ei];
                        if (e <= k || !sched_stream_ok(g, calls, order, k + 1, e)) continue;
                        /* [first, k] and [k + 1, e] streamed, op k's output whole */
                        int32_t m = with_segment(segs, n, (plan_segment){sg.op_first, k, 1, sg.rows, sg.frac}, trial2);
                        m = with_segment(trial2, m, (plan_segment){k + 1, e, 1, sg.rows, sg.frac}, trial);
                        if (keep_if_better(g, calls, scr, order, segs, n, trial, m, &best, &best_n, best_set, err)) goto fail;
                    }
                }
            }
        }
        if (best_n < 0) break;
        n = best_n;
        memcpy(segs, best_set, sizeof(plan_segment) * (size_t)n);
        cur = best;
        if (limit > 0 && snaps_add(&sn, segs, n)) goto oom;
    }
    /* Finer steps: a streamed segment whose ops make a fraction of a row
     * per step keeps rings of two rows and a few pixels where whole-row
     * steps keep three rows, and single-row rings shrink to a few pixels. */
    for (int pass = 0; pass < 2 && !(budget && cur.peak <= budget); pass++) {
        int improved = 0;
        for (int32_t i = 0; i < n; i++) {
            if (segs[i].rows <= 0) continue;
            for (size_t fi = 0; fi < sizeof stream_fracs / sizeof stream_fracs[0]; fi++) {
                plan_segment save = segs[i];
                segs[i].rows = 1;
                segs[i].frac = stream_fracs[fi];
                score sc;
                if (score_plan(g, calls, scr, order, segs, n, SIZE_MAX, 0, 0, &sc, err)) goto fail;
                if (better(&sc, &cur, budget)) {
                    cur = sc;
                    improved = 1;
                } else {
                    segs[i] = save;
                }
            }
        }
        if (!improved) break;
    }
    size_t target = budget && cur.peak <= budget ? budget : cur.peak;
    if (relax(g, calls, scr, order, segs, &n, trial, target, &cur, err)) goto fail;
    if (sched_build(g, calls, order, segs, n, p, a, err)) goto fail;
    if (plan_memory(p, a, err) || plan_memory_refine(p, 2e8, a, err) || plan_verify(g, calls, p, err)) goto fail;
    if (limit > 0) {
        *least = *p;
        if (sched_plan_cost(g, calls, p) > limit) {
            /* the least peak costs too much: an earlier plan of the search */
            if (choose_default(g, calls, scr, order, &sn, limit, segs, &n, trial, err) ||
                sched_build(g, calls, order, segs, n, p, a, err) || plan_memory(p, a, err) ||
                plan_memory_refine(p, 2e8, a, err) || plan_verify(g, calls, p, err))
                goto fail;
        }
    }
    free(sn.segs);
    free(sn.n);
    return 0;
oom:
    util_fail(err, "out of memory");
fail:
    free(sn.segs);
    free(sn.n);
    return -1;
}

/* The search runs twice, scoring candidates by live bytes (the lower bound
 * of any placement, which guides it well through ties) and by the placed
 * arena (which sees that a band group needs contiguous bytes); the better
 * final plan wins: the smaller arena, or within a budget the one predicted
 * to run faster. limit > 0: the default rule (choose_default) in both. */
static int run_search(const ir_graph *g, const k_call *calls, size_t budget, int stream, double limit, plan_t *p,
                      plan_t *least, util_arena *a, util_err *err) {
    plan_t q, q_least;
    /* both searches share the streamed segments' templates */
    stream_cache cache;
    memset(&cache, 0, sizeof cache);
    cache.t = calloc(STREAM_CACHE_SLOTS, sizeof(stream_tmpl));
    cache.bucket = malloc(sizeof(int32_t) * STREAM_CACHE_BUCKETS);
    if (!cache.t || !cache.bucket) {
        free(cache.t);
        free(cache.bucket);
        return util_fail(err, "out of memory");
    }
    for (int32_t i = 0; i < STREAM_CACHE_BUCKETS; i++) cache.bucket[i] = -1;
    sched_bound bound;
    memset(&bound, 0, sizeof bound);
    sched_sub sub;
    memset(&sub, 0, sizeof sub);
    const char *chk = getenv("PEXC_SEARCH_CHECK");
    int check = chk && *chk && strcmp(chk, "0") != 0;
    scorer live = {0, &cache, NULL, 0, NULL, 0, &bound, &sub, check, 0, 0, 0},
           placed = {1, &cache, NULL, 0, NULL, 0, &bound, &sub, check, 0, 0, 0};
    sched_readers_begin(g); /* (failing, the lookups count as before) */
    int rc = search(g, calls, budget, stream, limit, &live, p, least, a, err);
    if (!rc && stream) rc = search(g, calls, budget, stream, limit, &placed, &q, &q_least, a, err);
    sched_readers_end();
    if (getenv("PEXC_SEARCH_STATS"))
        fprintf(stderr,
                "search: %ld + %ld candidates built, %ld + %ld skipped by their bound, %ld + %ld scored by "
                "sub-plans (%ld left to whole builds, %ld steps in them), %ld segments walked, %ld templates dropped\n",
                live.n_built, placed.n_built, live.n_skipped, placed.n_skipped, live.n_sub, placed.n_sub,
                sub.n_fallback, sub.n_sub_steps, cache.n_walks, cache.n_dropped);
    sched_bound_free(&bound);
    sched_sub_free(&sub);
    sched_cache_free(&cache);
    free(live.live);
    free(placed.live);
    free(live.diff);
    free(placed.diff);
    if (rc) return -1;
    if (!stream) return 0;
    int fits_p = budget && p->arena_bytes <= budget, fits_q = budget && q.arena_bytes <= budget;
    double cost_p = sched_plan_cost(g, calls, p), cost_q = sched_plan_cost(g, calls, &q);
    int take_q = fits_p && fits_q ? cost_q < cost_p
                 : fits_p || fits_q ? fits_q
                 : q.arena_bytes < p->arena_bytes || (q.arena_bytes == p->arena_bytes && cost_q < cost_p);
    if (take_q) *p = q;
    if (limit > 0 && (q_least.arena_bytes < least->arena_bytes ||
                      (q_least.arena_bytes == least->arena_bytes &&
                       sched_plan_cost(g, calls, &q_least) < sched_plan_cost(g, calls, least))))
        *least = q_least;
    return 0;
}

int sched_min_sram(const ir_graph *g, const k_call *calls, size_t budget, int stream, plan_t *p, util_arena *a,
                   util_err *err) {
    return run_search(g, calls, budget, stream, 0, p, NULL, a, err);
}

double sched_base_cost(const ir_graph *g, const k_call *calls) {
    util_arena tmp;
    util_arena_init(&tmp, (size_t)1 << 30);
    plan_t base;
    util_err e = {{0}};
    double c = sched_build(g, calls, NULL, NULL, 0, &base, &tmp, &e) ? -1 : sched_plan_cost(g, calls, &base);
    util_arena_free(&tmp);
    return c;
}

int sched_default(const ir_graph *g, const k_call *calls, plan_t *p, plan_t *least, util_arena *a, util_err *err) {
    double base = sched_base_cost(g, calls);
    if (base < 0) return util_fail(err, "out of memory");
    plan_t own;
    /* a plan of no cost (a model the table knows nothing of) takes the
     * least peak */
    double limit = base > 0 ? SCHED_DEFAULT_SLOWDOWN * base : 1e-300;
    return run_search(g, calls, 0, 1, limit, p, least ? least : &own, a, err);
}
