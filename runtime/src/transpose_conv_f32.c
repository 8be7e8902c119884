/*
 * TRANSPOSE_CONV float32, byte-identical to TFLite's reference kernel
 * without its zeroed output accumulator pass.
 *
 * TFLM scatters input pixels in raster order, input channel by input
 * channel, adding each product into the output it lands on; so every
 * output receives its terms ordered by input row, input column, input
 * channel. Here each output gathers the same terms in that same order (the
 * tap is fixed by the input pixel), so the float sums round identically,
 * then adds the bias and clamps as TFLM's second pass does.
 */
#include "pexc_kernels.h"

static void tconv_range(int32_t o, int32_t pad, int32_t stride, int32_t k, int32_t size, int32_t *i0, int32_t *i1) {
    int32_t t = o + pad;                     /* iy * stride + ky */
    int32_t lo = t - k + 1;                  /* smallest iy * stride */
    int32_t a = lo <= 0 ? 0 : (lo + stride - 1) / stride;
    int32_t b = t < 0 ? 0 : t / stride + 1;
    *i0 = a;
    *i1 = b < size ? b : size;
}

pexc_status pexc_transpose_conv_f32(const pexc_transpose_conv_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !in[1] || (p->has_bias && !in[2]) || !out) return PEXC_ERR_ARG;
    if (p->n < 1 || p->h < 1 || p->w < 1 || p->cin < 1 || p->out_h < 1 || p->out_w < 1 || p->cout < 1 ||
        p->kh < 1 || p->kw < 1 || p->stride_h < 1 || p->stride_w < 1)
        return PEXC_ERR_ARG;
    const float *x = in[0], *f = in[1];
    const float *bias = p->has_bias ? in[2] : NULL;
    float *y = out;
    const size_t cin = (size_t)p->cin;
    for (int32_t n = 0; n < p->n; n++)
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            int32_t iy0, iy1;
            tconv_range(oy, p->pad_top, p->stride_h, p->kh, p->h, &iy0, &iy1);
            for (int32_t ox = 0; ox < p->out_w; ox++) {
                int32_t ix0, ix1;
                tconv_range(ox, p->pad_left, p->stride_w, p->kw, p->w, &ix0, &ix1);
                for (int32_t oc = 0; oc < p->cout; oc++) {
                    float acc = 0.0f;
                    for (int32_t iy = iy0; iy < iy1; iy++) {
                        int32_t ky = oy + p->pad_top - iy * p->stride_h;
                        for (int32_t ix = ix0; ix < ix1; ix++) {
                            int32_t kx = ox + p->pad_left - ix * p->stride_w;
                            const float *xi = x + (((size_t)n * (size_t)p->h + (size_t)iy) * (size_t)p->w + (size_t)ix) * cin;
                            const float *fi = f + (((size_t)oc * (size_t)p->kh + (size_t)ky) * (size_t)p->kw + (size_t)kx) * cin;
                            for (size_t ic = 0; ic < cin; ic++) acc += xi[ic] * fi[ic];
                            PEXC_COUNT_MAC(cin);
                        }
                    }
                    if (bias) acc += bias[oc];
                    acc = acc < p->act_min_f ? p->act_min_f : acc;
                    acc = p->act_max_f < acc ? p->act_max_f : acc;
                    *y++ = acc;
                }
            }
        }
    return PEXC_OK;
}
