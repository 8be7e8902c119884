/*
 * int16x8 models: 16-bit activations with 8-bit weights, as the converter's
 * EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8 makes them.
 *
 * TFLM computes these operators with kernels of their own, not the int8
 * ones widened, and each has its own arithmetic:
 *   - convolutions and fully connected layers sum in int64 with an int64
 *     bias and requantise with a 64-bit multiply whose Q31 multiplier is
 *     first rounded to Q15 (with an int32 bias they sum and requantise in
 *     int32 instead); the convolutions take no zero points at all;
 *   - ADD and SUB always take the general rescaling path with a left shift
 *     of 15 (the pot_scale_int16 option is not read), ADD computing its
 *     scales in double and SUB in float;
 *   - SOFTMAX reads exp and 1/(1+x) from two 513-entry tables that Prepare
 *     fills by sampling the float functions; LOGISTIC and TANH scale the
 *     input by 3 * 2^-12 per unit of input scale and interpolate one fixed
 *     sigmoid table;
 *   - pooling, reductions and requantisation follow the int8 formulas with
 *     int16 limits.
 * Each operator here becomes a whole-tensor K_GENERIC call of a kernel in
 * runtime/src/ (files *_s16.c); every parameter the kernel needs (multipliers, clamps,
 * tables) is computed here as TFLM's Prepare computes it. TFLM's int16
 * checks live here too (the validation pass keeps its rules for int8): what
 * TFLM refuses is refused with the operator, tensor, field and value named.
 *
 * The family claims an operator only when its input or output is int16, so
 * it sits first in the family table, beside the float32 one. CONCATENATION
 * of int16 is checked here and then left to the core data-movement lowering,
 * which copies elements of any size.
 */
#include <math.h>
#include <string.h>

#include "ops/ops.h"
#include "prep/prep.h"

#define FAIL(...) return util_fail(c->err, __VA_ARGS__)

/* An int64 bias as an aligned copy: the model file keeps constants only
 * 4-byte aligned, and a kernel must not read an int64_t there. */
static const int64_t *bias64_aligned(lower_ctx *c, const ir_tensor *b) {
    int64_t *v = ops_alloc(c, (size_t)b->bytes);
    if (v) memcpy(v, b->data, b->bytes);
    return v;
}

int ops_int16_known(int32_t code) {
    switch (code) {
    case OP_CONV_2D: case OP_DEPTHWISE_CONV_2D: case OP_FULLY_CONNECTED: case OP_AVERAGE_POOL_2D:
    case OP_MAX_POOL_2D: case OP_ADD: case OP_MUL: case OP_SOFTMAX: case OP_LOGISTIC: case OP_TANH:
    case OP_QUANTIZE: case OP_DEQUANTIZE: case OP_CONCATENATION: case OP_PAD: case OP_PADV2: case OP_MEAN:
    case OP_SUM: case OP_REDUCE_MAX:
        return 1;
    default: return 0;
    }
}

/* ---- emission -------------------------------------------------------------- */

/* Emits a constant array named <model>_op<k>_<what>, or "NULL". */
static const char *emit_arr(emit_ctx *e, const k_call *k, const void *p, size_t n, int32_t type, const char *what) {
    char name[64];
    if (!p) return "NULL";
    snprintf(name, sizeof name, "op%d_%s", k->op, what);
    return emit_const_array(e, p, n, type, name);
}

static int emit_conv(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_conv_s16_params *p = k->gen_params;
    size_t oc = (size_t)p->out_dims[3];
    size_t nf = p->depth_multiplier ? (size_t)p->kh * p->kw * oc : oc * p->kh * p->kw * p->filter_depth;
    const char *f = emit_arr(e, k, p->filter, nf, IR_I8, "filter"), *b64 = emit_arr(e, k, p->bias64, oc, IR_I64, "bias"),
               *b32 = emit_arr(e, k, p->bias32, oc, IR_I32, "bias32"), *m = emit_arr(e, k, p->mult, oc, IR_I32, "mult"),
               *s = emit_arr(e, k, p->shift, oc, IR_I32, "shift");
    if (!f || !b64 || !b32 || !m || !s) return -1;
    emit_printf(e, "static const pexc_conv_s16_params %s = {\n    ", var);
    emit_int_field(e, "in_dims", p->in_dims, 4);
    emit_int_field(e, "out_dims", p->out_dims, 4);
    emit_printf(e,
                "\n    .kh = %d, .kw = %d, .filter_depth = %d, .depth_multiplier = %d, .stride_h = %d, .stride_w = %d,\n"
                "    .dilation_h = %d, .dilation_w = %d, .pad_top = %d, .pad_left = %d, .act_min = %d, .act_max = %d,\n"
                "    .acc32 = %d, .filter = %s, .bias64 = %s, .bias32 = %s, .mult = %s, .shift = %s,\n};\n",
                p->kh, p->kw, p->filter_depth, p->depth_multiplier, p->stride_h, p->stride_w, p->dilation_h,
                p->dilation_w, p->pad_top, p->pad_left, p->act_min, p->act_max, p->acc32, f, b64, b32, m, s);
    return 0;
}

static int emit_fc(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_fully_connected_s16_params *p = k->gen_params;
    size_t u = (size_t)p->units;
    const char *w = emit_arr(e, k, p->weights, u * (size_t)p->depth, IR_I8, "weights"),
               *b64 = emit_arr(e, k, p->bias64, u, IR_I64, "bias"), *b32 = emit_arr(e, k, p->bias32, u, IR_I32, "bias32"),
               *m = emit_arr(e, k, p->mult, u, IR_I32, "mult"), *s = emit_arr(e, k, p->shift, u, IR_I32, "shift");
    if (!w || !b64 || !b32 || !m || !s) return -1;
    emit_printf(e,
                "static const pexc_fully_connected_s16_params %s = {\n"
                "    .batches = %d, .depth = %d, .units = %d, .input_offset = %d, .filter_offset = %d,\n"
                "    .output_offset = %d, .act_min = %d, .act_max = %d, .acc32 = %d,\n"
                "    .weights = %s, .bias64 = %s, .bias32 = %s, .mult = %s, .shift = %s,\n};\n",
                var, p->batches, p->depth, p->units, p->input_offset, p->filter_offset, p->output_offset, p->act_min,
                p->act_max, p->acc32, w, b64, b32, m, s);
    return 0;
}

