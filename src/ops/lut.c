/*
 * Element-wise int8 functions as tables.
 *
 * An int8 -> int8 operator is a function of 256 input values, whatever
 * arithmetic TFLite's kernel does inside: fixed-point polynomials, float
 * transforms, requantisation. So the compiler runs that exact arithmetic
 * once per possible input byte, here on the host, and the device runs one
 * kernel for all of them, pexc_lut_s8: out = table[in + 128]. The table is
 * 256 bytes of flash per operator, usually less than the code of the
 * function it replaces, and a K_LUT call streams and splits like any
 * element-wise operator.
 *
 * Adding a function: a case in lut_fill() computing out[x + 128] for every
 * x in [-128, 127] exactly as TFLM's reference kernel computes it (its
 * Prepare() parameters included), after the checks TFLM's Prepare() makes.
 * Float and int16 forms of the same operators are other families' (this
 * one answers "not mine" for them).
 *
 * One function is not total: TFLM's RSQRT fails at Invoke on an input below
 * its zero point. When such inputs exist (zero point above -128) the table
 * goes to a whole-tensor kernel that checks each input, pexc_lut_checked_s8,
 * so the model fails where TFLM fails instead of returning a made-up value.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ops/ops.h"
#include "prep/prep.h"

#define FAIL(...) return util_fail(c->err, __VA_ARGS__)

static int32_t clamp8(int32_t v) { return v < -128 ? -128 : v > 127 ? 127 : v; }

/* gemmlowp tanh: a in Q4.27, result in Q0.31. tanh(|a|) is (1 - e) / (1 + e)
 * with e = exp(-2|a|), computed as 2 / (1 + e) - 1 by the Newton-Raphson
 * division the logistic also uses; the sign is put back after. Reading the
 * raw value with five integer bits is the exact doubling (gemmlowp's
 * ExactMulByPot<1>). */
static int32_t lut_tanh_q4(int32_t a) {
    if (a == 0) return 0;
    int32_t e = pexc_exp_on_negative(a < 0 ? a : -a, 5);
    int32_t t = pexc_sat_shl(pexc_two_over_one_plus_x(e) - (1 << 29), 2);
    return a < 0 ? -t : t;
}

/* ---- HARD_SWISH: TFLite's reference arithmetic is on int16 ---------------- */

/* gemmlowp SaturatingRoundingDoublingHighMul on int16. */
static int16_t hs_srdhm(int16_t a, int16_t b) {
    if (a == INT16_MIN && b == INT16_MIN) return INT16_MAX;
    int32_t ab = (int32_t)a * b;
    return (int16_t)((ab + (ab >= 0 ? (1 << 14) : 1 - (1 << 14))) / (1 << 15));
}

/* The same product truncated toward zero (TFLite SaturatingDoublingHighMul). */
static int16_t hs_sdhm(int16_t a, int16_t b) {
    if (a == INT16_MIN && b == INT16_MIN) return INT16_MAX;
    return (int16_t)((int32_t)a * b / (1 << 15));
}

/* gemmlowp RoundingDivideByPOT on int16, e in [0, 31]: its mask is the low
 * 16 bits of 2^e - 1, so for e >= 16 it is -1 (kept for fidelity). */
static int16_t hs_rdivpot(int16_t x, int32_t e) {
    int16_t mask = (int16_t)(uint16_t)((UINT64_C(1) << e) - 1u);
    int32_t rem = x & mask, thr = (mask >> 1) + (x < 0);
    return (int16_t)(uint16_t)((x >> e) + (rem > thr));
}

static int16_t hs_sat_shl(int16_t x, int32_t e) {
    int64_t v = (int64_t)x * ((int64_t)1 << e);
    return (int16_t)(v > INT16_MAX ? INT16_MAX : v < INT16_MIN ? INT16_MIN : v);
}

/* TFLite DownScaleInt32ToInt16Multiplier. */
static int16_t hs_mult16(int32_t m) {
    if (m >= INT32_MAX - (1 << 15)) return INT16_MAX;
    return (int16_t)((m + (1 << 15)) >> 16);
}

