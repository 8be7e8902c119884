/*
 * Every backward pass of the training kernels (src/train/kernels.c) against
 * central finite differences of its own forward pass, on small random
 * shapes: the loss is sum(r * y) for a random r, so the output gradient is
 * r and every input, weight and bias gradient the kernel reports must
 * match (L(v + e) - L(v - e)) / 2e for that value. Covers strides,
 * padding, dilation, depth multipliers, broadcasting, constant operands
 * and batches above one. Also checks the blocked matrix product against
 * a plain triple loop in every transposition.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/train.h"

static uint64_t rng = 12345;

static float frand(void) { return (float)((double)(train_rng_next(&rng) >> 11) / 9007199254740992.0 * 2.0 - 1.0); }
static int irand(int lo, int hi) { return lo + (int)(train_rng_next(&rng) % (uint64_t)(hi - lo + 1)); }

typedef struct {
    train_net n;
    train_act acts[4];
    train_layer l;
    float *r;
    int32_t nb;
    const char *name;
    int fails;
} tc;

static void act_init(tc *t, int i, int32_t h, int32_t w, int32_t c, int is_const) {
    train_act *a = &t->acts[i];
    memset(a, 0, sizeof *a);
    a->tensor = i;
    a->h = h;
    a->w = w;
    a->c = c;
    a->size = (int64_t)h * w * c;
    a->is_const = is_const;
    size_t n = (size_t)(is_const ? 1 : t->nb) * (size_t)a->size;
    a->x = malloc(sizeof(float) * n);
    for (size_t k = 0; k < n; k++) a->x[k] = frand();
    if (!is_const) a->dx = calloc(n, sizeof(float));
}

static double loss(tc *t) {
    train_kernel_forward(&t->n, &t->l, t->nb);
    const train_act *o = &t->acts[t->l.out];
    double s = 0.0;
    for (int64_t k = 0; k < t->nb * o->size; k++) s += (double)t->r[k] * o->x[k];
    return s;
}

static void check_values(tc *t, const char *what, float *v, const float *g, int64_t n, float eps) {
    int64_t step = n > 40 ? n / 40 : 1;
    for (int64_t k = 0; k < n; k += step) {
        float keep = v[k];
        v[k] = keep + eps;
        double lp = loss(t);
        v[k] = keep - eps;
        double lm = loss(t);
        v[k] = keep;
        double fd = (lp - lm) / (2.0 * eps), an = g[k];
        if (fabs(fd - an) > 5e-3 * (1.0 + fabs(fd))) {
            if (t->fails++ < 5)
                printf("FAIL %s: d/d%s[%lld] analytic %.6f, finite difference %.6f\n", t->name, what, (long long)k,
                       an, fd);
        }
    }
}

/* Runs forward and backward once, then compares every gradient. */
static int run(tc *t, int n_acts, float eps) {
    t->n.acts = t->acts;
    t->n.n_acts = n_acts;
    t->n.layers = &t->l;
    t->n.n_layers = 1;
    t->n.batch = t->nb;
    size_t sc = 2 * train_kernel_scratch(&t->n, &t->l, t->nb) + (size_t)t->l.n_w;
    t->n.scratch = calloc(sc + 1, sizeof(float));
    const train_act *o = &t->acts[t->l.out];
    size_t no = (size_t)t->nb * (size_t)o->size;
    t->r = malloc(sizeof(float) * no);
    for (size_t k = 0; k < no; k++) t->r[k] = frand();
    train_kernel_forward(&t->n, &t->l, t->nb);
    for (int i = 0; i < n_acts; i++)
        if (t->acts[i].dx) memset(t->acts[i].dx, 0, sizeof(float) * (size_t)t->nb * (size_t)t->acts[i].size);
    memcpy(t->acts[t->l.out].dx, t->r, sizeof(float) * no);
    train_kernel_backward(&t->n, &t->l, t->nb);
    /* copy the analytic gradients: finite differences rerun the forward */
    for (int i = 0; i < t->l.n_in; i++) {
        train_act *a = &t->acts[t->l.in[i]];
        if (!a->dx) continue;
        size_t n = (size_t)t->nb * (size_t)a->size;
        float *g = malloc(sizeof(float) * n);
        memcpy(g, a->dx, sizeof(float) * n);
        check_values(t, i ? "in1" : "in0", a->x, g, (int64_t)n, eps);
        free(g);
    }
    if (t->l.w) {
        check_values(t, "w", t->l.w, t->l.gw, t->l.n_w, eps);
        check_values(t, "b", t->l.b, t->l.gb, t->l.n_b, eps);
    }
    int f = t->fails;
    for (int i = 0; i < n_acts; i++) {
        free(t->acts[i].x);
        free(t->acts[i].dx);
    }
    free(t->l.w);
    free(t->l.b);
    free(t->l.gw);
    free(t->l.gb);
    free(t->n.scratch);
    free(t->r);
    return f;
}

