/*
 * The data-movement kernels on random descriptions, against references that
 * compute each output element's source from its full multi-index (the
 * kernel walks rows and keeps the offset of a row instead).
 *
 * pexc_move: random ranks up to 8, element sizes 1, 2, 4, axes that are
 * strides (negative and zero too), tables with padding markers, tables
 * paired with an outer axis, an axis choosing among several inputs, a pad
 * value read from an input. pexc_gather and pexc_gather_nd: random shapes,
 * and an index out of range must be an error. pexc_cast: every type pair on
 * integers and floats outside every range, against the saturating rule.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kref_ops.h"

#define MAXIN 4

static int move_case(kref_ops_rng *r, int idx) {
    static const int32_t sizes[3] = {1, 2, 4};
    pexc_move_params p;
    memset(&p, 0, sizeof p);
    p.rank = kref_ops_range(r, 1, PEXC_MOVE_MAX_AXES);
    p.elem_size = sizes[kref_ops_range(r, 0, 2)];
    p.sel_axis = p.rank > 1 && kref_ops_range(r, 0, 3) == 0 ? kref_ops_range(r, 0, p.rank - 2) : -1;
    int32_t tables[PEXC_MOVE_MAX_AXES][64];
    int64_t need = 0; /* input elements the offsets reach */
    int64_t total = 1;
    for (int32_t d = 0; d < p.rank; d++) {
        pexc_move_axis *a = &p.axis[d];
        a->ext = kref_ops_range(r, 1, p.rank > 5 ? 2 : 4);
        if (d == p.sel_axis) a->ext = kref_ops_range(r, 1, MAXIN);
        total *= a->ext;
        a->pair = -1;
        int kind = d == p.sel_axis ? 0 : kref_ops_range(r, 0, 3);
        if (kind < 2) {
            a->stride = kref_ops_range(r, -5, 7);
            continue;
        }
        if (kind == 3 && d > 0) a->pair = kref_ops_range(r, 0, d - 1);
        int32_t n = a->ext * (a->pair >= 0 ? p.axis[a->pair].ext : 1);
        for (int32_t i = 0; i < n; i++)
            tables[d][i] = kref_ops_range(r, 0, 5) == 0 ? PEXC_MOVE_PAD : kref_ops_range(r, 0, 9);
        a->table = tables[d];
    }
    /* base lifts the most negative stride sum to 0 */
    int64_t lo = 0, hi = 0;
    for (int32_t d = 0; d < p.rank; d++) {
        const pexc_move_axis *a = &p.axis[d];
        if (a->table) {
            hi += 9;
            continue;
        }
        int64_t e = (int64_t)(a->ext - 1) * a->stride;
        lo += e < 0 ? e : 0;
        hi += e > 0 ? e : 0;
    }
    p.base = (int32_t)-lo;
    need = hi - lo + 1;
    int32_t n_in = p.sel_axis >= 0 ? p.axis[p.sel_axis].ext : 1;
    p.pad_input = kref_ops_range(r, 0, 2) == 0 ? n_in : -1;
    for (int i = 0; i < 4; i++) p.pad[i] = (uint8_t)kref_ops_range(r, 0, 255);
    size_t es = (size_t)p.elem_size, in_bytes = (size_t)need * es;
    unsigned char *ins[MAXIN + 1], padv[4];
    const void *cin[MAXIN + 1];
    for (int32_t i = 0; i < n_in; i++) {
        ins[i] = malloc(in_bytes);
        kref_ops_fill_s8(r, (int8_t *)ins[i], in_bytes);
        cin[i] = ins[i];
    }
    kref_ops_fill_s8(r, (int8_t *)padv, 4);
    cin[n_in] = padv;
    unsigned char *want = malloc((size_t)total * es), *got = malloc((size_t)total * es);
    for (int64_t o = 0; o < total; o++) {
        int32_t ix[PEXC_MOVE_MAX_AXES];
        int64_t rem = o;
        for (int32_t d = p.rank - 1; d >= 0; d--) {
            ix[d] = (int32_t)(rem % p.axis[d].ext);
            rem /= p.axis[d].ext;
        }
        int64_t off = p.base;
        int pad = 0;
        for (int32_t d = 0; d < p.rank; d++) {
            const pexc_move_axis *a = &p.axis[d];
            int32_t part = a->table ? a->table[(a->pair >= 0 ? ix[a->pair] * a->ext : 0) + ix[d]] : ix[d] * a->stride;
            if (part == PEXC_MOVE_PAD) pad = 1;
            else off += part;
        }
        const unsigned char *pv = p.pad_input >= 0 ? padv : p.pad;
        memcpy(want + o * (int64_t)es, pad ? pv : ins[p.sel_axis >= 0 ? ix[p.sel_axis] : 0] + off * (int64_t)es, es);
    }
    memset(got, 0xAA, (size_t)total * es);
    int fail = 0;
    pexc_status st = pexc_move(&p, cin, got);
    if (st != PEXC_OK) fail = kref_ops_fail("move", "case %d (rank %d): status %d", idx, p.rank, (int)st);
    for (int64_t b = 0; !fail && b < total * (int64_t)es; b++)
        if (want[b] != got[b])
            fail = kref_ops_fail("move", "case %d (rank %d, elem %d, sel %d): byte %lld is %d, want %d", idx, p.rank,
                                 p.elem_size, p.sel_axis, (long long)b, got[b], want[b]);
    for (int32_t i = 0; i < n_in; i++) free(ins[i]);
    free(want);
    free(got);
    return fail;
}

