/*
 * CONV_2D, int8 activations with int8 per-channel weights, as TFLite's
 * reference integer kernel computes it.
 *
 * For an output element (n, oy, ox, oc) the accumulator is
 *
 *     acc = sum over (ky, kx, ic) of filter[oc][ky][kx][ic] * (in + input_offset)
 *
 * where the input position is iy = oy*stride_h - pad_top + ky*dilation_h (and
 * likewise for x). Taps that fall outside the input are skipped, which is the
 * same as padding with the input zero point in the real domain. Then the bias
 * is added, the sum is requantised with the channel's Q31 multiplier and shift,
 * the output zero point is added and the result is clamped to the fused
 * activation range.
 *
 * The partial-sum form (pexc_conv2d_s8_acc) computes the same sum restricted
 * to an input channel range and adds it into an int32 view; integer addition
 * is associative, so any split of the input channels followed by
 * pexc_requant_s32_s8 reproduces the unsplit kernel byte for byte.
 *
 * Geometry of one output pixel (which kernel taps land inside the input) is
 * worked out once per pixel and shared by every output channel: the window
 * becomes a list of runs of memory (a kernel row whose taps are adjacent is
 * one run), which the next pixel of the row takes over moved on by the
 * stride (pexc_view_next, because in a pixel ring an input row may wrap
 * around the end of the buffer). Output channels go four at a time through
 * pexc_dot4_s8 (pexc_dot.h), which loads each input word once for all four.
 * A 1x1 convolution without padding skips the window work altogether.
 */
#include "pexc_dot.h"
#include "pexc_dot2x2.h"
#include "mve_kernels.h"

/* ---- shared inner loop -------------------------------------------------- */

/* A run of memory in one output pixel's window: n input values at offset i
 * from the batch index's storage meet n weights at offset f of every output
 * channel's filter. */
typedef struct {
    size_t i, f;
    int32_t n;
} conv_run;

/* Runs kept at once (on the stack): a whole window of up to 16 kernel rows,
 * or 16 taps when each tap is a run of its own. */
#define CONV_RUNS 16

/* The window's taps cut into runs, from tap number *pos on (tap (ky, kx) is
 * number (ky - ky0) * (kx1 - kx0) + kx - kx0), at most CONV_RUNS of them;
 * *pos moves past the taps taken. The taps of one kernel row are one run
 * when they are adjacent in memory: dilation 1, the view stores exactly the
 * channels summed, all of them, and the row does not wrap around a ring's
 * end. Otherwise each tap is a run of input channels [ic0, ic1). */
static int32_t conv_runs(const pexc_conv_params *p, const pexc_view *in, int32_t kw,
                         int32_t ic0, int32_t ic1, const pexc_window *win, int32_t *pos,
                         conv_run *r) {
    const size_t cin = (size_t)in->c;
    const int32_t nic = ic1 - ic0, ntap = win->kx1 - win->kx0;
    const int32_t total = ntap > 0 && nic > 0 ? (win->ky1 - win->ky0) * ntap : 0;
    const size_t ring_end = (size_t)in->ring_px * (size_t)in->c_stored;
    const int adjacent = p->dilation_w == 1 && (size_t)nic == cin && in->c_stored == nic;
    int32_t k = 0;
    while (*pos < total && k < CONV_RUNS) {
        const int32_t ky = win->ky0 + *pos / ntap, kx = win->kx0 + *pos % ntap;
        const size_t i = pexc_view_index(in, 0, win->iy + ky * p->dilation_h,
                                         win->ix + kx * p->dilation_w, ic0);
        r[k].i = i;
        r[k].f = ((size_t)ky * (size_t)kw + (size_t)kx) * cin + (size_t)ic0;
        if (adjacent && kx == win->kx0 && (!in->ring_px || i + (size_t)ntap * cin <= ring_end)) {
            r[k++].n = ntap * nic;
            *pos += ntap;
        } else {
            r[k++].n = nic;
            *pos += 1;
        }
    }
    return k;
}

/* Sums of filter * (input + input_offset) over one output pixel's window and
 * input channels [ic0, ic1) for output channels [c0, c1), four at a time
 * (pexc_dot4_s8 loads each input word once for all four). The runs of the
 * window are found once for all output channels unless there are more than
 * CONV_RUNS of them. Each sum is requantised into o[oc - c0] (with the
 * bias) or, when o is NULL, stored into (first) or added to a[oc - c0]. */
typedef struct {
    const pexc_conv_params *p;
    const pexc_view *in;
    const int8_t *base; /* start of the batch index's storage */
    const int8_t *filter;
    int32_t kh, kw, ic0, ic1;
} conv_src;

