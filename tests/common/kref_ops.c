/* Helpers for the non-convolution kernel tests; see kref_ops.h. */
#include "kref_ops.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t kref_ops_u32(kref_ops_rng *r) {
    uint64_t z = (r->s += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return (uint32_t)((z ^ (z >> 31)) >> 32);
}

int32_t kref_ops_range(kref_ops_rng *r, int32_t lo, int32_t hi) {
    uint32_t span = (uint32_t)(hi - lo) + 1u;
    return lo + (int32_t)(kref_ops_u32(r) % span);
}

double kref_ops_logu(kref_ops_rng *r, double lo, double hi) {
    double u = (double)kref_ops_u32(r) / 4294967296.0;
    return exp(log(lo) + u * (log(hi) - log(lo)));
}

void kref_ops_fill_s8(kref_ops_rng *r, int8_t *p, size_t n) {
    for (size_t i = 0; i < n; i++) p[i] = (int8_t)kref_ops_range(r, -128, 127);
}

pexc_view kref_ops_view_new(int32_t n, int32_t h, int32_t w, int32_t c,
                            int32_t c_begin, int32_t c_stored,
                            int32_t ring_px, size_t elem) {
    pexc_view v = {NULL, n, h, w, c, c_begin, c_stored, ring_px};
    size_t bytes = kref_ops_view_bytes(&v, elem);
    v.data = malloc(bytes ? bytes : 1);
    if (!v.data) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    memset(v.data, 0x5A, bytes);
    return v;
}

void kref_ops_view_free(pexc_view *v) {
    free(v->data);
    v->data = NULL;
}

size_t kref_ops_view_bytes(const pexc_view *v, size_t elem) {
    size_t px = v->ring_px ? (size_t)v->ring_px : (size_t)v->h * (size_t)v->w;
    return (size_t)v->n * px * (size_t)v->c_stored * elem;
}

static size_t dense_index(const pexc_view *v, int32_t n, int32_t y, int32_t x, int32_t ch) {
    return (((size_t)n * (size_t)v->h + (size_t)y) * (size_t)v->w + (size_t)x) * (size_t)v->c +
           (size_t)ch;
}

void kref_ops_view_put(pexc_view *v, const void *dense, size_t elem, int32_t y0,
                       int32_t y1) {
    kref_ops_view_put_px(v, dense, elem, (int64_t)y0 * v->w, (int64_t)y1 * v->w);
}

void kref_ops_view_get(const pexc_view *v, void *dense, size_t elem, int32_t y0,
                       int32_t y1, int32_t c0, int32_t c1) {
    kref_ops_view_get_px(v, dense, elem, (int64_t)y0 * v->w, (int64_t)y1 * v->w, c0, c1);
}

void kref_ops_view_put_px(pexc_view *v, const void *dense, size_t elem, int64_t q0,
                          int64_t q1) {
    for (int32_t n = 0; n < v->n; n++)
        for (int64_t q = q0; q < q1; q++) {
            int32_t y = (int32_t)(q / v->w), x = (int32_t)(q % v->w);
            for (int32_t ch = v->c_begin; ch < v->c_begin + v->c_stored && ch < v->c; ch++)
                memcpy((char *)v->data + pexc_view_index(v, n, y, x, ch) * elem,
                       (const char *)dense + dense_index(v, n, y, x, ch) * elem, elem);
        }
}

void kref_ops_view_get_px(const pexc_view *v, void *dense, size_t elem, int64_t q0,
                          int64_t q1, int32_t c0, int32_t c1) {
    for (int32_t n = 0; n < v->n; n++)
        for (int64_t q = q0; q < q1; q++) {
            int32_t y = (int32_t)(q / v->w), x = (int32_t)(q % v->w);
            for (int32_t ch = c0; ch < c1; ch++)
                memcpy((char *)dense + dense_index(v, n, y, x, ch) * elem,
                       (const char *)v->data + pexc_view_index(v, n, y, x, ch) * elem, elem);
        }
}

/* ---- pixel tiles and streaming ---- */

pexc_tile kref_ops_px_tile(int32_t w, int64_t q0, int64_t q1, int32_t c0, int32_t c1) {
    pexc_tile t;
    t.y0 = (int32_t)(q0 / w);
    t.x0 = (int32_t)(q0 % w);
    t.y1 = (int32_t)((q1 - 1) / w + 1);
    t.x1 = (int32_t)(q1 % w);
    t.c0 = c0;
    t.c1 = c1;
    return t;
}

