/*
 * SOFTMAX and LOGISTIC int8. An independent integer reference would be the
 * same gemmlowp algorithm again, so these tests instead check
 *   - vectors recorded from the TFLite Micro interpreter (exact bytes),
 *     with the parameters coming from prep_softmax_s8 / prep_logistic_s8;
 *   - properties on random data: outputs ordered like inputs, softmax rows
 *     summing to about 256 steps, both within a small number of steps of the
 *     float softmax / sigmoid;
 *   - invariance under tiling: row tiles through ring views, runs of pixels
 *     crossing row ends through pixel rings (kref_ops_stream), channel slices
 *     (logistic), byte-identical to the whole-tensor call.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kref_ops.h"
#include "prep/prep.h"

/* TFLM softmax, beta 1, input scale 0.17185351252555847, 6 rows of 10 */
static const int8_t sm_a_in[60] = {
    11, 11, 11, 11, 11, 11, 11, 11, 11, 11, -90, 47, 60, 77, 47, 101, -30,
    121, -118, 20, -33, -42, 19, 70, -62, -89, -22, 85, 43, -83, 39, -71, -59,
    -47, -73, -114, 25, 50, 87, -52, -76, -89, 122, -56, 87, -78, 33, 95, -16,
    44, 33, 105, -90, -111, -39, -127, 93, -122, 114, -1
};
static const int8_t sm_a_out[60] = {
    -102, -102, -102, -102, -102, -102, -102, -102, -102, -102, -128, -128,
    -128, -128, -128, -120, -128, 120, -128, -128, -128, -128, -128, -110,
    -128, -128, -128, 110, -128, -128, -128, -128, -128, -128, -128, -128,
    -128, -128, 127, -128, -128, -128, 125, -128, -127, -128, -128, -126,
    -128, -128, -128, -84, -128, -128, -128, -128, -122, -128, 78, -128
};
/* TFLM softmax, beta 1, input scale 0.09173192083835602, 6 rows of 4 */
static const int8_t sm_b_in[24] = {
    15, 15, 15, 15, -34, -103, 38, -95, 121, 61, -116, 76, -95, -71, -4, -98,
    71, 21, 74, -9, -56, 92, -125, 81
};
static const int8_t sm_b_out[24] = {
    -64, -64, -64, -64, -128, -128, 127, -128, 123, -127, -128, -124, -128,
    -127, 127, -128, -18, -127, 17, -128, -128, 60, -128, -60
};
/* TFLM softmax, beta 1, input scale 0.012518751434981823, 6 rows of 2 */
static const int8_t sm_c_in[12] = {
    -6, -6, 19, -51, 5, -46, -13, -41, 34, 102, -58, -57
};
static const int8_t sm_c_out[12] = {
    0, 0, 53, -53, 40, -40, 22, -22, -51, 51, -1, 1
};
/* TFLM softmax, beta 1, input scale 0.5, 3 rows of 37 */
static const int8_t sm_d_in[111] = {
    112, 112, 112, 112, 112, 112, 112, 112, 112, 112, 112, 112, 112, 112, 112,
    112, 112, 112, 112, 112, 112, 112, 112, 112, 112, 112, 112, 112, 112, 112,
    112, 112, 112, 112, 112, 112, 112, -101, 89, 126, -29, -115, 67, 78, -69,
    100, 107, 74, 55, -81, -59, 51, -46, -93, -57, 31, -18, -7, -51, -41,
    -125, -2, -84, 125, 105, 97, -38, -9, 9, -8, -98, -73, -95, 37, -41, 88,
    101, 39, -125, -87, -19, 75, 1, 91, -65, -27, 79, 28, -101, 92, -35, -99,
    15, 72, -65, -117, -117, 52, 91, -15, 62, -41, -94, -119, 5, -99, -67,
    -92, 116, 64, 79
};
static const int8_t sm_d_out[111] = {
    -121, -121, -121, -121, -121, -121, -121, -121, -121, -121, -121, -121,
    -121, -121, -121, -121, -121, -121, -121, -121, -121, -121, -121, -121,
    -121, -121, -121, -121, -121, -121, -121, -121, -121, -121, -121, -121,
    -121, -128, -128, 31, -128, -128, -128, -128, -128, -128, -128, -128,
    -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128,
    -128, -128, -128, -31, -128, -128, -128, -128, -128, -128, -128, -128,
    -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128,
    -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128,
    -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128,
    127, -128, -128
};
/* TFLM logistic, input scale 0.03877529129385948, zero point -2, inputs -128..127 */
static const int8_t lg_a_out[256] = {
    -126, -126, -126, -126, -126, -126, -126, -125, -125, -125, -125, -125,
    -125, -125, -125, -125, -124, -124, -124, -124, -124, -124, -124, -123,
    -123, -123, -123, -123, -122, -122, -122, -122, -121, -121, -121, -121,
    -120, -120, -120, -120, -119, -119, -119, -118, -118, -117, -117, -117,
    -116, -116, -115, -115, -114, -114, -113, -113, -112, -112, -111, -110,
    -110, -109, -108, -108, -107, -106, -105, -104, -104, -103, -102, -101,
    -100, -99, -98, -97, -96, -95, -94, -92, -91, -90, -89, -87, -86, -85,
    -83, -82, -80, -79, -77, -76, -74, -72, -71, -69, -67, -65, -63, -61, -60,
    -58, -56, -54, -52, -49, -47, -45, -43, -41, -38, -36, -34, -32, -29, -27,
    -25, -22, -20, -17, -15, -12, -10, -7, -5, -2, 0, 2, 5, 7, 10, 12, 15, 17,
    20, 22, 25, 27, 29, 32, 34, 36, 38, 41, 43, 45, 47, 49, 52, 54, 56, 58,
    60, 61, 63, 65, 67, 69, 71, 72, 74, 76, 77, 79, 80, 82, 83, 85, 86, 87,
    89, 90, 91, 92, 94, 95, 96, 97, 98, 99, 100, 101, 102, 103, 104, 104, 105,
    106, 107, 108, 108, 109, 110, 110, 111, 112, 112, 113, 113, 114, 114, 115,
    115, 116, 116, 117, 117, 117, 118, 118, 119, 119, 119, 120, 120, 120, 120,
    121, 121, 121, 121, 122, 122, 122, 122, 123, 123, 123, 123, 123, 124, 124,
    124, 124, 124, 124, 124, 125, 125, 125, 125, 125, 125, 125, 125, 125, 126,
    126, 126, 126, 126, 126, 126, 126, 126, 126
};
/* TFLM logistic, input scale 0.1, zero point 10, inputs -128..127 */
static const int8_t lg_b_out[256] = {
    -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128,
    -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128,
    -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128,
    -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128,
    -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128,
    -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128, -128,
    -128, -128, -128, -128, -127, -127, -127, -127, -127, -127, -127, -127,
    -127, -127, -127, -126, -126, -126, -126, -126, -125, -125, -125, -125,
    -124, -124, -123, -123, -122, -122, -121, -120, -120, -119, -118, -117,
    -116, -115, -113, -112, -110, -109, -107, -105, -102, -100, -97, -95, -92,
    -88, -85, -81, -77, -73, -69, -64, -59, -54, -49, -43, -37, -31, -25, -19,
    -13, -6, 0, 6, 13, 19, 25, 31, 37, 43, 49, 54, 59, 64, 69, 73, 77, 81, 85,
    88, 92, 95, 97, 100, 102, 105, 107, 109, 110, 112, 113, 115, 116, 117,
    118, 119, 120, 120, 121, 122, 122, 123, 123, 124, 124, 125, 125, 125, 125,
    126, 126, 126, 126, 126, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127,
    127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127,
    127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127,
    127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127,
    127, 127, 127, 127, 127, 127, 127, 127, 127, 127, 127
};
/* TFLM logistic, input scale 0.0078125, zero point -128, inputs -128..127 */
static const int8_t lg_c_out[256] = {
    0, 1, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11,
    11, 12, 12, 13, 13, 14, 14, 15, 15, 16, 16, 17, 17, 18, 18, 19, 19, 20,
    20, 21, 21, 22, 22, 23, 23, 24, 24, 25, 25, 26, 26, 27, 27, 28, 28, 29,
    29, 29, 30, 30, 31, 31, 32, 32, 33, 33, 34, 34, 35, 35, 36, 36, 36, 37,
    37, 38, 38, 39, 39, 40, 40, 41, 41, 41, 42, 42, 43, 43, 44, 44, 45, 45,
    45, 46, 46, 47, 47, 48, 48, 48, 49, 49, 50, 50, 51, 51, 51, 52, 52, 53,
    53, 54, 54, 54, 55, 55, 56, 56, 56, 57, 57, 58, 58, 58, 59, 59, 60, 60,
    60, 61, 61, 61, 62, 62, 63, 63, 63, 64, 64, 65, 65, 65, 66, 66, 66, 67,
    67, 67, 68, 68, 69, 69, 69, 70, 70, 70, 71, 71, 71, 72, 72, 72, 73, 73,
    73, 74, 74, 74, 75, 75, 75, 76, 76, 76, 77, 77, 77, 78, 78, 78, 79, 79,
    79, 79, 80, 80, 80, 81, 81, 81, 82, 82, 82, 82, 83, 83, 83, 84, 84, 84,
    84, 85, 85, 85, 86, 86, 86, 86, 87, 87, 87, 88, 88, 88, 88, 89, 89, 89,
    89, 90, 90, 90, 90, 91, 91, 91, 91, 92, 92, 92, 92, 93, 93, 93, 93, 93,
    94, 94, 94, 94, 95, 95, 95, 95, 96, 96, 96, 96, 96, 97, 97, 97, 97
};