/* runs: the window's first n0 runs (conv_runs from tap 0); a window of
 * more than CONV_RUNS runs is walked again in pieces through runs for each
 * channel group. */
static void conv_pixel(const conv_src *s, const pexc_window *win, conv_run *runs, int32_t n0,
                       int32_t c0, int32_t c1, const int32_t *bias, int8_t *o, int32_t *a, int first) {
    const size_t ws = (size_t)s->kh * (size_t)s->kw * (size_t)s->in->c; /* filter bytes per channel */
    const int32_t off = s->p->input_offset;
    const pexc_out_q q = pexc_out_q_of(s->p);
    int32_t pos = -1; /* where the first runs end: found again when needed */
    const int more = n0 == CONV_RUNS; /* the window may hold more runs */
    if (more) {
        pos = 0;
        conv_runs(s->p, s->in, s->kw, s->ic0, s->ic1, win, &pos, runs);
    }
    for (int32_t oc = c0; oc < c1;) {
        const int32_t nj = c1 - oc >= 4 ? 4 : 1;
        const int8_t *f = s->filter + (size_t)oc * ws;
        int32_t acc[4] = {0, 0, 0, 0};
        int32_t n = n0, next = pos;
        if (more && oc != c0) {
            next = 0;
            n = conv_runs(s->p, s->in, s->kw, s->ic0, s->ic1, win, &next, runs);
        }
        for (;;) {
#ifdef PEXC_DOT_AVX2
            if (nj == 4) {
                /* the host: every run into the same vector sums, one horizontal
                 * sum per four channels instead of one per run */
                __m256i v[4] = {_mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                                _mm256_setzero_si256()};
                for (int32_t k = 0; k < n; k++) {
                    const int32_t m = runs[k].n & ~15;
                    PEXC_COUNT_MAC(4 * (int64_t)m);
                    pexc_dot4_avx2_lanes(s->base + runs[k].i, f + runs[k].f, ws, m, off, v);
                    if (m < runs[k].n)
                        pexc_dot4_s8(s->base + runs[k].i + m, f + runs[k].f + m, ws, runs[k].n - m, off, acc);
                }
                pexc_avx2_sum4(v, acc);
                n = 0;
            }
#endif
            for (int32_t k = 0; k < n; k++) {
                if (nj == 4)
                    pexc_dot4_s8(s->base + runs[k].i, f + runs[k].f, ws, runs[k].n, off, acc);
                else
                    acc[0] += pexc_dot1_s8(s->base + runs[k].i, f + runs[k].f, runs[k].n, off);
            }
            if (!more) break;
            n = conv_runs(s->p, s->in, s->kw, s->ic0, s->ic1, win, &next, runs);
            if (n == 0) break;
        }
        for (int32_t j = 0; j < nj; j++, oc++) {
            if (o)
                o[oc - c0] = pexc_out_q_s8(&q, acc[j] + (bias ? bias[oc] : 0), oc);
            else
                a[oc - c0] = first ? acc[j] : a[oc - c0] + acc[j];
        }
    }
}

/* The runs of consecutive pixels of one output row: the previous pixel's
 * runs moved on by the stride are this pixel's when its window is clipped
 * the same way, the list held the whole window, and no run of adjacent taps
 * now wraps around a ring's end. n < 0: nothing kept. */
typedef struct {
    conv_run runs[CONV_RUNS];
    int32_t n, kx0, kx1;
} conv_row_runs;

static int32_t conv_runs_next(const conv_src *s, const pexc_window *win, conv_row_runs *c) {
    const pexc_view *in = s->in;
    if (c->n >= 0 && c->n < CONV_RUNS && win->kx0 == c->kx0 && win->kx1 == c->kx1 &&
        (!in->ring_px || s->p->stride_w <= in->ring_px)) {
        const size_t step = (size_t)s->p->stride_w * (size_t)in->c_stored;
        const size_t ring_end = (size_t)in->ring_px * (size_t)in->c_stored;
        int ok = 1;
        for (int32_t k = 0; k < c->n; k++) {
            c->runs[k].i = pexc_view_next(in, c->runs[k].i, step);
            if (in->ring_px && c->runs[k].n > s->ic1 - s->ic0 && c->runs[k].i + (size_t)c->runs[k].n > ring_end)
                ok = 0;
        }
        if (ok) return c->n;
    }
    int32_t pos = 0;
    c->n = conv_runs(s->p, in, s->kw, s->ic0, s->ic1, win, &pos, c->runs);
    c->kx0 = win->kx0;
    c->kx1 = win->kx1;
    return c->n;
}

