/*
 * DYNAMIC_UPDATE_SLICE: the operand copied to the output, then the update
 * block written over it at start indices known only at run time.
 *
 * TFLM clamps each start index into [0, operand extent - update extent]
 * (in int64, whatever the index type) so that the block always fits; the
 * compiler has checked that every update extent is at most the operand's,
 * so that range is never empty. The block is written one innermost row at
 * a time: its rows are walked in order with a counter over the outer axes,
 * and each lands at the clamped start plus the row's coordinates times the
 * output strides. An update as large as the operand is the case where every
 * start clamps to 0: the copy is the update itself.
 */
#include <string.h>

#include "pexc_kernels.h"

/* Start index a of the index tensor, read bytewise (an int64 tensor need
 * not be 8-aligned in the arena), clamped as TFLM clamps it. An axis the
 * update fills starts at 0 whatever the index says, and its index is not
 * read: a rank-0 operand (made rank 1 by the compiler) has none. */
static int32_t dus_start(const pexc_dynamic_update_slice_params *p, const uint8_t *idx, int32_t a) {
    int64_t v, hi = (int64_t)p->dims[a] - p->upd_dims[a];
    if (hi <= 0) return 0;
    if (p->index_bytes == 8) {
        memcpy(&v, idx + (size_t)a * 8u, 8);
    } else {
        int32_t v32;
        memcpy(&v32, idx + (size_t)a * 4u, 4);
        v = v32;
    }
    if (v < 0) v = 0;
    if (v > hi) v = hi;
    return (int32_t)v;
}

/**
 * @brief out = in[0] with in[1] written at the clamped starts in[2]; see
 * pexc_dynamic_update_slice_params.
 */
pexc_status pexc_dynamic_update_slice(const pexc_dynamic_update_slice_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !in[1] || !in[2] || !out || p->rank < 1 || p->rank > 6 ||
        (p->index_bytes != 4 && p->index_bytes != 8))
        return PEXC_ERR_ARG;
    const size_t es = (size_t)p->elem_size;
    const uint8_t *upd = in[1];
    uint8_t *y = out;
    if (out != in[0]) memcpy(y, in[0], (size_t)p->operand_elems * es);
    const int32_t last = p->rank - 1;
    const size_t row = (size_t)p->upd_dims[last] * es;
    if (p->update_rows == 0 || row == 0) return PEXC_OK;
    int32_t start[6], pos[6] = {0, 0, 0, 0, 0, 0};
    size_t base = 0;
    for (int32_t a = 0; a < p->rank; a++) {
        start[a] = dus_start(p, in[2], a);
        base += (size_t)start[a] * (size_t)p->out_stride[a];
    }
    for (int32_t r = 0; r < p->update_rows; r++) {
        size_t at = base;
        for (int32_t a = 0; a < last; a++) at += (size_t)pos[a] * (size_t)p->out_stride[a];
        memcpy(y + at * es, upd + (size_t)r * row, row);
        /* the next row of the update: the innermost outer axis first */
        for (int32_t a = last - 1; a >= 0; a--) {
            if (++pos[a] < p->upd_dims[a]) break;
            pos[a] = 0;
        }
    }
    return PEXC_OK;
}
