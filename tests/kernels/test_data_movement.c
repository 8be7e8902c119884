/*
 * TRANSPOSE and CONCATENATION on random shapes, permutations, input counts
 * and element sizes, against references that compute every output element's
 * source from its multi-index (a different walk from the kernels').
 *
 * The tiled int8 transpose (pexc_transpose_s8_tile) writes output rows, or
 * runs of pixels crossing row ends, into whole, channel-slice and ring views
 * (rings of whole rows or of any number of pixels); after every tile the
 * view's whole storage must equal pexc_transpose's bytes at the tile's
 * elements and be untouched everywhere else.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kref_ops.h"

static int transpose_case(kref_ops_rng *r, int idx) {
    static const size_t sizes[3] = {1, 2, 4};
    pexc_transpose_params p;
    size_t es = sizes[kref_ops_range(r, 0, 2)];
    p.rank = kref_ops_range(r, 1, 6);
    size_t total = 1;
    for (int32_t i = 0; i < p.rank; i++) {
        p.in_dims[i] = kref_ops_range(r, 1, p.rank > 4 ? 4 : 6);
        if (kref_ops_range(r, 0, 40) == 0) p.in_dims[i] = 0; /* empty tensor */
        total *= (size_t)p.in_dims[i];
        p.perm[i] = i;
    }
    for (int32_t i = p.rank - 1; i > 0; i--) { /* Fisher-Yates */
        int32_t j = kref_ops_range(r, 0, i), t = p.perm[i];
        p.perm[i] = p.perm[j];
        p.perm[j] = t;
    }
    char desc[160];
    int len = snprintf(desc, sizeof desc, "case %d elem %lu dims", idx, (unsigned long)es);
    for (int32_t i = 0; i < p.rank; i++) len += snprintf(desc + len, sizeof desc - (size_t)len, " %d", p.in_dims[i]);
    len += snprintf(desc + len, sizeof desc - (size_t)len, " perm");
    for (int32_t i = 0; i < p.rank; i++) len += snprintf(desc + len, sizeof desc - (size_t)len, " %d", p.perm[i]);

    unsigned char *in = malloc(total * es + 1), *want = malloc(total * es + 1), *got = malloc(total * es + 1);
    kref_ops_fill_s8(r, (int8_t *)in, total * es);
    int32_t od[6];
    for (int32_t i = 0; i < p.rank; i++) od[i] = p.in_dims[p.perm[i]];
    for (size_t o = 0; o < total; o++) {
        /* output multi-index of o, then the input offset it reads */
        int32_t oi[6], ii[6];
        size_t rem = o;
        for (int32_t i = p.rank - 1; i >= 0; i--) {
            oi[i] = (int32_t)(rem % (size_t)od[i]);
            rem /= (size_t)od[i];
        }
        for (int32_t i = 0; i < p.rank; i++) ii[p.perm[i]] = oi[i];
        size_t src = 0;
        for (int32_t i = 0; i < p.rank; i++) src = src * (size_t)p.in_dims[i] + (size_t)ii[i];
        memcpy(want + o * es, in + src * es, es);
    }
    memset(got, 0, total * es + 1);
    int fail = 0;
    if (pexc_transpose(&p, es, in, got) != PEXC_OK) fail = kref_ops_fail("transpose", "%s: status", desc);
    if (!fail) fail = kref_ops_cmp_s8("transpose", desc, (int8_t *)want, (int8_t *)got, total * es);
    free(in);
    free(want);
    free(got);
    return fail;
}

static int concat_case(kref_ops_rng *r, int idx) {
    static const size_t sizes[3] = {1, 2, 4};
    size_t es = sizes[kref_ops_range(r, 0, 2)];
    int32_t k = kref_ops_range(r, 1, 6), outer = kref_ops_range(r, 0, 6);
    int32_t inner[6];
    void *bufs[6];
    const void *ins[6];
    size_t row = 0;
    for (int32_t i = 0; i < k; i++) {
        inner[i] = kref_ops_range(r, 0, 9);
        row += (size_t)inner[i];
        size_t bytes = (size_t)outer * (size_t)inner[i] * es;
        bufs[i] = malloc(bytes + 1);
        kref_ops_fill_s8(r, bufs[i], bytes);
        ins[i] = bufs[i];
    }
    char desc[80];
    snprintf(desc, sizeof desc, "case %d inputs %d outer %d elem %lu", idx, k, outer,
             (unsigned long)es);
    size_t total = (size_t)outer * row * es;
    unsigned char *want = malloc(total + 1), *got = malloc(total + 1);
    for (int32_t o = 0; o < outer; o++) {
        size_t pos = 0;
        for (int32_t i = 0; i < k; i++)
            for (int32_t e = 0; e < inner[i]; e++, pos++)
                memcpy(want + ((size_t)o * row + pos) * es,
                       (unsigned char *)bufs[i] + ((size_t)o * inner[i] + e) * es, es);
    }
    int fail = 0;
    if (pexc_concat(k, ins, inner, outer, es, got) != PEXC_OK) fail = kref_ops_fail("concat", "%s: status", desc);
    if (!fail) fail = kref_ops_cmp_s8("concat", desc, (int8_t *)want, (int8_t *)got, total);
    for (int32_t i = 0; i < k; i++) free(bufs[i]);
    free(want);
    free(got);
    return fail;
}