static int emit_pool(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_pool_s16_params *p = k->gen_params;
    (void)k;
    emit_printf(e, "static const pexc_pool_s16_params %s = {\n    ", var);
    emit_int_field(e, "in_dims", p->in_dims, 4);
    emit_int_field(e, "out_dims", p->out_dims, 4);
    emit_printf(e,
                "\n    .filter_h = %d, .filter_w = %d, .stride_h = %d, .stride_w = %d, .pad_top = %d, .pad_left = %d,\n"
                "    .is_max = %d, .act_min = %d, .act_max = %d,\n};\n",
                p->filter_h, p->filter_w, p->stride_h, p->stride_w, p->pad_top, p->pad_left, p->is_max, p->act_min,
                p->act_max);
    return 0;
}

static int emit_binary(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_binary_s16_params *p = k->gen_params;
    (void)k;
    emit_printf(e, "static const pexc_binary_s16_params %s = {\n    .op = %d, .rank = %d, ", var, p->op, p->rank);
    emit_int_field(e, "dims", p->dims, 6);
    emit_printf(e, "\n    ");
    emit_int_field(e, "stride_a", p->stride_a, 6);
    emit_int_field(e, "stride_b", p->stride_b, 6);
    emit_printf(e,
                "\n    .left_shift = %d, .input1_offset = %d, .input2_offset = %d, .input1_mult = %d,\n"
                "    .input1_shift = %d, .input2_mult = %d, .input2_shift = %d, .output_mult = %d,\n"
                "    .output_shift = %d, .output_offset = %d, .act_min = %d, .act_max = %d,\n};\n",
                p->left_shift, p->input1_offset, p->input2_offset, p->input1_mult, p->input1_shift, p->input2_mult,
                p->input2_shift, p->output_mult, p->output_shift, p->output_offset, p->act_min, p->act_max);
    return 0;
}

static int emit_softmax(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_softmax_s16_params *p = k->gen_params;
    /* every softmax shares the same two tables (emitted once) */
    const char *ex = emit_const_array(e, p->exp_lut, 513, IR_I16, "softmax_s16_exp_lut"),
               *re = emit_const_array(e, p->recip_lut, 513, IR_I16, "softmax_s16_recip_lut");
    (void)k;
    if (!ex || !re) return -1;
    emit_printf(e,
                "static const pexc_softmax_s16_params %s = {.outer = %d, .depth = %d, .input_multiplier = %d,\n"
                "    .input_left_shift = %d, .exp_lut = %s, .recip_lut = %s};\n",
                var, p->outer, p->depth, p->input_multiplier, p->input_left_shift, ex, re);
    return 0;
}

static int emit_sigmoid(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_sigmoid_s16_params *p = k->gen_params;
    (void)k;
    emit_printf(e,
                "static const pexc_sigmoid_s16_params %s = {.n = %d, .is_tanh = %d, .input_multiplier = %d, "
                ".input_left_shift = %d};\n",
                var, p->n, p->is_tanh, p->input_multiplier, p->input_left_shift);
    return 0;
}

static int emit_quantize(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_quantize_s16_params *p = k->gen_params;
    (void)k;
    emit_printf(e,
                "static const pexc_quantize_s16_params %s = {.n = %d, .in_type = %d, .out_type = %d, .in_zp = %d,\n"
                "    .out_zp = %d, .mult = %d, .shift = %d, .scale = %af};\n",
                var, p->n, p->in_type, p->out_type, p->in_zp, p->out_zp, p->mult, p->shift, (double)p->scale);
    return 0;
}

static int emit_reduce(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_reduce_s16_params *p = k->gen_params;
    (void)k;
    emit_printf(e, "static const pexc_reduce_s16_params %s = {\n    .rank = %d, .reduce_mask = %d, ", var, p->rank,
                p->reduce_mask);
    emit_int_field(e, "in_dims", p->in_dims, 6);
    emit_printf(e, "\n    .count = %d, .in_zp = %d, .out_zp = %d, .mult = %d, .shift = %d,\n};\n", p->count, p->in_zp,
                p->out_zp, p->mult, p->shift);
    return 0;
}

static int emit_pad(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_pad_s16_params *p = k->gen_params;
    (void)k;
    emit_printf(e, "static const pexc_pad_s16_params %s = {\n    ", var);
    emit_int_field(e, "in_dims", p->in_dims, 4);
    emit_int_field(e, "out_dims", p->out_dims, 4);
    emit_int_field(e, "before", p->before, 4);
    emit_printf(e, ".value = %d,\n};\n", p->value);
    return 0;
}

/* ---- host calls ------------------------------------------------------------- */

static pexc_status run_conv(const void *p, const void *const *in, void *out) { return pexc_conv_s16(p, in, out); }
static pexc_status run_fc(const void *p, const void *const *in, void *out) {
    return pexc_fully_connected_s16(p, in, out);
}
static pexc_status run_pool(const void *p, const void *const *in, void *out) { return pexc_pool_s16(p, in, out); }
static pexc_status run_binary(const void *p, const void *const *in, void *out) {
    return pexc_arith_s16(p, in, out);
}
static pexc_status run_softmax(const void *p, const void *const *in, void *out) {
    return pexc_softmax_s16(p, in, out);
}
static pexc_status run_sigmoid(const void *p, const void *const *in, void *out) {
    return pexc_sigmoid_s16(p, in, out);
}
static pexc_status run_quantize(const void *p, const void *const *in, void *out) {
    return pexc_quantize_s16(p, in, out);
}
static pexc_status run_reduce(const void *p, const void *const *in, void *out) {
    return pexc_reduce_s16(p, in, out);
}
static pexc_status run_pad(const void *p, const void *const *in, void *out) { return pexc_pad_s16(p, in, out); }

static const ops_kernel k_conv = {"pexc_conv_s16", "pexc_conv_s16_params", run_conv, emit_conv};
static const ops_kernel k_fc = {"pexc_fully_connected_s16", "pexc_fully_connected_s16_params", run_fc, emit_fc};
static const ops_kernel k_pool = {"pexc_pool_s16", "pexc_pool_s16_params", run_pool, emit_pool};
static const ops_kernel k_binary = {"pexc_arith_s16", "pexc_binary_s16_params", run_binary, emit_binary};
static const ops_kernel k_softmax = {"pexc_softmax_s16", "pexc_softmax_s16_params", run_softmax, emit_softmax};
static const ops_kernel k_sigmoid = {"pexc_sigmoid_s16", "pexc_sigmoid_s16_params", run_sigmoid, emit_sigmoid};
static const ops_kernel k_quantize = {"pexc_quantize_s16", "pexc_quantize_s16_params", run_quantize, emit_quantize};
static const ops_kernel k_reduce = {"pexc_reduce_s16", "pexc_reduce_s16_params", run_reduce, emit_reduce};
static const ops_kernel k_pad = {"pexc_pad_s16", "pexc_pad_s16_params", run_pad, emit_pad};

