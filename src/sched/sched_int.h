/*
 * Private to the scheduler (src/sched/): the cache of streamed-segment
 * templates the search shares with plan building, and the plan-building
 * calls the search (search.c) makes. sched.c builds plans; search.c chooses
 * which plan to build.
 */
#ifndef PEXC_SCHED_INT_H
#define PEXC_SCHED_INT_H

#include "internal.h"

/* ---- plan building ------------------------------------------------------ */

/* The search scores thousands of candidate plans, each built from scratch,
 * and most of them share their streamed segments with the current plan (a
 * streamed segment over a 224x224 network is tens of thousands of steps).
 * What a streamed segment makes depends only on its operators, its step
 * size and the operator order, not on the rest of the plan, so the search
 * keeps a template per segment: its ring sizes, the op of each step, and
 * for each buffer its steps use (one of the segment's own, numbered from
 * the first it makes, or a whole tensor made before it) the first and last
 * step using it and, for a whole tensor, the rows its steps touch. That is
 * all a candidate's score needs: the buffers' lives (row bands' included)
 * follow from it as they would from the steps, so a candidate plan holds
 * the template's steps only as a range of step numbers. */
typedef struct {
    int32_t r0, r1;          /* rows touched */
    int32_t lo, hi;          /* first and last step (offset) touching them */
} tmpl_rows;

typedef struct {
    int32_t enc;             /* >= 0: the segment's buffer base + enc; else outer[-2 - enc]'s */
    int32_t first, last;     /* first and last step (offset) using it */
    int tensor;              /* a whole tensor (may be cut into row bands) */
    int partial;             /* some step touches only some of its rows */
    int32_t g0, ng;          /* its row groups, groups[g0, g0 + ng) */
} tmpl_ref;

typedef struct {
    int32_t s, e, seg_rows, frac, m;
    int32_t *ops;            /* order[s..e] */
    int64_t *ring;           /* [m] ring pixels of the intermediates */
    int32_t *outer;          /* whole tensors made before the segment that it uses */
    int32_t n_outer;
    int32_t n_own;           /* buffers the segment makes */
    int32_t n_steps;
    int32_t *calls;          /* [n_steps] each step's op */
    tmpl_ref *refs;
    int32_t n_refs;
    tmpl_rows *groups;
    int32_t n_groups;
    uint64_t used;           /* cache tick of the last build using it */
    size_t bytes;
    int live;
} stream_tmpl;

#define STREAM_CACHE_SLOTS 4096
#define STREAM_CACHE_BYTES ((size_t)64 << 20)
#define ROWS_UNKNOWN INT32_MIN

/* A template used by a build: its n steps start at step0, its own buffers
 * at base. */
typedef struct {
    int32_t tmpl, step0, n, base;
} tmpl_use;

typedef struct {
    stream_tmpl *t;          /* [STREAM_CACHE_SLOTS] */
    int32_t n;               /* slots ever used */
    size_t bytes;
    uint64_t tick;           /* one per build */
    /* storage every candidate plan reuses (it only lives while scored) */
    plan_step *steps;
    plan_buffer *bufs;
    int32_t *rows;
    tmpl_use *uses;          /* the last build's, in step order */
    int32_t n_uses;
    size_t steps_cap, bufs_cap, rows_cap, uses_cap;
    /* geom_need and geom_low tables of operand o of call c, at [c * 4 + o * 2]
     * and [c * 4 + o * 2 + 1], made when a streamed segment first needs them */
    int64_t **tabs;
    int32_t n_calls;
} stream_cache;

/* sched_build with the search's template cache (NULL: none). */
int sched_build_cached(const ir_graph *g, const k_call *calls, const int32_t *order, const plan_segment *segs,
                       int32_t n_segs, plan_t *p, util_arena *a, stream_cache *cache, util_err *err);
void sched_cache_free(stream_cache *c);
/* Does op read tensor t? */
int sched_op_reads(const ir_graph *g, int32_t op, int32_t t);
/* Do ops a and b touch the same variable tensor (operator state)? */
int sched_share_state(const ir_graph *g, int32_t a, int32_t b);
/* May positions [s, e] of the order form a channel-split / streamed segment? */
int sched_segment_ok(const ir_graph *g, const k_call *calls, const int32_t *order, int32_t s, int32_t e);
int sched_stream_ok(const ir_graph *g, const k_call *calls, const int32_t *order, int32_t s, int32_t e);
/* Slices are cut in the output channels of a segment's first op. */
static inline int32_t sched_entry_channels(const k_call *k) { return k->out_dims[3]; }

#endif /* PEXC_SCHED_INT_H */
