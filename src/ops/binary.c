/*
 * Element-wise operators of two or more operands, one broadcasting walk.
 *
 * TFLite Micro runs every binary element-wise operator through the same
 * broadcast loop (BroadcastBinaryOpSimple: shapes extended with leading 1s,
 * an operand of extent 1 along an axis read at index 0 there, up to rank
 * 8) with a per-operator lambda. pexc does the shape half of that here, at
 * compile time: binary_shape() checks that the shapes broadcast, gives each
 * operand an element stride per output axis (0 where it broadcasts), drops
 * axes of extent 1 and folds neighbouring axes along which every operand
 * steps uniformly, so the device (runtime/src/binary_walk.c) walks at most
 * 6 axes with no shape arithmetic and hands each innermost run to the
 * kernel of the element type (binary_s8.c, binary_s16.c, binary_f32.c). The
 * other half, each operator's integer parameters, is TFLM's Prepare()
 * arithmetic, in the precision TFLM computes it (DIV derives its
 * multiplier in float, ADD, SUB and SQUARED_DIFFERENCE in double: the last
 * bits of a multiplier can differ), refusing what its Prepare() refuses.
 *
 * ADD and MUL keep their streaming 4-D int8 kernels (lower.c); they come
 * here only for what those refuse: rank 5 or 6, int16 and float32.
 */
#include <float.h>
#include <math.h>
#include <string.h>

#include "ops/ops.h"
#include "prep/prep.h"

#define FAIL(...) return util_fail(c->err, __VA_ARGS__)

/* BuiltinOptions union types (schema.fbs order) */
enum { OPT_ADD = 11, OPT_MUL = 21, OPT_SUB = 28, OPT_DIV = 29 };

int ops_binary_known(int32_t code) {
    switch (code) {
    case OP_SUB: case OP_MINIMUM: case OP_MAXIMUM: case OP_SQUARED_DIFFERENCE: case OP_DIV: case OP_PRELU:
    case OP_EQUAL: case OP_NOT_EQUAL: case OP_LESS: case OP_LESS_EQUAL: case OP_GREATER: case OP_GREATER_EQUAL:
    case OP_LOGICAL_AND: case OP_LOGICAL_OR: case OP_SELECT_V2: case OP_ADD_N: case OP_FLOOR_DIV:
    case OP_FLOOR_MOD:
        return 1;
    default: return 0;
    }
}

/* ---- shapes ------------------------------------------------------------ */

/* Fills p->rank, dims and stride[k] for operands t[0..n) (n <= 3) against
 * out, or fails naming the axis that does not broadcast. */
static int binary_shape(lower_ctx *c, ir_tensor *const *t, int n, const ir_tensor *out, pexc_binary_params *p) {
    int32_t r = out->rank;
    for (int k = 0; k < n; k++)
        if (t[k]->rank > r) r = t[k]->rank;
    if (r > PEXC_BINARY_MAX_RANK)
        FAIL("operator %d (%s): rank %d; at most %d is supported", c->op->index, c->name, r, PEXC_BINARY_MAX_RANK);
    int32_t od[PEXC_BINARY_MAX_RANK], id[3][PEXC_BINARY_MAX_RANK], st[3][PEXC_BINARY_MAX_RANK];
    for (int32_t a = 0; a < r; a++) {
        od[a] = a < r - out->rank ? 1 : out->shape[a - (r - out->rank)];
        int32_t want = 1;
        for (int k = 0; k < n; k++) {
            id[k][a] = a < r - t[k]->rank ? 1 : t[k]->shape[a - (r - t[k]->rank)];
            if (id[k][a] != 1) want = id[k][a];
        }
        for (int k = 0; k < n; k++)
            if ((id[k][a] != 1 && id[k][a] != want) || od[a] != want)
                FAIL("operator %d (%s): input tensor %d (%s) and output tensor %d do not broadcast along axis %d "
                     "(%d against output %d)",
                     c->op->index, c->name, t[k]->index, t[k]->name, out->index, a, id[k][a], od[a]);
    }
    for (int k = 0; k < n; k++) {
        int64_t acc = 1;
        for (int32_t a = r - 1; a >= 0; a--) {
            st[k][a] = id[k][a] == 1 ? 0 : (int32_t)acc;
            acc *= id[k][a];
        }
    }
    /* drop extent-1 axes, and fold each axis into the outer one before it
     * when every operand's outer stride is this stride times this extent
     * (true of a broadcast pair too: 0 = 0 * extent) */
    int32_t m = 0;
    for (int32_t a = 0; a < r; a++) {
        if (od[a] == 1) continue;
        int fold = m > 0;
        for (int k = 0; k < n && fold; k++) fold = (int64_t)p->stride[k][m - 1] == (int64_t)st[k][a] * od[a];
        if (fold) {
            /* the previous (outer) axis absorbs this one: extents multiply,
             * strides become this axis's */
            p->dims[m - 1] *= od[a];
            for (int k = 0; k < n; k++) p->stride[k][m - 1] = st[k][a];
            continue;
        }
        p->dims[m] = od[a];
        for (int k = 0; k < n; k++) p->stride[k][m] = st[k][a];
        m++;
    }
    if (m == 0) {
        p->dims[0] = 1;
        m = 1;
    }
    p->rank = m;
    return 0;
}

