/*
 * Lowering: each IR operator becomes a k_call, a complete description of one
 * runtime kernel call: which kernel, which activation tensors, which constant
 * arrays, and the integer parameters TFLite's Prepare() would compute. Shapes,
 * types and options are checked here, so everything after this stage (the
 * scheduler, the executor, the C emitter) can trust a k_call.
 */
#include <math.h>
#include <string.h>

#include "internal.h"
#include "ir/lower.h"
#include "ops/ops.h"
#include "prep/prep.h"

void lower_nhwc(const ir_tensor *t, int32_t d[4]) {
    int32_t r = t->rank;
    for (int i = 0; i < 4; i++) d[i] = 1;
    if (r > 4) {
        /* fold leading dims into N so the element count is kept */
        int64_t n = 1;
        for (int i = 0; i < r - 3; i++) n *= t->shape[i];
        d[0] = (int32_t)n;
        for (int i = 1; i < 4; i++) d[i] = t->shape[r - 4 + i];
        return;
    }
    for (int i = 0; i < r; i++) d[4 - r + i] = t->shape[i];
}

#define FAIL(...) return util_fail(err, __VA_ARGS__)

/* The int8 kernels accumulate sum((x - zp_x) * (w - zp_w)) + bias in int32,
 * shift it left by the requantisation shift (when positive), scale it and add
 * the output zero point. Refuse sizes, bias values and shifts for which any of
 * that could overflow: keep |sum| << shift below 2^31 - 256 (each product is at
 * most 255 * 256 once zero points are in the int8 range). */
static int check_accumulator(lower_ctx *c, int64_t depth, const ir_tensor *in, const ir_tensor *w,
                             const ir_tensor *b, const int32_t *shift, int32_t n_shift) {
    if (depth < 1 || depth > ((int64_t)1 << 24))
        return util_fail(c->err, "operator %d (%s): %lld-term sums are not supported", c->op->index, c->name,
                         (long long)depth);
    int64_t zx = lower_zp(in), zw = lower_zp(w);
    int64_t worst = depth * (128 + (zx < 0 ? -zx : zx)) * (128 + (zw < 0 ? -zw : zw));
    int64_t bmax = 0;
    for (int64_t i = 0; b && b->data && i < b->elems; i++) {
        int32_t v;
        memcpy(&v, b->data + 4 * i, 4);
        int64_t a = v < 0 ? -(int64_t)v : v;
        if (a > bmax) bmax = a;
    }
    int32_t sh = 0;
    for (int32_t i = 0; i < n_shift; i++)
        if (shift[i] > sh) sh = shift[i];
    if (sh > 30 || worst + bmax > INT32_MAX || ((worst + bmax) << sh) > INT32_MAX - 256)
        return util_fail(c->err,
                         "operator %d (%s): %lld-term sums with bias up to %lld (left shift %d) could overflow the "
                         "int32 accumulator",
                         c->op->index, c->name, (long long)depth, (long long)bmax, (int)sh);
    return 0;
}

/* The short requantisation (pexc_requant_short) for a layer whose every
 * channel is proved to allow it (prep_short_requant); otherwise out_round
 * stays NULL and the kernels take the long form. The sums of channel oc lie
 * within sum over t of |w[oc * cs + t * ts] + w_off| times the largest
 * |input + input_offset|, plus |bias[oc]|. */
static int lower_short_rq(lower_ctx *c, pexc_conv_params *p, const int8_t *w, int32_t w_off, size_t cs,
                          size_t ts, int64_t n, const ir_tensor *b, int32_t cout) {
    const int64_t lo = -128 + p->input_offset, hi = 127 + p->input_offset;
    const int64_t xmax = -lo > hi ? -lo : hi;
    int32_t *round = util_alloc(&c->g->arena, 4 * (size_t)cout);
    if (!round) return util_fail(c->err, "out of memory");
    for (int32_t oc = 0; oc < cout; oc++) {
        int64_t sw = 0, bias = 0;
        for (int64_t t = 0; t < n; t++) {
            const int64_t v = (int64_t)w[(size_t)oc * cs + (size_t)t * ts] + w_off;
            sw += v < 0 ? -v : v;
        }
        if (b && b->data) {
            int32_t v;
            memcpy(&v, b->data + 4 * (size_t)oc, 4);
            bias = v < 0 ? -(int64_t)v : v;
        }
        if (!prep_short_requant(sw * xmax + bias, p->out_mult[oc], p->out_shift[oc], p->output_offset, &round[oc]))
            return 0;
    }
    p->out_round = round;
    return 0;
}

