/*
 * float32 element-wise binary operators, as TFLite Micro's reference
 * kernels compute them: one IEEE operation per element in the order TFLite
 * writes it (ADD_N sums from 0 in operand order), results of ADD, SUB, MUL
 * and DIV clamped to the fused activation's range, whose "none" is
 * [-FLT_MAX, FLT_MAX] (an infinite result becomes FLT_MAX, as in TFLite).
 * Build with -ffp-contract=off: a fused multiply-add would change bits.
 *
 * FLOOR_DIV is floor(double(a) / double(b)) and FLOOR_MOD is built on
 * fmodf, as TFLite; the kernels take nothing from libm, so floor and fmod
 * are written here. Both are exact operations (fmod's result is always
 * representable), so any correct implementation gives TFLite's bits:
 * floor by truncating through an integer below 2^52, fmod by long division
 * of the two significands.
 */
#include <string.h>

#include "pexc_kernels.h"

/* std::floor for doubles: exact for every value. */
static double floor_f64(double x) {
    /* integral (+-0 keeps its sign), infinite or NaN */
    if (!(x > -4503599627370496.0 && x < 4503599627370496.0) || x == 0.0) return x;
    double t = (double)(int64_t)x;
    return t > x ? t - 1.0 : t;
}

/* std::fmod for floats: x - trunc(x / y) * y, exactly. */
static float fmod_f32(float x, float y) {
    uint32_t ux, uy;
    memcpy(&ux, &x, 4);
    memcpy(&uy, &y, 4);
    const uint32_t sign = ux & 0x80000000u;
    ux &= 0x7fffffffu;
    uy &= 0x7fffffffu;
    if (uy == 0 || ux >= 0x7f800000u || uy > 0x7f800000u) return (x * y) / (x * y); /* NaN */
    if (ux < uy) return x;
    /* significands with the implicit bit; a subnormal has exponent 1 */
    int32_t ex = (int32_t)(ux >> 23), ey = (int32_t)(uy >> 23);
    uint32_t mx = ex ? (ux & 0x7fffffu) | 0x800000u : ux, my = ey ? (uy & 0x7fffffu) | 0x800000u : uy;
    ex += !ex;
    ey += !ey;
    uint32_t r = mx % my;
    for (; ex > ey; ex--) r = (r << 1) % my; /* r < my < 2^24: no overflow */
    if (r == 0) {
        uint32_t z = sign;
        float f;
        memcpy(&f, &z, 4);
        return f;
    }
    while (r < 0x800000u && ey > 1) {
        r <<= 1;
        ey--;
    }
    uint32_t bits = sign | (r >= 0x800000u ? ((uint32_t)ey << 23) | (r & 0x7fffffu) : r);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

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
    case PEXC_BIN_PRELU:
        for (int32_t i = 0; i < n; i++, a += sa, b += sb) dst[i] = *a >= 0.0f ? *a : *a * *b;
        return;
    case PEXC_BIN_FLOOR_DIV:
        for (int32_t i = 0; i < n; i++, a += sa, b += sb) dst[i] = (float)floor_f64((double)*a / (double)*b);
        return;
    case PEXC_BIN_FLOOR_MOD:
        for (int32_t i = 0; i < n; i++, a += sa, b += sb) {
            float m = fmod_f32(*a, *b);
            dst[i] = m != 0.0f && ((*b < 0.0f) != (m < 0.0f)) ? m + *b : m;
        }
        return;
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
    if (!p || p->op == PEXC_BIN_AND || p->op == PEXC_BIN_OR || !(p->act_min_f <= p->act_max_f) || !in)
        return PEXC_ERR_ARG;
    if (p->op == PEXC_BIN_FLOOR_DIV && in[1] && p->rank >= 1 && p->rank <= PEXC_BINARY_MAX_RANK) {
        /* TFLM refuses to run on a zero divisor; operand 1's elements are
         * all read, the last at the sum of its strides times extents - 1 */
        size_t last = 0;
        for (int32_t ax = 0; ax < p->rank; ax++) last += (size_t)p->stride[1][ax] * (size_t)(p->dims[ax] - 1);
        for (size_t i = 0; i <= last; i++)
            if (((const float *)in[1])[i] == 0.0f) return PEXC_ERR_ARG;
    }
    return pexc_binary_walk(p, in, out, row_f32);
}