/* ---- quantisation -------------------------------------------------------- */

/* TFLite QuantizeMultiplierSmallerThanOneExp: 0 < m < 1 or TFLM aborts. */
static int mult_lt1(lower_ctx *c, double m, int32_t *mult, int32_t *shift, const char *what) {
    if (!(m > 0.0 && m < 1.0) || prep_quantize_multiplier(m, mult, shift) || *shift > 0)
        FAIL("operator %d (%s): %s multiplier %g is not in (0, 1) as TFLite requires", c->op->index, c->name, what,
             m);
    return 0;
}

/* TFLite QuantizeMultiplier, within the shifts the kernels take. */
static int mult_any(lower_ctx *c, double m, int32_t *mult, int32_t *shift, const char *what) {
    if (prep_quantize_multiplier(m, mult, shift))
        FAIL("operator %d (%s): %s multiplier %g is out of range", c->op->index, c->name, what, m);
    return 0;
}

/* Fused activation option (field 0 of the operator's options table). */
static int fused_act(lower_ctx *c, uint8_t opt_type, int32_t *act) {
    return reader_opt_int(c->g, c->op, opt_type, 0, 1, 0, act, c->err);
}

static int act_s8(lower_ctx *c, int32_t act, const ir_tensor *out, pexc_binary_params *p) {
    if (prep_activation_s8(act, lower_scale(out), lower_zp(out), &p->act_min, &p->act_max))
        FAIL("operator %d (%s): unsupported fused activation %d", c->op->index, c->name, act);
    return 0;
}

/* Checks every operand is of IR type `type` (quantised for int8). */
static int need_all(lower_ctx *c, ir_tensor *const *t, int n, int32_t type, const char *const *roles) {
    for (int k = 0; k < n; k++) {
        if (lower_need(c, t[k], k, roles[k], type, 0)) return -1;
        if (type == IR_I8 && lower_need_q(c, t[k], roles[k])) return -1;
    }
    return 0;
}

/* Two quantised int8 operands and a quantised int8 output. */
static int need_q8(lower_ctx *c, ir_tensor *const *t, const char *const *roles, ir_tensor *out) {
    if (need_all(c, t, 2, IR_I8, roles) || lower_need(c, out, 0, "output", IR_I8, 0)) return -1;
    return lower_need_q(c, out, "output");
}

/* ---- the kernel as the rest of the compiler sees it ----------------------- */

static pexc_status binary_run_s8(const void *params, const void *const *in, void *out) {
    return pexc_binary_s8(params, in, out);
}

static void emit_ints(emit_ctx *e, const int32_t *v, int n) {
    emit_printf(e, "{");
    for (int i = 0; i < n; i++) {
        if (v[i] == INT32_MIN) emit_printf(e, i ? ", (-2147483647 - 1)" : "(-2147483647 - 1)");
        else emit_printf(e, i ? ", %d" : "%d", (int)v[i]);
    }
    emit_printf(e, "}");
}

