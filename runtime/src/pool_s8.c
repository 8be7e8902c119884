/*
 * AVERAGE_POOL_2D and MAX_POOL_2D, int8, as TFLite Micro's reference integer
 * pooling computes them.
 *
 * Both walk the filter window of every output position and skip the taps
 * that fall into the padding: TFLite pads pooling implicitly, so padded taps
 * neither add to the sum nor count towards the divisor. The average is the
 * integer sum divided by the number of valid taps, rounded half away from
 * zero; the maximum starts from -128. Input and output share scale and zero
 * point, so no requantisation takes place; only the fused activation clamp.
 *
 * The average also comes in partial-sum form, for windows that span many
 * input rows (a global pool fed by a streamed producer):
 * pexc_avg_pool_s8_acc adds the taps that lie in one range of input pixels
 * (raster order) into an int32 accumulator (int16 with acc16, where a
 * window's at most 256 int8 taps cannot leave it), pexc_avg_pool_s8_finish
 * divides and clamps. Integer addition is exact, so any split of the input pixels
 * gives the sums the whole-input kernel forms, and both finish through
 * avg_out_s8.
 *
 * Taps are read through pexc_view_index (PEXC_AT_S8) or, along a row of the
 * partial-sum form, pexc_view_next, so an input ring whose rows wrap around
 * its end mid-row reads correctly.
 */
#include "pexc_kernels.h"
#include "mve_kernels.h"

/* Checks that view v is usable and stores channels [c0, c1). */
static int view_ok(const pexc_view *v, int32_t c0, int32_t c1) {
    if (!v || !v->data) return 0;
    if (v->n < 1 || v->h < 1 || v->w < 1 || v->c < 1) return 0;
    if (v->c_stored < 1 || v->c_begin < 0 || v->c_begin + v->c_stored > v->c) return 0;
    if (v->ring_px < 0) return 0;
    if (c0 < c1 && (c0 < v->c_begin || c1 > v->c_begin + v->c_stored)) return 0;
    return 1;
}

/* Window geometry and activation clamp are usable. */
static int pool_params_ok(const pexc_pool_params *p) {
    if (!p) return 0;
    if (p->stride_h < 1 || p->stride_w < 1 || p->filter_h < 1 || p->filter_w < 1) return 0;
    return p->act_min <= p->act_max;
}

/* ...and the tile is inside the output (which holds it, if a ring), both
 * views store its channels, and a ring input holds every input pixel the
 * tile's windows read. */
static int pool_args_ok(const pexc_pool_params *p, const pexc_view *in,
                        const pexc_tile *t, const pexc_view *out) {
    if (!pool_params_ok(p) || !t) return 0;
    if (!out || !view_ok(out, t->c0, t->c1) || !view_ok(in, t->c0, t->c1)) return 0;
    if (in->n != out->n || in->c != out->c || !pexc_tile_valid(t, out)) return 0;
    return pexc_window_fits(in, p->stride_h, p->stride_w, p->pad_top, p->pad_left, p->filter_h,
                            p->filter_w, out->w, t);
}

/* Valid filter taps [*f0, *f1) along one axis for an output position whose
 * window starts at input coordinate origin (may be negative). */
static void tap_range(int32_t origin, int32_t filter, int32_t in_extent,
                      int32_t *f0, int32_t *f1) {
    int32_t lo = origin < 0 ? -origin : 0;
    int32_t hi = in_extent - origin < filter ? in_extent - origin : filter;
    *f0 = lo;
    *f1 = hi > lo ? hi : lo;
}

/* The average of count (>= 1) taps summing to sum, rounded half away from
 * zero and clamped to the activation range: the one place every average
 * pooling output is formed. */
static int8_t avg_out_s8(const pexc_pool_params *p, int32_t sum, int32_t count) {
    int32_t avg = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
    if (avg < p->act_min) avg = p->act_min;
    if (avg > p->act_max) avg = p->act_max;
    return (int8_t)avg;
}

