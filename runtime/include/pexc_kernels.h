/*
 * pexc runtime kernels: the contract between the compiler and the code that
 * ships on the microcontroller.
 *
 * Every kernel computes a *tile* of its output: a range of output rows and a
 * range of output channels. The host executor and the generated C both call
 * the same kernels, so a schedule that splits an operator into tiles (channel
 * slices for partial execution, row ranges for row streaming) runs exactly
 * the arithmetic the unsplit operator would run, only in pieces.
 *
 * Tensors are seen through views. A view names a *logical* tensor of shape
 * [N, H, W, C] (NHWC; lower-rank tensors are padded with leading 1s) and says
 * which part of it is physically stored and where:
 *
 *   - channels [c_begin, c_begin + c_stored) are stored, innermost, so a
 *     buffer that holds one channel slice of a tensor is a view with
 *     c_begin = slice start and c_stored = slice width;
 *   - pixels: if ring_px == 0 every pixel is stored; otherwise the pixels of
 *     each batch index are numbered in raster order, q = y * w + x, and
 *     logical pixel q is stored at physical pixel q % ring_px (a ring buffer
 *     used when a chain of spatial operators is streamed: a ring of R whole
 *     rows has ring_px = R * w; a line buffer holding two rows and a few
 *     pixels of a 3x3 convolution's input has ring_px = 2 * w + 3 or so).
 *     Rows of a ring may wrap around its end, so kernels step from pixel to
 *     pixel through pexc_view_index (or pexc_view_next) instead of assuming
 *     that a row is contiguous.
 *
 * Kernels index tensors only in logical coordinates and go through
 * pexc_view_at(), so they never need to know how a buffer is laid out.
 *
 * Integer semantics follow TFLite's reference kernels exactly (requantisation
 * by a Q31 multiplier and a power-of-two shift, with TFLite's double rounding);
 * byte-identical outputs are the contract, tested against TFLite Micro.
 *
 * Every kernel returns PEXC_OK or an error status; none allocates memory or
 * calls anything from libc beyond memcpy/memset.
 */
#ifndef PEXC_KERNELS_H
#define PEXC_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    PEXC_OK = 0,
    PEXC_ERR_ARG = 1,         /* a parameter or tile is out of range */
    PEXC_ERR_UNSUPPORTED = 2, /* a valid case this kernel does not handle */
} pexc_status;

/* Test builds (-DPEXC_COUNT_MACS) count every multiply-accumulate the kernels
 * execute, so tests can prove a split schedule does exactly the baseline's
 * arithmetic. Release builds compile the counter away. */
#ifdef PEXC_COUNT_MACS
extern uint64_t pexc_mac_count;
#define PEXC_COUNT_MAC(n) (pexc_mac_count += (uint64_t)(n))
#else
#define PEXC_COUNT_MAC(n) ((void)0)
#endif

/* A view of a logical NHWC tensor. See the essay above. */
typedef struct {
    void *data;       /* physical storage: [n][rows][w][c_stored] */
    int32_t n, h, w, c; /* logical extents of the whole tensor */
    int32_t c_begin;  /* first logical channel stored */
    int32_t c_stored; /* channels stored (innermost stride), >= 1 */
    int32_t ring_px;  /* 0: all h * w pixels stored; else pixels in a ring */
} pexc_view;

/* Output tile: channels [c0, c1) of the output pixels from (y0, x0) up to,
 * not including, (y1 - 1, x1) in raster order, for every batch index: the
 * first row starts at column x0, the rows after it at column 0, and the
 * last row ends before column x1 (x1 == 0: at the row's end). A tile of
 * whole rows has x0 = x1 = 0, so {y0, y1, c0, c1} still reads as rows
 * [y0, y1). */
typedef struct {
    int32_t y0, y1;
    int32_t c0, c1;
    int32_t x0, x1;
} pexc_tile;

/* Columns [pexc_tile_xb, pexc_tile_xe) of row y (y0 <= y < y1) in tile t of
 * an output w pixels wide. */
static inline int32_t pexc_tile_xb(const pexc_tile *t, int32_t y) { return y == t->y0 ? t->x0 : 0; }
static inline int32_t pexc_tile_xe(const pexc_tile *t, int32_t y, int32_t w) {
    return y == t->y1 - 1 && t->x1 ? t->x1 : w;
}
/* Pixels of tile t (per batch index) in an output w pixels wide. */
static inline int64_t pexc_tile_pixels(const pexc_tile *t, int32_t w) {
    if (t->y0 >= t->y1) return 0;
    return (int64_t)(t->y1 - t->y0) * w - t->x0 - (t->x1 ? w - t->x1 : 0);
}

/* The tile of output pixels [q0, q1) in raster order (q = y * w + x,
 * q0 < q1), channels [c0, c1): generated code keeps a streamed step as
 * this pixel range in a table and rebuilds its tile with this. */
