/*
 * AVERAGE_POOL_2D / MAX_POOL_2D int8 against nested-loop references on
 * random shapes, strides, filters, paddings and activation clamps; then the
 * same outputs recomputed in random row x channel tiles through channel-slice
 * and ring-buffer views must be byte-identical.
 *
 * Pixel streaming: the outputs computed in runs of pixels that cross row
 * ends, whole or through pixel rings whose rows wrap mid-row
 * (kref_ops_stream).
 *
 * The partial-sum average pool (pexc_avg_pool_s8_acc + _finish) must give
 * pexc_avg_pool_s8's bytes for every split of the input pixels (raster
 * order): one row at a time, one pixel at a time, uneven random ranges (some
 * empty, most crossing row ends), all at once; input pieces that hold only
 * their pixels (junk elsewhere) or share one pixel ring filled as a producer
 * would; output tiles of whole rows or runs of pixels.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kref_ops.h"

static int8_t ref_pool(int avg, const pexc_pool_params *p, int32_t h, int32_t w,
                       int32_t c, const int8_t *in, int32_t n, int32_t oy,
                       int32_t ox, int32_t ch, int *empty) {
    int32_t sum = 0, count = 0, mx = -128;
    for (int32_t fy = 0; fy < p->filter_h; fy++)
        for (int32_t fx = 0; fx < p->filter_w; fx++) {
            int32_t iy = oy * p->stride_h - p->pad_top + fy;
            int32_t ix = ox * p->stride_w - p->pad_left + fx;
            if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
            int32_t v = in[((n * h + iy) * w + ix) * c + ch];
            sum += v;
            count++;
            if (v > mx) mx = v;
        }
    *empty = count == 0;
    int32_t r = mx;
    if (avg && count) {
        /* round half away from zero, written out */
        int32_t q = (sum < 0 ? -sum : sum) * 2 + count;
        q /= 2 * count;
        r = sum < 0 ? -q : q;
    }
    if (r < p->act_min) r = p->act_min;
    if (r > p->act_max) r = p->act_max;
    return (int8_t)r;
}

typedef pexc_status (*pool_fn)(const pexc_pool_params *, const pexc_view *,
                               const pexc_tile *, pexc_view *);

typedef struct {
    pool_fn fn;
    pexc_pool_params p;
} pool_ctx;

static pexc_status pool_tile(void *vctx, const pexc_view *in, const pexc_tile *t, pexc_view *out) {
    const pool_ctx *ctx = vctx;
    return ctx->fn(&ctx->p, &in[0], t, out);
}

