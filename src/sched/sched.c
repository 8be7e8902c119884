/*
 * Scheduling: partial execution along channels.
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
 *
 * The search is bottleneck driven: find the step with the most live bytes,
 * try every qualifying segment through it with several slice counts, keep the
 * one that lowers the overall peak most (fewest extra steps on ties), repeat
 * until nothing helps. The peak is measured on the real plan each candidate
 * would produce, so slices, partial sums and every other buffer count.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#include "sched/sched_int.h"


typedef struct {
    const ir_graph *g;
    const k_call *calls;
    const int32_t *order; /* position -> op index */
    plan_t *p;
    int32_t cap_steps, cap_bufs;
    util_arena *a;
    /* NULL: every step made. Else the plan is only scored: a streamed
     * segment's steps are a template's (see tmpl_use), not in p->steps. */
    stream_cache *cache;
    tmpl_use *uses;       /* in step order */
    int32_t n_uses;
    int32_t *rows;        /* [n_steps * 6] rows each view touches, once known */
} builder;

static int32_t new_buffer(builder *b, int32_t tensor, plan_buf_kind kind, int32_t c_begin, int32_t c_stored,
                          size_t size) {
    plan_t *p = b->p;
    if (p->n_buffers >= b->cap_bufs) return -1;
    plan_buffer *x = &p->buffers[p->n_buffers];
    memset(x, 0, sizeof *x);
    x->tensor = tensor;
    x->kind = kind;
    x->c_begin = c_begin;
    x->c_stored = c_stored;
    x->size = size;
    x->first = INT32_MAX;
    x->last = -1;
    x->head = -1;
    x->band_next = -1;
    x->y1 = 0;
    return p->n_buffers++;
}

static plan_view whole_view(builder *b, int32_t tensor) {
    plan_view v = {-1, tensor, 0, 0, 0};
    if (tensor < 0) return v;
    const ir_tensor *t = &b->g->tensors[tensor];
    int32_t d[4];
    lower_nhwc(t, d);
    v.c_stored = d[3];
    if (!t->data) v.buf = b->p->tensor_buffer[tensor];
    return v;
}

static int32_t tensor_buf(builder *b, int32_t tensor) {
    plan_t *p = b->p;
    if (p->tensor_buffer[tensor] < 0) {
        const ir_tensor *t = &b->g->tensors[tensor];
        int32_t d[4];
        lower_nhwc(t, d);
        p->tensor_buffer[tensor] = new_buffer(b, tensor, BUF_TENSOR, 0, d[3], t->bytes);
    }
    return p->tensor_buffer[tensor];
}

static plan_step *new_step(builder *b, int32_t call) {
    plan_t *p = b->p;
    if (p->n_steps >= b->cap_steps) return NULL;
    plan_step *s = &p->steps[p->n_steps++];
    memset(s, 0, sizeof *s);
    s->call = call;
    s->in[0].buf = s->in[1].buf = s->out.buf = -1;
    s->in[0].tensor = s->in[1].tensor = s->out.tensor = -1;
    return s;
}

static void full_tile(const k_call *k, pexc_tile *t) {
    t->y0 = 0;
    t->y1 = k->out_dims[1];
    t->c0 = 0;
    t->c1 = k->out_dims[3];
    t->x0 = t->x1 = 0;
}

/* Whole-op step in TFLite style. */
static int add_whole_step(builder *b, int32_t op) {
    const k_call *k = &b->calls[op];
    if (k->kind == K_NOP && k->in[0] >= 0 && !b->g->tensors[k->in[0]].data) {
        /* output shares the input's buffer */
        b->p->tensor_buffer[k->out] = tensor_buf(b, k->in[0]);
    } else {
        tensor_buf(b, k->out);
    }
    plan_step *s = new_step(b, op);
    if (!s) return -1;
    full_tile(k, &s->tile);
    s->in[0] = whole_view(b, k->in[0]);
    s->in[1] = whole_view(b, k->in[1]);
    s->out = whole_view(b, k->out);
    return 0;
}

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
static int32_t n_readers(const ir_graph *g, int32_t t) {
    int32_t n = 0;
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
        if (t->is_output || t->type != IR_I8 || n_readers(g, k->out) != 1) return 0;
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

static int add_segment(builder *b, const plan_segment *sg) {
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
        psum = new_buffer(b, ke->out, BUF_PSUM, 0, ke->out_dims[3], (size_t)t->elems * 4);
        if (psum < 0) return -1;
    } else {
        tensor_buf(b, ke->out);
    }
    for (int32_t k = 0; k < K; k++) {
        int32_t a = (int32_t)((int64_t)C * k / K), z = (int32_t)((int64_t)C * (k + 1) / K);
        int32_t r0 = a, r1 = z;       /* channels of the chain tensor entering op j */
        plan_view prev = {-1, -1, 0, 0, 0};
        for (int32_t j = s; j <= e; j++) {
            const k_call *kc = &calls[ord[j]];
            plan_step *st = new_step(b, ord[j]);
            if (!st) return -1;
            st->tile.y0 = 0;
            st->tile.y1 = kc->out_dims[1];
            /* operands */
            st->in[0] = whole_view(b, kc->in[0]);
            st->in[1] = whole_view(b, kc->in[1]);
            if (j > s) st->in[chain_operand(kc, calls[ord[j - 1]].out)] = prev;
            if (j == e && consumer_last) {
                st->mode = STEP_ACC;
                st->ic0 = r0;
                st->ic1 = r1;
                st->first = k == 0;
                full_tile(kc, &st->tile);
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
                st->out = whole_view(b, kc->out);
            } else {
                const ir_tensor *t = &g->tensors[kc->out];
                size_t sz = (size_t)kc->out_dims[0] * (size_t)kc->out_dims[1] * (size_t)kc->out_dims[2] *
                            (size_t)(o1 - o0) * ir_type_size(t->type);
                int32_t bi = new_buffer(b, kc->out, BUF_SLICE, o0, o1 - o0, sz);
                if (bi < 0) return -1;
                st->out = (plan_view){bi, kc->out, o0, o1 - o0, 0};
            }
            prev = st->out;
            r0 = o0;
            r1 = o1;
        }
    }
    if (consumer_last) {
        tensor_buf(b, ke->out);
        plan_step *st = new_step(b, ord[e]);
        if (!st) return -1;
        st->mode = STEP_FINISH;
        full_tile(ke, &st->tile);
        st->in[0] = (plan_view){psum, ke->out, 0, ke->out_dims[3], 0};
        st->out = whole_view(b, ke->out);
    }
    return 0;
}

/* ---- row streaming --------------------------------------------------------- */

/* A sequence operator with a step form (an LSTM): its output pixel q, one
 * row of the sequence, needs input pixel q and the rows before it, which
 * the state carries; the rows of the input and output are pixels of the
 * same NHWC grid. */
static int is_seq(const k_call *k) {
    return ops_steps_of(k) && k->in[0] >= 0 && k->in_dims[0][0] == 1 && k->out_dims[0] == 1 &&
           k->in_dims[0][1] == k->out_dims[1] && k->in_dims[0][2] == k->out_dims[2];
}

/* A reshape inside a streamed chain (an LSTM's output flattened for a
 * fully-connected layer): it has no step and no buffer of its own; its
 * reader reads its producer's ring. */
static int is_alias(const ir_graph *g, const k_call *k) {
    return k->kind == K_NOP && k->alias_off == 0 && k->in[0] >= 0 && !g->tensors[k->in[0]].data;
}

/* Ops that can make a range of output rows from a range of input rows. */
static int is_streamable(const k_call *k) {
    switch (k->kind) {
    case K_CONV: case K_DWCONV: case K_AVGPOOL: case K_MAXPOOL: case K_ADD: case K_MUL: case K_REQUANT:
    case K_LOGISTIC: case K_LUT: return 1;
    case K_PAD: return k->pad.before[0] == 0 && k->in_dims[0][0] == k->out_dims[0];
    case K_TRANSPOSE: return k->elem_size == 1 && k->transpose.rank <= 4; /* reads its input whole */
    case K_GENERIC: return is_seq(k);
    default: return 0;
    }
}

