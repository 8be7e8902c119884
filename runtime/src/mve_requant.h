/*
 * The vector requantisation of the Helium (MVE) kernels (runtime/src/mve_*.c)
 * and the small helpers they share, private to them; included only where
 * PEXC_MVE is defined.
 *
 * Requantisation, four channels per vector (mve_requant4). TFLite's
 * MultiplyByQuantizedMultiplier is x << left, then
 * SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT. The doubling
 * high multiply is VQRDMULH exactly: for ab >= 0 both are
 * floor((2ab + 2^31) / 2^32); for ab = -k < 0 TFLite truncates
 * (1 - 2^30 - k) / 2^31 towards zero, which is -floor((k + 2^30 - 1) /
 * 2^31), and VQRDMULH's floor((2^31 - 2k) / 2^32) is the same integer; both
 * saturate only INT32_MIN * INT32_MIN. RoundingDivideByPOT rounds halves
 * away from zero while VRSHL (a rounding right shift for a negative
 * count) rounds them up, so negative values first lose 1 (the fixup
 * (x & -r) >> 31, which is -1 only when x < 0 and r > 0): a tie moves down
 * to the lower integer, any other value keeps its quotient. The tests in
 * tests/test_kernels_m55.py compare this against the plain C on ties,
 * negative values and the extremes.
 */
#ifndef PEXC_MVE_REQUANT_H
#define PEXC_MVE_REQUANT_H

#include <arm_mve.h>

#include "pexc_kernels.h"

/* The requantisation fields of a layer, for mve_requant4. */
typedef struct {
    const int32_t *mult, *shift;
    int32_t zp, lo, hi;
} mve_q;

static inline mve_q mve_q_of(const pexc_conv_params *p) {
    mve_q q = {p->out_mult, p->out_shift, p->output_offset, p->act_min, p->act_max};
    return q;
}

/* TFLite's requantisation of four sums with multipliers m and shifts sh
 * (per lane): see the essay for why each step is exact. */
static inline int32x4_t mve_requant4_v(const mve_q *q, int32x4_t acc, int32x4_t m, int32x4_t sh) {
    const int32x4_t zero = vdupq_n_s32(0);
    const int32x4_t neg_right = vminq_s32(sh, zero);
    acc = vshlq_s32(acc, vmaxq_s32(sh, zero));
    acc = vqrdmulhq_s32(acc, m);
    acc = vqaddq_s32(acc, vshrq_n_s32(vandq_s32(acc, neg_right), 31));
    acc = vrshlq_s32(acc, neg_right);
    acc = vaddq_n_s32(acc, q->zp);
    acc = vmaxq_s32(acc, vdupq_n_s32(q->lo));
    return vminq_s32(acc, vdupq_n_s32(q->hi));
}

/* The n <= 4 sums acc of channels c.. of the layer requantised to int8 at o. */
static inline void mve_requant4(const mve_q *q, int32x4_t acc, int32_t c, int32_t n, int8_t *o) {
    if (n == 4) {
        vstrbq_s32(o, mve_requant4_v(q, acc, vldrwq_s32(q->mult + c), vldrwq_s32(q->shift + c)));
    } else {
        const mve_pred16_t p = vctp32q((uint32_t)n);
        vstrbq_p_s32(o, mve_requant4_v(q, acc, vldrwq_z_s32(q->mult + c, p), vldrwq_z_s32(q->shift + c, p)), p);
    }
}

/* Batch index n's storage of in (*ib) and out (*ob), from their first
 * stored channels. */
static inline void mve_bases(const pexc_view *in, const pexc_view *out, int32_t n, const int8_t **ib, int8_t **ob) {
    *ib = (const int8_t *)in->data + pexc_view_index(in, n, 0, 0, in->c_begin);
    *ob = (int8_t *)out->data + pexc_view_index(out, n, 0, 0, out->c_begin);
}

/* TFLite's MultiplyByQuantizedMultiplierSmallerThanOneExp of four lanes
 * (ADD's rescaling): neg_right is the (non-positive) shift in every lane. */
static inline int32x4_t mve_scale_le1(int32x4_t x, int32_t mult, int32x4_t neg_right) {
    x = vqrdmulhq_n_s32(x, mult);
    x = vqaddq_s32(x, vshrq_n_s32(vandq_s32(x, neg_right), 31));
    return vrshlq_s32(x, neg_right);
}

#endif
