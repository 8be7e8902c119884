/*
 * float32 element-wise operators as TFLite's reference kernels compute them:
 * ADD, SUB, MUL over operands broadcast to the output (any rank up to 6,
 * strides fixed at compile time, stride 0 along a broadcast axis), the
 * activation clamp after, and the unary functions RELU, RELU6, TANH,
 * LOGISTIC (the reference logistic's cut-offs included), EXP, LOG, SQRT,
 * RSQRT, SIN, COS, SQUARE, NEG, FLOOR, CEIL, ROUND and ABS. Each output
 * value is one rounding of one operation, so only the operation itself and
 * the libm function (tanhf, expf, logf, sinf, ...) must match. tanhf, expf and
 * expm1f are pexc's own (pexc_mathf.c), glibc's bits on every target; the others
 * still come from the target's C library.
 */
#include <math.h>

#include "pexc_bcast.h"
#include "pexc_kernels.h"

/**
 * @brief out = act(a op b), a = in[0], b = in[1] read through p->stride_a /
 * p->stride_b (elements, per output axis; 0 where broadcast).
 */
pexc_status pexc_arith_f32(const pexc_binary_f32_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !in[1] || !out || p->rank < 1 || p->rank > 6) return PEXC_ERR_ARG;
    const float *a = in[0], *b = in[1];
    float *y = out;
    int32_t idx[6] = {0, 0, 0, 0, 0, 0};
    size_t ia = 0, ib = 0, n = 1;
    for (int32_t d = 0; d < p->rank; d++) n *= (size_t)p->dims[d];
    for (size_t i = 0; i < n; i++) {
        float v;
        switch (p->op) {
        case PEXC_BIN_ADD: v = a[ia] + b[ib]; break;
        case PEXC_BIN_SUB: v = a[ia] - b[ib]; break;
        case PEXC_BIN_MUL: v = a[ia] * b[ib]; break;
        default: return PEXC_ERR_ARG;
        }
        if (v < p->act_min) v = p->act_min;
        if (p->act_max < v) v = p->act_max;
        y[i] = v;
        pexc_bcast_next(p->rank, p->dims, p->stride_a, p->stride_b, idx, &ia, &ib);
    }
    return PEXC_OK;
}

/* TFLM's reference ROUND: the floor, plus one when the fraction is above a
 * half or exactly a half above an odd floor (ties to even). A tie needs
 * |v| < 2^23, so the floor then fits an int32; NaN falls through to
 * floor + 1, which is NaN, as in TFLM. */
static float round_half_even(float v) {
    float f = floorf(v), d = v - f;
    if (d < 0.5f || (d == 0.5f && (int32_t)f % 2 == 0)) return f;
    return f + 1.0f;
}

/** @brief out[i] = f(in[0][i]) for the n elements, f one of PEXC_UN_*. */
pexc_status pexc_unary_f32(const pexc_unary_f32_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out) return PEXC_ERR_ARG;
    const float *x = in[0];
    float *y = out;
    for (int32_t i = 0; i < p->n; i++) {
        float v = x[i], r;
        switch (p->op) {
        case PEXC_UN_RELU: r = v < 0.0f ? 0.0f : v; break;
        case PEXC_UN_RELU6: r = 6.0f < v ? 6.0f : v < 0.0f ? 0.0f : v; break;
        case PEXC_UN_TANH: r = pexc_tanhf(v); break;
        case PEXC_UN_LOGISTIC:
            if (v > 16.619047164916992188f) r = 1.0f;
            else if (v < -9.0f) r = pexc_expf(v);
            else r = 1.0f / (1.0f + pexc_expf(-v));
            break;
        case PEXC_UN_EXP: r = pexc_expf(v); break;
        case PEXC_UN_LOG: r = logf(v); break;
        case PEXC_UN_SQRT: r = sqrtf(v); break;
        case PEXC_UN_RSQRT: r = 1.0f / sqrtf(v); break;
        case PEXC_UN_SIN: r = sinf(v); break;
        case PEXC_UN_COS: r = cosf(v); break;
        case PEXC_UN_SQUARE: r = v * v; break;
        case PEXC_UN_NEG: r = -v; break;
        case PEXC_UN_FLOOR: r = floorf(v); break;
        case PEXC_UN_CEIL: r = ceilf(v); break;
        case PEXC_UN_ROUND: r = round_half_even(v); break;
        case PEXC_UN_ABS: r = fabsf(v); break;
        case PEXC_UN_ELU: r = v < 0.0f ? pexc_expm1f(v) : v; break; /* reference Elu: TfLiteExpm1 */
        default: return PEXC_ERR_ARG;
        }
        y[i] = r;
    }
    return PEXC_OK;
}

/**
 * @brief float32 SOFTMAX over the innermost axis (depth), beta applied to
 * x - max before exp, then each exp divided by their sum.
 */
pexc_status pexc_softmax_f32(const pexc_softmax_f32_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out || p->depth < 1) return PEXC_ERR_ARG;
    const float *x = in[0];
    float *y = out;
    for (int32_t o = 0; o < p->outer; o++) {
        const float *xi = x + (size_t)o * (size_t)p->depth;
        float *yi = y + (size_t)o * (size_t)p->depth;
        float mx = -3.40282347e+38f;
        for (int32_t c = 0; c < p->depth; c++)
            if (mx < xi[c]) mx = xi[c];
        float sum = 0.0f;
        for (int32_t c = 0; c < p->depth; c++) {
            float e = pexc_expf((xi[c] - mx) * p->beta);
            yi[c] = e;
            sum += e;
        }
        for (int32_t c = 0; c < p->depth; c++) yi[c] = yi[c] / sum;
    }
    return PEXC_OK;
}
