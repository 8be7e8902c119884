/*
 * An int8 model as a trainable float network.
 *
 * The graph is the one the reader gives: operators in the model's order,
 * which ir_check has shown to be an order in which every operand is made
 * before it is read. Each operator becomes a train_layer, each tensor it
 * reads or writes a train_act holding a whole batch. Weights and biases are
 * dequantised ((q - zero point) x scale, per channel where the model
 * quantises per channel), constants read by element-wise operators too;
 * every activation keeps the int8 range it had, which is what fake
 * quantisation clamps to and what the writer will start from.
 *
 * The loss is softmax cross-entropy. A model that ends in SOFTMAX (as
 * classifiers do; maybe reshaped or dequantised after it) is trained on
 * that softmax's input, so the loss's
 * gradient is the well-conditioned p - onehot rather than a chain through
 * the softmax's own Jacobian; one that does not is trained on its output
 * as logits.
 *
 * A reshape-like operator (RESHAPE, SQUEEZE, QUANTIZE, DEQUANTIZE) makes
 * its output an alias of its input: same floats, same gradient. Fused
 * activations are applied after the kernel and, backward, zero the
 * output's gradient where the clamp was active, before the kernel turns
 * it into its inputs'.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ir/lower.h"
#include "train/gate.h"
#include "train/train.h"

#define FAIL(...) return util_fail(err, __VA_ARGS__)

static int kind_of(int32_t code, train_kind *k) {
    switch (code) {
    case OP_CONV_2D: *k = TR_CONV; return 1;
    case OP_DEPTHWISE_CONV_2D: *k = TR_DWCONV; return 1;
    case OP_FULLY_CONNECTED: *k = TR_FC; return 1;
    case OP_AVERAGE_POOL_2D: *k = TR_AVGPOOL; return 1;
    case OP_MAX_POOL_2D: *k = TR_MAXPOOL; return 1;
    case OP_ADD: *k = TR_ADD; return 1;
    case OP_MUL: *k = TR_MUL; return 1;
    case OP_PAD: case OP_PADV2: *k = TR_PAD; return 1;
    case OP_RELU: *k = TR_RELU; return 1;
    case OP_RELU6: *k = TR_RELU6; return 1;
    case OP_RESHAPE: case OP_SQUEEZE: case OP_QUANTIZE: case OP_DEQUANTIZE: *k = TR_ALIAS; return 1;
    case OP_CONCATENATION: *k = TR_CONCAT; return 1;
    case OP_MEAN: *k = TR_MEAN; return 1;
    case OP_SOFTMAX: *k = TR_SOFTMAX; return 1;
    default: return 0;
    }
}

/* Constant element i of t as a float: (q - zp) x scale, per channel along
 * q_dim when the tensor is quantised per channel. */
static int const_floats(const ir_tensor *t, float *out, util_err *err) {
    int64_t inner = 1;
    int32_t nch = 1;
    if (t->nq > 1) {
        for (int d = t->q_dim + 1; d < t->rank; d++) inner *= t->shape[d];
        nch = t->shape[t->q_dim];
        if (nch != t->nq) FAIL("tensor %d (%s): %d scales for %d channels", t->index, t->name, t->nq, nch);
    }
    for (int64_t i = 0; i < t->elems; i++) {
        int32_t ch = t->nq > 1 ? (int32_t)((i / inner) % nch) : 0;
        double q;
        switch (t->type) {
        case IR_F32: { float v; memcpy(&v, t->data + 4 * i, 4); out[i] = v; continue; }
        case IR_I8: q = (int8_t)t->data[i]; break;
        case IR_U8: q = t->data[i]; break;
        case IR_I16: { int16_t v; memcpy(&v, t->data + 2 * i, 2); q = v; break; }
        case IR_I32: { int32_t v; memcpy(&v, t->data + 4 * i, 4); q = v; break; }
        case IR_I64: { int64_t v; memcpy(&v, t->data + 8 * i, 8); q = (double)v; break; }
        default: FAIL("tensor %d (%s): constant of type %s cannot be trained", t->index, t->name, ir_type_name(t->type));
        }
        if (t->nq) q = (q - (double)t->zero_point[ch]) * t->scale[ch];
        out[i] = (float)q;
    }
    return 0;
}

/* Integer constants (paddings, axes) through lowering's reader of them,
 * which names the operator and tensor when they are not. */
