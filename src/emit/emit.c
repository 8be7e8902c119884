/*
 * C emitter: a verified plan printed as standalone C.
 *
 * The host executor (exec.c) runs a plan by building, for every step, the
 * pexc_view structs of its operands and calling one runtime kernel. Every
 * value it computes for that call is known before the model runs: buffer
 * offsets come from the memory planner, shapes and channel ranges from the
 * step, parameters from lowering. The emitter therefore prints the very same
 * calls with those values as constants:
 *
 *   - one static arena, `NAME_arena[NAME_ARENA_BYTES]`, holding every buffer
 *     of the plan at its planned offset (SRAM);
 *   - every constant the kernels read (weights, biases, per-channel
 *     multipliers and shifts, parameter structs, constant operand tensors)
 *     as a `static const` object, so it is placed in flash;
 *   - the schedule as data: a step table `NAME_steps`, one {t, a, b} row
 *     per step, and `NAME_run_io()`: copy the graph inputs into their
 *     buffers, run the table, a switch case per template t (views with
 *     constant fields, the tile, the kernel call), then copy the outputs out.
 *
 * A template is the code of a step with what changes between the steps of
 * one streamed operator taken out: the run of output pixels [a, b) it makes,
 * or for a partial-sum step the input range [a, b). All the steps of a
 * streamed operator then share one template, and a step costs a 6-byte
 * table row instead of a block of code (kws_ds_cnn on the Cortex-M4: 1,254
 * steps in 15 templates).
 *
 * The emitter walks the plan twice: the first pass prints each constant once
 * (constants shared by several steps, e.g. the filter of a channel-split
 * convolution, are printed once and found again by address), the second
 * prints every step's code, keeps one template per distinct text, and
 * prints the table and the function. make_view() below mirrors exec.c's make_view() field
 * for field; the two must stay in step, which the codegen tests check by
 * comparing the generated program with `pexc run` byte for byte.
 *
 * Floats (the float FULLY_CONNECTED, QUANTIZE/DEQUANTIZE scales, activation
 * bounds, which may be infinite) are printed as their IEEE-754 bit patterns
 * in a union, so they round-trip bit-exactly with no reliance on decimal or
 * hex-float parsing. The generated code uses nothing from libc beyond
 * memcpy/memmove.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "emit/fc_layout.h"
#include "emit/stream_in.h"
#include "emit/stream_out.h"
#include "internal.h"

/* A growing string: the second pass prints each step's code into one, so
 * that steps printing the same code can share it. */
typedef struct {
    char *s;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_reserve(sbuf *b, size_t more) {
    if (b->oom || b->n + more + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + more + 1) cap *= 2;
    char *ns = realloc(b->s, cap);
    if (!ns) {
        b->oom = 1;
        return;
    }
    b->s = ns;
    b->cap = cap;
}

static void sb_printf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *b, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (len < 0) {
        b->oom = 1;
        return;
    }
    sb_reserve(b, (size_t)len);
    if (b->oom) return;
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    b->n += (size_t)len;
}

static void sb_puts(sbuf *b, const char *str) { sb_printf(b, "%s", str); }

/* One constant object printed into the .c file: found again by address. */
typedef struct {
    const void *ptr;
    size_t bytes;
    int elem;        /* EMIT_* element kind */
    char *ref;       /* C expression naming it (e.g. "m_c3" or "m_c3.f") */
} emit_const;

enum { EMIT_I8, EMIT_U8, EMIT_I16, EMIT_I32, EMIT_I64, EMIT_F32 };

typedef struct ectx {
    FILE *f;
    const char *name;
    const ir_graph *g;
    const k_call *calls;
    const plan_t *p;
    util_arena *a;
    util_err *err;
    emit_const *consts;
    int32_t n_consts, cap_consts;
    uint8_t *op_done;  /* [n_ops]: parameters of this op printed */
    sbuf *sb;          /* second pass: the code of the current step */
    int caller_arena;  /* the arena is NAME_run's argument, not a static array */
    const char *target;     /* emit_options.target */
    /* [n_ops]: an FC's weights laid out for the _il kernels, or a gathered
     * layer's filter in the same blocks (emit/fc_layout.c) */
    const char **fc_il_ref;
} ectx;

/* ---- small printing helpers ------------------------------------------- */

/* An int32 as a C constant expression of type int (INT32_MIN has no literal). */
static const char *i32s(int32_t v, char buf[24]) {
    if (v == INT32_MIN) snprintf(buf, 24, "(-2147483647 - 1)");
    else snprintf(buf, 24, "%" PRId32, v);
    return buf;
}

