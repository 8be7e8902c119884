/*
 * PAD int8 against a nested-loop reference on random shapes and paddings
 * along all four axes, whole tensor and in random row x channel tiles through
 * channel-slice and ring views, and in runs of output pixels that cross row
 * ends, whole or through pixel rings whose rows wrap mid-row
 * (kref_ops_stream).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kref_ops.h"

static pexc_status pad_tile(void *ctx, const pexc_view *in, const pexc_tile *t, pexc_view *out) {
    return pexc_pad_s8((const pexc_pad_params *)ctx, &in[0], t, out);
}

static int run_case(kref_ops_rng *r, int idx) {
    int32_t in_d[4] = {kref_ops_range(r, 1, 2), kref_ops_range(r, 1, 7), kref_ops_range(r, 1, 7),
                       kref_ops_range(r, 1, 8)};
    pexc_pad_params p;
    int32_t od[4];
    for (int i = 0; i < 4; i++) {
        int32_t maxpad = i == 0 ? 1 : 3;
        p.before[i] = kref_ops_range(r, 0, 2) ? kref_ops_range(r, 0, maxpad) : 0;
        od[i] = in_d[i] + p.before[i] + (kref_ops_range(r, 0, 2) ? kref_ops_range(r, 0, maxpad) : 0);
    }
    p.pad_value = (int8_t)kref_ops_range(r, -128, 127);
    char desc[200];
    snprintf(desc, sizeof desc, "case %d in %dx%dx%dx%d out %dx%dx%dx%d before %d,%d,%d,%d pad %d",
             idx, in_d[0], in_d[1], in_d[2], in_d[3], od[0], od[1], od[2], od[3], p.before[0],
             p.before[1], p.before[2], p.before[3], p.pad_value);
    size_t ni = (size_t)in_d[0] * in_d[1] * in_d[2] * in_d[3], no = (size_t)od[0] * od[1] * od[2] * od[3];
    int8_t *in = malloc(ni), *want = malloc(no), *got = malloc(no);
    kref_ops_fill_s8(r, in, ni);
    for (int32_t n = 0; n < od[0]; n++)
        for (int32_t y = 0; y < od[1]; y++)
            for (int32_t x = 0; x < od[2]; x++)
                for (int32_t c = 0; c < od[3]; c++) {
                    int32_t i0 = n - p.before[0], i1 = y - p.before[1], i2 = x - p.before[2],
                            i3 = c - p.before[3];
                    int inside = i0 >= 0 && i0 < in_d[0] && i1 >= 0 && i1 < in_d[1] && i2 >= 0 &&
                                 i2 < in_d[2] && i3 >= 0 && i3 < in_d[3];
                    want[(((size_t)n * od[1] + y) * od[2] + x) * od[3] + c] =
                        inside ? in[(((size_t)i0 * in_d[1] + i1) * in_d[2] + i2) * in_d[3] + i3]
                               : p.pad_value;
                }
    int fail = 0;
    for (int tiled = 0; tiled < 2 && !fail; tiled++) {
        memset(got, 0, no);
        for (int32_t y0 = 0; y0 < od[1] && !fail;) {
            int32_t y1 = tiled ? y0 + kref_ops_range(r, 1, od[1] - y0) : od[1];
            for (int32_t c0 = 0; c0 < od[3] && !fail;) {
                int32_t c1 = tiled ? c0 + kref_ops_range(r, 1, od[3] - c0) : od[3];
                /* input rows / channels this tile reads, clipped */
                int32_t iy0 = y0 - p.before[1], iy1 = y1 - p.before[1];
                int32_t ic0 = c0 - p.before[3], ic1 = c1 - p.before[3];
                iy0 = iy0 < 0 ? 0 : iy0;
                iy1 = iy1 > in_d[1] ? in_d[1] : iy1;
                ic0 = ic0 < 0 ? 0 : ic0;
                ic1 = ic1 > in_d[3] ? in_d[3] : ic1;
                int32_t cb = 0, cs = in_d[3], ring = 0;
                if (tiled && ic0 < ic1) {
                    cb = kref_ops_range(r, 0, ic0);
                    cs = kref_ops_range(r, ic1, in_d[3]) - cb;
                }
                /* a ring of the rows read: ring_px = rows * width */
                if (tiled && iy0 < iy1 && kref_ops_range(r, 0, 1)) ring = (iy1 - iy0) * in_d[2];
                pexc_view vi = kref_ops_view_new(in_d[0], in_d[1], in_d[2], in_d[3], cb, cs, ring, 1);
                if (iy0 < iy1) kref_ops_view_put(&vi, in, 1, iy0, iy1);
                pexc_view vo = kref_ops_view_new(od[0], od[1], od[2], od[3], tiled ? c0 : 0,
                                                 tiled ? c1 - c0 : od[3], tiled ? (y1 - y0) * od[2] : 0, 1);
                pexc_tile t = {y0, y1, c0, c1, 0, 0};
                pexc_status st = pexc_pad_s8(&p, &vi, &t, &vo);
                if (st != PEXC_OK) fail = kref_ops_fail("pad", "%s: status %d", desc, (int)st);
                kref_ops_view_get(&vo, got, 1, y0, y1, c0, c1);
                kref_ops_view_free(&vi);
                kref_ops_view_free(&vo);
                c0 = c1;
            }
            y0 = y1;
        }
        if (!fail) {
            char d2[240];
            snprintf(d2, sizeof d2, "%s%s", desc, tiled ? " (tiled)" : "");
            fail = kref_ops_cmp_s8("pad", d2, want, got, no);
        }
    }
    /* pixel streaming: output (y, x) reads input (y - bh, x - bw) */
    kref_ops_src src = {in, in_d[0], in_d[1], in_d[2], in_d[3], 1,
                        {1, 1, 1, 1, 1, 1, p.before[1], p.before[2]}};
    for (int pass = 0; pass < 2 && !fail; pass++) {
        kref_ops_stream_cfg cfg = {kref_ops_pick_chunk(r, od[2]), 2 * od[2] + 1, pass,
                                   pass && kref_ops_range(r, 0, 3) != 0, 0, od[3]};
        if (kref_ops_range(r, 0, 2) == 0) {
            cfg.c0 = kref_ops_range(r, 0, od[3] - 1);
            cfg.c1 = kref_ops_range(r, cfg.c0 + 1, od[3]);
        }
        fail = kref_ops_stream(r, "pad", desc, &src, 1, od[0], od[1], od[2], od[3], 1, want, &cfg,
                               pad_tile, &p);
    }
    free(in);
    free(want);
    free(got);
    return fail;
}

