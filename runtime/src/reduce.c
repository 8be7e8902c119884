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

/* A row-major walk over n axes of extents ext and element strides stride:
 * off is the element offset of the current index, more is 0 once done. */
typedef struct {
    int32_t n;
    const int32_t *ext, *stride;
    int32_t idx[PEXC_REDUCE_RANK];
    size_t off;
    int more;
} reduce_walk;

static reduce_walk walk_start(int32_t n, const int32_t *ext, const int32_t *stride, size_t base) {
    reduce_walk w = {n, ext, stride, {0}, base, 1};
    return w;
}

static void walk_next(reduce_walk *w) {
    for (int32_t i = w->n - 1; i >= 0; i--) {
        if (++w->idx[i] < w->ext[i]) {
            w->off += (size_t)w->stride[i];
            return;
        }
        w->off -= (size_t)w->stride[i] * (size_t)(w->ext[i] - 1);
        w->idx[i] = 0;
    }
    w->more = 0;
}

/* Walks of the outputs, and of one output's inputs. */
#define FOR_OUTPUTS(p, k) for (reduce_walk k = walk_start((p)->n_keep, (p)->keep_ext, (p)->keep_stride, 0); k.more; walk_next(&k))
#define FOR_INPUTS(p, k, r) for (reduce_walk r = walk_start((p)->n_red, (p)->red_ext, (p)->red_stride, (k).off); r.more; walk_next(&r))

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

pexc_status pexc_reduce_s8(const pexc_reduce_params *p, const void *const *in, void *out) {
    if (!params_ok(p, in, out) || p->op < PEXC_REDUCE_SUM || p->op > PEXC_REDUCE_MIN || p->op == PEXC_REDUCE_MEAN)
        return PEXC_ERR_ARG;
    if (p->op == PEXC_REDUCE_SUM && (p->shift < -31 || p->shift > 30)) return PEXC_ERR_ARG;
    const int8_t *x = in[0];
    int8_t *y = out;
    FOR_OUTPUTS(p, k) {
        int32_t v;
        if (p->op == PEXC_REDUCE_SUM) {
            /* TFLM sums in int32 (wrapping) and removes the zero point in
             * 64 bits before narrowing back to int32 */
            uint32_t sum = 0;
            FOR_INPUTS(p, k, r) sum += (uint32_t)(int32_t)x[r.off];
            int32_t shifted = (int32_t)(uint32_t)((int64_t)(int32_t)sum - (int64_t)p->input_zp * p->count);
            v = pexc_requant(shifted, p->multiplier, p->shift) + p->output_zp;
            v = v < -128 ? -128 : v > 127 ? 127 : v;
        } else {
            v = p->op == PEXC_REDUCE_MAX ? -128 : 127;
            FOR_INPUTS(p, k, r) v = (p->op == PEXC_REDUCE_MAX ? x[r.off] > v : x[r.off] < v) ? x[r.off] : v;
        }
        *y++ = (int8_t)v;
    }
    return PEXC_OK;
}

pexc_status pexc_reduce_f32(const pexc_reduce_params *p, const void *const *in, void *out) {
    if (!params_ok(p, in, out) || p->op < PEXC_REDUCE_SUM || p->op > PEXC_REDUCE_MIN) return PEXC_ERR_ARG;
    const float *x = in[0];
    float *y = out;
    FOR_OUTPUTS(p, k) {
        float v;
        if (p->op == PEXC_REDUCE_SUM || p->op == PEXC_REDUCE_MEAN) {
            /* from 0.0f like TFLM's accumulator, so -0.0 inputs give +0.0 */
            v = 0.0f;
            FOR_INPUTS(p, k, r) v = x[r.off] + v;
            if (p->op == PEXC_REDUCE_MEAN) v = v / (float)p->count;
        } else {
            /* TFLM starts from the lowest (largest) float and keeps the
             * current value unless the new one beats it, so NaNs are skipped */
            v = p->op == PEXC_REDUCE_MAX ? -3.40282347e38f : 3.40282347e38f;
            FOR_INPUTS(p, k, r) v = (p->op == PEXC_REDUCE_MAX ? x[r.off] > v : x[r.off] < v) ? x[r.off] : v;
        }
        *y++ = v;
    }
    return PEXC_OK;
}

pexc_status pexc_reduce_bool(const pexc_reduce_params *p, const void *const *in, void *out) {
    if (!params_ok(p, in, out) || p->op != PEXC_REDUCE_ALL) return PEXC_ERR_ARG;
    const uint8_t *x = in[0];
    uint8_t *y = out;
    FOR_OUTPUTS(p, k) {
        uint8_t v = 1;
        FOR_INPUTS(p, k, r) v = (uint8_t)(v && x[r.off]);
        *y++ = v;
    }
    return PEXC_OK;
}
