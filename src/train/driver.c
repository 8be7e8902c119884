/*
 * The host driver: epochs of shuffled, augmented mini-batches through the
 * network, one progress line per epoch, and evaluation. This is the only
 * part of the engine that allocates per run or reads the clock; the MCU
 * fine-tuning step will drive the same kernels with its own loop.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "train/distill.h"
#include "train/split.h"
#include "train/train.h"

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int train_run(train_net *n, const train_data *d, train_config *cfg, util_err *err) {
    int32_t B = cfg->batch < n->batch ? cfg->batch : n->batch;
    int32_t *perm = malloc(sizeof(int32_t) * (size_t)d->n);
    uint8_t *labels = malloc((size_t)B);
    if (!perm || !labels) {
        free(perm);
        free(labels);
        return util_fail(err, "out of memory for %d examples", d->n);
    }
    /* two halves of every batch, on two threads when the products had
     * two (split.c) */
    train_split split;
    int threads = train_gemm_threads();
    if (train_split_init(&split, n, err)) {
        free(perm);
        free(labels);
        return -1;
    }
    uint64_t rng = cfg->seed;
    int64_t steps_per_epoch = (d->n + B - 1) / B;
    cfg->opt.total_steps = steps_per_epoch * cfg->epochs;
    train_act *in = &n->acts[n->input];
    for (int32_t i = 0; i < d->n; i++) perm[i] = i;
    if (cfg->verbose && cfg->eval) {
        double l, a = train_evaluate(n, cfg->eval, &l, NULL);
        printf("before training  test accuracy %.2f %%  loss %.4f\n", 100.0 * a, l);
    }
    for (int32_t ep = 0; ep < cfg->epochs; ep++) {
        double t0 = now_s(), loss_sum = 0.0;
        int64_t hits = 0;
        for (int32_t i = d->n - 1; i > 0; i--) {
            int32_t j = (int32_t)(train_rng_next(&rng) % (uint64_t)(i + 1));
            int32_t t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        for (int32_t s = 0; s < d->n; s += B) {
            int32_t nb = d->n - s < B ? d->n - s : B, correct;
            for (int32_t b = 0; b < nb; b++) {
                train_data_example(d, n, perm[s + b], cfg->augment, 4, &rng, in->x + (size_t)b * (size_t)in->size);
                labels[b] = d->labels[perm[s + b]];
            }
            if (cfg->distill) train_distill_targets(cfg->distill, n, nb);
            loss_sum += (double)train_split_step(&split, n, nb, labels, cfg->distill, threads, &correct) * nb;
            hits += correct;
            train_optim_step(&cfg->opt, n);
        }
        if (cfg->verbose) {
            printf("epoch %d/%d  loss %.4f  train accuracy %.2f %%  lr %.2g  %.1f s\n", ep + 1, cfg->epochs,
                   loss_sum / d->n, 100.0 * (double)hits / d->n, (double)train_optim_lr(&cfg->opt), now_s() - t0);
            if (cfg->eval) {
                double l, a = train_evaluate(n, cfg->eval, &l, NULL);
                printf("epoch %d/%d  test accuracy %.2f %%  loss %.4f\n", ep + 1, cfg->epochs, 100.0 * a, l);
            }
            fflush(stdout);
        }
    }
    train_split_free(&split);
    free(perm);
    free(labels);
    return 0;
}

double train_evaluate(train_net *n, const train_data *d, double *loss, FILE *probs) {
    int write_ok = 1;
    int64_t hits = 0;
    double loss_sum = 0.0;
    train_act *in = &n->acts[n->input];
    /* halves on two threads, as training runs them; without the second
     * half's network (no memory for it) the batches run whole */
    train_split split;
    util_err e;
    if (train_split_init(&split, n, &e)) memset(&split, 0, sizeof split);
    for (int32_t s = 0; s < d->n; s += n->batch) {
        int32_t nb = d->n - s < n->batch ? d->n - s : n->batch, correct;
        for (int32_t b = 0; b < nb; b++)
            train_data_example(d, n, s + b, 0, 0, NULL, in->x + (size_t)b * (size_t)in->size);
        loss_sum += (double)train_split_loss(&split, n, nb, d->labels + s, train_gemm_threads(), &correct) * nb;
        hits += correct;
        for (int32_t b = 0; probs && b < nb; b++)
            if (fwrite(train_split_probs(&split, n, nb, b), sizeof(float), (size_t)n->classes, probs) !=
                (size_t)n->classes)
                write_ok = 0;
    }
    train_split_free(&split);
    if (loss) *loss = d->n ? loss_sum / d->n : 0.0;
    if (!write_ok) return -1.0;
    return d->n ? (double)hits / d->n : 0.0;
}
