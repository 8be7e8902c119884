/*
 * CUMSUM as TFLite Micro's reference kernel: each line along the axis is
 * summed in order (from its end when reversed), and an exclusive sum writes
 * the total before adding the element. The int8 form rescales every input
 * as ADD does (offset, << 20, a multiplier of one half) and starts its
 * int32 sum from the rescaled input offset, not from zero, exactly as TFLM;
 * every partial sum is requantised to the output on its own.
 */
#include "pexc_kernels.h"

static int cumsum_ok(const pexc_cumsum_params *p, const void *const *in, const void *out) {
    return p && in && in[0] && out && p->before >= 1 && p->axis >= 1 && p->after >= 1;
}

/* Offset of element k of line (b, a) along the axis, in summation order. */
static size_t cumsum_at(const pexc_cumsum_params *p, size_t b, size_t a, size_t k) {
    size_t n = (size_t)p->axis;
    if (p->reverse) {
        b = (size_t)p->before - 1 - b;
        a = (size_t)p->after - 1 - a;
        k = n - 1 - k;
    }
    return (b * n + k) * (size_t)p->after + a;
}

pexc_status pexc_cumsum_s8(const pexc_cumsum_params *p, const void *const *in, void *out) {
    if (!cumsum_ok(p, in, out) || p->input_shift > 0 || p->input_shift < -31 || p->output_shift > 0 ||
        p->output_shift < -31)
        return PEXC_ERR_ARG;
    const int8_t *x = in[0];
    int8_t *y = out;
    for (size_t a = 0; a < (size_t)p->after; a++)
        for (size_t b = 0; b < (size_t)p->before; b++) {
            int32_t acc = pexc_requant((int32_t)((uint32_t)p->input_offset << 20), p->input_multiplier, p->input_shift);
            for (size_t k = 0; k < (size_t)p->axis; k++) {
                size_t i = cumsum_at(p, b, a, k);
                int32_t v = pexc_requant((int32_t)((uint32_t)(x[i] + p->input_offset) << 20), p->input_multiplier,
                                         p->input_shift);
                int32_t s = acc;
                acc = (int32_t)((uint32_t)acc + (uint32_t)v);
                if (!p->exclusive) s = acc;
                int32_t o = pexc_requant(s, p->output_multiplier, p->output_shift) + p->output_offset;
                y[i] = (int8_t)(o < -128 ? -128 : o > 127 ? 127 : o);
            }
        }
    return PEXC_OK;
}

pexc_status pexc_cumsum_f32(const pexc_cumsum_params *p, const void *const *in, void *out) {
    if (!cumsum_ok(p, in, out)) return PEXC_ERR_ARG;
    const float *x = in[0];
    float *y = out;
    for (size_t a = 0; a < (size_t)p->after; a++)
        for (size_t b = 0; b < (size_t)p->before; b++) {
            float acc = 0.0f;
            for (size_t k = 0; k < (size_t)p->axis; k++) {
                size_t i = cumsum_at(p, b, a, k);
                if (p->exclusive) {
                    y[i] = acc;
                    acc = acc + x[i];
                } else {
                    acc = acc + x[i];
                    y[i] = acc;
                }
            }
        }
    return PEXC_OK;
}