static int lower_conv(lower_ctx *c, k_call *k, int depthwise) {
    util_err *err = c->err;
    ir_op *op = c->op;
    ir_tensor *in = lower_in(c, 0), *w = lower_in(c, 1), *b = lower_in(c, 2), *out = &c->g->tensors[op->out[0]];
    if (lower_need(c, in, 0, "input", IR_I8, 0) || lower_need(c, w, 1, "filter", IR_I8, 1) ||
        lower_need(c, out, 0, "output", IR_I8, 0) || lower_need_q(c, in, "input") || lower_need_q(c, w, "filter") ||
        lower_need_q(c, out, "output"))
        return -1;
    if (in->rank != 4 || w->rank != 4 || out->rank != 4)
        FAIL("operator %d (%s): input, filter and output must be 4-D", op->index, c->name);
    int32_t cin = in->shape[3], cout = depthwise ? w->shape[3] : w->shape[0];
    if (cin < 1 || cout < 1)
        FAIL("operator %d (%s): %d input and %d output channels", op->index, c->name, cin, cout);
    if (!depthwise && w->shape[3] != cin)
        FAIL("operator %d (%s): filter tensor %d has %d input channels, input has %d (grouped convolution is not supported)",
             op->index, c->name, w->index, w->shape[3], cin);
    if (depthwise && (w->shape[0] != 1 || cout % cin != 0))
        FAIL("operator %d (%s): depthwise filter tensor %d shape [%d,%d,%d,%d] does not fit %d input channels",
             op->index, c->name, w->index, w->shape[0], w->shape[1], w->shape[2], w->shape[3], cin);
    if (w->nq != 1 && w->nq != cout)
        FAIL("operator %d (%s): filter has %d scales for %d output channels", op->index, c->name, w->nq, cout);
    for (int32_t i = 0; i < w->nq; i++)
        if (w->zero_point[i] != 0)
            FAIL("operator %d (%s): filter zero point %lld; int8 filters must be symmetric", op->index, c->name,
                 (long long)w->zero_point[i]);
    if (b) {
        if (lower_need(c, b, 2, "bias", IR_I32, 1)) return -1;
        if (b->elems != cout) FAIL("operator %d (%s): bias has %lld values for %d channels", op->index, c->name,
                                   (long long)b->elems, cout);
        k->bias = (const int32_t *)(const void *)b->data;
    }
    ir_options *o = &op->opt;
    int32_t oh, ow, pt, pl;
    /* explicit padding: a folded PAD (ir_fold_pad) */
    const int x = o->padding == IR_PAD_EXPLICIT;
    if (x ? lower_conv_axis_explicit(in->shape[1], o->xpad[0], o->xpad[1], w->shape[1], o->stride_h, o->dilation_h,
                                     &oh, &pt) ||
                lower_conv_axis_explicit(in->shape[2], o->xpad[2], o->xpad[3], w->shape[2], o->stride_w,
                                         o->dilation_w, &ow, &pl)
          : lower_conv_axis(in->shape[1], w->shape[1], o->stride_h, o->dilation_h, o->padding, &oh, &pt) ||
                lower_conv_axis(in->shape[2], w->shape[2], o->stride_w, o->dilation_w, o->padding, &ow, &pl))
        FAIL("operator %d (%s): invalid stride %dx%d / dilation %dx%d / padding %d for input %dx%d and kernel %dx%d",
             op->index, c->name, o->stride_h, o->stride_w, o->dilation_h, o->dilation_w, o->padding, in->shape[1],
             in->shape[2], w->shape[1], w->shape[2]);
    int32_t want[4] = {in->shape[0], oh, ow, cout};
    if (lower_check_dims(c, out, want, "output")) return -1;
    k->kind = depthwise ? K_DWCONV : K_CONV;
    k->weights = (const int8_t *)(const void *)w->data;
    k->kh = w->shape[1];
    k->kw = w->shape[2];
    k->depth_mult = depthwise ? cout / cin : 1;
    pexc_conv_params *p = &k->conv;
    p->stride_h = o->stride_h;
    p->stride_w = o->stride_w;
    p->dilation_h = o->dilation_h;
    p->dilation_w = o->dilation_w;
    p->pad_top = pt;
    p->pad_left = pl;
    p->input_offset = -lower_zp(in);
    p->output_offset = lower_zp(out);
    int32_t *m = util_alloc(&c->g->arena, 4 * (size_t)cout), *s = util_alloc(&c->g->arena, 4 * (size_t)cout);
    if (!m || !s) FAIL("out of memory");
    if (prep_conv_multipliers(lower_scale(in), w->scale, w->nq, lower_scale(out), cout, m, s))
        FAIL("operator %d (%s): requantisation scale %g (input %g x filter %g / output %g) out of range", op->index,
             c->name, (double)lower_scale(in) * (double)w->scale[0] / (double)lower_scale(out), (double)lower_scale(in),
             (double)w->scale[0], (double)lower_scale(out));
    if (check_accumulator(c, (int64_t)w->shape[1] * w->shape[2] * (depthwise ? 1 : cin), in, w, b, s, cout))
        return -1;
    if (prep_activation_s8(o->activation, lower_scale(out), lower_zp(out), &p->act_min, &p->act_max))
        FAIL("operator %d (%s): unsupported fused activation %d", op->index, c->name, o->activation);
    p->out_mult = m;
    p->out_shift = s;
    if (depthwise && cin == 1 && k->kh * k->kw <= PEXC_GATHER_MAX) {
        /* one input channel: [1, kh, kw, Cout] -> [Cout, kh, kw], the
         * runtime's gathered-window path (pexc_gather_tile) */
        const int32_t taps = k->kh * k->kw;
        int8_t *f = util_alloc(&c->g->arena, (size_t)taps * (size_t)cout);
        if (!f) FAIL("out of memory");
        for (int32_t oc = 0; oc < cout; oc++)
            for (int32_t t = 0; t < taps; t++) f[(size_t)oc * (size_t)taps + (size_t)t] = k->weights[(size_t)t * (size_t)cout + (size_t)oc];
        k->weights = f;
        p->filter_by_channel = 1;
        return lower_short_rq(c, p, k->weights, 0, (size_t)taps, 1, taps, b, cout);
    }
    if (depthwise)
        return lower_short_rq(c, p, k->weights, 0, 1, (size_t)cout, (int64_t)k->kh * k->kw, b, cout);
    return lower_short_rq(c, p, k->weights, 0, (size_t)k->kh * (size_t)k->kw * (size_t)cin, 1,
                          (int64_t)k->kh * k->kw * cin, b, cout);
}