static uint32_t f32_bits(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static char *dup_str(ectx *e, const char *s) {
    size_t n = strlen(s) + 1;
    char *d = util_alloc(e->a, n);
    if (d) memcpy(d, s, n);
    return d;
}

static const char *elem_ctype(int elem) {
    switch (elem) {
    case EMIT_I8: return "int8_t";
    case EMIT_U8: return "uint8_t";
    case EMIT_I16: return "int16_t";
    case EMIT_I32: return "int32_t";
    case EMIT_I64: return "int64_t";
    default: return "uint32_t";
    }
}

static size_t elem_size(int elem) {
    switch (elem) {
    case EMIT_I8: case EMIT_U8: return 1;
    case EMIT_I16: return 2;
    case EMIT_I64: return 8;
    default: return 4;
    }
}

/* Prints the elements of a constant array, 16 to 20 per line. Values are read
 * with memcpy: the model file gives no alignment guarantee. */
static void print_elems(FILE *f, const void *ptr, size_t n, int elem) {
    const uint8_t *b = ptr;
    int per_line = elem == EMIT_I8 || elem == EMIT_U8 ? 20 : elem == EMIT_I64 ? 6 : 10;
    for (size_t i = 0; i < n; i++) {
        if (i % (size_t)per_line == 0) fputs(i ? "\n    " : "    ", f);
        char tmp[24];
        switch (elem) {
        case EMIT_I8: fprintf(f, "%d,", (int)(int8_t)b[i]); break;
        case EMIT_U8: fprintf(f, "%u,", (unsigned)b[i]); break;
        case EMIT_I16: {
            int16_t v;
            memcpy(&v, b + 2 * i, 2);
            fprintf(f, "%d,", (int)v);
            break;
        }
        case EMIT_I32: {
            int32_t v;
            memcpy(&v, b + 4 * i, 4);
            fprintf(f, "%s,", i32s(v, tmp));
            break;
        }
        case EMIT_I64: {
            int64_t v;
            memcpy(&v, b + 8 * i, 8);
            if (v == INT64_MIN) fprintf(f, "(-INT64_C(9223372036854775807) - 1),");
            else fprintf(f, "INT64_C(%" PRId64 "),", v);
            break;
        }
        default: {
            uint32_t v;
            memcpy(&v, b + 4 * i, 4);
            fprintf(f, "0x%08" PRIx32 "u,", v);
            break;
        }
        }
    }
    fputc('\n', f);
}

/* Prints a constant array once and returns the expression naming it; a
 * pointer printed before (same address and size) gets its earlier name. */
/* align: the object's alignment in bytes when more than its elements' (a
 * kernel that reads whole words with LDRD), or 0. */
static const char *emit_array_aligned(ectx *e, const void *ptr, size_t n, int elem, const char *what,
                                      const char *comment, int align) {
    if (!ptr) return "NULL";
    size_t bytes = n * elem_size(elem);
    for (int32_t i = 0; i < e->n_consts; i++)
        if (e->consts[i].ptr == ptr && e->consts[i].bytes == bytes && e->consts[i].elem == elem)
            return e->consts[i].ref;
    if (e->n_consts == e->cap_consts) {
        int32_t cap = e->cap_consts ? 2 * e->cap_consts : 64;
        emit_const *nc = util_alloc(e->a, sizeof(emit_const) * (size_t)cap);
        if (!nc) return NULL;
        if (e->n_consts) memcpy(nc, e->consts, sizeof(emit_const) * (size_t)e->n_consts);
        e->consts = nc;
        e->cap_consts = cap;
    }
    char ident[200], ref[220];
    snprintf(ident, sizeof ident, "%s_%s", e->name, what);
    snprintf(ref, sizeof ref, elem == EMIT_F32 ? "%s.f" : "%s", ident);
    fprintf(e->f, "/* %s: %zu bytes */\n", comment, bytes);
    if (elem == EMIT_F32) {
        /* floats by bit pattern: exact, including infinities */
        fprintf(e->f, "static const union { uint32_t u[%zu]; float f[%zu]; } %s __attribute__((aligned(4))) = {{\n",
                n, n, ident);
        print_elems(e->f, ptr, n, elem);
        fputs("}};\n", e->f);
    } else {
        if (align) fprintf(e->f, "static const %s %s[%zu] __attribute__((aligned(%d))) = {\n", elem_ctype(elem), ident, n, align);
        else fprintf(e->f, "static const %s %s[%zu] = {\n", elem_ctype(elem), ident, n);
        print_elems(e->f, ptr, n, elem);
        fputs("};\n", e->f);
    }
    emit_const *c = &e->consts[e->n_consts++];
    c->ptr = ptr;
    c->bytes = bytes;
    c->elem = elem;
    c->ref = dup_str(e, ref);
    return c->ref;
}

static const char *emit_array(ectx *e, const void *ptr, size_t n, int elem, const char *what, const char *comment) {
    return emit_array_aligned(e, ptr, n, elem, what, comment, 0);
}

static int tensor_elem(int32_t type) {
    switch (type) {
    case IR_I8: return EMIT_I8;
    case IR_U8: case IR_BOOL: return EMIT_U8;
    /* unsigned types as their signed twins: same bits, and C lets a kernel
     * read an int32_t array through a uint32_t pointer */
    case IR_I16: case IR_U16: return EMIT_I16;
    case IR_I32: case IR_U32: return EMIT_I32;
    case IR_I64: case IR_U64: return EMIT_I64;
    case IR_F32: return EMIT_F32;
    default: return -1;
    }
}

/* A constant tensor read directly by a kernel (e.g. a constant ADD operand). */
static const char *emit_const_tensor(ectx *e, int32_t ti) {
    const ir_tensor *t = &e->g->tensors[ti];
    int elem = tensor_elem(t->type);
    if (elem < 0) {
        util_fail(e->err, "tensor %d (%s): constant of type %s cannot be emitted", ti, t->name,
                  ir_type_name(t->type));
        return NULL;
    }
    char what[40], comment[300];
    snprintf(what, sizeof what, "t%d", ti);
    snprintf(comment, sizeof comment, "tensor %d (%s), %s", ti, t->name, ir_type_name(t->type));
    return emit_array(e, t->data, (size_t)t->elems, elem, what, comment);
}

/* ---- helpers for operator families (src/ops/) ------------------------- */

const char *emit_const_array(emit_ctx *e, const void *data, size_t n, int32_t type, const char *what) {
    int elem = tensor_elem(type);
    if (elem < 0) {
        util_fail(e->err, "internal: constant array %s of type %s cannot be emitted", what, ir_type_name(type));
        return NULL;
    }
    const char *r = emit_array(e, data, n, elem, what, what);
    if (!r) util_fail(e->err, "out of memory");
    return r;
}

void emit_printf(emit_ctx *e, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vfprintf(e->f, fmt, ap);
    va_end(ap);
}

void emit_int_field(emit_ctx *e, const char *field, const int32_t *v, int n) {
    char buf[24];
    fprintf(e->f, ".%s = {", field);
    for (int i = 0; i < n; i++) fprintf(e->f, i ? ", %s" : "%s", i32s(v[i], buf));
    fputs("}, ", e->f);
}

void emit_bcast_fields(emit_ctx *e, int32_t op, int32_t rank, const int32_t *dims, const int32_t *stride_a,
                       const int32_t *stride_b) {
    fprintf(e->f, "\n    .op = %d, .rank = %d, ", op, rank);
    emit_int_field(e, "dims", dims, 6);
    fputs("\n    ", e->f);
    emit_int_field(e, "stride_a", stride_a, 6);
    emit_int_field(e, "stride_b", stride_b, 6);
}

/* Name of the already-printed constant at ptr (second pass). */
static const char *ref_of(const ectx *e, const void *ptr) {
    if (!ptr) return "NULL";
    for (int32_t i = 0; i < e->n_consts; i++)
        if (e->consts[i].ptr == ptr) return e->consts[i].ref;
    return NULL;
}

static void emit_scalar_f32(ectx *e, int32_t op, const char *what, float x) {
    fprintf(e->f, "static const union { uint32_t u; float f; } %s_op%d_%s = {0x%08" PRIx32 "u}; /* %a */\n",
            e->name, op, what, f32_bits(x), (double)x);
}

/* ---- first pass: constants and parameter structs ------------------------ */

static int32_t conv_weight_elems(const k_call *k) {
    if (k->kind == K_DWCONV) return k->kh * k->kw * k->out_dims[3];
    if (k->kind == K_CONV) return k->out_dims[3] * k->kh * k->kw * k->in_dims[0][3];
    return k->out_dims[3] * k->in_dims[0][3]; /* FC: [units, depth] */
}

/* The filter/weights pointer of a call should be its op's second input
 * tensor; when it is, the sizes computed from the call must agree with it. */
static int check_against_tensor(ectx *e, const k_call *k, int idx, const void *ptr, size_t bytes) {
    const ir_op *op = &e->g->ops[k->op];
    if (idx >= op->n_in || op->in[idx] < 0) return 0;
    const ir_tensor *t = &e->g->tensors[op->in[idx]];
    if (t->data == ptr && t->bytes != bytes)
        return util_fail(e->err, "operator %d (%s): constant input %d has %zu bytes, the kernel call reads %zu",
                         k->op, ir_op_name(op->code), idx, t->bytes, bytes);
    return 0;
}

static int emit_conv_params(ectx *e, const k_call *k, int32_t n_ch) {
    const pexc_conv_params *c = &k->conv;
    char what[40], comment[120], b1[24], b2[24];
    const char *opname = ir_op_name(e->g->ops[k->op].code);
    snprintf(what, sizeof what, "op%d_mult", k->op);
    snprintf(comment, sizeof comment, "op %d %s: per-channel Q31 multipliers", k->op, opname);
    const char *m = emit_array(e, c->out_mult, (size_t)n_ch, EMIT_I32, what, comment);
    snprintf(what, sizeof what, "op%d_shift", k->op);
    snprintf(comment, sizeof comment, "op %d %s: per-channel shifts", k->op, opname);
    const char *s = emit_array(e, c->out_shift, (size_t)n_ch, EMIT_I32, what, comment);
    const char *r = "NULL"; /* the long requantisation */
    if (c->out_round) {
        snprintf(what, sizeof what, "op%d_round", k->op);
        snprintf(comment, sizeof comment, "op %d %s: short requantisation rounding constants", k->op, opname);
        r = emit_array(e, c->out_round, (size_t)n_ch, EMIT_I32, what, comment);
    }
    if (!m || !s || !r) return util_fail(e->err, "out of memory");
    fprintf(e->f,
            "static const pexc_conv_params %s_op%d_conv = {\n"
            "    .stride_h = %d, .stride_w = %d, .dilation_h = %d, .dilation_w = %d,\n"
            "    .pad_top = %d, .pad_left = %d, .input_offset = %s, .output_offset = %s,\n"
            "    .act_min = %d, .act_max = %d, .out_mult = %s, .out_shift = %s, .out_round = %s,\n"
            "    .filter_by_channel = %d,\n};\n",
            e->name, k->op, c->stride_h, c->stride_w, c->dilation_h, c->dilation_w, c->pad_top, c->pad_left,
            i32s(c->input_offset, b1), i32s(c->output_offset, b2), c->act_min, c->act_max, m, s, r,
            e->fc_il_ref[k->op] ? PEXC_FILTER_GATHER_IL4 : (int)c->filter_by_channel);
    return 0;
}

static int emit_op_params(ectx *e, const k_call *k) {
    const char *n = e->name;
    int32_t op = k->op;
    char what[40], comment[200], b[6][24];
    const char *opname = ir_op_name(e->g->ops[op].code);
    switch (k->kind) {
    case K_CONV:
    case K_DWCONV:
    case K_FC: {
        size_t nw = (size_t)conv_weight_elems(k);
        if (check_against_tensor(e, k, 1, k->weights, nw)) return -1;
        if (k->bias && check_against_tensor(e, k, 2, k->bias, 4 * (size_t)k->out_dims[3])) return -1;
        snprintf(what, sizeof what, "op%d_filter", op);
        if (k->kind == K_FC)
            snprintf(comment, sizeof comment, "op %d %s: weights [%d, %d] int8", op, opname, k->out_dims[3],
                     k->in_dims[0][3]);
        else if (k->kind == K_CONV)
            snprintf(comment, sizeof comment, "op %d %s: filter [%d, %d, %d, %d] int8", op, opname, k->out_dims[3],
                     k->kh, k->kw, k->in_dims[0][3]);
        else
            snprintf(comment, sizeof comment, "op %d %s: filter [1, %d, %d, %d] int8", op, opname, k->kh, k->kw,
                     k->out_dims[3]);
        if (emit_fc_il(k, e->p, e->target) || emit_gather_il(k, e->p, e->target)) {
            /* the same bytes in the order pexc_fully_connected_s8_il reads them */
            const int8_t *il = emit_fc_il_weights(k, e->a);
            snprintf(comment, sizeof comment, "op %d %s: %s [%d, %d] int8 in four-unit blocks", op, opname,
                     k->kind == K_FC ? "weights" : "filter", k->out_dims[3], (int)(nw / (size_t)k->out_dims[3]));
            if (!il || !(e->fc_il_ref[op] = emit_array_aligned(e, il, nw, EMIT_I8, what, comment, 4)))
                return util_fail(e->err, "out of memory");
        } else if (!emit_array(e, k->weights, nw, EMIT_I8, what, comment)) {
            return util_fail(e->err, "out of memory");
        }
        snprintf(what, sizeof what, "op%d_bias", op);
        snprintf(comment, sizeof comment, "op %d %s: bias [%d] int32", op, opname, k->out_dims[3]);
        if (!emit_array(e, k->bias, (size_t)k->out_dims[3], EMIT_I32, what, comment))
            return util_fail(e->err, "out of memory");
        return emit_conv_params(e, k, k->out_dims[3]);
    }
    case K_FC_F32: {
        size_t nw = (size_t)conv_weight_elems(k);
        if (check_against_tensor(e, k, 1, k->weights_f32, 4 * nw)) return -1;
        snprintf(what, sizeof what, "op%d_filter", op);
        snprintf(comment, sizeof comment, "op %d %s: weights [%d, %d] float32", op, opname, k->out_dims[3],
                 k->in_dims[0][3]);
        if (!emit_array(e, k->weights_f32, nw, EMIT_F32, what, comment)) return util_fail(e->err, "out of memory");
        snprintf(what, sizeof what, "op%d_bias", op);
        snprintf(comment, sizeof comment, "op %d %s: bias [%d] float32", op, opname, k->out_dims[3]);
        if (!emit_array(e, k->bias_f32, (size_t)k->out_dims[3], EMIT_F32, what, comment))
            return util_fail(e->err, "out of memory");
        emit_scalar_f32(e, op, "act_min", k->act_min_f);
        emit_scalar_f32(e, op, "act_max", k->act_max_f);
        return 0;
    }
    case K_AVGPOOL:
    case K_MAXPOOL: {
        const pexc_pool_params *q = &k->pool;
        fprintf(e->f,
                "static const pexc_pool_params %s_op%d_pool = {\n"
                "    .stride_h = %d, .stride_w = %d, .filter_h = %d, .filter_w = %d,\n"
                "    .pad_top = %d, .pad_left = %d, .act_min = %d, .act_max = %d, .acc16 = %d,\n};\n",
                n, op, q->stride_h, q->stride_w, q->filter_h, q->filter_w, q->pad_top, q->pad_left, q->act_min,
                q->act_max, q->acc16);
        return 0;
    }
    case K_ADD: {
        const pexc_add_params *q = &k->add;
        fprintf(e->f,
                "static const pexc_add_params %s_op%d_add = {\n"
                "    .left_shift = %d, .input1_offset = %d, .input2_offset = %d,\n"
                "    .input1_mult = %s, .input1_shift = %d, .input2_mult = %s, .input2_shift = %d,\n"
                "    .output_mult = %s, .output_shift = %d, .output_offset = %d,\n"
                "    .act_min = %d, .act_max = %d,\n};\n",
                n, op, q->left_shift, q->input1_offset, q->input2_offset, i32s(q->input1_mult, b[0]),
                q->input1_shift, i32s(q->input2_mult, b[1]), q->input2_shift, i32s(q->output_mult, b[2]),
                q->output_shift, q->output_offset, q->act_min, q->act_max);
        return 0;
    }
    case K_MUL: {
        const pexc_mul_params *q = &k->mul;
        fprintf(e->f,
                "static const pexc_mul_params %s_op%d_mul = {\n"
                "    .input1_offset = %d, .input2_offset = %d, .output_mult = %s, .output_shift = %d,\n"
                "    .output_offset = %d, .act_min = %d, .act_max = %d,\n};\n",
                n, op, q->input1_offset, q->input2_offset, i32s(q->output_mult, b[0]), q->output_shift,
                q->output_offset, q->act_min, q->act_max);
        return 0;
    }
    case K_PAD: {
        const pexc_pad_params *q = &k->pad;
        fprintf(e->f, "static const pexc_pad_params %s_op%d_pad = {\n    .before = {%d, %d, %d, %d}, .pad_value = %d,\n};\n",
                n, op, q->before[0], q->before[1], q->before[2], q->before[3], (int)q->pad_value);
        return 0;
    }
    case K_SOFTMAX: {
        const pexc_softmax_params *q = &k->softmax;
        fprintf(e->f,
                "static const pexc_softmax_params %s_op%d_softmax = {\n"
                "    .input_multiplier = %s, .input_left_shift = %d, .diff_min = %s,\n};\n",
                n, op, i32s(q->input_multiplier, b[0]), q->input_left_shift, i32s(q->diff_min, b[1]));
        return 0;
    }
    case K_LOGISTIC: {
        const pexc_logistic_params *q = &k->logistic;
        fprintf(e->f,
                "static const pexc_logistic_params %s_op%d_logistic = {\n"
                "    .input_zero_point = %d, .input_range_radius = %s, .input_multiplier = %s,\n"
                "    .input_left_shift = %d,\n};\n",
                n, op, q->input_zero_point, i32s(q->input_range_radius, b[0]), i32s(q->input_multiplier, b[1]),
                q->input_left_shift);
        return 0;
    }
    case K_MEAN: {
        const pexc_mean_params *q = &k->mean;
        fprintf(e->f,
                "static const pexc_mean_params %s_op%d_mean = {\n"
                "    .input_zp = %d, .output_zp = %d, .multiplier = %s, .shift = %d,\n};\n",
                n, op, q->input_zp, q->output_zp, i32s(q->multiplier, b[0]), q->shift);
        return 0;
    }
    case K_REQUANT: {
        const pexc_requantize_params *q = &k->requant;
        fprintf(e->f,
                "static const pexc_requantize_params %s_op%d_requant = {\n"
                "    .input_zp = %d, .output_zp = %d, .multiplier = %s, .shift = %d,\n};\n",
                n, op, q->input_zp, q->output_zp, i32s(q->multiplier, b[0]), q->shift);
        return 0;
    }
    case K_QUANT_F32:
    case K_DEQUANT_F32:
        emit_scalar_f32(e, op, "scale", k->qscale);
        return 0;
    case K_TRANSPOSE: {
        const pexc_transpose_params *q = &k->transpose;
        fprintf(e->f, "static const pexc_transpose_params %s_op%d_transpose = {\n    .rank = %d, .in_dims = {", n,
                op, q->rank);
        for (int i = 0; i < 6; i++) fprintf(e->f, i ? ", %d" : "%d", q->in_dims[i]);
        fputs("}, .perm = {", e->f);
        for (int i = 0; i < 6; i++) fprintf(e->f, i ? ", %d" : "%d", q->perm[i]);
        fputs("},\n};\n", e->f);
        return 0;
    }
    case K_CONCAT: {
        fprintf(e->f, "static const int32_t %s_op%d_inner[%d] = {", n, op, k->n_whole);
        for (int32_t i = 0; i < k->n_whole; i++) fprintf(e->f, i ? ", %d" : "%d", k->cat_inner[i]);
        fputs("};\n", e->f);
        return 0;
    }
    case K_LUT: {
        snprintf(what, sizeof what, "op%d_lut", op);
        snprintf(comment, sizeof comment, "op %d %s: output byte of each input byte (index input + 128)", op,
                 opname);
        if (!emit_array(e, k->lut, 256, EMIT_I8, what, comment)) return util_fail(e->err, "out of memory");
        return 0;
    }
    case K_GENERIC: {
        char var[160];
        snprintf(var, sizeof var, "%s_op%d", n, op);
        return k->gen->emit(e, k, var);
    }
    case K_NOP: return 0;
    }
    return util_fail(e->err, "operator %d (%s): no C emission for kernel kind %d", op, opname, (int)k->kind);
}

/* ---- views: the mirror of exec.c's make_view() ------------------------- */

typedef struct {
    int in_arena;        /* data = arena + off, else data = const tensor */
    size_t off;
    const char *cref;    /* constant array expression when !in_arena */
    int32_t n, h, w, c, c_begin, c_stored, ring_px;
} emit_view;

static int make_view(ectx *e, const plan_view *pv, const int32_t d[4], emit_view *v) {
    const plan_t *p = e->p;
    memset(v, 0, sizeof *v);
    if (pv->buf >= 0) {
        v->in_arena = 1;
        v->off = p->buffers[pv->buf].offset +
                 (p->tensor_buffer[pv->tensor] == pv->buf ? plan_tensor_offset(e->g, e->calls, p, pv->tensor) : 0);
    } else {
        v->cref = ref_of(e, e->g->tensors[pv->tensor].data);
        if (!v->cref) return util_fail(e->err, "internal: constant tensor %d was not emitted", pv->tensor);
    }
    v->n = d[0];
    v->h = d[1];
    v->w = d[2];
    v->c = d[3];
    int slice = pv->buf >= 0 && (p->buffers[pv->buf].kind == BUF_SLICE || p->buffers[pv->buf].kind == BUF_RING);
    v->c_begin = slice ? pv->c_begin : 0;
    v->c_stored = slice ? pv->c_stored : d[3];
    v->ring_px = pv->ring_px;
    return 0;
}

/* Input views are static const (flash, no code to build them) when they
 * point into the arena; the output view is built on the stack because the
 * kernels take it as a non-const pointer. */
static void print_view(ectx *e, const char *decl, const char *var, const emit_view *v) {
    if (v->in_arena && !e->caller_arena && !strcmp(decl, "const pexc_view"))
        sb_printf(e->sb, "        static const pexc_view %s = {%s_arena + %zu, %d, %d, %d, %d, %d, %d, %d};\n", var,
                e->name, v->off, v->n, v->h, v->w, v->c, v->c_begin, v->c_stored, v->ring_px);
    else if (v->in_arena)
        sb_printf(e->sb, "        %s %s = {%s_arena + %zu, %d, %d, %d, %d, %d, %d, %d};\n", decl, var, e->name, v->off,
                v->n, v->h, v->w, v->c, v->c_begin, v->c_stored, v->ring_px);
    else /* constants are only read; the cast keeps -Wcast-qual quiet */
        sb_printf(e->sb, "        %s %s = {(void *)(uintptr_t)%s, %d, %d, %d, %d, %d, %d, %d};\n", decl, var, v->cref,
                v->n, v->h, v->w, v->c, v->c_begin, v->c_stored, v->ring_px);
}

/* Address of a whole tensor as a C expression (exec.c's tensor_ptr). */
static int tensor_expr(ectx *e, int32_t ti, char *buf, size_t n, size_t *off, int *in_arena) {
    const ir_tensor *t = &e->g->tensors[ti];
    if (t->data) {
        const char *r = ref_of(e, t->data);
        if (!r) return util_fail(e->err, "internal: constant tensor %d was not emitted", ti);
        snprintf(buf, n, "%s", r);
        *in_arena = 0;
        return 0;
    }
    int32_t b = e->p->tensor_buffer[ti];
    if (b < 0) return util_fail(e->err, "tensor %d (%s) has no buffer in the plan", ti, t->name);
    *off = e->p->buffers[b].offset + plan_tensor_offset(e->g, e->calls, e->p, ti);
    *in_arena = 1;
    snprintf(buf, n, "%s_arena + %zu", e->name, *off);
    return 0;
}

/* ---- second pass: the code of one step ---------------------------------- */

/* Prints the code of step s into e->sb as the body of a template: the
 * step-table arguments a and b stand for what changes from one step of a
 * streamed operator to the next (the raster run of output pixels [a, b),
 * or for a partial-sum step the input range [a, b)); everything else is a
 * constant. Steps whose bodies print the same share one template. */
static int emit_step(ectx *e, int32_t s, int32_t *pa, int32_t *pb) {
    const plan_step *st = &e->p->steps[s];
    const k_call *k = &e->calls[st->call];
    const ir_graph *g = e->g;
    const char *n = e->name;
    const char *opname = ir_op_name(g->ops[k->op].code);
    const pexc_tile *t = &st->tile;
    sbuf *f = e->sb;
    *pa = *pb = 0;

    if (st->mode == STEP_FULL && k->kind == K_NOP) {
        char src[256];
        size_t soff = 0;
        int sa = 0;
        if (tensor_expr(e, k->in[0], src, sizeof src, &soff, &sa)) return -1;
        if (st->out.buf < 0) return util_fail(e->err, "step %d: output has no buffer", s);
        size_t doff = e->p->buffers[st->out.buf].offset + plan_tensor_offset(g, e->calls, e->p, k->out);
        if (sa && soff + k->alias_off == doff)
            sb_printf(f, "    /* output %s its input's buffer: nothing to do */\n",
                      k->alias_off ? "is a view into" : "shares");
        else
            sb_printf(f, "    memmove(%s_arena + %zu, (const uint8_t *)%s + %zu, %zu);\n", n, doff, src, k->alias_off,
                      g->tensors[k->out].bytes);
        return 0;
    }
    int tiled_transpose = plan_step_tiled_transpose(k, st), seq_step = plan_step_seq(e->p, k, st);
    if (st->mode == STEP_FULL && !tiled_transpose && !seq_step &&
        (k->kind == K_TRANSPOSE || k->kind == K_CONCAT || k->kind == K_GENERIC)) {
        char dst[256], src[256];
        size_t off = 0;
        int ia = 0;
        if (st->out.buf < 0) return util_fail(e->err, "step %d: output has no buffer", s);
        snprintf(dst, sizeof dst, "%s_arena + %zu", n, e->p->buffers[st->out.buf].offset);
        sb_puts(f, "    {\n");
        if (k->kind == K_TRANSPOSE) {
            if (tensor_expr(e, k->in[0], src, sizeof src, &off, &ia)) return -1;
            sb_printf(f, "        st = pexc_transpose(&%s_op%d_transpose, %zu, %s, %s);\n", n, k->op,
                    k->elem_size, src, dst);
        } else if (k->kind == K_GENERIC) {
            sb_printf(f, "        const void *ins[%d] = {", k->n_whole ? k->n_whole : 1);
            for (int32_t i = 0; i < k->n_whole; i++) {
                if (tensor_expr(e, k->whole_in[i], src, sizeof src, &off, &ia)) return -1;
                sb_printf(f, i ? ", %s" : "%s", src);
            }
            sb_puts(f, k->n_whole ? "};\n" : "NULL};\n");
            sb_printf(f, "        st = %s(&%s_op%d, ins, %s);\n", k->gen->fn, n, k->op, dst);
        } else {
            sb_printf(f, "        const void *ins[%d] = {", k->n_whole);
            for (int32_t i = 0; i < k->n_whole; i++) {
                if (tensor_expr(e, k->whole_in[i], src, sizeof src, &off, &ia)) return -1;
                sb_printf(f, i ? ", %s" : "%s", src);
            }
            sb_puts(f, "};\n");
            sb_printf(f, "        st = pexc_concat(%d, ins, %s_op%d_inner, %d, %zu, %s);\n", k->n_whole, n,
                    k->op, k->cat_outer, k->elem_size, dst);
        }
        sb_puts(f, "    }\n");
        return 0;
    }

    emit_view vin, vin2, vout;
    int has_in = st->in[0].tensor >= 0, has_in2 = st->in[1].tensor >= 0;
    if (has_in && make_view(e, &st->in[0], st->mode == STEP_FINISH ? k->out_dims : k->in_dims[0], &vin)) return -1;
    if (has_in2 && make_view(e, &st->in[1], k->in_dims[1], &vin2)) return -1;
    if (make_view(e, &st->out, k->out_dims, &vout)) return -1;
    if (!has_in) return util_fail(e->err, "step %d (op %d %s): no input operand", s, k->op, opname);
    sb_puts(f, "    {\n");
    if (st->mode == STEP_ACC && (k->kind == K_FC || k->kind == K_FC_F32) && vin.in_arena && st->in[0].buf >= 0 &&
        e->p->buffers[st->in[0].buf].kind == BUF_RING && vin.c_begin == st->ic0)
        /* a fully-connected layer consuming a ring from its first slot on
         * (a streamed sequence's time steps, one ring-full at a time): the
         * stored depth range starts at the step's own, so one template
         * serves every such step */
        sb_printf(f, "        const pexc_view in = {%s_arena + %zu, %d, %d, %d, %d, a, %d, %d};\n", n, vin.off, vin.n,
                  vin.h, vin.w, vin.c, vin.c_stored, vin.ring_px);
    else
        print_view(e, "const pexc_view", "in", &vin);
    if (has_in2) print_view(e, "const pexc_view", "in2", &vin2);
    print_view(e, "pexc_view", "out", &vout);
    /* the tile: a run of output pixels given by the table, or a constant */
    const char *ic0 = "a", *ic1 = "b";
    int32_t ow = k->out_dims[2];
    int64_t q0 = (int64_t)t->y0 * ow + t->x0, q1 = (int64_t)(t->y1 - 1) * ow + (t->x1 ? t->x1 : ow);
    pexc_tile run = {0, 0, 0, 0, 0, 0};
    if (st->mode != STEP_ACC && ow > 0 && q0 >= 0 && q1 > q0 && q1 <= INT32_MAX)
        run = pexc_tile_run((int32_t)q0, (int32_t)q1, ow, t->c0, t->c1);
    if (st->mode != STEP_ACC && !memcmp(&run, t, sizeof run)) {
        *pa = (int32_t)q0;
        *pb = (int32_t)q1;
        sb_printf(f, "        const pexc_tile t = pexc_tile_run(a, b, %d, %d, %d);\n", ow, t->c0, t->c1);
    } else {
        sb_printf(f, "        static const pexc_tile t = {%d, %d, %d, %d, %d, %d};\n", t->y0, t->y1, t->c0, t->c1,
                  t->x0, t->x1);
        if (st->mode == STEP_ACC) {
            *pa = st->ic0;
            *pb = st->ic1;
        }
    }

    const char *w = NULL, *b = NULL;
    if ((k->kind == K_FC || k->kind == K_CONV || k->kind == K_DWCONV) && e->fc_il_ref[k->op]) {
        w = e->fc_il_ref[k->op];
        b = ref_of(e, k->bias);
    } else if (k->kind == K_CONV || k->kind == K_DWCONV || k->kind == K_FC) {
        w = ref_of(e, k->weights);
        b = ref_of(e, k->bias);
    } else if (k->kind == K_FC_F32) {
        w = ref_of(e, k->weights_f32);
        b = ref_of(e, k->bias_f32);
    }
    if ((k->kind == K_CONV || k->kind == K_DWCONV || k->kind == K_FC || k->kind == K_FC_F32) && (!w || !b))
        return util_fail(e->err, "internal: constants of operator %d were not emitted", k->op);

    if (seq_step) {
        /* time steps of a sequence: operand 0 is the view "in" */
        char src[256];
        size_t off = 0;
        int ia = 0;
        sb_printf(f, "        const void *ins[%d] = {", k->n_whole);
        for (int32_t i = 0; i < k->n_whole; i++) {
            if (k->whole_in[i] == k->in[0]) snprintf(src, sizeof src, "NULL");
            else if (tensor_expr(e, k->whole_in[i], src, sizeof src, &off, &ia)) return -1;
            sb_printf(f, i ? ", %s" : "%s", src);
        }
        sb_puts(f, "};\n");
        sb_printf(f, "        st = %s(&%s_op%d, ins, &in, &t, &out);\n    }\n", ops_steps_of(k)->fn, n, k->op);
        return 0;
    }
    sb_puts(f, "        st = ");
    if (st->mode == STEP_FINISH && k->kind == K_AVGPOOL) {
        sb_printf(f, "pexc_avg_pool_s8_finish(&%s_op%d_pool, %d, %d, &in, &t, &out);\n", n, k->op, k->in_dims[0][1],
                k->in_dims[0][2]);
    } else if (st->mode == STEP_ACC && k->kind == K_AVGPOOL) {
        sb_printf(f, "pexc_avg_pool_s8_acc(&%s_op%d_pool, &in, %s, %s, %d, &t, &out);\n", n, k->op, ic0, ic1,
                  st->first);
    } else if (st->mode == STEP_FINISH && k->kind == K_FC_F32) {
        sb_printf(f, "pexc_fully_connected_f32_finish(%s_op%d_act_min.f, %s_op%d_act_max.f, %s, &in, &t, &out);\n", n,
                  k->op, n, k->op, b);
    } else if (st->mode == STEP_ACC && k->kind == K_FC_F32) {
        sb_printf(f, "pexc_fully_connected_f32_acc(&in, %s, %s, %s, %d, &t, &out);\n", w, ic0, ic1, st->first);
    } else if (st->mode == STEP_FINISH) {
        if (k->kind != K_CONV && k->kind != K_FC && k->kind != K_DWCONV)
            return util_fail(e->err, "step %d: partial sums of a %s", s, opname);
        sb_printf(f, "pexc_requant_s32_s8(&%s_op%d_conv, %s, &in, &t, &out);\n", n, k->op, b);
    } else if (st->mode == STEP_ACC) {
        if (k->kind == K_CONV)
            sb_printf(f, "pexc_conv2d_s8_acc(&%s_op%d_conv, &in, %s, %d, %d, %s, %s, %d, &t, &out);\n", n, k->op, w,
                      k->kh, k->kw, ic0, ic1, st->first);
        else if (k->kind == K_FC)
            sb_printf(f, "pexc_fully_connected_s8%s_acc(&%s_op%d_conv, %d, &in, %s, %s, %s, %d, &t, &out);\n",
                      e->fc_il_ref[k->op] ? "_il" : "", n, k->op, k->filter_offset, w, ic0, ic1, st->first);
        else if (k->kind == K_DWCONV)
            sb_printf(f, "pexc_depthwise_conv2d_s8_acc(&%s_op%d_conv, %d, &in, %s, %d, %d, %s, %s, %d, &t, &out);\n",
                      n, k->op, k->depth_mult, w, k->kh, k->kw, ic0, ic1, st->first);
        else
            return util_fail(e->err, "step %d: partial sums of a %s", s, opname);
    } else {
        switch (k->kind) {
        case K_CONV:
            sb_printf(f, "pexc_conv2d_s8(&%s_op%d_conv, &in, %s, %d, %d, %s, &t, &out);\n", n, k->op, w, k->kh, k->kw,
                    b);
            break;
        case K_DWCONV:
            sb_printf(f, "pexc_depthwise_conv2d_s8(&%s_op%d_conv, %d, &in, %s, %d, %d, %s, &t, &out);\n", n, k->op,
                    k->depth_mult, w, k->kh, k->kw, b);
            break;
        case K_FC:
            sb_printf(f, "pexc_fully_connected_s8%s(&%s_op%d_conv, %d, &in, %s, %s, &t, &out);\n",
                      e->fc_il_ref[k->op] ? "_il" : "", n, k->op, k->filter_offset, w, b);
            break;
        case K_FC_F32:
            sb_printf(f, "pexc_fully_connected_f32(%s_op%d_act_min.f, %s_op%d_act_max.f, &in, %s, %s, &t, &out);\n", n,
                    k->op, n, k->op, w, b);
            break;
        case K_AVGPOOL: sb_printf(f, "pexc_avg_pool_s8(&%s_op%d_pool, &in, &t, &out);\n", n, k->op); break;
        case K_MAXPOOL: sb_printf(f, "pexc_max_pool_s8(&%s_op%d_pool, &in, &t, &out);\n", n, k->op); break;
        case K_ADD:
        case K_MUL:
            if (!has_in2) return util_fail(e->err, "step %d (op %d %s): second operand missing", s, k->op, opname);
            sb_printf(f, "pexc_%s_s8(&%s_op%d_%s, &in, &in2, &t, &out);\n", k->kind == K_ADD ? "add" : "mul", n, k->op,
                    k->kind == K_ADD ? "add" : "mul");
            break;
        case K_PAD: sb_printf(f, "pexc_pad_s8(&%s_op%d_pad, &in, &t, &out);\n", n, k->op); break;
        case K_TRANSPOSE:
            sb_printf(f, "pexc_transpose_s8_tile(&%s_op%d_transpose, in.data, &t, &out);\n", n, k->op);
            break;
        case K_SOFTMAX: sb_printf(f, "pexc_softmax_s8(&%s_op%d_softmax, &in, &t, &out);\n", n, k->op); break;
        case K_LOGISTIC: sb_printf(f, "pexc_logistic_s8(&%s_op%d_logistic, &in, &t, &out);\n", n, k->op); break;
        case K_LUT: sb_printf(f, "pexc_lut_s8(%s_op%d_lut, &in, &t, &out);\n", n, k->op); break;
        case K_MEAN: sb_printf(f, "pexc_mean_hw_s8(&%s_op%d_mean, &in, &t, &out);\n", n, k->op); break;
        case K_REQUANT: sb_printf(f, "pexc_requantize_s8(&%s_op%d_requant, &in, &t, &out);\n", n, k->op); break;
        case K_QUANT_F32:
            sb_printf(f, "pexc_quantize_f32_s8(%s_op%d_scale.f, %d, &in, &t, &out);\n", n, k->op, k->qzp);
            break;
        case K_DEQUANT_F32:
            sb_printf(f, "pexc_dequantize_s8_f32(%s_op%d_scale.f, %d, &in, &t, &out);\n", n, k->op, k->qzp);
            break;
        default: return util_fail(e->err, "step %d (op %d %s): kernel kind %d not emitted", s, k->op, opname, k->kind);
        }
    }
    sb_puts(f, "    }\n");
    return 0;
}

/* ---- step templates and the step table ---------------------------------- */

typedef struct {
    const char *text;  /* the body (arena) */
    size_t len;
    uint64_t hash;
    int32_t first, count;  /* first step printing it, steps printing it */
} emit_tpl;

typedef struct {
    emit_tpl *tpl;
    int32_t n_tpl;
    int32_t *of;     /* [n_steps]: template of each step */
    int32_t *a, *b;  /* [n_steps]: the table's arguments */
    int row_field_bytes; /* 2 or 4: the type of the table's fields */
} emit_table;

static uint64_t text_hash(const char *s, size_t n) {
    uint64_t h = 1469598103934665603u;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211u;
    return h;
}

/* What a step does, for comments: "op 3 CONV_2D, partial sums (first)". */
static void step_note(const ectx *e, const plan_step *st, char *buf, size_t n) {
    const k_call *k = &e->calls[st->call];
    int at = snprintf(buf, n, "op %d %s", k->op, ir_op_name(e->g->ops[k->op].code));
    if (at < 0 || (size_t)at >= n) return;
    if (st->mode == STEP_ACC)
        snprintf(buf + at, n - (size_t)at, ", partial sums of input %s%s",
                 k->kind == K_AVGPOOL || k->kind == K_DWCONV ? "pixels" : "channels",
                 st->first ? " (first)" : "");
    else if (st->mode == STEP_FINISH)
        snprintf(buf + at, n - (size_t)at, ", finish partial sums");
}

/* Prints every step's body and keeps one template per distinct body. */
static int build_table(ectx *e, emit_table *tb) {
    const plan_t *p = e->p;
    int32_t ns = p->n_steps;
    size_t hcap = 64;
    while (hcap < 2 * (size_t)ns + 2) hcap *= 2;
    int32_t *slot = util_alloc(e->a, sizeof(int32_t) * hcap);
    tb->tpl = util_alloc(e->a, sizeof(emit_tpl) * (size_t)(ns + 1));
    tb->of = util_alloc(e->a, sizeof(int32_t) * (size_t)(ns + 1));
    tb->a = util_alloc(e->a, sizeof(int32_t) * (size_t)(ns + 1));
    tb->b = util_alloc(e->a, sizeof(int32_t) * (size_t)(ns + 1));
    if (!slot || !tb->tpl || !tb->of || !tb->a || !tb->b) return util_fail(e->err, "out of memory");
    for (size_t i = 0; i < hcap; i++) slot[i] = -1;
    tb->n_tpl = 0;
    for (int32_t s = 0; s < ns; s++) {
        e->sb->n = 0;
        if (emit_step(e, s, &tb->a[s], &tb->b[s])) return -1;
        if (e->sb->oom) return util_fail(e->err, "out of memory");
        const char *text = e->sb->s ? e->sb->s : "";
        size_t len = e->sb->n;
        uint64_t h = text_hash(text, len);
        size_t i = (size_t)h & (hcap - 1);
        while (slot[i] >= 0) {
            const emit_tpl *t = &tb->tpl[slot[i]];
            if (t->hash == h && t->len == len && !memcmp(t->text, text, len)) break;
            i = (i + 1) & (hcap - 1);
        }
        if (slot[i] < 0) {
            char *copy = util_alloc(e->a, len + 1);
            if (!copy) return util_fail(e->err, "out of memory");
            memcpy(copy, text, len);
            copy[len] = 0;
            slot[i] = tb->n_tpl;
            tb->tpl[tb->n_tpl++] = (emit_tpl){copy, len, h, s, 0};
        }
        tb->of[s] = slot[i];
        tb->tpl[slot[i]].count++;
    }
    return 0;
}

/* The step table: one {template, a, b} row per step, 16-bit fields when
 * every value fits, so a streamed step costs 6 bytes of flash. */
static void print_table(ectx *e, emit_table *tb) {
    const plan_t *p = e->p;
    FILE *f = e->f;
    int wide = tb->n_tpl > 65535;
    for (int32_t s = 0; s < p->n_steps && !wide; s++) wide = tb->a[s] < 0 || tb->a[s] > 65535 || tb->b[s] < 0 ||
                                                            tb->b[s] > 65535;
    const char *ty = wide ? "int32_t" : "uint16_t";
    tb->row_field_bytes = wide ? 4 : 2;
    fprintf(f,
            "\n/* The schedule: step i runs template t with arguments a, b (for a\n"
            " * streamed step the output pixels [a, b) in raster order). */\n"
            "typedef struct {\n    %s t, a, b;\n} %s_step;\n\n"
            "static const %s_step %s_steps[%d] = {\n",
            ty, e->name, e->name, e->name, p->n_steps);
    for (int32_t s = 0; s < p->n_steps; s++) {
        char note[160];
        step_note(e, &p->steps[s], note, sizeof note);
        fprintf(f, "    {%d, %d, %d}, /* step %d: %s, live %zu bytes */\n", tb->of[s], tb->a[s], tb->b[s], s, note,
                p->live_bytes[s]);
    }
    fputs("};\n", f);
}

/* The loop over the table, a switch case per template. */
static void print_dispatch(ectx *e, const emit_table *tb, const char *prologue, const char *epilogue) {
    FILE *f = e->f;
    fprintf(f, "    for (int32_t i = 0; i < %d; i++) {\n%s", e->p->n_steps, prologue ? prologue : "");
    fprintf(f,
            "        const int32_t a = %s_steps[i].a, b = %s_steps[i].b;\n"
            "        pexc_status st = PEXC_OK;\n"
            "        (void)a;\n        (void)b;\n"
            "        switch (%s_steps[i].t) {\n",
            e->name, e->name, e->name);
    for (int32_t t = 0; t < tb->n_tpl; t++) {
        const emit_tpl *x = &tb->tpl[t];
        char note[160];
        step_note(e, &e->p->steps[x->first], note, sizeof note);
        fprintf(f, "        case %d: /* %s: %d step%s from step %d */\n", t, note, x->count, x->count == 1 ? "" : "s",
                x->first);
        /* the body, indented into the switch */
        const char *line = x->text;
        while (*line) {
            const char *nl = strchr(line, '\n');
            size_t len = nl ? (size_t)(nl - line) : strlen(line);
            fprintf(f, "        %.*s\n", (int)len, line);
            line += len + (nl ? 1 : 0);
        }
        fputs("            break;\n", f);
    }
    fputs("        default:\n            st = PEXC_ERR_ARG;\n            break;\n        }\n"
          "        if (st != PEXC_OK) return (int)st;\n",
          f);
    fprintf(f, "%s    }\n", epilogue ? epilogue : "");
}

/* ---- the header --------------------------------------------------------- */

static void shape_text(const ir_tensor *t, char *buf, size_t n) {
    size_t at = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < t->rank && at < n; i++) at += (size_t)snprintf(buf + at, n - at, i ? ",%d" : "%d", t->shape[i]);
    if (at < n) snprintf(buf + at, n - at, "]");
}

