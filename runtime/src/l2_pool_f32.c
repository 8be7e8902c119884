/*
 * L2_POOL_2D float32, as TFLite's reference kernel: per output the squares
 * of the window taps that fall inside the input are summed row by row, the
 * sum divided by their count, its square root taken (correctly rounded, so
 * equal to std::sqrt) and clamped by the fused activation.
 */
#include "pexc_kernels.h"

pexc_status pexc_l2_pool_f32(const pexc_l2_pool_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out || p->n < 1 || p->h < 1 || p->w < 1 || p->c < 1 || p->out_h < 1 ||
        p->out_w < 1 || p->filter_h < 1 || p->filter_w < 1 || p->stride_h < 1 || p->stride_w < 1)
        return PEXC_ERR_ARG;
    const float *x = in[0];
    float *y = out;
    const size_t C = (size_t)p->c;
    for (int32_t n = 0; n < p->n; n++)
        for (int32_t oy = 0; oy < p->out_h; oy++)
            for (int32_t ox = 0; ox < p->out_w; ox++) {
                int32_t y0 = oy * p->stride_h - p->pad_top, x0 = ox * p->stride_w - p->pad_left;
                int32_t fy0 = y0 < 0 ? -y0 : 0, fx0 = x0 < 0 ? -x0 : 0;
                int32_t fy1 = p->h - y0 < p->filter_h ? p->h - y0 : p->filter_h;
                int32_t fx1 = p->w - x0 < p->filter_w ? p->w - x0 : p->filter_w;
                for (size_t ch = 0; ch < C; ch++) {
                    float sum = 0.0f;
                    int32_t count = 0;
                    for (int32_t fy = fy0; fy < fy1; fy++)
                        for (int32_t fx = fx0; fx < fx1; fx++) {
                            float v = x[(((size_t)n * (size_t)p->h + (size_t)(y0 + fy)) * (size_t)p->w +
                                         (size_t)(x0 + fx)) * C + ch];
                            sum += v * v;
                            count++;
                        }
                    /* a window entirely in the padding divides 0 by 0, as TFLM does */
                    float r = pexc_sqrt_f32(sum / (float)count);
                    r = r < p->act_min ? p->act_min : r;
                    r = p->act_max < r ? p->act_max : r;
                    *y++ = r;
                }
            }
    return PEXC_OK;
}