static int lower_fc(lower_ctx *c, k_call *k) {
    util_err *err = c->err;
    ir_op *op = c->op;
    ir_tensor *in = lower_in(c, 0), *w = lower_in(c, 1), *b = lower_in(c, 2), *out = &c->g->tensors[op->out[0]];
    if (!in || !w) FAIL("operator %d (%s): needs input and weights", op->index, c->name);
    if (op->opt.weights_format != 0)
        FAIL("operator %d (%s): shuffled weights format %d is not supported", op->index, c->name,
             op->opt.weights_format);
    int is_f = in->type == IR_F32;
    int32_t dt = is_f ? IR_F32 : IR_I8;
    if (lower_need(c, in, 0, "input", dt, 0) || lower_need(c, w, 1, "weights", dt, 1) || lower_need(c, out, 0, "output", dt, 0))
        return -1;
    if (w->rank != 2) FAIL("operator %d (%s): weights must be 2-D", op->index, c->name);
    int32_t units = w->shape[0], depth = w->shape[1];
    if (in->elems % depth != 0)
        FAIL("operator %d (%s): input has %lld elements, not a multiple of the weights depth %d", op->index, c->name,
             (long long)in->elems, depth);
    int32_t batches = (int32_t)(in->elems / depth);
    if (out->elems != (int64_t)batches * units)
        FAIL("operator %d (%s): output has %lld elements, expected %d x %d", op->index, c->name,
             (long long)out->elems, batches, units);
    int32_t di[4] = {batches, 1, 1, depth}, dout[4] = {batches, 1, 1, units};
    memcpy(k->in_dims[0], di, sizeof di);
    memcpy(k->out_dims, dout, sizeof dout);
    if (is_f) {
        k->kind = K_FC_F32;
        k->weights_f32 = (const float *)(const void *)w->data;
        if (b) {
            if (lower_need(c, b, 2, "bias", IR_F32, 1)) return -1;
            if (b->elems != units) FAIL("operator %d (%s): bias size mismatch", op->index, c->name);
            k->bias_f32 = (const float *)(const void *)b->data;
        }
        if (prep_activation_f32(op->opt.activation, &k->act_min_f, &k->act_max_f))
            FAIL("operator %d (%s): unsupported fused activation %d", op->index, c->name, op->opt.activation);
        return 0;
    }
    if (lower_need_q(c, in, "input") || lower_need_q(c, w, "weights") || lower_need_q(c, out, "output")) return -1;
    if (w->nq != 1 && w->nq != units)
        FAIL("operator %d (%s): weights have %d scales for %d units", op->index, c->name, w->nq, units);
    if (b) {
        if (lower_need(c, b, 2, "bias", IR_I32, 1)) return -1;
        if (b->elems != units) FAIL("operator %d (%s): bias has %lld values for %d units", op->index, c->name,
                                    (long long)b->elems, units);
        k->bias = (const int32_t *)(const void *)b->data;
    }
    k->kind = K_FC;
    k->weights = (const int8_t *)(const void *)w->data;
    k->filter_offset = -lower_zp(w);
    pexc_conv_params *p = &k->conv;
    p->input_offset = -lower_zp(in);
    p->output_offset = lower_zp(out);
    int32_t *m = util_alloc(&c->g->arena, 4 * (size_t)units), *s = util_alloc(&c->g->arena, 4 * (size_t)units);
    if (!m || !s) FAIL("out of memory");
    if (prep_conv_multipliers(lower_scale(in), w->scale, w->nq, lower_scale(out), units, m, s))
        FAIL("operator %d (%s): requantisation scale %g (input %g x filter %g / output %g) out of range", op->index,
             c->name, (double)lower_scale(in) * (double)w->scale[0] / (double)lower_scale(out), (double)lower_scale(in),
             (double)w->scale[0], (double)lower_scale(out));
    if (check_accumulator(c, depth, in, w, b, s, units)) return -1;
    if (prep_activation_s8(op->opt.activation, lower_scale(out), lower_zp(out), &p->act_min, &p->act_max))
        FAIL("operator %d (%s): unsupported fused activation %d", op->index, c->name, op->opt.activation);
    p->out_mult = m;
    p->out_shift = s;
    return lower_short_rq(c, p, k->weights, k->filter_offset, (size_t)depth, 1, depth, b, units);
}

