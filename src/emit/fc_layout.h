/* Fully-connected weights laid out for pexc_fully_connected_s8_il in the
 * emitted C (src/emit/fc_layout.c). */
#ifndef PEXC_EMIT_FC_LAYOUT_H
#define PEXC_EMIT_FC_LAYOUT_H

#include "internal.h"

/* Does the emitted C for target (NULL: the host) call k through the
 * four-unit-block kernels, its weights laid out for them? */
int emit_fc_il(const k_call *k, const plan_t *p, const char *target);
/* Does it lay out the filter of k, a convolution or depthwise layer whose
 * windows the kernels gather, in those blocks too (filter_by_channel =
 * PEXC_FILTER_GATHER_IL4) under plan p? */
int emit_gather_il(const k_call *k, const plan_t *p, const char *target);
/* k's [units, depth] weights (or a gathered layer's [Cout][window]) in that layout, allocated from a; NULL when
 * out of memory. */
int8_t *emit_fc_il_weights(const k_call *k, util_arena *a);

#endif
