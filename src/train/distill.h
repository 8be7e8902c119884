/*
 * Knowledge distillation (distill.c): the student learns from a teacher's
 * softened class probabilities as well as from the labels.
 */
#ifndef PEXC_TRAIN_DISTILL_H
#define PEXC_TRAIN_DISTILL_H

#include "train/train.h"

typedef struct train_distill {
    train_net *teacher; /* same input as the student; its float pass runs per batch */
    float temperature;  /* T: both softmaxes at beta / T */
    float alpha;        /* weight of the soft term; 1 - alpha on the labels */
    float *soft;        /* [batch][classes]: the teacher's probabilities at T */
    float *dz;          /* [batch][classes]: the loss's gradient on the student's logits */
} train_distill;

/* Buffers for batches of up to `batch` (the teacher's and the student's
 * capacity must both be at least that) over `classes` classes. */
int train_distill_init(train_distill *d, train_net *teacher, int32_t batch, int32_t classes, float temperature,
                       float alpha, util_err *err);
void train_distill_free(train_distill *d);
/* The teacher's softened probabilities for the first nb examples of the
 * student's input buffer (filled, not yet forwarded): the same augmented
 * images the student is about to see. */
void train_distill_targets(train_distill *d, const train_net *student, int32_t nb);
/* The mixed loss of the student's last forward pass (mean over nb):
 * (1 - alpha) x cross-entropy on the labels + alpha x T^2 x KL(teacher at
 * T || student at T); fills the student's probs and *correct as
 * train_loss does, and d->dz with the loss's gradient on the logits. */
float train_distill_loss(train_distill *d, train_net *student, int32_t nb, const uint8_t *labels, int32_t *correct);

#endif
