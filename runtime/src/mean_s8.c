/*
 * MEAN int8 over H and W, as TFLite Micro evaluates it for int8 tensors.
 *
 * TFLM sums the raw int8 values of each (n, c) in int32, removes the input
 * zero point once (sum - input_zp * count), and applies a single
 * requantisation whose multiplier prepare has already divided by the count:
 * 1/count is folded into the multiplier instead of rounding a division. It
 * takes this path even when input and output quantisation are identical
 * (checked against the TFLM interpreter), so the mean rounds to nearest
 * rather than truncating. Each output depends on one channel only, so any
 * channel tile gives the same bytes.
 */
#include "pexc_kernels.h"

static int view_ok(const pexc_view *v, const pexc_tile *t) {
    if (!v || !v->data) return 0;
    if (v->n < 1 || v->h < 1 || v->w < 1 || v->c < 1) return 0;
    if (v->c_stored < 1 || v->c_begin < 0 || v->c_begin + v->c_stored > v->c) return 0;
    if (t->c0 < t->c1 && (t->c0 < v->c_begin || t->c1 > v->c_begin + v->c_stored)) return 0;
    return v->ring_px >= 0;
}

/**
 * @brief int8 mean over the spatial axes for output channels [t->c0, t->c1).
 *
 * in: [N, H, W, C] int8, out: [N, 1, 1, C] int8. The tile's rows must be
 * [0, 1) (or empty). All H input rows must be readable through the input
 * view (a ring view needs ring_px >= H * W). p comes from prep_mean_s8 with
 * num_elements = H * W; shift in [-31, 30].
 */
pexc_status pexc_mean_hw_s8(const pexc_mean_params *p, const pexc_view *in,
                            const pexc_tile *t, pexc_view *out) {
    if (!p || !t || !view_ok(in, t) || !view_ok(out, t)) return PEXC_ERR_ARG;
    if (out->h != 1 || out->w != 1 || in->n != out->n || in->c != out->c)
        return PEXC_ERR_ARG;
    if (!pexc_tile_valid(t, out)) return PEXC_ERR_ARG;
    if (in->ring_px != 0 && (int64_t)in->ring_px < (int64_t)in->h * in->w) return PEXC_ERR_ARG;
    if (p->shift < -31 || p->shift > 30) return PEXC_ERR_ARG;
    if (t->y0 == t->y1) return PEXC_OK;
    const int64_t count = (int64_t)in->h * in->w;
    for (int32_t n = 0; n < out->n; n++)
        for (int32_t c = t->c0; c < t->c1; c++) {
            int32_t sum = 0;
            for (int32_t y = 0; y < in->h; y++)
                for (int32_t x = 0; x < in->w; x++) sum += PEXC_AT_S8(in, n, y, x, c);
            /* TFLite computes this in 64 bits and narrows to int32. */
            int32_t shifted = (int32_t)(uint32_t)((int64_t)sum - (int64_t)p->input_zp * count);
            int32_t r = pexc_requant(shifted, p->multiplier, p->shift) + p->output_zp;
            if (r < -128) r = -128;
            if (r > 127) r = 127;
            PEXC_AT_S8(out, n, 0, 0, c) = (int8_t)r;
        }
    return PEXC_OK;
}
