/*
 * pexc_expf, pexc_expm1f and pexc_tanhf against the host C library's expf,
 * expm1f and tanhf
 * (glibc, which TFLite Micro used when the goldens were made) on float bit
 * patterns: every result must have the same bits, any NaN matching any NaN.
 *
 * With no argument the program walks every float in the ranges the LSTM,
 * SVDF and element-wise kernels meet in practice (|x| < 128, beyond which
 * the functions are at their limits) with a stride, plus every 97th bit
 * pattern of the whole space; "all" walks all 2^32 patterns (make
 * mathf-exhaustive), which takes about two minutes on one core.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pexc_kernels.h"

typedef float (*mathf_fn)(float);

static float ref_expf(float x) { return expf(x); }
static float ref_expm1f(float x) { return expm1f(x); }
static float ref_tanhf(float x) { return tanhf(x); }

static uint64_t check_range(const char *name, mathf_fn ours, mathf_fn ref, uint64_t lo, uint64_t hi, uint64_t step) {
    uint64_t bad = 0;
    for (uint64_t b = lo; b < hi; b += step) {
        uint32_t u = (uint32_t)b;
        float x, a, e;
        memcpy(&x, &u, sizeof x);
        a = ours(x);
        e = ref(x);
        if (isnan(a) && isnan(e)) continue;
        uint32_t ua, ue;
        memcpy(&ua, &a, sizeof ua);
        memcpy(&ue, &e, sizeof ue);
        if (ua != ue) {
            if (bad < 10)
                printf("FAIL %s(%a) [0x%08x]: pexc 0x%08x (%a), libm 0x%08x (%a)\n", name, (double)x, u, ua,
                       (double)a, ue, (double)e);
            bad++;
        }
    }
    return bad;
}

static uint64_t check_fn(const char *name, mathf_fn ours, mathf_fn ref, int all) {
    uint64_t bad = 0;
    if (all) return check_range(name, ours, ref, 0, 1ull << 32, 1);
    /* the inputs where glibc's fused argument reduction (x86-64 with FMA)
     * gives other bits than the same arithmetic unfused */
    static const uint32_t fused_cases[] = {0x4202422fu, 0xc27c65d9u};
    for (size_t i = 0; i < sizeof fused_cases / sizeof fused_cases[0]; i++)
        bad += check_range(name, ours, ref, fused_cases[i], fused_cases[i] + 1ull, 1);
    /* |x| < 128: bit patterns below 0x43000000, both signs, every 3rd */
    bad += check_range(name, ours, ref, 0, 0x43000000u, 3);
    bad += check_range(name, ours, ref, 0x80000000u, 0xc3000000u, 3);
    bad += check_range(name, ours, ref, 0, 1ull << 32, 97);
    return bad;
}

int main(int argc, char **argv) {
    int all = argc > 1 && !strcmp(argv[1], "all");
    uint64_t be = check_fn("expf", pexc_expf, ref_expf, all);
    uint64_t bm = check_fn("expm1f", pexc_expm1f, ref_expm1f, all);
    uint64_t bt = check_fn("tanhf", pexc_tanhf, ref_tanhf, all);
    printf("%s: expf %llu, expm1f %llu and tanhf %llu inputs differ from the C library\n",
           all ? "all 2^32 inputs" : "sampled", (unsigned long long)be, (unsigned long long)bm,
           (unsigned long long)bt);
    return be || bm || bt ? 1 : 0;
}
