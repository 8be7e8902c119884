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
/* 2 / (1 + a) for a in [0, 1] as Q0.31; result Q2.29, before any rescaling
 * (what both gemmlowp divisions start from). */
int32_t pexc_two_over_one_plus_x(int32_t a);

/* std::round for floats (half away from zero) without libm, for QUANTIZE
 * from float. Values of magnitude >= 2^23, infinities and NaN are returned
 * unchanged. */
static inline float pexc_round_half_away_f32(float v) {
    if (!(v > -8388608.0f && v < 8388608.0f)) return v;
    float t = (float)(int32_t)v; /* truncation; v - t is exact */
    float d = v - t;
    if (d >= 0.5f) t += 1.0f;
    else if (d <= -0.5f) t -= 1.0f;
    return t;
}

/* float -> int32 as x86 converts it: out of range or NaN gives INT32_MIN
 * (TFLite casts without a range check, so this is what its host build does). */
static inline int32_t pexc_f32_to_i32_x86(float v) {
    if (!(v >= -2147483648.0f && v < 2147483648.0f)) return INT32_MIN;
    return (int32_t)v;
}

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
    /* [Cout] rounding constants of the short requantisation, or NULL for
     * the long form: set only where the compiler proved the short form
     * exact for the layer (pexc_requant_short, prep_short_requant). */
    const int32_t *out_round;
    /* Depthwise layers with one input channel: nonzero when the compiler
     * laid the filter out [Cout, kh, kw] (a convolution's layout) so each
     * output channel's taps are adjacent (pexc_gather_tile);
     * PEXC_FILTER_GATHER_IL4 (below) for a gathered layer's filter in
     * four-unit blocks, convolutions included. */
    int32_t filter_by_channel;
} pexc_conv_params;

/* filter_by_channel of a layer whose windows are gathered (pexc_gather_tile:
 * a convolution with one input channel and kh * kw <= PEXC_GATHER_MAX, or a
 * depthwise layer with filter_by_channel): its filter, [Cout][kh * kw * Cin],
 * laid out in four-unit blocks (pexc_fc_il4_index with Cout units and
 * kh * kw * Cin depth). The compiler sets it in emitted code only; the
 * partial-sum forms refuse it. */
#define PEXC_FILTER_GATHER_IL4 2

/* Largest window (kh * kw) of a one-input-channel layer gathered per pixel
 * (bytes of stack; pexc_gather_tile). */
#define PEXC_GATHER_MAX 128

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

/* The short requantisation: TFLite's bytes in about half the
 * instructions of pexc_requant_inline, for sums the compiler has proved
 * small. With |x| < 2^30 the doubled product 2x * m fits the rounding high
 * multiply (SMMULR on a core with the DSP extension):
 *
 *     h = floor((2x * m + 2^31) / 2^32) = floor((x * m + 2^30) / 2^31),
 *
 * which is TFLite's SaturatingRoundingDoublingHighMul (see
 * pexc_requant_inline; it cannot saturate, m being positive). TFLite's final
 * divide by 2^r rounds half away from zero, floor((h + 2^(r-1) - [h < 0]) /
 * 2^r), and adding the output zero point z before the shift as z * 2^r
 * changes nothing but saves an add; so with round = 2^(r-1) + z * 2^r
 * (computed offline, prep_short_requant) the result is
 *
 *     (h + (h >> 31) + round) >> r  =  requant(x) + z.
 *
 * The compiler sets out_round only when, for every channel, |x| < 2^30 is
 * proved from the weights, bias and input zero point, r >= 1 (shift <= -1)
 * and h + (h >> 31) + round cannot overflow; otherwise the layer keeps the
 * long form. Kernel tests compare the two on random and extreme values. */
/* floor((a * b + 2^31) / 2^32) for any int32 a, b: the rounding high
 * multiply (one SMMULR with the DSP extension, its plain twin otherwise).
 * For |x| < 2^30, pexc_mulhr(2x, m) is TFLite's doubling high multiply of
 * x and m (m != INT32_MIN). */
static inline int32_t pexc_mulhr(int32_t a, int32_t b) {
#if defined(__ARM_FEATURE_DSP) && !defined(PEXC_NO_DSP)
    int32_t h;
    __asm__("smmulr %0, %1, %2" : "=r"(h) : "r"(a), "r"(b));
    return h;
#else
    return (int32_t)(((int64_t)a * b + (INT64_C(1) << 31)) >> 32);
#endif
}

static inline int32_t pexc_requant_short(int32_t x, int32_t multiplier, int32_t shift, int32_t round) {
    const int32_t h = pexc_mulhr((int32_t)((uint32_t)x << 1), multiplier);
    return (h + (h >> 31) + round) >> -shift;
}

/* TFLite's MultiplyByQuantizedMultiplierSmallerThanOneExp (a doubling high
 * multiply, then a rounding right shift by r = -shift >= 0) of x, given
 * x2 = 2x with |x| < 2^30: the high multiply as in pexc_requant_short, the
 * shift as (h + (h < 0 ? -1 : 0) + 2^(r-1)) >> r, or h for r = 0 (mask and
 * round 0). The fields are the per-call constants. */
typedef struct {
    int32_t mult, r, mask, round;
} pexc_scale_le1;

static inline pexc_scale_le1 pexc_scale_le1_of(int32_t mult, int32_t shift) {
    pexc_scale_le1 s = {mult, -shift, shift < 0 ? -1 : 0,
                        shift < 0 ? (int32_t)(UINT32_C(1) << (-shift - 1)) : 0};
    return s;
}

static inline int32_t pexc_scale_le1_x2(const pexc_scale_le1 *s, int32_t x2) {
    const int32_t h = pexc_mulhr(x2, s->mult);
    return (h + ((h >> 31) & s->mask) + s->round) >> s->r;
}

/* The requantisation fields of a pexc_conv_params copied into locals, for
 * loops that store int8 outputs: an int8 store may alias anything, so a loop
 * reading the fields through the params pointer reloads them after each. */
typedef struct {
    const int32_t *mult, *shift, *round;
    int32_t output_offset, act_min, act_max;
} pexc_out_q;

