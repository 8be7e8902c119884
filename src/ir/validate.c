/*
 * The validation pass: the contract between a .tflite file and pexc.
 *
 * It runs once, after ir_check and before lowering (api_prepare), and
 * refuses every operator whose fields TFLite Micro would refuse or would
 * read differently from pexc. What it lets through, lowering computes
 * exactly as TFLM's Prepare and Eval do (schema defaults included: the
 * reader fills absent option fields with the schema's defaults). Facts come
 * from TFLM's kernels (tensorflow/lite/micro/kernels/<op>.cc, *_common.cc)
 * and kernel_util.cc; each rule below says which check it mirrors. pexc may
 * refuse more than TFLM (a refusal is never "silently different"), never
 * less.
 *
 * Every refusal is one line naming the operator (index and name), the
 * tensor (index and name) when one is at fault, the field and its value.
 *
 * HOW TO ADD AN OPERATOR'S RULES
 *   1. Add a row to RULES below: builtin code, the operand counts TFLM
 *      accepts (min_in..max_in, absent optional operands (-1) counted), the
 *      highest operator version TFLite defines for it, the operand slots
 *      that may carry per-channel quantisation (a bit mask; bit k = input
 *      k), and a check function (or NULL).
 *   2. Write the check function `static int v_<op>(vctx *c)` with the
 *      helpers (v_in, v_type, v_const, v_rank, v_same_q, v_range, ...). Check
 *      ranks before indexing shapes: nothing here may trust the file.
 *   3. Add crafted bad models for each new refusal to
 *      tools/make_bad_models.py (tests/bad/MANIFEST.json) and let
 *      `make difffuzz` compare the operator with TFLM.
 *   Generic rules (output count, version, operand counts, quantisation
 *   vectors, host memory) run for every row before its check function.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Activations the host compiler and executor hold (PEXC_HOST_BYTES): checked
 * here, before lowering sizes anything by them, and again on the plan's arena
 * (plan_host_check). */
#define V_HOST_ACT_LIMIT ((int64_t)PEXC_HOST_BYTES)
/* Strides and dilations: keeps the kernels' int32 window arithmetic
 * (pexc_window_clip: -i0 + d - 1, n - i0 + d - 1) far from overflow. */
#define V_MAX_STRIDE 65536
/* TFLM's concatenation: kMaxInputNum (concatenation.cc). */
#define V_MAX_CONCAT 10

typedef struct {
    const ir_graph *g;
    const ir_op *op;
    const char *name;
    util_err *err;
} vctx;

#define VFAIL(c, ...) return v_fail((c), __VA_ARGS__)

