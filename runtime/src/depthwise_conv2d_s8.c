/*
 * DEPTHWISE_CONV_2D, int8, with a depth multiplier, as TFLite's reference
 * integer kernel computes it.
 *
 * Output channel oc = ic * depth_mult + m is made from input channel
 * ic = oc / depth_mult alone:
 *
 *     acc = sum over (ky, kx) of filter[0][ky][kx][oc] * (in[.., ic] + input_offset)
 *
 * with the same tap positions, skipped out-of-input taps, bias, requantisation
 * and clamp as CONV_2D. Because an output channel slice needs only the matching
 * input channel slice, the input view of a tile [c0, c1) has to store only
 * channels [c0 / depth_mult, (c1 - 1) / depth_mult]; this is what lets a chain
 * of channel-sliced operators run through a depthwise layer.
 *
 * Along a kernel row the input offset advances by pexc_view_next: in a pixel
 * ring an input row may wrap around the end of the buffer. The taps of a
 * pixel are listed once for all its channels, and the next pixel of a row
 * takes the list over moved on by the stride. Four channels go through each
 * tap together (pexc_dw4_s8: one word of weights, SMLABB/SMLATT on a core
 * with the DSP extension), reading four input channels (depth multiplier 1)
 * or one (a multiplier that is a multiple of 4). A layer with one input
 * channel (a first layer) instead gathers each pixel's window and takes
 * four channels at a time over all its taps at once (pexc_gather_tile,
 * with the filter the compiler laid out by channel).
 */
#include "pexc_dot.h"
#include "mve_kernels.h"

/* Taps kept at once (on the stack); a larger window is walked in pieces. */
#define DW_TAPS 25

/* Channels of one 3x3 pixel summed at once (int32 sums on the stack). */
#define DW3_CHUNK 32

/* Offsets of the window's taps from tap number *pos on (tap (ky, kx) is
 * number (ky - ky0) * (kx1 - kx0) + kx - kx0), at most DW_TAPS of them: ti
 * into the input (channel c_begin, from the batch index's storage), tf into
 * the filter (channel 0). *pos moves past the taps taken. */
static int32_t dw_taps(const pexc_conv_params *p, const pexc_view *in, int32_t kw, size_t cout,
                       const pexc_window *win, int32_t *pos, size_t *ti, size_t *tf) {
    const int32_t ntap = win->kx1 - win->kx0;
    const int32_t total = ntap > 0 ? (win->ky1 - win->ky0) * ntap : 0;
    const size_t pix_stride = (size_t)in->c_stored * (size_t)p->dilation_w;
    int32_t k = 0;
    if (*pos >= total) return 0;
    int32_t ky = win->ky0 + *pos / ntap, kx = win->kx0 + *pos % ntap;
    while (k < DW_TAPS && ky < win->ky1) {
        /* along a row, the next tap is one pixel step on (wrapping in a ring) */
        size_t i = pexc_view_index(in, 0, win->iy + ky * p->dilation_h, win->ix + kx * p->dilation_w,
                                   in->c_begin);
        size_t f = ((size_t)ky * (size_t)kw + (size_t)kx) * cout;
        for (; kx < win->kx1 && k < DW_TAPS; kx++, k++) {
            ti[k] = i;
            tf[k] = f;
            i = pexc_view_next(in, i, pix_stride);
            f += cout;
        }
        if (kx == win->kx1) {
            kx = win->kx0;
            ky++;
        }
    }
    *pos += k;
    return k;
}

/* Output channels [c0, c1) of one output pixel into o[0 .. c1 - c0). Four
 * channels go together when they read four adjacent input channels (depth
 * multiplier 1) or one input channel (a multiplier that is a multiple of 4,
 * from a channel that is too); the others one by one. ti, tf hold the
 * window's first n0 taps (dw_taps from tap 0); a window of more than
 * DW_TAPS taps is walked again in pieces for each channel group, through
 * ti and tf. */