/* ---- checks shared by the operators ---------------------------------------- */

static int is16(const ir_tensor *t) { return t && t->type == IR_I16; }

static int n_inputs(lower_ctx *c, int32_t lo, int32_t hi) {
    if (c->op->n_in < lo || c->op->n_in > hi) {
        if (lo == hi) FAIL("operator %d (%s): has %d inputs; TFLM takes exactly %d", c->op->index, c->name, c->op->n_in, lo);
        FAIL("operator %d (%s): has %d inputs; TFLM takes %d to %d", c->op->index, c->name, c->op->n_in, lo, hi);
    }
    return 0;
}

/* An int16 (or int8) activation: one scale (TFLM reads only the first) and
 * a zero point in its type's range. */
static int need_act(lower_ctx *c, ir_tensor *t, int k, const char *role, int32_t type) {
    if (lower_need(c, t, k, role, type, 0) || lower_need_q(c, t, role)) return -1;
    if (t->nq > 1)
        FAIL("operator %d (%s): %s tensor %d (%s) has %d quantization scales; TFLM reads only the first here",
             c->op->index, c->name, role, t->index, t->name, t->nq);
    int64_t lo = type == IR_I16 ? INT16_MIN : INT8_MIN, hi = type == IR_I16 ? INT16_MAX : INT8_MAX;
    if (t->zero_point[0] < lo || t->zero_point[0] > hi)
        FAIL("operator %d (%s): %s tensor %d (%s) has zero point %lld outside the %s range", c->op->index, c->name,
             role, t->index, t->name, (long long)t->zero_point[0], ir_type_name(type));
    if (!(t->scale[0] > 0.0f) || isinf(t->scale[0]))
        FAIL("operator %d (%s): %s tensor %d (%s) has scale %g", c->op->index, c->name, role, t->index, t->name,
             (double)t->scale[0]);
    return 0;
}

static int zero_zp(lower_ctx *c, const ir_tensor *t, const char *role) {
    if (lower_zp(t) != 0)
        FAIL("operator %d (%s): %s tensor %d (%s) has zero point %d; TFLM's int16 kernel needs 0", c->op->index,
             c->name, role, t->index, t->name, lower_zp(t));
    return 0;
}

static int same_count(lower_ctx *c, const ir_tensor *in, const ir_tensor *out) {
    if (in->elems != out->elems)
        FAIL("operator %d (%s): input tensor %d has %lld elements, output tensor %d has %lld", c->op->index, c->name,
             in->index, (long long)in->elems, out->index, (long long)out->elems);
    if (in->elems > INT32_MAX) FAIL("operator %d (%s): %lld elements (at most 2^31 - 1)", c->op->index, c->name,
                                    (long long)in->elems);
    return 0;
}

/* TFLM's CalculateActivationRangeQuantized for an int16 output. */
static int act_range(lower_ctx *c, int32_t act, const ir_tensor *out, int32_t *lo, int32_t *hi) {
    static const float at[4][2] = {{0, 0}, {0.0f, 0}, {-1.0f, 1.0f}, {0.0f, 6.0f}};
    *lo = INT16_MIN;
    *hi = INT16_MAX;
    if (act < 0 || act > 3)
        FAIL("operator %d (%s): fused activation %d is not supported for int16", c->op->index, c->name, act);
    for (int k = 0; k < 2 && act; k++) {
        if (k == 1 && act == 1) break; /* RELU has no upper clamp */
        float q = roundf(at[act][k] / lower_scale(out));
        if (!(q >= -2147483648.0f && q <= 2147483648.0f))
            FAIL("operator %d (%s): activation bound %g does not fit output scale %g", c->op->index, c->name,
                 (double)at[act][k], (double)lower_scale(out));
        int64_t v = lower_zp(out) + (int64_t)q;
        if (k == 0 && v > *lo) *lo = v > INT16_MAX ? INT16_MAX : (int32_t)v;
        if (k == 1 && v < *hi) *hi = v < INT16_MIN ? INT16_MIN : (int32_t)v;
    }
    return 0;
}

/* Strides, dilations and the resolved padding TFLM keeps in an int16. */
static int window_ok(lower_ctx *c, int32_t sh, int32_t sw, int32_t dh, int32_t dw, int32_t pt, int32_t pl) {
    if (sh > 65536 || sw > 65536 || dh > 65536 || dw > 65536)
        FAIL("operator %d (%s): stride %dx%d / dilation %dx%d above 65536", c->op->index, c->name, sh, sw, dh, dw);
    if (pt > INT16_MAX || pl > INT16_MAX)
        FAIL("operator %d (%s): SAME padding %d/%d exceeds TFLM's int16 padding", c->op->index, c->name, pt, pl);
    return 0;
}

/* ---- CONV_2D, DEPTHWISE_CONV_2D ------------------------------------------- */

/* 0: int64 sums (int64 bias, or none), 1: int32 (int32 bias, or none with
 * quantized_bias_type INT32 in options table opt_type, field `field`; no
 * such field: opt_type 0), as TFLM picks its accumulator. */
static int acc_kind(lower_ctx *c, const ir_tensor *b, uint8_t opt_type, int field, int32_t *acc32) {
    *acc32 = 0;
    if (b) {
        if (b->type != IR_I64 && b->type != IR_I32)
            FAIL("operator %d (%s): bias tensor %d (%s) is %s; TFLM needs int64 or int32 here", c->op->index, c->name,
                 b->index, b->name, ir_type_name(b->type));
        if (!b->data) FAIL("operator %d (%s): bias tensor %d (%s) must be a constant", c->op->index, c->name, b->index,
                           b->name);
        *acc32 = b->type == IR_I32;
        return 0;
    }
    int32_t qbt = 0;
    if (opt_type && reader_opt_int(c->g, c->op, opt_type, field, 1, 0, &qbt, c->err)) return -1;
    *acc32 = qbt == IR_I32;
    return 0;
}