/* Ops that can end a streamed chain by consuming their input a few rows at
 * a time into int32 partial sums: a fully-connected layer over the flattened
 * rows, or an average pool whose output is a single row (a global pool). */
static int is_row_consumer(const k_call *k) {
    return k->kind == K_FC || k->kind == K_FC_F32 ||
           ((k->kind == K_AVGPOOL || k->kind == K_DWCONV) && k->out_dims[1] == 1 && k->out_dims[0] == 1);
}

int sched_window(const k_call *k, int which, int32_t *sh, int32_t *sw, int32_t *pt, int32_t *pl, int32_t *span_h,
                 int32_t *span_w) {
    *sh = *sw = *span_h = *span_w = 1;
    *pt = *pl = 0;
    switch (k->kind) {
    case K_CONV: case K_DWCONV:
        *sh = k->conv.stride_h;
        *sw = k->conv.stride_w;
        *pt = k->conv.pad_top;
        *pl = k->conv.pad_left;
        *span_h = (k->kh - 1) * k->conv.dilation_h + 1;
        *span_w = (k->kw - 1) * k->conv.dilation_w + 1;
        return 1;
    case K_AVGPOOL: case K_MAXPOOL:
        *sh = k->pool.stride_h;
        *sw = k->pool.stride_w;
        *pt = k->pool.pad_top;
        *pl = k->pool.pad_left;
        *span_h = k->pool.filter_h;
        *span_w = k->pool.filter_w;
        return 1;
    case K_PAD:
        *pt = k->pad.before[1];
        *pl = k->pad.before[2];
        return 1;
    case K_ADD: case K_MUL: case K_REQUANT: case K_LOGISTIC: case K_LUT: case K_QUANT_F32: case K_DEQUANT_F32:
        /* same pixels; an operand broadcast along H or W is read whole */
        return k->in_dims[which][1] == k->out_dims[1] && k->in_dims[which][2] == k->out_dims[2];
    case K_GENERIC: return which == 0 && is_seq(k); /* a row of the sequence per pixel */
    default: return 0;
    }
}

/* The window geometry of one operand, looked up once. */
typedef struct {
    int window; /* 0: read whole */
    int32_t sh, sw, pt, pl, fh, fw, H, W, OW, OH;
} px_geom;

static px_geom geom_of(const k_call *k, int which) {
    px_geom g;
    g.window = sched_window(k, which, &g.sh, &g.sw, &g.pt, &g.pl, &g.fh, &g.fw);
    g.H = k->in_dims[which][1];
    g.W = k->in_dims[which][2];
    g.OW = k->out_dims[2];
    g.OH = k->out_dims[1];
    return g;
}

/* Raster index of the last input pixel output pixel (y, x) reads, or -1. */
static int64_t px_hi(const px_geom *g, int64_t y, int64_t x) {
    int64_t r = y * g->sh - g->pt + g->fh - 1, c = x * g->sw - g->pl + g->fw - 1;
    if (r > g->H - 1) r = g->H - 1;
    if (r < 0) return -1;
    if (c > g->W - 1) c = g->W - 1;
    if (c < 0) return -1; /* the window lies in the left padding */
    return r * g->W + c;
}

static int64_t geom_need(const px_geom *g, int64_t q) {
    int64_t all = (int64_t)g->H * g->W;
    if (q <= 0) return 0;
    if (!g->window) return all;
    int64_t y = (q - 1) / g->OW, x = (q - 1) % g->OW;
    int64_t hi = px_hi(g, y, x);
    if (y > 0) {
        int64_t h2 = px_hi(g, y - 1, g->OW - 1);
        if (h2 > hi) hi = h2;
    }
    return hi + 1 > all ? all : hi + 1;
}

/* First input pixel (raster) output pixel (y, x) reads. */
static int64_t px_lo(const px_geom *g, int64_t y, int64_t x) {
    int64_t r = y * g->sh - g->pt, c = x * g->sw - g->pl;
    if (r < 0) r = 0;
    if (c < 0) c = 0;
    if (c > g->W) c = g->W;
    int64_t lo = r * g->W + c, all = (int64_t)g->H * g->W;
    return lo > all ? all : lo;
}

/* The least of what output pixel q and those after it read: its own first
 * tap, or column 0 of the next output row's top input row (lower when top
 * padding clips both rows to input row 0). */
static int64_t geom_low(const px_geom *g, int64_t q) {
    if (!g->window) return 0;
    int64_t y = q / g->OW, lo = px_lo(g, y, q % g->OW);
    if (y + 1 < g->OH) {
        int64_t l2 = px_lo(g, y + 1, 0);
        if (l2 < lo) lo = l2;
    }
    return lo;
}

int64_t sched_px_need(const k_call *k, int which, int64_t q) {
    px_geom g = geom_of(k, which);
    return geom_need(&g, q);
}

int64_t sched_px_low(const k_call *k, int which, int64_t q) {
    px_geom g = geom_of(k, which);
    return geom_low(&g, q);
}

#define STREAM_MAX_OPS 256

/* The operators of a streamed segment and who reads whose output. */
typedef struct {
    int32_t m;                       /* ops (reshapes inside the chain are not among them) */
    int32_t pos[STREAM_MAX_OPS];     /* op i's position in the segment */
    int rows_are_px;                 /* a chain of one-row sequences: a "row" of a step is a pixel */
    const k_call *k[STREAM_MAX_OPS];
    int64_t P[STREAM_MAX_OPS];       /* output pixels (a consumer: its input's) */
    int32_t W[STREAM_MAX_OPS];       /* output width (a consumer: its input's) */
    int32_t n_rd[STREAM_MAX_OPS];    /* in-segment readers of op i's output */
    int32_t rd[STREAM_MAX_OPS][8];   /* reader op i * 2 + operand */
    int32_t src[STREAM_MAX_OPS][2];  /* in-segment producer of operand o, or -1 */
    px_geom geom[STREAM_MAX_OPS][2]; /* operand windows */
    /* geom_need and geom_low of each operand for q in [0, P], looked up
     * instead of worked out (NULL: worked out) */
    const int64_t *need_tab[STREAM_MAX_OPS][2], *low_tab[STREAM_MAX_OPS][2];
    int consumer;                    /* the last op consumes rows into partial sums */
} stream_info;

/* Readers of tensor t, a chain reshape of it (alias {output, t}, t the
 * chain tensor it finally reshapes) counted as the readers of its output. */
static int32_t readers_through(const ir_graph *g, int32_t t, const int32_t (*alias)[2], int32_t n_alias) {
    int32_t n = n_readers(g, t);
    for (int32_t a = 0; a < n_alias; a++)
        if (alias[a][1] == t) n += n_readers(g, alias[a][0]) - 1;
    return n;
}

