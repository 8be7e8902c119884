/*
 * Helium (MVE) path of int8 DEPTHWISE_CONV_2D (depth multiplier 1), for the
 * Cortex-M55.
 *
 * A depthwise layer sums per channel, so channels go four to a vector in
 * int32 lanes (VLDRB.S32 widens the input and the weights as it loads them,
 * then VMUL and VADD), and the input offset is folded into the bias once per
 * call: sum w * (x + off) = sum w * x + off * sum w over the whole window
 * (mve_conv.c's essay says why the wrapped int32 arithmetic is exact). A tap
 * outside the input is read from a buffer holding the input zero point
 * -off, whose w * (-off) cancels the folded off * w, so every pixel, clipped
 * or not, sums the same nine (or kh x kw) products and the bytes are
 * TFLite's.
 *
 * Where the instructions went. Per output pixel the portable bookkeeping
 * (the window's clipping, three view indices with a ring's modulo, the tap
 * list) cost 150-300 instructions, several times the 12 per channel of the
 * sums themselves in a layer of 8 or 16 channels (vww, person_detect). So
 * a 3x3 layer with unit dilation walks each output row in runs: the pixels
 * whose window lies wholly inside the input and does not cross a ring's
 * end are found by arithmetic once per row, and along the run the three
 * row pointers and the output pointer only advance. Every other pixel (the
 * padded border, a ring's wrap, any other kernel size) takes the tap-pointer
 * path: one pointer per tap, into the input or the zero-point buffer.
 *
 * pexc_depthwise_conv2d_s8 (depthwise_conv2d_s8.c) calls
 * pexc_mve_depthwise_conv2d_s8 first when the core has integer MVE
 * (mve_kernels.h); a one-input-channel layer whose filter is laid out by
 * channel goes to the convolution path (mve_conv.c).
 */
#include "pexc_dot.h"
#include "mve_kernels.h"

#ifdef PEXC_MVE
#include "mve_requant.h"

/* Output channels whose folded biases are kept at once (on the stack), and
 * the zero-point buffer's size: a tile with more is taken in blocks. */
#define MVE_DW_BLOCK 256
/* Taps of a depthwise window the tap-pointer path takes. */
#define MVE_DW_TAPS 81

/* Channels [c, c + n) of a pixel whose 3x3 window lies inside the input:
 * r[ky] at the window row's first pixel (channel c), pixels cs apart; the
 * filter's taps cout apart from f (channel c of tap (0, 0)); folded biases
 * fb[0 .. n). */
static inline void mve_dw3_pixel(const mve_q *q, const int8_t *const r[3], size_t cs, const int8_t *f,
                                 size_t cout, const int32_t *fb, int32_t c, int32_t n, int8_t *o) {
    PEXC_COUNT_MAC(9 * (int64_t)n);
    const size_t c2 = 2 * cs, o2 = 2 * cout;
    int32_t j = 0;
    for (; j + 4 <= n; j += 4) {
        int32x4_t acc = vldrwq_s32(fb + j);
        const int8_t *w = f + j;
        /* a row at a time, not unrolled: the nine taps' addresses at once
         * would not fit the core's registers (GCC then spills them all) */
#pragma GCC unroll 1
        for (int32_t ky = 0; ky < 3; ky++, w += 3 * cout) {
            const int8_t *x = r[ky] + j;
            acc = vaddq_s32(acc, vmulq_s32(vldrbq_s32(x), vldrbq_s32(w)));
            acc = vaddq_s32(acc, vmulq_s32(vldrbq_s32(x + cs), vldrbq_s32(w + cout)));
            acc = vaddq_s32(acc, vmulq_s32(vldrbq_s32(x + c2), vldrbq_s32(w + o2)));
        }
        mve_requant4(q, acc, c + j, 4, o + j);
    }
    if (j < n) {
        const mve_pred16_t pr = vctp32q((uint32_t)(n - j));
        int32x4_t acc = vldrwq_z_s32(fb + j, pr);
        for (int32_t ky = 0; ky < 3; ky++)
            for (int32_t kx = 0; kx < 3; kx++)
                acc = vaddq_s32(acc, vmulq_s32(vldrbq_z_s32(r[ky] + (size_t)kx * cs + j, pr),
                                               vldrbq_z_s32(f + (size_t)(3 * ky + kx) * cout + j, pr)));
        mve_requant4(q, acc, c + j, n - j, o + j);
    }
}

