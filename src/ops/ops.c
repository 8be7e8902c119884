/*
 * The table of operator families, and what they share: a K_GENERIC call
 * reading whole tensors, memory from the model's arena.
 */
#include <string.h>

#include "ops/ops.h"

/* WHILE and IF: src/ir/inline.c writes their subgraphs out into the main
 * graph before anything else sees it, so they count as compiled and reach
 * lowering only in a graph that was not inlined. */
static int control_known(int32_t code) { return code == OP_WHILE || code == OP_IF; }

static int control_lower(lower_ctx *c, k_call *k) {
    (void)k;
    if (!control_known(c->op->code)) return 1;
    return util_fail(c->err, "operator %d (%s): not inlined (src/ir/inline.c runs before lowering)",
                     c->op->src_index, c->name);
}

static const struct {
    int (*known)(int32_t code);
    int (*lower)(lower_ctx *c, k_call *k);
} families[] = {
    /* type-specific families first: they claim only operators on their type */
    {ops_float_known, ops_float_lower},
    {ops_int16_known, ops_int16_lower}, /* int16 (int16.c) */
    {ops_lut_known, ops_lut_lower},
    {ops_binary_known, ops_binary_lower},
    {ops_move_known, ops_move_lower}, /* data movement (move.c) */
    {ops_reduce_known, ops_reduce_lower},
    {ops_spatial_known, ops_spatial_lower},
    {ops_seq_known, ops_seq_lower},
    {ops_svdf_known, ops_svdf_lower},
    {ops_misc_known, ops_misc_lower}, /* LOGICAL_NOT, DYNAMIC_UPDATE_SLICE (misc.c) */
    {ops_resvar_known, ops_resvar_lower}, /* resource variables (resvar.c) */
    {control_known, control_lower},       /* WHILE, IF: inlined (src/ir/inline.c) */
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
    /* no operator of any family takes its first input or makes its first
     * output optional (some have none: VAR_HANDLE, ASSIGN_VARIABLE); the
     * families read both without asking */
    int inputless = op->code == OP_VAR_HANDLE || op->code == OP_CALL_ONCE;
    int no_in = inputless ? 0 : op->n_in < 1 || op->in[0] < 0, no_out = op->n_out > 0 && op->out[0] < 0;
    if (no_in || no_out)
        return util_fail(err, "operator %d (%s): %s", op->index,
                         op->code == OP_CUSTOM && op->custom_name ? op->custom_name : c.name,
                         no_out ? "its first output is missing (tensor index -1)"
                         : op->n_in < 1 ? "it has no inputs" : "its first input is missing (tensor index -1)");
    if (op->code == OP_CUSTOM) {
        c.name = op->custom_name ? op->custom_name : "CUSTOM";
        for (size_t i = 0; op->custom_name && i < N_CUSTOM; i++)
            if (custom_families[i].known(op->custom_name)) return custom_families[i].lower(&c, k);
        return 1;
    }
    /* several families may know one code (TANH is a table for int8 and a
     * kernel of the float and int16 families): each takes the types it
     * handles and answers 1 for the others, and what none takes goes on to
     * the core lowering */
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

static int bcast_strides(lower_ctx *c, const ir_tensor *t, const ir_tensor *out, int32_t *stride) {
    int32_t r = out->rank, off = r - t->rank;
    if (off < 0)
        return util_fail(c->err, "operator %d (%s): tensor %d has rank %d above the output's %d", c->op->index,
                         c->name, t->index, t->rank, r);
    int64_t s = 1;
    for (int32_t d = r - 1; d >= 0; d--) {
        int32_t e = d >= off ? t->shape[d - off] : 1;
        if (e != 1 && e != out->shape[d])
            return util_fail(c->err,
                             "operator %d (%s): tensor %d axis %d has extent %d, which does not broadcast to the "
                             "output's %d",
                             c->op->index, c->name, t->index, d - off, e, out->shape[d]);
        stride[d] = e == 1 ? 0 : (int32_t)s;
        s *= e;
    }
    return 0;
}

int ops_binary_layout(lower_ctx *c, const ir_tensor *a, const ir_tensor *b, const ir_tensor *out, int32_t *op,
                      int32_t *rank, int32_t dims[6], int32_t stride_a[6], int32_t stride_b[6], int32_t *act) {
    const ir_op *o = c->op;
    if (out->rank > 6 || a->rank > 6 || b->rank > 6)
        return util_fail(c->err, "operator %d (%s): tensors of rank above 6", o->index, c->name);
    *op = o->code == OP_ADD ? PEXC_BIN_ADD : o->code == OP_SUB ? PEXC_BIN_SUB : PEXC_BIN_MUL;
    *rank = out->rank ? out->rank : 1;
    for (int d = 0; d < 6; d++) dims[d] = 1;
    for (int32_t d = 0; d < out->rank; d++) dims[d] = out->shape[d];
    if (out->rank && (bcast_strides(c, a, out, stride_a) || bcast_strides(c, b, out, stride_b))) return -1;
    *act = o->opt.activation;
    /* the reader keeps ADD's and MUL's activation; SUB's is read here */
    if (o->code == OP_SUB && reader_opt_int(c->g, o, 28 /* SubOptions */, 0, 1, 0, act, c->err)) return -1;
    return 0;
}

/* Why an operator is left out. Kept here, beside the families, so that
 * `pexc ops` and the generated coverage table (tools/op_coverage.py ->
 * docs/operators.md) say it from the code. */
const char *ops_missing_reason(int32_t code) {
    if (lower_known(code)) return NULL;
    switch (code) {
    case OP_L2_POOL_2D: case OP_FLOOR_DIV: case OP_FLOOR_MOD:
        return "TFLM runs it in float32 only; pexc's float family does not have it yet";
    case OP_EMBEDDING_LOOKUP: case OP_ZEROS_LIKE: case OP_FILL: case OP_SHAPE: case OP_EXPAND_DIMS:
    case OP_BROADCAST_ARGS:
        return "the TF converter folds it into constants or reshapes in int8 models; not implemented yet";
    default: return NULL;
    }
}
