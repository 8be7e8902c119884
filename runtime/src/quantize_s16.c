/*
 * QUANTIZE and DEQUANTIZE with an int16 side, as TFLM's reference kernels:
 * float -> int16 rounds x / scale (in float, half away from zero) and adds
 * the zero point; integer -> integer is TFLM's Requantize ((x - in_zp)
 * requantised by a Q31 multiplier, + out_zp, clamped to the output type);
 * int16 -> float is scale * (x - zp) in double, rounded once to float.
 */
#include "pexc_kernels.h"

static int32_t load(int32_t type, const void *p, int32_t i) {
    return type == PEXC_Q_S8 ? ((const int8_t *)p)[i] : ((const int16_t *)p)[i];
}

/**
 * @brief QUANTIZE / DEQUANTIZE over p->n elements between p->in_type and
 * p->out_type (PEXC_Q_S8, _S16, _F32; at least one side int16).
 */
pexc_status pexc_quantize_s16(const pexc_quantize_s16_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out) return PEXC_ERR_ARG;
    const void *x = in[0];
    const int32_t lo = p->out_type == PEXC_Q_S8 ? INT8_MIN : INT16_MIN;
    const int32_t hi = p->out_type == PEXC_Q_S8 ? INT8_MAX : INT16_MAX;
    for (int32_t i = 0; i < p->n; i++) {
        int32_t v;
        if (p->out_type == PEXC_Q_F32) {
            const int32_t d = load(p->in_type, x, i) - p->in_zp;
            ((float *)out)[i] = (float)((double)p->scale * (double)d);
            continue;
        }
        if (p->in_type == PEXC_Q_F32) {
            const int32_t q = pexc_f32_to_i32_x86(pexc_round_half_away_f32(((const float *)x)[i] / p->scale));
            v = (int32_t)((uint32_t)q + (uint32_t)p->out_zp);
        } else {
            v = pexc_requant(load(p->in_type, x, i) - p->in_zp, p->mult, p->shift) + p->out_zp;
        }
        v = v < lo ? lo : v > hi ? hi : v;
        if (p->out_type == PEXC_Q_S8) ((int8_t *)out)[i] = (int8_t)v;
        else ((int16_t *)out)[i] = (int16_t)v;
    }
    return PEXC_OK;
}