static int run_case(kref_ops_rng *r, int avg, int idx) {
    const char *name = avg ? "avg_pool" : "max_pool";
    pool_fn fn = avg ? pexc_avg_pool_s8 : pexc_max_pool_s8;
    pexc_pool_params p = {0};
    int32_t n = kref_ops_range(r, 1, 2), h = kref_ops_range(r, 1, 13);
    int32_t w = kref_ops_range(r, 1, 13), c = kref_ops_range(r, 1, 12);
    p.filter_h = kref_ops_range(r, 1, 5);
    p.filter_w = kref_ops_range(r, 1, 5);
    p.stride_h = kref_ops_range(r, 1, 3);
    p.stride_w = kref_ops_range(r, 1, 3);
    p.pad_top = kref_ops_range(r, 0, p.filter_h - 1);
    p.pad_left = kref_ops_range(r, 0, p.filter_w - 1);
    p.act_min = kref_ops_range(r, 0, 3) ? -128 : kref_ops_range(r, -128, 0);
    p.act_max = kref_ops_range(r, 0, 3) ? 127 : kref_ops_range(r, p.act_min, 127);
    /* every window must overlap the input (TFLite errors otherwise) */
    int32_t oh = kref_ops_range(r, 1, (h - 1 + p.pad_top) / p.stride_h + 1);
    int32_t ow = kref_ops_range(r, 1, (w - 1 + p.pad_left) / p.stride_w + 1);
    char desc[200];
    snprintf(desc, sizeof desc,
             "case %d in %dx%dx%dx%d out %dx%d f %dx%d s %dx%d pad %d,%d act [%d,%d]", idx, n,
             h, w, c, oh, ow, p.filter_h, p.filter_w, p.stride_h, p.stride_w, p.pad_top,
             p.pad_left, p.act_min, p.act_max);

    size_t in_n = (size_t)n * h * w * c, out_n = (size_t)n * oh * ow * c;
    int8_t *in = malloc(in_n), *want = malloc(out_n), *got = malloc(out_n);
    kref_ops_fill_s8(r, in, in_n);
    for (int32_t b = 0; b < n; b++)
        for (int32_t oy = 0; oy < oh; oy++)
            for (int32_t ox = 0; ox < ow; ox++)
                for (int32_t ch = 0; ch < c; ch++) {
                    int empty;
                    want[((b * oh + oy) * ow + ox) * c + ch] =
                        ref_pool(avg, &p, h, w, c, in, b, oy, ox, ch, &empty);
                }
    int fail = 0;
    /* whole tensor, dense views */
    pexc_view vi = kref_ops_view_new(n, h, w, c, 0, c, 0, 1);
    pexc_view vo = kref_ops_view_new(n, oh, ow, c, 0, c, 0, 1);
    kref_ops_view_put(&vi, in, 1, 0, h);
    pexc_tile t = {0, oh, 0, c, 0, 0};
    pexc_status st = fn(&p, &vi, &t, &vo);
    if (st != PEXC_OK) fail = kref_ops_fail(name, "%s: status %d", desc, (int)st);
    kref_ops_view_get(&vo, got, 1, 0, oh, 0, c);
    if (!fail) fail = kref_ops_cmp_s8(name, desc, want, got, out_n);
    kref_ops_view_free(&vi);
    kref_ops_view_free(&vo);

    /* tiled: random row tiles x channel tiles, slice + ring views */
    memset(got, 0, out_n);
    for (int32_t y0 = 0; y0 < oh && !fail;) {
        int32_t y1 = y0 + kref_ops_range(r, 1, oh - y0);
        for (int32_t c0 = 0; c0 < c && !fail;) {
            int32_t c1 = c0 + kref_ops_range(r, 1, c - c0);
            int32_t iy0 = y0 * p.stride_h - p.pad_top;
            int32_t iy1 = (y1 - 1) * p.stride_h - p.pad_top + p.filter_h;
            if (iy0 < 0) iy0 = 0;
            if (iy1 > h) iy1 = h;
            /* rings of whole rows: ring_px = rows * width */
            int32_t ring_in = kref_ops_range(r, 0, 1) ? (iy1 - iy0 + kref_ops_range(r, 0, 2)) * w : 0;
            int32_t ring_out = kref_ops_range(r, 0, 1) ? (y1 - y0 + kref_ops_range(r, 0, 2)) * ow : 0;
            int32_t cb = kref_ops_range(r, 0, c0), ce = kref_ops_range(r, c1, c);
            pexc_view ti = kref_ops_view_new(n, h, w, c, cb, ce - cb, ring_in, 1);
            pexc_view to = kref_ops_view_new(n, oh, ow, c, c0, c1 - c0, ring_out, 1);
            kref_ops_view_put(&ti, in, 1, iy0, iy1);
            pexc_tile tt = {y0, y1, c0, c1, 0, 0};
            st = fn(&p, &ti, &tt, &to);
            if (st != PEXC_OK)
                fail = kref_ops_fail(name, "%s: tile status %d", desc, (int)st);
            kref_ops_view_get(&to, got, 1, y0, y1, c0, c1);
            kref_ops_view_free(&ti);
            kref_ops_view_free(&to);
            c0 = c1;
        }
        y0 = y1;
    }
    if (!fail) {
        char d2[260];
        snprintf(d2, sizeof d2, "%s (tiled)", desc);
        fail = kref_ops_cmp_s8(name, d2, want, got, out_n);
    }
    /* pixel streaming: whole views, then input and output in pixel rings */
    pool_ctx ctx = {fn, p};
    kref_ops_src src = {in, n, h, w, c, 1,
                        {p.stride_h, p.stride_w, 1, 1, p.filter_h, p.filter_w, p.pad_top, p.pad_left}};
    for (int pass = 0; pass < 2 && !fail; pass++) {
        kref_ops_stream_cfg cfg = {kref_ops_pick_chunk(r, ow), 2 * ow + 1, pass,
                                   pass && kref_ops_range(r, 0, 3) != 0, 0, c};
        if (kref_ops_range(r, 0, 2) == 0) {
            cfg.c0 = kref_ops_range(r, 0, c - 1);
            cfg.c1 = kref_ops_range(r, cfg.c0 + 1, c);
        }
        fail = kref_ops_stream(r, name, desc, &src, 1, n, oh, ow, c, 1, want, &cfg, pool_tile, &ctx);
    }
    free(in);
    free(want);
    free(got);
    return fail;
}

/* ---- partial-sum average pool ---- */

enum { SPLIT_ROWS, SPLIT_PIXELS, SPLIT_RANDOM, SPLIT_WHOLE, SPLIT_KINDS };

/* Random cut points 0 = b[0] <= b[1] <= ... <= b[k] = total (pieces may be
 * empty); returns k. */
