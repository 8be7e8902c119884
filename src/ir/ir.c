/* Graph IR: names, sizes, structural checks and MAC counts. */
#include <stdio.h>
#include <string.h>

#include "internal.h"

const char *ir_op_name(int32_t code) {
    static const char *const names[] = {
#define PEXC_OP(code, name) [code] = #name,
#include "ir/builtin_ops.def"
#undef PEXC_OP
    };
    if (code >= 0 && (size_t)code < sizeof names / sizeof names[0] && names[code]) return names[code];
    return "UNKNOWN_OP";
}

/* Operators whose outputs are independent pieces of their input (and
 * custom operators of a family, whose outputs it computes one at a time):
 * each output becomes an operator of its own, so every later stage sees
 * single-output operators. */
static int is_multi_output(const ir_op *op) {
    if (op->code == OP_CUSTOM) return op->n_out > 1 && ops_custom_known(op->custom_name);
    return (op->code == OP_SPLIT || op->code == OP_SPLIT_V || op->code == OP_UNPACK) && op->n_out > 1;
}

int ir_expand(ir_graph *g, util_err *err) {
    int64_t n = 0;
    for (int32_t i = 0; i < g->n_ops; i++) n += is_multi_output(&g->ops[i]) ? g->ops[i].n_out : 1;
    if (n == g->n_ops) return 0;
    if (n > 20000) return util_fail(err, "model expands to %lld single-output operators; limit 20000", (long long)n);
    ir_op *ops = util_alloc(&g->arena, sizeof(ir_op) * (size_t)n);
    if (!ops) return util_fail(err, "out of memory");
    int32_t at = 0;
    for (int32_t i = 0; i < g->n_ops; i++) {
        const ir_op *op = &g->ops[i];
        int32_t parts = is_multi_output(op) ? op->n_out : 1;
        for (int32_t k = 0; k < parts; k++) {
            ir_op *o = &ops[at];
            *o = *op;
            o->index = at++;
            if (parts > 1) {
                o->out = op->out + k;
                o->n_out = 1;
                o->part = k;
                o->n_parts = parts;
            }
        }
    }
    g->ops = ops;
    g->n_ops = (int32_t)n;
    /* operator state the model file has no tensor for (signal_state.c) */
    return ops_signal_add_state(g, err);
}

const char *ir_type_name(int32_t type) {
    static const char *n[] = {"float32", "float16", "int32", "uint8", "int64", "string", "bool", "int16",
                              "complex64", "int8", "float64", "complex128", "uint64", "resource", "variant",
                              "uint32", "uint16"};
    return type >= 0 && type <= 16 ? n[type] : "unknown-type";
}

size_t ir_type_size(int32_t type) {
    switch (type) {
    case IR_F32: case IR_I32: case IR_U32: return 4;
    case IR_I8: case IR_U8: case IR_BOOL: return 1;
    case IR_I16: case IR_F16: case IR_U16: return 2;
    case IR_I64: case IR_F64: case IR_U64: return 8;
    default: return 0;
    }
}

/* Every operator reads only tensors that exist before it runs: constants,
 * graph inputs or outputs of earlier operators (TFLite stores operators in
 * execution order). This also rules out cycles. */
