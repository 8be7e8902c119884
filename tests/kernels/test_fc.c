/*
 * FULLY_CONNECTED kernel tests: pexc_fully_connected_s8, its partial-sum form
 * with pexc_requant_s32_s8, and pexc_fully_connected_f32, against the plain
 * reference in tests/common/kref_conv.c over random sizes and quantisation.
 * The int8 kernel is also cut into unit tiles written to channel-slice views
 * and into input-depth partial sums read from slice views; the float kernel
 * must match the reference's summation order bit for bit.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kref_conv.h"
#include "prep/prep.h"

#define NCASES 1500
#define MAXU 160

static kref_conv_rng rng = {UINT64_C(0xFC0FC0FC)};
static long checks;

typedef struct {
    int32_t batches, depth, units, filter_offset;
    pexc_conv_params p;
    int32_t mult[MAXU], shift[MAXU], bias_store[MAXU];
    const int32_t *bias;
    int8_t *in, *w, *ref;
    char desc[400];
} fc_case;

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

static size_t out_elems(const fc_case *c) { return (size_t)c->batches * c->units; }

static void make_case(fc_case *c) {
    static const int32_t depths[] = {1, 2, 3, 7, 8, 16, 33, 64, 100, 250, 400, 1024};
    static const int32_t units[] = {1, 2, 3, 4, 10, 12, 16, 31, 64, 128, 150};
    c->batches = kref_conv_range(&rng, 0, 2) ? 1 : kref_conv_range(&rng, 2, 4);
    c->depth = kref_conv_pick(&rng, depths, 12);
    c->units = kref_conv_pick(&rng, units, 11);
    c->filter_offset = kref_conv_range(&rng, 0, 4) == 0 ? kref_conv_range(&rng, -30, 30) : 0;
    char qdesc[256];
    int bias_used;
    kref_conv_random_quant(&rng, c->units, c->depth, &c->p, c->mult, c->shift, c->bias_store,
                           &bias_used, qdesc, sizeof qdesc);
    c->bias = bias_used ? c->bias_store : NULL;
    snprintf(c->desc, sizeof c->desc, "batches=%d depth=%d units=%d filter_offset=%d %s",
             (int)c->batches, (int)c->depth, (int)c->units, (int)c->filter_offset, qdesc);
    size_t in_n = (size_t)c->batches * c->depth, w_n = (size_t)c->units * c->depth;
    c->in = xmalloc(in_n);
    c->w = xmalloc(w_n);
    c->ref = xmalloc(out_elems(c));
    kref_conv_fill_s8(&rng, c->in, in_n, -128, 127);
    kref_conv_fill_s8(&rng, c->w, w_n, -127, 127);
    kref_conv_fc(&c->p, c->filter_offset, c->batches, c->depth, c->in, c->units, c->w,
                 c->bias, c->ref);
}

static void free_case(fc_case *c) {
    free(c->in);
    free(c->w);
    free(c->ref);
}

static int status_ok(const char *test, const char *desc, pexc_status st) {
    if (st != PEXC_OK) {
        printf("FAIL %s: %s\n  kernel returned status %d\n", test, desc, (int)st);
        return 0;
    }
    return 1;
}

/* [batches, 1, 1, c] view storing channels [c0 - e1, c1 + e2). */
static pexc_view slice_view(int32_t batches, int32_t c, int32_t c0, int32_t c1, size_t elem) {
    int32_t e1 = kref_conv_range(&rng, 0, c0 < 3 ? c0 : 3);
    int32_t e2 = kref_conv_range(&rng, 0, 3);
    pexc_view v = {NULL, batches, 1, 1, c, c0 - e1, c1 - c0 + e1 + e2, 0};
    if (v.c_stored < 1) v.c_stored = 1;
    size_t bytes = kref_conv_view_elems(&v) * elem;
    v.data = xmalloc(bytes);
    fill_random(v.data, bytes);
    return v;
}