/* Runs the partial-sum pool on in (dense [n, h, w, c]) with the given split
 * of the input pixels and compares the finished tile of the output against
 * pexc_avg_pool_s8's whole output want. ring: one pixel-ring input view for
 * all pieces, filled piece by piece as a producer would (else a fresh
 * junk-filled view per piece holding only that piece's pixels). */
static int acc_run(kref_ops_rng *r, const char *desc, const pexc_pool_params *p, int32_t n,
                   int32_t h, int32_t w, int32_t c, int32_t oh, int32_t ow, const int8_t *in,
                   const int8_t *want, int split, int ring) {
    static const char *split_name[SPLIT_KINDS] = {"rows", "pixels", "random", "whole"};
    char d2[300];
    snprintf(d2, sizeof d2, "%s split %s%s", desc, split_name[split], ring ? " ring" : "");
    static int32_t b[4096];
    int32_t k, npx = h * w;
    if (split == SPLIT_ROWS) {
        for (k = 0; k <= h; k++) b[k] = k * w;
        k = h;
    } else if (split == SPLIT_PIXELS) {
        for (k = 0; k <= npx; k++) b[k] = k;
        k = npx;
    } else if (split == SPLIT_RANDOM) {
        k = kref_ops_cuts(r, npx, b);
    } else {
        b[0] = 0;
        b[1] = npx;
        k = 1;
    }
    int32_t longest = 0;
    for (int32_t i = 0; i < k; i++)
        if (b[i + 1] - b[i] > longest) longest = b[i + 1] - b[i];

    /* Output tile: every pixel and channel, a random run of whole rows, or
     * a random run of pixels; acc and out store a channel slice around it. */
    pexc_tile t = {0, oh, 0, c, 0, 0};
    int shape = kref_ops_range(r, 0, 2);
    if (shape) {
        t.c0 = kref_ops_range(r, 0, c - 1);
        t.c1 = kref_ops_range(r, t.c0 + 1, c);
    }
    if (shape == 1) {
        t.y0 = kref_ops_range(r, 0, oh - 1);
        t.y1 = kref_ops_range(r, t.y0 + 1, oh);
    } else if (shape == 2) {
        int32_t q0 = kref_ops_range(r, 0, oh * ow - 1), q1 = kref_ops_range(r, q0 + 1, oh * ow);
        t = kref_ops_px_tile(ow, q0, q1, t.c0, t.c1);
    }
    int32_t cb = kref_ops_range(r, 0, t.c0), ce = kref_ops_range(r, t.c1, c);
    int32_t ring_in = ring ? longest + kref_ops_range(r, 0, 2) : 0;
    if (ring && ring_in < 1) ring_in = 1;
    /* the input view stores its own channel slice around the tile's */
    int32_t icb = kref_ops_range(r, 0, t.c0), ice = kref_ops_range(r, t.c1, c);
    pexc_view acc = kref_ops_view_new(n, oh, ow, c, cb, ce - cb, 0, p->acc16 ? 2 : 4);
    pexc_view out = kref_ops_view_new(n, oh, ow, c, cb, ce - cb, 0, 1);
    pexc_view rv = {0};
    if (ring) rv = kref_ops_view_new(n, h, w, c, icb, ice - icb, ring_in, 1);
    int fail = 0;
    for (int32_t i = 0; i < k && !fail; i++) {
        pexc_view piece = ring ? rv : kref_ops_view_new(n, h, w, c, icb, ice - icb, 0, 1);
        kref_ops_view_put_px(&piece, in, 1, b[i], b[i + 1]);
        pexc_status st = pexc_avg_pool_s8_acc(p, &piece, b[i], b[i + 1], i == 0, &t, &acc);
        if (st != PEXC_OK)
            fail = kref_ops_fail("avg_pool_acc", "%s: pixels [%d,%d) status %d", d2, b[i],
                                 b[i + 1], (int)st);
        if (!ring) kref_ops_view_free(&piece);
    }
    if (!fail) {
        pexc_status st = pexc_avg_pool_s8_finish(p, h, w, &acc, &t, &out);
        if (st != PEXC_OK) fail = kref_ops_fail("avg_pool_acc", "%s: finish status %d", d2, (int)st);
    }
    if (!fail) {
        size_t out_n = (size_t)n * oh * ow * c;
        int8_t *got = malloc(out_n);
        memcpy(got, want, out_n);
        /* the tile's pixels, read back; the output outside them must still
         * be the view's junk */
        int64_t q0 = (int64_t)t.y0 * ow + t.x0, q1 = (int64_t)(t.y1 - 1) * ow + (t.x1 ? t.x1 : ow);
        kref_ops_view_get_px(&out, got, 1, q0, q1, t.c0, t.c1);
        char d3[420];
        snprintf(d3, sizeof d3, "%s tile px [%ld,%ld) ch [%d,%d)", d2, (long)q0,
                 (long)q1, t.c0, t.c1);
        fail = kref_ops_cmp_s8("avg_pool_acc", d3, want, got, out_n);
        const int8_t *ob = out.data;
        for (int32_t bn = 0; bn < n && !fail; bn++)
            for (int64_t q = 0; q < (int64_t)oh * ow && !fail; q++)
                for (int32_t ch = cb; ch < ce && !fail; ch++)
                    if ((q < q0 || q >= q1 || ch < t.c0 || ch >= t.c1) &&
                        ob[pexc_view_index(&out, bn, (int32_t)(q / ow), (int32_t)(q % ow), ch)] != 0x5A)
                        fail = kref_ops_fail("avg_pool_acc", "%s: finish wrote px %ld ch %d outside the tile",
                                             d3, (long)q, ch);
        free(got);
    }
    kref_ops_view_free(&acc);
    kref_ops_view_free(&out);
    if (ring) kref_ops_view_free(&rv);
    return fail;
}

