/*
 * The audio front end from the power spectrum to log features, channel by
 * channel: mel filter bank, square root, spectral subtraction of a noise
 * estimate, per-channel automatic gain control (PCAN) and a fixed-point
 * natural log. Each is TFLM's signal-library arithmetic step for step
 * (unsigned wraps, truncating shifts, its rounding), since the features
 * are bytes the keyword model was trained on.
 *
 * State: TFLM's spectral subtraction keeps its noise estimate between
 * Invoke() calls; here it is a buffer of the arena that the estimate part
 * updates in place once per run (src/ops/signal_state.c).
 */
#include "pexc_bits.h"
#include "pexc_kernels.h"

/** @brief Triangular channels: channel i adds weight * bin over its band and
 * hands the unweighted part to channel i + 1 (channel 0 is scratch). */
pexc_status pexc_signal_filter_bank(const pexc_signal_filter_bank_params *p, const void *const *in, void *out) {
    if (!p || !in || !out || p->n_out > p->num_channels || p->n_out < 0) return PEXC_ERR_ARG;
    for (int k = 0; k < 6; k++)
        if (!in[k]) return PEXC_ERR_ARG;
    const uint32_t *x = in[0];
    const int16_t *w = in[1], *uw = in[2], *freq = in[3], *wstart = in[4], *width = in[5];
    uint64_t *y = out;
    uint64_t acc = 0, next = 0;
    for (int32_t i = 0; i <= p->num_channels; i++) {
        const uint32_t *bin = x + freq[i];
        const int16_t *wi = w + wstart[i], *ui = uw + wstart[i];
        for (int32_t j = 0; j < width[i]; j++) {
            /* TFLM multiplies the int16 weight by a uint64: a negative
             * weight becomes 2^64 - |w|, and the products wrap mod 2^64 */
            acc += (uint64_t)(int64_t)wi[j] * bin[j];
            next += (uint64_t)(int64_t)ui[j] * bin[j];
        }
        if (i >= 1 && i - 1 < p->n_out) y[i - 1] = acc;
        acc = next;
        next = 0;
    }
    return PEXC_OK;
}

/* Bit-by-bit integer square root, rounded up when the remainder exceeds the
 * root (TFLM Sqrt32 / Sqrt64: values below 2^32 take the 32-bit variant,
 * which saturates at 0xFFFF where the 64-bit one saturates at 0xFFFFFFFF). */
static uint32_t signal_sqrt(uint64_t num) {
    if (num == 0) return 0;
    int small = (num >> 32) == 0;
    int top = small ? 31 : 63;
    int32_t start = (int32_t)(top + 1 - pexc_bit_length(num)) | 1;
    uint64_t res = 0, bit = (uint64_t)1 << (top - start);
    int32_t iterations = (top - start) / 2 + 1;
    while (iterations--) {
        if (num >= res + bit) {
            num -= res + bit;
            res = (res >> 1) + bit;
        } else {
            res >>= 1;
        }
        bit >>= 2;
    }
    if (num > res && res != (small ? 0xFFFFu : 0xFFFFFFFFu)) ++res;
    return (uint32_t)res;
}

/** @brief out[i] = sqrt(in[0][i]) >> in[1][0]. */
pexc_status pexc_signal_filter_bank_sqrt(const pexc_signal_sqrt_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !in[1] || !out) return PEXC_ERR_ARG;
    const uint64_t *x = in[0];
    int32_t shift = *(const int32_t *)in[1];
    uint32_t *y = out;
    for (int32_t i = 0; i < p->n; i++) {
        uint32_t r = signal_sqrt(x[i]);
        /* the shift comes from SignalFftAutoScale (0 to 14); TFLM's result
         * for a shift outside [0, 31] is undefined, here it is 0 */
        y[i] = shift >= 0 && shift < 32 ? r >> shift : 0;
    }
    return PEXC_OK;
}

/** @brief Part 1: the noise estimate in[1] (the state, updated in place)
 * smoothed towards the signal in[0], copied to out. Part 0: the signal
 * in[0] less the updated estimate in[1], floored at min_signal_remaining
 * of the signal. */
pexc_status pexc_signal_spectral_subtraction(const pexc_signal_spectral_subtraction_params *p,
                                             const void *const *in, void *out) {
    if (!p || !in || !in[0] || !in[1] || !out || p->smoothing_bits > 31 || p->spectral_subtraction_bits > 63)
        return PEXC_ERR_ARG;
    const uint32_t *x = in[0];
    uint32_t *y = out;
    if (p->part == 1) {
        /* the state is the model's to update: the arena, never flash */
        uint32_t *state = (uint32_t *)(uintptr_t)in[1];
        for (int32_t i = 0; i < p->n; i++) {
            /* even channels use smoothing, odd ones the alternate coefficients */
            uint32_t sm = i & 1 ? p->alternate_smoothing : p->smoothing;
            uint32_t keep = i & 1 ? p->alternate_one_minus_smoothing : p->one_minus_smoothing;
            uint32_t scaled = x[i] << p->smoothing_bits;
            /* the 64-bit sum wraps and the shifted value truncates to 32
             * bits, as in TFLM */
            uint64_t sum = (uint64_t)scaled * sm + (uint64_t)state[i] * keep;
            uint32_t e = (uint32_t)(sum >> p->spectral_subtraction_bits);
            if (e > scaled && p->clamping) e = scaled;
            state[i] = e;
            y[i] = e;
        }
        return PEXC_OK;
    }
    const uint32_t *est = in[1];
    for (int32_t i = 0; i < p->n; i++) {
        uint32_t scaled = x[i] << p->smoothing_bits;
        /* TFLM subtracts min(update, signal); a clamped estimate already is
         * that minimum, an unclamped one is the update */
        uint32_t sub = est[i] < scaled ? est[i] : scaled;
        uint32_t floor = (uint32_t)(((uint64_t)x[i] * p->min_signal_remaining) >> p->spectral_subtraction_bits);
        uint32_t left = (scaled - sub) >> p->smoothing_bits;
        y[i] = left > floor ? left : floor;
    }
    return PEXC_OK;
}

