/*
 * Element-wise int8 operators: ADD and MUL with NHWC broadcasting, and the
 * QUANTIZE / DEQUANTIZE family (int8 -> int8 requantisation, float32 -> int8,
 * int8 -> float32).
 *
 * ADD follows TFLite's integer scheme: both operands are moved onto a common
 * scale by shifting them left by left_shift (20 for int8, so they gain
 * precision) and multiplying each by a Q31 multiplier that is at most 1/2,
 * then the sum is brought to the output scale by a third multiplier. All
 * three multiplications use the "smaller than one" form of TFLite's
 * requantisation (the shift is a pure right shift). MUL multiplies the two
 * offset operands and requantises the product once.
 *
 * Broadcasting: out fixes the logical shape [N, H, W, C]; an operand whose
 * extent along an axis is 1 is read at index 0 along it, any other extent
 * must equal the output's. A broadcast operand's channel 0 must be stored.
 *
 * Every kernel here computes the output pixels of its tile (a raster range,
 * see pexc_tile) and reads operands through pexc_view_index, so operands and
 * output may be pixel rings whose rows wrap mid-row. A ring operand must hold
 * every pixel of its own the tile reads.
 */
#include "pexc_kernels.h"
#include "mve_kernels.h"
#include "pexc_pix2.h"

static int view_ok(const pexc_view *v) {
    if (!v || !v->data) return 0;
    if (v->n < 1 || v->h < 1 || v->w < 1 || v->c < 1) return 0;
    if (v->c_stored < 1 || v->c_begin < 0 || v->c_begin + v->c_stored > v->c) return 0;
    return v->ring_px >= 0;
}

/* v stores the channels tile t needs: [c0, c1), or channel 0 if broadcast. */
static int view_covers(const pexc_view *v, const pexc_tile *t) {
    if (t->c0 >= t->c1) return 1;
    int32_t lo = v->c == 1 ? 0 : t->c0, hi = v->c == 1 ? 1 : t->c1;
    return lo >= v->c_begin && hi <= v->c_begin + v->c_stored;
}

static int tile_ok(const pexc_tile *t, const pexc_view *out) {
    return t && pexc_tile_valid(t, out);
}

static int bcast_ok(const pexc_view *in, const pexc_view *out) {
    return (in->n == out->n || in->n == 1) && (in->h == out->h || in->h == 1) &&
           (in->w == out->w || in->w == 1) && (in->c == out->c || in->c == 1);
}

/* A ring operand holds the pixels the tile reads: output (y, x) reads the
 * operand's (y, x), or row / column 0 along a broadcast axis, i.e. a 1 x 1
 * window with stride 1, or stride 0 where broadcast. */
static int ring_ok(const pexc_view *in, const pexc_tile *t, const pexc_view *out) {
    return pexc_window_fits(in, in->h == 1 ? 0 : 1, in->w == 1 ? 0 : 1, 0, 0, 1, 1, out->w, t);
}

/* Same logical shape, channels of t stored in both: the unary-op check. */
static int unary_ok(const pexc_view *in, const pexc_tile *t, const pexc_view *out) {
    if (!view_ok(in) || !view_ok(out) || !tile_ok(t, out)) return 0;
    if (in->n != out->n || in->h != out->h || in->w != out->w || in->c != out->c) return 0;
    return view_covers(in, t) && view_covers(out, t) && ring_ok(in, t, out);
}

static int binary_ok(const pexc_view *in1, const pexc_view *in2,
                     const pexc_tile *t, const pexc_view *out) {
    if (!view_ok(in1) || !view_ok(in2) || !view_ok(out) || !tile_ok(t, out)) return 0;
    if (!bcast_ok(in1, out) || !bcast_ok(in2, out)) return 0;
    return view_covers(in1, t) && view_covers(in2, t) && view_covers(out, t) &&
           ring_ok(in1, t, out) && ring_ok(in2, t, out);
}

/* Logical index of output coordinate along an operand axis of extent e. */
#define BC(e, i) ((e) == 1 ? 0 : (i))

/* TFLite MultiplyByQuantizedMultiplierSmallerThanOneExp (shift <= 0). */
static int32_t requant_le1(int32_t x, int32_t mult, int32_t shift) {
    return pexc_rdivpot(pexc_srdhm(x, mult), -shift);
}

static int32_t clamp(int32_t v, int32_t lo, int32_t hi) {
    return v < lo ? lo : (v > hi ? hi : v);
}

/* ---- ADD in a few instructions per element --------------------------------
 *
 * Each of ADD's three rescalings is TFLite's doubling high multiply followed
 * by a rounding right shift (requant_le1). With left_shift <= 21 every value
 * multiplied is below 2^30 in magnitude: an operand is at most 255 << 21 <
 * 2^29, and each rescaled operand is at most half of that (its multiplier is
 * at most 1/2), so their sum is too. Then the doubling high multiply is one
 * rounding high multiply of the doubled value (pexc_mulhr, SMMULR on the
 * Cortex-M4), and the rounding shift by r, round half away from zero, is
 * (h + (h < 0 ? -1 : 0) + 2^(r-1)) >> r for r >= 1 and h itself for r = 0:
 * the same integers as the long form (pexc_scale_le1_x2), with the
 * operand's offset and left shift folded into one add per element. Kernel
 * tests compare both forms (tests/kernels/test_requant_short.c for the
 * rescaling at rounding ties, test_elementwise.c for the kernel) on the
 * host and on the M4. */
