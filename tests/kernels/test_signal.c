/*
 * The audio front end's kernels at their corners, with values worked out
 * from TFLM's arithmetic by hand (TFLM itself checks them on whole models
 * in tests/test_ops_audio.py): int16 wrap of the auto-scale maximum, the
 * 2^31 energy, window saturation and arithmetic shifts, the square root's
 * rounding and its two saturations (0xFFFF below 2^32, 0xFFFFFFFF above)
 * against a plain floor-root reference over every magnitude, spectral
 * subtraction from a zero estimate, negative filter-bank weights wrapping
 * mod 2^64, the log at 2 and its clamp, int32 wrap and INT32_MIN / -1,
 * narrowing casts, and a reversed strided copy.
 */
#include <stdio.h>
#include <string.h>

#include "pexc_kernels.h"

static int fails;

#define CHECK(cond, ...)                                   \
    do {                                                   \
        if (!(cond)) {                                     \
            if (fails++ < 20) {                            \
                printf("test_signal: %s: ", #cond);        \
                printf(__VA_ARGS__);                       \
                printf("\n");                              \
            }                                              \
        }                                                  \
    } while (0)

static void auto_scale(void) {
    static const struct {
        int16_t x[2];
        int32_t shift;
    } cases[] = {
        /* |-32768| wraps to -32768 in TFLM's int16 running maximum: last,
         * it leaves the shift 0; first, any later value replaces it */
        {{5, -32768}, 0},
        {{-32768, 5}, 12},
        {{1, -1}, 14},
        {{0, 0}, 0},
        {{-16384, 3}, 0},
        {{8191, 0}, 2},
        {{0, -8192}, 1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const void *in[1] = {cases[i].x};
        int32_t s = -1;
        int16_t y[2];
        pexc_signal_fft_auto_scale_params p = {2, 1};
        CHECK(pexc_signal_fft_auto_scale_s16(&p, in, &s) == PEXC_OK && s == cases[i].shift, "case %zu: shift %d",
              i, s);
        p.part = 0;
        CHECK(pexc_signal_fft_auto_scale_s16(&p, in, y) == PEXC_OK &&
                  y[0] == (int16_t)(cases[i].x[0] * (1 << cases[i].shift)) &&
                  y[1] == (int16_t)(cases[i].x[1] * (1 << cases[i].shift)),
              "case %zu: %d %d", i, y[0], y[1]);
    }
}

static void window_energy(void) {
    int16_t x[4] = {-32768, -32768, -32768, -1}, w[4] = {-32768, 32767, -32768, 1}, y[4];
    const void *in[2] = {x, w};
    pexc_signal_window_params p = {4, 4, 15};
    CHECK(pexc_signal_window_s16(&p, in, y) == PEXC_OK, "status");
    /* 2^30 >> 15 = 32768 saturates; -32768 * 32767 >> 15 = -32767; -1 >> 15 = -1 */
    CHECK(y[0] == 32767 && y[1] == -32767 && y[2] == 32767 && y[3] == -1, "%d %d %d %d", y[0], y[1], y[2], y[3]);

    int16_t bins[6] = {-32768, -32768, 3, 4, 100, 100};
    uint32_t e[3] = {7, 7, 7};
    const void *ein[1] = {bins};
    pexc_signal_energy_params ep = {0, 2, 3};
    CHECK(pexc_signal_energy_s16(&ep, ein, e) == PEXC_OK && e[0] == 2147483648u && e[1] == 25 && e[2] == 0,
          "%u %u %u", e[0], e[1], e[2]);
}

/* Plain reference: floor root by bisection, then TFLM's rounding and caps. */
static uint32_t ref_sqrt(uint64_t n) {
    uint64_t lo = 0, hi = 0xFFFFFFFFu;
    while (lo < hi) {
        uint64_t mid = (lo + hi + 1) / 2;
        if (mid * mid <= n) lo = mid;
        else hi = mid - 1;
    }
    uint64_t cap = n >> 32 ? 0xFFFFFFFFu : 0xFFFFu;
    if (lo > cap) lo = cap;
    if (n - lo * lo > lo && lo != cap) lo++;
    return (uint32_t)lo;
}

static void square_root(void) {
    uint64_t v[64];
    uint64_t seed = 0x9E3779B97F4A7C15u;
    int n = 0;
    static const uint64_t edges[] = {0, 1, 2, 3, 4, 0xFFFE0001u, 0xFFFF0000u, 0xFFFFFFFFu, 0x100000000u,
                                     0xFFFFFFFFFFFFFFFFu, 0xFFFFFFFE00000001u};
    for (size_t i = 0; i < sizeof edges / sizeof edges[0]; i++) v[n++] = edges[i];
    while (n < 64) { /* every magnitude */
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        v[n] = seed >> (n % 64);
        n++;
    }
    uint32_t y[64];
    int32_t shift = 0;
    const void *in[2] = {v, &shift};
    pexc_signal_sqrt_params p = {64};
    CHECK(pexc_signal_filter_bank_sqrt(&p, in, y) == PEXC_OK, "status");
    for (int i = 0; i < 64; i++)
        CHECK(y[i] == ref_sqrt(v[i]), "sqrt(%llu) = %u, reference %u", (unsigned long long)v[i], y[i],
              ref_sqrt(v[i]));
    shift = 40; /* outside [0, 31]: 0 */
    CHECK(pexc_signal_filter_bank_sqrt(&p, in, y) == PEXC_OK && y[9] == 0, "%u", y[9]);
}

static void subtraction_bank_log(void) {
    /* the front end's settings on 1000 from a zero estimate: part 1 makes
     * the estimate 1024000 * 409 >> 14 = 25562 (state and output), part 0
     * the output (1024000 - 25562) >> 10 = 975 above the floor 49 */
    uint32_t x[2] = {1000, 0}, state[2] = {0, 0}, est[2], y[2];
    const void *in[2] = {x, state}, *in0[2] = {x, est};
    pexc_signal_spectral_subtraction_params p = {2, 1, 409, 15975, 983, 15401, 819, 10, 14, 0};
    CHECK(pexc_signal_spectral_subtraction(&p, in, est) == PEXC_OK && est[0] == 25562 && state[0] == 25562 &&
              est[1] == 0,
          "%u %u %u", est[0], state[0], est[1]);
    p.part = 0;
    CHECK(pexc_signal_spectral_subtraction(&p, in0, y) == PEXC_OK && y[0] == 975 && y[1] == 0, "%u %u", y[0], y[1]);
    /* the next run starts from that state: (1024000 * 409 + 25562 * 15975)
     * >> 14 = 50486, output (1024000 - 50486) >> 10 = 950; channel 1 (odd:
     * the alternate coefficients) from 2^20 on 3: the estimate 985848 stays
     * above the signal 3072 (no clamping), which subtracts to the floor 0 */
    state[1] = 1u << 20;
    x[1] = 3;
    p.part = 1;
    CHECK(pexc_signal_spectral_subtraction(&p, in, est) == PEXC_OK && est[0] == 50486 && est[1] == 985848 &&
              state[1] == 985848,
          "%u %u %u", est[0], est[1], state[1]);
    p.part = 0;
    CHECK(pexc_signal_spectral_subtraction(&p, in0, y) == PEXC_OK && y[0] == 950 && y[1] == 0, "%u %u", y[0], y[1]);
    /* with clamping the stored estimate is the signal itself */
    p.part = 1;
    p.clamping = 1;
    state[1] = 1u << 20;
    CHECK(pexc_signal_spectral_subtraction(&p, in, est) == PEXC_OK && est[1] == 3072 && state[1] == 3072, "%u %u",
          est[1], state[1]);

    /* channel 1's weight -1 times 5 wraps to 2^64 - 5 */
    uint32_t spec[2] = {5, 9};
    int16_t w[1] = {-1}, uw[1] = {0}, freq[2] = {0, 0}, ws[2] = {0, 0}, width[2] = {0, 1};
    uint64_t out[1];
    const void *fin[6] = {spec, w, uw, freq, ws, width};
    pexc_signal_filter_bank_params fp = {1, 1};
    CHECK(pexc_signal_filter_bank(&fp, fin, out) == PEXC_OK && out[0] == 0xFFFFFFFFFFFFFFFBu, "%llx",
          (unsigned long long)out[0]);

    /* ln 2 * 64 through Q16: (64 * 45426 + 32768) >> 16 = 44; 0 and 1 give
     * 0; 2^32 - 1 at scale 1600 clamps to 32767 */
    uint32_t lx[4] = {2, 1, 0, 0xFFFFFFFFu};
    int16_t ly[4];
    const void *lin[1] = {lx};
    pexc_signal_log_params lp = {3, 64, 0};
    CHECK(pexc_signal_filter_bank_log(&lp, lin, ly) == PEXC_OK && ly[0] == 44 && ly[1] == 0 && ly[2] == 0, "%d %d %d",
          ly[0], ly[1], ly[2]);
    pexc_signal_log_params big = {4, 1600, 0};
    CHECK(pexc_signal_filter_bank_log(&big, lin, ly) == PEXC_OK && ly[3] == 32767, "%d", ly[3]);
}

static void integer_ops(void) {
    int32_t a[4] = {INT32_MIN, INT32_MAX, -7, 46341}, b[4] = {-1, 1, 2, 46341}, y[4];
    const void *in[2] = {a, b};
    pexc_arith_s32_params p = {PEXC_ARITH_DIV, 1, {4, 1, 1, 1, 1, 1}, {1}, {1}, INT32_MIN, INT32_MAX};
    CHECK(pexc_arith_s32(&p, in, y) == PEXC_OK && y[0] == INT32_MIN && y[1] == INT32_MAX && y[2] == -3 && y[3] == 1,
          "div %d %d %d %d", y[0], y[1], y[2], y[3]);
    p.op = PEXC_ARITH_ADD;
    CHECK(pexc_arith_s32(&p, in, y) == PEXC_OK && y[1] == INT32_MIN && y[0] == INT32_MAX, "add %d %d", y[0], y[1]);
    p.op = PEXC_ARITH_MUL;
    CHECK(pexc_arith_s32(&p, in, y) == PEXC_OK && y[3] == (int32_t)(46341u * 46341u), "mul %d", y[3]);
    p.op = PEXC_ARITH_SUB;
    p.act_min = 0;
    p.act_max = 6;
    CHECK(pexc_arith_s32(&p, in, y) == PEXC_OK && y[0] == 0 && y[1] == 6 && y[2] == 0 && y[3] == 0, "sub relu6 %d %d",
          y[0], y[1]);

    uint32_t u[3] = {0xFFFFFFFFu, 0x80000000u, 127};
    int8_t s8[3];
    const void *cin[1] = {u};
    pexc_cast_int_params cp = {3, PEXC_INT_U32, PEXC_INT_S8};
    CHECK(pexc_cast_int(&cp, cin, s8) == PEXC_OK && s8[0] == -1 && s8[1] == 0 && s8[2] == 127, "cast %d %d", s8[0],
          s8[1]);
    int32_t i32[3];
    cp.to = PEXC_INT_S32;
    CHECK(pexc_cast_int(&cp, cin, i32) == PEXC_OK && i32[0] == -1 && i32[1] == INT32_MIN, "cast %d", i32[1]);

    /* a [2][5] int16 tensor, row 1 backwards with step 2: 9, 7, 5 */
    int16_t t[10] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, r[3] = {0, 0, 0};
    const void *sin[1] = {t};
    pexc_strided_copy_params sp = {2, {0, 0, 0, 1, 4}, {1, 1, 1, 1, -2}, {1, 1, 1, 1, 3}, {10, 10, 10, 5, 1}};
    CHECK(pexc_strided_copy(&sp, sin, r) == PEXC_OK && r[0] == 9 && r[1] == 7 && r[2] == 5, "%d %d %d", r[0], r[1],
          r[2]);
}

int main(void) {
    auto_scale();
    window_energy();
    square_root();
    subtraction_bank_log();
    integer_ops();
    if (fails) {
        printf("test_signal: %d checks failed\n", fails);
        return 1;
    }
    printf("test_signal: ok\n");
    return 0;
}