/* One pool geometry: random input, pexc_avg_pool_s8 as the reference (itself
 * checked against ref_pool above), then every split kind, dense and ring. */
static int acc_case(kref_ops_rng *r, const char *desc, const pexc_pool_params *p, int32_t n,
                    int32_t h, int32_t w, int32_t c, int32_t oh, int32_t ow) {
    size_t in_n = (size_t)n * h * w * c, out_n = (size_t)n * oh * ow * c;
    int8_t *in = malloc(in_n), *want = malloc(out_n);
    kref_ops_fill_s8(r, in, in_n);
    pexc_view vi = {in, n, h, w, c, 0, c, 0};
    pexc_view vo = {want, n, oh, ow, c, 0, c, 0};
    pexc_tile t = {0, oh, 0, c, 0, 0};
    int fail = 0;
    pexc_status st = pexc_avg_pool_s8(p, &vi, &t, &vo);
    if (st != PEXC_OK) fail = kref_ops_fail("avg_pool_acc", "%s: reference status %d", desc, (int)st);
    /* int32 partial sums, and int16 ones where every window fits them */
    pexc_pool_params q = *p;
    for (q.acc16 = 0; q.acc16 <= (p->filter_h * p->filter_w <= 256) && !fail; q.acc16++)
        for (int split = SPLIT_ROWS; split < SPLIT_KINDS && !fail; split++)
            for (int ring = 0; ring <= 1 && !fail; ring++)
                fail = acc_run(r, desc, &q, n, h, w, c, oh, ow, in, want, split, ring);
    free(in);
    free(want);
    return fail;
}

/* SAME-padding geometry of one axis (TFLite): output size and leading pad. */
static int32_t same_out(int32_t in, int32_t f, int32_t s, int32_t *pad) {
    int32_t out = (in + s - 1) / s;
    int32_t total = (out - 1) * s + f - in;
    *pad = total > 0 ? total / 2 : 0;
    return out;
}

