/*
 * The table of operator families, and what they share: a K_GENERIC call
 * reading whole tensors, memory from the model's arena.
 */
#include <string.h>

#include "ops/ops.h"

static const struct {
    int (*known)(int32_t code);
    int (*lower)(lower_ctx *c, k_call *k);
} families[] = {
    {ops_lut_known, ops_lut_lower},
    {ops_binary_known, ops_binary_lower},
    /* ---- data movement (move.c) ---- */
    /* ---- reductions (reduce.c) ---- */
    /* ---- resize, transpose conv, batch matmul (spatial.c) ---- */
    /* ---- sequences, state (seq.c) ---- */
    /* ---- float32 (float.c) ---- */
    /* ---- int16 (int16.c) ---- */
};

#define N_FAMILIES (sizeof families / sizeof families[0])

int ops_known(int32_t code) {
    for (size_t i = 0; i < N_FAMILIES; i++)
        if (families[i].known(code)) return 1;
    return 0;
}

int ops_lower(ir_graph *g, ir_op *op, k_call *k, util_err *err) {
    lower_ctx c = {g, op, err, ir_op_name(op->code)};
    for (size_t i = 0; i < N_FAMILIES; i++)
        if (families[i].known(op->code)) return families[i].lower(&c, k);
    return 1;
}

void *ops_alloc(lower_ctx *c, size_t bytes) {
    void *p = util_alloc(&c->g->arena, bytes ? bytes : 1);
    if (!p) util_fail(c->err, "operator %d (%s): out of memory", c->op->index, c->name);
    return p;
}

int ops_generic(lower_ctx *c, k_call *k, const ops_kernel *kn, const void *params, const int32_t *tensors,
                int32_t n) {
    if (n > 64)
        return util_fail(c->err, "operator %d (%s): %d inputs; at most 64 are supported", c->op->index, c->name, n);
    k->kind = K_GENERIC;
    k->gen = kn;
    k->gen_params = params;
    k->n_whole = n;
    k->whole_in = ops_alloc(c, sizeof(int32_t) * (size_t)(n ? n : 1));
    if (!k->whole_in) return -1;
    if (n) memcpy(k->whole_in, tensors, sizeof(int32_t) * (size_t)n);
    /* the first activation input is the step's operand 0, for the planner */
    k->in[0] = -1;
    k->in[1] = -1;
    for (int32_t i = 0; i < n; i++)
        if (!c->g->tensors[tensors[i]].data) {
            k->in[0] = tensors[i];
            lower_nhwc(&c->g->tensors[tensors[i]], k->in_dims[0]);
            break;
        }
    return 0;
}