/* Fills si for positions [s, e]; returns 0 if they form a streamable chain. */
static int stream_analyse(const ir_graph *g, const k_call *calls, const int32_t *order, int32_t s, int32_t e,
                          stream_info *si) {
    if (e < s || e - s + 1 > STREAM_MAX_OPS) return -1;
    int32_t m = 0;
    si->consumer = 0;
    int tall = 0, seq = 0;
    int32_t alias[STREAM_MAX_OPS][2], n_alias = 0; /* {output, input} of the chain's reshapes */
    for (int32_t pos = s; pos <= e; pos++) {
        const k_call *k = &calls[order[pos]];
        if (pos > s && pos < e && is_alias(g, k)) {
            int32_t t = k->in[0];
            for (int32_t a = n_alias - 1; a >= 0; a--)
                if (alias[a][0] == t) t = alias[a][1];
            int made = 0; /* a reshape of a tensor the chain makes */
            for (int32_t j = 0; j < m; j++) made |= si->k[j]->out == t;
            if (!made || g->tensors[k->out].is_output) return -1;
            alias[n_alias][0] = k->out;
            alias[n_alias][1] = t;
            n_alias++;
            continue;
        }
        int32_t i = m++;
        si->k[i] = k;
        si->pos[i] = pos - s;
        si->n_rd[i] = 0;
        int32_t ty = g->tensors[k->out].type;
        if (pos == e && i > 0 && is_row_consumer(k)) si->consumer = 1;
        else if (!is_streamable(k)) return -1;
        /* int8 chains; a float32 sequence streams into float32 ones */
        int f32_ok = is_seq(k) || (si->consumer && k->kind == K_FC_F32);
        if (k->out_dims[0] != 1 || (ty != IR_I8 && !(ty == IR_F32 && f32_ok))) return -1;
        if (is_seq(k) && (int64_t)k->out_dims[1] * k->out_dims[2] > 1) seq = 1;
        for (int o = 0; o < 2; o++) {
            si->src[i][o] = -1;
            si->need_tab[i][o] = si->low_tab[i][o] = NULL;
            if (k->in[o] < 0) continue;
            si->geom[i][o] = geom_of(k, o);
            int32_t ti = g->tensors[k->in[o]].type;
            if (k->in_dims[o][0] != 1 || (ti != IR_I8 && !(ti == IR_F32 && f32_ok))) return -1;
            int32_t t = k->in[o];
            for (int32_t a = n_alias - 1; a >= 0; a--)
                if (alias[a][0] == t) t = alias[a][1];
            for (int32_t j = 0; j < i; j++)
                if (si->k[j]->out == t) si->src[i][o] = j;
        }
        si->P[i] = (int64_t)k->out_dims[1] * k->out_dims[2];
        si->W[i] = k->out_dims[2];
        if (k->out_dims[1] > 1) tall = 1;
    }
    si->m = m;
    if (!tall && !si->consumer && !seq) return -1;
    si->rows_are_px = seq && !tall;
    for (int32_t i = 0; i < m; i++) {
        const k_call *k = si->k[i];
        for (int o = 0; o < 2; o++) {
            int32_t j = si->src[i][o];
            if (j < 0) {
                /* an operand from outside: read whole, any height for
                 * element-wise broadcasting is handled by the kernel */
                if (i == m - 1 && si->consumer && o == 0) return -1;
                continue;
            }
            const k_call *p = si->k[j];
            if (si->consumer && i == m - 1) {
                if (o != 0) return -1;
                if (k->kind == K_FC || k->kind == K_FC_F32) {
                    if (k->in_dims[0][3] != p->out_dims[1] * p->out_dims[2] * p->out_dims[3] ||
                        k->in_dims[0][0] != 1)
                        return -1;
                } else if (memcmp(k->in_dims[0], p->out_dims, sizeof p->out_dims) != 0) {
                    return -1;
                }
                si->P[i] = (int64_t)p->out_dims[1] * p->out_dims[2];
                si->W[i] = p->out_dims[2];
            } else if (memcmp(k->in_dims[o], p->out_dims, sizeof p->out_dims) != 0) {
                return -1; /* element-wise operands from the chain are not broadcast */
            }
            if (si->n_rd[j] >= 8) return -1;
            si->rd[j][si->n_rd[j]++] = i * 2 + o;
        }
    }
    for (int32_t j = 0; j + 1 < m; j++) {
        const ir_tensor *t = &g->tensors[si->k[j]->out];
        if (t->is_output || si->n_rd[j] == 0 ||
            si->n_rd[j] != readers_through(g, si->k[j]->out, (const int32_t(*)[2])alias, n_alias))
            return -1;
    }
    return 0;
}

int sched_stream_ok(const ir_graph *g, const k_call *calls, const int32_t *order, int32_t s, int32_t e) {
    stream_info si;
    return stream_analyse(g, calls, order, s, e, &si) == 0;
}

/* Prefix of operand o's pixels that op i's output pixels [0, q) need, and
 * the first of them output pixel q still needs (a row consumer's "pixels"
 * are its input's). */
static int64_t stream_need(const stream_info *si, int32_t i, int o, int64_t q) {
    if (si->consumer && i == si->m - 1) return q;
    if (si->need_tab[i][o] && q >= 0 && q <= si->P[i]) return si->need_tab[i][o][q];
    return geom_need(&si->geom[i][o], q);
}

static int64_t stream_lo(const stream_info *si, int32_t i, int o, int64_t q) {
    if (si->consumer && i == si->m - 1) return q;
    if (si->low_tab[i][o] && q >= 0 && q <= si->P[i]) return si->low_tab[i][o][q];
    return geom_low(&si->geom[i][o], q);
}

typedef struct {
    int64_t done[STREAM_MAX_OPS], need[STREAM_MAX_OPS];
    int64_t ring[STREAM_MAX_OPS];    /* pixels each intermediate must hold */
    int64_t chunk[STREAM_MAX_OPS];   /* pixels each op makes per step */
    int32_t buf[STREAM_MAX_OPS];     /* its buffer (pass 2) */
    int32_t psum;
    /* op i found it could not move with done[i], its bound and its
     * in-chain inputs' done as here: no need to look again until one of
     * them changes */
    int64_t stuck[STREAM_MAX_OPS][4];
    /* pass 1's moves, {op, first pixel, end pixel} each, for pass 2 to make
     * the same steps without walking again (NULL: walk again) */
    int64_t (*trace)[3];
    size_t n_trace, cap_trace;
    plan_view view[STREAM_MAX_OPS][3]; /* pass 2: each op's operands and output */
} stream_state;

/* Lowest pixel of op j's output that a reader still needs. */
static int64_t stream_low(const stream_info *si, const stream_state *st, int32_t j) {
    int64_t lo = st->done[j];
    for (int32_t r = 0; r < si->n_rd[j]; r++) {
        int32_t i = si->rd[j][r] / 2, o = si->rd[j][r] % 2;
        if (st->done[i] >= si->P[i]) continue;
        int64_t a = stream_lo(si, i, o, st->done[i]);
        if (a < lo) lo = a;
    }
    return lo;
}

static plan_view ring_view(const stream_info *si, const stream_state *st, int32_t j) {
    const k_call *k = si->k[j];
    plan_view v = {st->buf[j], k->out, 0, k->out_dims[3], st->ring[j] < si->P[j] ? (int32_t)st->ring[j] : 0};
    return v;
}

/* The tile of pixels [q0, q1) of an output w pixels wide. */
static pexc_tile pixel_tile(int64_t q0, int64_t q1, int32_t w, int32_t c) {
    pexc_tile t = {(int32_t)(q0 / w), (int32_t)((q1 - 1) / w + 1), 0, c, (int32_t)(q0 % w), (int32_t)(q1 % w)};
    return t;
}

/* One step of op i making pixels [q0, q1) (pass 2 only). */
static int stream_step(builder *b, const stream_info *si, const stream_state *st, int32_t pos, int32_t i,
                       int64_t q0, int64_t q1) {
    const k_call *k = si->k[i];
    int32_t op = b->order[pos];
    if (si->consumer && i == si->m - 1) {
        int32_t j = si->src[i][0];
        const k_call *p = si->k[j];
        int64_t ring = st->ring[j] < si->P[j] ? st->ring[j] : si->P[j];
        if (k->kind == K_FC || k->kind == K_FC_F32) {
            /* the FC reads its features contiguously: one step per stretch
             * of pixels that does not wrap around the ring */
            int32_t C = p->out_dims[3];
            for (int64_t r = q0; r < q1;) {
                int64_t base = r - r % ring, e = base + ring < q1 ? base + ring : q1;
                plan_step *s = new_step(b, op);
                if (!s) return -1;
                s->mode = STEP_ACC;
                s->ic0 = (int32_t)(r * C);
                s->ic1 = (int32_t)(e * C);
                s->first = r == 0;
                full_tile(k, &s->tile);
                s->in[0] = (plan_view){st->buf[j], p->out, (int32_t)(base * C), (int32_t)(ring * C), 0};
                s->out = (plan_view){st->psum, k->out, 0, k->out_dims[3], 0};
                r = e;
            }
            return 0;
        }
        plan_step *s = new_step(b, op);
        if (!s) return -1;
        s->mode = STEP_ACC;
        s->ic0 = (int32_t)q0;
        s->ic1 = (int32_t)q1;
        s->first = q0 == 0;
        full_tile(k, &s->tile);
        s->in[0] = ring_view(si, st, j);
        s->out = (plan_view){st->psum, k->out, 0, k->out_dims[3], 0};
        return 0;
    }
    plan_step *s = new_step(b, op);
    if (!s) return -1;
    s->tile = pixel_tile(q0, q1, k->out_dims[2], k->out_dims[3]);
    s->in[0] = st->view[i][0];
    s->in[1] = st->view[i][1];
    s->out = st->view[i][2];
    return 0;
}

