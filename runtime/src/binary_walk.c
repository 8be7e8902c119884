/*
 * The broadcasting walk shared by the element-wise binary kernels.
 *
 * TFLite broadcasts by extending every operand's shape to the output's rank
 * with leading 1s; an operand whose extent is 1 along an axis is read at
 * index 0 along it. The compiler turns that into strides (elements to step
 * in operand k per step along output axis a, 0 where it broadcasts) and
 * folds every pair of neighbouring axes along which all operands step
 * uniformly, so a same-shape operation is one run of the whole tensor and a
 * per-channel constant is one run per pixel. What is left here is an
 * odometer over the outer axes; the kernel's row function does the
 * arithmetic of each innermost run, where the operator and the types are
 * known, so the per-element loop carries no index arithmetic beyond two
 * additions.
 */
#include "pexc_kernels.h"

/**
 * @brief Calls row once per innermost run of the output, in raster order.
 *
 * p->rank axes of extents p->dims (each >= 1, outermost first); operand k
 * (k < min(n_in, 3)) starts at element 0 and moves p->stride[k][a] elements
 * per step along axis a. Operands beyond the third (ADD_N) follow operand 0.
 * PEXC_ERR_ARG for an unknown operator or the wrong number of operands.
 */
pexc_status pexc_binary_walk(const pexc_binary_params *p, const void *const *in, void *out, pexc_binary_row_fn row) {
    if (!p || !in || !out || !row || p->rank < 1 || p->rank > PEXC_BINARY_MAX_RANK || p->op < PEXC_BIN_ADD ||
        p->op > PEXC_BIN_FLOOR_MOD)
        return PEXC_ERR_ARG;
    /* SELECT_V2 reads three operands, ADD_N two or more, the rest two */
    if (p->op == PEXC_BIN_ADD_N ? p->n_in < 2 : p->n_in != (p->op == PEXC_BIN_SELECT ? 3 : 2)) return PEXC_ERR_ARG;
    const int32_t r = p->rank, nk = p->n_in < 3 ? p->n_in : 3;
    for (int32_t a = 0; a < r; a++)
        if (p->dims[a] < 1) return PEXC_ERR_ARG;
    for (int32_t k = 0; k < p->n_in; k++)
        if (!in[k]) return PEXC_ERR_ARG;
    int32_t count[PEXC_BINARY_MAX_RANK] = {0}, step[3] = {0};
    size_t idx[3] = {0}, o = 0;
    const int32_t run = p->dims[r - 1];
    for (int32_t k = 0; k < nk; k++) step[k] = p->stride[k][r - 1];
    for (;;) {
        row(p, in, idx, step, out, o, run);
        o += (size_t)run;
        int32_t a = r - 2;
        for (; a >= 0; a--) {
            /* unsigned wrap-around cancels when the axis rewinds */
            for (int32_t k = 0; k < nk; k++) idx[k] += (size_t)p->stride[k][a];
            if (++count[a] < p->dims[a]) break;
            for (int32_t k = 0; k < nk; k++) idx[k] -= (size_t)p->stride[k][a] * (size_t)p->dims[a];
            count[a] = 0;
        }
        if (a < 0) return PEXC_OK;
    }
}
