/*
 * CONV_2D kernel tests: pexc_conv2d_s8, pexc_conv2d_s8_acc and
 * pexc_requant_s32_s8 against the plain reference in tests/common/kref_conv.c
 * over random shapes and quantisation, then the same cases cut into tiles,
 * channel-slice views, input-channel partial sums and ring buffers, all of
 * which must give byte-identical output. Pixel streaming: the output computed
 * in runs of pixels that cross row ends, whole or through pixel rings whose
 * rows wrap mid-row (kref_ops_stream). Also hand-computed fixed-point cases
 * and argument validation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kref_conv.h"
#include "kref_ops.h"
#include "prep/prep.h"

#ifndef NCASES /* (the M55 run of tests/test_kernels_m55.py takes fewer) */
#define NCASES 1500
#endif
#define MAXC 64

static kref_conv_rng rng = {UINT64_C(0xC0FFEE1234)};
static kref_ops_rng srng = {UINT64_C(0x5EA3C0417)};
static long checks;

typedef struct {
    int32_t n, h, w, cin, cout, kh, kw, oh, ow;
    int32_t sh, sw, dh, dw, same;
    pexc_conv_params p;
    int32_t mult[MAXC], shift[MAXC], bias_store[MAXC];
    const int32_t *bias;
    int8_t *in, *filter, *ref;
    char desc[512];
} conv_case;

