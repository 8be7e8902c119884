/* Plain reference code for the convolution-family kernel tests. */
#include "kref_conv.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prep/prep.h"

uint32_t kref_conv_u32(kref_conv_rng *r) {
    uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

int32_t kref_conv_range(kref_conv_rng *r, int32_t lo, int32_t hi) {
    uint32_t span = (uint32_t)(hi - lo) + 1u;
    return lo + (int32_t)(kref_conv_u32(r) % span);
}

double kref_conv_uniform(kref_conv_rng *r, double lo, double hi) {
    return lo + (hi - lo) * ((double)kref_conv_u32(r) / 4294967296.0);
}

double kref_conv_logu(kref_conv_rng *r, double lo, double hi) {
    return exp(kref_conv_uniform(r, log(lo), log(hi)));
}

int32_t kref_conv_pick(kref_conv_rng *r, const int32_t *choices, int32_t n) {
    return choices[kref_conv_range(r, 0, n - 1)];
}

void kref_conv_fill_s8(kref_conv_rng *r, int8_t *p, size_t n, int32_t lo,
                       int32_t hi) {
    for (size_t i = 0; i < n; i++) p[i] = (int8_t)kref_conv_range(r, lo, hi);
}

int32_t kref_conv_out_size(int32_t in, int32_t k, int32_t stride, int32_t dil,
                           int same, int32_t *pad) {
    int32_t eff = (k - 1) * dil + 1;
    int32_t out;
    if (same) {
        out = (in + stride - 1) / stride;
    } else {
        out = (in - eff + stride) / stride;
        if (in - eff < 0) out = 0;
    }
    int32_t total = (out - 1) * stride + eff - in;
    *pad = total > 0 ? total / 2 : 0;
    if (!same) *pad = 0;
    return out;
}

void kref_conv_random_quant(kref_conv_rng *r, int32_t cout, int32_t accum_len,
                            pexc_conv_params *p, int32_t *mult, int32_t *shift,
                            int32_t *bias, int *bias_used, char *desc,
                            size_t desc_len) {
    float in_scale = (float)kref_conv_logu(r, 0.002, 0.2);
    int32_t in_zp = kref_conv_range(r, -128, 127);
    int per_channel = kref_conv_range(r, 0, 9) < 7;
    int32_t n_ws = per_channel ? cout : 1;
    float ws[1024];
    double ws_sum = 0.0;
    for (int32_t i = 0; i < n_ws; i++) {
        ws[i] = (float)kref_conv_logu(r, 0.0005, 0.05);
        ws_sum += ws[i];
    }
    /* Scale the output so that typical accumulators land around +-40 with a
     * random factor: some cases saturate, some use few output levels, a few
     * have an effective scale above 1 (positive shift). */
    double spread = kref_conv_range(r, 0, 9) == 0 ? kref_conv_logu(r, 0.0001, 0.01)
                                                 : kref_conv_logu(r, 0.2, 8.0);
    float out_scale = (float)((double)in_scale * (ws_sum / n_ws) * 74.0 * 74.0 *
                              sqrt((double)accum_len) / 40.0 * spread);
    int32_t out_zp = kref_conv_range(r, -128, 127);
    int32_t act = kref_conv_pick(r, (const int32_t[]){0, 1, 3}, 3);
    if (prep_conv_multipliers(in_scale, ws, n_ws, out_scale, cout, mult, shift) != 0) {
        /* effective scale out of TFLite's range: fall back to a tame one */
        for (int32_t i = 0; i < cout; i++) prep_quantize_multiplier(0.001, &mult[i], &shift[i]);
    }
    memset(p, 0, sizeof *p);
    p->input_offset = -in_zp;
    p->output_offset = out_zp;
    if (prep_activation_s8(act, out_scale, out_zp, &p->act_min, &p->act_max) != 0) {
        p->act_min = -128;
        p->act_max = 127;
    }
    p->out_mult = mult;
    p->out_shift = shift;
    *bias_used = kref_conv_range(r, 0, 3) != 0;
    int32_t bmax = (int32_t)(74.0 * 74.0 * sqrt((double)accum_len));
    if (kref_conv_range(r, 0, 9) == 0) bmax *= 20;
    for (int32_t i = 0; i < cout; i++) bias[i] = kref_conv_range(r, -bmax, bmax);
    snprintf(desc, desc_len,
             "in_zp=%d out_zp=%d act=%d [%d,%d] per_ch=%d bias=%d mult0=%d shift0=%d",
             (int)in_zp, (int)out_zp, (int)act, (int)p->act_min, (int)p->act_max,
             per_channel, *bias_used, (int)mult[0], (int)shift[0]);
}

int8_t kref_conv_finish(const pexc_conv_params *p, int32_t acc, int32_t oc) {
    int32_t v = pexc_requant(acc, p->out_mult[oc], p->out_shift[oc]) + p->output_offset;
    if (v < p->act_min) v = p->act_min;
    if (v > p->act_max) v = p->act_max;
    return (int8_t)v;
}

void kref_conv_conv2d(const pexc_conv_params *p, int32_t n, int32_t h,
                      int32_t w, int32_t cin, const int8_t *in,
                      int32_t cout, int32_t kh, int32_t kw,
                      const int8_t *filter, const int32_t *bias, int32_t oh,
                      int32_t ow, int8_t *out) {
    for (int32_t b = 0; b < n; b++)
        for (int32_t oy = 0; oy < oh; oy++)
            for (int32_t ox = 0; ox < ow; ox++)
                for (int32_t oc = 0; oc < cout; oc++) {
                    int32_t acc = 0;
                    for (int32_t ky = 0; ky < kh; ky++)
                        for (int32_t kx = 0; kx < kw; kx++) {
                            int32_t iy = oy * p->stride_h - p->pad_top + ky * p->dilation_h;
                            int32_t ix = ox * p->stride_w - p->pad_left + kx * p->dilation_w;
                            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                            for (int32_t ic = 0; ic < cin; ic++) {
                                int32_t x = in[((b * h + iy) * w + ix) * cin + ic];
                                int32_t f = filter[((oc * kh + ky) * kw + kx) * cin + ic];
                                acc += f * (x + p->input_offset);
                            }
                        }
                    if (bias) acc += bias[oc];
                    out[((b * oh + oy) * ow + ox) * cout + oc] = kref_conv_finish(p, acc, oc);
                }
}

void kref_conv_depthwise(const pexc_conv_params *p, int32_t dm, int32_t n,
                         int32_t h, int32_t w, int32_t cin, const int8_t *in,
                         int32_t kh, int32_t kw, const int8_t *filter,
                         const int32_t *bias, int32_t oh, int32_t ow,
                         int8_t *out) {
    int32_t cout = cin * dm;
    for (int32_t b = 0; b < n; b++)
        for (int32_t oy = 0; oy < oh; oy++)
            for (int32_t ox = 0; ox < ow; ox++)
                for (int32_t ic = 0; ic < cin; ic++)
                    for (int32_t m = 0; m < dm; m++) {
                        int32_t oc = ic * dm + m;
                        int32_t acc = 0;
                        for (int32_t ky = 0; ky < kh; ky++)
                            for (int32_t kx = 0; kx < kw; kx++) {
                                int32_t iy = oy * p->stride_h - p->pad_top + ky * p->dilation_h;
                                int32_t ix = ox * p->stride_w - p->pad_left + kx * p->dilation_w;
                                if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                                int32_t x = in[((b * h + iy) * w + ix) * cin + ic];
                                int32_t f = filter[(ky * kw + kx) * cout + oc];
                                acc += f * (x + p->input_offset);
                            }
                        if (bias) acc += bias[oc];
                        out[((b * oh + oy) * ow + ox) * cout + oc] = kref_conv_finish(p, acc, oc);
                    }
}

void kref_conv_fc(const pexc_conv_params *p, int32_t filter_offset,
                  int32_t batches, int32_t depth, const int8_t *in,
                  int32_t units, const int8_t *w, const int32_t *bias,
                  int8_t *out) {
    for (int32_t b = 0; b < batches; b++)
        for (int32_t u = 0; u < units; u++) {
            int32_t acc = 0;
            for (int32_t d = 0; d < depth; d++)
                acc += (w[u * depth + d] + filter_offset) * (in[b * depth + d] + p->input_offset);
            if (bias) acc += bias[u];
            out[b * units + u] = kref_conv_finish(p, acc, u);
        }
}

void kref_conv_fc_f32(float act_min, float act_max, int32_t batches,
                      int32_t depth, const float *in, int32_t units,
                      const float *w, const float *bias, float *out) {
    for (int32_t b = 0; b < batches; b++)
        for (int32_t u = 0; u < units; u++) {
            float total = 0.0f;
            for (int32_t d = 0; d < depth; d++) {
                float prod = in[b * depth + d] * w[u * depth + d];
                total += prod;
            }
            float bv = bias ? bias[u] : 0.0f;
            float v = total + bv;
            v = v < act_min ? act_min : v;
            v = act_max < v ? act_max : v;
            out[b * units + u] = v;
        }
}

pexc_view kref_conv_dense(void *data, int32_t n, int32_t h, int32_t w,
                          int32_t c) {
    pexc_view v = {data, n, h, w, c, 0, c, 0};
    return v;
}

size_t kref_conv_view_elems(const pexc_view *v) {
    size_t px = v->ring_px ? (size_t)v->ring_px : (size_t)v->h * (size_t)v->w;
    return (size_t)v->n * px * (size_t)v->c_stored;
}

void kref_conv_to_view(const void *dense, size_t elem_size, const pexc_view *v,
                       int32_t y0, int32_t y1) {
    int32_t c_end = v->c_begin + v->c_stored;
    if (c_end > v->c) c_end = v->c;
    for (int32_t n = 0; n < v->n; n++)
        for (int32_t y = y0; y < y1; y++)
            for (int32_t x = 0; x < v->w; x++)
                for (int32_t c = v->c_begin; c < c_end; c++) {
                    size_t src = (((size_t)n * v->h + y) * v->w + x) * v->c + c;
                    memcpy((char *)v->data + pexc_view_index(v, n, y, x, c) * elem_size,
                           (const char *)dense + src * elem_size, elem_size);
                }
}

void kref_conv_from_view(void *dense, size_t elem_size, const pexc_view *v,
                         int32_t y0, int32_t y1, int32_t c0, int32_t c1) {
    for (int32_t n = 0; n < v->n; n++)
        for (int32_t y = y0; y < y1; y++)
            for (int32_t x = 0; x < v->w; x++)
                for (int32_t c = c0; c < c1; c++) {
                    size_t dst = (((size_t)n * v->h + y) * v->w + x) * v->c + c;
                    memcpy((char *)dense + dst * elem_size,
                           (const char *)v->data + pexc_view_index(v, n, y, x, c) * elem_size,
                           elem_size);
                }
}

int32_t kref_conv_cuts(kref_conv_rng *r, int32_t lo, int32_t hi,
                       int32_t max_pieces, int allow_empty, int32_t *b) {
    int32_t len = hi - lo;
    int32_t k = kref_conv_range(r, 1, max_pieces);
    if (!allow_empty && k > len) k = len > 0 ? len : 1;
    /* k-1 interior cuts, sorted (insertion sort) */
    b[0] = lo;
    for (int32_t i = 1; i < k; i++) {
        int32_t v;
        int again;
        do {
            v = kref_conv_range(r, lo, hi);
            again = 0;
            if (!allow_empty) {
                if (v == lo || v == hi) again = 1;
                for (int32_t j = 1; j < i; j++)
                    if (b[j] == v) again = 1;
            }
        } while (again);
        int32_t j = i;
        while (j > 1 && b[j - 1] > v) {
            b[j] = b[j - 1];
            j--;
        }
        b[j] = v;
    }
    b[k] = hi;
    return k;
}

int kref_conv_cmp_s8(const char *test, const char *desc, const int8_t *want,
                     const int8_t *got, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (want[i] != got[i]) {
            printf("FAIL %s: %s\n  first mismatch at index %lu: want %d got %d\n",
                   test, desc, (unsigned long)i, (int)want[i], (int)got[i]);
            return 1;
        }
    }
    return 0;
}

int kref_conv_status_ok(const char *test, const char *desc, pexc_status st) {
    if (st == PEXC_OK) return 1;
    printf("FAIL %s: %s\n  kernel returned status %d\n", test, desc, (int)st);
    return 0;
}

void *kref_conv_xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        printf("out of memory\n");
        exit(1);
    }
    return p;
}
