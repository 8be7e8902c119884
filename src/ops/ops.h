/*
 * Operator families: each file in src/ops/ lowers a set of TFLite operators
 * to kernel calls (see the "ops" section of internal.h for the contract).
 *
 * Adding a family: write src/ops/<family>.c with
 *     int ops_<family>_known(int32_t code);          1 for the codes it lowers
 *     int ops_<family>_lower(lower_ctx *c, k_call *k); 0, -1 (c->err), 1 not mine
 * declare both below and add one line to the table in ops.c. Families are
 * asked before the core lowering (src/ir/lower.c), so a family that knows a
 * core operator (PAD, MEAN, ...) must decline (1) the cases the core
 * lowers, and a family that handles one type declines the others. Its runtime
 * kernels go in runtime/src/ (one idea per file) and pexc_kernels.h.
 */
#ifndef PEXC_OPS_H
#define PEXC_OPS_H

#include "ir/lower.h"

/* int8 -> int8 element-wise functions as 256-entry tables (lut.c) */
int ops_lut_known(int32_t code);
int ops_lut_lower(lower_ctx *c, k_call *k);

/* ---- element-wise binary (binary.c) ---- */

/* ---- data movement (move.c) ---- */

/* ---- reductions (reduce.c) ---- */

/* ---- resize, transpose conv, batch matmul (spatial.c) ---- */

/* ---- sequences, state (seq.c) ---- */

/* ---- float32 (float.c) ---- */
int ops_float_known(int32_t code);
int ops_float_lower(lower_ctx *c, k_call *k);

/* ---- int16 (int16.c) ---- */

/* ---- audio front end: TFLM signal-library custom operators (signal.c) ---- */
int ops_signal_known(int32_t code);
int ops_signal_custom_known(const char *name);
int ops_signal_lower(lower_ctx *c, k_call *k);

/* Makes k a K_GENERIC call of kernel kn with the given parameters (kept in
 * the model's arena), reading tensors[0..n) whole, in that order. */
int ops_generic(lower_ctx *c, k_call *k, const ops_kernel *kn, const void *params, const int32_t *tensors,
                int32_t n);
/* Zeroed memory in the model's arena; NULL and c->err set when exhausted. */
void *ops_alloc(lower_ctx *c, size_t bytes);

#endif /* PEXC_OPS_H */