static void io_comment(FILE *f, const ir_tensor *t, const char *role, int i) {
    char sh[96];
    shape_text(t, sh, sizeof sh);
    fprintf(f, " *   %s %d: %s %s, %zu bytes", role, i, ir_type_name(t->type), sh, t->bytes);
    if (t->nq == 1) fprintf(f, ", scale %.9g zero point %lld", (double)t->scale[0], (long long)t->zero_point[0]);
    fputc('\n', f);
}

/* Compiler flags for the core a target names (advice printed in the header). */
static const char *target_flags(const char *target) {
    static const char *const tab[][2] = {
        {"cortex-m4", "-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard"},
        {"cortex-m7", "-mcpu=cortex-m7 -mthumb -mfpu=fpv5-d16 -mfloat-abi=hard"},
        {"cortex-m33", "-mcpu=cortex-m33 -mthumb -mfpu=fpv5-sp-d16 -mfloat-abi=hard"},
        {"cortex-m55", "-mcpu=cortex-m55 -mthumb -mfloat-abi=hard"},
    };
    for (size_t i = 0; target && i < sizeof tab / sizeof tab[0]; i++)
        if (!strcmp(target, tab[i][0])) return tab[i][1];
    return NULL;
}

/* Does the plan hold variable tensors (operator state kept between runs)? */
static int has_state(const ir_graph *g, const plan_t *p) {
    for (int32_t i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].is_variable && p->tensor_buffer[i] >= 0) return 1;
    return 0;
}

