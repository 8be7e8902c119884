/*
 * ADD / MUL with broadcasting, int8 requantisation, QUANTIZE float -> int8
 * and DEQUANTIZE int8 -> float, against nested-loop references built on
 * kref_ops' independent fixed-point primitives, on random shapes and random
 * quantisation produced by the prepare functions. The prepared parameters
 * are also checked for sense: results stay within one step of the exact
 * real-valued answer. Tiles with channel-slice and ring views must give the
 * same bytes as the whole-tensor call, and so must runs of output pixels
 * that cross row ends, whole or through pixel rings whose rows wrap mid-row
 * (kref_ops_stream; broadcast operands stream too).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kref_ops.h"
#include "prep/prep.h"

static int32_t clampi(int32_t v, int32_t lo, int32_t hi) { return v < lo ? lo : v > hi ? hi : v; }

/* dense index with broadcasting of an operand of dims d */
static size_t bidx(const int32_t *d, int32_t n, int32_t y, int32_t x, int32_t c) {
    n = d[0] == 1 ? 0 : n;
    y = d[1] == 1 ? 0 : y;
    x = d[2] == 1 ? 0 : x;
    c = d[3] == 1 ? 0 : c;
    return (((size_t)n * d[1] + y) * d[2] + x) * d[3] + c;
}

static int8_t ref_add(const pexc_add_params *p, int8_t a8, int8_t b8) {
    int32_t a = (p->input1_offset + a8) * (1 << p->left_shift);
    int32_t b = (p->input2_offset + b8) * (1 << p->left_shift);
    int32_t sa = kref_ops_rdivpot(kref_ops_srdhm(a, p->input1_mult), -p->input1_shift);
    int32_t sb = kref_ops_rdivpot(kref_ops_srdhm(b, p->input2_mult), -p->input2_shift);
    int32_t o = kref_ops_rdivpot(kref_ops_srdhm(sa + sb, p->output_mult), -p->output_shift);
    return (int8_t)clampi(o + p->output_offset, p->act_min, p->act_max);
}

static int8_t ref_mul(const pexc_mul_params *p, int8_t a8, int8_t b8) {
    int32_t prod = (p->input1_offset + a8) * (p->input2_offset + b8);
    int32_t o = kref_ops_requant(prod, p->output_mult, p->output_shift) + p->output_offset;
    return (int8_t)clampi(o, p->act_min, p->act_max);
}

typedef struct {
    int mul;
    const pexc_add_params *pa;
    const pexc_mul_params *pm;
} binary_ctx;

static pexc_status binary_tile(void *vctx, const pexc_view *in, const pexc_tile *t, pexc_view *out) {
    const binary_ctx *ctx = vctx;
    return ctx->mul ? pexc_mul_s8(ctx->pm, &in[0], &in[1], t, out)
                    : pexc_add_s8(ctx->pa, &in[0], &in[1], t, out);
}

/* The unary kernels, one at a time, for kref_ops_stream. */
typedef struct {
    int op; /* 0 requantize, 1 quantize, 2 dequantize */
    const pexc_requantize_params *rq;
    float scale;
    int32_t zp;
} unary_ctx;

static pexc_status unary_tile(void *vctx, const pexc_view *in, const pexc_tile *t, pexc_view *out) {
    const unary_ctx *ctx = vctx;
    if (ctx->op == 0) return pexc_requantize_s8(ctx->rq, &in[0], t, out);
    if (ctx->op == 1) return pexc_quantize_f32_s8(ctx->scale, ctx->zp, &in[0], t, out);
    return pexc_dequantize_s8_f32(ctx->scale, ctx->zp, &in[0], t, out);
}

static int unary_stream(kref_ops_rng *r, const char *name, const char *desc, const unary_ctx *ctx,
                        const void *in, size_t ie, const void *want, size_t oe, int32_t n,
                        int32_t h, int32_t w, int32_t c) {
    kref_ops_src src = {in, n, h, w, c, ie, {1, 1, 1, 1, 1, 1, 0, 0}};
    int fail = 0;
    for (int pass = 0; pass < 2 && !fail; pass++) {
        kref_ops_stream_cfg cfg = {kref_ops_pick_chunk(r, w), 2 * w + 1, pass,
                                   pass && kref_ops_range(r, 0, 3) != 0, 0, c};
        if (kref_ops_range(r, 0, 2) == 0) {
            cfg.c0 = kref_ops_range(r, 0, c - 1);
            cfg.c1 = kref_ops_range(r, cfg.c0 + 1, c);
        }
        fail = kref_ops_stream(r, name, desc, &src, 1, n, h, w, c, oe, want, &cfg, unary_tile,
                               (void *)ctx);
    }
    return fail;
}

