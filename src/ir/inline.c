/*
 * Control flow: WHILE and IF become straight-line operators of the main
 * graph.
 *
 * TFLM runs WHILE by copying the operator's inputs into the condition
 * subgraph, invoking it, and while its first output is true copying the
 * loop values into the body subgraph, invoking it and copying its outputs
 * back; IF copies its inputs 1.. into the branch its first input selects.
 * Every copy moves a tensor's bytes unchanged, and each subgraph is an
 * ordinary graph of ordinary operators. So a WHILE whose condition is known
 * at compile time is the same computation as its body written out once per
 * iteration, each copy reading the values the previous one made, and an IF
 * on a constant is its taken branch written out in its place. pexc plans
 * one static arena over a straight-line schedule, so this is the form it
 * can compile, with every kernel of the unrolled body held to TFLM's bytes
 * as anywhere else, and the schedule free to overlap one iteration's
 * buffers with the next one's.
 *
 * The trip count must be known: the converter's loops (tf.while_loop, and
 * Keras RNN layers over a fixed sequence length) carry int32 counters that
 * start at constants, are stepped by constant ADDs in the body and compared
 * with a constant limit in the condition. Inlining therefore folds, at
 * compile time, the operators whose inputs are all known and whose
 * arithmetic is exact integer or boolean logic (int32 ADD, SUB and MUL,
 * comparisons, LOGICAL_AND, LOGICAL_OR, LOGICAL_NOT): each iteration's
 * counters become constants, the condition is evaluated on them, and a
 * GATHER indexed by the counter reads a constant index. Everything else is
 * emitted as an operator. A condition that needs a value known only at run
 * time (the input's data, a float computed by the body) is refused with the
 * loop variable it reads named.
 *
 * An IF whose condition is data cannot pick its branch at compile time,
 * and pexc's plans have no branches. Its branches are written out both,
 * and a SELECT_V2 on the condition picks each output: the bytes are the
 * taken branch's, the price is the time of the other one and the memory of
 * both results. That is sound only when the untaken branch can do no harm,
 * so branches holding state or a kernel that fails on some values (GATHER
 * of an index out of range, RSQRT below its domain, ...) are refused.
 *
 * Constants of a subgraph (an RNN cell's weights) become one tensor of the
 * main graph however many iterations read them, so the emitted C holds each
 * weight array once. Values pass between subgraphs without conversion, so
 * pexc asks each pair of tensors a copy joins to agree in type, shape and
 * quantisation; the converter always writes them so.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

#define MAX_DEPTH 8          /* subgraphs nested in one another */
#define MAX_ITERATIONS 10000 /* trip count of one loop */
#define MAX_OPS 10000        /* operators after inlining: the reader's limits, which */
#define MAX_TENSORS 10000    /* keep the schedule search's tables in the compiler arena */
#define MAX_FOLD_ELEMS 4096  /* elements of a value folded at compile time */

enum { OPT_IF = 92, OPT_WHILE = 93, OPT_SUB = 28 };

typedef struct {
    ir_graph *g;
    util_err *err;
    ir_subgraph *subs;  /* read on first use */
    uint8_t *loaded;
    int32_t **consts;   /* per subgraph: main tensor standing for its constant tensor i, or -1 */
    ir_tensor *t;       /* the main graph's tensors as they grow */
    int32_t nt, cap_t;
    ir_op *ops;
    int32_t nops, cap_ops;
    int32_t src;        /* model index of the main-graph operator being inlined */
    const char *src_name;
} inl;

static int is_control(int32_t code) { return code == OP_WHILE || code == OP_IF; }

static int grow(inl *c, void **arr, int32_t *cap, int32_t need, size_t elem) {
    if (need <= *cap) return 0;
    int32_t n = *cap ? *cap : 64;
    while (n < need) n *= 2;
    void *p = util_alloc(&c->g->arena, elem * (size_t)n);
    if (!p) return util_fail(c->err, "operator %d (%s): out of memory inlining", c->src, c->src_name);
    if (*cap) memcpy(p, *arr, elem * (size_t)*cap);
    *arr = p;
    *cap = n;
    return 0;
}

