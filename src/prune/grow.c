/*
 * Widening a group without changing what the model computes.
 *
 * A stepwise prune can leave a group narrower than the budget needs (the
 * peak moved on after it was cut; see widths.c). Its channels are gone, but
 * a trained model can be given new ones that change nothing: each new
 * channel's producers compute something (a copy of an existing channel
 * with its producer weights and bias negated, so after the ReLU it carries
 * the part of the signal the copy drops), and every consumer reads it with
 * weight 0. An int8 weight of 0 adds nothing to the accumulator, whatever
 * the input and zero point, and the per-channel weight scales, biases and
 * activation ranges of every existing channel stay as they are, so the
 * widened model's outputs are the same bytes. Fine-tuning then has the
 * zero weights to grow: their gradients are not zero.
 *
 * Every array is rebuilt in the graph's arena, as edit.c does for removal:
 * activations widen their last dimension; producer weights gain output
 * rows (axis 0), a depthwise inside the group gains columns, both with
 * their bias and per-channel quantisation entries; consumers gain zero
 * input columns; a RESHAPE's shape operand names the new count.
 */
#include <string.h>

#include "prune/prune.h"

/* Axis `axis` of constant t widened from n to `to` slices: slice j >= n is
 * a copy of slice src(j) = (j - n) % n, negated when neg, or zeros when
 * zero; per-channel quantisation follows when q_dim is that axis. */
static int grow_axis(ir_graph *g, ir_tensor *t, int32_t axis, int32_t to, int neg, int zero, util_err *err) {
    int32_t n = t->shape[axis];
    size_t es = ir_type_size(t->type);
    int64_t outer = 1, inner = 1;
    for (int32_t i = 0; i < axis; i++) outer *= t->shape[i];
    for (int32_t i = axis + 1; i < t->rank; i++) inner *= t->shape[i];
    if (t->data) {
        size_t row = (size_t)inner * es;
        uint8_t *d = util_alloc(&g->arena, (size_t)(outer * to) * row + 1);
        if (!d) return util_fail(err, "prune: out of memory");
        for (int64_t o = 0; o < outer; o++)
            for (int32_t c = 0; c < to; c++) {
                uint8_t *w = d + ((size_t)o * (size_t)to + (size_t)c) * row;
                const uint8_t *s = t->data + ((size_t)o * (size_t)n + (size_t)(c < n ? c : (c - n) % n)) * row;
                if (c < n) memcpy(w, s, row);
                else if (zero) memset(w, 0, row);
                else if (!neg) memcpy(w, s, row);
                else if (t->type == IR_I8)
                    for (int64_t i = 0; i < inner; i++) {
                        int v = -(int)(int8_t)s[i];
                        w[i] = (uint8_t)(int8_t)(v > 127 ? 127 : v);
                    }
                else if (t->type == IR_I32)
                    for (int64_t i = 0; i < inner; i++) {
                        int32_t v;
                        memcpy(&v, s + 4 * i, 4);
                        v = v == INT32_MIN ? INT32_MAX : -v;
                        memcpy(w + 4 * i, &v, 4);
                    }
                else memcpy(w, s, row);
            }
        t->data = d;
    }
    if (t->nq == n && n > 1 && t->q_dim == axis) {
        float *s = util_alloc(&g->arena, sizeof(float) * (size_t)to);
        int64_t *z = util_alloc(&g->arena, sizeof(int64_t) * (size_t)to);
        if (!s || !z) return util_fail(err, "prune: out of memory");
        for (int32_t c = 0; c < to; c++) {
            s[c] = t->scale[c < n ? c : (c - n) % n];
            z[c] = t->zero_point[c < n ? c : (c - n) % n];
        }
        t->scale = s;
        t->zero_point = z;
        t->nq = to;
    }
    t->shape[axis] = to;
    t->elems = t->elems / n * to;
    t->bytes = (size_t)t->elems * es;
    return 0;
}

int prune_grow(ir_graph *g, prune_group *gr, int32_t to, util_err *err) {
    if (to <= gr->channels) return 0;
    uint8_t *done = util_alloc(&g->arena, (size_t)g->n_tensors + 1);
    if (!done) return util_fail(err, "prune: out of memory");
    memset(done, 0, (size_t)g->n_tensors + 1);
    for (int32_t k = 0; k < gr->n_tensors; k++) {
        ir_tensor *t = &g->tensors[gr->tensors[k]];
        if (grow_axis(g, t, t->rank - 1, to, 0, 0, err)) return -1;
    }
    for (int32_t u = 0; u < gr->n_uses; u++) {
        const ir_op *op = &g->ops[gr->uses[u].op];
        prune_role role = gr->uses[u].role;
        if (role == PRUNE_CHANNELWISE && op->code != OP_DEPTHWISE_CONV_2D) {
            if (op->code == OP_RESHAPE && op->n_in == 2 && op->in[1] >= 0) {
                ir_tensor *s = &g->tensors[op->in[1]];
                if (s->data && s->type == IR_I32 && s->elems >= 1 && !done[s->index]) {
                    int32_t *d = util_alloc(&g->arena, s->bytes);
                    if (!d) return util_fail(err, "prune: out of memory");
                    memcpy(d, s->data, s->bytes);
                    if (d[s->elems - 1] == gr->channels) d[s->elems - 1] = to;
                    s->data = (const uint8_t *)d;
                    done[s->index] = 1;
                }
            }
            continue;
        }
        ir_tensor *w = &g->tensors[op->in[1]];
        uint8_t bit = role == PRUNE_CONSUMER ? 2 : 1;
        if (done[w->index] & bit) continue;
        done[w->index] |= bit;
        int32_t axis = role == PRUNE_PRODUCER ? 0 : w->rank - 1;
        int neg = role == PRUNE_PRODUCER;
        if (grow_axis(g, w, axis, to, neg, role == PRUNE_CONSUMER, err)) return -1;
        if (role != PRUNE_CONSUMER && op->n_in >= 3 && op->in[2] >= 0 && !done[op->in[2]]) {
            ir_tensor *b = &g->tensors[op->in[2]];
            done[b->index] = 1;
            if (b->rank >= 1 && b->shape[b->rank - 1] == gr->channels &&
                grow_axis(g, b, b->rank - 1, to, neg, 0, err))
                return -1;
        }
    }
    gr->channels = to;
    return 0;
}