/* One random binary case; mul selects MUL, else ADD. */
static int binary_case(kref_ops_rng *r, int mul, int idx) {
    const char *name = mul ? "mul" : "add";
    int32_t od[4] = {kref_ops_range(r, 1, 2), kref_ops_range(r, 1, 6), kref_ops_range(r, 1, 6),
                     kref_ops_range(r, 1, 10)};
    int32_t d1[4], d2[4];
    for (int i = 0; i < 4; i++) {
        d1[i] = kref_ops_range(r, 0, 3) ? od[i] : 1;
        d2[i] = kref_ops_range(r, 0, 3) ? od[i] : 1;
        if (d1[i] == 1 && d2[i] == 1) d1[i] = od[i];
        if (kref_ops_range(r, 0, 1)) { /* swap who broadcasts */
            int32_t tmp = d1[i];
            d1[i] = d2[i];
            d2[i] = tmp;
        }
    }
    float s1 = (float)kref_ops_logu(r, 0.002, 1.0), s2 = (float)kref_ops_logu(r, 0.002, 1.0);
    float so = (float)kref_ops_logu(r, 0.002, 1.0);
    int32_t z1 = kref_ops_range(r, -128, 127), z2 = kref_ops_range(r, -128, 127);
    int32_t zo = kref_ops_range(r, -128, 127);
    int32_t act = kref_ops_range(r, 0, 3) ? 0 : (kref_ops_range(r, 0, 1) ? 1 : 3);
    pexc_add_params pa;
    pexc_mul_params pm;
    int prc = mul ? prep_mul_s8(s1, z1, s2, z2, so, zo, act, &pm)
                  : prep_add_s8(s1, z1, s2, z2, so, zo, act, &pa);
    char desc[300];
    snprintf(desc, sizeof desc,
             "case %d in1 %dx%dx%dx%d (%g,%d) in2 %dx%dx%dx%d (%g,%d) out %dx%dx%dx%d (%g,%d) act %d",
             idx, d1[0], d1[1], d1[2], d1[3], (double)s1, z1, d2[0], d2[1], d2[2], d2[3],
             (double)s2, z2, od[0], od[1], od[2], od[3], (double)so, zo, act);
    if (prc != 0) return kref_ops_fail(name, "%s: prepare failed", desc);

    size_t n1 = (size_t)d1[0] * d1[1] * d1[2] * d1[3], n2 = (size_t)d2[0] * d2[1] * d2[2] * d2[3];
    size_t no = (size_t)od[0] * od[1] * od[2] * od[3];
    int8_t *a = malloc(n1), *b = malloc(n2), *want = malloc(no), *got = malloc(no);
    kref_ops_fill_s8(r, a, n1);
    kref_ops_fill_s8(r, b, n2);
    int fail = 0;
    for (int32_t n = 0; n < od[0]; n++)
        for (int32_t y = 0; y < od[1]; y++)
            for (int32_t x = 0; x < od[2]; x++)
                for (int32_t c = 0; c < od[3]; c++) {
                    int8_t va = a[bidx(d1, n, y, x, c)], vb = b[bidx(d2, n, y, x, c)];
                    size_t o = bidx(od, n, y, x, c);
                    want[o] = mul ? ref_mul(&pm, va, vb) : ref_add(&pa, va, vb);
                    /* prepare sanity: within 1 step of the real result */
                    double ra = s1 * (double)(va - z1), rb = s2 * (double)(vb - z2);
                    double q = (mul ? ra * rb : ra + rb) / so + zo;
                    int32_t lo = mul ? pm.act_min : pa.act_min, hi = mul ? pm.act_max : pa.act_max;
                    double qc = q < lo ? lo : q > hi ? hi : q;
                    if (!fail && fabs(qc - want[o]) > 1.0)
                        fail = kref_ops_fail(name, "%s: prepared params give %d, real %.3f at %lu",
                                             desc, want[o], q, (unsigned long)o);
                }
    for (int tiled = 0; tiled < 2 && !fail; tiled++) {
        memset(got, 0, no);
        for (int32_t y0 = 0; y0 < od[1] && !fail;) {
            int32_t y1 = tiled ? y0 + kref_ops_range(r, 1, od[1] - y0) : od[1];
            for (int32_t c0 = 0; c0 < od[3] && !fail;) {
                int32_t c1 = tiled ? c0 + kref_ops_range(r, 1, od[3] - c0) : od[3];
                pexc_view v1, v2;
                pexc_view *vs[2] = {&v1, &v2};
                const int32_t *ds[2] = {d1, d2};
                const int8_t *src[2] = {a, b};
                for (int k = 0; k < 2; k++) {
                    const int32_t *d = ds[k];
                    int32_t cb = 0, cs = d[3], ring = 0;
                    if (tiled && d[3] != 1) {
                        cb = kref_ops_range(r, 0, c0);
                        cs = kref_ops_range(r, c1, d[3]) - cb;
                    }
                    /* a ring of the tile's rows: ring_px = rows * width */
                    if (tiled && d[1] != 1 && kref_ops_range(r, 0, 1)) ring = (y1 - y0) * d[2];
                    *vs[k] = kref_ops_view_new(d[0], d[1], d[2], d[3], cb, cs, ring, 1);
                    if (d[1] == 1) kref_ops_view_put(vs[k], src[k], 1, 0, 1);
                    else kref_ops_view_put(vs[k], src[k], 1, y0, y1);
                }
                pexc_view vo = kref_ops_view_new(od[0], od[1], od[2], od[3], tiled ? c0 : 0,
                                                 tiled ? c1 - c0 : od[3], tiled ? (y1 - y0) * od[2] : 0, 1);
                pexc_tile t = {y0, y1, c0, c1, 0, 0};
                pexc_status st = mul ? pexc_mul_s8(&pm, &v1, &v2, &t, &vo)
                                     : pexc_add_s8(&pa, &v1, &v2, &t, &vo);
                if (st != PEXC_OK) fail = kref_ops_fail(name, "%s: status %d", desc, (int)st);
                kref_ops_view_get(&vo, got, 1, y0, y1, c0, c1);
                kref_ops_view_free(&v1);
                kref_ops_view_free(&v2);
                kref_ops_view_free(&vo);
                c0 = c1;
            }
            y0 = y1;
        }
        if (!fail) {
            char d2s[340];
            snprintf(d2s, sizeof d2s, "%s%s", desc, tiled ? " (tiled)" : "");
            fail = kref_ops_cmp_s8(name, d2s, want, got, no);
        }
    }
    /* pixel streaming; a broadcast axis reads row / column 0 (stride 0) */
    binary_ctx ctx = {mul, &pa, &pm};
    kref_ops_src src[2];
    const int32_t *ds[2] = {d1, d2};
    const int8_t *dense[2] = {a, b};
    for (int k = 0; k < 2; k++) {
        kref_ops_src sk = {dense[k], ds[k][0], ds[k][1], ds[k][2], ds[k][3], 1,
                           {ds[k][1] == 1 ? 0 : 1, ds[k][2] == 1 ? 0 : 1, 1, 1, 1, 1, 0, 0}};
        src[k] = sk;
    }
    for (int pass = 0; pass < 2 && !fail; pass++) {
        kref_ops_stream_cfg cfg = {kref_ops_pick_chunk(r, od[2]), 2 * od[2] + 1, pass,
                                   pass && kref_ops_range(r, 0, 3) != 0, 0, od[3]};
        fail = kref_ops_stream(r, name, desc, src, 2, od[0], od[1], od[2], od[3], 1, want, &cfg,
                               binary_tile, &ctx);
    }
    free(a);
    free(b);
    free(want);
    free(got);
    return fail;
}

