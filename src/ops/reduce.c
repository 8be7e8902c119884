/*
 * Reductions: MEAN (every axis set the core K_MEAN lowering does not take),
 * SUM, REDUCE_MAX, REDUCE_MIN, REDUCE_ALL, ARG_MAX and ARG_MIN, and the
 * row-wise LOG_SOFTMAX, L2_NORMALIZATION and CUMSUM, and L2_POOL_2D.
 *
 * TFLite Micro reduces any axis set with one generic walk over the input
 * (reference_ops::QuantizedMeanOrSum and ReduceGeneric), after resolving the
 * axis list: negative axes count from the end and duplicates are dropped.
 * The compiler does that resolution here and hands the kernel the input as
 * two nested index spaces (kept axes, reduced axes), merging neighbouring
 * axes of the same kind, so a reduction over the channel axis of a 4-D
 * tensor becomes one loop of H * W * N outputs over one loop of C inputs.
 *
 * Quantisation follows TFLM's Prepare: int8 MEAN and SUM requantise the
 * int32 sum (zero point removed once) by input scale / output scale, MEAN
 * with 1/count folded into that multiplier (the same fold as the core
 * K_MEAN, prep_mean_s8), so a mean rounds to nearest; int8 MAX and MIN need
 * equal input and output quantisation and copy the extreme byte. TFLM has no
 * REDUCE_PROD or REDUCE_ANY kernel, so those stay unsupported.
 */
#include <float.h>
#include <string.h>

#include "ops/ops.h"
#include "prep/prep.h"

#define FAIL(...) return util_fail(c->err, __VA_ARGS__)

int ops_reduce_known(int32_t code) {
    switch (code) {
    case OP_MEAN: case OP_SUM: case OP_REDUCE_MAX: case OP_REDUCE_MIN: case OP_REDUCE_ALL:
    case OP_ARG_MAX: case OP_ARG_MIN: case OP_LOG_SOFTMAX: case OP_L2_NORMALIZATION:
    case OP_CUMSUM: case OP_L2_POOL_2D: return 1;
    default: return 0;
    }
}

/* ---- kernels ------------------------------------------------------------- */

static void emit_ints(emit_ctx *e, const int32_t *v, int32_t n) {
    emit_printf(e, "{");
    for (int32_t i = 0; i < n; i++) emit_printf(e, i ? ", %d" : "%d", v[i]);
    emit_printf(e, "}");
}

static int reduce_emit(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_reduce_params *p = k->gen_params;
    emit_printf(e, "static const pexc_reduce_params %s = {%d, %d, %d, ", var, p->op, p->n_keep, p->n_red);
    emit_ints(e, p->keep_ext, PEXC_REDUCE_RANK);
    emit_printf(e, ", ");
    emit_ints(e, p->keep_stride, PEXC_REDUCE_RANK);
    emit_printf(e, ", ");
    emit_ints(e, p->red_ext, PEXC_REDUCE_RANK);
    emit_printf(e, ", ");
    emit_ints(e, p->red_stride, PEXC_REDUCE_RANK);
    emit_printf(e, ", %d, %d, %d, %d, %d};\n", p->count, p->input_zp, p->output_zp, p->multiplier, p->shift);
    return 0;
}


OPS_KERNEL(k_reduce_s8, pexc_reduce_s8, pexc_reduce_params, reduce_emit);
OPS_KERNEL(k_reduce_f32, pexc_reduce_f32, pexc_reduce_params, reduce_emit);
OPS_KERNEL(k_reduce_bool, pexc_reduce_bool, pexc_reduce_params, reduce_emit);

static int arg_emit(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_arg_params *p = k->gen_params;
    emit_printf(e, "static const pexc_arg_params %s = {%d, %d, %d, %d};\n", var, p->outer, p->axis, p->inner,
                p->is_max);
    return 0;
}


OPS_KERNEL(k_arg_s8, pexc_arg_minmax_s8, pexc_arg_params, arg_emit);
OPS_KERNEL(k_arg_f32, pexc_arg_minmax_f32, pexc_arg_params, arg_emit);

