/*
 * Knowledge distillation for fine-tuning a pruned network.
 *
 * A network that lost most of its channels recovers slowly from labels
 * alone: a one-hot target says which class is right and nothing about how
 * the others rank, and the pruned network must relearn that ranking from
 * scratch. The unpruned model still knows it. Distillation (Hinton, Vinyals
 * and Dean) trains the student on a mix of the labels' cross-entropy and
 * the divergence from the teacher's probabilities, both softmaxes taken at
 * a temperature T > 1 so that the small probabilities, where the ranking
 * lives, carry weight:
 *
 *   L = (1 - a) CE(softmax(b z), y) + a T^2 KL(softmax(b t / T) || softmax(b z / T))
 *
 * with z the student's logits, t the teacher's, b the model's softmax beta.
 * Its gradient on z is, per example (then divided by the batch),
 *
 *   dL/dz = (1 - a) b (softmax(b z) - y) + a T b (softmax(b z / T) - softmax(b t / T))
 *
 * (the T^2 keeps the soft term's gradient on the scale of the hard term's
 * as T grows). The teacher runs forward on the very images the student
 * sees, augmentation included, so its targets are for the crop and flip
 * the student is trained on; caching one target per training image would
 * teach the student the un-augmented image's answer for a shifted one.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "train/distill.h"

int train_distill_init(train_distill *d, train_net *teacher, int32_t batch, int32_t classes, float temperature,
                       float alpha, util_err *err) {
    memset(d, 0, sizeof *d);
    d->teacher = teacher;
    d->temperature = temperature;
    d->alpha = alpha;
    d->soft = calloc((size_t)batch * (size_t)classes, sizeof(float));
    d->dz = calloc((size_t)batch * (size_t)classes, sizeof(float));
    if (!d->soft || !d->dz) {
        train_distill_free(d);
        return util_fail(err, "out of memory for distillation targets (%d x %d)", batch, classes);
    }
    return 0;
}

void train_distill_free(train_distill *d) {
    free(d->soft);
    free(d->dz);
    d->soft = d->dz = NULL;
}

/* p = softmax(k z) over C values, in float with the maximum subtracted. */
static void softmax_at(const float *z, int32_t C, float k, float *p) {
    float mx = z[0], s = 0.0f;
    for (int32_t c = 1; c < C; c++) mx = z[c] > mx ? z[c] : mx;
    for (int32_t c = 0; c < C; c++) s += (p[c] = expf(k * (z[c] - mx)));
    for (int32_t c = 0; c < C; c++) p[c] /= s;
}

void train_distill_targets(train_distill *d, const train_net *student, int32_t nb) {
    train_net *t = d->teacher;
    const train_act *si = &student->acts[student->input];
    train_act *ti = &t->acts[t->input];
    memcpy(ti->x, si->x, sizeof(float) * (size_t)nb * (size_t)si->size);
    train_forward(t, nb);
    const train_act *lg = &t->acts[t->logits];
    for (int32_t b = 0; b < nb; b++)
        softmax_at(lg->x + (size_t)b * (size_t)t->classes, t->classes, t->logit_beta / d->temperature,
                   d->soft + (size_t)b * (size_t)t->classes);
}

float train_distill_loss(train_distill *d, train_net *n, int32_t nb, const uint8_t *labels, int32_t *correct) {
    float ce = train_loss(n, nb, labels, correct); /* probs at beta, hits */
    const train_act *lg = &n->acts[n->logits];
    int32_t C = n->classes;
    float T = d->temperature, a = d->alpha, beta = n->logit_beta;
    double kl = 0.0;
    for (int32_t b = 0; b < nb; b++) {
        const float *z = lg->x + (size_t)b * C, *q = d->soft + (size_t)b * C, *p = n->probs + (size_t)b * C;
        float *g = d->dz + (size_t)b * C;
        softmax_at(z, C, beta / T, g); /* the student at T, replaced class by class by the gradient */
        for (int32_t c = 0; c < C; c++) {
            float pt = g[c], hard = p[c] - (c == labels[b] ? 1.0f : 0.0f);
            if (q[c] > 0.0f) kl += (double)q[c] * (log((double)q[c]) - log(pt > 1e-30f ? (double)pt : 1e-30));
            g[c] = ((1.0f - a) * beta * hard + a * T * beta * (pt - q[c])) / (float)nb;
        }
    }
    return (1.0f - a) * ce + a * T * T * (float)(kl / nb);
}