static int softmax_rows(const pexc_softmax_params *p, int32_t rows, int32_t c,
                        const int8_t *in, int8_t *out, kref_ops_rng *tiles) {
    /* rows of C as a [1, rows, 1, C] tensor; tiles != NULL: random row
     * tiles through ring views */
    for (int32_t y0 = 0; y0 < rows;) {
        int32_t y1 = tiles ? y0 + kref_ops_range(tiles, 1, rows - y0) : rows;
        int32_t ring = tiles ? y1 - y0 + kref_ops_range(tiles, 0, 2) : 0;
        pexc_view vi = kref_ops_view_new(1, rows, 1, c, 0, c, ring, 1);
        pexc_view vo = kref_ops_view_new(1, rows, 1, c, 0, c, ring, 1);
        kref_ops_view_put(&vi, in, 1, y0, y1);
        pexc_tile t = {y0, y1, 0, c, 0, 0};
        pexc_status st = pexc_softmax_s8(p, &vi, &t, &vo);
        kref_ops_view_get(&vo, out, 1, y0, y1, 0, c);
        kref_ops_view_free(&vi);
        kref_ops_view_free(&vo);
        if (st != PEXC_OK) return (int)st;
        y0 = y1;
    }
    return 0;
}

static int softmax_vectors(void) {
    struct {
        float scale;
        int32_t rows, c;
        const int8_t *in, *out;
    } v[4] = {{0.17185351252555847f, 6, 10, sm_a_in, sm_a_out},
              {0.09173192083835602f, 6, 4, sm_b_in, sm_b_out},
              {0.012518751434981823f, 6, 2, sm_c_in, sm_c_out},
              {0.5f, 3, 37, sm_d_in, sm_d_out}};
    for (int i = 0; i < 4; i++) {
        pexc_softmax_params p;
        int8_t got[111];
        char desc[80];
        snprintf(desc, sizeof desc, "TFLM vector %d (scale %g, %dx%d)", i, (double)v[i].scale,
                 v[i].rows, v[i].c);
        if (prep_softmax_s8(1.0f, v[i].scale, &p) != 0) return kref_ops_fail("softmax", "%s: prepare", desc);
        if (softmax_rows(&p, v[i].rows, v[i].c, v[i].in, got, NULL) != 0)
            return kref_ops_fail("softmax", "%s: status", desc);
        if (kref_ops_cmp_s8("softmax", desc, v[i].out, got, (size_t)(v[i].rows * v[i].c))) return 1;
    }
    return 0;
}