static int check_full(fc_case *c) {
    int8_t *out = xmalloc(out_elems(c));
    pexc_view vi = kref_conv_dense(c->in, c->batches, 1, 1, c->depth);
    pexc_view vo = kref_conv_dense(out, c->batches, 1, 1, c->units);
    pexc_tile t = {0, 1, 0, c->units, 0, 0};
    pexc_status st = pexc_fully_connected_s8(&c->p, c->filter_offset, &vi, c->w, c->bias, &t, &vo);
    int bad = !status_ok("fc_full", c->desc, st) ||
              kref_conv_cmp_s8("fc_full", c->desc, c->ref, out, out_elems(c));
    free(out);
    checks++;
    return bad;
}

/* One random unit range into a canary buffer: nothing else written. */
static int check_one_tile(fc_case *c) {
    size_t ne = out_elems(c);
    int8_t *out = xmalloc(ne), *want = xmalloc(ne);
    fill_random(out, ne);
    memcpy(want, out, ne);
    pexc_tile t = {0, 1, 0, 0, 0, 0};
    t.c0 = kref_conv_range(&rng, 0, c->units);
    t.c1 = kref_conv_range(&rng, t.c0, c->units);
    for (int32_t b = 0; b < c->batches; b++)
        for (int32_t u = t.c0; u < t.c1; u++) want[b * c->units + u] = c->ref[b * c->units + u];
    pexc_view vi = kref_conv_dense(c->in, c->batches, 1, 1, c->depth);
    pexc_view vo = kref_conv_dense(out, c->batches, 1, 1, c->units);
    pexc_status st = pexc_fully_connected_s8(&c->p, c->filter_offset, &vi, c->w, c->bias, &t, &vo);
    char d[500];
    snprintf(d, sizeof d, "%s units [%d,%d)", c->desc, (int)t.c0, (int)t.c1);
    int bad = !status_ok("fc_one_tile", d, st) || kref_conv_cmp_s8("fc_one_tile", d, want, out, ne);
    free(out);
    free(want);
    checks++;
    return bad;
}

/* Units cut into pieces, each written into its own slice view; the input is
 * a view with spare stored channels. */
static int check_slices(fc_case *c) {
    int32_t ub[8];
    int32_t nu = kref_conv_cuts(&rng, 0, c->units, 5, 1, ub);
    pexc_view vi = slice_view(c->batches, c->depth, 0, c->depth, 1);
    kref_conv_to_view(c->in, 1, &vi, 0, 1);
    size_t ne = out_elems(c);
    int8_t *got = xmalloc(ne);
    fill_random(got, ne);
    int bad = 0;
    for (int32_t j = 0; j < nu && !bad; j++) {
        pexc_view vo = slice_view(c->batches, c->units, ub[j], ub[j + 1], 1);
        pexc_tile t = {0, 1, ub[j], ub[j + 1], 0, 0};
        pexc_status st = pexc_fully_connected_s8(&c->p, c->filter_offset, &vi, c->w, c->bias, &t, &vo);
        bad = !status_ok("fc_slices", c->desc, st);
        kref_conv_from_view(got, 1, &vo, 0, 1, ub[j], ub[j + 1]);
        free(vo.data);
    }
    char d[500];
    snprintf(d, sizeof d, "%s units cut %d ways", c->desc, (int)nu);
    bad = bad || kref_conv_cmp_s8("fc_slices", d, c->ref, got, ne);
    free(vi.data);
    free(got);
    checks++;
    return bad;
}

/* Input depth split into partial sums, each from a view storing only its
 * slice, into per-unit-slice int32 views, then requantised. */
