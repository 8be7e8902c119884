/*
 * Inner products of the int8 convolution-family kernels, with an Arm DSP
 * path and a plain C twin.
 *
 * Every convolution, depthwise convolution and fully-connected kernel spends
 * nearly all its time summing w * (x + offset) over int8 runs. On a core with
 * the DSP extension (Cortex-M4/M7/M33/M55: __ARM_FEATURE_DSP) four input bytes
 * are loaded as one word and widened, offset added, into two pairs of int16
 * (SXTAB16: bytes 0 and 2, then the word rotated by 8 for bytes 1 and 3); the
 * weights are widened the same way (SXTB16), so each SMLAD adds two products
 * at once. x + offset lies in [-255, 255] (x in [-128, 127], offset = -zero
 * point in [-127, 128]), so the int16 lanes never wrap, and the int32 sums are
 * the same integers the scalar loop makes: integer addition does not depend
 * on order, so both paths are byte-identical to TFLite's reference kernels
 * (the lowering refuses any layer whose worst-case sum could overflow int32).
 *
 * Four output channels share each widened input word (pexc_dot4_s8): 1.75
 * instructions per multiply-accumulate on the M4 against 3.0 for the plain
 * C twin of the same loop (bench/kernels_m4.py). Depthwise layers multiply
 * channel by channel instead of summing across channels, so pexc_dw4_s8
 * keeps four accumulators and uses SMLABB/SMLATT (one 16x16 product each)
 * on the same widened pairs. Both kernels clip a pixel's window the same
 * way (pexc_window_at).
 *
 * This header is private to the runtime (included by the kernel sources and
 * copied beside them into generated code). Builds with -DPEXC_NO_DSP take
 * the plain path on any core, which is how tests compare the two.
 */
#ifndef PEXC_DOT_H
#define PEXC_DOT_H

#include <stdint.h>
#include <string.h>

#include "pexc_kernels.h"

#if defined(__ARM_FEATURE_DSP) && !defined(PEXC_NO_DSP)
#define PEXC_DOT_DSP 1
#include <arm_acle.h>

/* Four bytes from any address (the cores with DSP allow unaligned LDR). */
static inline int32_t pexc_ld4(const int8_t *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}
/* SXTB16 and SXTAB16 of the word rotated right by 8 (bytes 1 and 3), one
 * instruction each; ACLE has no intrinsic for the rotated forms and GCC does
 * not fold a separate rotate into them. */
static inline int32_t pexc_sxtb16_r8(int32_t v) {
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(v));
    return r;
}
static inline int32_t pexc_sxtab16_r8(int32_t a, int32_t v) {
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(a), "r"(v));
    return r;
}
/* The input offset in both int16 lanes. */
static inline int32_t pexc_off2(int32_t off) {
    uint32_t h = (uint32_t)off & 0xFFFFu;
    return (int32_t)(h | (h << 16));
}
#endif

/* in [B, 1, 1, depth], out [B, 1, 1, units], tile channels within out and
 * stored there (the fully-connected kernels; tile rows are ignored). */
static inline int pexc_fc_shapes_valid(const pexc_view *in, const pexc_tile *t,
                           const pexc_view *out) {
    return pexc_view_valid(in) && pexc_view_valid(out) && t && in->h == 1 &&
           in->w == 1 && out->h == 1 && out->w == 1 && in->n == out->n &&
           t->c0 >= 0 && t->c0 <= t->c1 && t->c1 <= out->c &&
           pexc_view_stores(out, t->c0, t->c1);
}


/* Kernel taps [ky0, ky1) x [kx0, kx1) of one output pixel fall inside the
 * input; (iy, ix) is the input position of tap (0, 0). */
typedef struct {
    int32_t iy, ix;
    int32_t ky0, ky1, kx0, kx1;
} pexc_window;

/* Taps [k0, k1) of k, d apart from position i0, that land in [0, n):
 * closed form (a division or two instead of a loop over the taps). */
