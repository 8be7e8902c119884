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
int ops_binary_known(int32_t code);
/* Also lowers ADD and MUL whose shapes the 4-D kernels refuse. */
int ops_binary_lower(lower_ctx *c, k_call *k);

/* ---- data movement (move.c) ---- */
int ops_move_known(int32_t code);
int ops_move_lower(lower_ctx *c, k_call *k);
/* 1 when a core operator (PAD, PADV2) is one the core kernel does not
 * handle and move.c lowers instead (other types, higher ranks). */
int ops_move_claims(const ir_graph *g, const ir_op *op);

/* ---- reductions (reduce.c) ---- */
int ops_reduce_known(int32_t code);
int ops_reduce_lower(lower_ctx *c, k_call *k);

/* ---- resize, transpose conv, batch matmul (spatial.c) ---- */
int ops_spatial_known(int32_t code);
int ops_spatial_lower(lower_ctx *c, k_call *k);

/* ---- sequences, state (seq.c) ---- */

/* UNIDIRECTIONAL_SEQUENCE_LSTM (int8, float32) with its state tensors */
int ops_seq_known(int32_t code);
int ops_seq_lower(lower_ctx *c, k_call *k);
/* READ_VARIABLE, ASSIGN_VARIABLE after the reader has made each resource
 * variable a variable tensor (resvar.c) */
int ops_resvar_known(int32_t code);
int ops_resvar_lower(lower_ctx *c, k_call *k);

/* SVDF (int8 with int8 or int16 state, float32) with its state tensor (svdf.c) */
int ops_svdf_known(int32_t code);
int ops_svdf_lower(lower_ctx *c, k_call *k);

/* ---- float32 (float.c) ---- */
int ops_float_known(int32_t code);
int ops_float_lower(lower_ctx *c, k_call *k);

/* ---- int16 (int16.c) ---- */
/* int16x8 operators (int16 activations, int8 weights) as whole-tensor calls */
int ops_int16_known(int32_t code);
int ops_int16_lower(lower_ctx *c, k_call *k);

/* ---- audio front end: TFLM signal-library custom operators (signal.c) ---- */
int ops_misc_known(int32_t code);
int ops_misc_lower(lower_ctx *c, k_call *k);

int ops_signal_known(int32_t code);
int ops_signal_custom_known(const char *name);
int ops_signal_lower(lower_ctx *c, k_call *k);

/* Makes k a K_GENERIC call of kernel kn with the given parameters (kept in
 * the model's arena), reading tensors[0..n) whole, in that order. */
int ops_generic(lower_ctx *c, k_call *k, const ops_kernel *kn, const void *params, const int32_t *tensors,
                int32_t n);
/* ADD / SUB / MUL (c->op) of a and b into out, rank <= 6: the PEXC_BIN_*
 * code, the output's extents, each operand's element strides along them
 * (numpy broadcasting: 0 where its extent is 1 or it has no such axis) and
 * the fused activation. */
int ops_binary_layout(lower_ctx *c, const ir_tensor *a, const ir_tensor *b, const ir_tensor *out, int32_t *op,
                      int32_t *rank, int32_t dims[6], int32_t stride_a[6], int32_t stride_b[6], int32_t *act);

/* Defines `static const ops_kernel var` for the runtime function fn with
 * parameter struct ptype and emit function emit, and its host wrapper. */
#define OPS_KERNEL(var, fn, ptype, emit)                                      \
    static pexc_status var##_run(const void *p, const void *const *in, void *out) { \
        return fn((const ptype *)p, in, out);                                 \
    }                                                                         \
    static const ops_kernel var = {#fn, #ptype, var##_run, emit}

/* Zeroed memory in the model's arena; NULL and c->err set when exhausted. */
void *ops_alloc(lower_ctx *c, size_t bytes);

#endif /* PEXC_OPS_H */