/* Can op i make its pixels [q0, q1) now (its in-chain inputs exist)? */
static int stream_ready(const stream_info *si, const stream_state *st, int32_t i, int64_t q1) {
    for (int o = 0; o < 2; o++) {
        int32_t j = si->src[i][o];
        if (j >= 0 && stream_need(si, i, o, q1) > st->done[j]) return 0;
    }
    return 1;
}

/* Walks the chain, one chunk of the last op's pixels at a time. Each round
 * works out how many pixels every op must have made for the readers' next
 * pixels, then runs the ops in passes, each op making at most its chunk per
 * step and only pixels whose inputs exist, so the pipeline fills a little
 * at a time and every ring holds no more than its readers' window (a 3x3
 * convolution's input ring: two rows and a few pixels). Pass 1 (b == NULL)
 * sizes the rings; pass 2 emits the steps. */
static int stream_walk(builder *b, const stream_info *si, stream_state *st, int32_t s) {
    int32_t m = si->m;
    int64_t P = si->P[m - 1];
    if (b) /* the views every step of op i takes (no buffer is made while stepping) */
        for (int32_t i = 0; i < m; i++) {
            const k_call *k = si->k[i];
            for (int o = 0; o < 2; o++)
                st->view[i][o] = si->src[i][o] >= 0 ? ring_view(si, st, si->src[i][o]) : whole_view(b, k->in[o]);
            st->view[i][2] = i + 1 < si->m ? ring_view(si, st, i) : whole_view(b, k->out);
        }
    if (b && st->trace) {
        for (size_t t = 0; t < st->n_trace; t++)
            if (stream_step(b, si, st, s + si->pos[st->trace[t][0]], (int32_t)st->trace[t][0], st->trace[t][1],
                            st->trace[t][2]))
                return -1;
        return 0;
    }
    for (int32_t i = 0; i < m; i++) {
        st->done[i] = 0;
        st->stuck[i][0] = -1;
    }
    for (int64_t tgt = st->chunk[m - 1] < P ? st->chunk[m - 1] : P;;
         tgt = tgt + st->chunk[m - 1] < P ? tgt + st->chunk[m - 1] : P) {
        st->need[m - 1] = tgt;
        for (int32_t j = m - 2; j >= 0; j--) {
            int64_t need = st->done[j];
            for (int32_t r = 0; r < si->n_rd[j]; r++) {
                int32_t i = si->rd[j][r] / 2, o = si->rd[j][r] % 2;
                int64_t bb = stream_need(si, i, o, st->need[i]);
                if (bb > need) need = bb;
            }
            if (tgt == P) need = si->P[j]; /* every pixel once, read or not */
            st->need[j] = need;
        }
        for (;;) {
            int pending = 0, moved = 0;
            for (int32_t i = 0; i < m; i++) {
                if (st->need[i] <= st->done[i]) continue;
                pending = 1;
                int64_t q0 = st->done[i], hi = st->need[i] < q0 + st->chunk[i] ? st->need[i] : q0 + st->chunk[i];
                int64_t d0 = si->src[i][0] >= 0 ? st->done[si->src[i][0]] : -1;
                int64_t d1 = si->src[i][1] >= 0 ? st->done[si->src[i][1]] : -1;
                int64_t *stuck = st->stuck[i];
                if (stuck[0] == q0 && stuck[1] == hi && stuck[2] == d0 && stuck[3] == d1) continue;
                /* the most pixels whose inputs have been made (need is
                 * monotone in q: bisect; none when not even pixel q0) */
                int64_t lo = stream_ready(si, st, i, hi) ? hi : q0;
                if (lo < hi && stream_ready(si, st, i, q0 + 1)) {
                    int64_t top = hi;
                    lo = q0 + 1;
                    while (lo < top) {
                        int64_t mid = lo + (top - lo + 1) / 2;
                        if (stream_ready(si, st, i, mid)) lo = mid;
                        else top = mid - 1;
                    }
                }
                if (lo <= q0) {
                    stuck[0] = q0;
                    stuck[1] = hi;
                    stuck[2] = d0;
                    stuck[3] = d1;
                    continue;
                }
                if (b && stream_step(b, si, st, s + si->pos[i], i, q0, lo)) return -1;
                if (!b && st->trace) {
                    if (st->n_trace == st->cap_trace) {
                        size_t cap = st->cap_trace ? 2 * st->cap_trace : 1024;
                        int64_t(*t)[3] = realloc(st->trace, sizeof *t * cap);
                        if (!t) {
                            free(st->trace); /* pass 2 walks again */
                            st->trace = NULL;
                        } else {
                            st->trace = t;
                            st->cap_trace = cap;
                        }
                    }
                    if (st->trace) {
                        st->trace[st->n_trace][0] = i;
                        st->trace[st->n_trace][1] = q0;
                        st->trace[st->n_trace][2] = lo;
                        st->n_trace++;
                    }
                }
                st->done[i] = lo;
                moved = 1;
                if (!b && i + 1 < m) {
                    int64_t req = lo - stream_low(si, st, i);
                    if (req < lo - q0) req = lo - q0;
                    if (req > st->ring[i]) st->ring[i] = req;
                }
            }
            if (!pending) break;
            if (!moved) return -1; /* cannot happen: the first op short of its need can always move */
        }
        if (tgt == P) break;
    }
    return 0;
}

/* ---- templates of streamed segments ------------------------------------ */

static void tmpl_free_parts(stream_tmpl *t) {
    free(t->ops);
    free(t->ring);
    free(t->outer);
    free(t->calls);
    free(t->refs);
    free(t->groups);
    memset(t, 0, sizeof *t);
}

static void tmpl_drop(stream_cache *c, stream_tmpl *t) {
    c->bytes -= t->bytes;
    tmpl_free_parts(t);
}

void sched_cache_free(stream_cache *c) {
    if (c->t)
        for (int32_t i = 0; i < c->n; i++)
            if (c->t[i].live) tmpl_drop(c, &c->t[i]);
    free(c->t);
    free(c->steps);
    free(c->bufs);
    free(c->rows);
    free(c->uses);
    if (c->tabs)
        for (int32_t i = 0; i < c->n_calls * 4; i++) free(c->tabs[i]);
    free(c->tabs);
    memset(c, 0, sizeof *c);
}

#define GEOM_TAB_MAX ((int64_t)1 << 22) /* pixels; larger outputs work each value out */

/* Points si's operand windows at their tables, making those missing. */
static void geom_tables(builder *b, stream_info *si) {
    stream_cache *c = b->cache;
    if (!c->tabs) {
        c->tabs = calloc((size_t)b->g->n_ops * 4 + 1, sizeof(int64_t *));
        if (!c->tabs) return;
        c->n_calls = b->g->n_ops;
    }
    for (int32_t i = 0; i < si->m; i++) {
        if (si->consumer && i == si->m - 1) continue;
        int32_t call = (int32_t)(si->k[i] - b->calls);
        int64_t P = si->P[i];
        if (call < 0 || call >= c->n_calls || P > GEOM_TAB_MAX) continue;
        for (int o = 0; o < 2; o++) {
            if (si->k[i]->in[o] < 0) continue;
            int64_t **need = &c->tabs[call * 4 + o * 2], **low = need + 1;
            if (!*need || !*low) {
                free(*need);
                free(*low);
                *need = malloc(sizeof(int64_t) * (size_t)(P + 1));
                *low = malloc(sizeof(int64_t) * (size_t)(P + 1));
                if (!*need || !*low) {
                    free(*need);
                    free(*low);
                    *need = *low = NULL;
                    continue;
                }
                for (int64_t q = 0; q <= P; q++) {
                    (*need)[q] = geom_need(&si->geom[i][o], q);
                    (*low)[q] = geom_low(&si->geom[i][o], q);
                }
            }
            si->need_tab[i][o] = *need;
            si->low_tab[i][o] = *low;
        }
    }
}