/* QUANTIZE int8 -> int8, QUANTIZE float -> int8, DEQUANTIZE: element-wise
 * over a random shape, whole tensor and one random tile. */
static int unary_case(kref_ops_rng *r, int idx) {
    int32_t n = kref_ops_range(r, 1, 2), h = kref_ops_range(r, 1, 5), w = kref_ops_range(r, 1, 5);
    int32_t c = kref_ops_range(r, 1, 9);
    size_t cnt = (size_t)n * h * w * c;
    float si = (float)kref_ops_logu(r, 0.001, 2.0), so = (float)kref_ops_logu(r, 0.001, 2.0);
    int32_t zi = kref_ops_range(r, -128, 127), zo = kref_ops_range(r, -128, 127);
    char desc[200];
    snprintf(desc, sizeof desc, "case %d shape %dx%dx%dx%d in (%g,%d) out (%g,%d)", idx, n, h, w,
             c, (double)si, zi, (double)so, zo);
    int8_t *in = malloc(cnt), *want = malloc(cnt), *got = malloc(cnt);
    float *fin = malloc(cnt * 4), *fwant = malloc(cnt * 4), *fgot = malloc(cnt * 4);
    kref_ops_fill_s8(r, in, cnt);
    pexc_requantize_params rq;
    int fail = 0;
    if (prep_requantize_s8(si, zi, so, zo, &rq) != 0)
        return kref_ops_fail("requantize", "%s: prepare failed", desc);
    for (size_t i = 0; i < cnt; i++) {
        int32_t v = kref_ops_requant(in[i] - zi, rq.multiplier, rq.shift) + zo;
        want[i] = (int8_t)clampi(v, -128, 127);
        double real = (double)si * (in[i] - zi) / so + zo;
        real = real < -128 ? -128 : real > 127 ? 127 : real;
        if (!fail && fabs(real - want[i]) > 1.0) /* double rounding */
            fail = kref_ops_fail("requantize", "%s: %d vs real %.3f", desc, want[i], real);
        /* float inputs: random values, exact ties and out-of-range values */
        int32_t kind = kref_ops_range(r, 0, 3);
        if (kind == 0) fin[i] = (float)(kref_ops_range(r, -600, 600) / 2) * so + 0.0f;
        else if (kind == 1) fin[i] = (float)(kref_ops_range(r, -300, 300)) * 0.5f * so;
        else fin[i] = so * (float)kref_ops_range(r, -20000, 20000) / 100.0f;
        fwant[i] = (float)((double)si * (double)(in[i] - zi));
    }
    pexc_tile whole = {0, h, 0, c, 0, 0};
    pexc_view vi = kref_ops_view_new(n, h, w, c, 0, c, 0, 1), vo = kref_ops_view_new(n, h, w, c, 0, c, 0, 1);
    kref_ops_view_put(&vi, in, 1, 0, h);
    if (!fail && pexc_requantize_s8(&rq, &vi, &whole, &vo) != PEXC_OK)
        fail = kref_ops_fail("requantize", "%s: status", desc);
    kref_ops_view_get(&vo, got, 1, 0, h, 0, c);
    if (!fail) fail = kref_ops_cmp_s8("requantize", desc, want, got, cnt);
    unary_ctx ctx = {0, &rq, si, zi};
    if (!fail) fail = unary_stream(r, "requantize", desc, &ctx, in, 1, want, 1, n, h, w, c);

    /* DEQUANTIZE */
    pexc_view vf = kref_ops_view_new(n, h, w, c, 0, c, 0, 4);
    if (!fail && pexc_dequantize_s8_f32(si, zi, &vi, &whole, &vf) != PEXC_OK)
        fail = kref_ops_fail("dequantize", "%s: status", desc);
    kref_ops_view_get(&vf, fgot, 4, 0, h, 0, c);
    if (!fail && memcmp(fwant, fgot, cnt * 4) != 0)
        fail = kref_ops_fail("dequantize", "%s: float mismatch", desc);
    ctx.op = 2;
    if (!fail) fail = unary_stream(r, "dequantize", desc, &ctx, in, 1, fwant, 4, n, h, w, c);

    /* QUANTIZE float -> int8: roundf is std::round (half away from zero) */
    for (size_t i = 0; i < cnt; i++) {
        float q = roundf(fin[i] / so);
        int32_t v = (q >= 2147483648.0f || q < -2147483648.0f) ? INT32_MIN : (int32_t)q;
        want[i] = (int8_t)clampi(v + zo, -128, 127);
    }
    pexc_view vfi = kref_ops_view_new(n, h, w, c, 0, c, 0, 4);
    kref_ops_view_put(&vfi, fin, 4, 0, h);
    /* a random tile through slice views */
    int32_t y0 = kref_ops_range(r, 0, h - 1), y1 = kref_ops_range(r, y0 + 1, h);
    int32_t c0 = kref_ops_range(r, 0, c - 1), c1 = kref_ops_range(r, c0 + 1, c);
    pexc_view vq = kref_ops_view_new(n, h, w, c, c0, c1 - c0, (y1 - y0) * w, 1);
    pexc_tile tt = {y0, y1, c0, c1, 0, 0};
    if (!fail && pexc_quantize_f32_s8(so, zo, &vfi, &tt, &vq) != PEXC_OK)
        fail = kref_ops_fail("quantize", "%s: status", desc);
    memcpy(got, want, cnt);
    kref_ops_view_get(&vq, got, 1, y0, y1, c0, c1);
    if (!fail) fail = kref_ops_cmp_s8("quantize", desc, want, got, cnt);
    ctx.op = 1;
    ctx.scale = so;
    ctx.zp = zo;
    if (!fail) fail = unary_stream(r, "quantize", desc, &ctx, fin, 4, want, 1, n, h, w, c);

    kref_ops_view_free(&vi);
    kref_ops_view_free(&vo);
    kref_ops_view_free(&vf);
    kref_ops_view_free(&vfi);
    kref_ops_view_free(&vq);
    free(in);
    free(want);
    free(got);
    free(fin);
    free(fwant);
    free(fgot);
    return fail;
}