/* PCAN's gain: a piecewise quadratic of the noise estimate x from a table
 * of 3 coefficients per power of two (the first three entries are the
 * gains of x = 0, 1, 2). Arithmetic in int32 as TFLM does it; the product
 * is formed in uint32 so a (never seen) overflow wraps instead of being
 * undefined. */
static int16_t pcan_gain(uint32_t x, const int16_t *lut) {
    if (x <= 2) return lut[x];
    int32_t interval = pexc_bit_length(x);
    const int16_t *c = lut + 4 * interval - 6;
    uint32_t f = interval < 11 ? x << (11 - interval) : x >> (interval - 11);
    int32_t frac = (int32_t)(f & 0x3FF);
    int32_t r = ((int32_t)c[2] * frac) >> 5;
    r = (int32_t)((uint32_t)r + ((uint32_t)c[1] << 5));
    r = (int32_t)((uint32_t)r * (uint32_t)frac);
    r = (int32_t)((uint32_t)r + (1u << 14)) >> 15;
    r += c[0];
    return (int16_t)r;
}

/** @brief out[i] = shrink(in[0][i] * gain(noise[i]) >> snr_shift). */
pexc_status pexc_signal_pcan(const pexc_signal_pcan_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !in[1] || !in[2] || !out || p->snr_shift < 0 || p->snr_shift > 63)
        return PEXC_ERR_ARG;
    const uint32_t *x = in[0], *noise = in[1];
    const int16_t *lut = in[2];
    uint32_t *y = out;
    for (int32_t i = 0; i < p->n; i++) {
        /* the int16 gain widens to uint32 with its sign, as in TFLM */
        uint32_t gain = (uint32_t)(int32_t)pcan_gain(noise[i], lut);
        uint32_t snr = (uint32_t)(((uint64_t)x[i] * gain) >> p->snr_shift);
        /* shrink: snr^2 / 4 below 2 and snr - 1 above, from 12 fractional
         * bits to 6 */
        y[i] = snr < (2u << 12) ? (snr * snr) >> 20 : (snr >> 6) - (1u << 6);
    }
    return PEXC_OK;
}

/* ln(2) in Q16 and the table of log2(1 + f) - f over 128 segments of f in
 * [0, 1), Q16 (TFLM's log.cc). */
static const uint16_t log_lut[130] = {
    0,    224,  442,  654,  861,  1063, 1259, 1450, 1636, 1817, 1992, 2163, 2329, 2490, 2646, 2797, 2944,
    3087, 3224, 3358, 3487, 3611, 3732, 3848, 3960, 4068, 4172, 4272, 4368, 4460, 4549, 4633, 4714, 4791,
    4864, 4934, 5001, 5063, 5123, 5178, 5231, 5280, 5326, 5368, 5408, 5444, 5477, 5507, 5533, 5557, 5578,
    5595, 5610, 5622, 5631, 5637, 5640, 5641, 5638, 5633, 5626, 5615, 5602, 5586, 5568, 5547, 5524, 5498,
    5470, 5439, 5406, 5370, 5332, 5291, 5249, 5203, 5156, 5106, 5054, 5000, 4944, 4885, 4825, 4762, 4697,
    4630, 4561, 4490, 4416, 4341, 4264, 4184, 4103, 4020, 3935, 3848, 3759, 3668, 3575, 3481, 3384, 3286,
    3186, 3084, 2981, 2875, 2768, 2659, 2549, 2437, 2323, 2207, 2090, 1971, 1851, 1729, 1605, 1480, 1353,
    1224, 1094, 963,  830,  695,  559,  421,  282,  142,  0,    0};

/* out_scale * ln(x) for x >= 2: log2 from the leading bit and the table,
 * then times ln 2 and the scale, each rounded in Q16. */
static uint32_t signal_log(uint32_t x, uint32_t out_scale) {
    uint32_t integer = (uint32_t)pexc_bit_length(x) - 1;
    /* x - 2^integer < 2^31 fits int32 */
    int32_t frac = (int32_t)(x - (1u << integer));
    if (integer < 16) frac <<= 16 - integer;
    else frac >>= integer - 16;
    uint32_t seg = (uint32_t)frac >> 9;
    int32_t c0 = log_lut[seg], c1 = log_lut[seg + 1];
    int32_t rel = ((c1 - c0) * (frac - (int32_t)(512 * seg))) >> 16;
    uint32_t log2 = (integer << 16) + (uint32_t)(frac + c0 + rel);
    uint32_t loge = (uint32_t)(((uint64_t)45426 * log2 + 32768) >> 16);
    return (out_scale * loge + 32768) >> 16;
}

/** @brief out[i] = min(32767, out_scale * ln(in[0][i] << correction_bits)). */
pexc_status pexc_signal_filter_bank_log(const pexc_signal_log_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out || p->correction_bits > 31) return PEXC_ERR_ARG;
    const uint32_t *x = in[0];
    int16_t *y = out;
    for (int32_t i = 0; i < p->n; i++) {
        uint32_t v = x[i] << p->correction_bits;
        uint32_t l = v > 1 ? signal_log(v, p->output_scale) : 0;
        y[i] = (int16_t)(l < 32767u ? l : 32767u);
    }
    return PEXC_OK;
}
