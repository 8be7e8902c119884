/*
 * RESIZE_BILINEAR as TFLite Micro's reference kernels compute it.
 *
 * The int8 kernel never touches a float: the source position of output
 * pixel y is y * scale in Q10 (the scale rounded once, on the host), with
 * half-pixel centres shifted by scale / 2 - 1/2. The two source rows are the
 * truncated quotient (clamped at 0) and the next row up (clamped at the
 * edge), and the four taps are weighted by Q10 fractions whose products are
 * Q20; the weighted sum is rounded half away from zero. The input and output
 * share their quantisation, so no requantisation follows. The float kernel
 * evaluates the reference's float expression in its order, term by term.
 */
#include "pexc_kernels.h"

static int resize_ok(const pexc_resize_params *p, const void *const *in, const void *out) {
    return p && in && in[0] && out && p->n >= 1 && p->h >= 1 && p->w >= 1 && p->c >= 1 && p->out_h >= 1 &&
           p->out_w >= 1;
}

/* Q10 source position of output index v, and its two source indices. */
static void src_q10(int32_t v, int32_t scale, int32_t half, int32_t size, int32_t *pos, int32_t *lo, int32_t *hi) {
    *pos = half ? v * scale + scale / 2 - (1 << 9) : v * scale;
    int32_t l = *pos / (1 << 10), u = (*pos + (1 << 10) - 1) / (1 << 10);
    *lo = l > 0 ? l : 0;
    *hi = u < size - 1 ? u : size - 1;
}

pexc_status pexc_resize_bilinear_s8(const pexc_resize_params *p, const void *const *in, void *out) {
    if (!resize_ok(p, in, out)) return PEXC_ERR_ARG;
    const int8_t *x = in[0];
    int8_t *y = out;
    const size_t C = (size_t)p->c, W = (size_t)p->w;
    for (int32_t n = 0; n < p->n; n++) {
        const int8_t *img = x + (size_t)n * (size_t)p->h * W * C;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            int32_t py, y0, y1;
            src_q10(oy, p->scale_y, p->half_pixel, p->h, &py, &y0, &y1);
            const int64_t fy = py - (1 << 10) * y0, gy = (1 << 10) - fy;
            for (int32_t ox = 0; ox < p->out_w; ox++) {
                int32_t px, x0, x1;
                src_q10(ox, p->scale_x, p->half_pixel, p->w, &px, &x0, &x1);
                const int64_t fx = px - (1 << 10) * x0, gx = (1 << 10) - fx;
                const int8_t *a = img + ((size_t)y0 * W + (size_t)x0) * C, *b = img + ((size_t)y1 * W + (size_t)x0) * C;
                const int8_t *c = img + ((size_t)y0 * W + (size_t)x1) * C, *d = img + ((size_t)y1 * W + (size_t)x1) * C;
                for (size_t ch = 0; ch < C; ch++) {
                    int64_t s = a[ch] * gy * gx + b[ch] * fy * gx + c[ch] * gy * fx + d[ch] * fy * fx;
                    int64_t r = (s + (s > 0 ? (1 << 19) : -(1 << 19))) / (1 << 20);
                    *y++ = (int8_t)r;
                }
            }
        }
    }
    return PEXC_OK;
}

/* Float source position of output index v, and its two source indices:
 * floor and ceiling without libm (positions are far inside int32). */
static void src_f32(int32_t v, float scale, int32_t half, int32_t size, float *pos, int32_t *lo, int32_t *hi) {
    *pos = half ? ((float)v + 0.5f) * scale - 0.5f : (float)v * scale;
    int32_t l = (int32_t)*pos, u = l;
    if ((float)l > *pos) l--;
    if ((float)u < *pos) u++;
    *lo = l > 0 ? l : 0;
    *hi = u < size - 1 ? u : size - 1;
}

pexc_status pexc_resize_bilinear_f32(const pexc_resize_params *p, const void *const *in, void *out) {
    if (!resize_ok(p, in, out)) return PEXC_ERR_ARG;
    const float *x = in[0];
    float *y = out;
    const size_t C = (size_t)p->c, W = (size_t)p->w;
    for (int32_t n = 0; n < p->n; n++) {
        const float *img = x + (size_t)n * (size_t)p->h * W * C;
        for (int32_t oy = 0; oy < p->out_h; oy++) {
            float py;
            int32_t y0, y1;
            src_f32(oy, p->scale_yf, p->half_pixel, p->h, &py, &y0, &y1);
            for (int32_t ox = 0; ox < p->out_w; ox++) {
                float px;
                int32_t x0, x1;
                src_f32(ox, p->scale_xf, p->half_pixel, p->w, &px, &x0, &x1);
                const float *a = img + ((size_t)y0 * W + (size_t)x0) * C, *b = img + ((size_t)y1 * W + (size_t)x0) * C;
                const float *c = img + ((size_t)y0 * W + (size_t)x1) * C, *d = img + ((size_t)y1 * W + (size_t)x1) * C;
                const float dy = py - (float)y0, dx = px - (float)x0;
                for (size_t ch = 0; ch < C; ch++) {
                    /* the reference's expression, evaluated left to right;
                     * its rounding offset for floats is + 0.0f */
                    float v = a[ch] * (1 - dy) * (1 - dx) + b[ch] * dy * (1 - dx) + c[ch] * (1 - dy) * dx +
                              d[ch] * dy * dx + 0.0f;
                    *y++ = v;
                }
            }
        }
    }
    return PEXC_OK;
}