/* The 64-bit requantisation takes shifts up to 7 (TFLM asserts it). */
static int shifts_ok(lower_ctx *c, const int32_t *s, int32_t n, int32_t acc32) {
    for (int32_t i = 0; !acc32 && i < n; i++)
        if (s[i] > 7)
            FAIL("operator %d (%s): channel %d needs a requantisation shift of %d; TFLM's 64-bit requantisation "
                 "takes at most 7",
                 c->op->index, c->name, i, s[i]);
    return 0;
}

/* Per-channel filter quantisation: one scale, or one per channel along the
 * quantized dimension (TFLM's PopulateConvolutionQuantizationParams). */
static int filter_q(lower_ctx *c, const ir_tensor *w, int32_t channels, const char *role) {
    if (w->nq < 1) FAIL("operator %d (%s): %s tensor %d (%s) has no quantization parameters", c->op->index, c->name,
                        role, w->index, w->name);
    if (w->nq > 1 && (w->nq != channels || w->q_dim < 0 || w->q_dim >= w->rank || w->shape[w->q_dim] != w->nq))
        FAIL("operator %d (%s): %s tensor %d (%s) has %d scales along dimension %d for %d output channels",
             c->op->index, c->name, role, w->index, w->name, w->nq, w->q_dim, channels);
    for (int32_t i = 0; i < w->nq; i++)
        if (w->zero_point[i] != 0)
            FAIL("operator %d (%s): %s tensor %d (%s) has zero point %lld in channel %d; int8 weights must be "
                 "symmetric (0)",
                 c->op->index, c->name, role, w->index, w->name, (long long)w->zero_point[i], i);
    return 0;
}

static int lower_conv16(lower_ctx *c, k_call *k, ir_tensor *in, ir_tensor *out) {
    ir_op *op = c->op;
    int dw = op->code == OP_DEPTHWISE_CONV_2D;
    ir_tensor *w = lower_in(c, 1), *b = lower_in(c, 2);
    if (n_inputs(c, 2, 3) || lower_need(c, w, 1, "filter", IR_I8, 1)) return -1;
    if (in->rank != 4 || w->rank != 4 || out->rank != 4)
        FAIL("operator %d (%s): input, filter and output must be 4-D", op->index, c->name);
    int32_t C = in->shape[3], OC = dw ? w->shape[3] : w->shape[0], FD = w->shape[3];
    const ir_options *o = &op->opt;
    if (dw) {
        if (w->shape[0] != 1 || o->depth_multiplier < 1 || (int64_t)C * o->depth_multiplier != OC)
            FAIL("operator %d (%s): filter tensor %d shape [%d,%d,%d,%d] and depth_multiplier %d do not fit %d input "
                 "channels",
                 op->index, c->name, w->index, w->shape[0], w->shape[1], w->shape[2], w->shape[3],
                 o->depth_multiplier, C);
    } else if (FD < 1 || C % FD || OC % (C / FD)) {
        FAIL("operator %d (%s): filter tensor %d has %d input channels for an input of %d and %d outputs", op->index,
             c->name, w->index, FD, C, OC);
    }
    if (filter_q(c, w, OC, "filter")) return -1;
    int32_t acc32;
    if (acc_kind(c, b, dw ? 0 : 1, 6, &acc32)) return -1;
    if (dw && acc32)
        FAIL("operator %d (%s): int16 depthwise convolution with an int32 bias; TFLM reads the bias as int64",
             op->index, c->name);
    if (b && b->elems != OC)
        FAIL("operator %d (%s): bias tensor %d has %lld values for %d output channels", op->index, c->name, b->index,
             (long long)b->elems, OC);
    pexc_conv_s16_params *p = ops_alloc(c, sizeof *p);
    int32_t *m = ops_alloc(c, 4 * (size_t)OC), *s = ops_alloc(c, 4 * (size_t)OC);
    if (!p || !m || !s) return -1;
    int32_t oh, ow;
    if (lower_conv_axis(in->shape[1], w->shape[1], o->stride_h, o->dilation_h, o->padding, &oh, &p->pad_top) ||
        lower_conv_axis(in->shape[2], w->shape[2], o->stride_w, o->dilation_w, o->padding, &ow, &p->pad_left))
        FAIL("operator %d (%s): invalid stride %dx%d / dilation %dx%d / padding %d for input %dx%d and kernel %dx%d",
             op->index, c->name, o->stride_h, o->stride_w, o->dilation_h, o->dilation_w, o->padding, in->shape[1],
             in->shape[2], w->shape[1], w->shape[2]);
    if (window_ok(c, o->stride_h, o->stride_w, o->dilation_h, o->dilation_w, p->pad_top, p->pad_left)) return -1;
    int32_t want[4] = {in->shape[0], oh, ow, OC};
    if (lower_check_dims(c, out, want, "output")) return -1;
    if (prep_conv_multipliers(lower_scale(in), w->scale, w->nq, lower_scale(out), OC, m, s))
        FAIL("operator %d (%s): requantisation scale %g (input %g x filter %g / output %g) out of range", op->index,
             c->name, (double)lower_scale(in) * (double)w->scale[0] / (double)lower_scale(out),
             (double)lower_scale(in), (double)w->scale[0], (double)lower_scale(out));
    if (shifts_ok(c, s, OC, acc32) || act_range(c, o->activation, out, &p->act_min, &p->act_max)) return -1;
    memcpy(p->in_dims, in->shape, sizeof p->in_dims);
    memcpy(p->out_dims, want, sizeof want);
    p->kh = w->shape[1];
    p->kw = w->shape[2];
    p->filter_depth = dw ? 1 : FD;
    p->depth_multiplier = dw ? o->depth_multiplier : 0;
    p->stride_h = o->stride_h;
    p->stride_w = o->stride_w;
    p->dilation_h = o->dilation_h;
    p->dilation_w = o->dilation_w;
    p->acc32 = acc32;
    p->filter = (const int8_t *)(const void *)w->data;
    if (b && !acc32 && !(p->bias64 = bias64_aligned(c, b))) return -1;
    p->bias32 = b && acc32 ? (const int32_t *)(const void *)b->data : NULL;
    p->mult = m;
    p->shift = s;
    return ops_generic(c, k, &k_conv, p, &in->index, 1);
}

/* ---- FULLY_CONNECTED ----------------------------------------------------------- */

