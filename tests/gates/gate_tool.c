/*
 * Test driver of the channel gates (src/train/gate.c) and of gate pruning
 * (src/prune/gates.c), run by tests/test_gates.py (built on demand with
 * `make build/tests/gates/gate_tool`, apart from the C unit programs,
 * because it needs a model and data on its command line):
 *
 *   gate_tool grad MODEL CIFAR N     gate and weight gradients of the mean
 *                                    loss over N records against central
 *                                    finite differences, random gates on
 *                                    every conv / depthwise / FC layer
 *   gate_tool fold MODEL CIFAR N     the gated network's logits against
 *                                    those after train_gates_fold
 *   gate_tool split MODEL CIFAR N    gate and weight gradients of a batch run
 *                                    as two halves (src/train/split.c)
 *                                    against the whole batch's, and the
 *                                    halves on 1 and 2 threads against each
 *                                    other (bytes)
 *   gate_tool select MODEL CIFAR N SRAM OUT [STEPS ROUNDS LAMBDA THRESHOLD GATE_LR]
 *                                    prune_gates_select on N records, the
 *                                    result written to OUT
 *
 * Prints what it measured; exits 1 on a mismatch or an error.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/model.h"
#include "pexc.h"
#include "prune/prune.h"
#include "train/gate.h"
#include "train/split.h"
#include "writer/writer.h"

static uint64_t rng = 99;

static float urand(void) { return (float)((double)(train_rng_next(&rng) >> 11) / 9007199254740992.0); }

typedef struct {
    pexc_model *m;
    train_net n;
    train_gate_set s;
    train_data d;
    int32_t nb;
} setup;

/* The model, its network, the data and one gate vector per conv,
 * depthwise and fully-connected layer with gates drawn from [0.5, 1.5]. */
static int open_all(setup *t, const char *model, const char *data, int32_t nb) {
    char msg[600];
    util_err e = {{0}};
    memset(t, 0, sizeof *t);
    if (pexc_model_open(model, PEXC_SCHEDULE_BASELINE, &t->m, msg, sizeof msg)) {
        fprintf(stderr, "%s\n", msg);
        return -1;
    }
    if (train_net_build(&t->n, &t->m->g, nb, &e) || train_data_load_cifar10(&t->d, data, nb, &e) ||
        train_data_check(&t->d, &t->n, data, &e)) {
        fprintf(stderr, "%s\n", e.msg);
        return -1;
    }
    t->nb = t->d.n;
    int32_t len[512], layer[512], nv = 0;
    for (int32_t i = 0; i < t->n.n_layers && nv < 512; i++)
        if (t->n.layers[i].w) {
            layer[nv] = i;
            len[nv++] = t->n.layers[i].n_b;
        }
    if (train_gates_init(&t->n, &t->s, nv, len, &e)) return fprintf(stderr, "%s\n", e.msg), -1;
    for (int32_t v = 0; v < nv; v++) {
        if (train_gates_attach(&t->n, layer[v], v, &e)) return fprintf(stderr, "%s\n", e.msg), -1;
        for (int32_t c = 0; c < len[v]; c++) t->s.g[v][c] = 0.5f + urand();
    }
    train_act *in = &t->n.acts[t->n.input];
    for (int32_t b = 0; b < t->nb; b++) train_data_example(&t->d, &t->n, b, 0, 0, NULL, in->x + (size_t)b * in->size);
    return 0;
}

static void close_all(setup *t) {
    train_gates_free(&t->n, &t->s);
    train_net_free(&t->n);
    train_data_free(&t->d);
    if (t->m) pexc_model_free(t->m);
}

static double loss_at(setup *t) {
    train_forward(&t->n, t->nb);
    return train_loss(&t->n, t->nb, t->d.labels, NULL);
}

/* Central difference of the loss in *v against the analytic g. The loss
 * is piecewise smooth (ReLU kinks): a value whose two one-sided slopes
 * disagree sits on a kink and is skipped, not judged. */
static int check(setup *t, float *v, double g, float eps, double tol, const char *what, int32_t i, int32_t c,
                 int *checked, double *worst) {
    float keep = *v;
    double l0 = loss_at(t);
    *v = keep + eps;
    double lp = loss_at(t);
    *v = keep - eps;
    double lm = loss_at(t);
    *v = keep;
    double fd = (lp - lm) / (2.0 * eps), right = (lp - l0) / eps, left = (l0 - lm) / eps;
    if (fabs(right - left) > 0.1 * (fabs(right) + fabs(left)) + 1e-4) return 0;
    /* the loss is a float32 of about 1: steps of ~1e-6 in it put a floor
     * of 1e-6 / eps under what a difference can resolve */
    double err = fabs(fd - g) / (fabs(fd) + fabs(g) + 2e-6 / eps);
    (*checked)++;
    *worst = err > *worst ? err : *worst;
    if (err > tol) {
        printf("MISMATCH %s layer %d channel %d: analytic %.6g, finite difference %.6g\n", what, i, c, g, fd);
        return 1;
    }
    return 0;
}

