/*
 * Table lookup: the one device kernel behind every int8 -> int8
 * element-wise function (tanh, hard-swish, ELU, leaky ReLU, exp, rsqrt,
 * ...). The compiler computes the 256 outputs by the exact reference
 * arithmetic (src/ops/lut.c); here each output byte is table[input + 128].
 */
#include "pexc_kernels.h"

/**
 * @brief out = table[in + 128] over the output pixels and channels of tile t.
 *
 * in, out: [N, H, W, C] int8 views of the same logical shape (either may be
 * a channel slice or a ring). table: 256 int8 values.
 */
pexc_status pexc_lut_s8(const int8_t *table, const pexc_view *in, const pexc_tile *t, pexc_view *out) {
    if (!table || !in || !out || !t || !in->data || !out->data) return PEXC_ERR_ARG;
    if (in->n != out->n || in->h != out->h || in->w != out->w || in->c != out->c) return PEXC_ERR_ARG;
    if (t->c0 < 0 || t->c1 > out->c || t->y0 < 0 || t->y1 > out->h) return PEXC_ERR_ARG;
    if (t->c0 >= t->c1) return PEXC_OK;
    if (t->c0 < in->c_begin || t->c1 > in->c_begin + in->c_stored || t->c0 < out->c_begin ||
        t->c1 > out->c_begin + out->c_stored)
        return PEXC_ERR_ARG;
    const int8_t *src = in->data;
    int8_t *dst = out->data;
    for (int32_t n = 0; n < out->n; n++)
        for (int32_t y = t->y0; y < t->y1; y++)
            for (int32_t x = pexc_tile_xb(t, y), xe = pexc_tile_xe(t, y, out->w); x < xe; x++) {
                size_t i = pexc_view_index(in, n, y, x, t->c0), o = pexc_view_index(out, n, y, x, t->c0);
                for (int32_t ch = t->c0; ch < t->c1; ch++) dst[o++] = table[src[i++] + 128];
            }
    return PEXC_OK;
}