static void params(tc *t, int64_t n_w, int32_t n_b) {
    t->l.n_w = n_w;
    t->l.n_b = n_b;
    t->l.w = malloc(sizeof(float) * (size_t)n_w);
    t->l.gw = malloc(sizeof(float) * (size_t)n_w);
    t->l.b = malloc(sizeof(float) * (size_t)n_b);
    t->l.gb = malloc(sizeof(float) * (size_t)n_b);
    for (int64_t k = 0; k < n_w; k++) t->l.w[k] = frand();
    for (int32_t k = 0; k < n_b; k++) t->l.b[k] = frand();
}

/* Window geometry with SAME (pad) or VALID padding; output size. */
static int32_t window(int32_t in, int32_t k, int32_t s, int32_t d, int same, int32_t *pad) {
    int32_t eff = (k - 1) * d + 1, o = same ? (in + s - 1) / s : (in - eff + s) / s;
    int32_t tot = (o - 1) * s + eff - in;
    *pad = same && tot > 0 ? tot / 2 : 0;
    return o;
}

/* A random window over an h x w input (kernel up to 3, column stride up
 * to max_sw, row dilation up to max_dh), SAME or VALID where it fits. */
static void random_window(train_layer *l, int32_t h, int32_t w, int max_sw, int max_dh, int32_t *oh, int32_t *ow) {
    l->kh = irand(1, 3);
    l->kw = irand(1, 3);
    l->sh = irand(1, 2);
    l->sw = irand(1, max_sw);
    l->dh = irand(1, max_dh);
    l->dw = 1;
    int same = irand(0, 1);
    if (!same && ((l->kh - 1) * l->dh + 1 > h || l->kw > w)) same = 1;
    *oh = window(h, l->kh, l->sh, l->dh, same, &l->pt);
    *ow = window(w, l->kw, l->sw, l->dw, same, &l->pl);
}

/* One input (act 0), one output (act 1). */
static void io1(tc *t) {
    t->l.n_in = 1;
    t->l.in[0] = 0;
    t->l.out = 1;
}

static tc *fresh(const char *name, train_kind kind) {
    static tc t;
    memset(&t, 0, sizeof t);
    t.name = name;
    t.nb = irand(1, 3);
    t.l.kind = kind;
    t.l.kh = t.l.kw = t.l.sh = t.l.sw = t.l.dh = t.l.dw = t.l.dm = 1;
    return &t;
}

static int case_conv(int dw) {
    tc *t = fresh(dw ? "depthwise" : "conv", dw ? TR_DWCONV : TR_CONV);
    train_layer *l = &t->l;
    int32_t h = irand(3, 7), w = irand(3, 7), ic = irand(1, 5), oh, ow;
    random_window(l, h, w, 2, 2, &oh, &ow);
    l->dm = dw ? irand(1, 2) : 1;
    int32_t oc = dw ? ic * l->dm : irand(1, 6);
    act_init(t, 0, h, w, ic, 0);
    act_init(t, 1, oh, ow, oc, 0);
    io1(t);
    params(t, (int64_t)l->kh * l->kw * (dw ? oc : ic * oc), oc);
    return run(t, 2, 1e-2f);
}

static int case_fc(void) {
    tc *t = fresh("fully connected", TR_FC);
    int32_t k = irand(1, 12), rows = irand(1, 2), oc = irand(1, 7);
    act_init(t, 0, 1, rows, k, 0);
    act_init(t, 1, 1, rows, oc, 0);
    io1(t);
    params(t, (int64_t)oc * k, oc);
    return run(t, 2, 1e-2f);
}

static int case_pool(int max) {
    tc *t = fresh(max ? "max pool" : "average pool", max ? TR_MAXPOOL : TR_AVGPOOL);
    train_layer *l = &t->l;
    int32_t h = irand(2, 7), w = irand(2, 7), c = irand(1, 4), oh, ow;
    random_window(l, h, w, 3, 1, &oh, &ow);
    act_init(t, 0, h, w, c, 0);
    act_init(t, 1, oh, ow, c, 0);
    if (max) {
        /* distinct values 0.01 apart: a 1e-3 step never changes the winner */
        size_t n = (size_t)t->nb * (size_t)t->acts[0].size;
        for (size_t i = 0; i < n; i++) t->acts[0].x[i] = 0.01f * (float)((i * 7919) % n);
    }
    io1(t);
    return run(t, 2, max ? 1e-3f : 1e-2f);
}