/* Values that exercise the quantiser's rounding corner cases. */
static int quantize_corners(void) {
    float in[10] = {0.5f, -0.5f, 1.5f, -1.5f, 2.5f, 0.49999997f, -2.5f, 1e30f, -1e30f, 126.5f};
    int8_t want[10] = {1, -1, 2, -2, 3, 0, -3, -128, -128, 127};
    /* 1e30 / 1 overflows int32: TFLite's x86 build yields INT32_MIN -> -128 */
    int8_t got[10];
    pexc_view vi = {in, 1, 1, 1, 10, 0, 10, 0}, vo = {got, 1, 1, 1, 10, 0, 10, 0};
    pexc_tile t = {0, 1, 0, 10, 0, 0};
    if (pexc_quantize_f32_s8(1.0f, 0, &vi, &t, &vo) != PEXC_OK) return kref_ops_fail("quantize", "corners status");
    return kref_ops_cmp_s8("quantize", "corners", want, got, 10);
}

/* The runtime's fixed-point primitives against kref_ops' formulation. */
static int fixedpoint_cross(kref_ops_rng *r) {
    for (int i = 0; i < 200000; i++) {
        int32_t x = (int32_t)kref_ops_u32(r), m = (int32_t)kref_ops_u32(r);
        if (i & 1) x >>= kref_ops_range(r, 0, 30);
        if (i % 1000 == 0) x = m = INT32_MIN;
        int32_t e = kref_ops_range(r, 0, 31);
        if (pexc_srdhm(x, m) != kref_ops_srdhm(x, m))
            return kref_ops_fail("fixedpoint", "srdhm(%d, %d)", x, m);
        if (pexc_rdivpot(x, e) != kref_ops_rdivpot(x, e))
            return kref_ops_fail("fixedpoint", "rdivpot(%d, %d)", x, e);
        int32_t qm = (int32_t)(0x40000000u | (kref_ops_u32(r) >> 2)), sh = kref_ops_range(r, -31, 30);
        if (pexc_requant(x, qm, sh) != kref_ops_requant(x, qm, sh))
            return kref_ops_fail("fixedpoint", "requant(%d, %d, %d)", x, qm, sh);
    }
    return 0;
}

