/*
 * Helium (MVE) paths of int8 CONV_2D and FULLY_CONNECTED, for the Cortex-M55.
 *
 * Compiled to nothing unless __ARM_FEATURE_MVE says the core has integer
 * MVE (and -DPEXC_NO_MVE does not ask for the plain paths, which is how
 * tests compare the two). pexc_conv2d_s8 and pexc_fully_connected_s8 call
 * the entry points below first, after their argument checks; an entry point returns 1 when it has computed the whole
 * tile and 0 when the layer is one it leaves to the portable code.
 *
 * The bytes are TFLite's because every step is exact integer arithmetic:
 *
 * - Sums. A convolution sums w * (x + off). With 16 int8 lanes, VMLADAVA
 *   adds sixteen w * x products into a scalar at once, but x + off does not
 *   fit int8. The sum is split instead: sum w * (x + off) = sum w * x +
 *   off * sum w, and off * sum w does not depend on the pixel, so it is
 *   added to the bias once per call and channel ("folded bias"). All of
 *   it is taken modulo 2^32 (VMLADAVA wraps; the fold uses uint32): the
 *   lowering has proved the true sum fits int32, so the wrapped sum is that
 *   same integer whatever the intermediate values. A tap outside the input
 *   is gathered as the input zero point -off: w * (-off) + off * w = 0, as
 *   the reference kernel's skipped tap. (Depthwise layers: mve_depthwise.c.)
 *
 * - Requantisation, four channels per vector: mve_requant.h.
 */
#include "mve_kernels.h"

#ifdef PEXC_MVE
#include <arm_mve.h>

/* n bytes from s to d, sixteen per predicated vector load and store: a
 * window row of a one-channel layer is 3 to 10 bytes, where a call to
 * memcpy costs more than the copy. pexc_gather_window copies with it. */
static inline void mve_copy(int8_t *d, const int8_t *s, size_t n) {
    for (size_t i = 0; i < n; i += 16) {
        const mve_pred16_t p = vctp8q((uint32_t)(n - i));
        vstrbq_p_s8(d + i, vldrbq_z_s8(s + i, p), p);
    }
}
#define PEXC_GATHER_COPY(dst, src, n) mve_copy((dst), (src), (n))
#endif

#include "pexc_dot.h"

#ifdef PEXC_MVE
#include "mve_requant.h"

/* Output channels whose folded biases are kept at once (on the stack); a
 * tile with more is taken in blocks. */
#define MVE_BLOCK 256
/* The largest window gathered for one output pixel (3 x 3 x 128). */
#define MVE_WIN 1152

/* fb[j] = bias[c + j] + off * (sum of row c + j's k weights), rows ws bytes
 * apart from w (row 0), for j in [0, n); modulo 2^32 (see the essay). Four
 * rows per pass: a fully connected layer folds every row on every call
 * (ad_autoencoder: half its instructions with one row at a time). */
