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

/* Element offsets of the operands' matrices for flat output batch index b. */
static void bmm_batch(const pexc_batch_matmul_params *p, size_t b, size_t *lo, size_t *ro) {
    size_t b2 = b % (size_t)p->batch[2], b1 = b / (size_t)p->batch[2] % (size_t)p->batch[1],
           b0 = b / (size_t)p->batch[2] / (size_t)p->batch[1];
    *lo = b0 * (size_t)p->lhs_bstride[0] + b1 * (size_t)p->lhs_bstride[1] + b2 * (size_t)p->lhs_bstride[2];
    *ro = b0 * (size_t)p->rhs_bstride[0] + b1 * (size_t)p->rhs_bstride[1] + b2 * (size_t)p->rhs_bstride[2];
}

/* The loop of both kernels over elements of type T: for every output,
 * ACC_INIT starts `acc`, TERM adds the product of a = lhs(i, k) and
 * b = rhs(k, j), FINISH stores *y++. */
#define BMM_LOOP(T, ACC_INIT, TERM, FINISH)                                                                  \
    do {                                                                                                     \
        /* element steps along a row / the depth of each stored operand */                                 \
        const size_t lr = p->adj_x ? 1 : (size_t)p->depth, ld = p->adj_x ? (size_t)p->rows : 1;            \
        const size_t rd = p->adj_y ? 1 : (size_t)p->cols, rc = p->adj_y ? (size_t)p->depth : 1;            \
        const size_t nb = (size_t)p->batch[0] * (size_t)p->batch[1] * (size_t)p->batch[2];                 \
        for (size_t bi = 0; bi < nb; bi++) {                                                                 \
            size_t lo, ro;                                                                                   \
            bmm_batch(p, bi, &lo, &ro);                                                                      \
            const T *l = (const T *)in[0] + lo, *r = (const T *)in[1] + ro;                                  \
            for (size_t i = 0; i < (size_t)p->rows; i++)                                                     \
                for (size_t j = 0; j < (size_t)p->cols; j++) {                                               \
                    ACC_INIT;                                                                                \
                    for (size_t k = 0; k < (size_t)p->depth; k++) {                                          \
                        const T a = l[i * lr + k * ld], b = r[k * rd + j * rc];                              \
                        TERM;                                                                                \
                    }                                                                                        \
                    PEXC_COUNT_MAC(p->depth);                                                                \
                    FINISH;                                                                                  \
                }                                                                                            \
        }                                                                                                    \
    } while (0)

pexc_status pexc_batch_matmul_s8(const pexc_batch_matmul_params *p, const void *const *in, void *out) {
    if (!bmm_ok(p, in, out) || p->shift < -31 || p->shift > 30) return PEXC_ERR_ARG;
    int8_t *y = out;
    /* TFLM's int32 sum, wrapping */
    BMM_LOOP(int8_t, uint32_t acc = 0, acc += (uint32_t)((a + p->lhs_offset) * (b + p->rhs_offset)), {
        int32_t v = pexc_requant((int32_t)acc, p->multiplier, p->shift) + p->output_offset;
        *y++ = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
    });
    return PEXC_OK;
}

pexc_status pexc_batch_matmul_f32(const pexc_batch_matmul_params *p, const void *const *in, void *out) {
    if (!bmm_ok(p, in, out)) return PEXC_ERR_ARG;
    float *y = out;
    BMM_LOOP(float, float acc = 0.0f, acc += a * b, *y++ = acc);
    return PEXC_OK;
}