/**
 * @brief int8 average pooling over tile t of the output.
 *
 * in:  [N, H, W, C] int8, out: [N, OH, OW, C] int8 (same quantisation).
 * Output (n, oy, ox, c) averages input rows oy*stride_h - pad_top + [0, fh)
 * and columns ox*stride_w - pad_left + [0, fw) that lie inside the input.
 * The rounded average is clamped to [act_min, act_max].
 * @return PEXC_ERR_ARG on bad arguments or an output position with no valid
 *         tap (TFLite fails the same way).
 */
pexc_status pexc_avg_pool_s8(const pexc_pool_params *p, const pexc_view *in,
                             const pexc_tile *t, pexc_view *out) {
    if (!pool_args_ok(p, in, t, out)) return PEXC_ERR_ARG;
#ifdef PEXC_MVE
    if (pexc_mve_avg_pool_s8(p, in, t, out)) return PEXC_OK;
#endif
    for (int32_t n = 0; n < out->n; n++) {
        for (int32_t oy = t->y0; oy < t->y1; oy++) {
            int32_t iy0 = oy * p->stride_h - p->pad_top, fy0, fy1;
            tap_range(iy0, p->filter_h, in->h, &fy0, &fy1);
            const int32_t xe = pexc_tile_xe(t, oy, out->w);
            for (int32_t ox = pexc_tile_xb(t, oy); ox < xe; ox++) {
                int32_t ix0 = ox * p->stride_w - p->pad_left, fx0, fx1;
                tap_range(ix0, p->filter_w, in->w, &fx0, &fx1);
                int32_t count = (fy1 - fy0) * (fx1 - fx0);
                if (count == 0) {
                    if (t->c0 < t->c1) return PEXC_ERR_ARG;
                    continue;
                }
                for (int32_t c = t->c0; c < t->c1; c++) {
                    int32_t sum = 0;
                    for (int32_t fy = fy0; fy < fy1; fy++)
                        for (int32_t fx = fx0; fx < fx1; fx++)
                            sum += PEXC_AT_S8(in, n, iy0 + fy, ix0 + fx, c);
                    PEXC_AT_S8(out, n, oy, ox, c) = avg_out_s8(p, sum, count);
                }
            }
        }
    }
    return PEXC_OK;
}

/* acc16 is taken only where no window sum can leave int16 (its at most
 * 256 taps of int8 values sum into [-32768, 32512]). */
static int acc_width_ok(const pexc_pool_params *p) {
    return !p->acc16 || (int64_t)p->filter_h * p->filter_w <= 256;
}

/* Partial sums [a, a + nc) of acc (int16 with p->acc16, else int32): px's
 * nc values added, or zeroed when px is NULL. */
static void acc_add(const pexc_pool_params *p, pexc_view *acc, size_t a, const int8_t *px, int32_t nc) {
    if (p->acc16) {
        int16_t *s = (int16_t *)acc->data + a;
        for (int32_t c = 0; c < nc; c++) s[c] = px ? (int16_t)(s[c] + px[c]) : 0;
    } else {
        int32_t *s = (int32_t *)acc->data + a;
        for (int32_t c = 0; c < nc; c++) s[c] = px ? s[c] + px[c] : 0;
    }
}

/**
 * @brief Partial sums of int8 average pooling over input pixels [q0, q1).
 *
 * acc(n, oy, ox, c) (+)= sum of the window taps of output (n, oy, ox) at
 * channel c that lie inside the input and whose raster index iy * W + ix is
 * in [q0, q1), for the tile t. Summing the calls over consecutive pixel
 * ranges that cover [0, H * W) gives the sum pexc_avg_pool_s8 averages;
 * pexc_avg_pool_s8_finish turns it into the output. The window tests
 * (padding) are those of pexc_avg_pool_s8.
 *
 * @param in     input view, logical [N, H, W, C]; needs to hold only pixels
 *               [q0, q1) (a ring view needs ring_px >= q1 - q0) and the
 *               tile's channels. 0 <= q0 <= q1 <= H * W.
 * @param first  nonzero: overwrite the tile of acc; zero: add to it.
 * @param acc    int32 view (int16 with p->acc16) with the pool output's
 *               logical shape [N, OH, OW, C].
 * @return PEXC_ERR_ARG on bad arguments. Windows with no tap in the range add
 *         nothing (an empty window is reported by the finish).
 */