static int cmd_grad(const char *model, const char *data, int32_t nb) {
    setup t;
    if (open_all(&t, model, data, nb)) return 1;
    loss_at(&t);
    train_backward(&t.n, t.nb, t.d.labels);
    /* the analytic gradients, copied: the finite differences rerun forward */
    int fails = 0, checked[2] = {0, 0};
    double worst[2] = {0, 0}, worst_id = 0;
    /* Scaling channel c's gate is scaling its weights and bias, so
     * g[c] dL/dg[c] = sum over its weights and bias of w dL/dw: an exact
     * tie between the gate gradient and the weight gradients (which
     * test_train.py holds to TensorFlow's), free of finite differences */
    for (int32_t i = 0; i < t.n.n_layers; i++) {
        int32_t v = t.s.vec_of[i];
        if (v < 0) continue;
        const train_layer *l = &t.n.layers[i];
        int32_t oc = l->n_b;
        int64_t per = l->n_w / oc;
        for (int32_t c = 0; c < oc; c++) {
            double sum = (double)l->b[c] * l->gb[c];
            for (int64_t k = 0; k < l->n_w; k++)
                if ((l->kind == TR_DWCONV ? k % oc : k / per) == c) sum += (double)l->w[k] * l->gw[k];
            double lhs = (double)t.s.g[v][c] * t.s.dg[v][c];
            double err = fabs(lhs - sum) / (fabs(lhs) + fabs(sum) + 1e-6);
            worst_id = err > worst_id ? err : worst_id;
            if (err > 1e-3) {
                printf("MISMATCH layer %d channel %d: g dL/dg %.6g, sum w dL/dw %.6g\n", i, c, lhs, sum);
                fails++;
            }
        }
    }
    for (int32_t i = 0; i < t.n.n_layers; i++) {
        int32_t v = t.s.vec_of[i];
        if (v < 0) continue;
        train_layer *l = &t.n.layers[i];
        for (int32_t k = 0; k < 5; k++) {
            int32_t c = (int32_t)(train_rng_next(&rng) % (uint64_t)t.s.len[v]);
            double g = t.s.dg[v][c];
            fails += check(&t, &t.s.g[v][c], g, 1e-3f, 0.15, "gate", i, c, &checked[0], &worst[0]);
            int64_t w = (int64_t)(train_rng_next(&rng) % (uint64_t)l->n_w);
            /* gw is overwritten by nothing until the next backward pass */
            fails += check(&t, &l->w[w], l->gw[w], 2e-4f, 0.15, "weight", i, (int32_t)w, &checked[1], &worst[1]);
        }
    }
    printf("gradients: gate identity worst relative error %.3g; %d gates checked, worst relative error %.3g; %d weights under gates, worst %.3g; "
           "%d mismatches\n", worst_id, checked[0], worst[0], checked[1], worst[1], fails);
    close_all(&t);
    return fails || checked[0] < 10 || checked[1] < 10;
}

static int cmd_fold(const char *model, const char *data, int32_t nb) {
    setup t;
    if (open_all(&t, model, data, nb)) return 1;
    train_forward(&t.n, t.nb);
    const train_act *lg = &t.n.acts[t.n.logits];
    size_t tot = (size_t)t.nb * (size_t)lg->size;
    float *before = malloc(sizeof(float) * tot);
    memcpy(before, lg->x, sizeof(float) * tot);
    train_gates_fold(&t.n);
    train_forward(&t.n, t.nb);
    double worst = 0, scale = 0;
    for (size_t i = 0; i < tot; i++) {
        double dd = fabs((double)lg->x[i] - before[i]);
        worst = dd > worst ? dd : worst;
        scale = fabs(before[i]) > scale ? fabs(before[i]) : scale;
    }
    int ones = 1;
    for (int32_t v = 0; v < t.s.n_vec; v++)
        for (int32_t c = 0; c < t.s.len[v]; c++) ones &= t.s.g[v][c] == 1.0f;
    printf("fold: %zu logits, largest |logit| %.4g, largest difference %.3g, gates reset to 1: %s\n", tot, scale,
           worst, ones ? "yes" : "no");
    free(before);
    close_all(&t);
    return !(worst <= 1e-5 * (scale > 1 ? scale : 1)) || !ones || scale == 0;
}

/* Every gate gradient, then every gated layer's weight gradients, into
 * out (n floats at most); returns how many. */
