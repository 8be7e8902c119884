/* Fully-connected weights laid out for pexc_fully_connected_s8_il in the
 * emitted C (src/emit/fc_layout.c). */
#ifndef PEXC_EMIT_FC_LAYOUT_H
#define PEXC_EMIT_FC_LAYOUT_H

#include "internal.h"

/* Does the emitted C for target (NULL: the host) call k through the
 * four-unit-block kernels, its weights laid out for them? */
int emit_fc_il(const k_call *k, const char *target);
/* k's [units, depth] weights in that layout, allocated from a; NULL when
 * out of memory. */
int8_t *emit_fc_il_weights(const k_call *k, util_arena *a);

#endif