static int lower_fc16(lower_ctx *c, k_call *k, ir_tensor *in, ir_tensor *out) {
    ir_op *op = c->op;
    ir_tensor *w = lower_in(c, 1), *b = lower_in(c, 2);
    if (n_inputs(c, 2, 3) || lower_need(c, w, 1, "weights", IR_I8, 1)) return -1;
    if (op->opt.weights_format != 0)
        FAIL("operator %d (%s): shuffled weights format %d is not supported", op->index, c->name,
             op->opt.weights_format);
    if (w->rank != 2) FAIL("operator %d (%s): weights tensor %d has rank %d; expected 2", op->index, c->name,
                           w->index, w->rank);
    int32_t units = w->shape[0], depth = w->shape[1];
    if (out->rank < 1 || out->shape[out->rank - 1] != units)
        FAIL("operator %d (%s): output tensor %d has last dimension %d; the weights have %d units", op->index,
             c->name, out->index, out->rank ? out->shape[out->rank - 1] : 0, units);
    int64_t batches = out->elems / units;
    if (batches * depth != in->elems || batches > INT32_MAX)
        FAIL("operator %d (%s): input tensor %d has %lld elements for %lld batches of depth %d", op->index, c->name,
             in->index, (long long)in->elems, (long long)batches, depth);
    if (filter_q(c, w, units, "weights")) return -1;
    int32_t acc32;
    if (acc_kind(c, b, 8, 4, &acc32)) return -1;
    if (b && b->elems != units)
        FAIL("operator %d (%s): bias tensor %d has %lld values for %d units", op->index, c->name, b->index,
             (long long)b->elems, units);
    pexc_fully_connected_s16_params *p = ops_alloc(c, sizeof *p);
    int32_t *m = ops_alloc(c, 4 * (size_t)units), *s = ops_alloc(c, 4 * (size_t)units);
    if (!p || !m || !s) return -1;
    float si = lower_scale(in), so = lower_scale(out);
    if (w->nq > 1) {
        if (prep_conv_multipliers(si, w->scale, w->nq, so, units, m, s))
            FAIL("operator %d (%s): requantisation scale %g out of range", op->index, c->name,
                 (double)si * (double)w->scale[0] / (double)so);
    } else {
        /* per-tensor: TFLM checks the bias scale, then multiplies the two
         * float scales in float (GetQuantizedConvolutionMultipler) */
        if (b) {
            double prod = (double)si * (double)w->scale[0], bs = b->nq ? (double)b->scale[0] : 0.0;
            if (!(fabs(prod - bs) / (double)so <= 0.02))
                FAIL("operator %d (%s): bias tensor %d (%s) has scale %g; input scale x weights scale is %g (TFLM "
                     "allows 2%% of the output scale %g)",
                     op->index, c->name, b->index, b->name, bs, prod, (double)so);
        }
        if (prep_quantize_multiplier((double)(si * w->scale[0]) / (double)so, &m[0], &s[0]))
            FAIL("operator %d (%s): requantisation scale %g out of range", op->index, c->name,
                 (double)(si * w->scale[0]) / (double)so);
        for (int32_t u = 1; u < units; u++) {
            m[u] = m[0];
            s[u] = s[0];
        }
    }
    if (shifts_ok(c, s, units, acc32) || act_range(c, op->opt.activation, out, &p->act_min, &p->act_max)) return -1;
    p->batches = (int32_t)batches;
    p->depth = depth;
    p->units = units;
    p->input_offset = -lower_zp(in);
    p->filter_offset = 0; /* weights are symmetric (filter_q) */
    p->output_offset = lower_zp(out);
    p->acc32 = acc32;
    p->weights = (const int8_t *)(const void *)w->data;
    if (b && !acc32 && !(p->bias64 = bias64_aligned(c, b))) return -1;
    p->bias32 = b && acc32 ? (const int32_t *)(const void *)b->data : NULL;
    p->mult = m;
    p->shift = s;
    return ops_generic(c, k, &k_fc, p, &in->index, 1);
}

/* ---- pooling -------------------------------------------------------------------- */

static int lower_pool16(lower_ctx *c, k_call *k, ir_tensor *in, ir_tensor *out) {
    ir_op *op = c->op;
    const ir_options *o = &op->opt;
    if (n_inputs(c, 1, 1)) return -1;
    if (in->rank != 4 || out->rank != 4) FAIL("operator %d (%s): input and output must be 4-D", op->index, c->name);
    /* pooling_common.cc: no rescaling, so the quantisation must agree */
    double diff = fabs((double)(lower_scale(in) - lower_scale(out)));
    if (!(diff <= 1.0e-6) || lower_zp(in) != lower_zp(out))
        FAIL("operator %d (%s): input tensor %d has scale %g zero point %d, output tensor %d scale %g zero point %d; "
             "TFLM requires them equal",
             op->index, c->name, in->index, (double)lower_scale(in), lower_zp(in), out->index,
             (double)lower_scale(out), lower_zp(out));
    pexc_pool_s16_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    int32_t oh, ow;
    if (lower_conv_axis(in->shape[1], o->filter_h, o->stride_h, 1, o->padding, &oh, &p->pad_top) ||
        lower_conv_axis(in->shape[2], o->filter_w, o->stride_w, 1, o->padding, &ow, &p->pad_left) ||
        o->filter_h > 65536 || o->filter_w > 65536)
        FAIL("operator %d (%s): invalid window %dx%d / stride %dx%d / padding %d for input %dx%d", op->index, c->name,
             o->filter_h, o->filter_w, o->stride_h, o->stride_w, o->padding, in->shape[1], in->shape[2]);
    if (window_ok(c, o->stride_h, o->stride_w, 1, 1, p->pad_top, p->pad_left)) return -1;
    int32_t want[4] = {in->shape[0], oh, ow, in->shape[3]};
    if (lower_check_dims(c, out, want, "output") || act_range(c, o->activation, out, &p->act_min, &p->act_max))
        return -1;
    memcpy(p->in_dims, in->shape, sizeof p->in_dims);
    memcpy(p->out_dims, want, sizeof want);
    p->filter_h = o->filter_h;
    p->filter_w = o->filter_w;
    p->stride_h = o->stride_h;
    p->stride_w = o->stride_w;
    p->is_max = op->code == OP_MAX_POOL_2D;
    return ops_generic(c, k, &k_pool, p, &in->index, 1);
}

/* ---- ADD, SUB, MUL ---------------------------------------------------------------- */

/* QuantizeMultiplierSmallerThanOneExp: TFLM stops unless 0 < m < 1. */
static int mult_below_one(lower_ctx *c, double m, const char *what, int32_t *q, int32_t *s) {
    if (!(m > 0.0 && m < 1.0) || prep_quantize_multiplier(m, q, s))
        FAIL("operator %d (%s): %s multiplier %g is outside (0, 1), which TFLM's int16 %s cannot take", c->op->index,
             c->name, what, m, c->name);
    return 0;
}

