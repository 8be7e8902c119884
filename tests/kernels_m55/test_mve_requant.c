/*
 * The Helium requantisation (mve_requant4 in runtime/src/mve_requant.h) against
 * the plain C one (pexc_requant: TFLite's MultiplyByQuantizedMultiplier),
 * four lanes at a time, in the guest.
 *
 * The vector form differs from TFLite's arithmetic in two places that only
 * some values reach, so they are aimed at rather than left to chance:
 * exact halves after the shift (x * m / 2^31 landing on k + 1/2 in units of
 * 2^r, where VRSHL rounds up and TFLite away from zero), negative sums, the
 * extremes of int32 and of the multiplier, left shifts and shift 0. The rest
 * are random (xorshift32). Includes the runtime's private header to reach
 * the static function. Prints one line per mismatch (at most 10) and exits 1.
 */
#include <stdio.h>

#include "../../runtime/src/mve_kernels.h"

#ifndef PEXC_MVE
#error "built without integer MVE: nothing to test"
#endif
#include "../../runtime/src/mve_requant.h"

static uint32_t rng = 0x12345678u;
static uint32_t next(void) {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return rng;
}

static long checks, bad;

/* Four lanes: sums a[], multipliers m[], shifts s[], output zero point zp,
 * no clamp beyond int8 unless lo/hi say. */
static void check4(const int32_t a[4], const int32_t m[4], const int32_t s[4], int32_t zp, int32_t lo, int32_t hi) {
    int8_t got[4];
    const mve_q q = {m, s, zp, lo, hi};
    int32x4_t v = vldrwq_s32(a);
    mve_requant4(&q, v, 0, 4, got);
    for (int j = 0; j < 4; j++) {
        int32_t want = pexc_requant(a[j], m[j], s[j]) + zp;
        if (want < lo) want = lo;
        if (want > hi) want = hi;
        checks++;
        if (got[j] != (int8_t)want && bad++ < 10)
            printf("requant(%ld, mult %ld, shift %ld) + %ld: MVE %d, plain C %ld\n", (long)a[j], (long)m[j],
                   (long)s[j], (long)zp, got[j], (long)want);
    }
}

int main(void) {
    int32_t a[4], m[4], s[4];
    /* exact halves: with m = 2^30 the high multiply is x / 2 exactly (x even),
     * so x = (2k + 1) * 2^r lands on a half after the shift by r */
    for (int32_t r = 1; r <= 12; r++) {
        for (int32_t k = -300; k < 300; k += 4) {
            for (int j = 0; j < 4; j++) {
                a[j] = (2 * (k + j) + 1) * (1 << r);
                m[j] = 1 << 30;
                s[j] = -r;
            }
            check4(a, m, s, 0, -128, 127);
        }
    }
    /* extremes */
    const int32_t ext[] = {INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX - 1, INT32_MAX, -(1 << 30), 1 << 30};
    const int32_t mults[] = {INT32_MAX, 1 << 30, (1 << 30) + 1, 1518500250, INT32_MIN};
    for (unsigned i = 0; i < sizeof ext / sizeof ext[0]; i++)
        for (unsigned u = 0; u < sizeof mults / sizeof mults[0]; u++)
            for (int32_t sh = -31; sh <= 3; sh += 2) {
                for (int j = 0; j < 4; j++) {
                    a[j] = ext[i];
                    m[j] = mults[u];
                    s[j] = sh + (j & 1);
                }
                check4(a, m, s, 0, -128, 127);
            }
    /* random sums and multipliers, the shifts of real layers and beyond */
    for (int it = 0; it < 200000; it++) {
        const int32_t spread = (int32_t)(next() % 31u);
        for (int j = 0; j < 4; j++) {
            a[j] = (int32_t)next() >> spread;
            m[j] = (int32_t)((1u << 30) + (next() >> 2));
            s[j] = (int32_t)(next() % 26u) - 22;
        }
        const int32_t zp = (int32_t)(next() % 256u) - 128;
        check4(a, m, s, zp, it & 1 ? -128 : zp, 127);
    }
    if (bad) {
        printf("test_mve_requant: %ld of %ld differ\n", bad, checks);
        return 1;
    }
    printf("test_mve_requant: OK (%ld lanes)\n", checks);
    return 0;
}