static int log_softmax_emit(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_log_softmax_params *p = k->gen_params;
    emit_printf(e, "static const pexc_log_softmax_params %s = {%d, %d, %d, %d, %d, %d, %d};\n", var, p->outer,
                p->depth, p->input_multiplier, p->input_left_shift, p->reverse_multiplier, p->reverse_shift,
                p->diff_min);
    return 0;
}
OPS_KERNEL(k_log_softmax, pexc_log_softmax_s8, pexc_log_softmax_params, log_softmax_emit);

static int l2_norm_emit(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_l2_norm_params *p = k->gen_params;
    emit_printf(e, "static const pexc_l2_norm_params %s = {%d, %d, %d};\n", var, p->outer, p->depth, p->input_zp);
    return 0;
}
OPS_KERNEL(k_l2_norm, pexc_l2_norm_s8, pexc_l2_norm_params, l2_norm_emit);
OPS_KERNEL(k_l2_norm_f32, pexc_l2_norm_f32, pexc_l2_norm_params, l2_norm_emit);

static int l2_pool_emit(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_l2_pool_params *p = k->gen_params;
    emit_printf(e,
                "static const pexc_l2_pool_params %s = {%d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %af, %af};\n",
                var, p->n, p->h, p->w, p->c, p->out_h, p->out_w, p->filter_h, p->filter_w, p->stride_h, p->stride_w,
                p->pad_top, p->pad_left, (double)p->act_min, (double)p->act_max);
    return 0;
}
OPS_KERNEL(k_l2_pool, pexc_l2_pool_f32, pexc_l2_pool_params, l2_pool_emit);

static int cumsum_emit(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_cumsum_params *p = k->gen_params;
    emit_printf(e, "static const pexc_cumsum_params %s = {%d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d};\n", var,
                p->before, p->axis, p->after, p->exclusive, p->reverse, p->input_offset, p->input_multiplier,
                p->input_shift, p->output_offset, p->output_multiplier, p->output_shift);
    return 0;
}
OPS_KERNEL(k_cumsum_s8, pexc_cumsum_s8, pexc_cumsum_params, cumsum_emit);
OPS_KERNEL(k_cumsum_f32, pexc_cumsum_f32, pexc_cumsum_params, cumsum_emit);

/* ---- lowering ------------------------------------------------------------ */

/* The axis operand: an int32 constant (TFLM's Prepare requires int32)
 * resolved like TFLM's ResolveAxis into mask[axis] = 1. */
static int reduce_axes(lower_ctx *c, const ir_tensor *in, int mask[IR_MAX_RANK]) {
    ir_tensor *ax = lower_in(c, 1);
    if (lower_need(c, ax, 1, "axis", IR_I32, 1)) return -1;
    int64_t v[64], n;
    if (lower_const_ints(c, ax, v, 64, &n, "axis")) return -1;
    memset(mask, 0, sizeof(int) * IR_MAX_RANK);
    for (int64_t i = 0; i < n; i++) {
        int64_t a = v[i] < 0 ? v[i] + in->rank : v[i];
        if (a < 0 || a >= in->rank)
            FAIL("operator %d (%s): axis tensor %d value %lld is out of range for the rank %d input tensor %d",
                 c->op->index, c->name, ax->index, (long long)v[i], in->rank, in->index);
        mask[a] = 1;
    }
    return 0;
}

/* The reduction's index spaces, adjacent axes of the same kind merged (an
 * extent-1 axis belongs to neither: it moves no offset). */
static void reduce_spaces(const ir_tensor *in, const int mask[IR_MAX_RANK], pexc_reduce_params *p) {
    int32_t stride[IR_MAX_RANK];
    int64_t s = 1;
    for (int32_t i = in->rank - 1; i >= 0; i--) {
        stride[i] = (int32_t)s;
        s *= in->shape[i];
    }
    int64_t count = 1;
    for (int32_t i = 0; i < in->rank; i++) {
        if (in->shape[i] == 1) continue;
        int32_t *n = mask[i] ? &p->n_red : &p->n_keep;
        int32_t *ext = mask[i] ? p->red_ext : p->keep_ext, *st = mask[i] ? p->red_stride : p->keep_stride;
        if (*n && st[*n - 1] == stride[i] * in->shape[i]) {
            ext[*n - 1] *= in->shape[i];
            st[*n - 1] = stride[i];
        } else {
            ext[*n] = in->shape[i];
            st[*n] = stride[i];
            (*n)++;
        }
        if (mask[i]) count *= in->shape[i];
    }
    p->count = (int32_t)count;
}