static int v_fail(vctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int v_fail(vctx *c, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return util_fail(c->err, "operator %d (%s): %s", c->op->index, c->name, msg);
}

/* Input k, or NULL when absent. */
static const ir_tensor *v_in(vctx *c, int k) {
    if (k >= c->op->n_in || c->op->in[k] < 0) return NULL;
    return &c->g->tensors[c->op->in[k]];
}
static const ir_tensor *v_out(vctx *c) { return &c->g->tensors[c->op->out[0]]; }

static int v_present(vctx *c, const ir_tensor *t, int k, const char *role) {
    if (!t) VFAIL(c, "%s (input %d) is missing", role, k);
    return 0;
}

static int v_type(vctx *c, const ir_tensor *t, const char *role, int32_t want) {
    if (t->type != want)
        VFAIL(c, "%s tensor %d (%s) has type %s; TFLM needs %s here", role, t->index, t->name,
              ir_type_name(t->type), ir_type_name(want));
    return 0;
}

static int v_const(vctx *c, const ir_tensor *t, const char *role) {
    if (!t->data) VFAIL(c, "%s tensor %d (%s) must be a constant", role, t->index, t->name);
    return 0;
}

static int v_rank(vctx *c, const ir_tensor *t, const char *role, int32_t want) {
    if (t->rank != want)
        VFAIL(c, "%s tensor %d (%s) has rank %d; expected %d", role, t->index, t->name, t->rank, want);
    return 0;
}

static int v_range(vctx *c, const char *field, int64_t v, int64_t lo, int64_t hi) {
    if (v < lo || v > hi) VFAIL(c, "%s is %lld; pexc supports %lld to %lld", field, (long long)v, (long long)lo,
                                (long long)hi);
    return 0;
}

static float v_scale(const ir_tensor *t) { return t->nq ? t->scale[0] : 0.0f; }
static int64_t v_zp(const ir_tensor *t) { return t->nq ? t->zero_point[0] : 0; }

/* TFLM copies raw bytes where pexc does (pooling, concatenation) only when
 * input and output quantisation agree; `exact` is concatenation's test
 * (equal scales), otherwise pooling's |difference| <= 1e-6. */
static int v_same_q(vctx *c, const ir_tensor *in, const ir_tensor *out, int exact) {
    float si = v_scale(in), so = v_scale(out);
    int ok = exact ? (double)si == (double)so : fabs((double)fabsf(si - so)) <= 1.0e-6;
    if (!ok || v_zp(in) != v_zp(out))
        VFAIL(c, "input tensor %d (%s) has scale %g zero point %lld, output tensor %d (%s) scale %g zero point %lld; "
                 "TFLM requires them equal",
              in->index, in->name, (double)si, (long long)v_zp(in), out->index, out->name, (double)so,
              (long long)v_zp(out));
    return 0;
}

static int v_activation(vctx *c, int32_t act, int32_t max) {
    if (act < 0 || act > max) VFAIL(c, "fused activation %d is not supported here", act);
    return 0;
}

/* Strides, dilations and window sizes of the convolution family. */
static int v_window(vctx *c, const ir_options *o, int dilations) {
    if (o->padding != 0 && o->padding != 1) VFAIL(c, "padding %d is neither SAME (0) nor VALID (1)", o->padding);
    if (v_range(c, "stride_w", o->stride_w, 1, V_MAX_STRIDE) || v_range(c, "stride_h", o->stride_h, 1, V_MAX_STRIDE))
        return -1;
    if (dilations && (v_range(c, "dilation_w_factor", o->dilation_w, 1, V_MAX_STRIDE) ||
                      v_range(c, "dilation_h_factor", o->dilation_h, 1, V_MAX_STRIDE)))
        return -1;
    return 0;
}

/* TFLM keeps the resolved padding in int16 (PaddingValues, types.h): a
 * SAME window wider than that would be computed with a wrapped padding. */
static int v_padding(vctx *c, const ir_options *o, const char *axis, int32_t in, int32_t k, int32_t stride,
                     int32_t dil) {
    if (o->padding != 0 || in < 1 || k < 1) return 0;
    int64_t eff = (int64_t)(k - 1) * dil + 1, out = ((int64_t)in + stride - 1) / stride;
    int64_t total = (out - 1) * stride + eff - in;
    if (total / 2 > INT16_MAX)
        VFAIL(c, "SAME padding of %lld along %s (input %d, window %lld) exceeds TFLM's int16 padding", (long long)(total / 2),
              axis, in, (long long)eff);
    return 0;
}

/* Per-channel quantisation of a filter: TFLM's PopulateConvolutionQuantizationParams
 * (and FC's CalculateOpDataFullyConnected) require scale count == channels
 * == filter dims[quantized_dimension]. */
static int v_filter_q(vctx *c, const ir_tensor *w, const char *role, int32_t channels) {
    if (w->nq < 1) VFAIL(c, "%s tensor %d (%s) has no quantization parameters", role, w->index, w->name);
    if (w->nq == 1) return 0;
    if (w->nq != channels)
        VFAIL(c, "%s tensor %d (%s) has %d scales for %d output channels", role, w->index, w->name, w->nq, channels);
    if (w->q_dim < 0 || w->q_dim >= w->rank || w->shape[w->q_dim] != w->nq)
        VFAIL(c, "%s tensor %d (%s): quantized_dimension %d does not index an axis of %d channels", role, w->index,
              w->name, w->q_dim, w->nq);
    return 0;
}

static int v_bias(vctx *c, const ir_tensor *b, int32_t type, int32_t n) {
    if (!b) return 0;
    if (v_type(c, b, "bias", type) || v_const(c, b, "bias")) return -1;
    if (b->elems != n) VFAIL(c, "bias tensor %d (%s) has %lld values for %d channels", b->index, b->name,
                             (long long)b->elems, n);
    return 0;
}

static int v_symmetric(vctx *c, const ir_tensor *w, const char *role) {
    for (int32_t i = 0; i < w->nq; i++)
        if (w->zero_point[i] != 0)
            VFAIL(c, "%s tensor %d (%s) has zero point %lld in channel %d; TFLM needs symmetric (0) filters here",
                  role, w->index, w->name, (long long)w->zero_point[i], i);
    return 0;
}

/* ---- per-operator rules ---------------------------------------------- */

static int v_conv(vctx *c) {
    const ir_tensor *in = v_in(c, 0), *w = v_in(c, 1), *b = v_in(c, 2), *out = v_out(c);
    int dw = c->op->code == OP_DEPTHWISE_CONV_2D;
    if (v_present(c, in, 0, "input") || v_present(c, w, 1, "filter")) return -1;
    if (v_type(c, in, "input", IR_I8) || v_type(c, w, "filter", IR_I8) || v_type(c, out, "output", IR_I8) ||
        v_const(c, w, "filter") || v_rank(c, in, "input", 4) || v_rank(c, w, "filter", 4) ||
        v_rank(c, out, "output", 4))
        return -1;
    const ir_options *o = &c->op->opt;
    if (v_window(c, o, 1) || v_activation(c, o->activation, 3)) return -1;
    int32_t cin = in->shape[3], cout = out->shape[3];
    if (dw) {
        /* reference DepthwiseConvPerChannel loops over the options'
         * depth_multiplier: output channel = in channel * multiplier + m */
        if (w->shape[0] != 1 || w->shape[3] != cout)
            VFAIL(c, "filter tensor %d (%s) has shape [%d,%d,%d,%d]; expected [1,h,w,%d]", w->index, w->name,
                  w->shape[0], w->shape[1], w->shape[2], w->shape[3], cout);
        if (o->depth_multiplier < 1 || (int64_t)cin * o->depth_multiplier != cout)
            VFAIL(c, "depth_multiplier is %d but input tensor %d (%s) has %d channels and output %d", o->depth_multiplier,
                  in->index, in->name, cin, cout);
    } else if (w->shape[0] != cout || w->shape[3] != cin) {
        VFAIL(c, "filter tensor %d (%s) has shape [%d,%d,%d,%d] for %d input and %d output channels", w->index,
              w->name, w->shape[0], w->shape[1], w->shape[2], w->shape[3], cin, cout);
    }
    if (v_filter_q(c, w, "filter", cout) || v_symmetric(c, w, "filter") || v_bias(c, b, IR_I32, cout)) return -1;
    /* TFLM's depthwise kernel does not finish with an absent (-1) bias */
    if (dw && !b && c->op->n_in == 3) VFAIL(c, "bias (input 2) is -1; TFLM needs a bias tensor here");
    return v_padding(c, o, "the height", in->shape[1], w->shape[1], o->stride_h, o->dilation_h) ||
           v_padding(c, o, "the width", in->shape[2], w->shape[2], o->stride_w, o->dilation_w);
}

static int v_fc(vctx *c) {
    const ir_tensor *in = v_in(c, 0), *w = v_in(c, 1), *b = v_in(c, 2), *out = v_out(c);
    if (v_present(c, in, 0, "input") || v_present(c, w, 1, "weights")) return -1;
    const ir_options *o = &c->op->opt;
    if (o->weights_format != 0) VFAIL(c, "weights_format %d (shuffled) is not supported", o->weights_format);
    if (v_activation(c, o->activation, 3) || v_rank(c, w, "weights", 2) || v_const(c, w, "weights")) return -1;
    int32_t units = w->shape[0];
    /* reference FullyConnected takes the unit count from the output's last
     * dimension and the batches from the rest of it */
    if (out->rank < 1 || out->shape[out->rank - 1] != units)
        VFAIL(c, "output tensor %d (%s) has last dimension %d; the weights have %d units", out->index, out->name,
              out->rank ? out->shape[out->rank - 1] : 0, units);
    if (in->type == IR_F32) {
        if (v_type(c, w, "weights", IR_F32) || v_type(c, out, "output", IR_F32) || v_bias(c, b, IR_F32, units))
            return -1;
        return 0;
    }
    if (v_type(c, in, "input", IR_I8) || v_type(c, w, "weights", IR_I8) || v_type(c, out, "output", IR_I8) ||
        v_filter_q(c, w, "weights", units) || v_bias(c, b, IR_I32, units))
        return -1;
    if (w->nq > 1) {
        if (v_symmetric(c, w, "weights")) return -1;
    } else if (b) {
        /* GetQuantizedConvolutionMultipler: the bias scale must match
         * input scale * weights scale within 2 % of the output scale */
        double prod = (double)v_scale(in) * (double)v_scale(w), bs = (double)v_scale(b);
        double so = (double)v_scale(out);
        if (!(fabs(prod - bs) / so <= 0.02))
            VFAIL(c, "bias tensor %d (%s) has scale %g; input scale x weights scale is %g (TFLM allows 2%% of the "
                     "output scale %g)",
                  b->index, b->name, bs, prod, so);
    }
    return 0;
}

static int v_pool(vctx *c) {
    const ir_tensor *in = v_in(c, 0), *out = v_out(c);
    const ir_options *o = &c->op->opt;
    if (v_type(c, in, "input", IR_I8) || v_type(c, out, "output", IR_I8) || v_rank(c, in, "input", 4) ||
        v_rank(c, out, "output", 4) || v_window(c, o, 0) || v_activation(c, o->activation, 3) ||
        v_range(c, "filter_width", o->filter_w, 1, V_MAX_STRIDE) ||
        v_range(c, "filter_height", o->filter_h, 1, V_MAX_STRIDE))
        return -1;
    if (v_padding(c, o, "the height", in->shape[1], o->filter_h, o->stride_h, 1) ||
        v_padding(c, o, "the width", in->shape[2], o->filter_w, o->stride_w, 1))
        return -1;
    return v_same_q(c, in, out, 0); /* pooling_common.cc */
}

static int v_binary(vctx *c) {
    const ir_tensor *a = v_in(c, 0), *b = v_in(c, 1), *out = v_out(c);
    if (v_present(c, a, 0, "input") || v_present(c, b, 1, "input")) return -1;
    if (v_type(c, a, "input", IR_I8) || v_type(c, b, "input", IR_I8) || v_type(c, out, "output", IR_I8)) return -1;
    return v_activation(c, c->op->opt.activation, 3);
}

/* A constant int32 vector operand (TFLM reads it as int32). */
static int v_i32_const(vctx *c, int k, const char *role, int32_t rank) {
    const ir_tensor *t = v_in(c, k);
    if (v_present(c, t, k, role) || v_type(c, t, role, IR_I32) || v_const(c, t, role)) return -1;
    if (t->rank != rank && !(rank == 1 && t->rank == 0))
        VFAIL(c, "%s tensor %d (%s) has rank %d; TFLM needs %d", role, t->index, t->name, t->rank, rank);
    return 0;
}

static int v_pad(vctx *c) {
    const ir_tensor *in = v_in(c, 0), *out = v_out(c);
    if (v_type(c, in, "input", IR_I8) || v_type(c, out, "output", IR_I8)) return -1;
    if (out->rank != in->rank)
        VFAIL(c, "output tensor %d (%s) has rank %d, input tensor %d (%s) rank %d", out->index, out->name, out->rank,
              in->index, in->name, in->rank);
    return v_i32_const(c, 1, "paddings", 2);
}

static int v_mean(vctx *c) {
    const ir_tensor *in = v_in(c, 0), *out = v_out(c);
    if (v_type(c, in, "input", IR_I8) || v_type(c, out, "output", IR_I8)) return -1;
    return v_i32_const(c, 1, "axis", 1); /* reduce_common.cc */
}

static int v_transpose(vctx *c) {
    const ir_tensor *in = v_in(c, 0), *out = v_out(c);
    if (in->type != out->type)
        VFAIL(c, "input tensor %d is %s, output tensor %d is %s", in->index, ir_type_name(in->type), out->index,
              ir_type_name(out->type));
    return v_i32_const(c, 1, "permutation", 1);
}

static int v_concat(vctx *c) {
    const ir_tensor *out = v_out(c);
    /* concatenation.cc: no fused activation, same type everywhere, int8
     * inputs quantised exactly like the output */
    if (c->op->opt.activation != 0)
        VFAIL(c, "fused activation %d; TFLM's CONCATENATION takes none (0)", c->op->opt.activation);
    if (out->type != IR_I8 && out->type != IR_I32 && out->type != IR_F32)
        VFAIL(c, "output tensor %d (%s) has type %s; pexc supports int8, int32 and float32", out->index, out->name,
              ir_type_name(out->type));
    for (int32_t k = 0; k < c->op->n_in; k++) {
        const ir_tensor *t = v_in(c, k);
        if (v_present(c, t, k, "input") || v_type(c, t, "input", out->type)) return -1;
        if (out->type == IR_I8 && v_same_q(c, t, out, 1)) return -1;
    }
    return 0;
}

static int v_reshape(vctx *c) {
    const ir_tensor *in = v_in(c, 0), *out = v_out(c);
    if (v_present(c, in, 0, "input")) return -1;
    if (in->type != out->type)
        VFAIL(c, "input tensor %d is %s, output tensor %d is %s", in->index, ir_type_name(in->type), out->index,
              ir_type_name(out->type));
    return 0;
}

/* "[d0,d1,...]" */
static void v_dims(const ir_tensor *t, char *buf, size_t n) {
    size_t o = (size_t)snprintf(buf, n, "[");
    for (int32_t i = 0; i < t->rank && o < n; i++)
        o += (size_t)snprintf(buf + o, n - o, i ? ",%d" : "%d", t->shape[i]);
    if (o < n) snprintf(buf + o, n - o, "]");
}

/* SOFTMAX and LOGISTIC with int8 output: zero point -128, scale 1/256. */
static int v_prob(vctx *c) {
    const ir_tensor *in = v_in(c, 0), *out = v_out(c);
    if (v_type(c, in, "input", IR_I8) || v_type(c, out, "output", IR_I8)) return -1;
    if (in->rank < 1) VFAIL(c, "input tensor %d (%s) is a scalar", in->index, in->name);
    /* TFLM takes the row length and count from both shapes without checking
     * they agree (MatchingDim is a debug-only check): another output shape
     * leaves output bytes unwritten or reads past the shape */
    int same = in->rank == out->rank;
    for (int32_t i = 0; same && i < in->rank; i++) same = in->shape[i] == out->shape[i];
    if (!same) {
        char a[96], b[96];
        v_dims(out, a, sizeof a);
        v_dims(in, b, sizeof b);
        VFAIL(c, "output tensor %d (%s) has shape %s, input tensor %d has %s; TFLM needs the same shape", out->index,
              out->name, a, in->index, b);
    }
    if (v_zp(out) != -128 || v_scale(out) != 1.0f / 256.0f)
        VFAIL(c, "output tensor %d (%s) has scale %g zero point %lld; TFLM needs 1/256 and -128", out->index,
              out->name, (double)v_scale(out), (long long)v_zp(out));
    return 0;
}

static int v_quantize(vctx *c) {
    const ir_tensor *in = v_in(c, 0), *out = v_out(c);
    /* uint8 model interfaces: uint8 -> int8 and int8 -> uint8 (quantize_common.cc) */
    if ((in->type == IR_U8 && out->type == IR_I8) || (in->type == IR_I8 && out->type == IR_U8)) return 0;
    if (v_type(c, out, "output", IR_I8)) return -1;
    if (in->type != IR_F32 && in->type != IR_I8)
        VFAIL(c, "input tensor %d (%s) has type %s; pexc supports float32 and int8", in->index, in->name,
              ir_type_name(in->type));
    return 0;
}

static int v_dequantize(vctx *c) {
    const ir_tensor *in = v_in(c, 0), *out = v_out(c);
    if (v_type(c, in, "input", IR_I8) || v_type(c, out, "output", IR_F32)) return -1;
    return 0;
}

/* ---- the table ---------------------------------------------------------- */

typedef struct {
    int32_t code;
    int32_t min_in, max_in; /* operand count, absent optional operands included */
    int32_t max_version;    /* highest version TFLite defines (op_version.cc) */
    uint32_t per_channel;   /* inputs that may carry several scales (bit k) */
    int (*check)(vctx *c);
} v_rule;

static const v_rule RULES[] = {
    {OP_CONV_2D, 2, 3, 8, 1u << 1 | 1u << 2, v_conv},
    {OP_DEPTHWISE_CONV_2D, 2, 3, 7, 1u << 1 | 1u << 2, v_conv},
    {OP_FULLY_CONNECTED, 2, 3, 13, 1u << 1 | 1u << 2, v_fc},
    {OP_AVERAGE_POOL_2D, 1, 1, 3, 0, v_pool},
    {OP_MAX_POOL_2D, 1, 1, 3, 0, v_pool},
    {OP_ADD, 2, 2, 5, 0, v_binary},
    {OP_MUL, 2, 2, 7, 0, v_binary},
    {OP_PAD, 2, 2, 4, 0, v_pad}, /* a third input (constant value) is not read by pexc */
    {OP_MEAN, 2, 2, 3, 0, v_mean},
    {OP_TRANSPOSE, 2, 2, 6, 0, v_transpose},
    {OP_CONCATENATION, 1, V_MAX_CONCAT, 4, 0, v_concat},
    {OP_RESHAPE, 1, 2, 1, 0, v_reshape},
    {OP_SQUEEZE, 1, 1, 2, 0, v_reshape},
    {OP_SOFTMAX, 1, 1, 3, 0, v_prob},
    {OP_LOGISTIC, 1, 1, 3, 0, v_prob},
    {OP_QUANTIZE, 1, 1, 3, 0, v_quantize},
    {OP_DEQUANTIZE, 1, 1, 6, 0, v_dequantize},
};

static const v_rule *v_find(int32_t code) {
    for (size_t i = 0; i < sizeof RULES / sizeof RULES[0]; i++)
        if (RULES[i].code == code) return &RULES[i];
    return NULL;
}

/* Quantisation vectors of one operand: one scale unless the slot may be
 * per-channel (filters: v_filter_q checks their quantized_dimension; TFLM
 * never looks at a bias's). */
static int v_operand_q(vctx *c, const ir_tensor *t, int slot, uint32_t per_channel) {
    for (int32_t i = 0; t->type == IR_I8 && i < t->nq; i++)
        if (t->zero_point[i] < -128 || t->zero_point[i] > 127)
            VFAIL(c, "tensor %d (%s) has zero point %lld outside the int8 range", t->index, t->name,
                  (long long)t->zero_point[i]);
    if (t->nq > 1 && (slot < 0 || !(per_channel >> slot & 1u)))
        VFAIL(c, "%s tensor %d (%s) has %d quantization scales; TFLM reads only the first here",
              slot < 0 ? "output" : "input", t->index, t->name, t->nq);
    return 0;
}

static int v_op(vctx *c, const v_rule *r) {
    const ir_op *op = c->op;
    if (op->n_out != 1) VFAIL(c, "has %d outputs; TFLM's kernel writes exactly 1", op->n_out);
    if (op->version < 1 || op->version > r->max_version)
        VFAIL(c, "operator version %d; TFLite defines versions 1 to %d", op->version, r->max_version);
    if (op->n_in < r->min_in || op->n_in > r->max_in) {
        if (r->min_in == r->max_in) VFAIL(c, "has %d inputs; TFLM takes exactly %d", op->n_in, r->min_in);
        VFAIL(c, "has %d inputs; TFLM takes %d to %d", op->n_in, r->min_in, r->max_in);
    }
    /* inputs the rule requires may not be -1 (optional: the bias, slot 2) */
    for (int32_t k = 0; k < op->n_in; k++) {
        const ir_tensor *t = v_in(c, k);
        if (!t) {
            if (k == 2 && r->max_in == 3 && r->min_in == 2) continue;
            VFAIL(c, "input %d is -1 (absent); it is required", k);
        }
        if (v_operand_q(c, t, k, r->per_channel)) return -1;
    }
    if (v_operand_q(c, v_out(c), -1, 0)) return -1;
    return r->check ? r->check(c) : 0;
}

int ir_validate(const ir_graph *g, util_err *err) {
    for (int32_t i = 0; i < g->n_ops; i++) {
        const ir_op *op = &g->ops[i];
        vctx c = {g, op, ir_op_name(op->code), err};
        const v_rule *r = v_find(op->code);
        /* float32 operators of the float family (src/ops/float.c) are
         * checked by its lowering; the rules below are the int8 ones */
        const ir_tensor *in0 = op->n_in > 0 && op->in[0] >= 0 ? &g->tensors[op->in[0]] : NULL;
        if (r && in0 && in0->type == IR_F32 && ops_known(op->code) && op->code != OP_FULLY_CONNECTED &&
            op->code != OP_QUANTIZE)
            continue;
        /* so are operators reading or writing int16 (src/ops/int16.c): its
         * lowering states TFLM's int16 rules */
        const ir_tensor *out0 = op->n_out > 0 && op->out[0] >= 0 ? &g->tensors[op->out[0]] : NULL;
        if (r && ops_known(op->code) && ((in0 && in0->type == IR_I16) || (out0 && out0->type == IR_I16))) continue;
        /* so are int32 ADD, SUB and MUL (src/ops/signal.c) */
        if (r && in0 && in0->type == IR_I32 && (op->code == OP_ADD || op->code == OP_SUB || op->code == OP_MUL) &&
            ops_known(op->code))
            continue;
        if (!r) {
            /* an operator family's operator (src/ops/) is checked by its
             * lowering until it has rules here */
            if (ops_known(op->code) || (op->code == OP_CUSTOM && ops_custom_known(op->custom_name))) continue;
            VFAIL(&c, "operator not supported by pexc (builtin code %d)", op->code);
        }
        if (v_op(&c, r)) return -1;
    }
    /* host memory: every activation tensor (not a constant) is held by the
     * compiler's planner and verifier; refuse before anything is sized by it */
    int64_t total = 0;
    for (int32_t i = 0; i < g->n_tensors; i++) {
        const ir_tensor *t = &g->tensors[i];
        if (t->data || (!t->is_input && t->producer < 0)) continue;
        total += (int64_t)t->bytes;
        if (total > V_HOST_ACT_LIMIT)
            return util_fail(err,
                             "tensor %d (%s): %zu bytes bring the model's activations to %lld bytes, above the host "
                             "limit of %lld bytes (64 MiB)",
                             t->index, t->name, t->bytes, (long long)total, (long long)V_HOST_ACT_LIMIT);
    }
    return 0;
}
