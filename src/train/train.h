/*
 * The training engine (src/train/): float32 forward and backward passes
 * over a model pexc has read, for fine-tuning on the host.
 *
 *   net.c      the IR graph (of an int8 .tflite) as a trainable network:
 *              dequantised weights, activations, the pass in both directions
 *   kernels.c  forward and backward kernels, one pair per operator, over
 *              NHWC float tensors with a batch dimension in front; no
 *              allocation (the MCU fine-tuning step will reuse them)
 *   gemm.c     the blocked matrix product the convolutions are built on
 *   optim.c    SGD with momentum, Adam, weight decay, learning-rate schedule,
 *              fake quantisation of weights
 *   data.c     CIFAR-10 records, augmentation (random crop, flip), batches
 *   driver.c   epochs: shuffle, train, evaluate (the host driver)
 *
 * For the .tflite writer: after training, a train_net holds, for every
 * conv / depthwise / fully-connected operator, one train_layer with
 *   op        the IR operator index it came from (ir_graph.ops[op]),
 *   w_tensor  the IR tensor index of its weights, b_tensor of its bias (-1
 *             when the model has none),
 *   w         float weights, n_w of them, in the IR weight tensor's own
 *             layout and shape (TFLite's: conv [oc][kh][kw][ic], depthwise
 *             [1][kh][kw][ic*dm], fully connected [oc][ic]),
 *   b         float bias [n_b] (n_b = output channels); a model without a
 *             bias starts from zeros and trains one all the same, so the
 *             writer adds a bias tensor for it.
 * and for every activation tensor one train_act with the IR tensor index
 * and the float range [lo, hi] it spans: the int8 model's own range
 * (scale, zero point) as read (lo, hi), and the range seen on data
 * (obs_lo, obs_hi) once the caller calibrates with train_net_observe.
 * Quantising back is: weights per output
 * channel, symmetric, scale = max|w| / 127 (train_fq_weights does exactly
 * this for fake quantisation); bias int32 with scale = input scale x weight
 * scale; activations per tensor, asymmetric over [min(lo, 0), max(hi, 0)].
 */
#ifndef PEXC_TRAIN_H
#define PEXC_TRAIN_H

#include <stdint.h>
#include <stdio.h>

#include "internal.h"

/* C[M x N] = beta * C + op(A) * op(B), row-major; op(X) = X^T when tX. */
void train_gemm(int ta, int tb, int M, int N, int K, const float *A, int lda, const float *B, int ldb, float beta,
                float *C, int ldc);
void train_gemm_set_threads(int n);
int train_gemm_threads(void);

typedef enum {
    TR_CONV, TR_DWCONV, TR_FC, TR_AVGPOOL, TR_MAXPOOL, TR_ADD, TR_MUL, TR_PAD, TR_RELU, TR_RELU6,
    TR_ALIAS, /* reshape, squeeze, quantize, dequantize: the output is the input */
    TR_CONCAT, TR_MEAN, TR_SOFTMAX,
} train_kind;

#define TR_MAX_IN 8 /* concatenation inputs the trainer takes */

/* Fused activations as the schema numbers them. */
enum { TR_ACT_NONE = 0, TR_ACT_RELU = 1, TR_ACT_RELU_N1_TO_1 = 2, TR_ACT_RELU6 = 3 };

/* One activation tensor for a whole batch. */
typedef struct {
    int32_t tensor;     /* IR tensor index */
    int32_t h, w, c;    /* per example, NHWC (rank <= 4, leading 1s) */
    int64_t size;       /* h * w * c */
    int is_const;       /* a constant operand: the same for every example */
    int alias;          /* x and dx are another act's (a reshape's output) */
    int has_q;          /* the int8 model quantises it: range below */
    float scale;
    int32_t zp, qmin, qmax;
    float lo, hi;       /* float range (qmin - zp) * scale .. (qmax - zp) * scale */
    int observed;       /* train_net_observe has seen values: obs_lo, obs_hi */
    float obs_lo, obs_hi;
    float *x, *dx;      /* [batch][h][w][c] (constants: [h][w][c], dx NULL) */
} train_act;