static inline pexc_tile pexc_tile_run(int32_t q0, int32_t q1, int32_t w, int32_t c0, int32_t c1) {
    pexc_tile t = {q0 / w, (q1 - 1) / w + 1, c0, c1, q0 % w, q1 % w};
    return t;
}

/* Element offset (not bytes) of logical (n, y, x, ch) inside view v. */
static inline size_t pexc_view_index(const pexc_view *v, int32_t n, int32_t y,
                                     int32_t x, int32_t ch) {
    size_t q = (size_t)y * (size_t)v->w + (size_t)x;
    size_t px = v->ring_px ? (size_t)v->ring_px : (size_t)v->h * (size_t)v->w;
    if (v->ring_px) q %= px;
    return ((size_t)n * px + q) * (size_t)v->c_stored + (size_t)(ch - v->c_begin);
}

/* Offset of the pixel after the one at element offset i (same channel) in a
 * view whose pixels are `step` apart (c_stored * dilation): the next column,
 * wrapping around the end of a ring. For a ring, i counts from the start of
 * its batch index's storage (pexc_view_index with n = 0), and step is at
 * most the ring's size in elements. */
static inline size_t pexc_view_next(const pexc_view *v, size_t i, size_t step) {
    i += step;
    if (v->ring_px) {
        size_t end = (size_t)v->ring_px * (size_t)v->c_stored;
        if (i >= end) i -= end;
    }
    return i;
}

#define PEXC_AT_S8(v, n, y, x, ch) (((int8_t *)(v)->data)[pexc_view_index((v), (n), (y), (x), (ch))])
#define PEXC_AT_S32(v, n, y, x, ch) (((int32_t *)(v)->data)[pexc_view_index((v), (n), (y), (x), (ch))])
#define PEXC_AT_F32(v, n, y, x, ch) (((float *)(v)->data)[pexc_view_index((v), (n), (y), (x), (ch))])

/* ---------------------------------------------------------------------------
 * Fixed-point helpers with TFLite's exact rounding (shared by all kernels).
 * ------------------------------------------------------------------------- */

/* (a * b * 2) >> 32 rounded to nearest, saturating the single overflow case
 * a == b == INT32_MIN (gemmlowp SaturatingRoundingDoublingHighMul). */
int32_t pexc_srdhm(int32_t a, int32_t b);
/* x / 2^exponent rounded to nearest, ties away from zero (RoundingDivideByPOT). */
int32_t pexc_rdivpot(int32_t x, int32_t exponent);
/* TFLite MultiplyByQuantizedMultiplier: x * multiplier * 2^shift, where
 * multiplier is Q31 in [2^30, 2^31) (or 0) and shift in [-31, 30]. */
int32_t pexc_requant(int32_t x, int32_t multiplier, int32_t shift);
/* x * 2^e saturated to int32, e in [0, 30] (SaturatingRoundingMultiplyByPOT). */
int32_t pexc_sat_shl(int32_t x, int32_t e);
/* exp(a) for a <= 0 given in Q(int_bits).(31 - int_bits); result Q0.31. */
int32_t pexc_exp_on_negative(int32_t a, int32_t int_bits);
/* 1 / (1 + a) for a in [0, 1] as Q0.31; result Q0.31 (Newton-Raphson). */
int32_t pexc_one_over_one_plus_x(int32_t a);

/* ---------------------------------------------------------------------------
 * Argument checks and the requantising tail shared by the convolution-family
 * kernels (inline so each kernel file still stands alone in generated code).
 * ------------------------------------------------------------------------- */

/* A view with positive extents and a sane stored channel range. */
static inline int pexc_view_valid(const pexc_view *v) {
    return v && v->data && v->n >= 1 && v->h >= 1 && v->w >= 1 && v->c >= 1 && v->c_begin >= 0 &&
           v->c_stored >= 1 && v->ring_px >= 0;
}

/* Does v physically store logical channels [c0, c1)? (empty ranges: yes) */
static inline int pexc_view_stores(const pexc_view *v, int32_t c0, int32_t c1) {
    if (c0 >= c1) return 1;
    return c0 >= v->c_begin && c1 - v->c_begin <= v->c_stored && c1 <= v->c;
}

/* Tile inside v's extents, its channels stored, and (for a ring view) no more
 * pixels than the ring holds, so no write lands on another of its own. */
static inline int pexc_tile_valid(const pexc_tile *t, const pexc_view *v) {
    if (!t || t->y0 < 0 || t->y0 > t->y1 || t->y1 > v->h) return 0;
    if (t->c0 < 0 || t->c0 > t->c1 || t->c1 > v->c) return 0;
    if (t->x0 < 0 || t->x0 >= v->w || t->x1 < 0 || t->x1 > v->w) return 0;
    if (t->y0 < t->y1 && pexc_tile_pixels(t, v->w) < 1) return 0;
    if (v->ring_px && pexc_tile_pixels(t, v->w) > v->ring_px) return 0;
    return pexc_view_stores(v, t->c0, t->c1);
}