static int acc_tests(kref_ops_rng *r, int *cases) {
    char desc[200];
    /* global 25x5 average over a 25x5x64 input (keyword-spotting style) */
    pexc_pool_params g = {1, 1, 25, 5, 0, 0, -128, 127, 0};
    if (acc_case(r, "global 25x5 on 1x25x5x64", &g, 1, 25, 5, 64, 1, 1)) return 1;
    (*cases)++;
    /* SAME-padded pools, strides 1 and 2, with a clamp on some */
    static const int32_t shapes[][7] = {
        /* h, w, c, f_h, f_w, stride, clamp */
        {7, 9, 5, 3, 3, 1, 0}, {8, 8, 3, 3, 3, 2, 0}, {9, 6, 4, 2, 2, 2, 1},
        {10, 7, 6, 5, 3, 2, 0}, {5, 5, 8, 4, 4, 1, 1}, {12, 3, 2, 3, 2, 2, 0},
    };
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        const int32_t *s = shapes[i];
        pexc_pool_params q = {s[5], s[5], s[3], s[4], 0, 0, -128, 127, 0};
        if (s[6]) {
            q.act_min = -20;
            q.act_max = 60;
        }
        int32_t oh = same_out(s[0], s[3], s[5], &q.pad_top);
        int32_t ow = same_out(s[1], s[4], s[5], &q.pad_left);
        snprintf(desc, sizeof desc, "SAME in 2x%dx%dx%d f %dx%d s %d pad %d,%d", s[0], s[1], s[2],
                 s[3], s[4], s[5], q.pad_top, q.pad_left);
        if (acc_case(r, desc, &q, 2, s[0], s[1], s[2], oh, ow)) return 1;
        (*cases)++;
    }
    /* random geometries as in run_case */
    for (int idx = 0; idx < 150; idx++) {
        pexc_pool_params q = {0};
        int32_t n = kref_ops_range(r, 1, 2), h = kref_ops_range(r, 1, 14);
        int32_t w = kref_ops_range(r, 1, 9), c = kref_ops_range(r, 1, 9);
        q.filter_h = kref_ops_range(r, 1, 6);
        q.filter_w = kref_ops_range(r, 1, 5);
        q.stride_h = kref_ops_range(r, 1, 3);
        q.stride_w = kref_ops_range(r, 1, 3);
        q.pad_top = kref_ops_range(r, 0, q.filter_h - 1);
        q.pad_left = kref_ops_range(r, 0, q.filter_w - 1);
        q.act_min = kref_ops_range(r, 0, 3) ? -128 : kref_ops_range(r, -128, 0);
        q.act_max = kref_ops_range(r, 0, 3) ? 127 : kref_ops_range(r, q.act_min, 127);
        int32_t oh = kref_ops_range(r, 1, (h - 1 + q.pad_top) / q.stride_h + 1);
        int32_t ow = kref_ops_range(r, 1, (w - 1 + q.pad_left) / q.stride_w + 1);
        snprintf(desc, sizeof desc,
                 "random %d in %dx%dx%dx%d out %dx%d f %dx%d s %dx%d pad %d,%d act [%d,%d]", idx,
                 n, h, w, c, oh, ow, q.filter_h, q.filter_w, q.stride_h, q.stride_w, q.pad_top,
                 q.pad_left, q.act_min, q.act_max);
        if (acc_case(r, desc, &q, n, h, w, c, oh, ow)) return 1;
        (*cases)++;
    }
    return 0;
}

/* int16 partial sums at their limits: 256 taps of -128 (-32768) and of
 * 127 (32512) average back to -128 and 127; a window of 257 taps is
 * refused. */
static int acc16_extremes(void) {
    static int8_t buf[16 * 16 * 2];
    int16_t abuf[2];
    int8_t obuf[2];
    pexc_view in = {buf, 1, 16, 16, 2, 0, 2, 0}, out = {obuf, 1, 1, 1, 2, 0, 2, 0};
    pexc_view acc = {abuf, 1, 1, 1, 2, 0, 2, 0};
    pexc_pool_params p = {16, 16, 16, 16, 0, 0, -128, 127, 1};
    pexc_tile t = {0, 1, 0, 2, 0, 0};
    const char *T = "avg_pool_acc int16";
    for (int v = -128; v <= 127; v += 255) {
        memset(buf, v, sizeof buf);
        for (int32_t q = 0; q < 256; q += 64) /* four pieces of four rows */
            if (pexc_avg_pool_s8_acc(&p, &in, q, q + 64, q == 0, &t, &acc) != PEXC_OK) return kref_ops_fail(T, "acc");
        if (abuf[0] != v * 256 || abuf[1] != v * 256) return kref_ops_fail(T, "sum %d, want %d", abuf[0], v * 256);
        if (pexc_avg_pool_s8_finish(&p, 16, 16, &acc, &t, &out) != PEXC_OK) return kref_ops_fail(T, "finish");
        if (obuf[0] != v || obuf[1] != v) return kref_ops_fail(T, "average %d, want %d", obuf[0], v);
    }
    p.filter_w = 17;
    if (pexc_avg_pool_s8_acc(&p, &in, 0, 64, 1, &t, &acc) != PEXC_ERR_ARG) return kref_ops_fail(T, "257 taps (acc)");
    if (pexc_avg_pool_s8_finish(&p, 16, 16, &acc, &t, &out) != PEXC_ERR_ARG) return kref_ops_fail(T, "257 taps");
    return 0;
}