static int check_acc(fc_case *c) {
    int32_t db[8], ub[8];
    int32_t nd = kref_conv_cuts(&rng, 0, c->depth, 5, 1, db);
    int32_t nu = kref_conv_cuts(&rng, 0, c->units, 3, 1, ub);
    pexc_view vin[8];
    for (int32_t k = 0; k < nd; k++) {
        vin[k] = slice_view(c->batches, c->depth, db[k], db[k + 1], 1);
        kref_conv_to_view(c->in, 1, &vin[k], 0, 1);
    }
    size_t ne = out_elems(c);
    int8_t *got = xmalloc(ne);
    fill_random(got, ne);
    int bad = 0;
    for (int32_t j = 0; j < nu && !bad; j++) {
        pexc_view va = slice_view(c->batches, c->units, ub[j], ub[j + 1], 4);
        pexc_view vo = slice_view(c->batches, c->units, ub[j], ub[j + 1], 1);
        pexc_tile t = {0, 1, ub[j], ub[j + 1], 0, 0};
        for (int32_t k = 0; k < nd && !bad; k++) {
            pexc_status st = pexc_fully_connected_s8_acc(&c->p, c->filter_offset, &vin[k], c->w,
                                                         db[k], db[k + 1], k == 0, &t, &va);
            bad = !status_ok("fc_acc", c->desc, st);
        }
        if (!bad) bad = !status_ok("fc_acc_requant", c->desc,
                                   pexc_requant_s32_s8(&c->p, c->bias, &va, &t, &vo));
        kref_conv_from_view(got, 1, &vo, 0, 1, ub[j], ub[j + 1]);
        free(va.data);
        free(vo.data);
    }
    char d[500];
    snprintf(d, sizeof d, "%s depth split %d ways, units %d ways", c->desc, (int)nd, (int)nu);
    bad = bad || kref_conv_cmp_s8("fc_acc", d, c->ref, got, ne);
    for (int32_t k = 0; k < nd; k++) free(vin[k].data);
    free(got);
    checks++;
    return bad;
}

/* ---- float ---- */

static float rand_float(double mag) {
    return (float)kref_conv_uniform(&rng, -mag, mag);
}

static int check_f32_case(int idx) {
    static const int32_t depths[] = {1, 2, 5, 16, 17, 64, 100, 300};
    static const int32_t units[] = {1, 3, 8, 16, 25};
    int32_t batches = kref_conv_range(&rng, 1, 3);
    int32_t depth = kref_conv_pick(&rng, depths, 8);
    int32_t nunits = kref_conv_pick(&rng, units, 5);
    int32_t act = kref_conv_range(&rng, 0, 3);
    int use_bias = kref_conv_range(&rng, 0, 3) != 0;
    float lo, hi;
    prep_activation_f32(act, &lo, &hi);
    double mag = kref_conv_logu(&rng, 0.01, 100.0);
    float *in = xmalloc(sizeof(float) * (size_t)(batches * depth));
    float *w = xmalloc(sizeof(float) * (size_t)(nunits * depth));
    float bias[32];
    float *want = xmalloc(sizeof(float) * (size_t)(batches * nunits));
    float *got = xmalloc(sizeof(float) * (size_t)(batches * nunits));
    for (int32_t i = 0; i < batches * depth; i++) in[i] = rand_float(mag);
    for (int32_t i = 0; i < nunits * depth; i++) w[i] = rand_float(1.0);
    for (int32_t i = 0; i < nunits; i++) bias[i] = rand_float(mag);
    kref_conv_fc_f32(lo, hi, batches, depth, in, nunits, w, use_bias ? bias : NULL, want);
    char d[200];
    snprintf(d, sizeof d, "case %d batches=%d depth=%d units=%d act=%d bias=%d mag=%g", idx,
             (int)batches, (int)depth, (int)nunits, (int)act, use_bias, mag);
    /* unit tiles into a dense output */
    int32_t ub[8];
    int32_t nu = kref_conv_cuts(&rng, 0, nunits, 3, 1, ub);
    pexc_view vi = kref_conv_dense(in, batches, 1, 1, depth);
    pexc_view vo = kref_conv_dense(got, batches, 1, 1, nunits);
    int bad = 0;
    for (int32_t j = 0; j < nu && !bad; j++) {
        pexc_tile t = {0, 1, ub[j], ub[j + 1], 0, 0};
        bad = !status_ok("fc_f32", d, pexc_fully_connected_f32(lo, hi, &vi, w, use_bias ? bias : NULL, &t, &vo));
    }
    for (int32_t i = 0; i < batches * nunits && !bad; i++) {
        if (memcmp(&want[i], &got[i], sizeof(float)) != 0) {
            printf("FAIL fc_f32: %s\n  first mismatch at index %d: want %.9g got %.9g\n", d,
                   (int)i, (double)want[i], (double)got[i]);
            bad = 1;
        }
    }
    free(in);
    free(w);
    free(want);
    free(got);
    checks++;
    return bad;
}

