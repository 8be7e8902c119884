/*
 * The element-wise binary kernels (binary_walk.c, binary_s8.c,
 * binary_s16.c, binary_f32.c) where the converter-made models of
 * tests/test_ops_binary.py reach little:
 *   - the walk on random rank-1..6 broadcasts given unfolded (the compiler
 *     folds axes; here every axis is walked), against subscripts computed
 *     from scratch per element, for int8 MAXIMUM, int16 SUB and float32
 *     SELECT_V2 (three operands, a bool condition);
 *   - float32 FLOOR_MOD and FLOOR_DIV against libm's fmodf and floor on
 *     random bit patterns (subnormals, huge and tiny ratios, both signs): the
 *     kernel's own libm-free fmod and floor must be exact;
 *   - float32 ADD's clamp: an infinite sum becomes FLT_MAX, NaN passes;
 *   - FLOOR_DIV refuses a zero divisor; a wrong operand count is refused.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kref_ops.h"
#include "pexc_kernels.h"

#define MAXN 4096

/* Random broadcast of up to 6 axes: output dims, operand dims (1 or the
 * output's), and the operands' unfolded strides. */
static int32_t random_case(kref_ops_rng *r, int n_ops, pexc_binary_params *p, int32_t od[6],
                           int32_t id[3][6]) {
    memset(p, 0, sizeof *p);
    int32_t rank = kref_ops_range(r, 1, 6), total = 1;
    for (int32_t a = 0; a < rank; a++) {
        od[a] = kref_ops_range(r, 1, rank > 4 ? 3 : 5);
        total *= od[a];
    }
    for (int k = 0; k < n_ops; k++) {
        int64_t acc = 1;
        for (int32_t a = rank - 1; a >= 0; a--) {
            id[k][a] = kref_ops_range(r, 0, 2) ? od[a] : 1;
            p->stride[k][a] = id[k][a] == 1 ? 0 : (int32_t)acc;
            acc *= id[k][a];
        }
    }
    p->rank = rank;
    p->n_in = n_ops;
    memcpy(p->dims, od, sizeof(int32_t) * (size_t)rank);
    return total;
}

/* Element index of operand dims d for output element e of dims od. */
static size_t sub_index(const int32_t *od, const int32_t *d, int32_t rank, int32_t e) {
    size_t idx = 0, mul = 1;
    for (int32_t a = rank - 1; a >= 0; a--) {
        int32_t c = e % od[a];
        e /= od[a];
        idx += (size_t)(d[a] == 1 ? 0 : c) * mul;
        mul *= (size_t)d[a];
    }
    return idx;
}

static int walk_cases(kref_ops_rng *r) {
    static int8_t a8[MAXN], b8[MAXN], o8[MAXN];
    static int16_t a16[MAXN], b16[MAXN], o16[MAXN];
    static float af[MAXN], bf[MAXN], of[MAXN];
    static uint8_t cond[MAXN];
    for (int i = 0; i < 600; i++) {
        pexc_binary_params p;
        int32_t od[6], id[3][6];
        int kind = i % 3, n_ops = kind == 2 ? 3 : 2;
        int32_t total = random_case(r, n_ops, &p, od, id);
        for (int32_t j = 0; j < MAXN; j++) {
            a8[j] = (int8_t)kref_ops_range(r, -128, 127);
            b8[j] = (int8_t)kref_ops_range(r, -128, 127);
            a16[j] = (int16_t)kref_ops_range(r, -32768, 32767);
            b16[j] = (int16_t)kref_ops_range(r, -32768, 32767);
            af[j] = (float)kref_ops_range(r, -1000, 1000) / 8.0f;
            bf[j] = (float)kref_ops_range(r, -1000, 1000) / 8.0f;
            cond[j] = (uint8_t)kref_ops_range(r, 0, 1);
        }
        pexc_status st;
        if (kind == 0) {
            p.op = PEXC_BIN_MAX;
            p.act_min = -128;
            p.act_max = 127;
            const void *in[2] = {a8, b8};
            st = pexc_binary_s8(&p, in, o8);
        } else if (kind == 1) {
            /* int16 SUB: real scales 1, 0.5 -> 0.75 (multipliers 2^30 etc.) */
            p.op = PEXC_BIN_SUB;
            p.left_shift = 15;
            p.in_mult[0] = p.in_mult[1] = 1 << 30;
            p.in_shift[0] = 0;
            p.in_shift[1] = -1;
            p.out_mult = 1431655765; /* 2/3 */
            p.out_shift = -14;
            p.act_min = -32768;
            p.act_max = 32767;
            const void *in[2] = {a16, b16};
            st = pexc_binary_s16(&p, in, o16);
        } else {
            p.op = PEXC_BIN_SELECT;
            p.act_min_f = -FLT_MAX;
            p.act_max_f = FLT_MAX;
            const void *in[3] = {cond, af, bf};
            st = pexc_binary_f32(&p, in, of);
        }
        if (st != PEXC_OK) {
            printf("test_binary: case %d (kind %d, rank %d): status %d\n", i, kind, (int)p.rank, (int)st);
            return 1;
        }
        for (int32_t e = 0; e < total; e++) {
            size_t ia = sub_index(od, id[0], p.rank, e), ib = sub_index(od, id[1], p.rank, e);
            int ok;
            if (kind == 0) {
                ok = o8[e] == (a8[ia] > b8[ib] ? a8[ia] : b8[ib]);
            } else if (kind == 1) {
                int32_t x = kref_ops_rdivpot(kref_ops_srdhm(a16[ia] * (1 << 15), 1 << 30), 0);
                int32_t y = kref_ops_rdivpot(kref_ops_srdhm(b16[ib] * (1 << 15), 1 << 30), 1);
                int32_t v = kref_ops_rdivpot(kref_ops_srdhm(x - y, 1431655765), 14);
                ok = o16[e] == (v < -32768 ? -32768 : v > 32767 ? 32767 : v);
            } else {
                size_t ic = sub_index(od, id[2], p.rank, e);
                ok = of[e] == (cond[ia] ? af[ib] : bf[ic]);
            }
            if (!ok) {
                printf("test_binary: case %d (kind %d, rank %d): output element %d differs\n", i, kind,
                       (int)p.rank, (int)e);
                return 1;
            }
        }
    }
    return 0;
}