/* A 1x1 convolution without padding (the pointwise layers of MobileNets):
 * output pixel (oy, ox) reads the Cin adjacent channels of input pixel
 * (oy * stride_h, ox * stride_w), so there is no window to work out. ob is
 * the start of the output's batch index storage. */
__attribute__((noinline)) static void conv_pointwise(const conv_src *s, const int32_t *bias, const pexc_tile *t,
                           const pexc_view *out, int8_t *ob) {
    const pexc_conv_params *p = s->p;
    const int32_t cin = s->in->c, off = p->input_offset;
    const pexc_out_q q = pexc_out_q_of(p);
    for (int32_t oy = t->y0; oy < t->y1; oy++) {
        const int32_t xe = pexc_tile_xe(t, oy, out->w);
        for (int32_t ox = pexc_tile_xb(t, oy); ox < xe; ox++) {
            const int8_t *x = s->base + pexc_view_index(s->in, 0, oy * p->stride_h, ox * p->stride_w, 0);
            int8_t *o = ob + pexc_view_index(out, 0, oy, ox, t->c0);
            const int8_t *f = s->filter + (size_t)t->c0 * (size_t)cin;
            int32_t oc = t->c0;
            for (; oc + 4 <= t->c1; oc += 4, f += 4 * (size_t)cin, o += 4) {
                int32_t acc[4] = {0, 0, 0, 0};
                if (bias) memcpy(acc, bias + oc, sizeof acc);
                pexc_dot4_s8(x, f, (size_t)cin, cin, off, acc);
                o[0] = pexc_out_q_s8(&q, acc[0], oc);
                o[1] = pexc_out_q_s8(&q, acc[1], oc + 1);
                o[2] = pexc_out_q_s8(&q, acc[2], oc + 2);
                o[3] = pexc_out_q_s8(&q, acc[3], oc + 3);
            }
            for (; oc < t->c1; oc++, f += cin, o++)
                *o = pexc_out_q_s8(&q, (bias ? bias[oc] : 0) + pexc_dot1_s8(x, f, cin, off), oc);
        }
    }
}

/* ---- two pixels by two channels ----------------------------------------
 *
 * Where a pixel's window lies wholly inside the input (every pointwise
 * pixel; the inner pixels of a padded window), the pixel next to it in the
 * row reads the same runs moved on by the stride, and its sums over the
 * whole window have the input offset's share, off * sum w, in common per
 * channel. Output pixels then go in pairs through pexc_dot2x2_s8
 * (pexc_dot2x2.h), which multiplies bare int8 values; bias + off * sum w
 * (conv_fold) starts each sum. Channels go in chunks of CONV_CHUNK so that
 * the folded constants fit the stack. The host keeps its AVX2 path, which
 * gains nothing from pairs. */
#ifndef PEXC_DOT_AVX2
#define CONV_PAIRS 1
#define CONV_CHUNK 16
/* Pixels a tile needs for the fold (one pass over the weights) to pay. */
#define CONV_PAIR_MIN_PIXELS 8

/* corr[oc - c0] = bias[oc] + off * (sum of channel oc's ws weights). */
static void conv_fold(const int8_t *filter, size_t ws, const int32_t *bias, int32_t off, int32_t c0,
                      int32_t c1, int32_t *corr) {
    for (int32_t oc = c0; oc < c1; oc++)
        corr[oc - c0] = (bias ? bias[oc] : 0) + off * pexc_wsum_s8(filter + (size_t)oc * ws, (int32_t)ws);
}

/* The sums acc (pexc_dot2x2_s8's order) of channels oc, oc + 1 requantised
 * into o0[0..1] (pixel 0) and o1[0..1] (pixel 1). The constants are read
 * before the first store: an int8 store may alias them. */