static void mve_fold(const int8_t *w, size_t ws, int32_t k, int32_t off, const int32_t *bias, int32_t c,
                     int32_t n, int32_t *fb) {
    const int32_t kv = k & ~15;
    const mve_pred16_t pt = vctp8q((uint32_t)(k - kv));
    int32_t j = 0;
    for (; j + 4 <= n; j += 4) {
        const int8_t *r0 = w + (size_t)(c + j) * ws, *r1 = r0 + ws, *r2 = r1 + ws, *r3 = r2 + ws;
        int32_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        for (int32_t i = 0; i < kv; i += 16) {
            s0 = vaddvaq_s8(s0, vldrbq_s8(r0 + i));
            s1 = vaddvaq_s8(s1, vldrbq_s8(r1 + i));
            s2 = vaddvaq_s8(s2, vldrbq_s8(r2 + i));
            s3 = vaddvaq_s8(s3, vldrbq_s8(r3 + i));
        }
        if (kv < k) {
            s0 = vaddvaq_p_s8(s0, vldrbq_z_s8(r0 + kv, pt), pt);
            s1 = vaddvaq_p_s8(s1, vldrbq_z_s8(r1 + kv, pt), pt);
            s2 = vaddvaq_p_s8(s2, vldrbq_z_s8(r2 + kv, pt), pt);
            s3 = vaddvaq_p_s8(s3, vldrbq_z_s8(r3 + kv, pt), pt);
        }
        const int32x4_t b4 = bias ? vldrwq_s32(bias + c + j) : vdupq_n_s32(0);
        int32x4_t s4 = vdupq_n_s32(s0);
        s4 = vsetq_lane_s32(s1, s4, 1);
        s4 = vsetq_lane_s32(s2, s4, 2);
        s4 = vsetq_lane_s32(s3, s4, 3);
        vstrwq_s32(fb + j, vaddq_s32(b4, vmulq_n_s32(s4, off)));
    }
    for (; j < n; j++) {
        const int8_t *r = w + (size_t)(c + j) * ws;
        int32_t s = 0, i = 0;
        for (; i + 16 <= k; i += 16) s = vaddvaq_s8(s, vldrbq_s8(r + i));
        if (i < k) s = vaddvaq_p_s8(s, vldrbq_z_s8(r + i, vctp8q((uint32_t)(k - i))), vctp8q((uint32_t)(k - i)));
        fb[j] = (int32_t)((uint32_t)(bias ? bias[c + j] : 0) + (uint32_t)off * (uint32_t)s);
    }
}

/* Four sums over [0, k) of x * w_j, rows w_j = w + j * ws, plus init. */
static inline int32x4_t mve_dot4(const int8_t *x, const int8_t *w, size_t ws, int32_t k, int32x4_t init) {
    const int8_t *w1 = w + ws, *w2 = w1 + ws, *w3 = w2 + ws;
    int32_t a0 = vgetq_lane_s32(init, 0), a1 = vgetq_lane_s32(init, 1);
    int32_t a2 = vgetq_lane_s32(init, 2), a3 = vgetq_lane_s32(init, 3);
    int32_t c = 0;
    for (; c + 16 <= k; c += 16) {
        const int8x16_t xv = vldrbq_s8(x + c);
        a0 = vmladavaq_s8(a0, xv, vldrbq_s8(w + c));
        a1 = vmladavaq_s8(a1, xv, vldrbq_s8(w1 + c));
        a2 = vmladavaq_s8(a2, xv, vldrbq_s8(w2 + c));
        a3 = vmladavaq_s8(a3, xv, vldrbq_s8(w3 + c));
    }
    if (c < k) {
        const mve_pred16_t p = vctp8q((uint32_t)(k - c));
        const int8x16_t xv = vldrbq_z_s8(x + c, p);
        a0 = vmladavaq_s8(a0, xv, vldrbq_z_s8(w + c, p));
        a1 = vmladavaq_s8(a1, xv, vldrbq_z_s8(w1 + c, p));
        a2 = vmladavaq_s8(a2, xv, vldrbq_z_s8(w2 + c, p));
        a3 = vmladavaq_s8(a3, xv, vldrbq_z_s8(w3 + c, p));
    }
    int32x4_t v = vdupq_n_s32(a0);
    v = vsetq_lane_s32(a1, v, 1);
    v = vsetq_lane_s32(a2, v, 2);
    return vsetq_lane_s32(a3, v, 3);
}

/* One sum over [0, k) of x * w plus init. */
static inline int32_t mve_dot1(const int8_t *x, const int8_t *w, int32_t k, int32_t init) {
    for (int32_t c = 0; c < k; c += 16) {
        const mve_pred16_t p = vctp8q((uint32_t)(k - c));
        init = vmladavaq_s8(init, vldrbq_z_s8(x + c, p), vldrbq_z_s8(w + c, p));
    }
    return init;
}

/* Output channels [c, c + n) of one pixel from its k gathered (or adjacent)
 * inputs x: filter rows ws bytes apart from channel 0 at w, folded biases
 * fb[0 .. n). */
