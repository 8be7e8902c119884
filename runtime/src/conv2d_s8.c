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
static void conv_pointwise(const conv_src *s, const int32_t *bias, const pexc_tile *t,
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
    if (t->c0 >= t->c1) return PEXC_OK;
#ifdef PEXC_MVE
    if (pexc_mve_conv2d_s8(p, in, filter, kh, kw, bias, t, out)) return PEXC_OK;
#endif

    int8_t *obase = (int8_t *)out->data;
    for (int32_t n = 0; n < out->n; n++) {
        const conv_src src = {p, in, (const int8_t *)in->data + pexc_view_index(in, n, 0, 0, in->c_begin),
                              filter, kh, kw, 0, in->c};
        if (kh == 1 && kw == 1 && p->pad_top == 0 && p->pad_left == 0) {
            conv_pointwise(&src, bias, t, out, obase + pexc_view_index(out, n, 0, 0, out->c_begin));
            continue;
        }
        if (kh * kw > 1 && kh * kw * in->c <= PEXC_GATHER_MAX) { /* a small window: a first layer */
            pexc_gather_tile(p, in, src.base, filter, kh, kw, in->c, bias, t, out,
                              obase + pexc_view_index(out, n, 0, 0, out->c_begin));
            continue;
        }
        for (int32_t oy = t->y0; oy < t->y1; oy++) {
            const int32_t xe = pexc_tile_xe(t, oy, out->w);
            conv_row_runs rr;
            rr.n = -1;
            for (int32_t ox = pexc_tile_xb(t, oy); ox < xe; ox++) {
                pexc_window win;
                pexc_window_at(p, in, kh, kw, oy, ox, &win);
                const int32_t nr = conv_runs_next(&src, &win, &rr);
                conv_pixel(&src, &win, rr.runs, nr, t->c0, t->c1, bias,
                           obase + pexc_view_index(out, n, oy, ox, t->c0), NULL, 0);
                if (nr == CONV_RUNS) rr.n = -1; /* conv_pixel walked the list on */
            }
        }
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
        !pexc_conv_rows_fit(p, in, kh, kw, t, acc->w))
        return PEXC_ERR_ARG;
    if (t->c0 >= t->c1) return PEXC_OK;

    int32_t *abase = (int32_t *)acc->data;
    for (int32_t n = 0; n < acc->n; n++) {
        const conv_src src = {p, in, (const int8_t *)in->data + pexc_view_index(in, n, 0, 0, in->c_begin),
                              filter, kh, kw, ic0, ic1};
        for (int32_t oy = t->y0; oy < t->y1; oy++) {
            const int32_t xe = pexc_tile_xe(t, oy, acc->w);
            conv_row_runs rr;
            rr.n = -1;
            for (int32_t ox = pexc_tile_xb(t, oy); ox < xe; ox++) {
                pexc_window win;
                pexc_window_at(p, in, kh, kw, oy, ox, &win);
                const int32_t nr = conv_runs_next(&src, &win, &rr);
                conv_pixel(&src, &win, rr.runs, nr, t->c0, t->c1, NULL, NULL,
                           abase + pexc_view_index(acc, n, oy, ox, t->c0), first);
                if (nr == CONV_RUNS) rr.n = -1; /* conv_pixel walked the list on */
            }
        }
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
