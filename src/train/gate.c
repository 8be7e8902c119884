/*
 * Channel gates: the differentiable handle of pruning.
 *
 * To learn which output channels a network can do without, each channel c
 * of a gated layer gets a multiplier g[c] on its output, trained with the
 * weights under a penalty that pushes it to zero (src/prune/gates.c picks
 * the penalty). A gate sits between the layer's kernel and its fused
 * activation: y = act(g * z), z = W x + b. Two things follow. Scaling by
 * g is linear in z, so g folds exactly into W and b once training ends
 * (train_gates_fold) and a gate at 0 makes the channel's output the
 * activation of 0, as though the channel were gone from this layer. And
 * the gradients are cheap: dL/dg[c] = sum over the batch and positions of
 * dL/dy * z (masked by the activation as for any output), and the kernel's
 * own backward pass sees dL/dz = g * dL/dy.
 *
 * z is kept per gated layer for the whole batch (host memory: the engine's
 * activations already are), so no division by g is needed to recover it.
 */
#include <stdlib.h>
#include <string.h>

#include "train/gate.h"

int train_gates_init(train_net *n, train_gate_set *s, int32_t n_vec, const int32_t *len, util_err *err) {
    memset(s, 0, sizeof *s);
    s->n_vec = n_vec;
    s->len = calloc((size_t)n_vec + 1, sizeof(int32_t));
    s->g = calloc((size_t)n_vec + 1, sizeof(float *));
    s->dg = calloc((size_t)n_vec + 1, sizeof(float *));
    s->vec_of = malloc(sizeof(int32_t) * ((size_t)n->n_layers + 1));
    s->z = calloc((size_t)n->n_layers + 1, sizeof(float *));
    n->gates = s;
    if (!s->len || !s->g || !s->dg || !s->vec_of || !s->z) return util_fail(err, "gates: out of memory");
    for (int32_t i = 0; i < n->n_layers; i++) s->vec_of[i] = -1;
    for (int32_t v = 0; v < n_vec; v++) {
        s->len[v] = len[v];
        s->g[v] = malloc(sizeof(float) * ((size_t)len[v] + 1));
        s->dg[v] = calloc((size_t)len[v] + 1, sizeof(float));
        if (!s->g[v] || !s->dg[v]) return util_fail(err, "gates: out of memory");
        for (int32_t c = 0; c < len[v]; c++) s->g[v][c] = 1.0f;
    }
    return 0;
}

int train_gates_attach(train_net *n, int32_t layer, int32_t v, util_err *err) {
    train_gate_set *s = n->gates;
    if (layer < 0 || layer >= n->n_layers || v < 0 || v >= s->n_vec)
        return util_fail(err, "gates: layer %d or vector %d out of range", layer, v);
    const train_layer *l = &n->layers[layer];
    const train_act *out = &n->acts[l->out];
    if (l->kind != TR_CONV && l->kind != TR_DWCONV && l->kind != TR_FC)
        return util_fail(err, "gates: operator %d is not a conv, depthwise or fully-connected layer", l->op);
    if (out->c != s->len[v] || l->n_b != s->len[v])
        return util_fail(err, "gates: operator %d has %d output channels, its gate vector %d", l->op, out->c,
                         s->len[v]);
    if (!s->z[layer] && !(s->z[layer] = malloc(sizeof(float) * (size_t)n->batch * (size_t)out->size)))
        return util_fail(err, "gates: out of memory for operator %d", l->op);
    s->vec_of[layer] = v;
    return 0;
}

int train_gates_share(train_net *half, train_gate_set *s, const train_net *src, util_err *err) {
    const train_gate_set *from = src->gates;
    if (train_gates_init(half, s, from->n_vec, from->len, err)) return -1;
    for (int32_t v = 0; v < s->n_vec; v++) {
        free(s->g[v]);
        s->g[v] = from->g[v];
    }
    s->shared = 1;
    for (int32_t i = 0; i < half->n_layers; i++)
        if (from->vec_of[i] >= 0 && train_gates_attach(half, i, from->vec_of[i], err)) return -1;
    return 0;
}

void train_gates_free(train_net *n, train_gate_set *s) {
    for (int32_t v = 0; s->g && s->dg && v < s->n_vec; v++) {
        if (!s->shared) free(s->g[v]);
        free(s->dg[v]);
    }
    for (int32_t i = 0; s->z && i < n->n_layers; i++) free(s->z[i]);
    free(s->len);
    free(s->g);
    free(s->dg);
    free(s->vec_of);
    free(s->z);
    if (n->gates == s) n->gates = NULL;
    memset(s, 0, sizeof *s);
}

void train_gates_fold(train_net *n) {
    train_gate_set *s = n->gates;
    if (!s) return;
    for (int32_t i = 0; i < n->n_layers; i++) {
        if (s->vec_of[i] < 0) continue;
        train_layer *l = &n->layers[i];
        const float *g = s->g[s->vec_of[i]];
        int32_t oc = l->n_b;
        int64_t per = l->n_w / oc;
        /* the output channel of weight k: conv [oc][kh][kw][ic] and fully
         * connected [oc][ic] by row, depthwise [1][kh][kw][oc] by column */
        for (int64_t k = 0; k < l->n_w; k++) l->w[k] *= g[l->kind == TR_DWCONV ? k % oc : k / per];
        for (int32_t c = 0; c < oc; c++) l->b[c] *= g[c];
    }
    for (int32_t v = 0; v < s->n_vec; v++)
        for (int32_t c = 0; c < s->len[v]; c++) s->g[v][c] = 1.0f;
}

void train_gate_forward(train_net *n, int32_t layer, int32_t nb) {
    train_gate_set *s = n->gates;
    if (s->vec_of[layer] < 0) return;
    train_act *a = &n->acts[n->layers[layer].out];
    const float *g = s->g[s->vec_of[layer]];
    size_t rows = (size_t)nb * (size_t)(a->size / a->c), c = (size_t)a->c;
    memcpy(s->z[layer], a->x, sizeof(float) * rows * c);
    for (size_t r = 0; r < rows; r++)
        for (size_t k = 0; k < c; k++) a->x[r * c + k] *= g[k];
}

void train_gate_backward(train_net *n, int32_t layer, int32_t nb) {
    train_gate_set *s = n->gates;
    if (s->vec_of[layer] < 0) return;
    train_act *a = &n->acts[n->layers[layer].out];
    const float *g = s->g[s->vec_of[layer]];
    float *dg = s->dg[s->vec_of[layer]];
    const float *z = s->z[layer];
    size_t rows = (size_t)nb * (size_t)(a->size / a->c), c = (size_t)a->c;
    double acc[1024];
    for (size_t k0 = 0; k0 < c; k0 += 1024) {
        size_t k1 = c - k0 < 1024 ? c : k0 + 1024;
        memset(acc, 0, sizeof acc);
        for (size_t r = 0; r < rows; r++)
            for (size_t k = k0; k < k1; k++) {
                acc[k - k0] += (double)a->dx[r * c + k] * (double)z[r * c + k];
                a->dx[r * c + k] *= g[k];
            }
        for (size_t k = k0; k < k1; k++) dg[k] += (float)acc[k - k0];
    }
}

void train_gates_zero_grad(train_net *n) {
    train_gate_set *s = n->gates;
    for (int32_t v = 0; s && v < s->n_vec; v++) memset(s->dg[v], 0, sizeof(float) * (size_t)s->len[v]);
}