/* Makes *x hold at least n items of size sz (contents not kept). */
static int scratch(void **x, size_t *cap, size_t n, size_t sz) {
    if (n <= *cap) return 0;
    free(*x);
    *x = malloc(n * sz);
    *cap = *x ? n : 0;
    return *x ? 0 : -1;
}

/* The template of segment sg under this operator order, or -1. */
static int32_t cache_find(const stream_cache *c, const int32_t *order, const plan_segment *sg) {
    for (int32_t i = 0; i < c->n; i++) {
        const stream_tmpl *t = &c->t[i];
        if (t->live && t->s == sg->op_first && t->e == sg->op_last && t->seg_rows == sg->rows &&
            t->frac == sg->frac && memcmp(t->ops, order + t->s, sizeof(int32_t) * (size_t)(t->e - t->s + 1)) == 0)
            return i;
    }
    return -1;
}

static void note_use(builder *b, int32_t tmpl, int32_t step0, int32_t base) {
    /* one per streamed segment: uses has room for every segment */
    b->uses[b->n_uses++] = (tmpl_use){tmpl, step0, b->cache->t[tmpl].n_steps, base};
}

/* The buffer behind reference r of template t used with its own buffers
 * from base (-1: none), and the tensor its steps see in it. */
static int32_t ref_buf(builder *b, const stream_tmpl *t, const tmpl_ref *r, int32_t base, int32_t *tensor) {
    if (r->enc >= 0) {
        *tensor = b->p->buffers[base + r->enc].tensor;
        return base + r->enc;
    }
    *tensor = t->outer[-2 - r->enc];
    return whole_view(b, *tensor).buf;
}

/* Makes segment sg's template from the steps [step0, n_steps) it just made,
 * its own buffers from base. No room (templates the current build uses
 * are never evicted) just means no template. */
static void cache_put(builder *b, const plan_segment *sg, const stream_state *st, int32_t m, int32_t base,
                      int32_t step0) {
    stream_cache *c = b->cache;
    plan_t *p = b->p;
    int32_t n = p->n_steps - step0;
    stream_tmpl x;
    memset(&x, 0, sizeof x);
    x.s = sg->op_first;
    x.e = sg->op_last;
    x.seg_rows = sg->rows;
    x.frac = sg->frac;
    x.m = m;
    x.n_own = p->n_buffers - base;
    x.n_steps = n;
    int32_t max_refs = 3 * m + 2; /* each op's operands and output */
    x.ops = malloc(sizeof(int32_t) * (size_t)(x.e - x.s + 1)); /* order[s..e], reshapes included */
    x.ring = malloc(sizeof(int64_t) * (size_t)m);
    x.outer = malloc(sizeof(int32_t) * (size_t)max_refs);
    x.calls = malloc(sizeof(int32_t) * (size_t)(n + 1));
    x.refs = malloc(sizeof(tmpl_ref) * (size_t)max_refs);
    /* (ref, r0, r1, step) of every view of a whole tensor, then grouped */
    int32_t(*seen)[4] = malloc(sizeof *seen * (3 * (size_t)n + 1));
    if (!x.ops || !x.ring || !x.outer || !x.calls || !x.refs || !seen) goto fail;
    memcpy(x.ops, b->order + x.s, sizeof(int32_t) * (size_t)(x.e - x.s + 1));
    memcpy(x.ring, st->ring, sizeof(int64_t) * (size_t)m);
    int32_t n_seen = 0;
    for (int32_t i = 0; i < n; i++) {
        const plan_step *y = &p->steps[step0 + i];
        x.calls[i] = y->call;
        for (int w = 0; w < 3; w++) {
            const plan_view *v = w == 2 ? &y->out : &y->in[w];
            if (v->buf < 0) continue;
            int32_t enc;
            if (v->buf >= base) {
                enc = v->buf - base;
            } else {
                /* a whole tensor made before the segment: looked up again
                 * by the builds using the template */
                int32_t k = 0;
                while (k < x.n_outer && x.outer[k] != v->tensor) k++;
                if (k == x.n_outer) {
                    if (k == max_refs) goto fail; /* cannot happen */
                    x.outer[x.n_outer++] = v->tensor;
                }
                enc = -2 - k;
            }
            int32_t r = 0;
            while (r < x.n_refs && x.refs[r].enc != enc) r++;
            if (r == x.n_refs) {
                if (r == max_refs) goto fail; /* cannot happen */
                /* outer tensors are whole tensors (tensor_buffer holds
                 * nothing else) */
                x.refs[x.n_refs++] = (tmpl_ref){enc, i, i, enc < 0 || p->buffers[v->buf].kind == BUF_TENSOR, 0, 0, 0};
            }
            x.refs[r].last = i;
            if (x.refs[r].tensor) {
                int32_t r0, r1, d[4];
                plan_step_rows(b->g, b->calls, y, w, &r0, &r1);
                lower_nhwc(&b->g->tensors[v->tensor], d);
                if (r0 > 0 || r1 < d[1]) x.refs[r].partial = 1;
                seen[n_seen][0] = r;
                seen[n_seen][1] = r0;
                seen[n_seen][2] = r1;
                seen[n_seen][3] = i;
                n_seen++;
            }
        }
    }
    x.groups = malloc(sizeof(tmpl_rows) * (size_t)(n_seen + 1));
    if (!x.groups) goto fail;
    for (int32_t r = 0; r < x.n_refs; r++) {
        x.refs[r].g0 = x.n_groups;
        for (int32_t i = 0; i < n_seen; i++) {
            if (seen[i][0] != r) continue;
            tmpl_rows *gr = x.n_groups > x.refs[r].g0 ? &x.groups[x.n_groups - 1] : NULL;
            if (gr && gr->r0 == seen[i][1] && gr->r1 == seen[i][2]) {
                gr->hi = seen[i][3];
            } else {
                x.groups[x.n_groups++] = (tmpl_rows){seen[i][1], seen[i][2], seen[i][3], seen[i][3]};
            }
        }
        x.refs[r].ng = x.n_groups - x.refs[r].g0;
    }
    free(seen);
    seen = NULL;
    x.bytes = sizeof(int32_t) * (size_t)n + sizeof(tmpl_rows) * (size_t)x.n_groups +
              (sizeof(int32_t) * 2 + sizeof(int64_t) + sizeof(tmpl_ref)) * (size_t)max_refs + 64;
    if (x.bytes > STREAM_CACHE_BYTES / 2) goto fail;
    while (c->bytes + x.bytes > STREAM_CACHE_BYTES) {
        int32_t lru = -1;
        for (int32_t i = 0; i < c->n; i++)
            if (c->t[i].live && c->t[i].used < c->tick && (lru < 0 || c->t[i].used < c->t[lru].used)) lru = i;
        if (lru < 0) goto fail;
        tmpl_drop(c, &c->t[lru]);
    }
    int32_t slot = -1;
    for (int32_t i = 0; i < c->n && slot < 0; i++)
        if (!c->t[i].live) slot = i;
    if (slot < 0) {
        if (c->n >= STREAM_CACHE_SLOTS) goto fail;
        slot = c->n++;
    }
    x.used = c->tick;
    x.live = 1;
    c->t[slot] = x;
    c->bytes += x.bytes;
    note_use(b, slot, step0, base);
    return;
fail:
    free(seen);
    tmpl_free_parts(&x);
}

/* Takes template slot's steps as the next ones, its own buffers from base
 * (they are not made: a scored plan does not need them). */
static int replay(builder *b, int32_t slot, int32_t base) {
    stream_tmpl *t = &b->cache->t[slot];
    plan_t *p = b->p;
    if (p->n_steps > b->cap_steps - t->n_steps) return -1; /* the walk would run out of steps too */
    note_use(b, slot, p->n_steps, base);
    p->n_steps += t->n_steps;
    t->used = b->cache->tick;
    return 0;
}

static int add_stream_in(builder *b, const plan_segment *sg, stream_state *st);

static int add_stream(builder *b, const plan_segment *sg) {
    stream_state st;
    memset(&st, 0, sizeof st);
    int rc = add_stream_in(b, sg, &st);
    free(st.trace);
    return rc;
}

