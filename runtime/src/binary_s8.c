/*
 * int8 element-wise binary operators: the arithmetic of TFLite Micro's
 * reference kernels for each, run over the output by pexc_binary_walk.
 *
 * ADD, SUB and ADD_N move each operand onto a common scale (offset, shift
 * left by 20, a multiplier below one) before adding, then rescale the sum;
 * SQUARED_DIFFERENCE does the same with a shift of 7 and squares the
 * difference; comparisons rescale both operands the same way with a shift of
 * 8 (so operands of different scales compare by real value) and compare the
 * integers. MUL, PRELU and DIV requantise a product or a quotient once.
 * MINIMUM, MAXIMUM and SELECT_V2 move raw bytes: TFLite does not rescale
 * them, whatever the quantisation of the operands and output. The
 * operators int16 shares are in binary_int_row.h, the rest here.
 *
 * DIV reproduces TFLite's reciprocal: the divisor's reciprocal in Q0.31 by
 * Newton-Raphson, the dividend shifted up to its headroom, one rounding
 * shift at the end. That shift can exceed 31 for a zero dividend (its
 * headroom is 31); gemmlowp then builds its rounding mask from a 64-bit
 * shift and shifts the 32-bit value by the count modulo 32, as the x86
 * build of TFLite Micro does, so that is what div_rshift computes.
 */
#include "pexc_kernels.h"

#define BIN_T int8_t
#define BIN_ROW row_common_s8
#include "binary_int_row.h"

/* gemmlowp RoundingDivideByPOT for any exponent >= 0 as TFLM's x86 build
 * computes it: mask from a 64-bit shift, 32-bit shift count modulo 32. */
static int32_t div_rshift(int32_t x, int32_t e) {
    const int32_t mask = e >= 64 ? -1 : (int32_t)(uint32_t)((UINT64_C(1) << e) - 1u);
    const int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> (e & 31)) + ((x & mask) > threshold ? 1 : 0);
}

/* Number of redundant sign bits (GCC __builtin_clrsb; 31 for 0 and -1). */
static int32_t sign_bits(int32_t x) {
    uint32_t u = x < 0 ? ~(uint32_t)x : (uint32_t)x;
    int32_t n = 0;
    while (n < 31 && !(u & (UINT32_C(1) << (30 - n)))) n++;
    return n;
}

/* TFLite's quantised division of x by y (|x|, |y| <= 256). */
static int32_t div_q(const pexc_binary_params *p, int32_t x, int32_t y) {
    if (y < 0) {
        x = -x;
        y = -y;
    }
    /* GetReciprocal(y, 31): y = 2^bits * (1 + f) with f in [0, 1). For
     * y = 0 (undefined in TFLite) its count of leading zeros is 32 and the
     * shifted value 0, so f = -1 and bits = -1, which is what TFLM's build
     * then computes. */
    int32_t lz = 0;
    while (lz < 32 && !((uint32_t)y & (UINT32_C(1) << (31 - lz)))) lz++;
    const int32_t recip_shift = 31 - lz;
    const int32_t f = (int32_t)((lz < 32 ? (uint32_t)y << lz : 0u) - (UINT32_C(1) << 31));
    const int32_t inv = pexc_one_over_one_plus_x(f);
    const int32_t headroom = sign_bits(x);
    const int32_t q = pexc_srdhm((int32_t)((uint32_t)x << headroom), inv);
    const int32_t total = p->out_shift - recip_shift - headroom;
    return div_rshift(pexc_srdhm(q, p->out_mult), -total);
}

