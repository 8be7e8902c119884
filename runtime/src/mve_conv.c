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
 * apart from w (row 0), for j in [0, n); modulo 2^32 (see the essay). */
static void mve_fold(const int8_t *w, size_t ws, int32_t k, int32_t off, const int32_t *bias, int32_t c,
                     int32_t n, int32_t *fb) {
    for (int32_t j = 0; j < n; j++) {
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

int pexc_mve_conv2d_s8(const pexc_conv_params *p, const pexc_view *in, const int8_t *filter, int32_t kh,
                       int32_t kw, const int32_t *bias, const pexc_tile *t, pexc_view *out) {
    const int32_t cin = in->c, k = kh * kw * cin, off = p->input_offset;
    const int pointwise = kh == 1 && kw == 1 && p->pad_top == 0 && p->pad_left == 0;
    if (!pointwise && k > MVE_WIN) return 0;
    const mve_q q = mve_q_of(p);
    int8_t win[MVE_WIN] __attribute__((aligned(16))), win2[MVE_WIN] __attribute__((aligned(16)));
    int32_t fb[MVE_BLOCK] __attribute__((aligned(16)));
    for (int32_t cb = t->c0; cb < t->c1; cb += MVE_BLOCK) {
        const int32_t nc = t->c1 - cb > MVE_BLOCK ? MVE_BLOCK : t->c1 - cb;
        mve_fold(filter, (size_t)k, k, off, bias, cb, nc, fb);
        for (int32_t n = 0; n < out->n; n++) {
            const int8_t *ibase = (const int8_t *)in->data + pexc_view_index(in, n, 0, 0, in->c_begin);
            int8_t *obase = (int8_t *)out->data + pexc_view_index(out, n, 0, 0, out->c_begin);
            for (int32_t oy = t->y0; oy < t->y1; oy++) {
                const int32_t xe = pexc_tile_xe(t, oy, out->w);
                for (int32_t ox = pexc_tile_xb(t, oy); ox < xe; ox++) {
                    int8_t *o = obase + pexc_view_index(out, 0, oy, ox, cb);
                    if (pointwise) {
                        const int8_t *x = ibase + pexc_view_index(in, 0, oy * p->stride_h, ox * p->stride_w, 0);
                        if (ox + 1 < xe) { /* two pixels of the row at once */
                            const int8_t *y = ibase + pexc_view_index(in, 0, oy * p->stride_h, (ox + 1) * p->stride_w, 0);
                            mve_pixel2(&q, x, y, filter, (size_t)k, k, fb, cb, nc, o,
                                       obase + pexc_view_index(out, 0, oy, ox + 1, cb));
                            ox++;
                        } else {
                            mve_pixel(&q, x, filter, (size_t)k, k, fb, cb, nc, o);
                        }
                        continue;
                    }
                    /* the window gathered; two pixels of a row at once */
                    const int32_t pad = pexc_gather_window(p, in, ibase, kh, kw, cin, oy, ox, win);
                    if (ox + 1 < xe) {
                        const int32_t pad2 = pexc_gather_window(p, in, ibase, kh, kw, cin, oy, ox + 1, win2);
                        mve_pixel2(&q, win, win2, filter, (size_t)k, k, fb, cb, nc, o,
                                   obase + pexc_view_index(out, 0, oy, ox + 1, cb));
                        PEXC_COUNT_MAC(-(int64_t)nc * (pad + pad2));
                        (void)pad2;
                        ox++;
                    } else {
                        mve_pixel(&q, win, filter, (size_t)k, k, fb, cb, nc, o);
                        PEXC_COUNT_MAC(-(int64_t)nc * pad);
                    }
                    (void)pad;
                }
            }
        }
    }
    return 1;
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
