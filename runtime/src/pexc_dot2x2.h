/*
 * Two pixels by two output channels at once: the blocked inner product of
 * the int8 convolutions (pointwise layers and the unclipped windows of the
 * others), with an Arm DSP path and its plain C twin.
 *
 * pexc_dot4_s8 (pexc_dot.h) widens each input word once for four output
 * channels but each weight word serves one pixel: 28 instructions per 16
 * multiply-accumulates on the Cortex-M4. Blocking two pixels by two channels
 * makes every widened word, input or weight, serve two products pairs: 23
 * instructions per 16 (bench/kernels_m4.py). Two accumulators more than the
 * 1x4 loop, and the fourteen registers the core gives a loop are then all
 * taken; so the input offset is taken out of the loop instead of costing a
 * register:
 *
 *     sum w * (x + off) = sum w * x + off * sum w,
 *
 * where the second term depends only on the channel's weights over the
 * taps summed. For a pointwise layer, or a window wholly inside the input,
 * those are all of the channel's weights: the caller adds off * sum w (with
 * the bias, pexc_wsum_s8) once per channel and call, and the loop multiplies
 * the bare int8 values (SXTB16, no SXTAB16 with an offset). The sums are the
 * same integers: the int32 arithmetic is exact modulo 2^32 whatever the
 * order, and the final value is the reference's, which fits int32 (the
 * lowering refuses layers whose sums could overflow). The loop's end lives
 * in memory and is read once per four input bytes, or per eight where a
 * run is a multiple of 8 bytes (21.5 instructions per 16).
 */
#ifndef PEXC_DOT2X2_H
#define PEXC_DOT2X2_H

#include "pexc_dot.h"


#ifdef PEXC_DOT_ASM
/* One step of the two-pixel loops: four input bytes of each pixel against
 * four weight bytes of each channel, 20 instructions for 16
 * multiply-accumulates (plus the loop's end test: the loops over whole
 * windows take two steps per test where the run is a multiple of 8). */
#define PEXC_D2X2_STEP \
    "ldr %[xo1], [%[xp], %[xs]]\n\t" \
    "ldr %[xo0], [%[xp]], #4\n\t" \
    "sxtb16 %[xe1], %[xo1]\n\t" \
    "sxtb16 %[xo1], %[xo1], ror #8\n\t" \
    "sxtb16 %[xe0], %[xo0]\n\t" \
    "sxtb16 %[xo0], %[xo0], ror #8\n\t" \
    "ldr %[wv], [%[wp], %[ws]]\n\t" \
    "sxtb16 %[tmp], %[wv]\n\t" \
    "sxtb16 %[wv], %[wv], ror #8\n\t" \
    "smlad %[a1], %[xe0], %[tmp], %[a1]\n\t" \
    "smlad %[a1], %[xo0], %[wv], %[a1]\n\t" \
    "smlad %[a3], %[xe1], %[tmp], %[a3]\n\t" \
    "smlad %[a3], %[xo1], %[wv], %[a3]\n\t" \
    "ldr %[wv], [%[wp]], #4\n\t" \
    "sxtb16 %[tmp], %[wv]\n\t" \
    "sxtb16 %[wv], %[wv], ror #8\n\t" \
    "smlad %[a0], %[xe0], %[tmp], %[a0]\n\t" \
    "smlad %[a0], %[xo0], %[wv], %[a0]\n\t" \
    "smlad %[a2], %[xe1], %[tmp], %[a2]\n\t" \
    "smlad %[a2], %[xo1], %[wv], %[a2]\n\t"


/* The registers of every two-pixel loop: the four sums, the widened
 * inputs of both pixels, a weight word and a scratch register. */
#define PEXC_D2X2_REGS(SUM)                                                                           \
    [xp] SUM(xp), [wp] "+&r"(wp), [a0] SUM(a0), [a1] SUM(a1), [a2] SUM(a2), [a3] SUM(a3),            \
        [xe0] "=&r"(xe0), [xo0] "=&r"(xo0), [xe1] "=&r"(xe1), [xo1] "=&r"(xo1), [wv] "=&r"(wv), \
        [tmp] "=&r"(tmp)

