/* Structural pruning (src/prune): channel groups of an int8 graph, their
 * removal, and the driver of `pexc prune`. */
#ifndef PEXC_PRUNE_H
#define PEXC_PRUNE_H

#include <stdio.h>

#include "internal.h"
#include "pexc.h"
#include "train/train.h"

/* ------------------------------------------------------------------------
 * groups.c: channel groups.
 *
 * A group is a set of tensors whose last (channel) dimension must keep the
 * same channels: the output of a conv, depthwise or fully-connected
 * operator (a producer) and every tensor tied to it channel by channel
 * (through depthwise, pooling, element-wise, pad, activations, ADD and MUL
 * of equal shapes). Removing channel c of a group removes it from every
 * tensor of the group, from every producer's weights, bias and per-channel
 * quantisation, and from the input channels of every consumer (conv, FC)
 * that reads one of its tensors.
 * ---------------------------------------------------------------------- */

typedef enum { PRUNE_PRODUCER, PRUNE_CHANNELWISE, PRUNE_CONSUMER } prune_role;

typedef struct {
    int32_t op;          /* operator index */
    prune_role role;
} prune_use;

typedef struct {
    int32_t channels;    /* current channel count */
    int32_t n_tensors;   /* activations of the group */
    int32_t *tensors;
    int32_t n_uses;
    prune_use *uses;     /* producers, channel-wise ops, consumers */
    int32_t n_producers;
} prune_group;

typedef struct {
    int32_t n;
    prune_group *g;
    int32_t *group_of;   /* tensor -> group, -1: none (fixed channels) */
} prune_groups;

/* Finds the groups of g (straight from reader_load): each group holds the
 * tensors a producer's output channels flow into. A group that reaches a
 * graph output, or an operator the pruner does not know, is fixed (left
 * out). Allocates in g's arena. */
int prune_find_groups(ir_graph *g, prune_groups *out, util_err *err);

/* ------------------------------------------------------------------------
 * edit.c: removing channels.
 * ---------------------------------------------------------------------- */

/* Removes the channels keep[c] == 0 of group gr from every tensor and
 * weight it touches (new arrays in g's arena; shapes, quantisation). At
 * least one channel must stay. */
int prune_remove(ir_graph *g, prune_group *gr, const uint8_t *keep, util_err *err);

/* The general rebuild behind removal and growth: group gr becomes `to`
 * channels, channel j taken from old channel map[j] (>= 0), or made new
 * from old channel s when map[j] = -1 - s: a negated copy at producers, a
 * copy in a depthwise, zeros in consumers (grow.c). */
enum { PRUNE_FRESH_COPY, PRUNE_FRESH_NEGATE, PRUNE_FRESH_ZERO };
int prune_remap(ir_graph *g, prune_group *gr, const int32_t *map, int32_t to, util_err *err);

/* fold.c: each activation tensor's per-channel mean over training
 * images (the int8 model's values, fake-quantised), so a removed channel's
 * average contribution can be folded into its consumers' biases. */
typedef struct {
    int32_t n_tensors;
    int64_t *off;        /* tensor -> first of its channels in v, -1: none */
    float *v;
} prune_means;
int prune_means_measure(const uint8_t *bytes, size_t len, const train_data *d, int32_t count, prune_means *pm,
                        util_err *err);
void prune_means_free(prune_means *m);
/* Before prune_remove(g, gr, keep): adds the mean of every channel keep
 * drops times its weights to each consuming conv's or fully-connected
 * layer's int32 bias (nothing when pm is NULL). */
int prune_fold(ir_graph *g, const prune_group *gr, const uint8_t *keep, const prune_means *pm, util_err *err);

/* L1 norm of each channel of group gr over every producer's weights (the
 * magnitude criterion), into l1[gr->channels]; each producer's weights
 * are dequantised with its per-channel scale so layers compare. */
void prune_channel_l1(const ir_graph *g, const prune_group *gr, double *l1);

/* ------------------------------------------------------------------------
 * prune.c: the driver.
 * ---------------------------------------------------------------------- */