int32_t kref_ops_cuts(kref_ops_rng *r, int32_t total, int32_t *b) {
    int32_t k = 0;
    b[0] = 0;
    while (b[k] < total) {
        int32_t step = k < 64 && kref_ops_range(r, 0, 4) == 0 ? 0 : kref_ops_range(r, 1, total - b[k]);
        if (step > 3 && kref_ops_range(r, 0, 1)) step = kref_ops_range(r, 1, 3);
        b[k + 1] = b[k] + step;
        k++;
    }
    return k;
}


void kref_ops_window_reads(const kref_ops_window *g, int32_t in_h, int32_t in_w,
                           int32_t out_w, const pexc_tile *t, int64_t *lo, int64_t *hi) {
    *lo = INT64_MAX;
    *hi = -1;
    for (int32_t oy = t->y0; oy < t->y1; oy++) {
        int32_t xb = oy == t->y0 ? t->x0 : 0, xe = oy == t->y1 - 1 && t->x1 ? t->x1 : out_w;
        for (int32_t ox = xb; ox < xe; ox++)
            for (int32_t ky = 0; ky < g->kh; ky++)
                for (int32_t kx = 0; kx < g->kw; kx++) {
                    int32_t iy = oy * g->sh - g->pt + ky * g->dh;
                    int32_t ix = ox * g->sw - g->pl + kx * g->dw;
                    if (iy < 0 || iy >= in_h || ix < 0 || ix >= in_w) continue;
                    int64_t q = (int64_t)iy * in_w + ix;
                    if (q < *lo) *lo = q;
                    if (q > *hi) *hi = q;
                }
    }
}

int32_t kref_ops_ring_needed(const kref_ops_window *g, int32_t in_h, int32_t in_w,
                             int32_t out_w, const pexc_tile *t) {
    char dummy = 0;
    pexc_view v = {&dummy, 1, in_h, in_w, 1, 0, 1, 1};
    int32_t span_h = (g->kh - 1) * g->dh + 1, span_w = (g->kw - 1) * g->dw + 1;
    /* acceptance grows with the ring: binary search for the first accepted */
    int32_t a = 1, b = in_h * in_w;
    v.ring_px = b;
    if (!pexc_window_fits(&v, g->sh, g->sw, g->pt, g->pl, span_h, span_w, out_w, t)) return b + 1;
    while (a < b) {
        int32_t m = a + (b - a) / 2;
        v.ring_px = m;
        if (pexc_window_fits(&v, g->sh, g->sw, g->pt, g->pl, span_h, span_w, out_w, t))
            b = m;
        else
            a = m + 1;
    }
    return a;
}

int32_t kref_ops_pick_chunk(kref_ops_rng *r, int32_t ow) {
    switch (kref_ops_range(r, 0, 5)) {
    case 0: return 1;
    case 1: return 3;
    case 2: return ow / 2 + 1;
    case 3: return ow + 1;
    case 4: return 2 * ow - 1 > 0 ? 2 * ow - 1 : 1;
    default: return 0;
    }
}

#define KREF_MAX_SRC 4

