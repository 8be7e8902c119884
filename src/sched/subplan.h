/*
 * A candidate's exact live-bytes score from a sub-plan of the positions
 * around the window it changes, the rest taken from the current plan
 * (subplan.c).
 */
#ifndef PEXC_SCHED_SUBPLAN_H
#define PEXC_SCHED_SUBPLAN_H

#include "sched/bound.h"

/* What score_plan (search.c) reports of a plan's live bytes. */
typedef struct {
    size_t peak;      /* most live bytes at one step */
    int32_t at_peak;  /* steps holding that many */
    int32_t steps;
    int32_t peak_pos; /* position in the order of the op of the first step at the peak */
} sched_sub_score;

/* The current plan of a round, in the form the candidates' scores need. */
typedef struct {
    int ok; /* 0: every candidate is built whole */
    const ir_graph *g;
    const k_call *calls;
    int32_t n_ops, n_tensors, n_steps, n_bufs;
    uint8_t *tflag;          /* [n_tensors] SUB_* (per graph) */
    int32_t *pos_of_op;      /* [n_ops] */
    int32_t *pmin, *pmax;    /* [n_tensors] first and last position of an op touching it */
    size_t *live;            /* [n_steps] live bytes */
    size_t *pre_max, *suf_max;   /* [n_steps + 1] most live bytes in steps [0, s), [s, n_steps) */
    int32_t *pre_cnt, *suf_cnt;  /* steps holding that many */
    int32_t *pre_at, *suf_at;    /* the first of them */
    int32_t *step_op;        /* [n_steps] op of each step */
    int32_t *b_first, *b_last, *b_tensor; /* [n_bufs] */
    size_t *b_size;          /* [n_bufs] footprints */
    int32_t *tb_start, *tb_list; /* buffers of tensor t: tb_list[tb_start[t], tb_start[t + 1]) */
    int32_t *forced;         /* buffers whose life a rule sets, not their steps */
    int32_t n_forced;
    int32_t *mark, *e_list;  /* [n_tensors] the window's tensors (mark == stamp) */
    int32_t stamp;
    int64_t *dc, *ds;        /* difference arrays over the region, current plan and sub-plan */
    size_t cap_dc, cap_ds;
    int32_t cap_steps, cap_bufs;
    long n_fast, n_fallback, n_sub_steps;
} sched_sub;

/* Takes the current plan p (built with cache c from the segments bd was
 * taken with). -1: out of memory (then no fast scores). */
int sched_sub_take(sched_sub *sb, const sched_bound *bd, const ir_graph *g, const k_call *calls,
                   const int32_t *order, const plan_t *p, const stream_cache *c);
/* The score of candidate trial[0, m) against the current segments
 * cur[0, n_cur): 1 and *out, 0 when it must be built whole, -1 out of memory. */
int sched_sub_eval(sched_sub *sb, const sched_bound *bd, const int32_t *order, const plan_segment *cur,
                   int32_t n_cur, const plan_segment *trial, int32_t m, stream_cache *c, sched_sub_score *out);
/* A floor under candidate trial's live peak without building it: the
 * current plan's peak outside the sub-plan's steps, and the bytes alive
 * across the window plus the most a cached streamed segment of the window
 * holds in its own rings at one step. 1 and *floor, or 0. */
int sched_sub_floor(sched_sub *sb, const sched_bound *bd, const int32_t *order, const plan_segment *cur,
                    int32_t n_cur, const plan_segment *trial, int32_t m, stream_cache *c, size_t *floor);
void sched_sub_free(sched_sub *sb);

#endif /* PEXC_SCHED_SUBPLAN_H */
