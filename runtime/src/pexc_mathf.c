/*
 * expf, expm1f and tanhf with glibc's bits on every target.
 *
 * TFLite Micro's float reference kernels call std::exp, std::expm1 (ELU) and
 * std::tanh on floats, so its outputs (and the goldens made with it on a Linux host) carry
 * the exact bits of glibc's expf and tanhf. Another C library (newlib on the
 * Cortex-M firmware) rounds differently in places, and one different bit in
 * an LSTM gate spreads through every later time step. So the runtime carries
 * its own three functions that perform glibc's arithmetic operation for
 * operation, with no libm call at all; tests/kernels/test_mathf.c compares
 * them with the host's glibc on every float bit pattern.
 *
 * expf (glibc since 2.27): x is widened to double and split as
 * x = (k/32) ln2 + r with k = round(x 32/ln2), found by adding 1.5 * 2^52 so
 * that k lands in the low bits of the sum. 2^(k/32) is built from a table of
 * 2^(i/32), i = k mod 32, whose entries already have i 2^47 subtracted from
 * their bits, so adding k 2^47 to an entry's bits both adds floor(k/32) to
 * the exponent and restores the table value. e^r - 1 over the tiny interval
 * is a degree-3 polynomial; the double product rounds once, to float, at the
 * end. Every operation is a correctly rounded IEEE double operation (soft
 * float on the M4 rounds the same), so only their order matters, and it must
 * not be fused by the compiler (-ffp-contract=off): where glibc's x86-64
 * build fuses (the reduction), the fused result is reproduced exactly with
 * a split product instead. Without that, 2 of the 2^32 inputs differed.
 *
 * tanhf (fdlibm's float algorithm, which glibc 2.36 uses): for |x| >= 1,
 * 1 - 2/(expm1(2|x|) + 2); below, -t/(t + 2) with t = expm1(-2|x|); beyond
 * 22 the result is 1 to float precision; tiny x returns x (1 + x). expm1f is
 * fdlibm's as well, all in float: reduce by k ln2 with ln2 split in a high
 * part exact for the multiples used and a low part, keep the reduction's
 * rounding error c, evaluate a rational approximation in the reduced
 * argument, then rescale by 2^k with the case analysis that keeps the
 * subtraction of 1 accurate.
 */
#include <stdint.h>
#include <string.h>

#include "pexc_kernels.h"