static int lower_pool(lower_ctx *c, k_call *k) {
    util_err *err = c->err;
    ir_op *op = c->op;
    ir_tensor *in = lower_in(c, 0), *out = &c->g->tensors[op->out[0]];
    if (lower_need(c, in, 0, "input", IR_I8, 0) || lower_need(c, out, 0, "output", IR_I8, 0) || lower_need_q(c, out, "output"))
        return -1;
    if (in->rank != 4) FAIL("operator %d (%s): input must be 4-D", op->index, c->name);
    ir_options *o = &op->opt;
    int32_t oh, ow, pt, pl;
    if (lower_conv_axis(in->shape[1], o->filter_h, o->stride_h, 1, o->padding, &oh, &pt) ||
        lower_conv_axis(in->shape[2], o->filter_w, o->stride_w, 1, o->padding, &ow, &pl))
        FAIL("operator %d (%s): invalid window %dx%d / stride %dx%d for input %dx%d", op->index, c->name,
             o->filter_h, o->filter_w, o->stride_h, o->stride_w, in->shape[1], in->shape[2]);
    int32_t want[4] = {in->shape[0], oh, ow, in->shape[3]};
    if (lower_check_dims(c, out, want, "output")) return -1;
    k->kind = op->code == OP_AVERAGE_POOL_2D ? K_AVGPOOL : K_MAXPOOL;
    pexc_pool_params *p = &k->pool;
    p->stride_h = o->stride_h;
    p->stride_w = o->stride_w;
    p->filter_h = o->filter_h;
    p->filter_w = o->filter_w;
    p->pad_top = pt;
    p->pad_left = pl;
    /* a streamed average pool's partial sums (pexc_avg_pool_s8_acc) fit
     * int16 when a window has at most 256 int8 taps: half the bytes */
    p->acc16 = k->kind == K_AVGPOOL && (int64_t)o->filter_h * o->filter_w <= 256;
    if (prep_activation_s8(o->activation, lower_scale(out), lower_zp(out), &p->act_min, &p->act_max))
        FAIL("operator %d (%s): unsupported fused activation %d", op->index, c->name, o->activation);
    return 0;
}

