/*
 * int16 element-wise binary operators (TFLite's 16x8 quantisation: int16
 * activations with zero point 0): ADD, SUB, SQUARED_DIFFERENCE, MUL,
 * MINIMUM, MAXIMUM and SELECT_V2, by the arithmetic of binary_int_row.h.
 */
#include "pexc_kernels.h"

#define BIN_T int16_t
#define BIN_ROW row_s16
#include "binary_int_row.h"

/**
 * @brief An int16 element-wise operator over whole tensors.
 *
 * in[k]: operand k, contiguous int16 (SELECT_V2's condition: bool bytes);
 * out: contiguous int16. Zero points must be 0 (in_offset, out_offset),
 * left_shift in [0, 15], in_shift in [-31, 0].
 */
pexc_status pexc_binary_s16(const pexc_binary_params *p, const void *const *in, void *out) {
    if (!p || (p->op != PEXC_BIN_ADD && p->op != PEXC_BIN_SUB && p->op != PEXC_BIN_SQDIFF && p->op != PEXC_BIN_MUL &&
               p->op != PEXC_BIN_MIN && p->op != PEXC_BIN_MAX && p->op != PEXC_BIN_SELECT))
        return PEXC_ERR_ARG;
    if (p->in_offset[0] || p->in_offset[1] || p->out_offset || p->left_shift < 0 || p->left_shift > 15 ||
        p->in_shift[0] > 0 || p->in_shift[0] < -31 || p->in_shift[1] > 0 || p->in_shift[1] < -31 ||
        p->out_shift < -31 || p->out_shift > 30 || p->act_min > p->act_max)
        return PEXC_ERR_ARG;
    return pexc_binary_walk(p, in, out, row_s16);
}