static pexc_status softmax_tile(void *ctx, const pexc_view *in, const pexc_tile *t, pexc_view *out) {
    return pexc_softmax_s8((const pexc_softmax_params *)ctx, &in[0], t, out);
}

static int softmax_case(kref_ops_rng *r, int idx) {
    static const int32_t depths[] = {1, 2, 3, 4, 10, 12, 37, 100, 257};
    int32_t c = depths[kref_ops_range(r, 0, 8)], rows = kref_ops_range(r, 1, 9);
    float scale = (float)kref_ops_logu(r, 0.002, 1.5);
    float beta = kref_ops_range(r, 0, 2) ? 1.0f : (float)kref_ops_logu(r, 0.25, 4.0);
    char desc[120];
    snprintf(desc, sizeof desc, "case %d rows %d depth %d scale %g beta %g", idx, rows, c,
             (double)scale, (double)beta);
    pexc_softmax_params p;
    if (prep_softmax_s8(beta, scale, &p) != 0) return kref_ops_fail("softmax", "%s: prepare", desc);
    size_t cnt = (size_t)rows * c;
    int8_t *in = malloc(cnt), *a = malloc(cnt), *b = malloc(cnt);
    kref_ops_fill_s8(r, in, cnt);
    if (idx % 5 == 0) /* narrow range: many near-equal logits */
        for (size_t i = 0; i < cnt; i++) in[i] = (int8_t)(in[i] / 16);
    int fail = 0;
    if (softmax_rows(&p, rows, c, in, a, NULL) || softmax_rows(&p, rows, c, in, b, r))
        fail = kref_ops_fail("softmax", "%s: status", desc);
    if (!fail) {
        char d2[160];
        snprintf(d2, sizeof d2, "%s (row tiles vs whole)", desc);
        fail = kref_ops_cmp_s8("softmax", d2, a, b, cnt);
    }
    /* pixel streaming, the rows seen as [1, sh, sw, c] pixels */
    int32_t sw = rows % 3 == 0 ? 3 : rows % 2 == 0 ? 2 : 1, sh = rows / sw;
    kref_ops_src src = {in, 1, sh, sw, c, 1, {1, 1, 1, 1, 1, 1, 0, 0}};
    for (int pass = 0; pass < 2 && !fail; pass++) {
        kref_ops_stream_cfg cfg = {kref_ops_pick_chunk(r, sw), 2 * sw + 1, pass,
                                   pass && kref_ops_range(r, 0, 3) != 0, 0, c};
        fail = kref_ops_stream(r, "softmax", desc, &src, 1, 1, sh, sw, c, 1, a, &cfg, softmax_tile, &p);
    }
    for (int32_t y = 0; y < rows && !fail; y++) {
        const int8_t *xi = in + (size_t)y * c, *o = a + (size_t)y * c;
        int32_t mx = -128, sum = 0;
        for (int32_t i = 0; i < c; i++) mx = xi[i] > mx ? xi[i] : mx;
        double den = 0;
        for (int32_t i = 0; i < c; i++) den += exp((double)beta * scale * (xi[i] - mx));
        for (int32_t i = 0; i < c && !fail; i++) {
            sum += o[i] + 128;
            double pr = exp((double)beta * scale * (xi[i] - mx)) / den;
            double q = 256.0 * pr - 128.0;
            q = q > 127 ? 127 : q;
            if (fabs(q - o[i]) > 1.0)
                fail = kref_ops_fail("softmax", "%s row %d ch %d: %d vs float %.3f", desc, y, i,
                                     o[i], q);
            for (int32_t j = 0; j < c && !fail; j++)
                if ((xi[i] > xi[j] && o[i] < o[j]) || (xi[i] == xi[j] && o[i] != o[j]))
                    fail = kref_ops_fail("softmax", "%s row %d: order broken at %d,%d", desc, y, i, j);
        }
        /* each output is rounded (<= 1/2 step), the top one may be clamped */
        if (!fail && abs(sum - 256) > c / 2 + 2)
            fail = kref_ops_fail("softmax", "%s row %d: sum %d far from 256", desc, y, sum);
    }
    free(in);
    free(a);
    free(b);
    return fail;
}