static int binary_emit(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_binary_params *p = k->gen_params;
    emit_printf(e, "static const pexc_binary_params %s = {%d, %d, %d, ", var, (int)p->op, (int)p->n_in,
                (int)p->rank);
    emit_ints(e, p->dims, PEXC_BINARY_MAX_RANK);
    emit_printf(e, ", {");
    for (int i = 0; i < 3; i++) {
        if (i) emit_printf(e, ", ");
        emit_ints(e, p->stride[i], PEXC_BINARY_MAX_RANK);
    }
    emit_printf(e, "}, ");
    emit_ints(e, p->in_offset, 2);
    emit_printf(e, ", %d, %d, ", (int)p->out_offset, (int)p->left_shift);
    emit_ints(e, p->in_mult, 2);
    emit_printf(e, ", ");
    emit_ints(e, p->in_shift, 2);
    int32_t rest[6] = {p->out_mult, p->out_shift, p->out_mult2, p->out_shift2, p->act_min, p->act_max};
    for (int i = 0; i < 6; i++) {
        emit_printf(e, ", ");
        if (rest[i] == INT32_MIN) emit_printf(e, "(-2147483647 - 1)");
        else emit_printf(e, "%d", (int)rest[i]);
    }
    emit_printf(e, ", %af, %af};\n", (double)p->act_min_f, (double)p->act_max_f);
    return 0;
}

static pexc_status binary_run_s16(const void *params, const void *const *in, void *out) {
    return pexc_binary_s16(params, in, out);
}

static pexc_status binary_run_f32(const void *params, const void *const *in, void *out) {
    return pexc_binary_f32(params, in, out);
}

/* one parameter struct, one emitter, a kernel per element type */
static const ops_kernel binary_s8 = {"pexc_binary_s8", "pexc_binary_params", binary_run_s8, binary_emit};
static const ops_kernel binary_s16 = {"pexc_binary_s16", "pexc_binary_params", binary_run_s16, binary_emit};
static const ops_kernel binary_f32 = {"pexc_binary_f32", "pexc_binary_params", binary_run_f32, binary_emit};

/* ---- float32 --------------------------------------------------------------- */

/* TFLite CalculateActivationRange for float: "none" is [lowest, max]. */
static int act_f32(lower_ctx *c, uint8_t opt_type, pexc_binary_params *p) {
    int32_t act;
    if (fused_act(c, opt_type, &act)) return -1;
    static const float lo[4] = {-FLT_MAX, 0.0f, -1.0f, 0.0f}, hi[4] = {FLT_MAX, FLT_MAX, 1.0f, 6.0f};
    if (act < 0 || act > 3) FAIL("operator %d (%s): unsupported fused activation %d", c->op->index, c->name, act);
    p->act_min_f = lo[act];
    p->act_max_f = hi[act];
    return 0;
}

