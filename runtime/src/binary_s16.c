/*
 * int16 element-wise binary operators (TFLite's 16x8 quantisation: int16
 * activations, zero points 0 except for ADD and SUB): ADD, SUB,
 * SQUARED_DIFFERENCE, MUL, MINIMUM, MAXIMUM and SELECT_V2, by the
 * arithmetic of binary_int_row.h.
 */
#include "pexc_kernels.h"

#define BIN_T int16_t
#define BIN_ROW row_s16
#include "binary_int_row.h"

/**
 * @brief An int16 element-wise operator over whole tensors.
 *
 * in[k]: operand k, contiguous int16 (SELECT_V2's condition: bool bytes);
 * out: contiguous int16. in_offset, out_offset: minus the int16 zero points
 * and the output's (0 except for ADD and SUB), left_shift in [0, 15],
 * in_shift in [-31, 0].
 */
pexc_status pexc_binary_s16(const pexc_binary_params *p, const void *const *in, void *out) {
    if (!p || (p->op != PEXC_BIN_ADD && p->op != PEXC_BIN_SUB && p->op != PEXC_BIN_SQDIFF && p->op != PEXC_BIN_MUL &&
               p->op != PEXC_BIN_MIN && p->op != PEXC_BIN_MAX && p->op != PEXC_BIN_SELECT))
        return PEXC_ERR_ARG;
    /* (v + offset) << 15 must fit: offsets are minus int16 zero points */
    if (p->in_offset[0] < -32767 || p->in_offset[0] > 32768 || p->in_offset[1] < -32767 || p->in_offset[1] > 32768 ||
        p->out_offset < -32768 || p->out_offset > 32767 || p->left_shift < 0 || p->left_shift > 15 ||
        p->in_shift[0] > 0 || p->in_shift[0] < -31 || p->in_shift[1] > 0 || p->in_shift[1] < -31 ||
        p->out_shift < -31 || p->out_shift > 30 || p->act_min > p->act_max)
        return PEXC_ERR_ARG;
    return pexc_binary_walk(p, in, out, row_s16);
}
