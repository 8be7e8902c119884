/*
 * Resource variables: READ_VARIABLE and ASSIGN_VARIABLE.
 *
 * By the time lowering runs, the reader has turned every resource variable
 * into a variable tensor of the main graph and dropped VAR_HANDLE and
 * CALL_ONCE (see "resource variables" in src/reader/reader.c). What is left
 * is two copies: READ_VARIABLE copies the variable tensor into its output,
 * ASSIGN_VARIABLE copies its value into the variable tensor, which is its
 * one output. Both are whole-tensor byte copies of equal sizes, as TFLM's
 * MicroResourceVariables::Read and Assign memcpy the variable's bytes.
 */
#include <string.h>

#include "ops/ops.h"

#define FAIL(...) return util_fail(c->err, __VA_ARGS__)

static int emit_copy(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_state_copy_params *p = k->gen_params;
    emit_printf(e, "static const pexc_state_copy_params %s = {.bytes = %d};\n", var, p->bytes);
    return 0;
}

OPS_KERNEL(kernel_copy, pexc_state_copy, pexc_state_copy_params, emit_copy);

/* VAR_HANDLE and CALL_ONCE count as known: the reader folds them away, so
 * they reach lowering only in a graph the reader did not rewrite. */
int ops_resvar_known(int32_t code) {
    return code == OP_READ_VARIABLE || code == OP_ASSIGN_VARIABLE || code == OP_VAR_HANDLE || code == OP_CALL_ONCE;
}

int ops_resvar_lower(lower_ctx *c, k_call *k) {
    /* messages name the model's operator index: the reader dropped
     * VAR_HANDLE and CALL_ONCE, so op->index is a position (reader.c) */
    const ir_op *op = c->op;
    if (!ops_resvar_known(op->code)) return 1;
    if (op->code == OP_VAR_HANDLE || op->code == OP_CALL_ONCE)
        FAIL("operator %d (%s): not folded by the reader", op->src_index, c->name);
    /* the reader leaves both as one input, one output (reader.c) */
    if (op->n_in != 1 || op->n_out != 1 || op->in[0] < 0)
        FAIL("operator %d (%s): resource operator not rewritten by the reader", op->src_index, c->name);
    const ir_tensor *in = &c->g->tensors[op->in[0]], *out = &c->g->tensors[op->out[0]];
    /* TFLM checks the sizes only in debug builds and otherwise copies the
     * variable's size whatever the other tensor holds: refuse the mismatch */
    if (in->bytes != out->bytes || in->type != out->type)
        FAIL("operator %d (%s): tensor %d (%s) is %s of %zu bytes, tensor %d (%s) %s of %zu bytes; the variable and "
             "its value must have one type and size",
             op->src_index, c->name, in->index, in->name, ir_type_name(in->type), in->bytes, out->index, out->name,
             ir_type_name(out->type), out->bytes);
    if (in->bytes > INT32_MAX)
        FAIL("operator %d (%s): %zu bytes exceed the kernel's int32 size", op->src_index, c->name, in->bytes);
    pexc_state_copy_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    p->bytes = (int32_t)in->bytes;
    int32_t t = in->index;
    return ops_generic(c, k, &kernel_copy, p, &t, 1);
}