/* The float32 forms TFLM has: 0 done, -1 refused. */
static int prep_f32(lower_ctx *c, ir_tensor **t, ir_tensor *out, pexc_binary_params *p) {
    static const char *const roles[3] = {"input 1", "input 2", "input 3"};
    p->act_min_f = -FLT_MAX;
    p->act_max_f = FLT_MAX;
    switch (c->op->code) {
    case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: {
        static const int32_t ops[4] = {PEXC_BIN_ADD, PEXC_BIN_SUB, PEXC_BIN_MUL, PEXC_BIN_DIV};
        static const uint8_t opts[4] = {OPT_ADD, OPT_SUB, OPT_MUL, OPT_DIV};
        int i = c->op->code == OP_ADD ? 0 : c->op->code == OP_SUB ? 1 : c->op->code == OP_MUL ? 2 : 3;
        p->op = ops[i];
        if (need_all(c, t, 2, IR_F32, roles) || lower_need(c, out, 0, "output", IR_F32, 0)) return -1;
        return act_f32(c, opts[i], p);
    }
    case OP_SQUARED_DIFFERENCE: case OP_MINIMUM: case OP_MAXIMUM: case OP_FLOOR_DIV: case OP_FLOOR_MOD:
    case OP_PRELU: {
        static const int32_t codes[6] = {OP_SQUARED_DIFFERENCE, OP_MINIMUM, OP_MAXIMUM, OP_FLOOR_DIV, OP_FLOOR_MOD,
                                         OP_PRELU};
        static const int32_t ops[6] = {PEXC_BIN_SQDIFF, PEXC_BIN_MIN, PEXC_BIN_MAX, PEXC_BIN_FLOOR_DIV,
                                       PEXC_BIN_FLOOR_MOD, PEXC_BIN_PRELU};
        for (int i = 0; i < 6; i++)
            if (codes[i] == c->op->code) p->op = ops[i];
        /* TFLM's float PRELU walks 4-D subscripts */
        if (p->op == PEXC_BIN_PRELU && (t[0]->rank > 4 || t[1]->rank > 4 || out->rank > 4))
            FAIL("operator %d (%s): float32 PRELU of rank above 4; TFLite Micro's takes at most 4", c->op->index,
                 c->name);
        return need_all(c, t, 2, IR_F32, roles) || lower_need(c, out, 0, "output", IR_F32, 0) ? -1 : 0;
    }
    case OP_EQUAL: case OP_NOT_EQUAL: case OP_LESS: case OP_LESS_EQUAL: case OP_GREATER: case OP_GREATER_EQUAL: {
        static const int32_t codes[6] = {OP_EQUAL, OP_NOT_EQUAL, OP_LESS, OP_LESS_EQUAL, OP_GREATER,
                                         OP_GREATER_EQUAL};
        for (int i = 0; i < 6; i++)
            if (codes[i] == c->op->code) p->op = PEXC_BIN_EQ + i;
        return need_all(c, t, 2, IR_F32, roles) || lower_need(c, out, 0, "output", IR_BOOL, 0) ? -1 : 0;
    }
    case OP_SELECT_V2:
        p->op = PEXC_BIN_SELECT;
        return lower_need(c, t[0], 0, "condition", IR_BOOL, 0) || lower_need(c, t[1], 1, "x", IR_F32, 0) ||
                       lower_need(c, t[2], 2, "y", IR_F32, 0) || lower_need(c, out, 0, "output", IR_F32, 0)
                   ? -1
                   : 0;
    default:
        /* the logical operators take bool */
        FAIL("operator %d (%s): float32 operands are not supported for this operator", c->op->index, c->name);
    }
}

/* ---- operators ------------------------------------------------------------ */

/* ADD and SUB scale parameters for a left shift of 20 (int8) or 15 (int16),
 * in double (TFLM add_common.cc). The source of sub_common.cc at hand
 * rounds SUB's through float, but the TFLM pexc is tested against computes
 * them in double (its fix #1501 "avoid precision loss", once reverted): on
 * i16_sub the float-derived multipliers give one byte that differs.
 * No activation here. */
static int prep_add_sub(lower_ctx *c, ir_tensor *a, ir_tensor *b, ir_tensor *out, pexc_binary_params *p, int32_t ls) {
    float s1 = lower_scale(a), s2 = lower_scale(b), so = lower_scale(out);
    p->op = c->op->code == OP_SUB ? PEXC_BIN_SUB : PEXC_BIN_ADD;
    p->left_shift = ls;
    double twice = 2.0 * (double)(s1 > s2 ? s1 : s2);
    double m1 = (double)s1 / twice, m2 = (double)s2 / twice, mo = twice / ((double)(1 << ls) * (double)so);
    return (mult_lt1(c, m1, &p->in_mult[0], &p->in_shift[0], "input 1") ||
            mult_lt1(c, m2, &p->in_mult[1], &p->in_shift[1], "input 2") ||
            mult_lt1(c, mo, &p->out_mult, &p->out_shift, "output")) ? -1 : 0;
}

/* SQUARED_DIFFERENCE for a left shift of 7 (int8) or 0 (int16), in double
 * except the output scale times 2^(2 * shift), a float (as TFLM). */
