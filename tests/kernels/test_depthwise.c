/*
 * DEPTHWISE_CONV_2D kernel tests: pexc_depthwise_conv2d_s8 against the plain
 * reference in tests/common/kref_conv.c over random shapes, depth multipliers
 * and quantisation; then cut into row x channel tiles whose input views store
 * only the input channels each tile needs, streamed row by row through
 * ring buffers, and streamed in runs of pixels that cross row ends, whole or
 * through pixel rings whose rows wrap mid-row (kref_ops_stream). Every
 * variant must give byte-identical output.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kref_conv.h"
#include "kref_ops.h"

/* smaller on a board with less memory (tests/test_kernels_m55.py) */
#ifndef NCASES
#define NCASES 1500
#endif
#ifndef MAX_WORK
#define MAX_WORK 200000.0
#endif
#define MAXC 256

static kref_conv_rng rng = {UINT64_C(0xDE9781CE)};
static kref_ops_rng srng = {UINT64_C(0xD3E7F10)};
static long checks;

typedef struct {
    int32_t n, h, w, cin, dm, cout, kh, kw, oh, ow;
    int32_t sh, sw, dh, dw, same;
    pexc_conv_params p;
    int32_t mult[MAXC], shift[MAXC], bias_store[MAXC];
    const int32_t *bias;
    int8_t *in, *filter, *ref;
    char desc[512];
} dw_case;

static size_t out_elems(const dw_case *c) {
    return (size_t)c->n * c->oh * c->ow * c->cout;
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) {
        printf("out of memory\n");
        exit(1);
    }
    return p;
}

static void fill_random(void *p, size_t bytes) {
    for (size_t i = 0; i < bytes; i++) ((uint8_t *)p)[i] = (uint8_t)kref_conv_u32(&rng);
}

static void make_case(dw_case *c) {
    static const int32_t chans[] = {1, 2, 3, 4, 5, 8, 16, 17, 24, 32, 64};
    static const int32_t ks[] = {1, 3, 3, 3, 5, 7};
    static const int32_t dms[] = {1, 1, 1, 2, 2, 3, 4, 8};
    for (;;) {
        c->n = kref_conv_range(&rng, 0, 4) == 0 ? 2 : 1;
        c->h = kref_conv_range(&rng, 1, kref_conv_range(&rng, 0, 3) == 0 ? 24 : 12);
        c->w = kref_conv_range(&rng, 1, kref_conv_range(&rng, 0, 3) == 0 ? 24 : 12);
        c->cin = kref_conv_pick(&rng, chans, 11);
        c->dm = kref_conv_pick(&rng, dms, (int32_t)(sizeof dms / sizeof dms[0]));
        c->cout = c->cin * c->dm;
        if (c->cout > MAXC) continue;
        c->kh = kref_conv_pick(&rng, ks, 6);
        c->kw = kref_conv_range(&rng, 0, 2) ? c->kh : kref_conv_pick(&rng, ks, 6);
        c->sh = kref_conv_range(&rng, 1, 2);
        c->sw = kref_conv_range(&rng, 0, 2) ? c->sh : kref_conv_range(&rng, 1, 2);
        c->dh = kref_conv_range(&rng, 0, 3) == 0 ? 2 : 1;
        c->dw = kref_conv_range(&rng, 0, 1) ? c->dh : kref_conv_range(&rng, 1, 2);
        c->same = kref_conv_range(&rng, 0, 2) != 0;
        int32_t pt, pl;
        c->oh = kref_conv_out_size(c->h, c->kh, c->sh, c->dh, c->same, &pt);
        c->ow = kref_conv_out_size(c->w, c->kw, c->sw, c->dw, c->same, &pl);
        if (c->oh <= 0 || c->ow <= 0) continue;
        if ((double)out_elems(c) * c->kh * c->kw > MAX_WORK) continue;
        char qdesc[256];
        int bias_used;
        kref_conv_random_quant(&rng, c->cout, c->kh * c->kw, &c->p, c->mult, c->shift,
                               c->bias_store, &bias_used, qdesc, sizeof qdesc);
        c->bias = bias_used ? c->bias_store : NULL;
        c->p.stride_h = c->sh;
        c->p.stride_w = c->sw;
        c->p.dilation_h = c->dh;
        c->p.dilation_w = c->dw;
        c->p.pad_top = pt;
        c->p.pad_left = pl;
        snprintf(c->desc, sizeof c->desc,
                 "n=%d in=%dx%dx%d dm=%d k=%dx%d stride=%d,%d dil=%d,%d %s pad=%d,%d out=%dx%dx%d %s",
                 (int)c->n, (int)c->h, (int)c->w, (int)c->cin, (int)c->dm, (int)c->kh,
                 (int)c->kw, (int)c->sh, (int)c->sw, (int)c->dh, (int)c->dw,
                 c->same ? "SAME" : "VALID", (int)pt, (int)pl, (int)c->oh, (int)c->ow,
                 (int)c->cout, qdesc);
        break;
    }
    size_t in_n = (size_t)c->n * c->h * c->w * c->cin;
    size_t f_n = (size_t)c->kh * c->kw * c->cout;
    c->in = xmalloc(in_n);
    c->filter = xmalloc(f_n);
    c->ref = xmalloc(out_elems(c));
    kref_conv_fill_s8(&rng, c->in, in_n, -128, 127);
    kref_conv_fill_s8(&rng, c->filter, f_n, -127, 127);
    kref_conv_depthwise(&c->p, c->dm, c->n, c->h, c->w, c->cin, c->in, c->kh, c->kw,
                        c->filter, c->bias, c->oh, c->ow, c->ref);
}

