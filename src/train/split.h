/* Data-parallel training steps over two halves of each batch (split.c). */
#ifndef PEXC_TRAIN_SPLIT_H
#define PEXC_TRAIN_SPLIT_H

#include "train/distill.h"
#include "train/gate.h"
#include "train/train.h"

typedef struct {
    int active;     /* 0: steps run whole on the first network */
    train_net half; /* the second half's network, parameters shared */
    train_gate_set gates; /* its channel gates, values shared, when n has gates */
} train_split;

/* Builds the second half's network for n (n->batch / 2 rounded up,
 * sharing n's parameters and gate values, gates attached before this
 * call); inactive for a batch of one. */
int train_split_init(train_split *s, train_net *n, util_err *err);
void train_split_free(train_split *s);
/* Forward, loss and backward over the nb examples in n's input (labels
 * labels[0..nb)): the halves on two threads when threads >= 2, one after
 * the other otherwise (the same results). dist (its teacher's targets
 * already computed for the whole batch) or NULL for the labels' loss.
 * Leaves n's gradients (gates' too) those of the batch's mean loss; returns that loss
 * and the top-1 hits in *correct. */
float train_split_step(train_split *s, train_net *n, int32_t nb, const uint8_t *labels, train_distill *dist,
                       int threads, int32_t *correct);

/* The loss alone (forward passes, no gradients) over the nb examples in
 * n's input, halves as train_split_step runs them. */
float train_split_loss(train_split *s, train_net *n, int32_t nb, const uint8_t *labels, int threads,
                       int32_t *correct);
/* Example b's class probabilities after train_split_loss over nb. */
const float *train_split_probs(const train_split *s, const train_net *n, int32_t nb, int32_t b);

#endif