static int lower_binary16(lower_ctx *c, k_call *k, ir_tensor *a, ir_tensor *out) {
    ir_op *op = c->op;
    ir_tensor *b = lower_in(c, 1);
    if (n_inputs(c, 2, 2) || need_act(c, b, 1, "input", IR_I16)) return -1;
    pexc_binary_s16_params *p = ops_alloc(c, sizeof *p);
    int32_t act;
    if (!p || ops_binary_layout(c, a, b, out, &p->op, &p->rank, p->dims, p->stride_a, p->stride_b, &act)) return -1;
    if (act_range(c, act, out, &p->act_min, &p->act_max)) return -1;
    float s1 = lower_scale(a), s2 = lower_scale(b), so = lower_scale(out);
    p->input1_offset = -lower_zp(a);
    p->input2_offset = -lower_zp(b);
    p->output_offset = lower_zp(out);
    if (op->code == OP_MUL) {
        /* mul_common.cc: int16 MUL takes zero points of 0 only */
        if (zero_zp(c, a, "input") || zero_zp(c, b, "input") || zero_zp(c, out, "output")) return -1;
        double m = (double)s1 * (double)s2 / (double)so;
        if (prep_quantize_multiplier(m, &p->output_mult, &p->output_shift))
            FAIL("operator %d (%s): requantisation scale %g out of range", op->index, c->name, m);
    } else if (op->code == OP_ADD) {
        /* add_common.cc: the scales in double */
        p->left_shift = 15;
        double twice = 2 * (double)(s1 > s2 ? s1 : s2);
        if (mult_below_one(c, (double)s1 / twice, "input 0", &p->input1_mult, &p->input1_shift) ||
            mult_below_one(c, (double)s2 / twice, "input 1", &p->input2_mult, &p->input2_shift) ||
            mult_below_one(c, twice / ((1 << 15) * (double)so), "output", &p->output_mult, &p->output_shift))
            return -1;
    } else {
        /* sub_common.cc: the same formulas with the ratios taken in float;
         * TFLM's int16 Sub asserts zero points of 0 */
        if (zero_zp(c, a, "input") || zero_zp(c, b, "input") || zero_zp(c, out, "output")) return -1;
        p->left_shift = 15;
        float twice = 2 * (s1 > s2 ? s1 : s2);
        if (mult_below_one(c, (double)(s1 / twice), "input 0", &p->input1_mult, &p->input1_shift) ||
            mult_below_one(c, (double)(s2 / twice), "input 1", &p->input2_mult, &p->input2_shift) ||
            mult_below_one(c, (double)(twice / ((float)(1 << 15) * so)), "output", &p->output_mult,
                           &p->output_shift))
            return -1;
    }
    int32_t ts[2] = {a->index, b->index};
    return ops_generic(c, k, &k_binary, p, ts, 2);
}

/* ---- SOFTMAX ---------------------------------------------------------------------- */

typedef float (*lut_fn)(float);
static float f_exp(float x) { return expf(x); }
static float f_recip(float x) { return 1.0f / (1.0f + x); }

/* TFLM's LUTPopulate<int16_t> (float arithmetic, in its order): 512 samples
 * of f over the input range, each nudged by half the error the linear
 * interpolation would make at the midpoint, and the end point. */
static void lut_populate_s16(float in_scale, int32_t in_zp, float out_scale, int32_t out_zp, lut_fn f,
                             int16_t *lut) {
    const float in_min = in_scale * (float)(INT16_MIN - in_zp), in_max = in_scale * (float)(INT16_MAX - in_zp);
    const float out_min = out_scale * (float)(INT16_MIN - out_zp), out_max = out_scale * (float)(INT16_MAX - out_zp);
    const float step = (in_max - in_min) / 512, half = step / 2;
    const float inv = (float)(INT16_MAX - INT16_MIN + 1) / (out_max - out_min);
    for (int i = 0; i < 512; i++) {
        const float v = f(in_min + (float)i * step), mid = f(in_min + (float)i * step + half);
        const float next = f(in_min + (float)(i + 1) * step);
        const float sample = roundf(v * inv);
        const float interp = roundf((next * inv + roundf(v * inv)) / 2);
        const float err = interp - roundf(mid * inv);
        float q = sample - roundf(err / 2);
        q = q < -32768.0f ? -32768.0f : q > 32767.0f ? 32767.0f : q;
        lut[i] = (int16_t)q;
    }
    float q = roundf(f(in_max) * inv);
    q = q < -32768.0f ? -32768.0f : q > 32767.0f ? 32767.0f : q;
    lut[512] = (int16_t)q;
}

/* The two softmax tables depend on no model parameter: computed once, and
 * shared (so the C emitter prints them once). */
static const int16_t *softmax_luts(const int16_t **recip) {
    static int16_t exp_lut[513], recip_lut[513];
    static int done;
    if (!done) {
        const int32_t range = INT16_MAX - INT16_MIN;
        lut_populate_s16(10.0f / (float)range, INT16_MAX, 2.0f / (float)range, 0, f_exp, exp_lut);
        lut_populate_s16(1.0f / (float)range, INT16_MIN, 2.0f / (float)range, 0, f_recip, recip_lut);
        done = 1;
    }
    *recip = recip_lut;
    return exp_lut;
}

static int lower_softmax16(lower_ctx *c, k_call *k, ir_tensor *in, ir_tensor *out) {
    ir_op *op = c->op;
    if (n_inputs(c, 1, 1) || same_count(c, in, out)) return -1;
    if (in->rank < 1) FAIL("operator %d (%s): input tensor %d is a scalar", op->index, c->name, in->index);
    if (zero_zp(c, in, "input") || zero_zp(c, out, "output")) return -1;
    float so = lower_scale(out);
    if (fabs((double)(so - 1.0f / 32768)) > (double)(0.001f * 1.0f / 32768))
        FAIL("operator %d (%s): output tensor %d (%s) has scale %g; TFLM needs 1/32768 for int16", op->index, c->name,
             out->index, out->name, (double)so);
    pexc_softmax_s16_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    double m = (double)lower_scale(in) * (double)op->opt.beta / (10.0 / 65535.0);
    if (prep_quantize_multiplier(m, &p->input_multiplier, &p->input_left_shift))
        FAIL("operator %d (%s): input scale %g times beta %g cannot be requantised", op->index, c->name,
             (double)lower_scale(in), (double)op->opt.beta);
    p->depth = in->shape[in->rank - 1];
    p->outer = (int32_t)(in->elems / p->depth);
    if (p->depth > 65536)
        FAIL("operator %d (%s): %d classes; TFLM's int16 sum of exps holds at most 65536", op->index, c->name,
             p->depth);
    p->exp_lut = softmax_luts(&p->recip_lut);
    return ops_generic(c, k, &k_softmax, p, &in->index, 1);
}

