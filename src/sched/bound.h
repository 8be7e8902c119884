/*
 * The search's lower bound on a candidate's score from the steps outside
 * the window it changes (bound.c).
 */
#ifndef PEXC_SCHED_BOUND_H
#define PEXC_SCHED_BOUND_H

#include "sched/sched_int.h"

typedef struct {
    size_t peak;     /* live bytes at least this high at some step */
    int32_t at_peak; /* steps with at least peak bytes */
    int32_t steps;   /* steps outside the window */
    int known;
} sched_bound_stat;

/* The current plan's buffers and steps, and per-position statistics. */
typedef struct {
    int ok; /* 0: no bound (streamed model inputs or outputs) */
    int32_t n_steps, n_bufs, n_pos;
    int32_t *step_pos;         /* [n_steps] position of each step (a segment's: its first) */
    int32_t *first, *last;     /* [n_bufs] lives */
    size_t *size;              /* [n_bufs] footprints */
    sched_bound_stat *memo;    /* [2][n_pos + 1] prefix before / suffix after a position */
    int64_t *diff;
    int32_t cap_steps, cap_first, cap_last, cap_size, cap_memo, cap_diff;
} sched_bound;

/* Takes the current plan p (built with cache c from segs). -1: out of memory. */
int sched_bound_take(sched_bound *bd, const ir_graph *g, const plan_t *p, const stream_cache *c,
                     const plan_segment *segs, int32_t n_segs);
/* The bound for candidate trial against the current segments cur: 1 and
 * *out, or 0 when there is none. */
int sched_bound_window(sched_bound *bd, const plan_segment *cur, int32_t n_cur, const plan_segment *trial,
                       int32_t n_trial, sched_bound_stat *out);
void sched_bound_free(sched_bound *bd);
/* The window [*lo, *hi] of positions where trial's segments differ from
 * cur's; 0 when they do not. */
int sched_bound_span(const plan_segment *cur, int32_t n_cur, const plan_segment *trial, int32_t n_trial,
                     int32_t *lo, int32_t *hi);
/* The current plan's first step at position pos or later (n_steps: none). */
int32_t sched_bound_step_at(const sched_bound *bd, int32_t pos);

#endif /* PEXC_SCHED_BOUND_H */