static void free_case(dw_case *c) {
    free(c->in);
    free(c->filter);
    free(c->ref);
}

static int status_ok(const char *test, const dw_case *c, pexc_status st) {
    if (st != PEXC_OK) {
        printf("FAIL %s: %s\n  kernel returned status %d\n", test, c->desc, (int)st);
        return 0;
    }
    return 1;
}

/* Channel slice [c0 - e1, c1 + e2) view with garbage-filled storage. */
static pexc_view slice_view(int32_t n, int32_t h, int32_t w, int32_t c, int32_t c0,
                            int32_t c1, int32_t ring, int exact) {
    int32_t e1 = exact ? 0 : kref_conv_range(&rng, 0, c0 < 2 ? c0 : 2);
    int32_t e2 = exact ? 0 : kref_conv_range(&rng, 0, 2);
    pexc_view v = {NULL, n, h, w, c, c0 - e1, c1 - c0 + e1 + e2, ring};
    if (v.c_stored < 1) v.c_stored = 1;
    size_t bytes = kref_conv_view_elems(&v);
    v.data = xmalloc(bytes);
    fill_random(v.data, bytes);
    return v;
}

static int check_full(dw_case *c) {
    int8_t *out = xmalloc(out_elems(c));
    pexc_view vi = kref_conv_dense(c->in, c->n, c->h, c->w, c->cin);
    pexc_view vo = kref_conv_dense(out, c->n, c->oh, c->ow, c->cout);
    pexc_tile t = {0, c->oh, 0, c->cout, 0, 0};
    pexc_status st = pexc_depthwise_conv2d_s8(&c->p, c->dm, &vi, c->filter, c->kh, c->kw,
                                              c->bias, &t, &vo);
    int bad = !status_ok("dw_full", c, st) ||
              kref_conv_cmp_s8("dw_full", c->desc, c->ref, out, out_elems(c));
    free(out);
    checks++;
    return bad;
}

static int check_one_tile(dw_case *c) {
    size_t ne = out_elems(c);
    int8_t *out = xmalloc(ne), *want = xmalloc(ne);
    fill_random(out, ne);
    memcpy(want, out, ne);
    pexc_tile t = {0, 0, 0, 0, 0, 0};
    t.y0 = kref_conv_range(&rng, 0, c->oh);
    t.y1 = kref_conv_range(&rng, t.y0, c->oh);
    t.c0 = kref_conv_range(&rng, 0, c->cout);
    t.c1 = kref_conv_range(&rng, t.c0, c->cout);
    for (int32_t n = 0; n < c->n; n++)
        for (int32_t y = t.y0; y < t.y1; y++)
            for (int32_t x = 0; x < c->ow; x++)
                for (int32_t ch = t.c0; ch < t.c1; ch++) {
                    size_t i = (((size_t)n * c->oh + y) * c->ow + x) * c->cout + ch;
                    want[i] = c->ref[i];
                }
    pexc_view vi = kref_conv_dense(c->in, c->n, c->h, c->w, c->cin);
    pexc_view vo = kref_conv_dense(out, c->n, c->oh, c->ow, c->cout);
    pexc_status st = pexc_depthwise_conv2d_s8(&c->p, c->dm, &vi, c->filter, c->kh, c->kw,
                                              c->bias, &t, &vo);
    char d[700];
    snprintf(d, sizeof d, "%s tile y[%d,%d) c[%d,%d)", c->desc, (int)t.y0, (int)t.y1,
             (int)t.c0, (int)t.c1);
    int bad = !status_ok("dw_one_tile", c, st) ||
              kref_conv_cmp_s8("dw_one_tile", d, want, out, ne);
    free(out);
    free(want);
    checks++;
    return bad;
}