/* The loop of pexc_dot2x2_s8 over [x, end) in whole words: 23 instructions
 * per 16 multiply-accumulates in all fourteen allocatable registers (the
 * end is a memory operand). Not inlined, for the same reason as
 * pexc_dot4_words. */
__attribute__((noinline, unused)) static void pexc_dot2x2_words(const int8_t *x, size_t xs, const int8_t *w,
                                                                size_t ws, const int8_t *end, int32_t acc[4]) {
    const int8_t *xp = x, *wp = w;
    const int8_t *const e = end;
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t xe0, xo0, xe1, xo1, wv, tmp;
#define PEXC_D2X2_INOUT(v) "+&r"(v)
    __asm__("1:\n\t" PEXC_D2X2_STEP
            "ldr %[tmp], %[e]\n\t"
            "cmp %[xp], %[tmp]\n\t"
            "bne 1b\n\t"
            : PEXC_D2X2_REGS(PEXC_D2X2_INOUT)
            : [xs] "r"(xs), [ws] "r"(ws), [e] "m"(e)
            : "cc", "memory");
#undef PEXC_D2X2_INOUT
    const int32_t r[4] = {a0, a1, a2, a3};
    memcpy(acc, r, sizeof r);
}
#endif

/* acc[0] += sum w0 * x0, acc[1] += sum w1 * x0, acc[2] += sum w0 * x1,
 * acc[3] += sum w1 * x1, over c in [0, n), where x0 = x, x1 = x + xs,
 * w0 = w, w1 = w + ws: two pixels' runs against two channels' weights,
 * without the input offset (the caller adds off * sum w). */