static void dw_pixel(const pexc_conv_params *p, int32_t depth_mult, const pexc_view *in,
                     const int8_t *ibase, const int8_t *filter, int32_t kw, const int32_t *bias,
                     const pexc_window *win, size_t *ti, size_t *tf, int32_t n0, int32_t c0,
                     int32_t c1, int8_t *o) {
    const size_t cout = (size_t)in->c * (size_t)depth_mult;
    const int32_t off = p->input_offset;
    const pexc_out_q q = pexc_out_q_of(p);
    int32_t pos = n0;
    const int more = n0 == DW_TAPS; /* the window may hold more taps */
    int32_t oc = c0;
    if (depth_mult == 1 && !more) {
        /* the common case in a tight loop: bias first, four outputs */
        const int8_t *x = ibase + (c0 - in->c_begin), *f = filter + c0;
        int8_t *ob = o;
        for (; oc + 4 <= c1; oc += 4, x += 4, f += 4, ob += 4) {
            int32_t acc[4] = {0, 0, 0, 0};
            if (bias) memcpy(acc, bias + oc, sizeof acc);
            pexc_dw4_s8(x, f, ti, tf, n0, off, 0, acc);
            ob[0] = pexc_out_q_s8(&q, acc[0], oc);
            ob[1] = pexc_out_q_s8(&q, acc[1], oc + 1);
            ob[2] = pexc_out_q_s8(&q, acc[2], oc + 2);
            ob[3] = pexc_out_q_s8(&q, acc[3], oc + 3);
        }
    }
    while (oc < c1) {
        const int32_t ic = oc / depth_mult;
        const int32_t nj = oc + 4 <= c1 && (depth_mult == 1 || (depth_mult % 4 == 0 && oc % 4 == 0)) ? 4 : 1;
        const int8_t *x = ibase + (ic - in->c_begin), *f = filter + oc;
        int32_t acc[4] = {0, 0, 0, 0};
        int32_t n = n0, next = pos;
        if (more && oc != c0) {
            next = 0;
            n = dw_taps(p, in, kw, cout, win, &next, ti, tf);
        }
        for (;;) {
            if (nj == 1) {
                PEXC_COUNT_MAC(n);
                for (int32_t k = 0; k < n; k++) acc[0] += f[tf[k]] * (x[ti[k]] + off);
            } else if (depth_mult == 1) { /* constant flags: each call specialised */
                pexc_dw4_s8(x, f, ti, tf, n, off, 0, acc);
            } else {
                pexc_dw4_s8(x, f, ti, tf, n, off, 1, acc);
            }
            if (!more) break;
            n = dw_taps(p, in, kw, cout, win, &next, ti, tf);
            if (n == 0) break;
        }
        for (int32_t j = 0; j < nj; j++, oc++)
            o[oc - c0] = pexc_out_q_s8(&q, acc[j] + (bias ? bias[oc] : 0), oc);
    }
}


/* ---- 3x3, depth multiplier 1, whole window ------------------------------
 *
 * The common depthwise layer of MobileNet-style models. For a pixel whose
 * window lies wholly inside the input (all but the border), the nine taps
 * are three rows of three pixels at fixed offsets, so the loop over taps
 * and its offset lists go away: each tap of four channels is one input
 * word and one weight word, widened in pairs (SXTAB16 / SXTB16 on a core
 * with the DSP extension), four single products. */

/* Four accumulators, passed by value so they stay in registers (an
 * accumulator array would be stored back after every tap: the int8 loads
 * could alias it as far as the compiler knows). */
typedef struct {
    int32_t a0, a1, a2, a3;
} dw3_acc;

/* acc.aj += w[j] * (x[j] + off), j = 0..3, for one tap; off2 is the offset
 * in both int16 lanes (DSP) or plain (twin). */
static inline dw3_acc dw3_tap(dw3_acc a, const int8_t *x, const int8_t *w, int32_t off2) {
#ifdef PEXC_DOT_DSP
    const int32_t xv = pexc_ld4(x), wv = pexc_ld4(w);
    const int32_t xe = __sxtab16(off2, xv), xo = pexc_sxtab16_r8(off2, xv);
    const int32_t we = __sxtb16(wv), wo = pexc_sxtb16_r8(wv);
    a.a0 = __smlabb(xe, we, a.a0);
    a.a2 = __smlatt(xe, we, a.a2);
    a.a1 = __smlabb(xo, wo, a.a1);
    a.a3 = __smlatt(xo, wo, a.a3);
#else
    a.a0 += w[0] * (x[0] + off2);
    a.a1 += w[1] * (x[1] + off2);
    a.a2 += w[2] * (x[2] + off2);
    a.a3 += w[3] * (x[3] + off2);
#endif
    return a;
}

#ifdef PEXC_DOT_ASM
/* dw3_tap nine times for each of ng groups of four channels, in assembly:
 * GCC's allocation of the same C keeps the accumulators or the row
 * pointers on the stack (about 60 instructions a window row against 32
 * here). Sums (bias first) go to s[0 .. 4 ng); x is row 0 at the window's
 * first pixel (rows 1 and 2 are g->d1 and g->d1 + g->d2 on), pixels cs
 * apart, the filter's taps cout apart from w. The thirteen registers the
 * taps need leave none for the loop's own pointers: those live in g, on
 * the stack. Not inlined, so that every register is free. */
typedef struct {
    const int8_t *x, *w;
    const int32_t *b;
    int32_t *s;
    int32_t d1, d2, ng;
} dw3_geo;