/* Output channels [c0, c1) (non-empty) read input channels [lo, hi). */
static void in_chans(const dw_case *c, int32_t c0, int32_t c1, int32_t *lo, int32_t *hi) {
    *lo = c0 / c->dm;
    *hi = (c1 - 1) / c->dm + 1;
}

/* Grid of row x channel tiles; each channel piece reads an input view that
 * stores only the input channels it needs (sometimes exactly those, sometimes
 * with spare channels) and writes its own output slice view. */
static int check_slices(dw_case *c) {
    int32_t yb[8], cb[8];
    int32_t ny = kref_conv_cuts(&rng, 0, c->oh, 4, 1, yb);
    int32_t nc = kref_conv_cuts(&rng, 0, c->cout, 5, 0, cb);
    size_t ne = out_elems(c);
    int8_t *got = xmalloc(ne);
    fill_random(got, ne);
    int bad = 0;
    for (int32_t j = 0; j < nc && !bad; j++) {
        int32_t lo, hi;
        in_chans(c, cb[j], cb[j + 1], &lo, &hi);
        pexc_view vi = slice_view(c->n, c->h, c->w, c->cin, lo, hi, 0, kref_conv_range(&rng, 0, 1));
        kref_conv_to_view(c->in, 1, &vi, 0, c->h);
        pexc_view vo = slice_view(c->n, c->oh, c->ow, c->cout, cb[j], cb[j + 1], 0, 0);
        for (int32_t i = 0; i < ny && !bad; i++) {
            pexc_tile t = {yb[i], yb[i + 1], cb[j], cb[j + 1], 0, 0};
            pexc_status st = pexc_depthwise_conv2d_s8(&c->p, c->dm, &vi, c->filter, c->kh,
                                                      c->kw, c->bias, &t, &vo);
            bad = !status_ok("dw_slices", c, st);
        }
        kref_conv_from_view(got, 1, &vo, 0, c->oh, cb[j], cb[j + 1]);
        free(vi.data);
        free(vo.data);
    }
    char d[700];
    snprintf(d, sizeof d, "%s rows cut %d ways, channels %d ways", c->desc, (int)ny, (int)nc);
    bad = bad || kref_conv_cmp_s8("dw_slices", d, c->ref, got, ne);
    free(got);
    checks++;
    return bad;
}

static void rows_needed(const dw_case *c, int32_t y0, int32_t y1, int32_t *lo, int32_t *hi) {
    *lo = y0 * c->sh - c->p.pad_top;
    *hi = (y1 - 1) * c->sh - c->p.pad_top + (c->kh - 1) * c->dh;
    if (*lo < 0) *lo = 0;
    if (*hi > c->h - 1) *hi = c->h - 1;
}

/* Row streaming per channel slice: for each channel piece, output rows in
 * blocks from an input ring (channel slice, other rows poisoned) into an
 * output ring (channel slice). */