/* ---- LOGISTIC, TANH ----------------------------------------------------------------- */

/* TFLM's CheckedLog2: log2 rounded, and whether x is a power of two. */
static int checked_log2(float x, int32_t *r) {
    const float l = logf(x) * (1.0f / logf(2.0f)), lr = roundf(l);
    *r = (int32_t)lr;
    return fabsf(l - lr) < 1e-3f;
}

static int lower_sigmoid16(lower_ctx *c, k_call *k, ir_tensor *in, ir_tensor *out) {
    ir_op *op = c->op;
    int is_tanh = op->code == OP_TANH;
    if (n_inputs(c, 1, 1) || same_count(c, in, out) || zero_zp(c, in, "input") || zero_zp(c, out, "output"))
        return -1;
    pexc_sigmoid_s16_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    int32_t l2;
    int pot = checked_log2(lower_scale(in), &l2);
    int32_t shift = 12 + l2;
    pot = pot && (shift == 0 || (is_tanh && shift == 1));
    if (pot) {
        /* the kernel's power-of-two case, folded here */
        p->input_multiplier = 3 << shift;
        p->input_left_shift = 0;
    } else {
        double m = (double)lower_scale(in) * 4096.0 * 3.0;
        shift = 0;
        while (m <= 32767.0 / 2.0 && shift <= 30) {
            shift++;
            m *= 2.0;
        }
        if (!(m <= 32767.0))
            FAIL("operator %d (%s): input tensor %d scale %g gives an input multiplier above 32767", op->index,
                 c->name, in->index, (double)lower_scale(in));
        p->input_multiplier = (int32_t)m;
        p->input_left_shift = shift;
    }
    if (!checked_log2(lower_scale(out), &l2) || l2 != -15)
        FAIL("operator %d (%s): output tensor %d (%s) has scale %g; TFLM needs 2^-15 for int16", op->index, c->name,
             out->index, out->name, (double)lower_scale(out));
    p->n = (int32_t)in->elems;
    p->is_tanh = is_tanh;
    return ops_generic(c, k, &k_sigmoid, p, &in->index, 1);
}

/* ---- QUANTIZE, DEQUANTIZE -------------------------------------------------------- */

static int lower_quantize16(lower_ctx *c, k_call *k, ir_tensor *in, ir_tensor *out) {
    ir_op *op = c->op;
    if (n_inputs(c, 1, 1) || same_count(c, in, out)) return -1;
    pexc_quantize_s16_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    p->n = (int32_t)in->elems;
    if (op->code == OP_DEQUANTIZE) {
        if (lower_need(c, out, 0, "output", IR_F32, 0)) return -1;
        p->in_type = PEXC_Q_S16;
        p->out_type = PEXC_Q_F32;
        p->in_zp = lower_zp(in);
        p->scale = lower_scale(in);
        return ops_generic(c, k, &k_quantize, p, &in->index, 1);
    }
    static const int32_t types[3] = {IR_I8, IR_I16, IR_F32};
    int32_t ti = -1, to = -1;
    for (int32_t i = 0; i < 3; i++) {
        if (in->type == types[i]) ti = i;
        if (out->type == types[i]) to = i;
    }
    if (ti < 0 || to < 0 || to == PEXC_Q_F32)
        FAIL("operator %d (%s): %s -> %s; pexc quantizes float32, int8 and int16 to int8 and int16", op->index,
             c->name, ir_type_name(in->type), ir_type_name(out->type));
    if (need_act(c, out, 0, "output", out->type)) return -1;
    p->in_type = ti;
    p->out_type = to;
    p->out_zp = lower_zp(out);
    if (ti == PEXC_Q_F32) {
        p->scale = lower_scale(out);
    } else {
        if (need_act(c, in, 0, "input", in->type)) return -1;
        p->in_zp = lower_zp(in);
        double m = (double)lower_scale(in) / (double)lower_scale(out);
        if (prep_quantize_multiplier(m, &p->mult, &p->shift))
            FAIL("operator %d (%s): requantisation scale %g out of range", op->index, c->name, m);
    }
    return ops_generic(c, k, &k_quantize, p, &in->index, 1);
}

/* ---- PAD, PADV2 --------------------------------------------------------------------- */

static int lower_pad16(lower_ctx *c, k_call *k, ir_tensor *in, ir_tensor *out) {
    ir_op *op = c->op;
    if (n_inputs(c, 2, 3)) return -1;
    ir_tensor *pt = lower_in(c, 1), *cv = lower_in(c, 2);
    if (lower_need(c, pt, 1, "paddings", IR_I32, 1)) return -1;
    if (in->rank > 4 || out->rank != in->rank)
        FAIL("operator %d (%s): input rank %d, output rank %d (pexc pads int16 tensors of rank <= 4, ranks equal)",
             op->index, c->name, in->rank, out->rank);
    int64_t v[8], n;
    if (lower_const_ints(c, pt, v, 8, &n, "paddings")) return -1;
    if (n != 2 * in->rank)
        FAIL("operator %d (%s): paddings has %lld values for rank %d", op->index, c->name, (long long)n, in->rank);
    pexc_pad_s16_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    if (cv) {
        if (lower_need(c, cv, 2, "constant_values", IR_I16, 1)) return -1;
        if (cv->elems != 1)
            FAIL("operator %d (%s): constant_values tensor %d has %lld values; TFLM needs 1", op->index, c->name,
                 cv->index, (long long)cv->elems);
        int16_t x;
        memcpy(&x, cv->data, 2);
        p->value = x;
    }
    int32_t want[4] = {1, 1, 1, 1};
    for (int d = 0; d < 4; d++) p->in_dims[d] = 1;
    int off = 4 - in->rank;
    for (int32_t i = 0; i < in->rank; i++) {
        if (v[2 * i] < 0 || v[2 * i + 1] < 0 || v[2 * i] > 65536 || v[2 * i + 1] > 65536)
            FAIL("operator %d (%s): padding of axis %d is %lld/%lld (pexc takes 0 to 65536)", op->index, c->name, i,
                 (long long)v[2 * i], (long long)v[2 * i + 1]);
        p->in_dims[off + i] = in->shape[i];
        p->before[off + i] = (int32_t)v[2 * i];
        want[off + i] = in->shape[i] + (int32_t)v[2 * i] + (int32_t)v[2 * i + 1];
    }
    if (lower_check_dims(c, out, want, "output")) return -1;
    memcpy(p->out_dims, want, sizeof want);
    return ops_generic(c, k, &k_pad, p, &in->index, 1);
}