/* NAME_reset(): each variable tensor's initial bytes (exec_reset_state).
 * With a caller's arena the state lives there, so reset takes it too. */
static void emit_reset(const ir_graph *g, const plan_t *p, const char *n, int caller_arena, FILE *c) {
    fprintf(c, "\n/* Set once the state holds its initial value. */\nstatic uint8_t %s_state_ready;\n\n", n);
    if (caller_arena)
        fprintf(c, "void %s_reset(void *arena) {\n    uint8_t *const %s_arena = (uint8_t *)arena;\n", n, n);
    else
        fprintf(c, "void %s_reset(void) {\n", n);
    for (int32_t i = 0; i < g->n_tensors; i++) {
        const ir_tensor *t = &g->tensors[i];
        if (!t->is_variable || p->tensor_buffer[i] < 0) continue;
        fprintf(c, "    memset(%s_arena + %zu, %u, %zu); /* tensor %d (%s) */\n", n,
                p->buffers[p->tensor_buffer[i]].offset, (unsigned)exec_state_fill(t), t->bytes, i, t->name);
    }
    fprintf(c, "    %s_state_ready = 1;\n}\n", n);
}

/* Does any resource variable start from a CALL_ONCE initial value? */
static int has_init(const ir_graph *g, const plan_t *p) {
    for (int32_t i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].is_variable && g->tensors[i].init && p->tensor_buffer[i] >= 0) return 1;
    return 0;
}