__attribute__((noinline)) static void dw3_sums_asm(dw3_geo *g, size_t cs, size_t cout, int32_t off2, int32_t nrows,
                                                   int32_t ncols) {
    dw3_geo l = *g;
    /* LDM/STM fill registers in ascending order: pin the accumulators */
    register int32_t a0 __asm__("r0"), a1 __asm__("r1"), a2 __asm__("r2"), a3 __asm__("r3");
    int32_t xe, xo, we, wo;
    const int8_t *x, *w;
#define DW3_TAP(XADDR, WADDR)                                                                           \
    "ldr %[xo], " XADDR "\n\t"                                                                          \
    "ldr %[wo], " WADDR "\n\t"                                                                          \
    "sxtab16 %[xe], %[off2], %[xo]\n\t"                                                                 \
    "sxtab16 %[xo], %[off2], %[xo], ror #8\n\t"                                                         \
    "sxtb16 %[we], %[wo]\n\t"                                                                           \
    "sxtb16 %[wo], %[wo], ror #8\n\t"                                                                   \
    "smlabb %[a0], %[xe], %[we], %[a0]\n\t"                                                             \
    "smlatt %[a2], %[xe], %[we], %[a2]\n\t"                                                             \
    "smlabb %[a1], %[xo], %[wo], %[a1]\n\t"                                                             \
    "smlatt %[a3], %[xo], %[wo], %[a3]\n\t"
#define DW3_ROW3                                                                                        \
    DW3_TAP("[%[x]]", "[%[w]]")                                                                         \
    DW3_TAP("[%[x], %[cs]]", "[%[w], %[cout]]")                                                         \
    DW3_TAP("[%[x], %[cs], lsl #1]", "[%[w], %[cout], lsl #1]")                                         \
    "add %[w], %[w], %[cout], lsl #1\n\t"                                                               \
    "add %[w], %[w], %[cout]\n\t"
/* a window clipped to two columns (a pixel on the left or right border) */
#define DW3_ROW2                                                                                        \
    DW3_TAP("[%[x]]", "[%[w]]")                                                                         \
    DW3_TAP("[%[x], %[cs]]", "[%[w], %[cout]]")                                                         \
    "add %[w], %[w], %[cout], lsl #1\n\t"                                                               \
    "add %[w], %[w], %[cout]\n\t"
/* ROWS: the window's rows, each ROW then a step to the next row */
#define DW3_ROWS3(ROW) ROW "ldr %[xe], %[d1]\n\tadd %[x], %[x], %[xe]\n\t" ROW "ldr %[xe], %[d2]\n\tadd %[x], %[x], %[xe]\n\t" ROW
#define DW3_ROWS2(ROW) ROW "ldr %[xe], %[d1]\n\tadd %[x], %[x], %[xe]\n\t" ROW
#define DW3_ASM(ROWS)                                                                                   \
    __asm__("1:\n\t"                                                                                    \
            "ldr %[xe], %[b]\n\t"                                                                       \
            "ldmia %[xe]!, {%[a0], %[a1], %[a2], %[a3]}\n\t"                                            \
            "str %[xe], %[b]\n\t"                                                                       \
            "ldr %[x], %[gx]\n\t"                                                                       \
            "adds %[xe], %[x], #4\n\t"                                                                  \
            "str %[xe], %[gx]\n\t"                                                                      \
            "ldr %[w], %[gw]\n\t"                                                                       \
            "adds %[xe], %[w], #4\n\t"                                                                  \
            "str %[xe], %[gw]\n\t" ROWS "ldr %[xe], %[s]\n\t"                                           \
            "stmia %[xe]!, {%[a0], %[a1], %[a2], %[a3]}\n\t"                                            \
            "str %[xe], %[s]\n\t"                                                                       \
            "ldr %[xe], %[ng]\n\t"                                                                      \
            "subs %[xe], %[xe], #1\n\t"                                                                 \
            "str %[xe], %[ng]\n\t"                                                                      \
            "bne 1b\n\t"                                                                                \
            : [a0] "=&r"(a0), [a1] "=&r"(a1), [a2] "=&r"(a2), [a3] "=&r"(a3), [xe] "=&r"(xe),           \
              [xo] "=&r"(xo), [we] "=&r"(we), [wo] "=&r"(wo), [x] "=&r"(x), [w] "=&r"(w),               \
              [gx] "+m"(l.x), [gw] "+m"(l.w), [b] "+m"(l.b), [s] "+m"(l.s), [ng] "+m"(l.ng)             \
            : [cs] "r"(cs), [cout] "r"(cout), [off2] "r"(off2), [d1] "m"(l.d1), [d2] "m"(l.d2)          \
            : "cc", "memory")
    if (nrows == 3 && ncols == 3)
        DW3_ASM(DW3_ROWS3(DW3_ROW3));
    else if (nrows == 3)
        DW3_ASM(DW3_ROWS3(DW3_ROW2));
    else if (ncols == 3)
        DW3_ASM(DW3_ROWS2(DW3_ROW3));
    else
        DW3_ASM(DW3_ROWS2(DW3_ROW2));
#undef DW3_ASM
#undef DW3_ROWS3
#undef DW3_ROWS2
#undef DW3_ROW2
#undef DW3_ROW3
#undef DW3_TAP
}
#endif