/* ---------------------------------------------------------------------------
 * CONV_2D (int8 activations, int8 per-channel weights, int32 bias)
 * ------------------------------------------------------------------------- */
typedef struct {
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w;
    int32_t pad_top, pad_left;   /* TFLite padding already resolved */
    int32_t input_offset;        /* -input zero point */
    int32_t output_offset;       /* output zero point */
    int32_t act_min, act_max;    /* fused activation clamp, int8 range */
    const int32_t *out_mult;     /* [Cout] Q31 multipliers */
    const int32_t *out_shift;    /* [Cout] shifts (TFLite sign convention) */
} pexc_conv_params;

/* The requantisation fields (all a finishing pass needs) are usable. */
static inline int pexc_conv_quant_valid(const pexc_conv_params *p) {
    return p && p->out_mult && p->out_shift && p->act_min >= -128 && p->act_max <= 127 &&
           p->act_min <= p->act_max;
}

/* ...and the input offset is minus an int8 zero point, so x + offset fits
 * the int16 lanes of the DSP inner products (see runtime/src/pexc_dot.h). */
static inline int pexc_input_offset_valid(const pexc_conv_params *p) {
    return p->input_offset >= -127 && p->input_offset <= 128;
}

/* ...and the geometry too. */
static inline int pexc_conv_params_valid(const pexc_conv_params *p, int32_t kh, int32_t kw) {
    return pexc_conv_quant_valid(p) && pexc_input_offset_valid(p) && p->stride_h >= 1 &&
           p->stride_w >= 1 && p->dilation_h >= 1 && p->dilation_w >= 1 && kh >= 1 && kw >= 1;
}

/* A ring input must hold at once every input pixel from the first the tile
 * reads to the last (raster order). Output (oy, ox) reads the input window
 * with top-left corner (oy * sh - pt, ox * sw - pl), span_h x span_w pixels,
 * clipped to the input. Bounds (exact for unclipped windows, conservative
 * otherwise):
 *   - first: the top-left tap of the tile's first pixel, unless that row of
 *     windows reads nothing (all in the padding); or column 0 of the second
 *     row's top input row, which for top padding can be the first row's too;
 *   - last: the bottom-right tap of the tile's last pixel, unless that reads
 *     nothing; or column w - 1 of the row before's bottom input row, which
 *     for bottom padding can be the last row's too.
 * out_w is the output width. sh or sw may be 0: a broadcast axis, along
 * which every output row (column) reads input row (column) 0. */
static inline int pexc_window_fits(const pexc_view *in, int32_t sh, int32_t sw, int32_t pt, int32_t pl,
                                   int32_t span_h, int32_t span_w, int32_t out_w, const pexc_tile *t) {
    if (!in->ring_px || t->y0 >= t->y1) return 1;
    const int64_t h = in->h, w = in->w;
    const int multi = t->y1 - t->y0 > 1;
    int64_t lo = INT64_MAX, hi = -1;
    int64_t top = (int64_t)t->y0 * sh - pt, left = (int64_t)t->x0 * sw - pl;
    if (top + span_h - 1 >= 0 && top <= h - 1 && left <= w - 1)
        lo = (top < 0 ? 0 : top) * w + (left < 0 ? 0 : left);
    if (multi) {
        int64_t top2 = top + sh < 0 ? 0 : top + sh;
        if (top2 * w < lo) lo = top2 * w;
    }
    int64_t bot = (int64_t)(t->y1 - 1) * sh - pt + span_h - 1;
    int64_t right = (int64_t)(pexc_tile_xe(t, t->y1 - 1, out_w) - 1) * sw - pl + span_w - 1;
    if (bot >= 0 && bot - span_h + 1 <= h - 1 && right >= 0)
        hi = (bot > h - 1 ? h - 1 : bot) * w + (right > w - 1 ? w - 1 : right);
    if (multi) {
        int64_t bot2 = bot - sh > h - 1 ? h - 1 : bot - sh;
        if (bot2 * w + w - 1 > hi) hi = bot2 * w + w - 1;
    }
    return hi < lo || hi - lo + 1 <= in->ring_px;
}

static inline int pexc_conv_rows_fit(const pexc_conv_params *p, const pexc_view *in, int32_t kh,
                                     int32_t kw, const pexc_tile *t, int32_t out_w) {
    return pexc_window_fits(in, p->stride_h, p->stride_w, p->pad_top, p->pad_left,
                            (kh - 1) * p->dilation_h + 1, (kw - 1) * p->dilation_w + 1, out_w, t);
}

/* pexc_requant inline, for the tail every output element of the
 * convolution-family kernels goes through: the same integers in a few
 * instructions (a 32x32->64 multiply, an add and a shift on a Cortex-M4)
 * instead of three calls. TFLite rounds the doubled high product as
 * trunc((a*b + nudge) / 2^31) with nudge = 2^30 for a*b >= 0 and 1 - 2^30
 * otherwise; both cases equal floor((a*b + 2^30) / 2^31), an arithmetic
 * shift (for a*b < 0 the numerator is negative and truncation is the
 * ceiling, floor((N + 2^31 - 1) / 2^31) = floor((a*b + 2^30) / 2^31)). The
 * final shift rounds half away from zero, as pexc_rdivpot. Kernel tests
 * compare it with pexc_requant on random and extreme values. */
