/*
 * The remaining small operators: LOGICAL_NOT on bools and
 * DYNAMIC_UPDATE_SLICE, each a whole-tensor K_GENERIC call with the types
 * and checks of TFLM's kernels (elementwise.cc, dynamic_update_slice.cc).
 * The float-only element-wise functions (EXP, LOG, ...) are the float
 * family's.
 */
#include <string.h>

#include "ops/ops.h"

#define FAIL(...) return util_fail(c->err, __VA_ARGS__)

int ops_misc_known(int32_t code) { return code == OP_LOGICAL_NOT || code == OP_DYNAMIC_UPDATE_SLICE; }

static int emit_not(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_logical_not_params *p = k->gen_params;
    emit_printf(e, "static const pexc_logical_not_params %s = {%d};\n", var, p->n);
    return 0;
}

static int emit_dus(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_dynamic_update_slice_params *p = k->gen_params;
    emit_printf(e, "static const pexc_dynamic_update_slice_params %s = {\n    .rank = %d, .elem_size = %d, .index_bytes = %d,",
                var, p->rank, p->elem_size, p->index_bytes);
    emit_int_field(e, "dims", p->dims, 6);
    emit_int_field(e, "upd_dims", p->upd_dims, 6);
    emit_int_field(e, "out_stride", p->out_stride, 6);
    emit_printf(e, "\n    .operand_elems = %d, .update_rows = %d,\n};\n", p->operand_elems, p->update_rows);
    return 0;
}

OPS_KERNEL(k_not, pexc_logical_not, pexc_logical_not_params, emit_not);
OPS_KERNEL(k_dus, pexc_dynamic_update_slice, pexc_dynamic_update_slice_params, emit_dus);

static int lower_not(lower_ctx *c, k_call *k) {
    ir_tensor *in = lower_in(c, 0), *out = &c->g->tensors[c->op->out[0]];
    if (lower_need(c, in, 0, "input", IR_BOOL, 0) || lower_need(c, out, 0, "output", IR_BOOL, 0)) return -1;
    if (in->elems != out->elems || in->elems > INT32_MAX)
        FAIL("operator %d (%s): input tensor %d has %lld elements, output tensor %d has %lld", c->op->index,
             c->name, in->index, (long long)in->elems, out->index, (long long)out->elems);
    pexc_logical_not_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    p->n = (int32_t)in->elems;
    return ops_generic(c, k, &k_not, p, &in->index, 1);
}

static int32_t dus_elem_size(int32_t type) {
    switch (type) {
    case IR_F32: case IR_I32: return 4;
    case IR_I16: return 2;
    case IR_I8: return 1;
    default: return 0;
    }
}

static int lower_dus(lower_ctx *c, k_call *k) {
    ir_op *op = c->op;
    if (op->n_in != 3)
        FAIL("operator %d (%s): %d inputs; TFLM requires 3 (operand, update, start indices)", op->index, c->name,
             op->n_in);
    ir_tensor *a = lower_in(c, 0), *u = lower_in(c, 1), *s = lower_in(c, 2), *out = &c->g->tensors[op->out[0]];
    if (!a || !u || !s) FAIL("operator %d (%s): an input is missing", op->index, c->name);
    int32_t es = dus_elem_size(a->type);
    if (!es)
        FAIL("operator %d (%s): operand tensor %d has type %d; TFLM takes float32, int8, int16 or int32",
             op->index, c->name, a->index, a->type);
    if (lower_need(c, u, 1, "update", a->type, 0) || lower_need(c, out, 0, "output", a->type, 0)) return -1;
    if (s->type != IR_I32 && s->type != IR_I64)
        FAIL("operator %d (%s): start indices tensor %d has type %d; TFLM takes int32 or int64", op->index,
             c->name, s->index, s->type);
    if (s->rank != 1 || s->shape[0] != a->rank)
        FAIL("operator %d (%s): start indices tensor %d must be 1-D with %d values (the operand's rank)",
             op->index, c->name, s->index, a->rank);
    if (u->rank != a->rank)
        FAIL("operator %d (%s): update tensor %d has rank %d, the operand %d", op->index, c->name, u->index,
             u->rank, a->rank);
    if (a->rank > 6) FAIL("operator %d (%s): operand of rank %d above 6", op->index, c->name, a->rank);
    if (out->rank != a->rank || memcmp(out->shape, a->shape, sizeof(int32_t) * (size_t)a->rank))
        FAIL("operator %d (%s): output tensor %d does not have the operand's shape", op->index, c->name,
             out->index);
    if (a->elems > INT32_MAX) FAIL("operator %d (%s): too many elements", op->index, c->name);
    pexc_dynamic_update_slice_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    memset(p, 0, sizeof *p);
    for (int32_t d = 0; d < a->rank; d++)
        if (u->shape[d] > a->shape[d] || u->shape[d] < 0)
            FAIL("operator %d (%s): update tensor %d axis %d has extent %d, above the operand's %d", op->index,
                 c->name, u->index, d, u->shape[d], a->shape[d]);
    /* a rank-0 operand is one element: rank 1 of extent 1 for the kernel */
    p->rank = a->rank ? a->rank : 1;
    p->elem_size = es;
    p->index_bytes = s->type == IR_I64 ? 8 : 4;
    for (int32_t d = 0; d < p->rank; d++) {
        p->dims[d] = a->rank ? a->shape[d] : 1;
        p->upd_dims[d] = a->rank ? u->shape[d] : 1;
    }
    int32_t st = 1;
    for (int32_t d = p->rank - 1; d >= 0; d--) {
        p->out_stride[d] = st;
        st *= p->dims[d];
    }
    p->operand_elems = (int32_t)a->elems;
    p->update_rows = p->upd_dims[p->rank - 1] ? (int32_t)(u->elems / p->upd_dims[p->rank - 1]) : 0;
    int32_t ts[3] = {a->index, u->index, s->index};
    return ops_generic(c, k, &k_dus, p, ts, 3);
}

int ops_misc_lower(lower_ctx *c, k_call *k) {
    switch (c->op->code) {
    case OP_LOGICAL_NOT: return lower_not(c, k);
    case OP_DYNAMIC_UPDATE_SLICE: return lower_dus(c, k);
    default: return 1;
    }
}
