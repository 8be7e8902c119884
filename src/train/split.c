/*
 * Data-parallel training steps: every mini-batch is cut into two halves,
 * each run forward and backward by its own copy of the network, and the
 * two gradients are summed into the first copy's, weighted by the halves'
 * sizes, before the optimiser step.
 *
 * The matrix products alone split well over two cores, but a narrow
 * network (a pruned one: 8 to 18 channels) spends nearly half of a step
 * outside them (im2col, col2im, fake quantisation, the gradient masks),
 * and two threads then ran a step only 1.2 times faster than one. Two
 * halves are independent up to the gradient sum.
 *
 * The halves are the same whatever the thread count: with one thread the
 * second half simply runs after the first, through the same copy, so the
 * results are identical for 1 and 2 threads (the products' row split never
 * changed a value either).
 *
 * The copy (`half`) is built from the same graph for half the batch; its
 * weights, biases and fake-quantised weights are the first copy's arrays
 * (its own are freed when it is built), and so are its channel gates'
 * values when the first copy has gates (prune's gates method); its
 * activations, gradients (gates' too) and scratch its own. The fake-quantised weights
 * are computed once per step, before the halves start.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "train/split.h"

int train_split_init(train_split *s, train_net *n, util_err *err) {
    memset(s, 0, sizeof *s);
    int32_t half = (n->batch + 1) / 2;
    if (half < 1 || n->batch < 2) return 0;
    if (train_net_build(&s->half, n->g, half, err)) return -1;
    s->half.qat = n->qat;
    for (int32_t i = 0; i < s->half.n_layers; i++) {
        train_layer *h = &s->half.layers[i];
        const train_layer *l = &n->layers[i];
        if (!h->w) continue;
        free(h->w);
        free(h->b);
        free(h->wq);
        h->w = l->w;
        h->b = l->b;
        h->wq = l->wq;
    }
    s->half.shared_params = 1;
    s->active = 1;
    if (n->gates && train_gates_share(&s->half, &s->gates, n, err)) {
        train_split_free(s);
        return -1;
    }
    return 0;
}

void train_split_free(train_split *s) {
    if (s->active) {
        if (s->half.gates) train_gates_free(&s->half, &s->gates);
        for (int32_t i = 0; i < s->half.n_layers; i++) { /* the first network's: not freed here */
            train_layer *h = &s->half.layers[i];
            h->w = h->b = h->wq = NULL;
        }
        train_net_free(&s->half);
    }
    memset(s, 0, sizeof *s);
}

/* The halves' shares of a batch of nb: na and nb - na examples. */
static void half_shares(int32_t nb, int32_t *na, float *wa, float *wh) {
    *na = (nb + 1) / 2;
    *wa = (float)*na / (float)nb;
    *wh = (float)(nb - *na) / (float)nb;
}

typedef struct {
    train_net *n;
    int32_t nb;
    const uint8_t *labels;
    train_distill *dist; /* a view on this half's rows of the targets, or NULL */
    int backward;        /* 0: the loss alone */
    float loss;
    int32_t correct;
} half_job;

static void *run_half(void *arg) {
    half_job *j = arg;
    train_forward(j->n, j->nb);
    if (!j->backward)
        j->loss = train_loss(j->n, j->nb, j->labels, &j->correct);
    else if (j->dist) {
        j->loss = train_distill_loss(j->dist, j->n, j->nb, j->labels, &j->correct);
        train_backward_from(j->n, j->nb, j->dist->dz);
    } else {
        j->loss = train_loss(j->n, j->nb, j->labels, &j->correct);
        train_backward(j->n, j->nb, j->labels);
    }
    return NULL;
}

/* Both halves through run_half (threads >= 2: the second on its own
 * thread); the loss of the whole batch. */
static float run_halves(train_split *s, train_net *n, int32_t nb, const uint8_t *labels, train_distill *dist,
                        int backward, int threads, int32_t *correct) {
    if (!s->active || nb < 2) {
        half_job j = {n, nb, labels, dist, backward, 0.0f, 0};
        run_half(&j);
        *correct = j.correct;
        return j.loss;
    }
    int32_t na;
    float wa, wh;
    half_shares(nb, &na, &wa, &wh);
    int32_t nh = nb - na;
    train_net *h = &s->half;
    const train_act *in = &n->acts[n->input];
    memcpy(h->acts[h->input].x, in->x + (size_t)na * (size_t)in->size, sizeof(float) * (size_t)nh * (size_t)in->size);
    /* each half's view of the distillation targets and gradient rows */
    train_distill da, dh;
    if (dist) {
        da = *dist;
        dh = *dist;
        dh.soft += (size_t)na * (size_t)n->classes;
        dh.dz += (size_t)na * (size_t)n->classes;
    }
    if (n->qat) train_fq_weights(n); /* once, for both halves */
    n->shared_params = 1;
    half_job ja = {n, na, labels, dist ? &da : NULL, backward, 0.0f, 0};
    half_job jh = {h, nh, labels + na, dist ? &dh : NULL, backward, 0.0f, 0};
    int saved = train_gemm_threads(), two = 0;
    pthread_t th;
    if (threads >= 2) {
        train_gemm_set_threads(1); /* a core per half */
        two = pthread_create(&th, NULL, run_half, &jh) == 0;
    }
    run_half(&ja);
    if (two)
        pthread_join(th, NULL);
    else
        run_half(&jh);
    train_gemm_set_threads(saved);
    n->shared_params = 0;
    *correct = ja.correct + jh.correct;
    return wa * ja.loss + wh * jh.loss; /* the batch's mean from the halves' */
}

float train_split_step(train_split *s, train_net *n, int32_t nb, const uint8_t *labels, train_distill *dist,
                       int threads, int32_t *correct) {
    float loss = run_halves(s, n, nb, labels, dist, 1, threads, correct);
    if (!s->active || nb < 2) return loss;
    int32_t na;
    float wa, wh;
    half_shares(nb, &na, &wa, &wh);
    for (int32_t i = 0; i < n->n_layers; i++) {
        train_layer *l = &n->layers[i];
        const train_layer *hl = &s->half.layers[i];
        if (!l->w) continue;
        for (int64_t k = 0; k < l->n_w; k++) l->gw[k] = wa * l->gw[k] + wh * hl->gw[k];
        for (int32_t k = 0; k < l->n_b; k++) l->gb[k] = wa * l->gb[k] + wh * hl->gb[k];
    }
    for (int32_t v = 0; n->gates && v < n->gates->n_vec; v++)
        for (int32_t c = 0; c < n->gates->len[v]; c++)
            n->gates->dg[v][c] = wa * n->gates->dg[v][c] + wh * s->gates.dg[v][c];
    return loss;
}

float train_split_loss(train_split *s, train_net *n, int32_t nb, const uint8_t *labels, int threads,
                       int32_t *correct) {
    return run_halves(s, n, nb, labels, NULL, 0, threads, correct);
}

const float *train_split_probs(const train_split *s, const train_net *n, int32_t nb, int32_t b) {
    int32_t na = nb;
    float wa, wh;
    if (s->active && nb >= 2) half_shares(nb, &na, &wa, &wh);
    return b < na ? n->probs + (size_t)b * (size_t)n->classes
                  : s->half.probs + (size_t)(b - na) * (size_t)n->classes;
}