static inline void pexc_window_clip(int32_t i0, int32_t d, int32_t k, int32_t n, int32_t *k0,
                                    int32_t *k1) {
    int32_t lo = i0 >= 0 ? 0 : (-i0 + d - 1) / d;    /* first tap at or past 0 */
    int32_t hi = n - i0 <= 0 ? 0 : (n - i0 + d - 1) / d; /* first tap at or past n */
    if (lo > k) lo = k;
    if (hi > k) hi = k;
    if (hi < lo) hi = lo;
    *k0 = lo;
    *k1 = hi;
}

/* The window of output pixel (oy, ox) of a kh x kw convolution-family
 * kernel with p's strides, dilations and padding over input in. */
static inline void pexc_window_at(const pexc_conv_params *p, const pexc_view *in, int32_t kh,
                                  int32_t kw, int32_t oy, int32_t ox, pexc_window *win) {
    win->iy = oy * p->stride_h - p->pad_top;
    win->ix = ox * p->stride_w - p->pad_left;
    pexc_window_clip(win->iy, p->dilation_h, kh, in->h, &win->ky0, &win->ky1);
    pexc_window_clip(win->ix, p->dilation_w, kw, in->w, &win->kx0, &win->kx1);
}

/* The assembly loop needs 13 free registers, which an unoptimised build
 * (frame pointer, no register allocation worth the name) cannot give. */
#if defined(PEXC_DOT_DSP) && defined(__OPTIMIZE__)
#define PEXC_DOT_ASM 1
#endif

#ifdef PEXC_DOT_ASM
/* The loop of pexc_dot4_s8 over [x, end) (whole words) in assembly: 28
 * instructions per 16 multiply-accumulates in 13 registers (GCC's own
 * allocation of the same C spills three). Rows 2 and 3 are addressed from
 * row 0 as w + 2 * ws (+ ws). A function of its own, not inlined, so the
 * 13 registers are free whatever the caller keeps live (inlined into a
 * kernel loop, the asm can run out of registers). */
__attribute__((noinline, unused)) static void pexc_dot4_words(const int8_t *x, const int8_t *w, size_t ws,
                                                              const int8_t *end, int32_t off2,
                                                              int32_t acc[4]) {
    const int8_t *xp = x, *wp = w;
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t xe, xo, wv, tmp;
    __asm__("1:\n\t"
            "ldr %[xo], [%[xp]], #4\n\t"
            "sxtab16 %[xe], %[off2], %[xo]\n\t"
            "sxtab16 %[xo], %[off2], %[xo], ror #8\n\t"
            "ldr %[wv], [%[wp]]\n\t"
            "sxtb16 %[tmp], %[wv]\n\t"
            "sxtb16 %[wv], %[wv], ror #8\n\t"
            "smlad %[a0], %[xe], %[tmp], %[a0]\n\t"
            "smlad %[a0], %[xo], %[wv], %[a0]\n\t"
            "ldr %[wv], [%[wp], %[ws]]\n\t"
            "sxtb16 %[tmp], %[wv]\n\t"
            "sxtb16 %[wv], %[wv], ror #8\n\t"
            "smlad %[a1], %[xe], %[tmp], %[a1]\n\t"
            "smlad %[a1], %[xo], %[wv], %[a1]\n\t"
            "add %[wv], %[wp], %[ws], lsl #1\n\t"
            "ldr %[wv], [%[wv]]\n\t"
            "sxtb16 %[tmp], %[wv]\n\t"
            "sxtb16 %[wv], %[wv], ror #8\n\t"
            "smlad %[a2], %[xe], %[tmp], %[a2]\n\t"
            "smlad %[a2], %[xo], %[wv], %[a2]\n\t"
            "add %[wv], %[wp], %[ws], lsl #1\n\t"
            "ldr %[wv], [%[wv], %[ws]]\n\t"
            "sxtb16 %[tmp], %[wv]\n\t"
            "sxtb16 %[wv], %[wv], ror #8\n\t"
            "smlad %[a3], %[xe], %[tmp], %[a3]\n\t"
            "smlad %[a3], %[xo], %[wv], %[a3]\n\t"
            "add %[wp], %[wp], #4\n\t"
            "cmp %[xp], %[end]\n\t"
            "bne 1b\n\t"
            : [xp] "+&r"(xp), [wp] "+&r"(wp), [a0] "+&r"(a0), [a1] "+&r"(a1), [a2] "+&r"(a2),
              [a3] "+&r"(a3), [xe] "=&r"(xe), [xo] "=&r"(xo), [wv] "=&r"(wv), [tmp] "=&r"(tmp)
            : [end] "r"(end), [ws] "r"(ws), [off2] "r"(off2)
            : "cc", "memory");
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}
#endif