/* ---- tiled int8 transpose into views ---- */

/* Writes the output of transpose(in) into view v in tiles of `px` pixels in
 * raster order (px 0: random lengths up to the ring's size), crossing row
 * ends, channels [c0, c1), checking after each tile that v's storage equals
 * `shadow` (what it must hold: junk plus every tile written so far, taken
 * from pexc_transpose's output want). */
static int tile_walk(kref_ops_rng *r, const char *desc, const pexc_transpose_params *p,
                     const int8_t *in, const int8_t *want, pexc_view *v, int32_t px,
                     int32_t c0, int32_t c1) {
    size_t bytes = kref_ops_view_bytes(v, 1);
    int8_t *shadow = malloc(bytes);
    memcpy(shadow, v->data, bytes);
    const int64_t npx = (int64_t)v->h * v->w;
    int fail = 0;
    for (int64_t q0 = 0; q0 < npx && !fail;) {
        int64_t step = px ? px : kref_ops_range(r, 1, v->ring_px ? v->ring_px : (int32_t)npx);
        int64_t q1 = q0 + step > npx ? npx : q0 + step;
        pexc_tile t = kref_ops_px_tile(v->w, q0, q1, c0, c1);
        pexc_status st = pexc_transpose_s8_tile(p, in, &t, v);
        char d2[300];
        snprintf(d2, sizeof d2, "%s view ring %d px ch [%d,%d) stored [%d,%d) tile px [%ld,%ld)",
                 desc, v->ring_px, c0, c1, v->c_begin, v->c_begin + v->c_stored, (long)q0,
                 (long)q1);
        if (st != PEXC_OK) {
            fail = kref_ops_fail("transpose_tile", "%s: status %d", d2, (int)st);
            break;
        }
        for (int32_t n = 0; n < v->n; n++)
            for (int64_t q = q0; q < q1; q++)
                for (int32_t ch = c0; ch < c1; ch++) {
                    int32_t y = (int32_t)(q / v->w), x = (int32_t)(q % v->w);
                    shadow[pexc_view_index(v, n, y, x, ch)] =
                        want[(((size_t)n * (size_t)v->h + (size_t)y) * (size_t)v->w + (size_t)x) *
                                 (size_t)v->c + (size_t)ch];
                }
        fail = kref_ops_cmp_s8("transpose_tile", d2, shadow, (const int8_t *)v->data, bytes);
        q0 = q1;
    }
    free(shadow);
    return fail;
}

/* One shape/permutation: reference from pexc_transpose (checked against the
 * multi-index reference above), then tiles into a whole view, a ring view
 * and a channel slice. rows: tile height in whole rows (0: random pixel
 * runs); ring: rows of the ring view (0: one tile's worth). Then runs of 1,
 * 3 and w/2+1 pixels (crossing row ends) into pixel rings of a tile plus
 * 0..2 pixels, rarely a whole number of rows. */