/* A new main-graph tensor with the description of x (from a subgraph). */
static int32_t new_tensor(inl *c, const ir_tensor *x, const uint8_t *data) {
    if (c->nt >= MAX_TENSORS) {
        util_fail(c->err, "operator %d (%s): written out, its subgraphs give more than %d tensors (the reader's "
                          "limit); pexc unrolls loops and inlines branches",
                  c->src, c->src_name, MAX_TENSORS);
        return -1;
    }
    if (grow(c, (void **)&c->t, &c->cap_t, c->nt + 1, sizeof(ir_tensor))) return -1;
    ir_tensor *n = &c->t[c->nt];
    *n = *x;
    n->index = c->nt;
    n->data = data;
    n->is_input = n->is_output = 0;
    n->is_variable = 0;
    n->init = NULL;
    n->producer = -1;
    return c->nt++;
}

static const ir_subgraph *load(inl *c, int32_t s, const char *role) {
    if (s < 1 || s >= c->g->n_subgraphs) {
        util_fail(c->err, "operator %d (%s): %s subgraph index %d; the model has subgraphs 1 to %d besides the main "
                          "one",
                  c->src, c->src_name, role, s, c->g->n_subgraphs - 1);
        return NULL;
    }
    if (!c->loaded[s]) {
        ir_subgraph *x = &c->subs[s];
        if (reader_subgraph(c->g, s, x, c->err)) return NULL;
        c->consts[s] = util_alloc(&c->g->arena, sizeof(int32_t) * (size_t)(x->n_tensors ? x->n_tensors : 1));
        if (!c->consts[s]) {
            util_fail(c->err, "out of memory");
            return NULL;
        }
        for (int32_t i = 0; i < x->n_tensors; i++) c->consts[s][i] = -1;
        for (int32_t i = 0; i < x->n_inputs; i++)
            if (x->inputs[i] < 0) {
                util_fail(c->err, "operator %d (%s): subgraph %d input %d is -1", c->src, c->src_name, s, i);
                return NULL;
            }
        for (int32_t i = 0; i < x->n_outputs; i++)
            if (x->outputs[i] < 0) {
                util_fail(c->err, "operator %d (%s): subgraph %d output %d is -1", c->src, c->src_name, s, i);
                return NULL;
            }
        c->loaded[s] = 1;
    }
    return &c->subs[s];
}

static void describe(const ir_tensor *x, char *buf, size_t n) {
    int at = snprintf(buf, n, "%s[", ir_type_name(x->type));
    for (int32_t d = 0; d < x->rank && at > 0 && (size_t)at < n; d++)
        at += snprintf(buf + at, n - (size_t)at, d ? ",%d" : "%d", x->shape[d]);
    if (at > 0 && (size_t)at < n) snprintf(buf + at, n - (size_t)at, "]");
}

/* The copy from a to b (TFLM's memcpy between subgraphs) is a rename in
 * pexc, so both must describe the same bytes the same way. */
static int compatible(inl *c, const ir_tensor *a, const char *a_where, const ir_tensor *b, const char *b_where) {
    int same = a->type == b->type && a->rank == b->rank && a->nq == b->nq;
    for (int32_t d = 0; same && d < a->rank; d++) same = a->shape[d] == b->shape[d];
    if (!same) {
        char da[96], db[96];
        describe(a, da, sizeof da);
        describe(b, db, sizeof db);
        return util_fail(c->err, "operator %d (%s): %s tensor %d (%s) is %s, %s tensor %d (%s) is %s; TFLM copies "
                                 "the bytes across and pexc needs one type and shape on both sides",
                         c->src, c->src_name, a_where, a->index, a->name, da, b_where, b->index, b->name, db);
    }
    for (int32_t q = 0; q < a->nq; q++)
        if (a->scale[q] != b->scale[q] || a->zero_point[q] != b->zero_point[q])
            return util_fail(c->err, "operator %d (%s): %s tensor %d (%s) has scale %g and zero point %lld, %s "
                                     "tensor %d (%s) scale %g and zero point %lld; TFLM copies the bytes without "
                                     "requantising and pexc needs one quantisation on both sides",
                             c->src, c->src_name, a_where, a->index, a->name, (double)a->scale[q],
                             (long long)a->zero_point[q], b_where, b->index, b->name, (double)b->scale[q],
                             (long long)b->zero_point[q]);
    return 0;
}

/* ---- compile-time evaluation ---------------------------------------------
 *
 * fold() computes an operator whose inputs are all known, when its
 * arithmetic is exact: int32 ADD, SUB, MUL without activation (TFLM's int32
 * kernels are plain C arithmetic, and an overflow, undefined there, is
 * refused here), comparisons of int32 or float32 (exact), and boolean
 * logic. Operands broadcast only as a single element against the output's
 * shape, the forms the converter's counters take. Returns 1 with *res
 * set, 0 when the operator is not of that kind, -1 on error. */