/* The initial values of resource variables (exec_init_state), and the flag
 * that makes the first run, and only it, write them: TFLM's CALL_ONCE runs
 * in the first Invoke() whatever resets came before, and never again. */
static void emit_init_data(const ir_graph *g, const plan_t *p, const char *n, FILE *c) {
    for (int32_t i = 0; i < g->n_tensors; i++) {
        const ir_tensor *t = &g->tensors[i];
        if (!t->is_variable || !t->init || p->tensor_buffer[i] < 0) continue;
        /* no name in the comment: a file's names may hold a comment end */
        fprintf(c, "\n/* initial value of the resource variable in tensor %d */\nstatic const uint8_t %s_init_%d[%zu] = {",
                i, n, i, t->bytes);
        for (size_t k = 0; k < t->bytes; k++) fprintf(c, "%s%u", !k ? "\n    " : k % 16 ? ", " : ",\n    ", (unsigned)t->init[k]);
        fprintf(c, "\n};\n");
    }
    fprintf(c, "static uint8_t %s_init_done;\n", n);
}

static void emit_init_run(const ir_graph *g, const plan_t *p, const char *n, FILE *c) {
    fprintf(c, "    if (!%s_init_done) {\n", n);
    for (int32_t i = 0; i < g->n_tensors; i++) {
        const ir_tensor *t = &g->tensors[i];
        if (!t->is_variable || !t->init || p->tensor_buffer[i] < 0) continue;
        fprintf(c, "        memcpy(%s_arena + %zu, %s_init_%d, %zu);\n", n, p->buffers[p->tensor_buffer[i]].offset, n,
                i, t->bytes);
    }
    fprintf(c, "        %s_init_done = 1;\n    }\n", n);
}