static inline int32_t pexc_requant_inline(int32_t x, int32_t multiplier, int32_t shift) {
    const int32_t left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    const int32_t a = (int32_t)((uint32_t)x << left);
    int32_t hi = INT32_MAX; /* the one saturating case, a == b == INT32_MIN */
    if (a != INT32_MIN || multiplier != INT32_MIN)
        hi = (int32_t)(((int64_t)a * multiplier + (INT64_C(1) << 30)) >> 31);
    /* + 1 when the remainder passes the threshold: (threshold - remainder)
     * is then negative (both lie in [0, 2^31), so it cannot overflow). */
    const int32_t mask = (int32_t)((UINT32_C(1) << right) - 1u);
    const int32_t threshold = (mask >> 1) + (int32_t)((uint32_t)hi >> 31);
    return (hi >> right) - ((threshold - (hi & mask)) >> 31);
}

/* The requantisation fields of a pexc_conv_params copied into locals, for
 * loops that store int8 outputs: an int8 store may alias anything, so a loop
 * reading the fields through the params pointer reloads them after each. */
typedef struct {
    const int32_t *mult, *shift;
    int32_t output_offset, act_min, act_max;
} pexc_out_q;

static inline pexc_out_q pexc_out_q_of(const pexc_conv_params *p) {
    pexc_out_q q = {p->out_mult, p->out_shift, p->output_offset, p->act_min, p->act_max};
    return q;
}

/* int32 sum (bias included) of output channel oc -> int8 output value. */
static inline int8_t pexc_out_q_s8(const pexc_out_q *q, int32_t acc, int32_t oc) {
    acc = pexc_requant_inline(acc, q->mult[oc], q->shift[oc]) + q->output_offset;
    if (acc < q->act_min) acc = q->act_min;
    if (acc > q->act_max) acc = q->act_max;
    return (int8_t)acc;
}


/* filter: [Cout, kh, kw, Cin] int8, Cin == in->c. bias: [Cout] or NULL.
 * Computes output rows/channels of tile t from all input channels. */
pexc_status pexc_conv2d_s8(const pexc_conv_params *p, const pexc_view *in,
                           const int8_t *filter, int32_t kh, int32_t kw,
                           const int32_t *bias, const pexc_tile *t,
                           pexc_view *out);

/* Partial-sum form: adds the contribution of input channels [ic0, ic1) to the
 * int32 accumulator view acc (same logical shape as the output) over tile t.
 * If first != 0 the tile of acc is overwritten instead of added to.
 * The input view only needs to store channels [ic0, ic1). */
pexc_status pexc_conv2d_s8_acc(const pexc_conv_params *p, const pexc_view *in,
                               const int8_t *filter, int32_t kh, int32_t kw,
                               int32_t ic0, int32_t ic1, int first,
                               const pexc_tile *t, pexc_view *acc);

/* Finishes a partial-sum conv or FC: out = clamp(requant(acc + bias) + off).
 * Uses out_mult/out_shift/output_offset/act_min/act_max of p. */
pexc_status pexc_requant_s32_s8(const pexc_conv_params *p, const int32_t *bias,
                                const pexc_view *acc, const pexc_tile *t,
                                pexc_view *out);

/* ---------------------------------------------------------------------------
 * DEPTHWISE_CONV_2D: output channel oc reads input channel oc / depth_mult.
 * filter: [1, kh, kw, Cout] int8. bias: [Cout] or NULL.
 * ------------------------------------------------------------------------- */
pexc_status pexc_depthwise_conv2d_s8(const pexc_conv_params *p,
                                     int32_t depth_mult, const pexc_view *in,
                                     const int8_t *filter, int32_t kh,
                                     int32_t kw, const int32_t *bias,
                                     const pexc_tile *t, pexc_view *out);
/* Partial-sum form over input pixels [q0, q1) (raster order), for a window
 * spanning many input rows; finish with pexc_requant_s32_s8. See
 * depthwise_conv2d_s8.c. */
pexc_status pexc_depthwise_conv2d_s8_acc(const pexc_conv_params *p, int32_t depth_mult,
                                         const pexc_view *in, const int8_t *filter, int32_t kh,
                                         int32_t kw, int32_t q0, int32_t q1, int first,
                                         const pexc_tile *t, pexc_view *acc);

/* ---------------------------------------------------------------------------
 * FULLY_CONNECTED: in viewed as [batches, 1, 1, depth] (n = batches,
 * c = depth), out as [batches, 1, 1, units]; tile rows are ignored (y0 = 0,
 * y1 = 1), tile channels select output units.
 * weights: [units, depth] int8; bias [units] or NULL.
 * filter_offset = -weights zero point (0 for symmetric weights).
 * p->stride/dilation/pad fields are ignored.
 * ------------------------------------------------------------------------- */