static int fold_shape_ok(const ir_tensor *in, const ir_tensor *out) {
    if (in->elems == 1) return 1;
    if (in->elems != out->elems || in->rank != out->rank) return 0;
    for (int32_t d = 0; d < in->rank; d++)
        if (in->shape[d] != out->shape[d]) return 0;
    return 1;
}

static int32_t rd_i32(const uint8_t *p, int64_t i) {
    int32_t v;
    memcpy(&v, p + 4 * i, 4);
    return v;
}

static float rd_f32(const uint8_t *p, int64_t i) {
    float v;
    memcpy(&v, p + 4 * i, 4);
    return v;
}

static int fold(inl *c, const ir_op *op, int32_t s, const ir_tensor *const *in, const uint8_t *const *data,
                const ir_tensor *out, const uint8_t **res) {
    int32_t code = op->code;
    int arith = code == OP_ADD || code == OP_SUB || code == OP_MUL;
    int cmp = code == OP_LESS || code == OP_LESS_EQUAL || code == OP_GREATER || code == OP_GREATER_EQUAL ||
              code == OP_EQUAL || code == OP_NOT_EQUAL;
    int logic = code == OP_LOGICAL_AND || code == OP_LOGICAL_OR || code == OP_LOGICAL_NOT;
    int32_t need = code == OP_LOGICAL_NOT ? 1 : 2;
    if (!(arith || cmp || logic) || op->n_in != need || op->n_out != 1) return 0;
    if (out->elems < 1 || out->elems > MAX_FOLD_ELEMS) return 0;
    for (int32_t i = 0; i < need; i++)
        if (!in[i] || !data[i] || !fold_shape_ok(in[i], out) || in[i]->nq) return 0;
    if (arith) {
        int32_t act = op->opt.activation;
        if (code == OP_SUB && reader_opt_int(c->g, op, OPT_SUB, 0, 1, 0, &act, c->err)) return -1;
        if (act != 0 || in[0]->type != IR_I32 || in[1]->type != IR_I32 || out->type != IR_I32) return 0;
    } else if (cmp) {
        if (in[0]->type != in[1]->type || (in[0]->type != IR_I32 && in[0]->type != IR_F32) || out->type != IR_BOOL)
            return 0;
    } else {
        for (int32_t i = 0; i < need; i++)
            if (in[i]->type != IR_BOOL) return 0;
        if (out->type != IR_BOOL) return 0;
    }
    uint8_t *r = util_alloc(&c->g->arena, out->bytes);
    if (!r) return util_fail(c->err, "out of memory");
    for (int64_t e = 0; e < out->elems; e++) {
        int64_t i0 = in[0]->elems == 1 ? 0 : e, i1 = need == 2 && in[1]->elems == 1 ? 0 : e;
        if (arith) {
            int64_t a = rd_i32(data[0], i0), b = rd_i32(data[1], i1);
            int64_t v = code == OP_ADD ? a + b : code == OP_SUB ? a - b : a * b;
            if (v < INT32_MIN || v > INT32_MAX)
                return util_fail(c->err, "operator %d (%s): subgraph %d operator %d (%s) overflows int32 (%lld); "
                                         "TFLM's result is undefined",
                                 c->src, c->src_name, s, op->index, ir_op_name(code), (long long)v);
            int32_t w = (int32_t)v;
            memcpy(r + 4 * e, &w, 4);
        } else if (cmp) {
            /* each comparison as its own C operator, so a float NaN compares
             * as TFLM's kernels compare it */
            int lt, le, gt, ge, eq;
            if (in[0]->type == IR_I32) {
                int32_t a = rd_i32(data[0], i0), b = rd_i32(data[1], i1);
                lt = a < b, le = a <= b, gt = a > b, ge = a >= b, eq = a == b;
            } else {
                float a = rd_f32(data[0], i0), b = rd_f32(data[1], i1);
                lt = a < b, le = a <= b, gt = a > b, ge = a >= b, eq = a == b;
            }
            int v = code == OP_LESS ? lt : code == OP_LESS_EQUAL ? le : code == OP_GREATER ? gt
                  : code == OP_GREATER_EQUAL ? ge : code == OP_EQUAL ? eq : !eq;
            r[e] = (uint8_t)v;
        } else {
            int a = data[0][i0] != 0, b = need == 2 ? data[1][i1] != 0 : 0;
            r[e] = (uint8_t)(code == OP_LOGICAL_AND ? a && b : code == OP_LOGICAL_OR ? a || b : !a);
        }
    }
    *res = r;
    return 1;
}