static size_t grads_of(const setup *t, float *out, size_t n) {
    size_t k = 0;
    for (int32_t v = 0; v < t->s.n_vec; v++)
        for (int32_t c = 0; c < t->s.len[v] && k < n; c++) out[k++] = t->s.dg[v][c];
    for (int32_t i = 0; i < t->n.n_layers; i++)
        if (t->s.vec_of[i] >= 0)
            for (int64_t w = 0; w < t->n.layers[i].n_w && k < n; w++) out[k++] = t->n.layers[i].gw[w];
    return k;
}

static int cmd_split(const char *model, const char *data, int32_t nb) {
    setup t;
    if (open_all(&t, model, data, nb)) return 1;
    size_t cap = 1u << 22;
    float *whole = malloc(sizeof(float) * cap * 3), *one = whole + cap, *two = one + cap;
    util_err e = {{0}};
    train_split sp;
    if (!whole || train_split_init(&sp, &t.n, &e)) {
        fprintf(stderr, "%s\n", whole ? e.msg : "out of memory");
        return 1;
    }
    loss_at(&t);
    train_backward(&t.n, t.nb, t.d.labels);
    size_t n = grads_of(&t, whole, cap);
    int32_t hits;
    train_split_step(&sp, &t.n, t.nb, t.d.labels, NULL, 1, &hits);
    grads_of(&t, one, cap);
    train_split_step(&sp, &t.n, t.nb, t.d.labels, NULL, 2, &hits);
    grads_of(&t, two, cap);
    double worst = 0, scale = 0;
    for (size_t k = 0; k < n; k++) scale = fabs(whole[k]) > scale ? fabs(whole[k]) : scale;
    for (size_t k = 0; k < n; k++) {
        double d = fabs((double)one[k] - whole[k]) / (scale > 0 ? scale : 1);
        worst = d > worst ? d : worst;
    }
    int same = !memcmp(one, two, sizeof(float) * n), active = sp.active;
    printf("split: halves %s, %zu gradients, worst difference from the whole batch %.3g of the largest; "
           "1 and 2 threads identical: %s\n", active ? "on" : "off", n, worst, same ? "yes" : "no");
    train_split_free(&sp);
    free(whole);
    close_all(&t);
    return !active || !(worst < 1e-4) || !same || scale == 0;
}

static int cmd_select(int argc, char **argv) {
    const char *model = argv[2], *data = argv[3], *out = argv[6];
    util_err e = {{0}};
    prune_gates_options o;
    prune_gates_defaults(&o);
    o.sram = (size_t)atol(argv[5]);
    if (argc > 7) o.steps = atoi(argv[7]);
    if (argc > 8) o.max_rounds = atoi(argv[8]);
    if (argc > 9) o.lambda = (float)atof(argv[9]);
    if (argc > 10) o.threshold = (float)atof(argv[10]);
    if (argc > 11) o.gate_lr = (float)atof(argv[11]);
    FILE *f = fopen(model, "rb");
    if (!f) return fprintf(stderr, "cannot open %s\n", model), 1;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *bytes = malloc((size_t)len);
    size_t got = fread(bytes, 1, (size_t)len, f);
    fclose(f);
    train_data d;
    ir_graph g;
    uint8_t *w = NULL;
    size_t wl;
    memset(&d, 0, sizeof d);
    memset(&g, 0, sizeof g);
    int rc = got != (size_t)len || train_data_load_cifar10(&d, data, atoi(argv[4]), &e) ||
             reader_load(&g, bytes, (size_t)len, &e) || prune_gates_select(&g, &d, &o, stdout, &e) ||
             writer_tflite(&g, &w, &wl, &e) || writer_save(out, w, wl, &e);
    if (rc) fprintf(stderr, "%s\n", e.msg);
    else printf("wrote %s (%zu bytes)\n", out, wl);
    free(w);
    free(bytes);
    util_arena_free(&g.arena);
    train_data_free(&d);
    return rc;
}

int main(int argc, char **argv) {
    if (argc >= 5 && !strcmp(argv[1], "grad")) return cmd_grad(argv[2], argv[3], atoi(argv[4]));
    if (argc >= 5 && !strcmp(argv[1], "fold")) return cmd_fold(argv[2], argv[3], atoi(argv[4]));
    if (argc >= 5 && !strcmp(argv[1], "split")) return cmd_split(argv[2], argv[3], atoi(argv[4]));
    if (argc >= 7 && !strcmp(argv[1], "select")) return cmd_select(argc, argv);
    fprintf(stderr, "usage: gate_tool grad|fold|split MODEL CIFAR N | select MODEL CIFAR N SRAM OUT [STEPS ROUNDS LAMBDA THRESHOLD GATE_LR]\n");
    return 2;
}
