/*
 * L2_NORMALIZATION as TFLite's reference kernels. int8: the sum of
 * squares of a row (int32), its inverse square root as a Q31 multiplier and
 * a shift (TFLite's GetInvSqrtQuantizedMultiplierExp: the sum is brought to
 * [2^27, 2^29) by whole bit pairs, then five Newton-Raphson steps for
 * 1/sqrt in Q3.28 from x = 1, times sqrt(2)/2), and every value of the row
 * requantised by it into Q7. float32: the sum of squares in order, its
 * square root (correctly rounded, pexc_sqrt_f32) at least 1e-6, divided into
 * every value of the row.
 */
#include "pexc_kernels.h"

/* 1/sqrt(sum) as multiplier and shift (pexc_requant's sign convention). */
static void inv_sqrt(int32_t sum, int32_t *mult, int32_t *shift) {
    if (sum <= 1) {
        *mult = INT32_MAX;
        *shift = 0;
        return;
    }
    int32_t sh = 11;
    while (sum >= (1 << 29)) {
        sum /= 4;
        sh++;
    }
    int32_t clz = 0;
    for (uint32_t u = (uint32_t)sum; !(u & 0x80000000u); u <<= 1) clz++;
    int32_t pairs = (clz - 1) / 2 - 1;
    sh -= pairs;
    sum <<= 2 * pairs;
    const int32_t in_q3 = sum >> 1, half_in = pexc_rdivpot(in_q3, 1), half_three = (1 << 28) + (1 << 27);
    int32_t x = 1 << 28; /* 1.0 in Q3.28 */
    for (int i = 0; i < 5; i++) {
        int32_t x3 = pexc_sat_shl(pexc_srdhm(pexc_srdhm(x, x), x), 6);
        int32_t d = (int32_t)((uint32_t)pexc_srdhm(half_three, x) - (uint32_t)pexc_srdhm(half_in, x3));
        x = pexc_sat_shl(d, 3);
    }
    x = pexc_srdhm(x, 1518500250); /* sqrt(2) / 2 */
    if (sh < 0) {
        x = (int32_t)((uint32_t)x << -sh);
        sh = 0;
    }
    *mult = x;
    *shift = -sh;
}

/**
 * @brief int8 L2 normalisation of each row of in[0] ([outer, depth]).
 */
pexc_status pexc_l2_norm_s8(const pexc_l2_norm_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out || p->outer < 1 || p->depth < 1) return PEXC_ERR_ARG;
    const int8_t *x = in[0];
    int8_t *y = out;
    const size_t depth = (size_t)p->depth;
    for (size_t o = 0; o < (size_t)p->outer; o++) {
        const int8_t *row = x + o * depth;
        uint32_t acc = 0; /* TFLM's int32 sum, wrapping */
        for (size_t i = 0; i < depth; i++) {
            int32_t v = row[i] - p->input_zp;
            acc += (uint32_t)(v * v);
        }
        int32_t m, s;
        inv_sqrt((int32_t)acc, &m, &s);
        for (size_t i = 0; i < depth; i++) {
            int32_t v = pexc_requant(row[i] - p->input_zp, m, s + 7);
            y[o * depth + i] = (int8_t)(v > 127 ? 127 : v < -128 ? -128 : v);
        }
    }
    return PEXC_OK;
}

pexc_status pexc_l2_norm_f32(const pexc_l2_norm_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out || p->outer < 1 || p->depth < 1) return PEXC_ERR_ARG;
    const float *x = in[0];
    float *y = out;
    const size_t depth = (size_t)p->depth;
    for (size_t o = 0; o < (size_t)p->outer; o++) {
        const float *row = x + o * depth;
        float sq = 0.0f;
        for (size_t i = 0; i < depth; i++) sq += row[i] * row[i];
        float norm = pexc_sqrt_f32(sq);
        if (norm < 1e-6f) norm = 1e-6f;
        for (size_t i = 0; i < depth; i++) y[o * depth + i] = row[i] / norm;
    }
    return PEXC_OK;
}
