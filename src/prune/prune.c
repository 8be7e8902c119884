/*
 * pexc prune: remove channels where the min-sram peak sits until it fits,
 * fine-tune, and write the int8 model.
 *
 * After the scheduler has done what it can, the peak sits in a few
 * tensors; only their channels pay for SRAM. So the pruner asks the
 * scheduler itself: for every channel group it removes a step of the
 * group's weakest channels (by the L1 norm of their weights) from a copy of
 * the model, writes it (src/writer), compiles it in memory with the
 * min-sram schedule and reads the peak. Without data, the group whose step
 * lowers the peak most is pruned for real (ties: the least weight
 * removed). With training data, each trial is also run over a few hundred
 * training images and the step kept is the one that costs the least loss
 * per byte of peak saved: the L1 norm says which channels of a group to
 * drop, the data says which group can afford it. The search repeats on the
 * smaller model until the peak fits the budget. When no group's step
 * lowers the peak any more (it sits in the input, the output, or channels
 * already at one), the budget needs whole layers removed and the command
 * refuses it; the model with every group cut to one channel gives that
 * answer before any work.
 *
 * With data, the budget is reached in --steps stages (gradual pruning:
 * the peak aimed at moves an equal share of the way each stage), and after
 * each stage the model is fine-tuned with quantisation-aware training and
 * quantised back to int8 (tune.c), so each cut is repaired before the next
 * is chosen.
 *
 * Each candidate round trips through the writer and pexc's own verifying
 * reader and the whole compile pipeline, so the model finally written is
 * one pexc has already compiled.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/model.h"
#include "pexc.h"
#include "prune/prune.h"
#include "train/train.h"
#include "writer/writer.h"

typedef struct {
    size_t peak;
    long long macs;
    size_t weights;
    double accuracy; /* -1: not measured */
} prune_figures;

