/*
 * Lowering helpers for the core lowering (lower.c) and the operator families
 * (src/ops/). A lower_ctx is the operator being lowered; every check fails
 * with "operator N (NAME): ..." naming the tensor and what is wrong.
 */
#ifndef PEXC_LOWER_H
#define PEXC_LOWER_H

#include "internal.h"

typedef struct {
    ir_graph *g;
    ir_op *op;
    util_err *err;
    const char *name; /* operator name for messages */
} lower_ctx;

/* Input k of the operator, or NULL when absent (-1 or past the end). */
ir_tensor *lower_in(lower_ctx *c, int k);
/* t exists, has IR type `type` and, when `constant`, constant data. */
int lower_need(lower_ctx *c, ir_tensor *t, int k, const char *role, int32_t type, int constant);
/* t has quantisation parameters, int8 zero points in range. */
int lower_need_q(lower_ctx *c, ir_tensor *t, const char *role);
/* First zero point and scale (0 and 1.0 when unquantised). */
int32_t lower_zp(const ir_tensor *t);
float lower_scale(const ir_tensor *t);
/* t's NHWC view (lower_nhwc) equals want. */
int lower_check_dims(lower_ctx *c, const ir_tensor *t, const int32_t want[4], const char *role);
/* The values of a constant int32/int64 tensor of at most max_n elements. */
int lower_const_ints(lower_ctx *c, ir_tensor *t, int64_t *v, int64_t max_n, int64_t *n, const char *role);

/* Element strides of operand t read as broadcast to out's shape (one per
 * output axis, rank <= 6; 0 along an axis t has extent 1 or lacks). */
int lower_bcast_strides(lower_ctx *c, const ir_tensor *t, const ir_tensor *out, int32_t *stride);

/* TFLite's output extent and leading padding of one spatial axis (padding
 * 0 SAME, 1 VALID); -1 for strides, dilations or sizes it cannot take. */
int lower_conv_axis(int32_t in, int32_t k, int32_t stride, int32_t dil, int32_t padding, int32_t *out,
                    int32_t *pad);
/* The same for explicit padding (IR_PAD_EXPLICIT): before and after rows
 * around the input; the output covers every window that fits, the
 * leading padding is before. */
int lower_conv_axis_explicit(int32_t in, int32_t before, int32_t after, int32_t k, int32_t stride, int32_t dil,
                             int32_t *out, int32_t *pad);

#endif /* PEXC_LOWER_H */