/* Sixteen channels per vector (the essay's second half). Lane i of a
 * widened sum holds channel 4i + b, b = 0, 2, 1, 3 for the bottom and top
 * halves of the even and odd products; these offsets {0, 4, 8, 12} gather
 * the per-channel constants and scatter the bytes of such a lane set. */
static inline uint32x4_t mve_dw_o4(void) { return vidupq_n_u32(0, 4); }

/* Channels [j, j + m) (m <= 16) of a pixel's nt taps tp[] (channel 0 of the
 * block), filter taps cout apart from f (channel 0 of tap 0), requantised
 * into o + j; c is channel 0's index in the layer. full: m == 16, so no lane
 * is masked (the compiler drops the predicates). */
__attribute__((always_inline)) static inline void mve_dw16_group(const mve_q *q, const int8_t *const *tp, int32_t nt,
                                                                 const int8_t *f, size_t cout, const int32_t *fb,
                                                                 int32_t c, int32_t j, int32_t m, int8_t *o, int full) {
    const uint32x4_t o4 = mve_dw_o4();
    const mve_pred16_t p8 = full ? 0xFFFF : vctp8q((uint32_t)m);
#define MVE_LD8(a) (full ? vldrbq_s8(a) : vldrbq_z_s8((a), p8))
    int32x4_t a0 = vldrwq_gather_shifted_offset_s32(fb + j, o4);
    int32x4_t a1 = vldrwq_gather_shifted_offset_s32(fb + j + 2, o4);
    int32x4_t a2 = vldrwq_gather_shifted_offset_s32(fb + j + 1, o4);
    int32x4_t a3 = vldrwq_gather_shifted_offset_s32(fb + j + 3, o4);
    const int8_t *w = f + j;
    int32_t k = 0;
    for (; k + 2 <= nt; k += 2, w += 2 * cout) {
        int8x16_t x = MVE_LD8(tp[k] + j), wv = MVE_LD8(w);
        int16x8_t pb = vmullbq_int_s8(x, wv), pt = vmulltq_int_s8(x, wv);
        x = MVE_LD8(tp[k + 1] + j);
        wv = MVE_LD8(w + cout);
        /* two products of int8 fit int16 unless both are (-128) * (-128),
         * which the caller rules out (no weight is -128) */
        pb = vaddq_s16(pb, vmullbq_int_s8(x, wv));
        pt = vaddq_s16(pt, vmulltq_int_s8(x, wv));
        a0 = vaddq_s32(a0, vmovlbq_s16(pb));
        a1 = vaddq_s32(a1, vmovltq_s16(pb));
        a2 = vaddq_s32(a2, vmovlbq_s16(pt));
        a3 = vaddq_s32(a3, vmovltq_s16(pt));
    }
    if (k < nt) {
        const int8x16_t x = MVE_LD8(tp[k] + j), wv = MVE_LD8(w);
        const int16x8_t pb = vmullbq_int_s8(x, wv), pt = vmulltq_int_s8(x, wv);
        a0 = vaddq_s32(a0, vmovlbq_s16(pb));
        a1 = vaddq_s32(a1, vmovltq_s16(pb));
        a2 = vaddq_s32(a2, vmovlbq_s16(pt));
        a3 = vaddq_s32(a3, vmovltq_s16(pt));
    }
#undef MVE_LD8
    const int32x4_t acc[4] = {a0, a1, a2, a3};
    static const int32_t base[4] = {0, 2, 1, 3};
    for (int32_t g = 0; g < 4; g++) {
        const int32_t b = j + base[g];
        /* the layer's constants end at its last channel: a partial block
         * reads only the lanes it stores */
        const mve_pred16_t pg = full ? 0xFFFF : vcmpgtq_s32(vdupq_n_s32(m - base[g]), vreinterpretq_s32_u32(o4));
        const int32x4_t mul = full ? vldrwq_gather_shifted_offset_s32(q->mult + c + b, o4)
                                   : vldrwq_gather_shifted_offset_z_s32(q->mult + c + b, o4, pg);
        const int32x4_t sh = full ? vldrwq_gather_shifted_offset_s32(q->shift + c + b, o4)
                                  : vldrwq_gather_shifted_offset_z_s32(q->shift + c + b, o4, pg);
        const int32x4_t v = mve_requant4_v(q, acc[g], mul, sh);
        if (full)
            vstrbq_scatter_offset_s32(o + b, o4, v);
        else /* lanes whose channel 4i + b - j is below m */
            vstrbq_scatter_offset_p_s32(o + b, o4, v, pg);
    }
}