static void mve_pixel(const mve_q *qp, const int8_t *x, const int8_t *w, size_t ws, int32_t k, const int32_t *fb,
                      int32_t c, int32_t n, int8_t *o) {
    /* a local copy: the int8 stores could alias the fields as far as the
     * compiler knows, so it would reload them after every store */
    const mve_q ql = *qp, *q = &ql;
    PEXC_COUNT_MAC((int64_t)n * k);
    int32_t j = 0;
    for (; j + 4 <= n; j += 4)
        mve_requant4(q, mve_dot4(x, w + (size_t)(c + j) * ws, ws, k, vldrwq_s32(fb + j)), c + j, 4, o + j);
    if (j < n) { /* the last one to three channels */
        int32_t a[4] = {0, 0, 0, 0};
        for (int32_t i = 0; i < n - j; i++) a[i] = mve_dot1(x, w + (size_t)(c + j + i) * ws, k, fb[j + i]);
        mve_requant4(q, vldrwq_s32(a), c + j, n - j, o + j);
    }
}

/* Two pixels at once (x and y, k inputs each) against four filter rows:
 * each weight vector is loaded once for both, 14 instructions per 128
 * multiply-accumulates against 18 one pixel at a time. Channels [c, c + 4)
 * into o and p. */
static inline void mve_pixel2_4(const mve_q *q, const int8_t *x, const int8_t *y, const int8_t *w, size_t ws,
                                int32_t k, const int32_t *fb, int32_t c, int8_t *o, int8_t *p) {
    const int8_t *w1 = w + ws, *w2 = w1 + ws, *w3 = w2 + ws;
    int32_t a0 = fb[0], a1 = fb[1], a2 = fb[2], a3 = fb[3];
    int32_t b0 = a0, b1 = a1, b2 = a2, b3 = a3;
    int32_t i = 0;
    for (; i + 16 <= k; i += 16) {
        const int8x16_t xv = vldrbq_s8(x + i), yv = vldrbq_s8(y + i);
        int8x16_t wv = vldrbq_s8(w + i);
        a0 = vmladavaq_s8(a0, xv, wv);
        b0 = vmladavaq_s8(b0, yv, wv);
        wv = vldrbq_s8(w1 + i);
        a1 = vmladavaq_s8(a1, xv, wv);
        b1 = vmladavaq_s8(b1, yv, wv);
        wv = vldrbq_s8(w2 + i);
        a2 = vmladavaq_s8(a2, xv, wv);
        b2 = vmladavaq_s8(b2, yv, wv);
        wv = vldrbq_s8(w3 + i);
        a3 = vmladavaq_s8(a3, xv, wv);
        b3 = vmladavaq_s8(b3, yv, wv);
    }
    if (i < k) {
        const mve_pred16_t pr = vctp8q((uint32_t)(k - i));
        const int8x16_t xv = vldrbq_z_s8(x + i, pr), yv = vldrbq_z_s8(y + i, pr);
        int8x16_t wv = vldrbq_z_s8(w + i, pr);
        a0 = vmladavaq_s8(a0, xv, wv);
        b0 = vmladavaq_s8(b0, yv, wv);
        wv = vldrbq_z_s8(w1 + i, pr);
        a1 = vmladavaq_s8(a1, xv, wv);
        b1 = vmladavaq_s8(b1, yv, wv);
        wv = vldrbq_z_s8(w2 + i, pr);
        a2 = vmladavaq_s8(a2, xv, wv);
        b2 = vmladavaq_s8(b2, yv, wv);
        wv = vldrbq_z_s8(w3 + i, pr);
        a3 = vmladavaq_s8(a3, xv, wv);
        b3 = vmladavaq_s8(b3, yv, wv);
    }
    int32x4_t va = vdupq_n_s32(a0), vb = vdupq_n_s32(b0);
    va = vsetq_lane_s32(a1, va, 1);
    va = vsetq_lane_s32(a2, va, 2);
    va = vsetq_lane_s32(a3, va, 3);
    vb = vsetq_lane_s32(b1, vb, 1);
    vb = vsetq_lane_s32(b2, vb, 2);
    vb = vsetq_lane_s32(b3, vb, 3);
    const int32x4_t m = vldrwq_s32(q->mult + c), sh = vldrwq_s32(q->shift + c);
    vstrbq_s32(o, mve_requant4_v(q, va, m, sh));
    vstrbq_s32(p, mve_requant4_v(q, vb, m, sh));
}