pexc_status pexc_fully_connected_s8(const pexc_conv_params *p,
                                    int32_t filter_offset, const pexc_view *in,
                                    const int8_t *weights, const int32_t *bias,
                                    const pexc_tile *t, pexc_view *out);
/* Partial-sum form over input depth [d0, d1); see pexc_conv2d_s8_acc. */
pexc_status pexc_fully_connected_s8_acc(const pexc_conv_params *p,
                                        int32_t filter_offset,
                                        const pexc_view *in,
                                        const int8_t *weights, int32_t d0,
                                        int32_t d1, int first,
                                        const pexc_tile *t, pexc_view *acc);

/* float32 fully connected (hello_world_float). act_min/act_max clamp. */
pexc_status pexc_fully_connected_f32(float act_min, float act_max,
                                     const pexc_view *in, const float *weights,
                                     const float *bias, const pexc_tile *t,
                                     pexc_view *out);

/* ---------------------------------------------------------------------------
 * Pooling (int8, input and output share scale and zero point).
 * ------------------------------------------------------------------------- */
typedef struct {
    int32_t stride_h, stride_w;
    int32_t filter_h, filter_w;
    int32_t pad_top, pad_left;
    int32_t act_min, act_max;
} pexc_pool_params;

pexc_status pexc_avg_pool_s8(const pexc_pool_params *p, const pexc_view *in,
                             const pexc_tile *t, pexc_view *out);
pexc_status pexc_max_pool_s8(const pexc_pool_params *p, const pexc_view *in,
                             const pexc_tile *t, pexc_view *out);

/* Average pooling in partial-sum form, for windows spanning many input rows
 * (a global pool consuming its input a few pixels at a time). Adds into the
 * int32 view acc (logical shape = the pool output [N, OH, OW, C]) over tile t
 * the sum of the valid window taps lying in input pixels [q0, q1) (raster
 * order, q = y * W + x; 0 <= q0 <= q1 <= H * W; taps in the padding or
 * outside the range are skipped). first != 0: the tile of acc is overwritten
 * instead of added to. in only needs to hold pixels [q0, q1) (a ring view
 * needs ring_px >= q1 - q0). Any split of [0, H * W) into consecutive
 * ranges, then _finish, gives exactly pexc_avg_pool_s8's output. */
pexc_status pexc_avg_pool_s8_acc(const pexc_pool_params *p, const pexc_view *in,
                                 int32_t q0, int32_t q1, int first,
                                 const pexc_tile *t, pexc_view *acc);
/* Finishes: out = clamp(sum / count rounded half away from zero), count = the
 * window taps inside the in_h x in_w input (as pexc_avg_pool_s8 counts them);
 * PEXC_ERR_ARG when a tile position has count 0. */
pexc_status pexc_avg_pool_s8_finish(const pexc_pool_params *p, int32_t in_h, int32_t in_w,
                                    const pexc_view *acc, const pexc_tile *t, pexc_view *out);

/* ---------------------------------------------------------------------------
 * Element-wise ADD / MUL with NHWC broadcasting: an operand whose logical
 * extent is 1 along an axis is broadcast along it.
 * ------------------------------------------------------------------------- */
typedef struct {
    int32_t left_shift;            /* 20 for int8 */
    int32_t input1_offset, input2_offset; /* -zero points */
    int32_t input1_mult, input1_shift;
    int32_t input2_mult, input2_shift;
    int32_t output_mult, output_shift;
    int32_t output_offset;
    int32_t act_min, act_max;
} pexc_add_params;

pexc_status pexc_add_s8(const pexc_add_params *p, const pexc_view *in1,
                        const pexc_view *in2, const pexc_tile *t,
                        pexc_view *out);

typedef struct {
    int32_t input1_offset, input2_offset; /* -zero points */
    int32_t output_mult, output_shift;
    int32_t output_offset;
    int32_t act_min, act_max;
} pexc_mul_params;

pexc_status pexc_mul_s8(const pexc_mul_params *p, const pexc_view *in1,
                        const pexc_view *in2, const pexc_tile *t,
                        pexc_view *out);

/* ---------------------------------------------------------------------------
 * PAD (int8 or 1-byte elements): out(n,y,x,c) = in(n-pn, y-pt, x-pl, c-pc)
 * where inside, else pad_value.
 * ------------------------------------------------------------------------- */
typedef struct {
    int32_t before[4]; /* padding before, per NHWC axis */
    int8_t pad_value;  /* output zero point */
} pexc_pad_params;

pexc_status pexc_pad_s8(const pexc_pad_params *p, const pexc_view *in,
                        const pexc_tile *t, pexc_view *out);