/* pexc_out_q_s8 when the short requantisation is set (q->round). The
 * caller holds the arrays and the clamp in locals: read through q, they
 * would be read again after every output byte stored (a char store may
 * alias anything). */
static inline int8_t dw3_out_short(const int32_t *mult, const int32_t *shift, const int32_t *round,
                                   int32_t lo, int32_t hi, int32_t acc, int32_t oc) {
    acc = pexc_requant_short(acc, mult[oc], shift[oc], round[oc]);
    if (acc < lo) acc = lo;
    if (acc > hi) acc = hi;
    return (int8_t)acc;
}

/* Output channels [c0, c1) of one pixel into o: r0, r1, r2 point at the
 * window's three rows (its first pixel, channel c0), pixels cs apart; the
 * filter's taps are cout apart, f at channel c0 of tap (0, 0). shortq is a
 * constant at each call (q->round set or not), so the requantisation's
 * branch leaves the loops. The plain twin, and the layers without a bias
 * on a core with the DSP extension (dw3_run_asm otherwise). */
static inline __attribute__((always_inline)) void
dw3_pixel(const int8_t *r0, const int8_t *r1, const int8_t *r2, size_t cs, const int8_t *f, size_t cout,
          int32_t off2, int32_t off, const int32_t *bias, const pexc_out_q *q, int shortq, int32_t c0,
          int32_t c1, int8_t *o) {
    const int32_t *const mult = q->mult, *const shift = q->shift, *const round = q->round;
    const int32_t lo = q->act_min, hi = q->act_max;
    int32_t oc = c0;
    size_t c = 0;
    for (; oc + 4 <= c1; oc += 4, c += 4, o += 4) {
        dw3_acc a = {0, 0, 0, 0};
        {
            if (bias) {
                a.a0 = bias[oc];
                a.a1 = bias[oc + 1];
                a.a2 = bias[oc + 2];
                a.a3 = bias[oc + 3];
            }
            const int8_t *w = f + c;
            /* a loop over the rows, not unrolled: nine taps' loads hoisted
             * at once need more registers than the core has (GCC spills) */
#pragma GCC unroll 1
            for (int32_t ky = 0; ky < 3; ky++, w += 3 * cout) {
                const int8_t *x = (ky == 0 ? r0 : ky == 1 ? r1 : r2) + c;
                a = dw3_tap(a, x, w, off2);
                a = dw3_tap(a, x + cs, w + cout, off2);
                a = dw3_tap(a, x + 2 * cs, w + 2 * cout, off2);
            }
        }
        if (shortq) {
            o[0] = dw3_out_short(mult, shift, round, lo, hi, a.a0, oc);
            o[1] = dw3_out_short(mult, shift, round, lo, hi, a.a1, oc + 1);
            o[2] = dw3_out_short(mult, shift, round, lo, hi, a.a2, oc + 2);
            o[3] = dw3_out_short(mult, shift, round, lo, hi, a.a3, oc + 3);
        } else {
            o[0] = pexc_out_q_s8(q, a.a0, oc);
            o[1] = pexc_out_q_s8(q, a.a1, oc + 1);
            o[2] = pexc_out_q_s8(q, a.a2, oc + 2);
            o[3] = pexc_out_q_s8(q, a.a3, oc + 3);
        }
    }
    for (; oc < c1; oc++, c++, o++) {
        const int8_t *const r[3] = {r0, r1, r2};
        int32_t a = bias ? bias[oc] : 0;
        for (int32_t ky = 0; ky < 3; ky++)
            for (int32_t kx = 0; kx < 3; kx++)
                a += f[(3 * (size_t)ky + (size_t)kx) * cout + c] * (r[ky][(size_t)kx * cs + c] + off);
        *o = pexc_out_q_s8(q, a, oc);
    }
}

/* npx pixels of one output row whose windows lie wholly inside the input
 * and whose input rows and outputs do not wrap around a ring's end: the
 * window moves on by step bytes a pixel, the output by ostep. One call per
 * run of pixels, so what a pixel costs beyond its products is the
 * requantisation and two pointer adds, not an index computation per row
 * of its window (measured: vww_96's 3x3 layers went from 8-10 to about 4
 * instructions per multiply-accumulate). */
#ifdef PEXC_DOT_ASM
/* dw3_run with a bias on a core with the DSP extension: per pixel, the
 * sums of whole groups of four channels in assembly (dw3_sums_asm, from
 * the bias), the rest one by one, then one tight loop of
 * requantisations. Channels in chunks of DW3_CHUNK (the sums' buffer).
 * nrows, ncols 2: windows clipped to two rows or columns inside the
 * input (r0, r1 and f at the first of them; r2 unused for two rows). */