static int check_ring(dw_case *c) {
    int32_t blk = kref_conv_range(&rng, 1, 3);
    int32_t rin = 1;
    for (int32_t y = 0; y < c->oh; y += blk) {
        int32_t y1 = y + blk < c->oh ? y + blk : c->oh, lo, hi;
        rows_needed(c, y, y1, &lo, &hi);
        if (hi - lo + 1 > rin) rin = hi - lo + 1;
    }
    rin += kref_conv_range(&rng, 0, 1);
    int32_t rout = blk + kref_conv_range(&rng, 0, 1);
    int32_t cb[8];
    int32_t nc = kref_conv_cuts(&rng, 0, c->cout, 3, 0, cb);
    size_t ne = out_elems(c);
    int8_t *got = xmalloc(ne);
    fill_random(got, ne);
    int bad = 0;
    for (int32_t j = 0; j < nc && !bad; j++) {
        int32_t clo, chi;
        in_chans(c, cb[j], cb[j + 1], &clo, &chi);
        /* rings of whole rows: ring_px = rows * width */
        pexc_view vi = slice_view(c->n, c->h, c->w, c->cin, clo, chi, rin * c->w, 0);
        pexc_view vo = slice_view(c->n, c->oh, c->ow, c->cout, cb[j], cb[j + 1], rout * c->ow, 0);
        size_t in_bytes = kref_conv_view_elems(&vi);
        for (int32_t y = 0; y < c->oh && !bad; y += blk) {
            int32_t y1 = y + blk < c->oh ? y + blk : c->oh, lo, hi;
            rows_needed(c, y, y1, &lo, &hi);
            fill_random(vi.data, in_bytes);
            if (hi >= lo) kref_conv_to_view(c->in, 1, &vi, lo, hi + 1);
            pexc_tile t = {y, y1, cb[j], cb[j + 1], 0, 0};
            pexc_status st = pexc_depthwise_conv2d_s8(&c->p, c->dm, &vi, c->filter, c->kh,
                                                      c->kw, c->bias, &t, &vo);
            bad = !status_ok("dw_ring", c, st);
            kref_conv_from_view(got, 1, &vo, y, y1, cb[j], cb[j + 1]);
        }
        free(vi.data);
        free(vo.data);
    }
    char d[700];
    snprintf(d, sizeof d, "%s ring in=%d out=%d rows, block %d, channels %d ways", c->desc,
             (int)rin, (int)rout, (int)blk, (int)nc);
    bad = bad || kref_conv_cmp_s8("dw_ring", d, c->ref, got, ne);
    free(got);
    checks++;
    return bad;
}

/* Pixel streaming (see kref_ops_stream): runs of output pixels crossing row
 * ends, whole views, then input and output in pixel rings. */
static pexc_status stream_tile(void *ctx, const pexc_view *in, const pexc_tile *t,
                               pexc_view *out) {
    const dw_case *c = ctx;
    return pexc_depthwise_conv2d_s8(&c->p, c->dm, &in[0], c->filter, c->kh, c->kw, c->bias, t, out);
}

static int check_stream(dw_case *c) {
    kref_ops_src src = {c->in, c->n, c->h, c->w, c->cin, 1,
                        {c->sh, c->sw, c->dh, c->dw, c->kh, c->kw, c->p.pad_top, c->p.pad_left}};
    int bad = 0;
    for (int pass = 0; pass < 2 && !bad; pass++) {
        kref_ops_stream_cfg cfg = {kref_ops_pick_chunk(&srng, c->ow), 2 * c->ow + 1, pass,
                                   pass && kref_ops_range(&srng, 0, 3) != 0, 0, c->cout};
        if (kref_ops_range(&srng, 0, 2) == 0) {
            cfg.c0 = kref_ops_range(&srng, 0, c->cout - 1);
            cfg.c1 = kref_ops_range(&srng, cfg.c0 + 1, c->cout);
        }
        char d[700];
        snprintf(d, sizeof d, "%s ch [%d,%d)", c->desc, (int)cfg.c0, (int)cfg.c1);
        bad = kref_ops_stream(&srng, "dw_stream", d, &src, 1, c->n, c->oh, c->ow, c->cout, 1,
                              c->ref, &cfg, stream_tile, c);
        checks++;
    }
    return bad;
}

/* Partial-sum form: the input pixels cut into random consecutive ranges,
 * each put into one pixel ring (as a producer would) and added into an
 * int32 tile; requantised with the bias it must equal the reference on the
 * tile and leave every other output byte alone. */