static inline void conv_store2x2(const pexc_out_q *q, const int32_t acc[4], int32_t oc, int8_t *o0, int8_t *o1) {
    int32_t v0, v1, v2, v3;
    if (q->round) {
        const int32_t m0 = q->mult[oc], m1 = q->mult[oc + 1], s0 = q->shift[oc], s1 = q->shift[oc + 1];
        const int32_t r0 = q->round[oc], r1 = q->round[oc + 1];
        v0 = pexc_requant_short(acc[0], m0, s0, r0);
        v1 = pexc_requant_short(acc[1], m1, s1, r1);
        v2 = pexc_requant_short(acc[2], m0, s0, r0);
        v3 = pexc_requant_short(acc[3], m1, s1, r1);
    } else {
        const int32_t m0 = q->mult[oc], m1 = q->mult[oc + 1], s0 = q->shift[oc], s1 = q->shift[oc + 1];
        v0 = pexc_requant_inline(acc[0], m0, s0) + q->output_offset;
        v1 = pexc_requant_inline(acc[1], m1, s1) + q->output_offset;
        v2 = pexc_requant_inline(acc[2], m0, s0) + q->output_offset;
        v3 = pexc_requant_inline(acc[3], m1, s1) + q->output_offset;
    }
    const int32_t lo = q->act_min, hi = q->act_max;
    o0[0] = (int8_t)(v0 < lo ? lo : v0 > hi ? hi : v0);
    o0[1] = (int8_t)(v1 < lo ? lo : v1 > hi ? hi : v1);
    o1[0] = (int8_t)(v2 < lo ? lo : v2 > hi ? hi : v2);
    o1[1] = (int8_t)(v3 < lo ? lo : v3 > hi ? hi : v3);
}

/* conv_store2x2 over np channel pairs from oc on: sums as pexc_dot2x2_rows
 * leaves them, outputs into o0[0, 2np) and o1[0, 2np). One loop per
 * requantisation form, so that the form is chosen once per pixel pair. */
__attribute__((noinline)) static void conv_store_pairs(const pexc_out_q *q, const int32_t *sums, int32_t np, int32_t oc, int8_t *o0,
                             int8_t *o1) {
    const int32_t lo = q->act_min, hi = q->act_max;
    const int32_t *m = q->mult + oc, *sh = q->shift + oc;
    if (q->round) {
        const int32_t *rd = q->round + oc;
        for (int32_t j = 0; j < 2 * np; j += 2, sums += 4) {
            const int32_t m0 = m[j], m1 = m[j + 1], s0 = sh[j], s1 = sh[j + 1], r0 = rd[j], r1 = rd[j + 1];
            const int32_t v0 = pexc_requant_short(sums[0], m0, s0, r0);
            const int32_t v1 = pexc_requant_short(sums[1], m1, s1, r1);
            const int32_t v2 = pexc_requant_short(sums[2], m0, s0, r0);
            const int32_t v3 = pexc_requant_short(sums[3], m1, s1, r1);
            o0[j] = (int8_t)(v0 < lo ? lo : v0 > hi ? hi : v0);
            o0[j + 1] = (int8_t)(v1 < lo ? lo : v1 > hi ? hi : v1);
            o1[j] = (int8_t)(v2 < lo ? lo : v2 > hi ? hi : v2);
            o1[j + 1] = (int8_t)(v3 < lo ? lo : v3 > hi ? hi : v3);
        }
    } else {
        for (int32_t j = 0; j < np; j++) conv_store2x2(q, sums + 4 * j, oc + 2 * j, o0 + 2 * j, o1 + 2 * j);
    }
}

/* Channels [c0, c1) of two output pixels whose whole windows are the runs
 * r[0, n) from x (pixel 0) and x + xs (pixel 1), into o0 and o1 (channel c0
 * first); corr from conv_fold over [c0, c1), ws filter bytes per channel. */
static void conv_pair(const int8_t *x, size_t xs, const conv_run *r, int32_t n, const int8_t *filter,
                      size_t ws, const int32_t *corr, const pexc_out_q *q, int32_t c0, int32_t c1,
                      int8_t *o0, int8_t *o1) {
    int32_t oc = c0;
    for (; oc + 2 <= c1; oc += 2) {
        const int8_t *f = filter + (size_t)oc * ws;
        const int32_t b0 = corr[oc - c0], b1 = corr[oc + 1 - c0];
        int32_t acc[4] = {b0, b1, b0, b1};
        for (int32_t k = 0; k < n; k++) pexc_dot2x2_s8(x + r[k].i, xs, f + r[k].f, ws, r[k].n, acc);
        conv_store2x2(q, acc, oc, o0 + (oc - c0), o1 + (oc - c0));
    }
    if (oc < c1) { /* an odd last channel: each pixel alone, without the offset */
        const int8_t *f = filter + (size_t)oc * ws;
        int32_t a0 = corr[oc - c0], a1 = a0;
        for (int32_t k = 0; k < n; k++) {
            a0 += pexc_dot1_s8(x + r[k].i, f + r[k].f, r[k].n, 0);
            a1 += pexc_dot1_s8(x + xs + r[k].i, f + r[k].f, r[k].n, 0);
        }
        o0[oc - c0] = pexc_out_q_s8(q, a0, oc);
        o1[oc - c0] = pexc_out_q_s8(q, a1, oc);
    }
}