/* mve_pixel for two pixels x (into o) and y (into p). */
static void mve_pixel2(const mve_q *qp, const int8_t *x, const int8_t *y, const int8_t *w, size_t ws, int32_t k,
                       const int32_t *fb, int32_t c, int32_t n, int8_t *o, int8_t *p) {
    const mve_q ql = *qp, *q = &ql; /* as in mve_pixel */
    int32_t j = 0;
    PEXC_COUNT_MAC(2 * (int64_t)(n & ~3) * k);
    for (; j + 4 <= n; j += 4)
        mve_pixel2_4(q, x, y, w + (size_t)(c + j) * ws, ws, k, fb + j, c + j, o + j, p + j);
    if (j < n) {
        mve_pixel(q, x, w, ws, k, fb + j, c + j, n - j, o + j);
        mve_pixel(q, y, w, ws, k, fb + j, c + j, n - j, p + j);
    }
}

/* ---- CONV_2D ------------------------------------------------------------ */

/* ---- CONV_2D with few input channels --------------------------------- */

/* A first layer (one to four input channels: an image, a spectrogram, a
 * one-channel depthwise layer by channel) has a window of 9 to 80 bytes in
 * 3 to 10 short rows, so copying it out and calling the 16-lane kernels
 * above cost several times its sums (300-900 instructions per pixel of 8
 * channels). Here one gather load (VLDRB.S16 with a vector of 16-bit
 * offsets, worked out once per call from the strides) fetches eight taps of
 * a window that lies inside the input, widened to int16, and VMLADAVA.S16
 * sums eight products per instruction against weight bytes widened as they
 * load; a pixel on the border is gathered through pexc_gather_window with
 * the zero point for its padding, as above. */

/* The most taps of such a window (kh * kw * cin), and the output channels
 * taken at once (the caller sends it at most 16). */
#define MVE_NARROW_K 128
#define MVE_NARROW_C 16

/* The ng groups of a window's taps into xs, from b + offs[] (the last
 * group's lanes past the window under pt, 0). */
static inline void mve_narrow_load(const int8_t *b, const uint16_t *offs, int32_t ng, mve_pred16_t pt, int16_t *xs) {
    int32_t g = 0;
    for (; g + 1 < ng; g++) vstrhq_s16(xs + 8 * g, vldrbq_gather_offset_s16(b, vldrhq_u16(offs + 8 * g)));
    vstrhq_s16(xs + 8 * g, vldrbq_gather_offset_z_s16(b, vldrhq_u16(offs + 8 * g), pt));
}

/* The layer's constants for a run of pixels. */
typedef struct {
    mve_q q;
    const uint16_t *offs;
    const int8_t *filter;
    const int32_t *fb;
    int32_t ng, k, c, nc;
    mve_pred16_t pt;
} mve_narrow;

/* Channels [c, c + nc) of one pixel from its widened window xs into o,
 * four at a time (the caller has made sure nc is a multiple of 4), the
 * pointers only advancing: GCC keeps them in registers then. */