static int acc_bad_args(void) {
    int8_t buf[64] = {0}, obuf[16] = {0};
    int32_t abuf[16] = {0};
    pexc_view in = {buf, 1, 4, 4, 4, 0, 4, 0}, out = {obuf, 1, 2, 2, 4, 0, 4, 0};
    pexc_view acc = {abuf, 1, 2, 2, 4, 0, 4, 0};
    pexc_pool_params p2 = {2, 2, 2, 2, 0, 0, -128, 127, 0}; /* 4x4 -> 2x2 */
    pexc_tile t = {0, 2, 0, 4, 0, 0};
    const char *T = "avg_pool_acc args";
    if (pexc_avg_pool_s8_acc(&p2, &in, 0, 16, 1, &t, &acc) != PEXC_OK) return kref_ops_fail(T, "valid acc");
    if (pexc_avg_pool_s8_finish(&p2, 4, 4, &acc, &t, &out) != PEXC_OK) return kref_ops_fail(T, "valid finish");
    /* NULLs */
    if (pexc_avg_pool_s8_acc(NULL, &in, 0, 16, 1, &t, &acc) != PEXC_ERR_ARG) return kref_ops_fail(T, "null p");
    if (pexc_avg_pool_s8_acc(&p2, NULL, 0, 16, 1, &t, &acc) != PEXC_ERR_ARG) return kref_ops_fail(T, "null in");
    if (pexc_avg_pool_s8_acc(&p2, &in, 0, 16, 1, NULL, &acc) != PEXC_ERR_ARG) return kref_ops_fail(T, "null t");
    if (pexc_avg_pool_s8_acc(&p2, &in, 0, 16, 1, &t, NULL) != PEXC_ERR_ARG) return kref_ops_fail(T, "null acc");
    if (pexc_avg_pool_s8_finish(NULL, 4, 4, &acc, &t, &out) != PEXC_ERR_ARG) return kref_ops_fail(T, "finish null p");
    if (pexc_avg_pool_s8_finish(&p2, 4, 4, NULL, &t, &out) != PEXC_ERR_ARG) return kref_ops_fail(T, "finish null acc");
    if (pexc_avg_pool_s8_finish(&p2, 4, 4, &acc, NULL, &out) != PEXC_ERR_ARG) return kref_ops_fail(T, "finish null t");
    if (pexc_avg_pool_s8_finish(&p2, 4, 4, &acc, &t, NULL) != PEXC_ERR_ARG) return kref_ops_fail(T, "finish null out");
    pexc_view nd = acc;
    nd.data = NULL;
    if (pexc_avg_pool_s8_acc(&p2, &in, 0, 16, 1, &t, &nd) != PEXC_ERR_ARG) return kref_ops_fail(T, "null acc data");
    /* parameters */
    pexc_pool_params bp = p2;
    bp.filter_w = 0;
    if (pexc_avg_pool_s8_acc(&bp, &in, 0, 16, 1, &t, &acc) != PEXC_ERR_ARG) return kref_ops_fail(T, "filter");
    bp = p2;
    bp.act_min = 10;
    bp.act_max = 5;
    if (pexc_avg_pool_s8_finish(&bp, 4, 4, &acc, &t, &out) != PEXC_ERR_ARG) return kref_ops_fail(T, "act range");
    /* input pixel range */
    if (pexc_avg_pool_s8_acc(&p2, &in, -1, 2, 1, &t, &acc) != PEXC_ERR_ARG) return kref_ops_fail(T, "q0 < 0");
    if (pexc_avg_pool_s8_acc(&p2, &in, 3, 2, 1, &t, &acc) != PEXC_ERR_ARG) return kref_ops_fail(T, "q0 > q1");
    if (pexc_avg_pool_s8_acc(&p2, &in, 2, 17, 1, &t, &acc) != PEXC_ERR_ARG) return kref_ops_fail(T, "q1 > h * w");
    if (pexc_avg_pool_s8_acc(&p2, &in, 16, 16, 1, &t, &acc) != PEXC_OK) return kref_ops_fail(T, "empty range at the end");
    pexc_view ring = {buf, 1, 4, 4, 4, 0, 4, 7};
    if (pexc_avg_pool_s8_acc(&p2, &ring, 2, 10, 1, &t, &acc) != PEXC_ERR_ARG) return kref_ops_fail(T, "ring too small");
    if (pexc_avg_pool_s8_acc(&p2, &ring, 3, 10, 1, &t, &acc) != PEXC_OK) return kref_ops_fail(T, "ring fits");
    /* pixel tiles of acc: (0,1), (1,0) */
    pexc_tile tp = {0, 2, 0, 4, 1, 1};
    if (pexc_avg_pool_s8_acc(&p2, &in, 0, 16, 1, &tp, &acc) != PEXC_OK) return kref_ops_fail(T, "pixel tile");
    if (pexc_avg_pool_s8_finish(&p2, 4, 4, &acc, &tp, &out) != PEXC_OK) return kref_ops_fail(T, "finish pixel tile");
    pexc_tile tx = {0, 1, 0, 4, 2, 0};
    if (pexc_avg_pool_s8_acc(&p2, &in, 0, 16, 1, &tx, &acc) != PEXC_ERR_ARG) return kref_ops_fail(T, "x0 == w");
    if (pexc_avg_pool_s8_finish(&p2, 4, 4, &acc, &tx, &out) != PEXC_ERR_ARG) return kref_ops_fail(T, "finish x0 == w");
    pexc_tile tn = {1, 2, 0, 4, 1, 1};
    if (pexc_avg_pool_s8_acc(&p2, &in, 0, 16, 1, &tn, &acc) != PEXC_ERR_ARG) return kref_ops_fail(T, "no pixels");
    pexc_view aring = {abuf, 1, 2, 2, 4, 0, 4, 1};
    if (pexc_avg_pool_s8_acc(&p2, &in, 0, 16, 1, &tp, &aring) != PEXC_ERR_ARG) return kref_ops_fail(T, "2 pixels in an acc ring of 1");
    /* tiles out of range */
    pexc_tile br = {0, 3, 0, 4, 0, 0}, bc = {0, 2, 1, 5, 0, 0}, bneg = {-1, 1, 0, 4, 0, 0};
    if (pexc_avg_pool_s8_acc(&p2, &in, 0, 16, 1, &br, &acc) != PEXC_ERR_ARG) return kref_ops_fail(T, "tile rows");
    if (pexc_avg_pool_s8_acc(&p2, &in, 0, 16, 1, &bc, &acc) != PEXC_ERR_ARG) return kref_ops_fail(T, "tile chans");
    if (pexc_avg_pool_s8_acc(&p2, &in, 0, 16, 1, &bneg, &acc) != PEXC_ERR_ARG) return kref_ops_fail(T, "tile y0 < 0");
    if (pexc_avg_pool_s8_finish(&p2, 4, 4, &acc, &br, &out) != PEXC_ERR_ARG) return kref_ops_fail(T, "finish tile rows");
    if (pexc_avg_pool_s8_finish(&p2, 4, 4, &acc, &bc, &out) != PEXC_ERR_ARG) return kref_ops_fail(T, "finish tile chans");
    /* channels not stored / shapes that disagree */
    pexc_view sl = {buf, 1, 4, 4, 4, 1, 2, 0};
    if (pexc_avg_pool_s8_acc(&p2, &sl, 0, 16, 1, &t, &acc) != PEXC_ERR_ARG) return kref_ops_fail(T, "in slice");
    pexc_view asl = {abuf, 1, 2, 2, 4, 0, 2, 0};
    if (pexc_avg_pool_s8_acc(&p2, &in, 0, 16, 1, &t, &asl) != PEXC_ERR_ARG) return kref_ops_fail(T, "acc slice");
    pexc_view in5 = {buf, 1, 4, 2, 8, 0, 4, 0}; /* 8 channels, acc has 4 */
    if (pexc_avg_pool_s8_acc(&p2, &in5, 0, 8, 1, &t, &acc) != PEXC_ERR_ARG) return kref_ops_fail(T, "channel count");
    pexc_view out3 = {obuf, 1, 3, 2, 4, 0, 4, 0};
    if (pexc_avg_pool_s8_finish(&p2, 4, 4, &acc, &t, &out3) != PEXC_ERR_ARG) return kref_ops_fail(T, "acc/out shape");
    if (pexc_avg_pool_s8_finish(&p2, 0, 4, &acc, &t, &out) != PEXC_ERR_ARG) return kref_ops_fail(T, "in_h 0");
    /* count 0: a window entirely in the padding (rows, then columns); the
     * output must be left untouched */
    memset(obuf, 0x33, sizeof obuf);
    pexc_pool_params pt = {2, 2, 1, 1, 1, 0, -128, 127, 0}; /* oy 0 reads row -1 */
    if (pexc_avg_pool_s8_finish(&pt, 4, 4, &acc, &t, &out) != PEXC_ERR_ARG) return kref_ops_fail(T, "count 0 (rows)");
    pexc_pool_params pl = {2, 2, 1, 1, 0, 1, -128, 127, 0}; /* ox 0 reads column -1 */
    if (pexc_avg_pool_s8_finish(&pl, 4, 4, &acc, &t, &out) != PEXC_ERR_ARG) return kref_ops_fail(T, "count 0 (cols)");
    pexc_pool_params pb = {1, 1, 2, 2, 0, 0, -128, 127, 0}; /* stride 1: ox 1 is column 1 of a 1-wide input */
    if (pexc_avg_pool_s8_finish(&pb, 4, 1, &acc, &t, &out) != PEXC_ERR_ARG) return kref_ops_fail(T, "count 0 (beyond input)");
    for (size_t i = 0; i < sizeof obuf; i++)
        if (obuf[i] != 0x33) return kref_ops_fail(T, "count 0: output written before the error");
    /* a tile that avoids the empty row is fine */
    pexc_tile t1 = {1, 2, 0, 4, 0, 0};
    if (pexc_avg_pool_s8_finish(&pt, 4, 4, &acc, &t1, &out) != PEXC_OK) return kref_ops_fail(T, "non-empty tile");
    return 0;
}

