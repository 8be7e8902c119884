/*
 * STRIDED_SLICE's copy: the compiler resolves begin, end, stride and the
 * masks into a start, step and count per axis (5 axes, leading ones of
 * count 1), so the device only walks the index space and copies elements
 * in output order.
 */
#include <string.h>

#include "pexc_kernels.h"

/** @brief Copies the elements at start + i * step (per axis) of in[0] to out, in order. */
pexc_status pexc_strided_copy(const pexc_strided_copy_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out) return PEXC_ERR_ARG;
    size_t es = (size_t)p->elem_size;
    if (es != 1 && es != 2 && es != 4 && es != 8) return PEXC_ERR_ARG;
    const uint8_t *x = in[0];
    uint8_t *y = out;
    for (int a = 0; a < 5; a++)
        if (p->count[a] < 1) return PEXC_OK;
    int32_t i[5] = {0, 0, 0, 0, 0};
    for (;;) {
        int64_t at = 0;
        for (int a = 0; a < 5; a++) at += (int64_t)(p->start[a] + i[a] * p->step[a]) * p->in_stride[a];
        memcpy(y, x + (size_t)at * es, es);
        y += es;
        int a = 4;
        while (a >= 0 && ++i[a] == p->count[a]) i[a--] = 0;
        if (a < 0) return PEXC_OK;
    }
}