static int case_binary(int mul) {
    tc *t = fresh(mul ? "mul" : "add", mul ? TR_MUL : TR_ADD);
    int32_t h = irand(1, 4), w = irand(1, 4), c = irand(1, 5);
    int shape = irand(0, 3); /* 0 same, 1 per-channel, 2 scalar, 3 constant per-channel */
    act_init(t, 0, h, w, c, 0);
    if (shape == 0) act_init(t, 1, h, w, c, 0);
    else if (shape == 1) act_init(t, 1, 1, 1, c, 0);
    else if (shape == 2) act_init(t, 1, 1, 1, 1, 0);
    else act_init(t, 1, 1, 1, c, 1);
    act_init(t, 2, h, w, c, 0);
    int swap = irand(0, 1);
    t->l.n_in = 2;
    t->l.in[0] = swap;
    t->l.in[1] = !swap;
    t->l.out = 2;
    return run(t, 3, 1e-2f);
}

static int case_pad(void) {
    tc *t = fresh("pad", TR_PAD);
    int32_t h = irand(1, 4), w = irand(1, 4), c = irand(1, 4);
    for (int a = 0; a < 3; a++) {
        t->l.pad[a][0] = irand(0, 2);
        t->l.pad[a][1] = irand(0, 2);
    }
    act_init(t, 0, h, w, c, 0);
    act_init(t, 1, h + t->l.pad[0][0] + t->l.pad[0][1], w + t->l.pad[1][0] + t->l.pad[1][1],
             c + t->l.pad[2][0] + t->l.pad[2][1], 0);
    io1(t);
    return run(t, 2, 1e-2f);
}

static int case_concat(void) {
    tc *t = fresh("concatenation", TR_CONCAT);
    int32_t d[4] = {1, irand(1, 3), irand(1, 3), irand(1, 3)}, e[4], f[4];
    int axis = irand(1, 3);
    memcpy(e, d, sizeof d);
    memcpy(f, d, sizeof d);
    e[axis] = irand(1, 3);
    f[axis] = d[axis] + e[axis];
    act_init(t, 0, d[1], d[2], d[3], 0);
    act_init(t, 1, e[1], e[2], e[3], irand(0, 3) == 0);
    act_init(t, 2, f[1], f[2], f[3], 0);
    t->l.cat_axis = axis;
    t->l.n_in = 2;
    t->l.in[0] = 0;
    t->l.in[1] = 1;
    t->l.out = 2;
    return run(t, 3, 1e-2f);
}

static int case_mean(void) {
    tc *t = fresh("mean", TR_MEAN);
    int32_t c = irand(1, 5);
    act_init(t, 0, irand(1, 4), irand(1, 4), c, 0);
    act_init(t, 1, 1, 1, c, 0);
    io1(t);
    return run(t, 2, 1e-2f);
}

static int case_softmax(void) {
    tc *t = fresh("softmax", TR_SOFTMAX);
    int32_t c = irand(2, 6), w = irand(1, 3);
    act_init(t, 0, 1, w, c, 0);
    act_init(t, 1, 1, w, c, 0);
    t->l.beta = 0.5f + (float)irand(0, 3) * 0.5f;
    io1(t);
    return run(t, 2, 1e-3f);
}

static int case_gemm(void) {
    int M = irand(1, 200), N = irand(1, 300), K = irand(1, 600), ta = irand(0, 1), tb = irand(0, 1);
    float *A = malloc(sizeof(float) * (size_t)M * K), *B = malloc(sizeof(float) * (size_t)K * N);
    float *C = malloc(sizeof(float) * (size_t)M * N);
    for (int i = 0; i < M * K; i++) A[i] = frand();
    for (int i = 0; i < K * N; i++) B[i] = frand();
    for (int i = 0; i < M * N; i++) C[i] = frand();
    float beta = (float)irand(0, 1);
    float *want = malloc(sizeof(float) * (size_t)M * N);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = beta * C[i * N + j];
            for (int k = 0; k < K; k++) s += (double)(ta ? A[k * M + i] : A[i * K + k]) * (tb ? B[j * K + k] : B[k * N + j]);
            want[i * N + j] = (float)s;
        }
    train_gemm(ta, tb, M, N, K, A, ta ? M : K, B, tb ? K : N, beta, C, N);
    int bad = 0;
    for (int i = 0; i < M * N && !bad; i++)
        if (fabsf(C[i] - want[i]) > 1e-4f * (float)K) {
            printf("FAIL gemm %dx%dx%d ta %d tb %d beta %g: C[%d] %g, want %g\n", M, N, K, ta, tb, (double)beta, i,
                   (double)C[i], (double)want[i]);
            bad = 1;
        }
    free(A);
    free(B);
    free(C);
    free(want);
    return bad;
}

int main(void) {
    int fails = 0;
    for (int i = 0; i < 30; i++) {
        fails += case_conv(0) + case_conv(1) + case_fc() + case_pool(0) + case_pool(1) + case_binary(0) +
                 case_binary(1) + case_pad() + case_concat() + case_mean() + case_softmax();
        train_gemm_set_threads(1 + i % 2);
        fails += case_gemm();
    }
    if (fails) {
        printf("%d failures\n", fails);
        return 1;
    }
    printf("training kernels: every gradient matches finite differences (330 cases), gemm (30 cases)\n");
    return 0;
}
