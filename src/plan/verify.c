/*
 * The plan verifier trusts nothing the scheduler or the planner computed
 * beyond the plan itself: it replays the steps, tracking which (row,
 * channel) elements of every buffer have been written, and checks overlap,
 * read-after-write and compute-exactly-once from scratch.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static void tile_px(const pexc_tile *t, int32_t w, int64_t *q0, int64_t *q1) {
    *q0 = (int64_t)t->y0 * w + t->x0;
    *q1 = *q0 + pexc_tile_pixels(t, w);
}

static int overlap_time(const plan_buffer *a, const plan_buffer *b) {
    return a->first <= b->last && b->first <= a->last;
}

/* ---- verifier ------------------------------------------------------------ */

typedef struct {
    int64_t px;       /* n * h * w of the tensor */
    int64_t hw;       /* pixels per batch index */
    int32_t w;
    int32_t c_begin, c_stored;
    int32_t *count;   /* [px][c_stored]: writes (or accumulated channels) */
    int64_t ring;     /* ring buffers: pixels held; 0 otherwise */
    int64_t *slot;    /* [ring]: the logical pixel each physical one holds now */
    int32_t *full;    /* [px]: channels of the pixel whose count is at least 1 */
} cover;

static int32_t *cov_at(cover *c, int64_t pixel, int32_t ch) {
    return &c->count[(size_t)pixel * (size_t)c->c_stored + (size_t)(ch - c->c_begin)];
}

/* Channels of input operand `which` that step st needs. */
static void needed_channels(const k_call *k, const plan_step *st, int which, const int32_t d[4], int32_t *c0,
                            int32_t *c1) {
    *c0 = 0;
    *c1 = d[3];
    switch (k->kind) {
    case K_CONV: case K_FC:
        if (st->mode == STEP_ACC) {
            *c0 = st->ic0;
            *c1 = st->ic1;
        } else if (st->mode == STEP_FINISH) {
            *c0 = st->tile.c0;
            *c1 = st->tile.c1;
        }
        return;
    case K_DWCONV:
        *c0 = st->tile.c0 / k->depth_mult;
        *c1 = (st->tile.c1 - 1) / k->depth_mult + 1;
        return;
    case K_PAD: {
        /* output channels [c0, c1) read input channels shifted by the
         * channel padding, clipped to what exists */
        int32_t a = st->tile.c0 - k->pad.before[3], b = st->tile.c1 - k->pad.before[3];
        *c0 = a < 0 ? 0 : a > d[3] ? d[3] : a;
        *c1 = b < 0 ? 0 : b > d[3] ? d[3] : b;
        return;
    }
    case K_AVGPOOL: case K_MAXPOOL: case K_REQUANT: case K_LOGISTIC: case K_LUT: case K_MEAN:
        *c0 = st->tile.c0;
        *c1 = st->tile.c1;
        return;
    case K_ADD: case K_MUL:
        if (d[3] != 1) {
            *c0 = st->tile.c0;
            *c1 = st->tile.c1;
        }
        (void)which;
        return;
    default: return;
    }
}

/* Is every band of buffer bi holding a row of [r0, r1) alive at step s? */
static int bands_alive(const plan_t *p, int32_t bi, int32_t s, int32_t r0, int32_t r1, int32_t *bad) {
    const plan_buffer *x = &p->buffers[bi];
    if (x->head < 0) {
        *bad = bi;
        return s >= x->first && s <= x->last;
    }
    for (int32_t k = 0; k < x->n_bands; k++) {
        int32_t i = plan_band(p, bi, k);
        const plan_buffer *b = &p->buffers[i];
        if (b->y0 < r1 && r0 < b->y1 && (s < b->first || s > b->last)) {
            *bad = i;
            return 0;
        }
    }
    return 1;
}

