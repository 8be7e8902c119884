/*
 * BATCH_MATMUL as TFLite Micro computes it: for every output batch index,
 * a matrix product of the operands' matching (or broadcast) matrices.
 * TFLM first copies a non-adjoint right operand (and an adjoint left one)
 * into transposed scratch tensors so that both walk their depth axis
 * contiguously; here the strides of the stored layout are used instead, so
 * no copy or scratch memory is needed. Each output is one sum over depth in
 * increasing order, int32 for int8 (then TFLM's requantisation) and from
 * 0.0f for float32, as in the reference kernel.
 */
#include "pexc_kernels.h"

static int bmm_ok(const pexc_batch_matmul_params *p, const void *const *in, const void *out) {
    if (!p || !in || !in[0] || !in[1] || !out || p->rows < 1 || p->cols < 1 || p->depth < 1) return 0;
    for (int i = 0; i < 3; i++)
        if (p->batch[i] < 1 || p->lhs_bstride[i] < 0 || p->rhs_bstride[i] < 0) return 0;
    return 1;
}

pexc_status pexc_batch_matmul_s8(const pexc_batch_matmul_params *p, const void *const *in, void *out) {
    if (!bmm_ok(p, in, out) || p->shift < -31 || p->shift > 30) return PEXC_ERR_ARG;
    const int8_t *lhs = in[0], *rhs = in[1];
    int8_t *y = out;
    /* element steps along a row / depth of each stored operand */
    const size_t lr = p->adj_x ? 1 : (size_t)p->depth, ld = p->adj_x ? (size_t)p->rows : 1;
    const size_t rd = p->adj_y ? 1 : (size_t)p->cols, rc = p->adj_y ? (size_t)p->depth : 1;
    for (int32_t b0 = 0; b0 < p->batch[0]; b0++)
        for (int32_t b1 = 0; b1 < p->batch[1]; b1++)
            for (int32_t b2 = 0; b2 < p->batch[2]; b2++) {
                const int8_t *l = lhs + (size_t)b0 * (size_t)p->lhs_bstride[0] +
                                  (size_t)b1 * (size_t)p->lhs_bstride[1] + (size_t)b2 * (size_t)p->lhs_bstride[2];
                const int8_t *r = rhs + (size_t)b0 * (size_t)p->rhs_bstride[0] +
                                  (size_t)b1 * (size_t)p->rhs_bstride[1] + (size_t)b2 * (size_t)p->rhs_bstride[2];
                for (size_t i = 0; i < (size_t)p->rows; i++)
                    for (size_t j = 0; j < (size_t)p->cols; j++) {
                        uint32_t acc = 0; /* TFLM's int32 sum, wrapping */
                        for (size_t k = 0; k < (size_t)p->depth; k++)
                            acc += (uint32_t)((l[i * lr + k * ld] + p->lhs_offset) * (r[k * rd + j * rc] + p->rhs_offset));
                        PEXC_COUNT_MAC(p->depth);
                        int32_t v = pexc_requant((int32_t)acc, p->multiplier, p->shift) + p->output_offset;
                        *y++ = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
                    }
            }
    return PEXC_OK;
}

pexc_status pexc_batch_matmul_f32(const pexc_batch_matmul_params *p, const void *const *in, void *out) {
    if (!bmm_ok(p, in, out)) return PEXC_ERR_ARG;
    const float *lhs = in[0], *rhs = in[1];
    float *y = out;
    const size_t lr = p->adj_x ? 1 : (size_t)p->depth, ld = p->adj_x ? (size_t)p->rows : 1;
    const size_t rd = p->adj_y ? 1 : (size_t)p->cols, rc = p->adj_y ? (size_t)p->depth : 1;
    for (int32_t b0 = 0; b0 < p->batch[0]; b0++)
        for (int32_t b1 = 0; b1 < p->batch[1]; b1++)
            for (int32_t b2 = 0; b2 < p->batch[2]; b2++) {
                const float *l = lhs + (size_t)b0 * (size_t)p->lhs_bstride[0] +
                                 (size_t)b1 * (size_t)p->lhs_bstride[1] + (size_t)b2 * (size_t)p->lhs_bstride[2];
                const float *r = rhs + (size_t)b0 * (size_t)p->rhs_bstride[0] +
                                 (size_t)b1 * (size_t)p->rhs_bstride[1] + (size_t)b2 * (size_t)p->rhs_bstride[2];
                for (size_t i = 0; i < (size_t)p->rows; i++)
                    for (size_t j = 0; j < (size_t)p->cols; j++) {
                        float acc = 0.0f;
                        for (size_t k = 0; k < (size_t)p->depth; k++) acc += l[i * lr + k * ld] * r[k * rd + j * rc];
                        PEXC_COUNT_MAC(p->depth);
                        *y++ = acc;
                    }
            }
    return PEXC_OK;
}
