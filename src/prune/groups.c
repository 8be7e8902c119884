/*
 * Channel groups: which channels must be pruned together.
 *
 * Removing output channel c of a convolution removes channel c of its
 * output tensor, so everything that reads that tensor channel by channel
 * loses channel c too: a depthwise convolution, a pool, an activation, a
 * pad that leaves the channel axis alone, and an ADD or MUL, whose other
 * operand must then lose the same channel, and so the producer of that
 * operand (the two branches of a residual block). The channel stops at a
 * convolution or fully-connected operator reading the tensor: there it is
 * an input channel, removed from that operator's weights only.
 *
 * So tensors are joined through channel-wise operators (union-find over
 * tensors), and each class is a group. A class is prunable only when every
 * operator around it is understood: each tensor is an activation with the
 * same channel count in its last dimension, written by a producer (conv,
 * fully connected) or a channel-wise operator, and read by channel-wise
 * operators or consumers (as their first input). A class touching a graph
 * input or output, or any other operator (CONCATENATION, SOFTMAX,
 * RESHAPE that moves the channel axis, ...), keeps its channels: the
 * pruned model must keep its interface.
 */
#include <string.h>

#include "prune/prune.h"

static int32_t uf_find(int32_t *p, int32_t x) {
    while (p[x] != x) {
        p[x] = p[p[x]];
        x = p[x];
    }
    return x;
}

static void uf_join(int32_t *p, int32_t a, int32_t b) {
    a = uf_find(p, a);
    b = uf_find(p, b);
    if (a != b) p[a < b ? b : a] = a < b ? a : b;
}

static int32_t last_dim(const ir_tensor *t) {
    return t->rank > 0 ? t->shape[t->rank - 1] : 1;
}

/* The product of every dimension but the last. */
static int64_t outer(const ir_tensor *t) {
    int64_t n = 1;
    for (int32_t i = 0; i + 1 < t->rank; i++) n *= t->shape[i];
    return n;
}

static int is_act(const ir_graph *g, int32_t t) {
    return t >= 0 && t < g->n_tensors && !g->tensors[t].data && !g->tensors[t].is_variable;
}

/* How op relates to the channels of its first input and its output:
 * PRUNE_CHANNELWISE ties them, PRUNE_PRODUCER makes new output channels
 * from input channels it consumes, -1: neither (both fixed). */
static int op_role(const ir_graph *g, const ir_op *op) {
    if (op->n_out != 1 || op->n_in < 1 || !is_act(g, op->in[0]) || !is_act(g, op->out[0])) return -1;
    const ir_tensor *in = &g->tensors[op->in[0]], *out = &g->tensors[op->out[0]];
    if (in->type != IR_I8 || out->type != IR_I8) return -1;
    switch (op->code) {
    case OP_CONV_2D:
        return op->n_in >= 2 && op->in[1] >= 0 && g->tensors[op->in[1]].data && g->tensors[op->in[1]].rank == 4
                   ? PRUNE_PRODUCER
                   : -1;
    case OP_FULLY_CONNECTED: {
        if (op->n_in < 2 || op->in[1] < 0 || !g->tensors[op->in[1]].data || g->tensors[op->in[1]].rank != 2) return -1;
        /* the input's last dimension must be what the weights consume */
        return last_dim(in) == g->tensors[op->in[1]].shape[1] ? PRUNE_PRODUCER : -1;
    }
    case OP_DEPTHWISE_CONV_2D:
        return op->opt.depth_multiplier == 1 && op->n_in >= 2 && op->in[1] >= 0 && g->tensors[op->in[1]].data &&
                       last_dim(in) == last_dim(out)
                   ? PRUNE_CHANNELWISE
                   : -1;
    case OP_AVERAGE_POOL_2D: case OP_MAX_POOL_2D: case OP_RELU: case OP_RELU6: case OP_RELU_N1_TO_1:
    case OP_LOGISTIC: case OP_TANH: case OP_HARD_SWISH: case OP_LEAKY_RELU: case OP_QUANTIZE:
        return last_dim(in) == last_dim(out) ? PRUNE_CHANNELWISE : -1;
    case OP_ADD: case OP_MUL: case OP_SUB: {
        if (op->n_in != 2 || !is_act(g, op->in[1])) return -1;
        const ir_tensor *b = &g->tensors[op->in[1]];
        if (b->rank != in->rank || memcmp(b->shape, in->shape, sizeof(int32_t) * (size_t)in->rank) ||
            in->rank != out->rank || memcmp(out->shape, in->shape, sizeof(int32_t) * (size_t)in->rank))
            return -1;
        return PRUNE_CHANNELWISE;
    }
    case OP_PAD: case OP_PADV2: {
        if (op->n_in < 2 || op->in[1] < 0) return -1;
        const ir_tensor *p = &g->tensors[op->in[1]];
        if (!p->data || p->rank != 2 || p->shape[0] != in->rank || p->shape[1] != 2 || in->rank < 1) return -1;
        /* no padding of the channel axis (int32 or int64 pairs) */
        size_t es = ir_type_size(p->type), at = (size_t)(in->rank - 1) * 2 * es;
        for (size_t i = 0; i < 2 * es; i++)
            if (p->data[at + i]) return -1;
        return PRUNE_CHANNELWISE;
    }
    case OP_MEAN: {
        /* over spatial axes only, channels last in and out */
        if (op->n_in < 2 || !g->tensors[op->in[1]].data || g->tensors[op->in[1]].type != IR_I32) return -1;
        const ir_tensor *ax = &g->tensors[op->in[1]];
        for (int64_t i = 0; i < ax->elems; i++) {
            int32_t a;
            memcpy(&a, ax->data + 4 * i, 4);
            if (a == in->rank - 1 || a == -1) return -1;
        }
        return last_dim(in) == last_dim(out) && out->rank >= 1 ? PRUNE_CHANNELWISE : -1;
    }
    case OP_RESHAPE: case OP_SQUEEZE:
        /* only when nothing but the channel axis is longer than 1 */
        return outer(in) == 1 && outer(out) == 1 && last_dim(in) == last_dim(out) ? PRUNE_CHANNELWISE : -1;
    default: return -1;
    }
}