static inline void pexc_dot2x2_s8(const int8_t *x, size_t xs, const int8_t *w, size_t ws, int32_t n,
                                  int32_t acc[4]) {
    int32_t c = 0;
    PEXC_COUNT_MAC(4 * (int64_t)n);
#ifdef PEXC_DOT_ASM
    if (n >= 4) {
        pexc_dot2x2_words(x, xs, w, ws, x + (n & ~3), acc);
        c = n & ~3;
    }
#endif
    const int8_t *x1 = x + xs, *w1 = w + ws;
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    for (; c < n; c++) {
        a0 += w[c] * x[c];
        a1 += w1[c] * x[c];
        a2 += w[c] * x1[c];
        a3 += w1[c] * x1[c];
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

#ifdef PEXC_DOT_ASM
/* The channel-pair loop around the two-pixel steps (pexc_dot2x2_rows): at
 * each pair's start the sums are loaded from corr (both pixels start from
 * the channel's constant) and the input pointer goes back to x0; at its end
 * the four sums are stored, the weights skip the pair's second row, and the
 * pair count (a memory operand) runs down. */
#define PEXC_D2X2_PAIR_BEGIN          \
    "2:\n\t"                          \
    "ldr %[tmp], %[cp]\n\t"           \
    "ldr %[a0], [%[tmp]]\n\t"         \
    "ldr %[a1], [%[tmp], #4]\n\t"     \
    "add %[tmp], %[tmp], #8\n\t"      \
    "str %[tmp], %[cp]\n\t"           \
    "mov %[a2], %[a0]\n\t"            \
    "mov %[a3], %[a1]\n\t"            \
    "ldr %[xp], %[x0]\n\t"
#define PEXC_D2X2_PAIR_END            \
    "ldr %[tmp], %[op]\n\t"           \
    "str %[a0], [%[tmp]]\n\t"         \
    "str %[a1], [%[tmp], #4]\n\t"     \
    "str %[a2], [%[tmp], #8]\n\t"     \
    "str %[a3], [%[tmp], #12]\n\t"    \
    "add %[tmp], %[tmp], #16\n\t"     \
    "str %[tmp], %[op]\n\t"           \
    "add %[wp], %[wp], %[ws]\n\t"     \
    "ldr %[tmp], %[cnt]\n\t"          \
    "subs %[tmp], %[tmp], #1\n\t"     \
    "str %[tmp], %[cnt]\n\t"          \
    "bne 2b\n\t"
#define PEXC_D2X2_OUT(v) "=&r"(v)

/* Several runs per window: the run count and the end of the current run
 * are memory operands too; between runs the input pointer skips to the
 * next run (the weights follow on). */
#define PEXC_D2X2_ROWS_ASM(STEPS)                                                                         \
    __asm__(PEXC_D2X2_PAIR_BEGIN "ldr %[tmp], %[e]\n\t"                                                 \
                                 "str %[tmp], %[ee]\n\t"                                                \
                                 "ldr %[tmp], %[nr]\n\t"                                                \
                                 "str %[tmp], %[rc]\n\t"                                                \
                                 "1:\n\t" STEPS "ldr %[tmp], %[ee]\n\t"                                 \
                                 "cmp %[xp], %[tmp]\n\t"                                                \
                                 "bne 1b\n\t"                                                           \
                                 "ldr %[tmp], %[rc]\n\t"                                                \
                                 "subs %[tmp], %[tmp], #1\n\t"                                          \
                                 "beq 3f\n\t"                                                           \
                                 "str %[tmp], %[rc]\n\t"                                                \
                                 "ldr %[tmp], %[skip]\n\t"                                              \
                                 "add %[xp], %[xp], %[tmp]\n\t"                                         \
                                 "ldr %[tmp], %[ee]\n\t"                                                \
                                 "ldr %[wv], %[rstep]\n\t"                                              \
                                 "add %[tmp], %[tmp], %[wv]\n\t"                                        \
                                 "str %[tmp], %[ee]\n\t"                                                \
                                 "b 1b\n\t"                                                             \
                                 "3:\n\t" PEXC_D2X2_PAIR_END                                            \
            : PEXC_D2X2_REGS(PEXC_D2X2_OUT), [cp] "+m"(cp), [op] "+m"(op), [cnt] "+m"(cnt), [rc] "+m"(rc), \
              [ee] "+m"(ee)                                                                             \
            : [xs] "r"(xs), [ws] "r"(ws), [e] "m"(e), [x0] "m"(x0), [nr] "m"(nruns), [skip] "m"(skip),    \
              [rstep] "m"(rstep)                                                                        \
            : "cc", "memory")

/* pexc_dot2x2_rows for n a positive multiple of 4, every pair of channels
 * in one assembly loop: the per-pair work (sums started from corr, stored
 * to sums, the next rows) is 20 instructions and each further run 10,
 * against some 90 per pair and run for a call of pexc_dot2x2_s8 from C.
 * The pointers and counts the outer loops keep live are memory operands:
 * the registers are the inner loop's. */
__attribute__((noinline, unused)) static void pexc_dot2x2_rows_words(const int8_t *x, size_t xs, const int8_t *w,
                                                                     int32_t n, int32_t nruns, size_t rstep,
                                                                     const int32_t *corr, int32_t npairs,
                                                                     int32_t *sums) {
    const int8_t *xp = x, *wp = w;
    const int8_t *const x0 = x, *const e = x + n, *ee = e;
    const size_t ws = (size_t)n * (size_t)nruns, skip = rstep - (size_t)n;
    const int32_t *cp = corr;
    int32_t *op = sums;
    int32_t cnt = npairs, rc = nruns;
    int32_t a0, a1, a2, a3, xe0, xo0, xe1, xo1, wv, tmp;
    if (n & 4)
        PEXC_D2X2_ROWS_ASM(PEXC_D2X2_STEP);
    else
        PEXC_D2X2_ROWS_ASM(PEXC_D2X2_STEP PEXC_D2X2_STEP);
}

/* One run (a pointwise layer): 7 instructions less per channel pair
 * without the run loop, which counts where a run is two or three words. */
#define PEXC_D2X2_RUN_ASM(STEPS)                                                             \
    __asm__(PEXC_D2X2_PAIR_BEGIN "1:\n\t" STEPS "ldr %[tmp], %[e]\n\t"                       \
                                 "cmp %[xp], %[tmp]\n\t"                                     \
                                 "bne 1b\n\t" PEXC_D2X2_PAIR_END                             \
            : PEXC_D2X2_REGS(PEXC_D2X2_OUT), [cp] "+m"(cp), [op] "+m"(op), [cnt] "+m"(cnt) \
            : [xs] "r"(xs), [ws] "r"(ws), [e] "m"(e), [x0] "m"(x0)                         \
            : "cc", "memory")

__attribute__((noinline, unused)) static void pexc_dot2x2_run_words(const int8_t *x, size_t xs, const int8_t *w,
                                                                     int32_t n, const int32_t *corr,
                                                                     int32_t npairs, int32_t *sums) {
    const int8_t *xp = x, *wp = w;
    const int8_t *const x0 = x, *const e = x + n;
    const size_t ws = (size_t)n;
    const int32_t *cp = corr;
    int32_t *op = sums;
    int32_t cnt = npairs;
    int32_t a0, a1, a2, a3, xe0, xo0, xe1, xo1, wv, tmp;
    if (n & 4)
        PEXC_D2X2_RUN_ASM(PEXC_D2X2_STEP);
    else
        PEXC_D2X2_RUN_ASM(PEXC_D2X2_STEP PEXC_D2X2_STEP);
}
#endif

/* For j in [0, npairs): sums[4j .. 4j + 3] = corr[2j], corr[2j + 1],
 * corr[2j], corr[2j + 1] plus the pexc_dot2x2_s8 sums of two pixels against
 * channels 2j and 2j + 1 over nruns runs of n bytes: run k of pixel 0 at
 * x + k * rstep, of pixel 1 xs further, its weights at w + k * n in rows
 * of ws = nruns * n bytes (the channel pairs of a convolution for one pair
 * of pixels whose windows are evenly spaced runs, a pointwise layer's one
 * run or a dense window's kernel rows; requantised afterwards). */
static inline void pexc_dot2x2_rows(const int8_t *x, size_t xs, const int8_t *w, int32_t n, int32_t nruns,
                                    size_t rstep, const int32_t *corr, int32_t npairs, int32_t *sums) {
    if (npairs <= 0 || nruns <= 0) return;
    const size_t ws = (size_t)n * (size_t)nruns;
#ifdef PEXC_DOT_ASM
    if (n >= 4 && (n & 3) == 0) {
        PEXC_COUNT_MAC(4 * (int64_t)ws * npairs);
        if (nruns == 1)
            pexc_dot2x2_run_words(x, xs, w, n, corr, npairs, sums);
        else
            pexc_dot2x2_rows_words(x, xs, w, n, nruns, rstep, corr, npairs, sums);
        return;
    }
#endif
    for (int32_t j = 0; j < npairs; j++) {
        int32_t *a = sums + 4 * j;
        a[0] = a[2] = corr[2 * j];
        a[1] = a[3] = corr[2 * j + 1];
        for (int32_t k = 0; k < nruns; k++)
            pexc_dot2x2_s8(x + (size_t)k * rstep, xs, w + (size_t)(2 * j) * ws + (size_t)k * (size_t)n, ws, n, a);
    }
}

/* sum of w[c] over c in [0, n). */
static inline int32_t pexc_wsum_s8(const int8_t *w, int32_t n) {
    int32_t s = 0, c = 0;
#ifdef PEXC_DOT_DSP
    const int32_t ones = 0x00010001;
    for (; c + 4 <= n; c += 4) {
        const int32_t wv = pexc_ld4(w + c);
        s = __smlad(__sxtb16(wv), ones, s);
        s = __smlad(pexc_sxtb16_r8(wv), ones, s);
    }
#endif
    for (; c < n; c++) s += w[c];
    return s;
}

#endif
