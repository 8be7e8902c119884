/*
 * Folding a model input's NCHW-to-NHWC TRANSPOSE into the input's copy.
 *
 * Models converted from PyTorch (mobilenet_v2 among the shared ones) take
 * their image as channel planes, [1, C, H, W], and open with a TRANSPOSE
 * (permutation 0, 2, 3, 1) to the NHWC layout every TFLite kernel reads.
 * Run as written, the plan holds the input whole (the transpose reads all
 * of it) and makes a transposed copy of the same size beside it, and no
 * row of the input can be released or streamed: the rows the first
 * convolution needs lie in C separate planes.
 *
 * The caller's input always reaches the arena through a copy (exec.c,
 * the emitted NAME_run_io), and a streamed input through reads into its
 * ring. So the transpose costs nothing if that copy does it: the input's
 * buffer then holds the NHWC bytes, the TRANSPOSE becomes a view of it (a
 * K_NOP at offset 0, like a reshape), and the scheduler sees an NHWC input
 * whose rows it can release (held whole) or ask for in raster order
 * (--stream-input): NHWC pixel q of a C-plane input is element q of each
 * plane. The values are TFLM's, since a transpose only moves bytes.
 *
 * Only this exact case is folded: an int8 graph input of shape [1, C, H, W]
 * that is not also an output, read by exactly one operator, a TRANSPOSE
 * with that permutation. g->input_planar[i] records it for the copies
 * (g->input_planar stays NULL when no input is folded).
 */
#include <string.h>

#include "internal.h"
#include "ir/lower.h"

/* Is the permutation of transpose call k NCHW -> NHWC? */
static int fold_perm_is_nchw_nhwc(const k_call *k) {
    static const int32_t want[4] = {0, 2, 3, 1};
    if (k->kind != K_TRANSPOSE || k->transpose.rank != 4) return 0;
    for (int i = 0; i < 4; i++)
        if (k->transpose.perm[i] != want[i]) return 0;
    return 1;
}

int ir_fold_input_transpose(ir_graph *g, k_call *calls, util_err *err) {
    g->input_planar = NULL; /* (NULL when no input is folded: the common case costs nothing) */
    for (int32_t i = 0; i < g->n_inputs; i++) {
        int32_t t = g->inputs[i];
        const ir_tensor *in = &g->tensors[t];
        if (t < 0 || in->data || in->is_output || in->is_variable || in->type != IR_I8 || in->rank != 4 ||
            in->shape[0] != 1)
            continue;
        /* exactly one operator reads it, through operand 0 only */
        int32_t reader = -1, n_reads = 0;
        for (int32_t o = 0; o < g->n_ops; o++)
            for (int32_t j = 0; j < g->ops[o].n_in; j++)
                if (g->ops[o].in[j] == t) {
                    n_reads++;
                    reader = j == 0 ? o : -2;
                }
        if (n_reads != 1 || reader < 0) continue;
        k_call *k = &calls[reader];
        if (!fold_perm_is_nchw_nhwc(k) || k->in[0] != t) continue;
        if (!g->input_planar && !(g->input_planar = util_alloc(&g->arena, (size_t)g->n_inputs)))
            return util_fail(err, "out of memory");
        /* the transpose's output is now the input's bytes, laid out NHWC */
        k->kind = K_NOP;
        k->alias_off = 0;
        g->input_planar[i] = 1;
    }
    return 0;
}

