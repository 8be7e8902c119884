/*
 * pexc train and pexc eval: the training engine (src/train/) from the
 * command line.
 *
 *   pexc train MODEL --data FILE --format cifar10|idx [--epochs N] [--lr X] [--batch N] [--optim sgd|adam]
 *              [--wd X] [--lr-schedule cosine|step|const] [--qat] [--no-augment] [--limit N] [--seed N]
 *              [--threads N] [--test FILE] [--grads FILE]
 *   pexc eval MODEL --data FILE --format cifar10|idx [--limit N] [--batch N] [--qat] [--no-int8] [--probs FILE]
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/model.h"
#include "cli/cli.h"
#include "train/split.h"
#include "train/train.h"

static const char *const USAGE_TRAIN =
    "usage: pexc train MODEL --data FILE --format cifar10|idx [--epochs N] [--lr X] [--batch N]\n"
    "                  [--optim sgd|adam] [--wd X] [--lr-schedule cosine|step|const] [--qat]\n"
    "                  [--no-augment] [--limit N] [--seed N] [--threads N] [--test FILE]\n"
    "                  [--grads FILE]\n"
    "  fine-tunes the model's dequantised weights in float32 on labelled images,\n"
    "  one line per epoch (loss, train accuracy, seconds)\n"
    "  --epochs N     passes over the data (default 1)\n"
    "  --lr X         peak learning rate (default 0.00001 for adam, 0.000001 for sgd)\n"
    "  --batch N      examples per step, 1-1024 (default 64)\n"
    "  --optim O      adam (the default) or sgd (momentum 0.9)\n"
    "  --wd X         weight decay (default 0.0001)\n"
    "  --lr-schedule  cosine (default), step (x0.1 at 1/2 and 3/4) or const\n"
    "  --qat          quantisation-aware: int8 fake quantisation of weights and\n"
    "                 activations in the forward pass\n"
    "  --no-augment   no random crop (4-pixel padding) and horizontal flip\n"
    "  --limit N      the first N records only\n"
    "  --threads N    threads, 1-8: a batch runs as two halves, on two threads when\n"
    "                 N >= 2 (default 2; the same results for any N)\n"
    "  --test FILE    test-set accuracy of the float model before and after\n"
    "  --grads FILE   writes the gradients of the mean loss over the first --batch\n"
    "                 records (no augmentation) as float32, layer by layer (weights,\n"
    "                 then bias), and exits without training\n";
static const char *const USAGE_EVAL =
    "usage: pexc eval MODEL --data FILE --format cifar10|idx [--limit N] [--batch N] [--qat]\n"
    "                 [--no-int8] [--probs FILE]\n"
    "  top-1 accuracy of the dequantised model in float32 and of the int8 model\n"
    "  through pexc run\n"
    "  --qat          the float model with int8 fake quantisation\n"
    "  --no-int8      skip the int8 run\n"
    "  --probs FILE   writes the float model's class probabilities (float32,\n"
    "                 one row per record)\n";

typedef struct {
    const char *model, *data, *format, *test, *grads, *probs;
    long epochs, batch, limit, threads;
    unsigned long long seed;
    int qat, augment, int8, help;
    train_optim opt;
    float lr, wd;
} train_args;

int cli_parse_long(const char *opt, const char *v, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (*end || !*v || errno || x < lo || x > hi) {
        fprintf(stderr, "pexc: %s takes a whole number from %ld to %ld, got '%s'\n", opt, lo, hi, v);
        return -1;
    }
    *out = x;
    return 0;
}

static int parse_float(const char *opt, const char *v, float *out) {
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (*end || !*v || errno || !(x >= 0.0) || x > 10.0) {
        fprintf(stderr, "pexc: %s takes a number from 0 to 10, got '%s'\n", opt, v);
        return -1;
    }
    *out = (float)x;
    return 0;
}

/* 0 parsed, 1 help, -1 usage error (reported). */
static int parse(int argc, char **argv, int eval, train_args *a) {
    memset(a, 0, sizeof *a);
    a->epochs = 1;
    a->batch = 64;
    a->augment = 1;
    a->int8 = 1;
    a->threads = 2;
    a->seed = 1;
    a->lr = a->wd = -1.0f;
    /* Adam: a model whose input spans 0..255 (ic_resnet8: scale 1) has
     * first-layer weight gradients 10^3-10^4 times the others relative to
     * the weights, which plain SGD cannot follow at one rate */
    train_optim_defaults(&a->opt, TR_ADAM);
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i], *v = NULL;
        int r;
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) return 1;
        else if (!strcmp(s, "--qat")) a->qat = 1;
        else if (!strcmp(s, "--no-augment") && !eval) a->augment = 0;
        else if (!strcmp(s, "--no-int8") && eval) a->int8 = 0;
        else if ((r = cli_opt_value(argc, argv, &i, "--data", &v))) {
            if (r < 0) return -1;
            a->data = v;
        } else if ((r = cli_opt_value(argc, argv, &i, "--format", &v))) {
            if (r < 0) return -1;
            a->format = v;
        } else if (!eval && (r = cli_opt_value(argc, argv, &i, "--test", &v))) {
            if (r < 0) return -1;
            a->test = v;
        } else if (!eval && (r = cli_opt_value(argc, argv, &i, "--grads", &v))) {
            if (r < 0) return -1;
            a->grads = v;
        } else if (eval && (r = cli_opt_value(argc, argv, &i, "--probs", &v))) {
            if (r < 0) return -1;
            a->probs = v;
        } else if (!eval && (r = cli_opt_value(argc, argv, &i, "--epochs", &v))) {
            if (r < 0 || cli_parse_long("--epochs", v, 0, 10000, &a->epochs)) return -1;
        } else if ((r = cli_opt_value(argc, argv, &i, "--batch", &v))) {
            if (r < 0 || cli_parse_long("--batch", v, 1, 1024, &a->batch)) return -1;
        } else if ((r = cli_opt_value(argc, argv, &i, "--limit", &v))) {
            if (r < 0 || cli_parse_long("--limit", v, 1, 10000000, &a->limit)) return -1;
        } else if ((r = cli_opt_value(argc, argv, &i, "--threads", &v))) {
            if (r < 0 || cli_parse_long("--threads", v, 1, 8, &a->threads)) return -1;
        } else if (!eval && (r = cli_opt_value(argc, argv, &i, "--seed", &v))) {
            long x;
            if (r < 0 || cli_parse_long("--seed", v, 0, 2147483647L, &x)) return -1;
            a->seed = (unsigned long long)x;
        } else if (!eval && (r = cli_opt_value(argc, argv, &i, "--lr", &v))) {
            if (r < 0 || parse_float("--lr", v, &a->lr)) return -1;
        } else if (!eval && (r = cli_opt_value(argc, argv, &i, "--wd", &v))) {
            if (r < 0 || parse_float("--wd", v, &a->wd)) return -1;
        } else if (!eval && (r = cli_opt_value(argc, argv, &i, "--optim", &v))) {
            if (r < 0) return -1;
            if (strcmp(v, "sgd") && strcmp(v, "adam")) {
                fprintf(stderr, "pexc: --optim takes sgd or adam, got '%s'\n", v);
                return -1;
            }
            train_optim d; /* its rate, keeping any --lr-schedule given before */
            train_optim_defaults(&d, !strcmp(v, "adam") ? TR_ADAM : TR_SGD);
            a->opt.kind = d.kind;
            a->opt.lr = d.lr;
        } else if (!eval && (r = cli_opt_value(argc, argv, &i, "--lr-schedule", &v))) {
            if (r < 0) return -1;
            if (!strcmp(v, "cosine")) a->opt.schedule = TR_LR_COSINE;
            else if (!strcmp(v, "step")) a->opt.schedule = TR_LR_STEP;
            else if (!strcmp(v, "const")) a->opt.schedule = TR_LR_CONST;
            else {
                fprintf(stderr, "pexc: --lr-schedule takes cosine, step or const, got '%s'\n", v);
                return -1;
            }
        } else if (s[0] == '-' && s[1]) {
            fprintf(stderr, "pexc: %s: unknown option '%s' (see pexc %s --help)\n", eval ? "eval" : "train", s,
                    eval ? "eval" : "train");
            return -1;
        } else if (!a->model) {
            a->model = s;
        } else {
            fprintf(stderr, "pexc: %s takes one MODEL, got '%s' too\n", eval ? "eval" : "train", s);
            return -1;
        }
    }
    if (a->lr >= 0.0f) a->opt.lr = a->lr;
    if (a->wd >= 0.0f) a->opt.weight_decay = a->wd;
    if (!a->model || !a->data) {
        fprintf(stderr, "pexc: %s needs MODEL and --data FILE\n", eval ? "eval" : "train");
        return -1;
    }
    if (!a->format || (strcmp(a->format, "cifar10") && strcmp(a->format, "idx"))) {
        fprintf(stderr, "pexc: --format takes cifar10 or idx, got '%s'\n",
                a->format ? a->format : "nothing");
        return -1;
    }
    return 0;
}

