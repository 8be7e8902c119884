/*
 * Which fully-connected layers the emitted C runs over weights laid out in
 * four-unit blocks (runtime/src/fully_connected_il.c), and that layout.
 *
 * The weights are constants, so storing them in the order the kernel reads
 * them costs nothing at run time and no flash (the same bytes, permuted).
 * The block loop pays where four units share each input word and a block
 * has at least two words: int8 weights with zero point 0 (what the
 * converter makes; another zero point takes the plain loop anyway), four
 * units or more and a depth of 8 or more. It is not used on the
 * Cortex-M55, whose Helium kernel (mve_conv.c) reads the row-major matrix.
 */
#include "emit/fc_layout.h"

#include <string.h>

#include "pexc_kernels.h"

int emit_fc_il(const k_call *k, const char *target) {
    if (target && !strcmp(target, "cortex-m55")) return 0;
    return k->kind == K_FC && k->filter_offset == 0 && k->out_dims[3] >= 4 && k->in_dims[0][3] >= 8;
}

int8_t *emit_fc_il_weights(const k_call *k, util_arena *a) {
    const int32_t units = k->out_dims[3], depth = k->in_dims[0][3];
    int8_t *w = util_alloc(a, (size_t)units * (size_t)depth);
    if (!w) return NULL;
    for (int32_t u = 0; u < units; u++)
        for (int32_t d = 0; d < depth; d++)
            w[pexc_fc_il4_index(units, depth, u, d)] = k->weights[(size_t)u * (size_t)depth + (size_t)d];
    return w;
}
