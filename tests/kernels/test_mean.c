/*
 * MEAN over H, W (int8) on random shapes and quantisations against a nested-
 * loop reference of TFLite's integer mean; the prepared parameters must put
 * every result within one step of the real mean; vectors recorded from the
 * TFLite Micro interpreter (mobilenet_v2's quantisation, where input and
 * output quantisation are equal, and a requantising one) must match exactly;
 * channel tiles through slice views must give the same bytes.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kref_ops.h"
#include "prep/prep.h"

/* TFLM mean over H, W of [1, 7, 7, 8]: in (0.07054788619279861, -9), out (0.07054788619279861, -9) */
static const int8_t mean_a_in[392] = {
    126, -61, -29, 120, -81, -57, -39, -9, 9, -43, 118, 78, 86, 1, 75, 106,
    -15, -7, 78, 82, 72, 120, -108, 33, -76, -14, 127, -16, 78, -74, 29, 3, 5,
    -59, -86, -60, 115, -104, -77, -1, -120, 77, -98, -31, -49, -93, -35, -65,
    3, 60, -59, 126, 105, 110, -124, -125, 39, 27, 97, -104, -44, -60, -63,
    -79, -4, 19, -111, 120, -34, -124, -87, 49, 31, -2, 64, 97, -42, 118, -38,
    -77, -94, 103, 17, 56, 0, 110, 25, -34, -65, -115, -80, -3, -81, 58, 116,
    -128, -23, -70, -105, 30, -115, -126, -2, 84, 101, 11, 103, 41, 107, 66,
    10, -89, -99, -61, 39, 8, -43, -29, 1, -60, 107, -26, -125, 119, 50, -14,
    -35, 97, -97, 102, 44, -81, 8, 38, 1, 2, 6, 23, 19, 112, 42, 86, 94, 88,
    -111, -18, -70, 53, -106, 1, 68, 35, -12, 126, 71, -118, -24, 51, 100, 61,
    73, -85, -72, -7, 7, -63, -20, -105, 108, 16, 22, -66, 71, -26, 8, 10, 52,
    56, -114, 58, -4, -36, 125, 1, -110, -101, 106, 28, 110, -104, -112, 95,
    85, -106, 31, 47, -90, 77, -5, -36, -80, 72, 43, 36, -51, 23, -94, 25,
    104, 71, 52, -101, 26, -99, -85, -113, -104, -122, -128, 41, -12, 86, -69,
    -29, -78, -96, -84, 25, 14, 2, 50, -46, -84, -55, 68, -71, -52, -3, -13,
    -90, -37, -22, 47, -31, 50, 8, 123, 80, 46, 79, 39, -26, -31, -30, -93,
    -31, -98, -10, -52, 19, 42, -72, 15, 122, 61, -118, -22, -28, -110, 50,
    -119, 23, -98, -83, 2, -16, -10, 119, 100, 26, 56, 122, -103, -14, -15,
    62, -45, 35, -60, -85, -110, 12, 90, 87, -85, 45, -113, 10, 110, 116, -86,
    -117, 26, -90, 87, -49, 71, 15, -91, -30, 56, -16, -112, 23, 37, -37, -43,
    -112, -44, -67, -89, 109, -32, -115, 99, -96, -118, -25, -55, -80, -1, 83,
    -8, 25, 65, -104, 1, 26, 118, -25, -61, 20, 67, 119, 42, -33, 19, 115,
    -84, 1, -118, -73, 74, -5, 113, -127, -68, 77, 120, 43, 10, 52, 38, -125,
    25, -44, 104, -52, 62, -69, -65, -1, -111, 3, 67, 95, 3, -11, 69, -105,
    52, 103, 6, 41, 42, 95, -12, 8, 120, 18, 49, -95
};
static const int8_t mean_a_out[8] = {
    -10, -7, 4, 7, -4, 0, -3, -7
};
/* TFLM mean over H, W of [1, 7, 7, 8]: in (0.05, 3), out (0.02, -7) */
static const int8_t mean_b_in[392] = {
    17, -72, -6, 88, -22, 74, -42, 88, -45, -100, 18, -5, 19, -97, 104, 113,
    -18, -7, -37, 27, -77, -105, -25, 103, -110, 91, 104, 117, -77, -99, 89,
    17, -1, -127, 102, -57, -112, 93, -68, -91, 116, 82, -106, 16, 32, -55,
    -59, -79, -75, -43, -114, 64, -103, -70, 11, 109, -105, 3, 85, -66, 73,
    -60, -27, 13, -99, -88, 22, -116, -60, 48, -72, -82, 19, -61, 14, -32, -8,
    13, -47, 98, -7, 33, -79, 120, -109, -117, -66, 36, 61, -81, -35, 21, 101,
    -5, 87, 17, -61, -19, 4, -113, -50, -26, -44, -32, 1, -75, 59, 123, 8,
    -35, -76, -23, -39, 36, 27, -74, -64, -86, -49, -67, 76, -56, 31, 54, -47,
    -97, 62, -119, 101, 87, -85, 120, -76, 96, -49, 96, -88, 74, -55, 17, 96,
    -86, 61, -9, -89, 31, 109, 66, -122, 82, -79, 12, 40, 56, -88, -6, -17,
    -53, -7, -46, -119, -41, -35, -14, -9, 84, -42, 64, 118, 104, -102, -114,
    -40, -51, -13, -122, -32, 117, -21, 56, 53, 8, -57, -33, -16, -26, 65, 77,
    -15, -119, 69, -121, 26, 19, -66, 104, -41, 91, -11, -97, 114, -93, -14,
    -22, 89, -122, 23, 119, -55, 119, 70, -101, 88, -127, -29, 40, 73, 35,
    -42, 58, 17, 87, 31, -19, -92, 110, -70, -108, 107, 84, -109, 6, 88, 122,
    111, -18, 30, -20, -16, 95, -63, 91, 41, 46, 53, -80, -98, -40, -92, 55,
    91, -114, -48, -49, -99, 23, -122, 6, 19, -57, -24, 112, -123, 47, -115,
    -38, -93, 93, 52, -27, 124, -38, -56, 27, -61, 103, -18, 35, 99, 4, 22,
    27, 100, 7, 36, -64, 103, 67, 106, -46, -124, 74, 59, 121, 63, 104, 102,
    -56, 74, 127, -9, -124, 44, -90, 82, -89, 32, -23, 67, 18, 116, 110, 51,
    -31, 66, -50, 115, -26, -45, -127, -8, 52, -7, 19, -72, -94, 67, 64, 79,
    -21, -68, 62, 52, 47, -2, 79, 114, -100, 83, 36, -120, 120, -126, -93, 99,
    19, 93, 88, -120, -59, -67, -21, 45, 16, 111, 88, 43, 34, 52, 80, 22, -94,
    -19, 120, 84, -58, 39, -125, 124, 50, 61, 93, 88, 97, 98, 32, 26, -29,
    -65, -4, -76, 25, -125, 75, -58, -67, 68, 115, 106, -77, -44, 3
};
static const int8_t mean_b_out[8] = {
    -6, -14, -1, 42, -18, -51, -34, -2
};

