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
 * worked out once per pixel and shared by every output channel; the view
 * address of each input row is computed once per (channel, kernel row), and
 * the innermost loop runs over contiguous input channels. From one tap to the
 * next along a kernel row the offset advances by pexc_view_next, because in
 * a pixel ring an input row may wrap around the end of the buffer.
 */
#include "pexc_kernels.h"

/* ---- shared inner loop -------------------------------------------------- */

/* Kernel taps [ky0, ky1) x [kx0, kx1) of one output pixel fall inside the
 * input; (iy, ix) is the input position of tap (0, 0). */
typedef struct {
    int32_t iy, ix;
    int32_t ky0, ky1, kx0, kx1;
} conv_window;

static void window_at(const pexc_conv_params *p, const pexc_view *in,
                      int32_t kh, int32_t kw, int32_t oy, int32_t ox,
                      conv_window *win) {
    win->iy = oy * p->stride_h - p->pad_top;
    win->ix = ox * p->stride_w - p->pad_left;
    win->ky0 = 0;
    while (win->ky0 < kh && win->iy + win->ky0 * p->dilation_h < 0) win->ky0++;
    win->ky1 = kh;
    while (win->ky1 > win->ky0 && win->iy + (win->ky1 - 1) * p->dilation_h >= in->h)
        win->ky1--;
    win->kx0 = 0;
    while (win->kx0 < kw && win->ix + win->kx0 * p->dilation_w < 0) win->kx0++;
    win->kx1 = kw;
    while (win->kx1 > win->kx0 && win->ix + (win->kx1 - 1) * p->dilation_w >= in->w)
        win->kx1--;
}

/* Sum over the window and input channels [ic0, ic1) of
 * filter * (input + input_offset) for output channel oc. base is the start
 * of the batch index's storage (offsets within a batch wrap in a ring). */
static int32_t conv_dot(const pexc_conv_params *p, const pexc_view *in,
                        const int8_t *base, const int8_t *filter, int32_t kh,
                        int32_t kw, int32_t ic0, int32_t ic1,
                        const conv_window *win, int32_t oc) {
    const size_t pix_stride = (size_t)in->c_stored * (size_t)p->dilation_w;
    const size_t cin = (size_t)in->c;
    const int32_t nic = ic1 - ic0;
    const int32_t off = p->input_offset;
    int32_t acc = 0;
    if (win->kx0 >= win->kx1) return 0; /* no tap inside the input */
    for (int32_t ky = win->ky0; ky < win->ky1; ky++) {
        int32_t iy = win->iy + ky * p->dilation_h;
        int32_t ix = win->ix + win->kx0 * p->dilation_w;
        size_t i = pexc_view_index(in, 0, iy, ix, ic0);
        const int8_t *f = filter +
                          (((size_t)oc * (size_t)kh + (size_t)ky) * (size_t)kw +
                           (size_t)win->kx0) * cin + (size_t)ic0;
        for (int32_t kx = win->kx0; kx < win->kx1; kx++) {
            PEXC_COUNT_MAC(nic);
            const int8_t *px = base + i;
            for (int32_t c = 0; c < nic; c++) acc += f[c] * (px[c] + off);
            i = pexc_view_next(in, i, pix_stride);
            f += cin;
        }
    }
    return acc;
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

    int8_t *obase = (int8_t *)out->data;
    for (int32_t n = 0; n < out->n; n++) {
        const int8_t *ibase = (const int8_t *)in->data + pexc_view_index(in, n, 0, 0, in->c_begin);
        for (int32_t oy = t->y0; oy < t->y1; oy++) {
            const int32_t xe = pexc_tile_xe(t, oy, out->w);
            for (int32_t ox = pexc_tile_xb(t, oy); ox < xe; ox++) {
                conv_window win;
                window_at(p, in, kh, kw, oy, ox, &win);
                int8_t *o = obase + pexc_view_index(out, n, oy, ox, t->c0);
                for (int32_t oc = t->c0; oc < t->c1; oc++) {
                    int32_t acc = conv_dot(p, in, ibase, filter, kh, kw, 0, in->c,
                                           &win, oc);
                    if (bias) acc += bias[oc];
                    o[oc - t->c0] = pexc_conv_out_s8(p, acc, oc);
                }
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
        const int8_t *ibase = (const int8_t *)in->data + pexc_view_index(in, n, 0, 0, in->c_begin);
        for (int32_t oy = t->y0; oy < t->y1; oy++) {
            const int32_t xe = pexc_tile_xe(t, oy, acc->w);
            for (int32_t ox = pexc_tile_xb(t, oy); ox < xe; ox++) {
                conv_window win;
                window_at(p, in, kh, kw, oy, ox, &win);
                int32_t *a = abase + pexc_view_index(acc, n, oy, ox, t->c0);
                for (int32_t oc = t->c0; oc < t->c1; oc++) {
                    int32_t s = conv_dot(p, in, ibase, filter, kh, kw, ic0, ic1,
                                         &win, oc);
                    if (first)
                        a[oc - t->c0] = s;
                    else
                        a[oc - t->c0] += s;
                }
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
    for (int32_t n = 0; n < out->n; n++) {
        for (int32_t y = t->y0; y < t->y1; y++) {
            const int32_t xe = pexc_tile_xe(t, y, out->w);
            for (int32_t x = pexc_tile_xb(t, y); x < xe; x++) {
                const int32_t *a = abase + pexc_view_index(acc, n, y, x, t->c0);
                int8_t *o = obase + pexc_view_index(out, n, y, x, t->c0);
                for (int32_t c = t->c0; c < t->c1; c++) {
                    int32_t v = a[c - t->c0];
                    if (bias) v += bias[c];
                    o[c - t->c0] = pexc_conv_out_s8(p, v, c);
                }
            }
        }
    }
    return PEXC_OK;
}