static int prep_sqdiff(lower_ctx *c, ir_tensor *a, ir_tensor *b, ir_tensor *out, pexc_binary_params *p, int32_t ls) {
    float s1 = lower_scale(a), s2 = lower_scale(b);
    double twice = 2.0 * (double)(s1 > s2 ? s1 : s2);
    p->op = PEXC_BIN_SQDIFF;
    p->left_shift = ls;
    return (mult_lt1(c, (double)s1 / twice, &p->in_mult[0], &p->in_shift[0], "input 1") ||
            mult_lt1(c, (double)s2 / twice, &p->in_mult[1], &p->in_shift[1], "input 2") ||
            mult_any(c, twice * twice / (double)((float)(1 << (2 * ls)) * lower_scale(out)), &p->out_mult,
                     &p->out_shift, "output")) ? -1 : 0;
}

static int prep_op(lower_ctx *c, ir_tensor **t, int n, ir_tensor *out, pexc_binary_params *p) {
    static const char *const roles[3] = {"input 1", "input 2", "input 3"};
    ir_tensor *a = t[0], *b = t[1];
    p->act_min = -128;
    p->act_max = 127;
    if (n >= 2) {
        p->in_offset[0] = -lower_zp(a);
        p->in_offset[1] = -lower_zp(b);
    }
    p->out_offset = lower_zp(out);
    switch (c->op->code) {
    case OP_ADD:
    case OP_SUB: {
        int32_t act;
        if (need_q8(c, t, roles, out) || fused_act(c, c->op->code == OP_SUB ? OPT_SUB : OPT_ADD, &act) ||
            act_s8(c, act, out, p))
            return -1;
        return prep_add_sub(c, a, b, out, p, 20);
    }
    case OP_MUL: {
        if (need_q8(c, t, roles, out)) return -1;
        int32_t act;
        if (fused_act(c, OPT_MUL, &act) || act_s8(c, act, out, p)) return -1;
        p->op = PEXC_BIN_MUL;
        return mult_any(c, (double)lower_scale(a) * (double)lower_scale(b) / (double)lower_scale(out), &p->out_mult,
                        &p->out_shift, "output");
    }
    case OP_SQUARED_DIFFERENCE:
        return need_q8(c, t, roles, out) ? -1 : prep_sqdiff(c, a, b, out, p, 7);
    case OP_MINIMUM:
    case OP_MAXIMUM:
        /* raw bytes compared, no quantisation involved (TFLM has no Prepare) */
        if (need_all(c, t, 2, IR_I8, roles) || lower_need(c, out, 0, "output", IR_I8, 0)) return -1;
        p->op = c->op->code == OP_MINIMUM ? PEXC_BIN_MIN : PEXC_BIN_MAX;
        p->in_offset[0] = p->in_offset[1] = p->out_offset = 0;
        return 0;
    case OP_DIV: {
        if (need_q8(c, t, roles, out)) return -1;
        int32_t act;
        if (fused_act(c, OPT_DIV, &act) || act_s8(c, act, out, p)) return -1;
        p->op = PEXC_BIN_DIV;
        /* float arithmetic, as div.cc */
        float m = lower_scale(a) / (lower_scale(b) * lower_scale(out));
        if (mult_any(c, (double)m, &p->out_mult, &p->out_shift, "output")) return -1;
        /* The final rounding shift is recip_shift + headroom - out_shift with
         * recip_shift in [0, 8] and headroom in [23, 31]: a positive shift
         * must not turn into a left shift */
        if (p->out_shift > 23)
            FAIL("operator %d (%s): output multiplier %g is too large for TFLite's division", c->op->index, c->name,
                 (double)m);
        return 0;
    }
    case OP_PRELU: {
        static const char *const pr[2] = {"input", "alpha"};
        if (need_q8(c, t, pr, out)) return -1;
        double si = (double)lower_scale(a), sa = (double)lower_scale(b), so = (double)lower_scale(out);
        p->op = PEXC_BIN_PRELU;
        return (mult_any(c, si / so, &p->out_mult, &p->out_shift, "positive") ||
               mult_any(c, si * sa / so, &p->out_mult2, &p->out_shift2, "alpha")) ? -1 : 0;
    }
    case OP_EQUAL: case OP_NOT_EQUAL: case OP_LESS: case OP_LESS_EQUAL: case OP_GREATER: case OP_GREATER_EQUAL: {
        static const int32_t cmp[6] = {PEXC_BIN_EQ, PEXC_BIN_NE, PEXC_BIN_LT, PEXC_BIN_LE, PEXC_BIN_GT, PEXC_BIN_GE};
        static const int32_t codes[6] = {OP_EQUAL, OP_NOT_EQUAL, OP_LESS, OP_LESS_EQUAL, OP_GREATER,
                                         OP_GREATER_EQUAL};
        for (int i = 0; i < 6; i++)
            if (codes[i] == c->op->code) p->op = cmp[i];
        if (lower_need(c, out, 0, "output", IR_BOOL, 0)) return -1;
        p->in_offset[0] = p->in_offset[1] = p->out_offset = 0;
        if (a && a->type == IR_BOOL && (p->op == PEXC_BIN_EQ || p->op == PEXC_BIN_NE))
            return need_all(c, t, 2, IR_BOOL, roles);
        if (need_all(c, t, 2, IR_I8, roles)) return -1;
        /* each operand rescaled by its own scale after a shift of 8 */
        p->left_shift = 8;
        p->in_offset[0] = -lower_zp(a);
        p->in_offset[1] = -lower_zp(b);
        return (mult_lt1(c, (double)lower_scale(a), &p->in_mult[0], &p->in_shift[0], "input 1 scale as") ||
               mult_lt1(c, (double)lower_scale(b), &p->in_mult[1], &p->in_shift[1], "input 2 scale as")) ? -1 : 0;
    }
    case OP_LOGICAL_AND:
    case OP_LOGICAL_OR:
        if (need_all(c, t, 2, IR_BOOL, roles) || lower_need(c, out, 0, "output", IR_BOOL, 0)) return -1;
        p->op = c->op->code == OP_LOGICAL_AND ? PEXC_BIN_AND : PEXC_BIN_OR;
        p->out_offset = 0;
        return 0;
    case OP_SELECT_V2: {
        static const char *const sr[3] = {"condition", "x", "y"};
        if (lower_need(c, t[0], 0, sr[0], IR_BOOL, 0) || lower_need(c, t[1], 1, sr[1], IR_I8, 0) ||
            lower_need(c, t[2], 2, sr[2], IR_I8, 0) || lower_need(c, out, 0, "output", IR_I8, 0))
            return -1;
        p->op = PEXC_BIN_SELECT;
        p->in_offset[0] = p->in_offset[1] = p->out_offset = 0;
        return 0;
    }
    default: break;
    }
    return 1;
}