/* The window of pexc_window_at lies wholly inside the input. */
static inline int conv_whole(const pexc_window *w, int32_t kh, int32_t kw) {
    return w->ky0 == 0 && w->ky1 == kh && w->kx0 == 0 && w->kx1 == kw;
}

/* The pixel after (*y, *x) in tile t's raster order (the next column, or
 * the next row's first): 0 when (*y, *x) was the tile's last. */
static inline int conv_raster_next(const pexc_tile *t, int32_t w, int32_t *y, int32_t *x) {
    if (++*x < pexc_tile_xe(t, *y, w)) return 1;
    if (++*y >= t->y1) return 0;
    *x = 0;
    return 1;
}

/* One pointwise pixel alone, channels [c0, c1): four channels per
 * pexc_dot4_s8 with the input offset, as conv_pointwise. */
__attribute__((noinline)) static void conv_pointwise_px(const int8_t *x, const int8_t *filter, int32_t cin, int32_t off,
                              const int32_t *bias, const pexc_out_q *q, int32_t c0, int32_t c1, int8_t *o) {
    const int8_t *f = filter + (size_t)c0 * (size_t)cin;
    int32_t oc = c0;
    for (; oc + 4 <= c1; oc += 4, f += 4 * (size_t)cin, o += 4) {
        int32_t acc[4] = {0, 0, 0, 0};
        if (bias) memcpy(acc, bias + oc, sizeof acc);
        pexc_dot4_s8(x, f, (size_t)cin, cin, off, acc);
        o[0] = pexc_out_q_s8(q, acc[0], oc);
        o[1] = pexc_out_q_s8(q, acc[1], oc + 1);
        o[2] = pexc_out_q_s8(q, acc[2], oc + 2);
        o[3] = pexc_out_q_s8(q, acc[3], oc + 3);
    }
    for (; oc < c1; oc++, f += cin, o++)
        *o = pexc_out_q_s8(q, (bias ? bias[oc] : 0) + pexc_dot1_s8(x, f, cin, off), oc);
}

/* A 1x1 convolution without padding (conv_pointwise's case) over output
 * channels [c0, c1) in chunks, the tile's pixels in pairs of raster
 * neighbours (across a row's end too: a one-column output pairs its rows)
 * whose inputs lie in that order (not across a ring's end). */
__attribute__((noinline)) static void conv_pointwise_pairs(const conv_src *s, const int32_t *bias, const pexc_tile *t,
                                 const pexc_view *out, int8_t *ob) {
    const pexc_conv_params *p = s->p;
    const int32_t cin = s->in->c;
    const size_t ws = (size_t)cin;
    const pexc_out_q q = pexc_out_q_of(p);
    const conv_run run = {0, 0, cin};
    int32_t corr[CONV_CHUNK], sums[2 * CONV_CHUNK];
    for (int32_t c0 = t->c0; c0 < t->c1; c0 += CONV_CHUNK) {
        const int32_t c1 = t->c1 - c0 > CONV_CHUNK ? c0 + CONV_CHUNK : t->c1;
        conv_fold(s->filter, ws, bias, p->input_offset, c0, c1, corr);
        int32_t oy = t->y0, ox = pexc_tile_xb(t, oy), more = ox < pexc_tile_xe(t, oy, out->w);
        while (more) {
            const size_t i0 = pexc_view_index(s->in, 0, oy * p->stride_h, ox * p->stride_w, 0);
            int8_t *o0 = ob + pexc_view_index(out, 0, oy, ox, c0);
            int32_t y1 = oy, x1 = ox;
            if (conv_raster_next(t, out->w, &y1, &x1)) {
                const size_t i1 = pexc_view_index(s->in, 0, y1 * p->stride_h, x1 * p->stride_w, 0);
                if (i1 > i0) {
                    const size_t xs = i1 - i0;
                    int8_t *o1 = ob + pexc_view_index(out, 0, y1, x1, c0);
                    const int32_t np = (c1 - c0) / 2;
                    pexc_dot2x2_rows(s->base + i0, xs, s->filter + (size_t)c0 * ws, cin, 1, 0, corr, np, sums);
                    conv_store_pairs(&q, sums, np, c0, o0, o1);
                    if (c0 + 2 * np < c1) /* the odd last channel */
                        conv_pair(s->base + i0, xs, &run, 1, s->filter, ws, corr + 2 * np, &q, c0 + 2 * np, c1,
                                  o0 + 2 * np, o1 + 2 * np);
                    oy = y1;
                    ox = x1;
                    more = conv_raster_next(t, out->w, &oy, &ox);
                    continue;
                }
            }
            conv_pointwise_px(s->base + i0, s->filter, cin, p->input_offset, bias, &q, c0, c1, o0);
            more = conv_raster_next(t, out->w, &oy, &ox);
        }
    }
}