static int bad_args(void) {
    int8_t buf[64] = {0}, obuf[64] = {0};
    pexc_pool_params p = {1, 1, 2, 2, 0, 0, -128, 127, 0};
    pexc_view in = {buf, 1, 4, 4, 4, 0, 4, 0}, out = {obuf, 1, 3, 3, 4, 0, 4, 0};
    pexc_tile t = {0, 3, 0, 4, 0, 0};
    if (pexc_avg_pool_s8(&p, &in, &t, &out) != PEXC_OK) return kref_ops_fail("args", "valid call");
    pexc_tile bt = {0, 4, 0, 4, 0, 0};
    if (pexc_avg_pool_s8(&p, &in, &bt, &out) != PEXC_ERR_ARG) return kref_ops_fail("args", "rows");
    pexc_tile bc = {0, 3, 2, 5, 0, 0};
    if (pexc_max_pool_s8(&p, &in, &bc, &out) != PEXC_ERR_ARG) return kref_ops_fail("args", "chans");
    pexc_pool_params bp = p;
    bp.stride_h = 0;
    if (pexc_max_pool_s8(&bp, &in, &t, &out) != PEXC_ERR_ARG) return kref_ops_fail("args", "stride");
    pexc_view sl = {buf, 1, 4, 4, 4, 1, 2, 0};
    if (pexc_avg_pool_s8(&p, &sl, &t, &out) != PEXC_ERR_ARG) return kref_ops_fail("args", "slice");
    if (pexc_avg_pool_s8(NULL, &in, &t, &out) != PEXC_ERR_ARG) return kref_ops_fail("args", "null");
    /* pixel tiles: 2x2 stride 1 on 4x4 -> 3x3; (0,2), (1,0) read input
     * (0,2)..(2,1): raster 2..9 */
    pexc_tile tp = {0, 2, 0, 4, 2, 1};
    pexc_view ring = in;
    ring.ring_px = 8;
    if (pexc_max_pool_s8(&p, &ring, &tp, &out) != PEXC_OK) return kref_ops_fail("args", "ring holds the window");
    if (pexc_avg_pool_s8(&p, &ring, &tp, &out) != PEXC_OK) return kref_ops_fail("args", "avg: ring holds the window");
    ring.ring_px = 7;
    if (pexc_max_pool_s8(&p, &ring, &tp, &out) != PEXC_ERR_ARG) return kref_ops_fail("args", "ring a pixel short");
    if (pexc_avg_pool_s8(&p, &ring, &tp, &out) != PEXC_ERR_ARG) return kref_ops_fail("args", "avg: ring a pixel short");
    pexc_tile tx = {0, 2, 0, 4, 3, 1};
    if (pexc_max_pool_s8(&p, &in, &tx, &out) != PEXC_ERR_ARG) return kref_ops_fail("args", "x0 == w");
    pexc_tile tw = {0, 2, 0, 4, 0, 4};
    if (pexc_avg_pool_s8(&p, &in, &tw, &out) != PEXC_ERR_ARG) return kref_ops_fail("args", "x1 > w");
    pexc_view oring = out;
    oring.ring_px = 1;
    if (pexc_max_pool_s8(&p, &in, &tp, &oring) != PEXC_ERR_ARG) return kref_ops_fail("args", "2 pixels in an output ring of 1");
    /* a window entirely in the padding: TFLite refuses, so do we */
    pexc_pool_params pp = {1, 1, 1, 1, 2, 0, -128, 127, 0};
    if (pexc_avg_pool_s8(&pp, &in, &t, &out) != PEXC_ERR_ARG) return kref_ops_fail("args", "empty window");
    return 0;
}

int main(void) {
    kref_ops_rng r = {UINT64_C(0x900115)};
    int cases = 0;
    if (bad_args() || acc_bad_args() || acc16_extremes()) return 1;
    for (int i = 0; i < 400; i++) {
        if (run_case(&r, i & 1, i)) return 1;
        cases++;
    }
    int acc_cases = 0;
    if (acc_tests(&r, &acc_cases)) return 1;
    printf("test_pool: %d random avg/max pool cases (whole + tiled/slice/ring) OK; "
           "%d partial-sum avg pool geometries x 8 splits OK\n",
           cases, acc_cases);
    return 0;
}