static int gather_case(kref_ops_rng *r, int idx) {
    pexc_gather_params p = {kref_ops_range(r, 1, 3), kref_ops_range(r, 1, 3), kref_ops_range(r, 1, 5),
                            kref_ops_range(r, 0, 6), kref_ops_range(r, 0, 9), 0.0f};
    size_t in_bytes = (size_t)p.batch * p.outer * p.axis_size * p.inner_bytes + 1;
    size_t out_bytes = (size_t)p.batch * p.outer * p.coords * p.inner_bytes + 1;
    unsigned char *in = malloc(in_bytes), *want = malloc(out_bytes), *got = malloc(out_bytes);
    int32_t idxs[18];
    kref_ops_fill_s8(r, (int8_t *)in, in_bytes);
    for (int32_t i = 0; i < p.batch * p.coords; i++) idxs[i] = kref_ops_range(r, 0, p.axis_size - 1);
    size_t at = 0;
    for (int32_t b = 0; b < p.batch; b++)
        for (int32_t o = 0; o < p.outer; o++)
            for (int32_t j = 0; j < p.coords; j++) {
                size_t src = (((size_t)b * p.outer + o) * p.axis_size + idxs[b * p.coords + j]) * p.inner_bytes;
                memcpy(want + at, in + src, (size_t)p.inner_bytes);
                at += (size_t)p.inner_bytes;
            }
    const void *ins[2] = {in, idxs};
    int fail = 0;
    if (pexc_gather(&p, ins, got) != PEXC_OK || memcmp(want, got, at))
        fail = kref_ops_fail("gather", "case %d: wrong output or status", idx);
    if (!fail && p.coords > 0) {
        idxs[kref_ops_range(r, 0, p.batch * p.coords - 1)] = kref_ops_range(r, 0, 1) ? p.axis_size : -1;
        if (pexc_gather(&p, ins, got) != PEXC_ERR_ARG)
            fail = kref_ops_fail("gather", "case %d: an index out of range was not refused", idx);
    }
    free(in);
    free(want);
    free(got);
    return fail;
}

static int gather_nd_tests(void) {
    /* params [3][4][2] int16, indices of depth 2: slices of 2 elements */
    int16_t prm[24], out[6];
    for (int i = 0; i < 24; i++) prm[i] = (int16_t)(i * 37 - 300);
    int32_t idx[6] = {2, 3, 0, 0, 1, 2};
    pexc_gather_nd_params p = {3, 2, 2, 24, 2, {8, 2, 0, 0, 0}};
    const void *ins[2] = {prm, idx};
    if (pexc_gather_nd(&p, ins, out) != PEXC_OK || out[0] != prm[22] || out[1] != prm[23] || out[2] != prm[0] ||
        out[5] != prm[13])
        return kref_ops_fail("gather_nd", "wrong slices");
    idx[3] = -1; /* [0, -1]: flat -2, outside */
    if (pexc_gather_nd(&p, ins, out) != PEXC_ERR_ARG) return kref_ops_fail("gather_nd", "negative slice accepted");
    idx[3] = 0;
    idx[0] = 3; /* [3, 3]: flat 30, outside */
    if (pexc_gather_nd(&p, ins, out) != PEXC_ERR_ARG) return kref_ops_fail("gather_nd", "slice past the end accepted");
    idx[0] = 1; /* [1, 5]: index 5 > 3 but the flat slice [18, 20) is inside: TFLM accepts it */
    idx[1] = 5;
    if (pexc_gather_nd(&p, ins, out) != PEXC_OK || out[0] != prm[18]) return kref_ops_fail("gather_nd", "flat rule");
    return 0;
}