/* What the header states beside the interface: the figures a user plans
 * the device's memory with. */
typedef struct {
    size_t const_bytes;  /* static const data: weights, biases, multipliers, constant tensors */
    size_t table_bytes;  /* the step table */
    int32_t n_tpl;       /* step templates (switch cases) */
    emit_figures_dev dev; /* code flash and stack on the target (figures.c) */
} emit_figures;

/* The header's code and stack lines: what the table measured, and how. */
static void print_device_figures(const emit_figures_dev *d, const char *n, FILE *f) {
    if (!d->measured) {
        fprintf(f, " *   flash, code and stack: not measured (src/emit/kernel_table.c lacks %s;\n"
                   " *                      `make kernel-table` measures it again)\n", d->missing ? d->missing : "?");
        return;
    }
    fprintf(f,
            " *   flash, code        %zu bytes on %s: the kernels %zu (exact), the C library\n"
            " *                      functions they call %zu, %s.c about %zu (fit, within %zu)\n"
            " *   stack              %zu bytes at most for one %s_run() call: the deepest kernel\n"
            " *                      call path %zu, %s_run and %s_run_io %zu\n"
            " *\n"
            " * Code and stack hold for %s,\n"
            " * linked with --gc-sections. tools/kernel_sizes.py measured them: the size\n"
            " * of every runtime function and constant (one section each) and the\n"
            " * sections each refers to, walked from the kernels this model calls as the\n"
            " * linker walks them; frames from -fstack-usage added down the call graph\n"
            " * (the C library's from its disassembly); %s.c's code is a line fitted on\n"
            " * %d real models, and its frames the largest seen on them.\n",
            d->code_bytes, d->target, d->kernel_code, d->library_code, n, d->model_code, d->model_miss,
            d->stack_bytes, n, d->kernel_stack, n, n, d->run_frame, d->flags, n, d->n_fit);
}

/* s in upper case into buf (macro names and the include guard). */
static const char *upper(const char *s, char *buf, size_t n) {
    size_t i = 0;
    for (; s[i] && i + 1 < n; i++) buf[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 'a' + 'A' : s[i]);
    buf[i] = 0;
    return buf;
}