/* TFLite: (sum - zp_in * count) requantised, + zp_out, clamped. */
static void ref_mean(const pexc_mean_params *p, int32_t n, int32_t h, int32_t w, int32_t c,
                     const int8_t *in, int8_t *out) {
    for (int32_t b = 0; b < n; b++)
        for (int32_t ch = 0; ch < c; ch++) {
            int64_t sum = 0;
            for (int32_t i = 0; i < h * w; i++) sum += in[((size_t)b * h * w + i) * c + ch];
            int32_t s = (int32_t)(sum - (int64_t)p->input_zp * h * w);
            int32_t v = kref_ops_requant(s, p->multiplier, p->shift) + p->output_zp;
            out[(size_t)b * c + ch] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
        }
}

static int run_kernel(const pexc_mean_params *p, int32_t n, int32_t h, int32_t w, int32_t c,
                      const int8_t *in, int8_t *out, kref_ops_rng *r) {
    /* r == NULL: whole tensor; else random channel tiles through slice views */
    for (int32_t c0 = 0; c0 < c;) {
        int32_t c1 = r ? c0 + kref_ops_range(r, 1, c - c0) : c;
        int32_t cb = r ? kref_ops_range(r, 0, c0) : 0, ce = r ? kref_ops_range(r, c1, c) : c;
        int32_t ring = r && kref_ops_range(r, 0, 1) ? h * w + kref_ops_range(r, 0, 2) : 0;
        pexc_view vi = kref_ops_view_new(n, h, w, c, cb, ce - cb, ring, 1);
        pexc_view vo = kref_ops_view_new(n, 1, 1, c, c0, c1 - c0, 0, 1);
        kref_ops_view_put(&vi, in, 1, 0, h);
        pexc_tile t = {0, 1, c0, c1, 0, 0};
        pexc_status st = pexc_mean_hw_s8(p, &vi, &t, &vo);
        kref_ops_view_get(&vo, out, 1, 0, 1, c0, c1);
        kref_ops_view_free(&vi);
        kref_ops_view_free(&vo);
        if (st != PEXC_OK) return (int)st;
        c0 = c1;
    }
    return 0;
}

static int tflm_vectors(void) {
    struct {
        const char *name;
        float si, so;
        int32_t zi, zo;
        const int8_t *in, *out;
    } v[2] = {
        {"mobilenet_v2 quantisation", 0.07054788619279861f, 0.07054788619279861f, -9, -9,
         mean_a_in, mean_a_out},
        {"requantising", 0.05f, 0.02f, 3, -7, mean_b_in, mean_b_out},
    };
    for (int i = 0; i < 2; i++) {
        pexc_mean_params p;
        int8_t got[8];
        if (prep_mean_s8(v[i].si, v[i].zi, v[i].so, v[i].zo, 49, &p) != 0)
            return kref_ops_fail("mean", "%s: prepare failed", v[i].name);
        if (run_kernel(&p, 1, 7, 7, 8, v[i].in, got, NULL) != 0)
            return kref_ops_fail("mean", "%s: status", v[i].name);
        if (kref_ops_cmp_s8("mean TFLM vector", v[i].name, v[i].out, got, 8)) return 1;
    }
    return 0;
}