/* The model (baseline schedule: only the int8 reference run needs a plan),
 * the network and the data: 0, or 1 with the error printed. */
static int setup(const train_args *a, pexc_model **m, train_net *n, train_data *d) {
    char err[700];
    util_err e = {{0}};
    *m = NULL;
    if (pexc_model_open(a->model, PEXC_SCHEDULE_BASELINE, m, err, sizeof err)) {
        fprintf(stderr, "pexc: %s\n", err);
        return 1;
    }
    train_gemm_set_threads((int)a->threads);
    if (train_net_build(n, &(*m)->g, (int32_t)a->batch, &e)) {
        fprintf(stderr, "pexc: %s: %s\n", a->model, e.msg);
        train_net_free(n);
        pexc_model_free(*m);
        return 1;
    }
    n->qat = a->qat;
    if (train_data_load(d, a->format, a->data, (int32_t)a->limit, &e) || train_data_check(d, n, a->data, &e)) {
        fprintf(stderr, "pexc: %s\n", e.msg);
        train_data_free(d);
        train_net_free(n);
        pexc_model_free(*m);
        return 1;
    }
    return 0;
}

/* Parses and sets up either command: -1 to go on, else the exit status
 * (help printed, or the error reported). */
static int start(int argc, char **argv, int eval, train_args *a, pexc_model **m, train_net *n, train_data *d) {
    int r = parse(argc, argv, eval, a);
    if (r > 0) printf("%s", eval ? USAGE_EVAL : USAGE_TRAIN);
    if (r) return r > 0 ? 0 : 2;
    return setup(a, m, n, d) ? 1 : -1;
}

