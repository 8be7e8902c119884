/*
 * Table lookup over a partial domain: for an int8 function that TFLM
 * refuses to evaluate on some inputs (RSQRT of a value below the zero
 * point, i.e. of a negative number). TFLM's Invoke stops with an error at
 * the first such element; this kernel does the same, so a model that fails
 * there fails here too instead of printing a made-up value.
 */
#include "pexc_kernels.h"

/**
 * @brief out[i] = table[in[i] + 128] for i in [0, n); PEXC_ERR_ARG at the
 * first in[i] below min_input (the outputs before it are written).
 *
 * in[0]: n int8 values; out: n int8 values; table: 256 int8 values.
 */
pexc_status pexc_lut_checked_s8(const pexc_lut_checked_params *p, const void *const *in, void *out) {
    if (!p || !p->table || !in || !in[0] || !out || p->n < 0) return PEXC_ERR_ARG;
    const int8_t *src = in[0];
    int8_t *dst = out;
    for (int32_t i = 0; i < p->n; i++) {
        if (src[i] < p->min_input) return PEXC_ERR_ARG;
        dst[i] = p->table[src[i] + 128];
    }
    return PEXC_OK;
}