#if defined(__AVX2__) && !defined(PEXC_NO_SIMD)
#define PEXC_DOT_AVX2 1
#include <immintrin.h>

/* The host's path (x86 with AVX2: `pexc run` and the Python package's batch
 * evaluation, never a microcontroller): 16 inputs widened to int16 with the
 * offset added, against 16 weights of each row, VPMADDWD adding pairs of
 * products into int32 lanes (|pair| <= 2 * 255 * 128, no overflow). Same
 * integers as the scalar loop, summed in another order. Returns how many
 * of the n values it took (a multiple of 16). */
/* s[j] += the products of x[0, m) with row j, in int32 lanes; m a multiple of 16. */
static inline void pexc_dot4_avx2_lanes(const int8_t *x, const int8_t *w, size_t ws, int32_t m, int32_t off,
                                        __m256i s[4]) {
    const __m256i o16 = _mm256_set1_epi16((short)off);
    __m256i s0 = s[0], s1 = s[1], s2 = s[2], s3 = s[3];
    for (int32_t c = 0; c < m; c += 16) {
        const __m256i xv =
            _mm256_add_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(x + c))), o16);
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(xv, _mm256_cvtepi8_epi16(_mm_loadu_si128(
                                                             (const __m128i *)(const void *)(w + c)))));
        s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(xv, _mm256_cvtepi8_epi16(_mm_loadu_si128(
                                                             (const __m128i *)(const void *)(w + ws + c)))));
        s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(xv, _mm256_cvtepi8_epi16(_mm_loadu_si128(
                                                             (const __m128i *)(const void *)(w + 2 * ws + c)))));
        s3 = _mm256_add_epi32(s3, _mm256_madd_epi16(xv, _mm256_cvtepi8_epi16(_mm_loadu_si128(
                                                             (const __m128i *)(const void *)(w + 3 * ws + c)))));
    }
    s[0] = s0;
    s[1] = s1;
    s[2] = s2;
    s[3] = s3;
}

/* acc[j] += the sum of s[j]'s lanes: four horizontal sums at once. */
static inline void pexc_avx2_sum4(const __m256i s[4], int32_t acc[4]) {
    const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(s[0], s[1]), _mm256_hadd_epi32(s[2], s[3]));
    const __m128i r = _mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1));
    int32_t t[4];
    _mm_storeu_si128((__m128i *)(void *)t, r);
    acc[0] += t[0];
    acc[1] += t[1];
    acc[2] += t[2];
    acc[3] += t[3];
}

static inline int32_t pexc_dot4_avx2(const int8_t *x, const int8_t *w, size_t ws, int32_t n, int32_t off,
                                     int32_t acc[4]) {
    const int32_t m = n & ~15;
    if (m == 0) return 0;
    __m256i s[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                    _mm256_setzero_si256()};
    pexc_dot4_avx2_lanes(x, w, ws, m, off, s);
    pexc_avx2_sum4(s, acc);
    return m;
}

