/*
 * The int16 family's fixed-point helpers against plain reference
 * arithmetic: pexc_requant_s64 (TFLM's 64-bit MultiplyByQuantizedMultiplier)
 * on random and extreme sums, multipliers and shifts, the largest
 * multipliers (rounded to Q15 they saturate at 0x7FFF) and sums past 2^47
 * (TFLM wraps; so must pexc); pexc_lut_lookup_s16 on every int16 input of
 * a random table, slopes past the int16 range included.
 */
#include <stdio.h>
#include <stdlib.h>

#include "pexc_kernels.h"

static uint64_t rng_state = 0x9E3779B97F4A7C15u;
static uint64_t rnd(void) {
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* The reference: the product in 128 bits, reduced mod 2^64 as TFLM's int64
 * arithmetic wraps, then shifted, low 32 bits kept. */
static int32_t ref_requant_s64(int64_t x, int32_t m, int32_t shift) {
    int64_t q15 = m < 0x7FFF0000 ? ((int64_t)m + 32768) / 65536 : 0x7FFF;
    int32_t total = 15 - shift;
    __int128 w = (__int128)(int64_t)((uint64_t)((__int128)x * q15) + ((uint64_t)1 << (total - 1)));
    return (int32_t)(uint32_t)(uint64_t)(w >> total);
}

static int ref_lut(int16_t x, const int16_t *lut) {
    int i = 256 + (int)((x - (x & 127)) / 128), f = x & 127;
    int slope = (int16_t)(lut[i + 1] - lut[i]);
    int d = slope * f + 64;
    d = d >= 0 ? d / 128 : -((-d + 127) / 128);
    return (int16_t)(lut[i] + d);
}

int main(void) {
    int bad = 0;
    const int64_t xs[] = {0, 1, -1, INT64_C(1) << 40, -(INT64_C(1) << 47), (INT64_C(1) << 47) - 1,
                          INT64_C(1) << 50, INT64_MAX, INT64_MIN};
    for (int i = 0; i < 200000 && bad < 5; i++) {
        int64_t x = i < 9 * 8 ? xs[i % 9] : (int64_t)rnd() >> (rnd() % 40);
        int32_t m = i % 8 == 0 ? INT32_MAX : i % 8 == 1 ? 0x7FFF0000 : (int32_t)(0x40000000u + (rnd() % 0x40000000u));
        int32_t shift = (int32_t)(rnd() % 39) - 31; /* [-31, 7] */
        int32_t got = pexc_requant_s64(x, m, shift), want = ref_requant_s64(x, m, shift);
        if (got != want) {
            printf("requant_s64(%lld, %d, %d): %d, want %d\n", (long long)x, m, shift, got, want);
            bad++;
        }
    }
    int16_t lut[513];
    for (int k = 0; k < 4 && !bad; k++) {
        for (int i = 0; i < 513; i++) lut[i] = (int16_t)(k == 3 ? (i & 1 ? 32767 : -32768) : (int)(rnd() % 65536) - 32768);
        for (int32_t x = INT16_MIN; x <= INT16_MAX && bad < 5; x++) {
            int got = pexc_lut_lookup_s16((int16_t)x, lut), want = ref_lut((int16_t)x, lut);
            if (got != want) {
                printf("lut_lookup(%d) table %d: %d, want %d\n", x, k, got, want);
                bad++;
            }
        }
    }
    if (bad) return 1;
    printf("fixedpoint_s16: ok\n");
    return 0;
}
