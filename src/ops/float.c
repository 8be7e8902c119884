/*
 * float32 models: the CNN operators on float tensors, computed as TFLite's
 * reference float kernels compute them (same summation order, same libm
 * functions), each a whole-tensor K_GENERIC call. The int8 core kernels
 * keep their operators; this family claims an operator only when its
 * activations are float32, so it sits first in the family table.
 */
#include <math.h>
#include <string.h>

#include "ops/ops.h"
#include "prep/prep.h"

#define FAIL(...) return util_fail(c->err, __VA_ARGS__)

int ops_float_known(int32_t code) {
    switch (code) {
    case OP_CONV_2D: case OP_DEPTHWISE_CONV_2D: case OP_AVERAGE_POOL_2D: case OP_MAX_POOL_2D: case OP_ADD:
    case OP_SUB: case OP_MUL: case OP_SOFTMAX: case OP_LOGISTIC: case OP_TANH: case OP_RELU: case OP_RELU6:
    case OP_EXP: case OP_LOG: case OP_SQRT: case OP_RSQRT: case OP_SIN: case OP_COS: case OP_SQUARE: case OP_NEG:
    case OP_FLOOR: case OP_CEIL: case OP_ROUND: case OP_ABS: case OP_ELU:
        return 1;
    default: return 0;
    }
}

/* ---- emission -------------------------------------------------------------- */

/* A float as a C constant expression, exactly (hex float, or an infinity). */
static const char *f32_c(float x, char buf[48]) {
    if (isinf(x)) snprintf(buf, 48, "%s__builtin_inff()", x < 0 ? "-" : "");
    else snprintf(buf, 48, "%af", (double)x);
    return buf;
}

static int emit_conv(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_conv_f32_params *p = k->gen_params;
    char what[64], a[48], b[48];
    size_t nf = p->depth_multiplier ? (size_t)p->kh * p->kw * p->out_dims[3]
                                    : (size_t)p->out_dims[3] * p->kh * p->kw * p->in_dims[3];
    snprintf(what, sizeof what, "op%d_filter", k->op);
    const char *f = emit_const_array(e, p->filter, nf, IR_F32, what), *bias = "NULL";
    if (!f) return -1;
    if (p->bias) {
        snprintf(what, sizeof what, "op%d_bias", k->op);
        if (!(bias = emit_const_array(e, p->bias, (size_t)p->out_dims[3], IR_F32, what))) return -1;
    }
    emit_printf(e, "static const pexc_conv_f32_params %s = {\n    ", var);
    emit_int_field(e, "in_dims", p->in_dims, 4);
    emit_int_field(e, "out_dims", p->out_dims, 4);
    emit_printf(e,
                "\n    .kh = %d, .kw = %d, .depth_multiplier = %d, .stride_h = %d, .stride_w = %d,\n"
                "    .dilation_h = %d, .dilation_w = %d, .pad_top = %d, .pad_left = %d,\n"
                "    .act_min = %s, .act_max = %s, .filter = %s, .bias = %s,\n};\n",
                p->kh, p->kw, p->depth_multiplier, p->stride_h, p->stride_w, p->dilation_h, p->dilation_w,
                p->pad_top, p->pad_left, f32_c(p->act_min, a), f32_c(p->act_max, b), f, bias);
    return 0;
}

static int emit_pool(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_pool_f32_params *p = k->gen_params;
    char a[48], b[48];
    emit_printf(e, "static const pexc_pool_f32_params %s = {\n    ", var);
    emit_int_field(e, "in_dims", p->in_dims, 4);
    emit_int_field(e, "out_dims", p->out_dims, 4);
    emit_printf(e,
                "\n    .filter_h = %d, .filter_w = %d, .stride_h = %d, .stride_w = %d, .pad_top = %d,\n"
                "    .pad_left = %d, .is_max = %d, .act_min = %s, .act_max = %s,\n};\n",
                p->filter_h, p->filter_w, p->stride_h, p->stride_w, p->pad_top, p->pad_left, p->is_max,
                f32_c(p->act_min, a), f32_c(p->act_max, b));
    return 0;
}

