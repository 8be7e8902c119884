/*
 * LOGICAL_NOT on bool tensors (one byte per value, 0 or 1, as TFLite
 * stores them). Any nonzero byte counts as true.
 */
#include "pexc_kernels.h"

/** @brief out[i] = !in[0][i] for the n bools. */
pexc_status pexc_logical_not(const pexc_logical_not_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out || p->n < 0) return PEXC_ERR_ARG;
    const uint8_t *x = in[0];
    uint8_t *y = out;
    for (int32_t i = 0; i < p->n; i++) y[i] = x[i] == 0;
    return PEXC_OK;
}