static int add_stream_in(builder *b, const plan_segment *sg, stream_state *st) {
    const ir_graph *g = b->g;
    stream_info si;
    if (stream_analyse(g, b->calls, b->order, sg->op_first, sg->op_last, &si)) return -1;
    if (b->cache) geom_tables(b, &si);
    for (int32_t i = 0; i < si.m; i++) {
        int64_t w = si.W[i];
        /* a chain of one-row sequences steps by time steps, its pixels */
        st->chunk[i] = sg->frac > 1 ? (w + sg->frac - 1) / sg->frac : (int64_t)sg->rows * (si.rows_are_px ? 1 : w);
    }
    int32_t tmpl = b->cache ? cache_find(b->cache, b->order, sg) : -1;
    if (tmpl >= 0) {
        memcpy(st->ring, b->cache->t[tmpl].ring, sizeof(int64_t) * (size_t)si.m);
    } else {
        st->trace = malloc(sizeof *st->trace * 1024); /* NULL: pass 2 walks again */
        st->cap_trace = st->trace ? 1024 : 0;
        if (stream_walk(NULL, &si, st, sg->op_first)) return -1;
        for (int32_t j = 0; j + 1 < si.m; j++)
            if (st->ring[j] > si.P[j]) st->ring[j] = si.P[j];
    }
    int32_t base = b->p->n_buffers;
    for (int32_t j = 0; j + 1 < si.m; j++) {
        const k_call *k = si.k[j];
        size_t sz = (size_t)st->ring[j] * (size_t)k->out_dims[3] * ir_type_size(g->tensors[k->out].type);
        st->buf[j] = new_buffer(b, k->out, BUF_RING, 0, k->out_dims[3], sz);
        if (st->buf[j] < 0) return -1;
        b->p->buffers[st->buf[j]].ring_px = (int32_t)st->ring[j];
    }
    const k_call *ke = si.k[si.m - 1];
    st->psum = -1;
    if (si.consumer) {
        st->psum = new_buffer(b, ke->out, BUF_PSUM, 0, ke->out_dims[3], (size_t)g->tensors[ke->out].elems * 4);
        if (st->psum < 0) return -1;
    } else {
        tensor_buf(b, ke->out);
    }
    if (tmpl >= 0 && b->p->n_buffers - base == b->cache->t[tmpl].n_own) {
        if (replay(b, tmpl, base)) return -1;
    } else { /* (a template making other buffers cannot happen: walk then) */
        int32_t step0 = b->p->n_steps;
        if (stream_walk(b, &si, st, sg->op_first)) return -1;
        if (b->cache && tmpl < 0) cache_put(b, sg, st, si.m, base, step0);
    }
    if (si.consumer) {
        tensor_buf(b, ke->out);
        plan_step *s = new_step(b, b->order[sg->op_last]);
        if (!s) return -1;
        s->mode = STEP_FINISH;
        full_tile(ke, &s->tile);
        s->in[0] = (plan_view){st->psum, ke->out, 0, ke->out_dims[3], 0};
        s->out = whole_view(b, ke->out);
    }
    return 0;
}

static void touch_buf(plan_buffer *x, int32_t step) {
    if (step < x->first) x->first = step;
    if (step > x->last) x->last = step;
}

/* Marks the buffer behind v (every band of it holding a row in [r0, r1))
 * as used at step. */
static void touch(plan_t *p, const plan_view *v, int32_t step, int32_t r0, int32_t r1) {
    if (v->buf < 0) return;
    plan_buffer *x = &p->buffers[v->buf];
    if (x->head < 0) {
        touch_buf(x, step);
        return;
    }
    for (int32_t k = 0; k < x->n_bands; k++) {
        plan_buffer *band = &p->buffers[plan_band(p, v->buf, k)];
        if (band->y0 < r1 && r0 < band->y1) touch_buf(band, step);
    }
}

/* Rows of tensor t that view v of step st touches (all rows when v sees
 * the buffer under another tensor's shape, as a reshape does). */
static void view_rows(builder *b, int32_t s, int which, int32_t *r0, int32_t *r1) {
    const plan_t *p = b->p;
    const plan_step *st = &p->steps[s];
    const plan_view *v = which == 2 ? &st->out : &st->in[which];
    if (v->tensor != p->buffers[v->buf].tensor) {
        int32_t d[4];
        lower_nhwc(&b->g->tensors[p->buffers[v->buf].tensor], d);
        *r0 = 0;
        *r1 = d[1];
        return;
    }
    /* the rows depend on the step alone: worked out once per build */
    int32_t *c = &b->rows[(size_t)s * 6 + (size_t)which * 2];
    if (c[0] == ROWS_UNKNOWN) plan_step_rows(b->g, b->calls, st, which, &c[0], &c[1]);
    *r0 = c[0];
    *r1 = c[1];
}

#define MAX_BANDS 32

/* Cuts every whole tensor that some step reads or writes only in part (a
 * streamed chain's input or output) into row bands, so the rows already
 * consumed give their memory back and rows not yet produced take none. */
static int split_bands(builder *b, int32_t cap_bufs, util_arena *a) {
    const ir_graph *g = b->g;
    plan_t *p = b->p;
    int32_t n0 = p->n_buffers;
    /* the whole-tensor buffers some step touches only in part */
    char *partial = util_alloc(a, (size_t)n0 + 1);
    if (!partial) return -1;
    memset(partial, 0, (size_t)n0 + 1);
    for (int32_t u = 0; u < b->n_uses; u++) { /* templates: what their steps would mark */
        const tmpl_use *use = &b->uses[u];
        const stream_tmpl *t = &b->cache->t[use->tmpl];
        for (int32_t r = 0; r < t->n_refs; r++) {
            if (!t->refs[r].tensor || !t->refs[r].partial) continue;
            int32_t tensor, bi = ref_buf(b, t, &t->refs[r], use->base, &tensor);
            /* seen under another tensor's shape (a reshape): all rows */
            if (bi < 0 || p->buffers[bi].kind != BUF_TENSOR || p->buffers[bi].tensor != tensor) continue;
            partial[bi] = 1;
        }
    }
    for (int32_t s = 0, u = 0; s < p->n_steps; s++) {
        if (u < b->n_uses && s == b->uses[u].step0) { /* done above */
            s += b->uses[u++].n - 1;
            continue;
        }
        const plan_step *st = &p->steps[s];
        for (int w = 0; w < 3; w++) {
            const plan_view *v = w == 2 ? &st->out : &st->in[w];
            if (v->buf < 0 || partial[v->buf] || p->buffers[v->buf].kind != BUF_TENSOR) continue;
            int32_t r0, r1, d[4];
            lower_nhwc(&g->tensors[p->buffers[v->buf].tensor], d);
            view_rows(b, s, w, &r0, &r1);
            if (r0 > 0 || r1 < d[1]) partial[v->buf] = 1;
        }
    }
    for (int32_t t = 0; t < g->n_tensors; t++) { /* reshape aliases stay whole */
        int32_t bi = p->tensor_buffer[t];
        if (bi >= 0 && t != p->buffers[bi].tensor) partial[bi] = 0;
    }
    for (int32_t bi = 0; bi < n0; bi++) {
        plan_buffer *x = &p->buffers[bi];
        if (x->kind != BUF_TENSOR || !partial[bi]) continue;
        int32_t d[4];
        lower_nhwc(&g->tensors[x->tensor], d);
        if (d[0] != 1 || d[1] < 2) continue;
        int32_t nb = d[1] < MAX_BANDS ? d[1] : MAX_BANDS;
        int32_t per = (d[1] + nb - 1) / nb;
        nb = (d[1] + per - 1) / per;
        if (p->n_buffers + nb - 1 > cap_bufs) return -1;
        size_t row = x->size / (size_t)d[1];
        x = &p->buffers[bi];
        x->head = bi;
        x->n_bands = nb;
        x->band_next = p->n_buffers;
        x->y0 = 0;
        x->y1 = per;
        x->size = row * (size_t)per;
        x->group_off = 0;
        for (int32_t k = 1; k < nb; k++) {
            plan_buffer *y = &p->buffers[p->n_buffers++];
            *y = *x;
            y->n_bands = 0;
            y->band_next = -1;
            y->y0 = k * per;
            y->y1 = (k + 1) * per < d[1] ? (k + 1) * per : d[1];
            y->size = row * (size_t)(y->y1 - y->y0);
            y->group_off = row * (size_t)y->y0;
        }
    }
    return 0;
}

