/*
 * CAST between int8, int16, int32, float32 and bool, giving the bytes TFLM's
 * reference build gives for every input, out-of-range floats included
 * (C's own conversion is undefined there): an integer narrows by keeping
 * its low bits; a float converts to an integer type by truncation toward
 * zero, saturating at the type's limits, NaN giving 0 (measured on TFLM's
 * Python interpreter; Cortex-M's VCVT behaves the same way for int32).
 */
#include <string.h>

#include "pexc_kernels.h"

/* float -> an integer type of range [lo, hi], saturating, NaN -> 0. */
static int32_t cast_f32_sat(float f, int32_t lo, int32_t hi) {
    if (f != f) return 0;
    if (f >= (float)hi) return hi; /* (float)INT32_MAX rounds up to 2^31 */
    if (f <= (float)lo) return lo;
    return (int32_t)f;
}

/* Element k of a tensor of type t as an int32 (floats truncated). */
static int32_t cast_load_int(const unsigned char *s, int32_t t, int32_t k) {
    switch (t) {
    case PEXC_CAST_I8: return (int8_t)s[k];
    case PEXC_CAST_BOOL: return s[k] != 0;
    case PEXC_CAST_I16: {
        int16_t v;
        memcpy(&v, s + 2 * (size_t)k, 2);
        return v;
    }
    case PEXC_CAST_I32: {
        int32_t v;
        memcpy(&v, s + 4 * (size_t)k, 4);
        return v;
    }
    default: {
        float v;
        memcpy(&v, s + 4 * (size_t)k, 4);
        return cast_f32_sat(v, INT32_MIN, INT32_MAX);
    }
    }
}

static int cast_type_ok(int32_t t) {
    return t == PEXC_CAST_F32 || t == PEXC_CAST_I32 || t == PEXC_CAST_BOOL || t == PEXC_CAST_I16 ||
           t == PEXC_CAST_I8;
}

/**
 * @brief out[k] = (to) in[0][k] for k in [0, count) (see pexc_kernels.h).
 */
pexc_status pexc_cast(const pexc_cast_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out || p->count < 0 || !cast_type_ok(p->from) || !cast_type_ok(p->to))
        return PEXC_ERR_ARG;
    const unsigned char *s = in[0];
    unsigned char *d = out;
    for (int32_t k = 0; k < p->count; k++) {
        if (p->to == PEXC_CAST_F32) {
            float v;
            if (p->from == PEXC_CAST_F32) memcpy(&v, s + 4 * (size_t)k, 4);
            else v = (float)cast_load_int(s, p->from, k);
            memcpy(d + 4 * (size_t)k, &v, 4);
            continue;
        }
        if (p->to == PEXC_CAST_BOOL) { /* anything but zero is true, NaN too */
            if (p->from == PEXC_CAST_F32) {
                float v;
                memcpy(&v, s + 4 * (size_t)k, 4);
                d[k] = v != 0.0f;
            } else {
                d[k] = cast_load_int(s, p->from, k) != 0;
            }
            continue;
        }
        /* integers narrow by keeping the low bits (two's complement);
         * floats saturate at the target's own limits */
        uint32_t u;
        if (p->from == PEXC_CAST_F32) {
            float v;
            memcpy(&v, s + 4 * (size_t)k, 4);
            u = (uint32_t)(p->to == PEXC_CAST_I8    ? cast_f32_sat(v, INT8_MIN, INT8_MAX)
                           : p->to == PEXC_CAST_I16 ? cast_f32_sat(v, INT16_MIN, INT16_MAX)
                                                    : cast_f32_sat(v, INT32_MIN, INT32_MAX));
        } else {
            u = (uint32_t)cast_load_int(s, p->from, k);
        }
        if (p->to == PEXC_CAST_I8) {
            d[k] = (unsigned char)u;
        } else if (p->to == PEXC_CAST_I16) {
            uint16_t h = (uint16_t)u;
            memcpy(d + 2 * (size_t)k, &h, 2);
        } else {
            memcpy(d + 4 * (size_t)k, &u, 4);
        }
    }
    return PEXC_OK;
}
