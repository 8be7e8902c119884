/*
 * pexc internals: one header, one section per compiler stage, in pipeline
 * order. A stage only uses the sections above its own.
 *
 *   util    arena allocator and error values
 *   reader  .tflite bytes -> graph IR (every offset verified before use)
 *   ir      tensors, operators, shape checks
 *   lower   IR operator -> kernel call description (quantisation prepared)
 *   plan    schedule steps, buffers with lifetimes, memory planner, verifier
 *   exec    host executor of a plan
 */
#ifndef PEXC_INTERNAL_H
#define PEXC_INTERNAL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "pexc_kernels.h"

/* ========================================================================
 * util
 * ====================================================================== */

/* A bump allocator: everything the compiler builds for one model lives in
 * one arena and is freed by one call. */
typedef struct util_chunk util_chunk;
typedef struct {
    util_chunk *head;
    size_t total;  /* bytes handed out */
    size_t limit;  /* refuse to grow past this (hostile inputs) */
} util_arena;

void util_arena_init(util_arena *a, size_t limit);
void *util_alloc(util_arena *a, size_t size); /* zeroed; NULL when over limit */
void util_arena_free(util_arena *a);

typedef struct {
    char msg[512];
} util_err;

int util_is_dir(const char *path);
/* mkdir -p; -1 with errno set when dir cannot be made a directory. */
int util_mkdir_p(const char *dir);

