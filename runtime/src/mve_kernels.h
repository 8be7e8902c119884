/*
 * The Helium (MVE) entry points of runtime/src/mve_*.c, private to the
 * runtime. Each returns 1 when it computed the whole tile and 0 when it
 * leaves the layer to the portable kernel that called it; the callers test
 * PEXC_MVE first, so builds without integer MVE (the host, the M4) never
 * reference them.
 */
#ifndef PEXC_MVE_KERNELS_H
#define PEXC_MVE_KERNELS_H

#include "pexc_kernels.h"

#if defined(__ARM_FEATURE_MVE) && (__ARM_FEATURE_MVE & 1) && !defined(PEXC_NO_MVE)
#define PEXC_MVE 1
int pexc_mve_conv2d_s8(const pexc_conv_params *p, const pexc_view *in, const int8_t *filter, int32_t kh,
                       int32_t kw, const int32_t *bias, const pexc_tile *t, pexc_view *out);
int pexc_mve_depthwise_conv2d_s8(const pexc_conv_params *p, int32_t depth_mult, const pexc_view *in,
                                 const int8_t *filter, int32_t kh, int32_t kw, const int32_t *bias,
                                 const pexc_tile *t, pexc_view *out);
int pexc_mve_fully_connected_s8(const pexc_conv_params *p, int32_t filter_offset, const pexc_view *in,
                                const int8_t *weights, const int32_t *bias, const pexc_tile *t, pexc_view *out);
int pexc_mve_avg_pool_s8(const pexc_pool_params *p, const pexc_view *in, const pexc_tile *t, pexc_view *out);
int pexc_mve_add_flat_s8(const pexc_add_params *p, const pexc_view *in1, const pexc_view *in2, const pexc_tile *t,
                         const pexc_view *out);
int pexc_mve_add_s8(const pexc_add_params *p, const pexc_view *in1, const pexc_view *in2, const pexc_tile *t,
                    pexc_view *out);
#endif

#endif