static int bad_args(void) {
    int8_t a[64] = {0}, o[200] = {0};
    pexc_pad_params p = {{0, 1, 1, 0}, -3};
    pexc_view vi = {a, 1, 3, 3, 4, 0, 4, 0}, vo = {o, 1, 5, 5, 4, 0, 4, 0};
    pexc_tile t = {0, 5, 0, 4, 0, 0};
    if (pexc_pad_s8(&p, &vi, &t, &vo) != PEXC_OK) return kref_ops_fail("args", "valid");
    pexc_pad_params bp = {{0, 3, 1, 0}, 0};
    if (pexc_pad_s8(&bp, &vi, &t, &vo) != PEXC_ERR_ARG) return kref_ops_fail("args", "too much pad");
    pexc_pad_params np = {{0, -1, 1, 0}, 0};
    if (pexc_pad_s8(&np, &vi, &t, &vo) != PEXC_ERR_ARG) return kref_ops_fail("args", "negative pad");
    pexc_view sl = {a, 1, 3, 3, 4, 2, 2, 0};
    if (pexc_pad_s8(&p, &sl, &t, &vo) != PEXC_ERR_ARG) return kref_ops_fail("args", "slice");
    /* pixel tiles: rows 1, 2 and (3,0) copy input rows 0, 1 (raster 0..5);
     * (3,0) itself is left padding */
    pexc_tile tp = {1, 4, 0, 4, 0, 1};
    pexc_view ring = vi;
    ring.ring_px = 6;
    if (pexc_pad_s8(&p, &ring, &tp, &vo) != PEXC_OK) return kref_ops_fail("args", "ring holds the pixels");
    ring.ring_px = 5;
    if (pexc_pad_s8(&p, &ring, &tp, &vo) != PEXC_ERR_ARG) return kref_ops_fail("args", "ring a pixel short");
    /* 3 columns of left padding: row 1 and (2,0) copy input row 1 only */
    pexc_pad_params p3 = {{0, 0, 3, 0}, 0};
    pexc_view vo3 = {o, 1, 3, 6, 4, 0, 4, 0};
    pexc_tile t3 = {0, 3, 0, 4, 5, 1};
    ring.ring_px = 4; /* (0,5) copies (0,2): raster 2..5 */
    if (pexc_pad_s8(&p3, &ring, &t3, &vo3) != PEXC_OK) return kref_ops_fail("args", "left pad: ring of 4");
    ring.ring_px = 3;
    if (pexc_pad_s8(&p3, &ring, &t3, &vo3) != PEXC_ERR_ARG) return kref_ops_fail("args", "left pad: ring of 3");
    pexc_tile tx = {1, 2, 0, 4, 5, 0}, te = {1, 2, 0, 4, 2, 1};
    if (pexc_pad_s8(&p, &vi, &tx, &vo) != PEXC_ERR_ARG) return kref_ops_fail("args", "x0 == w");
    if (pexc_pad_s8(&p, &vi, &te, &vo) != PEXC_ERR_ARG) return kref_ops_fail("args", "no pixels");
    pexc_view oring = vo;
    oring.ring_px = 5;
    if (pexc_pad_s8(&p, &vi, &tp, &oring) != PEXC_ERR_ARG) return kref_ops_fail("args", "11 pixels in an output ring of 5");
    return 0;
}

int main(void) {
    kref_ops_rng r = {UINT64_C(0x9AD)};
    int cases = 0;
    if (bad_args()) return 1;
    for (int i = 0; i < 500; i++, cases++)
        if (run_case(&r, i)) return 1;
    printf("test_pad: %d random pad cases (whole + tiled/slice/ring) OK\n", cases);
    return 0;
}
