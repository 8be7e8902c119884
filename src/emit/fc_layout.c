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
 *
 * A first layer whose windows the kernels gather (pexc_gather_tile: a
 * convolution with kh * kw * Cin <= PEXC_GATHER_MAX, a depthwise layer with
 * one input channel) is the same product, each output pixel's window
 * against a [Cout][kh * kw * Cin] matrix, so its filter takes the same
 * layout (filter_by_channel = PEXC_FILTER_GATHER_IL4) where the window is
 * whole words (kws's 10x4 and micro_speech's 10x8 windows) and no step of
 * the layer sums partial input ranges (those kernels read the plain
 * layout).
 */
#include "emit/fc_layout.h"

#include <string.h>

#include "pexc_kernels.h"

/* Whether every step of the layer computes whole four-unit blocks: a
 * channel-sliced plan (min-sram's one-channel slices) would send each of
 * its units through the blocked kernels' scalar tail, several times slower
 * than the row-major kernels. */
static int steps_in_blocks(const k_call *k, const plan_t *p) {
    const int32_t c = k->out_dims[3];
    for (int32_t s = 0; s < p->n_steps; s++) {
        const plan_step *st = &p->steps[s];
        if (st->call != k->op || st->mode == STEP_FINISH) continue;
        if (st->tile.c0 % 4 != 0 || (st->tile.c1 % 4 != 0 && st->tile.c1 != c)) return 0;
    }
    return 1;
}

int emit_fc_il(const k_call *k, const plan_t *p, const char *target) {
    if (target && !strcmp(target, "cortex-m55")) return 0;
    return k->kind == K_FC && k->filter_offset == 0 && k->out_dims[3] >= 4 && k->in_dims[0][3] >= 8 &&
           steps_in_blocks(k, p);
}

/* The depth of a gathered layer's filter rows, or 0 for a layer that is
 * not gathered. */
static int32_t gather_depth(const k_call *k) {
    if (k->kind == K_DWCONV) return k->conv.filter_by_channel == 1 ? k->kh * k->kw : 0;
    if (k->kind != K_CONV || k->kh * k->kw < 2) return 0;
    const int32_t d = k->kh * k->kw * k->in_dims[0][3];
    return d <= PEXC_GATHER_MAX ? d : 0;
}

int emit_gather_il(const k_call *k, const plan_t *p, const char *target) {
    if (target && !strcmp(target, "cortex-m55")) return 0;
    const int32_t d = gather_depth(k);
    if (d < 8 || d % 4 != 0 || k->out_dims[3] < 4) return 0;
    for (int32_t s = 0; s < p->n_steps; s++)
        if (p->steps[s].mode == STEP_ACC && p->steps[s].call == k->op) return 0;
    return steps_in_blocks(k, p);
}

int8_t *emit_fc_il_weights(const k_call *k, util_arena *a) {
    const int32_t units = k->out_dims[3], depth = k->kind == K_FC ? k->in_dims[0][3] : gather_depth(k);
    int8_t *w = util_alloc(a, (size_t)units * (size_t)depth);
    if (!w) return NULL;
    for (int32_t u = 0; u < units; u++)
        for (int32_t d = 0; d < depth; d++)
            w[pexc_fc_il4_index(units, depth, u, d)] = k->weights[(size_t)u * (size_t)depth + (size_t)d];
    return w;
}