/* ---- MEAN, SUM ------------------------------------------------------------------------- */

static int lower_reduce16(lower_ctx *c, k_call *k, ir_tensor *in, ir_tensor *out) {
    ir_op *op = c->op;
    if (op->code == OP_REDUCE_MAX)
        FAIL("operator %d (%s): input tensor %d is int16; TFLM's REDUCE_MAX takes float32 and int8 only", op->index,
             c->name, in->index);
    if (n_inputs(c, 2, 2)) return -1;
    ir_tensor *ax = lower_in(c, 1);
    if (lower_need(c, ax, 1, "axis", IR_I32, 1)) return -1;
    if (in->rank < 1 || in->rank > 6) FAIL("operator %d (%s): input rank %d (pexc takes 1 to 6)", op->index, c->name,
                                           in->rank);
    int64_t a[16], n;
    if (lower_const_ints(c, ax, a, 16, &n, "axis")) return -1;
    pexc_reduce_s16_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    p->rank = in->rank;
    for (int d = 0; d < 6; d++) p->in_dims[d] = d < in->rank ? in->shape[d] : 1;
    int64_t count = 1, kept = 1;
    for (int64_t i = 0; i < n; i++) {
        int64_t x = a[i] < 0 ? a[i] + in->rank : a[i];
        if (x < 0 || x >= in->rank)
            FAIL("operator %d (%s): axis %lld out of range for rank %d", op->index, c->name, (long long)a[i], in->rank);
        if (!(p->reduce_mask >> x & 1)) count *= in->shape[x];
        p->reduce_mask |= 1 << x;
    }
    for (int32_t d = 0; d < in->rank; d++)
        if (!(p->reduce_mask >> d & 1)) kept *= in->shape[d];
    if (out->elems != kept)
        FAIL("operator %d (%s): output tensor %d has %lld elements; the reduction gives %lld", op->index, c->name,
             out->index, (long long)out->elems, (long long)kept);
    if (count > INT32_MAX) FAIL("operator %d (%s): %lld values per output", op->index, c->name, (long long)count);
    p->count = (int32_t)count;
    p->in_zp = lower_zp(in);
    p->out_zp = lower_zp(out);
    double m = (double)lower_scale(in) / (double)lower_scale(out);
    if (prep_quantize_multiplier(m, &p->mult, &p->shift))
        FAIL("operator %d (%s): requantisation scale %g out of range", op->index, c->name, m);
    if (op->code == OP_MEAN) {
        /* QuantizedMeanOrSum folds 1 / count into the multiplier */
        int32_t sh = 0;
        while (sh < 63 && ((uint64_t)count >> (sh + 1))) sh++; /* floor(log2(count)) */
        if (sh > 32) sh = 32;
        if (sh > 31 + p->shift) sh = 31 + p->shift;
        p->mult = (int32_t)(((int64_t)p->mult << sh) / count);
        p->shift -= sh;
    }
    return ops_generic(c, k, &k_reduce, p, &in->index, 1);
}

/* ---- CONCATENATION: TFLM's int16 checks, then the core copy ---------------------------- */

static int check_concat16(lower_ctx *c, ir_tensor *out) {
    ir_op *op = c->op;
    if (op->n_in < 1 || op->n_in > 10)
        FAIL("operator %d (%s): has %d inputs; TFLM takes 1 to 10", op->index, c->name, op->n_in);
    if (op->opt.activation != 0)
        FAIL("operator %d (%s): fused activation %d; TFLM's CONCATENATION takes none (0)", op->index, c->name,
             op->opt.activation);
    for (int32_t j = 0; j < op->n_in; j++) {
        ir_tensor *t = lower_in(c, j);
        if (lower_need(c, t, j, "input", IR_I16, 0) || zero_zp(c, t, "input")) return -1;
    }
    return zero_zp(c, out, "output");
}

int ops_int16_lower(lower_ctx *c, k_call *k) {
    ir_op *op = c->op;
    ir_tensor *in = lower_in(c, 0), *out = &c->g->tensors[op->out[0]];
    if (!ops_int16_known(op->code) || !in || (!is16(in) && !is16(out))) return 1;
    switch (op->code) {
    case OP_QUANTIZE:
    case OP_DEQUANTIZE: return lower_quantize16(c, k, in, out);
    case OP_CONCATENATION: {
        int r = check_concat16(c, out);
        return r ? r : 1; /* the core lowering copies int16 elements */
    }
    default: break;
    }
    if (op->code == OP_PAD || op->code == OP_PADV2) {
        /* PAD copies raw values: TFLM reads no quantisation here */
        if (lower_need(c, in, 0, "input", IR_I16, 0) || lower_need(c, out, 0, "output", IR_I16, 0)) return -1;
        return lower_pad16(c, k, in, out);
    }
    if (op->code == OP_SOFTMAX && !is16(in))
        FAIL("operator %d (%s): %s input with int16 output is not supported by pexc", op->index, c->name,
             ir_type_name(in->type));
    if (need_act(c, in, 0, "input", IR_I16) || need_act(c, out, 0, "output", IR_I16)) return -1;
    switch (op->code) {
    case OP_CONV_2D:
    case OP_DEPTHWISE_CONV_2D: return lower_conv16(c, k, in, out);
    case OP_FULLY_CONNECTED: return lower_fc16(c, k, in, out);
    case OP_AVERAGE_POOL_2D:
    case OP_MAX_POOL_2D: return lower_pool16(c, k, in, out);
    case OP_ADD:
    case OP_SUB:
    case OP_MUL: return lower_binary16(c, k, in, out);
    case OP_SOFTMAX: return lower_softmax16(c, k, in, out);
    case OP_LOGISTIC:
    case OP_TANH: return lower_sigmoid16(c, k, in, out);
    default: return lower_reduce16(c, k, in, out);
    }
}