static int check_acc(dw_case *c) {
    static int32_t b[24 * 24 + 70];
    int32_t npx = c->h * c->w;
    int32_t k = kref_ops_cuts(&srng, npx, b), longest = 1;
    for (int32_t i = 0; i < k; i++)
        if (b[i + 1] - b[i] > longest) longest = b[i + 1] - b[i];
    int32_t q0 = 0, q1 = c->oh * c->ow, c0 = 0, c1 = c->cout;
    if (kref_ops_range(&srng, 0, 1)) {
        q0 = kref_ops_range(&srng, 0, q1 - 1);
        q1 = kref_ops_range(&srng, q0 + 1, q1);
        c0 = kref_ops_range(&srng, 0, c->cout - 1);
        c1 = kref_ops_range(&srng, c0 + 1, c->cout);
    }
    pexc_tile t = kref_ops_px_tile(c->ow, q0, q1, c0, c1);
    int32_t ilo, ihi;
    in_chans(c, c0, c1, &ilo, &ihi);
    int32_t icb = kref_ops_range(&srng, 0, ilo), ice = kref_ops_range(&srng, ihi, c->cin);
    int32_t cb = kref_ops_range(&srng, 0, c0), ce = kref_ops_range(&srng, c1, c->cout);
    pexc_view ring = kref_ops_view_new(c->n, c->h, c->w, c->cin, icb, ice - icb,
                                       longest + kref_ops_range(&srng, 0, 2), 1);
    pexc_view acc = kref_ops_view_new(c->n, c->oh, c->ow, c->cout, cb, ce - cb, 0, 4);
    pexc_view out = kref_ops_view_new(c->n, c->oh, c->ow, c->cout, cb, ce - cb, 0, 1);
    char d[700];
    snprintf(d, sizeof d, "%s: %d input ranges, ring %d px, tile px [%d,%d) ch [%d,%d)", c->desc, (int)k,
             (int)ring.ring_px, (int)q0, (int)q1, (int)c0, (int)c1);
    int fail = 0;
    for (int32_t i = 0; i < k && !fail; i++) {
        kref_ops_view_put_px(&ring, c->in, 1, b[i], b[i + 1]);
        pexc_status st = pexc_depthwise_conv2d_s8_acc(&c->p, c->dm, &ring, c->filter, c->kh, c->kw, b[i],
                                                      b[i + 1], i == 0, &t, &acc);
        if (st != PEXC_OK) fail = kref_ops_fail("dw_acc", "%s: range [%d,%d) status %d", d, (int)b[i],
                                                (int)b[i + 1], (int)st);
    }
    if (!fail) {
        pexc_status st = pexc_requant_s32_s8(&c->p, c->bias, &acc, &t, &out);
        if (st != PEXC_OK) fail = kref_ops_fail("dw_acc", "%s: requant status %d", d, (int)st);
    }
    if (!fail) {
        size_t ne = out_elems(c);
        int8_t *got = xmalloc(ne);
        memcpy(got, c->ref, ne);
        kref_ops_view_get_px(&out, got, 1, q0, q1, c0, c1);
        fail = kref_ops_cmp_s8("dw_acc", d, c->ref, got, ne);
        const int8_t *ob = out.data;
        for (int32_t n = 0; n < c->n && !fail; n++)
            for (int32_t q = 0; q < c->oh * c->ow && !fail; q++)
                for (int32_t ch = cb; ch < ce && !fail; ch++)
                    if ((q < q0 || q >= q1 || ch < c0 || ch >= c1) &&
                        ob[pexc_view_index(&out, n, q / c->ow, q % c->ow, ch)] != 0x5A)
                        fail = kref_ops_fail("dw_acc", "%s: wrote px %d ch %d outside the tile", d, (int)q, (int)ch);
        free(got);
    }
    kref_ops_view_free(&ring);
    kref_ops_view_free(&acc);
    kref_ops_view_free(&out);
    checks++;
    return fail;
}

static int expect_status(const char *what, pexc_status got, pexc_status want) {
    checks++;
    if (got != want) {
        printf("FAIL dw_args: %s: want status %d got %d\n", what, (int)want, (int)got);
        return 1;
    }
    return 0;
}