/* The runs r[0, n) have one length, their weights follow each other
 * (run k at k times the length) and their inputs are evenly spaced: what
 * pexc_dot2x2_rows walks (a dense window's kernel rows; a whole window is
 * what conv_runs lists from tap 0, so the first run's weights start at 0). */
static int conv_even_runs(const conv_run *r, int32_t n) {
    for (int32_t k = 1; k < n; k++)
        if (r[k].n != r[0].n || r[k].f != r[k - 1].f + (size_t)r[0].n || r[k].i - r[k - 1].i != r[1].i - r[0].i)
            return 0;
    return n > 0 && r[0].f == 0;
}

/* The general window (pexc_conv2d_s8's last case) with pairs of raster
 * neighbours whose windows lie wholly inside an input that is no ring (the
 * second window is then the first's runs moved on by a fixed distance);
 * other pixels go through conv_pixel as before. */
__attribute__((noinline)) static void conv_rows_pairs(const conv_src *s, const int32_t *bias, const pexc_tile *t, const pexc_view *out,
                            int8_t *ob) {
    const pexc_conv_params *p = s->p;
    const pexc_view *in = s->in;
    const int32_t kh = s->kh, kw = s->kw;
    const size_t ws = (size_t)kh * (size_t)kw * (size_t)in->c;
    const pexc_out_q q = pexc_out_q_of(p);
    int32_t corr[CONV_CHUNK], sums[2 * CONV_CHUNK];
    for (int32_t c0 = t->c0; c0 < t->c1; c0 += CONV_CHUNK) {
        const int32_t c1 = t->c1 - c0 > CONV_CHUNK ? c0 + CONV_CHUNK : t->c1;
        conv_fold(s->filter, ws, bias, p->input_offset, c0, c1, corr);
        conv_row_runs rr;
        rr.n = -1;
        int32_t oy = t->y0, ox = pexc_tile_xb(t, oy), more = ox < pexc_tile_xe(t, oy, out->w);
        int32_t prev_y = -1, prev_x = -1; /* the last pixel whose runs rr holds */
        while (more) {
            pexc_window win, win1;
            pexc_window_at(p, in, kh, kw, oy, ox, &win);
            if (prev_y != oy || prev_x != ox - 1) rr.n = -1; /* rr follows one row's pixels */
            const int32_t nr = conv_runs_next(s, &win, &rr);
            prev_y = oy;
            prev_x = ox;
            int8_t *o0 = ob + pexc_view_index(out, 0, oy, ox, c0);
            int32_t y1 = oy, x1 = ox;
            if (nr < CONV_RUNS && conv_whole(&win, kh, kw) && conv_raster_next(t, out->w, &y1, &x1)) {
                pexc_window_at(p, in, kh, kw, y1, x1, &win1);
                const size_t i0 = pexc_view_index(in, 0, win.iy, win.ix, 0);
                const size_t i1 = pexc_view_index(in, 0, win1.iy, win1.ix, 0);
                if (conv_whole(&win1, kh, kw) && i1 > i0) {
                    const size_t xs = i1 - i0;
                    int8_t *o1 = ob + pexc_view_index(out, 0, y1, x1, c0);
                    const int32_t np = conv_even_runs(rr.runs, nr) ? (c1 - c0) / 2 : 0;
                    if (np) {
                        const size_t rstep = nr > 1 ? rr.runs[1].i - rr.runs[0].i : 0;
                        pexc_dot2x2_rows(s->base + rr.runs[0].i, xs, s->filter + (size_t)c0 * ws, rr.runs[0].n,
                                         nr, rstep, corr, np, sums);
                        conv_store_pairs(&q, sums, np, c0, o0, o1);
                    }
                    if (c0 + 2 * np < c1)
                        conv_pair(s->base, xs, rr.runs, nr, s->filter, ws, corr + 2 * np, &q, c0 + 2 * np, c1,
                                  o0 + 2 * np, o1 + 2 * np);
                    oy = y1;
                    ox = x1;
                    more = conv_raster_next(t, out->w, &oy, &ox);
                    continue;
                }
            }
            conv_pixel(s, &win, rr.runs, nr, c0, c1, bias, o0, NULL, 0);
            if (nr == CONV_RUNS) rr.n = -1;
            more = conv_raster_next(t, out->w, &oy, &ox);
        }
    }
}
#endif