int sched_build_cached(const ir_graph *g, const k_call *calls, const int32_t *order, const plan_segment *segs,
                 int32_t n_segs, plan_t *p, util_arena *a, stream_cache *cache, util_err *err);

int sched_build(const ir_graph *g, const k_call *calls, const int32_t *order, const plan_segment *segs,
                int32_t n_segs, plan_t *p, util_arena *a, util_err *err) {
    return sched_build_cached(g, calls, order, segs, n_segs, p, a, NULL, err);
}

static int build_steps(builder *b, const plan_segment *segs, int32_t n_segs, util_err *err);

/* sched_build, taking and keeping streamed segments' templates in cache
 * (NULL: none). */
int sched_build_cached(const ir_graph *g, const k_call *calls, const int32_t *order, const plan_segment *segs,
                 int32_t n_segs, plan_t *p, util_arena *a, stream_cache *cache, util_err *err) {
    memset(p, 0, sizeof *p);
    p->order = util_alloc(a, sizeof(int32_t) * (size_t)(g->n_ops + 1));
    if (!p->order) return util_fail(err, "out of memory");
    for (int32_t i = 0; i < g->n_ops; i++) p->order[i] = order ? order[i] : i;
    int64_t cap = g->n_ops + 1;
    for (int32_t i = 0; i < n_segs; i++) {
        int64_t len = segs[i].op_last - segs[i].op_first + 1;
        if (segs[i].rows > 0) {
            int64_t h = 1, w = 1, f = segs[i].frac > 1 ? segs[i].frac : 1;
            for (int32_t j = segs[i].op_first; j <= segs[i].op_last && j < g->n_ops; j++) {
                const k_call *k = &calls[p->order[j]];
                if (k->out_dims[1] > h) h = k->out_dims[1];
                if (k->in_dims[0][1] > h) h = k->in_dims[0][1];
                if (k->out_dims[2] > w) w = k->out_dims[2];
            }
            if (h == 1 && f == 1) h = w; /* one-row sequences step by pixels, up to w per op */
            cap += len * (h * f + 1) * 3 + 2;
        } else {
            cap += (int64_t)segs[i].n_slices * len + 1;
        }
    }
    if (cap > 1000000) return util_fail(err, "schedule too large (%lld steps)", (long long)cap);
    builder b = {g, calls, p->order, p, (int32_t)cap, (int32_t)(cap + (int64_t)g->n_tensors * (MAX_BANDS + 1) + 1), a,
                 cache, NULL, 0, NULL};
    if (cache) {
        /* every step and buffer is written whole before use */
        if (scratch((void **)&cache->steps, &cache->steps_cap, (size_t)b.cap_steps, sizeof(plan_step)) ||
            scratch((void **)&cache->bufs, &cache->bufs_cap, (size_t)b.cap_bufs, sizeof(plan_buffer)))
            return util_fail(err, "out of memory");
        p->steps = cache->steps;
        p->buffers = cache->bufs;
    } else {
        p->steps = util_alloc(a, sizeof(plan_step) * (size_t)b.cap_steps);
        p->buffers = util_alloc(a, sizeof(plan_buffer) * (size_t)b.cap_bufs);
    }
    p->tensor_buffer = util_alloc(a, sizeof(int32_t) * (size_t)(g->n_tensors + 1));
    p->segments = util_alloc(a, sizeof(plan_segment) * (size_t)(n_segs + 1));
    if (!p->steps || !p->buffers || !p->tensor_buffer || !p->segments) return util_fail(err, "out of memory");
    if (n_segs) memcpy(p->segments, segs, sizeof(plan_segment) * (size_t)n_segs);
    p->n_segments = n_segs;
    for (int32_t i = 0; i < g->n_tensors; i++) p->tensor_buffer[i] = -1;
    if (cache) {
        cache->tick++;
        cache->n_uses = 0;
        if (scratch((void **)&cache->uses, &cache->uses_cap, (size_t)n_segs + 1, sizeof(tmpl_use)))
            return util_fail(err, "out of memory");
        b.uses = cache->uses;
    }
    int rc = build_steps(&b, segs, n_segs, err);
    if (cache) cache->n_uses = b.n_uses;
    else free(b.rows);
    return rc;
}

static int build_steps(builder *b, const plan_segment *segs, int32_t n_segs, util_err *err) {
    const ir_graph *g = b->g;
    const k_call *calls = b->calls;
    plan_t *p = b->p;
    for (int32_t i = 0; i < g->n_inputs; i++) tensor_buf(b, g->inputs[i]);
    /* variable tensors (operator state) have a buffer whether or not an
     * operator reads them, as in TFLM */
    for (int32_t i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].is_variable) tensor_buf(b, i);
    for (int32_t pos = 0; pos < g->n_ops;) {
        const plan_segment *sg = NULL;
        for (int32_t i = 0; i < n_segs; i++)
            if (segs[i].op_first == pos) sg = &segs[i];
        if (sg) {
            if (sg->rows > 0 ? add_stream(b, sg) : add_segment(b, sg))
                return util_fail(err, "schedule: cannot build segment at op %d", p->order[pos]);
            pos = sg->op_last + 1;
        } else {
            if (add_whole_step(b, p->order[pos]))
                return util_fail(err, "schedule: out of steps at op %d", p->order[pos]);
            pos++;
        }
    }
    /* rows of the steps not from templates, worked out when needed */
    if (b->cache) {
        if (scratch((void **)&b->cache->rows, &b->cache->rows_cap, 6 * (size_t)(p->n_steps + 1), sizeof(int32_t)))
            b->cache->rows = NULL;
        b->rows = b->cache->rows;
    } else {
        b->rows = malloc(sizeof(int32_t) * 6 * (size_t)(p->n_steps + 1));
    }
    if (!b->rows) return util_fail(err, "out of memory");
    for (int32_t u = 0, s0 = 0; u <= b->n_uses; u++) {
        int32_t s1 = u < b->n_uses ? b->uses[u].step0 : p->n_steps;
        for (size_t i = 6 * (size_t)s0; i < 6 * (size_t)s1; i++) b->rows[i] = ROWS_UNKNOWN;
        if (u < b->n_uses) s0 = b->uses[u].step0 + b->uses[u].n;
    }
    if (split_bands(b, b->cap_bufs, b->a)) return util_fail(err, "schedule: out of buffers");
    /* lifetimes from accesses (row bands by the rows each step touches);
     * graph inputs live from the start, outputs to the end; concat inputs
     * are read whole */
    for (int32_t u = 0; u < b->n_uses; u++) { /* templates: what their steps would touch */
        const tmpl_use *use = &b->uses[u];
        const stream_tmpl *t = &b->cache->t[use->tmpl];
        for (int32_t r = 0; r < t->n_refs; r++) {
            const tmpl_ref *ref = &t->refs[r];
            int32_t tensor, bi = ref_buf(b, t, ref, use->base, &tensor);
            if (bi < 0) continue;
            plan_buffer *x = &p->buffers[bi];
            if (x->head < 0) {
                touch_buf(x, use->step0 + ref->first);
                touch_buf(x, use->step0 + ref->last);
                continue;
            }
            /* row bands (only ever of a tensor seen in its own shape) */
            for (int32_t gi = ref->g0; gi < ref->g0 + ref->ng; gi++) {
                const tmpl_rows *gr = &t->groups[gi];
                plan_view v = {bi, tensor, 0, 0, 0};
                touch(p, &v, use->step0 + gr->lo, gr->r0, gr->r1);
                touch(p, &v, use->step0 + gr->hi, gr->r0, gr->r1);
            }
        }
    }
    for (int32_t s = 0, u = 0; s < p->n_steps; s++) {
        if (u < b->n_uses && s == b->uses[u].step0) { /* done above */
            s += b->uses[u++].n - 1;
            continue;
        }
        plan_step *st = &p->steps[s];
        for (int w = 0; w < 3; w++) {
            const plan_view *v = w == 2 ? &st->out : &st->in[w];
            if (v->buf < 0) continue;
            if (p->buffers[v->buf].head < 0) { /* one buffer: the rows do not matter */
                touch_buf(&p->buffers[v->buf], s);
                continue;
            }
            int32_t r0, r1;
            view_rows(b, s, w, &r0, &r1);
            touch(p, v, s, r0, r1);
        }
        const k_call *k = &calls[st->call];
        for (int32_t i = 0; i < k->n_whole; i++) {
            /* a generic call's operand 0 is its view, touched above by rows
             * (a streamed sequence's input may be a ring, or banded) */
            if (k->kind == K_GENERIC && k->whole_in[i] == k->in[0]) continue;
            plan_view v = whole_view(b, k->whole_in[i]);
            touch(p, &v, s, 0, INT32_MAX);
        }
    }
    int32_t last = p->n_steps ? p->n_steps - 1 : 0;
    for (int32_t i = 0; i < p->n_buffers; i++) {
        plan_buffer *x = &p->buffers[i];
        if (x->kind != BUF_TENSOR) continue;
        const ir_tensor *t = &g->tensors[x->tensor];
        if (t->is_input && p->tensor_buffer[x->tensor] == (x->head >= 0 ? x->head : i)) {
            x->first = 0;
            if (x->last < 0) x->last = 0;
        }
    }
    /* operator state keeps its value from one run to the next: alive at
     * every step, so no other buffer ever shares its bytes */
    for (int32_t i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].is_variable && p->tensor_buffer[i] >= 0) {
            p->buffers[p->tensor_buffer[i]].first = 0;
            p->buffers[p->tensor_buffer[i]].last = last;
        }
    for (int32_t i = 0; i < g->n_outputs; i++) {
        int32_t bi = p->tensor_buffer[g->outputs[i]];
        if (bi < 0) continue;
        plan_buffer *x = &p->buffers[bi];
        for (int32_t k = 0; k < (x->head >= 0 ? x->n_bands : 1); k++) {
            plan_buffer *band = &p->buffers[plan_band(p, bi, k)];
            band->last = last;
            if (band->first > last) band->first = last;
        }
    }
    for (int32_t i = 0; i < p->n_buffers; i++)
        if (p->buffers[i].last < 0) { /* never touched (a band of rows nobody reads) */
            p->buffers[i].first = 0;
            p->buffers[i].last = 0;
        }
    return 0;
}