static int const_ints(const train_net *n, const ir_op *op, int k, int64_t *v, int64_t max, int64_t *cnt,
                      const char *role, util_err *err) {
    lower_ctx c = {(ir_graph *)n->g, (ir_op *)op, err, ir_op_name(op->code)};
    return lower_const_ints(&c, op->n_in > k && op->in[k] >= 0 ? &n->g->tensors[op->in[k]] : NULL, v, max, cnt,
                            role);
}

/* The act of tensor t, made on first use. */
static int act_get(train_net *n, int32_t *map, int32_t t, util_err *err, int32_t op) {
    if (map[t] >= 0) return map[t];
    const ir_tensor *it = &n->g->tensors[t];
    train_act *a = &n->acts[n->n_acts];
    int32_t d[4];
    lower_nhwc(it, d);
    if (it->rank > 4) FAIL("operator %d: tensor %d (%s) has rank %d; the trainer takes at most 4", op, t, it->name, it->rank);
    a->tensor = t;
    a->h = d[1];
    a->w = d[2];
    a->c = d[3];
    a->size = (int64_t)d[1] * d[2] * d[3];
    a->is_const = it->data != NULL;
    if (!a->is_const && d[0] != 1)
        FAIL("operator %d: tensor %d (%s) has batch %d; the trainer batches examples itself and takes batch 1",
             op, t, it->name, d[0]);
    if (it->nq >= 1 && (it->type == IR_I8 || it->type == IR_U8)) {
        a->has_q = 1;
        a->scale = it->scale[0];
        a->zp = (int32_t)it->zero_point[0];
        a->qmin = it->type == IR_I8 ? -128 : 0;
        a->qmax = it->type == IR_I8 ? 127 : 255;
        a->lo = (float)(a->qmin - a->zp) * a->scale;
        a->hi = (float)(a->qmax - a->zp) * a->scale;
    }
    map[t] = n->n_acts;
    return n->n_acts++;
}

static int conv_geometry(train_layer *l, const ir_op *op, const train_act *in, const train_act *out, util_err *err) {
    int32_t oh, ow, bad;
    const int32_t *x = op->opt.xpad;
    if (op->opt.padding == IR_PAD_EXPLICIT) /* a folded PAD: its zeros are the taps the loops skip */
        bad = lower_conv_axis_explicit(in->h, x[0], x[1], l->kh, l->sh, l->dh, &oh, &l->pt) ||
              lower_conv_axis_explicit(in->w, x[2], x[3], l->kw, l->sw, l->dw, &ow, &l->pl);
    else
        bad = lower_conv_axis(in->h, l->kh, l->sh, l->dh, op->opt.padding, &oh, &l->pt) ||
              lower_conv_axis(in->w, l->kw, l->sw, l->dw, op->opt.padding, &ow, &l->pl);
    if (bad || oh != out->h || ow != out->w)
        FAIL("operator %d (%s): output %dx%d does not follow from input %dx%d, window %dx%d, stride %dx%d",
             op->index, ir_op_name(op->code), out->h, out->w, in->h, in->w, l->kh, l->kw, l->sh, l->sw);
    return 0;
}