typedef struct {
    const char *model, *out;
    const char *method;  /* "magnitude" or "none" (rewrite unchanged) */
    size_t sram;         /* budget, bytes (0: none) */
    const char *data;    /* fine-tuning data (CIFAR-10 records); NULL: prune only */
    const char *test, *format; /* optional accuracy report */
    int32_t epochs;      /* quantisation-aware epochs after each pruning stage */
    int32_t steps;       /* stages the budget is approached in (gradual pruning) */
    int32_t limit;       /* training records used (0: all) */
    int32_t threads;     /* matrix-product threads */
    float lr;            /* Adam's peak rate (cosine schedule per stage) */
    uint64_t seed;
    int groups;          /* print the channel groups and what a step on each gives; write nothing */
    int no_fold;         /* magnitude: drop cut channels without folding their
                            means into the consumers' biases (fold.c) */
    int tune_always;     /* fine-tune even when nothing was removed (a check of
                            the training and requantisation path) */
    const train_data *eval; /* set by prune_run from --test: float accuracy
                               before and after each fine-tuning epoch */
    int distill;         /* fine-tune against the teacher's softened outputs too */
    const char *teacher; /* the teacher model (NULL: the model being pruned) */
    float temperature, alpha; /* distillation's T and soft-term weight */
    const uint8_t *teacher_bytes; /* set by prune_run: the teacher's file */
    size_t teacher_len;
    int32_t n_widths;    /* --widths: cut each group to widths[i] channels */
    int32_t widths[64];
    int stream_input;    /* --stream-input: every peak (budget, search, floor,
                            reports) is the min-sram plan's with the model
                            input streamed, as `pexc compile --stream-input` */
} prune_options;

/* Opens model bytes with the min-sram plan, or with stream_input the
 * min-sram plan with the model input streamed (api_plan_streamed): the
 * peak prune and the gates measure. */
int prune_open(const uint8_t *bytes, size_t len, int stream_input, pexc_model **m, util_err *err);
/* what follows "peak N bytes" in messages: " with streamed input" or "" */
static inline const char *prune_streamed(int stream_input) { return stream_input ? " with streamed input" : ""; }

/* tune.c: fine-tuning between pruning stages. */

/* Builds the training network of the model bytes and checks d (read from
 * path) against it: operators the trainer lacks, image shape, labels. */
int prune_tune_check(const uint8_t *bytes, size_t len, const char *model, const train_data *d, const char *path,
                     util_err *err);
/* o->epochs quantisation-aware epochs on d, then back to int8: *cur
 * replaced by the fine-tuned model's bytes. Epoch lines go to stdout. */
int prune_tune(const prune_options *o, const train_data *d, uint8_t **cur, size_t *len, util_err *err);

/* The mean loss of the (fake-quantised) model over the first count
 * records of d: the importance the data-steered search weighs cuts by. */
int prune_tune_loss(const uint8_t *bytes, size_t len, const train_data *d, int32_t count, double *loss,
                    util_err *err);

/* grow.c: group gr widened to `to` channels that every consumer reads
 * with weight 0: the model computes the same bytes. */
int prune_grow(ir_graph *g, prune_group *gr, int32_t to, util_err *err);

/* widths.c: the model at src with group i cut to its widths[i] strongest
 * channels, or widened to widths[i] (grow.c) when it has fewer (n: the
 * model's group count), written to *out. */
int prune_to_widths(const uint8_t *src, size_t len, const int32_t *widths, int32_t n, uint8_t **out, size_t *out_len,
                    util_err *err);

/* The whole command: prints the table to f; 0, or -1 with err (no output
 * file left). */
int prune_run(const prune_options *o, FILE *f, util_err *err);

/* ------------------------------------------------------------------------
 * gates.c: differentiable pruning (channel gates, resource-aware penalty).
 * ---------------------------------------------------------------------- */

#include "train/train.h"

typedef struct {
    size_t sram;          /* budget, bytes: the min-sram peak must fit it */
    int32_t batch;        /* examples per training step (32) */
    int32_t steps;        /* training steps per round (100) */
    int32_t max_rounds;   /* rounds of raising lambda before closing channels
                             greedily by gate (12) */
    int32_t check_every;  /* steps between closing gates and compiling (10) */
    float lambda;         /* the penalty's first weight (32), and its */
    float lambda_growth;  /* factor from one round to the next (1.5) */
    float gate_lr;        /* SGD rate of the gates (0.05) */
    float threshold;      /* a gate below this fraction of its group's
                             largest closes its channel (0.1) */
    int augment;          /* random crop and flip of the examples */
    uint64_t seed;
    int stream_input;     /* the peak with the model input streamed */
    train_optim opt;      /* the weights' optimiser (Adam at the engine's fine-tuning
                             rate, 1e-5, constant) */
} prune_gates_options;

void prune_gates_defaults(prune_gates_options *o);

/* Trains per-channel gates (one vector per channel group, at its
 * producers) with the weights on d, the penalty on each group's gates
 * weighted by the min-sram peak bytes one of its channels costs, raising
 * the penalty round by round until the channels whose gates closed leave
 * a model whose min-sram peak fits o->sram. Leaves g (as reader_load gave
 * it) pruned to fit, with the gates folded into the trained weights and
 * biases, quantised back per channel; activation ranges unchanged (the
 * pipeline fine-tunes and calibrates next). One line per round to
 * progress when not NULL. 0, or -1 with err (g then half edited: discard
 * it). */
int prune_gates_select(ir_graph *g, const train_data *d, const prune_gates_options *o, FILE *progress,
                       util_err *err);

#endif