static int32_t sat(double v, double lo, double hi) {
    if (v != v) return 0;
    if (v >= hi) return (int32_t)hi;
    if (v <= lo) return (int32_t)lo;
    return (int32_t)v;
}

static int cast_tests(void) {
    static const float f[12] = {0.0f, -0.99f, 127.5f, -128.7f, 300.7f, -40000.2f, 3e9f, -3e9f, INFINITY, -INFINITY,
                                NAN, 65535.9f};
    int8_t o8[12];
    int16_t o16[12];
    int32_t o32[12];
    const void *in[1] = {f};
    pexc_cast_params p = {12, PEXC_CAST_F32, PEXC_CAST_I8};
    if (pexc_cast(&p, in, o8)) return kref_ops_fail("cast", "f32->i8 status");
    p.to = PEXC_CAST_I16;
    if (pexc_cast(&p, in, o16)) return kref_ops_fail("cast", "f32->i16 status");
    p.to = PEXC_CAST_I32;
    if (pexc_cast(&p, in, o32)) return kref_ops_fail("cast", "f32->i32 status");
    for (int i = 0; i < 12; i++)
        if (o8[i] != sat(f[i], -128, 127) || o16[i] != sat(f[i], -32768, 32767) ||
            o32[i] != sat(f[i], -2147483648.0, 2147483647.0))
            return kref_ops_fail("cast", "float %g: %d %d %ld", (double)f[i], o8[i], o16[i], (long)o32[i]);
    /* integers wrap when they narrow; bool is 0 or 1 */
    static const int32_t w[4] = {INT32_MAX, INT32_MIN, 70000, -129};
    static const unsigned char bl[4] = {0, 1, 2, 255};
    float of[4];
    in[0] = w;
    p = (pexc_cast_params){4, PEXC_CAST_I32, PEXC_CAST_I8};
    if (pexc_cast(&p, in, o8) || o8[0] != -1 || o8[1] != 0 || o8[2] != 112 || o8[3] != 127)
        return kref_ops_fail("cast", "i32->i8");
    p.to = PEXC_CAST_F32;
    if (pexc_cast(&p, in, of) || of[0] != 2147483648.0f || of[3] != -129.0f) return kref_ops_fail("cast", "i32->f32");
    in[0] = bl;
    p = (pexc_cast_params){4, PEXC_CAST_BOOL, PEXC_CAST_I16};
    if (pexc_cast(&p, in, o16) || o16[0] != 0 || o16[1] != 1 || o16[2] != 1 || o16[3] != 1)
        return kref_ops_fail("cast", "bool->i16");
    in[0] = f;
    p = (pexc_cast_params){12, PEXC_CAST_F32, PEXC_CAST_BOOL};
    if (pexc_cast(&p, in, o8) || o8[0] != 0 || o8[1] != 1 || o8[10] != 1) return kref_ops_fail("cast", "f32->bool");
    return 0;
}

static int fill_tests(void) {
    static const uint8_t pat[3] = {1, 2, 3};
    uint8_t out[9];
    pexc_move_fill_params p = {9, 3, pat};
    if (pexc_move_fill(&p, NULL, out) || out[0] != 1 || out[5] != 3 || out[8] != 3)
        return kref_ops_fail("fill", "pattern");
    p.bytes = 8;
    if (pexc_move_fill(&p, NULL, out) != PEXC_ERR_ARG) return kref_ops_fail("fill", "partial pattern accepted");
    return 0;
}

int main(void) {
    kref_ops_rng r = {UINT64_C(0x30E5)};
    for (int i = 0; i < 2000; i++)
        if (move_case(&r, i)) return 1;
    for (int i = 0; i < 300; i++)
        if (gather_case(&r, i)) return 1;
    if (gather_nd_tests() || cast_tests() || fill_tests()) return 1;
    printf("test_move: 2000 random pexc_move descriptions, 300 gathers, gather_nd, cast, fill OK\n");
    return 0;
}