/* One operator of the network. */
typedef struct {
    int32_t op;         /* IR operator index */
    train_kind kind;
    int32_t n_in;
    int32_t in[TR_MAX_IN]; /* train_act indices (activations and constant operands) */
    int32_t out;
    int32_t act;        /* fused activation TR_ACT_* */
    int32_t kh, kw, sh, sw, dh, dw, pt, pl, dm; /* window geometry */
    int32_t pad[3][2];  /* TR_PAD: before/after for h, w, c */
    int32_t cat_axis;   /* TR_CONCAT: axis in NHWC (1..3) */
    float beta;         /* TR_SOFTMAX */
    /* parameters (conv, depthwise, fully connected) */
    int32_t w_tensor, b_tensor;
    int64_t n_w;
    int32_t n_b;
    float *w, *b;       /* trained values (layouts: see above) */
    float *gw, *gb;     /* gradients of the mean loss */
    float *m_w, *m_b, *v_w, *v_b; /* optimiser state */
    float *wq;          /* fake-quantised weights (QAT) or NULL */
    /* the learning rate's factor for this layer's weights and bias (0: 1);
     * pexc prune sets each to the RMS of the values it updates, so one
     * rate means one relative step everywhere (see src/prune/tune.c) */
    float lr_w, lr_b;
} train_layer;

typedef struct train_gate_set train_gate_set; /* gate.h: per-channel gates */

typedef struct {
    const ir_graph *g;
    int32_t n_layers, n_acts;
    train_layer *layers;
    train_act *acts;
    int32_t input, output; /* acts */
    int32_t logits;        /* act whose softmax is the loss's (the output,
                              or the input of a final SOFTMAX) */
    float logit_beta;
    int32_t loss_from;     /* layers from this one on are inside the loss (the
                              final softmax and what only reshapes it) */
    int32_t classes;
    int32_t batch;         /* capacity of the activation buffers */
    int qat;               /* fake-quantise weights and activations */
    float *scratch;        /* im2col rows and their gradient */
    size_t scratch_floats;
    float *probs;          /* [batch][classes] */
    train_gate_set *gates; /* channel gates (gate.h) or NULL */
    int shared_params;     /* wq is computed by another (split.c): the
                              forward pass does not fake-quantise weights */
} train_net;

/* Builds the network for batches of up to `batch` examples from a checked,
 * expanded IR graph (ir_check done). Refuses, in one message naming them
 * all, operators the trainer lacks; and any other graph it cannot train. */
int train_net_build(train_net *n, const ir_graph *g, int32_t batch, util_err *err);
void train_net_free(train_net *n);
/* Forward pass over the first nb examples (acts[input].x filled). */
void train_forward(train_net *n, int32_t nb);
/* Softmax cross-entropy of the logits against labels: the mean loss over
 * nb examples; *correct counts top-1 hits (may be NULL). Fills probs. */
float train_loss(train_net *n, int32_t nb, const uint8_t *labels, int32_t *correct);
/* Backward pass from the loss (train_loss first): gw, gb. */
void train_backward(train_net *n, int32_t nb, const uint8_t *labels);
/* Backward pass from a given gradient of the loss on the logits (nb x
 * classes, already divided by the batch): another loss's (distill.c). */
void train_backward_from(train_net *n, int32_t nb, const float *dz);
/* Widens every activation's observed range (obs_lo, obs_hi) by the values
 * of the last forward pass over nb examples: calibration for the writer. */
void train_net_observe(train_net *n, int32_t nb);

