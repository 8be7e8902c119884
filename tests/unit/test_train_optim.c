/*
 * The training engine's updates and fake quantisation (src/train/optim.c)
 * against what they promise: weights on TFLite's per-channel symmetric
 * int8 grid (each channel's largest weight at exactly +-127 steps, every
 * value within half a step), activations on their tensor's asymmetric
 * grid and clamped to its range, the learning-rate schedules' values, and
 * the first SGD and Adam steps worked out by hand.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/train.h"

static int fails;

#define CHECK(cond, ...)                                                                                              \
    do {                                                                                                              \
        if (!(cond) && fails++ < 10) {                                                                                \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                                                               \
            printf(__VA_ARGS__);                                                                                      \
            printf("\n");                                                                                             \
        }                                                                                                             \
    } while (0)

static uint64_t rng = 99;
static float frand(void) { return (float)((double)(train_rng_next(&rng) >> 11) / 9007199254740992.0 * 2.0 - 1.0); }

/* One layer of kind k with oc output channels and per weights each. */
static void check_fq_weights(train_kind k, int32_t oc, int64_t per) {
    train_layer l;
    memset(&l, 0, sizeof l);
    l.kind = k;
    l.n_b = oc;
    l.n_w = oc * per;
    l.w = malloc(sizeof(float) * (size_t)l.n_w);
    l.wq = malloc(sizeof(float) * (size_t)l.n_w);
    for (int64_t i = 0; i < l.n_w; i++) l.w[i] = frand() * (float)(1 + i % 3);
    train_net n;
    memset(&n, 0, sizeof n);
    n.layers = &l;
    n.n_layers = 1;
    train_fq_weights(&n);
    for (int32_t c = 0; c < oc; c++) {
        float mx = 0.0f;
        for (int64_t j = 0; j < per; j++) {
            int64_t i = k == TR_DWCONV ? j * oc + c : c * per + j;
            mx = fabsf(l.w[i]) > mx ? fabsf(l.w[i]) : mx;
        }
        float s = mx / 127.0f;
        int top = 0;
        for (int64_t j = 0; j < per; j++) {
            int64_t i = k == TR_DWCONV ? j * oc + c : c * per + j;
            float steps = l.wq[i] / s;
            CHECK(fabsf(steps - roundf(steps)) < 1e-3f && fabsf(steps) <= 127.001f,
                  "kind %d channel %d: %g is %g steps of %g", k, c, (double)l.wq[i], (double)steps, (double)s);
            CHECK(fabsf(l.wq[i] - l.w[i]) <= 0.5001f * s, "kind %d channel %d: %g rounded to %g (step %g)", k, c,
                  (double)l.w[i], (double)l.wq[i], (double)s);
            top |= fabsf(fabsf(steps) - 127.0f) < 1e-3f;
        }
        CHECK(top, "kind %d channel %d: no weight at 127 steps", k, c);
    }
    free(l.w);
    free(l.wq);
}

static void check_fq_act(void) {
    train_act a;
    memset(&a, 0, sizeof a);
    a.has_q = 1;
    a.scale = 0.05f;
    a.zp = -20;
    a.qmin = -128;
    a.qmax = 127;
    a.lo = (float)(a.qmin - a.zp) * a.scale;
    a.hi = (float)(a.qmax - a.zp) * a.scale;
    a.size = 1000;
    float *x = malloc(sizeof(float) * 1000), *orig = malloc(sizeof(float) * 1000);
    for (int i = 0; i < 1000; i++) orig[i] = x[i] = frand() * 12.0f;
    a.x = x;
    train_fq_act(&a, 1);
    for (int i = 0; i < 1000; i++) {
        float q = x[i] / a.scale + (float)a.zp;
        CHECK(fabsf(q - roundf(q)) < 1e-3f && q >= -128.001f && q <= 127.001f, "activation %g -> %g off the grid",
              (double)orig[i], (double)x[i]);
        float want = orig[i] < a.lo ? a.lo : orig[i] > a.hi ? a.hi : orig[i];
        CHECK(fabsf(x[i] - want) <= 0.5001f * a.scale, "activation %g -> %g, want about %g", (double)orig[i],
              (double)x[i], (double)want);
    }
    free(x);
    free(orig);
}