__attribute__((noinline)) static void dw3_run_asm(const int8_t *r0, const int8_t *r1, const int8_t *r2, size_t cs,
                                                  size_t step, int32_t npx, const int8_t *f, size_t cout,
                                                  int32_t off, const int32_t *bias, const pexc_out_q *q,
                                                  int32_t c0, int32_t c1, int8_t *o, size_t ostep, int32_t nrows,
                                                  int32_t ncols) {
    int32_t sums[DW3_CHUNK];
    PEXC_COUNT_MAC(9 * (int64_t)(c1 - c0) * npx);
    const int32_t off2 = pexc_off2(off), lo = q->act_min, hi = q->act_max;
    const int32_t *const round = q->round;
    dw3_geo g;
    g.d1 = (int32_t)(r1 - r0);
    g.d2 = (int32_t)(r2 - r1);
    for (int32_t k = c0; k < c1; k += DW3_CHUNK) {
        const int32_t nc = c1 - k > DW3_CHUNK ? DW3_CHUNK : c1 - k, nb = nc / 4 * 4;
        const size_t d = (size_t)(k - c0);
        const int8_t *x0 = r0 + d, *fk = f + d;
        const int32_t *const m = q->mult + k, *const sh = q->shift + k, *const rd = round ? round + k : NULL;
        int8_t *ob = o + d;
        for (int32_t i = 0; i < npx; i++, x0 += step, ob += ostep) {
            if (nb > 0) {
                g.x = x0;
                g.w = fk;
                g.b = bias + k;
                g.s = sums;
                g.ng = nb / 4;
                dw3_sums_asm(&g, cs, cout, off2, nrows, ncols);
            }
            for (int32_t j = nb; j < nc; j++) {
                int32_t a = bias[k + j];
                for (int32_t ky = 0; ky < nrows; ky++) {
                    const int8_t *x = x0 + (ky == 0 ? 0 : ky == 1 ? g.d1 : g.d1 + g.d2);
                    for (int32_t kx = 0; kx < ncols; kx++)
                        a += fk[(size_t)(3 * ky + kx) * cout + (size_t)j] * (x[(size_t)kx * cs + (size_t)j] + off);
                }
                sums[j] = a;
            }
            if (rd && hi == 127) {
                /* SSAT clamps to [-128, 127] in one instruction; only a
                 * fused ReLU's floor is left */
                for (int32_t j = 0; j < nc; j++) {
                    const int32_t v = __ssat(pexc_requant_short(sums[j], m[j], sh[j], rd[j]), 8);
                    ob[j] = (int8_t)(v < lo ? lo : v);
                }
            } else if (rd) {
                for (int32_t j = 0; j < nc; j++) {
                    int32_t v = pexc_requant_short(sums[j], m[j], sh[j], rd[j]);
                    v = v < lo ? lo : v;
                    ob[j] = (int8_t)(v > hi ? hi : v);
                }
            } else {
                for (int32_t j = 0; j < nc; j++) ob[j] = pexc_out_q_s8(q, sums[j], k + j);
            }
        }
    }
}
#endif

/* npx pixels of one output row whose windows lie wholly inside the input
 * and whose input rows and outputs do not wrap around a ring's end. */
__attribute__((noinline)) static void dw3_run(const int8_t *r0, const int8_t *r1, const int8_t *r2, size_t cs,
                                              size_t step, int32_t npx, const int8_t *f, size_t cout, int32_t off,
                                              const int32_t *bias, const pexc_out_q *q, int32_t c0, int32_t c1,
                                              int8_t *o, size_t ostep) {
    PEXC_COUNT_MAC(9 * (int64_t)(c1 - c0) * npx);
#ifdef PEXC_DOT_DSP
    const int32_t off2 = pexc_off2(off);
#else
    const int32_t off2 = off;
#endif
    const pexc_out_q ql = *q; /* a copy no output store can alias */
    q = &ql;
    if (q->round) {
        for (int32_t i = 0; i < npx; i++, r0 += step, r1 += step, r2 += step, o += ostep)
            dw3_pixel(r0, r1, r2, cs, f, cout, off2, off, bias, q, 1, c0, c1, o);
    } else {
        for (int32_t i = 0; i < npx; i++, r0 += step, r1 += step, r2 += step, o += ostep)
            dw3_pixel(r0, r1, r2, cs, f, cout, off2, off, bias, q, 0, c0, c1, o);
    }
}

/* Pixels from column ox of output row oy on (at most n) that dw3_run can
 * take: before the first one whose window row or output would wrap around
 * its ring's end (pixel counts, q % ring_px as pexc_view_index). */
