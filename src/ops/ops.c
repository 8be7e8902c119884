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
    /* type-specific families first: they claim only operators on their type */
    {ops_float_known, ops_float_lower},
    {ops_lut_known, ops_lut_lower},
    /* ---- element-wise binary (binary.c) ---- */
    /* ---- data movement (move.c) ---- */
    /* ---- reductions (reduce.c) ---- */
    /* ---- resize, transpose conv, batch matmul (spatial.c) ---- */
    /* ---- sequences, state (seq.c) ---- */
    /* ---- int16 (int16.c) ---- */
    /* last: its builtins (int32 arithmetic, CAST, STRIDED_SLICE) are the
     * minimum the audio front end needs; the families above cover more */
    {ops_signal_known, ops_signal_lower},
};

/* CUSTOM operators, by name */
static const struct {
    int (*known)(const char *name);
    int (*lower)(lower_ctx *c, k_call *k);
} custom_families[] = {
    {ops_signal_custom_known, ops_signal_lower},
};

#define N_CUSTOM (sizeof custom_families / sizeof custom_families[0])

#define N_FAMILIES (sizeof families / sizeof families[0])

int ops_known(int32_t code) {
    for (size_t i = 0; i < N_FAMILIES; i++)
        if (families[i].known(code)) return 1;
    return 0;
}

/* The first family that takes the operator lowers it; a family may decline
 * (1) an operator it knows on a type it does not handle. */
int ops_custom_known(const char *name) {
    for (size_t i = 0; name && i < N_CUSTOM; i++)
        if (custom_families[i].known(name)) return 1;
    return 0;
}

int ops_lower(ir_graph *g, ir_op *op, k_call *k, util_err *err) {
    lower_ctx c = {g, op, err, ir_op_name(op->code)};
    if (op->code == OP_CUSTOM) {
        c.name = op->custom_name ? op->custom_name : "CUSTOM";
        for (size_t i = 0; op->custom_name && i < N_CUSTOM; i++)
            if (custom_families[i].known(op->custom_name)) return custom_families[i].lower(&c, k);
        return 1;
    }
    for (size_t i = 0; i < N_FAMILIES; i++) {
        if (!families[i].known(op->code)) continue;
        int r = families[i].lower(&c, k);
        if (r <= 0) return r;
    }
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