static int lut_hard_swish(lower_ctx *c, float si, int32_t zi, float so, int32_t zo, int8_t *t) {
    /* TFLM HardSwishPrepare: the input on a scale 128 times finer, the
     * "relu-ish" ramp on a scale where 3.0 is 32768; float quotients */
    float hires = (1.0f / 128.0f) * si;
    int32_t om, oe, rm, re;
    if (prep_quantize_multiplier((double)(hires / so), &om, &oe) || oe > 0)
        FAIL("operator %d (%s): input scale %g over output scale %g needs an output multiplier exponent above 0, "
             "which TFLM refuses",
             c->op->index, c->name, (double)si, (double)so);
    if (prep_quantize_multiplier((double)(hires / (3.0f / 32768.0f)), &rm, &re))
        FAIL("operator %d (%s): input scale %g cannot be rescaled by TFLM's hard-swish arithmetic", c->op->index,
             c->name, (double)si);
    int16_t om16 = hs_mult16(om), rm16 = hs_mult16(rm);
    for (int32_t x = -128; x < 128; x++) {
        int16_t hi = (int16_t)((x - zi) * 128);
        int16_t pre = hs_srdhm(hi, om16);
        int16_t r = hi;
        /* all but the last bit of a left shift first, so saturation can only
         * happen in the final one */
        if (re > 0) r = hs_sat_shl(r, re - 1);
        r = hs_srdhm(r, rm16);
        if (re > 0) r = hs_sat_shl(r, 1);
        if (re < 0) r = hs_rdivpot(r, -re);
        r = (int16_t)((r + (1 << 15)) >> 1); /* [-1, 1] to [0, 1] */
        int16_t v = (int16_t)(uint16_t)(hs_rdivpot(hs_sdhm(r, pre), -oe) + zo);
        t[x + 128] = (int8_t)clamp8(v);
    }
    return 0;
}

/* ---- RSQRT ---------------------------------------------------------------- */

/* TFLite GetInvSqrtQuantizedMultiplierExp for v in [0, 255] with the
 * reversed shift: 1 / sqrt(v) as *m * 2^*s, by five Newton-Raphson steps in
 * Q3.28 from x = 1 after normalising v into [2^27, 2^29). */
static void lut_inv_sqrt(int32_t v, int32_t *m, int32_t *s) {
    if (v <= 1) {
        *m = INT32_MAX;
        *s = 0;
        return;
    }
    int32_t sh = 11, lz = 0;
    while (!(((uint32_t)v << lz) & 0x80000000u)) lz++;
    int32_t pairs = (lz - 1) / 2 - 1;
    sh -= pairs;
    v <<= 2 * pairs;
    int32_t half = pexc_rdivpot(v >> 1, 1), x = 1 << 28;
    for (int i = 0; i < 5; i++) {
        int32_t x3 = pexc_sat_shl(pexc_srdhm(pexc_srdhm(x, x), x), 6);
        x = pexc_sat_shl(pexc_srdhm((1 << 28) + (1 << 27), x) - pexc_srdhm(half, x3), 3);
    }
    x = pexc_srdhm(x, 1518500250); /* sqrt(2) / 2 */
    if (sh < 0) {
        x = (int32_t)((uint32_t)x << -sh);
        sh = 0;
    }
    *m = x;
    *s = -sh;
}

static int lut_rsqrt(lower_ctx *c, float si, int32_t zi, float so, int32_t zo, int8_t *t) {
    /* TFLM: 1 / (sqrtf(input scale) * output scale), the product in float */
    int32_t m, sh;
    if (prep_quantize_multiplier(1.0 / (double)(sqrtf(si) * so), &m, &sh) || sh - 20 < -31)
        FAIL("operator %d (%s): input scale %g and output scale %g give a multiplier TFLM's rsqrt cannot apply",
             c->op->index, c->name, (double)si, (double)so);
    /* inputs below the zero point are outside the domain: TFLM's Invoke
     * fails on them, the table leaves them 0 (see lut_checked_s8.c) */
    for (int32_t x = zi; x < 128; x++) {
        int32_t r = 127;
        if (x != zi) {
            int32_t im, is;
            lut_inv_sqrt(x - zi, &im, &is);
            /* 2^20 keeps 1/sqrt(v) an integer before the output rescale */
            r = clamp8(pexc_requant(pexc_requant(1, im, is + 20), m, sh - 20) + zo);
        }
        t[x + 128] = (int8_t)r;
    }
    return 0;
}