static int32_t dw3_no_wrap(const pexc_view *in, int32_t iy, int32_t ix, int32_t sw, const pexc_view *out,
                           int32_t oy, int32_t ox, int32_t n) {
    /* size_t as pexc_view_index: a 64-bit remainder is a library call on a
     * 32-bit core, and this runs once a run (a pixel, in small streamed
     * steps); iy, ix, oy, ox are never negative here */
    if (in->ring_px) {
        const size_t ring = (size_t)in->ring_px;
        for (int32_t ky = 0; ky < 3; ky++) {
            const size_t q = ((size_t)(iy + ky) * (size_t)in->w + (size_t)ix) % ring;
            /* pixel i's window row ends at q + i * sw + 2 < ring_px */
            const int32_t fit = q + 3 > ring ? 0 : (int32_t)((ring - 3 - q) / (size_t)sw) + 1;
            if (fit < n) n = fit;
        }
    }
    if (out->ring_px) {
        const size_t q = ((size_t)oy * (size_t)out->w + (size_t)ox) % (size_t)out->ring_px;
        const size_t room = (size_t)out->ring_px - q;
        if (room < (size_t)n) n = (int32_t)room;
    }
    return n;
}

/**
 * @brief int8 depthwise convolution over one output tile.
 *
 * @param p          strides, dilations, resolved padding, offsets, clamp and
 *                   per-output-channel requantisation ([Cout] each).
 * @param depth_mult output channels per input channel; Cout == Cin * depth_mult.
 * @param in         input view, logical [N, H, W, Cin]; must store channels
 *                   [t->c0 / depth_mult, (t->c1 - 1) / depth_mult].
 * @param filter     [1, kh, kw, Cout] int8, or [Cout, kh, kw] when
 *                   p->filter_by_channel (one input channel, kh * kw <=
 *                   PEXC_GATHER_MAX: the gathered-window path of pexc_dot.h).
 * @param bias       [Cout] int32 or NULL.
 * @param t          output pixels (raster range of the tile), channels
 *                   [c0, c1), all batches.
 * @param out        output view, logical [N, Hout, Wout, Cout].
 * @return PEXC_OK, or PEXC_ERR_ARG if the tile or a view is out of range.
 */
