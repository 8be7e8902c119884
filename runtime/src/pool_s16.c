/*
 * int16 AVERAGE_POOL_2D and MAX_POOL_2D over windows clipped to the input,
 * as TFLM's reference integer pooling: the average is an int32 sum divided
 * by the taps inside, rounded half away from zero; input and output share
 * their quantisation, so no rescaling.
 */
#include "pexc_kernels.h"

/**
 * @brief AVERAGE_POOL_2D / MAX_POOL_2D (is_max), int16 [N, H, W, C] ->
 * int16 [N, OH, OW, C]. PEXC_ERR_ARG when an average window has no tap
 * inside the input (TFLM fails there too).
 */
pexc_status pexc_pool_s16(const pexc_pool_s16_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out) return PEXC_ERR_ARG;
    const int16_t *x = in[0];
    int16_t *y = out;
    const int32_t N = p->in_dims[0], H = p->in_dims[1], W = p->in_dims[2], C = p->in_dims[3];
    const int32_t OH = p->out_dims[1], OW = p->out_dims[2];
    for (int32_t b = 0; b < N; b++)
        for (int32_t oy = 0; oy < OH; oy++)
            for (int32_t ox = 0; ox < OW; ox++) {
                const int32_t iy0 = oy * p->stride_h - p->pad_top, ix0 = ox * p->stride_w - p->pad_left;
                const int32_t ky0 = iy0 < 0 ? -iy0 : 0, kx0 = ix0 < 0 ? -ix0 : 0;
                const int32_t ky1 = p->filter_h < H - iy0 ? p->filter_h : H - iy0;
                const int32_t kx1 = p->filter_w < W - ix0 ? p->filter_w : W - ix0;
                for (int32_t c = 0; c < C; c++) {
                    int32_t v;
                    if (p->is_max) {
                        v = INT16_MIN;
                        for (int32_t ky = ky0; ky < ky1; ky++)
                            for (int32_t kx = kx0; kx < kx1; kx++) {
                                int32_t e = x[(((size_t)b * H + iy0 + ky) * W + ix0 + kx) * C + c];
                                if (e > v) v = e;
                            }
                    } else {
                        uint32_t sum = 0; /* TFLM's int32 sum, wrapping */
                        int32_t count = 0;
                        for (int32_t ky = ky0; ky < ky1; ky++)
                            for (int32_t kx = kx0; kx < kx1; kx++) {
                                sum += (uint32_t)(int32_t)x[(((size_t)b * H + iy0 + ky) * W + ix0 + kx) * C + c];
                                count++;
                            }
                        if (count == 0) return PEXC_ERR_ARG;
                        int32_t acc = (int32_t)sum;
                        v = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    }
                    if (v < p->act_min) v = p->act_min;
                    if (v > p->act_max) v = p->act_max;
                    y[(((size_t)b * OH + oy) * OW + ox) * C + c] = (int16_t)v;
                }
            }
    return PEXC_OK;
}