/* kernels.c: one forward/backward pair per operator kind, batch nb. */
void train_kernel_forward(train_net *n, const train_layer *l, int32_t nb);
void train_kernel_backward(train_net *n, const train_layer *l, int32_t nb);
/* im2col rows needed by a conv layer for nb examples (floats). */
size_t train_kernel_scratch(const train_net *n, const train_layer *l, int32_t nb);

/* optim.c */
typedef enum { TR_SGD = 0, TR_ADAM = 1 } train_optim_kind;
typedef enum { TR_LR_COSINE = 0, TR_LR_STEP = 1, TR_LR_CONST = 2 } train_lr_kind;
typedef struct {
    train_optim_kind kind;
    float lr, momentum, beta1, beta2, eps, weight_decay;
    train_lr_kind schedule;
    int64_t step, total_steps;
} train_optim;

void train_optim_defaults(train_optim *o, train_optim_kind kind);
/* The learning rate at o->step of o->total_steps. */
float train_optim_lr(const train_optim *o);
/* One update of every layer from its gradients; advances o->step. */
void train_optim_step(train_optim *o, train_net *n);
/* TFLite's int8 weights per output channel, symmetric, as floats: wq. */
void train_fq_weights(train_net *n);
/* Per-tensor asymmetric int8 fake quantisation of act a in place (nb
 * examples): x = (clamp(round(x / s) + zp) - zp) * s. */
void train_fq_act(train_act *a, int32_t nb);

/* data.c: a labelled image set held in memory. */
typedef struct {
    int32_t n, h, w, c; /* examples and their HWC shape */
    uint8_t *pix;       /* [n][h][w][c] */
    uint8_t *labels;    /* [n] */
} train_data;

/* Reads a CIFAR-10 binary file (records of label + planar R, G, B 32x32),
 * at most `limit` records (0: all). */
int train_data_load_cifar10(train_data *d, const char *path, int32_t limit, util_err *err);
/* idx.c: a data set in `format` ("cifar10", or "idx": path is
 * "IMAGES,LABELS", two IDX files of unsigned bytes), at most `limit`
 * examples (0: all). */
int train_data_load(train_data *d, const char *format, const char *path, int32_t limit, util_err *err);
void train_data_free(train_data *d);
/* Checks the set against the network: input shape, label range. */
int train_data_check(const train_data *d, const train_net *n, const char *path, util_err *err);
/* Example idx as the network's float input into x, optionally augmented
 * (random crop from the image padded by `pad` pixels, random horizontal
 * flip) with the generator state *rng. */
void train_data_example(const train_data *d, const train_net *n, int32_t idx, int augment, int pad, uint64_t *rng,
                        float *x);
uint64_t train_rng_next(uint64_t *s);

/* quant.c: writes n's trained weights into g (a reader_load of the model
 * n was built from, same tensor indices) as int8 per-channel symmetric
 * weights and int32 biases at input scale x weight scale; activation
 * ranges stay the model's (the ones QAT trained with). */
int train_quant_write(const train_net *n, ir_graph *g, util_err *err);

/* driver.c */
typedef struct {
    int32_t epochs, batch;
    int augment;
    uint64_t seed;
    int verbose;
    train_optim opt;
    /* when set (and verbose): the network's accuracy on it (no
     * augmentation, fake-quantised when n->qat) before the first epoch and
     * after each, so a run shows where accuracy goes */
    const train_data *eval;
    /* when set: the loss mixes in a teacher's softened outputs
     * (distill.h), the teacher run on each augmented batch */
    struct train_distill *distill;
} train_config;

/* Trains for cfg->epochs over d, printing one line per epoch (epoch, loss,
 * train accuracy, seconds) to stdout when verbose. */
int train_run(train_net *n, const train_data *d, train_config *cfg, util_err *err);
/* Top-1 accuracy of the float network over d (no augmentation); mean loss
 * into *loss when not NULL; the class probabilities (float32, a row per
 * example) to probs when not NULL (-1 when writing them fails). */
double train_evaluate(train_net *n, const train_data *d, double *loss, FILE *probs);

#endif