static int logistic_vectors(void) {
    struct {
        float scale;
        int32_t zp;
        const int8_t *out;
    } v[3] = {{0.03877529129385948f, -2, lg_a_out}, {0.1f, 10, lg_b_out}, {0.0078125f, -128, lg_c_out}};
    int8_t in[256], got[256];
    for (int i = 0; i < 256; i++) in[i] = (int8_t)(i - 128);
    for (int k = 0; k < 3; k++) {
        pexc_logistic_params p;
        char desc[80];
        snprintf(desc, sizeof desc, "TFLM vector %d (scale %g, zp %d)", k, (double)v[k].scale, v[k].zp);
        if (prep_logistic_s8(v[k].scale, v[k].zp, &p) != 0) return kref_ops_fail("logistic", "%s: prepare", desc);
        pexc_view vi = {in, 1, 1, 1, 256, 0, 256, 0}, vo = {got, 1, 1, 1, 256, 0, 256, 0};
        pexc_tile t = {0, 1, 0, 256, 0, 0};
        if (pexc_logistic_s8(&p, &vi, &t, &vo) != PEXC_OK) return kref_ops_fail("logistic", "%s: status", desc);
        if (kref_ops_cmp_s8("logistic", desc, v[k].out, got, 256)) return 1;
    }
    return 0;
}