/* ---- inlining --------------------------------------------------------- */

static int expand(inl *c, const ir_op *op, const int32_t *args, int32_t *results, int depth);

/* The main tensor standing for subgraph s's tensor ti: its value so far in
 * map[], or for a constant the main tensor shared by every use. */
static int32_t resolve(inl *c, const ir_subgraph *x, int32_t s, int32_t *map, int32_t ti, const ir_op *op) {
    if (map[ti] >= 0) return map[ti];
    const ir_tensor *t = &x->tensors[ti];
    if (t->data) {
        if (c->consts[s][ti] < 0) c->consts[s][ti] = new_tensor(c, t, t->data);
        return c->consts[s][ti];
    }
    char who[96];
    if (op) snprintf(who, sizeof who, "operator %d (%s) reads", op->index, ir_op_name(op->code));
    else snprintf(who, sizeof who, "output is");
    if (t->is_variable)
        util_fail(c->err, "operator %d (%s): subgraph %d %s variable tensor %d (%s); pexc inlines subgraphs "
                          "without operator state",
                  c->src, c->src_name, s, who, ti, t->name);
    else
        util_fail(c->err, "operator %d (%s): subgraph %d %s tensor %d (%s), which nothing writes first", c->src,
                  c->src_name, s, who, ti, t->name);
    return -1;
}

/* Writes subgraph s out into the main graph once, with args standing for
 * its inputs; results[] receives the main tensors holding its outputs. */
static int inline_call(inl *c, int32_t s, const char *role, const int32_t *args, int32_t n_args, int32_t *results,
                       int32_t n_results, int depth) {
    const ir_subgraph *x = load(c, s, role);
    if (!x) return -1;
    if (depth > MAX_DEPTH)
        return util_fail(c->err, "operator %d (%s): subgraphs nest more than %d deep", c->src, c->src_name,
                         MAX_DEPTH);
    if (x->n_inputs != n_args || x->n_outputs != n_results)
        return util_fail(c->err, "operator %d (%s): the %s subgraph %d takes %d inputs and gives %d outputs; the "
                                 "operator passes %d and takes %d",
                         c->src, c->src_name, role, s, x->n_inputs, x->n_outputs, n_args, n_results);
    int32_t *map = util_alloc(&c->g->arena, sizeof(int32_t) * (size_t)(x->n_tensors ? x->n_tensors : 1));
    if (!map) return util_fail(c->err, "out of memory");
    for (int32_t i = 0; i < x->n_tensors; i++) map[i] = -1;
    for (int32_t i = 0; i < n_args; i++) {
        if (compatible(c, &c->t[args[i]], "the value", &x->tensors[x->inputs[i]], "the subgraph input")) return -1;
        map[x->inputs[i]] = args[i];
    }
    for (int32_t o = 0; o < x->n_ops; o++) {
        const ir_op *op = &x->ops[o];
        int32_t code = op->code;
        if (code == OP_VAR_HANDLE || code == OP_READ_VARIABLE || code == OP_ASSIGN_VARIABLE || code == OP_CALL_ONCE)
            return util_fail(c->err, "operator %d (%s): subgraph %d operator %d is %s; pexc inlines WHILE and IF "
                                     "subgraphs without resource variables",
                             c->src, c->src_name, s, o, ir_op_name(code));
        int32_t *ins = util_alloc(&c->g->arena, sizeof(int32_t) * (size_t)(op->n_in + op->n_out + 1));
        if (!ins) return util_fail(c->err, "out of memory");
        int32_t *outs = ins + op->n_in;
        const ir_tensor *in_t[2] = {NULL, NULL};
        const uint8_t *in_d[2] = {NULL, NULL};
        for (int32_t k = 0; k < op->n_in; k++) {
            ins[k] = op->in[k] < 0 ? -1 : resolve(c, x, s, map, op->in[k], op);
            if (op->in[k] >= 0 && ins[k] < 0) return -1;
        }
        /* after resolving: a new constant tensor may have moved c->t */
        for (int32_t k = 0; k < op->n_in && k < 2; k++)
            if (ins[k] >= 0) {
                in_t[k] = &c->t[ins[k]];
                in_d[k] = c->t[ins[k]].data;
            }
        for (int32_t k = 0; k < op->n_out; k++)
            if (op->out[k] < 0)
                return util_fail(c->err, "operator %d (%s): subgraph %d operator %d output %d is -1", c->src,
                                 c->src_name, s, o, k);
        if (is_control(code)) {
            if (expand(c, op, ins, outs, depth + 1)) return -1;
            for (int32_t k = 0; k < op->n_out; k++) {
                if (compatible(c, &c->t[outs[k]], "the value", &x->tensors[op->out[k]], "the output")) return -1;
                map[op->out[k]] = outs[k];
            }
            continue;
        }
        const uint8_t *res = NULL;
        int f = op->n_out == 1 ? fold(c, op, s, in_t, in_d, &x->tensors[op->out[0]], &res) : 0;
        if (f < 0) return -1;
        if (f == 1) {
            if ((map[op->out[0]] = new_tensor(c, &x->tensors[op->out[0]], res)) < 0) return -1;
            continue;
        }
        for (int32_t k = 0; k < op->n_out; k++)
            if ((outs[k] = map[op->out[k]] = new_tensor(c, &x->tensors[op->out[k]], NULL)) < 0) return -1;
        if (c->nops >= MAX_OPS)
            return util_fail(c->err, "operator %d (%s): written out, its subgraphs give more than %d operators (the "
                                     "reader's limit); pexc unrolls loops and inlines branches",
                             c->src, c->src_name, MAX_OPS);
        if (grow(c, (void **)&c->ops, &c->cap_ops, c->nops + 1, sizeof(ir_op))) return -1;
        ir_op *e = &c->ops[c->nops++];
        *e = *op;
        e->in = ins;
        e->out = outs;
        e->src_index = c->src;
    }
    for (int32_t k = 0; k < n_results; k++)
        if ((results[k] = resolve(c, x, s, map, x->outputs[k], NULL)) < 0)
            return -1;
    return 0;
}

