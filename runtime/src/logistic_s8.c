/*
 * LOGISTIC int8 -> int8, bit-exact with TFLite's reference integer logistic.
 *
 * The offset input is first compared with input_range_radius: beyond it the
 * sigmoid saturates to -128 / 127 in the 1/256 output scale. Inside, the
 * input is rescaled to Q4.27 (input_multiplier / input_left_shift fold the
 * input scale in) and gemmlowp's fixed-point logistic evaluates
 * 1 / (1 + exp(-|x|)) with the same exp and Newton-Raphson reciprocal the
 * softmax uses, mirrored for negative x. The Q0.31 result is shifted down to
 * 1/256 steps and offset by -128.
 */
#include "pexc_kernels.h"

/* gemmlowp logistic: a in Q4.27, result in Q0.31. */
static int32_t fixed_logistic_q4(int32_t a) {
    if (a == 0) return 1 << 30;
    int32_t abs_a = a > 0 ? a : -a;
    int32_t pos = pexc_one_over_one_plus_x(pexc_exp_on_negative(-abs_a, 4));
    return a > 0 ? pos : INT32_MAX - pos;
}

static int view_ok(const pexc_view *v, const pexc_tile *t) {
    if (!v || !v->data) return 0;
    if (v->n < 1 || v->h < 1 || v->w < 1 || v->c < 1) return 0;
    if (v->c_stored < 1 || v->c_begin < 0 || v->c_begin + v->c_stored > v->c) return 0;
    if (t->c0 < t->c1 && (t->c0 < v->c_begin || t->c1 > v->c_begin + v->c_stored)) return 0;
    return v->ring_px >= 0;
}

/**
 * @brief int8 logistic (sigmoid) over the output pixels of tile t.
 *
 * in: [N, H, W, C] int8, out: same shape int8 with scale 1/256, zero point
 * -128. p comes from prep_logistic_s8 (input_left_shift in [-31, 30]).
 */
pexc_status pexc_logistic_s8(const pexc_logistic_params *p,
                             const pexc_view *in, const pexc_tile *t,
                             pexc_view *out) {
    if (!p || !t || !view_ok(in, t) || !view_ok(out, t)) return PEXC_ERR_ARG;
    if (in->n != out->n || in->h != out->h || in->w != out->w || in->c != out->c)
        return PEXC_ERR_ARG;
    /* The tile fits the output (a ring output holds it); a ring input holds
     * the same pixels. */
    if (!pexc_tile_valid(t, out) || !pexc_window_fits(in, 1, 1, 0, 0, 1, 1, out->w, t))
        return PEXC_ERR_ARG;
    if (p->input_left_shift < -31 || p->input_left_shift > 30) return PEXC_ERR_ARG;
    for (int32_t n = 0; n < out->n; n++)
        for (int32_t y = t->y0; y < t->y1; y++)
            for (int32_t x = pexc_tile_xb(t, y); x < pexc_tile_xe(t, y, out->w); x++)
                for (int32_t c = t->c0; c < t->c1; c++) {
                    int32_t v = PEXC_AT_S8(in, n, y, x, c) - p->input_zero_point;
                    int32_t r;
                    if (v <= -p->input_range_radius) {
                        r = -128;
                    } else if (v >= p->input_range_radius) {
                        r = 127;
                    } else {
                        int32_t q4 = pexc_requant(v, p->input_multiplier, p->input_left_shift);
                        r = pexc_rdivpot(fixed_logistic_q4(q4), 31 - 8) - 128;
                        if (r > 127) r = 127;
                        if (r < -128) r = -128;
                    }
                    PEXC_AT_S8(out, n, y, x, c) = (int8_t)r;
                }
    return PEXC_OK;
}