int kref_ops_stream(kref_ops_rng *r, const char *test, const char *desc,
                    const kref_ops_src *src, int32_t nin, int32_t on, int32_t oh, int32_t ow,
                    int32_t oc, size_t oelem, const void *want, const kref_ops_stream_cfg *cfg,
                    kref_ops_tile_fn fn, void *ctx) {
    const int64_t npx = (int64_t)oh * ow;
    int32_t max_chunk = cfg->chunk ? cfg->chunk : (cfg->max_chunk > 0 ? cfg->max_chunk : 1);
    char d[600];
    snprintf(d, sizeof d, "%s; tiles of %d px%s, %s in, %s out", desc, (int)cfg->chunk,
             cfg->chunk ? "" : " (random)", cfg->ring_in ? "ring" : "dense",
             cfg->ring_out ? "ring" : "dense");
    /* Tile boundaries, fixed up front so ring sizes can be worked out. */
    int64_t *qb = malloc(sizeof(int64_t) * (size_t)(npx + 1));
    int32_t nt = 0;
    qb[0] = 0;
    while (qb[nt] < npx) {
        int64_t len = cfg->chunk ? cfg->chunk : kref_ops_range(r, 1, max_chunk);
        qb[nt + 1] = qb[nt] + len < npx ? qb[nt] + len : npx;
        nt++;
    }
    int fail = 0;
    /* Operand rings: the largest span any tile needs, given that the
     * producer has written up to the furthest pixel read so far. */
    int32_t ring[KREF_MAX_SRC] = {0};
    int32_t small_tile[KREF_MAX_SRC], small_need[KREF_MAX_SRC];
    for (int32_t k = 0; k < nin && !fail; k++) {
        small_tile[k] = -1;
        small_need[k] = 0;
        if (!cfg->ring_in) continue;
        const kref_ops_src *s = &src[k];
        int64_t prod = 0;
        int32_t seen = 0;
        for (int32_t i = 0; i < nt && !fail; i++) {
            pexc_tile t = kref_ops_px_tile(ow, qb[i], qb[i + 1], cfg->c0, cfg->c1);
            int64_t lo, hi;
            kref_ops_window_reads(&s->win, s->h, s->w, ow, &t, &lo, &hi);
            int32_t chk = kref_ops_ring_needed(&s->win, s->h, s->w, ow, &t), need = chk;
            if (hi >= lo && chk < hi - lo + 1)
                fail = kref_ops_fail(test, "%s: operand %d tile px [%ld,%ld) reads input px "
                                     "[%ld,%ld] but the check accepts a ring of %d",
                                     d, (int)k, (long)qb[i], (long)qb[i + 1],
                                     (long)lo, (long)hi, (int)chk);
            if (hi >= lo && hi + 1 > prod) prod = hi + 1;
            if (hi >= lo && prod - lo > need) need = (int32_t)(prod - lo);
            if (need > ring[k]) ring[k] = need;
            /* a tile whose check must refuse a smaller ring (reservoir pick) */
            if (hi >= lo && chk >= 2 && kref_ops_range(r, 0, seen++) == 0) {
                small_tile[k] = i;
                small_need[k] = chk;
            }
        }
        ring[k] += kref_ops_range(r, 0, 1) ? 0 : kref_ops_range(r, 1, 2);
        if (ring[k] < 1) ring[k] = 1;
    }
    int32_t ring_out = 0;
    if (cfg->ring_out) {
        for (int32_t i = 0; i < nt; i++)
            if (qb[i + 1] - qb[i] > ring_out) ring_out = (int32_t)(qb[i + 1] - qb[i]);
        ring_out += kref_ops_range(r, 0, 1) ? 0 : kref_ops_range(r, 1, 2);
    }
    pexc_view in[KREF_MAX_SRC];
    int64_t produced[KREF_MAX_SRC];
    for (int32_t k = 0; k < nin; k++) {
        const kref_ops_src *s = &src[k];
        in[k] = kref_ops_view_new(s->n, s->h, s->w, s->c, 0, s->c, ring[k], s->elem);
        produced[k] = 0;
        if (!cfg->ring_in) {
            kref_ops_view_put(&in[k], s->dense, s->elem, 0, s->h);
            produced[k] = (int64_t)s->h * s->w;
        }
    }
    pexc_view out = kref_ops_view_new(on, oh, ow, oc, 0, oc, ring_out, oelem);
    size_t obytes = kref_ops_view_bytes(&out, oelem), total = (size_t)on * (size_t)npx * (size_t)oc * oelem;
    for (size_t i = 0; i < obytes; i++) ((unsigned char *)out.data)[i] = (unsigned char)kref_ops_u32(r);
    unsigned char *before = malloc(obytes + 1), *got = malloc(total + 1);
    memcpy(got, want, total);
    for (int32_t i = 0; i < nt && !fail; i++) {
        pexc_tile t = kref_ops_px_tile(ow, qb[i], qb[i + 1], cfg->c0, cfg->c1);
        /* produce every operand up to the last pixel this tile reads */
        for (int32_t k = 0; k < nin && cfg->ring_in; k++) {
            int64_t lo, hi;
            kref_ops_window_reads(&src[k].win, src[k].h, src[k].w, ow, &t, &lo, &hi);
            if (hi >= lo && hi + 1 > produced[k]) {
                kref_ops_view_put_px(&in[k], src[k].dense, src[k].elem, produced[k], hi + 1);
                produced[k] = hi + 1;
            }
        }
        memcpy(before, out.data, obytes);
        pexc_status st = fn(ctx, in, &t, &out);
        if (st != PEXC_OK) {
            fail = kref_ops_fail(test, "%s: tile px [%ld,%ld) (rows [%d,%d) x0 %d x1 %d) status %d",
                                 d, (long)qb[i], (long)qb[i + 1], t.y0, t.y1, t.x0, t.x1,
                                 (int)st);
            break;
        }
        /* nothing outside the tile changed: put the tile's elements back */
        for (int32_t n = 0; n < on; n++)
            for (int64_t q = qb[i]; q < qb[i + 1]; q++)
                for (int32_t ch = t.c0; ch < t.c1; ch++) {
                    size_t e = pexc_view_index(&out, n, (int32_t)(q / ow), (int32_t)(q % ow), ch) * oelem;
                    memcpy(before + e, (unsigned char *)out.data + e, oelem);
                }
        if (memcmp(before, out.data, obytes) != 0) {
            fail = kref_ops_fail(test, "%s: tile px [%ld,%ld) wrote outside its pixels", d,
                                 (long)qb[i], (long)qb[i + 1]);
            break;
        }
        kref_ops_view_get_px(&out, got, oelem, qb[i], qb[i + 1], t.c0, t.c1);
    }
    if (!fail) fail = kref_ops_cmp_s8(test, d, (const int8_t *)want, (const int8_t *)got, total);
    /* an operand ring one pixel short of a tile's need is refused */
    for (int32_t k = 0; k < nin && !fail && cfg->ring_in; k++) {
        if (small_tile[k] < 0) continue;
        int32_t i = small_tile[k];
        pexc_tile t = kref_ops_px_tile(ow, qb[i], qb[i + 1], cfg->c0, cfg->c1);
        pexc_view saved = in[k];
        in[k] = kref_ops_view_new(src[k].n, src[k].h, src[k].w, src[k].c, 0, src[k].c,
                                  small_need[k] - 1, src[k].elem);
        pexc_status st = fn(ctx, in, &t, &out);
        kref_ops_view_free(&in[k]);
        in[k] = saved;
        if (st != PEXC_ERR_ARG)
            fail = kref_ops_fail(test, "%s: operand %d ring of %d px (tile needs %d) for tile px "
                                 "[%ld,%ld): status %d, want PEXC_ERR_ARG", d, (int)k,
                                 small_need[k] - 1, small_need[k], (long)qb[i],
                                 (long)qb[i + 1], (int)st);
    }
    for (int32_t k = 0; k < nin; k++) kref_ops_view_free(&in[k]);
    kref_ops_view_free(&out);
    free(before);
    free(got);
    free(qb);
    return fail;
}