static int check_args(void) {
    static int8_t in[1 * 5 * 5 * 4], filter[3 * 3 * 8], out[1 * 5 * 5 * 8];
    int32_t mult[8], shift[8];
    for (int i = 0; i < 8; i++) {
        mult[i] = INT32_C(1) << 30;
        shift[i] = -6;
    }
    pexc_conv_params p = {1, 1, 1, 1, 1, 1, 0, 0, -128, 127, mult, shift, NULL, 0};
    pexc_view vi = kref_conv_dense(in, 1, 5, 5, 4);
    pexc_view vo = kref_conv_dense(out, 1, 5, 5, 8);
    pexc_tile t = {0, 5, 0, 8, 0, 0};
    int bad = 0;
    bad |= expect_status("valid", pexc_depthwise_conv2d_s8(&p, 2, &vi, filter, 3, 3, NULL, &t, &vo), PEXC_OK);
    bad |= expect_status("Cout != Cin * dm", pexc_depthwise_conv2d_s8(&p, 1, &vi, filter, 3, 3, NULL, &t, &vo), PEXC_ERR_ARG);
    bad |= expect_status("dm 0", pexc_depthwise_conv2d_s8(&p, 0, &vi, filter, 3, 3, NULL, &t, &vo), PEXC_ERR_ARG);
    pexc_view v2 = vi;
    v2.c_begin = 1;
    v2.c_stored = 2; /* input channels 1, 2 */
    pexc_tile ts = {0, 5, 2, 6, 0, 0};
    bad |= expect_status("input slice covers tile", pexc_depthwise_conv2d_s8(&p, 2, &v2, filter, 3, 3, NULL, &ts, &vo), PEXC_OK);
    ts = (pexc_tile){0, 5, 1, 6, 0, 0};
    bad |= expect_status("input slice misses channel 0", pexc_depthwise_conv2d_s8(&p, 2, &v2, filter, 3, 3, NULL, &ts, &vo), PEXC_ERR_ARG);
    ts = (pexc_tile){0, 5, 2, 7, 0, 0};
    bad |= expect_status("input slice misses channel 3", pexc_depthwise_conv2d_s8(&p, 2, &v2, filter, 3, 3, NULL, &ts, &vo), PEXC_ERR_ARG);
    ts = (pexc_tile){0, 6, 0, 8, 0, 0};
    bad |= expect_status("rows past end", pexc_depthwise_conv2d_s8(&p, 2, &vi, filter, 3, 3, NULL, &ts, &vo), PEXC_ERR_ARG);
    bad |= expect_status("NULL filter", pexc_depthwise_conv2d_s8(&p, 2, &vi, NULL, 3, 3, NULL, &t, &vo), PEXC_ERR_ARG);
    v2 = vi;
    v2.ring_px = 2 * 5;
    ts = (pexc_tile){1, 2, 0, 8, 0, 0};
    bad |= expect_status("input ring too small", pexc_depthwise_conv2d_s8(&p, 2, &v2, filter, 3, 3, NULL, &ts, &vo), PEXC_ERR_ARG);
    ts = (pexc_tile){0, 1, 0, 8, 0, 0}; /* rows -1..1 -> 0..1 */
    bad |= expect_status("input ring at top edge", pexc_depthwise_conv2d_s8(&p, 2, &v2, filter, 3, 3, NULL, &ts, &vo), PEXC_OK);
    /* pixel tile (1,3), (1,4), (2,0) reads input (0,2)..(3,1): raster 2..16 */
    ts = (pexc_tile){1, 3, 0, 8, 3, 1};
    v2.ring_px = 15;
    bad |= expect_status("input ring holds the pixel tile's window", pexc_depthwise_conv2d_s8(&p, 2, &v2, filter, 3, 3, NULL, &ts, &vo), PEXC_OK);
    v2.ring_px = 14;
    bad |= expect_status("input ring a pixel too small", pexc_depthwise_conv2d_s8(&p, 2, &v2, filter, 3, 3, NULL, &ts, &vo), PEXC_ERR_ARG);
    ts = (pexc_tile){1, 3, 0, 8, 3, 3};
    bad |= expect_status("x1 == x0 on another row is fine", pexc_depthwise_conv2d_s8(&p, 2, &vi, filter, 3, 3, NULL, &ts, &vo), PEXC_OK);
    ts = (pexc_tile){1, 2, 0, 8, 3, 3};
    bad |= expect_status("no pixels", pexc_depthwise_conv2d_s8(&p, 2, &vi, filter, 3, 3, NULL, &ts, &vo), PEXC_ERR_ARG);
    ts = (pexc_tile){1, 2, 0, 8, 5, 0};
    bad |= expect_status("x0 == w", pexc_depthwise_conv2d_s8(&p, 2, &vi, filter, 3, 3, NULL, &ts, &vo), PEXC_ERR_ARG);
    v2 = vo;
    v2.ring_px = 6;
    ts = (pexc_tile){1, 3, 0, 8, 3, 4};
    bad |= expect_status("6 pixels into an output ring of 6", pexc_depthwise_conv2d_s8(&p, 2, &vi, filter, 3, 3, NULL, &ts, &v2), PEXC_OK);
    ts = (pexc_tile){1, 3, 0, 8, 3, 5};
    bad |= expect_status("7 pixels into an output ring of 6", pexc_depthwise_conv2d_s8(&p, 2, &vi, filter, 3, 3, NULL, &ts, &v2), PEXC_ERR_ARG);
    pexc_tile e = {0, 5, 3, 3, 0, 0};
    bad |= expect_status("empty tile", pexc_depthwise_conv2d_s8(&p, 2, &vi, filter, 3, 3, NULL, &e, &vo), PEXC_OK);
    int32_t abuf[1 * 5 * 5 * 8];
    pexc_view va = {abuf, 1, 5, 5, 8, 0, 8, 0};
    bad |= expect_status("acc valid", pexc_depthwise_conv2d_s8_acc(&p, 2, &vi, filter, 3, 3, 0, 25, 1, &t, &va), PEXC_OK);
    bad |= expect_status("acc range past the input", pexc_depthwise_conv2d_s8_acc(&p, 2, &vi, filter, 3, 3, 20, 26, 1, &t, &va), PEXC_ERR_ARG);
    bad |= expect_status("acc range reversed", pexc_depthwise_conv2d_s8_acc(&p, 2, &vi, filter, 3, 3, 7, 6, 1, &t, &va), PEXC_ERR_ARG);
    v2 = vi;
    v2.ring_px = 6;
    bad |= expect_status("acc range fills the ring", pexc_depthwise_conv2d_s8_acc(&p, 2, &v2, filter, 3, 3, 3, 9, 0, &t, &va), PEXC_OK);
    bad |= expect_status("acc range longer than the ring", pexc_depthwise_conv2d_s8_acc(&p, 2, &v2, filter, 3, 3, 3, 10, 0, &t, &va), PEXC_ERR_ARG);
    bad |= expect_status("acc Cout != Cin * dm", pexc_depthwise_conv2d_s8_acc(&p, 1, &vi, filter, 3, 3, 0, 25, 1, &t, &va), PEXC_ERR_ARG);
    v2 = va;
    v2.c_begin = 2;
    v2.c_stored = 4;
    bad |= expect_status("acc stores too few channels", pexc_depthwise_conv2d_s8_acc(&p, 2, &vi, filter, 3, 3, 0, 25, 1, &t, &v2), PEXC_ERR_ARG);
    return bad;
}

