/*
 * int16 ADD, SUB and MUL with broadcasting, as TFLM computes them for int16:
 * ADD and SUB take the general rescaling path (both inputs shifted left by
 * 15 and scaled to a common scale, added or subtracted, scaled to the
 * output), whatever the pot_scale_int16 option says, since TFLM's kernels
 * do not read it; MUL requantises the product of the two inputs. The int32
 * intermediate sums wrap as TFLM's do.
 */
#include "pexc_kernels.h"
#include "pexc_bcast.h"

static int32_t binary_one(const pexc_binary_s16_params *p, int32_t a, int32_t b) {
    int32_t v;
    if (p->op == PEXC_BIN_MUL) {
        int32_t prod = (a + p->input1_offset) * (b + p->input2_offset);
        v = p->output_offset + pexc_requant(prod, p->output_mult, p->output_shift);
    } else {
        int32_t sa = (int32_t)((uint32_t)(a + p->input1_offset) << p->left_shift);
        int32_t sb = (int32_t)((uint32_t)(b + p->input2_offset) << p->left_shift);
        uint32_t xa = (uint32_t)pexc_requant(sa, p->input1_mult, p->input1_shift);
        uint32_t xb = (uint32_t)pexc_requant(sb, p->input2_mult, p->input2_shift);
        int32_t raw = (int32_t)(p->op == PEXC_BIN_SUB ? xa - xb : xa + xb);
        v = pexc_requant(raw, p->output_mult, p->output_shift) + p->output_offset;
    }
    if (v < p->act_min) v = p->act_min;
    if (v > p->act_max) v = p->act_max;
    return v;
}

/**
 * @brief ADD / SUB / MUL (p->op) of int16 in[0] and in[1] into int16 out,
 * both read through element strides over the output's rank-p->rank shape.
 */
pexc_status pexc_arith_s16(const pexc_binary_s16_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !in[1] || !out || p->rank < 1 || p->rank > 6) return PEXC_ERR_ARG;
    if (p->left_shift < 0 || p->left_shift > 30) return PEXC_ERR_ARG;
    const int16_t *a = in[0], *b = in[1];
    int16_t *y = out;
    int32_t idx[6] = {0, 0, 0, 0, 0, 0};
    size_t ia = 0, ib = 0, n = 1;
    for (int32_t d = 0; d < p->rank; d++) n *= (size_t)p->dims[d];
    for (size_t i = 0; i < n; i++) {
        y[i] = (int16_t)binary_one(p, a[ia], b[ib]);
        pexc_bcast_next(p->rank, p->dims, p->stride_a, p->stride_b, idx, &ia, &ib);
    }
    return PEXC_OK;
}
