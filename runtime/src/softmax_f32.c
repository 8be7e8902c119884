/*
 * SOFTMAX in float32 over the last axis, TFLite's reference float softmax:
 * the row's maximum (std::max from the lowest float, so a NaN never
 * becomes the maximum), exp((x - max) * beta) summed from 0.0f in order,
 * then each exponential divided by the sum. Build with -ffp-contract=off.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "pexc_kernels.h"

pexc_status pexc_softmax_f32(const pexc_softmax_f32_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out || p->rows < 1 || p->depth < 1) return PEXC_ERR_ARG;
    const float *x = in[0];
    float *y = out, beta;
    memcpy(&beta, &p->beta_bits, sizeof beta);
    for (int32_t r = 0; r < p->rows; r++, x += p->depth, y += p->depth) {
        float max = -FLT_MAX;
        for (int32_t c = 0; c < p->depth; c++) max = max < x[c] ? x[c] : max;
        float sum = 0.0f;
        for (int32_t c = 0; c < p->depth; c++) {
            y[c] = expf((x[c] - max) * beta);
            sum += y[c];
        }
        for (int32_t c = 0; c < p->depth; c++) y[c] = y[c] / sum;
    }
    return PEXC_OK;
}