static inline void mve_narrow_pixel(const mve_narrow *L, const int16_t *xs, int8_t *o) {
    const int32_t k = L->k, ng = L->ng;
    const int8_t *w = L->filter + (size_t)L->c * (size_t)k;
    const int32_t *fb = L->fb, *mult = L->q.mult + L->c, *shift = L->q.shift + L->c;
    const int16x8_t x0 = vldrhq_s16(xs); /* kept for the first (often only) group */
    for (int32_t j = 0; j < L->nc; j += 4, w += 4 * k, fb += 4, mult += 4, shift += 4, o += 4) {
        const int8_t *w1 = w + k, *w2 = w1 + k, *w3 = w2 + k;
        int32_t a0 = fb[0], a1 = fb[1], a2 = fb[2], a3 = fb[3];
        if (ng == 1) {
            a0 = vmladavaq_s16(a0, x0, vldrbq_z_s16(w, L->pt));
            a1 = vmladavaq_s16(a1, x0, vldrbq_z_s16(w1, L->pt));
            a2 = vmladavaq_s16(a2, x0, vldrbq_z_s16(w2, L->pt));
            a3 = vmladavaq_s16(a3, x0, vldrbq_z_s16(w3, L->pt));
        } else {
            a0 = vmladavaq_s16(a0, x0, vldrbq_s16(w));
            a1 = vmladavaq_s16(a1, x0, vldrbq_s16(w1));
            a2 = vmladavaq_s16(a2, x0, vldrbq_s16(w2));
            a3 = vmladavaq_s16(a3, x0, vldrbq_s16(w3));
            int32_t g = 1;
            for (; g + 1 < ng; g++) {
                const int16x8_t xv = vldrhq_s16(xs + 8 * g);
                a0 = vmladavaq_s16(a0, xv, vldrbq_s16(w + 8 * g));
                a1 = vmladavaq_s16(a1, xv, vldrbq_s16(w1 + 8 * g));
                a2 = vmladavaq_s16(a2, xv, vldrbq_s16(w2 + 8 * g));
                a3 = vmladavaq_s16(a3, xv, vldrbq_s16(w3 + 8 * g));
            }
            const int16x8_t xv = vldrhq_s16(xs + 8 * g);
            a0 = vmladavaq_s16(a0, xv, vldrbq_z_s16(w + 8 * g, L->pt));
            a1 = vmladavaq_s16(a1, xv, vldrbq_z_s16(w1 + 8 * g, L->pt));
            a2 = vmladavaq_s16(a2, xv, vldrbq_z_s16(w2 + 8 * g, L->pt));
            a3 = vmladavaq_s16(a3, xv, vldrbq_z_s16(w3 + 8 * g, L->pt));
        }
        int32x4_t v = vdupq_n_s32(a0);
        v = vsetq_lane_s32(a1, v, 1);
        v = vsetq_lane_s32(a2, v, 2);
        v = vsetq_lane_s32(a3, v, 3);
        vstrbq_s32(o, mve_requant4_v(&L->q, v, vldrwq_s32(mult), vldrwq_s32(shift)));
    }
}

/* len pixels whose windows lie inside the input, the first at b, each next
 * step bytes on; outputs from index io of obase, ocs apart. */
static void mve_narrow_run(const mve_narrow *Lp, const int8_t *b, size_t step, int32_t len, int8_t *obase,
                           size_t io, const pexc_view *out) {
    const mve_narrow L = *Lp; /* a local copy: the int8 stores could alias it */
    int16_t xs[MVE_NARROW_K] __attribute__((aligned(16)));
    const size_t ocs = (size_t)out->c_stored;
    PEXC_COUNT_MAC((int64_t)len * L.nc * L.k);
    for (int32_t x = 0; x < len; x++, b += step) {
        mve_narrow_load(b, L.offs, L.ng, L.pt, xs);
        mve_narrow_pixel(&L, xs, obase + io);
        io = pexc_view_next(out, io, ocs);
    }
}

/* The widened window of a pixel on the border of an input that is not a
 * ring, into xs: each group gathered from the window's origin (which may
 * lie before the input: the lanes outside are never loaded) under the
 * predicate of its taps inside the input, the others set to the zero point
 * -off, whose products the folded bias cancels. Returns the padding taps. */