pexc_status pexc_avg_pool_s8_acc(const pexc_pool_params *p, const pexc_view *in,
                                 int32_t q0, int32_t q1, int first,
                                 const pexc_tile *t, pexc_view *acc) {
    if (!pool_params_ok(p) || !pexc_view_valid(in) || !pexc_view_valid(acc) ||
        !pexc_tile_valid(t, acc) || !pexc_view_stores(in, t->c0, t->c1) ||
        in->n != acc->n || in->c != acc->c || q0 < 0 || q0 > q1 ||
        (int64_t)q1 > (int64_t)in->h * in->w || (in->ring_px && q1 - q0 > in->ring_px) || !acc_width_ok(p))
        return PEXC_ERR_ARG;
    if (t->c0 >= t->c1) return PEXC_OK;

    const int32_t nc = t->c1 - t->c0, W = in->w;
    /* Input rows the range touches: [ry0, ry1]; the first and last may be
     * partial (columns from q0 % W, up to (q1 - 1) % W). */
    const int32_t ry0 = q0 / W, ry1 = q1 > q0 ? (q1 - 1) / W : ry0 - 1;
    const size_t step = (size_t)in->c_stored;
    for (int32_t n = 0; n < acc->n; n++) {
        /* Offsets within the batch index's storage wrap in a ring. */
        const int8_t *ibase = (const int8_t *)in->data + pexc_view_index(in, n, 0, 0, in->c_begin);
        for (int32_t oy = t->y0; oy < t->y1; oy++) {
            /* Window rows inside the input, then inside [ry0, ry1]. */
            int32_t wy = oy * p->stride_h - p->pad_top, fy0, fy1;
            tap_range(wy, p->filter_h, in->h, &fy0, &fy1);
            if (fy0 < ry0 - wy) fy0 = ry0 - wy;
            if (fy1 > ry1 + 1 - wy) fy1 = ry1 + 1 - wy;
            const int32_t xe = pexc_tile_xe(t, oy, acc->w);
            for (int32_t ox = pexc_tile_xb(t, oy); ox < xe; ox++) {
                int32_t wx = ox * p->stride_w - p->pad_left, fx0, fx1;
                tap_range(wx, p->filter_w, in->w, &fx0, &fx1);
                const size_t a = pexc_view_index(acc, n, oy, ox, t->c0);
                if (first) acc_add(p, acc, a, NULL, nc);
                for (int32_t fy = fy0; fy < fy1; fy++) {
                    /* Columns of this row inside the window and the range. */
                    const int32_t iy = wy + fy;
                    int32_t ix0 = wx + fx0, ix1 = wx + fx1;
                    if (iy == ry0 && ix0 < q0 - iy * W) ix0 = q0 - iy * W;
                    if (iy == ry1 && ix1 > q1 - iy * W) ix1 = q1 - iy * W;
                    if (ix0 >= ix1) continue;
                    size_t i = pexc_view_index(in, 0, iy, ix0, t->c0);
                    for (int32_t ix = ix0; ix < ix1; ix++) {
                        acc_add(p, acc, a, ibase + i, nc);
                        i = pexc_view_next(in, i, step);
                    }
                }
            }
        }
    }
    return PEXC_OK;
}

/**
 * @brief Finishes partial average-pool sums: out = clamp(round(acc / count)).
 *
 * count is the number of window taps of the output position inside the
 * in_h x in_w input, exactly as pexc_avg_pool_s8 counts them; the quotient is
 * rounded half away from zero and clamped to [act_min, act_max].
 *
 * @param acc  int32 view (int16 with p->acc16) of complete sums (see
 *             pexc_avg_pool_s8_acc), same logical shape as out.
 * @return PEXC_ERR_ARG on bad arguments or when a position of the tile has
 *         no valid tap (checked before anything is written).
 */
