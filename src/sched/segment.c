/*
 * Channel segments: partial execution along channels.
 *
 * TFLite runs an operator on whole tensors, so at every step the whole input
 * and the whole output are in SRAM. But in a chain such as
 *
 *     1x1 conv (C -> 6C)  ->  pad  ->  depthwise 3x3  ->  1x1 conv (6C -> C')
 *
 * output channel j of the expanding conv feeds only channel j of the pad and
 * of the depthwise, and the projecting conv can consume its input one channel
 * slice at a time by adding each slice's contribution into int32 partial
 * sums. Running the chain K times, once per channel slice, means the two 6C
 * tensors exist only one slice at a time. Every multiply-accumulate is still
 * done exactly once, and integer sums do not depend on order, so the result
 * is byte-identical.
 *
 * A segment [op_first, op_last] qualifies when each op's output feeds only
 * the next op and:
 *   - op_first is a producer (conv / FC computing a slice of its output
 *     channels from its whole input) or a channel-wise op (depthwise, pool,
 *     pad without channel padding, add/mul, requantise, logistic, mean);
 *   - the ops in between are channel-wise;
 *   - op_last is channel-wise (its slices are written straight into its
 *     whole output tensor) or a consumer (conv / FC accumulating slices into
 *     an int32 partial-sum buffer, then requantised in one finishing step).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#include "sched/sched_int.h"

/* ---- segments ------------------------------------------------------------ */

static int is_producer(const k_call *k) { return k->kind == K_CONV || k->kind == K_FC; }

static int is_chanwise(const k_call *k) {
    switch (k->kind) {
    case K_DWCONV: case K_AVGPOOL: case K_MAXPOOL: case K_REQUANT: case K_LOGISTIC: case K_LUT: return 1;
    case K_MEAN: return k->in_dims[0][3] == k->out_dims[3];
    case K_PAD: return k->pad.before[3] == 0 && k->in_dims[0][3] == k->out_dims[3] && k->pad.before[0] == 0 &&
                       k->in_dims[0][0] == k->out_dims[0];
    case K_ADD: case K_MUL:
        /* both operands carry all channels (or broadcast one); the chain
         * operand is sliced, the other is read through a view */
        return (k->in_dims[0][3] == k->out_dims[3] || k->in_dims[0][3] == 1) &&
               (k->in_dims[1][3] == k->out_dims[3] || k->in_dims[1][3] == 1);
    default: return 0;
    }
}

/* Number of ops reading tensor t. */
int32_t sched_tensor_readers(const ir_graph *g, int32_t t) {
    int32_t n = sched_readers_lookup(g, t); /* counted once per search (readers.c) */
    if (n >= 0) return n;
    n = 0;
    for (int32_t o = 0; o < g->n_ops; o++)
        for (int32_t i = 0; i < g->ops[o].n_in; i++)
            if (g->ops[o].in[i] == t) n++;
    return n;
}

/* Does op read tensor t (directly, including concatenation inputs)? */
int sched_op_reads(const ir_graph *g, int32_t op, int32_t t) {
    for (int32_t i = 0; i < g->ops[op].n_in; i++)
        if (g->ops[op].in[i] == t) return 1;
    return 0;
}

/* Do operators a and b both touch one variable tensor? A resource
 * variable's READ_VARIABLE and ASSIGN_VARIABLE have no data dependence the
 * swap above could see, yet their order is the model's meaning. */
int sched_share_state(const ir_graph *g, int32_t a, int32_t b) {
    const ir_op *x = &g->ops[a], *y = &g->ops[b];
    for (int32_t i = 0; i < x->n_in + x->n_out; i++) {
        int32_t t = i < x->n_in ? x->in[i] : x->out[i - x->n_in];
        if (t < 0 || !g->tensors[t].is_variable) continue;
        if (sched_op_reads(g, b, t)) return 1;
        for (int32_t j = 0; j < y->n_out; j++)
            if (y->out[j] == t) return 1;
    }
    return 0;
}

/* Which operand of op reads the chain tensor t (0 or 1), or -1. */
static int chain_operand(const k_call *k, int32_t t) {
    if (k->in[0] == t && k->in[1] != t) return 0;
    if (k->in[1] == t && k->in[0] != t) return 1;
    return -1;
}