int ir_check(ir_graph *g, util_err *err) {
    if (g->n_inputs < 1 || g->n_outputs < 1)
        return util_fail(err, "subgraph has %d inputs and %d outputs; need at least one of each", g->n_inputs,
                         g->n_outputs);
    for (int32_t i = 0; i < g->n_inputs; i++) {
        if (g->inputs[i] < 0) return util_fail(err, "subgraph input %d is -1", i);
        g->tensors[g->inputs[i]].is_input = 1;
    }
    for (int32_t i = 0; i < g->n_outputs; i++) {
        if (g->outputs[i] < 0) return util_fail(err, "subgraph output %d is -1", i);
        g->tensors[g->outputs[i]].is_output = 1;
    }
    for (int32_t i = 0; i < g->n_tensors; i++) {
        ir_tensor *t = &g->tensors[i];
        t->producer = -1;
        if (t->is_input && t->data)
            return util_fail(err, "tensor %d (%s) is both a graph input and a constant", i, t->name);
        if (t->is_variable && (t->is_input || t->is_output))
            return util_fail(err, "tensor %d (%s) is both a graph %s and a variable (operator state)", i, t->name,
                             t->is_input ? "input" : "output");
    }
    for (int32_t o = 0; o < g->n_ops; o++) {
        ir_op *op = &g->ops[o];
        for (int32_t k = 0; k < op->n_out; k++) {
            int32_t ti = op->out[k];
            if (ti < 0) return util_fail(err, "operator %d (%s): output %d is -1", o, ir_op_name(op->code), k);
            ir_tensor *t = &g->tensors[ti];
            /* ASSIGN_VARIABLE (a resource variable, see reader.c) is the one
             * operator that writes a variable tensor as its output */
            int state_ok = t->is_variable && op->code == OP_ASSIGN_VARIABLE;
            if (t->data || t->is_input || (t->is_variable && !state_ok) || t->producer >= 0)
                return util_fail(err, "operator %d (%s): output tensor %d (%s) is already %s", o,
                                 ir_op_name(op->code), ti, t->name,
                                 t->data         ? "a constant"
                                 : t->is_input   ? "a graph input"
                                 : t->is_variable ? "a variable (operator state)"
                                                 : "written by an earlier operator");
            t->producer = o;
        }
        for (int32_t k = 0; k < op->n_in; k++) {
            int32_t ti = op->in[k];
            if (ti < 0) continue;
            ir_tensor *t = &g->tensors[ti];
            if (!t->data && !t->is_input && !t->is_variable && (t->producer < 0 || t->producer == o))
                return util_fail(err, "operator %d (%s): input tensor %d (%s) is read before any operator writes it",
                                 o, ir_op_name(op->code), ti, t->name);
        }
    }
    for (int32_t i = 0; i < g->n_outputs; i++) {
        ir_tensor *t = &g->tensors[g->outputs[i]];
        if (t->producer < 0 && !t->is_input)
            return util_fail(err, "graph output tensor %d (%s) is never written", t->index, t->name);
    }
    return 0;
}

int64_t ir_op_macs(const ir_graph *g, const ir_op *op) {
    if (op->n_in < 2 || op->n_out < 1 || op->in[0] < 0 || op->in[1] < 0 || op->out[0] < 0) return 0;
    const ir_tensor *in = &g->tensors[op->in[0]];
    const ir_tensor *w = &g->tensors[op->in[1]];
    const ir_tensor *out = &g->tensors[op->out[0]];
    switch (op->code) {
    case OP_CONV_2D: /* out elems * kh * kw * cin */
        if (w->rank != 4) return 0;
        return out->elems * w->shape[1] * w->shape[2] * w->shape[3];
    case OP_DEPTHWISE_CONV_2D:
        if (w->rank != 4) return 0;
        return out->elems * w->shape[1] * w->shape[2];
    case OP_FULLY_CONNECTED:
        if (w->rank != 2) return 0;
        return out->elems * w->shape[1];
    case OP_UNIDIRECTIONAL_SEQUENCE_LSTM: /* per output value: 4 gates x (input + state) terms */
        if (w->rank != 2) return 0;
        return out->elems * 4 * ((int64_t)w->shape[1] + w->shape[0]);
    case OP_TRANSPOSE_CONV: { /* input elems * kh * kw * cout, taps falling outside the output included */
        if (op->n_in < 3 || op->in[2] < 0 || w->rank != 4) return 0;
        return g->tensors[op->in[2]].elems * w->shape[1] * w->shape[2] * w->shape[0];
    }
    case OP_BATCH_MATMUL: { /* out elems * depth; depth = lhs matrix size / output rows */
        if (in->rank < 2 || out->rank < 2 || out->shape[out->rank - 2] < 1) return 0;
        int64_t m = (int64_t)in->shape[in->rank - 2] * in->shape[in->rank - 1];
        return out->elems * (m / out->shape[out->rank - 2]);
    }
    default: return 0;
    }
}
