/*
 * float32 convolution and depthwise convolution, summed in exactly the
 * order of TFLite's reference kernels: for each output value the taps in
 * filter-row, filter-column order (input channels innermost for a
 * convolution), taps outside the input skipped, then the bias added, then
 * the activation clamp. Floating-point addition is not associative, so this
 * order is what makes the outputs bit-identical; builds must not contract
 * a * b + c into fused multiply-adds (-ffp-contract=off).
 */
#include "pexc_kernels.h"

static float clamp_f32(float v, float lo, float hi) {
    if (v < lo) v = lo;
    if (hi < v) v = hi;
    return v;
}

/**
 * @brief float32 CONV_2D (depth_multiplier == 0) or DEPTHWISE_CONV_2D.
 *
 * in[0]: input [N, H, W, C]; out: [N, OH, OW, OC]. Filter [OC, KH, KW, C]
 * for a convolution, [1, KH, KW, OC] for a depthwise one (OC = C * m).
 */
pexc_status pexc_conv_f32(const pexc_conv_f32_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out || !p->filter) return PEXC_ERR_ARG;
    const float *x = in[0];
    float *y = out;
    const int32_t N = p->in_dims[0], H = p->in_dims[1], W = p->in_dims[2], C = p->in_dims[3];
    const int32_t OH = p->out_dims[1], OW = p->out_dims[2], OC = p->out_dims[3];
    const int32_t KH = p->kh, KW = p->kw, m = p->depth_multiplier;
    for (int32_t b = 0; b < N; b++)
        for (int32_t oy = 0; oy < OH; oy++)
            for (int32_t ox = 0; ox < OW; ox++) {
                const int32_t iy0 = oy * p->stride_h - p->pad_top, ix0 = ox * p->stride_w - p->pad_left;
                for (int32_t oc = 0; oc < OC; oc++) {
                    float total = 0.0f;
                    for (int32_t ky = 0; ky < KH; ky++) {
                        const int32_t iy = iy0 + p->dilation_h * ky;
                        for (int32_t kx = 0; kx < KW; kx++) {
                            const int32_t ix = ix0 + p->dilation_w * kx;
                            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
                            const float *px = x + (((size_t)b * H + iy) * W + ix) * C;
                            if (m) {
                                float prod = px[oc / m] * p->filter[((size_t)ky * KW + kx) * OC + oc];
                                total += prod;
                            } else {
                                const float *f = p->filter + (((size_t)oc * KH + ky) * KW + kx) * C;
                                for (int32_t ic = 0; ic < C; ic++) {
                                    float prod = px[ic] * f[ic];
                                    total += prod;
                                }
                            }
                        }
                    }
                    PEXC_COUNT_MAC(m ? KH * KW : KH * KW * C);
                    float v = total + (p->bias ? p->bias[oc] : 0.0f);
                    y[(((size_t)b * OH + oy) * OW + ox) * OC + oc] = clamp_f32(v, p->act_min, p->act_max);
                }
            }
    return PEXC_OK;
}

/**
 * @brief float32 AVERAGE_POOL_2D / MAX_POOL_2D (is_max) over the window
 * clipped to the input, as TFLite's reference pooling.
 */
pexc_status pexc_pool_f32(const pexc_pool_f32_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out) return PEXC_ERR_ARG;
    const float *x = in[0];
    float *y = out;
    const int32_t N = p->in_dims[0], H = p->in_dims[1], W = p->in_dims[2], C = p->in_dims[3];
    const int32_t OH = p->out_dims[1], OW = p->out_dims[2];
    for (int32_t b = 0; b < N; b++)
        for (int32_t oy = 0; oy < OH; oy++)
            for (int32_t ox = 0; ox < OW; ox++)
                for (int32_t c = 0; c < C; c++) {
                    const int32_t iy0 = oy * p->stride_h - p->pad_top, ix0 = ox * p->stride_w - p->pad_left;
                    const int32_t ky0 = iy0 < 0 ? -iy0 : 0, kx0 = ix0 < 0 ? -ix0 : 0;
                    const int32_t ky1 = p->filter_h < H - iy0 ? p->filter_h : H - iy0;
                    const int32_t kx1 = p->filter_w < W - ix0 ? p->filter_w : W - ix0;
                    float acc = p->is_max ? -3.40282347e+38f : 0.0f, count = 0.0f;
                    for (int32_t ky = ky0; ky < ky1; ky++)
                        for (int32_t kx = kx0; kx < kx1; kx++) {
                            float v = x[(((size_t)b * H + iy0 + ky) * W + ix0 + kx) * C + c];
                            if (p->is_max) {
                                if (acc < v) acc = v;
                            } else {
                                acc += v;
                            }
                            count += 1.0f;
                        }
                    if (!p->is_max && count == 0.0f) return PEXC_ERR_ARG;
                    float v = p->is_max ? acc : acc / count;
                    y[(((size_t)b * OH + oy) * OW + ox) * C + c] = clamp_f32(v, p->act_min, p->act_max);
                }
    return PEXC_OK;
}
