/*
 * int16x8 FULLY_CONNECTED, as TFLM's reference FullyConnected(PerChannel)
 * for int16 inputs: sums of (w + filter_offset) * (x + input_offset) in
 * int64 with an int64 bias and the 64-bit requantisation, or in int32 with
 * an int32 bias (wrapping like TFLM's int32 sums). Per-tensor weights are
 * given as per-unit multipliers that are all equal.
 */
#include "pexc_kernels.h"

/**
 * @brief FULLY_CONNECTED int16 [batches, depth] -> int16 [batches, units].
 *
 * weights [units, depth] int8; output = clamp(requant(sum + bias) +
 * output_offset, act_min, act_max).
 */
pexc_status pexc_fully_connected_s16(const pexc_fully_connected_s16_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out || !p->weights || !p->mult || !p->shift) return PEXC_ERR_ARG;
    const int16_t *x = in[0];
    int16_t *y = out;
    for (int32_t b = 0; b < p->batches; b++)
        for (int32_t u = 0; u < p->units; u++) {
            const int16_t *xv = x + (size_t)b * p->depth;
            const int8_t *w = p->weights + (size_t)u * p->depth;
            int64_t acc64 = 0;
            uint32_t acc32 = 0;
            for (int32_t d = 0; d < p->depth; d++) {
                int32_t prod = (w[d] + p->filter_offset) * (xv[d] + p->input_offset);
                acc64 += prod;
                acc32 += (uint32_t)prod;
            }
            PEXC_COUNT_MAC(p->depth);
            int32_t v;
            if (p->acc32) {
                if (p->bias32) acc32 += (uint32_t)p->bias32[u];
                v = pexc_requant((int32_t)acc32, p->mult[u], p->shift[u]);
            } else {
                if (p->bias64) acc64 = (int64_t)((uint64_t)acc64 + (uint64_t)p->bias64[u]);
                v = pexc_requant_s64(acc64, p->mult[u], p->shift[u]);
            }
            v += p->output_offset;
            if (v < p->act_min) v = p->act_min;
            if (v > p->act_max) v = p->act_max;
            y[(size_t)b * p->units + u] = (int16_t)v;
        }
    return PEXC_OK;
}