/*
 * Folding a PAD into the convolution that reads it.
 *
 * Models converted from PyTorch pad explicitly: mobilenet_v2 puts a PAD of
 * one row and column on each side in front of every depthwise layer and
 * its first convolution, all VALID. Run as written, each padded tensor is
 * a copy of its input a little larger, and streamed it is a second ring,
 * of the padded width, beside its input's (22,848 bytes at mobilenet_v2's
 * peak for its 112x112x96 tensor). TFLM's int8 PAD writes the output zero
 * point into the new rows and columns and copies the rest (pad.cc: the
 * output's zero point, or PADV2's constant, whose quantisation must be the
 * output's). Its int8 convolutions sum filter x (input + input offset)
 * over the taps inside the input and skip the others (reference
 * integer_ops conv and depthwise_conv). A padded tap holding the zero
 * point adds filter x 0, exactly what a skipped tap adds; so a
 * convolution of the padded tensor is the same convolution of the PAD's
 * input with the PAD's rows and columns added to its own padding
 * (possibly unequal on the two sides: the kernels take any top and left
 * padding and skip taps past the bottom and right edges). Every output
 * byte is TFLM's; the kernels no longer multiply the padded taps, so
 * fewer multiply-accumulates are done, each once.
 *
 * Folded only when exact: an int8 PAD (or PADV2 of a constant) of a rank 4
 * tensor along H and W alone, the pad value the output's zero point, input
 * and output quantised alike (the convolution then reads the input's zero
 * point and scale), the output no graph output and read by exactly one
 * operator, a CONV_2D or DEPTHWISE_CONV_2D with int8 input and filter,
 * as its input 0. The PAD leaves the graph (a chain of PADs folds
 * whole); its output tensor stays, unread and unwritten.
 */

/* The bytes PAD op writes into its new rows and columns, or -1000 when
 * not a constant int8 value. */
static int32_t fold_pad_value(const ir_graph *g, const ir_op *op) {
    const ir_tensor *out = &g->tensors[op->out[0]];
    if (out->nq < 1) return -1000;
    if (op->code == OP_PAD) return op->n_in == 2 || op->in[2] < 0 ? (int32_t)out->zero_point[0] : -1000;
    if (op->code != OP_PADV2 || op->n_in < 3 || op->in[2] < 0) return -1000;
    const ir_tensor *v = &g->tensors[op->in[2]];
    if (!v->data || v->type != IR_I8 || v->elems != 1) return -1000;
    return (int8_t)v->data[0];
}

/* The padding [top, bottom, left, right] of PAD op when it pads only H
 * and W of a rank 4 tensor by constant amounts; -1 otherwise (a bad
 * paddings tensor is lowering's to refuse). */
static int fold_pad_amounts(ir_graph *g, ir_op *op, int32_t pad[4]) {
    util_err scratch;
    lower_ctx c = {g, op, &scratch, "PAD"};
    int64_t v[8], n;
    if (lower_const_ints(&c, lower_in(&c, 1), v, 8, &n, "paddings") || n != 8) return -1;
    for (int i = 0; i < 8; i++)
        if (v[i] < 0 || v[i] > 65536) return -1;
    if (v[0] || v[1] || v[6] || v[7]) return -1; /* batch and channels untouched */
    for (int i = 0; i < 4; i++) pad[i] = (int32_t)v[2 + i];
    return 0;
}

/* Same element type, one scale and zero point each, equal. */
static int fold_same_quant(const ir_tensor *a, const ir_tensor *b) {
    return a->type == b->type && a->nq == 1 && b->nq == 1 && a->scale[0] == b->scale[0] &&
           a->zero_point[0] == b->zero_point[0];
}

