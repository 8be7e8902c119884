/*
 * Removing channels of a group, and how much each channel weighs.
 *
 * Every array the channel touches is rebuilt without it in the graph's
 * arena (the file's bytes stay untouched, and the writer notices the new
 * pointers): the group's activations lose it from their last dimension;
 * a producer (conv [O,kh,kw,I], fully connected [O,I]) loses output row c
 * of its weights, bias entry c and, when quantised per channel, scale and
 * zero point c; a depthwise convolution ([1,kh,kw,C]) loses column c of its
 * weights and the same bias and quantisation entries; a consumer loses
 * input column c of its weights (its per-output-channel quantisation stays).
 * A RESHAPE's shape operand names the new channel count. The integer
 * arithmetic of every kept channel is untouched, so the kept outputs of an
 * operator are bit for bit what they were, given the same inputs. The
 * same rebuilding, with new slices instead of fewer, widens a group
 * (grow.c).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "prune/prune.h"

/* Rebuilds axis `axis` of constant tensor t (a new array in the arena) with
 * `to` slices: slice j is old slice map[j] when map[j] >= 0; map[j] = -1 - s
 * makes a new slice from old slice s, a copy (fresh PRUNE_FRESH_COPY), its
 * negation (PRUNE_FRESH_NEGATE: int8 and int32 data) or zeros
 * (PRUNE_FRESH_ZERO). Per-channel quantisation follows when q_dim is that
 * axis (a new slice takes its source's). */
static int remap_axis(ir_graph *g, ir_tensor *t, int32_t axis, const int32_t *map, int32_t to, int fresh,
                      util_err *err) {
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
                int32_t src = map[c] >= 0 ? map[c] : -1 - map[c];
                uint8_t *w = d + ((size_t)o * (size_t)to + (size_t)c) * row;
                const uint8_t *r = t->data + ((size_t)o * (size_t)n + (size_t)src) * row;
                if (map[c] >= 0 || fresh == PRUNE_FRESH_COPY) memcpy(w, r, row);
                else if (fresh == PRUNE_FRESH_ZERO) memset(w, 0, row);
                else if (t->type == IR_I8)
                    for (int64_t k = 0; k < inner; k++) {
                        int v = -(int)(int8_t)r[k];
                        w[k] = (uint8_t)(int8_t)(v > 127 ? 127 : v);
                    }
                else if (t->type == IR_I32)
                    for (int64_t k = 0; k < inner; k++) {
                        int32_t v;
                        memcpy(&v, r + 4 * k, 4);
                        v = v == INT32_MIN ? INT32_MAX : -v;
                        memcpy(w + 4 * k, &v, 4);
                    }
                else memcpy(w, r, row);
            }
        t->data = d;
    }
    if (t->nq == n && n > 1 && t->q_dim == axis) {
        float *sc = util_alloc(&g->arena, sizeof(float) * (size_t)to);
        int64_t *z = util_alloc(&g->arena, sizeof(int64_t) * (size_t)to);
        if (!sc || !z) return util_fail(err, "prune: out of memory");
        for (int32_t c = 0; c < to; c++) {
            int32_t src = map[c] >= 0 ? map[c] : -1 - map[c];
            sc[c] = t->scale[src];
            z[c] = t->zero_point[src];
        }
        t->scale = sc;
        t->zero_point = z;
        t->nq = to;
    }
    t->shape[axis] = to;
    t->elems = t->elems / n * to;
    t->bytes = (size_t)t->elems * es;
    return 0;
}

int prune_remap(ir_graph *g, prune_group *gr, const int32_t *map, int32_t to, util_err *err) {
    uint8_t *done = util_alloc(&g->arena, (size_t)g->n_tensors + 1);
    if (!done) return util_fail(err, "prune: out of memory");
    memset(done, 0, (size_t)g->n_tensors + 1);
    for (int32_t k = 0; k < gr->n_tensors; k++) {
        ir_tensor *t = &g->tensors[gr->tensors[k]];
        if (remap_axis(g, t, t->rank - 1, map, to, PRUNE_FRESH_COPY, err)) return -1;
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
        /* a conv inside its own group (a 1x1 conv between a depthwise and
         * the ADD that closes a residual block) is both producer and
         * consumer: its two axes are changed once each, so the flags are bits */
        uint8_t bit = role == PRUNE_CONSUMER ? 2 : 1;
        if (done[w->index] & bit) continue;
        done[w->index] |= bit;
        /* producers change their output rows (axis 0), depthwise its
         * channel column, consumers their input column: the last axis; new
         * slices are negated copies at producers, plain copies in a
         * depthwise, zeros at consumers (grow.c) */
        int32_t axis = role == PRUNE_PRODUCER ? 0 : w->rank - 1;
        int fresh = role == PRUNE_PRODUCER ? PRUNE_FRESH_NEGATE
                    : role == PRUNE_CONSUMER ? PRUNE_FRESH_ZERO
                                             : PRUNE_FRESH_COPY;
        if (remap_axis(g, w, axis, map, to, fresh, err)) return -1;
        if (role != PRUNE_CONSUMER && op->n_in >= 3 && op->in[2] >= 0 && !done[op->in[2]]) {
            ir_tensor *b = &g->tensors[op->in[2]];
            done[b->index] = 1;
            if (b->rank >= 1 && b->shape[b->rank - 1] == gr->channels &&
                remap_axis(g, b, b->rank - 1, map, to, fresh, err))
                return -1;
        }
    }
    gr->channels = to;
    return 0;
}

int prune_remove(ir_graph *g, prune_group *gr, const uint8_t *keep, util_err *err) {
    int32_t kept = 0;
    for (int32_t c = 0; c < gr->channels; c++) kept += keep[c] != 0;
    if (kept < 1) return util_fail(err, "prune: every channel of a group would go");
    if (kept == gr->channels) return 0;
    int32_t *map = util_alloc(&g->arena, sizeof(int32_t) * (size_t)kept);
    if (!map) return util_fail(err, "prune: out of memory");
    for (int32_t c = 0, j = 0; c < gr->channels; c++)
        if (keep[c]) map[j++] = c;
    return prune_remap(g, gr, map, kept, err);
}

void prune_channel_l1(const ir_graph *g, const prune_group *gr, double *l1) {
    for (int32_t c = 0; c < gr->channels; c++) l1[c] = 0;
    for (int32_t u = 0; u < gr->n_uses; u++) {
        const ir_op *op = &g->ops[gr->uses[u].op];
        int dw = op->code == OP_DEPTHWISE_CONV_2D;
        if (gr->uses[u].role != PRUNE_PRODUCER && !(dw && gr->uses[u].role == PRUNE_CHANNELWISE)) continue;
        const ir_tensor *w = &g->tensors[op->in[1]];
        if (w->type != IR_I8 || !w->data) continue;
        int64_t per = w->elems / gr->channels;
        /* mean |w| so that layers of different fan-in compare */
        for (int64_t i = 0; i < w->elems; i++) {
            int32_t c = dw ? (int32_t)(i % gr->channels) : (int32_t)(i / per);
            float s = w->nq == gr->channels ? w->scale[c] : w->nq > 0 ? w->scale[0] : 1.0f;
            l1[c] += fabs((double)(int8_t)w->data[i] * (double)s) / (double)per;
        }
    }
}