static uint32_t mathf_bits(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static float mathf_float(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

/* bits(2^(i/32)) - i 2^47, each 2^(i/32) rounded to nearest double */
static const uint64_t mathf_exp2_32[32] = {
    0x3ff0000000000000u, 0x3fefd9b0d3158574u, 0x3fefb5586cf9890fu, 0x3fef9301d0125b51u,
    0x3fef72b83c7d517bu, 0x3fef54873168b9aau, 0x3fef387a6e756238u, 0x3fef1e9df51fdee1u,
    0x3fef06fe0a31b715u, 0x3feef1a7373aa9cbu, 0x3feedea64c123422u, 0x3feece086061892du,
    0x3feebfdad5362a27u, 0x3feeb42b569d4f82u, 0x3feeab07dd485429u, 0x3feea47eb03a5585u,
    0x3feea09e667f3bcdu, 0x3fee9f75e8ec5f74u, 0x3feea11473eb0187u, 0x3feea589994cce13u,
    0x3feeace5422aa0dbu, 0x3feeb737b0cdc5e5u, 0x3feec49182a3f090u, 0x3feed503b23e255du,
    0x3feee89f995ad3adu, 0x3feeff76f2fb5e47u, 0x3fef199bdd85529cu, 0x3fef3720dcef9069u,
    0x3fef5818dcfba487u, 0x3fef7c97337b9b5fu, 0x3fefa4afa2a490dau, 0x3fefd0765b6e4540u,
};

float pexc_expf(float x) {
    uint32_t u = mathf_bits(x);
    if (((u >> 20) & 0x7ffu) >= 0x42bu) { /* |x| >= 88, infinities and NaN */
        if (u == 0xff800000u) return 0.0f;
        if (((u >> 20) & 0x7ffu) >= 0x7f8u) return x + x;
        if (x > 0x1.62e42ep6f) return mathf_float(0x7f800000u);
        if (x < -0x1.9fe368p6f) return 0.0f;
    }
    const double inv_ln2_32 = 0x1.71547652b82fep+0 * 32;
    const double round_shift = 0x1.8p+52;
    const double p3 = 0x1.c6af84b912394p-5 / 32 / 32 / 32;
    const double p2 = 0x1.ebfce50fac4f3p-3 / 32 / 32;
    const double p1 = 0x1.62e42ff0c52d6p-1 / 32;
    /* glibc's x86-64 build fuses x 32/ln2 + shift and x 32/ln2 - k (an FMA
     * each), so k is the integer nearest the exact product and r the exact
     * difference rounded once. The product is exact as two parts: a_hi has
     * 29 significant bits and a_lo 24, and x 24. */
    const double a_hi = 0x1.7154765p+5, a_lo = inv_ln2_32 - a_hi;
    double xd = (double)x;
    double h = a_hi * xd, l = a_lo * xd;
    double kd = (h + l) + round_shift;
    kd -= round_shift;
    double e = h - kd; /* exact: kd is an integer within 1 of h */
    double r = e + l;
    /* h + l rounded may have crossed a half; the sum's exact error says
     * which side of it the exact product lies (no product is a tie) */
    double lb = r - e;
    double err = (e - (r - lb)) + (l - lb);
    if (r > 0.5 || (r == 0.5 && err > 0.0)) {
        kd += 1.0;
        e = h - kd;
        r = e + l;
    } else if (r < -0.5 || (r == -0.5 && err < 0.0)) {
        kd -= 1.0;
        e = h - kd;
        r = e + l;
    }
    double kbits = kd + round_shift;
    uint64_t ki;
    memcpy(&ki, &kbits, sizeof ki);
    uint64_t sb = mathf_exp2_32[ki % 32] + (ki << 47);
    double s;
    memcpy(&s, &sb, sizeof s);
    double hi = p3 * r + p2;
    double r2 = r * r;
    double y = p1 * r + 1.0;
    y = hi * r2 + y;
    return (float)(y * s);
}

/* e^x - 1, fdlibm's way (ELU calls it; tanhf builds on it) */
float pexc_expm1f(float x) {
    const float ln2_hi = mathf_float(0x3f317180u), ln2_lo = mathf_float(0x3717f7d1u);
    const float inv_ln2 = mathf_float(0x3fb8aa3bu);
    const float q1 = mathf_float(0xbd088889u), q2 = mathf_float(0x3ad00d01u), q3 = mathf_float(0xb8a670cdu),
                q4 = mathf_float(0x36867e54u), q5 = mathf_float(0xb457edbbu);
    uint32_t u = mathf_bits(x), a = u & 0x7fffffffu;
    int neg = (u >> 31) != 0;
    if (a >= 0x42b17218u) { /* |x| >= 88.72, infinities and NaN */
        if (a > 0x7f800000u) return x + x;
        if (a == 0x7f800000u) return neg ? -1.0f : x;
        if (!neg) return mathf_float(0x7f800000u); /* overflow */
    }
    if (a >= 0x4195b844u && neg) return -1.0f; /* x <= -27 ln2 */
    float c = 0.0f;
    int32_t k = 0;
    if (a > 0x3eb17218u) { /* |x| > ln2 / 2: reduce by k ln2 */
        float hi, lo;
        if (a < 0x3f851592u) { /* |x| < 1.5 ln2: k = +-1 */
            k = neg ? -1 : 1;
            hi = neg ? x + ln2_hi : x - ln2_hi;
            lo = neg ? -ln2_lo : ln2_lo;
        } else {
            k = (int32_t)(inv_ln2 * x + (neg ? -0.5f : 0.5f));
            float kf = (float)k;
            hi = x - kf * ln2_hi; /* exact: ln2_hi has trailing zero bits */
            lo = kf * ln2_lo;
        }
        x = hi - lo;
        c = (hi - x) - lo;
    } else if (a < 0x33000000u) {
        return x; /* |x| < 2^-25 */
    }
    float hfx = 0.5f * x;
    float hxs = x * hfx;
    float r1 = 1.0f + hxs * (q1 + hxs * (q2 + hxs * (q3 + hxs * (q4 + hxs * q5))));
    float t = 3.0f - r1 * hfx;
    float e = hxs * ((r1 - t) / (6.0f - x * t));
    if (k == 0) return x - (x * e - hxs);
    e = x * (e - c) - c;
    e -= hxs;
    if (k == -1) return 0.5f * (x - e) - 0.5f;
    if (k == 1) {
        if (x < -0.25f) return -2.0f * (e - (x + 0.5f));
        return 1.0f + 2.0f * (x - e);
    }
    float y;
    if (k <= -2 || k > 56) {
        y = 1.0f - (e - x);
        y = mathf_float(mathf_bits(y) + ((uint32_t)k << 23));
        return y - 1.0f;
    }
    if (k < 23) {
        float one_minus = mathf_float(0x3f800000u - (0x1000000u >> k)); /* 1 - 2^-k */
        y = one_minus - (e - x);
    } else {
        float tiny = mathf_float((uint32_t)(0x7f - k) << 23); /* 2^-k */
        y = x - (e + tiny);
        y += 1.0f;
    }
    return mathf_float(mathf_bits(y) + ((uint32_t)k << 23));
}

float pexc_tanhf(float x) {
    uint32_t u = mathf_bits(x), a = u & 0x7fffffffu;
    int neg = (u >> 31) != 0;
    if (a >= 0x7f800000u) {
        if (a > 0x7f800000u) return x + x; /* NaN */
        return neg ? -1.0f : 1.0f;
    }
    float z;
    if (a >= 0x41b00000u) { /* |x| >= 22 */
        z = 1.0f;
    } else if (a == 0) {
        return x;
    } else if (a < 0x24000000u) { /* |x| < 2^-55 */
        return x * (1.0f + x);
    } else {
        float ax = mathf_float(a);
        if (a >= 0x3f800000u) {
            float t = pexc_expm1f(2.0f * ax);
            z = 1.0f - 2.0f / (t + 2.0f);
        } else {
            float t = pexc_expm1f(-2.0f * ax);
            z = -t / (t + 2.0f);
        }
    }
    return neg ? -z : z;
}
