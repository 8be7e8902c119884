/*
 * Walking an output in raster order while two operands follow it through
 * broadcast strides (element strides per output axis, 0 along an axis the
 * operand repeats): the element-wise binary kernels share this step.
 */
#ifndef PEXC_BCAST_H
#define PEXC_BCAST_H

#include <stddef.h>
#include <stdint.h>

/* Advances the output index idx[rank] by one (innermost axis fastest) and
 * the operand offsets *ia, *ib with it. */
static inline void pexc_bcast_next(int32_t rank, const int32_t *dims, const int32_t *stride_a,
                                   const int32_t *stride_b, int32_t *idx, size_t *ia, size_t *ib) {
    for (int32_t d = rank - 1; d >= 0; d--) {
        *ia += (size_t)stride_a[d];
        *ib += (size_t)stride_b[d];
        if (++idx[d] < dims[d]) return;
        *ia -= (size_t)stride_a[d] * (size_t)dims[d];
        *ib -= (size_t)stride_b[d] * (size_t)dims[d];
        idx[d] = 0;
    }
}

#endif /* PEXC_BCAST_H */