/* The operator PAD op o folds into, or -1. */
static int32_t fold_pad_reader(ir_graph *g, int32_t o, int32_t pad[4]) {
    ir_op *op = &g->ops[o];
    if ((op->code != OP_PAD && op->code != OP_PADV2) || op->n_in < 2 || op->n_out != 1 || op->in[0] < 0 ||
        op->out[0] < 0)
        return -1;
    const ir_tensor *in = &g->tensors[op->in[0]], *out = &g->tensors[op->out[0]];
    if (in->data || in->type != IR_I8 || in->rank != 4 || out->rank != 4 || out->is_output || out->is_variable ||
        !fold_same_quant(in, out) || fold_pad_value(g, op) != out->zero_point[0] || fold_pad_amounts(g, op, pad))
        return -1;
    for (int i = 0; i < 4; i++) {
        int32_t want = in->shape[i] + (i == 1 ? pad[0] + pad[1] : i == 2 ? pad[2] + pad[3] : 0);
        if (out->shape[i] != want) return -1;
    }
    int32_t reader = -1, n_reads = 0;
    for (int32_t r = 0; r < g->n_ops; r++)
        for (int32_t j = 0; j < g->ops[r].n_in; j++)
            if (g->ops[r].in[j] == op->out[0]) {
                n_reads++;
                reader = j == 0 ? r : -2;
            }
    if (n_reads != 1 || reader < 0) return -1;
    const ir_op *rd = &g->ops[reader];
    if ((rd->code != OP_CONV_2D && rd->code != OP_DEPTHWISE_CONV_2D) || rd->n_in < 2 || rd->in[1] < 0 ||
        g->tensors[rd->in[1]].type != IR_I8)
        return -1;
    return reader;
}

/* The explicit padding [top, bottom, left, right] convolution op has on
 * its input now (SAME resolved as TFLite resolves it, VALID none), or -1
 * when its geometry does not resolve (lowering will refuse it). */
static int fold_explicit(const ir_graph *g, const ir_op *op, int32_t x[4]) {
    if (op->opt.padding == IR_PAD_EXPLICIT) {
        memcpy(x, op->opt.xpad, sizeof(int32_t) * 4);
        return 0;
    }
    const ir_tensor *in = &g->tensors[op->in[0]], *w = &g->tensors[op->in[1]];
    if (w->rank != 4 || in->rank != 4) return -1;
    const ir_options *o = &op->opt;
    for (int a = 0; a < 2; a++) {
        int32_t n = in->shape[1 + a], k = w->shape[1 + a], s = a ? o->stride_w : o->stride_h,
                d = a ? o->dilation_w : o->dilation_h, out, pad;
        if (lower_conv_axis(n, k, s, d, o->padding, &out, &pad)) return -1;
        int64_t total = (int64_t)(out - 1) * s + (int64_t)(k - 1) * d + 1 - n;
        x[2 * a] = pad;
        x[2 * a + 1] = total > pad ? (int32_t)(total - pad) : 0;
    }
    return 0;
}

int ir_fold_pad(ir_graph *g, util_err *err) {
    (void)err;
    int32_t folded = 0;
    /* last first: a PAD whose reader is a PAD folds once that one has */
    for (int32_t o = g->n_ops - 1; o >= 0; o--) {
        int32_t pad[4];
        int32_t r = fold_pad_reader(g, o, pad);
        if (r < 0) continue;
        ir_op *rd = &g->ops[r];
        int32_t x[4];
        if (fold_explicit(g, rd, x)) continue;
        int fits = 1;
        for (int i = 0; i < 4; i++) fits &= x[i] + pad[i] <= 65536;
        if (!fits) continue;
        for (int i = 0; i < 4; i++) rd->opt.xpad[i] = x[i] + pad[i];
        /* (the trainer reads these options too: conv_geometry in
         * src/train/net.c takes the explicit padding from xpad) */
        rd->opt.padding = IR_PAD_EXPLICIT;
        rd->in[0] = g->ops[o].in[0];
        g->tensors[g->ops[o].out[0]].producer = -1;
        memmove(&g->ops[o], &g->ops[o + 1], sizeof(ir_op) * (size_t)(g->n_ops - o - 1));
        g->n_ops--;
        folded++;
    }
    if (!folded) return 0;
    for (int32_t o = 0; o < g->n_ops; o++) {
        g->ops[o].index = o;
        for (int32_t k = 0; k < g->ops[o].n_out; k++)
            if (g->ops[o].out[k] >= 0) g->tensors[g->ops[o].out[k]].producer = o;
    }
    return 0;
}