static int lower_binary(lower_ctx *c, k_call *k) {
    util_err *err = c->err;
    ir_op *op = c->op;
    ir_tensor *a = lower_in(c, 0), *b = lower_in(c, 1), *out = &c->g->tensors[op->out[0]];
    /* the streaming kernels take int8 tensors of rank <= 4; the element-wise
     * family's broadcasting kernels take int16, float32 and ranks 5 and 6
     * (src/ops/binary.c) */
    if (a && b && (a->rank > 4 || b->rank > 4 || out->rank > 4 || a->type != IR_I8)) return ops_binary_lower(c, k);
    if (lower_need(c, a, 0, "input", IR_I8, 0) || lower_need(c, b, 1, "input", IR_I8, 0) || lower_need(c, out, 0, "output", IR_I8, 0) ||
        lower_need_q(c, a, "input") || lower_need_q(c, b, "input") || lower_need_q(c, out, "output"))
        return -1;
    int32_t da[4], db[4], dout[4];
    lower_nhwc(a, da);
    lower_nhwc(b, db);
    lower_nhwc(out, dout);
    for (int i = 0; i < 4; i++) {
        int32_t e = da[i] > db[i] ? da[i] : db[i];
        if ((da[i] != e && da[i] != 1) || (db[i] != e && db[i] != 1) || dout[i] != e)
            FAIL("operator %d (%s): shapes of tensors %d, %d and output %d do not broadcast (axis %d: %d, %d -> %d)",
                 op->index, c->name, a->index, b->index, out->index, i, da[i], db[i], dout[i]);
    }
    k->in[1] = b->index;
    memcpy(k->in_dims[1], db, sizeof db);
    int r;
    if (op->code == OP_ADD) {
        k->kind = K_ADD;
        r = prep_add_s8(lower_scale(a), lower_zp(a), lower_scale(b), lower_zp(b), lower_scale(out), lower_zp(out), op->opt.activation, &k->add);
    } else {
        k->kind = K_MUL;
        r = prep_mul_s8(lower_scale(a), lower_zp(a), lower_scale(b), lower_zp(b), lower_scale(out), lower_zp(out), op->opt.activation, &k->mul);
    }
    if (r) FAIL("operator %d (%s): unsupported quantisation or activation", op->index, c->name);
    return 0;
}

static int lower_pad(lower_ctx *c, k_call *k) {
    util_err *err = c->err;
    ir_op *op = c->op;
    ir_tensor *in = lower_in(c, 0), *out = &c->g->tensors[op->out[0]];
    if (lower_need(c, in, 0, "input", IR_I8, 0) || lower_need(c, out, 0, "output", IR_I8, 0)) return -1;
    if (in->rank > 4) FAIL("operator %d (%s): rank %d padding is not supported", op->index, c->name, in->rank);
    int64_t v[8], n;
    if (lower_const_ints(c, lower_in(c, 1), v, 8, &n, "paddings")) return -1;
    if (n != 2 * in->rank) FAIL("operator %d (%s): paddings has %lld values for rank %d", op->index, c->name,
                                (long long)n, in->rank);
    int32_t want[4] = {1, 1, 1, 1};
    int off = 4 - in->rank;
    for (int i = 0; i < in->rank; i++) {
        if (v[2 * i] < 0 || v[2 * i + 1] < 0 || v[2 * i] > 65536 || v[2 * i + 1] > 65536)
            FAIL("operator %d (%s): padding of axis %d out of range", op->index, c->name, i);
        k->pad.before[off + i] = (int32_t)v[2 * i];
        want[off + i] = in->shape[i] + (int32_t)v[2 * i] + (int32_t)v[2 * i + 1];
    }
    if (lower_check_dims(c, out, want, "output")) return -1;
    k->kind = K_PAD;
    k->pad.pad_value = (int8_t)lower_zp(out);
    return 0;
}

/* The int8 mean over H and W of a 4-D tensor, which streams (K_MEAN); any
 * other mean goes to the reductions family (src/ops/reduce.c). */
static int lower_mean(lower_ctx *c, k_call *k) {
    util_err *err = c->err;
    ir_op *op = c->op;
    ir_tensor *in = lower_in(c, 0), *ax_t = lower_in(c, 1), *out = &c->g->tensors[op->out[0]];
    int64_t ax[8], n = 0;
    if (!in || in->type != IR_I8 || out->type != IR_I8 || in->rank != 4 || !ax_t || !ax_t->data ||
        ax_t->type != IR_I32 || ax_t->elems > 8 || lower_const_ints(c, ax_t, ax, 8, &n, "axes")) {
        int r = ops_lower(c->g, op, k, err);
        if (r <= 0) return r;
        FAIL("operator %d (%s): operator not supported by pexc", op->index, c->name);
    }
    if (lower_need_q(c, in, "input") || lower_need_q(c, out, "output")) return -1;
    int has1 = 0, has2 = 0;
    for (int64_t i = 0; i < n; i++) {
        int64_t a = ax[i] < 0 ? ax[i] + in->rank : ax[i];
        if (a == 1) has1 = 1;
        else if (a == 2) has2 = 1;
        else has1 = has2 = -1000;
    }
    if (has1 != 1 || has2 != 1) {
        int r = ops_lower(c->g, op, k, err);
        if (r <= 0) return r;
        FAIL("operator %d (%s): only the mean over axes 1 and 2 of a 4-D tensor is supported", op->index, c->name);
    }
    if (out->elems != (int64_t)in->shape[0] * in->shape[3])
        FAIL("operator %d (%s): output shape does not match a spatial mean", op->index, c->name);
    k->kind = K_MEAN;
    k->out_dims[0] = in->shape[0];
    k->out_dims[1] = k->out_dims[2] = 1;
    k->out_dims[3] = in->shape[3];
    if (prep_mean_s8(lower_scale(in), lower_zp(in), lower_scale(out), lower_zp(out), in->shape[1] * in->shape[2], &k->mean))
        FAIL("operator %d (%s): unsupported quantisation", op->index, c->name);
    return 0;
}