/* Evaluates WHILE condition subgraph s on the loop values vals at compile
 * time: 1 or 0 into *value, or -1 with the reason it cannot. */
static int eval_cond(inl *c, int32_t s, const int32_t *vals, int32_t n, int32_t iter, int *value) {
    const ir_subgraph *x = load(c, s, "condition");
    if (!x) return -1;
    if (x->n_inputs != n || x->n_outputs < 1)
        return util_fail(c->err, "operator %d (%s): the condition subgraph %d takes %d inputs and gives %d outputs; "
                                 "the loop has %d values and TFLM reads output 0",
                         c->src, c->src_name, s, x->n_inputs, x->n_outputs, n);
    const uint8_t **val = util_alloc(&c->g->arena, sizeof(void *) * (size_t)(x->n_tensors ? x->n_tensors : 1));
    int32_t *var = util_alloc(&c->g->arena, sizeof(int32_t) * (size_t)(x->n_tensors ? x->n_tensors : 1));
    if (!val || !var) return util_fail(c->err, "out of memory");
    for (int32_t i = 0; i < x->n_tensors; i++) {
        val[i] = x->tensors[i].data;
        var[i] = -1;
    }
    for (int32_t k = 0; k < n; k++) {
        if (compatible(c, &c->t[vals[k]], "the value", &x->tensors[x->inputs[k]], "the condition input")) return -1;
        val[x->inputs[k]] = c->t[vals[k]].data;
        var[x->inputs[k]] = k;
    }
    for (int32_t o = 0; o < x->n_ops; o++) {
        const ir_op *op = &x->ops[o];
        const ir_tensor *in_t[2] = {NULL, NULL};
        const uint8_t *in_d[2] = {NULL, NULL};
        for (int32_t k = 0; k < op->n_in; k++) {
            int32_t ti = op->in[k];
            if (ti < 0) continue;
            if (!val[ti]) {
                if (var[ti] >= 0) {
                    const ir_tensor *m = &c->t[vals[var[ti]]];
                    char when[48] = "";
                    if (iter) snprintf(when, sizeof when, " after %d iterations", iter);
                    return util_fail(c->err, "operator %d (%s): the loop condition (subgraph %d operator %d, %s) "
                                             "reads loop variable %d, tensor %d (%s)%s, whose value is known only "
                                             "at run time; pexc unrolls loops and needs a trip count known at "
                                             "compile time",
                                     c->src, c->src_name, s, o, ir_op_name(op->code), var[ti], m->index, m->name,
                                     when);
                }
                return util_fail(c->err, "operator %d (%s): the loop condition (subgraph %d operator %d, %s) reads "
                                         "tensor %d (%s), which is not known at compile time; pexc unrolls loops and "
                                         "needs a trip count known at compile time",
                                 c->src, c->src_name, s, o, ir_op_name(op->code), ti, x->tensors[ti].name);
            }
            if (k < 2) {
                in_t[k] = &x->tensors[ti];
                in_d[k] = val[ti];
            }
        }
        const uint8_t *res = NULL;
        int f = op->n_out == 1 && op->out[0] >= 0 ? fold(c, op, s, in_t, in_d, &x->tensors[op->out[0]], &res) : 0;
        if (f < 0) return -1;
        if (f == 0)
            return util_fail(c->err, "operator %d (%s): the loop condition (subgraph %d operator %d, %s) is not "
                                     "evaluated at compile time (pexc folds int32 and bool arithmetic, comparisons "
                                     "and logic); pexc unrolls loops and needs a trip count known at compile time",
                             c->src, c->src_name, s, o, ir_op_name(op->code));
        val[op->out[0]] = res;
    }
    int32_t ct = x->outputs[0];
    const ir_tensor *t = &x->tensors[ct];
    if (!val[ct])
        return util_fail(c->err, "operator %d (%s): the loop condition (subgraph %d) is loop variable %d, known only "
                                 "at run time; pexc unrolls loops and needs a trip count known at compile time",
                         c->src, c->src_name, s, var[ct]);
    if (t->type != IR_BOOL || t->elems < 1)
        return util_fail(c->err, "operator %d (%s): the condition subgraph %d gives tensor %d (%s) of %s with %lld "
                                 "elements; TFLM reads one bool",
                         c->src, c->src_name, s, ct, t->name, ir_type_name(t->type), (long long)t->elems);
    *value = val[ct][0] != 0;
    return 0;
}