/* ---------------------------------------------------------------------------
 * SOFTMAX int8 -> int8 over the channel axis (output scale 1/256, zp -128).
 * Parameters come from the host-side prepare (pexc_softmax_prepare).
 * ------------------------------------------------------------------------- */
typedef struct {
    int32_t input_multiplier;
    int32_t input_left_shift;
    int32_t diff_min;
} pexc_softmax_params;

/* Tile rows select rows (y); every (n, y, x) position is one softmax over C.
 * The tile's channel range must be the whole axis. */
pexc_status pexc_softmax_s8(const pexc_softmax_params *p, const pexc_view *in,
                            const pexc_tile *t, pexc_view *out);

/* ---------------------------------------------------------------------------
 * LOGISTIC int8 -> int8 (output scale 1/256, zp -128).
 * ------------------------------------------------------------------------- */
typedef struct {
    int32_t input_zero_point;
    int32_t input_range_radius;
    int32_t input_multiplier;
    int32_t input_left_shift;
} pexc_logistic_params;

pexc_status pexc_logistic_s8(const pexc_logistic_params *p,
                             const pexc_view *in, const pexc_tile *t,
                             pexc_view *out);

/* ---------------------------------------------------------------------------
 * MEAN int8 over the spatial axes H and W (keep_dims or not: the output view
 * is [N, 1, 1, C] either way). Per-channel mean with requantisation from the
 * input to the output scale, as TFLite's reference integer Mean.
 * ------------------------------------------------------------------------- */
typedef struct {
    int32_t input_zp, output_zp;
    int32_t multiplier, shift; /* requantisation of the sum (from prepare) */
} pexc_mean_params;

pexc_status pexc_mean_hw_s8(const pexc_mean_params *p, const pexc_view *in,
                            const pexc_tile *t, pexc_view *out);

/* ---------------------------------------------------------------------------
 * Requantise int8 -> int8 (QUANTIZE with int8 input), element-wise.
 * ------------------------------------------------------------------------- */
typedef struct {
    int32_t input_zp, output_zp;
    int32_t multiplier, shift;
} pexc_requantize_params;

pexc_status pexc_requantize_s8(const pexc_requantize_params *p,
                               const pexc_view *in, const pexc_tile *t,
                               pexc_view *out);

/* QUANTIZE float32 -> int8 and DEQUANTIZE int8 -> float32, element-wise. */
pexc_status pexc_quantize_f32_s8(float scale, int32_t zero_point,
                                 const pexc_view *in, const pexc_tile *t,
                                 pexc_view *out);
pexc_status pexc_dequantize_s8_f32(float scale, int32_t zero_point,
                                   const pexc_view *in, const pexc_tile *t,
                                   pexc_view *out);

/* ---------------------------------------------------------------------------
 * Data movement on flat, contiguous buffers (whole tensors).
 * elem_size is 1 (int8) or 4 (int32/float32).
 * ------------------------------------------------------------------------- */
typedef struct {
    int32_t rank;      /* 1..6 */
    int32_t in_dims[6];
    int32_t perm[6];   /* out axis i reads input axis perm[i] */
} pexc_transpose_params;

pexc_status pexc_transpose(const pexc_transpose_params *p, size_t elem_size,
                           const void *in, void *out);

/* Tiled TRANSPOSE of 1-byte elements into a view, so a TRANSPOSE heading a
 * streamed chain can write rows into a ring. out is the NHWC view of the
 * transposed tensor (rank <= 4 padded with leading 1s; its H is output axis
 * rank-3). Computes the output pixels of tile t (all n, channels
 * [t->c0, t->c1)) of transpose(in), in the whole contiguous input of
 * p->in_dims (p->rank in [1, 4]); byte-identical to pexc_transpose there. */
pexc_status pexc_transpose_s8_tile(const pexc_transpose_params *p, const void *in,
                                   const pexc_tile *t, pexc_view *out);

/* CONCATENATION along one axis of contiguous tensors (same quantisation).
 * outer = product of dims before the axis; each input i contributes a
 * contiguous chunk of in_inner[i] = (its axis extent * inner dims) elements
 * per outer index. */
pexc_status pexc_concat(int32_t num_inputs, const void *const *inputs,
                        const int32_t *in_inner, int32_t outer,
                        size_t elem_size, void *out);

/* ---------------------------------------------------------------------------
 * Table lookup (lut_s8.c): out = table[in + 128], the kernel of every int8
 * element-wise function the compiler tabulates.
 * ------------------------------------------------------------------------- */
pexc_status pexc_lut_s8(const int8_t *table, const pexc_view *in, const pexc_tile *t, pexc_view *out);

/* ---- element-wise binary (binary_*.c) ---- */

/* ---- data movement (move_*.c) ---- */

/* ---- reductions (reduce_*.c) ---- */

/* ---- resize, transpose conv, batch matmul ---- */

/* ---- sequences, state ---- */

/* ---- float32 ---- */

/* float32 CONV_2D (depth_multiplier 0) and DEPTHWISE_CONV_2D (float_conv.c):
 * in[0] [N, H, W, C] -> out [N, OH, OW, OC]. */