/* The paths of pexc_conv2d_s8 are functions of their own, so that the
 * stack holds one path's frame at a time (each keeps arrays there). */

/* A small window (pexc_gather_tile, pexc_dot.h). */
__attribute__((noinline)) static void conv_gather(const conv_src *s, const int32_t *bias, const pexc_tile *t,
                                                  const pexc_view *out, int8_t *ob) {
    pexc_gather_tile(s->p, s->in, s->base, s->filter, s->kh, s->kw, s->in->c, bias, t, out, ob);
}

/* Any window, one pixel at a time, sharing each row's runs: requantised
 * into ob (with the bias) or, when ob is NULL, summed into ab as
 * conv_pixel's a and first; v is the view (output or sums) both index. */
__attribute__((noinline)) static void conv_rows(const conv_src *s, const int32_t *bias, const pexc_tile *t,
                                                const pexc_view *v, int8_t *ob, int32_t *ab, int first) {
    for (int32_t oy = t->y0; oy < t->y1; oy++) {
        const int32_t xe = pexc_tile_xe(t, oy, v->w);
        conv_row_runs rr;
        rr.n = -1;
        for (int32_t ox = pexc_tile_xb(t, oy); ox < xe; ox++) {
            pexc_window win;
            pexc_window_at(s->p, s->in, s->kh, s->kw, oy, ox, &win);
            const int32_t nr = conv_runs_next(s, &win, &rr);
            const size_t i = pexc_view_index(v, 0, oy, ox, t->c0);
            conv_pixel(s, &win, rr.runs, nr, t->c0, t->c1, bias, ob ? ob + i : NULL, ob ? NULL : ab + i, first);
            if (nr == CONV_RUNS) rr.n = -1; /* conv_pixel walked the list on */
        }
    }
}

/* ---- kernels ------------------------------------------------------------ */

/**
 * @brief int8 2-D convolution over one output tile.
 *
 * @param p      strides, dilations, resolved padding, offsets, clamp and
 *               per-output-channel requantisation ([Cout] each).
 * @param in     input view, logical [N, H, W, Cin]; must store channels
 *               [0, Cin).
 * @param filter [Cout, kh, kw, Cin] int8, Cin == in->c.
 * @param bias   [Cout] int32 or NULL.
 * @param t      output pixels (raster range of the tile), channels
 *               [c0, c1), all batches.
 * @param out    output view, logical [N, Hout, Wout, Cout]; int8 in
 *               [act_min, act_max].
 * @return PEXC_OK, or PEXC_ERR_ARG if the tile or a view is out of range.
 */
pexc_status pexc_conv2d_s8(const pexc_conv_params *p, const pexc_view *in,
                           const int8_t *filter, int32_t kh, int32_t kw,
                           const int32_t *bias, const pexc_tile *t,
                           pexc_view *out) {
    if (!pexc_conv_params_valid(p, kh, kw) || !pexc_view_valid(in) || !pexc_view_valid(out) ||
        !filter || !pexc_tile_valid(t, out) || in->n != out->n ||
        !pexc_view_stores(in, 0, in->c) || !pexc_conv_rows_fit(p, in, kh, kw, t, out->w))
        return PEXC_ERR_ARG;
    /* a filter in four-unit blocks only where the window is gathered */
    const int il4 = p->filter_by_channel == PEXC_FILTER_GATHER_IL4;
    if (il4 && !(kh * kw > 1 && kh * kw * in->c <= PEXC_GATHER_MAX)) return PEXC_ERR_ARG;
    if (t->c0 >= t->c1) return PEXC_OK;
#ifdef PEXC_MVE
    if (!il4 && pexc_mve_conv2d_s8(p, in, filter, kh, kw, bias, t, out)) return PEXC_OK;
#endif

    int8_t *obase = (int8_t *)out->data;
    for (int32_t n = 0; n < out->n; n++) {
        const conv_src src = {p, in, (const int8_t *)in->data + pexc_view_index(in, n, 0, 0, in->c_begin),
                              filter, kh, kw, 0, in->c};
        int8_t *ob = obase + pexc_view_index(out, n, 0, 0, out->c_begin);
#ifdef CONV_PAIRS
        const int pairs = pexc_tile_pixels(t, out->w) >= CONV_PAIR_MIN_PIXELS;
#endif
        if (kh == 1 && kw == 1 && p->pad_top == 0 && p->pad_left == 0) {
#ifdef CONV_PAIRS
            if (pairs) {
                conv_pointwise_pairs(&src, bias, t, out, ob);
                continue;
            }
#endif
            conv_pointwise(&src, bias, t, out, ob);
            continue;
        }
        if (kh * kw > 1 && kh * kw * in->c <= PEXC_GATHER_MAX) { /* a small window: a first layer */
            conv_gather(&src, bias, t, out, ob);
            continue;
        }
#ifdef CONV_PAIRS
        if (pairs && !in->ring_px) {
            conv_rows_pairs(&src, bias, t, out, ob);
            continue;
        }
#endif
        conv_rows(&src, bias, t, out, ob, NULL, 0);
    }
    return PEXC_OK;
}