static int emit_binary(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_binary_f32_params *p = k->gen_params;
    char a[48], b[48];
    (void)k;
    emit_printf(e, "static const pexc_binary_f32_params %s = {", var);
    emit_bcast_fields(e, p->op, p->rank, p->dims, p->stride_a, p->stride_b);
    emit_printf(e, "\n    .act_min = %s, .act_max = %s,\n};\n", f32_c(p->act_min, a), f32_c(p->act_max, b));
    return 0;
}

static int emit_unary(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_unary_f32_params *p = k->gen_params;
    (void)k;
    emit_printf(e, "static const pexc_unary_f32_params %s = {.op = %d, .n = %d};\n", var, p->op, p->n);
    return 0;
}

static int emit_softmax(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_softmax_f32_params *p = k->gen_params;
    char a[48];
    (void)k;
    emit_printf(e, "static const pexc_softmax_f32_params %s = {.outer = %d, .depth = %d, .beta = %s};\n", var,
                p->outer, p->depth, f32_c(p->beta, a));
    return 0;
}

/* ---- host calls ------------------------------------------------------------- */

static pexc_status run_conv(const void *p, const void *const *in, void *out) { return pexc_conv_f32(p, in, out); }
static pexc_status run_pool(const void *p, const void *const *in, void *out) { return pexc_pool_f32(p, in, out); }
static pexc_status run_binary(const void *p, const void *const *in, void *out) {
    return pexc_arith_f32(p, in, out);
}
static pexc_status run_unary(const void *p, const void *const *in, void *out) { return pexc_unary_f32(p, in, out); }
static pexc_status run_softmax(const void *p, const void *const *in, void *out) {
    return pexc_softmax_f32(p, in, out);
}

static const ops_kernel k_conv = {"pexc_conv_f32", "pexc_conv_f32_params", run_conv, emit_conv};
static const ops_kernel k_pool = {"pexc_pool_f32", "pexc_pool_f32_params", run_pool, emit_pool};
static const ops_kernel k_binary = {"pexc_arith_f32", "pexc_binary_f32_params", run_binary, emit_binary};
static const ops_kernel k_unary = {"pexc_unary_f32", "pexc_unary_f32_params", run_unary, emit_unary};
static const ops_kernel k_softmax = {"pexc_softmax_f32", "pexc_softmax_f32_params", run_softmax, emit_softmax};

/* ---- lowering ------------------------------------------------------------------ */

static int act_of(lower_ctx *c, int32_t code, float *lo, float *hi) {
    if (prep_activation_f32(code, lo, hi))
        FAIL("operator %d (%s): fused activation %d is not one TFLite defines for float", c->op->index, c->name, code);
    return 0;
}

