/*
 * FULLY_CONNECTED, int8 (per-channel or per-tensor requantisation, passed as
 * one multiplier/shift per output unit) and float32, as TFLite's reference
 * kernels compute them.
 *
 * The input is seen as [batches, 1, 1, depth] and the output as
 * [batches, 1, 1, units]; the weights are a dense [units, depth] matrix. The
 * int8 accumulator of unit u in batch b is
 *
 *     acc = sum over d of (w[u][d] + filter_offset) * (in[b][d] + input_offset)
 *
 * then bias, requantisation, output offset and clamp exactly as CONV_2D. The
 * partial-sum form restricts d to a range and leaves bias and requantisation
 * to pexc_requant_s32_s8.
 *
 * The float kernel sums the products in increasing d into a float
 * accumulator, then adds the bias (0.0f when there is none) and clamps, the
 * order TFLite's reference uses, so results agree bit for bit. Each product
 * is a separate statement so a compiler that contracts within expressions
 * (clang's default) cannot fuse it into an FMA.
 */
#include "pexc_dot.h"
#include "mve_kernels.h"

/* s[u - u0] = sum over d in [0, nd) of (w[u][d] + filter_offset) *
 * (x[d] + input_offset) for units [u0, u1); w points at unit 0's first
 * summed weight, rows depth bytes apart, and x at the first summed input.
 * Symmetric weights (filter_offset 0, what the converter makes) go four
 * units at a time through pexc_dot4_s8. */
static void fc_dots(const int8_t *w, size_t depth, const int8_t *x, int32_t nd,
                    int32_t filter_offset, int32_t input_offset, int32_t u0,
                    int32_t u1, int32_t *s) {
    int32_t u = u0;
    if (filter_offset == 0) {
        for (; u + 4 <= u1; u += 4) {
            int32_t a[4] = {0, 0, 0, 0};
            pexc_dot4_s8(x, w + (size_t)u * depth, depth, nd, input_offset, a);
            memcpy(s + (u - u0), a, sizeof a);
        }
        for (; u < u1; u++) s[u - u0] = pexc_dot1_s8(x, w + (size_t)u * depth, nd, input_offset);
        return;
    }
    for (; u < u1; u++) {
        const int8_t *row = w + (size_t)u * depth;
        int32_t acc = 0;
        PEXC_COUNT_MAC(nd);
        for (int32_t d = 0; d < nd; d++)
            acc += (row[d] + filter_offset) * (x[d] + input_offset);
        s[u - u0] = acc;
    }
}

/* Units are summed in blocks of this many, into a small array on the stack. */
#define FC_BLOCK 16

/**
 * @brief int8 fully connected over output units [t->c0, t->c1), all batches.
 *
 * @param p             offsets, clamp, per-unit multipliers/shifts ([units]);
 *                      stride, dilation and padding are ignored.
 * @param filter_offset -(weights zero point), 0 for symmetric weights.
 * @param in            [B, 1, 1, depth] int8; must store channels [0, depth).
 * @param weights       [units, depth] int8.
 * @param bias          [units] int32 or NULL.
 * @param out           [B, 1, 1, units] int8.
 */
pexc_status pexc_fully_connected_s8(const pexc_conv_params *p,
                                    int32_t filter_offset, const pexc_view *in,
                                    const int8_t *weights, const int32_t *bias,
                                    const pexc_tile *t, pexc_view *out) {
    if (!pexc_conv_quant_valid(p) || !pexc_input_offset_valid(p) || !weights || !pexc_fc_shapes_valid(in, t, out) ||
        !pexc_view_stores(in, 0, in->c))
        return PEXC_ERR_ARG;
#ifdef PEXC_MVE
    if (t->c0 < t->c1 && pexc_mve_fully_connected_s8(p, filter_offset, in, weights, bias, t, out)) return PEXC_OK;
#endif
    const int32_t depth = in->c;
    const int8_t *ibase = (const int8_t *)in->data;
    int8_t *obase = (int8_t *)out->data;
    const pexc_out_q q = pexc_out_q_of(p);
    for (int32_t b = 0; b < out->n && t->c0 < t->c1; b++) {
        const int8_t *x = ibase + pexc_view_index(in, b, 0, 0, 0);
        int8_t *o = obase + pexc_view_index(out, b, 0, 0, t->c0);
        for (int32_t u0 = t->c0; u0 < t->c1; u0 += FC_BLOCK) {
            const int32_t u1 = t->c1 - u0 > FC_BLOCK ? u0 + FC_BLOCK : t->c1;
            int32_t s[FC_BLOCK];
            fc_dots(weights, (size_t)depth, x, depth, filter_offset, p->input_offset, u0, u1, s);
            for (int32_t u = u0; u < u1; u++)
                o[u - t->c0] = pexc_out_q_s8(&q, s[u - u0] + (bias ? bias[u] : 0), u);
        }
    }
    return PEXC_OK;
}

