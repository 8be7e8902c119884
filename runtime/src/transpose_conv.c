/*
 * TRANSPOSE_CONV, byte-identical to TFLite Micro's reference kernels
 * without their output-sized accumulator.
 *
 * TFLM scatters: every input pixel adds its filter window, times each input
 * channel, into an accumulator per output element (int32 for int8, the
 * float output itself for float32), then adds the bias, requantises per
 * channel (int8) and clamps. Here each output element gathers instead:
 * output row oy receives tap ky from input row iy exactly when
 * iy * stride - pad + ky == oy, so for each output pixel the contributing
 * (input pixel, tap) pairs are enumerated directly and summed in a register.
 * They are visited by input row, then column, then channel, which is the
 * order TFLM's scatter adds them to that output, so float sums round the
 * same way; integer sums are the same in any order. No memory is needed
 * beyond the output.
 */
#include "pexc_kernels.h"

/* The input rows (columns) feeding output index o: iy in [*i0, *i1), with
 * tap k = o + pad - iy * stride. */
static void tconv_range(int32_t o, int32_t pad, int32_t stride, int32_t k, int32_t size, int32_t *i0, int32_t *i1) {
    int32_t t = o + pad;    /* iy * stride + ky */
    int32_t lo = t - k + 1; /* smallest iy * stride */
    int32_t a = lo <= 0 ? 0 : (lo + stride - 1) / stride;
    int32_t b = t < 0 ? 0 : t / stride + 1;
    *i0 = a;
    *i1 = b < size ? b : size;
}

static int tconv_ok(const pexc_transpose_conv_params *p, const void *const *in, const void *out) {
    return p && in && in[0] && in[1] && (!p->has_bias || in[2]) && out && p->n >= 1 && p->h >= 1 && p->w >= 1 &&
           p->cin >= 1 && p->out_h >= 1 && p->out_w >= 1 && p->cout >= 1 && p->kh >= 1 && p->kw >= 1 &&
           p->stride_h >= 1 && p->stride_w >= 1;
}

/* The gather loop of both kernels over elements of type T: for each output
 * in raster order, ACC_INIT starts the sum `acc`, TERM adds the product of
 * xi[ic] and fi[ic], FINISH stores *y++ from acc for output channel oc. */
#define TCONV_GATHER(T, ACC_INIT, TERM, FINISH)                                                                   \
    do {                                                                                                          \
        const T *x = in[0], *f = in[1];                                                                           \
        const size_t cin = (size_t)p->cin;                                                                        \
        for (int32_t n = 0; n < p->n; n++)                                                                        \
            for (int32_t oy = 0; oy < p->out_h; oy++) {                                                           \
                int32_t iy0, iy1;                                                                                 \
                tconv_range(oy, p->pad_top, p->stride_h, p->kh, p->h, &iy0, &iy1);                                \
                for (int32_t ox = 0; ox < p->out_w; ox++) {                                                       \
                    int32_t ix0, ix1;                                                                             \
                    tconv_range(ox, p->pad_left, p->stride_w, p->kw, p->w, &ix0, &ix1);                           \
                    for (int32_t oc = 0; oc < p->cout; oc++) {                                                    \
                        ACC_INIT;                                                                                 \
                        for (int32_t iy = iy0; iy < iy1; iy++) {                                                  \
                            int32_t ky = oy + p->pad_top - iy * p->stride_h;                                      \
                            for (int32_t ix = ix0; ix < ix1; ix++) {                                              \
                                int32_t kx = ox + p->pad_left - ix * p->stride_w;                                 \
                                const T *xi = x + (((size_t)n * (size_t)p->h + (size_t)iy) * (size_t)p->w +       \
                                                   (size_t)ix) * cin;                                             \
                                const T *fi = f + (((size_t)oc * (size_t)p->kh + (size_t)ky) * (size_t)p->kw +    \
                                                   (size_t)kx) * cin;                                             \
                                for (size_t ic = 0; ic < cin; ic++) TERM;                                         \
                                PEXC_COUNT_MAC(cin);                                                              \
                            }                                                                                     \
                        }                                                                                         \
                        FINISH;                                                                                   \
                    }                                                                                             \
                }                                                                                                 \
            }                                                                                                     \
    } while (0)

/**
 * @brief int8 transposed convolution: int32 sums (wrapping like TFLM's),
 * bias, per-channel requantisation, output offset, activation clamp.
 */
pexc_status pexc_transpose_conv_s8(const pexc_transpose_conv_params *p, const void *const *in, void *out) {
    if (!tconv_ok(p, in, out) || !p->out_mult || !p->out_shift) return PEXC_ERR_ARG;
    const int32_t *bias = p->has_bias ? in[2] : NULL;
    int8_t *y = out;
    TCONV_GATHER(int8_t, uint32_t acc = 0, acc += (uint32_t)((xi[ic] + p->input_offset) * fi[ic]), {
        int32_t v = (int32_t)(bias ? acc + (uint32_t)bias[oc] : acc);
        v = pexc_requant(v, p->out_mult[oc], p->out_shift[oc]) + p->output_offset;
        *y++ = (int8_t)(v < p->act_min ? p->act_min : v > p->act_max ? p->act_max : v);
    });
    return PEXC_OK;
}

/**
 * @brief float32 transposed convolution: sums from 0.0f in TFLM's order,
 * then the bias, then the activation clamp (TFLM's std::max / std::min).
 */
pexc_status pexc_transpose_conv_f32(const pexc_transpose_conv_params *p, const void *const *in, void *out) {
    if (!tconv_ok(p, in, out)) return PEXC_ERR_ARG;
    const float *bias = p->has_bias ? in[2] : NULL;
    float *y = out;
    TCONV_GATHER(float, float acc = 0.0f, acc += xi[ic] * fi[ic], {
        if (bias) acc += bias[oc];
        acc = acc < p->act_min_f ? p->act_min_f : acc;
        *y++ = p->act_max_f < acc ? p->act_max_f : acc;
    });
    return PEXC_OK;
}
