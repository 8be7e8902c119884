/*
 * Widening a group without changing what the model computes.
 *
 * A stepwise prune can leave a group narrower than the budget needs (the
 * peak moved on after it was cut; see widths.c). Its channels are gone, but
 * a trained model can be given new ones that change nothing: each new
 * channel's producers compute something (a copy of an existing channel
 * with its producer weights and bias negated, so after the ReLU it carries
 * the part of the signal the copy drops), and every consumer reads it with
 * weight 0. An int8 weight of 0 adds nothing to the accumulator, whatever
 * the input and zero point, and the per-channel weight scales, biases and
 * activation ranges of every existing channel stay as they are, so the
 * widened model's outputs are the same bytes. Fine-tuning then has the
 * zero weights to grow: their gradients are not zero.
 *
 * Every array is rebuilt in the graph's arena by edit.c's prune_remap, the
 * same pass removal uses: activations widen their last dimension; producer
 * weights gain (negated) output rows, a depthwise inside the group gains
 * copied columns, both with their bias and per-channel quantisation
 * entries; consumers gain zero input columns; a RESHAPE's shape operand
 * names the new count.
 */
#include "prune/prune.h"

int prune_grow(ir_graph *g, prune_group *gr, int32_t to, util_err *err) {
    int32_t n = gr->channels;
    if (to <= n) return 0;
    int32_t *map = util_alloc(&g->arena, sizeof(int32_t) * (size_t)to);
    if (!map) return util_fail(err, "prune: out of memory");
    /* new channel j: made from old channel (j - n) mod n (prune_remap) */
    for (int32_t c = 0; c < to; c++) map[c] = c < n ? c : -1 - (c - n) % n;
    return prune_remap(g, gr, map, to, err);
}
