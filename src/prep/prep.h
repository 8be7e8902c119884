/*
 * Host-side "prepare": turn a TFLite operator's float quantisation parameters
 * into the integer parameters the runtime kernels take, exactly as TFLite
 * Micro's Prepare() functions compute them (double-precision arithmetic,
 * frexp-based multipliers, the same rounding). The results are plain data so
 * the C emitter can print them as constants; the kernels never see a float
 * scale.
 *
 * All functions return 0 on success and -1 when the parameters are outside
 * what TFLite accepts (the caller reports which operator).
 */
#ifndef PEXC_PREP_H
#define PEXC_PREP_H

#include <stdint.h>

#include "pexc_kernels.h"

/* TFLite QuantizeMultiplier: m = q * 2^shift with q in [0.5, 1) as Q31. */
int prep_quantize_multiplier(double real_multiplier, int32_t *mult,
                             int32_t *shift);

/* Fused activation (TFLite ActivationFunctionType: 0 none, 1 relu,
 * 2 relu_n1_to_1, 3 relu6) to an int8 clamp for a given output quantisation. */
int prep_activation_s8(int32_t fused_activation, float out_scale, int32_t out_zp,
                       int32_t *act_min, int32_t *act_max);
int prep_activation_f32(int32_t fused_activation, float *act_min,
                        float *act_max);

/* Per-channel conv / depthwise / FC requantisation: writes n multipliers and
 * shifts for effective scale in_scale * w_scale[i] / out_scale, where w_scale
 * has n entries (per-channel) or 1 entry (per-tensor, broadcast to n). */
int prep_conv_multipliers(float in_scale, const float *w_scale,
                          int32_t n_w_scale, float out_scale, int32_t n,
                          int32_t *mult, int32_t *shift);

/* The short requantisation's proof for one channel (prep_short_rq.c): 1 and
 * its rounding constant in *round when every sum x with |x| <= bound gives
 * TFLite's bytes through pexc_requant_short, else 0 (keep the long form). */
int prep_short_requant(int64_t bound, int32_t mult, int32_t shift, int32_t out_zp, int32_t *round);

int prep_add_s8(float s1, int32_t zp1, float s2, int32_t zp2, float so,
                int32_t zpo, int32_t fused_activation, pexc_add_params *p);
int prep_mul_s8(float s1, int32_t zp1, float s2, int32_t zp2, float so,
                int32_t zpo, int32_t fused_activation, pexc_mul_params *p);
int prep_softmax_s8(float beta, float in_scale, pexc_softmax_params *p);
int prep_logistic_s8(float in_scale, int32_t in_zp, pexc_logistic_params *p);
/* num_elements: number of values averaged per output (H * W). */
int prep_mean_s8(float in_scale, int32_t in_zp, float out_scale,
                 int32_t out_zp, int32_t num_elements, pexc_mean_params *p);
int prep_requantize_s8(float in_scale, int32_t in_zp, float out_scale,
                       int32_t out_zp, pexc_requantize_params *p);

#endif /* PEXC_PREP_H */
