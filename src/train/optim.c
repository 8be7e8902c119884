/*
 * Parameter updates and fake quantisation.
 *
 * SGD with momentum adds the weight decay to the gradient (L2, as the
 * usual CIFAR recipes do); Adam decays the weights apart from the moment
 * estimates (AdamW), since folding the decay into Adam's normalised step
 * would make it depend on the gradient's scale. Biases are not decayed.
 * The learning rate follows a half cosine from lr to 0 over all steps, or
 * steps down by 10x at half and three quarters of them, or stays put.
 *
 * Quantisation-aware training runs the forward pass on the values the int8
 * model will hold: weights rounded per output channel to TFLite's
 * symmetric int8 grid (scale max|w| / 127, values -127..127), activations
 * to their tensor's asymmetric grid. The backward pass treats the rounding
 * as identity (straight-through): the weight gradient, computed at the
 * rounded weights, updates the float ones; an activation's gradient passes
 * inside its range and stops where the clamp held it (net.c).
 */
#include <math.h>
#include <string.h>

#include "train/train.h"

void train_optim_defaults(train_optim *o, train_optim_kind kind) {
    memset(o, 0, sizeof *o);
    o->kind = kind;
    o->lr = kind == TR_ADAM ? 1e-5f : 1e-6f; /* fine-tuning rates */
    o->momentum = 0.9f;
    o->beta1 = 0.9f;
    o->beta2 = 0.999f;
    o->eps = 1e-8f;
    o->weight_decay = 1e-4f;
    o->schedule = TR_LR_COSINE;
}

float train_optim_lr(const train_optim *o) {
    double t = o->total_steps > 0 ? (double)o->step / (double)o->total_steps : 0.0;
    if (t > 1.0) t = 1.0;
    switch (o->schedule) {
    case TR_LR_COSINE: return (float)(o->lr * 0.5 * (1.0 + cos(3.14159265358979323846 * t)));
    case TR_LR_STEP: return o->lr * (t < 0.5 ? 1.0f : t < 0.75 ? 0.1f : 0.01f);
    case TR_LR_CONST: break;
    }
    return o->lr;
}

static void update(const train_optim *o, float lr, float *w, const float *g, float *m, float *v, int64_t n, float wd,
                   float bc1, float bc2) {
    if (o->kind == TR_SGD) {
        for (int64_t i = 0; i < n; i++) {
            m[i] = o->momentum * m[i] + g[i] + wd * w[i];
            w[i] -= lr * m[i];
        }
        return;
    }
    for (int64_t i = 0; i < n; i++) {
        m[i] = o->beta1 * m[i] + (1.0f - o->beta1) * g[i];
        v[i] = o->beta2 * v[i] + (1.0f - o->beta2) * g[i] * g[i];
        float mh = m[i] / bc1, vh = v[i] / bc2;
        w[i] -= lr * (mh / (sqrtf(vh) + o->eps) + wd * w[i]);
    }
}

void train_optim_step(train_optim *o, train_net *n) {
    float lr = train_optim_lr(o);
    o->step++;
    float bc1 = 1.0f - powf(o->beta1, (float)o->step), bc2 = 1.0f - powf(o->beta2, (float)o->step);
    for (int32_t i = 0; i < n->n_layers; i++) {
        train_layer *l = &n->layers[i];
        if (!l->w) continue;
        float fw = l->lr_w > 0.0f ? l->lr_w : 1.0f, fb = l->lr_b > 0.0f ? l->lr_b : 1.0f;
        update(o, lr * fw, l->w, l->gw, l->m_w, l->v_w, l->n_w, o->weight_decay, bc1, bc2);
        update(o, lr * fb, l->b, l->gb, l->m_b, l->v_b, l->n_b, 0.0f, bc1, bc2);
    }
}

void train_fq_weights(train_net *n) {
    for (int32_t i = 0; i < n->n_layers; i++) {
        train_layer *l = &n->layers[i];
        if (!l->w) continue;
        /* output channel of weight i: conv and FC lead with it, depthwise
         * ends with it */
        int32_t oc = l->n_b;
        int64_t per = l->n_w / oc;
        for (int32_t c = 0; c < oc; c++) {
            float mx = 0.0f;
            for (int64_t k = 0; k < per; k++) {
                int64_t idx = l->kind == TR_DWCONV ? k * oc + c : (int64_t)c * per + k;
                float a = fabsf(l->w[idx]);
                mx = a > mx ? a : mx;
            }
            float s = mx > 0.0f ? mx / 127.0f : 1.0f;
            for (int64_t k = 0; k < per; k++) {
                int64_t idx = l->kind == TR_DWCONV ? k * oc + c : (int64_t)c * per + k;
                float q = roundf(l->w[idx] / s);
                q = q < -127.0f ? -127.0f : q > 127.0f ? 127.0f : q;
                l->wq[idx] = q * s;
            }
        }
    }
}

/* x / scale rounded half away from zero (as roundf), clamped to [qmin,
 * qmax] after the zero point is added, back to float. The rounding is
 * truncf plus a step where the dropped fraction is half or more: exact
 * (r - truncf(r) is), branch-free (selects that may not trap: no-trapping-
 * math, which changes no value), so it vectorises where the CPU has a
 * vector truncation (the training objects are built for the host's CPU,
 * HOSTFAST in the Makefile); the libm roundf call was a quarter of a QAT
 * forward pass. */
__attribute__((optimize("no-trapping-math"))) static void fq_span(float *restrict x, size_t tot, float inv,
                                                                   float scale, float zp, float lo, float hi) {
    for (size_t i = 0; i < tot; i++) {
        float r = x[i] * inv, t = truncf(r), f = r - t;
        float up = f >= 0.5f ? 1.0f : 0.0f, down = f <= -0.5f ? 1.0f : 0.0f;
        float q = t + up - down + zp;
        q = q < lo ? lo : q;
        q = q > hi ? hi : q;
        x[i] = (q - zp) * scale;
    }
}

void train_fq_act(train_act *a, int32_t nb) {
    if (!a->has_q || !a->x) return;
    size_t tot = (size_t)nb * (size_t)a->size;
    fq_span(a->x, tot, 1.0f / a->scale, a->scale, (float)a->zp, (float)a->qmin, (float)a->qmax);
}
