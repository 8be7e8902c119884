/*
 * GATHER, EMBEDDING_LOOKUP and GATHER_ND whose indices are a tensor read at
 * run time: the one data-movement case the compiler cannot tabulate. Each
 * index selects a contiguous block that is copied whole; an index outside
 * the tensor is an error, never a read out of bounds.
 */
#include <string.h>

#include "pexc_kernels.h"

/**
 * @brief out[b][o][j][:] = data[b][o][idx[b][j]][:] (see pexc_kernels.h).
 *
 * in[0]: data [batch][outer][axis_size][inner_bytes bytes]; in[1]: int32
 * indices [batch][coords]; out: [batch][outer][coords][inner_bytes bytes]
 * (4 times as many, float32, when dequant_scale is not 0).
 */
pexc_status pexc_gather(const pexc_gather_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !in[1] || !out) return PEXC_ERR_ARG;
    if (p->batch < 1 || p->outer < 1 || p->axis_size < 1 || p->coords < 0 || p->inner_bytes < 0)
        return PEXC_ERR_ARG;
    const unsigned char *src = in[0];
    const int32_t *idx = in[1];
    unsigned char *dst = out;
    const size_t blk = (size_t)p->inner_bytes;
    for (int32_t b = 0; b < p->batch; b++)
        for (int32_t o = 0; o < p->outer; o++) {
            const unsigned char *plane = src + ((size_t)b * (size_t)p->outer + (size_t)o) * (size_t)p->axis_size * blk;
            for (int32_t j = 0; j < p->coords; j++) {
                int32_t k;
                memcpy(&k, idx + (size_t)b * (size_t)p->coords + (size_t)j, 4);
                if (k < 0 || k >= p->axis_size) return PEXC_ERR_ARG;
                const unsigned char *row = plane + (size_t)k * blk;
                if (p->dequant_scale == 0.0f) {
                    memcpy(dst, row, blk);
                    dst += blk;
                    continue;
                }
                for (size_t i = 0; i < blk; i++, dst += 4) {
                    float v = (float)(int8_t)row[i] * p->dequant_scale;
                    memcpy(dst, &v, 4);
                }
            }
        }
    return PEXC_OK;
}

/**
 * @brief GATHER_ND: slice i of out = params[from_i, from_i + slice_elems),
 * from_i = sum_j idx[i][j] * dim_count[j] (see pexc_kernels.h).
 *
 * Like TFLM, only the flat slice is checked against the tensor, not each
 * index against its dimension.
 */
pexc_status pexc_gather_nd(const pexc_gather_nd_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !in[1] || !out) return PEXC_ERR_ARG;
    if (p->nd < 1 || p->nd > 5 || p->n_slices < 0 || p->slice_elems < 0 || p->flat_elems < 0 ||
        (p->elem_size != 1 && p->elem_size != 2 && p->elem_size != 4))
        return PEXC_ERR_ARG;
    const unsigned char *src = in[0];
    const int32_t *idx = in[1];
    const size_t es = (size_t)p->elem_size, blk = (size_t)p->slice_elems * es;
    unsigned char *dst = out;
    for (int32_t i = 0; i < p->n_slices; i++) {
        int64_t from = 0;
        for (int32_t j = 0; j < p->nd; j++) {
            int32_t k;
            memcpy(&k, idx + (size_t)i * (size_t)p->nd + (size_t)j, 4);
            from += (int64_t)k * p->dim_count[j];
        }
        if (from < 0 || from + p->slice_elems > p->flat_elems) return PEXC_ERR_ARG;
        memcpy(dst, src + (size_t)from * es, blk);
        dst += blk;
    }
    return PEXC_OK;
}