/* ---- LEAKY_RELU ----------------------------------------------------------- */

/* TFLite QuantizeMultiplier for a multiplier of either sign: a negative one
 * keeps a Q31 mantissa in [-2^31, -2^30] (TFLite's renormalisation of a
 * mantissa rounded up to 2^31 never fires for it). */
static int lut_signed_multiplier(double d, int32_t *m, int32_t *s) {
    if (!(d < 0.0)) return prep_quantize_multiplier(d, m, s);
    int e;
    double q = frexp(d, &e);
    int64_t qf = (int64_t)round(q * (double)(INT64_C(1) << 31));
    if (e < -31) e = 0, qf = 0;
    if (e > 30 || isinf(d)) return -1;
    *m = (int32_t)qf;
    *s = e;
    return 0;
}

static int lut_leaky_relu(lower_ctx *c, float si, int32_t zi, float so, int32_t zo, int8_t *t) {
    float alpha;
    /* LeakyReluOptions (union type 75), field 0: alpha, schema default 0 */
    if (reader_opt_f32(c->g, c->op, 75, 0, 0.0f, &alpha, c->err)) return -1;
    int32_t am, as, im, is;
    if (lut_signed_multiplier((double)(si * alpha / so), &am, &as))
        FAIL("operator %d (%s): alpha %g with input scale %g and output scale %g cannot be requantised",
             c->op->index, c->name, (double)alpha, (double)si, (double)so);
    if (prep_quantize_multiplier((double)(si / so), &im, &is))
        FAIL("operator %d (%s): input scale %g over output scale %g cannot be requantised", c->op->index, c->name,
             (double)si, (double)so);
    /* TFLM scales negative inputs by |alpha| and negates after; the
     * magnitude of -2^31 wraps to itself, as it does there */
    int neg = am < 0;
    int32_t mag = neg ? (int32_t)(0u - (uint32_t)am) : am;
    for (int32_t x = -128; x < 128; x++) {
        int32_t v = x - zi, r;
        if (v >= 0) {
            r = pexc_requant(v, im, is);
        } else {
            r = pexc_requant(v, mag, as);
            if (neg) r = -r;
        }
        t[x + 128] = (int8_t)clamp8(zo + r);
    }
    return 0;
}

int ops_lut_known(int32_t code) {
    switch (code) {
    case OP_RELU: case OP_RELU6: case OP_TANH: case OP_HARD_SWISH: case OP_LEAKY_RELU: case OP_ELU: case OP_ABS:
    case OP_RSQRT: case OP_QUANTIZE: return 1;
    default: return 0;
    }
}

/* QUANTIZE between uint8 and int8 (the converter's uint8 model interfaces):
 * TFLM requantises by input scale / output scale and clamps to the output
 * type. The table is indexed by the input byte read as int8 (plus 128), so
 * a uint8 value b sits at index b ^ 0x80; a uint8 output is stored as its
 * byte. */