/* Writes the gradients of one batch, computed as training computes them
 * (two halves, split.c); 0 or 1 (reported). */
static int write_grads(train_net *n, const train_data *d, const char *path) {
    int32_t nb = d->n < n->batch ? d->n : n->batch, correct;
    train_act *in = &n->acts[n->input];
    for (int32_t b = 0; b < nb; b++) train_data_example(d, n, b, 0, 0, NULL, in->x + (size_t)b * (size_t)in->size);
    train_split split;
    util_err e = {{0}};
    if (train_split_init(&split, n, &e)) {
        fprintf(stderr, "pexc: %s\n", e.msg);
        return 1;
    }
    float loss = train_split_step(&split, n, nb, d->labels, NULL, train_gemm_threads(), &correct);
    train_split_free(&split);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "pexc: %s: cannot write the gradients: %s\n", path, strerror(errno));
        return 1;
    }
    int ok = 1;
    for (int32_t i = 0; i < n->n_layers; i++) {
        const train_layer *l = &n->layers[i];
        if (!l->w) continue;
        ok &= fwrite(l->gw, sizeof(float), (size_t)l->n_w, f) == (size_t)l->n_w;
        ok &= fwrite(l->gb, sizeof(float), (size_t)l->n_b, f) == (size_t)l->n_b;
    }
    if (fclose(f) || !ok) {
        fprintf(stderr, "pexc: %s: write failed\n", path);
        remove(path);
        return 1;
    }
    printf("loss %.6f over %d records\n", (double)loss, nb);
    return 0;
}

static int eval_file(train_net *n, const char *format, const char *path, int32_t limit, const char *what) {
    train_data t;
    util_err e = {{0}};
    if (train_data_load(&t, format, path, limit, &e) || train_data_check(&t, n, path, &e)) {
        fprintf(stderr, "pexc: %s\n", e.msg);
        train_data_free(&t);
        return 1;
    }
    double loss, acc = train_evaluate(n, &t, &loss, NULL);
    printf("%s: float accuracy %.2f %% (loss %.4f) on %d records\n", what, 100.0 * acc, loss, t.n);
    train_data_free(&t);
    return 0;
}

static int train_body(const train_args *a, train_net *n, train_data *d) {
    if (a->grads) return write_grads(n, d, a->grads);
    int rc = 0;
    util_err e = {{0}};
    train_config cfg = {(int32_t)a->epochs, (int32_t)a->batch, a->augment, a->seed, 1, a->opt, NULL, NULL};
    printf("training %s on %d records: %ld epochs, batch %ld, %s, lr %g, weight decay %g%s\n", a->model, d->n,
           a->epochs, a->batch, a->opt.kind == TR_ADAM ? "adam" : "sgd", (double)a->opt.lr,
           (double)a->opt.weight_decay, a->qat ? ", quantisation-aware" : "");
    if (a->test) rc = eval_file(n, a->format, a->test, 0, "before");
    if (!rc && train_run(n, d, &cfg, &e)) {
        fprintf(stderr, "pexc: %s\n", e.msg);
        rc = 1;
    }
    if (!rc && a->test) rc = eval_file(n, a->format, a->test, 0, "after");
    return rc;
}