static int lower_reduce(lower_ctx *c, k_call *k) {
    ir_op *op = c->op;
    ir_tensor *in = lower_in(c, 0), *out = &c->g->tensors[op->out[0]];
    if (!in) FAIL("operator %d (%s): missing input", op->index, c->name);
    int bool_op = op->code == OP_REDUCE_ALL;
    if (bool_op ? in->type != IR_BOOL
                : in->type != IR_I8 && in->type != IR_F32)
        FAIL("operator %d (%s): input tensor %d (%s) is %s; TFLite Micro supports %s here", op->index, c->name,
             in->index, in->name, ir_type_name(in->type), bool_op ? "bool" : "int8 and float32");
    if (lower_need(c, out, 0, "output", in->type, 0)) return -1;
    int mask[IR_MAX_RANK];
    if (reduce_axes(c, in, mask)) return -1;
    pexc_reduce_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    reduce_spaces(in, mask, p);
    int64_t n_out = 1;
    for (int32_t i = 0; i < in->rank; i++)
        if (!mask[i]) n_out *= in->shape[i];
    if (out->elems != n_out)
        FAIL("operator %d (%s): output tensor %d has %lld elements; reducing input tensor %d over the given axes "
             "leaves %lld",
             op->index, c->name, out->index, (long long)out->elems, in->index, (long long)n_out);
    const ops_kernel *kn;
    switch (op->code) {
    case OP_MEAN: p->op = in->type == IR_I8 ? PEXC_REDUCE_SUM : PEXC_REDUCE_MEAN; break;
    case OP_SUM: p->op = PEXC_REDUCE_SUM; break;
    case OP_REDUCE_MAX: p->op = PEXC_REDUCE_MAX; break;
    case OP_REDUCE_MIN: p->op = PEXC_REDUCE_MIN; break;
    default: p->op = PEXC_REDUCE_ALL; break;
    }
    if (in->type == IR_I8) {
        kn = &k_reduce_s8;
        if (lower_need_q(c, in, "input") || lower_need_q(c, out, "output")) return -1;
        float si = lower_scale(in), so = lower_scale(out);
        int32_t zi = lower_zp(in), zo = lower_zp(out);
        if (p->op == PEXC_REDUCE_SUM) {
            pexc_mean_params m = {0, 0, 0, 0};
            pexc_requantize_params q = {0, 0, 0, 0};
            int r = op->code == OP_MEAN ? prep_mean_s8(si, zi, so, zo, p->count, &m)
                                        : prep_requantize_s8(si, zi, so, zo, &q);
            if (op->code != OP_MEAN) {
                m.multiplier = q.multiplier;
                m.shift = q.shift;
            }
            if (r || m.shift < -31 || m.shift > 30)
                FAIL("operator %d (%s): input scale %g over output scale %g (over %d elements) cannot be requantised",
                     op->index, c->name, (double)si, (double)so, p->count);
            p->input_zp = zi;
            p->output_zp = zo;
            p->multiplier = m.multiplier;
            p->shift = m.shift;
        } else if (si != so || zi != zo) {
            FAIL("operator %d (%s): input tensor %d (scale %g, zero point %d) and output tensor %d (scale %g, zero "
                 "point %d) must share their quantisation",
                 op->index, c->name, in->index, (double)si, zi, out->index, (double)so, zo);
        }
    } else {
        kn = in->type == IR_F32 ? &k_reduce_f32 : &k_reduce_bool;
    }
    int32_t t = in->index;
    return ops_generic(c, k, kn, p, &t, 1);
}

/* Input 0 exists and is int8 or float32 (what TFLM's kernels take). */
static int need_i8_or_f32(lower_ctx *c, const ir_tensor *in) {
    if (!in) FAIL("operator %d (%s): missing input", c->op->index, c->name);
    if (in->type != IR_I8 && in->type != IR_F32)
        FAIL("operator %d (%s): input tensor %d (%s) is %s; TFLite Micro supports int8 and float32 here",
             c->op->index, c->name, in->index, in->name, ir_type_name(in->type));
    return 0;
}

