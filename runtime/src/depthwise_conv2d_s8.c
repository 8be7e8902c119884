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

/* Output channels [c0, c1) of one pixel into o: r[0..2] point at the
 * window's three rows (its first pixel, channel c0), pixels cs apart; the
 * filter's taps are cout apart, f at channel c0 of tap (0, 0). */
static void dw3_pixel(const int8_t *const r[3], size_t cs, const int8_t *f, size_t cout, int32_t off,
                      const int32_t *bias, const pexc_out_q *q, int32_t c0, int32_t c1, int8_t *o) {
    int32_t oc = c0;
    size_t c = 0;
#ifdef PEXC_DOT_DSP
    const int32_t off2 = pexc_off2(off);
#else
    const int32_t off2 = off;
#endif
    PEXC_COUNT_MAC(9 * (int64_t)(c1 - c0));
    for (; oc + 4 <= c1; oc += 4, c += 4, o += 4) {
        dw3_acc a = {0, 0, 0, 0};
        if (bias) {
            a.a0 = bias[oc];
            a.a1 = bias[oc + 1];
            a.a2 = bias[oc + 2];
            a.a3 = bias[oc + 3];
        }
        const int8_t *w = f + c;
        /* a loop over the rows, not unrolled: nine taps' loads hoisted at
         * once would need more registers than the core has */
#pragma GCC unroll 1
        for (int32_t ky = 0; ky < 3; ky++, w += 3 * cout) {
            const int8_t *x = r[ky] + c;
            a = dw3_tap(a, x, w, off2);
            a = dw3_tap(a, x + cs, w + cout, off2);
            a = dw3_tap(a, x + 2 * cs, w + 2 * cout, off2);
        }
        o[0] = pexc_out_q_s8(q, a.a0, oc);
        o[1] = pexc_out_q_s8(q, a.a1, oc + 1);
        o[2] = pexc_out_q_s8(q, a.a2, oc + 2);
        o[3] = pexc_out_q_s8(q, a.a3, oc + 3);
    }
    for (; oc < c1; oc++, c++, o++) {
        int32_t a = bias ? bias[oc] : 0;
        for (int32_t ky = 0; ky < 3; ky++)
            for (int32_t kx = 0; kx < 3; kx++)
                a += f[(3 * (size_t)ky + (size_t)kx) * cout + c] * (r[ky][(size_t)kx * cs + c] + off);
        *o = pexc_out_q_s8(q, a, oc);
    }
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
    if (pexc_mve_depthwise_conv2d_s8(p, depth_mult, in, filter, kh, kw, bias, t, out)) return PEXC_OK;
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
    const size_t cs = (size_t)in->c_stored, ring_end = (size_t)in->ring_px * cs;
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
            for (int32_t ox = pexc_tile_xb(t, oy); ox < xe; ox++) {
                win.ix = ox * p->stride_w - p->pad_left;
                pexc_window_clip(win.ix, p->dilation_w, kw, in->w, &win.kx0, &win.kx1);
                if (fast3 && win.ky0 == 0 && win.ky1 == 3 && win.kx0 == 0 && win.kx1 == 3) {
                    const int8_t *r[3];
                    int whole = 1; /* no row of the window wraps around a ring's end */
                    for (int32_t ky = 0; ky < 3; ky++) {
                        const size_t i = pexc_view_index(in, 0, win.iy + ky, win.ix, t->c0);
                        whole &= !in->ring_px || i + 2 * cs < ring_end;
                        r[ky] = ibase + i;
                    }
                    if (whole) {
                        dw3_pixel(r, cs, filter + t->c0, (size_t)out->c, p->input_offset, bias, &q, t->c0, t->c1,
                                  obase + pexc_view_index(out, n, oy, ox, t->c0));
                        ntaps = -1; /* the tap lists were not moved on */
                        continue;
                    }
                }
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
        (in->ring_px && q1 - q0 > in->ring_px))
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
