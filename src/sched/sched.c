/*
 * Plan building: the steps and buffers of one schedule (the operator order,
 * which positions form channel-split segments (segment.c) and which are
 * streamed by rows (stream.c)), with every buffer's lifetime, whole tensors
 * read or written in part cut into row bands. The search (search.c)
 * chooses the schedule; plan/ places the buffers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#include "sched/sched_int.h"

int32_t sched_buf_new(builder *b, int32_t tensor, plan_buf_kind kind, int32_t c_begin, int32_t c_stored,
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

plan_view sched_view_whole(builder *b, int32_t tensor) {
    plan_view v = {-1, tensor, 0, 0, 0};
    if (tensor < 0) return v;
    const ir_tensor *t = &b->g->tensors[tensor];
    int32_t d[4];
    lower_nhwc(t, d);
    v.c_stored = d[3];
    if (!t->data) v.buf = b->p->tensor_buffer[tensor];
    return v;
}

int32_t sched_tensor_buf(builder *b, int32_t tensor) {
    plan_t *p = b->p;
    if (p->tensor_buffer[tensor] < 0) {
        const ir_tensor *t = &b->g->tensors[tensor];
        int32_t d[4];
        lower_nhwc(t, d);
        p->tensor_buffer[tensor] = sched_buf_new(b, tensor, BUF_TENSOR, 0, d[3], t->bytes);
    }
    return p->tensor_buffer[tensor];
}

plan_step *sched_step_new(builder *b, int32_t call) {
    plan_t *p = b->p;
    if (p->n_steps >= b->cap_steps) return NULL;
    plan_step *s = &p->steps[p->n_steps++];
    memset(s, 0, sizeof *s);
    s->call = call;
    s->in[0].buf = s->in[1].buf = s->out.buf = -1;
    s->in[0].tensor = s->in[1].tensor = s->out.tensor = -1;
    return s;
}

void sched_tile_full(const k_call *k, pexc_tile *t) {
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
        b->p->tensor_buffer[k->out] = sched_tensor_buf(b, k->in[0]);
    } else {
        sched_tensor_buf(b, k->out);
    }
    plan_step *s = sched_step_new(b, op);
    if (!s) return -1;
    sched_tile_full(k, &s->tile);
    s->in[0] = sched_view_whole(b, k->in[0]);
    s->in[1] = sched_view_whole(b, k->in[1]);
    s->out = sched_view_whole(b, k->out);
    return 0;
}

static void touch_buf(plan_buffer *x, int32_t step) {
    if (step < x->first) x->first = step;
    if (step > x->last) x->last = step;
}

/* Marks the buffer behind v (every band of it holding a row in [r0, r1))
 * as used at step. */
static void touch2(plan_t *p, const plan_view *v, int32_t step, int32_t step2, int32_t r0, int32_t r1);

static void touch(plan_t *p, const plan_view *v, int32_t step, int32_t r0, int32_t r1) {
    touch2(p, v, step, step, r0, r1);
}

/* touch at two steps (a template's row group: its first and last), finding
 * the bands once */
