/*
 * The distillation loss (src/train/distill.c) against central finite
 * differences: random logits for a student and a teacher over a few
 * classes, random labels, temperatures from 1 to 8, soft-term weights
 * from 0 to 1 and softmax betas other than 1; the gradient the loss
 * reports on the student's logits must match (L(z + e) - L(z - e)) / 2e.
 * Also: with alpha 0 the loss is the plain cross-entropy, and with the
 * teacher equal to the student the soft term is zero.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/distill.h"

static uint64_t rng = 777;

static float frand(void) { return (float)((double)(train_rng_next(&rng) >> 11) / 9007199254740992.0 * 2.0 - 1.0); }

/* A network that is only its logits: the loss functions read acts[logits],
 * classes, logit_beta and probs. */
static void net_of_logits(train_net *n, train_act *a, int32_t nb, int32_t C, float beta) {
    memset(n, 0, sizeof *n);
    memset(a, 0, sizeof *a);
    a->h = a->w = 1;
    a->c = C;
    a->size = C;
    a->x = malloc(sizeof(float) * (size_t)(nb * C));
    a->dx = calloc((size_t)(nb * C), sizeof(float));
    n->acts = a;
    n->n_acts = 1;
    n->classes = C;
    n->logit_beta = beta;
    n->batch = nb;
    n->probs = malloc(sizeof(float) * (size_t)(nb * C));
}

static void net_free(train_net *n) {
    free(n->acts[0].x);
    free(n->acts[0].dx);
    free(n->probs);
}

static int one_case(int k) {
    int32_t nb = 1 + k % 5, C = 2 + k % 11;
    float beta = k % 3 ? 1.0f : 0.5f + (float)(k % 4);
    float T = 1.0f + (float)(k % 8), alpha = (float)(k % 5) / 4.0f;
    train_net s, t;
    train_act sa, ta;
    net_of_logits(&s, &sa, nb, C, beta);
    net_of_logits(&t, &ta, nb, C, beta);
    uint8_t labels[8];
    for (int32_t i = 0; i < nb * C; i++) {
        sa.x[i] = 3.0f * frand();
        ta.x[i] = 3.0f * frand();
    }
    for (int32_t b = 0; b < nb; b++) labels[b] = (uint8_t)(train_rng_next(&rng) % (uint64_t)C);
    train_distill d;
    util_err err;
    if (train_distill_init(&d, &t, nb, C, T, alpha, &err)) {
        printf("FAIL init: %s\n", err.msg);
        return 1;
    }
    /* the teacher's targets, as train_distill_targets leaves them */
    for (int32_t b = 0; b < nb; b++) {
        float mx = ta.x[b * C], sum = 0.0f;
        for (int32_t c = 1; c < C; c++) mx = ta.x[b * C + c] > mx ? ta.x[b * C + c] : mx;
        for (int32_t c = 0; c < C; c++) sum += (d.soft[b * C + c] = expf(beta / T * (ta.x[b * C + c] - mx)));
        for (int32_t c = 0; c < C; c++) d.soft[b * C + c] /= sum;
    }
    int fails = 0;
    train_distill_loss(&d, &s, nb, labels, NULL);
    float *g = malloc(sizeof(float) * (size_t)(nb * C));
    memcpy(g, d.dz, sizeof(float) * (size_t)(nb * C));
    const float eps = 1e-2f;
    for (int32_t i = 0; i < nb * C; i++) {
        float keep = sa.x[i];
        sa.x[i] = keep + eps;
        double lp = train_distill_loss(&d, &s, nb, labels, NULL);
        sa.x[i] = keep - eps;
        double lm = train_distill_loss(&d, &s, nb, labels, NULL);
        sa.x[i] = keep;
        double fd = (lp - lm) / (2.0 * eps);
        if (fabs(fd - g[i]) > 2e-3 * (1.0 + fabs(fd))) {
            if (!fails++)
                printf("FAIL case %d (nb %d, C %d, beta %g, T %g, alpha %g): dL/dz[%d] analytic %.6f, finite "
                       "difference %.6f\n",
                       k, nb, C, (double)beta, (double)T, (double)alpha, i, (double)g[i], fd);
        }
    }
    /* alpha 0: the labels' cross-entropy and nothing else */
    d.alpha = 0.0f;
    float mixed = train_distill_loss(&d, &s, nb, labels, NULL), ce = train_loss(&s, nb, labels, NULL);
    if (fabsf(mixed - ce) > 1e-6f * (1.0f + ce)) {
        printf("FAIL case %d: alpha 0 gives %.7f, cross-entropy %.7f\n", k, (double)mixed, (double)ce);
        fails++;
    }
    /* the teacher's own logits as the student: no divergence left */
    d.alpha = 1.0f;
    memcpy(sa.x, ta.x, sizeof(float) * (size_t)(nb * C));
    float self = train_distill_loss(&d, &s, nb, labels, NULL);
    if (fabsf(self) > 1e-5f) {
        printf("FAIL case %d: the soft term of the teacher against itself is %g\n", k, (double)self);
        fails++;
    }
    free(g);
    train_distill_free(&d);
    net_free(&s);
    net_free(&t);
    return fails != 0;
}

int main(void) {
    int fails = 0;
    for (int k = 0; k < 200; k++) fails += one_case(k);
    if (fails) {
        printf("%d of 200 cases failed\n", fails);
        return 1;
    }
    printf("distillation loss: the logits' gradient matches finite differences (200 cases)\n");
    return 0;
}
