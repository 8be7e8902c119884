/*
 * Folding a removed channel's mean into the layers that read it.
 *
 * Magnitude pruning removes the channels whose weights are smallest, but a
 * channel with small weights is not a channel that carries nothing: after
 * a ReLU, a channel whose weights are near zero outputs about relu(bias),
 * a constant, and every consumer adds W[o][.][c] x that constant to its
 * output o. Removing the channel drops those offsets, and on ic_resnet8 a
 * handful of such cuts pushed the loss on training images from 0.34 to
 * above chance (3.1, see docs/prune_sweep.md) before any fine-tuning:
 * the cut was not losing information, it was shifting every downstream
 * activation. So before a channel goes, its mean over training images is
 * measured on the tensor each consumer reads, and each consumer's bias
 * takes what the channel added on average:
 *
 *     bias[o] += sum over the kernel window of W[o][kh][kw][c] x mean[c]
 *
 * In the int8 model the bias is in units of input scale x weight scale[o]
 * and the kernel multiplies the weights by (q - zero point) = x / input
 * scale, so the int32 bias grows by mean[c] / input scale x the sum of the
 * int8 weights of channel c for output o. Borders where the zero padding
 * stood in for the channel are treated as interior; the fine-tuning that
 * follows absorbs the difference. What remains is the channel's variation
 * about its mean: the part the magnitude criterion meant to judge.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/model.h"
#include "prune/prune.h"

#define FOLD_BATCH 64

void prune_means_free(prune_means *m) {
    free(m->off);
    free(m->v);
    memset(m, 0, sizeof *m);
}

int prune_means_measure(const uint8_t *bytes, size_t len, const train_data *d, int32_t count, prune_means *pm,
                        util_err *err) {
    memset(pm, 0, sizeof *pm);
    pexc_model *m;
    char msg[sizeof err->msg];
    if (pexc_model_open_bytes(bytes, len, PEXC_SCHEDULE_BASELINE, &m, msg, sizeof msg))
        return util_fail(err, "%s", msg);
    train_net n;
    memset(&n, 0, sizeof n);
    int rc = train_net_build(&n, &m->g, FOLD_BATCH, err);
    if (!rc) {
        pm->n_tensors = m->g.n_tensors;
        pm->off = malloc(sizeof(int64_t) * (size_t)(pm->n_tensors + 1));
        int64_t total = 0;
        if (pm->off)
            for (int32_t t = 0; t < pm->n_tensors; t++) pm->off[t] = -1;
        for (int32_t a = 0; pm->off && a < n.n_acts; a++) {
            const train_act *ac = &n.acts[a];
            if (ac->is_const || ac->tensor < 0 || ac->tensor >= pm->n_tensors || pm->off[ac->tensor] >= 0) continue;
            pm->off[ac->tensor] = total;
            total += ac->c;
        }
        pm->v = calloc((size_t)total + 1, sizeof(float));
        if (!pm->off || !pm->v) rc = util_fail(err, "prune: out of memory for activation means");
    }
    if (!rc) {
        n.qat = 1; /* the values the int8 model computes, as near as float gets */
        int32_t total = count < d->n ? count : d->n;
        train_act *in = &n.acts[n.input];
        for (int32_t s = 0; s < total; s += n.batch) {
            int32_t nb = total - s < n.batch ? total - s : n.batch;
            for (int32_t b = 0; b < nb; b++)
                train_data_example(d, &n, s + b, 0, 0, NULL, in->x + (size_t)b * (size_t)in->size);
            train_forward(&n, nb);
            for (int32_t a = 0; a < n.n_acts; a++) {
                const train_act *ac = &n.acts[a];
                if (ac->is_const || !ac->x || pm->off[ac->tensor] < 0) continue;
                float *v = pm->v + pm->off[ac->tensor];
                int64_t pix = (int64_t)nb * ac->h * ac->w;
                for (int64_t p = 0; p < pix; p++)
                    for (int32_t c = 0; c < ac->c; c++) v[c] += ac->x[p * ac->c + c] / (float)(total * ac->h * ac->w);
            }
        }
    }
    train_net_free(&n);
    pexc_model_free(m);
    if (rc) prune_means_free(pm);
    return rc;
}

/* Adds the removed channels' mean contribution to one consumer's bias. */
static int fold_consumer(ir_graph *g, const ir_op *op, const uint8_t *keep, int32_t channels, const float *mean,
                         util_err *err) {
    const ir_tensor *in = &g->tensors[op->in[0]];
    const ir_tensor *w = &g->tensors[op->in[1]];
    if (op->n_in < 3 || op->in[2] < 0 || w->type != IR_I8 || !w->data || in->nq < 1) return 0;
    ir_tensor *b = &g->tensors[op->in[2]];
    if (b->type != IR_I32 || !b->data || w->shape[w->rank - 1] != channels) return 0;
    int32_t outs = w->shape[0];
    if (b->elems != outs)
        return util_fail(err, "prune: operator %d: bias tensor %d (%s) has %lld values for %d outputs", op->index,
                         b->index, b->name, (long long)b->elems, outs);
    int64_t window = w->elems / outs / channels;
    int32_t *nb = util_alloc(&g->arena, b->bytes);
    if (!nb) return util_fail(err, "prune: out of memory");
    memcpy(nb, b->data, b->bytes);
    for (int32_t o = 0; o < outs; o++) {
        double add = 0.0;
        for (int32_t c = 0; c < channels; c++) {
            if (keep[c] || mean[c] == 0.0f) continue;
            int64_t s = 0;
            for (int64_t k = 0; k < window; k++) s += (int8_t)w->data[((int64_t)o * window + k) * channels + c];
            add += (double)s * (double)mean[c] / (double)in->scale[0];
        }
        double v = (double)nb[o] + nearbyint(add);
        nb[o] = (int32_t)(v < -2147483647.0 ? -2147483647.0 : v > 2147483647.0 ? 2147483647.0 : v);
    }
    b->data = (const uint8_t *)nb;
    return 0;
}

int prune_fold(ir_graph *g, const prune_group *gr, const uint8_t *keep, const prune_means *pm, util_err *err) {
    if (!pm || !pm->v) return 0;
    for (int32_t u = 0; u < gr->n_uses; u++) {
        const ir_op *op = &g->ops[gr->uses[u].op];
        if (gr->uses[u].role != PRUNE_CONSUMER) continue;
        if (op->code != OP_CONV_2D && op->code != OP_FULLY_CONNECTED) continue;
        int32_t t = op->in[0];
        if (t < 0 || t >= pm->n_tensors || pm->off[t] < 0) continue;
        if (fold_consumer(g, op, keep, gr->channels, pm->v + pm->off[t], err)) return -1;
    }
    return 0;
}