/* Input 1: one int32 constant axis of in, resolved into *a. */
static int single_axis(lower_ctx *c, const ir_tensor *in, int64_t *a) {
    ir_tensor *ax = lower_in(c, 1);
    int64_t v[1], n;
    if (lower_need(c, ax, 1, "axis", IR_I32, 1) || lower_const_ints(c, ax, v, 1, &n, "axis")) return -1;
    if (n != 1) FAIL("operator %d (%s): axis tensor %d has %lld values, expected 1", c->op->index, c->name,
                     ax->index, (long long)n);
    *a = v[0] < 0 ? v[0] + in->rank : v[0];
    if (in->rank < 1 || *a < 0 || *a >= in->rank)
        FAIL("operator %d (%s): axis %lld is out of range for the rank %d input tensor %d", c->op->index, c->name,
             (long long)v[0], in->rank, in->index);
    return 0;
}

static int lower_arg(lower_ctx *c, k_call *k) {
    ir_op *op = c->op;
    ir_tensor *in = lower_in(c, 0), *out = &c->g->tensors[op->out[0]];
    int64_t a;
    /* TFLM computes int32 indices only (output_type int64 is refused) */
    if (need_i8_or_f32(c, in) || lower_need(c, out, 0, "output", IR_I32, 0) || single_axis(c, in, &a)) return -1;
    pexc_arg_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    int64_t outer = 1, inner = 1;
    for (int64_t i = 0; i < a; i++) outer *= in->shape[i];
    for (int64_t i = a + 1; i < in->rank; i++) inner *= in->shape[i];
    if (out->elems != outer * inner)
        FAIL("operator %d (%s): output tensor %d has %lld elements, expected %lld", op->index, c->name, out->index,
             (long long)out->elems, (long long)(outer * inner));
    p->outer = (int32_t)outer;
    p->axis = in->shape[a];
    p->inner = (int32_t)inner;
    p->is_max = op->code == OP_ARG_MAX;
    int32_t t = in->index;
    return ops_generic(c, k, in->type == IR_I8 ? &k_arg_s8 : &k_arg_f32, p, &t, 1);
}

/* LOG_SOFTMAX int8 over the last axis. TFLM's Prepare fixes the output at
 * scale 16/256, zero point 127, and derives the parameters as SOFTMAX does
 * with beta 1 (prep_softmax_s8), plus the reverse scaling that turns the
 * log-sum back into an input difference. */
static int lower_log_softmax(lower_ctx *c, k_call *k) {
    ir_op *op = c->op;
    ir_tensor *in = lower_in(c, 0), *out = &c->g->tensors[op->out[0]];
    if (in && in->type == IR_F32)
        FAIL("operator %d (%s): float32 input tensor %d: pexc has no float log-softmax (it would need libm's exp "
             "and log on the device)",
             op->index, c->name, in->index);
    if (lower_need(c, in, 0, "input", IR_I8, 0) || lower_need(c, out, 0, "output", IR_I8, 0) ||
        lower_need_q(c, in, "input") || lower_need_q(c, out, "output"))
        return -1;
    if (in->rank < 1 || out->rank != in->rank || memcmp(in->shape, out->shape, sizeof(int32_t) * (size_t)in->rank))
        FAIL("operator %d (%s): input tensor %d and output tensor %d differ in shape", op->index, c->name,
             in->index, out->index);
    if (lower_scale(out) != 16.0f / 256.0f || lower_zp(out) != 127)
        FAIL("operator %d (%s): output tensor %d has scale %g and zero point %d; TFLite Micro needs 16/256 and 127",
             op->index, c->name, out->index, (double)lower_scale(out), lower_zp(out));
    pexc_log_softmax_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    pexc_softmax_params sp;
    if (prep_softmax_s8(1.0f, lower_scale(in), &sp) || sp.input_left_shift < 1 || sp.input_left_shift > 30)
        FAIL("operator %d (%s): input tensor %d scale %g is out of range", op->index, c->name, in->index,
             (double)lower_scale(in));
    /* PreprocessLogSoftmaxScalingExp: 2^(31 - left_shift) / multiplier */
    double rev = (double)(INT64_C(1) << (31 - sp.input_left_shift)) / (double)sp.input_multiplier;
    if (prep_quantize_multiplier(rev, &p->reverse_multiplier, &p->reverse_shift) || p->reverse_shift < -31 ||
        p->reverse_shift > 30)
        FAIL("operator %d (%s): input tensor %d scale %g is out of range", op->index, c->name, in->index,
             (double)lower_scale(in));
    p->depth = in->shape[in->rank - 1];
    p->outer = (int32_t)(in->elems / p->depth);
    p->input_multiplier = sp.input_multiplier;
    p->input_left_shift = sp.input_left_shift;
    p->diff_min = sp.diff_min;
    int32_t t = in->index;
    return ops_generic(c, k, &k_log_softmax, p, &t, 1);
}