static int lower_conv_f32(lower_ctx *c, k_call *k, ir_tensor *in, ir_tensor *out) {
    ir_op *op = c->op;
    int dw = op->code == OP_DEPTHWISE_CONV_2D;
    ir_tensor *w = lower_in(c, 1), *b = lower_in(c, 2);
    if (lower_need(c, w, 1, "filter", IR_F32, 1)) return -1;
    if (b && lower_need(c, b, 2, "bias", IR_F32, 1)) return -1;
    if (in->rank != 4 || w->rank != 4 || out->rank != 4)
        FAIL("operator %d (%s): input, filter and output must be 4-D", op->index, c->name);
    int32_t C = in->shape[3], OC = dw ? w->shape[3] : w->shape[0];
    if (C < 1 || OC < 1 || (dw ? (w->shape[0] != 1 || OC % C) : w->shape[3] != C))
        FAIL("operator %d (%s): filter tensor %d shape [%d,%d,%d,%d] does not fit %d input channels", op->index,
             c->name, w->index, w->shape[0], w->shape[1], w->shape[2], w->shape[3], C);
    if (b && b->elems != OC)
        FAIL("operator %d (%s): bias tensor %d has %lld values for %d output channels", op->index, c->name,
             b->index, (long long)b->elems, OC);
    pexc_conv_f32_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    const ir_options *o = &op->opt;
    int32_t oh, ow;
    if (lower_conv_axis(in->shape[1], w->shape[1], o->stride_h, o->dilation_h, o->padding, &oh, &p->pad_top) ||
        lower_conv_axis(in->shape[2], w->shape[2], o->stride_w, o->dilation_w, o->padding, &ow, &p->pad_left))
        FAIL("operator %d (%s): invalid stride %dx%d / dilation %dx%d / padding %d for input %dx%d and kernel %dx%d",
             op->index, c->name, o->stride_h, o->stride_w, o->dilation_h, o->dilation_w, o->padding, in->shape[1],
             in->shape[2], w->shape[1], w->shape[2]);
    int32_t want[4] = {in->shape[0], oh, ow, OC};
    if (lower_check_dims(c, out, want, "output")) return -1;
    memcpy(p->in_dims, in->shape, sizeof p->in_dims);
    memcpy(p->out_dims, want, sizeof want);
    p->kh = w->shape[1];
    p->kw = w->shape[2];
    p->depth_multiplier = dw ? OC / C : 0;
    p->stride_h = o->stride_h;
    p->stride_w = o->stride_w;
    p->dilation_h = o->dilation_h;
    p->dilation_w = o->dilation_w;
    p->filter = (const float *)(const void *)w->data;
    p->bias = b ? (const float *)(const void *)b->data : NULL;
    if (act_of(c, o->activation, &p->act_min, &p->act_max)) return -1;
    int32_t ts[3] = {in->index, w->index, b ? b->index : -1};
    return ops_generic(c, k, &k_conv, p, ts, 1);
}

static int lower_pool_f32(lower_ctx *c, k_call *k, ir_tensor *in, ir_tensor *out) {
    ir_op *op = c->op;
    const ir_options *o = &op->opt;
    if (in->rank != 4) FAIL("operator %d (%s): input tensor %d must be 4-D", op->index, c->name, in->index);
    pexc_pool_f32_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    int32_t oh, ow;
    if (lower_conv_axis(in->shape[1], o->filter_h, o->stride_h, 1, o->padding, &oh, &p->pad_top) ||
        lower_conv_axis(in->shape[2], o->filter_w, o->stride_w, 1, o->padding, &ow, &p->pad_left))
        FAIL("operator %d (%s): invalid window %dx%d / stride %dx%d for input %dx%d", op->index, c->name, o->filter_h,
             o->filter_w, o->stride_h, o->stride_w, in->shape[1], in->shape[2]);
    int32_t want[4] = {in->shape[0], oh, ow, in->shape[3]};
    if (lower_check_dims(c, out, want, "output")) return -1;
    memcpy(p->in_dims, in->shape, sizeof p->in_dims);
    memcpy(p->out_dims, want, sizeof want);
    p->filter_h = o->filter_h;
    p->filter_w = o->filter_w;
    p->stride_h = o->stride_h;
    p->stride_w = o->stride_w;
    p->is_max = op->code == OP_MAX_POOL_2D;
    if (act_of(c, o->activation, &p->act_min, &p->act_max)) return -1;
    return ops_generic(c, k, &k_pool, p, &in->index, 1);
}

static int lower_binary_f32(lower_ctx *c, k_call *k, ir_tensor *a, ir_tensor *out) {
    ir_tensor *b = lower_in(c, 1);
    if (lower_need(c, b, 1, "input", IR_F32, 0)) return -1;
    pexc_binary_f32_params *p = ops_alloc(c, sizeof *p);
    int32_t act;
    if (!p || ops_binary_layout(c, a, b, out, &p->op, &p->rank, p->dims, p->stride_a, p->stride_b, &act)) return -1;
    if (act_of(c, act, &p->act_min, &p->act_max)) return -1;
    int32_t ts[2] = {a->index, b->index};
    return ops_generic(c, k, &k_binary, p, ts, 2);
}