/* ---- int16 ------------------------------------------------------------------ */

/* TFLM CalculateActivationRangeQuantized for an int16 output. */
static int act_s16(lower_ctx *c, uint8_t opt_type, const ir_tensor *out, pexc_binary_params *p) {
    int32_t act;
    if (fused_act(c, opt_type, &act)) return -1;
    /* zp + round(v / scale) for v = -1, 0, 1, 6, as TFLM's Quantize() */
    float s = lower_scale(out);
    static const float v[4] = {-1.0f, 0.0f, 1.0f, 6.0f};
    int32_t q[4];
    for (int i = 0; i < 4; i++) {
        float r = roundf(v[i] / s);
        if (!(r > -1e9f && r < 1e9f)) FAIL("operator %d (%s): output scale %g", c->op->index, c->name, (double)s);
        q[i] = lower_zp(out) + (int32_t)r;
    }
    static const int lo_of[4] = {-1, 1, 0, 1}, hi_of[4] = {-1, -1, 2, 3}; /* indices into q, -1: none */
    if (act < 0 || act > 3) FAIL("operator %d (%s): unsupported fused activation %d", c->op->index, c->name, act);
    p->act_min = lo_of[act] < 0 || q[lo_of[act]] < -32768 ? -32768 : q[lo_of[act]];
    p->act_max = hi_of[act] < 0 || q[hi_of[act]] > 32767 ? 32767 : q[hi_of[act]];
    return 0;
}