static float *falloc(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

/* Parameters of a conv/depthwise/FC layer: weights op->in[1], bias in[2]. */
static int layer_params(train_net *n, train_layer *l, const ir_op *op, int32_t oc, util_err *err) {
    const ir_graph *g = n->g;
    if (op->n_in < 2 || op->in[1] < 0 || !g->tensors[op->in[1]].data)
        FAIL("operator %d (%s): weights must be a constant tensor", op->index, ir_op_name(op->code));
    const ir_tensor *wt = &g->tensors[op->in[1]];
    l->w_tensor = wt->index;
    l->n_w = wt->elems;
    l->n_b = oc;
    l->b_tensor = op->n_in > 2 && op->in[2] >= 0 ? op->in[2] : -1;
    l->w = falloc((size_t)l->n_w);
    l->gw = falloc((size_t)l->n_w);
    l->m_w = falloc((size_t)l->n_w);
    l->v_w = falloc((size_t)l->n_w);
    l->wq = falloc((size_t)l->n_w);
    l->b = falloc((size_t)oc);
    l->gb = falloc((size_t)oc);
    l->m_b = falloc((size_t)oc);
    l->v_b = falloc((size_t)oc);
    if (!l->w || !l->gw || !l->m_w || !l->v_w || !l->wq || !l->b || !l->gb || !l->m_b || !l->v_b)
        FAIL("out of memory for the parameters of operator %d", op->index);
    if (const_floats(wt, l->w, err)) return -1;
    if (l->b_tensor >= 0) {
        const ir_tensor *bt = &g->tensors[l->b_tensor];
        if (!bt->data || bt->elems != oc)
            FAIL("operator %d (%s): bias tensor %d (%s) must be %d constants", op->index, ir_op_name(op->code),
                 bt->index, bt->name, oc);
        if (const_floats(bt, l->b, err)) return -1;
    }
    return 0;
}

static int build_layer(train_net *n, int32_t *map, const ir_op *op, train_layer *l, util_err *err) {
    const ir_graph *g = n->g;
    const char *name = ir_op_name(op->code);
    kind_of(op->code, &l->kind);
    l->op = op->index;
    l->sh = l->sw = l->dh = l->dw = l->kh = l->kw = l->dm = 1;
    l->b_tensor = l->w_tensor = -1;
    if (op->n_out != 1 || op->out[0] < 0) FAIL("operator %d (%s): one output expected", op->index, name);
    int r = act_get(n, map, op->out[0], err, op->index);
    if (r < 0) return -1;
    l->out = r;
    /* activation operands */
    int n_act_in = l->kind == TR_ADD || l->kind == TR_MUL ? 2 : l->kind == TR_CONCAT ? op->n_in : 1;
    if (n_act_in > TR_MAX_IN) FAIL("operator %d (%s): %d inputs; the trainer takes at most %d", op->index, name, n_act_in, TR_MAX_IN);
    if (op->n_in < n_act_in) FAIL("operator %d (%s): %d inputs, expected %d", op->index, name, op->n_in, n_act_in);
    l->n_in = n_act_in;
    for (int i = 0; i < n_act_in; i++) {
        if (op->in[i] < 0) FAIL("operator %d (%s): input %d is absent", op->index, name, i);
        if ((r = act_get(n, map, op->in[i], err, op->index)) < 0) return -1;
        l->in[i] = r;
    }
    if (n->acts[l->in[0]].is_const && l->kind != TR_ADD && l->kind != TR_MUL && l->kind != TR_CONCAT)
        FAIL("operator %d (%s): its input is a constant; the trainer takes constant-folded models", op->index, name);
    if (n->acts[l->out].is_const) FAIL("operator %d (%s): its output is a constant tensor", op->index, name);
    train_act *in = &n->acts[l->in[0]], *out = &n->acts[l->out];
    l->act = op->opt.activation;
    if (l->act < 0 || l->act > TR_ACT_RELU6)
        FAIL("operator %d (%s): fused activation %d is not one the trainer has (none, RELU, RELU_N1_TO_1, RELU6)",
             op->index, name, l->act);
    switch (l->kind) {
    case TR_CONV: case TR_DWCONV: {
        const ir_tensor *wt = op->n_in > 1 && op->in[1] >= 0 ? &g->tensors[op->in[1]] : NULL;
        if (!wt || wt->rank != 4) FAIL("operator %d (%s): weights must be a 4-D tensor", op->index, name);
        l->kh = wt->shape[1];
        l->kw = wt->shape[2];
        l->sh = op->opt.stride_h;
        l->sw = op->opt.stride_w;
        l->dh = op->opt.dilation_h;
        l->dw = op->opt.dilation_w;
        if (l->kind == TR_CONV) {
            if (wt->shape[0] != out->c || wt->shape[3] != in->c)
                FAIL("operator %d (%s): weights [%d,%d,%d,%d] do not match %d input and %d output channels",
                     op->index, name, wt->shape[0], wt->shape[1], wt->shape[2], wt->shape[3], in->c, out->c);
        } else {
            if (wt->shape[0] != 1 || wt->shape[3] != out->c || in->c < 1 || out->c % in->c)
                FAIL("operator %d (%s): weights [%d,%d,%d,%d] do not match %d input and %d output channels",
                     op->index, name, wt->shape[0], wt->shape[1], wt->shape[2], wt->shape[3], in->c, out->c);
            l->dm = out->c / in->c;
        }
        if (conv_geometry(l, op, in, out, err)) return -1;
        return layer_params(n, l, op, out->c, err);
    }
    case TR_FC: {
        const ir_tensor *wt = op->n_in > 1 && op->in[1] >= 0 ? &g->tensors[op->in[1]] : NULL;
        if (!wt || wt->rank != 2 || wt->shape[1] < 1 || in->size % wt->shape[1] ||
            (int64_t)out->size * wt->shape[1] != in->size * wt->shape[0])
            FAIL("operator %d (%s): weights do not match input tensor %d and output tensor %d", op->index, name,
                 in->tensor, out->tensor);
        return layer_params(n, l, op, wt->shape[0], err);
    }
    case TR_AVGPOOL: case TR_MAXPOOL:
        l->kh = op->opt.filter_h;
        l->kw = op->opt.filter_w;
        l->sh = op->opt.stride_h;
        l->sw = op->opt.stride_w;
        if (in->c != out->c) FAIL("operator %d (%s): input and output channels differ", op->index, name);
        return conv_geometry(l, op, in, out, err);
    case TR_ADD: case TR_MUL:
        for (int i = 0; i < 2; i++) {
            const train_act *a = &n->acts[l->in[i]];
            if ((a->h != 1 && a->h != out->h) || (a->w != 1 && a->w != out->w) || (a->c != 1 && a->c != out->c))
                FAIL("operator %d (%s): input tensor %d does not broadcast to the output's shape", op->index, name,
                     a->tensor);
        }
        return 0;
    case TR_PAD: {
        int64_t v[8], cnt;
        const ir_tensor *it = &g->tensors[op->in[0]];
        if (const_ints(n, op, 1, v, 8, &cnt, "paddings", err)) return -1;
        if (cnt != 2 * it->rank) FAIL("operator %d (%s): paddings has %lld values for rank %d", op->index, name,
                                      (long long)cnt, it->rank);
        if (op->n_in > 2 && op->in[2] >= 0) {
            float pv = 0.0f;
            const ir_tensor *pt = &g->tensors[op->in[2]];
            if (!pt->data || pt->elems != 1 || const_floats(pt, &pv, err) || pv != 0.0f)
                FAIL("operator %d (%s): the trainer pads with zeros only", op->index, name);
        }
        int off = 4 - it->rank;
        for (int i = 0; i < it->rank; i++) {
            int ax = off + i;
            if (v[2 * i] < 0 || v[2 * i + 1] < 0 || v[2 * i] > 65536 || v[2 * i + 1] > 65536 ||
                (ax == 0 && (v[2 * i] || v[2 * i + 1])))
                FAIL("operator %d (%s): padding of axis %d is not one the trainer takes", op->index, name, i);
            if (ax > 0) {
                l->pad[ax - 1][0] = (int32_t)v[2 * i];
                l->pad[ax - 1][1] = (int32_t)v[2 * i + 1];
            }
        }
        if (in->h + l->pad[0][0] + l->pad[0][1] != out->h || in->w + l->pad[1][0] + l->pad[1][1] != out->w ||
            in->c + l->pad[2][0] + l->pad[2][1] != out->c)
            FAIL("operator %d (%s): output shape does not follow from the paddings", op->index, name);
        return 0;
    }
    case TR_RELU: case TR_RELU6:
        l->act = l->kind == TR_RELU ? TR_ACT_RELU : TR_ACT_RELU6;
        /* fall through */
    case TR_ALIAS:
        if (in->size != out->size) FAIL("operator %d (%s): input and output sizes differ", op->index, name);
        return 0;
    case TR_CONCAT: {
        const ir_tensor *ot = &g->tensors[op->out[0]];
        int32_t axis = op->opt.axis < 0 ? op->opt.axis + ot->rank : op->opt.axis;
        l->cat_axis = axis + 4 - ot->rank;
        if (axis < 0 || axis >= ot->rank || l->cat_axis < 1)
            FAIL("operator %d (%s): axis %d is not one the trainer takes (not the batch)", op->index, name, op->opt.axis);
        int64_t sum = 0;
        for (int i = 0; i < l->n_in; i++) sum += n->acts[l->in[i]].size;
        if (sum != out->size) FAIL("operator %d (%s): inputs do not add up to the output", op->index, name);
        return 0;
    }
    case TR_MEAN: {
        int64_t ax[8], cnt;
        const ir_tensor *it = &g->tensors[op->in[0]];
        if (const_ints(n, op, 1, ax, 8, &cnt, "axes", err)) return -1;
        int ok = it->rank == 4;
        int has1 = 0, has2 = 0;
        for (int64_t i = 0; ok && i < cnt; i++) {
            int64_t a = ax[i] < 0 ? ax[i] + 4 : ax[i];
            if (a == 1) has1 = 1;
            else if (a == 2) has2 = 1;
            else ok = 0;
        }
        if (!ok || !has1 || !has2 || out->size != in->c)
            FAIL("operator %d (%s): the trainer takes the mean over height and width of a 4-D tensor only", op->index,
                 name);
        return 0;
    }
    case TR_SOFTMAX:
        l->beta = op->opt.beta;
        if (in->size != out->size) FAIL("operator %d (%s): input and output sizes differ", op->index, name);
        return 0;
    }
    return 0;
}

static int alloc_acts(train_net *n, util_err *err) {
    /* constants first: their values */
    for (int32_t i = 0; i < n->n_acts; i++) {
        train_act *a = &n->acts[i];
        if (!a->is_const) continue;
        if (!(a->x = falloc((size_t)a->size))) FAIL("out of memory");
        if (const_floats(&n->g->tensors[a->tensor], a->x, err)) return -1;
    }
    for (int32_t i = 0; i < n->n_acts; i++) {
        train_act *a = &n->acts[i];
        if (a->is_const || a->alias) continue;
        size_t sz = (size_t)n->batch * (size_t)a->size;
        a->x = falloc(sz);
        a->dx = i == n->input ? NULL : falloc(sz); /* nothing needs the input's gradient */
        if (!a->x || (i != n->input && !a->dx))
            FAIL("out of memory for %zu floats of tensor %d", sz, a->tensor);
    }
    /* aliases in operator order: a chain of reshapes ends at a real buffer */
    for (int32_t i = 0; i < n->n_layers; i++) {
        train_layer *l = &n->layers[i];
        if (l->kind != TR_ALIAS) continue;
        n->acts[l->out].x = n->acts[l->in[0]].x;
        n->acts[l->out].dx = n->acts[l->in[0]].dx;
    }
    return 0;
}

int train_net_build(train_net *n, const ir_graph *g, int32_t batch, util_err *err) {
    memset(n, 0, sizeof *n);
    n->g = g;
    n->batch = batch;
    /* every operator the trainer lacks, named at once */
    char missing[400] = "";
    size_t len = 0;
    for (int32_t i = 0; i < g->n_ops; i++) {
        train_kind k;
        if (kind_of(g->ops[i].code, &k)) continue;
        const char *nm = g->ops[i].code == OP_CUSTOM && g->ops[i].custom_name ? g->ops[i].custom_name
                                                                                : ir_op_name(g->ops[i].code);
        if (strstr(missing, nm)) continue;
        if (len + strlen(nm) + 40 < sizeof missing)
            len += (size_t)snprintf(missing + len, sizeof missing - len, "%s%s (operator %d)", len ? ", " : "", nm,
                                    g->ops[i].index);
    }
    if (len) FAIL("the trainer lacks %s", missing);
    if (g->n_inputs != 1 || g->n_outputs != 1)
        FAIL("the trainer takes models with one input and one output (this one has %d and %d)", g->n_inputs,
             g->n_outputs);
    if (g->n_ops < 1) FAIL("the model has no operators");
    int32_t *map = malloc(sizeof(int32_t) * (size_t)g->n_tensors);
    n->acts = calloc((size_t)g->n_tensors, sizeof(train_act));
    n->layers = calloc((size_t)g->n_ops, sizeof(train_layer));
    if (!map || !n->acts || !n->layers) {
        free(map);
        FAIL("out of memory");
    }
    for (int32_t t = 0; t < g->n_tensors; t++) map[t] = -1;
    int rc = 0;
    if ((n->input = act_get(n, map, g->inputs[0], err, -1)) < 0) rc = -1;
    for (int32_t i = 0; rc == 0 && i < g->n_ops; i++) {
        train_layer *l = &n->layers[n->n_layers++];
        rc = build_layer(n, map, &g->ops[i], l, err);
        if (rc == 0 && l->kind == TR_ALIAS) n->acts[l->out].alias = 1;
    }
    if (rc == 0) {
        n->output = map[g->outputs[0]];
        if (n->output < 0) rc = util_fail(err, "the model's output tensor %d is not written by any operator", g->outputs[0]);
    }
    free(map);
    if (rc) return -1;
    /* the softmax that makes the output, through any reshapes or a
     * DEQUANTIZE after it, is the loss's */
    n->logits = n->output;
    n->logit_beta = 1.0f;
    n->loss_from = n->n_layers;
    for (int32_t i = n->n_layers - 1, t = n->output; i >= 0; i--) {
        const train_layer *l = &n->layers[i];
        if (l->out != t) continue;
        if (l->kind == TR_ALIAS) {
            t = l->in[0];
            continue;
        }
        if (l->kind == TR_SOFTMAX) {
            n->logits = l->in[0];
            n->logit_beta = l->beta;
            n->loss_from = i;
        }
        break;
    }
    n->classes = (int32_t)n->acts[n->output].size;
    if (n->classes < 2) FAIL("the model's output has %d values; the trainer needs one score per class", n->classes);
    if (alloc_acts(n, err)) return -1;
    size_t rows = 0, wt = 0;
    for (int32_t i = 0; i < n->n_layers; i++) {
        size_t s = train_kernel_scratch(n, &n->layers[i], batch);
        rows = s > rows ? s : rows;
        wt = (size_t)n->layers[i].n_w > wt ? (size_t)n->layers[i].n_w : wt;
    }
    n->scratch_floats = 2 * rows + wt;
    n->scratch = falloc(n->scratch_floats);
    n->probs = falloc((size_t)batch * (size_t)n->classes);
    if (!n->scratch || !n->probs) FAIL("out of memory for %zu floats of im2col scratch", n->scratch_floats);
    return 0;
}

void train_net_free(train_net *n) {
    for (int32_t i = 0; i < n->n_layers; i++) {
        train_layer *l = &n->layers[i];
        float *p[] = {l->w, l->b, l->gw, l->gb, l->m_w, l->m_b, l->v_w, l->v_b, l->wq};
        for (size_t k = 0; k < sizeof p / sizeof p[0]; k++) free(p[k]);
    }
    for (int32_t i = 0; i < n->n_acts; i++)
        if (!n->acts[i].alias) {
            free(n->acts[i].x);
            free(n->acts[i].dx);
        }
    free(n->layers);
    free(n->acts);
    free(n->scratch);
    free(n->probs);
    memset(n, 0, sizeof *n);
}

static void apply_act(train_act *a, int32_t nb, int32_t act) {
    if (act == TR_ACT_NONE) return;
    float lo = act == TR_ACT_RELU_N1_TO_1 ? -1.0f : 0.0f;
    float hi = act == TR_ACT_RELU ? INFINITY : act == TR_ACT_RELU6 ? 6.0f : 1.0f;
    size_t tot = (size_t)nb * (size_t)a->size;
    for (size_t i = 0; i < tot; i++) a->x[i] = a->x[i] < lo ? lo : a->x[i] > hi ? hi : a->x[i];
}

/* Zeroes the gradient where the clamp of a fused activation (or of fake
 * quantisation) held the output at its bound: the straight-through
 * estimator inside the range, nothing outside it. */
static void mask_grad(train_act *a, int32_t nb, float lo, float hi) {
    size_t tot = (size_t)nb * (size_t)a->size;
    const float *x = a->x;
    float *dx = a->dx;
    /* a select, not a branch: the compiler vectorises it */
    for (size_t i = 0; i < tot; i++) dx[i] = x[i] > lo && x[i] < hi ? dx[i] : 0.0f;
}

void train_forward(train_net *n, int32_t nb) {
    if (n->qat) {
        if (!n->shared_params) train_fq_weights(n);
        train_fq_act(&n->acts[n->input], nb);
    }
    for (int32_t i = 0; i < n->n_layers; i++) {
        const train_layer *l = &n->layers[i];
        train_act *out = &n->acts[l->out];
        train_kernel_forward(n, l, nb);
        if (l->kind == TR_ALIAS) continue;
        if (n->gates) train_gate_forward(n, i, nb);
        apply_act(out, nb, l->act);
        if (n->qat && out->has_q && l->out != n->output) train_fq_act(out, nb);
    }
}

float train_loss(train_net *n, int32_t nb, const uint8_t *labels, int32_t *correct) {
    const train_act *lg = &n->acts[n->logits];
    int32_t C = n->classes;
    double loss = 0.0;
    int32_t hits = 0;
    for (int32_t b = 0; b < nb; b++) {
        const float *z = lg->x + (size_t)b * C;
        float *p = n->probs + (size_t)b * C;
        float mx = z[0], s = 0.0f;
        int32_t arg = 0;
        for (int32_t c = 1; c < C; c++)
            if (z[c] > mx) {
                mx = z[c];
                arg = c;
            }
        for (int32_t c = 0; c < C; c++) s += (p[c] = expf(n->logit_beta * (z[c] - mx)));
        for (int32_t c = 0; c < C; c++) p[c] /= s;
        loss -= log(p[labels[b]] > 1e-30f ? (double)p[labels[b]] : 1e-30);
        hits += arg == labels[b];
    }
    if (correct) *correct = hits;
    return (float)(loss / nb);
}

static void zero_grads(train_net *n, int32_t nb) {
    for (int32_t i = 0; i < n->n_acts; i++) {
        train_act *a = &n->acts[i];
        if (a->dx && !a->alias) memset(a->dx, 0, sizeof(float) * (size_t)nb * (size_t)a->size);
    }
    if (n->gates) train_gates_zero_grad(n);
}

static void propagate(train_net *n, int32_t nb);

void train_backward(train_net *n, int32_t nb, const uint8_t *labels) {
    zero_grads(n, nb);
    train_act *lg = &n->acts[n->logits];
    int32_t C = n->classes;
    for (int32_t b = 0; b < nb; b++)
        for (int32_t c = 0; c < C; c++)
            lg->dx[(size_t)b * C + c] =
                n->logit_beta * (n->probs[(size_t)b * C + c] - (c == labels[b] ? 1.0f : 0.0f)) / (float)nb;
    propagate(n, nb);
}

void train_backward_from(train_net *n, int32_t nb, const float *dz) {
    zero_grads(n, nb);
    train_act *lg = &n->acts[n->logits];
    memcpy(lg->dx, dz, sizeof(float) * (size_t)nb * (size_t)n->classes);
    propagate(n, nb);
}

static void propagate(train_net *n, int32_t nb) {
    for (int32_t i = n->loss_from - 1; i >= 0; i--) {
        const train_layer *l = &n->layers[i];
        train_act *out = &n->acts[l->out];
        if (l->kind == TR_ALIAS) continue;
        /* one pass for both clamps: outside either range is outside
         * their intersection */
        float lo = -INFINITY, hi = INFINITY;
        int clamped = 0;
        if (n->qat && out->has_q && l->out != n->output) lo = out->lo, hi = out->hi, clamped = 1;
        if (l->act == TR_ACT_RELU || l->act == TR_ACT_RELU6 || l->act == TR_ACT_RELU_N1_TO_1) {
            float alo = l->act == TR_ACT_RELU_N1_TO_1 ? -1.0f : 0.0f;
            float ahi = l->act == TR_ACT_RELU ? INFINITY : l->act == TR_ACT_RELU6 ? 6.0f : 1.0f;
            lo = alo > lo ? alo : lo;
            hi = ahi < hi ? ahi : hi;
            clamped = 1;
        }
        if (clamped) mask_grad(out, nb, lo, hi);
        if (n->gates) train_gate_backward(n, i, nb);
        train_kernel_backward(n, l, nb);
    }
}

void train_net_observe(train_net *n, int32_t nb) {
    for (int32_t i = 0; i < n->n_acts; i++) {
        train_act *a = &n->acts[i];
        if (a->is_const || !a->x) continue;
        size_t tot = (size_t)nb * (size_t)a->size;
        float lo = a->observed ? a->obs_lo : INFINITY, hi = a->observed ? a->obs_hi : -INFINITY;
        for (size_t k = 0; k < tot; k++) {
            lo = a->x[k] < lo ? a->x[k] : lo;
            hi = a->x[k] > hi ? a->x[k] : hi;
        }
        if (tot) {
            a->obs_lo = lo;
            a->obs_hi = hi;
            a->observed = 1;
        }
    }
}