static int lut_quantize_u8(lower_ctx *c, k_call *k, const ir_tensor *in, const ir_tensor *out) {
    int u8_in = in->type == IR_U8;
    if (lower_need_q(c, (ir_tensor *)in, "input") || lower_need_q(c, (ir_tensor *)out, "output")) return -1;
    if (in->elems != out->elems)
        FAIL("operator %d (%s): input tensor %d has %lld elements, output tensor %d has %lld", c->op->index, c->name,
             in->index, (long long)in->elems, out->index, (long long)out->elems);
    int32_t zi = lower_zp(in), zo = lower_zp(out), m, sh;
    int32_t lo = u8_in ? -128 : 0, hi = u8_in ? 127 : 255;
    if (zi < (u8_in ? 0 : -128) || zi > (u8_in ? 255 : 127) || zo < lo || zo > hi)
        FAIL("operator %d (%s): zero points %d (input tensor %d) and %d (output tensor %d) are outside their types",
             c->op->index, c->name, zi, in->index, zo, out->index);
    if (prep_quantize_multiplier((double)lower_scale(in) / (double)lower_scale(out), &m, &sh))
        FAIL("operator %d (%s): scale ratio %g (input %g / output %g) cannot be requantised", c->op->index, c->name,
             (double)lower_scale(in) / (double)lower_scale(out), (double)lower_scale(in), (double)lower_scale(out));
    int8_t *t = ops_alloc(c, 256);
    if (!t) return -1;
    for (int32_t i = 0; i < 256; i++) {
        /* table index i: the input byte read as int8, plus 128 */
        int32_t x = u8_in ? (i ^ 0x80) : i - 128;
        int32_t v = pexc_requant(x - zi, m, sh) + zo;
        v = v < lo ? lo : v > hi ? hi : v;
        t[i] = (int8_t)(uint8_t)v;
    }
    k->kind = K_LUT;
    k->lut = t;
    lower_nhwc(out, k->in_dims[0]);
    return 0;
}

/* Fills t[256] with the operator's output for each int8 input. */
static int lut_fill(lower_ctx *c, const ir_tensor *in, const ir_tensor *out, int8_t *t) {
    float si = lower_scale(in), so = lower_scale(out);
    int32_t zi = lower_zp(in), zo = lower_zp(out);
    switch (c->op->code) {
    case OP_RELU: {
        /* requantise, then clamp at the output's zero (TFLM ReluQuantized) */
        int32_t m, s;
        if (prep_quantize_multiplier((double)(si / so), &m, &s))
            FAIL("operator %d (%s): input scale %g over output scale %g cannot be requantised", c->op->index,
                 c->name, (double)si, (double)so);
        int32_t lo = zo + (int32_t)roundf(0.0f / so);
        if (lo < -128) lo = -128;
        for (int32_t x = -128; x < 128; x++) {
            int32_t v = zo + pexc_requant(x - zi, m, s);
            t[x + 128] = (int8_t)clamp8(v < lo ? lo : v);
        }
        return 0;
    }
    case OP_RELU6: {
        /* clamps the input bytes between zero and six in the input's
         * quantisation, without rescaling (TFLM Relu6Quantized) */
        /* FloatToQuantizedType: round(6 / scale) + zero point, clamped to int8 */
        float q = roundf(6.0f / si);
        int32_t six = !(q < 1024.0f) ? 127 : clamp8((int32_t)q + zi);
        for (int32_t x = -128; x < 128; x++) t[x + 128] = (int8_t)(x > six ? six : x < zi ? zi : x);
        return 0;
    }
    case OP_TANH: {
        /* TFLM's int8 tanh: the input rescaled to Q4.27 exactly as for
         * LOGISTIC (same Prepare arithmetic), saturated beyond the radius,
         * the Q0.31 result rounded to 1/128 steps. TFLM reads neither the
         * output scale nor its zero point, so neither is checked here. */
        pexc_logistic_params p;
        if (prep_logistic_s8(si, zi, &p))
            FAIL("operator %d (%s): input scale %g is below 2^-27, outside TFLM's tanh rescaling", c->op->index,
                 c->name, (double)si);
        for (int32_t x = -128; x < 128; x++) {
            int32_t v = x - zi, r;
            if (v <= -p.input_range_radius) r = -128;
            else if (v >= p.input_range_radius) r = 127;
            else r = clamp8(pexc_rdivpot(lut_tanh_q4(pexc_requant(v, p.input_multiplier, p.input_left_shift)), 24));
            t[x + 128] = (int8_t)r;
        }
        return 0;
    }
    case OP_HARD_SWISH: return lut_hard_swish(c, si, zi, so, zo, t);
    case OP_LEAKY_RELU: return lut_leaky_relu(c, si, zi, so, zo, t);
    case OP_ELU: {
        /* TFLM builds this very table in float: dequantise, exp(x) - 1 below
         * zero, round(y / output scale) + zero point, clamp */
        float inv = 1.0f / so;
        for (int32_t x = -128; x < 128; x++) {
            float d = si * (float)(x - zi);
            float r = roundf((d < 0.0f ? expf(d) - 1.0f : d) * inv) + (float)zo;
            t[x + 128] = (int8_t)(r >= 127.0f ? 127 : r <= -128.0f ? -128 : (int32_t)r);
        }
        return 0;
    }
    case OP_ABS: {
        /* |x - zi|, requantised only when the two scales differ */
        int32_t m = 0, s = 0;
        if (si != so && prep_quantize_multiplier((double)(si / so), &m, &s))
            FAIL("operator %d (%s): input scale %g over output scale %g cannot be requantised", c->op->index,
                 c->name, (double)si, (double)so);
        for (int32_t x = -128; x < 128; x++) {
            int32_t v = x < zi ? zi - x : x - zi;
            t[x + 128] = (int8_t)clamp8((si != so ? pexc_requant(v, m, s) : v) + zo);
        }
        return 0;
    }
    case OP_RSQRT: return lut_rsqrt(c, si, zi, so, zo, t);
    default: break;
    }
    return 1;
}

