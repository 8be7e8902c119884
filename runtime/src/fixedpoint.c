/*
 * Fixed-point arithmetic with TFLite's rounding. These three functions are the
 * whole of requantisation: every int8 kernel funnels its int32 accumulators
 * through pexc_requant(), so they must match TFLite bit for bit, including the
 * saturating corner case and round-half-away-from-zero in the final shift.
 * The second part holds gemmlowp's fixed-point exp and reciprocal, shared by
 * the softmax and logistic kernels, in the same exact arithmetic.
 */
#include "pexc_kernels.h"

#ifdef PEXC_COUNT_MACS
uint64_t pexc_mac_count;
#endif

int32_t pexc_srdhm(int32_t a, int32_t b) {
    if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
    int64_t ab = (int64_t)a * (int64_t)b;
    int64_t nudge = ab >= 0 ? (INT64_C(1) << 30) : (1 - (INT64_C(1) << 30));
    return (int32_t)((ab + nudge) / (INT64_C(1) << 31));
}

int32_t pexc_rdivpot(int32_t x, int32_t exponent) {
    int32_t mask = (int32_t)((UINT32_C(1) << exponent) - 1u);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

int32_t pexc_requant(int32_t x, int32_t multiplier, int32_t shift) {
    int32_t left = shift > 0 ? shift : 0;
    int32_t right = shift > 0 ? 0 : -shift;
    /* TFLite multiplies in int32; do it in uint32 so wrap-around is defined. */
    int32_t shifted = (int32_t)((uint32_t)x << left);
    return pexc_rdivpot(pexc_srdhm(shifted, multiplier), right);
}

/* ---- gemmlowp fixed-point exp and reciprocal (softmax, logistic) ---------- */

/* gemmlowp SaturatingRoundingMultiplyByPOT for a positive exponent. */
int32_t pexc_sat_shl(int32_t x, int32_t e) {
    int32_t threshold = (int32_t)((UINT32_C(1) << (31 - e)) - 1u);
    if (x > threshold) return INT32_MAX;
    if (x < -threshold) return INT32_MIN;
    return (int32_t)((uint32_t)x << e);
}

/* exp(a) for a in [-1/4, 0), a and the result in Q0.31. */
static int32_t exp_quarter_interval(int32_t a) {
    const int32_t exp_m1_8 = 1895147668; /* exp(-1/8) */
    const int32_t one_third = 715827883;
    int32_t x = a + (1 << 28); /* Taylor expansion around -1/8 */
    int32_t x2 = pexc_srdhm(x, x);
    int32_t x3 = pexc_srdhm(x2, x);
    int32_t x4 = pexc_srdhm(x2, x2);
    int32_t x4_4 = pexc_rdivpot(x4, 2);
    int32_t poly = pexc_rdivpot(pexc_srdhm(x4_4 + x3, one_third) + x2, 1);
    return exp_m1_8 + pexc_srdhm(exp_m1_8, x + poly);
}

/* gemmlowp exp_on_negative_values: a <= 0 in Q(int_bits).(31-int_bits),
 * result exp(a) in Q0.31. */
int32_t pexc_exp_on_negative(int32_t a, int32_t int_bits) {
    static const int32_t factor[7] = {
        1672461947, /* exp(-1/4) */
        1302514674, /* exp(-1/2) */
        790015084,  /* exp(-1) */
        290630308,  /* exp(-2) */
        39332535,   /* exp(-4) */
        720401,     /* exp(-8) */
        242,        /* exp(-16) */
    };
    int32_t frac_bits = 31 - int_bits;
    int32_t quarter = (int32_t)1 << (frac_bits - 2);
    int32_t a_mod_q = (a & (quarter - 1)) - quarter;
    int32_t result = exp_quarter_interval(pexc_sat_shl(a_mod_q, int_bits));
    int32_t rem = a_mod_q - a;
    for (int32_t k = -2; k <= 4; k++) {
        if (int_bits > k && (rem & ((int32_t)1 << (frac_bits + k))))
            result = pexc_srdhm(result, factor[k + 2]);
    }
    if (int_bits > 5 && a < -((int32_t)1 << (36 - int_bits))) result = 0;
    if (a == 0) result = INT32_MAX;
    return result;
}

/* gemmlowp's Newton-Raphson division: a in Q0.31 (value in [0, 1]), returns
 * 2 / (1 + a) in Q2.29. Both one_over_one_plus_x (logistic, softmax) and
 * one_minus_x_over_one_plus_x (tanh) start from this same estimate. */
int32_t pexc_two_over_one_plus_x(int32_t a) {
    int64_t s = (int64_t)a + INT32_MAX;
    int32_t half_den = (int32_t)((s + (s >= 0 ? 1 : -1)) / 2); /* RoundingHalfSum */
    /* Newton-Raphson in Q2.29 starting from 48/17 - 32/17 * half_den. */
    int32_t x = 1515870810 + pexc_srdhm(half_den, -1010580540);
    for (int i = 0; i < 3; i++) {
        int32_t hdx = pexc_srdhm(half_den, x);
        /* gemmlowp adds in plain int32: wrap as it does on every target
         * (reached only for out-of-range inputs, e.g. an int8 DIV by zero) */
        int32_t one_minus = (int32_t)((uint32_t)(1 << 29) - (uint32_t)hdx);
        x = (int32_t)((uint32_t)x + (uint32_t)pexc_sat_shl(pexc_srdhm(x, one_minus), 2));
    }
    return x;
}

/* gemmlowp one_over_one_plus_x_for_x_in_0_1: a in Q0.31 (value in [0, 1]),
 * returns 1 / (1 + a) in Q0.31. */
int32_t pexc_one_over_one_plus_x(int32_t a) { return pexc_sat_shl(pexc_two_over_one_plus_x(a), 1); }