static inline pexc_out_q pexc_out_q_of(const pexc_conv_params *p) {
    pexc_out_q q = {p->out_mult, p->out_shift, p->out_round, p->output_offset, p->act_min, p->act_max};
    return q;
}

/* int32 sum (bias included) of output channel oc -> int8 output value. */
static inline int8_t pexc_out_q_s8(const pexc_out_q *q, int32_t acc, int32_t oc) {
    if (q->round)
        acc = pexc_requant_short(acc, q->mult[oc], q->shift[oc], q->round[oc]);
    else
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

/* The same two kernels over weights laid out in four-unit blocks
 * (fully_connected_il.c, where the layout is described): weight (u, d) of
 * a [units, depth] matrix sits at pexc_fc_il4_index(units, depth, u, d).
 * The compiler lays constant weights out so where the faster kernel pays.
 * The weights must be word-aligned for the Arm DSP loop (others take the
 * plain loop). */
static inline size_t pexc_fc_il4_index(int32_t units, int32_t depth, int32_t u, int32_t d) {
    const size_t dd = (size_t)depth, dq = dd & ~(size_t)3, ud = (size_t)d;
    if (u >= (units & ~3)) return (size_t)u * dd + ud; /* the last units % 4 rows: row-major */
    const size_t base = (size_t)(u & ~3) * dd, r = (size_t)(u & 3);
    if (ud < dq) return base + (ud >> 2) * 16u + r * 4u + (ud & 3u);
    return base + dq * 4u + r * (dd - dq) + (ud - dq);
}
pexc_status pexc_fully_connected_s8_il(const pexc_conv_params *p, int32_t filter_offset, const pexc_view *in,
                                       const int8_t *weights, const int32_t *bias, const pexc_tile *t,
                                       pexc_view *out);
pexc_status pexc_fully_connected_s8_il_acc(const pexc_conv_params *p, int32_t filter_offset, const pexc_view *in,
                                           const int8_t *weights, int32_t d0, int32_t d1, int first,
                                           const pexc_tile *t, pexc_view *acc);

/* float32 fully connected (hello_world_float). act_min/act_max clamp. */
pexc_status pexc_fully_connected_f32(float act_min, float act_max,
                                     const pexc_view *in, const float *weights,
                                     const float *bias, const pexc_tile *t,
                                     pexc_view *out);
/* Its two parts for a streamed input (fully_connected_f32_acc.c): float
 * partial sums over input depth [d0, d1) (first: start from 0.0f), the
 * steps covering the depth in increasing order, then bias and clamp; the
 * same bytes as pexc_fully_connected_f32. acc: [B, 1, 1, units] float. */
pexc_status pexc_fully_connected_f32_acc(const pexc_view *in, const float *weights, int32_t d0, int32_t d1, int first,
                                         const pexc_tile *t, pexc_view *acc);
pexc_status pexc_fully_connected_f32_finish(float act_min, float act_max, const float *bias, const pexc_view *acc,
                                            const pexc_tile *t, pexc_view *out);

/* ---------------------------------------------------------------------------
 * Pooling (int8, input and output share scale and zero point).
 * ------------------------------------------------------------------------- */
typedef struct {
    int32_t stride_h, stride_w;
    int32_t filter_h, filter_w;
    int32_t pad_top, pad_left;
    int32_t act_min, act_max;
    /* nonzero: the partial sums of pexc_avg_pool_s8_acc / _finish are
     * int16, not int32; only for windows of at most 256 taps, whose sums
     * of int8 values lie in [-32768, 32512] */
    int32_t acc16;
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

/* The same on a whole tensor for a function TFLM refuses on inputs below
 * min_input (lut_checked_s8.c): PEXC_ERR_ARG at the first such input, as
 * TFLM's Invoke fails there. table: 256 int8 outputs, index input + 128. */
typedef struct {
    const int8_t *table;
    int32_t min_input; /* [-128, 127] */
    int32_t n;         /* elements of the input and of the output */
} pexc_lut_checked_params;

pexc_status pexc_lut_checked_s8(const pexc_lut_checked_params *p, const void *const *in, void *out);

/* ---- element-wise binary (binary_*.c) ----
 * One broadcasting walk for every element-wise operator of two or more
 * operands (binary_walk.c) and one kernel per element type that supplies
 * the arithmetic of a run of outputs. The compiler folds the operands'
 * broadcast shapes into at most 6 axes and gives each operand an element
 * stride per output axis (0 along a broadcast axis), so the device does no
 * shape arithmetic. Whole contiguous tensors, row-major. */

#define PEXC_BINARY_MAX_RANK 6

typedef enum {
    PEXC_BIN_ADD = 0,
    PEXC_BIN_SUB,
    PEXC_BIN_MUL,
    PEXC_BIN_SQDIFF,    /* SQUARED_DIFFERENCE */
    PEXC_BIN_MIN,
    PEXC_BIN_MAX,
    PEXC_BIN_DIV,
    PEXC_BIN_PRELU,     /* in[0] the input, in[1] alpha */
    PEXC_BIN_EQ,        /* comparisons: uint8 (bool) output 0 or 1 */
    PEXC_BIN_NE,
    PEXC_BIN_LT,
    PEXC_BIN_LE,
    PEXC_BIN_GT,
    PEXC_BIN_GE,
    PEXC_BIN_AND,       /* bool operands */
    PEXC_BIN_OR,
    PEXC_BIN_SELECT,    /* SELECT_V2: in[0] bool condition, in[1] if true, in[2] if false */
    PEXC_BIN_ADD_N,     /* n_in operands of the output's shape (stride[0] for all) */
    PEXC_BIN_FLOOR_DIV, /* float32 only */
    PEXC_BIN_FLOOR_MOD, /* float32 only */
} pexc_binary_op;

/* What a kernel needs of an operator; the fields an operator does not use
 * are 0. Quantised arithmetic follows TFLite's reference kernels:
 *   ADD, SUB, ADD_N: each operand (x + in_offset[k]) << left_shift is
 *     scaled by in_mult/in_shift[k] (shift <= 0), summed or subtracted, and
 *     the result scaled by out_mult/out_shift (<= 0), plus out_offset;
 *   SQUARED_DIFFERENCE: the same with the difference squared and a general
 *     out_mult/out_shift;
 *   MUL: (x + in_offset[0]) * (y + in_offset[1]) by out_mult/out_shift;
 *   DIV: (x + in_offset[0]) / (y + in_offset[1]) by TFLite's reciprocal;
 *   PRELU: x + in_offset[0] >= 0 ? scaled by out_mult/out_shift :
 *     (x + in_offset[0]) * (alpha + in_offset[1]) by out_mult2/out_shift2;
 *   comparisons of int8 operands: both (x + in_offset[k]) << left_shift
 *     (8) scaled by in_mult/in_shift[k], then compared; with left_shift 0
 *     the raw values are compared (bool, int16, float operands);
 *   MIN, MAX, SELECT, AND, OR: raw values;
 *   float32 operators: one IEEE operation per element as TFLite writes it.
 * Results are clamped to [act_min, act_max] (integer outputs) or
 * [act_min_f, act_max_f] (float ADD, SUB, MUL, DIV). */
typedef struct {
    int32_t op;                                   /* pexc_binary_op */
    int32_t n_in;                                 /* operands read: 2, 3 (SELECT), N (ADD_N) */
    int32_t rank;                                 /* output axes after folding, 1..6 */
    int32_t dims[PEXC_BINARY_MAX_RANK];           /* output extents, outermost first */
    int32_t stride[3][PEXC_BINARY_MAX_RANK];      /* operand k's element step per axis */
    int32_t in_offset[2], out_offset;             /* -input zero points, output zero point */
    int32_t left_shift;
    int32_t in_mult[2], in_shift[2];
    int32_t out_mult, out_shift;
    int32_t out_mult2, out_shift2;                /* PRELU, negative inputs */
    int32_t act_min, act_max;
    float act_min_f, act_max_f;
} pexc_binary_params;

/* Calls row(p, in, idx, step, out, o, n) for each innermost run of the
 * output: n outputs from output element o, operand k's elements from idx[k]
 * in steps of step[k] (0: one element broadcast along the run). */
typedef void (*pexc_binary_row_fn)(const pexc_binary_params *p, const void *const *in, const size_t *idx,
                                   const int32_t *step, void *out, size_t o, int32_t n);
pexc_status pexc_binary_walk(const pexc_binary_params *p, const void *const *in, void *out, pexc_binary_row_fn row);

/* int8 operands (bool for AND, OR, SELECT's condition and bool EQ/NE),
 * int8 output (bool for comparisons and logical operators). */
pexc_status pexc_binary_s8(const pexc_binary_params *p, const void *const *in, void *out);
/* int16 operands and output, zero points 0 (any for ADD and SUB): ADD and
 * SUB (left shift 15), SQUARED_DIFFERENCE (left shift 0), MUL, MINIMUM,
 * MAXIMUM, SELECT_V2. */
pexc_status pexc_binary_s16(const pexc_binary_params *p, const void *const *in, void *out);
/* float32 operands and output (bool for comparisons; SELECT_V2's
 * condition bool): ADD, SUB, MUL, DIV (clamped to [act_min_f, act_max_f]),
 * SQUARED_DIFFERENCE, MINIMUM, MAXIMUM, comparisons, SELECT_V2, ADD_N,
 * PRELU, FLOOR_DIV (PEXC_ERR_ARG when a divisor is 0, as TFLM fails),
 * FLOOR_MOD. */
pexc_status pexc_binary_f32(const pexc_binary_params *p, const void *const *in, void *out);

/* ---- data movement (move_*.c) ---- */

/* The one kernel behind nearly every data-movement operator (move_table.c):
 * out[i] = in[base + sum over axes d of contrib_d(i_d)] over the output's
 * multi-index (i_0, ..., i_{rank-1}), row-major. An axis contributes
 * i_d * stride when it has no table, else table[i_d] (or, for an axis
 * paired with an outer axis p, table[i_p * ext + i_d]); a table entry
 * PEXC_MOVE_PAD means "no input element here": the output element takes
 * the pad value. Offsets and strides count elements. The compiler computes
 * every table and proves every offset in range; the kernel does no shape
 * arithmetic. */
#define PEXC_MOVE_MAX_AXES 8
#define PEXC_MOVE_PAD INT32_MIN

typedef struct {
    int32_t ext;          /* output extent, >= 1 */
    int32_t stride;       /* input offset per index when table is NULL (may be 0 or negative) */
    const int32_t *table; /* NULL, or ext (x ext of the pair axis) offsets or PEXC_MOVE_PAD */
    int32_t pair;         /* -1, or an outer axis whose index selects a row of table */
} pexc_move_axis;

typedef struct {
    int32_t rank;         /* axes, 1..PEXC_MOVE_MAX_AXES */
    int32_t elem_size;    /* bytes per element: 1, 2 or 4 */
    int32_t base;         /* input offset of output element 0 before the axes' parts */
    int32_t sel_axis;     /* -1: read in[0]; else an axis (not the last) whose index picks in[i] */
    int32_t pad_input;    /* -1: pad with pad[]; else in[pad_input][0] is the pad value */
    uint8_t pad[4];       /* pad value bytes (little-endian element) */
    pexc_move_axis axis[PEXC_MOVE_MAX_AXES];
} pexc_move_params;

/**
 * @brief Table-driven copy of elements from in[] to out (see above).
 *
 * in: whole contiguous tensors (several only with sel_axis); out: the whole
 * output, prod(ext) elements, which must not overlap an input.
 */
pexc_status pexc_move(const pexc_move_params *p, const void *const *in, void *out);

/* GATHER with indices read at run time (move_index.c): for every batch b,
 * outer o and coordinate j, out[b][o][j][:] = in[0][b][o][idx[b][j]][:],
 * with inner_bytes bytes per [:] and idx = in[1] (int32, [batch][coords]).
 * An index outside [0, axis_size) gives PEXC_ERR_ARG (TFLM's
 * EMBEDDING_LOOKUP errors there too). */
typedef struct {
    int32_t batch, outer, axis_size, coords;
    int32_t inner_bytes;
    /* 0: rows are copied; else int8 rows become float32 rows of
     * (float)v * dequant_scale (EMBEDDING_LOOKUP of int8 values into a
     * float output; zero point 0) */
    float dequant_scale;
} pexc_gather_params;
pexc_status pexc_gather(const pexc_gather_params *p, const void *const *in, void *out);

/* GATHER_ND with indices read at run time (move_index.c): in[0] params
 * (flat_elems elements), in[1] int32 indices [n_slices][nd]. Slice i starts
 * at flat element sum_j idx[i][j] * dim_count[j] and has slice_elems
 * elements; a slice outside [0, flat_elems) gives PEXC_ERR_ARG, as TFLM. */
typedef struct {
    int32_t n_slices, nd, slice_elems, flat_elems, elem_size;
    int32_t dim_count[5];
} pexc_gather_nd_params;
pexc_status pexc_gather_nd(const pexc_gather_nd_params *p, const void *const *in, void *out);

/* A compile-time constant output (move_fill.c): the pattern's bytes
 * repeated over out's bytes (SHAPE, BROADCAST_ARGS, FILL of a constant,
 * ZEROS_LIKE). bytes is a multiple of pattern_bytes. */
typedef struct {
    int32_t bytes, pattern_bytes;
    const uint8_t *pattern;
} pexc_move_fill_params;
pexc_status pexc_move_fill(const pexc_move_fill_params *p, const void *const *in, void *out);

/* CAST (move_cast.c): count elements of type from converted to type to, as
 * TFLM's reference gives them: int -> narrower int wraps, float -> int
 * truncates toward zero and saturates at the target type's limits (NaN
 * gives 0), bool is 0 or 1 in and out (any non-zero value, NaN too, is
 * true). Types: PEXC_CAST_* below. */
enum { PEXC_CAST_F32 = 0, PEXC_CAST_I32 = 2, PEXC_CAST_BOOL = 6, PEXC_CAST_I16 = 7, PEXC_CAST_I8 = 9 };
typedef struct {
    int32_t count, from, to;
} pexc_cast_params;
pexc_status pexc_cast(const pexc_cast_params *p, const void *const *in, void *out);

/* ---- reductions (reduce_*.c) ---- */

/* A reduction over any set of axes of a tensor of rank <= 6, seen as two
 * nested index spaces: the kept axes (outermost first) number the outputs in
 * row-major order, and for each output the reduced axes (outermost first)
 * number its inputs in the order TFLite visits them. Adjacent axes of the
 * same kind are merged by the compiler, so n_keep, n_red <= 3 in practice.
 * Strides are in input elements. n_keep == 0: one output; n_red == 0: each
 * output reads one input (a requantising copy). */
#define PEXC_REDUCE_RANK 6
enum {
    PEXC_REDUCE_SUM = 0,  /* int8: requantised sum (MEAN folds 1/count into the multiplier) */
    PEXC_REDUCE_MEAN = 1, /* float: sum / count */
    PEXC_REDUCE_MAX = 2,
    PEXC_REDUCE_MIN = 3,
    PEXC_REDUCE_ALL = 4,  /* bool */
};
typedef struct {
    int32_t op;                           /* PEXC_REDUCE_* */
    int32_t n_keep, n_red;
    int32_t keep_ext[PEXC_REDUCE_RANK], keep_stride[PEXC_REDUCE_RANK];
    int32_t red_ext[PEXC_REDUCE_RANK], red_stride[PEXC_REDUCE_RANK];
    int32_t count;                        /* inputs per output (product of red_ext) */
    int32_t input_zp, output_zp;          /* int8 SUM */
    int32_t multiplier, shift;            /* int8 SUM: Q31, shift in [-31, 30] */
} pexc_reduce_params;

/**
 * @brief MEAN / SUM / REDUCE_MAX / REDUCE_MIN of an int8 tensor (reduce.c).
 *
 * in[0]: the input, int8, row-major; out: int8, the outputs in row-major
 * order of the kept axes. SUM: out = clamp(requant(sum - input_zp * count)
 * + output_zp) with TFLite's int32 sum (wrapping); MAX/MIN: the raw extreme
 * (input and output share their quantisation).
 */
pexc_status pexc_reduce_s8(const pexc_reduce_params *p, const void *const *in, void *out);
/** float32 SUM, MEAN (sum / count), MAX, MIN, adding in TFLite's order. */
pexc_status pexc_reduce_f32(const pexc_reduce_params *p, const void *const *in, void *out);
/** bool (one byte, 0 or 1) REDUCE_ALL. */
pexc_status pexc_reduce_bool(const pexc_reduce_params *p, const void *const *in, void *out);

/* ARG_MAX / ARG_MIN along one axis: the input seen as [outer, axis, inner]
 * (row-major); out[o * inner + i] = the first index along the axis holding
 * the largest (smallest) value, int32 (arg_minmax.c). */
typedef struct {
    int32_t outer, axis, inner;
    int32_t is_max;
} pexc_arg_params;
pexc_status pexc_arg_minmax_s8(const pexc_arg_params *p, const void *const *in, void *out);
pexc_status pexc_arg_minmax_f32(const pexc_arg_params *p, const void *const *in, void *out);

/* LOG_SOFTMAX int8 over the last axis (log_softmax_s8.c): the input as
 * [outer, depth] rows; output scale 16/256, zero point 127. The fields are
 * TFLM's Prepare results: the input multiplier and left shift moving input
 * differences to Q5.26, the reverse scaling (multiplier, shift <= 0 in
 * pexc_requant's sign convention) and diff_min. */
typedef struct {
    int32_t outer, depth;
    int32_t input_multiplier, input_left_shift;
    int32_t reverse_multiplier, reverse_shift;
    int32_t diff_min;
} pexc_log_softmax_params;
pexc_status pexc_log_softmax_s8(const pexc_log_softmax_params *p, const void *const *in, void *out);

/* L2_NORMALIZATION int8 over the last axis (l2_norm_s8.c): rows of depth
 * values; each output is (x - input_zp) / ||row|| in Q7 (scale 1/128, zero
 * point 0, whatever the output tensor says: TFLM writes that fixed format). */
typedef struct {
    int32_t outer, depth;
    int32_t input_zp;
} pexc_l2_norm_params;
pexc_status pexc_l2_norm_s8(const pexc_l2_norm_params *p, const void *const *in, void *out);
/** float32: x / max(sqrt(sum of squares), 1e-6), summed in order (l2_norm.c). */
pexc_status pexc_l2_norm_f32(const pexc_l2_norm_params *p, const void *const *in, void *out);
/* Correctly rounded float square root without libm (sqrt_f32.c): the bits
 * of IEEE sqrt, so of std::sqrt in TFLite's float kernels. */
float pexc_sqrt_f32(float x);

/* L2_POOL_2D float32 (l2_pool_f32.c): sqrt of the mean of squares over the
 * window taps inside the input, then the fused activation clamp. in[0]
 * [N, H, W, C], out [N, OH, OW, C]. */
typedef struct {
    int32_t n, h, w, c, out_h, out_w;
    int32_t filter_h, filter_w, stride_h, stride_w, pad_top, pad_left;
    float act_min, act_max;
} pexc_l2_pool_params;
pexc_status pexc_l2_pool_f32(const pexc_l2_pool_params *p, const void *const *in, void *out);

/* CUMSUM along one axis (cumsum.c): the tensor as [before, axis, after]
 * row-major; exclusive: each output leaves out its own input; reverse: sums
 * run from the end. int8 follows TFLM: values rescaled like ADD's inputs
 * (offset, << 20, input multiplier), summed in int32 from the rescaled input
 * offset, each partial sum requantised (both shifts <= 0). */
typedef struct {
    int32_t before, axis, after;
    int32_t exclusive, reverse;
    int32_t input_offset, input_multiplier, input_shift;
    int32_t output_offset, output_multiplier, output_shift;
} pexc_cumsum_params;
pexc_status pexc_cumsum_s8(const pexc_cumsum_params *p, const void *const *in, void *out);
pexc_status pexc_cumsum_f32(const pexc_cumsum_params *p, const void *const *in, void *out);

/* ---- resize, transpose conv, batch matmul ---- */

/* RESIZE_BILINEAR of an [N, H, W, C] tensor to [N, OH, OW, C]
 * (resize_bilinear.c). scale_y/scale_x: the source step per output pixel,
 * in 1/1024 for int8 (TFLite's integer kernel) and as float bits for
 * float32; half_pixel: sample at pixel centres. */
typedef struct {
    int32_t n, h, w, c, out_h, out_w;
    int32_t half_pixel;
    int32_t scale_y, scale_x;     /* int8: Q10 */
    float scale_yf, scale_xf;     /* float32 */
} pexc_resize_params;
/** int8: each output the four-tap sum in Q20 rounded half away from zero. */
pexc_status pexc_resize_bilinear_s8(const pexc_resize_params *p, const void *const *in, void *out);
/** float32, the reference kernel's float expression term by term. */
pexc_status pexc_resize_bilinear_f32(const pexc_resize_params *p, const void *const *in, void *out);

/* TRANSPOSE_CONV (transpose_conv.c): in[0] the input [N, H, W,
 * Cin], in[1] the filter [Cout, KH, KW, Cin] (int8 used raw, as TFLM does),
 * in[2] the bias [Cout] (int32 / float) when has_bias; out [N, OH, OW, Cout]. Input pixel
 * (y, x) tap (ky, kx) lands on output (y * stride_h - pad_top + ky,
 * x * stride_w - pad_left + kx); taps outside the output are dropped. */
typedef struct {
    int32_t n, h, w, cin, out_h, out_w, cout, kh, kw;
    int32_t stride_h, stride_w, pad_top, pad_left;
    int32_t has_bias;
    int32_t input_offset, output_offset, act_min, act_max;
    const int32_t *out_mult, *out_shift; /* [cout] */
    float act_min_f, act_max_f;          /* float32 */
} pexc_transpose_conv_params;
pexc_status pexc_transpose_conv_s8(const pexc_transpose_conv_params *p, const void *const *in, void *out);
/** float32: each output summed over its (input row,
 * input column, input channel) contributions in TFLM's scatter order, from
 * 0.0f, then the bias, then the activation clamp. */
pexc_status pexc_transpose_conv_f32(const pexc_transpose_conv_params *p, const void *const *in, void *out);

/* BATCH_MATMUL (batch_matmul.c): out[b] = lhs[b] x rhs[b] for the batch
 * index b of the output (broadcast: an operand's batch stride is 0 along an
 * axis where it has extent 1). in[0] lhs, in[1] rhs, row-major with the two
 * matrix axes last; adj_x / adj_y: that operand is stored transposed. out:
 * [batch..., rows, cols]. int8: (lhs - lhs_zp) . (rhs - rhs_zp) summed in
 * int32, requantised, plus output_zp, clamped. */
typedef struct {
    int32_t batch[3];                 /* output batch extents, outermost first */
    int32_t lhs_bstride[3], rhs_bstride[3]; /* elements */
    int32_t rows, cols, depth;
    int32_t adj_x, adj_y;
    int32_t lhs_offset, rhs_offset;   /* -zero points */
    int32_t output_offset, multiplier, shift;
} pexc_batch_matmul_params;
pexc_status pexc_batch_matmul_s8(const pexc_batch_matmul_params *p, const void *const *in, void *out);
/** float32: each output summed over depth in order from 0.0f. */
pexc_status pexc_batch_matmul_f32(const pexc_batch_matmul_params *p, const void *const *in, void *out);

/* ---- sequences, state ---- */

/* TFLite's int16 logistic and tanh of one value (sigmoid_s16.c): x scaled
 * by (x * multiplier + 2^(shift-1)) >> shift, then interpolated in TFLite's
 * sigmoid table. Logistic: output Q0.15 in [0, 32767]; tanh: Q0.15 in
 * [-32767, 32767]. Input Q3.12 for multiplier 3, shift 0. */
int16_t pexc_logistic_s16(int16_t x, int32_t multiplier, int32_t shift);
int16_t pexc_tanh_s16(int16_t x, int32_t multiplier, int32_t shift);

/* UNIDIRECTIONAL_SEQUENCE_LSTM, int8 activations and weights, int32 bias,
 * int16 cell state (lstm_s8.c), as TFLite Micro's integer LSTM: each gate
 * is an int8 x int8 fully-connected layer of the input plus one of the
 * previous hidden state, each requantised to int16 Q3.12 and added with
 * saturation, then logistic (tanh for the cell gate) to Q0.15; the cell
 * state and the hidden state are int16 / int8 products requantised to
 * their scales. Gates are numbered as TFLite's tensors: 0 input,
 * 1 forget, 2 cell, 3 output. Every multiplier and shift is computed by the
 * compiler (src/ops/seq.c). */
typedef struct {
    int32_t batches, steps;      /* B, T */
    int32_t time_major;          /* 1: rows in [T, B] order; 0: [B, T] */
    int32_t n_input, n_state;    /* I, S */
    int32_t input_offset;        /* -input zero point */
    int32_t hidden_offset;       /* -hidden state zero point */
    int32_t in_mult[4], in_shift[4];   /* input FC sum -> Q3.12 */
    int32_t rec_mult[4], rec_shift[4]; /* recurrent FC sum -> Q3.12 */
    int32_t forget_mult, forget_shift; /* forget gate x cell -> cell */
    int32_t update_mult, update_shift; /* input gate x cell gate -> cell */
    int32_t hidden_mult, hidden_shift; /* tanh(cell) x output gate -> hidden */
    int32_t hidden_zp;
    int32_t tanh_mult, tanh_shift;     /* tanh of the cell state (its scale) */
    int32_t clip_on, cell_clip;        /* clip_on: |cell| <= cell_clip */
} pexc_lstm_s8_params;

/* in[0]: input [B*T, I] int8, rows in time-major or batch-major order;
 * in[1..4]: input weights [S, I], in[5..8]: recurrent weights [S, S] int8
 * (gates 0..3); in[9..12]: biases [S] int32; in[13]: hidden state [B, S]
 * int8 and in[14]: cell state [B, S] int16, the model's variable tensors,
 * read and updated in place (they carry over to the next call).
 * out: [B*T, S] int8, the hidden state after each step, same row order. */
pexc_status pexc_lstm_s8(const pexc_lstm_s8_params *p, const void *const *in, void *out);
/* Rows [q0, q1) of the same arithmetic (a streamed schedule's time steps):
 * the tile is a run of pixels of y, which sees the output as NHWC
 * [1, H, W, S] with H * W = B * T rows, one row per pixel; x sees the input
 * [1, H, W, I] the same way. Either may be a ring of pixels. in[] as for
 * pexc_lstm_s8 (in[0] unused). Rows run in order across calls. */
pexc_status pexc_lstm_s8_steps(const pexc_lstm_s8_params *p, const void *const *in, const pexc_view *x,
                               const pexc_tile *t, pexc_view *y);

/* x and y of a sequence kernel's step form: one row per pixel, H * W =
 * rows, every channel stored, and the tile (all channels of a run of
 * pixels) held at once by a ring input and output. */
static inline int pexc_seq_views_valid(const pexc_view *x, const pexc_view *y, const pexc_tile *t, int32_t rows,
                                       int32_t n_in, int32_t n_out) {
    if (!pexc_view_valid(x) || !pexc_view_valid(y) || !t) return 0;
    if (x->n != 1 || y->n != 1 || x->h != y->h || x->w != y->w || (int64_t)y->h * y->w != rows) return 0;
    if (x->c != n_in || x->c_begin != 0 || x->c_stored != n_in) return 0;
    if (y->c != n_out || y->c_begin != 0 || y->c_stored != n_out) return 0;
    if (!pexc_tile_valid(t, y) || t->c0 != 0 || t->c1 != n_out) return 0;
    return !x->ring_px || pexc_tile_pixels(t, y->w) <= x->ring_px;
}

/* The views and tile of a whole call of a sequence kernel: rows rows of
 * n_in inputs at x, of n_out outputs at y, as one row of pixels. */
static inline pexc_tile pexc_seq_whole(const void *x, void *y, int32_t rows, int32_t n_in, int32_t n_out,
                                       pexc_view *vx, pexc_view *vy) {
    const pexc_view a = {(void *)(uintptr_t)x, 1, 1, rows, n_in, 0, n_in, 0};
    const pexc_view b = {y, 1, 1, rows, n_out, 0, n_out, 0};
    const pexc_tile t = {0, 1, 0, n_out, 0, 0};
    *vx = a;
    *vy = b;
    return t;
}

/* The float32 UNIDIRECTIONAL_SEQUENCE_LSTM (lstm_f32.c), TFLite's reference
 * float arithmetic in its order: each gate's two fully-connected sums from
 * zero, the bias added last, logistic 1 / (1 + exp(-x)) with TFLite's
 * cut-offs, tanh, products and sums clamped to the finite floats as
 * TFLite's "no activation" range does. Same tensors as pexc_lstm_s8, all
 * float32. Build with -ffp-contract=off. */
typedef struct {
    int32_t batches, steps, time_major, n_input, n_state;
    uint32_t cell_clip_bits; /* IEEE-754 bits of the cell clip; clipping when > 0 */
} pexc_lstm_f32_params;

pexc_status pexc_lstm_f32(const pexc_lstm_f32_params *p, const void *const *in, void *out);
/* Rows [q0, q1), as pexc_lstm_s8_steps. */
pexc_status pexc_lstm_f32_steps(const pexc_lstm_f32_params *p, const void *const *in, const pexc_view *x,
                                const pexc_tile *t, pexc_view *y);

/* SVDF (svdf.c), TFLite Micro's kernels. in[0]: input [B, I]; in[1]:
 * feature weights [F, I]; in[2]: time weights [F, M]; in[3]: the state
 * [B, F * M], a variable tensor updated in place (row of M per filter,
 * oldest first); in[4]: bias [F / rank]. out: [B, F / rank].
 * int8: input and feature weights int8, time weights and state int8 or
 * int16 (state_bytes 1 or 2; the same for both), bias int32; each feature
 * sum (x - input zp) . w is requantised, clamped to the state type and
 * stored plus the state zero point; each unit's bias plus the time dot
 * products (w . (s - state zp)) of its rank filters is requantised, plus
 * the output zero point, clamped to int8. No fused activation (TFLM applies
 * none on this path). */
typedef struct {
    int32_t batches, n_input, n_filter, n_memory, rank; /* B, I, F, M */
    int32_t state_bytes;
    int32_t input_offset;               /* -input zero point */
    int32_t state_zp, output_zp;
    int32_t feature_mult, feature_shift; /* input x feature weights -> state */
    int32_t output_mult, output_shift;   /* state x time weights -> output */
} pexc_svdf_s8_params;
pexc_status pexc_svdf_s8(const pexc_svdf_s8_params *p, const void *const *in, void *out);

/* float32 SVDF, same tensors all float32; activation: TFLite's fused
 * activation code (0 none, 1 relu, 2 relu_n1_to_1, 3 relu6, 4 tanh,
 * 5 sign_bit). Build with -ffp-contract=off. */
typedef struct {
    int32_t batches, n_input, n_filter, n_memory, rank, activation;
} pexc_svdf_f32_params;
pexc_status pexc_svdf_f32(const pexc_svdf_f32_params *p, const void *const *in, void *out);


/* READ_VARIABLE and ASSIGN_VARIABLE (state_copy.c): in[0]'s bytes copied to
 * out, any type. The compiler has made each resource variable a buffer of
 * the plan (operator state), so reading is a copy out of it and assigning
 * a copy into it. */
typedef struct {
    int32_t bytes;
} pexc_state_copy_params;
pexc_status pexc_state_copy(const pexc_state_copy_params *p, const void *const *in, void *out);

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
typedef struct {
    int32_t op, rank;
    int32_t dims[6];               /* output extents */
    int32_t stride_a[6], stride_b[6]; /* element strides per output axis, 0 = broadcast */
    float act_min, act_max;
} pexc_binary_f32_params;
pexc_status pexc_arith_f32(const pexc_binary_f32_params *p, const void *const *in, void *out);

/* float32 element-wise functions over n elements (float_elementwise.c), each
 * the libm call or expression of TFLM's reference kernel: ROUND is to
 * nearest, ties to even; RSQRT is 1 / sqrtf(x). */
enum {
    PEXC_UN_RELU = 0, PEXC_UN_RELU6 = 1, PEXC_UN_TANH = 2, PEXC_UN_LOGISTIC = 3, PEXC_UN_EXP = 4, PEXC_UN_LOG = 5,
    PEXC_UN_SQRT = 6, PEXC_UN_RSQRT = 7, PEXC_UN_SIN = 8, PEXC_UN_COS = 9, PEXC_UN_SQUARE = 10, PEXC_UN_NEG = 11,
    PEXC_UN_FLOOR = 12, PEXC_UN_CEIL = 13, PEXC_UN_ROUND = 14, PEXC_UN_ABS = 15, PEXC_UN_ELU = 16
};
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

/* int16x8 kernels: 16-bit activations, 8-bit weights, as TFLite's
 * "16x8" quantisation makes them (int16 zero points 0, int64 biases). Each
 * computes a whole tensor, arithmetic exactly as TFLM's reference kernels. */

/* TFLM's 64-bit MultiplyByQuantizedMultiplier: the Q31 multiplier rounded to
 * Q15, x * m rounded at bit 15 - shift, truncated to int32 (x in
 * [-2^47, 2^47) for the result to mean anything; wraps like TFLM outside). */
int32_t pexc_requant_s64(int64_t x, int32_t multiplier, int32_t shift);
/* TFLM's LUTLookup of an int16 over a 513-entry table: entry 256 + (x >> 7)
 * and the next, interpolated by the low 7 bits. */
int16_t pexc_lut_lookup_s16(int16_t x, const int16_t *lut);

/* CONV_2D (depth_multiplier 0, filter [OC, KH, KW, filter_depth], groups of
 * filter_depth input channels) and DEPTHWISE_CONV_2D (filter [1, KH, KW, OC],
 * OC = C * depth_multiplier), int16 input [N, H, W, C] -> int16 output
 * [N, OH, OW, OC] (conv_s16.c). Zero points play no part (TFLM's 16x8
 * kernels take none). acc32: the sums, bias32 and requantisation are
 * int32 (TFLM's path for an int32 bias); else int64 with bias64. */
typedef struct {
    int32_t in_dims[4], out_dims[4];
    int32_t kh, kw, filter_depth, depth_multiplier;
    int32_t stride_h, stride_w, dilation_h, dilation_w, pad_top, pad_left;
    int32_t act_min, act_max, acc32;
    const int8_t *filter;
    const int64_t *bias64; /* [OC] or NULL */
    const int32_t *bias32; /* [OC] or NULL (acc32) */
    const int32_t *mult, *shift; /* [OC] */
} pexc_conv_s16_params;
pexc_status pexc_conv_s16(const pexc_conv_s16_params *p, const void *const *in, void *out);

/* FULLY_CONNECTED int16 [batches, depth] x int8 weights [units, depth] ->
 * int16 [batches, units] (fully_connected_s16.c): sum of
 * (w + filter_offset) * (x + input_offset), + bias, requantised per unit,
 * + output_offset; acc32 as for convolutions. */
typedef struct {
    int32_t batches, depth, units;
    int32_t input_offset, filter_offset, output_offset;
    int32_t act_min, act_max, acc32;
    const int8_t *weights;
    const int64_t *bias64; /* [units] or NULL */
    const int32_t *bias32; /* [units] or NULL (acc32) */
    const int32_t *mult, *shift; /* [units] */
} pexc_fully_connected_s16_params;
pexc_status pexc_fully_connected_s16(const pexc_fully_connected_s16_params *p, const void *const *in, void *out);

/* AVERAGE_POOL_2D / MAX_POOL_2D int16 (pool_s16.c): windows clipped to the
 * input; the average rounds half away from zero. */
typedef struct {
    int32_t in_dims[4], out_dims[4];
    int32_t filter_h, filter_w, stride_h, stride_w, pad_top, pad_left, is_max;
    int32_t act_min, act_max;
} pexc_pool_s16_params;
pexc_status pexc_pool_s16(const pexc_pool_s16_params *p, const void *const *in, void *out);

/* ADD / SUB (TFLM's general rescaling, left_shift 15) and MUL (product
 * requantised) of int16 tensors with broadcasting (binary_s16.c); op is
 * PEXC_BIN_ADD / _SUB / _MUL. Element strides per output axis (0 =
 * broadcast), rank <= 6. */

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

/* SignalFilterBankSpectralSubtraction (signal_filterbank.c), the signal
 * in[0] uint32 [n]. Part 1 updates the noise estimate in[1] uint32 [n] (the
 * state, kept across runs, written in place) and copies it to out; part 0,
 * run after it, writes the signal less that updated estimate (in[1]) to
 * out, uint32 [n]. Bits: smoothing_bits < 32, spectral_subtraction_bits
 * < 64. */
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

/* ADD / SUB (TFLM's general rescaling, left_shift 15) and MUL (product
 * requantised) of int16 tensors with broadcasting (arith_s16.c); op is
 * PEXC_BIN_ADD / _SUB / _MUL. Element strides per output axis (0 =
 * broadcast), rank <= 6. */
typedef struct {
    int32_t op, rank;
    int32_t dims[6];
    int32_t stride_a[6], stride_b[6];
    int32_t left_shift, input1_offset, input2_offset;
    int32_t input1_mult, input1_shift, input2_mult, input2_shift;
    int32_t output_mult, output_shift, output_offset;
    int32_t act_min, act_max;
} pexc_binary_s16_params;
pexc_status pexc_arith_s16(const pexc_binary_s16_params *p, const void *const *in, void *out);

/* SOFTMAX int16 -> int16 over the innermost axis (softmax_s16.c): output
 * scale 1/32768; exp and 1/(1+x) through two 513-entry tables the compiler
 * computes as TFLM's Prepare does. */
typedef struct {
    int32_t outer, depth;
    int32_t input_multiplier, input_left_shift;
    const int16_t *exp_lut, *recip_lut; /* [513] each */
} pexc_softmax_s16_params;
pexc_status pexc_softmax_s16(const pexc_softmax_s16_params *p, const void *const *in, void *out);

/* LOGISTIC and TANH int16 -> int16 over n elements (sigmoid_s16.c):
 * x * input_multiplier >> input_left_shift (rounded), then TFLM's 256-entry
 * sigmoid table, interpolated. Output scale 2^-15. */
typedef struct {
    int32_t n, is_tanh;
    int32_t input_multiplier, input_left_shift;
} pexc_sigmoid_s16_params;
pexc_status pexc_sigmoid_s16(const pexc_sigmoid_s16_params *p, const void *const *in, void *out);

/* QUANTIZE and DEQUANTIZE touching int16 over n elements (quantize_s16.c):
 * float32 -> int16 (round(x / scale) + out_zp), int16 or int8 -> int16 or
 * int8 (TFLM's Requantize: (x - in_zp) requantised + out_zp, clamped),
 * int16 -> float32 (scale * (x - in_zp) in double). */
enum { PEXC_Q_S8 = 0, PEXC_Q_S16 = 1, PEXC_Q_F32 = 2 };
typedef struct {
    int32_t n, in_type, out_type;
    int32_t in_zp, out_zp, mult, shift;
    float scale; /* float sides: the output's (quantize) or input's scale */
} pexc_quantize_s16_params;
pexc_status pexc_quantize_s16(const pexc_quantize_s16_params *p, const void *const *in, void *out);

/* MEAN / SUM of int16 over the axes in reduce_mask (bit k = axis k) of a
 * rank <= 6 tensor (reduce_s16.c): int32 sums, minus in_zp * count,
 * requantised, + out_zp. Outputs in the input's order with the reduced
 * axes removed. */
typedef struct {
    int32_t rank, reduce_mask;
    int32_t in_dims[6];
    int32_t count, in_zp, out_zp, mult, shift;
} pexc_reduce_s16_params;
pexc_status pexc_reduce_s16(const pexc_reduce_s16_params *p, const void *const *in, void *out);

/* PAD / PADV2 of int16 (pad_s16.c): out[i] = in[i - before] inside, value
 * elsewhere; NHWC dims (rank <= 4, leading 1s). */
typedef struct {
    int32_t in_dims[4], out_dims[4], before[4];
    int32_t value;
} pexc_pad_s16_params;
pexc_status pexc_pad_s16(const pexc_pad_s16_params *p, const void *const *in, void *out);

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

/* ---- the remaining small operators (src/ops/misc.c) ---- */

/* LOGICAL_NOT (logical_not.c): out[i] = 1 where in[0][i] is 0, else 0, over
 * n bools of one byte each. */
typedef struct {
    int32_t n;
} pexc_logical_not_params;
pexc_status pexc_logical_not(const pexc_logical_not_params *p, const void *const *in, void *out);

/* DYNAMIC_UPDATE_SLICE (dynamic_update_slice.c): out = in[0] (the operand,
 * dims[]) with the block in[1] (the update, upd_dims[], each extent at most
 * the operand's) written at the start indices in[2] (rank values, int32 when
 * index_bytes is 4, int64 when 8), each clamped at run time to
 * [0, dims[a] - upd_dims[a]] as TFLM clamps them. Elements are elem_size
 * bytes (1, 2 or 4); strides are in elements; rank 1..6. */
typedef struct {
    int32_t rank, elem_size, index_bytes;
    int32_t dims[6], upd_dims[6];
    int32_t out_stride[6];
    int32_t operand_elems, update_rows; /* update rows: its elements / upd_dims[rank - 1] */
} pexc_dynamic_update_slice_params;
pexc_status pexc_dynamic_update_slice(const pexc_dynamic_update_slice_params *p, const void *const *in, void *out);

/* expf, expm1f and tanhf with glibc's bits on any target (pexc_mathf.c):
 * TFLite's float kernels ran on glibc when the references were made. */
float pexc_expf(float x);
float pexc_expm1f(float x);
float pexc_tanhf(float x);

#ifdef __cplusplus
}
#endif
#endif /* PEXC_KERNELS_H */