static int expand_while(inl *c, const ir_op *op, const int32_t *args, int32_t *results, int depth) {
    int32_t cs, bs, n = op->n_in;
    if (reader_opt_int(c->g, op, OPT_WHILE, 0, 4, 0, &cs, c->err) ||
        reader_opt_int(c->g, op, OPT_WHILE, 1, 4, 0, &bs, c->err))
        return -1;
    if (op->n_out != n)
        return util_fail(c->err, "operator %d (%s): %d inputs and %d outputs; TFLM requires as many of each",
                         c->src, c->src_name, n, op->n_out);
    if (!load(c, cs, "condition") || !load(c, bs, "body")) return -1;
    int32_t *vals = util_alloc(&c->g->arena, sizeof(int32_t) * (size_t)(2 * n + 1)), *next = vals + n;
    if (!vals) return util_fail(c->err, "out of memory");
    memcpy(vals, args, sizeof(int32_t) * (size_t)n);
    for (int32_t iter = 0;; iter++) {
        int go = 0;
        if (eval_cond(c, cs, vals, n, iter, &go)) return -1;
        if (!go) break;
        if (iter >= MAX_ITERATIONS)
            return util_fail(c->err, "operator %d (%s): the loop runs more than %d times; pexc unrolls loops and "
                                     "stops there",
                             c->src, c->src_name, MAX_ITERATIONS);
        if (inline_call(c, bs, "body", vals, n, next, n, depth)) return -1;
        memcpy(vals, next, sizeof(int32_t) * (size_t)n);
    }
    memcpy(results, vals, sizeof(int32_t) * (size_t)n);
    return 0;
}

/* Kernels that can fail on the values they are given (an index out of
 * range, a zero divisor, RSQRT below its domain, the signal library's
 * checks): in a branch TFLM does not take they would fail where TFLM does
 * not, so an IF on data with such a branch is refused. */
static int fails_on_data(int32_t code) {
    switch (code) {
    case OP_GATHER: case OP_GATHER_ND: case OP_EMBEDDING_LOOKUP: case OP_DIV: case OP_FLOOR_DIV:
    case OP_FLOOR_MOD: case OP_RSQRT: case OP_CUSTOM:
        return 1;
    default: return 0;
    }
}

/* An IF whose condition is data: both branches written out, each output
 * chosen by a SELECT_V2 on the condition. The branches are pure (no
 * variables, no kernel that can fail on data), so computing the one TFLM
 * skips changes nothing but time, and the selected bytes are the taken
 * branch's bytes. */
