/*
 * Fine-tuning inside pexc prune: the pruned int8 model through the training
 * engine and back.
 *
 * Each stage hands the model's bytes to the same path a user's model takes
 * (pexc_model_open_bytes: the verifying reader and the checks), builds the
 * float network from its dequantised weights, trains it with int8 fake
 * quantisation of weights and activations (so the network learns the
 * rounding it will run with), quantises the weights again
 * (train_quant_write) into a fresh read of the same bytes and writes a new
 * file. The bytes that come out are therefore a model pexc has read,
 * trained and written, ready for the next pruning stage or the output.
 *
 * Before any pruning, prune_tune_check builds the network once from the
 * unpruned model and checks the data against it, so an operator the
 * trainer lacks, a wrong image shape or an out-of-range label is refused
 * in one line before minutes of search.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/model.h"
#include "prune/prune.h"
#include "train/distill.h"
#include "train/split.h"
#include "train/train.h"
#include "writer/writer.h"

#define TUNE_BATCH 64

static int open_net(const uint8_t *bytes, size_t len, pexc_model **m, train_net *n, util_err *err) {
    char msg[sizeof err->msg];
    memset(n, 0, sizeof *n);
    *m = NULL;
    if (pexc_model_open_bytes(bytes, len, PEXC_SCHEDULE_BASELINE, m, msg, sizeof msg))
        return util_fail(err, "%s", msg);
    if (train_net_build(n, &(*m)->g, TUNE_BATCH, err)) {
        train_net_free(n);
        pexc_model_free(*m);
        *m = NULL;
        return -1;
    }
    return 0;
}

int prune_tune_check(const uint8_t *bytes, size_t len, const char *model, const train_data *d, const char *path,
                     util_err *err) {
    pexc_model *m;
    train_net n;
    if (open_net(bytes, len, &m, &n, err)) {
        char inner[sizeof err->msg];
        memcpy(inner, err->msg, sizeof inner);
        return util_fail(err, "%s: %s", model, inner);
    }
    int rc = train_data_check(d, &n, path, err);
    train_net_free(&n);
    pexc_model_free(m);
    return rc;
}

int prune_tune_loss(const uint8_t *bytes, size_t len, const train_data *d, int32_t count, double *loss,
                    util_err *err) {
    pexc_model *m;
    train_net n;
    if (open_net(bytes, len, &m, &n, err)) return -1;
    n.qat = 1; /* the loss of the int8 model, as near as the float pass gets */
    train_act *in = &n.acts[n.input];
    int32_t total = count < d->n ? count : d->n;
    double sum = 0.0;
    train_split split; /* halves on two threads (train/split.c) */
    if (train_split_init(&split, &n, err)) {
        train_net_free(&n);
        pexc_model_free(m);
        return -1;
    }
    for (int32_t s = 0; s < total; s += n.batch) {
        int32_t nb = total - s < n.batch ? total - s : n.batch, correct;
        for (int32_t b = 0; b < nb; b++)
            train_data_example(d, &n, s + b, 0, 0, NULL, in->x + (size_t)b * (size_t)in->size);
        sum += (double)train_split_loss(&split, &n, nb, d->labels + s, train_gemm_threads(), &correct) * nb;
    }
    *loss = total ? sum / total : 0.0;
    train_split_free(&split);
    train_net_free(&n);
    pexc_model_free(m);
    return 0;
}

/* Root mean square of x[n]; a floor keeps an all-zero tensor trainable. */
static float rms(const float *x, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += (double)x[i] * (double)x[i];
    double r = n > 0 ? sqrt(s / (double)n) : 0.0;
    return (float)(r > 1e-6 ? r : 1e-6);
}

int prune_tune(const prune_options *o, const train_data *d, uint8_t **cur, size_t *len, util_err *err) {
    pexc_model *m;
    train_net n;
    if (open_net(*cur, *len, &m, &n, err)) return -1;
    n.qat = 1;
    /* Adam's step is about lr whatever the gradient's scale, so one rate
     * moves ic_resnet8's first-layer weights (about 100 times smaller than
     * the others, its input spanning 0..255) 100 times more in relative
     * terms: enough to wreck that layer at a rate the others need to
     * recover from the cut. Each layer's weights and bias therefore step
     * in proportion to their own RMS. */
    for (int32_t i = 0; i < n.n_layers; i++) {
        train_layer *l = &n.layers[i];
        if (!l->w) continue;
        l->lr_w = rms(l->w, l->n_w);
        l->lr_b = rms(l->b, l->n_b);
    }
    train_gemm_set_threads(o->threads > 0 ? o->threads : 2);
    train_config cfg = {o->epochs, TUNE_BATCH, 1, o->seed, 1, {0}, o->eval, NULL};
    train_optim_defaults(&cfg.opt, TR_ADAM);
    if (o->lr > 0.0f) cfg.opt.lr = o->lr;
    /* the teacher: the unpruned model's float pass (distill.c) */
    pexc_model *tm = NULL;
    train_net tn;
    train_distill dist;
    memset(&tn, 0, sizeof tn);
    memset(&dist, 0, sizeof dist);
    int rc = 0;
    if (o->distill && o->teacher_bytes) {
        rc = open_net(o->teacher_bytes, o->teacher_len, &tm, &tn, err) ||
                     train_distill_init(&dist, &tn, TUNE_BATCH, n.classes, o->temperature, o->alpha, err)
                 ? -1
                 : 0;
        if (!rc && tn.classes != n.classes)
            rc = util_fail(err, "prune: the teacher has %d classes, the model %d", tn.classes, n.classes);
        if (!rc) cfg.distill = &dist;
    }
    if (!rc) rc = train_run(&n, d, &cfg, err);
    train_distill_free(&dist);
    if (tm) {
        train_net_free(&tn);
        pexc_model_free(tm);
    }
    ir_graph g;
    memset(&g, 0, sizeof g);
    uint8_t *out = NULL;
    size_t out_len = 0;
    if (!rc) rc = reader_load(&g, *cur, *len, err) || train_quant_write(&n, &g, err) ||
                          writer_tflite(&g, &out, &out_len, err)
                      ? -1
                      : 0;
    util_arena_free(&g.arena);
    train_net_free(&n);
    pexc_model_free(m);
    if (rc) {
        free(out);
        return -1;
    }
    free(*cur);
    *cur = out;
    *len = out_len;
    return 0;
}
