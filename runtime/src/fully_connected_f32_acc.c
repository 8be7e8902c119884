/*
 * The float32 fully-connected layer in two parts, for a streamed schedule
 * that hands it its input a few pixels at a time (an LSTM's output rows):
 * pexc_fully_connected_f32_acc adds the products of input depth [d0, d1)
 * into float partial sums, pexc_fully_connected_f32_finish adds the bias
 * and clamps.
 *
 * Float addition is not associative, so the parts keep TFLite's order
 * exactly: each sum starts from 0.0f and adds x[d] * w[d] for d = 0, 1, ...
 * in turn, the steps covering [0, depth) in increasing order; a float32
 * partial sum stored between steps is the same float32 value the whole
 * kernel keeps in a register, so the bytes equal pexc_fully_connected_f32's
 * (build with -ffp-contract=off, as for every float kernel).
 */
#include "pexc_kernels.h"

static int fc_f32_views_valid(const pexc_view *in, const pexc_tile *t, const pexc_view *out) {
    return pexc_view_valid(in) && pexc_view_valid(out) && t && in->h == 1 && in->w == 1 && out->h == 1 &&
           out->w == 1 && in->n == out->n && t->c0 >= 0 && t->c0 <= t->c1 && t->c1 <= out->c &&
           pexc_view_stores(out, t->c0, t->c1);
}

pexc_status pexc_fully_connected_f32_acc(const pexc_view *in, const float *weights, int32_t d0, int32_t d1, int first,
                                         const pexc_tile *t, pexc_view *acc) {
    if (!weights || !fc_f32_views_valid(in, t, acc) || d0 < 0 || d0 > d1 || d1 > in->c ||
        !pexc_view_stores(in, d0, d1))
        return PEXC_ERR_ARG;
    const int32_t depth = in->c;
    for (int32_t b = 0; b < acc->n && t->c0 < t->c1; b++) {
        /* with an empty depth range x is never read */
        const float *x = (const float *)in->data + (d0 < d1 ? pexc_view_index(in, b, 0, 0, d0) : 0);
        float *a = (float *)acc->data + pexc_view_index(acc, b, 0, 0, t->c0);
        for (int32_t u = t->c0; u < t->c1; u++) {
            const float *w = weights + (size_t)u * (size_t)depth + d0;
            float total = first ? 0.0f : a[u - t->c0];
            PEXC_COUNT_MAC(d1 - d0);
            for (int32_t d = 0; d < d1 - d0; d++) {
                float prod = x[d] * w[d];
                total += prod;
            }
            a[u - t->c0] = total;
        }
    }
    return PEXC_OK;
}

pexc_status pexc_fully_connected_f32_finish(float act_min, float act_max, const float *bias, const pexc_view *acc,
                                            const pexc_tile *t, pexc_view *out) {
    if (!fc_f32_views_valid(acc, t, out) || acc->c != out->c || !pexc_view_stores(acc, t->c0, t->c1) ||
        !(act_min <= act_max))
        return PEXC_ERR_ARG;
    for (int32_t b = 0; b < out->n && t->c0 < t->c1; b++) {
        const float *a = (const float *)acc->data + pexc_view_index(acc, b, 0, 0, t->c0);
        float *o = (float *)out->data + pexc_view_index(out, b, 0, 0, t->c0);
        for (int32_t u = t->c0; u < t->c1; u++) {
            float v = a[u - t->c0] + (bias ? bias[u] : 0.0f);
            /* max(v, act_min) then min(., act_max), as std::max/std::min */
            if (v < act_min) v = act_min;
            if (act_max < v) v = act_max;
            o[u - t->c0] = v;
        }
    }
    return PEXC_OK;
}