pexc_status pexc_depthwise_conv2d_s8(const pexc_conv_params *p,
                                     int32_t depth_mult, const pexc_view *in,
                                     const int8_t *filter, int32_t kh,
                                     int32_t kw, const int32_t *bias,
                                     const pexc_tile *t, pexc_view *out) {
    if (!pexc_conv_params_valid(p, kh, kw) || depth_mult < 1 || !pexc_view_valid(in) ||
        !pexc_view_valid(out) || !filter || !pexc_tile_valid(t, out) ||
        in->n != out->n || in->c * depth_mult != out->c ||
        !pexc_conv_rows_fit(p, in, kh, kw, t, out->w))
        return PEXC_ERR_ARG;
    if (t->c0 >= t->c1) return PEXC_OK;
    if (!pexc_view_stores(in, t->c0 / depth_mult, (t->c1 - 1) / depth_mult + 1))
        return PEXC_ERR_ARG;
    if (p->filter_by_channel && (in->c != 1 || kh * kw > PEXC_GATHER_MAX)) return PEXC_ERR_ARG;
#ifdef PEXC_MVE
    if (p->filter_by_channel != PEXC_FILTER_GATHER_IL4 &&
        pexc_mve_depthwise_conv2d_s8(p, depth_mult, in, filter, kh, kw, bias, t, out))
        return PEXC_OK;
#endif

    int8_t *obase = (int8_t *)out->data;
    if (p->filter_by_channel) { /* one input channel, filter [Cout, kh, kw] */
        for (int32_t n = 0; n < out->n; n++)
            pexc_gather_tile(p, in, (const int8_t *)in->data + pexc_view_index(in, n, 0, 0, in->c_begin), filter,
                             kh, kw, 1, bias, t, out, obase + pexc_view_index(out, n, 0, 0, out->c_begin));
        return PEXC_OK;
    }
    /* the 3x3 path (dw3_pixel) for depth multiplier 1 */
    const int fast3 = kh == 3 && kw == 3 && depth_mult == 1 && p->dilation_h == 1 && p->dilation_w == 1;
    const size_t cs = (size_t)in->c_stored;
    const pexc_out_q q = pexc_out_q_of(p);
    for (int32_t n = 0; n < out->n; n++) {
        /* Offsets within the batch index's storage wrap in a ring. */
        const int8_t *ibase = (const int8_t *)in->data + pexc_view_index(in, n, 0, 0, in->c_begin);
        for (int32_t oy = t->y0; oy < t->y1; oy++) {
            /* the kernel rows inside the input are the same along a row */
            pexc_window win;
            win.iy = oy * p->stride_h - p->pad_top;
            pexc_window_clip(win.iy, p->dilation_h, kh, in->h, &win.ky0, &win.ky1);
            /* The taps of the previous pixel of the row, moved on by the
             * stride (pexc_view_next: at most a ring's length), are this
             * pixel's when its window is clipped the same way and fits the
             * tap lists whole. */
            size_t ti[DW_TAPS], tf[DW_TAPS];
            int32_t ntaps = -1, pkx0 = 0, pkx1 = 0;
            const size_t step = (size_t)p->stride_w * (size_t)in->c_stored;
            const int32_t xe = pexc_tile_xe(t, oy, out->w);
            /* columns whose window lies inside the input: [xin0, xin1) */
            int32_t xin0 = 0, xin1 = 0;
            /* rows of the window inside the input: three, or two on a top
             * or bottom border (the assembly takes those; dw3_run three) */
            const int32_t nrow = win.ky1 - win.ky0;
#ifdef PEXC_DOT_ASM
            const int rows_ok = nrow == 3 || (nrow == 2 && bias);
#else
            const int rows_ok = nrow == 3;
#endif
            if (fast3 && rows_ok) {
                xin0 = (p->pad_left + p->stride_w - 1) / p->stride_w;
                xin1 = in->w >= 3 ? (in->w - 3 + p->pad_left) / p->stride_w + 1 : 0;
            }
            for (int32_t ox = pexc_tile_xb(t, oy); ox < xe; ox++) {
                win.ix = ox * p->stride_w - p->pad_left;
                if (ox >= xin0 && ox < xin1) {
                    const int32_t iy = win.iy + win.ky0;
                    const int32_t run = dw3_no_wrap(in, iy, win.ix, p->stride_w, out, oy, ox,
                                                    (xe < xin1 ? xe : xin1) - ox);
                    if (run > 0) {
                        const int8_t *const r0 = ibase + pexc_view_index(in, 0, iy, win.ix, t->c0);
                        const int8_t *const r1 = ibase + pexc_view_index(in, 0, iy + 1, win.ix, t->c0);
                        const int8_t *const r2 = nrow == 3 ? ibase + pexc_view_index(in, 0, iy + 2, win.ix, t->c0) : r1;
                        const int8_t *const f = filter + t->c0 + (size_t)(3 * win.ky0) * (size_t)out->c;
                        int8_t *const ob = obase + pexc_view_index(out, n, oy, ox, t->c0);
#ifdef PEXC_DOT_ASM
                        /* called from here, not through dw3_run: one stack frame less */
                        if (bias)
                            dw3_run_asm(r0, r1, r2, cs, step, run, f, (size_t)out->c, p->input_offset, bias, &q, t->c0,
                                        t->c1, ob, (size_t)out->c_stored, nrow, 3);
                        else
#endif
                            dw3_run(r0, r1, r2, cs, step, run, f, (size_t)out->c, p->input_offset, bias, &q, t->c0,
                                    t->c1, ob, (size_t)out->c_stored);
                        ox += run - 1;
                        ntaps = -1; /* the tap lists were not moved on */
                        continue;
                    }
                }
                pexc_window_clip(win.ix, p->dilation_w, kw, in->w, &win.kx0, &win.kx1);
#ifdef PEXC_DOT_ASM
                /* a pixel on the border whose window keeps two or three
                 * rows and columns inside the input: the same assembly
                 * over those */
                const int32_t nr = win.ky1 - win.ky0, ncl = win.kx1 - win.kx0;
                if (fast3 && bias && nr >= 2 && ncl >= 2 &&
                    dw3_no_wrap(in, win.iy + win.ky0, win.ix + win.kx0, p->stride_w, out, oy, ox, 1) == 1) {
                    const int32_t ix = win.ix + win.kx0, iy = win.iy + win.ky0;
                    const int8_t *const r0 = ibase + pexc_view_index(in, 0, iy, ix, t->c0);
                    const int8_t *const r1 = ibase + pexc_view_index(in, 0, iy + 1, ix, t->c0);
                    dw3_run_asm(r0, r1, nr == 3 ? ibase + pexc_view_index(in, 0, iy + 2, ix, t->c0) : r1, cs, step, 1,
                                filter + t->c0 + (size_t)(3 * win.ky0 + win.kx0) * (size_t)out->c, (size_t)out->c,
                                p->input_offset, bias, &q, t->c0, t->c1,
                                obase + pexc_view_index(out, n, oy, ox, t->c0), (size_t)out->c_stored, nr, ncl);
                    ntaps = -1; /* the tap lists were not moved on */
                    continue;
                }
#endif
                if (ntaps >= 0 && ntaps < DW_TAPS && win.kx0 == pkx0 && win.kx1 == pkx1 &&
                    (!in->ring_px || p->stride_w <= in->ring_px)) {
                    for (int32_t k = 0; k < ntaps; k++) ti[k] = pexc_view_next(in, ti[k], step);
                } else {
                    int32_t pos = 0;
                    ntaps = dw_taps(p, in, kw, (size_t)out->c, &win, &pos, ti, tf);
                    pkx0 = win.kx0;
                    pkx1 = win.kx1;
                }
                dw_pixel(p, depth_mult, in, ibase, filter, kw, bias, &win, ti, tf, ntaps, t->c0, t->c1,
                         obase + pexc_view_index(out, n, oy, ox, t->c0));
                if (ntaps == DW_TAPS) ntaps = -1; /* dw_pixel walked the list on */
            }
        }
    }
    return PEXC_OK;
}