static int bad_args(void) {
    int8_t a[16] = {0}, o[16] = {0};
    pexc_add_params pa;
    if (prep_add_s8(0.1f, 0, 0.2f, 0, 0.3f, 0, 0, &pa) != 0) return kref_ops_fail("args", "prep_add");
    pexc_view v1 = {a, 1, 2, 2, 4, 0, 4, 0}, v3 = {a, 1, 2, 2, 3, 0, 3, 0}, vo = {o, 1, 2, 2, 4, 0, 4, 0};
    pexc_tile t = {0, 2, 0, 4, 0, 0};
    if (pexc_add_s8(&pa, &v1, &v1, &t, &vo) != PEXC_OK) return kref_ops_fail("args", "valid add");
    if (pexc_add_s8(&pa, &v1, &v3, &t, &vo) != PEXC_ERR_ARG) return kref_ops_fail("args", "bad bcast");
    pexc_tile bt = {0, 3, 0, 4, 0, 0};
    if (pexc_add_s8(&pa, &v1, &v1, &bt, &vo) != PEXC_ERR_ARG) return kref_ops_fail("args", "bad tile");
    if (pexc_add_s8(&pa, NULL, &v1, &t, &vo) != PEXC_ERR_ARG) return kref_ops_fail("args", "null");
    pexc_add_params bad = pa;
    bad.output_shift = 3;
    if (pexc_add_s8(&bad, &v1, &v1, &t, &vo) != PEXC_ERR_ARG) return kref_ops_fail("args", "shift");
    /* pixel tiles and rings on [1, 3, 4, 2]: (0,3), (1,0) read raster 3..4 */
    int8_t a3[24] = {0}, o3[24] = {0};
    pexc_view w1 = {a3, 1, 3, 4, 2, 0, 2, 0}, wo = {o3, 1, 3, 4, 2, 0, 2, 0};
    pexc_tile tp = {0, 2, 0, 2, 3, 1};
    pexc_view rg = w1;
    rg.ring_px = 2;
    if (pexc_add_s8(&pa, &rg, &w1, &tp, &wo) != PEXC_OK) return kref_ops_fail("args", "ring of 2 for 2 pixels");
    rg.ring_px = 1;
    if (pexc_add_s8(&pa, &w1, &rg, &tp, &wo) != PEXC_ERR_ARG) return kref_ops_fail("args", "ring of 1 for 2 pixels");
    /* a row-broadcast operand [1, 1, 4, 2] needs its whole row for a tile
     * crossing a row end */
    pexc_view bc = {a3, 1, 1, 4, 2, 0, 2, 3};
    if (pexc_add_s8(&pa, &w1, &bc, &tp, &wo) != PEXC_ERR_ARG) return kref_ops_fail("args", "broadcast row ring of 3");
    bc.ring_px = 4;
    if (pexc_add_s8(&pa, &w1, &bc, &tp, &wo) != PEXC_OK) return kref_ops_fail("args", "broadcast row ring of 4");
    pexc_requantize_params rq = {0, 0, 1 << 30, 1};
    if (pexc_requantize_s8(&rq, &rg, &tp, &wo) != PEXC_ERR_ARG) return kref_ops_fail("args", "requantize ring");
    pexc_tile tx = {0, 2, 0, 2, 4, 1}, te = {1, 2, 0, 2, 2, 2};
    if (pexc_add_s8(&pa, &w1, &w1, &tx, &wo) != PEXC_ERR_ARG) return kref_ops_fail("args", "x0 == w");
    if (pexc_requantize_s8(&rq, &w1, &te, &wo) != PEXC_ERR_ARG) return kref_ops_fail("args", "no pixels");
    pexc_view orng = wo;
    orng.ring_px = 1;
    if (pexc_requantize_s8(&rq, &w1, &tp, &orng) != PEXC_ERR_ARG) return kref_ops_fail("args", "output ring of 1");
    if (prep_add_s8(0.0f, 0, 0.2f, 0, 0.3f, 0, 0, &pa) == 0) return kref_ops_fail("args", "zero scale");
    return 0;
}

int main(void) {
    kref_ops_rng r = {UINT64_C(0xE1E3E47)};
    int cases = 0;
    if (bad_args() || quantize_corners() || fixedpoint_cross(&r)) return 1;
    for (int i = 0; i < 600; i++, cases++)
        if (binary_case(&r, i & 1, i)) return 1;
    for (int i = 0; i < 300; i++, cases++)
        if (unary_case(&r, i)) return 1;
    printf("test_elementwise: %d add/mul/requantize/quantize/dequantize cases OK\n", cases);
    return 0;
}