static int run_case(kref_ops_rng *r, int idx) {
    int32_t n = kref_ops_range(r, 1, 2), h = kref_ops_range(r, 1, 12), w = kref_ops_range(r, 1, 12);
    int32_t c = kref_ops_range(r, 1, 16);
    if (idx % 50 == 0) h = 64, w = 64; /* large count: multiplier folding */
    float si = (float)kref_ops_logu(r, 0.002, 1.0);
    int32_t zi = kref_ops_range(r, -128, 127);
    float so = si;
    int32_t zo = zi;
    if (idx & 1) {
        so = (float)(si * kref_ops_logu(r, 0.25, 4.0));
        zo = kref_ops_range(r, -128, 127);
    }
    char desc[200];
    snprintf(desc, sizeof desc, "case %d in %dx%dx%dx%d (%g,%d) out (%g,%d)", idx, n, h, w, c,
             (double)si, zi, (double)so, zo);
    pexc_mean_params p;
    if (prep_mean_s8(si, zi, so, zo, h * w, &p) != 0) return kref_ops_fail("mean", "%s: prepare", desc);
    size_t ni = (size_t)n * h * w * c;
    int8_t *in = malloc(ni), *want = malloc((size_t)n * c), *got = malloc((size_t)n * c);
    kref_ops_fill_s8(r, in, ni);
    if (idx % 7 == 3) memset(in, kref_ops_range(r, -128, 127), ni);
    ref_mean(&p, n, h, w, c, in, want);
    int fail = 0;
    for (int32_t i = 0; i < n * c && !fail; i++) {
        double sum = 0;
        for (int32_t k = 0; k < h * w; k++) sum += in[((size_t)(i / c) * h * w + k) * c + i % c] - zi;
        double real = si * sum / (h * w) / so + zo;
        real = real < -128 ? -128 : real > 127 ? 127 : real;
        if (fabs(real - want[i]) > 1.0)
            fail = kref_ops_fail("mean", "%s: %d vs real %.3f at %d", desc, want[i], real, i);
    }
    for (int tiled = 0; tiled < 2 && !fail; tiled++) {
        memset(got, 0, (size_t)n * c);
        int st = run_kernel(&p, n, h, w, c, in, got, tiled ? r : NULL);
        if (st) fail = kref_ops_fail("mean", "%s: status %d", desc, st);
        char d2[240];
        snprintf(d2, sizeof d2, "%s%s", desc, tiled ? " (tiled)" : "");
        if (!fail) fail = kref_ops_cmp_s8("mean", d2, want, got, (size_t)n * c);
    }
    free(in);
    free(want);
    free(got);
    return fail;
}

static int bad_args(void) {
    int8_t a[64] = {0}, o[4] = {0};
    pexc_mean_params p;
    if (prep_mean_s8(0.1f, 0, 0.1f, 0, 16, &p) != 0) return kref_ops_fail("args", "prep");
    pexc_view vi = {a, 1, 4, 4, 4, 0, 4, 0}, vo = {o, 1, 1, 1, 4, 0, 4, 0};
    pexc_tile t = {0, 1, 0, 4, 0, 0};
    if (pexc_mean_hw_s8(&p, &vi, &t, &vo) != PEXC_OK) return kref_ops_fail("args", "valid");
    pexc_tile bt = {0, 2, 0, 4, 0, 0};
    if (pexc_mean_hw_s8(&p, &vi, &bt, &vo) != PEXC_ERR_ARG) return kref_ops_fail("args", "rows");
    pexc_view ring = {a, 1, 4, 4, 4, 0, 4, 15}; /* must hold all 16 pixels */
    if (pexc_mean_hw_s8(&p, &ring, &t, &vo) != PEXC_ERR_ARG) return kref_ops_fail("args", "ring of 15");
    ring.ring_px = 16;
    if (pexc_mean_hw_s8(&p, &ring, &t, &vo) != PEXC_OK) return kref_ops_fail("args", "ring of 16");
    pexc_tile tx = {0, 1, 0, 4, 1, 0};
    if (pexc_mean_hw_s8(&p, &vi, &tx, &vo) != PEXC_ERR_ARG) return kref_ops_fail("args", "x0 == w");
    pexc_view vo2 = {o, 1, 2, 1, 4, 0, 4, 0};
    if (pexc_mean_hw_s8(&p, &vi, &t, &vo2) != PEXC_ERR_ARG) return kref_ops_fail("args", "out h");
    if (prep_mean_s8(0.1f, 0, 0.1f, 0, 0, &p) == 0) return kref_ops_fail("args", "zero count");
    return 0;
}

int main(void) {
    kref_ops_rng r = {UINT64_C(0x3EA4)};
    int cases = 0;
    if (bad_args() || tflm_vectors()) return 1;
    for (int i = 0; i < 400; i++, cases++)
        if (run_case(&r, i)) return 1;
    printf("test_mean: 2 TFLM vectors + %d random mean cases (whole + channel tiles) OK\n", cases);
    return 0;
}
