/*
 * UNIDIRECTIONAL_SEQUENCE_LSTM in float32, TFLite Micro's float LSTM
 * (lstm_eval.h with the reference float kernels), unit by unit.
 *
 * As in lstm_s8.c, every operation of a time step but the recurrent layers
 * is element-wise across units, so each unit is finished on its own (its
 * new hidden value written into the step's output row) and the row becomes
 * the hidden state once the step is done. Float results depend on the order
 * of operations, so each value is computed exactly as TFLite does it:
 *
 *   a gate's layer:  s = 0; s += x[d] * w[d] for d = 0.. ; clamp(s + bias)
 *                    (the recurrent layer adds a bias of 0.0f)
 *   gate:            clamp(in) + clamp(rec), then logistic or tanh
 *   cell:            clamp(f * c) + clamp(i * g), clipped when clip > 0
 *   hidden:          clamp(tanh(c) * o)
 *
 * where clamp is TFLite's "no activation" range [-FLT_MAX, FLT_MAX] taken
 * with std::min/std::max (an infinity becomes FLT_MAX, NaN passes), and
 * logistic is 1 / (1 + exp(-x)) with TFLite's cut-offs; exp and tanh are
 * pexc_expf and pexc_tanhf (pexc_mathf.c), glibc's bits on every target.
 * A multiply-add fused by the compiler would round once instead of twice:
 * build with -ffp-contract=off.
 *
 * pexc_lstm_f32_steps runs rows [q0, q1) through views, as
 * pexc_lstm_s8_steps does (lstm_s8.c): a streamed schedule's time steps.
 */
#include <float.h>
#include <string.h>

#include "pexc_kernels.h"

/* std::min(std::max(x, lo), hi) with lo, hi = -FLT_MAX, FLT_MAX */
static float clamp_f(float x) {
    float m = x < -FLT_MAX ? -FLT_MAX : x;
    return FLT_MAX < m ? FLT_MAX : m;
}

static float logistic_f(float x) {
    if (x > 16.619047164916992188f) return 1.0f;
    if (x < -9.0f) return pexc_expf(x);
    return 1.0f / (1.0f + pexc_expf(-x));
}

static float dot_f(const float *w, const float *x, int32_t n) {
    float s = 0.0f;
    for (int32_t d = 0; d < n; d++) s += x[d] * w[d];
    PEXC_COUNT_MAC(n);
    return s;
}

static float gate_sum(const pexc_lstm_f32_params *p, const float *wi, const float *wr, const float *bias,
                      const float *x, const float *h, int32_t unit) {
    float a = clamp_f(dot_f(wi + (size_t)unit * (size_t)p->n_input, x, p->n_input) + bias[unit]);
    float r = clamp_f(dot_f(wr + (size_t)unit * (size_t)p->n_state, h, p->n_state) + 0.0f);
    return a + r;
}

/* One row: every unit, then the row's hidden values become its state. */
static void lstm_row(const pexc_lstm_f32_params *p, const float *const *wi, const float *const *wr,
                     const float *const *bias, float clip, const float *xr, float *hr, float *cr, float *yr) {
    const int32_t ns = p->n_state;
    for (int32_t u = 0; u < ns; u++) {
        /* gates in TFLite's tensor order: input, forget, cell, output */
        float f = logistic_f(gate_sum(p, wi[1], wr[1], bias[1], xr, hr, u));
        float i = logistic_f(gate_sum(p, wi[0], wr[0], bias[0], xr, hr, u));
        float g = pexc_tanhf(gate_sum(p, wi[2], wr[2], bias[2], xr, hr, u));
        float c = clamp_f(f * cr[u]) + clamp_f(i * g);
        if (clip > 0.0f) {
            /* std::max(std::min(clip, c), -clip): NaN becomes clip */
            float m = c < clip ? c : clip;
            c = m < -clip ? -clip : m;
        }
        cr[u] = c;
        float o = logistic_f(gate_sum(p, wi[3], wr[3], bias[3], xr, hr, u));
        yr[u] = clamp_f(pexc_tanhf(c) * o);
    }
    memcpy(hr, yr, sizeof(float) * (size_t)ns);
}

pexc_status pexc_lstm_f32_steps(const pexc_lstm_f32_params *p, const void *const *in, const pexc_view *x,
                                const pexc_tile *t, pexc_view *y) {
    if (!p || !in || p->batches < 1 || p->steps < 1 || p->n_input < 1 || p->n_state < 1 ||
        !pexc_seq_views_valid(x, y, t, p->batches * p->steps, p->n_input, p->n_state))
        return PEXC_ERR_ARG;
    for (int k = 1; k < 15; k++)
        if (!in[k]) return PEXC_ERR_ARG;
    const float *wi[4], *wr[4], *bias[4];
    for (int g = 0; g < 4; g++) {
        wi[g] = in[1 + g];
        wr[g] = in[5 + g];
        bias[g] = in[9 + g];
    }
    float *hidden = (float *)(uintptr_t)in[13];
    float *cell = (float *)(uintptr_t)in[14];
    float clip;
    memcpy(&clip, &p->cell_clip_bits, sizeof clip);
    const int32_t w = y->w, ns = p->n_state;
    const int64_t q0 = (int64_t)t->y0 * w + t->x0, q1 = q0 + pexc_tile_pixels(t, w);
    for (int64_t q = q0; q < q1; q++) {
        const int32_t r = (int32_t)q, sb = p->time_major ? r % p->batches : r / p->steps;
        const float *xr = (const float *)x->data + pexc_view_index(x, 0, r / w, r % w, 0);
        float *yr = (float *)y->data + pexc_view_index(y, 0, r / w, r % w, 0);
        lstm_row(p, wi, wr, bias, clip, xr, hidden + (size_t)sb * (size_t)ns, cell + (size_t)sb * (size_t)ns, yr);
    }
    return PEXC_OK;
}

pexc_status pexc_lstm_f32(const pexc_lstm_f32_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out) return PEXC_ERR_ARG;
    pexc_view x, y;
    const pexc_tile t = pexc_seq_whole(in[0], out, p->batches * p->steps, p->n_input, p->n_state, &x, &y);
    return pexc_lstm_f32_steps(p, in, &x, &t, &y);
}
