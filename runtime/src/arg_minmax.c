/*
 * ARG_MAX / ARG_MIN along one axis, as TFLite Micro's reference kernel: a
 * strict comparison against the best value so far, so the first of equal
 * values wins, and for floats a NaN never wins unless it came first.
 */
#include "pexc_kernels.h"

static int arg_ok(const pexc_arg_params *p, const void *const *in, const void *out) {
    return p && in && in[0] && out && p->outer >= 1 && p->axis >= 1 && p->inner >= 1;
}

pexc_status pexc_arg_minmax_s8(const pexc_arg_params *p, const void *const *in, void *out) {
    if (!arg_ok(p, in, out)) return PEXC_ERR_ARG;
    const int8_t *x = in[0];
    int32_t *y = out;
    size_t inner = (size_t)p->inner;
    for (size_t o = 0; o < (size_t)p->outer; o++)
        for (size_t i = 0; i < inner; i++) {
            const int8_t *col = x + o * (size_t)p->axis * inner + i;
            int8_t best = col[0];
            int32_t at = 0;
            for (int32_t a = 1; a < p->axis; a++) {
                int8_t v = col[(size_t)a * inner];
                if (p->is_max ? v > best : v < best) {
                    best = v;
                    at = a;
                }
            }
            y[o * inner + i] = at;
        }
    return PEXC_OK;
}

pexc_status pexc_arg_minmax_f32(const pexc_arg_params *p, const void *const *in, void *out) {
    if (!arg_ok(p, in, out)) return PEXC_ERR_ARG;
    const float *x = in[0];
    int32_t *y = out;
    size_t inner = (size_t)p->inner;
    for (size_t o = 0; o < (size_t)p->outer; o++)
        for (size_t i = 0; i < inner; i++) {
            const float *col = x + o * (size_t)p->axis * inner + i;
            float best = col[0];
            int32_t at = 0;
            for (int32_t a = 1; a < p->axis; a++) {
                float v = col[(size_t)a * inner];
                if (p->is_max ? v > best : v < best) {
                    best = v;
                    at = a;
                }
            }
            y[o * inner + i] = at;
        }
    return PEXC_OK;
}