/* mve_dw_taps with sixteen channels per vector. */
static void mve_dw16_taps(const mve_q *qp, const int8_t *const *tp, int32_t nt, const int8_t *f, size_t cout,
                          const int32_t *fb, int32_t c, int32_t n, int8_t *o) {
    const mve_q ql = *qp; /* a local copy: the int8 stores could alias the fields */
    int32_t j = 0;
    for (; j + 16 <= n; j += 16) mve_dw16_group(&ql, tp, nt, f, cout, fb, c, j, 16, o, 1);
    if (j < n) mve_dw16_group(&ql, tp, nt, f, cout, fb, c, j, n - j, o, 0);
}

/* len pixels of a run (see the essay): r[ky] as for mve_dw3_pixel at the
 * first one, each next one step bytes on; outputs from index io of obase,
 * ocs apart (wrapping around out's ring). */
static void mve_dw3_run(const mve_q *qp, const int8_t *const r0[3], int32_t len, size_t step, size_t cs,
                        const int8_t *f, size_t cout, const int32_t *fb, int32_t c, int32_t n, const pexc_view *out,
                        int8_t *obase, size_t io, int wide) {
    const mve_q ql = *qp; /* a local copy: the int8 stores could alias the fields */
    const size_t ocs = (size_t)out->c_stored;
    const int8_t *r[3] = {r0[0], r0[1], r0[2]};
    for (int32_t k = 0; k < len; k++) {
        if (wide) {
            const int8_t *tp[9] = {r[0], r[0] + cs, r[0] + 2 * cs, r[1], r[1] + cs, r[1] + 2 * cs,
                                   r[2], r[2] + cs, r[2] + 2 * cs};
            PEXC_COUNT_MAC(9 * (int64_t)n);
            mve_dw16_taps(&ql, tp, 9, f, cout, fb, c, n, obase + io);
        } else {
            mve_dw3_pixel(&ql, r, cs, f, cout, fb, c, n, obase + io);
        }
        r[0] += step;
        r[1] += step;
        r[2] += step;
        io = pexc_view_next(out, io, ocs);
    }
}

/* Channels [c, c + n) of a pixel from nt taps: tp[k] at tap k's input
 * (channel c), or at the zero-point buffer for a tap outside the input;
 * the filter's taps cout apart from f (channel c of tap 0). */