static void add_fast(const pexc_add_params *p, const pexc_view *in1, const pexc_view *in2, const pexc_tile *t,
                     pexc_view *out) {
    const pexc_scale_le1 s1 = pexc_scale_le1_of(p->input1_mult, p->input1_shift);
    const pexc_scale_le1 s2 = pexc_scale_le1_of(p->input2_mult, p->input2_shift);
    const pexc_scale_le1 so = pexc_scale_le1_of(p->output_mult, p->output_shift);
    const int32_t sh = p->left_shift + 1; /* the operand doubled on the common scale */
    const int32_t k1 = (int32_t)((uint32_t)p->input1_offset << sh), k2 = (int32_t)((uint32_t)p->input2_offset << sh);
    const int32_t zo = p->output_offset, lo = p->act_min, hi = p->act_max;
    const size_t d1 = in1->c == 1 ? 0 : 1, d2 = in2->c == 1 ? 0 : 1; /* a broadcast channel stays */
    for (int32_t n = 0; n < out->n; n++)
        for (int32_t y = t->y0; y < t->y1; y++)
            for (int32_t x = pexc_tile_xb(t, y); x < pexc_tile_xe(t, y, out->w); x++) {
                const pexc_pix2 it = pexc_pix2_at(in1, in2, out, n, y, x, t->c0);
                /* a pixel's channels are adjacent in every view */
                const int8_t *a = it.a, *b = it.b;
                int8_t *o = it.o;
                for (int32_t c = t->c0; c < t->c1; c++, a += d1, b += d2) {
                    const int32_t sa = pexc_scale_le1_x2(&s1, (int32_t)((uint32_t)*a << sh) + k1);
                    const int32_t sb = pexc_scale_le1_x2(&s2, (int32_t)((uint32_t)*b << sh) + k2);
                    *o++ = (int8_t)clamp(pexc_scale_le1_x2(&so, (int32_t)((uint32_t)(sa + sb) << 1)) + zo, lo, hi);
                }
            }
}

/**
 * @brief int8 ADD with broadcasting over tile t of the output.
 *
 * in1, in2: [N1, H1, W1, C1], [N2, H2, W2, C2] int8, each extent 1 or equal
 * to the output's; out: [N, H, W, C] int8. Shifts in p must be in [-31, 0],
 * left_shift in [0, 30] (TFLite's preconditions, which prep_add_s8 ensures).
 */
pexc_status pexc_add_s8(const pexc_add_params *p, const pexc_view *in1,
                        const pexc_view *in2, const pexc_tile *t,
                        pexc_view *out) {
    if (!p || !binary_ok(in1, in2, t, out)) return PEXC_ERR_ARG;
    if (p->left_shift < 0 || p->left_shift > 30) return PEXC_ERR_ARG;
    if (p->input1_shift > 0 || p->input1_shift < -31 || p->input2_shift > 0 ||
        p->input2_shift < -31 || p->output_shift > 0 || p->output_shift < -31)
        return PEXC_ERR_ARG;
#ifdef PEXC_MVE
    if (pexc_mve_add_s8(p, in1, in2, t, out)) return PEXC_OK;
#endif
    if (p->left_shift <= 21) {
        add_fast(p, in1, in2, t, out);
        return PEXC_OK;
    }
    for (int32_t n = 0; n < out->n; n++)
        for (int32_t y = t->y0; y < t->y1; y++)
            for (int32_t x = pexc_tile_xb(t, y); x < pexc_tile_xe(t, y, out->w); x++)
                for (int32_t c = t->c0; c < t->c1; c++) {
                    int32_t a = p->input1_offset +
                                PEXC_AT_S8(in1, BC(in1->n, n), BC(in1->h, y), BC(in1->w, x), BC(in1->c, c));
                    int32_t b = p->input2_offset +
                                PEXC_AT_S8(in2, BC(in2->n, n), BC(in2->h, y), BC(in2->w, x), BC(in2->c, c));
                    /* |a|, |b| <= 255, so the shift by 20 stays in range. */
                    int32_t sa = requant_le1((int32_t)((uint32_t)a << p->left_shift),
                                             p->input1_mult, p->input1_shift);
                    int32_t sb = requant_le1((int32_t)((uint32_t)b << p->left_shift),
                                             p->input2_mult, p->input2_shift);
                    int32_t r = requant_le1(sa + sb, p->output_mult, p->output_shift) +
                                p->output_offset;
                    PEXC_AT_S8(out, n, y, x, c) = (int8_t)clamp(r, p->act_min, p->act_max);
                }
    return PEXC_OK;
}