int prune_find_groups(ir_graph *g, prune_groups *out, util_err *err) {
    int32_t n = g->n_tensors;
    int32_t *p = util_alloc(&g->arena, sizeof(int32_t) * (size_t)(n + 1));
    uint8_t *fixed = util_alloc(&g->arena, (size_t)n + 1);
    int8_t *made = util_alloc(&g->arena, (size_t)n + 1);
    int32_t *gid = util_alloc(&g->arena, sizeof(int32_t) * (size_t)(n + 1));
    int32_t *roles = util_alloc(&g->arena, sizeof(int32_t) * (size_t)(g->n_ops + 1));
    if (!p || !fixed || !made || !gid || !roles) return util_fail(err, "prune: out of memory");
    for (int32_t t = 0; t < n; t++) {
        p[t] = t;
        fixed[t] = !is_act(g, t) || g->tensors[t].type != IR_I8 || g->tensors[t].rank < 1;
    }
    for (int32_t i = 0; i < g->n_inputs; i++) fixed[g->inputs[i]] = 1;
    for (int32_t i = 0; i < g->n_outputs; i++) fixed[g->outputs[i]] = 1;
    for (int32_t i = 0; i < g->n_ops; i++) {
        const ir_op *op = &g->ops[i];
        int r = roles[i] = op_role(g, op);
        if (r == PRUNE_CHANNELWISE) {
            uf_join(p, op->in[0], op->out[0]);
            if (op->n_in == 2 && (op->code == OP_ADD || op->code == OP_MUL || op->code == OP_SUB))
                uf_join(p, op->in[1], op->out[0]);
        }
    }
    /* what each operator does to the tensors it touches */
    for (int32_t i = 0; i < g->n_ops; i++) {
        const ir_op *op = &g->ops[i];
        int r = roles[i];
        for (int32_t k = 0; k < op->n_out; k++) {
            int32_t t = op->out[k];
            if (t < 0) continue;
            if (r < 0) fixed[t] = 1;
            else made[t] = 1;
        }
        for (int32_t k = 0; k < op->n_in; k++) {
            int32_t t = op->in[k];
            if (t < 0 || !is_act(g, t)) continue;
            int ok = r == PRUNE_PRODUCER ? k == 0
                     : r == PRUNE_CHANNELWISE ? (k == 0 || (k == 1 && (op->code == OP_ADD || op->code == OP_MUL ||
                                                                        op->code == OP_SUB)))
                                              : 0;
            if (!ok) fixed[t] = 1;
        }
    }
    for (int32_t t = 0; t < n; t++)
        if (!made[t]) fixed[t] = 1;
    /* a class is fixed when any member is, or channel counts differ */
    for (int32_t t = 0; t < n; t++) {
        int32_t r = uf_find(p, t);
        if (fixed[t]) fixed[r] = 1;
        if (last_dim(&g->tensors[t]) != last_dim(&g->tensors[r])) fixed[r] = 1;
    }
    out->n = 0;
    out->group_of = gid;
    out->g = util_alloc(&g->arena, sizeof(prune_group) * (size_t)(n + 1));
    if (!out->g) return util_fail(err, "prune: out of memory");
    for (int32_t t = 0; t < n; t++) gid[t] = -1;
    for (int32_t t = 0; t < n; t++) {
        int32_t r = uf_find(p, t);
        if (fixed[r]) continue;
        if (gid[r] < 0) {
            gid[r] = out->n++;
            prune_group *gr = &out->g[gid[r]];
            memset(gr, 0, sizeof *gr);
            gr->channels = last_dim(&g->tensors[r]);
            gr->tensors = util_alloc(&g->arena, sizeof(int32_t) * (size_t)n);
            gr->uses = util_alloc(&g->arena, sizeof(prune_use) * (size_t)(2 * g->n_ops + 1));
            if (!gr->tensors || !gr->uses) return util_fail(err, "prune: out of memory");
        }
        gid[t] = gid[r];
        prune_group *gr = &out->g[gid[r]];
        gr->tensors[gr->n_tensors++] = t;
    }
    /* every operator touching a group, with its role there */
    for (int32_t i = 0; i < g->n_ops; i++) {
        const ir_op *op = &g->ops[i];
        if (roles[i] < 0) continue;
        int32_t go = gid[op->out[0]], gi = gid[op->in[0]];
        if (roles[i] == PRUNE_CHANNELWISE) {
            if (go >= 0) out->g[go].uses[out->g[go].n_uses++] = (prune_use){i, PRUNE_CHANNELWISE};
            continue;
        }
        if (go >= 0) {
            out->g[go].uses[out->g[go].n_uses++] = (prune_use){i, PRUNE_PRODUCER};
            out->g[go].n_producers++;
        }
        if (gi >= 0) out->g[gi].uses[out->g[gi].n_uses++] = (prune_use){i, PRUNE_CONSUMER};
    }
    return 0;
}