static int32_t mve_narrow_border(const pexc_conv_params *p, const pexc_view *in, const int8_t *ibase, int32_t kh,
                                 int32_t kw, int32_t oy, int32_t ox, const uint16_t *offs, const uint16_t *tky,
                                 const uint16_t *tkx, int32_t ng, int16_t *xs) {
    pexc_window w;
    pexc_window_at(p, in, kh, kw, oy, ox, &w);
    const intptr_t o = ((intptr_t)w.iy * in->w + w.ix) * (intptr_t)in->c_stored;
    const int8_t *b = (const int8_t *)((uintptr_t)ibase + (uintptr_t)o);
    const int16x8_t zp = vdupq_n_s16((int16_t)-p->input_offset);
    for (int32_t g = 0; g < ng; g++) {
        const uint16x8_t ky = vldrhq_u16(tky + 8 * g), kx = vldrhq_u16(tkx + 8 * g);
        const mve_pred16_t in_y = vcmpcsq_n_u16(ky, (uint16_t)w.ky0) & (mve_pred16_t)~vcmpcsq_n_u16(ky, (uint16_t)w.ky1);
        const mve_pred16_t in_x = vcmpcsq_n_u16(kx, (uint16_t)w.kx0) & (mve_pred16_t)~vcmpcsq_n_u16(kx, (uint16_t)w.kx1);
        const mve_pred16_t pr = in_y & in_x;
        vstrhq_s16(xs + 8 * g, vpselq_s16(vldrbq_gather_offset_z_s16(b, vldrhq_u16(offs + 8 * g), pr), zp, pr));
    }
    return kh * kw * in->c - (w.ky1 - w.ky0) * (w.kx1 - w.kx0) * in->c;
}

/* pexc_mve_conv2d_s8 for a layer of k <= MVE_NARROW_K taps whose window
 * spans less than 64 KiB of the input; 0 when it does not. Rows are walked
 * in runs of pixels whose windows lie inside the input (their columns
 * worked out once per row), the border pixel by pixel. Not inlined, nor is
 * mve_conv_wide: the stack then holds the buffers of one of them, not of
 * both (micro_speech overflowed the firmware's 8 KiB). */
__attribute__((noinline)) static int mve_conv_narrow(const pexc_conv_params *p, const pexc_view *in,
                                                     const int8_t *filter, int32_t kh, int32_t kw,
                                                     const int32_t *bias, const pexc_tile *t, pexc_view *out) {
    const int32_t cin = in->c, k = kh * kw * cin, ng = (k + 7) / 8;
    const size_t cs = (size_t)in->c_stored, rs = (size_t)in->w * cs, ring_end = (size_t)in->ring_px * cs;
    const int32_t span_h = (kh - 1) * p->dilation_h + 1, span_w = (kw - 1) * p->dilation_w + 1;
    const size_t span = (size_t)(span_h - 1) * rs + (size_t)(span_w - 1) * cs + (size_t)cin;
    if (k > MVE_NARROW_K || span > 65536 || (t->c1 - t->c0) % 4) return 0;
    uint16_t offs[MVE_NARROW_K] __attribute__((aligned(16)));
    int16_t xs[MVE_NARROW_K] __attribute__((aligned(16)));
    int8_t win[MVE_NARROW_K] __attribute__((aligned(16)));
    int32_t fb[MVE_NARROW_C] __attribute__((aligned(16)));
    int32_t tap = 0;
    for (int32_t ky = 0; ky < kh; ky++)
        for (int32_t kx = 0; kx < kw; kx++)
            for (int32_t ci = 0; ci < cin; ci++, tap++)
                offs[tap] = (uint16_t)((size_t)ky * (size_t)p->dilation_h * rs + (size_t)kx * (size_t)p->dilation_w * cs +
                                       (size_t)ci);
    for (; tap < 8 * ng; tap++) offs[tap] = 0;
    /* each tap's row and column in the window, for the border's predicates */
    uint16_t tky[MVE_NARROW_K] __attribute__((aligned(16))), tkx[MVE_NARROW_K] __attribute__((aligned(16)));
    for (tap = 0; tap < 8 * ng; tap++) {
        tky[tap] = (uint16_t)(tap < k ? tap / (kw * cin) : 0xFFFF); /* past the window: never inside */
        tkx[tap] = (uint16_t)(tap < k ? tap / cin % kw : 0);
    }
    /* the output columns whose windows lie inside the input's width */
    const int32_t sw = p->stride_w, ca = (p->pad_left + sw - 1) / sw;
    const int32_t cz = in->w - span_w + p->pad_left < 0 ? 0 : (in->w - span_w + p->pad_left) / sw + 1;
    mve_narrow L = {mve_q_of(p), offs, filter, fb, ng, k, 0, 0, vctp16q((uint32_t)(k - 8 * (ng - 1)))};
    for (int32_t cb = t->c0; cb < t->c1; cb += MVE_NARROW_C) {
        const int32_t nc = t->c1 - cb > MVE_NARROW_C ? MVE_NARROW_C : t->c1 - cb;
        mve_fold(filter, (size_t)k, k, p->input_offset, bias, cb, nc, fb);
        L.c = cb;
        L.nc = nc;
        for (int32_t n = 0; n < out->n; n++) {
            const int8_t *ibase;
            int8_t *obase;
            mve_bases(in, out, n, &ibase, &obase);
            for (int32_t oy = t->y0; oy < t->y1; oy++) {
                const int32_t iy = oy * p->stride_h - p->pad_top, xe = pexc_tile_xe(t, oy, out->w);
                const int rows_in = iy >= 0 && iy + span_h <= in->h; /* the window's rows inside the input */
                for (int32_t ox = pexc_tile_xb(t, oy); ox < xe;) {
                    const size_t io = pexc_view_index(out, 0, oy, ox, cb);
                    if (rows_in && ox >= ca && ox < cz) {
                        int32_t len = (xe < cz ? xe : cz) - ox;
                        const size_t i0 = pexc_view_index(in, 0, iy, ox * sw - p->pad_left, in->c_begin);
                        const size_t step = (size_t)sw * cs;
                        if (in->ring_px) { /* the last window of the run ends by ring_end */
                            const int32_t fit = i0 + span > ring_end ? 0 : (int32_t)((ring_end - i0 - span) / step) + 1;
                            if (fit < len) len = fit;
                        }
                        if (len > 0) {
                            mve_narrow_run(&L, ibase + i0, step, len, obase, io, out);
                            ox += len;
                            continue;
                        }
                    }
                    int32_t pad;
                    if (in->ring_px) {
                        const pexc_gather_geom gg = pexc_gather_geom_of(p, in, kh, kw, cin);
                        pad = k - pexc_gather_window(p, in, &gg, ibase, kh, kw, cin, oy, ox, win);
                        int32_t g = 0;
                        for (; g + 1 < ng; g++) vstrhq_s16(xs + 8 * g, vldrbq_s16(win + 8 * g));
                        vstrhq_s16(xs + 8 * g, vldrbq_z_s16(win + 8 * g, L.pt));
                    } else {
                        pad = mve_narrow_border(p, in, ibase, kh, kw, oy, ox, offs, tky, tkx, ng, xs);
                    }
                    PEXC_COUNT_MAC((int64_t)nc * (k - pad));
                    (void)pad;
                    mve_narrow_pixel(&L, xs, obase + io);
                    ox++;
                }
            }
        }
    }
    return 1;
}