pexc_status pexc_avg_pool_s8_finish(const pexc_pool_params *p, int32_t in_h, int32_t in_w,
                                    const pexc_view *acc, const pexc_tile *t, pexc_view *out) {
    if (!pool_params_ok(p) || in_h < 1 || in_w < 1 || !pexc_view_valid(acc) ||
        !pexc_view_valid(out) || acc->n != out->n || acc->h != out->h || acc->w != out->w ||
        acc->c != out->c || !pexc_tile_valid(t, acc) || !pexc_tile_valid(t, out) || !acc_width_ok(p))
        return PEXC_ERR_ARG;
    if (t->c0 >= t->c1) return PEXC_OK;

    /* The tap count factors into rows x columns, so an empty window shows up
     * as an empty row range or an empty column range. Every position of the
     * tile is checked before anything is written. */
    for (int32_t oy = t->y0; oy < t->y1; oy++) {
        int32_t fy0, fy1;
        tap_range(oy * p->stride_h - p->pad_top, p->filter_h, in_h, &fy0, &fy1);
        if (fy0 == fy1) return PEXC_ERR_ARG;
        const int32_t xe = pexc_tile_xe(t, oy, out->w);
        for (int32_t ox = pexc_tile_xb(t, oy); ox < xe; ox++) {
            int32_t fx0, fx1;
            tap_range(ox * p->stride_w - p->pad_left, p->filter_w, in_w, &fx0, &fx1);
            if (fx0 == fx1) return PEXC_ERR_ARG;
        }
    }

    const int32_t nc = t->c1 - t->c0;
    const int32_t *abase = (const int32_t *)acc->data;
    const int16_t *abase16 = (const int16_t *)acc->data;
    int8_t *obase = (int8_t *)out->data;
    for (int32_t n = 0; n < out->n; n++) {
        for (int32_t oy = t->y0; oy < t->y1; oy++) {
            int32_t fy0, fy1;
            tap_range(oy * p->stride_h - p->pad_top, p->filter_h, in_h, &fy0, &fy1);
            const int32_t xe = pexc_tile_xe(t, oy, out->w);
            for (int32_t ox = pexc_tile_xb(t, oy); ox < xe; ox++) {
                int32_t fx0, fx1;
                tap_range(ox * p->stride_w - p->pad_left, p->filter_w, in_w, &fx0, &fx1);
                int32_t count = (fy1 - fy0) * (fx1 - fx0);
                const size_t a = pexc_view_index(acc, n, oy, ox, t->c0);
                int8_t *o = obase + pexc_view_index(out, n, oy, ox, t->c0);
                for (int32_t c = 0; c < nc; c++) o[c] = avg_out_s8(p, p->acc16 ? abase16[a + c] : abase[a + c], count);
            }
        }
    }
    return PEXC_OK;
}

/**
 * @brief int8 max pooling over tile t of the output.
 *
 * Layouts and window as pexc_avg_pool_s8; the maximum of the valid taps
 * (-128 when there are none) is clamped to [act_min, act_max].
 */
pexc_status pexc_max_pool_s8(const pexc_pool_params *p, const pexc_view *in,
                             const pexc_tile *t, pexc_view *out) {
    if (!pool_args_ok(p, in, t, out)) return PEXC_ERR_ARG;
    for (int32_t n = 0; n < out->n; n++) {
        for (int32_t oy = t->y0; oy < t->y1; oy++) {
            int32_t iy0 = oy * p->stride_h - p->pad_top, fy0, fy1;
            tap_range(iy0, p->filter_h, in->h, &fy0, &fy1);
            const int32_t xe = pexc_tile_xe(t, oy, out->w);
            for (int32_t ox = pexc_tile_xb(t, oy); ox < xe; ox++) {
                int32_t ix0 = ox * p->stride_w - p->pad_left, fx0, fx1;
                tap_range(ix0, p->filter_w, in->w, &fx0, &fx1);
                for (int32_t c = t->c0; c < t->c1; c++) {
                    int32_t m = -128;
                    for (int32_t fy = fy0; fy < fy1; fy++)
                        for (int32_t fx = fx0; fx < fx1; fx++) {
                            int32_t v = PEXC_AT_S8(in, n, iy0 + fy, ix0 + fx, c);
                            if (v > m) m = v;
                        }
                    if (m < p->act_min) m = p->act_min;
                    if (m > p->act_max) m = p->act_max;
                    PEXC_AT_S8(out, n, oy, ox, c) = (int8_t)m;
                }
            }
        }
    }
    return PEXC_OK;
}