typedef struct {
    int32_t in_dims[4], out_dims[4];
    int32_t kh, kw, depth_multiplier;
    int32_t stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
    float act_min, act_max;
    const float *filter; /* [OC, KH, KW, C] or, depthwise, [1, KH, KW, OC] */
    const float *bias;   /* [OC] or NULL */
} pexc_conv_f32_params;
pexc_status pexc_conv_f32(const pexc_conv_f32_params *p, const void *const *in, void *out);

/* float32 AVERAGE_POOL_2D / MAX_POOL_2D (float_conv.c). */
typedef struct {
    int32_t in_dims[4], out_dims[4];
    int32_t filter_h, filter_w, stride_h, stride_w, pad_top, pad_left, is_max;
    float act_min, act_max;
} pexc_pool_f32_params;
pexc_status pexc_pool_f32(const pexc_pool_f32_params *p, const void *const *in, void *out);

/* float32 ADD / SUB / MUL with broadcasting (float_elementwise.c). */
enum { PEXC_BIN_ADD = 0, PEXC_BIN_SUB = 1, PEXC_BIN_MUL = 2 };
typedef struct {
    int32_t op, rank;
    int32_t dims[6];               /* output extents */
    int32_t stride_a[6], stride_b[6]; /* element strides per output axis, 0 = broadcast */
    float act_min, act_max;
} pexc_binary_f32_params;
pexc_status pexc_binary_f32(const pexc_binary_f32_params *p, const void *const *in, void *out);

/* float32 RELU, RELU6, TANH, LOGISTIC over n elements (float_elementwise.c). */
enum { PEXC_UN_RELU = 0, PEXC_UN_RELU6 = 1, PEXC_UN_TANH = 2, PEXC_UN_LOGISTIC = 3 };
typedef struct {
    int32_t op, n;
} pexc_unary_f32_params;
pexc_status pexc_unary_f32(const pexc_unary_f32_params *p, const void *const *in, void *out);

/* float32 SOFTMAX over the innermost axis (float_elementwise.c). */
typedef struct {
    int32_t outer, depth;
    float beta;
} pexc_softmax_f32_params;
pexc_status pexc_softmax_f32(const pexc_softmax_f32_params *p, const void *const *in, void *out);

/* ---- int16 ---- */

/* ---- audio front end: TFLM's signal library (signal_*.c) ----
 * Whole-tensor kernels of the signal-library custom operators, each the
 * exact integer arithmetic of TFLM's kernel, state taken as freshly reset
 * (a noise estimate of zero): one call is one Invoke() of a new
 * interpreter. uint32/uint64 tensors are the operators' own types. */

/* SignalWindow (signal_spectrum.c): out[i] = in[i] * w[i % len] >> shift,
 * saturated to int16; in[0] int16 [n] (n a multiple of len), in[1] int16
 * window [len]; shift in [0, 31]. */
typedef struct {
    int32_t n, len, shift;
} pexc_signal_window_params;
pexc_status pexc_signal_window_s16(const pexc_signal_window_params *p, const void *const *in, void *out);

/* SignalFftAutoScale (signal_spectrum.c): the left shift s that brings the
 * largest |in[i]| of in[0] int16 [n] to bit 14 (0 when it is there or
 * above); part 0 writes in[i] << s as int16 [n], part 1 writes s as one
 * int32. */
typedef struct {
    int32_t n, part;
} pexc_signal_fft_auto_scale_params;
pexc_status pexc_signal_fft_auto_scale_s16(const pexc_signal_fft_auto_scale_params *p, const void *const *in,
                                           void *out);

/* SignalRfft, int16 (signal_rfft.c): per frame of in_len samples of in[0]
 * int16 [frames * in_len] (zero-padded to fft_length), the fft_length / 2
 * + 1 complex bins (int16 real, imaginary pairs) of kissfft's fixed-point
 * real FFT, frames * (fft_length + 2) int16 out. factors are kissfft's
 * radices and stage lengths (radix 2 to 5), twiddles [fft_length / 2][2]
 * and super_twiddles [fft_length / 4][2] its Q15 tables. */
typedef struct {
    int32_t fft_length, in_len, frames, n_factors;
    int32_t factors[64];          /* radix, stage length, ... (n_factors pairs) */
    const int16_t *twiddles;
    const int16_t *super_twiddles;
} pexc_signal_rfft_params;
pexc_status pexc_signal_rfft_s16(const pexc_signal_rfft_params *p, const void *const *in, void *out);

/* SignalEnergy (signal_spectrum.c): out[i] = re^2 + im^2 (uint32) of bin i
 * of in[0] (int16 pairs) for i in [start, end); the other n_out - (end -
 * start) outputs, which TFLM leaves as the arena held them, are 0. */
typedef struct {
    int32_t start, end, n_out;
} pexc_signal_energy_params;
pexc_status pexc_signal_energy_s16(const pexc_signal_energy_params *p, const void *const *in, void *out);

