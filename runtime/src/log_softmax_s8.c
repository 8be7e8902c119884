/*
 * LOG_SOFTMAX int8, TFLite's fixed-point arithmetic step for step.
 *
 * Per row: the input differences to the row maximum (those above diff_min)
 * go to Q5.26, their exponentials (gemmlowp's exp on negative values, Q0.31)
 * are summed in Q12.19, and the log of the sum (>= 1, since the maximum
 * contributes exp(0) = 1) is taken in Q5.26 by TFLite's
 * log_x_for_x_greater_than_or_equal_to_1: the input is normalised to
 * [sqrt(1/2), sqrt(2)) times a power of two, whose exponent contributes
 * exponent * log(2), and the rest comes from a rational approximation around
 * 2^-1/4 with one reciprocal (Newton-Raphson). Output is (diff - log sum)
 * moved to Q4.27 and rounded into the int8 range, 127 meaning log 1 = 0.
 */
#include "pexc_kernels.h"

/* gemmlowp fixed-point helpers on raw int32 values */
static int32_t sat_add(int32_t a, int32_t b) {
    int64_t s = (int64_t)a + b;
    return s > INT32_MAX ? INT32_MAX : s < INT32_MIN ? INT32_MIN : (int32_t)s;
}
static int32_t sat_sub(int32_t a, int32_t b) {
    int64_t s = (int64_t)a - b;
    return s > INT32_MAX ? INT32_MAX : s < INT32_MIN ? INT32_MIN : (int32_t)s;
}
static int32_t add(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static int32_t clz32(uint32_t x) {
    int32_t n = 0;
    if (!x) return 32;
    while (!(x & 0x80000000u)) {
        x <<= 1;
        n++;
    }
    return n;
}
/* Shift by e, left (saturating) for e > 0, right (rounding) for e < 0. */
static int32_t mul_pot(int32_t x, int32_t e) {
    return e > 0 ? pexc_sat_shl(x, e) : e < 0 ? pexc_rdivpot(x, -e) : x;
}

/* log(x) for x >= 1 given in Q12.19, result in Q5.26. */
static int32_t log_q12_to_q5(int32_t x) {
    enum { IN_BITS = 12, ACC_BITS = 6, OUT_BITS = 5 };
    const int32_t log_2 = 1488522236, sqrt_sqrt_half = 1805811301, sqrt_half = 1518500250;
    const int32_t one_quarter = 536870912;
    const int32_t alpha_n = 117049297, alpha_d = 127690142, alpha_i = 1057819769, alpha_f = 638450708;
    const int32_t shifted_quarter = mul_pot(one_quarter, -ACC_BITS);

    int32_t za_h1 = clz32((uint32_t)x);
    int32_t ra_tmp = mul_pot(x, za_h1 - 1);
    int32_t ra = mul_pot(pexc_srdhm(ra_tmp, sqrt_half), 1);
    int32_t za_pow2 = sat_add(mul_pot(IN_BITS - za_h1, 31 - ACC_BITS), shifted_quarter);

    int32_t zb = pexc_srdhm(x, sqrt_half);
    int32_t zb_h = clz32((uint32_t)zb) - 1;
    int32_t rb = mul_pot(x, zb_h);
    int32_t zb_pow2 = sat_sub(mul_pot(IN_BITS - zb_h, 31 - ACC_BITS), shifted_quarter);

    int32_t r = ra < rb ? ra : rb;
    int32_t z_pow2 = za_pow2 > zb_pow2 ? za_pow2 : zb_pow2;

    int64_t hs = (int64_t)r + sqrt_sqrt_half;
    int32_t p = (int32_t)((hs + (hs >= 0 ? 1 : -1)) / 2); /* RoundingHalfSum */
    int32_t q = add(r, -sqrt_sqrt_half);
    q = add(q, q);
    int32_t sq = pexc_srdhm(q, q);
    int32_t num = add(pexc_srdhm(q, r), pexc_srdhm(pexc_srdhm(q, sq), alpha_n));
    int32_t den = add(pexc_srdhm(p, add(add(alpha_i, q), pexc_srdhm(alpha_d, sq))), pexc_srdhm(alpha_f, q));
    int32_t recip = pexc_one_over_one_plus_x(den);
    int32_t num_scaled = mul_pot(num, -ACC_BITS);
    int32_t acc = add(pexc_srdhm(z_pow2, log_2), pexc_srdhm(num_scaled, recip));
    return mul_pot(acc, ACC_BITS - OUT_BITS);
}

/**
 * @brief int8 log-softmax of each row of in[0] ([outer, depth], row-major).
 */
pexc_status pexc_log_softmax_s8(const pexc_log_softmax_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out || p->outer < 1 || p->depth < 1 || p->input_left_shift < 0 ||
        p->input_left_shift > 30 || p->reverse_shift < -31 || p->reverse_shift > 30)
        return PEXC_ERR_ARG;
    const int8_t *x = in[0];
    int8_t *y = out;
    const size_t depth = (size_t)p->depth;
    for (size_t o = 0; o < (size_t)p->outer; o++) {
        const int8_t *row = x + o * depth;
        int8_t *dst = y + o * depth;
        int32_t max = -128;
        for (size_t i = 0; i < depth; i++) max = row[i] > max ? row[i] : max;
        int32_t sum = 0; /* Q12.19 */
        for (size_t i = 0; i < depth; i++) {
            int32_t diff = row[i] - max;
            if (diff >= p->diff_min) {
                int32_t d5 = pexc_requant(diff, p->input_multiplier, p->input_left_shift);
                sum = add(sum, pexc_rdivpot(pexc_exp_on_negative(d5, 5), 12));
            }
        }
        int32_t log_sum = log_q12_to_q5(sum);
        int32_t lim = pexc_requant(add(log_sum, INT32_MIN), p->reverse_multiplier, p->reverse_shift);
        if (lim < p->diff_min - 1) lim = p->diff_min - 1;
        for (size_t i = 0; i < depth; i++) {
            int32_t diff = row[i] - max;
            int32_t v = -128;
            if (diff > lim) {
                int32_t d5 = pexc_requant(diff, p->input_multiplier, p->input_left_shift);
                v = pexc_rdivpot(add(d5, -log_sum), 31 - 5 - 4) + 127;
                v = v > 127 ? 127 : v < -128 ? -128 : v;
            }
            dst[i] = (int8_t)v;
        }
    }
    return PEXC_OK;
}
