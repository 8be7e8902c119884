/*
 * float32 element-wise binary operators, as TFLite Micro's reference
 * kernels compute them: one IEEE operation per element in the order TFLite
 * writes it (ADD_N sums from 0 in operand order), results of ADD, SUB, MUL
 * and DIV clamped to the fused activation's range, whose "none" is
 * [-FLT_MAX, FLT_MAX] (an infinite result becomes FLT_MAX, as in TFLite).
 * Build with -ffp-contract=off: a fused multiply-add would change bits.
 */
#include "pexc_kernels.h"

static float clampf(float v, float lo, float hi) {
    /* std::min(std::max(v, lo), hi): NaN passes through */
    v = v < lo ? lo : v;
    return hi < v ? hi : v;
}

static void row_f32(const pexc_binary_params *p, const void *const *in, const size_t *idx, const int32_t *step,
                    void *out, size_t o, int32_t n) {
    const size_t sa = (size_t)step[0], sb = (size_t)step[1];
    const float *a = (const float *)in[0] + idx[0], *b = (const float *)in[1] + idx[1];
    const float lo = p->act_min_f, hi = p->act_max_f;
    float *dst = (float *)out + o;
    uint8_t *flag = (uint8_t *)out + o; /* comparisons */
    switch (p->op) {
    case PEXC_BIN_ADD:
        for (int32_t i = 0; i < n; i++, a += sa, b += sb) dst[i] = clampf(*a + *b, lo, hi);
        return;
    case PEXC_BIN_SUB:
        for (int32_t i = 0; i < n; i++, a += sa, b += sb) dst[i] = clampf(*a - *b, lo, hi);
        return;
    case PEXC_BIN_MUL:
        for (int32_t i = 0; i < n; i++, a += sa, b += sb) dst[i] = clampf(*a * *b, lo, hi);
        return;
    case PEXC_BIN_DIV:
        for (int32_t i = 0; i < n; i++, a += sa, b += sb) dst[i] = clampf(*a / *b, lo, hi);
        return;
    case PEXC_BIN_SQDIFF:
        for (int32_t i = 0; i < n; i++, a += sa, b += sb) {
            float d = *a - *b;
            dst[i] = d * d;
        }
        return;
    /* el1 < el2 ? el1 : el2 as TFLite writes it: a NaN in el1 gives el2 */
    case PEXC_BIN_MIN: for (int32_t i = 0; i < n; i++, a += sa, b += sb) dst[i] = *a < *b ? *a : *b; return;
    case PEXC_BIN_MAX: for (int32_t i = 0; i < n; i++, a += sa, b += sb) dst[i] = *a > *b ? *a : *b; return;
    case PEXC_BIN_EQ: for (int32_t i = 0; i < n; i++, a += sa, b += sb) flag[i] = *a == *b; return;
    case PEXC_BIN_NE: for (int32_t i = 0; i < n; i++, a += sa, b += sb) flag[i] = *a != *b; return;
    case PEXC_BIN_LT: for (int32_t i = 0; i < n; i++, a += sa, b += sb) flag[i] = *a < *b; return;
    case PEXC_BIN_LE: for (int32_t i = 0; i < n; i++, a += sa, b += sb) flag[i] = *a <= *b; return;
    case PEXC_BIN_GT: for (int32_t i = 0; i < n; i++, a += sa, b += sb) flag[i] = *a > *b; return;
    case PEXC_BIN_GE: for (int32_t i = 0; i < n; i++, a += sa, b += sb) flag[i] = *a >= *b; return;
    case PEXC_BIN_SELECT: {
        /* in[0] is the bool condition, in[1] and in[2] the float values */
        const uint8_t *cond = (const uint8_t *)in[0] + idx[0];
        const float *x = (const float *)in[1] + idx[1], *y = (const float *)in[2] + idx[2];
        const size_t sc = (size_t)step[0], sy = (size_t)step[2];
        for (int32_t i = 0; i < n; i++, cond += sc, x += sb, y += sy) dst[i] = *cond ? *x : *y;
        return;
    }
    case PEXC_BIN_ADD_N:
        for (int32_t i = 0; i < n; i++) {
            float s = 0.0f;
            for (int32_t k = 0; k < p->n_in; k++) s += ((const float *)in[k])[idx[0] + (size_t)i];
            dst[i] = s;
        }
        return;
    default: return;
    }
}

/**
 * @brief A float32 element-wise operator over whole tensors.
 *
 * in[k]: operand k, contiguous float32 (SELECT_V2's condition: bool bytes);
 * out: contiguous float32, or bool bytes for comparisons.
 */
pexc_status pexc_binary_f32(const pexc_binary_params *p, const void *const *in, void *out) {
    if (!p || p->op == PEXC_BIN_PRELU || p->op == PEXC_BIN_AND || p->op == PEXC_BIN_OR ||
        !(p->act_min_f <= p->act_max_f))
        return PEXC_ERR_ARG;
    return pexc_binary_walk(p, in, out, row_f32);
}
