/*
 * Square root of a float32, correctly rounded, in integer arithmetic.
 *
 * TFLite's float kernels call std::sqrt, which IEEE 754 requires to be
 * correctly rounded, so every conforming libm and every FPU square-root
 * instruction gives the same bits. The runtime calls no libm, so the
 * result is computed here instead: the significand, scaled by an even power
 * of two so that its integer square root has 26 or 27 bits, gives the
 * truncated root and an exact remainder; rounding to 24 bits is then to
 * nearest, ties to even, with the remainder deciding whether a dropped half
 * is exactly half.
 */
#include <string.h>

#include "pexc_kernels.h"

/* floor(sqrt(v)) and v - floor(sqrt(v))^2, bit by bit. */
static uint64_t isqrt64(uint64_t v, uint64_t *rem) {
    uint64_t r = 0, bit = (uint64_t)1 << 62;
    while (bit > v) bit >>= 2;
    while (bit) {
        if (v >= r + bit) {
            v -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    *rem = v;
    return r;
}

float pexc_sqrt_f32(float x) {
    uint32_t b;
    memcpy(&b, &x, 4);
    int32_t e = (int32_t)((b >> 23) & 0xff);
    uint32_t m = b & 0x7fffffu;
    if (b == 0 || b == 0x80000000u || e == 0xff) return x; /* +-0, inf, NaN */
    if (b >> 31) {
        b = 0x7fc00000u; /* sqrt of a negative number: NaN */
        memcpy(&x, &b, 4);
        return x;
    }
    if (e == 0) { /* subnormal: normalise */
        e = 1;
        while (!(m & 0x800000u)) {
            m <<= 1;
            e--;
        }
    } else {
        m |= 0x800000u;
    }
    int32_t ex = e - 150; /* x = m * 2^ex, 2^23 <= m < 2^24 */
    uint64_t v = m;
    if (ex & 1) {
        v <<= 1;
        ex--;
    }
    v <<= 28;
    ex -= 28;
    uint64_t rem, r = isqrt64(v, &rem); /* 2^25 < r < 2^27 */
    int32_t d = r >= ((uint64_t)1 << 26) ? 3 : 2;
    uint64_t q = r >> d, low = r & (((uint64_t)1 << d) - 1), half = (uint64_t)1 << (d - 1);
    if (low > half || (low == half && (rem > 0 || (q & 1)))) q++;
    if (q == ((uint64_t)1 << 24)) {
        q >>= 1;
        d++;
    }
    int32_t p = ex / 2 + d; /* root = q * 2^p */
    b = ((uint32_t)(p + 150) << 23) | ((uint32_t)q & 0x7fffffu);
    memcpy(&x, &b, 4);
    return x;
}