/* Doubling high multiply: a * b / 2^31 rounded to nearest, saturated (the
 * only overflow is INT32_MIN * INT32_MIN). gemmlowp's nudge makes ties round
 * up for positive products and toward zero for negative ones, i.e. every tie
 * goes toward +infinity. */
int32_t kref_ops_srdhm(int32_t a, int32_t b) {
    int64_t p = (int64_t)a * (int64_t)b;
    if (p == (int64_t)INT32_MIN * (int64_t)INT32_MIN) return INT32_MAX;
    int64_t q = p / (INT64_C(1) << 31);   /* toward zero */
    int64_t rem = p % (INT64_C(1) << 31);
    if (rem >= (INT64_C(1) << 30)) q++;
    if (rem < -(INT64_C(1) << 30)) q--;
    return (int32_t)q;
}

/* x / 2^e rounded to nearest, ties away from zero. */
int32_t kref_ops_rdivpot(int32_t x, int32_t e) {
    if (e == 0) return x;
    int64_t d = INT64_C(1) << e;
    int64_t ax = x < 0 ? -(int64_t)x : (int64_t)x;
    int64_t q = (ax + d / 2) / d;
    return (int32_t)(x < 0 ? -q : q);
}

int32_t kref_ops_requant(int32_t x, int32_t mult, int32_t shift) {
    int32_t left = shift > 0 ? shift : 0;
    int64_t xl = (int64_t)x * (INT64_C(1) << left);
    int32_t xs = (int32_t)(uint32_t)(uint64_t)xl; /* TFLite wraps in int32 */
    return kref_ops_rdivpot(kref_ops_srdhm(xs, mult), shift > 0 ? 0 : -shift);
}

int kref_ops_cmp_s8(const char *test, const char *params, const int8_t *want,
                    const int8_t *got, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (want[i] != got[i]) {
            printf("FAIL %s [%s]: first mismatch at index %lu: want %d got %d\n", test,
                   params, (unsigned long)i, want[i], got[i]);
            return 1;
        }
    return 0;
}

int kref_ops_fail(const char *test, const char *fmt, ...) {
    va_list ap;
    printf("FAIL %s: ", test);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    return 1;
}
