/* Per-channel gates on a train_net (gate.c): one multiplier per output
 * channel of a layer, applied to the layer's output before its fused
 * activation, so that act(g * (W x + b)) = act((g W) x + g b): a trained
 * gate folds exactly into the layer's weights and bias. Several layers may
 * share one gate vector (producers tied through ADD: one channel group). */
#ifndef PEXC_TRAIN_GATE_H
#define PEXC_TRAIN_GATE_H

#include "train/train.h"

struct train_gate_set {
    int32_t n_vec;
    int32_t *len;     /* [n_vec] channels of each vector */
    float **g;        /* [n_vec][len] gate values */
    float **dg;       /* [n_vec][len] gradient of the mean loss (train_backward) */
    int32_t *vec_of;  /* [n_layers] vector gating layer i's output, -1: none */
    float **z;        /* [n_layers] a gated layer's output before the gate,
                         [batch][h][w][c], for the gate's gradient */
    int shared;       /* g is another set's (train_gates_share): not freed here */
};

/* n_vec vectors of len[v] gates, all 1, attached to n (none gating yet). */
int train_gates_init(train_net *n, train_gate_set *s, int32_t n_vec, const int32_t *len, util_err *err);
/* Gates the output of layer `layer` (conv, depthwise or fully connected)
 * with vector v: its channel count must be len[v]. */
int train_gates_attach(train_net *n, int32_t layer, int32_t v, util_err *err);
/* Gates half (a copy of src's network built for another batch size, as
 * train/split.c builds one) like src: the same layers, reading src's gate
 * values; its own gradients and saved outputs. */
int train_gates_share(train_net *half, train_gate_set *s, const train_net *src, util_err *err);
/* Detaches the set from n and frees it. */
void train_gates_free(train_net *n, train_gate_set *s);
/* Multiplies each gated layer's weights and bias by its gates per output
 * channel, then sets every gate to 1: the network computes what it did. */
void train_gates_fold(train_net *n);

/* Hooks of train_forward / train_backward (net.c). */
void train_gate_forward(train_net *n, int32_t layer, int32_t nb);
void train_gate_backward(train_net *n, int32_t layer, int32_t nb);
void train_gates_zero_grad(train_net *n);

#endif
