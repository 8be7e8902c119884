/*
 * Plain reference code for the convolution-family kernel tests: a seeded
 * PRNG, TFLite-style output geometry, random realistic quantisation, and
 * whole-tensor nested-loop conv / depthwise / fully connected on dense NHWC
 * arrays. Written for obviousness, not speed; the kernels under test are
 * compared against it byte for byte.
 */
#ifndef KREF_CONV_H
#define KREF_CONV_H

#include <stddef.h>
#include <stdint.h>

#include "pexc_kernels.h"

/* ---- PRNG (splitmix64) ---- */
typedef struct {
    uint64_t s;
} kref_conv_rng;

uint32_t kref_conv_u32(kref_conv_rng *r);
/* uniform integer in [lo, hi] */
int32_t kref_conv_range(kref_conv_rng *r, int32_t lo, int32_t hi);
/* uniform double in [lo, hi) and log-uniform in [lo, hi) (lo > 0) */
double kref_conv_uniform(kref_conv_rng *r, double lo, double hi);
double kref_conv_logu(kref_conv_rng *r, double lo, double hi);
/* one element of a small int array */
int32_t kref_conv_pick(kref_conv_rng *r, const int32_t *choices, int32_t n);

void kref_conv_fill_s8(kref_conv_rng *r, int8_t *p, size_t n, int32_t lo,
                       int32_t hi);

/* TFLite output size and leading pad for one spatial axis.
 * same != 0: SAME padding, else VALID. Returns output size (may be <= 0). */
int32_t kref_conv_out_size(int32_t in, int32_t k, int32_t stride, int32_t dil,
                           int same, int32_t *pad);

/* Random realistic quantisation for an op with `cout` output channels whose
 * accumulators sum `accum_len` products: fills p (offsets, clamp, mult/shift
 * pointing at the given arrays) from float scales via prep_conv_multipliers
 * and prep_activation_s8, and bias (or sets *bias_used = 0). Writes a short
 * description to desc. */
void kref_conv_random_quant(kref_conv_rng *r, int32_t cout, int32_t accum_len,
                            pexc_conv_params *p, int32_t *mult, int32_t *shift,
                            int32_t *bias, int *bias_used, char *desc,
                            size_t desc_len);

/* Finish one accumulator the TFLite way. */
int8_t kref_conv_finish(const pexc_conv_params *p, int32_t acc, int32_t oc);

/* Dense references. in [n, h, w, cin], filter [cout, kh, kw, cin],
 * out [n, oh, ow, cout]. bias may be NULL. */
void kref_conv_conv2d(const pexc_conv_params *p, int32_t n, int32_t h,
                      int32_t w, int32_t cin, const int8_t *in,
                      int32_t cout, int32_t kh, int32_t kw,
                      const int8_t *filter, const int32_t *bias, int32_t oh,
                      int32_t ow, int8_t *out);

/* Depthwise: filter [1, kh, kw, cin*dm]. */
void kref_conv_depthwise(const pexc_conv_params *p, int32_t dm, int32_t n,
                         int32_t h, int32_t w, int32_t cin, const int8_t *in,
                         int32_t kh, int32_t kw, const int8_t *filter,
                         const int32_t *bias, int32_t oh, int32_t ow,
                         int8_t *out);

/* Fully connected: in [batches, depth], w [units, depth], out [batches, units]. */
void kref_conv_fc(const pexc_conv_params *p, int32_t filter_offset,
                  int32_t batches, int32_t depth, const int8_t *in,
                  int32_t units, const int8_t *w, const int32_t *bias,
                  int8_t *out);
void kref_conv_fc_f32(float act_min, float act_max, int32_t batches,
                      int32_t depth, const float *in, int32_t units,
                      const float *w, const float *bias, float *out);

/* A dense view of a whole [n, h, w, c] tensor. */
pexc_view kref_conv_dense(void *data, int32_t n, int32_t h, int32_t w,
                          int32_t c);

/* Copy dense [n, h, w, c] (elem_size bytes each) into the storage of view v
 * (channel slice and/or ring), for logical rows [y0, y1) and every channel
 * v stores that exists logically. */
void kref_conv_to_view(const void *dense, size_t elem_size, const pexc_view *v,
                       int32_t y0, int32_t y1);
/* The reverse: copy logical rows [y0, y1), channels [c0, c1) of v into dense. */
void kref_conv_from_view(void *dense, size_t elem_size, const pexc_view *v,
                         int32_t y0, int32_t y1, int32_t c0, int32_t c1);

/* Physical element count of a view's storage. */
size_t kref_conv_view_elems(const pexc_view *v);

/* Random cut points: writes k+1 increasing bounds b[0]=lo .. b[k]=hi with k
 * pieces (some possibly empty if allow_empty). Returns k. max_pieces >= 1. */
int32_t kref_conv_cuts(kref_conv_rng *r, int32_t lo, int32_t hi,
                       int32_t max_pieces, int allow_empty, int32_t *b);

/* Compare n bytes; on mismatch print the test name, the description and the
 * first mismatching index with both values, and return 1. */
int kref_conv_cmp_s8(const char *test, const char *desc, const int8_t *want,
                     const int8_t *got, size_t n);
/* 1 for PEXC_OK; else prints the test name, the description and the status
 * and returns 0. */
int kref_conv_status_ok(const char *test, const char *desc, pexc_status st);
/* malloc that exits with a message when out of memory (n = 0: one byte). */
void *kref_conv_xmalloc(size_t n);

#endif /* KREF_CONV_H */