static int tile_case(kref_ops_rng *r, const char *desc, const pexc_transpose_params *p,
                     int32_t rows, int32_t ring) {
    size_t total = 1;
    for (int32_t i = 0; i < p->rank; i++) total *= (size_t)p->in_dims[i];
    int8_t *in = malloc(total), *want = malloc(total);
    kref_ops_fill_s8(r, in, total);
    int fail = 0;
    if (pexc_transpose(p, 1, in, want) != PEXC_OK)
        fail = kref_ops_fail("transpose_tile", "%s: reference status", desc);
    int32_t d[4] = {1, 1, 1, 1};
    for (int32_t i = 0; i < p->rank; i++) d[4 - p->rank + i] = p->in_dims[p->perm[i]];
    int32_t max_rows = rows ? rows : 1, w = d[2];
    if (!fail) { /* whole view, all channels */
        pexc_view v = kref_ops_view_new(d[0], d[1], d[2], d[3], 0, d[3], 0, 1);
        fail = tile_walk(r, desc, p, in, want, &v, rows * w, 0, d[3]);
        kref_ops_view_free(&v);
    }
    if (!fail && (ring || rows)) { /* ring view; ring rows >= tile rows */
        int32_t rr = ring ? ring : max_rows;
        if (rr < max_rows) rr = max_rows;
        pexc_view v = kref_ops_view_new(d[0], d[1], d[2], d[3], 0, d[3], rr * w, 1);
        fail = tile_walk(r, desc, p, in, want, &v, rows * w, 0, d[3]);
        kref_ops_view_free(&v);
    }
    if (!fail) { /* a channel slice, ring or not, tiles on a sub-range */
        int32_t c0 = kref_ops_range(r, 0, d[3] - 1), c1 = kref_ops_range(r, c0 + 1, d[3]);
        int32_t cb = kref_ops_range(r, 0, c0), ce = kref_ops_range(r, c1, d[3]);
        int32_t rr = kref_ops_range(r, 0, 1) ? max_rows + kref_ops_range(r, 0, 2) : 0;
        if (!rows && rr) rr = kref_ops_range(r, 1, d[1]);
        pexc_view v = kref_ops_view_new(d[0], d[1], d[2], d[3], cb, ce - cb, rr * w, 1);
        fail = tile_walk(r, desc, p, in, want, &v, rows * w, c0, c1);
        kref_ops_view_free(&v);
    }
    static const int32_t kinds[3] = {1, 3, 0};
    for (int k = 0; k < 3 && !fail; k++) { /* pixel runs into pixel rings */
        int32_t px = kinds[k] ? kinds[k] : w / 2 + 1;
        int32_t rp = px + (kref_ops_range(r, 0, 1) ? 0 : kref_ops_range(r, 1, 2));
        int32_t c0 = kref_ops_range(r, 0, d[3] - 1), c1 = kref_ops_range(r, c0 + 1, d[3]);
        pexc_view v = kref_ops_view_new(d[0], d[1], d[2], d[3], 0, d[3], rp, 1);
        fail = tile_walk(r, desc, p, in, want, &v, px, c0, c1);
        kref_ops_view_free(&v);
    }
    free(in);
    free(want);
    return fail;
}

static int tile_tests(kref_ops_rng *r, int *cases) {
    /* NCHW -> NHWC: [1, 3, 7, 5] perm {0, 2, 3, 1} -> [1, 7, 5, 3] */
    pexc_transpose_params nchw = {4, {1, 3, 7, 5}, {0, 2, 3, 1}};
    for (int32_t rows = 1; rows <= 2; rows++) {
        char desc[80];
        snprintf(desc, sizeof desc, "NCHW->NHWC 1x3x7x5 tiles of %d", rows);
        if (tile_case(r, desc, &nchw, rows, 2)) return 1;
        (*cases)++;
    }
    /* random ranks 1..4, extents, permutations, tile heights */
    for (int idx = 0; idx < 300; idx++) {
        pexc_transpose_params p;
        p.rank = kref_ops_range(r, 1, 4);
        for (int32_t i = 0; i < p.rank; i++) {
            p.in_dims[i] = kref_ops_range(r, 1, 7);
            p.perm[i] = i;
        }
        for (int32_t i = p.rank - 1; i > 0; i--) {
            int32_t j = kref_ops_range(r, 0, i), t = p.perm[i];
            p.perm[i] = p.perm[j];
            p.perm[j] = t;
        }
        int32_t rows = kref_ops_range(r, 0, 3);
        int32_t ring = kref_ops_range(r, 0, 1) ? kref_ops_range(r, 1, 4) : 0;
        char desc[160];
        int len = snprintf(desc, sizeof desc, "tile case %d rows %d dims", idx, rows);
        for (int32_t i = 0; i < p.rank; i++) len += snprintf(desc + len, sizeof desc - (size_t)len, " %d", p.in_dims[i]);
        len += snprintf(desc + len, sizeof desc - (size_t)len, " perm");
        for (int32_t i = 0; i < p.rank; i++) len += snprintf(desc + len, sizeof desc - (size_t)len, " %d", p.perm[i]);
        if (tile_case(r, desc, &p, rows, ring)) return 1;
        (*cases)++;
    }
    return 0;
}