static pexc_status logistic_tile(void *ctx, const pexc_view *in, const pexc_tile *t, pexc_view *out) {
    return pexc_logistic_s8((const pexc_logistic_params *)ctx, &in[0], t, out);
}

static int logistic_case(kref_ops_rng *r, int idx) {
    float scale = (float)kref_ops_logu(r, 0.0005, 2.0);
    int32_t zp = kref_ops_range(r, -128, 127);
    char desc[80];
    snprintf(desc, sizeof desc, "case %d scale %g zp %d", idx, (double)scale, zp);
    pexc_logistic_params p;
    if (prep_logistic_s8(scale, zp, &p) != 0) return kref_ops_fail("logistic", "%s: prepare", desc);
    /* all 256 inputs as a [1, 4, 8, 8] tensor */
    int8_t in[256], whole[256], tiled[256];
    for (int i = 0; i < 256; i++) in[i] = (int8_t)(i - 128);
    pexc_view vi = {in, 1, 4, 8, 8, 0, 8, 0}, vo = {whole, 1, 4, 8, 8, 0, 8, 0};
    pexc_tile t = {0, 4, 0, 8, 0, 0};
    if (pexc_logistic_s8(&p, &vi, &t, &vo) != PEXC_OK) return kref_ops_fail("logistic", "%s: status", desc);
    for (int i = 0; i < 256; i++) {
        double s = 1.0 / (1.0 + exp(-(double)scale * (in[i] - zp)));
        double q = 256.0 * s - 128.0;
        q = q > 127 ? 127 : q;
        if (fabs(q - whole[i]) > 1.0)
            return kref_ops_fail("logistic", "%s: input %d gives %d vs float %.3f", desc, in[i], whole[i], q);
        if (i && whole[i] < whole[i - 1])
            return kref_ops_fail("logistic", "%s: not monotonic at input %d", desc, in[i]);
    }
    /* tiles: rows x channel slices with ring views */
    for (int32_t y0 = 0; y0 < 4;) {
        int32_t y1 = y0 + kref_ops_range(r, 1, 4 - y0);
        for (int32_t c0 = 0; c0 < 8;) {
            int32_t c1 = c0 + kref_ops_range(r, 1, 8 - c0);
            /* rings of the tile's rows: ring_px = rows * width */
            pexc_view ti = kref_ops_view_new(1, 4, 8, 8, c0, c1 - c0, (y1 - y0) * 8, 1);
            pexc_view to = kref_ops_view_new(1, 4, 8, 8, c0, c1 - c0, (y1 - y0) * 8, 1);
            kref_ops_view_put(&ti, in, 1, y0, y1);
            pexc_tile tt = {y0, y1, c0, c1, 0, 0};
            pexc_status st = pexc_logistic_s8(&p, &ti, &tt, &to);
            kref_ops_view_get(&to, tiled, 1, y0, y1, c0, c1);
            kref_ops_view_free(&ti);
            kref_ops_view_free(&to);
            if (st != PEXC_OK) return kref_ops_fail("logistic", "%s: tile status", desc);
            c0 = c1;
        }
        y0 = y1;
    }
    if (kref_ops_cmp_s8("logistic", desc, whole, tiled, 256)) return 1;
    /* pixel streaming */
    kref_ops_src src = {in, 1, 4, 8, 8, 1, {1, 1, 1, 1, 1, 1, 0, 0}};
    for (int pass = 0; pass < 2; pass++) {
        kref_ops_stream_cfg cfg = {kref_ops_pick_chunk(r, 8), 17, pass,
                                   pass && kref_ops_range(r, 0, 3) != 0, 0, 8};
        if (kref_ops_range(r, 0, 2) == 0) {
            cfg.c0 = kref_ops_range(r, 0, 7);
            cfg.c1 = kref_ops_range(r, cfg.c0 + 1, 8);
        }
        if (kref_ops_stream(r, "logistic", desc, &src, 1, 1, 4, 8, 8, 1, whole, &cfg, logistic_tile, &p))
            return 1;
    }
    return 0;
}