/* L2_NORMALIZATION int8 or float32 over the last axis, rank <= 4, no fused
 * activation (TFLM's Prepare). int8: TFLM writes Q7 whatever the output
 * quantisation, so the output's scale and zero point are not consulted. */
static int lower_l2_norm(lower_ctx *c, k_call *k) {
    ir_op *op = c->op;
    ir_tensor *in = lower_in(c, 0), *out = &c->g->tensors[op->out[0]];
    int is_f = in && in->type == IR_F32;
    if (lower_need(c, in, 0, "input", is_f ? IR_F32 : IR_I8, 0) ||
        lower_need(c, out, 0, "output", is_f ? IR_F32 : IR_I8, 0) || (!is_f && lower_need_q(c, in, "input")))
        return -1;
    if (in->rank < 1 || in->rank > 4 || out->rank != in->rank ||
        memcmp(in->shape, out->shape, sizeof(int32_t) * (size_t)in->rank))
        FAIL("operator %d (%s): input tensor %d (rank %d) and output tensor %d must have one shape of rank 1 to 4",
             op->index, c->name, in->index, in->rank, out->index);
    int32_t act;
    if (reader_opt_int(c->g, op, 12, 0, 1, 0, &act, c->err)) return -1; /* L2NormOptions */
    if (act != 0)
        FAIL("operator %d (%s): fused activation %d; TFLite Micro takes none here", op->index, c->name, act);
    pexc_l2_norm_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    p->depth = in->shape[in->rank - 1];
    p->outer = (int32_t)(in->elems / p->depth);
    p->input_zp = is_f ? 0 : lower_zp(in);
    int32_t t = in->index;
    return ops_generic(c, k, is_f ? &k_l2_norm_f32 : &k_l2_norm, p, &t, 1);
}

/* CUMSUM int8 or float32 along a constant int32 axis. int8: TFLM's
 * Prepare rescales inputs by 1/2 after a 20-bit left shift and the sums by
 * 2 * input scale / (2^20 * output scale), both as multipliers below one. */
static int lower_cumsum(lower_ctx *c, k_call *k) {
    ir_op *op = c->op;
    ir_tensor *in = lower_in(c, 0), *out = &c->g->tensors[op->out[0]];
    int64_t a;
    if (need_i8_or_f32(c, in) || lower_need(c, out, 0, "output", in->type, 0) || single_axis(c, in, &a)) return -1;
    if (out->rank != in->rank || memcmp(in->shape, out->shape, sizeof(int32_t) * (size_t)in->rank))
        FAIL("operator %d (%s): input tensor %d and output tensor %d differ in shape", op->index, c->name,
             in->index, out->index);
    pexc_cumsum_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    int32_t excl, rev;
    if (reader_opt_int(c->g, op, 102, 0, 1, 0, &excl, c->err) || /* CumsumOptions */
        reader_opt_int(c->g, op, 102, 1, 1, 0, &rev, c->err))
        return -1;
    int64_t before = 1, after = 1;
    for (int64_t i = 0; i < a; i++) before *= in->shape[i];
    for (int64_t i = a + 1; i < in->rank; i++) after *= in->shape[i];
    p->before = (int32_t)before;
    p->axis = in->shape[a];
    p->after = (int32_t)after;
    p->exclusive = excl != 0;
    p->reverse = rev != 0;
    if (in->type == IR_I8) {
        if (lower_need_q(c, in, "input") || lower_need_q(c, out, "output")) return -1;
        double twice = 2 * (double)lower_scale(in);
        if (prep_quantize_multiplier((double)lower_scale(in) / twice, &p->input_multiplier, &p->input_shift) ||
            prep_quantize_multiplier(twice / ((double)(1 << 20) * (double)lower_scale(out)), &p->output_multiplier,
                                     &p->output_shift) ||
            p->input_shift > 0 || p->output_shift > 0 || p->output_shift < -31)
            FAIL("operator %d (%s): input scale %g over output scale %g is out of range", op->index, c->name,
                 (double)lower_scale(in), (double)lower_scale(out));
        p->input_offset = -lower_zp(in);
        p->output_offset = lower_zp(out);
    }
    int32_t t = in->index;
    return ops_generic(c, k, in->type == IR_I8 ? &k_cumsum_s8 : &k_cumsum_f32, p, &t, 1);
}