/* Does positions [s, e] of the operator order qualify as a segment? */
int sched_segment_ok(const ir_graph *g, const k_call *calls, const int32_t *order, int32_t s, int32_t e) {
    if (e <= s) return 0;
    const k_call *ks = &calls[order[s]];
    if (!is_producer(ks) && !is_chanwise(ks)) return 0;
    if (ks->in[0] < 0 || g->tensors[ks->in[0]].type != IR_I8) return 0;
    for (int32_t j = s; j < e; j++) {
        const k_call *k = &calls[order[j]], *n = &calls[order[j + 1]];
        const ir_tensor *t = &g->tensors[k->out];
        if (t->is_output || t->type != IR_I8 || sched_tensor_readers(g, k->out) != 1) return 0;
        int opnd = chain_operand(n, k->out);
        if (opnd < 0) return 0;
        /* the reader must see exactly the producer's NHWC shape */
        for (int d = 0; d < 4; d++)
            if (n->in_dims[opnd][d] != k->out_dims[d]) return 0;
        if (j + 1 < e && !is_chanwise(n)) return 0;
        if (j + 1 == e && !is_chanwise(n) && !is_producer(n)) return 0;
        if (is_producer(n) && opnd != 0) return 0;
        if (j + 1 > s && (n->kind == K_ADD || n->kind == K_MUL) && n->in_dims[opnd][3] != n->out_dims[3]) return 0;
    }
    return 1;
}

/* Slices are cut in the output channels of the segment's first op: a
 * producer computes them from its whole input, and a channel-wise first op
 * reads whatever input channels they need from its whole input too. */

/* Maps the channel range [a, bnd) entering a later op of the segment to its
 * output channels: a depthwise op multiplies them, the rest keep them. */
static void map_range(const k_call *k, int32_t a, int32_t bnd, int32_t *o0, int32_t *o1) {
    int32_t m = k->kind == K_DWCONV ? k->depth_mult : 1;
    *o0 = a * m;
    *o1 = bnd * m;
}

int sched_segment_add(builder *b, const plan_segment *sg) {
    const ir_graph *g = b->g;
    const k_call *calls = b->calls;
    int32_t s = sg->op_first, e = sg->op_last, K = sg->n_slices;
    const int32_t *ord = b->order;
    const k_call *ks = &calls[ord[s]], *ke = &calls[ord[e]];
    int consumer_last = is_producer(ke);
    int32_t C = sched_entry_channels(ks);
    int32_t psum = -1;
    if (consumer_last) {
        const ir_tensor *t = &g->tensors[ke->out];
        psum = sched_buf_new(b, ke->out, BUF_PSUM, 0, ke->out_dims[3], (size_t)t->elems * 4);
        if (psum < 0) return -1;
    } else {
        sched_tensor_buf(b, ke->out);
    }
    for (int32_t k = 0; k < K; k++) {
        int32_t a = (int32_t)((int64_t)C * k / K), z = (int32_t)((int64_t)C * (k + 1) / K);
        int32_t r0 = a, r1 = z;       /* channels of the chain tensor entering op j */
        plan_view prev = {-1, -1, 0, 0, 0};
        for (int32_t j = s; j <= e; j++) {
            const k_call *kc = &calls[ord[j]];
            plan_step *st = sched_step_new(b, ord[j]);
            if (!st) return -1;
            st->tile.y0 = 0;
            st->tile.y1 = kc->out_dims[1];
            /* operands */
            st->in[0] = sched_view_whole(b, kc->in[0]);
            st->in[1] = sched_view_whole(b, kc->in[1]);
            if (j > s) st->in[chain_operand(kc, calls[ord[j - 1]].out)] = prev;
            if (j == e && consumer_last) {
                st->mode = STEP_ACC;
                st->ic0 = r0;
                st->ic1 = r1;
                st->first = k == 0;
                sched_tile_full(kc, &st->tile);
                st->out = (plan_view){psum, kc->out, 0, kc->out_dims[3], 0};
                break;
            }
            int32_t o0, o1;
            if (j == s) {
                o0 = r0; /* slices are cut in the first op's output channels */
                o1 = r1;
            } else {
                map_range(kc, r0, r1, &o0, &o1);
            }
            st->tile.c0 = o0;
            st->tile.c1 = o1;
            if (j == e) {
                st->out = sched_view_whole(b, kc->out);
            } else {
                const ir_tensor *t = &g->tensors[kc->out];
                size_t sz = (size_t)kc->out_dims[0] * (size_t)kc->out_dims[1] * (size_t)kc->out_dims[2] *
                            (size_t)(o1 - o0) * ir_type_size(t->type);
                int32_t bi = sched_buf_new(b, kc->out, BUF_SLICE, o0, o1 - o0, sz);
                if (bi < 0) return -1;
                st->out = (plan_view){bi, kc->out, o0, o1 - o0, 0};
            }
            prev = st->out;
            r0 = o0;
            r1 = o1;
        }
    }
    if (consumer_last) {
        sched_tensor_buf(b, ke->out);
        plan_step *st = sched_step_new(b, ord[e]);
        if (!st) return -1;
        st->mode = STEP_FINISH;
        sched_tile_full(ke, &st->tile);
        st->in[0] = (plan_view){psum, ke->out, 0, ke->out_dims[3], 0};
        st->out = sched_view_whole(b, ke->out);
    }
    return 0;
}