static int lower_transpose(lower_ctx *c, k_call *k) {
    util_err *err = c->err;
    ir_op *op = c->op;
    ir_tensor *in = lower_in(c, 0), *out = &c->g->tensors[op->out[0]];
    if (!in) FAIL("operator %d (%s): missing input", op->index, c->name);
    /* TFLM transposes float32, int8 and int16 tensors of rank 5 or less */
    if (in->type != out->type || (in->type != IR_F32 && in->type != IR_I8 && in->type != IR_I16))
        FAIL("operator %d (%s): unsupported types %s -> %s", op->index, c->name, ir_type_name(in->type),
             ir_type_name(out->type));
    if (in->rank > 5) FAIL("operator %d (%s): rank %d; TFLM transposes at most 5 axes", op->index, c->name, in->rank);
    int64_t perm[6], n;
    if (lower_const_ints(c, lower_in(c, 1), perm, 6, &n, "permutation")) return -1;
    if (n != in->rank || out->rank != in->rank)
        FAIL("operator %d (%s): permutation of %lld axes for rank %d", op->index, c->name, (long long)n, in->rank);
    int seen[6] = {0};
    k->transpose.rank = in->rank;
    for (int i = 0; i < in->rank; i++) {
        if (perm[i] < 0 || perm[i] >= in->rank || seen[perm[i]])
            FAIL("operator %d (%s): invalid permutation", op->index, c->name);
        seen[perm[i]] = 1;
        k->transpose.perm[i] = (int32_t)perm[i];
        k->transpose.in_dims[i] = in->shape[i];
        if (out->shape[i] != in->shape[perm[i]])
            FAIL("operator %d (%s): output axis %d has extent %d, expected %d", op->index, c->name, i, out->shape[i],
                 in->shape[perm[i]]);
    }
    k->kind = K_TRANSPOSE;
    k->elem_size = ir_type_size(in->type);
    return 0;
}

static int lower_concat(lower_ctx *c, k_call *k) {
    util_err *err = c->err;
    ir_op *op = c->op;
    ir_tensor *out = &c->g->tensors[op->out[0]];
    int32_t axis = op->opt.axis < 0 ? op->opt.axis + out->rank : op->opt.axis;
    if (axis < 0 || axis >= out->rank) FAIL("operator %d (%s): axis %d out of range", op->index, c->name, op->opt.axis);
    /* TFLM's types, input count and quantisation rules */
    switch (out->type) {
    case IR_BOOL: case IR_F32: case IR_I8: case IR_I16: case IR_I32: case IR_I64: break;
    default: FAIL("operator %d (%s): unsupported type %s", op->index, c->name, ir_type_name(out->type));
    }
    if (op->opt.activation != 0)
        FAIL("operator %d (%s): fused activation %d; TFLM supports none here", op->index, c->name, op->opt.activation);
    if (op->n_in < 1 || op->n_in > 10)
        FAIL("operator %d (%s): %d inputs; TFLM supports 1 to 10", op->index, c->name, op->n_in);
    if (out->type == IR_I16 && lower_zp(out) != 0)
        FAIL("operator %d (%s): int16 output zero point %d; TFLM requires 0", op->index, c->name, lower_zp(out));
    k->kind = K_CONCAT;
    k->elem_size = ir_type_size(out->type);
    k->n_whole = op->n_in;
    k->whole_in = util_alloc(&c->g->arena, 4 * (size_t)op->n_in);
    k->cat_inner = util_alloc(&c->g->arena, 4 * (size_t)op->n_in);
    if (!k->whole_in || !k->cat_inner) FAIL("out of memory");
    int64_t outer = 1, inner = 1, sum = 0;
    for (int i = 0; i < axis; i++) outer *= out->shape[i];
    for (int i = axis + 1; i < out->rank; i++) inner *= out->shape[i];
    for (int32_t j = 0; j < op->n_in; j++) {
        ir_tensor *t = lower_in(c, j);
        if (!t || t->type != out->type || t->rank != out->rank)
            FAIL("operator %d (%s): input %d does not match the output's type and rank", op->index, c->name, j);
        for (int i = 0; i < out->rank; i++)
            if (i != axis && t->shape[i] != out->shape[i])
                FAIL("operator %d (%s): input %d (tensor %d) differs from the output in axis %d", op->index, c->name,
                     j, t->index, i);
        if (t->type == IR_I8 && (lower_scale(t) != lower_scale(out) || lower_zp(t) != lower_zp(out)))
            FAIL("operator %d (%s): input %d (tensor %d) quantisation (scale %g, zero point %d) differs from the "
                 "output's (scale %g, zero point %d); TFLM does not rescale",
                 op->index, c->name, j, t->index, (double)lower_scale(t), lower_zp(t), (double)lower_scale(out),
                 lower_zp(out));
        if (t->type == IR_I16 && lower_zp(t) != 0)
            FAIL("operator %d (%s): input %d (tensor %d) int16 zero point %d; TFLM requires 0", op->index, c->name,
                 j, t->index, lower_zp(t));
        sum += t->shape[axis];
        k->whole_in[j] = t->index;
        k->cat_inner[j] = (int32_t)(t->shape[axis] * inner);
    }
    if (sum != out->shape[axis])
        FAIL("operator %d (%s): inputs add up to %lld along axis %d, output has %d", op->index, c->name,
             (long long)sum, axis, out->shape[axis]);
    k->cat_outer = (int32_t)outer;
    return 0;
}

