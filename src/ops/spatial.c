/*
 * Resize, transposed convolution and batched matrix products:
 * RESIZE_BILINEAR, TRANSPOSE_CONV (int8 with per-channel weights) and
 * BATCH_MATMUL, each in int8 and float32.
 *
 * Each is one whole-tensor kernel (K_GENERIC). The compiler does everything
 * TFLM's Prepare() does once: the resize step in Q10 (rounded the way
 * TFLM's integer kernel rounds it) or as a float, the transposed
 * convolution's padding from the output size and its per-channel
 * multipliers, the matrix product's operand strides for adjoint and
 * broadcast operands and its output multiplier. The runtime kernels then
 * need no scratch memory: TFLM's transpose conv accumulates into an
 * output-sized int32 buffer and its batch matmul copies transposed
 * operands, while pexc's kernels gather each output's sum in a register
 * (integer sums do not depend on order; float sums keep TFLM's order).
 */
#include <float.h>
#include <string.h>

#include "ops/ops.h"
#include "prep/prep.h"

#define FAIL(...) return util_fail(c->err, __VA_ARGS__)

/* BuiltinOptions union types (schema.fbs) */
enum { OPT_RESIZE_BILINEAR = 15, OPT_TRANSPOSE_CONV = 49, OPT_BATCH_MATMUL = 101 };

int ops_spatial_known(int32_t code) {
    switch (code) {
    case OP_RESIZE_BILINEAR: case OP_TRANSPOSE_CONV: case OP_BATCH_MATMUL: return 1;
    default: return 0;
    }
}

/* ---- kernels ------------------------------------------------------------- */

static int resize_emit(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_resize_params *p = k->gen_params;
    /* floats as hexadecimal literals: exact */
    emit_printf(e, "static const pexc_resize_params %s = {%d, %d, %d, %d, %d, %d, %d, %d, %d, %af, %af};\n", var,
                p->n, p->h, p->w, p->c, p->out_h, p->out_w, p->half_pixel, p->scale_y, p->scale_x,
                (double)p->scale_yf, (double)p->scale_xf);
    return 0;
}
OPS_KERNEL(k_resize_s8, pexc_resize_bilinear_s8, pexc_resize_params, resize_emit);
OPS_KERNEL(k_resize_f32, pexc_resize_bilinear_f32, pexc_resize_params, resize_emit);

static int tconv_emit(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_transpose_conv_params *p = k->gen_params;
    char what[64];
    const char *m = "NULL", *s = "NULL";
    if (p->out_mult) { /* int8 */
        snprintf(what, sizeof what, "op%d_mult", k->op);
        m = emit_const_array(e, p->out_mult, (size_t)p->cout, IR_I32, what);
        if (!m) return -1;
        snprintf(what, sizeof what, "op%d_shift", k->op);
        s = emit_const_array(e, p->out_shift, (size_t)p->cout, IR_I32, what);
        if (!s) return -1;
    }
    emit_printf(e,
                "static const pexc_transpose_conv_params %s = {%d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, "
                "%d, %d, %d, %d, %d, %s, %s, %af, %af};\n",
                var, p->n, p->h, p->w, p->cin, p->out_h, p->out_w, p->cout, p->kh, p->kw, p->stride_h, p->stride_w,
                p->pad_top, p->pad_left, p->has_bias, p->input_offset, p->output_offset, p->act_min, p->act_max, m,
                s, (double)p->act_min_f, (double)p->act_max_f);
    return 0;
}
OPS_KERNEL(k_tconv, pexc_transpose_conv_s8, pexc_transpose_conv_params, tconv_emit);
OPS_KERNEL(k_tconv_f32, pexc_transpose_conv_f32, pexc_transpose_conv_params, tconv_emit);