static size_t out_elems(const conv_case *c) {
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

static void make_case(conv_case *c) {
    static const int32_t chans_in[] = {1, 2, 3, 4, 5, 8, 16, 17, 24, 32};
    static const int32_t chans_out[] = {1, 3, 4, 7, 8, 16, 19, 32, 48};
    static const int32_t ks[] = {1, 1, 3, 3, 5, 7};
    for (;;) {
        c->n = kref_conv_range(&rng, 0, 4) == 0 ? 2 : 1;
        c->h = kref_conv_range(&rng, 1, kref_conv_range(&rng, 0, 3) == 0 ? 20 : 10);
        c->w = kref_conv_range(&rng, 1, kref_conv_range(&rng, 0, 3) == 0 ? 20 : 10);
        c->cin = kref_conv_pick(&rng, chans_in, 10);
        c->cout = kref_conv_pick(&rng, chans_out, 9);
        c->kh = kref_conv_pick(&rng, ks, 6);
        c->kw = kref_conv_range(&rng, 0, 1) ? c->kh : kref_conv_pick(&rng, ks, 6);
        c->sh = kref_conv_range(&rng, 1, 2);
        c->sw = kref_conv_range(&rng, 0, 2) ? c->sh : kref_conv_range(&rng, 1, 2);
        c->dh = kref_conv_range(&rng, 0, 3) == 0 ? 2 : 1;
        c->dw = kref_conv_range(&rng, 0, 1) ? c->dh : kref_conv_range(&rng, 1, 2);
        c->same = kref_conv_range(&rng, 0, 1);
        int32_t pt, pl;
        c->oh = kref_conv_out_size(c->h, c->kh, c->sh, c->dh, c->same, &pt);
        c->ow = kref_conv_out_size(c->w, c->kw, c->sw, c->dw, c->same, &pl);
        if (c->oh <= 0 || c->ow <= 0) continue;
        double macs = (double)out_elems(c) * c->kh * c->kw * c->cin;
        if (macs > 400000.0) continue;
        char qdesc[256];
        int bias_used;
        kref_conv_random_quant(&rng, c->cout, c->kh * c->kw * c->cin, &c->p, c->mult,
                               c->shift, c->bias_store, &bias_used, qdesc, sizeof qdesc);
        c->bias = bias_used ? c->bias_store : NULL;
        c->p.stride_h = c->sh;
        c->p.stride_w = c->sw;
        c->p.dilation_h = c->dh;
        c->p.dilation_w = c->dw;
        c->p.pad_top = pt;
        c->p.pad_left = pl;
        snprintf(c->desc, sizeof c->desc,
                 "n=%d in=%dx%dx%d cout=%d k=%dx%d stride=%d,%d dil=%d,%d %s pad=%d,%d out=%dx%d %s",
                 (int)c->n, (int)c->h, (int)c->w, (int)c->cin, (int)c->cout, (int)c->kh,
                 (int)c->kw, (int)c->sh, (int)c->sw, (int)c->dh, (int)c->dw,
                 c->same ? "SAME" : "VALID", (int)pt, (int)pl, (int)c->oh, (int)c->ow, qdesc);
        break;
    }
    size_t in_n = (size_t)c->n * c->h * c->w * c->cin;
    size_t f_n = (size_t)c->cout * c->kh * c->kw * c->cin;
    c->in = xmalloc(in_n);
    c->filter = xmalloc(f_n);
    c->ref = xmalloc(out_elems(c));
    /* Mostly full-range data; sometimes activations clustered near the zero
     * point, as after a ReLU. */
    if (kref_conv_range(&rng, 0, 3) == 0) {
        int32_t zp = -c->p.input_offset;
        int32_t hi = zp + 40 > 127 ? 127 : zp + 40;
        kref_conv_fill_s8(&rng, c->in, in_n, zp, hi);
    } else {
        kref_conv_fill_s8(&rng, c->in, in_n, -128, 127);
    }
    kref_conv_fill_s8(&rng, c->filter, f_n, -127, 127);
    kref_conv_conv2d(&c->p, c->n, c->h, c->w, c->cin, c->in, c->cout, c->kh, c->kw,
                     c->filter, c->bias, c->oh, c->ow, c->ref);
}

static void free_case(conv_case *c) {
    free(c->in);
    free(c->filter);
    free(c->ref);
}

static int status_ok(const char *test, const conv_case *c, pexc_status st) {
    if (st != PEXC_OK) {
        printf("FAIL %s: %s\n  kernel returned status %d\n", test, c->desc, (int)st);
        return 0;
    }
    return 1;
}

/* A view of a channel slice [c0 - e1, c1 + e2) (at least one channel) of a
 * logical [n, h, w, c] tensor, with fresh garbage-filled storage. */
static pexc_view slice_view(int32_t n, int32_t h, int32_t w, int32_t c, int32_t c0,
                            int32_t c1, int32_t ring, size_t elem) {
    int32_t e1 = kref_conv_range(&rng, 0, c0 < 2 ? c0 : 2);
    int32_t e2 = kref_conv_range(&rng, 0, 2);
    pexc_view v = {NULL, n, h, w, c, c0 - e1, c1 - c0 + e1 + e2, ring};
    if (v.c_stored < 1) v.c_stored = 1;
    size_t bytes = kref_conv_view_elems(&v) * elem;
    v.data = xmalloc(bytes);
    fill_random(v.data, bytes);
    return v;
}

/* 1. whole output, dense views */
static int check_full(conv_case *c) {
    int8_t *out = xmalloc(out_elems(c));
    pexc_view vi = kref_conv_dense(c->in, c->n, c->h, c->w, c->cin);
    pexc_view vo = kref_conv_dense(out, c->n, c->oh, c->ow, c->cout);
    pexc_tile t = {0, c->oh, 0, c->cout, 0, 0};
    pexc_status st = pexc_conv2d_s8(&c->p, &vi, c->filter, c->kh, c->kw, c->bias, &t, &vo);
    int bad = !status_ok("conv_full", c, st) ||
              kref_conv_cmp_s8("conv_full", c->desc, c->ref, out, out_elems(c));
    free(out);
    checks++;
    return bad;
}

/* 1b. whole output with the short requantisation (pexc_requant_short),
 *     where prep_short_requant proves it for every channel from the weights,
 *     bias and input offset as the compiler does: the two-pixel paths of
 *     pexc_conv2d_s8 requantise four outputs per step in that form. */
static long short_cases;
static int check_short(conv_case *c) {
    int32_t round[MAXC];
    const int32_t taps = c->kh * c->kw * c->cin;
    const int64_t xmax = 128 + (c->p.input_offset < 0 ? -c->p.input_offset : c->p.input_offset);
    for (int32_t oc = 0; oc < c->cout; oc++) {
        int64_t bound = c->bias ? (c->bias[oc] < 0 ? -(int64_t)c->bias[oc] : c->bias[oc]) : 0;
        for (int32_t k = 0; k < taps; k++) {
            const int32_t w = c->filter[(size_t)oc * (size_t)taps + (size_t)k];
            bound += (w < 0 ? -w : w) * xmax;
        }
        if (!prep_short_requant(bound, c->mult[oc], c->shift[oc], c->p.output_offset, &round[oc])) return 0;
    }
    int8_t *out = xmalloc(out_elems(c));
    pexc_view vi = kref_conv_dense(c->in, c->n, c->h, c->w, c->cin);
    pexc_view vo = kref_conv_dense(out, c->n, c->oh, c->ow, c->cout);
    pexc_tile t = {0, c->oh, 0, c->cout, 0, 0};
    c->p.out_round = round;
    pexc_status st = pexc_conv2d_s8(&c->p, &vi, c->filter, c->kh, c->kw, c->bias, &t, &vo);
    c->p.out_round = NULL;
    int bad = !status_ok("conv_short", c, st) ||
              kref_conv_cmp_s8("conv_short", c->desc, c->ref, out, out_elems(c));
    free(out);
    checks++;
    short_cases++;
    return bad;
}

/* 2. one random tile into a canary-filled buffer: the tile matches, nothing
 *    outside it is written */
static int check_one_tile(conv_case *c) {
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
    pexc_status st = pexc_conv2d_s8(&c->p, &vi, c->filter, c->kh, c->kw, c->bias, &t, &vo);
    char d[700];
    snprintf(d, sizeof d, "%s tile y[%d,%d) c[%d,%d)", c->desc, (int)t.y0, (int)t.y1,
             (int)t.c0, (int)t.c1);
    int bad = !status_ok("conv_one_tile", c, st) ||
              kref_conv_cmp_s8("conv_one_tile", d, want, out, ne);
    free(out);
    free(want);
    checks++;
    return bad;
}

/* 3. output cut into a grid of row x channel tiles, each written into its
 *    own channel-slice view (with extra stored channels either side); input
 *    stored with extra channels too */
static int check_slices(conv_case *c) {
    int32_t yb[8], cb[8];
    int32_t ny = kref_conv_cuts(&rng, 0, c->oh, 4, 1, yb);
    int32_t nc = kref_conv_cuts(&rng, 0, c->cout, 4, 1, cb);
    size_t ne = out_elems(c);
    int8_t *got = xmalloc(ne);
    fill_random(got, ne);
    pexc_view vi = slice_view(c->n, c->h, c->w, c->cin, 0, c->cin, 0, 1);
    kref_conv_to_view(c->in, 1, &vi, 0, c->h);
    int bad = 0;
    for (int32_t j = 0; j < nc && !bad; j++) {
        pexc_view vo = slice_view(c->n, c->oh, c->ow, c->cout, cb[j], cb[j + 1], 0, 1);
        for (int32_t i = 0; i < ny && !bad; i++) {
            pexc_tile t = {yb[i], yb[i + 1], cb[j], cb[j + 1], 0, 0};
            pexc_status st = pexc_conv2d_s8(&c->p, &vi, c->filter, c->kh, c->kw, c->bias, &t, &vo);
            bad = !status_ok("conv_slices", c, st);
        }
        kref_conv_from_view(got, 1, &vo, 0, c->oh, cb[j], cb[j + 1]);
        free(vo.data);
    }
    char d[700];
    snprintf(d, sizeof d, "%s rows cut %d ways, channels %d ways", c->desc, (int)ny, (int)nc);
    bad = bad || kref_conv_cmp_s8("conv_slices", d, c->ref, got, ne);
    free(vi.data);
    free(got);
    checks++;
    return bad;
}

/* 4. input channels split into partial sums (each from a view storing only
 *    its slice), accumulated into per-output-slice int32 views over row
 *    tiles, then requantised */
static int check_acc(conv_case *c) {
    int32_t ib[8], yb[8], cb[8];
    int32_t ni = kref_conv_cuts(&rng, 0, c->cin, 4, 1, ib);
    int32_t ny = kref_conv_cuts(&rng, 0, c->oh, 3, 1, yb);
    int32_t nc = kref_conv_cuts(&rng, 0, c->cout, 3, 1, cb);
    pexc_view vin[8];
    for (int32_t k = 0; k < ni; k++) {
        vin[k] = slice_view(c->n, c->h, c->w, c->cin, ib[k], ib[k + 1], 0, 1);
        kref_conv_to_view(c->in, 1, &vin[k], 0, c->h);
    }
    size_t ne = out_elems(c);
    int8_t *got = xmalloc(ne);
    fill_random(got, ne);
    int bad = 0;
    for (int32_t j = 0; j < nc && !bad; j++) {
        pexc_view va = slice_view(c->n, c->oh, c->ow, c->cout, cb[j], cb[j + 1], 0, 4);
        pexc_view vo = slice_view(c->n, c->oh, c->ow, c->cout, cb[j], cb[j + 1], 0, 1);
        for (int32_t i = 0; i < ny && !bad; i++) {
            pexc_tile t = {yb[i], yb[i + 1], cb[j], cb[j + 1], 0, 0};
            for (int32_t k = 0; k < ni && !bad; k++) {
                pexc_status st = pexc_conv2d_s8_acc(&c->p, &vin[k], c->filter, c->kh, c->kw,
                                                    ib[k], ib[k + 1], k == 0, &t, &va);
                bad = !status_ok("conv_acc", c, st);
            }
            if (!bad) {
                pexc_status st = pexc_requant_s32_s8(&c->p, c->bias, &va, &t, &vo);
                bad = !status_ok("conv_acc_requant", c, st);
            }
        }
        kref_conv_from_view(got, 1, &vo, 0, c->oh, cb[j], cb[j + 1]);
        free(va.data);
        free(vo.data);
    }
    char d[700];
    snprintf(d, sizeof d, "%s input channels split %d ways, rows %d, out channels %d",
             c->desc, (int)ni, (int)ny, (int)nc);
    bad = bad || kref_conv_cmp_s8("conv_acc", d, c->ref, got, ne);
    for (int32_t k = 0; k < ni; k++) free(vin[k].data);
    free(got);
    checks++;
    return bad;
}

/* Input rows [*lo, *hi] touched by output rows [y0, y1) (hi < lo: none). */
static void rows_needed(const conv_case *c, int32_t y0, int32_t y1, int32_t *lo, int32_t *hi) {
    *lo = y0 * c->sh - c->p.pad_top;
    *hi = (y1 - 1) * c->sh - c->p.pad_top + (c->kh - 1) * c->dh;
    if (*lo < 0) *lo = 0;
    if (*hi > c->h - 1) *hi = c->h - 1;
}

/* 5. row streaming: output produced in blocks of rows from an input ring
 *    holding only the rows each block needs (the rest poisoned), into an
 *    output ring; either the direct kernel or partial sums into a ring acc */
static int check_ring(conv_case *c) {
    int32_t blk = kref_conv_range(&rng, 1, 3);
    int use_acc = kref_conv_range(&rng, 0, 1);
    int32_t rin = 1;
    for (int32_t y = 0; y < c->oh; y += blk) {
        int32_t y1 = y + blk < c->oh ? y + blk : c->oh, lo, hi;
        rows_needed(c, y, y1, &lo, &hi);
        if (hi - lo + 1 > rin) rin = hi - lo + 1;
    }
    rin += kref_conv_range(&rng, 0, 1);
    int32_t rout = blk + kref_conv_range(&rng, 0, 1);
    /* rings of whole rows: ring_px = rows * width */
    pexc_view vi = slice_view(c->n, c->h, c->w, c->cin, 0, c->cin, rin * c->w, 1);
    pexc_view vo = slice_view(c->n, c->oh, c->ow, c->cout, 0, c->cout, rout * c->ow, 1);
    pexc_view va = slice_view(c->n, c->oh, c->ow, c->cout, 0, c->cout, rout * c->ow, 4);
    size_t in_bytes = kref_conv_view_elems(&vi);
    int32_t ib[8];
    int32_t ni = kref_conv_cuts(&rng, 0, c->cin, 3, 1, ib);
    size_t ne = out_elems(c);
    int8_t *got = xmalloc(ne);
    fill_random(got, ne);
    int bad = 0;
    for (int32_t y = 0; y < c->oh && !bad; y += blk) {
        int32_t y1 = y + blk < c->oh ? y + blk : c->oh, lo, hi;
        rows_needed(c, y, y1, &lo, &hi);
        fill_random(vi.data, in_bytes);
        if (hi >= lo) kref_conv_to_view(c->in, 1, &vi, lo, hi + 1);
        pexc_tile t = {y, y1, 0, c->cout, 0, 0};
        pexc_status st;
        if (!use_acc) {
            st = pexc_conv2d_s8(&c->p, &vi, c->filter, c->kh, c->kw, c->bias, &t, &vo);
            bad = !status_ok("conv_ring", c, st);
        } else {
            for (int32_t k = 0; k < ni && !bad; k++) {
                st = pexc_conv2d_s8_acc(&c->p, &vi, c->filter, c->kh, c->kw, ib[k], ib[k + 1],
                                        k == 0, &t, &va);
                bad = !status_ok("conv_ring_acc", c, st);
            }
            if (!bad) {
                st = pexc_requant_s32_s8(&c->p, c->bias, &va, &t, &vo);
                bad = !status_ok("conv_ring_requant", c, st);
            }
        }
        kref_conv_from_view(got, 1, &vo, y, y1, 0, c->cout);
    }
    char d[700];
    snprintf(d, sizeof d, "%s ring in=%d out=%d rows, block %d, %s", c->desc, (int)rin,
             (int)rout, (int)blk, use_acc ? "acc" : "direct");
    bad = bad || kref_conv_cmp_s8("conv_ring", d, c->ref, got, ne);
    free(vi.data);
    free(vo.data);
    free(va.data);
    free(got);
    checks++;
    return bad;
}

/* 6. pixel streaming: the output in runs of pixels crossing row ends (1, 3,
 *    ow/2+1, ... or random), first with whole views, then with the input in
 *    a pixel ring filled in raster order as a producer would and the output
 *    (and acc) in a pixel ring; direct kernel or input-channel partial sums
 *    then requantisation */
typedef struct {
    const conv_case *c;
    int use_acc;
    int32_t ni, ib[8];
    pexc_view acc; /* int32, shaped and ringed like the output */
} stream_ctx;

static pexc_status stream_tile(void *vctx, const pexc_view *in, const pexc_tile *t,
                               pexc_view *out) {
    stream_ctx *s = vctx;
    const conv_case *c = s->c;
    if (!s->use_acc) return pexc_conv2d_s8(&c->p, &in[0], c->filter, c->kh, c->kw, c->bias, t, out);
    if (!s->acc.data || s->acc.ring_px != out->ring_px) {
        kref_ops_view_free(&s->acc);
        s->acc = kref_ops_view_new(out->n, out->h, out->w, out->c, 0, out->c, out->ring_px, 4);
    }
    for (int32_t k = 0; k < s->ni; k++) {
        pexc_status st = pexc_conv2d_s8_acc(&c->p, &in[0], c->filter, c->kh, c->kw, s->ib[k],
                                            s->ib[k + 1], k == 0, t, &s->acc);
        if (st != PEXC_OK) return st;
    }
    return pexc_requant_s32_s8(&c->p, c->bias, &s->acc, t, out);
}

static int check_stream(conv_case *c) {
    kref_ops_src src = {c->in, c->n, c->h, c->w, c->cin, 1,
                        {c->sh, c->sw, c->dh, c->dw, c->kh, c->kw, c->p.pad_top, c->p.pad_left}};
    int bad = 0;
    for (int pass = 0; pass < 2 && !bad; pass++) {
        stream_ctx s = {c, kref_ops_range(&srng, 0, 1), 0, {0}, {0}};
        s.ni = kref_conv_cuts(&rng, 0, c->cin, 3, 1, s.ib);
        kref_ops_stream_cfg cfg = {kref_ops_pick_chunk(&srng, c->ow), 2 * c->ow + 1, pass,
                                   pass && kref_ops_range(&srng, 0, 3) != 0, 0, c->cout};
        if (kref_ops_range(&srng, 0, 2) == 0) {
            cfg.c0 = kref_ops_range(&srng, 0, c->cout - 1);
            cfg.c1 = kref_ops_range(&srng, cfg.c0 + 1, c->cout);
        }
        char d[700];
        snprintf(d, sizeof d, "%s %s ch [%d,%d)", c->desc, s.use_acc ? "acc" : "direct",
                 (int)cfg.c0, (int)cfg.c1);
        bad = kref_ops_stream(&srng, "conv_stream", d, &src, 1, c->n, c->oh, c->ow, c->cout, 1,
                              c->ref, &cfg, stream_tile, &s);
        kref_ops_view_free(&s.acc);
        checks++;
    }
    return bad;
}

/* ---- hand-computed fixed-point cases ---- */

static int expect_i32(const char *what, int32_t got, int32_t want) {
    checks++;
    if (got != want) {
        printf("FAIL fixedpoint: %s: want %d got %d\n", what, (int)want, (int)got);
        return 1;
    }
    return 0;
}

static int expect_qm(double real, int32_t want_m, int32_t want_s) {
    int32_t m = -1, s = -1;
    char what[96];
    snprintf(what, sizeof what, "prep_quantize_multiplier(%.17g)", real);
    if (prep_quantize_multiplier(real, &m, &s) != 0) {
        printf("FAIL fixedpoint: %s returned an error\n", what);
        return 1;
    }
    return expect_i32(what, m, want_m) | expect_i32(what, s, want_s);
}

static int check_fixedpoint(void) {
    int bad = 0;
    const int32_t half = INT32_C(1) << 30;
    bad |= expect_qm(0.5, half, 0);
    bad |= expect_qm(1.0, half, 1);
    bad |= expect_qm(0.25, half, -1);
    bad |= expect_qm(0.75, INT32_C(1610612736), 0);
    bad |= expect_qm(0.0, 0, 0);
    bad |= expect_qm(1.0 - 1e-12, half, 1);          /* q rounds up to 1.0 */
    bad |= expect_qm(0x1p-32, half, -31);            /* smallest kept exponent */
    bad |= expect_qm(0x1p-33, 0, 0);                 /* flushed to zero */
    bad |= expect_qm(0.3, INT32_C(1288490189), -1);  /* 0.6 * 2^31 rounded */
    /* Round to nearest; in SRDHM ties go up for positive and toward zero for
     * negative products, in the final shift ties go away from zero. */
    bad |= expect_i32("requant(3, 0.5)", pexc_requant(3, half, 0), 2);
    bad |= expect_i32("requant(-3, 0.5)", pexc_requant(-3, half, 0), -1);
    bad |= expect_i32("requant(-1, 0.5)", pexc_requant(-1, half, 0), 0);
    bad |= expect_i32("requant(5, 0.25)", pexc_requant(5, half, -1), 2);
    bad |= expect_i32("requant(-5, 0.25)", pexc_requant(-5, half, -1), -1);
    bad |= expect_i32("requant(-6, 0.25)", pexc_requant(-6, half, -1), -2);
    bad |= expect_i32("requant(6, 0.25)", pexc_requant(6, half, -1), 2);
    bad |= expect_i32("requant(-7, 0.25)", pexc_requant(-7, half, -1), -2);
    bad |= expect_i32("requant(-2, 0.25)", pexc_requant(-2, half, -1), -1);
    bad |= expect_i32("requant(100, 1.0)", pexc_requant(100, half, 1), 100);
    bad |= expect_i32("requant(-1000, 0.75/16)", pexc_requant(-1000, INT32_C(1610612736), -4), -47);
    bad |= expect_i32("rdivpot(-5, 1)", pexc_rdivpot(-5, 1), -3);
    bad |= expect_i32("rdivpot(5, 1)", pexc_rdivpot(5, 1), 3);
    bad |= expect_i32("srdhm(MIN, MIN)", pexc_srdhm(INT32_MIN, INT32_MIN), INT32_MAX);
    /* The kernels' inline requantisation gives pexc_requant's integers. */
    static const int32_t xs[] = {0, 1, -1, 2, -2, 3, -3, 127, -128, 1 << 20, -(1 << 20),
                                 INT32_MAX, INT32_MIN, INT32_MIN + 1, INT32_MAX - 1};
    static const int32_t ms[] = {0, INT32_C(1) << 30, INT32_C(1610612736), INT32_MAX, INT32_MAX - 1,
                                 INT32_MIN, INT32_MIN + 1, -(INT32_C(1) << 30), 1, -1};
    for (int32_t shift = -31; shift <= 30; shift++) {
        for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++)
            for (size_t j = 0; j < sizeof ms / sizeof ms[0]; j++) {
                /* pexc_requant shifts in uint32, so a left shift may wrap. */
                checks++;
                if (pexc_requant_inline(xs[i], ms[j], shift) != pexc_requant(xs[i], ms[j], shift)) {
                    printf("FAIL requant_inline(%ld, %ld, %ld)\n", (long)xs[i], (long)ms[j], (long)shift);
                    bad = 1;
                }
            }
        for (int k = 0; k < 20000; k++) {
            int32_t x = (int32_t)kref_conv_u32(&rng), m = (int32_t)kref_conv_u32(&rng);
            if (k & 1) x >>= kref_conv_range(&rng, 0, 31);
            if (k & 2) m = (int32_t)(((uint32_t)m >> 1) | UINT32_C(0x40000000));
            checks++;
            if (pexc_requant_inline(x, m, shift) != pexc_requant(x, m, shift)) {
                printf("FAIL requant_inline(%ld, %ld, %ld)\n", (long)x, (long)m, (long)shift);
                bad = 1;
            }
        }
    }
    return bad;
}