/**
 * @brief Partial sums of an int8 fully connected over input depth [d0, d1).
 *
 * acc[b][u] (+)= sum over d in [d0, d1) of (w[u][d] + filter_offset) *
 * (in[b][d] + input_offset) for units [t->c0, t->c1). No bias, no
 * requantisation; finish with pexc_requant_s32_s8.
 *
 * @param in      [B, 1, 1, depth] int8; needs to store only channels [d0, d1).
 * @param weights [units, depth] int8 (the whole matrix).
 * @param first   nonzero: overwrite; zero: add.
 * @param acc     [B, 1, 1, units] int32.
 */
pexc_status pexc_fully_connected_s8_acc(const pexc_conv_params *p,
                                        int32_t filter_offset,
                                        const pexc_view *in,
                                        const int8_t *weights, int32_t d0,
                                        int32_t d1, int first,
                                        const pexc_tile *t, pexc_view *acc) {
    if (!pexc_conv_quant_valid(p) || !pexc_input_offset_valid(p) || !weights || !pexc_fc_shapes_valid(in, t, acc) ||
        d0 < 0 || d0 > d1 || d1 > in->c || !pexc_view_stores(in, d0, d1))
        return PEXC_ERR_ARG;
    const int32_t depth = in->c;
    const int8_t *ibase = (const int8_t *)in->data;
    int32_t *abase = (int32_t *)acc->data;
    for (int32_t b = 0; b < acc->n && t->c0 < t->c1; b++) {
        /* With an empty depth range x is never read; keep it in bounds. */
        const int8_t *x = ibase + (d0 < d1 ? pexc_view_index(in, b, 0, 0, d0) : 0);
        int32_t *a = abase + pexc_view_index(acc, b, 0, 0, t->c0);
        for (int32_t u0 = t->c0; u0 < t->c1; u0 += FC_BLOCK) {
            const int32_t u1 = t->c1 - u0 > FC_BLOCK ? u0 + FC_BLOCK : t->c1;
            int32_t s[FC_BLOCK];
            fc_dots(weights + d0, (size_t)depth, x, d1 - d0, filter_offset, p->input_offset, u0, u1, s);
            for (int32_t u = u0; u < u1; u++)
                a[u - t->c0] = first ? s[u - u0] : a[u - t->c0] + s[u - u0];
        }
    }
    return PEXC_OK;
}

/**
 * @brief float32 fully connected over units [t->c0, t->c1), all batches.
 *
 * out[b][u] = clamp(sum_d in[b][d] * w[u][d] + bias[u], act_min, act_max),
 * the sum taken in increasing d; a NaN passes through the clamp unchanged.
 *
 * @param in      [B, 1, 1, depth] float; must store channels [0, depth).
 * @param weights [units, depth] float.
 * @param bias    [units] float or NULL.
 * @param out     [B, 1, 1, units] float.
 */
pexc_status pexc_fully_connected_f32(float act_min, float act_max,
                                     const pexc_view *in, const float *weights,
                                     const float *bias, const pexc_tile *t,
                                     pexc_view *out) {
    if (!weights || !pexc_fc_shapes_valid(in, t, out) || !pexc_view_stores(in, 0, in->c) ||
        !(act_min <= act_max))
        return PEXC_ERR_ARG;
    const int32_t depth = in->c;
    const float *ibase = (const float *)in->data;
    float *obase = (float *)out->data;
    for (int32_t b = 0; b < out->n && t->c0 < t->c1; b++) {
        const float *x = ibase + pexc_view_index(in, b, 0, 0, 0);
        float *o = obase + pexc_view_index(out, b, 0, 0, t->c0);
        for (int32_t u = t->c0; u < t->c1; u++) {
            const float *w = weights + (size_t)u * (size_t)depth;
            float total = 0.0f;
            PEXC_COUNT_MAC(depth);
            for (int32_t d = 0; d < depth; d++) {
                float prod = x[d] * w[d];
                total += prod;
            }
            float v = total + (bias ? bias[u] : 0.0f);
            /* max(v, act_min) then min(., act_max), as std::max/std::min. */
            if (v < act_min) v = act_min;
            if (act_max < v) v = act_max;
            o[u - t->c0] = v;
        }
    }
    return PEXC_OK;
}