int plan_baseline(const ir_graph *g, const k_call *calls, plan_t *p, util_arena *a, util_err *err) {
    if (sched_build(g, calls, NULL, NULL, 0, p, a, err)) return -1;
    if (plan_memory(p, a, err)) return -1;
    return plan_verify(g, calls, p, err);
}

/* ---- reporting ------------------------------------------------------------ */

int sched_describe_peak(const ir_graph *g, const k_call *calls, const plan_t *p, char *buf, size_t n) {
    int32_t at = 0;
    plan_live_profile(p, NULL, &at);
    if (!p->n_steps) return snprintf(buf, n, "no steps");
    const k_call *k = &calls[p->steps[at].call];
    int len = snprintf(buf, n, "step %d (op %d %s):", at, k->op, ir_op_name(g->ops[k->op].code));
    for (int32_t i = 0; i < p->n_buffers && len >= 0 && (size_t)len < n; i++) {
        const plan_buffer *b = &p->buffers[i];
        size_t size = b->size;
        int32_t y0 = INT32_MAX, y1 = -1;
        if (b->head >= 0) {
            /* the bands of one tensor alive at the peak, as one entry */
            if (b->head != i) continue;
            size = 0;
            for (int32_t bk = 0; bk < b->n_bands; bk++) {
                const plan_buffer *band = &p->buffers[plan_band(p, i, bk)];
                if (band->first > at || band->last < at) continue;
                size += band->size;
                if (band->y0 < y0) y0 = band->y0;
                if (band->y1 > y1) y1 = band->y1;
            }
            if (!size) continue;
        } else if (b->first > at || b->last < at) {
            continue;
        }
        const ir_tensor *t = &g->tensors[b->tensor];
        char what[48] = "";
        if (b->kind == BUF_PSUM) snprintf(what, sizeof what, " partial sums");
        else if (b->kind == BUF_SLICE) snprintf(what, sizeof what, " slice");
        else if (b->kind == BUF_RING) {
            int32_t d[4];
            lower_nhwc(t, d);
            if (b->ring_px % d[2] == 0) snprintf(what, sizeof what, " ring of %d rows", b->ring_px / d[2]);
            else snprintf(what, sizeof what, " ring of %d rows + %d px", b->ring_px / d[2], b->ring_px % d[2]);
        }
        else if (b->head >= 0) snprintf(what, sizeof what, " rows %d-%d", y0, y1 - 1);
        char name[33];
        size_t j = 0;
        for (const char *c = t->name; *c && j < 32; c++) name[j++] = (*c == ';' || *c == '"') ? ',' : *c;
        name[j] = 0;
        len += snprintf(buf + len, n - (size_t)len, " tensor %d%s %zu B \"%s\";", b->tensor, what, size, name);
    }
    return len;
}

/* Multiply-accumulates of a partial-sum depthwise step: the filter taps of
 * its tile whose input pixel lies in [ic0, ic1), times its channels. */
static int64_t dw_acc_macs(const k_call *k, const plan_step *st) {
    const pexc_conv_params *c = &k->conv;
    const pexc_tile *t = &st->tile;
    int32_t H = k->in_dims[0][1], W = k->in_dims[0][2], ow = k->out_dims[2];
    int64_t taps = 0;
    for (int32_t oy = t->y0; oy < t->y1; oy++)
        for (int32_t ox = pexc_tile_xb(t, oy); ox < pexc_tile_xe(t, oy, ow); ox++)
            for (int32_t ky = 0; ky < k->kh; ky++)
                for (int32_t kx = 0; kx < k->kw; kx++) {
                    int32_t iy = oy * c->stride_h - c->pad_top + ky * c->dilation_h;
                    int32_t ix = ox * c->stride_w - c->pad_left + kx * c->dilation_w;
                    int64_t q = (int64_t)iy * W + ix;
                    if (iy >= 0 && iy < H && ix >= 0 && ix < W && q >= st->ic0 && q < st->ic1) taps++;
                }
    return (int64_t)k->out_dims[0] * taps * (t->c1 - t->c0);
}

int64_t plan_step_macs(const ir_graph *g, const k_call *calls, const plan_step *st) {
    const k_call *k = &calls[st->call];
    int64_t px = (int64_t)k->out_dims[0] * pexc_tile_pixels(&st->tile, k->out_dims[2]);
    int64_t ch = st->tile.c1 - st->tile.c0;
    if (st->mode == STEP_FINISH) return 0;
    switch (k->kind) {
    case K_CONV: {
        int64_t cin = st->mode == STEP_ACC ? st->ic1 - st->ic0 : k->in_dims[0][3];
        return px * ch * k->kh * k->kw * cin;
    }
    case K_DWCONV: return st->mode == STEP_ACC ? dw_acc_macs(k, st) : px * ch * k->kh * k->kw;
    case K_FC:
    case K_FC_F32: {
        int64_t depth = st->mode == STEP_ACC ? st->ic1 - st->ic0 : k->in_dims[0][3];
        return (int64_t)k->out_dims[0] * ch * depth;
    }
    case K_GENERIC: {
        int64_t all = ir_op_macs(g, &g->ops[k->op]), P = (int64_t)k->out_dims[0] * k->out_dims[1] * k->out_dims[2];
        /* a sequence's steps share its MACs by rows; other calls run whole */
        return ops_steps_of(k) && P > 0 ? all / P * px : all;
    }
    default: return 0;
    }
}

int plan_step_seq(const plan_t *p, const k_call *k, const plan_step *st) {
    if (!ops_steps_of(k) || st->mode != STEP_FULL) return 0;
    if (st->tile.y0 != 0 || st->tile.y1 != k->out_dims[1] || st->tile.x0 || st->tile.x1) return 1;
    int ring = (st->in[0].buf >= 0 && p->buffers[st->in[0].buf].kind == BUF_RING) ||
               (st->out.buf >= 0 && p->buffers[st->out.buf].kind == BUF_RING);
    return ring;
}