/* pexc_mve_conv2d_s8 through the 16-lane sums: pointwise layers from the
 * input itself, others from windows gathered on the stack. Not inlined,
 * as mve_conv_narrow. */
__attribute__((noinline)) static int mve_conv_wide(const pexc_conv_params *p, const pexc_view *in,
                                                   const int8_t *filter, int32_t kh, int32_t kw,
                                                   const int32_t *bias, const pexc_tile *t, pexc_view *out) {
    const int32_t cin = in->c, k = kh * kw * cin, off = p->input_offset;
    const int pointwise = kh == 1 && kw == 1 && p->pad_top == 0 && p->pad_left == 0;
    if (!pointwise && k > MVE_WIN) return 0;
    const mve_q q = mve_q_of(p);
    const pexc_gather_geom gg = pexc_gather_geom_of(p, in, kh, kw, cin);
    int8_t win[MVE_WIN] __attribute__((aligned(16))), win2[MVE_WIN] __attribute__((aligned(16)));
    int32_t fb[MVE_BLOCK] __attribute__((aligned(16)));
    for (int32_t cb = t->c0; cb < t->c1; cb += MVE_BLOCK) {
        const int32_t nc = t->c1 - cb > MVE_BLOCK ? MVE_BLOCK : t->c1 - cb;
        mve_fold(filter, (size_t)k, k, off, bias, cb, nc, fb);
        for (int32_t n = 0; n < out->n; n++) {
            const int8_t *ibase;
            int8_t *obase;
            mve_bases(in, out, n, &ibase, &obase);
            /* pixels in pairs, in raster order across row ends (a layer one
             * pixel wide, as sww's, pairs too): the first of a pair waits
             * in px until the second comes */
            const int8_t *px = NULL;
            int8_t *po = NULL;
            int32_t ppad = 0;
            (void)ppad; /* read only by PEXC_COUNT_MAC */
            for (int32_t oy = t->y0; oy < t->y1; oy++) {
                const int32_t xe = pexc_tile_xe(t, oy, out->w);
                for (int32_t ox = pexc_tile_xb(t, oy); ox < xe; ox++) {
                    int8_t *o = obase + pexc_view_index(out, 0, oy, ox, cb);
                    const int8_t *x;
                    int32_t pad = 0;
                    if (pointwise) {
                        x = ibase + pexc_view_index(in, 0, oy * p->stride_h, ox * p->stride_w, 0);
                    } else { /* the window gathered, into the buffer the pending pixel does not use */
                        int8_t *buf = px ? win2 : win;
                        pad = k - pexc_gather_window(p, in, &gg, ibase, kh, kw, cin, oy, ox, buf);
                        x = buf;
                    }
                    if (px) {
                        mve_pixel2(&q, px, x, filter, (size_t)k, k, fb, cb, nc, po, o);
                        PEXC_COUNT_MAC(-(int64_t)nc * (ppad + pad));
                        px = NULL;
                    } else {
                        px = x;
                        po = o;
                        ppad = pad;
                    }
                }
            }
            if (px) {
                mve_pixel(&q, px, filter, (size_t)k, k, fb, cb, nc, po);
                PEXC_COUNT_MAC(-(int64_t)nc * ppad);
            }
        }
    }
    return 1;
}