int plan_verify(const ir_graph *g, const k_call *calls, const plan_t *p, util_err *err) {
    int rc = -1;
    for (int32_t i = 0; i < p->n_buffers; i++) {
        const plan_buffer *a = &p->buffers[i];
        if (a->offset + a->size > p->arena_bytes)
            return util_fail(err, "plan: buffer %d (tensor %d) [%zu, +%zu) exceeds the %zu-byte arena", i, a->tensor,
                             a->offset, a->size, p->arena_bytes);
        if (a->head >= 0 && a->offset != p->buffers[a->head].offset + a->group_off)
            return util_fail(err, "plan: row band %d of tensor %d is not where its tensor's rows %d.. are", i,
                             a->tensor, a->y0);
        for (int32_t j = i + 1; j < p->n_buffers; j++) {
            const plan_buffer *b = &p->buffers[j];
            if (!overlap_time(a, b)) continue;
            if (a->offset < b->offset + b->size && b->offset < a->offset + a->size)
                return util_fail(err, "plan: buffers %d and %d (tensors %d, %d) are both live at step %d and overlap",
                                 i, j, a->tensor, b->tensor, a->first > b->first ? a->first : b->first);
        }
    }
    /* views lie inside the buffer of the tensor they view */
    for (int32_t t = 0; t < g->n_tensors; t++) {
        int32_t bi = p->tensor_buffer[t];
        if (bi < 0 || g->tensors[t].data) continue;
        size_t off = plan_tensor_offset(g, calls, p, t), whole = p->buffers[bi].size;
        for (int32_t k = 1; p->buffers[bi].head == bi && k < p->buffers[bi].n_bands; k++)
            whole += p->buffers[plan_band(p, bi, k)].size;
        if (off + g->tensors[t].bytes > whole)
            return util_fail(err, "plan: tensor %d viewed at byte %zu of buffer %d reaches past its %zu bytes", t, off,
                             bi, whole);
    }
    cover *cv = calloc((size_t)p->n_buffers + 1, sizeof(cover));
    if (!cv) return util_fail(err, "out of memory verifying the plan");
    for (int32_t i = 0; i < p->n_buffers; i++) {
        const plan_buffer *b = &p->buffers[i];
        if (b->head >= 0 && b->head != i) continue; /* bands share their head's record */
        int32_t d[4];
        lower_nhwc(&g->tensors[b->tensor], d);
        cv[i].hw = (int64_t)d[1] * d[2];
        cv[i].px = (int64_t)d[0] * cv[i].hw;
        cv[i].w = d[2];
        cv[i].c_begin = b->c_begin;
        cv[i].c_stored = b->c_stored;
        cv[i].count = calloc((size_t)cv[i].px * (size_t)b->c_stored + 1, sizeof(int32_t));
        cv[i].full = calloc((size_t)cv[i].px + 1, sizeof(int32_t));
        if (!cv[i].count || !cv[i].full) {
            util_fail(err, "out of memory verifying the plan");
            goto done;
        }
        if (b->kind == BUF_RING) {
            if (b->ring_px < 1 || b->ring_px > cv[i].hw || d[0] != 1 ||
                b->size < (size_t)b->ring_px * (size_t)d[3]) {
                util_fail(err, "plan: ring buffer %d (tensor %d) of %d pixels does not fit its tensor", i, b->tensor,
                          b->ring_px);
                goto done;
            }
            cv[i].ring = b->ring_px;
            cv[i].slot = malloc(sizeof(int64_t) * (size_t)b->ring_px);
            if (!cv[i].slot) {
                util_fail(err, "out of memory verifying the plan");
                goto done;
            }
            for (int32_t r = 0; r < b->ring_px; r++) cv[i].slot[r] = -1;
        }
        if ((g->tensors[b->tensor].is_input || g->tensors[b->tensor].is_variable) && b->kind == BUF_TENSOR) {
            for (size_t k = 0; k < (size_t)cv[i].px * (size_t)b->c_stored; k++) cv[i].count[k] = 1;
            for (int64_t k = 0; k < cv[i].px; k++) cv[i].full[k] = b->c_stored;
        }
    }
    for (int32_t s = 0; s < p->n_steps; s++) {
        const plan_step *st = &p->steps[s];
        const k_call *k = &calls[st->call];
        /* every operand inside its buffer's life (the bands of the rows it
         * touches) and stored range */
        const plan_view *vs[3] = {&st->in[0], &st->in[1], &st->out};
        for (int v = 0; v < 3; v++) {
            const plan_view *x = vs[v];
            if (x->buf < 0) continue;
            const plan_buffer *b = &p->buffers[x->buf];
            if (b->head >= 0 && b->head != x->buf) {
                util_fail(err, "plan: step %d names row band %d instead of its tensor", s, x->buf);
                goto done;
            }
            int32_t r0 = 0, r1 = INT32_MAX, bad = x->buf;
            if (x->tensor == b->tensor) plan_step_rows(g, calls, st, v, &r0, &r1);
            if (!bands_alive(p, x->buf, s, r0, r1, &bad)) {
                util_fail(err, "plan: step %d uses buffer %d (tensor %d) outside its life [%d, %d]", s, bad,
                          b->tensor, p->buffers[bad].first, p->buffers[bad].last);
                goto done;
            }
            if (b->kind == BUF_SLICE && x->tensor == b->tensor &&
                (x->c_begin != b->c_begin || x->c_stored != b->c_stored)) {
                util_fail(err, "plan: step %d views buffer %d with channels [%d,+%d), buffer holds [%d,+%d)", s,
                          x->buf, x->c_begin, x->c_stored, b->c_begin, b->c_stored);
                goto done;
            }
            if (b->kind == BUF_RING && x->tensor == b->tensor && x->ring_px != 0 && x->ring_px != b->ring_px) {
                util_fail(err, "plan: step %d sees ring buffer %d as %d pixels, it holds %d", s, x->buf, x->ring_px,
                          b->ring_px);
                goto done;
            }
        }
        /* reads: every needed element written before (ring buffers: and
         * not yet overwritten by a later row) */
        for (int v = 0; v < 2; v++) {
            const plan_view *x = vs[v];
            if (x->buf < 0) continue;
            int32_t d[4];
            if (st->mode == STEP_FINISH) memcpy(d, k->out_dims, sizeof d);
            else memcpy(d, k->in_dims[v], sizeof d);
            cover *c = &cv[x->buf];
            const plan_buffer *b = &p->buffers[x->buf];
            int32_t td[4];
            lower_nhwc(&g->tensors[b->tensor], td);
            int32_t c0 = c->c_begin, c1 = c->c_begin + c->c_stored;
            int64_t q0 = 0, q1 = c->hw;
            if (x->tensor != b->tensor) {
                /* a reshaped alias: the whole buffer must be written */
            } else {
                plan_step_pixels(g, calls, st, v, &q0, &q1);
                if (memcmp(td, d, sizeof td) == 0) {
                    needed_channels(k, st, v, d, &c0, &c1);
                    if (st->mode == STEP_FINISH) {
                        c0 = st->tile.c0;
                        c1 = st->tile.c1;
                    }
                }
            }
            if (c0 < c->c_begin || c1 > c->c_begin + c->c_stored) {
                util_fail(err, "plan: step %d (op %d) needs channels [%d,%d) of tensor %d; its buffer holds [%d,%d)",
                          s, k->op, c0, c1, x->tensor, c->c_begin, c->c_begin + c->c_stored);
                goto done;
            }
            if (c->ring && q1 - q0 > c->ring) {
                util_fail(err,
                          "plan: step %d (op %d) needs pixels [%lld,%lld) of tensor %d at once; its ring holds %lld",
                          s, k->op, (long long)q0, (long long)q1, x->tensor, (long long)c->ring);
                goto done;
            }
            int32_t want = 1;
            if (st->mode == STEP_FINISH) {
                const ir_tensor *w = &g->tensors[g->ops[k->op].in[1 < g->ops[k->op].n_in ? 1 : 0]];
                want = k->kind == K_AVGPOOL || k->kind == K_DWCONV ? k->in_dims[0][1] * k->in_dims[0][2]
                                                                   : w->shape[w->rank - 1];
            }
            for (int64_t n0 = 0; n0 < c->px / c->hw; n0++)
                for (int64_t q = q0; q < q1; q++) {
                    int32_t y = (int32_t)(q / c->w), xx = (int32_t)(q % c->w);
                    if (c->ring && c->slot[q % c->ring] != q) {
                        util_fail(err,
                                  "plan: step %d (op %d) reads row %d column %d of tensor %d after its ring slot was %s",
                                  s, k->op, y, xx, x->tensor,
                                  c->slot[q % c->ring] < q ? "filled by an older pixel" : "reused");
                        goto done;
                    }
                    /* every channel of the pixel written: nothing to look
                     * at channel by channel (streamed steps read the same
                     * pixels many times) */
                    if (st->mode != STEP_FINISH && c->full[n0 * c->hw + q] == c->c_stored) continue;
                    for (int32_t ch = c0; ch < c1; ch++) {
                        int32_t n = *cov_at(c, n0 * c->hw + q, ch);
                        if (st->mode == STEP_FINISH ? n != want : n < 1) {
                            util_fail(err, "plan: step %d (op %d) reads tensor %d row %d column %d channel %d %s", s,
                                      k->op, x->tensor, y, xx, ch,
                                      st->mode == STEP_FINISH ? "before all its inputs were accumulated"
                                                              : "before it is written");
                            goto done;
                        }
                    }
                }
        }
        /* writes: each element once (partial sums: each input channel, or
         * pooled row, once) */
        const plan_view *o = &st->out;
        if (o->buf < 0) {
            util_fail(err, "plan: step %d has no output buffer", s);
            goto done;
        }
        if (k->kind == K_NOP && st->in[0].buf == o->buf) continue;
        cover *c = &cv[o->buf];
        int64_t t0, t1;
        tile_px(&st->tile, c->w, &t0, &t1);
        if (st->tile.c0 < c->c_begin || st->tile.c1 > c->c_begin + c->c_stored || st->tile.y0 < 0 ||
            st->tile.y1 * (int64_t)c->w > c->hw || st->tile.c0 >= st->tile.c1 || t0 >= t1 ||
            st->tile.x0 < 0 || st->tile.x0 >= c->w || st->tile.x1 < 0 || st->tile.x1 > c->w ||
            (c->ring && t1 - t0 > c->ring)) {
            util_fail(err, "plan: step %d writes tile rows [%d,%d) columns %d..%d channels [%d,%d) outside its buffer",
                      s, st->tile.y0, st->tile.y1, st->tile.x0, st->tile.x1, st->tile.c0, st->tile.c1);
            goto done;
        }
        /* a resource variable's ASSIGN_VARIABLE overwrites state that counts
         * as written from the start: no second-write check */
        if (g->tensors[o->tensor].is_variable) continue;
        for (int64_t n0 = 0; n0 < c->px / c->hw; n0++)
            for (int64_t q = t0; q < t1; q++) {
                int32_t y = (int32_t)(q / c->w);
                if (c->ring) c->slot[q % c->ring] = q;
                for (int32_t ch = st->tile.c0; ch < st->tile.c1; ch++) {
                    int32_t *cnt = cov_at(c, n0 * c->hw + q, ch);
                    if (st->mode == STEP_ACC) {
                        if (st->first ? *cnt != 0 : *cnt == 0) {
                            util_fail(err, "plan: step %d starts or continues partial sums of tensor %d wrongly", s,
                                      o->tensor);
                            goto done;
                        }
                        int32_t was = *cnt;
                        *cnt += st->ic1 - st->ic0;
                        c->full[n0 * c->hw + q] += (*cnt >= 1) - (was >= 1);
                    } else if ((*cnt)++ != 0) {
                        util_fail(err, "plan: step %d computes row %d channel %d of tensor %d a second time", s, y,
                                  ch, o->tensor);
                        goto done;
                    } else {
                        c->full[n0 * c->hw + q]++;
                    }
                }
            }
    }
    /* every whole tensor, slice and streamed tensor complete */
    for (int32_t i = 0; i < p->n_buffers; i++) {
        const plan_buffer *b = &p->buffers[i];
        if (b->kind == BUF_PSUM || !cv[i].count) continue;
        for (size_t k = 0; k < (size_t)cv[i].px * (size_t)b->c_stored; k++)
            if (cv[i].count[k] != 1) {
                util_fail(err, "plan: element %zu of buffer %d (tensor %d) is written %d times, expected once", k, i,
                          b->tensor, cv[i].count[k]);
                goto done;
            }
    }
    for (int32_t i = 0; i < g->n_outputs; i++) {
        int32_t bi = p->tensor_buffer[g->outputs[i]];
        int32_t bad = bi;
        if (bi < 0 || (p->n_steps > 0 && !bands_alive(p, bi, p->n_steps - 1, 0, INT32_MAX, &bad))) {
            util_fail(err, "plan: graph output tensor %d is not alive at the end", g->outputs[i]);
            goto done;
        }
    }
    rc = 0;
done:
    for (int32_t i = 0; i < p->n_buffers; i++) {
        free(cv[i].count);
        free(cv[i].slot);
        free(cv[i].full);
    }
    free(cv);
    return rc;
}