static pexc_status lut_checked_run(const void *params, const void *const *in, void *out) {
    return pexc_lut_checked_s8(params, in, out);
}

static int lut_checked_emit(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_lut_checked_params *p = k->gen_params;
    char what[48];
    snprintf(what, sizeof what, "op%d_table", k->op);
    const char *table = emit_const_array(e, p->table, 256, IR_I8, what);
    if (!table) return -1;
    emit_printf(e, "static const pexc_lut_checked_params %s = {%s, %d, %d};\n", var, table, p->min_input, p->n);
    return 0;
}

static const ops_kernel lut_checked_kernel = {"pexc_lut_checked_s8", "pexc_lut_checked_params", lut_checked_run,
                                              lut_checked_emit};

int ops_lut_lower(lower_ctx *c, k_call *k) {
    ir_op *op = c->op;
    ir_tensor *in = lower_in(c, 0), *out = &c->g->tensors[op->out[0]];
    if (!ops_lut_known(op->code)) return 1;
    if (op->code == OP_QUANTIZE) {
        /* uint8 <-> int8 only; float and int8 -> int8 are the core's */
        if (in && ((in->type == IR_U8 && out->type == IR_I8) || (in->type == IR_I8 && out->type == IR_U8)))
            return lut_quantize_u8(c, k, in, out);
        return 1;
    }
    /* float and int16 forms belong to other families */
    if (in && in->type != IR_I8) return 1;
    if (lower_need(c, in, 0, "input", IR_I8, 0) || lower_need(c, out, 0, "output", IR_I8, 0) ||
        lower_need_q(c, in, "input") || lower_need_q(c, out, "output"))
        return -1;
    if (in->elems != out->elems)
        FAIL("operator %d (%s): input tensor %d has %lld elements, output tensor %d has %lld", op->index, c->name,
             in->index, (long long)in->elems, out->index, (long long)out->elems);
    int8_t *t = ops_alloc(c, 256);
    if (!t) return -1;
    int r = lut_fill(c, in, out, t);
    if (r) return r < 0 ? -1 : util_fail(c->err, "operator %d (%s): no table for this operator", op->index, c->name);
    if (op->code == OP_RSQRT && lower_zp(in) > -128) {
        /* inputs below the zero point make TFLM's Invoke fail: a whole-tensor
         * kernel that checks each input (a zero point of -128 leaves no
         * input outside the domain, and the plain table streams) */
        pexc_lut_checked_params *p = ops_alloc(c, sizeof *p);
        if (!p) return -1;
        p->table = t;
        p->min_input = lower_zp(in);
        p->n = (int32_t)out->elems;
        return ops_generic(c, k, &lut_checked_kernel, p, &in->index, 1);
    }
    k->kind = K_LUT;
    k->lut = t;
    /* element-wise: both sides seen in the output's NHWC shape */
    lower_nhwc(out, k->in_dims[0]);
    return 0;
}