/**
 * @brief int8 MUL with broadcasting over tile t of the output.
 *
 * Shapes as pexc_add_s8. out = clamp(requant((a + off1) * (b + off2)) + off_out).
 */
pexc_status pexc_mul_s8(const pexc_mul_params *p, const pexc_view *in1,
                        const pexc_view *in2, const pexc_tile *t,
                        pexc_view *out) {
    if (!p || !binary_ok(in1, in2, t, out)) return PEXC_ERR_ARG;
    if (p->output_shift < -31 || p->output_shift > 30) return PEXC_ERR_ARG;
    for (int32_t n = 0; n < out->n; n++)
        for (int32_t y = t->y0; y < t->y1; y++)
            for (int32_t x = pexc_tile_xb(t, y); x < pexc_tile_xe(t, y, out->w); x++)
                for (int32_t c = t->c0; c < t->c1; c++) {
                    int32_t a = p->input1_offset +
                                PEXC_AT_S8(in1, BC(in1->n, n), BC(in1->h, y), BC(in1->w, x), BC(in1->c, c));
                    int32_t b = p->input2_offset +
                                PEXC_AT_S8(in2, BC(in2->n, n), BC(in2->h, y), BC(in2->w, x), BC(in2->c, c));
                    int32_t r = pexc_requant(a * b, p->output_mult, p->output_shift) +
                                p->output_offset;
                    PEXC_AT_S8(out, n, y, x, c) = (int8_t)clamp(r, p->act_min, p->act_max);
                }
    return PEXC_OK;
}

/**
 * @brief int8 -> int8 requantisation (QUANTIZE with an int8 input).
 *
 * in, out: [N, H, W, C] int8 of the same logical shape.
 * out = clamp(requant(in - input_zp) + output_zp, -128, 127).
 */
pexc_status pexc_requantize_s8(const pexc_requantize_params *p,
                               const pexc_view *in, const pexc_tile *t,
                               pexc_view *out) {
    if (!p || !unary_ok(in, t, out)) return PEXC_ERR_ARG;
    if (p->shift < -31 || p->shift > 30) return PEXC_ERR_ARG;
    for (int32_t n = 0; n < out->n; n++)
        for (int32_t y = t->y0; y < t->y1; y++)
            for (int32_t x = pexc_tile_xb(t, y); x < pexc_tile_xe(t, y, out->w); x++)
                for (int32_t c = t->c0; c < t->c1; c++) {
                    int32_t v = PEXC_AT_S8(in, n, y, x, c) - p->input_zp;
                    int32_t r = pexc_requant(v, p->multiplier, p->shift) + p->output_zp;
                    PEXC_AT_S8(out, n, y, x, c) = (int8_t)clamp(r, -128, 127);
                }
    return PEXC_OK;
}

/**
 * @brief QUANTIZE float32 -> int8 (TFLite AffineQuantize).
 *
 * in: [N, H, W, C] float32, out: same shape int8.
 * out = clamp(round_half_away(in / scale) + zero_point, -128, 127), with the
 * division done in float as TFLite does.
 */
pexc_status pexc_quantize_f32_s8(float scale, int32_t zero_point,
                                 const pexc_view *in, const pexc_tile *t,
                                 pexc_view *out) {
    if (!unary_ok(in, t, out) || !(scale > 0.0f)) return PEXC_ERR_ARG;
    for (int32_t n = 0; n < out->n; n++)
        for (int32_t y = t->y0; y < t->y1; y++)
            for (int32_t x = pexc_tile_xb(t, y); x < pexc_tile_xe(t, y, out->w); x++)
                for (int32_t c = t->c0; c < t->c1; c++) {
                    float v = PEXC_AT_F32(in, n, y, x, c);
                    int32_t q = pexc_f32_to_i32_x86(pexc_round_half_away_f32(v / scale));
                    int32_t r = (int32_t)((uint32_t)q + (uint32_t)zero_point);
                    PEXC_AT_S8(out, n, y, x, c) = (int8_t)clamp(r, -128, 127);
                }
    return PEXC_OK;
}

/**
 * @brief DEQUANTIZE int8 -> float32 (TFLite reference Dequantize).
 *
 * in: [N, H, W, C] int8, out: same shape float32.
 * out = (float)((double)scale * (in - zero_point)).
 */
pexc_status pexc_dequantize_s8_f32(float scale, int32_t zero_point,
                                   const pexc_view *in, const pexc_tile *t,
                                   pexc_view *out) {
    if (!unary_ok(in, t, out)) return PEXC_ERR_ARG;
    for (int32_t n = 0; n < out->n; n++)
        for (int32_t y = t->y0; y < t->y1; y++)
            for (int32_t x = pexc_tile_xb(t, y); x < pexc_tile_xe(t, y, out->w); x++)
                for (int32_t c = t->c0; c < t->c1; c++) {
                    int32_t v = PEXC_AT_S8(in, n, y, x, c) - zero_point;
                    PEXC_AT_F32(out, n, y, x, c) = (float)((double)scale * (double)v);
                }
    return PEXC_OK;
}