int pexc_mve_conv2d_s8(const pexc_conv_params *p, const pexc_view *in, const int8_t *filter, int32_t kh,
                       int32_t kw, const int32_t *bias, const pexc_tile *t, pexc_view *out) {
    const int pointwise = kh == 1 && kw == 1 && p->pad_top == 0 && p->pad_left == 0;
    /* with more output channels the 16-lane sums win over the cheap
     * gathers (kws_ds_cnn's 64-channel first layer: 268,000 against
     * 330,000 instructions), and a tile of a few pixels (a streamed
     * schedule's step) does not repay the gather offsets set up per call */
    if (!pointwise && in->c <= 4 && t->c1 - t->c0 <= 16 && pexc_tile_pixels(t, out->w) >= 8 &&
        mve_conv_narrow(p, in, filter, kh, kw, bias, t, out))
        return 1;
    return mve_conv_wide(p, in, filter, kh, kw, bias, t, out);
}

/* ---- FULLY_CONNECTED ---------------------------------------------------- */

int pexc_mve_fully_connected_s8(const pexc_conv_params *p, int32_t filter_offset, const pexc_view *in,
                                const int8_t *weights, const int32_t *bias, const pexc_tile *t, pexc_view *out) {
    if (filter_offset != 0) return 0;
    const int32_t depth = in->c;
    const mve_q q = mve_q_of(p);
    int32_t fb[MVE_BLOCK] __attribute__((aligned(16)));
    for (int32_t cb = t->c0; cb < t->c1; cb += MVE_BLOCK) {
        const int32_t nc = t->c1 - cb > MVE_BLOCK ? MVE_BLOCK : t->c1 - cb;
        mve_fold(weights, (size_t)depth, depth, p->input_offset, bias, cb, nc, fb);
        for (int32_t b = 0; b < out->n; b++) {
            const int8_t *x = (const int8_t *)in->data + pexc_view_index(in, b, 0, 0, 0);
            mve_pixel(&q, x, weights, (size_t)depth, depth, fb, cb, nc,
                      (int8_t *)out->data + pexc_view_index(out, b, 0, 0, cb));
        }
    }
    return 1;
}

#else
/* ISO C wants at least one declaration in a translation unit. */
typedef int pexc_mve_conv_unused;
#endif