static int bmm_emit(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_batch_matmul_params *p = k->gen_params;
    emit_printf(e,
                "static const pexc_batch_matmul_params %s = {{%d, %d, %d}, {%d, %d, %d}, {%d, %d, %d}, %d, %d, %d, "
                "%d, %d, %d, %d, %d, %d, %d};\n",
                var, p->batch[0], p->batch[1], p->batch[2], p->lhs_bstride[0], p->lhs_bstride[1], p->lhs_bstride[2],
                p->rhs_bstride[0], p->rhs_bstride[1], p->rhs_bstride[2], p->rows, p->cols, p->depth, p->adj_x,
                p->adj_y, p->lhs_offset, p->rhs_offset, p->output_offset, p->multiplier, p->shift);
    return 0;
}
OPS_KERNEL(k_bmm_s8, pexc_batch_matmul_s8, pexc_batch_matmul_params, bmm_emit);
OPS_KERNEL(k_bmm_f32, pexc_batch_matmul_f32, pexc_batch_matmul_params, bmm_emit);

/* ---- RESIZE_BILINEAR ----------------------------------------------------- */

/* TFLM's integer step: in / out in Q10, rounded half up; with
 * align_corners the corners map onto each other. */
static int32_t resize_q10(int32_t in, int32_t out, int32_t align) {
    if (align && out > 1) return ((1 << 10) * (in - 1) + (out - 1) / 2) / (out - 1);
    return ((1 << 10) * in + out / 2) / out;
}
static float resize_f32(int32_t in, int32_t out, int32_t align) {
    if (align && out > 1) return (float)(in - 1) / (float)(out - 1);
    return (float)in / (float)out;
}

static int lower_resize(lower_ctx *c, k_call *k) {
    ir_op *op = c->op;
    ir_tensor *in = lower_in(c, 0), *size = lower_in(c, 1), *out = &c->g->tensors[op->out[0]];
    if (!in) FAIL("operator %d (%s): missing input", op->index, c->name);
    if (in->type != IR_I8 && in->type != IR_F32)
        FAIL("operator %d (%s): input tensor %d (%s) is %s; TFLite Micro supports int8 and float32 here", op->index,
             c->name, in->index, in->name, ir_type_name(in->type));
    if (lower_need(c, out, 0, "output", in->type, 0) || lower_need(c, size, 1, "size", IR_I32, 1)) return -1;
    if (in->rank != 4)
        FAIL("operator %d (%s): input tensor %d has rank %d; TFLite Micro needs 4", op->index, c->name, in->index,
             in->rank);
    if (size->rank != 1 || size->elems != 2)
        FAIL("operator %d (%s): size tensor %d must hold 2 values", op->index, c->name, size->index);
    int64_t sz[2], n;
    if (lower_const_ints(c, size, sz, 2, &n, "size")) return -1;
    int32_t align, half;
    if (reader_opt_int(c->g, op, OPT_RESIZE_BILINEAR, 2, 1, 0, &align, c->err) ||
        reader_opt_int(c->g, op, OPT_RESIZE_BILINEAR, 3, 1, 0, &half, c->err))
        return -1;
    if (align && half)
        FAIL("operator %d (%s): align_corners and half_pixel_centers are both set; TFLite Micro refuses that",
             op->index, c->name);
    /* the Q10 arithmetic of the int8 kernel stays inside int32 */
    for (int i = 0; i < 2; i++)
        if (sz[i] < 1 || sz[i] > (1 << 16) || in->shape[1 + i] > (1 << 16))
            FAIL("operator %d (%s): resize from %dx%d to %lldx%lld is out of range", op->index, c->name,
                 in->shape[1], in->shape[2], (long long)sz[0], (long long)sz[1]);
    int32_t want[4] = {in->shape[0], (int32_t)sz[0], (int32_t)sz[1], in->shape[3]};
    if (out->rank != 4 || lower_check_dims(c, out, want, "output")) {
        if (out->rank != 4) FAIL("operator %d (%s): output tensor %d must be 4-D", op->index, c->name, out->index);
        return -1;
    }
    pexc_resize_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    p->n = in->shape[0];
    p->h = in->shape[1];
    p->w = in->shape[2];
    p->c = in->shape[3];
    p->out_h = want[1];
    p->out_w = want[2];
    p->half_pixel = half != 0;
    p->scale_y = resize_q10(p->h, p->out_h, align);
    p->scale_x = resize_q10(p->w, p->out_w, align);
    p->scale_yf = resize_f32(p->h, p->out_h, align);
    p->scale_xf = resize_f32(p->w, p->out_w, align);
    int32_t t = in->index;
    return ops_generic(c, k, in->type == IR_I8 ? &k_resize_s8 : &k_resize_f32, p, &t, 1);
}