/**
 * @brief Partial sums of an int8 convolution over input channels [ic0, ic1).
 *
 * acc(n, y, x, oc) (+)= sum over taps and ic in [ic0, ic1) of
 * filter * (input + input_offset), for the tile t. No bias, no requantisation.
 *
 * @param in     input view, logical [N, H, W, Cin]; needs to store only
 *               channels [ic0, ic1).
 * @param filter [Cout, kh, kw, Cin] int8 (the whole filter; Cin == in->c).
 * @param first  nonzero: overwrite the tile of acc; zero: add to it.
 * @param acc    int32 view with the output's logical shape [N, Hout, Wout, Cout].
 */
pexc_status pexc_conv2d_s8_acc(const pexc_conv_params *p, const pexc_view *in,
                               const int8_t *filter, int32_t kh, int32_t kw,
                               int32_t ic0, int32_t ic1, int first,
                               const pexc_tile *t, pexc_view *acc) {
    if (!pexc_conv_params_valid(p, kh, kw) || !pexc_view_valid(in) || !pexc_view_valid(acc) ||
        !filter || !pexc_tile_valid(t, acc) || in->n != acc->n || ic0 < 0 ||
        ic0 > ic1 || ic1 > in->c || !pexc_view_stores(in, ic0, ic1) ||
        !pexc_conv_rows_fit(p, in, kh, kw, t, acc->w) || p->filter_by_channel == PEXC_FILTER_GATHER_IL4)
        return PEXC_ERR_ARG;
    if (t->c0 >= t->c1) return PEXC_OK;

    int32_t *abase = (int32_t *)acc->data;
    for (int32_t n = 0; n < acc->n; n++) {
        const conv_src src = {p, in, (const int8_t *)in->data + pexc_view_index(in, n, 0, 0, in->c_begin),
                              filter, kh, kw, ic0, ic1};
        conv_rows(&src, NULL, t, acc, NULL, abase + pexc_view_index(acc, n, 0, 0, acc->c_begin), first);
    }
    return PEXC_OK;
}

/**
 * @brief Finish partial sums: out = clamp(requant(acc + bias) + output_offset).
 *
 * Serves both conv and fully connected partial sums (for FC the views are
 * [batches, 1, 1, units] and the tile is rows [0, 1)).
 *
 * @param bias [C] int32 or NULL.
 * @param acc  int32 view, same logical shape as out.
 * @param out  int8 view.
 */
pexc_status pexc_requant_s32_s8(const pexc_conv_params *p, const int32_t *bias,
                                const pexc_view *acc, const pexc_tile *t,
                                pexc_view *out) {
    if (!pexc_conv_quant_valid(p) || !pexc_view_valid(acc) || !pexc_view_valid(out) ||
        acc->n != out->n || acc->h != out->h || acc->w != out->w ||
        acc->c != out->c || !pexc_tile_valid(t, acc) || !pexc_tile_valid(t, out))
        return PEXC_ERR_ARG;
    if (t->c0 >= t->c1) return PEXC_OK;

    const int32_t *abase = (const int32_t *)acc->data;
    int8_t *obase = (int8_t *)out->data;
    const pexc_out_q q = pexc_out_q_of(p);
    for (int32_t n = 0; n < out->n; n++) {
        for (int32_t y = t->y0; y < t->y1; y++) {
            const int32_t xe = pexc_tile_xe(t, y, out->w);
            for (int32_t x = pexc_tile_xb(t, y); x < xe; x++) {
                const int32_t *a = abase + pexc_view_index(acc, n, y, x, t->c0);
                int8_t *o = obase + pexc_view_index(out, n, y, x, t->c0);
                for (int32_t c = t->c0; c < t->c1; c++) {
                    int32_t v = a[c - t->c0];
                    if (bias) v += bias[c];
                    o[c - t->c0] = pexc_out_q_s8(&q, v, c);
                }
            }
        }
    }
    return PEXC_OK;
}