/* The operators only int8 has here; the rest in binary_int_row.h. */
static void row_s8(const pexc_binary_params *p, const void *const *in, const size_t *idx, const int32_t *step,
                   void *out, size_t o, int32_t n) {
    const int8_t *a = (const int8_t *)in[0] + idx[0], *b = (const int8_t *)in[1] + idx[1];
    const size_t sa = (size_t)step[0], sb = (size_t)step[1];
    int8_t *dst = (int8_t *)out + o;
    uint8_t *flag = (uint8_t *)out + o; /* comparisons, logical operators */
    switch (p->op) {
    case PEXC_BIN_ADD_N: {
        /* every operand shares operand 0's shape, quantisation and index */
        const int32_t zero = common_scale(p, 0, 0);
        for (int32_t i = 0; i < n; i++) {
            int32_t s = zero;
            for (int32_t k = 0; k < p->n_in; k++) s += common_scale(p, 0, ((const int8_t *)in[k])[idx[0] + (size_t)i]);
            dst[i] = (int8_t)clamp(scale_le1(s, p->out_mult, p->out_shift) + p->out_offset, p->act_min, p->act_max);
        }
        return;
    }
    case PEXC_BIN_DIV:
        for (int32_t i = 0; i < n; i++, a += sa, b += sb) {
            int32_t v = div_q(p, *a + p->in_offset[0], *b + p->in_offset[1]) + p->out_offset;
            dst[i] = (int8_t)clamp(v, p->act_min, p->act_max);
        }
        return;
    case PEXC_BIN_PRELU:
        for (int32_t i = 0; i < n; i++, a += sa, b += sb) {
            int32_t x = *a + p->in_offset[0];
            int32_t v = x >= 0 ? pexc_requant(x, p->out_mult, p->out_shift)
                               : pexc_requant(x * (*b + p->in_offset[1]), p->out_mult2, p->out_shift2);
            dst[i] = (int8_t)clamp(v + p->out_offset, -128, 127);
        }
        return;
    case PEXC_BIN_EQ:
    case PEXC_BIN_NE:
    case PEXC_BIN_LT:
    case PEXC_BIN_LE:
    case PEXC_BIN_GT:
    case PEXC_BIN_GE:
        for (int32_t i = 0; i < n; i++, a += sa, b += sb) {
            int32_t x = *a, y = *b;
            if (p->left_shift) {
                x = common_scale(p, 0, x);
                y = common_scale(p, 1, y);
            }
            int r;
            switch (p->op) {
            case PEXC_BIN_EQ: r = x == y; break;
            case PEXC_BIN_NE: r = x != y; break;
            case PEXC_BIN_LT: r = x < y; break;
            case PEXC_BIN_LE: r = x <= y; break;
            case PEXC_BIN_GT: r = x > y; break;
            default: r = x >= y; break;
            }
            flag[i] = (uint8_t)r;
        }
        return;
    case PEXC_BIN_AND:
        for (int32_t i = 0; i < n; i++, a += sa, b += sb) flag[i] = (uint8_t)(*a && *b);
        return;
    case PEXC_BIN_OR:
        for (int32_t i = 0; i < n; i++, a += sa, b += sb) flag[i] = (uint8_t)(*a || *b);
        return;
    default: row_common_s8(p, in, idx, step, out, o, n); return;
    }
}

/**
 * @brief An int8 element-wise operator over whole tensors (see
 * pexc_binary_params for each operator's arithmetic).
 *
 * in[k]: operand k, contiguous, of the extents implied by p->stride[k];
 * out: the output, contiguous, of extents p->dims (int8, or uint8 0/1 for
 * comparisons and logical operators). Shifts must be TFLite's ranges:
 * in_shift and (except SQUARED_DIFFERENCE, MUL, PRELU, DIV) out_shift in
 * [-31, 0], left_shift in [0, 20].
 */
pexc_status pexc_binary_s8(const pexc_binary_params *p, const void *const *in, void *out) {
    if (!p) return PEXC_ERR_ARG;
    if (p->left_shift < 0 || p->left_shift > 20 || p->in_shift[0] > 0 || p->in_shift[0] < -31 ||
        p->in_shift[1] > 0 || p->in_shift[1] < -31 || p->out_shift < -31 || p->out_shift > 30 ||
        p->out_shift2 < -31 || p->out_shift2 > 30 || p->act_min > p->act_max)
        return PEXC_ERR_ARG;
    return pexc_binary_walk(p, in, out, row_s8);
}