static int predicate(inl *c, const ir_op *op, int32_t ts, int32_t es, const int32_t *args, int32_t *results,
                     int depth) {
    int32_t n = op->n_out, first = c->nops;
    int32_t *rt = util_alloc(&c->g->arena, sizeof(int32_t) * (size_t)(2 * n + 1)), *re = rt + n;
    if (!rt) return util_fail(c->err, "out of memory");
    if (inline_call(c, ts, "then", args + 1, op->n_in - 1, rt, n, depth) ||
        inline_call(c, es, "else", args + 1, op->n_in - 1, re, n, depth))
        return -1;
    for (int32_t o = first; o < c->nops; o++)
        if (fails_on_data(c->ops[o].code))
            return util_fail(c->err, "operator %d (%s): the condition, tensor %d (%s), is known only at run time, "
                                     "and a branch holds %s, which can fail on values TFLM's untaken branch never "
                                     "sees; pexc computes both branches of an IF on data and selects",
                             c->src, c->src_name, args[0], c->t[args[0]].name, ir_op_name(c->ops[o].code));
    for (int32_t k = 0; k < n; k++) {
        const ir_tensor *a = &c->t[rt[k]];
        if (compatible(c, a, "the then branch's", &c->t[re[k]], "the else branch's")) return -1;
        if (a->type != IR_F32 && a->type != IR_I8 && a->type != IR_I16)
            return util_fail(c->err, "operator %d (%s): the condition, tensor %d (%s), is known only at run time, "
                                     "and output %d is %s; pexc selects between the branches' float32, int8 or "
                                     "int16 outputs",
                             c->src, c->src_name, args[0], c->t[args[0]].name, k, ir_type_name(a->type));
        int32_t *io = util_alloc(&c->g->arena, 4 * sizeof(int32_t));
        if (!io) return util_fail(c->err, "out of memory");
        if ((io[3] = new_tensor(c, a, NULL)) < 0) return -1;
        io[0] = args[0];
        io[1] = rt[k];
        io[2] = re[k];
        if (c->nops >= MAX_OPS)
            return util_fail(c->err, "operator %d (%s): written out, its subgraphs give more than %d operators",
                             c->src, c->src_name, MAX_OPS);
        if (grow(c, (void **)&c->ops, &c->cap_ops, c->nops + 1, sizeof(ir_op))) return -1;
        c->ops[c->nops++] = (ir_op){.code = OP_SELECT_V2, .version = 1, .n_in = 3, .n_out = 1, .in = io,
                                    .out = io + 3, .src_index = c->src, .n_parts = 1};
        results[k] = io[3];
    }
    return 0;
}

static int expand_if(inl *c, const ir_op *op, const int32_t *args, int32_t *results, int depth) {
    int32_t ts, es;
    if (reader_opt_int(c->g, op, OPT_IF, 0, 4, 0, &ts, c->err) ||
        reader_opt_int(c->g, op, OPT_IF, 1, 4, 0, &es, c->err))
        return -1;
    if (op->n_in < 1 || args[0] < 0)
        return util_fail(c->err, "operator %d (%s): no condition input; TFLM requires one", c->src, c->src_name);
    const ir_tensor *cond = &c->t[args[0]];
    if (cond->type != IR_BOOL || cond->elems != 1)
        return util_fail(c->err, "operator %d (%s): condition tensor %d (%s) is %s with %lld elements; TFLM requires "
                                 "one bool",
                         c->src, c->src_name, cond->index, cond->name, ir_type_name(cond->type),
                         (long long)cond->elems);
    if (!load(c, ts, "then") || !load(c, es, "else")) return -1;
    if (cond->data) {
        int then = cond->data[0] != 0;
        return inline_call(c, then ? ts : es, then ? "then" : "else", args + 1, op->n_in - 1, results, op->n_out,
                           depth);
    }
    return predicate(c, op, ts, es, args, results, depth);
}

static int expand(inl *c, const ir_op *op, const int32_t *args, int32_t *results, int depth) {
    for (int32_t k = 0; k < op->n_in; k++)
        if (args[k] < 0)
            return util_fail(c->err, "operator %d (%s): input %d is -1", c->src, c->src_name, k);
    return op->code == OP_WHILE ? expand_while(c, op, args, results, depth) : expand_if(c, op, args, results, depth);
}

/* Main-graph tensor tout becomes the value r: when r is made by an operator
 * inlined for this control operator (from `fresh` on), that operator writes
 * tout itself; otherwise later readers of tout read r (sub[]). */
