/*
 * The arithmetic the integer element-wise kernels share, written once for
 * any element type: include it with BIN_T (int8_t, int16_t) and BIN_ROW
 * (the name of the row function to define) set. The row function does
 * ADD, SUB, SQUARED_DIFFERENCE, MUL, MINIMUM, MAXIMUM and SELECT_V2 as
 * TFLite's reference kernels do for that type: the int16 forms are the int8
 * ones with another left shift (15 for ADD and SUB, 0 for
 * SQUARED_DIFFERENCE), which the compiler sets.
 */
#ifndef BIN_T
#error "define BIN_T and BIN_ROW before including binary_int_row.h"
#endif

static int32_t clamp(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* TFLite MultiplyByQuantizedMultiplierSmallerThanOneExp (shift <= 0). */
static int32_t scale_le1(int32_t x, int32_t mult, int32_t shift) {
    return pexc_rdivpot(pexc_srdhm(x, mult), -shift);
}

/* Operand k's value on the common scale: (v + offset) << left_shift,
 * scaled by its multiplier. The compiler keeps |v + offset| << left_shift
 * below 2^31 (int8: 255 << 20; int16: 65535 << 15). */
static int32_t common_scale(const pexc_binary_params *p, int k, int32_t v) {
    return scale_le1((int32_t)((uint32_t)(v + p->in_offset[k]) << p->left_shift), p->in_mult[k], p->in_shift[k]);
}

static void BIN_ROW(const pexc_binary_params *p, const void *const *in, const size_t *idx, const int32_t *step,
                    void *out, size_t o, int32_t n) {
    const BIN_T *a = (const BIN_T *)in[0] + idx[0], *b = (const BIN_T *)in[1] + idx[1];
    const size_t sa = (size_t)step[0], sb = (size_t)step[1];
    BIN_T *dst = (BIN_T *)out + o;
    const int32_t lo = p->act_min, hi = p->act_max;
    switch (p->op) {
    case PEXC_BIN_ADD:
    case PEXC_BIN_SUB: {
        const int32_t sign = p->op == PEXC_BIN_SUB ? -1 : 1;
        for (int32_t i = 0; i < n; i++, a += sa, b += sb) {
            int32_t s = common_scale(p, 0, *a) + sign * common_scale(p, 1, *b);
            dst[i] = (BIN_T)clamp(scale_le1(s, p->out_mult, p->out_shift) + p->out_offset, lo, hi);
        }
        return;
    }
    case PEXC_BIN_SQDIFF:
        for (int32_t i = 0; i < n; i++, a += sa, b += sb) {
            int32_t d = common_scale(p, 0, *a) - common_scale(p, 1, *b);
            dst[i] = (BIN_T)clamp(pexc_requant(d * d, p->out_mult, p->out_shift) + p->out_offset, lo, hi);
        }
        return;
    case PEXC_BIN_MUL:
        for (int32_t i = 0; i < n; i++, a += sa, b += sb) {
            int32_t v = (*a + p->in_offset[0]) * (*b + p->in_offset[1]);
            dst[i] = (BIN_T)clamp(pexc_requant(v, p->out_mult, p->out_shift) + p->out_offset, lo, hi);
        }
        return;
    case PEXC_BIN_MIN:
        for (int32_t i = 0; i < n; i++, a += sa, b += sb) dst[i] = *a < *b ? *a : *b;
        return;
    case PEXC_BIN_MAX:
        for (int32_t i = 0; i < n; i++, a += sa, b += sb) dst[i] = *a > *b ? *a : *b;
        return;
    case PEXC_BIN_SELECT: {
        /* in[0] is the bool condition, in[1] and in[2] the values */
        const uint8_t *cond = (const uint8_t *)in[0] + idx[0];
        const BIN_T *x = (const BIN_T *)in[1] + idx[1], *y = (const BIN_T *)in[2] + idx[2];
        const size_t sy = (size_t)step[2];
        for (int32_t i = 0; i < n; i++, cond += sa, x += sb, y += sy) dst[i] = *cond ? *x : *y;
        return;
    }
    default: return;
    }
}