/* The element-wise functions TFLM has only in float32: the op code's
 * PEXC_UN_* value, or -1. */
static int32_t float_only_unary(int32_t code) {
    switch (code) {
    case OP_EXP: return PEXC_UN_EXP;
    case OP_LOG: return PEXC_UN_LOG;
    case OP_SQRT: return PEXC_UN_SQRT;
    case OP_SIN: return PEXC_UN_SIN;
    case OP_COS: return PEXC_UN_COS;
    case OP_SQUARE: return PEXC_UN_SQUARE;
    case OP_NEG: return PEXC_UN_NEG;
    case OP_FLOOR: return PEXC_UN_FLOOR;
    case OP_CEIL: return PEXC_UN_CEIL;
    case OP_ROUND: return PEXC_UN_ROUND;
    case OP_ELU: return PEXC_UN_ELU;
    default: return -1;
    }
}

int ops_float_lower(lower_ctx *c, k_call *k) {
    ir_op *op = c->op;
    ir_tensor *in = lower_in(c, 0), *out = &c->g->tensors[op->out[0]];
    if (!ops_float_known(op->code) || !in) return 1;
    /* these exist in TFLM for float32 alone: any other input type is
     * refused here rather than left to the core lowering */
    if (in->type != IR_F32 && float_only_unary(op->code) >= 0 && op->code != OP_ELU) /* int8 ELU: a table */
        FAIL("operator %d (%s): input tensor %d has type %d; TFLM computes %s only on float32 (type 0)", op->index,
             c->name, in->index, in->type, c->name);
    if (in->type != IR_F32) return 1;
    if (lower_need(c, out, 0, "output", IR_F32, 0)) return -1;
    switch (op->code) {
    case OP_CONV_2D:
    case OP_DEPTHWISE_CONV_2D: return lower_conv_f32(c, k, in, out);
    case OP_AVERAGE_POOL_2D:
    case OP_MAX_POOL_2D: return lower_pool_f32(c, k, in, out);
    case OP_ADD:
    case OP_SUB:
    case OP_MUL: return lower_binary_f32(c, k, in, out);
    default: break;
    }
    if (in->elems != out->elems)
        FAIL("operator %d (%s): input tensor %d has %lld elements, output tensor %d has %lld", op->index, c->name,
             in->index, (long long)in->elems, out->index, (long long)out->elems);
    if (in->elems > INT32_MAX) FAIL("operator %d (%s): too many elements", op->index, c->name);
    /* TFLM's Prepare of these three also requires the input's very shape */
    if ((op->code == OP_EXP || op->code == OP_CEIL || op->code == OP_ROUND) &&
        (in->rank != out->rank || memcmp(in->shape, out->shape, sizeof(int32_t) * (size_t)in->rank)))
        FAIL("operator %d (%s): output tensor %d does not have the shape of input tensor %d", op->index, c->name,
             out->index, in->index);
    if (op->code == OP_SOFTMAX) {
        pexc_softmax_f32_params *p = ops_alloc(c, sizeof *p);
        if (!p) return -1;
        p->depth = in->rank ? in->shape[in->rank - 1] : 1;
        p->outer = (int32_t)(in->elems / (p->depth ? p->depth : 1));
        p->beta = op->opt.beta;
        return ops_generic(c, k, &k_softmax, p, &in->index, 1);
    }
    pexc_unary_f32_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    p->n = (int32_t)in->elems;
    p->op = float_only_unary(op->code);
    if (p->op < 0)
        p->op = op->code == OP_RELU ? PEXC_UN_RELU
                : op->code == OP_RELU6 ? PEXC_UN_RELU6
                : op->code == OP_TANH ? PEXC_UN_TANH
                : op->code == OP_RSQRT ? PEXC_UN_RSQRT
                : op->code == OP_ABS ? PEXC_UN_ABS
                                       : PEXC_UN_LOGISTIC;
    return ops_generic(c, k, &k_unary, p, &in->index, 1);
}