/**
 * @brief Partial sums of a depthwise convolution from one range of input
 *        pixels: lets a streamed chain end in a depthwise layer whose window
 *        spans many input rows (e.g. a temporal convolution down to a single
 *        output row) without holding its whole input.
 *
 * Adds into the int32 view acc (logical shape = the output [N, Hout, Wout,
 * Cout]) over tile t the products of the filter taps whose input pixel lies
 * in [q0, q1) (raster order, q = y * W + x); taps in the padding or outside
 * the range are skipped, so any split of [0, H * W) into consecutive ranges,
 * then pexc_requant_s32_s8 with the bias, gives exactly
 * pexc_depthwise_conv2d_s8's output (integer sums are exact).
 *
 * @param q0, q1 input pixel range, 0 <= q0 <= q1 <= H * W; in only needs to
 *               hold those pixels (a ring needs ring_px >= q1 - q0) and
 *               channels [t->c0 / depth_mult, (t->c1 - 1) / depth_mult].
 * @param first  nonzero: the tile of acc is overwritten, not added to.
 * @return PEXC_OK, or PEXC_ERR_ARG if the tile, range or a view is out of
 *         range.
 */
pexc_status pexc_depthwise_conv2d_s8_acc(const pexc_conv_params *p, int32_t depth_mult,
                                         const pexc_view *in, const int8_t *filter, int32_t kh,
                                         int32_t kw, int32_t q0, int32_t q1, int first,
                                         const pexc_tile *t, pexc_view *acc) {
    if (!pexc_conv_params_valid(p, kh, kw) || depth_mult < 1 || !pexc_view_valid(in) ||
        !pexc_view_valid(acc) || !filter || !pexc_tile_valid(t, acc) || in->n != acc->n ||
        in->c * depth_mult != acc->c || q0 < 0 || q0 > q1 || (int64_t)q1 > (int64_t)in->h * in->w ||
        (in->ring_px && q1 - q0 > in->ring_px) || p->filter_by_channel == PEXC_FILTER_GATHER_IL4)
        return PEXC_ERR_ARG;
    if (t->c0 >= t->c1) return PEXC_OK;
    if (!pexc_view_stores(in, t->c0 / depth_mult, (t->c1 - 1) / depth_mult + 1) ||
        !pexc_view_stores(acc, t->c0, t->c1))
        return PEXC_ERR_ARG;

    const int8_t *ibase = (const int8_t *)in->data;
    int32_t *abase = (int32_t *)acc->data;
    const size_t cout = (size_t)acc->c;
    const int32_t off = p->input_offset, W = in->w, nc = t->c1 - t->c0;
    for (int32_t n = 0; n < acc->n; n++) {
        for (int32_t oy = t->y0; oy < t->y1; oy++) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            const int32_t xe = pexc_tile_xe(t, oy, acc->w);
            for (int32_t ox = pexc_tile_xb(t, oy); ox < xe; ox++) {
                int32_t *a = abase + pexc_view_index(acc, n, oy, ox, t->c0);
                if (first)
                    for (int32_t j = 0; j < nc; j++) a[j] = 0;
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                for (int32_t ky = 0; ky < kh; ky++) {
                    const int32_t iy = iy0 + ky * p->dilation_h;
                    if (iy < 0 || iy >= in->h) continue;
                    /* the row's pixels in the range: none, or columns [xa, xb) */
                    const int64_t r0 = (int64_t)iy * W;
                    if (r0 + W <= q0 || r0 >= q1) continue;
                    const int32_t xa = q0 > r0 ? (int32_t)(q0 - r0) : 0;
                    const int32_t xb = q1 < r0 + W ? (int32_t)(q1 - r0) : W;
                    for (int32_t kx = 0; kx < kw; kx++) {
                        const int32_t ix = ix0 + kx * p->dilation_w;
                        if (ix < 0 || ix < xa || ix >= xb) continue;
                        /* tap (ky, kx) of channel oc at f[oc * fc] */
                        const size_t tap = (size_t)ky * (size_t)kw + (size_t)kx;
                        const int8_t *f = p->filter_by_channel ? filter + tap : filter + tap * cout;
                        const size_t fc = p->filter_by_channel ? (size_t)kh * (size_t)kw : 1;
                        for (int32_t oc = t->c0; oc < t->c1; oc++) {
                            const int32_t ic = oc / depth_mult;
                            PEXC_COUNT_MAC(1);
                            a[oc - t->c0] += f[(size_t)oc * fc] * (ibase[pexc_view_index(in, n, iy, ix, ic)] + off);
                        }
                    }
                }
            }
        }
    }
    return PEXC_OK;
}
