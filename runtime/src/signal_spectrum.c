/*
 * The audio front end up to the power spectrum: window a frame, scale it
 * up so the FFT keeps as many bits as it can, and turn FFT bins into
 * energies (TFLM's SignalWindow, SignalFftAutoScale and SignalEnergy, with
 * their int16/int32 arithmetic: arithmetic right shifts, C's wrapping
 * conversions to narrower types). Sums that TFLM lets overflow in int32
 * are done here in uint32, which wraps to the same bits without undefined
 * behaviour.
 */
#include "pexc_bits.h"
#include "pexc_kernels.h"

/** @brief out[i] = in[i] * w[i % len] >> shift, saturated to int16. */
pexc_status pexc_signal_window_s16(const pexc_signal_window_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !in[1] || !out || p->len < 1 || p->n % p->len || p->shift < 0 || p->shift > 31)
        return PEXC_ERR_ARG;
    const int16_t *x = in[0], *w = in[1];
    int16_t *y = out;
    for (int32_t i = 0; i < p->n; i++) {
        /* |x * w| <= 2^30: the product fits int32 */
        int32_t v = ((int32_t)x[i] * w[i % p->len]) >> p->shift;
        y[i] = (int16_t)(v < INT16_MIN ? INT16_MIN : v > INT16_MAX ? INT16_MAX : v);
    }
    return PEXC_OK;
}

/** @brief Shift s so the largest |in[i]| reaches bit 14; part 0 writes in << s,
 * part 1 writes s. */
pexc_status pexc_signal_fft_auto_scale_s16(const pexc_signal_fft_auto_scale_params *p, const void *const *in,
                                           void *out) {
    if (!p || !in || !in[0] || !out || p->n < 0 || (p->part != 0 && p->part != 1)) return PEXC_ERR_ARG;
    const int16_t *x = in[0];
    /* TFLM's running maximum is int16, so |-32768| wraps back to -32768,
     * which as uint32 has all 32 bits: the shift is then 0, as it is for
     * any maximum of 2^14 or more. */
    int16_t max = 0;
    for (int32_t i = 0; i < p->n; i++) {
        int32_t v = x[i];
        if (v > max) max = (int16_t)v;
        else if (-v > max) max = (int16_t)-v;
    }
    int32_t s = 0;
    if (max != 0) {
        s = 15 - pexc_bit_length((uint32_t)(int32_t)max);
        if (s < 0) s = 0;
    }
    if (p->part == 1) {
        *(int32_t *)out = s;
        return PEXC_OK;
    }
    int16_t *y = out;
    for (int32_t i = 0; i < p->n; i++) y[i] = (int16_t)(x[i] * (1 << s));
    return PEXC_OK;
}

/** @brief out[i] = re^2 + im^2 of bin i for i in [start, end), 0 elsewhere. */
pexc_status pexc_signal_energy_s16(const pexc_signal_energy_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out || p->start < 0 || p->end > p->n_out) return PEXC_ERR_ARG;
    const int16_t *x = in[0];
    uint32_t *y = out;
    for (int32_t i = 0; i < p->n_out; i++) {
        if (i < p->start || i >= p->end) {
            y[i] = 0;
            continue;
        }
        int32_t re = x[2 * i], im = x[2 * i + 1];
        /* each square fits int32; their sum may reach 2^31, which TFLM's
         * int32 sum wraps before the conversion to uint32: same bits */
        y[i] = (uint32_t)(re * re) + (uint32_t)(im * im);
    }
    return PEXC_OK;
}