static float from_bits(uint32_t u) {
    float f;
    memcpy(&f, &u, 4);
    return f;
}

static int same_bits(float a, float b) { return memcmp(&a, &b, 4) == 0 || (a != a && b != b); }

static int floor_cases(kref_ops_rng *r) {
    enum { N = 4096 };
    static float a[N], b[N], m[N], d[N];
    for (int i = 0; i < N; i++) {
        /* random patterns: every exponent, subnormals included */
        a[i] = from_bits(kref_ops_u32(r) & 0xff7fffffu);
        b[i] = from_bits(kref_ops_u32(r) & 0xff7fffffu);
        if (i % 4 == 1) b[i] = from_bits((kref_ops_u32(r) & 0x807fffffu) | ((uint32_t)kref_ops_range(r, 100, 150) << 23));
        if (i % 4 == 2) a[i] = (float)kref_ops_range(r, -100000, 100000) / 7.0f;
        if (i % 4 == 2) b[i] = (float)kref_ops_range(r, 1, 900) / (kref_ops_range(r, 0, 1) ? 13.0f : -13.0f);
        if (b[i] == 0.0f) b[i] = 1.5f;
    }
    pexc_binary_params p = {0};
    p.n_in = 2;
    p.rank = 1;
    p.dims[0] = N;
    p.stride[0][0] = p.stride[1][0] = 1;
    p.act_min_f = -FLT_MAX;
    p.act_max_f = FLT_MAX;
    const void *in[2] = {a, b};
    p.op = PEXC_BIN_FLOOR_MOD;
    if (pexc_binary_f32(&p, in, m) != PEXC_OK) return printf("test_binary: FLOOR_MOD refused\n"), 1;
    p.op = PEXC_BIN_FLOOR_DIV;
    if (pexc_binary_f32(&p, in, d) != PEXC_OK) return printf("test_binary: FLOOR_DIV refused\n"), 1;
    for (int i = 0; i < N; i++) {
        float t = fmodf(a[i], b[i]);
        float want = t != 0.0f && ((b[i] < 0.0f) != (t < 0.0f)) ? t + b[i] : t;
        float wd = (float)floor((double)a[i] / (double)b[i]);
        if (!same_bits(m[i], want) || !same_bits(d[i], wd)) {
            printf("test_binary: floor_mod/div(%a, %a) = %a, %a; libm gives %a, %a\n", (double)a[i], (double)b[i],
                   (double)m[i], (double)d[i], (double)want, (double)wd);
            return 1;
        }
    }
    return 0;
}

static int corner_cases(void) {
    float a[4] = {FLT_MAX, -FLT_MAX, NAN, 1.0f}, b[4] = {FLT_MAX, -FLT_MAX, 1.0f, 0.0f}, o[4];
    pexc_binary_params p = {0};
    p.op = PEXC_BIN_ADD;
    p.n_in = 2;
    p.rank = 1;
    p.dims[0] = 4;
    p.stride[0][0] = p.stride[1][0] = 1;
    p.act_min_f = -FLT_MAX;
    p.act_max_f = FLT_MAX;
    const void *in[2] = {a, b};
    if (pexc_binary_f32(&p, in, o) != PEXC_OK || o[0] != FLT_MAX || o[1] != -FLT_MAX || o[2] == o[2] || o[3] != 1.0f)
        return printf("test_binary: float ADD clamp: %g %g %g %g\n", (double)o[0], (double)o[1], (double)o[2],
                      (double)o[3]),
               1;
    p.op = PEXC_BIN_FLOOR_DIV;
    if (pexc_binary_f32(&p, in, o) != PEXC_ERR_ARG) return printf("test_binary: FLOOR_DIV by 0 accepted\n"), 1;
    p.op = PEXC_BIN_SELECT; /* needs 3 operands */
    if (pexc_binary_f32(&p, in, o) != PEXC_ERR_ARG) return printf("test_binary: SELECT of 2 accepted\n"), 1;
    p.op = PEXC_BIN_DIV;
    p.rank = 7;
    if (pexc_binary_s8(&p, in, o) != PEXC_ERR_ARG) return printf("test_binary: rank 7 accepted\n"), 1;
    return 0;
}

int main(void) {
    kref_ops_rng r = {UINT64_C(0xB1A2B)};
    if (walk_cases(&r) || floor_cases(&r) || corner_cases()) return 1;
    printf("test_binary: 600 broadcast walks, 4096 floor_mod/floor_div, corners OK\n");
    return 0;
}