/* The int16 forms TFLM has (16x8 quantisation): 0 done, -1 refused. */
static int prep_s16(lower_ctx *c, ir_tensor **t, ir_tensor *out, pexc_binary_params *p) {
    static const char *const roles[2] = {"input 1", "input 2"};
    int32_t code = c->op->code;
    if (code == OP_SELECT_V2) {
        p->op = PEXC_BIN_SELECT;
        return lower_need(c, t[0], 0, "condition", IR_BOOL, 0) || lower_need(c, t[1], 1, "x", IR_I16, 0) ||
                       lower_need(c, t[2], 2, "y", IR_I16, 0) || lower_need(c, out, 0, "output", IR_I16, 0)
                   ? -1
                   : 0;
    }
    if (need_all(c, t, 2, IR_I16, roles) || lower_need(c, out, 0, "output", IR_I16, 0)) return -1;
    if (code == OP_MINIMUM || code == OP_MAXIMUM) {
        p->op = code == OP_MINIMUM ? PEXC_BIN_MIN : PEXC_BIN_MAX;
        return 0;
    }
    if (code != OP_ADD && code != OP_SUB && code != OP_MUL && code != OP_SQUARED_DIFFERENCE)
        FAIL("operator %d (%s): int16 operands are not supported by pexc for this operator", c->op->index, c->name);
    /* MUL and SQUARED_DIFFERENCE require zero points 0 (TFLM's Prepare);
     * ADD and SUB take any int16 zero point: (v - zp) << 15 still fits */
    ir_tensor *q[3] = {t[0], t[1], out};
    for (int i = 0; i < 3; i++) {
        if (q[i]->nq < 1)
            FAIL("operator %d (%s): tensor %d (%s) has no quantization parameters", c->op->index, c->name,
                 q[i]->index, q[i]->name);
        int64_t zp = q[i]->zero_point[0];
        if (zp < -32768 || zp > 32767 || (zp && code != OP_ADD && code != OP_SUB))
            FAIL("operator %d (%s): int16 tensor %d (%s) has zero point %lld; TFLite requires 0 here", c->op->index,
                 c->name, q[i]->index, q[i]->name, (long long)zp);
    }
    p->in_offset[0] = -lower_zp(t[0]);
    p->in_offset[1] = -lower_zp(t[1]);
    p->out_offset = lower_zp(out);
    p->act_min = -32768;
    p->act_max = 32767;
    switch (code) {
    case OP_ADD: return act_s16(c, OPT_ADD, out, p) || prep_add_sub(c, t[0], t[1], out, p, 15) ? -1 : 0;
    case OP_SUB: return act_s16(c, OPT_SUB, out, p) || prep_add_sub(c, t[0], t[1], out, p, 15) ? -1 : 0;
    case OP_MUL:
        p->op = PEXC_BIN_MUL;
        return act_s16(c, OPT_MUL, out, p) ||
                       mult_any(c, (double)lower_scale(t[0]) * (double)lower_scale(t[1]) / (double)lower_scale(out),
                                &p->out_mult, &p->out_shift, "output")
                   ? -1
                   : 0;
    default: return prep_sqdiff(c, t[0], t[1], out, p, 0);
    }
}

