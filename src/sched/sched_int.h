/*
 * Private to the scheduler (src/sched/), one section per file:
 *   sched.c    plan building: steps, buffers, lifetimes, row bands
 *   segment.c  channel segments (partial execution along channels)
 *   stream.c   row streaming through ring buffers
 *   geom.c     window geometry: which input pixels output pixels read
 *   tmpl.c     the template cache of streamed segments
 *   search.c   the search: which plan to build
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
    int64_t in_ring[2];      /* those of a streamed model input's ring (stream_state.in_ring) */
    size_t own_peak;         /* most bytes its steps surely hold at one step (tmpl.c) */
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
    int32_t next;            /* the next template in its hash bucket, or -1 */
} stream_tmpl;

/* A deep chain's search keeps thousands of templates in use at once (a
 * 50-layer depthwise chain: 50 streamed segments in the current plan and
 * some 1,700 candidates a round); a cache smaller than that evicts what the
 * next candidate needs and walks it again (768,000 walks instead of 6,000). */
#define STREAM_CACHE_SLOTS 65536
#define STREAM_CACHE_BYTES ((size_t)256 << 20)
#define STREAM_CACHE_BUCKETS 16384
#define ROWS_UNKNOWN INT32_MIN
/* Most bands a ring is cut into, most in a plan, and the fewest bytes a
 * band holds (ring_bands.c). */
#ifndef SCHED_RING_BANDS
#define SCHED_RING_BANDS 16
#endif
#ifndef SCHED_RING_BANDS_ALL
#define SCHED_RING_BANDS_ALL 256
#endif
#ifndef SCHED_RING_BAND_MIN
#define SCHED_RING_BAND_MIN 64
#endif

/* A template used by a build: its n steps start at step0, its own buffers
 * at base. */
typedef struct {
    int32_t tmpl, step0, n, base;
} tmpl_use;

typedef struct {
    stream_tmpl *t;          /* [STREAM_CACHE_SLOTS] */
    int32_t *bucket;         /* [STREAM_CACHE_BUCKETS] first template of each hash bucket, or -1 */
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
    long n_walks, n_dropped; /* segments walked, not replayed; templates dropped (PEXC_SEARCH_STATS) */
    int32_t *free_slots;     /* slots below n no template holds, a stack */
    int32_t n_free;
} stream_cache;

/* sched_build with the search's template cache (NULL: none). */
int sched_build_cached(const ir_graph *g, const k_call *calls, const int32_t *order, const plan_segment *segs,
                       int32_t n_segs, plan_t *p, util_arena *a, stream_cache *cache, util_err *err);
void sched_cache_free(stream_cache *c);
/* Only the operators at positions [p0, p1] (segments starting there are
 * taken whole): a sub-plan, numbered from its own first step, whose post
 * rules (inputs from step 0, outputs to the last) are its own (subplan.c). */
int sched_build_range(const ir_graph *g, const k_call *calls, const int32_t *order, const plan_segment *segs,
                      int32_t n_segs, int32_t p0, int32_t p1, plan_t *p, util_arena *a, stream_cache *cache,
                      util_err *err);
/* The operator of step s of a plan built with cache c (a template's steps
 * are not in p->steps). */
int32_t sched_step_op(const stream_cache *c, const plan_t *p, int32_t s);
/* Does op read tensor t? */
int sched_op_reads(const ir_graph *g, int32_t op, int32_t t);
/* Do ops a and b touch the same variable tensor (operator state)? */
int sched_share_state(const ir_graph *g, int32_t a, int32_t b);
/* May positions [s, e] of the order form a channel-split / streamed segment? */
int sched_segment_ok(const ir_graph *g, const k_call *calls, const int32_t *order, int32_t s, int32_t e);
int sched_stream_ok(const ir_graph *g, const k_call *calls, const int32_t *order, int32_t s, int32_t e);
/* Slices are cut in the output channels of a segment's first op. */
static inline int32_t sched_entry_channels(const k_call *k) { return k->out_dims[3]; }

/* ---- plan building (sched.c) ------------------------------------------- */

/* One plan being built. */
typedef struct {
    const ir_graph *g;
    const k_call *calls;
    const int32_t *order; /* position -> op index */
    plan_t *p;
    int32_t cap_steps, cap_bufs;
    util_arena *a;
    /* NULL: every step made. Else the plan is only scored: a streamed
     * segment's steps are a template's (see tmpl_use), not in p->steps. */
    stream_cache *cache;
    tmpl_use *uses;       /* in step order */
    int32_t n_uses;
    int32_t *rows;        /* [n_steps * 6] rows each view touches, once known */
} builder;

int32_t sched_buf_new(builder *b, int32_t tensor, plan_buf_kind kind, int32_t c_begin, int32_t c_stored,
                      size_t size);
/* A whole tensor's view (its buffer, made by sched_tensor_buf; none for
 * constants). */
plan_view sched_view_whole(builder *b, int32_t tensor);
/* The buffer holding tensor whole, made on first use. */
int32_t sched_tensor_buf(builder *b, int32_t tensor);
plan_step *sched_step_new(builder *b, int32_t call);
void sched_tile_full(const k_call *k, pexc_tile *t);
/* Cuts a final plan's rings into bands of slots, each alive while its
 * slots are used (ring_bands.c); after the lifetimes are known. */
int sched_ring_bands(builder *b);
/* Makes *x hold at least n items of size sz (contents not kept). */
int sched_scratch(void **x, size_t *cap, size_t n, size_t sz);

/* ---- channel segments (segment.c) -------------------------------------- */