static void check_schedules(void) {
    train_optim o;
    train_optim_defaults(&o, TR_SGD);
    o.lr = 0.1f;
    o.total_steps = 100;
    o.schedule = TR_LR_COSINE;
    float want[][2] = {{0, 0.1f}, {50, 0.05f}, {100, 0.0f}};
    for (int i = 0; i < 3; i++) {
        o.step = (int64_t)want[i][0];
        CHECK(fabsf(train_optim_lr(&o) - want[i][1]) < 1e-6f, "cosine at %g: %g", (double)want[i][0],
              (double)train_optim_lr(&o));
    }
    o.schedule = TR_LR_STEP;
    float steps[][2] = {{0, 0.1f}, {49, 0.1f}, {50, 0.01f}, {74, 0.01f}, {75, 0.001f}, {100, 0.001f}};
    for (int i = 0; i < 6; i++) {
        o.step = (int64_t)steps[i][0];
        CHECK(fabsf(train_optim_lr(&o) - steps[i][1]) < 1e-7f, "step at %g: %g", (double)steps[i][0],
              (double)train_optim_lr(&o));
    }
}

/* First step of each optimiser on one layer of 3 weights and 1 bias. */
static void check_first_step(train_optim_kind kind) {
    float w[3] = {0.5f, -1.0f, 2.0f}, g[3] = {0.1f, -0.4f, 0.0f}, b[1] = {0.3f}, gb[1] = {-0.2f};
    float m_w[3] = {0}, v_w[3] = {0}, m_b[1] = {0}, v_b[1] = {0};
    float w0[3], b0 = b[0];
    memcpy(w0, w, sizeof w);
    train_layer l;
    memset(&l, 0, sizeof l);
    l.kind = TR_FC;
    l.n_w = 3;
    l.n_b = 1;
    l.w = w;
    l.gw = g;
    l.b = b;
    l.gb = gb;
    l.m_w = m_w;
    l.v_w = v_w;
    l.m_b = m_b;
    l.v_b = v_b;
    train_net n;
    memset(&n, 0, sizeof n);
    n.layers = &l;
    n.n_layers = 1;
    train_optim o;
    train_optim_defaults(&o, kind);
    o.lr = 0.01f;
    o.weight_decay = 0.1f;
    o.schedule = TR_LR_CONST;
    train_optim_step(&o, &n);
    for (int i = 0; i < 3; i++) {
        /* SGD: w - lr (g + wd w); Adam's first step is lr along the sign of
         * g (g / |g|; none where g is 0) plus the decoupled decay */
        float sgn = g[i] > 0 ? 1.0f : g[i] < 0 ? -1.0f : 0.0f;
        float want = kind == TR_SGD ? w0[i] - o.lr * (g[i] + o.weight_decay * w0[i])
                                    : w0[i] - o.lr * (sgn + o.weight_decay * w0[i]);
        CHECK(fabsf(w[i] - want) < 1e-5f, "%s weight %d: %g, want %g", kind == TR_SGD ? "sgd" : "adam", i,
              (double)w[i], (double)want);
    }
    float want_b = kind == TR_SGD ? b0 - o.lr * gb[0] : b0 + o.lr; /* biases are not decayed */
    CHECK(fabsf(b[0] - want_b) < 1e-5f, "%s bias: %g, want %g", kind == TR_SGD ? "sgd" : "adam", (double)b[0],
          (double)want_b);
    CHECK(o.step == 1, "step count %lld", (long long)o.step);
}

int main(void) {
    check_fq_weights(TR_CONV, 7, 27);
    check_fq_weights(TR_DWCONV, 5, 9);
    check_fq_weights(TR_FC, 3, 64);
    check_fq_act();
    check_schedules();
    check_first_step(TR_SGD);
    check_first_step(TR_ADAM);
    if (fails) {
        printf("%d failures\n", fails);
        return 1;
    }
    printf("training updates and fake quantisation: all checks pass\n");
    return 0;
}