/* Clamp edge cases: NaN passes through (as std::max/std::min do), +-inf
 * clamp to finite bounds, -0.0 + 0.0f bias gives +0.0. */
static int check_f32_edges(void) {
    float in[3] = {NAN, 0.0f, 0.0f};
    float w[3] = {1.0f, 0.0f, 0.0f};
    float out[1];
    pexc_view vi = kref_conv_dense(in, 1, 1, 1, 3);
    pexc_view vo = kref_conv_dense(out, 1, 1, 1, 1);
    pexc_tile t = {0, 1, 0, 1, 0, 0};
    int bad = 0;
    if (pexc_fully_connected_f32(0.0f, 6.0f, &vi, w, NULL, &t, &vo) != PEXC_OK || !isnan(out[0])) {
        printf("FAIL fc_f32_edges: NaN input should give NaN, got %g\n", (double)out[0]);
        bad = 1;
    }
    float in2[3] = {0.0f, 1e30f, 0.0f};
    float w2[3] = {0.0f, 1.0f, 0.0f}, b2[1] = {-INFINITY};
    vi.data = in2;
    if (pexc_fully_connected_f32(-1.0f, 1.0f, &vi, w2, NULL, &t, &vo) != PEXC_OK || out[0] != 1.0f) {
        printf("FAIL fc_f32_edges: large value should clamp to 1, got %g\n", (double)out[0]);
        bad = 1;
    }
    if (pexc_fully_connected_f32(-1.0f, 1.0f, &vi, w2, b2, &t, &vo) != PEXC_OK || out[0] != -1.0f) {
        printf("FAIL fc_f32_edges: 1e30 - inf should clamp to -1, got %g\n", (double)out[0]);
        bad = 1;
    }
    float w3[3] = {0.0f, 0.0f, 1.0f};
    float in3[3] = {0.0f, 0.0f, -0.0f};
    vi.data = in3;
    if (pexc_fully_connected_f32(-INFINITY, INFINITY, &vi, w3, NULL, &t, &vo) != PEXC_OK ||
        out[0] != 0.0f || signbit(out[0])) {
        printf("FAIL fc_f32_edges: want +0.0, got %g\n", (double)out[0]);
        bad = 1;
    }
    checks += 4;
    return bad;
}

static int expect_status(const char *what, pexc_status got, pexc_status want) {
    checks++;
    if (got != want) {
        printf("FAIL fc_args: %s: want status %d got %d\n", what, (int)want, (int)got);
        return 1;
    }
    return 0;
}

