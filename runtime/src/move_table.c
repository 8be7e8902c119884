/*
 * One kernel for data movement: out[i] = in[f(i)].
 *
 * Slicing, splitting, packing, padding, mirroring, reversing, broadcasting,
 * depth/space shuffles and nearest-neighbour resizing all copy elements
 * without touching their values, and in every one of them the input offset
 * of an output element is a sum of one part per output axis: a slice adds
 * begin + stride * i, a broadcast adds 0, a mirror pad adds the mirrored
 * index times the axis stride, a resize adds the source row. So the compiler
 * describes an operator as one small table (or one stride) per output axis,
 * computed once with TFLM's own index formulas, and the device only adds.
 * Padding is a marker in a table. The one operator whose offsets do not
 * split per axis, SPACE_TO_BATCH_ND (the batch index picks the phase of the
 * spatial block, and padding depends on both), is split into more axes and
 * pairs a spatial axis with the phase axis: that axis's table is indexed by
 * both.
 *
 * The walk goes row by row: the offset of a row is recomputed from the
 * outer indices (a handful of additions), and the innermost axis is a
 * memcpy when its stride is 1, a strided copy otherwise, or a table walk.
 * The compiler merges axes that are contiguous in both tensors first, so a
 * slice of whole rows is one memcpy per block.
 */
#include <string.h>

#include "pexc_kernels.h"

/* Copies one element of es bytes; es is 1, 2 or 4 and the constant-size
 * memcpy compiles to one load and one store without alignment demands. */
static void move_elem(unsigned char *d, const unsigned char *s, int32_t es) {
    if (es == 1) *d = *s;
    else if (es == 2) memcpy(d, s, 2);
    else memcpy(d, s, 4);
}

static void move_fill(unsigned char *d, const unsigned char *v, int32_t es, int32_t n) {
    if (es == 1) {
        memset(d, *v, (size_t)n);
        return;
    }
    for (int32_t i = 0; i < n; i++) move_elem(d + (size_t)i * (size_t)es, v, es);
}

/* The part axis d adds for the current indices, or PEXC_MOVE_PAD. */
static int32_t move_part(const pexc_move_axis *a, const int32_t *idx, int32_t d) {
    if (!a[d].table) return idx[d] * a[d].stride;
    int32_t row = a[d].pair >= 0 ? idx[a[d].pair] * a[d].ext : 0;
    return a[d].table[row + idx[d]];
}

pexc_status pexc_move(const pexc_move_params *p, const void *const *in, void *out) {
    if (!p || !in || !out) return PEXC_ERR_ARG;
    const int32_t r = p->rank, es = p->elem_size;
    if (r < 1 || r > PEXC_MOVE_MAX_AXES || (es != 1 && es != 2 && es != 4)) return PEXC_ERR_ARG;
    if (p->sel_axis < -1 || p->sel_axis >= r - 1 || (p->pad_input >= 0 && !in[p->pad_input])) return PEXC_ERR_ARG;
    const pexc_move_axis *a = p->axis;
    for (int32_t d = 0; d < r; d++)
        if (a[d].ext < 1 || (a[d].table && (a[d].pair < -1 || a[d].pair >= d)))
            return PEXC_ERR_ARG;
    const unsigned char *pad = p->pad_input >= 0 ? (const unsigned char *)in[p->pad_input] : p->pad;
    const pexc_move_axis *last = &a[r - 1];
    const int32_t n = last->ext;
    const size_t row_bytes = (size_t)n * (size_t)es;
    unsigned char *dst = out;
    int32_t idx[PEXC_MOVE_MAX_AXES] = {0};
    for (;;) {
        /* the row's offset and source from the outer indices */
        int32_t off = p->base, padded = 0;
        for (int32_t d = 0; d < r - 1 && !padded; d++) {
            int32_t part = move_part(a, idx, d);
            if (part == PEXC_MOVE_PAD) padded = 1;
            else off += part;
        }
        const unsigned char *src = in[p->sel_axis >= 0 ? idx[p->sel_axis] : 0];
        if (padded) {
            move_fill(dst, pad, es, n);
        } else if (!src) {
            return PEXC_ERR_ARG;
        } else if (last->table && es == 1) {
            /* int8 and bool rows, the common case, without the per-element
             * size dispatch */
            const int32_t *t = last->table + (last->pair >= 0 ? idx[last->pair] * n : 0);
            const unsigned char *s = src + off;
            for (int32_t i = 0; i < n; i++) dst[i] = t[i] == PEXC_MOVE_PAD ? *pad : s[t[i]];
        } else if (last->table) {
            const int32_t *t = last->table + (last->pair >= 0 ? idx[last->pair] * n : 0);
            for (int32_t i = 0; i < n; i++) {
                unsigned char *d = dst + (size_t)i * (size_t)es;
                if (t[i] == PEXC_MOVE_PAD) move_elem(d, pad, es);
                else move_elem(d, src + (size_t)(off + t[i]) * (size_t)es, es);
            }
        } else if (last->stride == 1) {
            memcpy(dst, src + (size_t)off * (size_t)es, row_bytes);
        } else if (es == 1) {
            const unsigned char *s = src + off;
            for (int32_t i = 0; i < n; i++) dst[i] = s[i * last->stride];
        } else {
            for (int32_t i = 0; i < n; i++)
                move_elem(dst + (size_t)i * (size_t)es, src + (size_t)(off + i * last->stride) * (size_t)es, es);
        }
        dst += row_bytes;
        /* next row: advance the outer indices, innermost first */
        int32_t d = r - 2;
        while (d >= 0 && ++idx[d] == a[d].ext) idx[d--] = 0;
        if (d < 0) return PEXC_OK;
    }
}
