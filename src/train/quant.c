/*
 * Back to int8: the trained float weights of a train_net written into an
 * IR graph as TFLite's int8 tensors, ready for src/writer.
 *
 * Weights are quantised per output channel, symmetric, scale max|w| / 127,
 * exactly as train_fq_weights fake-quantised them during quantisation-aware
 * training, so the int8 weights are the values the network was trained
 * with. A weight tensor the model quantised per tensor stays per tensor
 * (one scale over the whole tensor): TFLM's kernels read what the
 * converter wrote, and the converter decides which layers take per-channel
 * scales. Biases become int32 at input scale x weight scale, the scale
 * TFLM's kernels assume for them.
 *
 * Activations keep the int8 model's ranges (scale, zero point): QAT
 * fake-quantised every activation with those very ranges, so the network
 * learnt to live inside them, and keeping them keeps the constraints the
 * converter satisfied (pooling and reshape outputs sharing their input's
 * scale, softmax's fixed 1/256) without reasoning about each operator.
 * The model's input and output tensors are untouched in every respect.
 *
 * The graph written into is a second reader_load of the same bytes the
 * network was built from: tensor indices agree because neither the
 * reader's graph nor ir_expand renumbers the tensors of a single-subgraph
 * CNN.
 */
#include <math.h>
#include <string.h>

#include "train/train.h"

/* The output channel of flat weight index i (conv and FC lead with it,
 * depthwise ends with it). */
static int32_t channel_of(const train_layer *l, int64_t i) {
    int64_t per = l->n_w / l->n_b;
    return l->kind == TR_DWCONV ? (int32_t)(i % l->n_b) : (int32_t)(i / per);
}

static int write_layer(const train_net *n, const train_layer *l, ir_graph *g, util_err *err) {
    const ir_op *op = &g->ops[l->op];
    ir_tensor *wt = &g->tensors[l->w_tensor];
    const ir_tensor *in = &g->tensors[op->in[0]];
    if (wt->type != IR_I8 || wt->elems != l->n_w)
        return util_fail(err, "quantise: operator %d: weight tensor %d (%s) is not the trained int8 tensor of %lld "
                              "values", l->op, wt->index, wt->name, (long long)l->n_w);
    if (in->nq < 1)
        return util_fail(err, "quantise: operator %d: input tensor %d (%s) has no quantisation", l->op, in->index,
                         in->name);
    if (l->b_tensor < 0)
        return util_fail(err, "quantise: operator %d has no bias tensor; the writer cannot add one", l->op);
    ir_tensor *bt = &g->tensors[l->b_tensor];
    if (bt->type != IR_I32 || bt->elems != l->n_b)
        return util_fail(err, "quantise: operator %d: bias tensor %d (%s) is not int32 of %d values", l->op,
                         bt->index, bt->name, l->n_b);
    int per_channel = wt->nq > 1;
    int32_t ns = per_channel ? l->n_b : 1;
    float *s = util_alloc(&g->arena, sizeof(float) * (size_t)ns);
    int64_t *z = util_alloc(&g->arena, sizeof(int64_t) * (size_t)ns);
    int8_t *q = util_alloc(&g->arena, (size_t)l->n_w);
    int32_t *bq = util_alloc(&g->arena, sizeof(int32_t) * (size_t)l->n_b);
    float *bs = util_alloc(&g->arena, sizeof(float) * (size_t)ns);
    int64_t *bz = util_alloc(&g->arena, sizeof(int64_t) * (size_t)ns);
    if (!s || !z || !q || !bq || !bs || !bz) return util_fail(err, "quantise: out of memory");
    for (int32_t c = 0; c < ns; c++) s[c] = 0.0f;
    for (int64_t i = 0; i < l->n_w; i++) {
        int32_t c = per_channel ? channel_of(l, i) : 0;
        float a = fabsf(l->w[i]);
        s[c] = a > s[c] ? a : s[c];
    }
    /* an all-zero channel keeps scale 1: any positive scale gives zeros,
     * and TFLM divides by none of them */
    for (int32_t c = 0; c < ns; c++) {
        s[c] = s[c] > 0.0f ? s[c] / 127.0f : 1.0f;
        z[c] = 0;
        bs[c] = in->scale[0] * s[c];
        bz[c] = 0;
    }
    for (int64_t i = 0; i < l->n_w; i++) {
        float v = roundf(l->w[i] / s[per_channel ? channel_of(l, i) : 0]);
        q[i] = (int8_t)(v < -127.0f ? -127.0f : v > 127.0f ? 127.0f : v);
    }
    for (int32_t c = 0; c < l->n_b; c++) {
        double v = nearbyint((double)l->b[c] / (double)bs[per_channel ? c : 0]);
        bq[c] = (int32_t)(v < -2147483647.0 ? -2147483647.0 : v > 2147483647.0 ? 2147483647.0 : v);
    }
    wt->data = (const uint8_t *)q;
    wt->scale = s;
    wt->zero_point = z;
    wt->nq = ns;
    bt->data = (const uint8_t *)bq;
    bt->scale = bs;
    bt->zero_point = bz;
    bt->nq = ns;
    bt->q_dim = 0;
    (void)n;
    return 0;
}

int train_quant_write(const train_net *n, ir_graph *g, util_err *err) {
    for (int32_t i = 0; i < n->n_layers; i++) {
        const train_layer *l = &n->layers[i];
        if (!l->w) continue;
        if (l->op < 0 || l->op >= g->n_ops || l->w_tensor >= g->n_tensors || l->b_tensor >= g->n_tensors)
            return util_fail(err, "quantise: layer %d (operator %d) is not in the graph written to", i, l->op);
        if (write_layer(n, l, g, err)) return -1;
    }
    return 0;
}