static void mve_dw_taps(const mve_q *qp, const int8_t *const *tp, int32_t nt, const int8_t *f, size_t cout,
                        const int32_t *fb, int32_t c, int32_t n, int8_t *o) {
    const mve_q ql = *qp, *q = &ql; /* a local copy: the int8 stores could alias the fields */
    int32_t j = 0;
    for (; j + 4 <= n; j += 4) {
        int32x4_t acc = vldrwq_s32(fb + j);
        const int8_t *w = f + j;
        for (int32_t k = 0; k < nt; k++, w += cout)
            acc = vaddq_s32(acc, vmulq_s32(vldrbq_s32(tp[k] + j), vldrbq_s32(w)));
        mve_requant4(q, acc, c + j, 4, o + j);
    }
    if (j < n) {
        const mve_pred16_t pr = vctp32q((uint32_t)(n - j));
        int32x4_t acc = vldrwq_z_s32(fb + j, pr);
        const int8_t *w = f + j;
        for (int32_t k = 0; k < nt; k++, w += cout)
            acc = vaddq_s32(acc, vmulq_s32(vldrbq_z_s32(tp[k] + j, pr), vldrbq_z_s32(w, pr)));
        mve_requant4(q, acc, c + j, n - j, o + j);
    }
}

/* The first and one past the last output column whose 3x3 window (stride
 * sw, left padding pl) lies inside an input w wide; empty when b <= a. */
static inline void mve_dw3_cols(int32_t sw, int32_t pl, int32_t w, int32_t *a, int32_t *b) {
    *a = (pl + sw - 1) / sw;
    *b = w - 3 + pl < 0 ? 0 : (w - 3 + pl) / sw + 1;
}

/* pexc_mve_depthwise_conv2d_s8 of a layer with its own layout; not inlined,
 * so that a one-channel layer's convolution path does not stack its
 * buffers on these. */
