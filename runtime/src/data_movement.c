/*
 * TRANSPOSE and CONCATENATION on whole, contiguous tensors. Neither touches
 * values, so they serve every element type of size 1, 2 or 4 bytes (and 8
 * for CONCATENATION), and quantised tensors pass through unchanged (TFLM
 * requires the inputs and output of both to share one quantisation).
 *
 * pexc_transpose_s8_tile is the tiled form for 1-byte elements: it writes the
 * output pixels of a tile (a raster range) into an output view (possibly a
 * pixel ring), so a TRANSPOSE can head a streamed chain while its input stays
 * whole.
 */
#include <string.h>

#include "pexc_kernels.h"

/**
 * @brief out = in with axes permuted: out axis i is input axis perm[i].
 *
 * in: row-major [in_dims[0], ..., in_dims[rank-1]], out: row-major with
 * extents in_dims[perm[i]]. rank in [1, 6], perm a permutation of
 * [0, rank), extents >= 0, elem_size 1, 2 or 4. in and out must not overlap.
 */
pexc_status pexc_transpose(const pexc_transpose_params *p, size_t elem_size,
                           const void *in, void *out) {
    if (!p || !in || !out) return PEXC_ERR_ARG;
    if (elem_size != 1 && elem_size != 2 && elem_size != 4) return PEXC_ERR_ARG;
    const int32_t rank = p->rank;
    if (rank < 1 || rank > 6) return PEXC_ERR_ARG;
    int seen[6] = {0, 0, 0, 0, 0, 0};
    size_t in_stride[6], total = 1;
    for (int32_t i = 0; i < rank; i++) {
        if (p->in_dims[i] < 0 || p->perm[i] < 0 || p->perm[i] >= rank || seen[p->perm[i]])
            return PEXC_ERR_ARG;
        seen[p->perm[i]] = 1;
    }
    for (int32_t i = rank - 1; i >= 0; i--) {
        in_stride[i] = total;
        total *= (size_t)p->in_dims[i];
    }
    if (total == 0) return PEXC_OK;
    /* Walk the output in order; stride[i] is the input step of out axis i. */
    size_t ext[6], stride[6], idx[6] = {0, 0, 0, 0, 0, 0};
    for (int32_t i = 0; i < rank; i++) {
        ext[i] = (size_t)p->in_dims[p->perm[i]];
        stride[i] = in_stride[p->perm[i]];
    }
    const unsigned char *src = (const unsigned char *)in;
    unsigned char *dst = (unsigned char *)out;
    size_t src_off = 0;
    for (size_t o = 0; o < total; o++) {
        memcpy(dst + o * elem_size, src + src_off * elem_size, elem_size);
        /* Advance the output index odometer, innermost axis first. */
        for (int32_t i = rank - 1; i >= 0; i--) {
            if (++idx[i] < ext[i]) {
                src_off += stride[i];
                break;
            }
            src_off -= stride[i] * (ext[i] - 1);
            idx[i] = 0;
        }
    }
    return PEXC_OK;
}

/**
 * @brief The output pixels of tile t, channels [t->c0, t->c1), of the
 *        transpose of a whole contiguous 1-byte tensor, written into an
 *        output view.
 *
 * The output (extents in_dims[perm[i]]) is seen as NHWC padded with leading
 * 1s to rank 4, so its view H is output axis rank-3 (a size-1 pad for rank
 * < 3). Every tile element equals the byte pexc_transpose puts there.
 *
 * @param p    rank in [1, 4], perm a permutation of [0, rank).
 * @param in   row-major [in_dims[0], ..., in_dims[rank-1]], 1 byte each.
 * @param out  view whose logical n, h, w, c are the padded permuted dims;
 *             must store the tile's channels (and, as a ring, hold its pixels).
 */
pexc_status pexc_transpose_s8_tile(const pexc_transpose_params *p, const void *in,
                                   const pexc_tile *t, pexc_view *out) {
    if (!p || !in || !pexc_view_valid(out) || !pexc_tile_valid(t, out)) return PEXC_ERR_ARG;
    const int32_t rank = p->rank;
    if (rank < 1 || rank > 4) return PEXC_ERR_ARG;
    int seen[4] = {0, 0, 0, 0};
    for (int32_t i = 0; i < rank; i++) {
        if (p->in_dims[i] < 1 || p->perm[i] < 0 || p->perm[i] >= rank || seen[p->perm[i]])
            return PEXC_ERR_ARG;
        seen[p->perm[i]] = 1;
    }
    /* Padded output axis k (0..3 = N, H, W, C): extent ext[k] and input
     * stride step[k] (0 for the leading 1s). */
    int32_t ext[4] = {1, 1, 1, 1};
    size_t step[4] = {0, 0, 0, 0}, in_stride[4], run = 1;
    for (int32_t i = rank - 1; i >= 0; i--) {
        in_stride[i] = run;
        run *= (size_t)p->in_dims[i];
    }
    for (int32_t i = 0; i < rank; i++) {
        ext[4 - rank + i] = p->in_dims[p->perm[i]];
        step[4 - rank + i] = in_stride[p->perm[i]];
    }
    if (out->n != ext[0] || out->h != ext[1] || out->w != ext[2] || out->c != ext[3])
        return PEXC_ERR_ARG;
    if (t->c0 >= t->c1) return PEXC_OK;

    const int32_t nc = t->c1 - t->c0;
    const unsigned char *src = (const unsigned char *)in;
    unsigned char *obase = (unsigned char *)out->data;
    for (int32_t n = 0; n < out->n; n++)
        for (int32_t y = t->y0; y < t->y1; y++)
            for (int32_t x = pexc_tile_xb(t, y); x < pexc_tile_xe(t, y, out->w); x++) {
                const unsigned char *s = src + (size_t)n * step[0] + (size_t)y * step[1] +
                                         (size_t)x * step[2] + (size_t)t->c0 * step[3];
                unsigned char *d = obase + pexc_view_index(out, n, y, x, t->c0);
                if (step[3] == 1) {
                    memcpy(d, s, (size_t)nc);
                } else {
                    for (int32_t c = 0; c < nc; c++) d[c] = s[(size_t)c * step[3]];
                }
            }
    return PEXC_OK;
}

/**
 * @brief Concatenates num_inputs contiguous tensors along one axis.
 *
 * For each of the outer indices, input i contributes in_inner[i] elements
 * (its extent along the axis times the inner extents), in input order.
 * out holds outer * sum(in_inner) elements. elem_size 1, 2, 4 or 8.
 */
pexc_status pexc_concat(int32_t num_inputs, const void *const *inputs,
                        const int32_t *in_inner, int32_t outer,
                        size_t elem_size, void *out) {
    if (num_inputs < 1 || !inputs || !in_inner || !out || outer < 0) return PEXC_ERR_ARG;
    if (elem_size != 1 && elem_size != 2 && elem_size != 4 && elem_size != 8) return PEXC_ERR_ARG;
    for (int32_t i = 0; i < num_inputs; i++)
        if (in_inner[i] < 0 || (in_inner[i] > 0 && !inputs[i])) return PEXC_ERR_ARG;
    unsigned char *dst = (unsigned char *)out;
    for (int32_t o = 0; o < outer; o++)
        for (int32_t i = 0; i < num_inputs; i++) {
            size_t chunk = (size_t)in_inner[i] * elem_size;
            if (chunk == 0) continue;
            memcpy(dst, (const unsigned char *)inputs[i] + (size_t)o * chunk, chunk);
            dst += chunk;
        }
    return PEXC_OK;
}