/* ADD_N: n operands of one shape and quantisation (TFLM add_n.cc). */
static int lower_add_n(lower_ctx *c, k_call *k, pexc_binary_params *p) {
    ir_op *op = c->op;
    ir_tensor *out = &c->g->tensors[op->out[0]], *first = lower_in(c, 0);
    if (op->n_in < 2) FAIL("operator %d (%s): %d inputs; TFLite requires at least 2", op->index, c->name, op->n_in);
    const int is_f = first && first->type == IR_F32;
    const int32_t type = is_f ? IR_F32 : IR_I8;
    if (lower_need(c, out, 0, "output", type, 0) || (!is_f && lower_need_q(c, out, "output"))) return -1;
    int32_t *ins = ops_alloc(c, sizeof(int32_t) * (size_t)op->n_in);
    if (!ins) return -1;
    for (int32_t i = 0; i < op->n_in; i++) {
        ir_tensor *t = lower_in(c, i);
        if (lower_need(c, t, i, "input", type, 0) || (!is_f && lower_need_q(c, t, "input"))) return -1;
        if (t->rank != first->rank || memcmp(t->shape, first->shape, sizeof(int32_t) * (size_t)t->rank))
            FAIL("operator %d (%s): input tensor %d has another shape than input tensor %d", op->index, c->name,
                 t->index, first->index);
        if (!is_f && (lower_zp(t) != lower_zp(first) || lower_scale(t) != lower_scale(first)))
            FAIL("operator %d (%s): input tensor %d is quantised unlike input tensor %d (TFLite requires one "
                 "scale and zero point)",
                 op->index, c->name, t->index, first->index);
        ins[i] = t->index;
    }
    if (out->elems != first->elems)
        FAIL("operator %d (%s): output tensor %d has %lld elements, inputs %lld", op->index, c->name, out->index,
             (long long)out->elems, (long long)first->elems);
    p->op = PEXC_BIN_ADD_N;
    p->n_in = op->n_in;
    p->rank = 1;
    p->dims[0] = (int32_t)out->elems;
    p->stride[0][0] = 1;
    if (is_f) return ops_generic(c, k, &binary_f32, p, ins, op->n_in);
    p->left_shift = 20;
    p->in_offset[0] = -lower_zp(first);
    p->out_offset = lower_zp(out);
    p->act_min = -128;
    p->act_max = 127;
    double twice = 2.0 * (double)lower_scale(first);
    if (mult_lt1(c, (double)lower_scale(first) / twice, &p->in_mult[0], &p->in_shift[0], "input") ||
        mult_lt1(c, twice / ((double)(1 << 20) * (double)lower_scale(out)), &p->out_mult, &p->out_shift, "output"))
        return -1;
    return ops_generic(c, k, &binary_s8, p, ins, op->n_in);
}

int ops_binary_lower(lower_ctx *c, k_call *k) {
    ir_op *op = c->op;
    if (!ops_binary_known(op->code) && op->code != OP_ADD && op->code != OP_MUL) return 1;
    /* int32 arithmetic is the signal family's (int_arith.c) */
    const ir_tensor *t0 = lower_in(c, 0);
    if (t0 && t0->type == IR_I32 && op->code != OP_SELECT_V2) return 1;
    pexc_binary_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    if (op->code == OP_ADD_N) return lower_add_n(c, k, p);
    int n = op->code == OP_SELECT_V2 ? 3 : 2;
    if (op->n_in != n) FAIL("operator %d (%s): %d inputs; expected %d", op->index, c->name, op->n_in, n);
    ir_tensor *t[3] = {NULL, NULL, NULL}, *out = &c->g->tensors[op->out[0]];
    int32_t ins[3];
    for (int i = 0; i < n; i++) {
        t[i] = lower_in(c, i);
        if (!t[i]) FAIL("operator %d (%s): input %d is missing", op->index, c->name, i);
        ins[i] = t[i]->index;
    }
    p->n_in = n;
    if ((op->code == OP_FLOOR_DIV || op->code == OP_FLOOR_MOD) && t[0]->type != IR_F32)
        FAIL("operator %d (%s): input tensor %d is %s; TFLite Micro computes it for float32 only", op->index,
             c->name, t[0]->index, ir_type_name(t[0]->type));
    /* the value operands' type picks the kernel (SELECT_V2: x, not the condition) */
    if (t[n == 3 ? 1 : 0]->type == IR_F32) {
        if (prep_f32(c, t, out, p) || binary_shape(c, t, n, out, p)) return -1;
        return ops_generic(c, k, &binary_f32, p, ins, n);
    }
    if (t[n == 3 ? 1 : 0]->type == IR_I16) {
        if (prep_s16(c, t, out, p) || binary_shape(c, t, n, out, p)) return -1;
        return ops_generic(c, k, &binary_s16, p, ins, n);
    }
    int r = prep_op(c, t, n, out, p);
    if (r) return r < 0 ? -1 : util_fail(c->err, "operator %d (%s): not an element-wise operator", op->index, c->name);
    if (binary_shape(c, t, n, out, p)) return -1;
    return ops_generic(c, k, &binary_s8, p, ins, n);
}