/* Number of ops reading tensor t. */
int32_t sched_tensor_readers(const ir_graph *g, int32_t t);
/* readers.c: while a search runs (begin .. end), sched_tensor_readers
 * answers from a table counted once; lookup gives -1 outside one. */
int sched_readers_begin(const ir_graph *g);
void sched_readers_end(void);
int32_t sched_readers_lookup(const ir_graph *g, int32_t t);
/* Appends the steps of channel-split segment sg. */
int sched_segment_add(builder *b, const plan_segment *sg);

/* ---- window geometry (geom.c) ------------------------------------------ */

/* The window geometry of one operand, looked up once. */
typedef struct {
    int window; /* 0: read whole */
    int32_t sh, sw, pt, pl, fh, fw, H, W, OW, OH;
} px_geom;

px_geom sched_geom_of(const k_call *k, int which);
int sched_is_seq(const k_call *k); /* a sequence operator with a step form: one row per time step */
/* Prefix of the operand's pixels that output pixels [0, q) need. */
int64_t sched_geom_need(const px_geom *g, int64_t q);
/* The least of what output pixel q and those after it read. */
int64_t sched_geom_low(const px_geom *g, int64_t q);

/* ---- row streaming (stream.c) ------------------------------------------ */

#define STREAM_MAX_OPS 256

/* The operators of a streamed segment and who reads whose output. */
typedef struct {
    int32_t m;                       /* ops (reshapes inside the chain are not among them) */
    int32_t pos[STREAM_MAX_OPS];     /* op i's position in the segment */
    int rows_are_px;                 /* a chain of one-row sequences: a "row" of a step is a pixel */
    const k_call *k[STREAM_MAX_OPS];
    int64_t P[STREAM_MAX_OPS];       /* output pixels (a consumer: its input's) */
    int32_t W[STREAM_MAX_OPS];       /* output width (a consumer: its input's) */
    int32_t n_rd[STREAM_MAX_OPS];    /* in-segment readers of op i's output */
    int32_t rd[STREAM_MAX_OPS][8];   /* reader op i * 2 + operand */
    int32_t src[STREAM_MAX_OPS][2];  /* in-segment producer of operand o, or -1 */
    /* op i's only reader is an elementwise op whose other operand op
     * pace[i] makes, independently of op i: op i need not run ahead of
     * it (stream.c, stream_paces); -1: none */
    int32_t pace[STREAM_MAX_OPS];
    px_geom geom[STREAM_MAX_OPS][2]; /* operand windows */
    /* geom_need and geom_low of each operand for q in [0, P], looked up
     * instead of worked out (NULL: worked out) */
    const int64_t *need_tab[STREAM_MAX_OPS][2], *low_tab[STREAM_MAX_OPS][2];
    int consumer;                    /* the last op consumes rows into partial sums */
    /* operand o of the first op is a model input the caller streams in
     * (ir_graph.stream_input): read into a ring of its own as needed */
    int in_stream[2];
} stream_info;

/* A streamed segment's walk. */
typedef struct {
    int64_t done[STREAM_MAX_OPS], need[STREAM_MAX_OPS];
    int64_t ring[STREAM_MAX_OPS];    /* pixels each intermediate must hold */
    int64_t chunk[STREAM_MAX_OPS];   /* pixels each op makes per step */
    int32_t buf[STREAM_MAX_OPS];     /* its buffer (pass 2) */
    int32_t psum;
    int64_t in_ring[2];              /* pixels the rings of streamed inputs hold */
    int32_t in_buf[2];
    /* op i found it could not move with done[i], its bound and its
     * in-chain inputs' done as here: no need to look again until one of
     * them changes */
    int64_t stuck[STREAM_MAX_OPS][4];
    /* pass 1's moves, {op, first pixel, end pixel} each, for pass 2 to make
     * the same steps without walking again (NULL: walk again) */
    int64_t (*trace)[3];
    size_t n_trace, cap_trace;
    plan_view view[STREAM_MAX_OPS][3]; /* pass 2: each op's operands and output */
    int eager;                       /* strided 1x1 skip layers run ahead (stream.c, stream_eager) */
    int paced;                       /* ops with a pace keep step with it (stream.c, stream_paces) */
} stream_state;

/* Does streamed segment sg read a model input (or a reshape of one) into
 * a ring of its own (ir_graph.stream_input)? */
int sched_stream_reads_input(const ir_graph *g, const k_call *calls, const int32_t *order, const plan_segment *sg);
/* Appends the steps of streamed segment sg (a template's when cached). */
int sched_stream_add(builder *b, const plan_segment *sg);

/* ---- template cache (tmpl.c) ------------------------------------------- */

/* Points si's operand windows at the cache's need/low tables, making those
 * missing. */
void sched_tmpl_tables(builder *b, stream_info *si);
/* The template of segment sg under this operator order, or -1. */
int32_t sched_tmpl_find(const stream_cache *c, const int32_t *order, const plan_segment *sg);
/* Makes segment sg's template from the steps [step0, n_steps) just made. */
void sched_tmpl_put(builder *b, const plan_segment *sg, const stream_state *st, int32_t m, int32_t base,
                    int32_t step0);
/* Takes template slot's steps as the next ones, its own buffers from base. */
int sched_tmpl_replay(builder *b, int32_t slot, int32_t base);
/* The buffer behind reference r of template t (own buffers from base), and
 * the tensor its steps see in it. */
int32_t sched_tmpl_buf(builder *b, const stream_tmpl *t, const tmpl_ref *r, int32_t base, int32_t *tensor);

#endif /* PEXC_SCHED_INT_H */
