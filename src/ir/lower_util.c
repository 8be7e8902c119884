/*
 * Lowering helpers shared by the core lowering (lower.c) and the operator
 * families (src/ops/): operand lookup, type and quantisation checks,
 * constant integer vectors, and shape checks, each failing with a message
 * that names the operator, the tensor and what is wrong.
 */
#include <string.h>

#include "ir/lower.h"

#define FAIL(...) return util_fail(err, __VA_ARGS__)


ir_tensor *lower_in(lower_ctx *c, int k) {
    if (k >= c->op->n_in || c->op->in[k] < 0) return NULL;
    return &c->g->tensors[c->op->in[k]];
}

int lower_need(lower_ctx *c, ir_tensor *t, int k, const char *role, int32_t type, int constant) {
    util_err *err = c->err;
    if (!t) FAIL("operator %d (%s): missing %s (input %d)", c->op->index, c->name, role, k);
    if (t->type != type)
        FAIL("operator %d (%s): %s tensor %d (%s) is %s; pexc supports %s here", c->op->index, c->name, role,
             t->index, t->name, ir_type_name(t->type), ir_type_name(type));
    if (constant && !t->data)
        FAIL("operator %d (%s): %s tensor %d (%s) must be a constant", c->op->index, c->name, role, t->index, t->name);
    return 0;
}

int lower_need_q(lower_ctx *c, ir_tensor *t, const char *role) {
    if (t->nq < 1)
        return util_fail(c->err, "operator %d (%s): %s tensor %d (%s) has no quantization parameters", c->op->index,
                         c->name, role, t->index, t->name);
    /* kernels add zero points to int32 sums: keep them in the type's range */
    for (int32_t i = 0; t->type == IR_I8 && i < t->nq; i++)
        if (t->zero_point[i] < -128 || t->zero_point[i] > 127)
            return util_fail(c->err, "operator %d (%s): %s tensor %d (%s) has zero point %lld outside the int8 range",
                             c->op->index, c->name, role, t->index, t->name, (long long)t->zero_point[i]);
    return 0;
}


int32_t lower_zp(const ir_tensor *t) { return t->nq ? (int32_t)t->zero_point[0] : 0; }
float lower_scale(const ir_tensor *t) { return t->nq ? t->scale[0] : 1.0f; }


int lower_check_dims(lower_ctx *c, const ir_tensor *t, const int32_t want[4], const char *role) {
    int32_t d[4];
    lower_nhwc(t, d);
    for (int i = 0; i < 4; i++)
        if (d[i] != want[i])
            return util_fail(c->err,
                             "operator %d (%s): %s tensor %d (%s) has shape [%d,%d,%d,%d], expected [%d,%d,%d,%d]",
                             c->op->index, c->name, role, t->index, t->name, d[0], d[1], d[2], d[3], want[0],
                             want[1], want[2], want[3]);
    return 0;
}


int lower_const_ints(lower_ctx *c, ir_tensor *t, int64_t *v, int64_t max_n, int64_t *n, const char *role) {
    util_err *err = c->err;
    if (!t || !t->data) FAIL("operator %d (%s): %s must be a constant tensor", c->op->index, c->name, role);
    if (t->type != IR_I32 && t->type != IR_I64)
        FAIL("operator %d (%s): %s tensor %d is %s; expected int32 or int64", c->op->index, c->name, role, t->index,
             ir_type_name(t->type));
    if (t->elems > max_n) FAIL("operator %d (%s): %s has %lld values (at most %lld)", c->op->index, c->name, role,
                               (long long)t->elems, (long long)max_n);
    for (int64_t i = 0; i < t->elems; i++) {
        if (t->type == IR_I32) {
            int32_t x;
            memcpy(&x, t->data + 4 * i, 4);
            v[i] = x;
        } else {
            memcpy(&v[i], t->data + 8 * i, 8);
        }
    }
    *n = t->elems;
    return 0;
}


int lower_bcast_strides(lower_ctx *c, const ir_tensor *t, const ir_tensor *out, int32_t *stride) {
    util_err *err = c->err;
    int32_t r = out->rank, off = r - t->rank;
    if (off < 0) FAIL("operator %d (%s): tensor %d has rank %d above the output's %d", c->op->index, c->name,
                      t->index, t->rank, r);
    int64_t s = 1;
    for (int32_t d = r - 1; d >= 0; d--) {
        int32_t e = d >= off ? t->shape[d - off] : 1;
        if (e != 1 && e != out->shape[d])
            FAIL("operator %d (%s): tensor %d axis %d has extent %d, which does not broadcast to the output's %d",
                 c->op->index, c->name, t->index, d - off, e, out->shape[d]);
        stride[d] = e == 1 ? 0 : (int32_t)s;
        s *= e;
    }
    return 0;
}


/* TFLite output size and padding for one spatial axis. */
int lower_conv_axis(int32_t in, int32_t k, int32_t stride, int32_t dil, int32_t padding, int32_t *out,
                     int32_t *pad) {
    if (stride < 1 || dil < 1 || k < 1 || in < 1) return -1;
    /* 64-bit: hostile strides and dilations must not overflow here, and the
     * padding is bounded so the kernels' int32 index arithmetic cannot */
    int64_t eff = (int64_t)(k - 1) * dil + 1, o;
    if (padding == 0)
        o = ((int64_t)in + stride - 1) / stride;
    else if (padding == 1)
        o = in >= eff ? ((int64_t)in - eff + stride) / stride : 0;
    else
        return -1;
    int64_t total = (o - 1) * stride + eff - in;
    if (o < 1 || total > ((int64_t)1 << 29)) return -1;
    *out = (int32_t)o;
    *pad = total > 0 ? (int32_t)(total / 2) : 0;
    return 0;
}

int lower_conv_axis_explicit(int32_t in, int32_t before, int32_t after, int32_t k, int32_t stride, int32_t dil,
                             int32_t *out, int32_t *pad) {
    if (stride < 1 || dil < 1 || k < 1 || in < 1 || before < 0 || after < 0 || before > (1 << 20) ||
        after > (1 << 20))
        return -1;
    int64_t eff = (int64_t)(k - 1) * dil + 1, ext = (int64_t)in + before + after;
    if (ext < eff) return -1;
    *out = (int32_t)((ext - eff) / stride + 1);
    *pad = before;
    return 0;
}