/* One spatial axis of a pooling window, TFLM's ComputePaddingHeightWidth. */
static int pool_axis(int32_t in, int32_t k, int32_t s, int32_t padding, int32_t *out, int32_t *pad) {
    if (in < 1 || k < 1 || s < 1 || (padding != 0 && padding != 1)) return -1;
    int64_t o = padding == 0 ? ((int64_t)in + s - 1) / s : ((int64_t)in + s - k) / s;
    if (o < 1) return -1;
    int64_t total = (o - 1) * s + k - in;
    *out = (int32_t)o;
    *pad = total > 0 ? (int32_t)(total / 2) : 0;
    return 0;
}

/* L2_POOL_2D: float32 only in TFLM. */
static int lower_l2_pool(lower_ctx *c, k_call *k) {
    ir_op *op = c->op;
    ir_tensor *in = lower_in(c, 0), *out = &c->g->tensors[op->out[0]];
    if (lower_need(c, in, 0, "input", IR_F32, 0) || lower_need(c, out, 0, "output", IR_F32, 0)) return -1;
    if (in->rank != 4 || out->rank != 4)
        FAIL("operator %d (%s): input tensor %d and output tensor %d must be 4-D", op->index, c->name, in->index,
             out->index);
    int32_t padding, sw, sh, fw, fh, act;
    if (reader_opt_int(c->g, op, 5, 0, 1, 0, &padding, c->err) || /* Pool2DOptions */
        reader_opt_int(c->g, op, 5, 1, 4, 0, &sw, c->err) || reader_opt_int(c->g, op, 5, 2, 4, 0, &sh, c->err) ||
        reader_opt_int(c->g, op, 5, 3, 4, 0, &fw, c->err) || reader_opt_int(c->g, op, 5, 4, 4, 0, &fh, c->err) ||
        reader_opt_int(c->g, op, 5, 5, 1, 0, &act, c->err))
        return -1;
    pexc_l2_pool_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    if (pool_axis(in->shape[1], fh, sh, padding, &p->out_h, &p->pad_top) ||
        pool_axis(in->shape[2], fw, sw, padding, &p->out_w, &p->pad_left))
        FAIL("operator %d (%s): invalid window %dx%d / stride %dx%d / padding %d for input %dx%d", op->index,
             c->name, fh, fw, sh, sw, padding, in->shape[1], in->shape[2]);
    int32_t want[4] = {in->shape[0], p->out_h, p->out_w, in->shape[3]};
    if (lower_check_dims(c, out, want, "output")) return -1;
    /* TFLM's CalculateActivationRange: finite bounds (an infinite root is
     * clamped to the largest float), and no clamp for other activations */
    p->act_min = act == 1 || act == 3 ? 0.0f : act == 2 ? -1.0f : -FLT_MAX;
    p->act_max = act == 3 ? 6.0f : act == 2 ? 1.0f : FLT_MAX;
    p->n = in->shape[0];
    p->h = in->shape[1];
    p->w = in->shape[2];
    p->c = in->shape[3];
    p->filter_h = fh;
    p->filter_w = fw;
    p->stride_h = sh;
    p->stride_w = sw;
    int32_t t = in->index;
    return ops_generic(c, k, &k_l2_pool, p, &t, 1);
}

int ops_reduce_lower(lower_ctx *c, k_call *k) {
    switch (c->op->code) {
    case OP_MEAN: case OP_SUM: case OP_REDUCE_MAX: case OP_REDUCE_MIN: case OP_REDUCE_ALL:
        return lower_reduce(c, k);
    case OP_ARG_MAX: case OP_ARG_MIN: return lower_arg(c, k);
    case OP_LOG_SOFTMAX: return lower_log_softmax(c, k);
    case OP_L2_NORMALIZATION: return lower_l2_norm(c, k);
    case OP_CUMSUM: return lower_cumsum(c, k);
    case OP_L2_POOL_2D: return lower_l2_pool(c, k);
    default: return 1;
    }
}
