/*
 * int32 arithmetic and integer CAST as TFLite's reference kernels do them:
 * the C operation on int32 (TFLM lets sums and products overflow; here
 * they are formed in uint32, which gives the same bits without undefined
 * behaviour), DIV truncating toward zero, then the activation clamp.
 * Operands are broadcast through element strides fixed at compile time.
 */
#include "pexc_bcast.h"
#include "pexc_kernels.h"

static int32_t arith(int32_t op, int32_t a, int32_t b) {
    switch (op) {
    case PEXC_ARITH_ADD: return (int32_t)((uint32_t)a + (uint32_t)b);
    case PEXC_ARITH_SUB: return (int32_t)((uint32_t)a - (uint32_t)b);
    case PEXC_ARITH_MUL: return (int32_t)((uint32_t)a * (uint32_t)b);
    case PEXC_ARITH_DIV:
        /* INT32_MIN / -1 overflows: the wrapped quotient is INT32_MIN */
        if (b == -1) return (int32_t)(0u - (uint32_t)a);
        return b ? a / b : 0;
    case PEXC_ARITH_MIN: return a < b ? a : b;
    default: return a > b ? a : b; /* PEXC_ARITH_MAX */
    }
}

/**
 * @brief out = clamp(a op b, act_min, act_max), a = in[0], b = in[1] read
 * through p->stride_a / p->stride_b (0 where broadcast).
 */
pexc_status pexc_arith_s32(const pexc_arith_s32_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !in[1] || !out || p->rank < 1 || p->rank > 6 || p->op < PEXC_ARITH_ADD ||
        p->op > PEXC_ARITH_SUB)
        return PEXC_ERR_ARG;
    const int32_t *a = in[0], *b = in[1];
    int32_t *y = out;
    int32_t idx[6] = {0, 0, 0, 0, 0, 0};
    size_t ia = 0, ib = 0, n = 1;
    for (int32_t d = 0; d < p->rank; d++) n *= (size_t)p->dims[d];
    for (size_t i = 0; i < n; i++) {
        int32_t v = arith(p->op, a[ia], b[ib]);
        y[i] = v < p->act_min ? p->act_min : v > p->act_max ? p->act_max : v;
        pexc_bcast_next(p->rank, p->dims, p->stride_a, p->stride_b, idx, &ia, &ib);
    }
    return PEXC_OK;
}

static int64_t load(const void *x, int32_t type, int32_t i) {
    switch (type) {
    case PEXC_INT_S8: return ((const int8_t *)x)[i];
    case PEXC_INT_S16: return ((const int16_t *)x)[i];
    case PEXC_INT_S32: return ((const int32_t *)x)[i];
    case PEXC_INT_U32: return ((const uint32_t *)x)[i];
    default: return ((const uint8_t *)x)[i] != 0;
    }
}

/** @brief out[i] = (to) in[0][i]: C's conversion, modulo 2^bits. */
pexc_status pexc_cast_int(const pexc_cast_int_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out || p->from < PEXC_INT_S8 || p->from > PEXC_INT_BOOL || p->to < PEXC_INT_S8 ||
        p->to > PEXC_INT_U32)
        return PEXC_ERR_ARG;
    for (int32_t i = 0; i < p->n; i++) {
        uint32_t v = (uint32_t)load(in[0], p->from, i);
        switch (p->to) {
        case PEXC_INT_S8: ((int8_t *)out)[i] = (int8_t)v; break;
        case PEXC_INT_S16: ((int16_t *)out)[i] = (int16_t)v; break;
        case PEXC_INT_S32: ((int32_t *)out)[i] = (int32_t)v; break;
        default: ((uint32_t *)out)[i] = v; break;
        }
    }
    return PEXC_OK;
}