static void emit_header(const ir_graph *g, const k_call *calls, const plan_t *p, const emit_options *o,
                        const emit_figures *fg, FILE *f) {
    const char *n = o->name;
    char ub[200];
    const char *u = upper(n, ub, sizeof ub);
    const char *arg = o->caller_arena ? "void *arena, " : "";
    fprintf(f,
            "/*\n"
            " * %s.h: generated by pexc from %s. Do not edit.\n"
            " *\n"
            " * Schedule: %s, %d steps (%d distinct step bodies), target %s.\n"
            " *\n"
            " * What to plan the device's memory with:\n"
            " *   SRAM, activations  %zu bytes (%s_ARENA_BYTES), %s\n"
            " *                      (the most bytes live at one step: %zu)\n"
            " *   flash, constants   %zu bytes: weights, biases, requantisation data\n"
            " *   flash, schedule    %zu bytes: the step table\n",
            n, o->model_path ? o->model_path : "a model", o->schedule ? o->schedule : "?", p->n_steps, fg->n_tpl,
            o->target ? o->target : "host", p->arena_bytes ? p->arena_bytes : 1, u,
            o->caller_arena ? "passed by the caller, aligned to 16 bytes" : "a static array in .bss",
            p->lower_bound, fg->const_bytes, fg->table_bytes);
    print_device_figures(&fg->dev, n, f);
    if (o->figures_note && *o->figures_note) fputs(o->figures_note, f);
    fputs(" *\n", f);
    for (int32_t k = 0; k < g->n_inputs; k++) io_comment(f, &g->tensors[g->inputs[k]], "input", k);
    for (int32_t k = 0; k < g->n_outputs; k++) io_comment(f, &g->tensors[g->outputs[k]], "output", k);
    fprintf(f,
            " *\n"
            " * Build %s.c with the pexc runtime sources next to it (pexc_kernels.h\n"
            " * and the .c files pexc copied here), C11, and -ffp-contract=off: the float\n"
            " * kernels must not fuse multiply-adds to stay bit-exact with TFLite Micro.\n"
            " * CMakeLists.txt here does this: add_subdirectory() it and link %s.\n"
            " * The generated code calls no libc function beyond memcpy and memmove and\n"
            " * never allocates.\n",
            n, n);
    if (o->caller_arena)
        fprintf(f, " * Each call takes its arena: runs on different arenas may overlap in time.\n");
    else
        fprintf(f, " * %s_run*() use one static arena: not reentrant.\n", n);
    const char *tf = target_flags(o->target);
    if (tf) fprintf(f, " * For %s: arm-none-eabi-gcc %s -O2.\n", o->target, tf);
    fprintf(f,
            " */\n"
            "#ifndef %s_H\n#define %s_H\n\n#include <stddef.h>\n#include <stdint.h>\n\n"
            "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n",
            u, u);
    fprintf(f, "#define %s_ARENA_BYTES %zu\n", u, p->arena_bytes ? p->arena_bytes : 1);
    if (o->caller_arena) fprintf(f, "#define %s_ARENA_ALIGN 16\n", u);
    fprintf(f, "#define %s_NUM_INPUTS %d\n#define %s_NUM_OUTPUTS %d\n", u, g->n_inputs, u, g->n_outputs);
    for (int32_t k = 0; k < g->n_inputs; k++)
        fprintf(f, "#define %s_INPUT%d_BYTES %zu\n", u, k, g->tensors[g->inputs[k]].bytes);
    for (int32_t k = 0; k < g->n_outputs; k++)
        fprintf(f, "#define %s_OUTPUT%d_BYTES %zu\n", u, k, g->tensors[g->outputs[k]].bytes);
    int single = g->n_inputs == 1 && g->n_outputs == 1;
    if (single)
        fprintf(f, "#define %s_INPUT_BYTES %s_INPUT0_BYTES\n#define %s_OUTPUT_BYTES %s_OUTPUT0_BYTES\n", u, u, u, u);
    fprintf(f, "\n/* Runs one inference: ");
    if (o->caller_arena)
        fprintf(f, "arena points to %s_ARENA_BYTES bytes aligned to %s_ARENA_ALIGN\n"
                   " * (its contents need not be kept between runs); ", u, u);
    fprintf(f,
            "inputs[i] holds %s_INPUTi_BYTES bytes of input i\n"
            " * (raw tensor bytes, row-major, little-endian), outputs[i] receives output i.\n"
            " * Returns 0, or the non-zero pexc_status of the first kernel that failed%s. */\n"
            "int %s_run_io(%sconst void *const *inputs, void *const *outputs);\n",
            u, o->caller_arena ? " (or\n * 1, PEXC_ERR_ARG, for an arena that is NULL or not aligned)" : "", n, arg);
    if (single)
        fprintf(f, "/* The same for this single-input, single-output model. */\n"
                   "int %s_run(%sconst void *input, void *output);\n", n, arg);
    if (has_state(g, p))
        fprintf(f,
                "/* Operator state (an LSTM's hidden and cell state) carries from one run to\n"
                " * the next, as across TFLite Micro Invoke() calls; the first run starts\n"
                " * from its initial value. This puts it back there (TFLM's Reset()). */\n"
                "void %s_reset(%s);\n#define %s_HAS_STATE 1\n",
                n, o->caller_arena ? "void *arena" : "void", u);
    if (g->stream_input || g->stream_output) emit_stream_header(g, calls, p, n, u, o->caller_arena, f);
    fprintf(f, "\n#ifdef __cplusplus\n}\n#endif\n#endif /* %s_H */\n", u);
}

/* ---- entry points ------------------------------------------------------- */

static const char *kernel_of(const plan_t *p, const k_call *k, const plan_step *st, const char *target) {
    if (k->kind == K_FC && st->mode != STEP_FINISH && emit_fc_il(k, p, target))
        return st->mode == STEP_ACC ? "pexc_fully_connected_s8_il_acc" : "pexc_fully_connected_s8_il";
    if (st->mode == STEP_FINISH && k->kind == K_FC_F32) return "pexc_fully_connected_f32_finish";
    if (st->mode == STEP_ACC && k->kind == K_FC_F32) return "pexc_fully_connected_f32_acc";
    if (st->mode == STEP_FINISH) return k->kind == K_AVGPOOL ? "pexc_avg_pool_s8_finish" : "pexc_requant_s32_s8";
    if (st->mode == STEP_ACC && k->kind == K_AVGPOOL) return "pexc_avg_pool_s8_acc";
    if (st->mode == STEP_ACC)
        return k->kind == K_FC       ? "pexc_fully_connected_s8_acc"
               : k->kind == K_DWCONV ? "pexc_depthwise_conv2d_s8_acc"
                                     : "pexc_conv2d_s8_acc";
    switch (k->kind) {
    case K_NOP: return NULL;
    case K_CONV: return "pexc_conv2d_s8";
    case K_DWCONV: return "pexc_depthwise_conv2d_s8";
    case K_FC: return "pexc_fully_connected_s8";
    case K_FC_F32: return "pexc_fully_connected_f32";
    case K_AVGPOOL: return "pexc_avg_pool_s8";
    case K_MAXPOOL: return "pexc_max_pool_s8";
    case K_ADD: return "pexc_add_s8";
    case K_MUL: return "pexc_mul_s8";
    case K_PAD: return "pexc_pad_s8";
    case K_SOFTMAX: return "pexc_softmax_s8";
    case K_LOGISTIC: return "pexc_logistic_s8";
    case K_MEAN: return "pexc_mean_hw_s8";
    case K_REQUANT: return "pexc_requantize_s8";
    case K_QUANT_F32: return "pexc_quantize_f32_s8";
    case K_DEQUANT_F32: return "pexc_dequantize_s8_f32";
    case K_TRANSPOSE:
        return plan_step_tiled_transpose(k, st) ? "pexc_transpose_s8_tile" : "pexc_transpose";
    case K_CONCAT: return "pexc_concat";
    case K_LUT: return "pexc_lut_s8";
    case K_GENERIC: return plan_step_seq(p, k, st) ? ops_steps_of(k)->fn : k->gen->fn;
    }
    return NULL;
}

int32_t emit_kernels_used(const k_call *calls, const plan_t *p, const char *target, const char **names,
                          int32_t max) {
    int32_t n = 0;
    for (int32_t s = 0; s < p->n_steps; s++) {
        const char *kn = kernel_of(p, &calls[p->steps[s].call], &p->steps[s], target);
        if (!kn) continue;
        int seen = 0;
        for (int32_t i = 0; i < n && !seen; i++) seen = !strcmp(names[i], kn);
        if (!seen && n < max) names[n++] = kn;
    }
    return n;
}