/* Top-1 accuracy of the int8 model through pexc's executor. */
static int eval_int8(pexc_model *m, const train_data *d, double *acc) {
    size_t in_bytes = pexc_model_input_bytes(m, 0), out_bytes = pexc_model_output_bytes(m, 0);
    pexc_tensor_info oi;
    pexc_model_input_info(m, 0, &oi);
    int in_type = oi.type;
    pexc_model_output_info(m, 0, &oi);
    size_t per = (size_t)d->h * (size_t)d->w * (size_t)d->c;
    if (in_bytes != per || (in_type != IR_I8 && in_type != IR_U8)) {
        fprintf(stderr, "pexc: eval: the int8 run takes an int8 or uint8 input of %dx%dx%d bytes, the data's images\n",
                d->h, d->w, d->c);
        return 1;
    }
    uint8_t *in = malloc(per);
    uint8_t *out = malloc(out_bytes);
    int64_t hits = 0;
    char err[700];
    for (int32_t i = 0; i < d->n && out && in; i++) {
        const uint8_t *px = d->pix + (size_t)i * per;
        for (size_t k = 0; k < per; k++) in[k] = in_type == IR_I8 ? (uint8_t)(px[k] ^ 0x80) : px[k];
        const void *ins[1] = {in};
        void *outs[1] = {out};
        if (pexc_model_run(m, ins, outs, err, sizeof err)) {
            fprintf(stderr, "pexc: record %d: %s\n", i, err);
            free(out);
            free(in);
            return 1;
        }
        int32_t best = 0, nc = (int32_t)(out_bytes / (oi.type == IR_F32 ? 4 : 1));
        for (int32_t c = 1; c < nc; c++) {
            int better;
            if (oi.type == IR_I8) better = (int8_t)out[c] > (int8_t)out[best];
            else if (oi.type == IR_U8) better = out[c] > out[best];
            else {
                float x, y;
                memcpy(&x, out + 4 * c, 4);
                memcpy(&y, out + 4 * best, 4);
                better = x > y;
            }
            if (better) best = c;
        }
        hits += best == d->labels[i];
    }
    free(out);
    free(in);
    *acc = d->n ? (double)hits / d->n : 0.0;
    return 0;
}

static int eval_body(const train_args *a, pexc_model *m, train_net *n, train_data *d) {
    int rc = 0;
    FILE *pf = NULL;
    if (a->probs && !(pf = fopen(a->probs, "wb"))) {
        fprintf(stderr, "pexc: %s: cannot write the probabilities: %s\n", a->probs, strerror(errno));
        return 1;
    }
    double loss, acc = train_evaluate(n, d, &loss, pf);
    if (pf && (fclose(pf) || acc < 0)) {
        fprintf(stderr, "pexc: %s: write failed\n", a->probs);
        remove(a->probs);
        return 1;
    }
    printf("float%s: accuracy %.2f %% (loss %.4f) on %d records\n", a->qat ? " (fake-quantised)" : "", 100.0 * acc,
           loss, d->n);
    if (a->int8) {
        rc = eval_int8(m, d, &acc);
        if (!rc) printf("int8 (pexc run): accuracy %.2f %% on %d records\n", 100.0 * acc, d->n);
    }
    return rc;
}

/* Either command: parse, set up, run its body, free. */
static int command(int argc, char **argv, int eval) {
    train_args a;
    pexc_model *m;
    train_net n;
    train_data d;
    int rc = start(argc, argv, eval, &a, &m, &n, &d);
    if (rc >= 0) return rc;
    rc = eval ? eval_body(&a, m, &n, &d) : train_body(&a, &n, &d);
    train_data_free(&d);
    train_net_free(&n);
    pexc_model_free(m);
    return rc;
}

int cli_train(int argc, char **argv) { return command(argc, argv, 0); }

int cli_eval(int argc, char **argv) { return command(argc, argv, 1); }

const char *cli_train_usage(const char *cmd) {
    return !strcmp(cmd, "train") ? USAGE_TRAIN : !strcmp(cmd, "eval") ? USAGE_EVAL : NULL;
}
