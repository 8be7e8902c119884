/*
 * int16 SOFTMAX as TFLM's SoftmaxInt16: each input's distance below its
 * row's maximum is scaled so [-65535, 0] covers [-10, 0], exp is read from a
 * 513-entry table, the sum's reciprocal from a second table of 1 / (1 + x)
 * (the sum normalised to [1, 2) by its leading zeros), and each exp times
 * the reciprocal, shifted back, is the Q0.15 output. The tables are data:
 * the compiler computes them as TFLM's Prepare does.
 */
#include "pexc_kernels.h"

static int32_t clz32(uint32_t v) {
    int32_t n = 0;
    if (!v) return 32;
    while (!(v & 0x80000000u)) {
        v <<= 1;
        n++;
    }
    return n;
}

/**
 * @brief SOFTMAX int16 [outer, depth] -> int16 [outer, depth], output scale
 * 1/32768, values in [0, 32767]. The output row holds the exps meanwhile.
 */
pexc_status pexc_softmax_s16(const pexc_softmax_s16_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out || !p->exp_lut || !p->recip_lut || p->depth < 1) return PEXC_ERR_ARG;
    const int16_t *x = in[0];
    int16_t *y = out;
    for (int32_t i = 0; i < p->outer; i++) {
        const int16_t *row = x + (size_t)i * p->depth;
        int16_t *o = y + (size_t)i * p->depth;
        int32_t max = INT16_MIN;
        for (int32_t c = 0; c < p->depth; c++)
            if (row[c] > max) max = row[c];
        uint32_t sum = 0; /* Q16.15, wrapping like TFLM's int32 */
        for (int32_t c = 0; c < p->depth; c++) {
            int32_t d = pexc_requant(row[c] - max, p->input_multiplier, p->input_left_shift) + 32767;
            if (d < INT16_MIN) d = INT16_MIN;
            if (d > INT16_MAX) d = INT16_MAX;
            o[c] = pexc_lut_lookup_s16((int16_t)d, p->exp_lut);
            sum += (uint32_t)(int32_t)o[c];
        }
        const int32_t headroom_plus_one = clz32(sum);
        if (headroom_plus_one < 1 || headroom_plus_one > 30) return PEXC_ERR_ARG;
        int32_t shifted = (int32_t)(((int64_t)(int32_t)sum * ((int64_t)1 << (headroom_plus_one - 1)) + (1 << 13)) >> 14);
        int32_t sym = shifted - ((1 << 15) + (1 << 16));
        if (sym < INT16_MIN) sym = INT16_MIN;
        if (sym > INT16_MAX) sym = INT16_MAX;
        const int64_t recip = pexc_lut_lookup_s16((int16_t)sym, p->recip_lut);
        const int32_t right = 31 - headroom_plus_one;
        const int64_t round = (int64_t)1 << (right - 1);
        for (int32_t c = 0; c < p->depth; c++) {
            int32_t r = (int32_t)(((int64_t)o[c] * recip + round) >> right);
            o[c] = (int16_t)(r < 0 ? 0 : r > 32767 ? 32767 : r);
        }
    }
    return PEXC_OK;
}
