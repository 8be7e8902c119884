/*
 * ARG_MAX / ARG_MIN along one axis, as TFLite Micro's reference kernel: a
 * strict comparison against the best value so far, so the first of equal
 * values wins, and for floats a NaN never wins unless it came first. The
 * int8 and float32 kernels are one template.
 */
#include "pexc_kernels.h"

/* The body of both kernels, for element type T. */
#define ARG_MINMAX_BODY(T)                                                                      \
    do {                                                                                        \
        if (!p || !in || !in[0] || !out || p->outer < 1 || p->axis < 1 || p->inner < 1)         \
            return PEXC_ERR_ARG;                                                                \
        const T *x = in[0];                                                                     \
        int32_t *y = out;                                                                       \
        const size_t inner = (size_t)p->inner;                                                  \
        for (size_t o = 0; o < (size_t)p->outer; o++)                                           \
            for (size_t i = 0; i < inner; i++) {                                                \
                const T *col = x + o * (size_t)p->axis * inner + i;                             \
                T best = col[0];                                                                \
                int32_t at = 0;                                                                 \
                for (int32_t a = 1; a < p->axis; a++) {                                         \
                    T v = col[(size_t)a * inner];                                               \
                    if (p->is_max ? v > best : v < best) {                                      \
                        best = v;                                                               \
                        at = a;                                                                 \
                    }                                                                           \
                }                                                                               \
                y[o * inner + i] = at;                                                          \
            }                                                                                   \
        return PEXC_OK;                                                                         \
    } while (0)

pexc_status pexc_arg_minmax_s8(const pexc_arg_params *p, const void *const *in, void *out) {
    ARG_MINMAX_BODY(int8_t);
}

pexc_status pexc_arg_minmax_f32(const pexc_arg_params *p, const void *const *in, void *out) {
    ARG_MINMAX_BODY(float);
}
