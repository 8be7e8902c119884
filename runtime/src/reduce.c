/*
 * Reductions over any set of axes (MEAN, SUM, REDUCE_MAX, REDUCE_MIN,
 * REDUCE_ALL), as TFLite Micro's generic reduce computes them.
 *
 * TFLM walks the whole input in row-major order and folds each element into
 * the output it belongs to, which needs a scratch accumulator per output.
 * Here the loops are turned inside out: each output is finished before the
 * next starts, by walking its own inputs (the reduced axes) in row-major
 * order. An output still sees its inputs in exactly the order TFLM adds them
 * (increasing input offset), so float sums round the same way, and no
 * scratch memory is needed: the int32 sum of an int8 output lives in a
 * register. The compiler merges adjacent axes of the same kind, so a typical
 * reduction is one or two nested loops of each kind.
 */
#include "pexc_kernels.h"

static int params_ok(const pexc_reduce_params *p, const void *const *in, const void *out) {
    if (!p || !in || !in[0] || !out) return 0;
    if (p->n_keep < 0 || p->n_keep > PEXC_REDUCE_RANK || p->n_red < 0 || p->n_red > PEXC_REDUCE_RANK) return 0;
    int64_t count = 1;
    for (int32_t i = 0; i < p->n_keep; i++)
        if (p->keep_ext[i] < 1 || p->keep_stride[i] < 0) return 0;
    for (int32_t i = 0; i < p->n_red; i++) {
        if (p->red_ext[i] < 1 || p->red_stride[i] < 0) return 0;
        count *= p->red_ext[i];
    }
    return count == p->count;
}

/* Advances the row-major index idx over ext[0..n) and the matching element
 * offset; 0 when the walk is complete. */
static int reduce_next(int32_t n, const int32_t *ext, const int32_t *stride, int32_t *idx, size_t *off) {
    for (int32_t i = n - 1; i >= 0; i--) {
        if (++idx[i] < ext[i]) {
            *off += (size_t)stride[i];
            return 1;
        }
        *off -= (size_t)stride[i] * (size_t)(ext[i] - 1);
        idx[i] = 0;
    }
    return 0;
}

pexc_status pexc_reduce_s8(const pexc_reduce_params *p, const void *const *in, void *out) {
    if (!params_ok(p, in, out)) return PEXC_ERR_ARG;
    if (p->op == PEXC_REDUCE_SUM && (p->shift < -31 || p->shift > 30)) return PEXC_ERR_ARG;
    const int8_t *x = in[0];
    int8_t *y = out;
    int32_t ko[PEXC_REDUCE_RANK] = {0};
    size_t base = 0, o = 0;
    do {
        int32_t ri[PEXC_REDUCE_RANK] = {0};
        size_t off = base;
        int32_t v;
        if (p->op == PEXC_REDUCE_SUM) {
            /* TFLM sums in int32 (wrapping) and removes the zero point in
             * 64 bits before narrowing back to int32 */
            uint32_t sum = 0;
            do sum += (uint32_t)(int32_t)x[off];
            while (reduce_next(p->n_red, p->red_ext, p->red_stride, ri, &off));
            int32_t shifted = (int32_t)(uint32_t)((int64_t)(int32_t)sum - (int64_t)p->input_zp * p->count);
            v = pexc_requant(shifted, p->multiplier, p->shift) + p->output_zp;
            v = v < -128 ? -128 : v > 127 ? 127 : v;
        } else if (p->op == PEXC_REDUCE_MAX) {
            v = -128;
            do v = x[off] > v ? x[off] : v;
            while (reduce_next(p->n_red, p->red_ext, p->red_stride, ri, &off));
        } else if (p->op == PEXC_REDUCE_MIN) {
            v = 127;
            do v = x[off] < v ? x[off] : v;
            while (reduce_next(p->n_red, p->red_ext, p->red_stride, ri, &off));
        } else {
            return PEXC_ERR_ARG;
        }
        y[o++] = (int8_t)v;
    } while (reduce_next(p->n_keep, p->keep_ext, p->keep_stride, ko, &base));
    return PEXC_OK;
}

pexc_status pexc_reduce_f32(const pexc_reduce_params *p, const void *const *in, void *out) {
    if (!params_ok(p, in, out)) return PEXC_ERR_ARG;
    const float *x = in[0];
    float *y = out;
    int32_t ko[PEXC_REDUCE_RANK] = {0};
    size_t base = 0, o = 0;
    do {
        int32_t ri[PEXC_REDUCE_RANK] = {0};
        size_t off = base;
        float v;
        if (p->op == PEXC_REDUCE_SUM || p->op == PEXC_REDUCE_MEAN) {
            /* from 0.0f like TFLM's accumulator, so -0.0 inputs give +0.0 */
            v = 0.0f;
            do v = x[off] + v;
            while (reduce_next(p->n_red, p->red_ext, p->red_stride, ri, &off));
            if (p->op == PEXC_REDUCE_MEAN) v = v / (float)p->count;
        } else if (p->op == PEXC_REDUCE_MAX) {
            /* TFLM starts from the lowest float and keeps the current value
             * unless the new one is larger (so NaN inputs are skipped) */
            v = -3.40282347e38f;
            do v = x[off] > v ? x[off] : v;
            while (reduce_next(p->n_red, p->red_ext, p->red_stride, ri, &off));
        } else if (p->op == PEXC_REDUCE_MIN) {
            v = 3.40282347e38f;
            do v = x[off] < v ? x[off] : v;
            while (reduce_next(p->n_red, p->red_ext, p->red_stride, ri, &off));
        } else {
            return PEXC_ERR_ARG;
        }
        y[o++] = v;
    } while (reduce_next(p->n_keep, p->keep_ext, p->keep_stride, ko, &base));
    return PEXC_OK;
}

pexc_status pexc_reduce_bool(const pexc_reduce_params *p, const void *const *in, void *out) {
    if (!params_ok(p, in, out) || p->op != PEXC_REDUCE_ALL) return PEXC_ERR_ARG;
    const uint8_t *x = in[0];
    uint8_t *y = out;
    int32_t ko[PEXC_REDUCE_RANK] = {0};
    size_t base = 0, o = 0;
    do {
        int32_t ri[PEXC_REDUCE_RANK] = {0};
        size_t off = base;
        uint8_t v = 1;
        do v = (uint8_t)(v && x[off]);
        while (reduce_next(p->n_red, p->red_ext, p->red_stride, ri, &off));
        y[o++] = v;
    } while (reduce_next(p->n_keep, p->keep_ext, p->keep_stride, ko, &base));
    return PEXC_OK;
}
