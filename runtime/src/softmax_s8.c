/*
 * SOFTMAX int8 -> int8, bit-exact with TFLite's reference quantised softmax
 * (the one TFLite Micro runs for int8), which is integer-only and built on
 * gemmlowp's fixed-point exp and reciprocal.
 *
 * For one row of C logits q[c]:
 *   1. d[c] = q[c] - max(q) is in [-255, 0]. Entries with d < diff_min are
 *      treated as exp = 0 (they would underflow the 5 integer bits below).
 *   2. d is rescaled to a Q5.26 fixed-point number: d * 2^left_shift times
 *      the Q31 input_multiplier (beta * input_scale folded in by prepare).
 *   3. exp(d) is computed in Q0.31 by gemmlowp's exp_on_negative_values:
 *      a 4th-order polynomial on [-1/4, 0) times a product of constant
 *      factors exp(-2^k) selected by the bits of the remaining integer part.
 *   4. The exps are summed in Q12.19, the sum's reciprocal is computed with
 *      Newton-Raphson (one_over_one_plus_x_for_x_in_0_1) after normalising
 *      the sum into [1, 2), and each output is exp * reciprocal shifted to
 *      a 1/256 scale and offset by -128.
 * Every rounding (saturating doubling high multiply, rounding shifts) is
 * TFLite's, so the bytes match.
 */
#include "pexc_kernels.h"

static int view_ok(const pexc_view *v) {
    if (!v || !v->data) return 0;
    if (v->n < 1 || v->h < 1 || v->w < 1 || v->c < 1) return 0;
    if (v->c_begin != 0 || v->c_stored != v->c) return 0; /* whole channel axis */
    return v->ring_px >= 0;
}

/**
 * @brief int8 softmax over the channel axis for the output pixels of tile t.
 *
 * in: [N, H, W, C] int8 (any scale), out: [N, H, W, C] int8 with scale 1/256
 * and zero point -128. Both views must store all C channels and the tile's
 * channel range must be [0, C). p comes from prep_softmax_s8:
 * input_left_shift in [0, 30], diff_min <= 0.
 * @return PEXC_ERR_UNSUPPORTED for a row whose exps sum to 512 or more (only
 *         possible with C >= 512), where TFLite's arithmetic is undefined.
 */
pexc_status pexc_softmax_s8(const pexc_softmax_params *p, const pexc_view *in,
                            const pexc_tile *t, pexc_view *out) {
    if (!p || !t || !view_ok(in) || !view_ok(out)) return PEXC_ERR_ARG;
    if (in->n != out->n || in->h != out->h || in->w != out->w || in->c != out->c)
        return PEXC_ERR_ARG;
    /* The tile fits the output (a ring output holds it); a ring input holds
     * the same pixels. */
    if (!pexc_tile_valid(t, out) || !pexc_window_fits(in, 1, 1, 0, 0, 1, 1, out->w, t))
        return PEXC_ERR_ARG;
    if (t->c0 != 0 || t->c1 != out->c) return PEXC_ERR_ARG;
    if (p->input_left_shift < 0 || p->input_left_shift > 30 || p->diff_min > 0)
        return PEXC_ERR_ARG;
    const int32_t depth = out->c;
    for (int32_t n = 0; n < out->n; n++)
        for (int32_t y = t->y0; y < t->y1; y++)
            for (int32_t x = pexc_tile_xb(t, y); x < pexc_tile_xe(t, y, out->w); x++) {
                const int8_t *row = &PEXC_AT_S8(in, n, y, x, 0);
                int8_t *dst = &PEXC_AT_S8(out, n, y, x, 0);
                int32_t max = -128;
                for (int32_t c = 0; c < depth; c++)
                    if (row[c] > max) max = row[c];
                /* Sum of exps in Q12.19; wraps like TFLite's int32 adds. */
                uint32_t sum = 0;
                for (int32_t c = 0; c < depth; c++) {
                    int32_t diff = row[c] - max;
                    if (diff < p->diff_min) continue;
                    int32_t scaled = pexc_srdhm(
                        (int32_t)((uint32_t)diff << p->input_left_shift), p->input_multiplier);
                    sum += (uint32_t)pexc_rdivpot(pexc_exp_on_negative(scaled, 5), 12);
                }
                /* GetReciprocal: normalise the sum into [1, 2). */
                int32_t headroom = 0;
                while (headroom < 32 && !(sum & (UINT32_C(0x80000000) >> headroom))) headroom++;
                if (headroom == 32) return PEXC_ERR_ARG; /* unreachable: max contributes */
                int32_t bits_over_unit = 12 - headroom;
                int32_t recip = pexc_one_over_one_plus_x(
                    (int32_t)((sum << headroom) - UINT32_C(0x80000000)));
                int32_t out_shift = bits_over_unit + 31 - 8;
                /* A row whose exps sum to 512 or more (hundreds of logits near
                 * the maximum) needs a shift beyond 31, which TFLite does not
                 * define (the TFLM interpreter aborts on it). */
                if (out_shift > 31) return PEXC_ERR_UNSUPPORTED;
                for (int32_t c = 0; c < depth; c++) {
                    int32_t diff = row[c] - max;
                    int32_t v = -128;
                    if (diff >= p->diff_min) {
                        int32_t scaled = pexc_srdhm(
                            (int32_t)((uint32_t)diff << p->input_left_shift), p->input_multiplier);
                        int32_t e = pexc_exp_on_negative(scaled, 5);
                        v = pexc_rdivpot(pexc_srdhm(recip, e), out_shift) - 128;
                        if (v > 127) v = 127;
                        if (v < -128) v = -128;
                    }
                    dst[c] = (int8_t)v;
                }
            }
    return PEXC_OK;
}