/* A one-input-channel case again with the filter laid out [Cout, kh, kw]
 * and filter_by_channel set, as the compiler emits first layers (the
 * gathered-window path of runtime/src/pexc_dot.h, and the partial-sum form
 * reading that layout): every check against the same reference. */
static int check_by_channel(const dw_case *c, int *used) {
    const int32_t taps = c->kh * c->kw;
    if (c->cin != 1 || taps > PEXC_GATHER_MAX) return 0;
    dw_case b = *c;
    b.filter = xmalloc((size_t)taps * (size_t)c->cout);
    for (int32_t oc = 0; oc < c->cout; oc++)
        for (int32_t t = 0; t < taps; t++)
            b.filter[(size_t)oc * (size_t)taps + (size_t)t] = c->filter[(size_t)t * (size_t)c->cout + (size_t)oc];
    b.p.filter_by_channel = 1;
    snprintf(b.desc, sizeof b.desc, "%.480s by channel", c->desc);
    const int bad = check_full(&b) || check_one_tile(&b) || check_slices(&b) || check_ring(&b) ||
                    check_stream(&b) || check_acc(&b);
    free(b.filter);
    (*used)++;
    return bad;
}

int main(void) {
    int bad = check_args();
    int ncases = 0, by_channel = 0;
    for (int i = 0; i < NCASES && !bad; i++) {
        dw_case c;
        make_case(&c);
        bad = check_full(&c) || check_one_tile(&c) || check_slices(&c) || check_ring(&c) ||
              check_stream(&c) || check_acc(&c) || check_by_channel(&c, &by_channel);
        free_case(&c);
        ncases++;
    }
    if (bad) return 1;
    if (by_channel < 20) {
        printf("FAIL only %d one-input-channel cases\n", by_channel);
        return 1;
    }
    printf("test_depthwise: OK (%d random cases, %d of them by channel too, %ld checks)\n", ncases, by_channel,
           checks);
    return 0;
}