/* SignalFilterBank (signal_filterbank.c): num_channels triangular channels
 * of in[0] uint32 spectrum, uint64 out [n_out <= num_channels]; in[1]
 * weights and in[2] unweights int16, in[3] channel frequency starts, in[4]
 * weight starts, in[5] widths int16 [num_channels + 1] (every index checked
 * against the arrays by the compiler). */
typedef struct {
    int32_t num_channels, n_out;
} pexc_signal_filter_bank_params;
pexc_status pexc_signal_filter_bank(const pexc_signal_filter_bank_params *p, const void *const *in, void *out);

/* SignalFilterBankSquareRoot (signal_filterbank.c): out[i] (uint32) =
 * rounded sqrt(in[0][i]) (uint64) >> in[1][0] (int32 scale bits, 0 for a
 * shift outside [0, 31]), n channels. */
typedef struct {
    int32_t n;
} pexc_signal_sqrt_params;
pexc_status pexc_signal_filter_bank_sqrt(const pexc_signal_sqrt_params *p, const void *const *in, void *out);

/* SignalFilterBankSpectralSubtraction (signal_filterbank.c) from a zero
 * noise estimate: in[0] uint32 [n]; part 0 writes the signal less the
 * estimate (uint32 [n]), part 1 the updated estimate (uint32 [n]). Bits:
 * smoothing_bits < 32, spectral_subtraction_bits < 64. */
typedef struct {
    int32_t n, part;
    uint32_t smoothing, one_minus_smoothing, alternate_smoothing, alternate_one_minus_smoothing;
    uint32_t min_signal_remaining, smoothing_bits, spectral_subtraction_bits, clamping;
} pexc_signal_spectral_subtraction_params;
pexc_status pexc_signal_spectral_subtraction(const pexc_signal_spectral_subtraction_params *p,
                                             const void *const *in, void *out);

/* SignalPCAN (signal_filterbank.c): per-channel automatic gain control of
 * in[0] uint32 [n] by the noise estimate in[1] uint32 [n] through the gain
 * table in[2] int16 [>= 125]; uint32 out [n]; snr_shift in [0, 63]. */
typedef struct {
    int32_t n, snr_shift;
} pexc_signal_pcan_params;
pexc_status pexc_signal_pcan(const pexc_signal_pcan_params *p, const void *const *in, void *out);

/* SignalFilterBankLog (signal_filterbank.c): out[i] (int16) = min(32767,
 * output_scale * ln(in[0][i] << correction_bits)), 0 when the shifted
 * value is 0 or 1; correction_bits < 32. */
typedef struct {
    int32_t n;
    uint32_t output_scale, correction_bits;
} pexc_signal_log_params;
pexc_status pexc_signal_filter_bank_log(const pexc_signal_log_params *p, const void *const *in, void *out);

/* int32 ADD, SUB, MUL, DIV, MINIMUM, MAXIMUM with broadcasting (int_arith.c):
 * out = clamp(a op b) over rank <= 6 output extents, operands read through
 * element strides (0 along a broadcast axis). Overflow wraps; DIV
 * truncates, by a divisor the compiler checked is never 0. */
enum {
    PEXC_ARITH_ADD = 0, PEXC_ARITH_MUL = 1, PEXC_ARITH_DIV = 2, PEXC_ARITH_MIN = 3, PEXC_ARITH_MAX = 4,
    PEXC_ARITH_SUB = 5,
};
typedef struct {
    int32_t op, rank;
    int32_t dims[6];
    int32_t stride_a[6], stride_b[6];
    int32_t act_min, act_max;
} pexc_arith_s32_params;
pexc_status pexc_arith_s32(const pexc_arith_s32_params *p, const void *const *in, void *out);

/* CAST between integer types (int_arith.c): n elements of in[0] converted
 * as C converts them (wrapping to the narrower type); from / to are
 * PEXC_INT_* codes. */
enum { PEXC_INT_S8 = 0, PEXC_INT_S16 = 1, PEXC_INT_S32 = 2, PEXC_INT_U32 = 3, PEXC_INT_BOOL = 4 };
typedef struct {
    int32_t n, from, to;
} pexc_cast_int_params;
pexc_status pexc_cast_int(const pexc_cast_int_params *p, const void *const *in, void *out);

/* STRIDED_SLICE's copy (strided_copy.c): out, written in order, takes for
 * every index (i0..i4) < count the element of in[0] at sum over axes of
 * (start[a] + i_a * step[a]) * in_stride[a], all in elements of elem_size
 * bytes (1, 2, 4 or 8). */
typedef struct {
    int32_t elem_size;
    int32_t start[5], step[5], count[5], in_stride[5];
} pexc_strided_copy_params;
pexc_status pexc_strided_copy(const pexc_strided_copy_params *p, const void *const *in, void *out);

#ifdef __cplusplus
}
#endif
#endif /* PEXC_KERNELS_H */