/* ---- TRANSPOSE_CONV ------------------------------------------------------ */

/* TFLM's padding: that of a convolution from the transposed convolution's
 * output (size o) back to its input, for kernel k and stride s. */
static int32_t tconv_pad(int32_t padding, int32_t o, int32_t k, int32_t s) {
    int64_t conv_out = padding == 0 ? ((int64_t)o + s - 1) / s : ((int64_t)o + s - k) / s;
    if (conv_out < 0) conv_out = 0;
    int64_t total = (conv_out - 1) * s + k - o;
    return total > 0 ? (int32_t)(total / 2) : 0;
}

static int lower_tconv(lower_ctx *c, k_call *k) {
    ir_op *op = c->op;
    ir_tensor *shape = lower_in(c, 0), *w = lower_in(c, 1), *in = lower_in(c, 2), *b = lower_in(c, 3);
    ir_tensor *out = &c->g->tensors[op->out[0]];
    int is_f = in && in->type == IR_F32;
    int32_t dt = is_f ? IR_F32 : IR_I8;
    if (lower_need(c, in, 2, "input", dt, 0) || lower_need(c, w, 1, "filter", dt, 1) ||
        lower_need(c, out, 0, "output", dt, 0) || lower_need(c, shape, 0, "output_shape", IR_I32, 1))
        return -1;
    if (!is_f && (lower_need_q(c, in, "input") || lower_need_q(c, w, "filter") || lower_need_q(c, out, "output")))
        return -1;
    if (in->rank != 4 || w->rank != 4 || out->rank != 4)
        FAIL("operator %d (%s): input, filter and output must be 4-D", op->index, c->name);
    int32_t cout = w->shape[0], cin = in->shape[3];
    if (w->shape[3] != cin)
        FAIL("operator %d (%s): filter tensor %d has %d input channels, input tensor %d has %d", op->index, c->name,
             w->index, w->shape[3], in->index, cin);
    if (out->shape[0] != in->shape[0] || out->shape[3] != cout)
        FAIL("operator %d (%s): output tensor %d shape [%d,%d,%d,%d] does not fit %d batches and %d filters",
             op->index, c->name, out->index, out->shape[0], out->shape[1], out->shape[2], out->shape[3],
             in->shape[0], cout);
    int64_t os[4], n;
    if (lower_const_ints(c, shape, os, 4, &n, "output_shape")) return -1;
    if (n != 4)
        FAIL("operator %d (%s): output_shape tensor %d has %lld values, expected 4", op->index, c->name,
             shape->index, (long long)n);
    if (os[0] != out->shape[0] || os[1] != out->shape[1] || os[2] != out->shape[2] || os[3] != out->shape[3])
        FAIL("operator %d (%s): output_shape tensor %d holds [%lld,%lld,%lld,%lld], which does not match output "
             "tensor %d of shape [%d,%d,%d,%d]",
             op->index, c->name, shape->index, (long long)os[0], (long long)os[1], (long long)os[2],
             (long long)os[3], out->index, out->shape[0], out->shape[1], out->shape[2], out->shape[3]);
    if (!is_f && w->nq != 1 && w->nq != cout)
        FAIL("operator %d (%s): filter tensor %d has %d scales for %d output channels", op->index, c->name,
             w->index, w->nq, cout);
    if (!is_f && w->nq > 1 && w->q_dim != 0)
        FAIL("operator %d (%s): filter tensor %d is quantised along axis %d; TFLite Micro needs axis 0", op->index,
             c->name, w->index, w->q_dim);
    if (b) {
        if (lower_need(c, b, 3, "bias", is_f ? IR_F32 : IR_I32, 1)) return -1;
        if (b->elems != cout)
            FAIL("operator %d (%s): bias tensor %d has %lld values for %d output channels", op->index, c->name,
                 b->index, (long long)b->elems, cout);
    }
    int32_t padding, sw, sh, act;
    if (reader_opt_int(c->g, op, OPT_TRANSPOSE_CONV, 0, 1, 0, &padding, c->err) ||
        reader_opt_int(c->g, op, OPT_TRANSPOSE_CONV, 1, 4, 0, &sw, c->err) ||
        reader_opt_int(c->g, op, OPT_TRANSPOSE_CONV, 2, 4, 0, &sh, c->err) ||
        reader_opt_int(c->g, op, OPT_TRANSPOSE_CONV, 3, 1, 0, &act, c->err))
        return -1;
    if (padding != 0 && padding != 1)
        FAIL("operator %d (%s): padding %d is not SAME or VALID", op->index, c->name, padding);
    if (sw < 1 || sh < 1 || sw > (1 << 16) || sh > (1 << 16))
        FAIL("operator %d (%s): stride %dx%d is out of range", op->index, c->name, sh, sw);
    pexc_transpose_conv_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    if (is_f) {
        /* TFLM's CalculateActivationRange: finite bounds, no clamp for
         * activations other than the ReLUs */
        p->act_min_f = act == 1 || act == 3 ? 0.0f : act == 2 ? -1.0f : -FLT_MAX;
        p->act_max_f = act == 3 ? 6.0f : act == 2 ? 1.0f : FLT_MAX;
    } else {
        int32_t *m = ops_alloc(c, 4 * (size_t)cout), *s = ops_alloc(c, 4 * (size_t)cout);
        if (!m || !s) return -1;
        if (prep_conv_multipliers(lower_scale(in), w->scale, w->nq, lower_scale(out), cout, m, s))
            FAIL("operator %d (%s): requantisation scale out of range", op->index, c->name);
        if (prep_activation_s8(act, lower_scale(out), lower_zp(out), &p->act_min, &p->act_max))
            FAIL("operator %d (%s): unsupported fused activation %d", op->index, c->name, act);
        p->out_mult = m;
        p->out_shift = s;
    }
    p->n = in->shape[0];
    p->h = in->shape[1];
    p->w = in->shape[2];
    p->cin = cin;
    p->out_h = out->shape[1];
    p->out_w = out->shape[2];
    p->cout = cout;
    p->kh = w->shape[1];
    p->kw = w->shape[2];
    p->stride_h = sh;
    p->stride_w = sw;
    p->pad_top = tconv_pad(padding, p->out_h, p->kh, sh);
    p->pad_left = tconv_pad(padding, p->out_w, p->kw, sw);
    p->has_bias = b != NULL;
    /* TFLM multiplies the raw filter values: its weights offset is unused */
    p->input_offset = is_f ? 0 : -lower_zp(in);
    p->output_offset = is_f ? 0 : lower_zp(out);
    int32_t t[3] = {in->index, w->index, b ? b->index : -1};
    return ops_generic(c, k, is_f ? &k_tconv_f32 : &k_tconv, p, t, b ? 3 : 2);
}

