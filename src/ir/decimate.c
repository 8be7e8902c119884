/*
 * Decimated skip inputs: a 1x1 convolution with a stride of s reads one
 * input pixel in s x s, so it is the same computation as a 1x1 MAX_POOL_2D
 * of stride s (which copies those pixels: the max of one int8 value,
 * clamped to [-128, 127], is that value) followed by the convolution at
 * stride 1. A residual network's downsampling blocks have such a
 * convolution on their skip path, beside a 3x3 stride-2 convolution that
 * reads the same tensor.
 *
 * Written as the model has it, a row-streamed plan (sched/stream.c)
 * either runs the skip convolution as soon as its input rows exist and
 * holds its wide output (twice the channels) in a ring until the block's
 * ADD catches up, or runs it with the ADD and keeps its input's rows,
 * all of them, that long. Decimated first, the pixels the skip path
 * still needs wait in a ring of a quarter of the pixels, the
 * convolution runs in step with the ADD (stream_paces), and the input's
 * ring holds only what the 3x3 branch reads: ic_resnet8's streamed peak
 * falls from 9,472 to 8,512 bytes.
 *
 * Whole-tensor plans gain nothing (the decimated copy is one more
 * tensor), so the rewrite is a second candidate graph: the API plans
 * both and keeps the lower peak (api/model.c).
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

/* Op i is a strided 1x1 int8 convolution whose input another operator
 * reads too. */
static int is_candidate(const ir_graph *g, int32_t i) {
    const ir_op *op = &g->ops[i];
    if (op->code != OP_CONV_2D || op->n_in < 2 || op->n_out != 1 || !op->has_opt) return 0;
    if (op->opt.stride_h < 2 && op->opt.stride_w < 2) return 0;
    if (op->opt.padding != 0 && op->opt.padding != 1) return 0; /* SAME or VALID: no padding for 1x1 */
    if (op->in[0] < 0 || op->in[1] < 0) return 0;
    const ir_tensor *x = &g->tensors[op->in[0]], *w = &g->tensors[op->in[1]];
    if (x->type != IR_I8 || x->rank != 4 || x->data || x->nq != 1 || x->is_variable) return 0;
    if (w->rank != 4 || w->shape[1] != 1 || w->shape[2] != 1) return 0;
    int32_t readers = 0;
    for (int32_t j = 0; j < g->n_ops; j++)
        for (int32_t k = 0; k < g->ops[j].n_in; k++) readers += g->ops[j].in[k] == op->in[0];
    return readers >= 2;
}

int ir_decimate_candidates(const ir_graph *g) {
    int n = 0;
    for (int32_t i = 0; i < g->n_ops; i++) n += is_candidate(g, i);
    return n;
}

int ir_decimate(ir_graph *g, util_err *err) {
    int n = ir_decimate_candidates(g);
    if (n == 0) return 0;
    ir_op *ops = util_alloc(&g->arena, sizeof(ir_op) * (size_t)(g->n_ops + n));
    ir_tensor *ts = util_alloc(&g->arena, sizeof(ir_tensor) * (size_t)(g->n_tensors + n));
    if (!ops || !ts) return util_fail(err, "out of memory");
    memcpy(ts, g->tensors, sizeof(ir_tensor) * (size_t)g->n_tensors);
    int32_t at = 0, nt = g->n_tensors;
    for (int32_t i = 0; i < g->n_ops; i++) {
        if (is_candidate(g, i)) {
            const ir_op *op = &g->ops[i];
            const ir_tensor *x = &g->tensors[op->in[0]];
            int32_t sh = op->opt.stride_h, sw = op->opt.stride_w;
            ir_tensor *d = &ts[nt];
            *d = *x;
            d->index = nt;
            d->shape[1] = (x->shape[1] - 1) / sh + 1;
            d->shape[2] = (x->shape[2] - 1) / sw + 1;
            d->elems = (int64_t)d->shape[0] * d->shape[1] * d->shape[2] * d->shape[3];
            d->bytes = (size_t)d->elems;
            d->is_input = d->is_output = 0;
            d->producer = at;
            size_t len = strlen(x->name) + 12;
            char *name = util_alloc(&g->arena, len);
            int32_t *in = util_alloc(&g->arena, sizeof(int32_t) * 2); /* input, output */
            int32_t *conv_in = util_alloc(&g->arena, sizeof(int32_t) * (size_t)op->n_in);
            if (!name || !in || !conv_in) return util_fail(err, "out of memory");
            snprintf(name, len, "decimated %s", x->name);
            d->name = name;
            ir_op *p = &ops[at];
            memset(p, 0, sizeof *p);
            p->index = at++;
            p->code = OP_MAX_POOL_2D;
            p->version = 2;
            p->n_in = p->n_out = 1;
            in[0] = op->in[0];
            p->in = in;
            in[1] = nt;
            p->out = in + 1;
            p->has_opt = 1;
            p->opt.padding = 1; /* VALID */
            p->opt.stride_h = sh;
            p->opt.stride_w = sw;
            p->opt.filter_h = p->opt.filter_w = 1;
            p->opt.activation = 0;
            p->n_parts = 1;
            p->src_index = op->src_index;
            ir_op *c = &ops[at];
            *c = *op;
            c->index = at++;
            memcpy(conv_in, op->in, sizeof(int32_t) * (size_t)op->n_in);
            conv_in[0] = nt;
            c->in = conv_in;
            c->opt.stride_h = c->opt.stride_w = 1;
            c->opt.padding = 1;
            nt++;
            continue;
        }
        ops[at] = g->ops[i];
        ops[at].index = at;
        at++;
    }
    g->ops = ops;
    g->n_ops = at;
    g->tensors = ts;
    g->n_tensors = nt;
    return n;
}
