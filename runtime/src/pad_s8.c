/*
 * PAD / PADV2 for 1-byte elements. Every output element either copies the
 * input element it covers or takes pad_value (the output zero point for
 * PAD, the constant for PADV2), so the result does not depend on how the
 * output is tiled.
 */
#include "pexc_kernels.h"

static int view_ok(const pexc_view *v) {
    if (!v || !v->data) return 0;
    if (v->n < 1 || v->h < 1 || v->w < 1 || v->c < 1) return 0;
    if (v->c_stored < 1 || v->c_begin < 0 || v->c_begin + v->c_stored > v->c) return 0;
    return v->ring_px >= 0;
}

/**
 * @brief int8 PAD over tile t of the output.
 *
 * in: [N, H, W, C], out: [N + bn + an, H + bh + ah, W + bw + aw, C + bc + ac]
 * (b = p->before, a = padding after, implied by the output extents).
 * out(n, y, x, c) = in(n - bn, y - bh, x - bw, c - bc) inside the input,
 * p->pad_value elsewhere. The input view must store the input channels the
 * tile's channel range maps onto; a ring input must hold every input pixel
 * the tile's pixels copy (output (y, x) reads input (y - bh, x - bw): a 1 x 1
 * window with stride 1 and padding bh, bw).
 */
pexc_status pexc_pad_s8(const pexc_pad_params *p, const pexc_view *in,
                        const pexc_tile *t, pexc_view *out) {
    if (!p || !t || !view_ok(in) || !view_ok(out)) return PEXC_ERR_ARG;
    const int32_t *b = p->before;
    if (b[0] < 0 || b[1] < 0 || b[2] < 0 || b[3] < 0) return PEXC_ERR_ARG;
    if (in->n + b[0] > out->n || in->h + b[1] > out->h || in->w + b[2] > out->w ||
        in->c + b[3] > out->c)
        return PEXC_ERR_ARG;
    if (!pexc_tile_valid(t, out) || !pexc_window_fits(in, 1, 1, b[1], b[2], 1, 1, out->w, t))
        return PEXC_ERR_ARG;
    if (t->c0 == t->c1 || t->y0 == t->y1) return PEXC_OK;
    if (t->c0 < out->c_begin || t->c1 > out->c_begin + out->c_stored) return PEXC_ERR_ARG;
    /* Input channels the tile reads: [ic0, ic1). */
    int32_t ic0 = t->c0 - b[3] < 0 ? 0 : t->c0 - b[3];
    int32_t ic1 = t->c1 - b[3] > in->c ? in->c : t->c1 - b[3];
    if (ic0 < ic1 && (ic0 < in->c_begin || ic1 > in->c_begin + in->c_stored))
        return PEXC_ERR_ARG;
    for (int32_t n = 0; n < out->n; n++) {
        int32_t in_n = n - b[0];
        int n_inside = in_n >= 0 && in_n < in->n;
        for (int32_t y = t->y0; y < t->y1; y++) {
            int32_t iy = y - b[1];
            int row_inside = n_inside && iy >= 0 && iy < in->h;
            const int32_t xe = pexc_tile_xe(t, y, out->w);
            for (int32_t x = pexc_tile_xb(t, y); x < xe; x++) {
                int32_t ix = x - b[2];
                int inside = row_inside && ix >= 0 && ix < in->w;
                for (int32_t c = t->c0; c < t->c1; c++) {
                    int32_t ic = c - b[3];
                    int8_t v = p->pad_value;
                    if (inside && ic >= 0 && ic < in->c) v = PEXC_AT_S8(in, in_n, iy, ix, ic);
                    PEXC_AT_S8(out, n, y, x, c) = v;
                }
            }
        }
    }
    return PEXC_OK;
}