static int lower_op(lower_ctx *c, k_call *k) {
    util_err *err = c->err;
    ir_op *op = c->op;
    if (op->n_out != 1 || op->out[0] < 0)
        FAIL("operator %d (%s): has %d outputs; pexc supports single-output operators", op->index, c->name,
             op->n_out);
    ir_tensor *in = lower_in(c, 0), *out = &c->g->tensors[op->out[0]];
    /* a 0 dimension anywhere would let the other dimensions be arbitrarily
     * large: refuse empty activation tensors before any shape arithmetic */
    for (int32_t i = -1; i < op->n_in; i++) {
        const ir_tensor *t = i < 0 ? out : lower_in(c, i);
        if (t && !t->data && t->elems == 0)
            FAIL("operator %d (%s): tensor %d (%s) is empty (a dimension is 0)", op->index, c->name, t->index,
                 t->name);
    }
    k->op = op->index;
    k->out = out->index;
    k->in[0] = in ? in->index : -1;
    k->in[1] = -1;
    if (in) lower_nhwc(in, k->in_dims[0]);
    lower_nhwc(out, k->out_dims);
    k->elem_size = ir_type_size(out->type);
    /* operator families first: they decline (1) what the core lowers below */
    int r = ops_lower(c->g, op, k, err);
    if (r <= 0) return r;
    switch (op->code) {
    case OP_CONV_2D: return lower_conv(c, k, 0);
    case OP_DEPTHWISE_CONV_2D: return lower_conv(c, k, 1);
    case OP_FULLY_CONNECTED: return lower_fc(c, k);
    case OP_AVERAGE_POOL_2D:
    case OP_MAX_POOL_2D: return lower_pool(c, k);
    case OP_ADD:
    case OP_MUL: return lower_binary(c, k);
    case OP_PAD: return ops_move_claims(c->g, op) ? ops_move_lower(c, k) : lower_pad(c, k);
    case OP_MEAN: return lower_mean(c, k);
    case OP_TRANSPOSE: return lower_transpose(c, k);
    case OP_CONCATENATION: return lower_concat(c, k);
    case OP_RESHAPE:
    case OP_SQUEEZE:
        if (!in || in->bytes != out->bytes || in->type != out->type || ir_type_size(in->type) == 0)
            FAIL("operator %d (%s): input and output differ in size or type", op->index, c->name);
        k->kind = K_NOP;
        return 0;
    case OP_SOFTMAX:
    case OP_LOGISTIC:
        /* both map int8 to probabilities: output scale 1/256, zero point -128 */
        if (lower_need(c, in, 0, "input", IR_I8, 0) || lower_need(c, out, 0, "output", IR_I8, 0) || lower_need_q(c, in, "input") ||
            lower_need_q(c, out, "output"))
            return -1;
        if (in->elems != out->elems) FAIL("operator %d (%s): input and output sizes differ", op->index, c->name);
        if (lower_zp(out) != -128 || lower_scale(out) != 1.0f / 256.0f)
            FAIL("operator %d (%s): int8 output must have scale 1/256 and zero point -128", op->index, c->name);
        k->kind = op->code == OP_SOFTMAX ? K_SOFTMAX : K_LOGISTIC;
        if (op->code == OP_SOFTMAX ? prep_softmax_s8(op->opt.beta, lower_scale(in), &k->softmax)
                                   : prep_logistic_s8(lower_scale(in), lower_zp(in), &k->logistic))
            FAIL("operator %d (%s): unsupported input scale %g (zero point %d) or beta %g", op->index, c->name,
                 (double)lower_scale(in), lower_zp(in), (double)op->opt.beta);
        return 0;
    case OP_QUANTIZE:
        if (!in || in->elems != out->elems) FAIL("operator %d (%s): input and output sizes differ", op->index, c->name);
        if (lower_need(c, out, 0, "output", IR_I8, 0) || lower_need_q(c, out, "output")) return -1;
        if (in->type == IR_F32) {
            k->kind = K_QUANT_F32;
            k->qscale = lower_scale(out);
            k->qzp = lower_zp(out);
            return 0;
        }
        if (lower_need(c, in, 0, "input", IR_I8, 0) || lower_need_q(c, in, "input")) return -1;
        k->kind = K_REQUANT;
        if (prep_requantize_s8(lower_scale(in), lower_zp(in), lower_scale(out), lower_zp(out), &k->requant))
            FAIL("operator %d (%s): unsupported scales", op->index, c->name);
        return 0;
    case OP_DEQUANTIZE:
        if (lower_need(c, in, 0, "input", IR_I8, 0) || lower_need(c, out, 0, "output", IR_F32, 0) || lower_need_q(c, in, "input"))
            return -1;
        if (in->elems != out->elems) FAIL("operator %d (%s): input and output sizes differ", op->index, c->name);
        k->kind = K_DEQUANT_F32;
        k->qscale = lower_scale(in);
        k->qzp = lower_zp(in);
        return 0;
    case OP_CUSTOM:
        FAIL("operator %d: custom operator \"%s\" is not supported", op->index,
             op->custom_name ? op->custom_name : "?");
    default:
        FAIL("operator %d (%s, builtin code %d): operator not supported by pexc", op->index, c->name, op->code);
    }
}

