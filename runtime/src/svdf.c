/*
 * SVDF, TFLite Micro's singular-value-decomposition filter (svdf_common.cc),
 * in int8 (int8 or int16 state and time weights) and float32.
 *
 * The operator keeps, for every batch and filter, the last M feature values
 * in a variable tensor [B, F * M] (one row of M per filter, oldest first).
 * Each call shifts the whole state left by one element, writes this call's
 * feature value (the input times the filter's feature weights) into the
 * freed last slot of every row, takes each row's dot product with the
 * filter's M time weights, and sums the `rank` consecutive filters of each
 * unit on top of the unit's bias.
 *
 * The shift moves the whole buffer by one element, across row ends: the
 * first element of every row but the first lands in the previous row's last
 * slot, which the feature pass then overwrites, so the result is a per-row
 * shift, as in TFLM. TFLM keeps the per-filter time sums in a scratch
 * buffer; here each unit sums its filters as they are computed, which adds
 * the same values in the same order (bias first, then filters r*rank ..
 * r*rank + rank - 1), so float results round identically and no scratch
 * memory is needed. Float dot products start from 0.0f and add in index
 * order: build with -ffp-contract=off.
 *
 * TFLM's integer kernel applies no fused activation (only the int8 clamp);
 * its float kernel applies the activation with fmin/fmax, tanhf and signbit
 * (tanhf here is pexc_tanhf, glibc's bits on every target: pexc_mathf.c).
 */
#include <math.h>
#include <stdint.h>

#include "pexc_kernels.h"

static int32_t state_get(const void *s, int32_t i, int32_t wide) {
    return wide ? ((const int16_t *)s)[i] : ((const int8_t *)s)[i];
}

/* TFLM stores zero point + value into the state type (a modular
 * conversion when the zero point pushes it out of range). */
static void state_put(void *s, int32_t i, int32_t wide, int32_t v) {
    if (wide)
        ((int16_t *)s)[i] = (int16_t)(uint16_t)(uint32_t)v;
    else
        ((int8_t *)s)[i] = (int8_t)(uint8_t)(uint32_t)v;
}

pexc_status pexc_svdf_s8(const pexc_svdf_s8_params *p, const void *const *in, void *out) {
    if (!p || !in || !out || !in[0] || !in[1] || !in[2] || !in[3] || !in[4] || p->batches < 1 || p->n_input < 1 ||
        p->n_filter < 1 || p->n_memory < 1 || p->rank < 1 || p->n_filter % p->rank)
        return PEXC_ERR_ARG;
    const int8_t *x = in[0], *wf = in[1];
    const void *wt = in[2];
    /* the state is the model's to update: the arena, never flash */
    void *state = (void *)(uintptr_t)in[3];
    const int32_t *bias = in[4];
    const int32_t wide = p->state_bytes == 2, nf = p->n_filter, nm = p->n_memory, ni = p->n_input;
    const int32_t lo = wide ? INT16_MIN : INT8_MIN, hi = wide ? INT16_MAX : INT8_MAX;
    const int32_t total = p->batches * nf * nm, n_unit = nf / p->rank;
    int8_t *y = out;
    for (int32_t i = 0; i + 1 < total; i++) state_put(state, i, wide, state_get(state, i + 1, wide));
    for (int32_t b = 0; b < p->batches; b++) {
        const int8_t *xb = x + b * ni;
        for (int32_t f = 0; f < nf; f++) {
            uint32_t acc = 0; /* int32 arithmetic that wraps rather than traps */
            for (int32_t k = 0; k < ni; k++)
                acc += (uint32_t)((int32_t)wf[f * ni + k] * ((int32_t)xb[k] + p->input_offset));
            int32_t v = pexc_requant_inline((int32_t)acc, p->feature_mult, p->feature_shift);
            v = v < lo ? lo : v > hi ? hi : v;
            state_put(state, (b * nf + f) * nm + nm - 1, wide, p->state_zp + v);
        }
    }
    for (int32_t b = 0; b < p->batches; b++) {
        for (int32_t u = 0; u < n_unit; u++) {
            uint32_t sum = (uint32_t)bias[u];
            for (int32_t f = u * p->rank; f < (u + 1) * p->rank; f++) {
                uint32_t dot = 0;
                for (int32_t m = 0; m < nm; m++) {
                    int32_t s = state_get(state, (b * nf + f) * nm + m, wide) - p->state_zp;
                    dot += (uint32_t)(state_get(wt, f * nm + m, wide) * s);
                }
                sum += dot;
            }
            int32_t v = pexc_requant_inline((int32_t)sum, p->output_mult, p->output_shift) + p->output_zp;
            y[b * n_unit + u] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
        }
    }
    return PEXC_OK;
}

static float svdf_activate(int32_t act, float v) {
    switch (act) {
    case 1: return fmaxf(0.0f, v);
    case 2: return fmaxf(-1.0f, fminf(v, 1.0f));
    case 3: return fmaxf(0.0f, fminf(v, 6.0f));
    case 4: return pexc_tanhf(v);
    case 5: return signbit(v) ? 1.0f : 0.0f;
    default: return v;
    }
}

pexc_status pexc_svdf_f32(const pexc_svdf_f32_params *p, const void *const *in, void *out) {
    if (!p || !in || !out || !in[0] || !in[1] || !in[2] || !in[3] || !in[4] || p->batches < 1 || p->n_input < 1 ||
        p->n_filter < 1 || p->n_memory < 1 || p->rank < 1 || p->n_filter % p->rank)
        return PEXC_ERR_ARG;
    const float *x = in[0], *wf = in[1], *wt = in[2];
    float *state = (float *)(uintptr_t)in[3];
    const float *bias = in[4];
    const int32_t nf = p->n_filter, nm = p->n_memory, ni = p->n_input;
    const int32_t total = p->batches * nf * nm, n_unit = nf / p->rank;
    float *y = out;
    for (int32_t i = 0; i + 1 < total; i++) state[i] = state[i + 1];
    for (int32_t b = 0; b < p->batches; b++)
        for (int32_t f = 0; f < nf; f++) {
            float dot = 0.0f;
            for (int32_t k = 0; k < ni; k++) dot += wf[f * ni + k] * x[b * ni + k];
            state[(b * nf + f) * nm + nm - 1] = dot;
        }
    for (int32_t b = 0; b < p->batches; b++)
        for (int32_t u = 0; u < n_unit; u++) {
            float sum = bias[u];
            for (int32_t f = u * p->rank; f < (u + 1) * p->rank; f++) {
                float dot = 0.0f;
                for (int32_t m = 0; m < nm; m++) dot += wt[f * nm + m] * state[(b * nf + f) * nm + m];
                sum += dot;
            }
            y[b * n_unit + u] = svdf_activate(p->activation, sum);
        }
    return PEXC_OK;
}
