/*
 * int16 MEAN and SUM over any set of axes, as TFLM's QuantizedMeanOrSum:
 * each output is the int32 sum of the values it covers, minus the input zero
 * point times their count, requantised (for a mean the compiler has folded
 * 1 / count into the multiplier the way TFLM does) and offset. TFLM sums
 * into a scratch array of int32 per output; here each output's sum is taken
 * in one go over its reduced axes (integer sums do not depend on order), so
 * no scratch memory is needed.
 */
#include "pexc_kernels.h"

/**
 * @brief MEAN / SUM of int16 in[0] (rank p->rank, dims p->in_dims) over the
 * axes of p->reduce_mask into int16 out.
 */
pexc_status pexc_reduce_s16(const pexc_reduce_s16_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out || p->rank < 1 || p->rank > 6) return PEXC_ERR_ARG;
    const int16_t *x = in[0];
    int16_t *y = out;
    size_t stride[6];
    size_t s = 1;
    for (int32_t d = p->rank - 1; d >= 0; d--) {
        stride[d] = s;
        s *= (size_t)p->in_dims[d];
    }
    /* kept axes form the outer odometer, reduced axes the inner one */
    int32_t ko[6], kept = 0, ro[6], red = 0;
    for (int32_t d = 0; d < p->rank; d++) {
        if (p->reduce_mask >> d & 1) ro[red++] = d;
        else ko[kept++] = d;
    }
    int32_t oi[6] = {0, 0, 0, 0, 0, 0}, ri[6];
    size_t n_out = 0;
    for (;;) {
        size_t base = 0;
        for (int32_t k = 0; k < kept; k++) base += (size_t)oi[k] * stride[ko[k]];
        uint32_t sum = 0; /* TFLM's int32 sum */
        for (int32_t k = 0; k < red; k++) ri[k] = 0;
        for (;;) {
            size_t at = base;
            for (int32_t k = 0; k < red; k++) at += (size_t)ri[k] * stride[ro[k]];
            sum += (uint32_t)(int32_t)x[at];
            int32_t k = red - 1;
            while (k >= 0 && ++ri[k] == p->in_dims[ro[k]]) ri[k--] = 0;
            if (k < 0) break;
        }
        const int32_t shifted = (int32_t)(sum - (uint32_t)p->in_zp * (uint32_t)p->count);
        int32_t v = pexc_requant(shifted, p->mult, p->shift) + p->out_zp;
        y[n_out++] = (int16_t)(v < INT16_MIN ? INT16_MIN : v > INT16_MAX ? INT16_MAX : v);
        int32_t k = kept - 1;
        while (k >= 0 && ++oi[k] == p->in_dims[ko[k]]) oi[k--] = 0;
        if (k < 0) break;
    }
    return PEXC_OK;
}