static int tile_bad_args(void) {
    int8_t a[105] = {0}, o[105] = {0};
    const char *T = "transpose_tile args";
    pexc_transpose_params p = {4, {1, 3, 7, 5}, {0, 2, 3, 1}};
    pexc_view v = {o, 1, 7, 5, 3, 0, 3, 0};
    pexc_tile t = {0, 7, 0, 3, 0, 0};
    if (pexc_transpose_s8_tile(&p, a, &t, &v) != PEXC_OK) return kref_ops_fail(T, "valid");
    if (pexc_transpose_s8_tile(NULL, a, &t, &v) != PEXC_ERR_ARG) return kref_ops_fail(T, "null p");
    if (pexc_transpose_s8_tile(&p, NULL, &t, &v) != PEXC_ERR_ARG) return kref_ops_fail(T, "null in");
    if (pexc_transpose_s8_tile(&p, a, NULL, &v) != PEXC_ERR_ARG) return kref_ops_fail(T, "null t");
    if (pexc_transpose_s8_tile(&p, a, &t, NULL) != PEXC_ERR_ARG) return kref_ops_fail(T, "null out");
    pexc_view nd = v;
    nd.data = NULL;
    if (pexc_transpose_s8_tile(&p, a, &t, &nd) != PEXC_ERR_ARG) return kref_ops_fail(T, "null data");
    /* rank and permutation */
    pexc_transpose_params q = p;
    q.rank = 0;
    if (pexc_transpose_s8_tile(&q, a, &t, &v) != PEXC_ERR_ARG) return kref_ops_fail(T, "rank 0");
    pexc_transpose_params q5 = {5, {1, 1, 3, 7, 5}, {0, 1, 3, 4, 2}};
    if (pexc_transpose_s8_tile(&q5, a, &t, &v) != PEXC_ERR_ARG) return kref_ops_fail(T, "rank 5");
    q = p;
    q.perm[3] = 2; /* {0, 2, 3, 2} */
    if (pexc_transpose_s8_tile(&q, a, &t, &v) != PEXC_ERR_ARG) return kref_ops_fail(T, "not a permutation");
    q = p;
    q.perm[0] = 4;
    if (pexc_transpose_s8_tile(&q, a, &t, &v) != PEXC_ERR_ARG) return kref_ops_fail(T, "perm out of range");
    /* view shape must be the permuted dims */
    pexc_view un = {o, 1, 3, 7, 5, 0, 5, 0}; /* the input's shape, not the output's */
    if (pexc_transpose_s8_tile(&p, a, &t, &un) != PEXC_ERR_ARG) return kref_ops_fail(T, "unpermuted view");
    pexc_view wn = {o, 1, 7, 3, 5, 0, 5, 0}; /* right extents, wrong order */
    pexc_tile t5 = {0, 7, 0, 5, 0, 0};
    if (pexc_transpose_s8_tile(&p, a, &t5, &wn) != PEXC_ERR_ARG) return kref_ops_fail(T, "wrong order");
    /* one extent off at a time (n, h, w, c), each with a tile inside it */
    static const int32_t off[4][4] = {{2, 7, 5, 3}, {1, 6, 5, 3}, {1, 7, 4, 3}, {1, 7, 5, 2}};
    for (int i = 0; i < 4; i++) {
        pexc_view bv = {o, off[i][0], off[i][1], off[i][2], off[i][3], 0, off[i][3], 0};
        pexc_tile bt = {0, 1, 0, 1, 0, 0};
        if (pexc_transpose_s8_tile(&p, a, &bt, &bv) != PEXC_ERR_ARG)
            return kref_ops_fail(T, "view extent %d off", i);
    }
    pexc_transpose_params r3 = {3, {3, 7, 5}, {1, 2, 0}}; /* -> [1, 7, 5, 3] */
    if (pexc_transpose_s8_tile(&r3, a, &t, &v) != PEXC_OK) return kref_ops_fail(T, "rank 3 valid");
    pexc_view v3 = {o, 7, 5, 3, 1, 0, 1, 0}; /* not padded with a leading 1 */
    pexc_tile t31 = {0, 5, 0, 1, 0, 0};
    if (pexc_transpose_s8_tile(&r3, a, &t31, &v3) != PEXC_ERR_ARG) return kref_ops_fail(T, "rank 3 unpadded");
    /* tiles out of range */
    pexc_tile br = {0, 8, 0, 3, 0, 0}, bc = {0, 7, 1, 4, 0, 0}, bneg = {-1, 2, 0, 3, 0, 0}, binv = {3, 2, 0, 3, 0, 0};
    if (pexc_transpose_s8_tile(&p, a, &br, &v) != PEXC_ERR_ARG) return kref_ops_fail(T, "tile rows");
    if (pexc_transpose_s8_tile(&p, a, &bc, &v) != PEXC_ERR_ARG) return kref_ops_fail(T, "tile chans");
    if (pexc_transpose_s8_tile(&p, a, &bneg, &v) != PEXC_ERR_ARG) return kref_ops_fail(T, "tile y0 < 0");
    if (pexc_transpose_s8_tile(&p, a, &binv, &v) != PEXC_ERR_ARG) return kref_ops_fail(T, "tile y0 > y1");
    /* ring: no more tile pixels than the ring holds */
    pexc_view ring = {o, 1, 7, 5, 3, 0, 3, 2 * 5};
    pexc_tile t2 = {3, 5, 0, 3, 0, 0}, t3 = {3, 6, 0, 3, 0, 0};
    if (pexc_transpose_s8_tile(&p, a, &t2, &ring) != PEXC_OK) return kref_ops_fail(T, "ring fits");
    if (pexc_transpose_s8_tile(&p, a, &t3, &ring) != PEXC_ERR_ARG) return kref_ops_fail(T, "ring too small");
    pexc_tile p10 = {2, 5, 0, 3, 4, 4}, p11 = {2, 5, 0, 3, 4, 0}; /* 1 + 5 + 4, 1 + 5 + 5 */
    if (pexc_transpose_s8_tile(&p, a, &p10, &ring) != PEXC_OK) return kref_ops_fail(T, "10 pixels in a ring of 10");
    if (pexc_transpose_s8_tile(&p, a, &p11, &ring) != PEXC_ERR_ARG) return kref_ops_fail(T, "11 pixels in a ring of 10");
    pexc_tile bx0 = {2, 5, 0, 3, 5, 0}, bx1 = {2, 5, 0, 3, 0, 6}, bne = {2, 3, 0, 3, 4, 4};
    if (pexc_transpose_s8_tile(&p, a, &bx0, &v) != PEXC_ERR_ARG) return kref_ops_fail(T, "x0 == w");
    if (pexc_transpose_s8_tile(&p, a, &bx1, &v) != PEXC_ERR_ARG) return kref_ops_fail(T, "x1 > w");
    if (pexc_transpose_s8_tile(&p, a, &bne, &v) != PEXC_ERR_ARG) return kref_ops_fail(T, "no pixels");
    /* channels not stored */
    pexc_view sl = {o, 1, 7, 5, 3, 1, 1, 0};
    pexc_tile ts = {0, 7, 1, 2, 0, 0};
    if (pexc_transpose_s8_tile(&p, a, &ts, &sl) != PEXC_OK) return kref_ops_fail(T, "slice valid");
    if (pexc_transpose_s8_tile(&p, a, &t, &sl) != PEXC_ERR_ARG) return kref_ops_fail(T, "slice");
    return 0;
}

