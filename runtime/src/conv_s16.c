/*
 * int16x8 CONV_2D and DEPTHWISE_CONV_2D, whole tensors, in TFLM's reference
 * order. The 16x8 kernels take no zero points: int16 activations are
 * symmetric, so a sum is just sum(w * x) + bias. TFLM accumulates in int64
 * with an int64 bias (the converter's choice) and requantises with the
 * 64-bit MultiplyByQuantizedMultiplier; with an int32 bias it accumulates
 * and requantises in int32 instead (wrapping as TFLM's int32 sums do).
 */
#include "pexc_kernels.h"

static int16_t conv_out_s16(const pexc_conv_s16_params *p, int64_t acc64, uint32_t acc32, int32_t oc) {
    int32_t v;
    if (p->acc32) {
        if (p->bias32) acc32 += (uint32_t)p->bias32[oc];
        v = pexc_requant((int32_t)acc32, p->mult[oc], p->shift[oc]);
    } else {
        if (p->bias64) acc64 = (int64_t)((uint64_t)acc64 + (uint64_t)p->bias64[oc]);
        v = pexc_requant_s64(acc64, p->mult[oc], p->shift[oc]);
    }
    if (v < p->act_min) v = p->act_min;
    if (v > p->act_max) v = p->act_max;
    return (int16_t)v;
}

/**
 * @brief CONV_2D (depth_multiplier == 0) or DEPTHWISE_CONV_2D, int16 -> int16.
 *
 * in[0]: input [N, H, W, C] int16; out: [N, OH, OW, OC] int16. A
 * convolution's output channel oc reads input channels
 * [g * filter_depth, + filter_depth), g = oc / (OC / (C / filter_depth)).
 */
pexc_status pexc_conv_s16(const pexc_conv_s16_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out || !p->filter || !p->mult || !p->shift) return PEXC_ERR_ARG;
    const int16_t *x = in[0];
    int16_t *y = out;
    const int32_t N = p->in_dims[0], H = p->in_dims[1], W = p->in_dims[2], C = p->in_dims[3];
    const int32_t OH = p->out_dims[1], OW = p->out_dims[2], OC = p->out_dims[3];
    const int32_t KH = p->kh, KW = p->kw, m = p->depth_multiplier, FD = p->filter_depth;
    if (!m && (FD < 1 || C % FD)) return PEXC_ERR_ARG;
    const int32_t per_group = m ? 1 : OC / (C / FD);
    if (per_group < 1) return PEXC_ERR_ARG;
    for (int32_t b = 0; b < N; b++)
        for (int32_t oy = 0; oy < OH; oy++)
            for (int32_t ox = 0; ox < OW; ox++) {
                const int32_t iy0 = oy * p->stride_h - p->pad_top, ix0 = ox * p->stride_w - p->pad_left;
                for (int32_t oc = 0; oc < OC; oc++) {
                    int64_t acc64 = 0;
                    uint32_t acc32 = 0;
                    const int32_t c0 = m ? oc / m : (oc / per_group) * FD;
                    for (int32_t ky = 0; ky < KH; ky++) {
                        const int32_t iy = iy0 + p->dilation_h * ky;
                        if (iy < 0 || iy >= H) continue;
                        for (int32_t kx = 0; kx < KW; kx++) {
                            const int32_t ix = ix0 + p->dilation_w * kx;
                            if (ix < 0 || ix >= W) continue;
                            const int16_t *px = x + (((size_t)b * H + iy) * W + ix) * C + c0;
                            if (m) {
                                int32_t prod = p->filter[((size_t)ky * KW + kx) * OC + oc] * px[0];
                                acc64 += prod;
                                acc32 += (uint32_t)prod;
                            } else {
                                const int8_t *f = p->filter + (((size_t)oc * KH + ky) * KW + kx) * FD;
                                for (int32_t ic = 0; ic < FD; ic++) {
                                    int32_t prod = f[ic] * px[ic];
                                    acc64 += prod;
                                    acc32 += (uint32_t)prod;
                                }
                            }
                        }
                    }
                    PEXC_COUNT_MAC(m ? KH * KW : KH * KW * FD);
                    y[(((size_t)b * OH + oy) * OW + ox) * OC + oc] = conv_out_s16(p, acc64, acc32, oc);
                }
            }
    return PEXC_OK;
}