static int bind(inl *c, int32_t tout, int32_t r, int32_t fresh, int32_t first_op, int32_t *sub, int32_t *renamed) {
    if (compatible(c, &c->t[r], "the loop or branch value", &c->t[tout], "the output")) return -1;
    if (r >= fresh && renamed[r - fresh] >= 0) {
        sub[tout] = renamed[r - fresh];
        return 0;
    }
    if (r >= fresh && !c->t[r].data) {
        for (int32_t o = first_op; o < c->nops; o++) {
            ir_op *op = &c->ops[o];
            for (int32_t k = 0; k < op->n_in; k++)
                if (op->in[k] == r) op->in[k] = tout;
            for (int32_t k = 0; k < op->n_out; k++)
                if (op->out[k] == r) op->out[k] = tout;
        }
        renamed[r - fresh] = tout;
        sub[tout] = tout;
        return 0;
    }
    sub[tout] = r;
    return 0;
}

int ir_inline(ir_graph *g, util_err *err) {
    int any = 0;
    for (int32_t i = 0; i < g->n_ops; i++) any |= is_control(g->ops[i].code);
    if (!any) return 0;
    inl c = {.g = g, .err = err};
    int32_t ns = g->n_subgraphs > 0 ? g->n_subgraphs : 1;
    c.subs = util_alloc(&g->arena, sizeof(ir_subgraph) * (size_t)ns);
    c.loaded = util_alloc(&g->arena, (size_t)ns);
    c.consts = util_alloc(&g->arena, sizeof(int32_t *) * (size_t)ns);
    int32_t *sub = util_alloc(&g->arena, sizeof(int32_t) * (size_t)(g->n_tensors ? g->n_tensors : 1));
    if (!c.subs || !c.loaded || !c.consts || !sub) return util_fail(err, "out of memory");
    if (grow(&c, (void **)&c.t, &c.cap_t, g->n_tensors + 1, sizeof(ir_tensor)) ||
        grow(&c, (void **)&c.ops, &c.cap_ops, g->n_ops + 1, sizeof(ir_op)))
        return -1;
    memcpy(c.t, g->tensors, sizeof(ir_tensor) * (size_t)g->n_tensors);
    c.nt = g->n_tensors;
    for (int32_t i = 0; i < g->n_tensors; i++) sub[i] = i;
    for (int32_t i = 0; i < g->n_ops; i++) {
        const ir_op *op = &g->ops[i];
        c.src = op->src_index;
        c.src_name = ir_op_name(op->code);
        int32_t *ins = util_alloc(&g->arena, sizeof(int32_t) * (size_t)(op->n_in + op->n_out + 1));
        if (!ins) return util_fail(err, "out of memory");
        for (int32_t k = 0; k < op->n_in; k++) ins[k] = op->in[k] < 0 ? -1 : sub[op->in[k]];
        if (!is_control(op->code)) {
            if (c.nops >= MAX_OPS)
                return util_fail(err, "operator %d (%s): inlining gives more than %d operators", c.src, c.src_name,
                                 MAX_OPS);
            if (grow(&c, (void **)&c.ops, &c.cap_ops, c.nops + 1, sizeof(ir_op))) return -1;
            c.ops[c.nops] = *op;
            c.ops[c.nops++].in = ins;
            continue;
        }
        for (int32_t k = 0; k < op->n_out; k++)
            if (op->out[k] < 0) return util_fail(err, "operator %d (%s): output %d is -1", c.src, c.src_name, k);
        int32_t fresh = c.nt, first_op = c.nops, *results = ins + op->n_in;
        if (expand(&c, op, ins, results, 1)) return -1;
        int32_t *renamed = util_alloc(&g->arena, sizeof(int32_t) * (size_t)(c.nt - fresh + 1));
        if (!renamed) return util_fail(err, "out of memory");
        for (int32_t k = 0; k < c.nt - fresh; k++) renamed[k] = -1;
        for (int32_t k = 0; k < op->n_out; k++)
            if (bind(&c, op->out[k], results[k], fresh, first_op, sub, renamed)) return -1;
    }
    for (int32_t i = 0; i < g->n_outputs; i++) {
        int32_t o = g->outputs[i];
        if (o >= 0 && sub[o] != o)
            return util_fail(err, "graph output tensor %d (%s) is a value a WHILE or IF passes through unchanged "
                                  "(tensor %d (%s)); pexc needs every graph output written by an operator",
                             o, g->tensors[o].name, sub[o], c.t[sub[o]].name);
    }
    for (int32_t i = 0; i < c.nops; i++) c.ops[i].index = i;
    g->tensors = c.t;
    g->n_tensors = c.nt;
    g->ops = c.ops;
    g->n_ops = c.nops;
    return 0;
}