static int check_args(void) {
    static int8_t in[2 * 10], w[4 * 10], out[2 * 4];
    static int32_t acc[2 * 4];
    static float fin[10], fw[4 * 10], fout[4];
    int32_t mult[4] = {1 << 30, 1 << 30, 1 << 30, 1 << 30}, shift[4] = {-4, -4, -4, -4};
    pexc_conv_params p = {0, 0, 0, 0, 0, 0, 0, 0, -128, 127, mult, shift, NULL, 0};
    pexc_view vi = kref_conv_dense(in, 2, 1, 1, 10);
    pexc_view vo = kref_conv_dense(out, 2, 1, 1, 4);
    pexc_view va = kref_conv_dense(acc, 2, 1, 1, 4);
    pexc_tile t = {0, 1, 0, 4, 0, 0};
    int bad = 0;
    bad |= expect_status("valid (stride fields ignored)", pexc_fully_connected_s8(&p, 0, &vi, w, NULL, &t, &vo), PEXC_OK);
    pexc_tile tb = {0, 1, 2, 5, 0, 0};
    bad |= expect_status("units past end", pexc_fully_connected_s8(&p, 0, &vi, w, NULL, &tb, &vo), PEXC_ERR_ARG);
    bad |= expect_status("NULL weights", pexc_fully_connected_s8(&p, 0, &vi, NULL, NULL, &t, &vo), PEXC_ERR_ARG);
    {   /* an input offset that is not minus an int8 zero point */
        pexc_conv_params q = p;
        q.input_offset = -200;
        bad |= expect_status("input offset -200", pexc_fully_connected_s8(&q, 0, &vi, w, NULL, &t, &vo), PEXC_ERR_ARG);
    }
    pexc_view v2 = vi;
    v2.n = 1;
    bad |= expect_status("batch mismatch", pexc_fully_connected_s8(&p, 0, &v2, w, NULL, &t, &vo), PEXC_ERR_ARG);
    v2 = vi;
    v2.h = 2;
    v2.n = 1;
    bad |= expect_status("input not [B,1,1,D]", pexc_fully_connected_s8(&p, 0, &v2, w, NULL, &t, &vo), PEXC_ERR_ARG);
    v2 = vi;
    v2.c_begin = 3;
    v2.c_stored = 4;
    bad |= expect_status("acc on stored slice", pexc_fully_connected_s8_acc(&p, 0, &v2, w, 3, 7, 1, &t, &va), PEXC_OK);
    bad |= expect_status("acc past stored slice", pexc_fully_connected_s8_acc(&p, 0, &v2, w, 3, 8, 1, &t, &va), PEXC_ERR_ARG);
    bad |= expect_status("acc empty depth range", pexc_fully_connected_s8_acc(&p, 0, &v2, w, 5, 5, 1, &t, &va), PEXC_OK);
    checks++;
    if (acc[0] != 0 || acc[7] != 0) {
        printf("FAIL fc_args: first with empty depth range should zero the accumulators\n");
        bad = 1;
    }
    bad |= expect_status("acc d0 > d1", pexc_fully_connected_s8_acc(&p, 0, &vi, w, 5, 4, 1, &t, &va), PEXC_ERR_ARG);
    bad |= expect_status("full on sliced input", pexc_fully_connected_s8(&p, 0, &v2, w, NULL, &t, &vo), PEXC_ERR_ARG);
    pexc_view fi = kref_conv_dense(fin, 1, 1, 1, 10), fo = kref_conv_dense(fout, 1, 1, 1, 4);
    bad |= expect_status("f32 valid", pexc_fully_connected_f32(-1.0f, 1.0f, &fi, fw, NULL, &t, &fo), PEXC_OK);
    bad |= expect_status("f32 min > max", pexc_fully_connected_f32(1.0f, -1.0f, &fi, fw, NULL, &t, &fo), PEXC_ERR_ARG);
    bad |= expect_status("f32 NULL weights", pexc_fully_connected_f32(-1.0f, 1.0f, &fi, NULL, NULL, &t, &fo), PEXC_ERR_ARG);
    return bad;
}

int main(void) {
    int bad = check_args() | check_f32_edges();
    int ncases = 0;
    for (int i = 0; i < NCASES && !bad; i++) {
        fc_case c;
        make_case(&c);
        bad = check_full(&c) || check_one_tile(&c) || check_slices(&c) || check_acc(&c);
        free_case(&c);
        ncases++;
    }
    for (int i = 0; i < 500 && !bad; i++) bad = check_f32_case(i);
    if (bad) return 1;
    printf("test_fc: OK (%d int8 cases, 500 float cases, %ld checks)\n", ncases, checks);
    return 0;
}
