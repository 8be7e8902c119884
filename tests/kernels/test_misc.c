/*
 * The misc family's kernels and the float functions with corner cases.
 *
 * pexc_dynamic_update_slice on random descriptions (ranks 1..6, element
 * sizes 1, 2, 4, empty updates, updates as large as the operand, int32 and
 * int64 start indices far outside the operand, the output the operand's
 * own buffer), against a reference that decides each output element from
 * its multi-index: inside the clamped block it is the update's, else the
 * operand's. pexc_unary_f32 ROUND on ties and extremes (to even, as TFLM's
 * reference), pexc_logical_not on every byte value.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "kref_ops.h"

static int64_t clamp64(int64_t v, int64_t lo, int64_t hi) { return v < lo ? lo : v > hi ? hi : v; }

static int dus_case(kref_ops_rng *r, int idx) {
    static const int32_t sizes[3] = {1, 2, 4};
    pexc_dynamic_update_slice_params p;
    memset(&p, 0, sizeof p);
    p.rank = kref_ops_range(r, 1, 6);
    p.elem_size = sizes[kref_ops_range(r, 0, 2)];
    p.index_bytes = kref_ops_range(r, 0, 1) ? 8 : 4;
    int32_t n = 1, nu = 1;
    for (int32_t d = 0; d < p.rank; d++) {
        p.dims[d] = kref_ops_range(r, 1, 4);
        int k = kref_ops_range(r, 0, 5);
        p.upd_dims[d] = k == 0 ? p.dims[d] : k == 1 && idx % 7 == 0 ? 0 : kref_ops_range(r, 1, p.dims[d]);
        n *= p.dims[d];
        nu *= p.upd_dims[d];
    }
    for (int32_t d = p.rank - 1, s = 1; d >= 0; d--) {
        p.out_stride[d] = s;
        s *= p.dims[d];
    }
    p.operand_elems = n;
    p.update_rows = p.upd_dims[p.rank - 1] ? nu / p.upd_dims[p.rank - 1] : 0;
    /* static: 64 KiB would not fit the board's stack */
    static uint8_t operand[4096 * 4], update[4096 * 4], out[4096 * 4], want[4096 * 4];
    int64_t start64[6];
    int32_t start32[6];
    for (size_t i = 0; i < (size_t)n * (size_t)p.elem_size; i++) operand[i] = (uint8_t)kref_ops_u32(r);
    for (size_t i = 0; i < (size_t)nu * (size_t)p.elem_size; i++) update[i] = (uint8_t)kref_ops_u32(r);
    for (int32_t d = 0; d < p.rank; d++) {
        int k = kref_ops_range(r, 0, 9);
        start64[d] = k == 0 ? INT64_MIN : k == 1 ? INT64_MAX : k == 2 ? (int64_t)INT32_MIN : kref_ops_range(r, -3, 6);
        if (p.index_bytes == 4) start64[d] = (int32_t)start64[d]; /* what an int32 tensor can hold */
        start32[d] = (int32_t)start64[d];
    }
    /* the reference: every output element, by its multi-index */
    for (int32_t i = 0; i < n; i++) {
        int inside = nu > 0;
        int32_t rem = i, ui = 0;
        for (int32_t d = 0; d < p.rank; d++) {
            int32_t c = rem / p.out_stride[d];
            rem %= p.out_stride[d];
            int64_t s0 = clamp64(start64[d], 0, p.dims[d] - p.upd_dims[d]);
            if (c < s0 || c >= s0 + p.upd_dims[d]) inside = 0;
            ui = ui * p.upd_dims[d] + (int32_t)(c - s0);
        }
        const uint8_t *src = inside ? update + (size_t)ui * p.elem_size : operand + (size_t)i * p.elem_size;
        memcpy(want + (size_t)i * p.elem_size, src, (size_t)p.elem_size);
    }
    int in_place = idx % 3 == 0;
    if (in_place) memcpy(out, operand, (size_t)n * p.elem_size);
    const void *in[3] = {in_place ? out : operand, update,
                         p.index_bytes == 8 ? (const void *)start64 : (const void *)start32};
    if (pexc_dynamic_update_slice(&p, in, out)) return kref_ops_fail("dynamic_update_slice", "error status");
    if (memcmp(out, want, (size_t)n * p.elem_size)) {
        fprintf(stderr, "case %d: rank %d elem %d index %d in_place %d\n", idx, p.rank, p.elem_size,
                p.index_bytes, in_place);
        return kref_ops_fail("dynamic_update_slice", "output differs from the reference");
    }
    return 0;
}

static int round_tests(void) {
    static const float x[] = {0.5f, 1.5f, 2.5f, -0.5f, -1.5f, -2.5f, 0.49999997f, 8388607.5f, -8388607.5f,
                              8388609.0f, 3e38f, -0.0f, 1e-40f, -1e-40f};
    /* bit for bit: -0.5 and -1e-40 round to +0 (floor -1, plus 1), -0 stays -0 */
    static const float want[] = {0.0f, 2.0f, 2.0f, 0.0f, -2.0f, -2.0f, 0.0f, 8388608.0f, -8388608.0f,
                                 8388609.0f, 3e38f, -0.0f, 0.0f, 0.0f};
    enum { N = sizeof x / sizeof x[0] };
    float y[N];
    pexc_unary_f32_params p = {PEXC_UN_ROUND, N};
    const void *in[1] = {x};
    if (pexc_unary_f32(&p, in, y)) return kref_ops_fail("round", "error status");
    for (int i = 0; i < N; i++)
        if (memcmp(&y[i], &want[i], 4)) {
            fprintf(stderr, "round(%a) = %a, want %a\n", (double)x[i], (double)y[i], (double)want[i]);
            return kref_ops_fail("round", "ties to even");
        }
    float inf[2] = {INFINITY, -INFINITY}, yi[2];
    in[0] = inf;
    p.n = 2;
    if (pexc_unary_f32(&p, in, yi) || yi[0] != INFINITY || yi[1] != -INFINITY)
        return kref_ops_fail("round", "infinities");
    return 0;
}

static int not_tests(void) {
    uint8_t x[256], y[256];
    for (int i = 0; i < 256; i++) x[i] = (uint8_t)i;
    pexc_logical_not_params p = {256};
    const void *in[1] = {x};
    if (pexc_logical_not(&p, in, y)) return kref_ops_fail("logical_not", "error status");
    for (int i = 0; i < 256; i++)
        if (y[i] != (i == 0)) return kref_ops_fail("logical_not", "value");
    return 0;
}

int main(void) {
    kref_ops_rng r = {UINT64_C(0xD05)};
    for (int i = 0; i < 3000; i++)
        if (dus_case(&r, i)) return 1;
    if (round_tests() || not_tests()) return 1;
    printf("test_misc: 3000 random dynamic_update_slice cases, round ties, logical_not OK\n");
    return 0;
}