/* ---- BATCH_MATMUL -------------------------------------------------------- */

static int lower_bmm(lower_ctx *c, k_call *k) {
    ir_op *op = c->op;
    ir_tensor *l = lower_in(c, 0), *r = lower_in(c, 1), *out = &c->g->tensors[op->out[0]];
    if (!l || !r || op->n_in != 2) FAIL("operator %d (%s): needs exactly two inputs", op->index, c->name);
    if (l->type != IR_I8 && l->type != IR_F32)
        FAIL("operator %d (%s): lhs tensor %d (%s) is %s; pexc supports int8 and float32 here", op->index, c->name,
             l->index, l->name, ir_type_name(l->type));
    if (lower_need(c, r, 1, "rhs", l->type, 0) || lower_need(c, out, 0, "output", l->type, 0)) return -1;
    if (l->rank < 2 || l->rank > 5 || r->rank < 2 || r->rank > 5)
        FAIL("operator %d (%s): operand ranks %d and %d; TFLite Micro takes ranks 2 to 5", op->index, c->name,
             l->rank, r->rank);
    int32_t adj_x, adj_y;
    if (reader_opt_int(c->g, op, OPT_BATCH_MATMUL, 0, 1, 0, &adj_x, c->err) ||
        reader_opt_int(c->g, op, OPT_BATCH_MATMUL, 1, 1, 0, &adj_y, c->err))
        return -1;
    /* both operands extended to rank 5: three batch axes, then the matrix */
    int32_t ld[5], rd[5];
    for (int i = 0; i < 5; i++) {
        ld[i] = i < 5 - l->rank ? 1 : l->shape[i - (5 - l->rank)];
        rd[i] = i < 5 - r->rank ? 1 : r->shape[i - (5 - r->rank)];
    }
    pexc_batch_matmul_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    p->rows = adj_x ? ld[4] : ld[3];
    p->depth = adj_x ? ld[3] : ld[4];
    p->cols = adj_y ? rd[3] : rd[4];
    int32_t rdepth = adj_y ? rd[4] : rd[3];
    if (rdepth != p->depth)
        FAIL("operator %d (%s): lhs tensor %d has depth %d, rhs tensor %d has %d", op->index, c->name, l->index,
             p->depth, r->index, rdepth);
    int64_t ls = (int64_t)ld[3] * ld[4], rs = (int64_t)rd[3] * rd[4], n_out = (int64_t)p->rows * p->cols;
    for (int i = 2; i >= 0; i--) {
        if (ld[i] != rd[i] && ld[i] != 1 && rd[i] != 1)
            FAIL("operator %d (%s): batch axes of lhs tensor %d and rhs tensor %d do not broadcast (%d against %d)",
                 op->index, c->name, l->index, r->index, ld[i], rd[i]);
        p->batch[i] = ld[i] > rd[i] ? ld[i] : rd[i];
        p->lhs_bstride[i] = ld[i] == 1 ? 0 : (int32_t)ls;
        p->rhs_bstride[i] = rd[i] == 1 ? 0 : (int32_t)rs;
        ls *= ld[i];
        rs *= rd[i];
        n_out *= p->batch[i];
    }
    int orank = l->rank > r->rank ? l->rank : r->rank;
    if (out->elems != n_out || out->rank != orank || out->shape[orank - 2] != p->rows ||
        out->shape[orank - 1] != p->cols)
        FAIL("operator %d (%s): output tensor %d has %lld elements in rank %d, expected %lld ending [%d,%d]",
             op->index, c->name, out->index, (long long)out->elems, out->rank, (long long)n_out, p->rows, p->cols);
    p->adj_x = adj_x != 0;
    p->adj_y = adj_y != 0;
    if (l->type == IR_I8) {
        if (lower_need_q(c, l, "lhs") || lower_need_q(c, r, "rhs") || lower_need_q(c, out, "output")) return -1;
        /* TFLM reads one scale per tensor (params.scale) */
        if (l->nq != 1 || r->nq != 1 || out->nq != 1)
            FAIL("operator %d (%s): per-channel quantisation of lhs, rhs or output is not supported", op->index,
                 c->name);
        /* GetQuantizedConvolutionMultipler: the float product of the two
         * input scales, widened, over the output scale */
        double real = (double)(lower_scale(l) * lower_scale(r)) / (double)lower_scale(out);
        if (prep_quantize_multiplier(real, &p->multiplier, &p->shift) || p->shift < -31 || p->shift > 30)
            FAIL("operator %d (%s): output multiplier %g cannot be represented", op->index, c->name, real);
        p->lhs_offset = -lower_zp(l);
        p->rhs_offset = -lower_zp(r);
        p->output_offset = lower_zp(out);
    }
    int32_t t[2] = {l->index, r->index};
    return ops_generic(c, k, l->type == IR_I8 ? &k_bmm_s8 : &k_bmm_f32, p, t, 2);
}

int ops_spatial_lower(lower_ctx *c, k_call *k) {
    switch (c->op->code) {
    case OP_RESIZE_BILINEAR: return lower_resize(c, k);
    case OP_TRANSPOSE_CONV: return lower_tconv(c, k);
    case OP_BATCH_MATMUL: return lower_bmm(c, k);
    default: return 1;
    }
}