__attribute__((noinline)) static int mve_dw_tile(const pexc_conv_params *p, int32_t depth_mult,
                                                 const pexc_view *in, const int8_t *filter, int32_t kh, int32_t kw,
                                                 const int32_t *bias, const pexc_tile *t, pexc_view *out) {
    const int32_t nt = kh * kw;
    if (depth_mult != 1 || nt > MVE_DW_TAPS) return 0;
    const int32_t off = p->input_offset;
    const size_t cout = (size_t)out->c, cs = (size_t)in->c_stored;
    const size_t ring_end = (size_t)in->ring_px * cs;
    const int fast3 = kh == 3 && kw == 3 && p->dilation_h == 1 && p->dilation_w == 1;
    const size_t step = (size_t)p->stride_w * cs;
    int32_t ca = 0, cb3 = 0; /* the columns of whole windows */
    if (fast3) mve_dw3_cols(p->stride_w, p->pad_left, in->w, &ca, &cb3);
    const mve_q q = mve_q_of(p);
    int32_t fb[MVE_DW_BLOCK] __attribute__((aligned(16)));
    int8_t zp[MVE_DW_BLOCK] __attribute__((aligned(16)));
    memset(zp, (int8_t)-off, sizeof zp);
    const int8_t *tp[MVE_DW_TAPS];
    for (int32_t cb = t->c0; cb < t->c1; cb += MVE_DW_BLOCK) {
        const int32_t nc = t->c1 - cb > MVE_DW_BLOCK ? MVE_DW_BLOCK : t->c1 - cb;
        /* folded biases over the whole window */
        for (int32_t j = 0; j < nc; j += 4) {
            const mve_pred16_t pr = vctp32q((uint32_t)(nc - j));
            int32x4_t s = vdupq_n_s32(0);
            for (int32_t tap = 0; tap < nt; tap++)
                s = vaddq_s32(s, vldrbq_z_s32(filter + (size_t)tap * cout + (size_t)(cb + j), pr));
            const int32x4_t b = bias ? vldrwq_z_s32(bias + cb + j, pr) : vdupq_n_s32(0);
            vstrwq_s32(fb + j, vaddq_s32(b, vmulq_n_s32(s, off)));
        }
        /* sixteen channels per vector when no weight is -128 (two products
         * then fit int16) and the block has more than 8 channels */
        int wide = nc > 8;
        for (int32_t tap = 0; tap < nt && wide; tap++)
            for (int32_t j = 0; j < nc; j += 16) {
                const mve_pred16_t pr = vctp8q((uint32_t)(nc - j));
                const int8x16_t v = vldrbq_z_s8(filter + (size_t)tap * cout + (size_t)(cb + j), pr);
                wide &= vminvq_p_s8(127, v, pr) != -128;
            }
        for (int32_t n = 0; n < out->n; n++) {
            const int8_t *ibase;
            int8_t *obase;
            mve_bases(in, out, n, &ibase, &obase);
            for (int32_t oy = t->y0; oy < t->y1; oy++) {
                const int32_t xe = pexc_tile_xe(t, oy, out->w);
                const int32_t iy = oy * p->stride_h - p->pad_top;
                const int rows_in = fast3 && iy >= 0 && iy + 3 <= in->h;
                for (int32_t ox = pexc_tile_xb(t, oy); ox < xe;) {
                    size_t io = pexc_view_index(out, 0, oy, ox, cb);
                    if (rows_in && ox >= ca && ox < cb3) {
                        /* a run of whole windows: as long as the columns
                         * allow and no window row crosses a ring's end */
                        int32_t len = (xe < cb3 ? xe : cb3) - ox;
                        const int8_t *r[3];
                        const int32_t ix = ox * p->stride_w - p->pad_left;
                        for (int32_t ky = 0; ky < 3; ky++) {
                            const size_t i = pexc_view_index(in, 0, iy + ky, ix, cb);
                            r[ky] = ibase + i;
                            if (in->ring_px) { /* the last pixel's window ends by ring_end */
                                const size_t room = ring_end - i;
                                const int32_t fit = room < 3 * cs ? 0 : (int32_t)((room - 3 * cs) / step) + 1;
                                if (fit < len) len = fit;
                            }
                        }
                        mve_dw3_run(&q, r, len, step, cs, filter + cb, cout, fb, cb, nc, out, obase, io, wide);
                        ox += len;
                        if (len > 0) continue;
                    }
                    /* one pixel through its tap pointers */
                    pexc_window w;
                    pexc_window_at(p, in, kh, kw, oy, ox, &w);
                    for (int32_t k = 0; k < nt; k++) tp[k] = zp;
                    for (int32_t ky = w.ky0; ky < w.ky1 && w.kx0 < w.kx1; ky++) {
                        size_t i = pexc_view_index(in, 0, w.iy + ky * p->dilation_h, w.ix + w.kx0 * p->dilation_w, cb);
                        for (int32_t kx = w.kx0; kx < w.kx1; kx++) {
                            tp[ky * kw + kx] = ibase + i;
                            i = pexc_view_next(in, i, cs * (size_t)p->dilation_w);
                        }
                    }
                    PEXC_COUNT_MAC((int64_t)(w.ky1 - w.ky0) * (w.kx1 - w.kx0) * nc);
                    if (wide)
                        mve_dw16_taps(&q, tp, nt, filter + cb, cout, fb, cb, nc, obase + io);
                    else
                        mve_dw_taps(&q, tp, nt, filter + cb, cout, fb, cb, nc, obase + io);
                    ox++;
                }
            }
        }
    }
    return 1;
}

int pexc_mve_depthwise_conv2d_s8(const pexc_conv_params *p, int32_t depth_mult, const pexc_view *in,
                                 const int8_t *filter, int32_t kh, int32_t kw, const int32_t *bias,
                                 const pexc_tile *t, pexc_view *out) {
    if (p->filter_by_channel) /* one input channel, filter [Cout, kh, kw]: a convolution's layout */
        return pexc_mve_conv2d_s8(p, in, filter, kh, kw, bias, t, out);
    return mve_dw_tile(p, depth_mult, in, filter, kh, kw, bias, t, out);
}

#else
/* ISO C wants at least one declaration in a translation unit. */
typedef int pexc_mve_depthwise_unused;
#endif