static void touch2(plan_t *p, const plan_view *v, int32_t step, int32_t step2, int32_t r0, int32_t r1) {
    if (v->buf < 0) return;
    plan_buffer *x = &p->buffers[v->buf];
    if (x->head < 0) {
        touch_buf(x, step);
        touch_buf(x, step2);
        return;
    }
    /* split_bands cuts the rows evenly, band k from row k * per: only
     * bands [r0 / per, (r1 - 1) / per] can hold a row of [r0, r1) (looking
     * at every band was half the search's time on deep chains) */
    int32_t per = x->y1 - x->y0, k0 = 0, k1 = x->n_bands - 1;
    if (per > 0 && r1 > r0) {
        if (r0 > 0) k0 = r0 / per;
        if ((r1 - 1) / per < k1) k1 = (r1 - 1) / per;
    }
    for (int32_t k = k0; k <= k1; k++) {
        plan_buffer *band = &p->buffers[plan_band(p, v->buf, k)];
        if (band->y0 < r1 && r0 < band->y1) {
            touch_buf(band, step);
            touch_buf(band, step2);
        }
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

/* Row bands a whole tensor is cut into at most. One row a band up to 96
 * rows: vww_96's first convolution then holds one output row beside the
 * input at step 0, not two (28,416 -> 28,032 bytes), and mobilenet_v2's
 * input gives back its rows three at a time (186,656 -> 183,312); with
 * 128-224 bands mobilenet_v2's search took worse paths (196,032). */
#ifndef MAX_BANDS
#define MAX_BANDS 96
#endif

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
            int32_t tensor, bi = sched_tmpl_buf(b, t, &t->refs[r], use->base, &tensor);
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
        if (bi >= 0 && t != p->buffers[bi].tensor && plan_planar_view(g, b->calls, t) != p->buffers[bi].tensor)
            partial[bi] = 0;
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

/* Is the op at position pos a reshape of a streamed model input that the
 * streamed segment right after it reads through a ring (so it has no step)? */
static int input_reshape_streamed(builder *b, const plan_segment *segs, int32_t n_segs, int32_t pos) {
    const ir_graph *g = b->g;
    const k_call *k = &b->calls[b->order[pos]];
    if (!g->stream_input || k->kind != K_NOP || k->alias_off != 0 || k->in[0] < 0 || !g->tensors[k->in[0]].is_input ||
        g->tensors[k->out].is_output || sched_tensor_readers(g, k->out) != 1 || sched_tensor_readers(g, k->in[0]) != 1)
        return 0;
    for (int32_t i = 0; i < n_segs; i++)
        if (segs[i].op_first == pos + 1 && segs[i].rows > 0 && b->calls[b->order[pos + 1]].in[0] == k->out &&
            sched_stream_reads_input(g, b->calls, b->order, &segs[i]))
            return 1;
    return 0;
}

static int build_steps(builder *b, const plan_segment *segs, int32_t n_segs, int32_t p0, int32_t p1, util_err *err);

/* sched_build, taking and keeping streamed segments' templates in cache
 * (NULL: none). */
int sched_build_cached(const ir_graph *g, const k_call *calls, const int32_t *order, const plan_segment *segs,
                 int32_t n_segs, plan_t *p, util_arena *a, stream_cache *cache, util_err *err) {
    return sched_build_range(g, calls, order, segs, n_segs, 0, g->n_ops - 1, p, a, cache, err);
}

int sched_build_range(const ir_graph *g, const k_call *calls, const int32_t *order, const plan_segment *segs,
                      int32_t n_segs, int32_t p0, int32_t p1, plan_t *p, util_arena *a, stream_cache *cache,
                      util_err *err) {
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
    builder b = {g, calls, p->order, p, (int32_t)cap, (int32_t)(cap + (int64_t)g->n_tensors * (MAX_BANDS + 1) + (cache ? 0 : (int64_t)g->n_ops * SCHED_RING_BANDS) + 1), a,
                 cache, NULL, 0, NULL};
    if (cache) {
        /* every step and buffer is written whole before use */
        if (sched_scratch((void **)&cache->steps, &cache->steps_cap, (size_t)b.cap_steps, sizeof(plan_step)) ||
            sched_scratch((void **)&cache->bufs, &cache->bufs_cap, (size_t)b.cap_bufs, sizeof(plan_buffer)))
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
        if (sched_scratch((void **)&cache->uses, &cache->uses_cap, (size_t)n_segs + 1, sizeof(tmpl_use)))
            return util_fail(err, "out of memory");
        b.uses = cache->uses;
    }
    int rc = build_steps(&b, segs, n_segs, p0, p1, err);
    if (cache) cache->n_uses = b.n_uses;
    else free(b.rows);
    return rc;
}

static int build_steps(builder *b, const plan_segment *segs, int32_t n_segs, int32_t p0, int32_t p1, util_err *err) {
    const ir_graph *g = b->g;
    const k_call *calls = b->calls;
    plan_t *p = b->p;
    for (int32_t i = 0; i < g->n_inputs; i++) {
        /* an input given as channel planes is held NHWC: its buffer is
         * its NHWC view's, which the plan cuts into row bands */
        int32_t v = plan_planar_view(g, calls, g->inputs[i]);
        p->tensor_buffer[g->inputs[i]] = sched_tensor_buf(b, v >= 0 ? v : g->inputs[i]);
    }
    /* variable tensors (operator state) have a buffer whether or not an
     * operator reads them, as in TFLM */
    for (int32_t i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].is_variable) sched_tensor_buf(b, i);
    /* the segment starting at each position (the last listed, as a scan
     * would find), looked up once: a deep chain's plans hold dozens */
    int32_t *seg_at = util_alloc(b->a, sizeof(int32_t) * (size_t)(g->n_ops + 1));
    if (!seg_at) return util_fail(err, "out of memory");
    for (int32_t i = 0; i <= g->n_ops; i++) seg_at[i] = -1;
    for (int32_t i = 0; i < n_segs; i++)
        if (segs[i].op_first >= 0 && segs[i].op_first < g->n_ops) seg_at[segs[i].op_first] = i;
    for (int32_t pos = p0; pos <= p1 && pos < g->n_ops;) {
        const plan_segment *sg = seg_at[pos] >= 0 ? &segs[seg_at[pos]] : NULL;
        if (sg) {
            if (sg->rows > 0 ? sched_stream_add(b, sg) : sched_segment_add(b, sg))
                return util_fail(err, "schedule: cannot build segment at op %d", p->order[pos]);
            pos = sg->op_last + 1;
        } else if (input_reshape_streamed(b, segs, n_segs, pos)) {
            pos++; /* its reader reads the input's rows into a ring itself */
        } else {
            if (add_whole_step(b, p->order[pos]))
                return util_fail(err, "schedule: out of steps at op %d", p->order[pos]);
            pos++;
        }
    }
    /* rows of the steps not from templates, worked out when needed */
    if (b->cache) {
        if (sched_scratch((void **)&b->cache->rows, &b->cache->rows_cap, 6 * (size_t)(p->n_steps + 1), sizeof(int32_t)))
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
            int32_t tensor, bi = sched_tmpl_buf(b, t, ref, use->base, &tensor);
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
                touch2(p, &v, use->step0 + gr->lo, use->step0 + gr->hi, gr->r0, gr->r1);
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
            plan_view v = sched_view_whole(b, k->whole_in[i]);
            touch(p, &v, s, 0, INT32_MAX);
        }
    }
    int32_t last = p->n_steps ? p->n_steps - 1 : 0;
    for (int32_t i = 0; i < p->n_buffers; i++) {
        plan_buffer *x = &p->buffers[i];
        if (x->kind != BUF_TENSOR) continue;
        const ir_tensor *t = &g->tensors[x->tensor];
        /* the buffer of a model input (or of the NHWC view of one given as
         * channel planes) */
        int32_t in_i = t->is_input || !g->input_planar ? -1 : plan_input_of(g, calls, x->tensor);
        int input = t->is_input || (in_i >= 0 && plan_planar_view(g, calls, g->inputs[in_i]) == x->tensor);
        if (g->stream_input && input && x->head < 0 && x->first == INT32_MAX && p->tensor_buffer[x->tensor] == i) {
            /* a streamed input read only through its ring: no whole copy */
            x->size = 0;
            x->first = x->last = 0;
            p->tensor_buffer[x->tensor] = -1;
            if (!t->is_input) p->tensor_buffer[g->inputs[in_i]] = -1;
            continue;
        }
        /* an input held whole is there before the run */
        if (input && p->tensor_buffer[x->tensor] == (x->head >= 0 ? x->head : i)) {
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
    /* an output goes to the caller at the end of the run, unless it is
     * handed over as it is made (--stream-output: sched/stream_io.c) */
    for (int32_t i = 0; !g->stream_output && i < g->n_outputs; i++) {
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
    if (!b->cache && !sched_rings_whole && sched_ring_bands(b)) return util_fail(err, "schedule: out of buffers");
    return 0;
}

int sched_baseline(const ir_graph *g, const k_call *calls, plan_t *p, util_arena *a, util_err *err) {
    if (sched_build(g, calls, NULL, NULL, 0, p, a, err)) return -1;
    if (plan_memory(p, a, err)) return -1;
    return plan_verify(g, calls, p, err);
}

/* ---- reporting ------------------------------------------------------------ */

typedef struct {
    size_t size;
    int32_t buf, y0, y1;
} peak_entry;

static int peak_entry_cmp(const void *a, const void *b) {
    const peak_entry *x = a, *y = b;
    if (x->size != y->size) return x->size < y->size ? 1 : -1;
    return x->buf < y->buf ? -1 : x->buf > y->buf;
}

/* The buffers alive at the peak step, largest first: as many as fit in buf,
 * then how many smaller ones were left out and their bytes (so that a long
 * list, mobilenet_v2's dozens of rings, never ends mid-name), then the
 * alignment padding: the bytes add up to the live bytes at that step. */
int sched_describe_peak(const ir_graph *g, const k_call *calls, const plan_t *p, char *buf, size_t n) {
    int32_t at = 0;
    plan_live_profile(p, NULL, &at);
    if (!p->n_steps) return snprintf(buf, n, "no steps");
    const k_call *k = &calls[p->steps[at].call];
    int len = snprintf(buf, n, "step %d (op %d %s):", at, k->op, ir_op_name(g->ops[k->op].code));
    peak_entry *e = malloc((size_t)(p->n_buffers ? p->n_buffers : 1) * sizeof *e);
    if (!e) return len;
    int32_t ne = 0;
    size_t pad = 0; /* footprints beyond the sizes: alignment */
    for (int32_t i = 0; i < p->n_buffers; i++) {
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
                pad += plan_footprint(p, plan_band(p, i, bk)) - band->size;
                if (band->y0 < y0) y0 = band->y0;
                if (band->y1 > y1) y1 = band->y1;
            }
            if (!size) continue;
        } else if (b->first > at || b->last < at || !size) {
            continue; /* (no bytes: a model end streamed instead of held) */
        }
        if (b->head < 0) pad += plan_footprint(p, i) - size;
        e[ne++] = (peak_entry){size, i, y0, y1};
    }
    qsort(e, (size_t)ne, sizeof *e, peak_entry_cmp);
    int32_t shown = 0;
    for (; shown < ne && len >= 0 && (size_t)len < n; shown++) {
        const plan_buffer *b = &p->buffers[e[shown].buf];
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
        else if (b->head >= 0) snprintf(what, sizeof what, " rows %d-%d", e[shown].y0, e[shown].y1 - 1);
        char name[33];
        size_t j = 0;
        for (const char *c = t->name; *c && j < 32; c++) name[j++] = (*c == ';' || *c == '"') ? ',' : *c;
        name[j] = 0;
        char item[160];
        snprintf(item, sizeof item, " tensor %d%s %zu B \"%s\";", b->tensor, what, e[shown].size, name);
        /* keep room for the closing count of what is left out */
        if (shown + 1 < ne && (size_t)len + strlen(item) + 48 >= n) break;
        if ((size_t)len + strlen(item) >= n) break;
        len += snprintf(buf + len, n - (size_t)len, "%s", item);
    }
    if (shown < ne && len >= 0 && (size_t)len < n) {
        size_t rest = 0;
        for (int32_t i = shown; i < ne; i++) rest += e[i].size;
        len += snprintf(buf + len, n - (size_t)len, " and %d smaller buffers, %zu B in all;", ne - shown, rest);
    }
    if (pad && len >= 0 && (size_t)len < n) len += snprintf(buf + len, n - (size_t)len, " alignment %zu B;", pad);
    free(e);
    return len;
}
