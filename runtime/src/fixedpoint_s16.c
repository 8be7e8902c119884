/*
 * The two pieces of fixed-point arithmetic TFLM's int16 kernels share: the
 * 64-bit requantisation of the 16x8 convolutions and fully connected layers,
 * and the interpolated lookup in a 513-entry table (softmax).
 *
 * The 64-bit requantisation is not the 32-bit one widened: TFLM rounds the
 * Q31 multiplier to Q15 first (so a 48-bit sum times it stays inside 64
 * bits) and rounds the product once, at bit 15 - shift. TFLM computes in
 * int64 and keeps the low 32 bits of the shifted result; the arithmetic
 * here is the same done in uint64 (wrap-around defined), then shifted as a
 * signed value.
 */
#include "pexc_kernels.h"

int32_t pexc_requant_s64(int64_t x, int32_t multiplier, int32_t shift) {
    const int32_t reduced = multiplier < 0x7FFF0000 ? (multiplier + (1 << 15)) >> 16 : 0x7FFF;
    const int32_t total = 15 - shift; /* shift in [-31, 7]: total in [8, 46] */
    uint64_t v = (uint64_t)x * (uint64_t)(int64_t)reduced + ((uint64_t)1 << (total - 1));
    return (int32_t)((int64_t)v >> total);
}

int16_t pexc_lut_lookup_s16(int16_t x, const int16_t *lut) {
    const int32_t index = 256 + (x >> 7); /* 0..511 */
    const int32_t offset = x & 0x7f;
    const int32_t base = lut[index];
    /* TFLM keeps the slope in an int16 */
    const int32_t slope = (int16_t)(lut[index + 1] - lut[index]);
    return (int16_t)(base + ((slope * offset + 64) >> 7));
}