static int bad_args(void) {
    int8_t a[16] = {0}, o[16] = {0};
    pexc_softmax_params p;
    if (prep_softmax_s8(1.0f, 0.1f, &p) != 0) return kref_ops_fail("args", "prep");
    pexc_view vi = {a, 1, 2, 2, 4, 0, 4, 0}, vo = {o, 1, 2, 2, 4, 0, 4, 0};
    pexc_tile t = {0, 2, 0, 4, 0, 0};
    if (pexc_softmax_s8(&p, &vi, &t, &vo) != PEXC_OK) return kref_ops_fail("args", "valid");
    pexc_tile part = {0, 2, 0, 3, 0, 0};
    if (pexc_softmax_s8(&p, &vi, &part, &vo) != PEXC_ERR_ARG) return kref_ops_fail("args", "partial axis");
    pexc_view sl = {a, 1, 2, 2, 4, 0, 3, 0};
    if (pexc_softmax_s8(&p, &sl, &t, &vo) != PEXC_ERR_ARG) return kref_ops_fail("args", "slice");
    /* pixel tile (0,1), (1,0): a ring of 2 pixels holds it, 1 does not */
    pexc_tile tp = {0, 2, 0, 4, 1, 1};
    pexc_view ring = vi;
    ring.ring_px = 2;
    if (pexc_softmax_s8(&p, &ring, &tp, &vo) != PEXC_OK) return kref_ops_fail("args", "ring of 2");
    ring.ring_px = 1;
    if (pexc_softmax_s8(&p, &ring, &tp, &vo) != PEXC_ERR_ARG) return kref_ops_fail("args", "ring of 1");
    if (pexc_softmax_s8(&p, &vi, &tp, &ring) != PEXC_ERR_ARG) return kref_ops_fail("args", "output ring of 1");
    pexc_tile tx = {0, 2, 0, 4, 2, 0}, te = {1, 2, 0, 4, 1, 1};
    if (pexc_softmax_s8(&p, &vi, &tx, &vo) != PEXC_ERR_ARG) return kref_ops_fail("args", "x0 == w");
    if (pexc_softmax_s8(&p, &vi, &te, &vo) != PEXC_ERR_ARG) return kref_ops_fail("args", "no pixels");
    pexc_logistic_params lq;
    if (prep_logistic_s8(0.1f, 0, &lq) != 0) return kref_ops_fail("args", "logistic prep");
    if (pexc_logistic_s8(&lq, &ring, &tp, &vo) != PEXC_ERR_ARG) return kref_ops_fail("args", "logistic ring of 1");
    if (pexc_logistic_s8(&lq, &vi, &te, &vo) != PEXC_ERR_ARG) return kref_ops_fail("args", "logistic no pixels");
    ring.ring_px = 2;
    if (pexc_logistic_s8(&lq, &ring, &tp, &vo) != PEXC_OK) return kref_ops_fail("args", "logistic ring of 2");
    if (prep_softmax_s8(1.0f, 0.0f, &p) == 0) return kref_ops_fail("args", "zero scale");
    /* 600 equal logits: the output shift would exceed 31 (TFLM aborts) */
    static int8_t big[600], bigo[600];
    pexc_view vb = {big, 1, 1, 1, 600, 0, 600, 0}, vbo = {bigo, 1, 1, 1, 600, 0, 600, 0};
    pexc_tile tb = {0, 1, 0, 600, 0, 0};
    if (pexc_softmax_s8(&p, &vb, &tb, &vbo) != PEXC_ERR_UNSUPPORTED)
        return kref_ops_fail("args", "softmax shift beyond 31");
    pexc_logistic_params lp;
    if (prep_logistic_s8(0.0f, 0, &lp) == 0) return kref_ops_fail("args", "logistic zero scale");
    return 0;
}

int main(void) {
    kref_ops_rng r = {UINT64_C(0x50F7)};
    int cases = 0;
    if (bad_args() || softmax_vectors() || logistic_vectors()) return 1;
    for (int i = 0; i < 400; i++, cases++)
        if (softmax_case(&r, i)) return 1;
    for (int i = 0; i < 200; i++, cases++)
        if (logistic_case(&r, i)) return 1;
    printf("test_softmax: 4 softmax + 3 logistic TFLM vectors, %d random softmax/logistic cases OK\n",
           cases);
    return 0;
}
