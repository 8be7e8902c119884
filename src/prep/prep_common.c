/* Quantisation parameters shared by every operator's prepare step. */
#include <float.h>
#include <math.h>

#include "prep/prep.h"

int prep_quantize_multiplier(double real_multiplier, int32_t *mult,
                             int32_t *shift) {
    if (!(real_multiplier >= 0.0) || isinf(real_multiplier)) return -1;
    if (real_multiplier == 0.0) {
        *mult = 0;
        *shift = 0;
        return 0;
    }
    int exp = 0;
    double q = frexp(real_multiplier, &exp);
    int64_t q_fixed = (int64_t)round(q * (double)(INT64_C(1) << 31));
    if (q_fixed == (INT64_C(1) << 31)) {
        q_fixed /= 2;
        ++exp;
    }
    if (exp < -31) {
        exp = 0;
        q_fixed = 0;
    }
    if (exp > 30) return -1; /* would overflow TFLite's left shift */
    *mult = (int32_t)q_fixed;
    *shift = exp;
    return 0;
}

/* zp + round(v / scale), saturated: a tiny scale must not overflow the cast
 * (the result only ever feeds an int8 clamp). */
static int32_t quantize_value(float v, float scale, int32_t zp) {
    float q = roundf(v / scale);
    if (!(q > -1e6f)) q = -1e6f;
    if (!(q < 1e6f)) q = 1e6f;
    return zp + (int32_t)q;
}

int prep_activation_s8(int32_t fused_activation, float out_scale, int32_t out_zp,
                       int32_t *act_min, int32_t *act_max) {
    int32_t lo = -128, hi = 127;
    if (!(out_scale > 0.0f)) return -1;
    switch (fused_activation) {
    case 0: break;
    case 1: /* RELU */
        lo = lo > quantize_value(0.0f, out_scale, out_zp) ? lo : quantize_value(0.0f, out_scale, out_zp);
        break;
    case 2: { /* RELU_N1_TO_1 */
        int32_t a = quantize_value(-1.0f, out_scale, out_zp);
        int32_t b = quantize_value(1.0f, out_scale, out_zp);
        lo = lo > a ? lo : a;
        hi = hi < b ? hi : b;
        break;
    }
    case 3: { /* RELU6 */
        int32_t a = quantize_value(0.0f, out_scale, out_zp);
        int32_t b = quantize_value(6.0f, out_scale, out_zp);
        lo = lo > a ? lo : a;
        hi = hi < b ? hi : b;
        break;
    }
    default: return -1;
    }
    *act_min = lo;
    *act_max = hi;
    return 0;
}

int prep_activation_f32(int32_t fused_activation, float *act_min,
                        float *act_max) {
    switch (fused_activation) {
    /* TFLite's CalculateActivationRange: the float type's lowest and max,
     * so an overflowed infinity clamps to FLT_MAX as it does there */
    case 0: *act_min = -FLT_MAX; *act_max = FLT_MAX; return 0;
    case 1: *act_min = 0.0f; *act_max = FLT_MAX; return 0;
    case 2: *act_min = -1.0f; *act_max = 1.0f; return 0;
    case 3: *act_min = 0.0f; *act_max = 6.0f; return 0;
    default: return -1;
    }
}

int prep_conv_multipliers(float in_scale, const float *w_scale,
                          int32_t n_w_scale, float out_scale, int32_t n,
                          int32_t *mult, int32_t *shift) {
    if (n_w_scale != 1 && n_w_scale != n) return -1;
    for (int32_t i = 0; i < n; i++) {
        double ws = (double)w_scale[n_w_scale == 1 ? 0 : i];
        double eff = (double)in_scale * ws / (double)out_scale;
        if (prep_quantize_multiplier(eff, &mult[i], &shift[i]) != 0) return -1;
    }
    return 0;
}