/* Operators the core kernels above lower (the families in src/ops/ add
 * theirs through ops_known). */
static int core_supported(int32_t code) {
    switch (code) {
    case OP_CONV_2D: case OP_DEPTHWISE_CONV_2D: case OP_FULLY_CONNECTED: case OP_AVERAGE_POOL_2D:
    case OP_MAX_POOL_2D: case OP_ADD: case OP_MUL: case OP_PAD: case OP_MEAN: case OP_TRANSPOSE:
    case OP_CONCATENATION: case OP_RESHAPE: case OP_SQUEEZE: case OP_SOFTMAX: case OP_LOGISTIC:
    case OP_QUANTIZE: case OP_DEQUANTIZE: return 1;
    default: return 0;
    }
}

int lower_known(int32_t code) { return code != OP_CUSTOM && (core_supported(code) || ops_known(code)); }

int lower_supported(const ir_graph *g, util_err *err) {
    char list[sizeof err->msg];
    size_t at = 0;
    int32_t bad = 0;
    for (int32_t i = 0; i < g->n_ops; i++) {
        const ir_op *op = &g->ops[i];
        if (op->code != OP_CUSTOM && (core_supported(op->code) || ops_known(op->code))) continue;
        if (op->code == OP_CUSTOM && ops_custom_known(op->custom_name)) continue;
        if (at + 80 < sizeof list) {
            int w;
            const char *nm = ir_op_name(op->code);
            if (op->code == OP_CUSTOM)
                w = snprintf(list + at, sizeof list - at, "%soperator %d (custom \"%s\")", bad ? ", " : "",
                             op->src_index, op->custom_name ? op->custom_name : "?");
            else if (!strcmp(nm, "UNKNOWN_OP"))
                w = snprintf(list + at, sizeof list - at, "%soperator %d (builtin code %d, not in the TFLite schema)",
                             bad ? ", " : "", op->src_index, op->code);
            else
                w = snprintf(list + at, sizeof list - at, "%soperator %d (%s)", bad ? ", " : "", op->src_index, nm);
            if (w > 0) at += (size_t)w < sizeof list - at ? (size_t)w : sizeof list - at - 1;
        } else if (at + 5 < sizeof list && list[at - 1] != '.') {
            at += (size_t)snprintf(list + at, sizeof list - at, ", ...");
        }
        bad++;
    }
    if (!bad) return 0;
    if (bad == 1) return util_fail(err, "%s: operator not supported by pexc", list);
    return util_fail(err, "%d operators not supported by pexc: %s", bad, list);
}

int lower_graph(ir_graph *g, k_call **calls, util_err *err) {
    if (ir_fold_pad(g, err)) return -1;
    *calls = util_alloc(&g->arena, sizeof(k_call) * (size_t)(g->n_ops ? g->n_ops : 1));
    if (!*calls) return util_fail(err, "out of memory");
    for (int32_t i = 0; i < g->n_ops; i++) {
        lower_ctx c = {g, &g->ops[i], err, ir_op_name(g->ops[i].code)};
        if (lower_op(&c, &(*calls)[i])) return -1;
    }
    return ir_fold_input_transpose(g, *calls, err);
}