/* One row: the same as pexc_dot4_avx2 for a single weight row. */
static inline int32_t pexc_dot1_avx2(const int8_t *x, const int8_t *w, int32_t n, int32_t off, int32_t *a) {
    const int32_t m = n & ~15;
    if (m == 0) return 0;
    const __m256i o16 = _mm256_set1_epi16((short)off);
    __m256i s = _mm256_setzero_si256();
    for (int32_t c = 0; c < m; c += 16) {
        const __m256i xv =
            _mm256_add_epi16(_mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)(const void *)(x + c))), o16);
        s = _mm256_add_epi32(s, _mm256_madd_epi16(xv, _mm256_cvtepi8_epi16(_mm_loadu_si128(
                                                          (const __m128i *)(const void *)(w + c)))));
    }
    __m128i r = _mm_add_epi32(_mm256_castsi256_si128(s), _mm256_extracti128_si256(s, 1));
    r = _mm_hadd_epi32(r, r);
    r = _mm_hadd_epi32(r, r);
    *a += _mm_cvtsi128_si32(r);
    return m;
}
#endif

/* acc[j] += sum over c in [0, n) of w[j * ws + c] * (x[c] + off), j = 0..3:
 * four rows of weights (ws bytes apart) against one input run. */
static inline void pexc_dot4_s8(const int8_t *x, const int8_t *w, size_t ws, int32_t n,
                                int32_t off, int32_t acc[4]) {
    const int8_t *w0 = w, *w1 = w + ws, *w2 = w1 + ws, *w3 = w2 + ws;
    int32_t c = 0;
    PEXC_COUNT_MAC(4 * (int64_t)n);
#ifdef PEXC_DOT_AVX2
    c = pexc_dot4_avx2(x, w, ws, n, off, acc);
#endif
#ifdef PEXC_DOT_ASM
    if (n >= 4) {
        pexc_dot4_words(x, w, ws, x + (n & ~3), pexc_off2(off), acc);
        c = n & ~3;
    }
#endif
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
#if defined(PEXC_DOT_DSP) && !defined(PEXC_DOT_ASM)
    const int32_t off2 = pexc_off2(off);
    for (; c + 4 <= n; c += 4) {
        const int32_t xv = pexc_ld4(x + c);
        const int32_t xe = __sxtab16(off2, xv), xo = pexc_sxtab16_r8(off2, xv);
        int32_t wv = pexc_ld4(w0 + c);
        a0 = __smlad(xo, pexc_sxtb16_r8(wv), __smlad(xe, __sxtb16(wv), a0));
        wv = pexc_ld4(w1 + c);
        a1 = __smlad(xo, pexc_sxtb16_r8(wv), __smlad(xe, __sxtb16(wv), a1));
        wv = pexc_ld4(w2 + c);
        a2 = __smlad(xo, pexc_sxtb16_r8(wv), __smlad(xe, __sxtb16(wv), a2));
        wv = pexc_ld4(w3 + c);
        a3 = __smlad(xo, pexc_sxtb16_r8(wv), __smlad(xe, __sxtb16(wv), a3));
    }
#endif
    for (; c < n; c++) {
        const int32_t xv = x[c] + off;
        a0 += w0[c] * xv;
        a1 += w1[c] * xv;
        a2 += w2[c] * xv;
        a3 += w3[c] * xv;
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* sum over c in [0, n) of w[c] * (x[c] + off). */
static inline int32_t pexc_dot1_s8(const int8_t *x, const int8_t *w, int32_t n, int32_t off) {
    int32_t a = 0, c = 0;
    PEXC_COUNT_MAC(n);
#ifdef PEXC_DOT_AVX2
    c = pexc_dot1_avx2(x, w, n, off, &a);
#endif
#ifdef PEXC_DOT_DSP
    const int32_t off2 = pexc_off2(off);
    for (; c + 4 <= n; c += 4) {
        const int32_t xv = pexc_ld4(x + c), wv = pexc_ld4(w + c);
        a = __smlad(__sxtab16(off2, xv), __sxtb16(wv), a);
        a = __smlad(pexc_sxtab16_r8(off2, xv), pexc_sxtb16_r8(wv), a);
    }
#endif
    for (; c < n; c++) a += w[c] * (x[c] + off);
    return a;
}

/* acc[j] += w[j] * (x[j] + off), j = 0..3, over ntaps taps: input tap k at
 * x + ti[k], its weights at w + tf[k]. Four consecutive channels of a
 * depthwise layer, whose output channel j reads input channel j; with
 * one_in, all four read x[0] instead (four outputs of one input channel,
 * a depth multiplier that is a multiple of 4). */
static inline void pexc_dw4_s8(const int8_t *x, const int8_t *w, const size_t *ti, const size_t *tf,
                               int32_t ntaps, int32_t off, int one_in, int32_t acc[4]) {
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    PEXC_COUNT_MAC(4 * (int64_t)ntaps);
    for (int32_t k = 0; k < ntaps; k++) {
        const int8_t *xk = x + ti[k], *wk = w + tf[k];
#ifdef PEXC_DOT_DSP
        int32_t xe, xo; /* channels 0 and 2, 1 and 3, offset added */
        if (one_in) {
            const uint32_t v = (uint32_t)(xk[0] + off) & 0xFFFFu;
            xe = xo = (int32_t)(v | (v << 16));
        } else {
            const int32_t xv = pexc_ld4(xk);
            xe = __sxtab16(pexc_off2(off), xv);
            xo = pexc_sxtab16_r8(pexc_off2(off), xv);
        }
        const int32_t wv = pexc_ld4(wk);
        const int32_t we = __sxtb16(wv), wo = pexc_sxtb16_r8(wv);
        a0 = __smlabb(xe, we, a0);
        a2 = __smlatt(xe, we, a2);
        a1 = __smlabb(xo, wo, a1);
        a3 = __smlatt(xo, wo, a3);
#else
        const int32_t x0 = xk[0] + off;
        a0 += wk[0] * x0;
        a1 += wk[1] * (one_in ? x0 : xk[1] + off);
        a2 += wk[2] * (one_in ? x0 : xk[2] + off);
        a3 += wk[3] * (one_in ? x0 : xk[3] + off);
#endif
    }
    acc[0] = a0;
    acc[1] = a1;
    acc[2] = a2;
    acc[3] = a3;
}

/* ---- four-unit blocks (pexc_fc_il4_index) ---------------------------------
 *
 * Weights the compiler laid out so that four output units' weights for four
 * inputs are 16 adjacent bytes (fully_connected_il.c explains the layout):
 * the fully-connected kernels over it and the gathered-window first layers
 * (pexc_gather_tile with PEXC_FILTER_GATHER_IL4) share these loops. */
#ifdef PEXC_DOT_DSP
/* One word of inputs against a block's 16 bytes for it: acc[r] += the four
 * products of row r. */
static inline void pexc_il4_word(const int8_t *x, const int8_t *w, int32_t off2, int32_t acc[4]) {
    const int32_t xv = pexc_ld4(x);
    const int32_t xe = __sxtab16(off2, xv), xo = pexc_sxtab16_r8(off2, xv);
    for (int r = 0; r < 4; r++) {
        const int32_t wv = pexc_ld4(w + 4 * r);
        acc[r] = __smlad(xo, pexc_sxtb16_r8(wv), __smlad(xe, __sxtb16(wv), acc[r]));
    }
}
#endif

#if defined(PEXC_DOT_ASM)
/* Two input words a pass for np passes (np >= 1): x any address, w
 * word-aligned (LDRD). 13 registers, as pexc_dot4_words; not inlined for
 * the same reason. */
#define PEXC_IL4_ROWS2(A, B)                                                                                            \
    "ldrd %[w0], %[w1], [%[wp]], #8\n\t"                                                                             \
    "sxtb16 %[t], %[w0]\n\t"                                                                                         \
    "sxtb16 %[w0], %[w0], ror #8\n\t"                                                                                \
    "smlad %[" A "], %[xe], %[t], %[" A "]\n\t"                                                                      \
    "smlad %[" A "], %[xo], %[w0], %[" A "]\n\t"                                                                     \
    "sxtb16 %[t], %[w1]\n\t"                                                                                         \
    "sxtb16 %[w1], %[w1], ror #8\n\t"                                                                                \
    "smlad %[" B "], %[xe], %[t], %[" B "]\n\t"                                                                      \
    "smlad %[" B "], %[xo], %[w1], %[" B "]\n\t"
#define PEXC_IL4_WORD                                                                                                   \
    "ldr %[xo], [%[xp]], #4\n\t"                                                                                     \
    "sxtab16 %[xe], %[off2], %[xo]\n\t"                                                                              \
    "sxtab16 %[xo], %[off2], %[xo], ror #8\n\t" PEXC_IL4_ROWS2("a0", "a1") PEXC_IL4_ROWS2("a2", "a3")

__attribute__((noinline, unused)) static void pexc_il4_words(const int8_t *x, const int8_t *w, int32_t np, int32_t off2,
                                                  int32_t acc[4]) {
    const int8_t *xp = x, *wp = w;
    int32_t a0 = acc[0], a1 = acc[1], a2 = acc[2], a3 = acc[3];
    int32_t xe, xo, w0, w1, t, n = np;
    __asm__("1:\n\t" PEXC_IL4_WORD PEXC_IL4_WORD
            "subs %[n], %[n], #1\n\t"
            "bne 1b\n\t"
            : [xp] "+&r"(xp), [wp] "+&r"(wp), [n] "+&r"(n), [a0] "+&r"(a0), [a1] "+&r"(a1), [a2] "+&r"(a2),
              [a3] "+&r"(a3), [xe] "=&r"(xe), [xo] "=&r"(xo), [w0] "=&r"(w0), [w1] "=&r"(w1), [t] "=&r"(t)
            : [off2] "r"(off2)
            : "cc", "memory");
    const int32_t sums[4] = {a0, a1, a2, a3};
    memcpy(acc, sums, sizeof sums);
}
#endif

#ifdef PEXC_DOT_DSP
/* acc[r] += nw input words from x against the block words at w (16 bytes
 * each): pairs through the assembly loop where w is word-aligned. */
static inline void pexc_il4_run(const int8_t *x, const int8_t *w, int32_t nw, int32_t off, int32_t acc[4]) {
    const int32_t off2 = pexc_off2(off);
#ifdef PEXC_DOT_ASM
    if (((uintptr_t)w & 3) == 0 && nw >= 2) {
        pexc_il4_words(x, w, nw >> 1, off2, acc);
        x += 4 * (nw & ~1);
        w += 16 * (nw & ~1);
        nw &= 1;
    }
#endif
    for (; nw > 0; nw--, x += 4, w += 16) pexc_il4_word(x, w, off2, acc);
}
#endif

/* acc[r] += the whole depth of a four-unit block at blk (word-aligned for
 * the assembly loop) against x: whole words, then the depth's last
 * depth % 4 inputs, stored row after row. */
static inline void pexc_il4_dot(const int8_t *x, const int8_t *blk, int32_t depth, int32_t off, int32_t acc[4]) {
    int32_t d = 0;
#ifdef PEXC_DOT_DSP
    pexc_il4_run(x, blk, depth >> 2, off, acc);
    d = depth & ~3;
#endif
    for (int r = 0; r < 4 && d < depth; r++) {
        int32_t a = 0;
        for (int32_t j = d; j < depth; j++) a += blk[pexc_fc_il4_index(4, depth, r, j)] * (x[j] + off);
        acc[r] += a;
    }
}

/* ---- small windows gathered, then one run per channel ---------------------
 *
 * A first layer (one to a few input channels) has short kernel rows: as
 * runs of memory the window is kh pieces of kw * Cin bytes (3 for a keyword
 * spotter's 10x4 one-channel convolution, 9 for an RGB 3x3 one), and each
 * piece costs a call into the inner product, with a scalar tail, for every
 * four output channels. Copying the pixel's window once into a small buffer
 * (taps in row-major order, each tap's Cin channels, on the stack) makes it
 * one run of kh * kw * Cin bytes shared by all output channels, against a
 * filter laid out [Cout][kh][kw][Cin] (a convolution's own layout; the
 * compiler lays a one-channel depthwise filter out so, see
 * pexc_conv_params.filter_by_channel), or, with filter_by_channel
 * PEXC_FILTER_GATHER_IL4, that matrix [Cout][kh * kw * Cin] laid out in
 * four-unit blocks, whose loop (pexc_il4_dot) takes 1.41 instructions per
 * multiply-accumulate on the M4 against pexc_dot4_s8's 1.75. A tap outside the input is stored as
 * -input_offset, the input zero point: its x + offset is 0, so it adds
 * nothing, as the skipped tap of the reference kernel, and the sums are the
 * same integers. */

/* How pexc_gather_window copies a run of n bytes; a core with wider loads
 * (mve_conv.c) defines its own before including this header. */
#ifndef PEXC_GATHER_COPY
#define PEXC_GATHER_COPY(dst, src, n) memcpy((dst), (src), (n))
#endif

/* What pexc_gather_window needs of a layer, worked out once per call. */
typedef struct {
    int32_t k;               /* kh * kw * cin */
    size_t cs, dstep, rowc;  /* c_stored, the step between taps of a row, a row's bytes */
    size_t ring_end;         /* the ring's size in bytes (0: no ring) */
    int dense;               /* a kernel row is adjacent bytes */
    int8_t pad;              /* the input zero point */
} pexc_gather_geom;

static inline pexc_gather_geom pexc_gather_geom_of(const pexc_conv_params *p, const pexc_view *in, int32_t kh,
                                                   int32_t kw, int32_t cin) {
    pexc_gather_geom g;
    g.k = kh * kw * cin;
    g.cs = (size_t)in->c_stored;
    g.dstep = g.cs * (size_t)p->dilation_w;
    g.rowc = (size_t)kw * (size_t)cin;
    g.ring_end = (size_t)in->ring_px * g.cs;
    g.dense = p->dilation_w == 1 && g.cs == (size_t)cin;
    g.pad = (int8_t)-p->input_offset;
    return g;
}

/* Output pixel (oy, ox)'s kh x kw window of in (ibase: the batch index's
 * storage; in stores cin channels) copied into win, taps in the filter's
 * order, taps outside the input as the zero point; returns how many of its
 * g->k values lie inside the input. */
static inline int32_t pexc_gather_window(const pexc_conv_params *p, const pexc_view *in, const pexc_gather_geom *g,
                                         const int8_t *ibase, int32_t kh, int32_t kw, int32_t cin, int32_t oy,
                                         int32_t ox, int8_t *win) {
    pexc_window w;
    pexc_window_at(p, in, kh, kw, oy, ox, &w);
    const int32_t nx = w.kx1 - w.kx0, inside = (w.ky1 - w.ky0) * nx * cin;
    if (inside < g->k) memset(win, g->pad, (size_t)g->k);
    for (int32_t ky = w.ky0; ky < w.ky1 && nx > 0; ky++) {
        size_t i = pexc_view_index(in, 0, w.iy + ky * p->dilation_h, w.ix + w.kx0 * p->dilation_w, in->c_begin);
        int8_t *dst = win + (size_t)ky * g->rowc + (size_t)w.kx0 * (size_t)cin;
        if (g->dense && (!in->ring_px || i + (size_t)nx * g->cs <= g->ring_end)) {
            PEXC_GATHER_COPY(dst, ibase + i, (size_t)nx * (size_t)cin);
        } else {
            for (int32_t kx = 0; kx < nx; kx++, i = pexc_view_next(in, i, g->dstep), dst += cin)
                PEXC_GATHER_COPY(dst, ibase + i, (size_t)cin);
        }
    }
    return inside;
}

/* Output pixels of tile t (batch index n) of a kh x kw layer over input in
 * (ibase: the batch index's storage; in stores its cin channels), filter
 * [Cout][kh][kw][cin], into output channels [t->c0, t->c1) at obase (the
 * batch index's storage of out). Requires kh * kw * cin <= PEXC_GATHER_MAX. */
static inline void pexc_gather_tile(const pexc_conv_params *p, const pexc_view *in, const int8_t *ibase,
                                    const int8_t *filter, int32_t kh, int32_t kw, int32_t cin, const int32_t *bias,
                                    const pexc_tile *t, const pexc_view *out, int8_t *obase) {
    int8_t win[PEXC_GATHER_MAX] __attribute__((aligned(4)));
    const int32_t k = kh * kw * cin, off = p->input_offset;
    const pexc_out_q q = pexc_out_q_of(p);
    const pexc_gather_geom g = pexc_gather_geom_of(p, in, kh, kw, cin);
    const int il4 = p->filter_by_channel == PEXC_FILTER_GATHER_IL4;
    const int32_t cq = out->c & ~3; /* the channels in whole four-unit blocks */
    for (int32_t oy = t->y0; oy < t->y1; oy++) {
        const int32_t xe = pexc_tile_xe(t, oy, out->w);
        for (int32_t ox = pexc_tile_xb(t, oy); ox < xe; ox++) {
            const int32_t inside = pexc_gather_window(p, in, &g, ibase, kh, kw, cin, oy, ox, win);
            (void)inside; /* read only by PEXC_COUNT_MAC */
            int8_t *o = obase + pexc_view_index(out, 0, oy, ox, t->c0);
            int32_t oc = t->c0;
            while (il4 && oc < t->c1) { /* the filter in four-unit blocks */
                if ((oc & 3) == 0 && oc + 4 <= t->c1 && oc + 4 <= cq) {
                    int32_t acc[4] = {0, 0, 0, 0};
                    if (bias) memcpy(acc, bias + oc, sizeof acc);
                    PEXC_COUNT_MAC(4 * (int64_t)inside);
                    pexc_il4_dot(win, filter + (size_t)oc * (size_t)k, k, off, acc);
                    o[0] = pexc_out_q_s8(&q, acc[0], oc);
                    o[1] = pexc_out_q_s8(&q, acc[1], oc + 1);
                    o[2] = pexc_out_q_s8(&q, acc[2], oc + 2);
                    o[3] = pexc_out_q_s8(&q, acc[3], oc + 3);
                    oc += 4;
                    o += 4;
                } else { /* a channel outside the tile's whole blocks */
                    int32_t a = bias ? bias[oc] : 0;
                    for (int32_t j = 0; j < k; j++) a += filter[pexc_fc_il4_index(out->c, k, oc, j)] * (win[j] + off);
                    PEXC_COUNT_MAC(inside);
                    *o++ = pexc_out_q_s8(&q, a, oc++);
                }
            }
            for (; oc + 4 <= t->c1; oc += 4, o += 4) {
                int32_t acc[4] = {0, 0, 0, 0};
                if (bias) memcpy(acc, bias + oc, sizeof acc);
                pexc_dot4_s8(win, filter + (size_t)oc * (size_t)k, (size_t)k, k, off, acc);
                PEXC_COUNT_MAC(-4 * (int64_t)(k - inside)); /* the padding taps add nothing */
                o[0] = pexc_out_q_s8(&q, acc[0], oc);
                o[1] = pexc_out_q_s8(&q, acc[1], oc + 1);
                o[2] = pexc_out_q_s8(&q, acc[2], oc + 2);
                o[3] = pexc_out_q_s8(&q, acc[3], oc + 3);
            }
            for (; oc < t->c1; oc++, o++) {
                const int32_t a = pexc_dot1_s8(win, filter + (size_t)oc * (size_t)k, k, off);
                PEXC_COUNT_MAC(-(int64_t)(k - inside));
                *o = pexc_out_q_s8(&q, a + (bias ? bias[oc] : 0), oc);
            }
        }
    }
}

#endif