static int read_all(const char *path, uint8_t **buf, size_t *len, util_err *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return util_fail(err, "cannot open %s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    uint8_t *b = malloc(cap);
    while (b) {
        n += fread(b + n, 1, cap - n, f);
        if (n < cap) break;
        uint8_t *nb = cap < ((size_t)1 << 31) ? realloc(b, cap * 2) : NULL;
        if (!nb) {
            free(b);
            b = NULL;
            break;
        }
        b = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!b) return util_fail(err, "%s: out of memory reading it", path);
    if (bad) {
        free(b);
        return util_fail(err, "cannot read %s", path);
    }
    *buf = b;
    *len = n;
    return 0;
}

/* Whether open_model keeps rings whole: cutting them into bands of slots
 * lowers a few peaks a little but made each of prune's hundreds of trial
 * compiles several times slower, so the trials compare whole-ring peaks
 * (at least what `pexc compile` then plans); the figures prune reports
 * (figures_of, --groups) are the compiled ones, rings cut. */
static int trial_rings_whole = 1;
/* --stream-input: every peak prune measures is the plan's with the model
 * input streamed (set by prune_run for the whole command) */
static int trial_stream_input = 0;

int prune_open(const uint8_t *bytes, size_t len, int stream_input, pexc_model **m, util_err *err) {
    char msg[sizeof err->msg];
    /* streamed, the plan is made again below: the first one is the
     * baseline's, which costs no search */
    pexc_schedule first = stream_input ? PEXC_SCHEDULE_BASELINE : PEXC_SCHEDULE_MIN_SRAM;
    if (pexc_model_open_bytes(bytes, len, first, m, msg, sizeof msg))
        return util_fail(err, "%s", msg);
    if (stream_input && api_plan_streamed(*m, PEXC_SCHEDULE_MIN_SRAM, 1, 0, 0, err)) {
        pexc_model_free(*m);
        *m = NULL;
        return -1;
    }
    return 0;
}

/* Opens a model in memory with the min-sram schedule (input streamed
 * under --stream-input). */
static int open_model(const uint8_t *bytes, size_t len, pexc_model **m, util_err *err) {
    sched_rings_whole = trial_rings_whole;
    int rc = prune_open(bytes, len, trial_stream_input, m, err);
    sched_rings_whole = 0;
    return rc;
}

/* whole: the trials' figures (rings whole), else the compiled ones */
static int figures_of(const uint8_t *bytes, size_t len, prune_figures *fig, int whole, util_err *err) {
    pexc_model *m;
    trial_rings_whole = whole;
    int rc = open_model(bytes, len, &m, err);
    trial_rings_whole = 1;
    if (rc) return -1;
    fig->peak = pexc_model_arena_bytes(m);
    char *js = pexc_model_json(m, "model");
    const char *at = js ? strstr(js, "\"macs\":") : NULL;
    fig->macs = at ? atoll(at + 7) : -1;
    pexc_free(js);
    pexc_model_free(m);
    ir_graph g;
    if (reader_load(&g, bytes, len, err)) {
        util_arena_free(&g.arena);
        return -1;
    }
    fig->weights = 0;
    for (int32_t t = 0; t < g.n_tensors; t++)
        if (g.tensors[t].data) fig->weights += g.tensors[t].bytes;
    util_arena_free(&g.arena);
    fig->accuracy = -1;
    return 0;
}

/* Top-1 accuracy of the int8 model over a labelled image set (HWC
 * bytes). The input takes q = pixel + zero point, as the MLPerf Tiny
 * image models do. */
static int accuracy_of(const uint8_t *bytes, size_t len, const train_data *t, double *acc, util_err *err) {
    pexc_model *m;
    /* the outputs are the plan's whatever it streams: the plain one runs */
    if (prune_open(bytes, len, 0, &m, err)) return -1;
    pexc_tensor_info in, out;
    char msg[sizeof err->msg];
    size_t per = (size_t)t->h * (size_t)t->w * (size_t)t->c;
    if (pexc_model_input_info(m, 0, &in) || pexc_model_output_info(m, 0, &out) || in.type != 9 || out.type != 9 ||
        in.bytes != per || in.n_quant != 1) {
        pexc_model_free(m);
        return util_fail(err, "--test needs a model with one int8 input of %dx%dx%d (the images) and an int8 output",
                         t->h, t->w, t->c);
    }
    size_t nout = out.bytes, chunk = 256, right = 0, n_rec = (size_t)t->n;
    int8_t *x = malloc(chunk * per), *y = malloc(chunk * nout);
    int rc = 0;
    for (size_t r0 = 0; r0 < n_rec && x && y && !rc; r0 += chunk) {
        size_t n = n_rec - r0 < chunk ? n_rec - r0 : chunk;
        for (size_t i = 0; i < n * per; i++) {
            long q = (long)t->pix[r0 * per + i] + (long)in.zero_points[0];
            x[i] = (int8_t)(q < -128 ? -128 : q > 127 ? 127 : q);
        }
        const void *ins[1] = {x};
        void *outs[1] = {y};
        if (pexc_model_run_batch(m, n, ins, outs, msg, sizeof msg)) {
            rc = util_fail(err, "%s", msg);
            break;
        }
        for (size_t i = 0; i < n; i++) {
            size_t best = 0;
            for (size_t k = 1; k < nout; k++)
                if (y[i * nout + k] > y[i * nout + best]) best = k;
            if (best == t->labels[r0 + i]) right++;
        }
    }
    if (!x || !y) rc = util_fail(err, "out of memory");
    free(x);
    free(y);
    pexc_model_free(m);
    *acc = n_rec ? 100.0 * (double)right / (double)n_rec : 0;
    return rc;
}

/* Each channel's L1 norm for group gr and a keep mask, in g's arena. */
static int group_l1(ir_graph *g, const prune_group *gr, double **l1, uint8_t **keep, util_err *err) {
    *l1 = util_alloc(&g->arena, sizeof(double) * (size_t)gr->channels);
    *keep = util_alloc(&g->arena, (size_t)gr->channels);
    if (!*l1 || !*keep) return util_fail(err, "prune: out of memory");
    prune_channel_l1(g, gr, *l1);
    return 0;
}

/* A copy of the model at cur with the k weakest channels of group gi
 * removed; *removed: their summed L1 norm, *channels the group's count. */
static int prune_step(const uint8_t *cur, size_t len, int32_t gi, int32_t k, const prune_means *pm, uint8_t **out,
                      size_t *out_len, double *removed, int32_t *channels, util_err *err) {
    ir_graph g;
    prune_groups gs;
    int rc = -1;
    if (reader_load(&g, cur, len, err) || prune_find_groups(&g, &gs, err)) goto done;
    if (gi >= gs.n) {
        util_fail(err, "prune: group %d vanished", gi);
        goto done;
    }
    prune_group *gr = &gs.g[gi];
    *channels = gr->channels;
    double *l1;
    uint8_t *keep;
    if (group_l1(&g, gr, &l1, &keep, err)) goto done;
    memset(keep, 1, (size_t)gr->channels);
    *removed = 0;
    for (int32_t j = 0; j < k; j++) {
        int32_t worst = -1;
        for (int32_t c = 0; c < gr->channels; c++)
            if (keep[c] && (worst < 0 || l1[c] < l1[worst])) worst = c;
        keep[worst] = 0;
        *removed += l1[worst];
    }
    if (prune_fold(&g, gr, keep, pm, err) || prune_remove(&g, gr, keep, err) ||
        writer_tflite(&g, out, out_len, err))
        goto done;
    rc = 0;
done:
    util_arena_free(&g.arena);
    return rc;
}

#define PRUNE_MAX_GROUPS 256
/* training records whose loss weighs each candidate cut when there is
 * data: enough to rank cuts, cheap enough to try every group each step */
#define PRUNE_LOSS_RECORDS 512
#define PRUNE_NAME 33 /* a group's name in progress lines: its first tensor's, cut */

/* The groups of the model at cur: their channel counts, and whether one
 * of their tensors is alive at the step where the min-sram plan's live
 * bytes peak (only those can lower the peak directly). */
static int count_groups(const uint8_t *cur, size_t len, int32_t *n, int32_t *ch, uint8_t *at_peak,
                        char (*name)[PRUNE_NAME], int32_t max, util_err *err) {
    ir_graph g;
    prune_groups gs;
    pexc_model *m = NULL;
    int rc = reader_load(&g, cur, len, err) || prune_find_groups(&g, &gs, err) || open_model(cur, len, &m, err)
                 ? -1
                 : 0;
    if (!rc) {
        *n = gs.n < max ? gs.n : max;
        int32_t step = 0;
        const plan_t *p = m->plan;
        plan_live_profile(p, NULL, &step);
        for (int32_t i = 0; i < *n; i++) {
            ch[i] = gs.g[i].channels;
            at_peak[i] = 0;
            if (name) snprintf(name[i], PRUNE_NAME, "%s", g.tensors[gs.g[i].tensors[0]].name);
        }
        for (int32_t b = 0; b < p->n_buffers; b++) {
            const plan_buffer *pb = &p->buffers[b];
            if (pb->first <= step && step <= pb->last && pb->tensor >= 0 && pb->tensor < g.n_tensors &&
                gs.group_of[pb->tensor] >= 0 && gs.group_of[pb->tensor] < *n)
                at_peak[gs.group_of[pb->tensor]] = 1;
        }
    }
    if (m) pexc_model_free(m);
    util_arena_free(&g.arena);
    return rc;
}


/* The min-sram peak with every group cut to its one strongest channel:
 * about the least that pruning channels can reach, so a budget below it
 * is refused at once instead of after a long search. */
static int prune_floor(const uint8_t *cur, size_t len, size_t *peak, util_err *err) {
    ir_graph g;
    prune_groups gs;
    uint8_t *b = NULL;
    size_t bl;
    pexc_model *m = NULL;
    int rc = -1;
    if (reader_load(&g, cur, len, err) || prune_find_groups(&g, &gs, err)) goto done;
    for (int32_t gi = 0; gi < gs.n; gi++) {
        prune_group *gr = &gs.g[gi];
        double *l1;
        uint8_t *keep;
        if (group_l1(&g, gr, &l1, &keep, err)) goto done;
        int32_t best = 0;
        for (int32_t c = 0; c < gr->channels; c++) {
            keep[c] = 0;
            if (l1[c] > l1[best]) best = c;
        }
        keep[best] = 1;
        if (prune_remove(&g, gr, keep, err)) goto done;
    }
    if (writer_tflite(&g, &b, &bl, err) || open_model(b, bl, &m, err)) goto done;
    *peak = pexc_model_arena_bytes(m);
    rc = 0;
done:
    if (m) pexc_model_free(m);
    free(b);
    util_arena_free(&g.arena);
    return rc;
}

/* Prunes *cur (replaced) until its min-sram peak fits budget. */
static int prune_magnitude(size_t budget, const train_data *d, int fold, uint8_t **cur, size_t *len, size_t peak,
                           FILE *f, util_err *err) {
    double base_loss = 0.0;
    if (peak > budget && d && prune_tune_loss(*cur, *len, d, PRUNE_LOSS_RECORDS, &base_loss, err)) return -1;
    for (int iter = 1; peak > budget; iter++) {
        int32_t n, ch[PRUNE_MAX_GROUPS];
        uint8_t at_peak[PRUNE_MAX_GROUPS];
        char name[PRUNE_MAX_GROUPS][PRUNE_NAME];
        if (count_groups(*cur, *len, &n, ch, at_peak, name, PRUNE_MAX_GROUPS, err)) return -1;
        int any = 0;
        for (int32_t gi = 0; gi < n; gi++) any |= at_peak[gi] && ch[gi] > 1;
        /* with data, a cut channel's mean goes into its consumers' biases
         * (fold.c): measured once per step on the model every trial cuts */
        prune_means pm;
        memset(&pm, 0, sizeof pm);
        if (d && fold && prune_means_measure(*cur, *len, d, PRUNE_LOSS_RECORDS, &pm, err)) return -1;
        int32_t best = -1, best_k = 0;
        size_t best_peak = peak;
        double best_loss = 0;
        uint8_t *best_bytes = NULL;
        size_t best_len = 0;
        for (int32_t gi = 0; gi < n; gi++) {
            /* groups alive at the peak first; the others only when none of
             * those can shrink (the schedule may then move the peak) */
            if (ch[gi] < 2 || (any && !at_peak[gi])) continue;
            /* steps of about 1/8 of the channels: coarse steps overshoot
             * the budget, one channel at a time is slow */
            int32_t k = ch[gi] / 8 > 1 ? ch[gi] / 8 : 1;
            uint8_t *b;
            size_t bl;
            double loss;
            int32_t c;
            if (prune_step(*cur, *len, gi, k, d && fold ? &pm : NULL, &b, &bl, &loss, &c, err)) {
                prune_means_free(&pm);
                return -1;
            }
            prune_figures fig;
            pexc_model *m;
            if (open_model(b, bl, &m, err)) {
                free(b);
                free(best_bytes);
                prune_means_free(&pm);
                char inner[sizeof err->msg];
                memcpy(inner, err->msg, sizeof inner);
                return util_fail(err, "prune: the model with group %d cut to %d channels does not compile: %s", gi,
                                 c - k, inner);
            }
            fig.peak = pexc_model_arena_bytes(m);
            pexc_model_free(m);
            int better;
            if (d) {
                /* with data: the cut that costs least loss per byte of peak
                 * it saves (the loss may even fall: a negative cost) */
                if (fig.peak < peak && prune_tune_loss(b, bl, d, PRUNE_LOSS_RECORDS, &loss, err)) {
                    free(b);
                    free(best_bytes);
                    prune_means_free(&pm);
                    return -1;
                }
                loss = fig.peak < peak ? (loss - base_loss) / (double)(peak - fig.peak) : 0.0;
                better = fig.peak < peak && (best < 0 || loss < best_loss);
            } else {
                better = fig.peak < best_peak || (best >= 0 && fig.peak == best_peak && loss < best_loss);
            }
            if (better) {
                free(best_bytes);
                best = gi;
                best_k = k;
                best_peak = fig.peak;
                best_loss = loss;
                best_bytes = b;
                best_len = bl;
            } else {
                free(b);
            }
        }
        prune_means_free(&pm);
        if (best < 0) {
            pexc_model *m;
            char where[400] = "";
            if (!open_model(*cur, *len, &m, err)) {
                char *js = pexc_model_json(m, "model");
                const char *at = js ? strstr(js, "\"peak\": \"") : NULL;
                if (at) snprintf(where, sizeof where, "%.*s", (int)strcspn(at + 9, "\""), at + 9);
                pexc_free(js);
                pexc_model_free(m);
            }
            return util_fail(err,
                             "prune: --sram %zu needs whole layers removed: no channel group lowers the min-sram "
                             "peak%s below %zu bytes (%s)",
                             budget, prune_streamed(trial_stream_input), peak, where);
        }
        if (d) {
            base_loss += best_loss * (double)(peak - best_peak);
            fprintf(f, "step %d: group %d (%s) %d -> %d channels, peak %zu -> %zu bytes%s, loss %.4f\n", iter, best,
                    name[best], ch[best], ch[best] - best_k, peak, best_peak, prune_streamed(trial_stream_input),
                    base_loss);
        } else {
            fprintf(f, "step %d: group %d (%s) %d -> %d channels, peak %zu -> %zu bytes%s\n", iter, best, name[best],
                    ch[best], ch[best] - best_k, peak, best_peak, prune_streamed(trial_stream_input));
        }
        fflush(f);
        free(*cur);
        *cur = best_bytes;
        *len = best_len;
        peak = best_peak;
    }
    return 0;
}

/* The peak a step on each group would give: one row per group (its
 * channels, tensors, first tensor's name, whether it is alive at the
 * peak step, and the min-sram peak with its weakest eighth removed). */
static int report_groups(const uint8_t *cur, size_t len, size_t peak, FILE *f, util_err *err) {
    int32_t n, ch[PRUNE_MAX_GROUPS];
    uint8_t at_peak[PRUNE_MAX_GROUPS];
    if (count_groups(cur, len, &n, ch, at_peak, NULL, PRUNE_MAX_GROUPS, err)) return -1;
    ir_graph g;
    prune_groups gs;
    if (reader_load(&g, cur, len, err) || prune_find_groups(&g, &gs, err)) {
        util_arena_free(&g.arena);
        return -1;
    }
    fprintf(f, "min-sram peak %zu bytes%s; %d channel groups\n", peak, prune_streamed(trial_stream_input), n);
    fprintf(f, "%5s %8s %7s %7s %12s  %.40s\n", "group", "channels", "tensors", "at peak", "peak -k", "first tensor");
    int rc = 0;
    for (int32_t gi = 0; gi < n && !rc; gi++) {
        int32_t k = ch[gi] / 8 > 1 ? ch[gi] / 8 : 1, c;
        uint8_t *b = NULL;
        size_t bl;
        double loss;
        pexc_model *m = NULL;
        char cut[32] = "-";
        if (ch[gi] > 1) {
            rc = prune_step(cur, len, gi, k, NULL, &b, &bl, &loss, &c, err) || open_model(b, bl, &m, err);
            if (!rc) snprintf(cut, sizeof cut, "%zu (-%d)", pexc_model_arena_bytes(m), k);
        }
        if (!rc)
            fprintf(f, "%5d %8d %7d %7s %12s  %.40s\n", gi, ch[gi], gs.g[gi].n_tensors, at_peak[gi] ? "yes" : "no", cut,
                    g.tensors[gs.g[gi].tensors[0]].name);
        if (m) pexc_model_free(m);
        free(b);
    }
    util_arena_free(&g.arena);
    return rc ? -1 : 0;
}

/* A report gives the compiled peaks (rings cut), then the trials' setting
 * is back for whatever runs next. */
static int prune_report(const uint8_t *cur, size_t len, size_t peak, FILE *f, util_err *err) {
    trial_rings_whole = 0;
    int rc = report_groups(cur, len, peak, f, err);
    trial_rings_whole = 1;
    return rc;
}

static void print_row(FILE *f, const char *what, double a, double b, int pct) {
    if (pct) fprintf(f, "%-22s %12.2f %12.2f %9.3f\n", what, a, b, a > 0 ? b / a : 0);
    else fprintf(f, "%-22s %12.0f %12.0f %9.3f\n", what, a, b, a > 0 ? b / a : 0);
}

/* The differentiable method (gates.c) to budget on the model at *cur
 * (replaced): gates trained with the weights under the peak penalty,
 * folded, quantised, closed channels removed. */
static int prune_by_gates(const prune_options *o, size_t budget, const train_data *d, uint8_t **cur, size_t *len,
                          FILE *f, util_err *err) {
    ir_graph g;
    prune_gates_options go;
    prune_gates_defaults(&go);
    go.sram = budget;
    go.seed = o->seed;
    go.stream_input = o->stream_input;
    uint8_t *out = NULL;
    size_t out_len = 0;
    train_gemm_set_threads(o->threads > 0 ? o->threads : 2);
    int rc = reader_load(&g, *cur, *len, err) || prune_gates_select(&g, d, &go, f, err) ||
                     writer_tflite(&g, &out, &out_len, err)
                 ? -1
                 : 0;
    util_arena_free(&g.arena);
    if (rc) return -1;
    free(*cur);
    *cur = out;
    *len = out_len;
    return 0;
}

/* Prunes to the budget in o->steps stages, each followed by fine-tuning
 * when there is data: stage s of S aims at the peak that lies s/S of the
 * way from the model's to the budget, so each cut is small enough for the
 * training that follows to repair. */
static int prune_stages(const prune_options *o, const train_data *d, uint8_t **cur, size_t *len, size_t peak0,
                        FILE *f, util_err *err) {
    int32_t steps = o->steps > 0 ? o->steps : 1;
    size_t peak = peak0, floor = 0;
    /* before any training: a budget pruning cannot reach is refused now */
    if (peak0 > o->sram && prune_floor(*cur, *len, &floor, err)) return -1;
    if (peak0 > o->sram && floor > o->sram)
        return util_fail(err,
                         "prune: --sram %zu needs whole layers removed: with every channel group cut to one channel "
                         "the min-sram peak%s is still %zu bytes",
                         o->sram, prune_streamed(trial_stream_input), floor);
    for (int32_t s = 1; s <= steps; s++) {
        size_t target = peak0 > o->sram ? peak0 - (size_t)((double)(peak0 - o->sram) * s / steps) : o->sram;
        if (s == steps) target = o->sram;
        size_t was = peak;
        if (d && !strcmp(o->method, "gates") ? prune_by_gates(o, target, d, cur, len, f, err)
                                             : prune_magnitude(target, d, !o->no_fold, cur, len, peak, f, err))
            return -1;
        prune_figures fig;
        if (figures_of(*cur, *len, &fig, 1, err)) return -1;
        peak = fig.peak;
        /* a stage that removed nothing has nothing to repair; with no
         * epochs the trainer still runs, as a round trip through int8 */
        int tune = d && (peak < was || o->epochs == 0 || o->tune_always);
        fprintf(f, "stage %d/%d: peak %zu bytes%s (aim %zu), %lld MACs, %zu weight bytes%s\n", s, steps, peak,
                prune_streamed(trial_stream_input), target, fig.macs, fig.weights, tune ? "; fine-tuning" : "");
        fflush(f);
        if (tune && prune_tune(o, d, cur, len, err)) return -1;
    }
    return 0;
}

int prune_run(const prune_options *o, FILE *f, util_err *err) {
    uint8_t *src = NULL, *cur = NULL, *teacher = NULL;
    size_t src_len = 0, cur_len = 0, teacher_len = 0;
    train_data data, test;
    memset(&data, 0, sizeof data);
    memset(&test, 0, sizeof test);
    prune_options oo = *o;
    int rc = -1;
    if ((o->test || o->data) && (!o->format || (strcmp(o->format, "cifar10") && strcmp(o->format, "idx")))) {
        return util_fail(err, "prune: --test and --data take --format cifar10 or idx (got %s)",
                         o->format ? o->format : "none");
    }
    if (read_all(o->model, &src, &src_len, err)) return -1;
    if (o->out && !o->groups && writer_probe(o->out, err)) goto done;
    if (o->test && !o->groups) {
        if (train_data_load(&test, o->format, o->test, 0, err)) goto done;
        /* the labels against the model's classes: the network knows them */
        if (prune_tune_check(src, src_len, o->model, &test, o->test, err)) goto done;
    }
    if (o->data && !o->groups &&
        (train_data_load(&data, o->format, o->data, o->limit, err) ||
         prune_tune_check(src, src_len, o->model, &data, o->data, err)))
        goto done;
    if (o->data && !o->groups && o->distill) {
        /* the teacher sees the same images: checked like the model */
        const char *tp = o->teacher ? o->teacher : o->model;
        if (o->teacher && read_all(o->teacher, &teacher, &teacher_len, err)) goto done;
        oo.teacher_bytes = o->teacher ? teacher : src;
        oo.teacher_len = o->teacher ? teacher_len : src_len;
        if (prune_tune_check(oo.teacher_bytes, oo.teacher_len, tp, &data, o->data, err)) {
            char inner[sizeof err->msg];
            memcpy(inner, err->msg, sizeof inner);
            util_fail(err, "prune: teacher %s: %s", tp, inner);
            goto done;
        }
    }
    /* the test set also shows the float accuracy around each fine-tuning
     * epoch, so a run tells which stage loses accuracy */
    if (o->data && o->test && !o->groups) oo.eval = &test;
    /* the untouched model through the writer: what every step builds on */
    {
        ir_graph g;
        int bad = reader_load(&g, src, src_len, err) || writer_tflite(&g, &cur, &cur_len, err);
        util_arena_free(&g.arena);
        if (bad) goto done;
    }
    if (!strcmp(o->method, "none")) {
        /* a plain rewrite: read back by the verifying reader, not compiled
         * (models pexc reads but cannot schedule are written too) */
        ir_graph g;
        int bad = reader_load(&g, cur, cur_len, err);
        util_arena_free(&g.arena);
        if (bad || writer_save(o->out, cur, cur_len, err)) goto done;
        fprintf(f, "wrote %s (%zu bytes)\n", o->out, cur_len);
        rc = 0;
        goto done;
    }
    prune_figures before, after;
    trial_stream_input = o->stream_input;
    if (figures_of(src, src_len, &before, 0, err)) goto done;
    if (o->groups) {
        rc = prune_report(cur, cur_len, before.peak, f, err);
        goto done;
    }
    if (o->n_widths) {
        /* the counts given: one cut, then fine-tuning as a stage would */
        uint8_t *w = NULL;
        size_t wl = 0;
        prune_figures fig;
        if (prune_to_widths(cur, cur_len, o->widths, o->n_widths, &w, &wl, err)) goto done;
        free(cur);
        cur = w;
        cur_len = wl;
        if (figures_of(cur, cur_len, &fig, 0, err)) goto done;
        fprintf(f, "widths: peak %zu bytes, %lld MACs, %zu weight bytes%s%s\n", fig.peak, fig.macs, fig.weights,
                trial_stream_input ? " (peak with streamed input)" : "", o->data ? "; fine-tuning" : "");
        fflush(f);
        if (o->data && prune_tune(&oo, &data, &cur, &cur_len, err)) goto done;
    } else {
        prune_figures trial0; /* the peak the trials start from */
        if (figures_of(src, src_len, &trial0, 1, err) ||
            prune_stages(&oo, o->data ? &data : NULL, &cur, &cur_len, trial0.peak, f, err))
            goto done;
    }
    if (figures_of(cur, cur_len, &after, 0, err)) goto done;
    if ((o->sram || !o->n_widths) && after.peak > o->sram) {
        util_fail(err, "prune: the fine-tuned model's min-sram peak%s is %zu bytes, over --sram %zu",
                  prune_streamed(trial_stream_input), after.peak, o->sram);
        goto done;
    }
    if (o->test && (accuracy_of(src, src_len, &test, &before.accuracy, err) ||
                    accuracy_of(cur, cur_len, &test, &after.accuracy, err)))
        goto done;
    if (writer_save(o->out, cur, cur_len, err)) goto done;
    fprintf(f, "%-22s %12s %12s %9s\n", "", "before", "after", "ratio");
    print_row(f, trial_stream_input ? "peak (streamed input)" : "peak SRAM (min-sram)", (double)before.peak,
              (double)after.peak, 0);
    print_row(f, "MACs", (double)before.macs, (double)after.macs, 0);
    print_row(f, "weight bytes", (double)before.weights, (double)after.weights, 0);
    if (o->test) print_row(f, "test accuracy %", before.accuracy, after.accuracy, 1);
    fprintf(f, "wrote %s (%zu bytes)\n", o->out, cur_len);
    rc = 0;
done:
    trial_stream_input = 0;
    free(src);
    free(cur);
    free(teacher);
    train_data_free(&data);
    train_data_free(&test);
    return rc;
}