static int bad_args(void) {
    int8_t a[8] = {0}, o[8];
    pexc_transpose_params p = {2, {2, 4}, {1, 1}};
    if (pexc_transpose(&p, 1, a, o) != PEXC_ERR_ARG) return kref_ops_fail("args", "not a permutation");
    pexc_transpose_params q = {2, {2, 4}, {1, 0}};
    if (pexc_transpose(&q, 3, a, o) != PEXC_ERR_ARG) return kref_ops_fail("args", "elem size");
    if (pexc_transpose(&q, 1, a, o) != PEXC_OK) return kref_ops_fail("args", "valid");
    q.rank = 7;
    if (pexc_transpose(&q, 1, a, o) != PEXC_ERR_ARG) return kref_ops_fail("args", "rank");
    const void *ins[2] = {a, NULL};
    int32_t inner[2] = {2, 2};
    if (pexc_concat(2, ins, inner, 2, 1, o) != PEXC_ERR_ARG) return kref_ops_fail("args", "null input");
    if (pexc_concat(0, ins, inner, 2, 1, o) != PEXC_ERR_ARG) return kref_ops_fail("args", "no inputs");
    return 0;
}

int main(void) {
    kref_ops_rng r = {UINT64_C(0xDA7A)};
    int cases = 0;
    if (bad_args() || tile_bad_args()) return 1;
    for (int i = 0; i < 500; i++, cases++)
        if (transpose_case(&r, i)) return 1;
    for (int i = 0; i < 300; i++, cases++)
        if (concat_case(&r, i)) return 1;
    int tile_cases = 0;
    if (tile_tests(&r, &tile_cases)) return 1;
    printf("test_data_movement: %d random transpose/concat cases OK; "
           "%d tiled int8 transpose cases (whole/ring/slice views) OK\n",
           cases, tile_cases);
    return 0;
}