/* Formats msg into err and returns -1 so callers can `return util_fail(...)`. */
int util_fail(util_err *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* ========================================================================
 * ir
 * ====================================================================== */

enum {
    IR_F32 = 0, IR_F16 = 1, IR_I32 = 2, IR_U8 = 3, IR_I64 = 4, IR_STRING = 5,
    IR_BOOL = 6, IR_I16 = 7, IR_C64 = 8, IR_I8 = 9, IR_F64 = 10,
    IR_U64 = 12, IR_U32 = 15, IR_U16 = 16,
};

/* TFLite builtin operator codes, schema numbering: OP_ADD, OP_TANH, ... */
enum {
#define PEXC_OP(code, name) OP_##name = code,
#include "ir/builtin_ops.def"
#undef PEXC_OP
};

#define IR_MAX_RANK 6

typedef struct {
    int32_t index;
    const char *name;            /* NUL-terminated copy */
    int32_t type;                /* IR_* */
    int32_t rank;
    int32_t shape[IR_MAX_RANK];
    int64_t elems;
    size_t bytes;
    const uint8_t *data;         /* constant contents, or NULL */
    /* quantisation (nq == 0: none) */
    int32_t nq;
    const float *scale;          /* [nq] */
    const int64_t *zero_point;   /* [nq] */
    int32_t q_dim;
    /* roles */
    int is_input, is_output;
    /* A variable tensor (schema is_variable) is operator state, such as an
     * LSTM's hidden and cell state: TFLM gives it a buffer of its own for
     * the interpreter's life, fills it with its zero point (int8) or zeros
     * at AllocateTensors() and Reset(), and operators read and write it in
     * place, so it keeps its value from one Invoke() to the next. pexc
     * does the same: the buffer lives across the whole plan (sched.c), is
     * filled at open and reset (exec_reset_state, NAME_reset), and counts as
     * written from the start (plan_verify). Any file data is ignored, as
     * TFLM ignores it. */
    int is_variable;
    /* A resource variable's value before the first run (its CALL_ONCE init
     * subgraph, evaluated by the reader), or NULL: TFLM assigns it on the
     * first Invoke() only, so reset still fills with the zero point. */
    const uint8_t *init;
    int producer;                /* op index writing it, -1 if none (ir_check) */
} ir_tensor;

typedef struct {
    int32_t padding; /* 0 SAME, 1 VALID, 2 explicit: xpad below (IR_PAD_EXPLICIT) */
    int32_t stride_w, stride_h, dilation_w, dilation_h;
    int32_t filter_w, filter_h;  /* pooling */
    int32_t depth_multiplier;
    int32_t activation;          /* fused activation */
    int32_t axis;                /* concatenation */
    int32_t keep_dims;           /* mean, fully connected keep_num_dims */
    int32_t weights_format;      /* fully connected */
    float beta;                  /* softmax */
    /* CONV_2D / DEPTHWISE_CONV_2D with padding IR_PAD_EXPLICIT (a PAD
     * folded into its reads, ir_fold_pad, src/ir/fold.c): its padding,
     * top, bottom, left, right, the folded PADs' rows and columns plus
     * the SAME padding it had; the output covers every window that fits */
    int32_t xpad[4];
} ir_options;

#define IR_PAD_EXPLICIT 2

typedef struct {
    int32_t index;
    int32_t code;                /* OP_* builtin code */
    const char *custom_name;     /* for CUSTOM ops */
    int32_t version;
    int32_t n_in, n_out;
    int32_t *in, *out;           /* tensor indices, -1 = optional absent */
    ir_options opt;
    int has_opt;
    /* The builtin options table as stored (opt_pos == 0: absent), for
     * operator families that read their own fields (reader_opt_*). */
    uint8_t opt_type;
    size_t opt_pos;
    /* A custom operator's options as stored (custom_options, a FlexBuffer;
     * flexbuf_map_open reads it), pointing into the model file. */
    const uint8_t *custom_opt;
    size_t custom_opt_len;
    /* A multi-output data-movement operator (SPLIT, SPLIT_V, UNPACK) is
     * expanded into one operator per output (ir_expand): part k of n_parts,
     * all with the model's operator index src_index. */
    int32_t part, n_parts, src_index;
} ir_op;

typedef struct {
    util_arena arena;
    const uint8_t *file;
    size_t file_len;
    const char *description;
    int32_t n_tensors, n_ops;
    ir_tensor *tensors;
    ir_op *ops;
    int32_t n_inputs, n_outputs;
    int32_t *inputs, *outputs;
    int32_t n_subgraphs;         /* in the file; the graph is subgraph 0 */
    /* The caller supplies a model input's pixels as the plan reads them
     * (--stream-input): an input whose first reader starts a streamed chain
     * is read into a ring of its own (sched/stream.c), not held whole. */
    int stream_input;
    /* Outputs go to the caller as they are made (--stream-output): a
     * single-pixel fully-connected output in channel chunks, any other one
     * when complete (sched/stream_io.c). */
    int stream_output;
    /* [n_inputs], set by ir_fold_input_transpose: input i is given as
     * channel planes ([1, C, H, W]) but held NHWC, its TRANSPOSE folded
     * into the copy that brings it in (src/ir/fold.c); NULL: none. */
    uint8_t *input_planar;
} ir_graph;

/* Another subgraph of the file (a WHILE or IF branch), as the reader
 * gives it: tensors and operators indexed within the subgraph. */
typedef struct {
    const char *name;
    int32_t n_tensors, n_ops, n_inputs, n_outputs;
    ir_tensor *tensors;
    ir_op *ops;
    int32_t *inputs, *outputs;
} ir_subgraph;

const char *ir_op_name(int32_t code);
/* Expands multi-output data-movement operators into one operator per output
 * (each reads the same inputs and writes one of the outputs). Run before
 * ir_check; op indices after it are positions in the expanded list. */
int ir_expand(ir_graph *g, util_err *err);
const char *ir_type_name(int32_t type);
size_t ir_type_size(int32_t type);
/* Replaces every WHILE whose trip count is known at compile time by its
 * body written out once per iteration, and every IF on a constant by its
 * taken branch (inline.c); refuses other control flow. Runs first, on the
 * reader's graph. */
int ir_inline(ir_graph *g, util_err *err);
/* Strided 1x1 int8 convolutions whose input another operator reads too
 * (a residual block's skip path), and the rewrite of each into a 1x1
 * MAX_POOL_2D of that stride (a copy of the pixels it reads) and the
 * convolution at stride 1: the same bytes, a graph whose row-streamed
 * plans can hold less (decimate.c). ir_decimate returns how many it
 * rewrote; run ir_check again after it. */
int ir_decimate_candidates(const ir_graph *g);
int ir_decimate(ir_graph *g, util_err *err);
/* Structural checks: every operator reads constants, graph inputs or outputs
 * of earlier operators (no cycles); fills is_input/is_output/producer. */
int ir_check(ir_graph *g, util_err *err);
/* Multiply-accumulates of one operator (conv, depthwise, FC, transpose conv,
 * batch matmul; 0 otherwise). */
int64_t ir_op_macs(const ir_graph *g, const ir_op *op);
/* The contract with TFLM (validate.c): refuses every operator field TFLM
 * refuses or reads differently, and activations beyond the host limit.
 * Runs after ir_check, before lowering. */
int ir_validate(const ir_graph *g, util_err *err);

/* ========================================================================
 * reader
 * ====================================================================== */

/* Parses a .tflite flatbuffer into g (which borrows `file` for constant
 * data: keep it alive). Returns 0, or -1 with err naming the byte offset,
 * operator or tensor at fault. */
int reader_load(ir_graph *g, const uint8_t *file, size_t len, util_err *err);
/* Field `id` (schema field order) of op's builtin options table: def when
 * the table or the field is absent. size is the field's bytes (1 for
 * bool/enum/byte fields, 4 for int32). -1 with err when the field does not
 * fit the table or the table's union type is not want_type. */
/* Subgraph s of g's file, read again from the file (allocated in g's
 * arena): for inlining control flow (src/ir/inline.c). */
int reader_subgraph(ir_graph *g, int32_t s, ir_subgraph *out, util_err *err);
int reader_opt_int(const ir_graph *g, const ir_op *op, uint8_t want_type, int id, int size, int32_t def,
                   int32_t *v, util_err *err);
int reader_opt_f32(const ir_graph *g, const ir_op *op, uint8_t want_type, int id, float def, float *v,
                   util_err *err);

/* A FlexBuffer map, the format of custom operator options (flexbuf.c).
 * Opening checks the root, the map's length, value slots, type bytes and
 * key vector against the buffer, so the accessors read only checked bytes. */
typedef struct {
    const uint8_t *b;
    size_t n;
    size_t vals;        /* first value slot */
    uint32_t width;     /* bytes per value slot */
    uint32_t len;       /* entries */
    size_t keys;        /* first key slot */
    uint32_t key_width; /* bytes per key slot */
} flexbuf_map;

int flexbuf_map_open(const uint8_t *b, size_t n, flexbuf_map *m, util_err *err);
/* Key i (entries are sorted by key), NUL-terminated inside the buffer. */
const char *flexbuf_map_key(const flexbuf_map *m, uint32_t i);
/* Value i as TFLM's FlexbufferWrapper reads it (the slot's bytes as a
 * signed little-endian integer); -1 with err when it is not an inline
 * integer or boolean, which TFLM would misread. */
int flexbuf_map_int(const flexbuf_map *m, uint32_t i, int64_t *v, util_err *err);

/* ========================================================================
 * lower: an IR op as a kernel call
 * ====================================================================== */

typedef enum {
    K_NOP = 0,         /* reshape/squeeze: output aliases input */
    K_CONV, K_DWCONV, K_FC, K_FC_F32, K_AVGPOOL, K_MAXPOOL, K_ADD, K_MUL,
    K_PAD, K_SOFTMAX, K_LOGISTIC, K_MEAN, K_REQUANT, K_QUANT_F32,
    K_DEQUANT_F32, K_TRANSPOSE, K_CONCAT,
    K_LUT,             /* int8 -> int8 through a 256-entry table (element-wise,
                          streams and splits like LOGISTIC) */
    K_GENERIC,         /* a whole-tensor kernel of an operator family (ops_kernel) */
} k_kind;

struct ops_kernel;

typedef struct {
    k_kind kind;
    int32_t op;                  /* IR op index */
    int32_t in[2];               /* activation tensor inputs (-1 unused) */
    int32_t out;
    /* shapes as NHWC views */
    int32_t in_dims[2][4], out_dims[4];
    /* constants */
    const int8_t *weights;
    const float *weights_f32;
    const int32_t *bias;
    const float *bias_f32;
    int32_t kh, kw, depth_mult, filter_offset;
    float act_min_f, act_max_f;
    float qscale;                /* quantize / dequantize */
    int32_t qzp;
    pexc_conv_params conv;
    pexc_pool_params pool;
    pexc_add_params add;
    pexc_mul_params mul;
    pexc_pad_params pad;
    pexc_softmax_params softmax;
    pexc_logistic_params logistic;
    pexc_mean_params mean;
    pexc_requantize_params requant;
    pexc_transpose_params transpose;
    /* tensors read whole (concatenation inputs; every input of a
     * K_GENERIC call, constants included, in the kernel's order) */
    int32_t n_whole;
    int32_t *whole_in;           /* tensor indices */
    /* concat */
    int32_t *cat_inner;
    int32_t cat_outer;
    size_t elem_size;
    /* K_NOP: the output is the input's bytes from alias_off on (0 for a
     * reshape; a contiguous slice or split part is a view at an offset) */
    size_t alias_off;
    /* K_LUT: out = lut[in + 128] */
    const int8_t *lut;
    /* K_GENERIC: the kernel and its parameter struct */
    const struct ops_kernel *gen;
    const void *gen_params;
} k_call;

/* 1 when the core or an operator family lowers some form (type) of this
 * builtin operator. */
int lower_known(int32_t code);
/* Refuses a model with operators pexc has no kernel for, naming them all. */
int lower_supported(const ir_graph *g, util_err *err);
/* Lowers every op of g; calls[i] for op i. */
int lower_graph(ir_graph *g, k_call **calls, util_err *err);
/* Folds a model input's NCHW -> NHWC TRANSPOSE into the input's copy
 * (src/ir/fold.c): the transpose becomes a view, g->input_planar says
 * which inputs arrive as planes. Runs at the end of lower_graph. */
int ir_fold_input_transpose(ir_graph *g, k_call *calls, util_err *err);
/* Folds each int8 PAD of H and W whose only reader is a CONV_2D or
 * DEPTHWISE_CONV_2D into that operator's padding (src/ir/fold.c): the
 * operator reads the PAD's input with padding IR_PAD_EXPLICIT and the
 * PAD's rows and columns in ir_options.xpad, and the PAD leaves g->ops
 * (later operators renumbered, producers recomputed). Runs at the start
 * of lower_graph. */
int ir_fold_pad(ir_graph *g, util_err *err);
/* Logical NHWC dims of a tensor (rank <= 4, leading 1s). */
void lower_nhwc(const ir_tensor *t, int32_t d[4]);

/* ========================================================================
 * plan
 * ====================================================================== */

typedef enum {
    BUF_TENSOR = 0, /* a whole tensor (reshape outputs share their input's) */
    BUF_SLICE = 1,  /* one channel slice of a tensor, for one step pair */
    BUF_PSUM = 2,   /* int32 partial sums of a split consuming operator
                       (int16 for an average pool with pool.acc16) */
    BUF_RING = 3,   /* the pixels of a streamed tensor still needed, in a ring */
} plan_buf_kind;

typedef struct {
    int32_t tensor;      /* the tensor it holds (all or part of) */
    plan_buf_kind kind;
    int32_t c_begin, c_stored; /* channels held (slices); whole tensor otherwise */
    size_t size;
    int32_t first, last; /* step indices of first write / last read */
    size_t offset;       /* placed by the memory planner */
    int32_t ring_px;     /* BUF_RING: pixels held (raster pixel q at q % ring_px) */
    /* Row bands: a whole tensor that a streamed chain reads or writes a few
     * rows at a time is cut into bands of rows [y0, y1), each a buffer with
     * its own life, placed contiguously in order (band k at the group's
     * base + group_off) so kernels still see one tensor. The first band is
     * the group head: views name it, and its offset is the group's base. */
    int32_t head;        /* group head buffer index (itself for the head), or -1 */
    int32_t n_bands;     /* head only: bands in the group (bands 1.. follow at band_next) */
    int32_t band_next;   /* head only: index of band 1; bands are consecutive */
    int32_t y0, y1;      /* rows held by this band (a ring's bands: slots) */
    size_t group_off;
    int32_t ring_first, ring_last; /* a ring cut into bands of slots: its life whole */
} plan_buffer;

/* Where a step finds one operand: a buffer (or a constant tensor when
 * buf < 0) seen as the logical tensor with channels [c_begin, +c_stored). */
typedef struct {
    int32_t buf;
    int32_t tensor;
    int32_t c_begin, c_stored;
    int32_t ring_px;
} plan_view;

typedef enum {
    STEP_FULL = 0,   /* kernel computes tile of its int8/float output */
    STEP_ACC = 1,    /* conv/FC adds input channels [ic0, ic1) into psum;
                        average pool adds input pixels [ic0, ic1) */
    STEP_FINISH = 2, /* conv/FC requantises psum tile into its output;
                        average pool divides it */
} plan_step_mode;

typedef struct {
    int32_t call;        /* index into calls (= IR op index) */
    plan_step_mode mode;
    pexc_tile tile;      /* output pixels/channels computed */
    int32_t ic0, ic1, first; /* STEP_ACC */
    plan_view in[2];     /* activation operands (unused: buf = -1, tensor = -1) */
    plan_view out;       /* output (psum buffer for STEP_ACC) */
} plan_step;

/* A segment of the plan's operator order, positions [op_first, op_last]:
 *   rows == 0: channel split, the ops run n_slices times, one channel slice
 *              each;
 *   rows > 0:  row streaming, the ops run interleaved, `rows` output rows of
 *              the last op at a time (frac > 1: rows == 1 and each step
 *              makes 1/frac of a row of its op's output, rounded up),
 *              intermediates in ring buffers of pixels. */
typedef struct {
    int32_t op_first, op_last;
    int32_t n_slices;
    int32_t rows;
    int32_t frac;
} plan_segment;

typedef struct {
    int32_t n_steps, n_buffers;
    plan_step *steps;
    plan_buffer *buffers;
    int32_t *tensor_buffer;  /* tensor index -> whole-tensor buffer or -1 */
    size_t arena_bytes;      /* planner result */
    size_t lower_bound;      /* max over steps of live bytes */
    size_t *live_bytes;      /* [n_steps] */
    int32_t n_segments;
    plan_segment *segments;
    int32_t *order;          /* [n_ops] operator order: position -> op index */
} plan_t;

/* A TRANSPOSE step making only some rows, or writing into a ring: it needs
 * the tiled kernel instead of the whole-tensor one. */
static inline int plan_step_tiled_transpose(const k_call *k, const plan_step *st) {
    return k->kind == K_TRANSPOSE &&
           (st->out.ring_px || st->tile.y0 != 0 || st->tile.y1 != k->out_dims[1] || st->tile.x0 || st->tile.x1);
}

/* Buffer index of band k of the row-band group headed by buffer h (band 0
 * is the head itself; the others are consecutive from band_next). */
/* Bytes of one partial sum of call k's streamed (row-consuming) form: 2
 * for an average pool whose windows fit int16 sums (pool.acc16), else 4. */
static inline size_t plan_psum_elem(const k_call *k) {
    return k->kind == K_AVGPOOL && k->pool.acc16 ? 2 : 4;
}

static inline int32_t plan_band(const plan_t *p, int32_t h, int32_t k) {
    return k == 0 ? h : p->buffers[h].band_next + k - 1;
}

/* Byte offset of whole tensor t inside its buffer: 0, except for views
 * (K_NOP outputs with an alias_off, and reshapes of them), which share the
 * buffer of the tensor they view. */
size_t plan_tensor_offset(const ir_graph *g, const k_call *calls, const plan_t *p, int32_t t);

/* The graph input (index into g->inputs) tensor t holds the bytes of: t
 * itself, or a reshape of it (a K_NOP view at offset 0); -1 otherwise.
 * A streamed input's ring is of that tensor. */
static inline int32_t plan_input_of(const ir_graph *g, const k_call *calls, int32_t t) {
    for (int32_t i = 0; i < g->n_inputs; i++)
        if (g->inputs[i] == t) return i;
    for (int32_t op = 0; op < g->n_ops; op++) {
        const k_call *k = &calls[op];
        if (k->out == t && k->kind == K_NOP && k->alias_off == 0 && k->in[0] >= 0)
            for (int32_t i = 0; i < g->n_inputs; i++)
                if (g->inputs[i] == k->in[0]) return i;
    }
    return -1;
}

/* The NHWC view tensor of input tensor t when t arrives as channel planes
 * (ir_graph.input_planar: its TRANSPOSE folded, src/ir/fold.c), else -1.
 * The plan gives the input's buffer to that view, so its rows can be
 * released in bands and streamed like any NHWC input's. */
static inline int32_t plan_planar_view(const ir_graph *g, const k_call *calls, int32_t t) {
    if (!g->input_planar) return -1;
    for (int32_t i = 0; i < g->n_inputs; i++) {
        if (g->inputs[i] != t || !g->input_planar[i]) continue;
        for (int32_t op = 0; op < g->n_ops; op++)
            if (calls[op].kind == K_NOP && calls[op].in[0] == t) return calls[op].out;
    }
    return -1;
}

/* Places p's buffers (offsets, arena_bytes, live_bytes, lower_bound). */
int plan_memory(plan_t *p, util_arena *a, util_err *err);
/* More placement orders for a final plan (about `work` buffer-pair checks). */
int plan_memory_refine(plan_t *p, double work, util_arena *a, util_err *err);
/* Bytes alive at each step into live[n_steps] (NULL: not kept); returns the
 * peak (the lower bound of any placement) and its first step. */
size_t plan_live_profile(const plan_t *p, size_t *live, int32_t *peak_step);
/* Bytes buffer i counts for in the live profile (aligned, or not when
 * another row band of its tensor follows it directly). */
size_t plan_footprint(const plan_t *p, int32_t i);
/* Independent check: no two buffers live at the same step overlap, every
 * read follows the write it needs, every output element is computed once. */
int plan_verify(const ir_graph *g, const k_call *calls, const plan_t *p, util_err *err);

/* Host memory for a model's activations: the validator's sum of activation
 * tensors and the plan's arena (allocated by the executor) stay within it. */
#define PEXC_HOST_BYTES ((size_t)64 << 20)
/* Refuses a plan whose arena exceeds PEXC_HOST_BYTES, naming the largest
 * tensor live at its peak (src/plan/host.c). */
int plan_host_check(const ir_graph *g, const plan_t *p, util_err *err);

/* ========================================================================
 * sched: choose the schedule (src/sched/)
 * ====================================================================== */

/* Builds the plan for a set of channel-split segments (none = baseline),
 * with buffer lifetimes; does not place buffers. */
int sched_build(const ir_graph *g, const k_call *calls, const int32_t *order, const plan_segment *segs,
                int32_t n_segs, plan_t *p, util_arena *a, util_err *err);
/* Baseline: TFLite order, whole tensors, placed and verified. */
int sched_baseline(const ir_graph *g, const k_call *calls, plan_t *p, util_arena *a, util_err *err);
/* Least-peak schedule (budget == 0), or the fewest-step schedule whose peak
 * fits budget bytes; placed and verified. */
int sched_min_sram(const ir_graph *g, const k_call *calls, size_t budget, int stream_rows, plan_t *p,
                   util_arena *a, util_err *err);
/* The default schedule: of the plans the min-sram search passes through
 * (falling peak), the least peak whose predicted instructions stay within
 * SCHED_DEFAULT_SLOWDOWN of the baseline's (search.c); *least (may be
 * NULL) gets the least-peak plan, min-sram's. The promise is 1.05x the
 * baseline's measured instructions; the fit predicts a streamed plan's
 * extra cost short by a factor of 1.2-4 (block_ds_cnn: 1.018x predicted,
 * 1.051x measured, 1.008x predicted, 1.033x measured; tools/fit_cost.py
 * prints the worst plan measured under each limit), so the rule asks
 * 1.015x of the prediction. */
#define SCHED_DEFAULT_SLOWDOWN 1.015
int sched_default(const ir_graph *g, const k_call *calls, plan_t *p, plan_t *least, util_arena *a,
                  util_err *err);
/* Nonzero: final plans keep their rings whole (sched/ring_bands.c), as
 * the search's scoring does. pexc prune compiles a model per trial cut and
 * needs only to compare peaks, so it sets this for its own thread. */
extern _Thread_local int sched_rings_whole;
/* Predicted instructions of the baseline (TFLite's order, whole tensors);
 * -1: out of memory. */
double sched_base_cost(const ir_graph *g, const k_call *calls);
/* Predicted Cortex-M4 instructions of a plan's run (cost.c). */
double sched_plan_cost(const ir_graph *g, const k_call *calls, const plan_t *p);
/* Pixels [*q0, *q1) (raster order, per batch index) of operand `which`
 * (0, 1; 2 = the output) that step st reads or writes, in the tensor's own
 * NHWC shape; plan_step_rows gives the rows they fall in. */
void plan_step_pixels(const ir_graph *g, const k_call *calls, const plan_step *st, int which, int64_t *q0,
                      int64_t *q1);
void plan_step_rows(const ir_graph *g, const k_call *calls, const plan_step *st, int which, int32_t *r0,
                    int32_t *r1);
/* Raster pixel geometry of operand `which` of call k: output pixel (y, x)
 * reads input rows [y * sh - pt, + span_h) and columns [x * sw - pl,
 * + span_w), clipped. Returns 0 when the operand is read whole instead. */
int sched_window(const k_call *k, int which, int32_t *sh, int32_t *sw, int32_t *pt, int32_t *pl, int32_t *span_h,
                 int32_t *span_w);
/* Prefix of operand `which`'s pixels that output pixels [0, q) need. */
int64_t sched_px_need(const k_call *k, int which, int64_t q);
/* First pixel of operand `which` that output pixel q (or any after it)
 * needs. */
int64_t sched_px_low(const k_call *k, int which, int64_t q);
/* A step of a call with a step form (ops_steps_of) that makes only some
 * rows of its sequence, or reads or writes a ring: it runs the step form,
 * not the whole-tensor kernel. */
int plan_step_seq(const plan_t *p, const k_call *k, const plan_step *st);
/* Multiply-accumulates of one step, counting padded taps like ir_op_macs. */
int64_t plan_step_macs(const ir_graph *g, const k_call *calls, const plan_step *st);
/* One line: where the peak sits: the step with the most live bytes, its
 * operator and the buffers alive there (no byte total: callers state the
 * arena's). */
int sched_describe_peak(const ir_graph *g, const k_call *calls, const plan_t *p, char *buf, size_t n);

/* ========================================================================
 * exec
 * ====================================================================== */

/* Gives every variable tensor (operator state) its initial value, as TFLM's
 * AllocateTensors() and Reset() do: the zero point of an int8 tensor, zeros
 * otherwise. exec_run leaves state alone, so it carries from one run to the
 * next until this is called again. */
void exec_reset_state(const ir_graph *g, const plan_t *p, uint8_t *arena);
/* Writes each resource variable's initial value (ir_tensor.init) over its
 * state: what CALL_ONCE's init subgraph does on TFLM's first Invoke(). The
 * caller does this once, before the first run, whatever resets came before;
 * later resets fill with the zero point as TFLM's Reset() does. */
void exec_init_state(const ir_graph *g, const plan_t *p, uint8_t *arena);
/* The byte a variable tensor is filled with at reset. */
uint8_t exec_state_fill(const ir_tensor *t);
/* Runs the plan; inputs/outputs are raw tensor bytes in graph order. */
int exec_run(const ir_graph *g, const k_call *calls, const plan_t *p,
             uint8_t *arena, const void *const *inputs, void *const *outputs,
             util_err *err);
/* Batch evaluation (batch.c): n independent items (input i of item b at
 * inputs[i] + b * its bytes, outputs likewise) split over `workers` threads,
 * worker 0 on arena, the others on arenas of their own. Only for plans
 * without variable tensors (exec_batch_splittable). On failure *failed_at is
 * the first item that failed and err says why. */
int exec_batch_splittable(const ir_graph *g, const plan_t *p);
/* Workers for n items: the online cores (or $PEXC_THREADS), at most 16,
 * at least 8 items each. */
int exec_batch_workers(size_t n);
int exec_run_batch(const ir_graph *g, const k_call *calls, const plan_t *p, uint8_t *arena, size_t n,
                   const void *const *inputs, void *const *outputs, int workers, size_t *failed_at,
                   util_err *err);
/* Same, also writing every completed whole tensor to dump_dir/<index>.bin. */
int exec_run_dump(const ir_graph *g, const k_call *calls, const plan_t *p, uint8_t *arena,
                  const void *const *inputs, void *const *outputs, const char *dump_dir, util_err *err);
/* Hands the caller output elements [first, first + n) of output `output`
 * (elem bytes each) at src; non-zero stops the run. */
typedef int (*exec_write_fn)(void *ctx, int output, int64_t first, int64_t n, size_t elem, const void *src);
/* exec_run_dump with the outputs handed to write as the plan completes
 * them (g->stream_output: sched/stream_io.c); write NULL: ctx is the
 * outputs array, filled at the end. */
int exec_run_stream(const ir_graph *g, const k_call *calls, const plan_t *p, uint8_t *arena,
                    const void *const *inputs, exec_write_fn write, void *ctx, const char *dump_dir, util_err *err);

/* ========================================================================
 * emit: a planned model as standalone C (emit.c)
 * ====================================================================== */

#include <stdio.h>

#include "emit/figures.h"

typedef struct {
    const char *name;       /* C identifier prefixing everything emitted */
    const char *model_path; /* for comments */
    const char *schedule;   /* "baseline", "min-sram", ... for comments */
    const char *target;     /* "host", "cortex-m4", ... for comments */
    int caller_arena;       /* NAME_run takes the arena as its first argument */
    const char *figures_note; /* more " *   ..." lines for the header's figures, or NULL */
    emit_figures_dev *figures_out; /* receives the header's flash and stack figures, or NULL */
} emit_options;

/* Prints NAME.h to h and NAME.c to c: the verified plan p as straight-line
 * kernel calls on a static arena, constants as static const data. */
int emit_model(const ir_graph *g, const k_call *calls, const plan_t *p, const emit_options *o, FILE *h, FILE *c,
               util_err *err);
/* Names of the runtime kernels the emitted code calls (at most max). */
int32_t emit_kernels_used(const k_call *calls, const plan_t *p, const char *target, const char **names,
                          int32_t max);

/* ========================================================================
 * ops: operator families (src/ops/), one file per family
 *
 * A family lowers a set of TFLite operators to kernel calls of its own,
 * without touching the stages after lowering: element-wise int8 functions
 * become K_LUT calls (a table computed here by the reference arithmetic),
 * everything else a K_GENERIC call of a whole-tensor kernel with the uniform
 * runtime signature
 *
 *     pexc_status fn(const P *params, const void *const *in, void *out);
 *
 * where in[] are the call's whole_in tensors (activations and constants) in
 * order. The family supplies the host call (run) and the C initialiser of
 * its parameter struct (emit); the scheduler, planner, executor and emitter
 * treat every K_GENERIC call the same way.
 * ====================================================================== */

typedef struct ectx emit_ctx;

typedef struct ops_kernel {
    const char *fn;    /* runtime function, e.g. "pexc_gather_s8" */
    const char *ptype; /* its parameter struct type */
    pexc_status (*run)(const void *params, const void *const *in, void *out);
    /* Prints "static const <ptype> <var> = {...};" (and any arrays it
     * points to, before it) through the emit_* helpers below. */
    int (*emit)(emit_ctx *e, const k_call *k, const char *var);
} ops_kernel;

/* The step form of a sequence kernel (an LSTM): it runs the time steps of
 * a tile of pixels of its output (one row of the sequence per pixel),
 * reading its first activation input k->in[0] through view x and writing
 * through view y, either of them a ring; in[] are the call's whole_in
 * tensors with in[0] unused. The scheduler streams a sequence through such
 * a call: output pixel q needs input pixel q, and the rows run in order
 * (sched_window), while the state stays in its whole buffer. */
typedef struct {
    const char *fn;
    pexc_status (*run)(const void *params, const void *const *in, const pexc_view *x, const pexc_tile *t,
                       pexc_view *y);
} ops_step_kernel;

/* The step form of call k, or NULL when it runs whole only (src/ops/seq.c). */
const ops_step_kernel *ops_steps_of(const k_call *k);

/* Lowers op into k when a family handles its code: 0 done, -1 error (err
 * set), 1 not a family operator. k->op, out, in[0], dims are preset. */
int ops_lower(ir_graph *g, ir_op *op, k_call *k, util_err *err);
/* 1 when a family lowers this operator code (for the support list). */
int ops_known(int32_t code);
/* Why pexc does not lower this builtin operator, or NULL when it does or
 * no reason is recorded (the coverage table in docs/operators.md). */
const char *ops_missing_reason(int32_t code);
/* 1 when a family lowers the CUSTOM operator of this name. */
int ops_custom_known(const char *name);
/* After ir_expand: a variable tensor for each spectral subtraction's noise
 * estimate, the parts rewired to update it once per run (signal_state.c). */
int ops_signal_add_state(ir_graph *g, util_err *err);

/* Emission helpers for families: a static const array of n elements of
 * IR type `type` (I8, I16, I32, F32, U8) named <model>_<what>; returns its C
 * name or NULL (out of memory). */
const char *emit_const_array(emit_ctx *e, const void *data, size_t n, int32_t type, const char *what);
void emit_printf(emit_ctx *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Prints ".field = {v0, v1, ...}, " (an int32 array member's initialiser). */
void emit_int_field(emit_ctx *e, const char *field, const int32_t *v, int n);
/* Prints the fields every broadcasting element-wise parameter struct
 * starts with: ".op = .., .rank = .., .dims = {6}, .stride_a = {6},
 * .stride_b = {6}, ". */
void emit_bcast_fields(emit_ctx *e, int32_t op, int32_t rank, const int32_t *dims, const int32_t *stride_a,
                       const int32_t *stride_b);

#endif /* PEXC_INTERNAL_H */