/* ---- argument validation ---- */

static int expect_status(const char *what, pexc_status got, pexc_status want) {
    checks++;
    if (got != want) {
        printf("FAIL conv_args: %s: want status %d got %d\n", what, (int)want, (int)got);
        return 1;
    }
    return 0;
}

static int check_args(void) {
    static int8_t in[1 * 6 * 5 * 4], filter[3 * 3 * 3 * 4], out[1 * 6 * 5 * 3];
    static int32_t acc[1 * 6 * 5 * 3];
    int32_t mult[3] = {INT32_C(1) << 30, INT32_C(1) << 30, INT32_C(1) << 30};
    int32_t shift[3] = {-8, -8, -8};
    pexc_conv_params p = {1, 1, 1, 1, 1, 1, 0, 0, -128, 127, mult, shift, NULL, 0};
    pexc_view vi = kref_conv_dense(in, 1, 6, 5, 4);
    pexc_view vo = kref_conv_dense(out, 1, 6, 5, 3);
    pexc_view va = kref_conv_dense(acc, 1, 6, 5, 3);
    pexc_tile t = {0, 6, 0, 3, 0, 0};
    int bad = 0;
    bad |= expect_status("valid", pexc_conv2d_s8(&p, &vi, filter, 3, 3, NULL, &t, &vo), PEXC_OK);
    pexc_tile e = {2, 2, 0, 3, 0, 0};
    bad |= expect_status("empty tile", pexc_conv2d_s8(&p, &vi, filter, 3, 3, NULL, &e, &vo), PEXC_OK);
    pexc_tile tb = {0, 7, 0, 3, 0, 0};
    bad |= expect_status("rows past end", pexc_conv2d_s8(&p, &vi, filter, 3, 3, NULL, &tb, &vo), PEXC_ERR_ARG);
    tb = (pexc_tile){0, 6, 1, 4, 0, 0};
    bad |= expect_status("channels past end", pexc_conv2d_s8(&p, &vi, filter, 3, 3, NULL, &tb, &vo), PEXC_ERR_ARG);
    tb = (pexc_tile){3, 2, 0, 3, 0, 0};
    bad |= expect_status("y0 > y1", pexc_conv2d_s8(&p, &vi, filter, 3, 3, NULL, &tb, &vo), PEXC_ERR_ARG);
    bad |= expect_status("NULL filter", pexc_conv2d_s8(&p, &vi, NULL, 3, 3, NULL, &t, &vo), PEXC_ERR_ARG);
    bad |= expect_status("NULL tile", pexc_conv2d_s8(&p, &vi, filter, 3, 3, NULL, NULL, &vo), PEXC_ERR_ARG);
    bad |= expect_status("NULL params", pexc_conv2d_s8(NULL, &vi, filter, 3, 3, NULL, &t, &vo), PEXC_ERR_ARG);
    {   /* an input offset that is not minus an int8 zero point */
        pexc_conv_params q = p;
        q.input_offset = 129;
        bad |= expect_status("input offset 129", pexc_conv2d_s8(&q, &vi, filter, 3, 3, NULL, &t, &vo), PEXC_ERR_ARG);
        q.input_offset = -128;
        bad |= expect_status("input offset -128", pexc_conv2d_s8(&q, &vi, filter, 3, 3, NULL, &t, &vo), PEXC_ERR_ARG);
        q.input_offset = 128;
        bad |= expect_status("input offset 128", pexc_conv2d_s8(&q, &vi, filter, 3, 3, NULL, &t, &vo), PEXC_OK);
    }
    pexc_view v2 = vi;
    v2.data = NULL;
    bad |= expect_status("NULL data", pexc_conv2d_s8(&p, &v2, filter, 3, 3, NULL, &t, &vo), PEXC_ERR_ARG);
    v2 = vi;
    v2.c_begin = 1;
    v2.c_stored = 3;
    bad |= expect_status("input misses channels", pexc_conv2d_s8(&p, &v2, filter, 3, 3, NULL, &t, &vo), PEXC_ERR_ARG);
    bad |= expect_status("acc on stored slice",
                         pexc_conv2d_s8_acc(&p, &v2, filter, 3, 3, 1, 4, 1, &t, &va), PEXC_OK);
    bad |= expect_status("acc outside stored slice",
                         pexc_conv2d_s8_acc(&p, &v2, filter, 3, 3, 0, 4, 1, &t, &va), PEXC_ERR_ARG);
    bad |= expect_status("acc ic1 > Cin",
                         pexc_conv2d_s8_acc(&p, &vi, filter, 3, 3, 0, 5, 1, &t, &va), PEXC_ERR_ARG);
    v2 = vo;
    v2.c_begin = 1;
    v2.c_stored = 2;
    bad |= expect_status("output slice misses tile", pexc_conv2d_s8(&p, &vi, filter, 3, 3, NULL, &t, &v2), PEXC_ERR_ARG);
    v2.ring_px = 2 * 5;
    tb = (pexc_tile){0, 3, 1, 3, 0, 0};
    bad |= expect_status("tile taller than output ring", pexc_conv2d_s8(&p, &vi, filter, 3, 3, NULL, &tb, &v2), PEXC_ERR_ARG);
    tb = (pexc_tile){0, 2, 1, 3, 0, 0};
    bad |= expect_status("tile fits output ring", pexc_conv2d_s8(&p, &vi, filter, 3, 3, NULL, &tb, &v2), PEXC_OK);
    v2.ring_px = 7;
    tb = (pexc_tile){1, 3, 1, 3, 2, 4}; /* (1,2)..(2,3): 7 pixels */
    bad |= expect_status("pixel tile fits output ring", pexc_conv2d_s8(&p, &vi, filter, 3, 3, NULL, &tb, &v2), PEXC_OK);
    tb = (pexc_tile){1, 3, 1, 3, 2, 0}; /* (1,2)..(2,4): 8 pixels */
    bad |= expect_status("pixel tile larger than output ring", pexc_conv2d_s8(&p, &vi, filter, 3, 3, NULL, &tb, &v2), PEXC_ERR_ARG);
    v2 = vi;
    v2.ring_px = 3 * 5;
    tb = (pexc_tile){2, 3, 0, 3, 0, 0};
    bad |= expect_status("input ring holds rows 1..3", pexc_conv2d_s8(&p, &v2, filter, 3, 3, NULL, &tb, &vo), PEXC_OK);
    tb = (pexc_tile){2, 4, 0, 3, 0, 0};
    bad |= expect_status("input ring too small", pexc_conv2d_s8(&p, &v2, filter, 3, 3, NULL, &tb, &vo), PEXC_ERR_ARG);
    /* pixel tiles: 3x3 SAME on 6x5; (2,3)..(3,1) reads input (1,2)..(4,2),
     * raster 7..22: 16 pixels */
    v2.ring_px = 16;
    tb = (pexc_tile){2, 4, 0, 3, 3, 2};
    bad |= expect_status("input ring holds the pixel tile's window", pexc_conv2d_s8(&p, &v2, filter, 3, 3, NULL, &tb, &vo), PEXC_OK);
    bad |= expect_status("acc: input ring holds the window", pexc_conv2d_s8_acc(&p, &v2, filter, 3, 3, 0, 4, 1, &tb, &va), PEXC_OK);
    v2.ring_px = 15;
    bad |= expect_status("input ring a pixel too small", pexc_conv2d_s8(&p, &v2, filter, 3, 3, NULL, &tb, &vo), PEXC_ERR_ARG);
    bad |= expect_status("acc: input ring a pixel too small", pexc_conv2d_s8_acc(&p, &v2, filter, 3, 3, 0, 4, 1, &tb, &va), PEXC_ERR_ARG);
    /* tile shapes pexc_tile_valid refuses */
    tb = (pexc_tile){1, 3, 0, 3, 5, 0};
    bad |= expect_status("x0 == w", pexc_conv2d_s8(&p, &vi, filter, 3, 3, NULL, &tb, &vo), PEXC_ERR_ARG);
    tb = (pexc_tile){1, 3, 0, 3, 0, 6};
    bad |= expect_status("x1 > w", pexc_conv2d_s8(&p, &vi, filter, 3, 3, NULL, &tb, &vo), PEXC_ERR_ARG);
    tb = (pexc_tile){1, 3, 0, 3, -1, 0};
    bad |= expect_status("x0 < 0", pexc_conv2d_s8(&p, &vi, filter, 3, 3, NULL, &tb, &vo), PEXC_ERR_ARG);
    tb = (pexc_tile){2, 3, 0, 3, 3, 3};
    bad |= expect_status("no pixels (x1 == x0, one row)", pexc_conv2d_s8(&p, &vi, filter, 3, 3, NULL, &tb, &vo), PEXC_ERR_ARG);
    tb = (pexc_tile){2, 3, 0, 3, 3, 1};
    bad |= expect_status("no pixels (x1 < x0, one row)", pexc_conv2d_s8(&p, &vi, filter, 3, 3, NULL, &tb, &vo), PEXC_ERR_ARG);
    bad |= expect_status("requant: no pixels", pexc_requant_s32_s8(&p, NULL, &va, &tb, &vo), PEXC_ERR_ARG);
    tb = (pexc_tile){2, 3, 0, 3, 3, 4};
    bad |= expect_status("one pixel", pexc_conv2d_s8(&p, &vi, filter, 3, 3, NULL, &tb, &vo), PEXC_OK);
    {
        pexc_view rv = vo;
        rv.ring_px = 4;
        pexc_tile tv = {1, 2, 0, 3, 0, 4};
        checks++;
        if (!pexc_tile_valid(&tv, &rv)) {
            printf("FAIL conv_args: pexc_tile_valid refuses 4 pixels in a ring of 4\n");
            bad = 1;
        }
        tv.x1 = 0; /* the whole row: 5 pixels */
        checks++;
        if (pexc_tile_valid(&tv, &rv)) {
            printf("FAIL conv_args: pexc_tile_valid accepts 5 pixels in a ring of 4\n");
            bad = 1;
        }
    }
    /* 5x5 SAME on a 4x6 input: the tile (0,5), (1,0) reads raster 0..20
     * (output row 1 reads input row 0 from column 0, left of (0,5)'s window) */
    {
        static int8_t in46[4 * 6 * 4], f5[3 * 5 * 5 * 4], out46[4 * 6 * 3];
        pexc_conv_params p5 = p;
        p5.pad_top = p5.pad_left = 2;
        pexc_view r46 = kref_conv_dense(in46, 1, 4, 6, 4);
        pexc_view o46 = kref_conv_dense(out46, 1, 4, 6, 3);
        pexc_tile t46 = {0, 2, 0, 3, 5, 1};
        r46.ring_px = 21;
        bad |= expect_status("top padding: ring holds rows 0..3", pexc_conv2d_s8(&p5, &r46, f5, 5, 5, NULL, &t46, &o46), PEXC_OK);
        r46.ring_px = 20;
        bad |= expect_status("top padding: ring misses (0,0)", pexc_conv2d_s8(&p5, &r46, f5, 5, 5, NULL, &t46, &o46), PEXC_ERR_ARG);
    }
    pexc_conv_params q = p;
    q.stride_h = 0;
    bad |= expect_status("stride 0", pexc_conv2d_s8(&q, &vi, filter, 3, 3, NULL, &t, &vo), PEXC_ERR_ARG);
    q = p;
    q.act_min = 5;
    q.act_max = 4;
    bad |= expect_status("act_min > act_max", pexc_conv2d_s8(&q, &vi, filter, 3, 3, NULL, &t, &vo), PEXC_ERR_ARG);
    q = p;
    q.out_mult = NULL;
    bad |= expect_status("NULL multipliers", pexc_conv2d_s8(&q, &vi, filter, 3, 3, NULL, &t, &vo), PEXC_ERR_ARG);
    bad |= expect_status("kh 0", pexc_conv2d_s8(&p, &vi, filter, 0, 3, NULL, &t, &vo), PEXC_ERR_ARG);
    v2 = vi;
    v2.n = 2;
    bad |= expect_status("batch mismatch", pexc_conv2d_s8(&p, &v2, filter, 3, 3, NULL, &t, &vo), PEXC_ERR_ARG);
    bad |= expect_status("requant valid", pexc_requant_s32_s8(&p, NULL, &va, &t, &vo), PEXC_OK);
    v2 = va;
    v2.w = 4;
    bad |= expect_status("requant shape mismatch", pexc_requant_s32_s8(&p, NULL, &v2, &t, &vo), PEXC_ERR_ARG);
    return bad;
}

int main(void) {
    int bad = check_fixedpoint() | check_args();
    int ncases = 0;
    for (int i = 0; i < NCASES && !bad; i++) {
        conv_case c;
        make_case(&c);
        bad = check_full(&c) || check_short(&c) || check_one_tile(&c) || check_slices(&c) || check_acc(&c) ||
              check_ring(&c) || check_stream(&c);
        free_case(&c);
        ncases++;
    }
    if (bad) return 1;
    /* the short form must have been proved often enough to test its paths */
    if (short_cases < ncases / 4) {
        printf("FAIL conv_short: only %ld of %d cases took the short requantisation\n", short_cases, ncases);
        return 1;
    }
    printf("test_conv: OK (%d random cases, %ld with the short requantisation, %ld checks)\n", ncases,
           short_cases, checks);
    return 0;
}