int emit_model(const ir_graph *g, const k_call *calls, const plan_t *p, const emit_options *o, FILE *h, FILE *c,
               util_err *err) {
    if (plan_verify(g, calls, p, err)) return -1;
    util_arena a;
    util_arena_init(&a, (size_t)1 << 30);
    ectx e = {.f = c, .name = o->name, .g = g, .calls = calls, .p = p, .a = &a, .err = err,
              .caller_arena = o->caller_arena, .target = o->target};
    int rc = -1;
    e.op_done = util_alloc(&a, (size_t)g->n_ops + 1);
    e.fc_il_ref = util_alloc(&a, sizeof(const char *) * ((size_t)g->n_ops + 1));
    if (!e.op_done || !e.fc_il_ref) {
        util_fail(err, "out of memory");
        goto done;
    }
    const char *n = o->name;
    char ub[200];
    const char *u = upper(n, ub, sizeof ub);
    fprintf(c,
            "/*\n * %s.c: generated by pexc from %s. Do not edit.\n"
            " * Schedule %s (%d steps), target %s; see %s.h for the interface.\n"
            " * Build with -std=c11 -ffp-contract=off (float kernels must not fuse\n"
            " * multiply-adds).\n */\n"
            "#include <stdint.h>\n#include <string.h>\n\n#include \"pexc_kernels.h\"\n#include \"%s.h\"\n\n",
            n, o->model_path ? o->model_path : "a model", o->schedule ? o->schedule : "?", p->n_steps,
            o->target ? o->target : "host", n, n);
    if (!o->caller_arena)
        fprintf(c,
                "/* Every activation buffer of the plan, at its planned offset (SRAM). */\n"
                "static uint8_t %s_arena[%s_ARENA_BYTES] __attribute__((aligned(16)));\n\n",
                n, u);

    /* pass 1: constants, in order of first use */
    for (int32_t s = 0; s < p->n_steps; s++) {
        const plan_step *st = &p->steps[s];
        const k_call *k = &calls[st->call];
        for (int j = 0; j < 2; j++)
            if (st->in[j].tensor >= 0 && st->in[j].buf < 0 && !emit_const_tensor(&e, st->in[j].tensor))
                goto done;
        if (k->kind == K_NOP && k->in[0] >= 0 && g->tensors[k->in[0]].data && !emit_const_tensor(&e, k->in[0]))
            goto done;
        if (k->kind == K_TRANSPOSE && g->tensors[k->in[0]].data && !emit_const_tensor(&e, k->in[0])) goto done;
        for (int32_t i = 0; (k->kind == K_CONCAT || k->kind == K_GENERIC) && i < k->n_whole; i++)
            if (g->tensors[k->whole_in[i]].data && !emit_const_tensor(&e, k->whole_in[i])) goto done;
        if (e.op_done[k->op]) continue;
        e.op_done[k->op] = 1;
        if (emit_op_params(&e, k)) goto done;
    }
    for (int32_t i = 0; i < g->n_outputs; i++)
        if (g->tensors[g->outputs[i]].data && !emit_const_tensor(&e, g->outputs[i])) goto done;

    /* pass 2: the step table, then the function */
    sbuf sb = {0};
    e.sb = &sb;
    emit_table tb = {0};
    int bad = build_table(&e, &tb);
    free(sb.s);
    if (bad) goto done;
    print_table(&e, &tb);
    int state = has_state(g, p);
    if (state) emit_reset(g, p, n, o->caller_arena, c);
    int init = state && has_init(g, p);
    if (init) emit_init_data(g, p, n, c);
    /* streamed input: NAME_run_stream reads through the caller's function,
     * NAME_run_io is it with a reader of whole input arrays */
    int stream = g->stream_input || g->stream_output, wout = g->stream_output;
    if (stream && emit_stream_tables(g, calls, p, n, c, err)) goto done;
    if (wout) {
        /* streamed output: NAME_run_stream hands the outputs to write */
        if (o->caller_arena)
            fprintf(c,
                    "\nint %s_run_stream(void *arena, %s_read_fn read, %s_write_fn write, void *ctx) {\n"
                    "    /* every activation buffer of the plan, at its planned offset */\n"
                    "    uint8_t *const %s_arena = (uint8_t *)arena;\n"
                    "    if (!arena || (uintptr_t)arena %% %s_ARENA_ALIGN != 0) return (int)PEXC_ERR_ARG;\n",
                    n, n, n, n, u);
        else
            fprintf(c, "\nint %s_run_stream(%s_read_fn read, %s_write_fn write, void *ctx) {\n", n, n, n);
    } else if (stream && o->caller_arena)
        fprintf(c,
                "\nint %s_run_stream(void *arena, %s_read_fn read, void *ctx, void *const *outputs) {\n"
                "    /* every activation buffer of the plan, at its planned offset */\n"
                "    uint8_t *const %s_arena = (uint8_t *)arena;\n"
                "    if (!arena || (uintptr_t)arena %% %s_ARENA_ALIGN != 0) return (int)PEXC_ERR_ARG;\n",
                n, n, n, u);
    else if (stream)
        fprintf(c, "\nint %s_run_stream(%s_read_fn read, void *ctx, void *const *outputs) {\n", n, n);
    else if (o->caller_arena)
        fprintf(c,
                "\nint %s_run_io(void *arena, const void *const *inputs, void *const *outputs) {\n"
                "    /* every activation buffer of the plan, at its planned offset */\n"
                "    uint8_t *const %s_arena = (uint8_t *)arena;\n"
                "    if (!arena || (uintptr_t)arena %% %s_ARENA_ALIGN != 0) return (int)PEXC_ERR_ARG;\n",
                n, n, u);
    else
        fprintf(c, "\nint %s_run_io(const void *const *inputs, void *const *outputs) {\n", n);
    if (state) fprintf(c, "    if (!%s_state_ready) %s_reset(%s);\n", n, n, o->caller_arena ? "arena" : "");
    if (init) emit_init_run(g, p, n, c);
    if (stream) emit_stream_open(g, n, c);
    char expr[256];
    size_t off;
    int ia;
    for (int32_t i = 0; i < g->n_inputs; i++) {
        int32_t ti = g->inputs[i];
        if (!g->tensors[ti].data && p->tensor_buffer[ti] < 0) {
            if (!stream) fprintf(c, "    (void)inputs[%d]; /* input %d is not read by any operator */\n", i, i);
            continue; /* (streamed: read into its ring in the loop) */
        }
        if (g->tensors[ti].data) {
            util_fail(err, "input %d (tensor %d) is a constant; it cannot be given at run time", i, ti);
            goto done;
        }
        if (tensor_expr(&e, ti, expr, sizeof expr, &off, &ia)) goto done;
        const ir_tensor *ti_t = &g->tensors[ti];
        if (g->input_planar && g->input_planar[i]) {
            /* given as channel planes, held NHWC: the folded TRANSPOSE
             * (src/ir/fold.c) is this copy */
            int32_t pc = ti_t->shape[1], ph = ti_t->shape[2], pw = ti_t->shape[3];
            if (stream)
                fprintf(c,
                        "    for (int32_t h = 0; h < %d; h++) { /* input %d held whole: row h of each plane */\n"
                        "        uint8_t *const dst = %s + (size_t)h * %du;\n"
                        "        for (int32_t k = 0; k < %d; k++)\n"
                        "            if ((rc = read(ctx, %d, k * %d + h * %d, %d, dst + (size_t)k * %du)) != 0) return rc;\n"
                        "        %s_interleave(dst, %d, %d);\n    }\n",
                        ph, i, expr, pw * pc, pc, i, ph * pw, pw, pw, pw, n, pc, pw);
            else
                fprintf(c,
                        "    { /* input %d: tensor %d, given as %d channel planes, held NHWC */\n"
                        "        const uint8_t *const src = (const uint8_t *)inputs[%d];\n"
                        "        uint8_t *const dst = %s;\n"
                        "        for (size_t k = 0; k < %du; k++)\n"
                        "            for (size_t q = 0; q < %du; q++) dst[q * %du + k] = src[k * %du + q];\n    }\n",
                        i, ti, pc, i, expr, pc, ph * pw, pc, ph * pw);
        } else if (stream)
            fprintf(c, "    if ((rc = read(ctx, %d, 0, %s_INPUT%d_PIXELS, %s)) != 0) return rc; /* input %d held whole */\n",
                    i, u, i, expr, i);
        else
            fprintf(c, "    memcpy(%s, inputs[%d], %zu); /* input %d: tensor %d */\n", expr, i, g->tensors[ti].bytes,
                    i, ti);
    }
    print_dispatch(&e, &tb, stream ? emit_stream_prologue(g, n) : NULL, wout ? emit_stream_out_epilogue(n) : NULL);
    for (int32_t i = 0; !wout && i < g->n_outputs; i++) {
        int32_t ti = g->outputs[i];
        if (tensor_expr(&e, ti, expr, sizeof expr, &off, &ia)) goto done;
        fprintf(c, "    memcpy(outputs[%d], %s, %zu); /* output %d: tensor %d */\n", i, expr, g->tensors[ti].bytes, i,
                ti);
    }
    fputs("    return 0;\n}\n", c);
    if (wout)
        fprintf(c,
                "\nint %s_run_io(%sconst void *const *inputs, void *const *outputs) {\n"
                "    const %s_io io = {inputs, outputs};\n"
                "    return %s_run_stream(%s%s_read_whole, %s_write_whole, (void *)(uintptr_t)&io);\n}\n",
                n, o->caller_arena ? "void *arena, " : "", n, n, o->caller_arena ? "arena, " : "", n, n);
    else if (stream && o->caller_arena)
        fprintf(c,
                "\nint %s_run_io(void *arena, const void *const *inputs, void *const *outputs) {\n"
                "    return %s_run_stream(arena, %s_read_whole, (void *)(uintptr_t)inputs, outputs);\n}\n",
                n, n, n);
    else if (stream)
        fprintf(c,
                "\nint %s_run_io(const void *const *inputs, void *const *outputs) {\n"
                "    return %s_run_stream(%s_read_whole, (void *)(uintptr_t)inputs, outputs);\n}\n",
                n, n, n);
    if (g->n_inputs == 1 && g->n_outputs == 1)
        fprintf(c,
                "\nint %s_run(%sconst void *input, void *output) {\n"
                "    const void *inputs[1] = {input};\n    void *outputs[1] = {output};\n"
                "    return %s_run_io(%sinputs, outputs);\n}\n",
                n, o->caller_arena ? "void *arena, " : "", n, o->caller_arena ? "arena, " : "");
    emit_figures fg = {.n_tpl = tb.n_tpl, .table_bytes = (size_t)p->n_steps * 3 * (size_t)tb.row_field_bytes};
    for (int32_t i = 0; i < e.n_consts; i++) fg.const_bytes += e.consts[i].bytes;
    const char *kernels[64];
    int32_t nk = emit_kernels_used(calls, p, o->target, kernels, 64);
    fg.dev.weight_bytes = fg.const_bytes + fg.table_bytes;
    emit_figures_device(o->target, kernels, nk, tb.n_tpl, &fg.dev);
    if (o->figures_out) *o->figures_out = fg.dev;
    emit_header(g, calls, p, o, &fg, h);
    rc = 0;
done:
    util_arena_free(&a);
    return rc;
}
