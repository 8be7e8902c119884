/*
 * The plan verifier trusts nothing the scheduler or the planner computed
 * beyond the plan itself: it replays the steps and checks, from scratch,
 * that no two live buffers overlap, that every element a step reads was
 * written before (and, in a ring buffer, not yet overwritten by a later
 * pixel), and that every element is computed exactly once.
 *
 * It works on ranges, not elements. Every step writes a tile: a run of
 * raster pixels [q0, q1) (q = y * w + x, the same run in every batch
 * index) times a channel range [c0, c1), which is one rectangle in the
 * (pixel, channel) plane of its buffer. So what has been written to a
 * buffer is kept as a list of disjoint rectangles, each with a count (1
 * for a computed element; for int32 partial sums, how many input channels
 * or pixels have been added). A write checks that its rectangle meets no
 * earlier one (or, continuing partial sums, that earlier ones cover it),
 * a read that rectangles of the right count cover all it needs, by
 * summing areas. Rectangles that share a whole edge and a count merge, so
 * a row-streamed or channel-split tensor stays one or two rectangles
 * however many steps write it; the list grows only with plans that write
 * a buffer in scattered pieces.
 *
 * A ring buffer of R pixels holds raster pixel q in slot q % R. Which
 * pixel each slot holds is kept as runs of slots [s0, s1) holding pixels
 * s + off, off a multiple of R; a read of pixel q needs its slot's run to
 * have off = q - q % R. A streamed writer moves through the slots in
 * order, so the runs stay a handful.
 *
 * Memory and time are thus proportional to the plan (steps, buffers and
 * the pieces they are written in), not to tensor elements: a 64 MiB
 * tensor costs what a 64-byte one does.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "sched/stream_io.h"

static void tile_px(const pexc_tile *t, int32_t w, int64_t *q0, int64_t *q1) {
    *q0 = (int64_t)t->y0 * w + t->x0;
    *q1 = *q0 + pexc_tile_pixels(t, w);
}

static int overlap_time(const plan_buffer *a, const plan_buffer *b) {
    return a->first <= b->last && b->first <= a->last;
}

/* ---- rectangles of written elements --------------------------------------- */

/* Pixels [q0, q1) x channels [c0, c1), written n times (n >= 1). */
typedef struct {
    int64_t q0, q1;
    int32_t c0, c1;
    int32_t n;
} rect;

/* Ring slots [s0, s1) holding raster pixels s + off (off < 0: never filled). */
typedef struct {
    int64_t s0, s1, off;
} slot_run;

typedef struct {
    int64_t hw;           /* pixels per batch index (h * w) */
    int32_t w;
    int32_t c_begin, c_stored;
    int used;             /* a head buffer: the record of its bands too */
    rect *r;
    int32_t n_r, cap_r;
    int64_t ring;         /* ring buffers: pixels held; 0 otherwise */
    slot_run *sr;
    int32_t n_sr;
    int64_t read_next;    /* the ring of a streamed model input: the next pixel the caller supplies */
} cover;

/* Which counts a read accepts: at least 1, or exactly `want`. */
typedef struct {
    int exact;
    int32_t want;
} count_ok;

static int ok_count(count_ok k, int32_t n) { return k.exact ? n == k.want : n >= 1; }

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }
static int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

/* Elements of a and b in common (0 when they do not meet). */
static int64_t rect_meet(const rect *a, const rect *b) {
    int64_t dq = min64(a->q1, b->q1) - max64(a->q0, b->q0);
    int64_t dc = min64(a->c1, b->c1) - max64(a->c0, b->c0);
    return dq > 0 && dc > 0 ? dq * dc : 0;
}

static int64_t rect_area(const rect *a) { return (a->q1 - a->q0) * (int64_t)(a->c1 - a->c0); }

/* Elements of q written with an accepted count. Rectangles are disjoint,
 * so areas add. */
static int64_t cover_area(const cover *c, const rect *q, count_ok k) {
    int64_t sum = 0;
    for (int32_t i = 0; i < c->n_r; i++)
        if (ok_count(k, c->r[i].n)) sum += rect_meet(&c->r[i], q);
    return sum;
}

/* The count of element (q, ch), 0 when it has not been written. */
static int32_t cover_at(const cover *c, int64_t q, int32_t ch) {
    for (int32_t i = 0; i < c->n_r; i++) {
        const rect *a = &c->r[i];
        if (a->q0 <= q && q < a->q1 && a->c0 <= ch && ch < a->c1) return a->n;
    }
    return 0;
}

/* The first element of q (raster order, then channel) whose count is not
 * accepted. It sits at q's own corner or just past an edge of a stored
 * rectangle: anywhere else the element one before it is covered by the
 * same rectangles. Only for messages: cubic in the rectangles. */
static void cover_first_bad(const cover *c, const rect *q, count_ok k, int64_t *bq, int32_t *bc) {
    int found = 0;
    *bq = q->q0;
    *bc = q->c0;
    for (int32_t i = -1; i < c->n_r; i++) {
        int64_t y = i < 0 ? q->q0 : c->r[i].q1;
        if (y < q->q0 || y >= q->q1 || (found && y > *bq)) continue;
        for (int32_t j = -1; j < c->n_r; j++) {
            int32_t x = j < 0 ? q->c0 : c->r[j].c1;
            if (x < q->c0 || x >= q->c1 || ok_count(k, cover_at(c, y, x))) continue;
            if (!found || y < *bq || (y == *bq && x < *bc)) {
                *bq = y;
                *bc = x;
                found = 1;
            }
        }
    }
}

static int cover_push(cover *c, rect a) {
    if (c->n_r == c->cap_r) {
        int32_t cap = c->cap_r ? 2 * c->cap_r : 4;
        rect *r = realloc(c->r, sizeof(rect) * (size_t)cap);
        if (!r) return -1;
        c->r = r;
        c->cap_r = cap;
    }
    c->r[c->n_r++] = a;
    return 0;
}

/* Merges rectangle i with any that shares a whole edge and its count,
 * again while the result can grow. */
static void cover_merge(cover *c, int32_t i) {
    for (int again = 1; again;) {
        again = 0;
        for (int32_t j = 0; j < c->n_r; j++) {
            rect *a = &c->r[i], *b = &c->r[j];
            if (j == i || a->n != b->n) continue;
            int along_q = a->c0 == b->c0 && a->c1 == b->c1 && (a->q1 == b->q0 || b->q1 == a->q0);
            int along_c = a->q0 == b->q0 && a->q1 == b->q1 && (a->c1 == b->c0 || b->c1 == a->c0);
            if (!along_q && !along_c) continue;
            a->q0 = min64(a->q0, b->q0);
            a->q1 = max64(a->q1, b->q1);
            a->c0 = a->c0 < b->c0 ? a->c0 : b->c0;
            a->c1 = a->c1 > b->c1 ? a->c1 : b->c1;
            /* drop j: the last rectangle takes its place */
            c->r[j] = c->r[--c->n_r];
            if (i == c->n_r) i = j;
            again = 1;
            break;
        }
    }
}

static int cover_add(cover *c, rect a) {
    if (a.q0 >= a.q1 || a.c0 >= a.c1 || a.n == 0) return 0;
    if (cover_push(c, a)) return -1;
    cover_merge(c, c->n_r - 1);
    return 0;
}

/* Adds d to the count of every element of q, which stored rectangles
 * cover: each rectangle meeting q splits into its parts outside q (count
 * kept) and the part inside (count + d). */
static int cover_bump(cover *c, const rect *q, int32_t d) {
    int32_t n = c->n_r;
    for (int32_t i = 0; i < n; i++) {
        rect a = c->r[i];
        if (!rect_meet(&a, q)) continue;
        rect in = {max64(a.q0, q->q0), min64(a.q1, q->q1), a.c0 > q->c0 ? a.c0 : q->c0,
                   a.c1 < q->c1 ? a.c1 : q->c1, a.n + d};
        rect parts[4] = {
            {a.q0, in.q0, a.c0, a.c1, a.n},
            {in.q1, a.q1, a.c0, a.c1, a.n},
            {in.q0, in.q1, a.c0, in.c0, a.n},
            {in.q0, in.q1, in.c1, a.c1, a.n},
        };
        c->r[i] = in;
        for (int k = 0; k < 4; k++)
            if (parts[k].q0 < parts[k].q1 && parts[k].c0 < parts[k].c1 && cover_push(c, parts[k])) return -1;
    }
    for (int32_t i = c->n_r - 1; i >= 0; i--)
        if (i < c->n_r) cover_merge(c, i);
    return 0;
}

/* ---- ring slots -------------------------------------------------------------- */

/* Slots pixels [q0, q1) fall in (q1 - q0 <= ring): at most two runs. */
static int32_t ring_runs(const cover *c, int64_t q0, int64_t q1, slot_run out[2]) {
    int64_t s = q0 % c->ring, len = q1 - q0;
    if (len <= 0) return 0;
    if (s + len <= c->ring) {
        out[0] = (slot_run){s, s + len, q0 - s};
        return 1;
    }
    out[0] = (slot_run){s, c->ring, q0 - s};
    out[1] = (slot_run){0, len - (c->ring - s), q0 - s + c->ring};
    return 2;
}

/* Writes run w over the slot runs (sorted, covering [0, ring)). */
static int ring_fill(cover *c, slot_run w) {
    int32_t cap = c->n_sr + 2;
    slot_run *nr = malloc(sizeof(slot_run) * (size_t)cap);
    if (!nr) return -1;
    int32_t n = 0;
    for (int32_t i = 0; i < c->n_sr; i++) {
        slot_run a = c->sr[i];
        if (a.s1 <= w.s0 || a.s0 >= w.s1) {
            nr[n++] = a;
            continue;
        }
        if (a.s0 < w.s0) nr[n++] = (slot_run){a.s0, w.s0, a.off};
        if (a.s0 <= w.s0) nr[n++] = w;
        if (a.s1 > w.s1) nr[n++] = (slot_run){w.s1, a.s1, a.off};
    }
    /* neighbours holding consecutive pixels are one run */
    int32_t m = 0;
    for (int32_t i = 0; i < n; i++) {
        if (m > 0 && nr[m - 1].off == nr[i].off && nr[m - 1].s1 == nr[i].s0) nr[m - 1].s1 = nr[i].s1;
        else nr[m++] = nr[i];
    }
    free(c->sr);
    c->sr = nr;
    c->n_sr = m;
    return 0;
}

/* The first pixel of [q0, q1) whose slot holds another pixel, or -1; *held
 * gets the pixel the slot holds (negative: none yet). */
static int64_t ring_first_lost(const cover *c, int64_t q0, int64_t q1, int64_t *held) {
    slot_run need[2];
    int32_t k = ring_runs(c, q0, q1, need);
    for (int32_t j = 0; j < k; j++)
        for (int32_t i = 0; i < c->n_sr; i++) {
            const slot_run *a = &c->sr[i];
            if (a->s1 <= need[j].s0 || a->s0 >= need[j].s1 || a->off == need[j].off) continue;
            int64_t s = max64(a->s0, need[j].s0);
            *held = a->off < 0 ? -1 : s + a->off;
            return s + need[j].off;
        }
    return -1;
}

/* ---- the verifier ------------------------------------------------------------ */

/* Channels of input operand `which` that step st needs. */
static void needed_channels(const k_call *k, const plan_step *st, int which, const int32_t d[4], int32_t *c0,
                            int32_t *c1) {
    *c0 = 0;
    *c1 = d[3];
    switch (k->kind) {
    case K_CONV: case K_FC: case K_FC_F32:
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

/* Is every band of ring group bi holding a slot of logical pixels [q0, q1)
 * alive at step s? A ring cut into bands of slots (sched/ring_bands.c)
 * keeps slot range [y0, y1) in each band. */
static int ring_bands_alive(const plan_t *p, int32_t bi, int32_t s, int64_t q0, int64_t q1, int32_t *bad) {
    const plan_buffer *x = &p->buffers[bi];
    int64_t R = x->ring_px, a = q0 % R, n = q1 - q0 < R ? q1 - q0 : R;
    if (n <= 0) return 1;
    int64_t runs[2][2] = {{a, a + n < R ? a + n : R}, {0, a + n > R ? a + n - R : 0}};
    for (int32_t k = 0; k < x->n_bands; k++) {
        int32_t i = plan_band(p, bi, k);
        const plan_buffer *b = &p->buffers[i];
        for (int r = 0; r < 2; r++)
            if (b->y0 < runs[r][1] && runs[r][0] < b->y1 && (s < b->first || s > b->last)) {
                *bad = i;
                return 0;
            }
    }
    return 1;
}

/* A sequence operator (a call with a step form, ops_steps_of) carries its
 * state from one row to the next, so its steps must make its rows in
 * order, each starting where the one before ended. */
/* A whole buffer the model's streamed ends replaced (no bytes, no step
 * using it: stream_io.c), which nothing needs to fill. */
static int plan_buf_dropped(const plan_t *p, int32_t bi) {
    if (p->buffers[bi].size != 0) return 0;
    for (int32_t s = 0; s < p->n_steps; s++)
        if (p->steps[s].in[0].buf == bi || p->steps[s].in[1].buf == bi || p->steps[s].out.buf == bi) return 0;
    return 1;
}

static int verify_seq_order(const ir_graph *g, const k_call *calls, const plan_t *p, util_err *err) {
    int64_t *next = calloc((size_t)g->n_ops + 1, sizeof(int64_t));
    if (!next) return util_fail(err, "out of memory verifying the plan");
    for (int32_t s = 0; s < p->n_steps; s++) {
        const plan_step *st = &p->steps[s];
        const k_call *k = &calls[st->call];
        if (st->mode != STEP_FULL || !ops_steps_of(k) || st->call < 0 || st->call >= g->n_ops) continue;
        int64_t t0, t1;
        tile_px(&st->tile, k->out_dims[2], &t0, &t1);
        if (t0 != next[st->call]) {
            util_fail(err, "plan: step %d runs rows [%lld,%lld) of sequence operator %d; its state has reached row %lld",
                      s, (long long)t0, (long long)t1, k->op, (long long)next[st->call]);
            free(next);
            return -1;
        }
        next[st->call] = t1;
    }
    free(next);
    return 0;
}

int plan_verify(const ir_graph *g, const k_call *calls, const plan_t *p, util_err *err) {
    if (verify_seq_order(g, calls, p, err)) return -1;
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
            if (!overlap_time(a, b) || !a->size || !b->size) continue; /* (no bytes: a ring's emptied band) */
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
        cover *c = &cv[i];
        c->used = 1;
        c->hw = (int64_t)d[1] * d[2];
        c->w = d[2];
        c->c_begin = b->c_begin;
        c->c_stored = b->c_stored;
        if (b->kind == BUF_RING) {
            size_t held = b->size; /* a ring cut into bands: all of them */
            for (int32_t k = 1; b->head == i && k < b->n_bands; k++) held += p->buffers[plan_band(p, i, k)].size;
            if (b->ring_px < 1 || b->ring_px > c->hw || d[0] != 1 || held < (size_t)b->ring_px * (size_t)d[3]) {
                util_fail(err, "plan: ring buffer %d (tensor %d) of %d pixels does not fit its tensor", i, b->tensor,
                          b->ring_px);
                goto done;
            }
            c->ring = b->ring_px;
            /* one run of slots, none filled yet */
            c->sr = malloc(sizeof(slot_run));
            if (!c->sr) goto oom;
            c->sr[0] = (slot_run){0, c->ring, -1};
            c->n_sr = 1;
        }
        /* a chunk of a model input read by a fully-connected layer is
         * filled by the caller before its step (the order: verify_io.c);
         * a planar input is held by its NHWC view */
        int input_chunk = plan_input_chunk(g, calls, p, i) >= 0;
        int32_t in_i = plan_input_of(g, calls, b->tensor);
        int planar = in_i >= 0 && plan_planar_view(g, calls, g->inputs[in_i]) == b->tensor;
        if ((((g->tensors[b->tensor].is_input || g->tensors[b->tensor].is_variable || planar) &&
              b->kind == BUF_TENSOR) ||
             input_chunk) &&
            cover_add(c, (rect){0, c->hw, c->c_begin, c->c_begin + c->c_stored, 1}))
            goto oom;
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
            int alive;
            if (b->kind == BUF_RING && b->head >= 0) {
                /* a ring in bands of slots: those the pixels fall in */
                int64_t q0 = 0, q1 = b->ring_px;
                if (x->tensor == b->tensor) plan_step_pixels(g, calls, st, v, &q0, &q1);
                alive = ring_bands_alive(p, x->buf, s, q0, q1, &bad);
            } else {
                if (x->tensor == b->tensor) plan_step_rows(g, calls, st, v, &r0, &r1);
                alive = bands_alive(p, x->buf, s, r0, r1, &bad);
            }
            if (!alive) {
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
         * not yet overwritten by a later pixel) */
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
            if (b->kind == BUF_RING && x->tensor == b->tensor && plan_input_of(g, calls, b->tensor) >= 0) {
                /* a streamed model input: the pixels up to what this step
                 * reads arrive now, in raster order, each once */
                int64_t a0, a1;
                plan_step_pixels(g, calls, st, v, &a0, &a1);
                for (int64_t q = c->read_next; q < a1; q += c->ring) {
                    int64_t e = q + c->ring < a1 ? q + c->ring : a1;
                    if (cover_add(c, (rect){q, e, c->c_begin, c->c_begin + c->c_stored, 1})) goto oom;
                    slot_run runs[2];
                    int32_t nruns = ring_runs(c, q, e, runs);
                    for (int32_t i = 0; i < nruns; i++)
                        if (ring_fill(c, runs[i])) goto oom;
                }
                if (a1 > c->read_next) c->read_next = a1;
            }
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
            if (q0 < 0 || q1 > c->hw) {
                util_fail(err, "plan: step %d (op %d) needs pixels [%lld,%lld) of tensor %d, which has %lld", s, k->op,
                          (long long)q0, (long long)q1, x->tensor, (long long)c->hw);
                goto done;
            }
            if (c->ring && q1 - q0 > c->ring) {
                util_fail(err,
                          "plan: step %d (op %d) needs pixels [%lld,%lld) of tensor %d at once; its ring holds %lld",
                          s, k->op, (long long)q0, (long long)q1, x->tensor, (long long)c->ring);
                goto done;
            }
            if (q0 >= q1 || c0 >= c1) continue;
            count_ok want = {0, 1};
            if (st->mode == STEP_FINISH) {
                const ir_tensor *w = &g->tensors[g->ops[k->op].in[1 < g->ops[k->op].n_in ? 1 : 0]];
                want.exact = 1;
                want.want = k->kind == K_AVGPOOL || k->kind == K_DWCONV ? k->in_dims[0][1] * k->in_dims[0][2]
                                                                        : w->shape[w->rank - 1];
            }
            rect need = {q0, q1, c0, c1, 0};
            if (cover_area(c, &need, want) != rect_area(&need)) {
                int64_t bq;
                int32_t bc;
                cover_first_bad(c, &need, want, &bq, &bc);
                util_fail(err, "plan: step %d (op %d) reads tensor %d row %lld column %lld channel %d %s", s, k->op,
                          x->tensor, (long long)(bq / c->w), (long long)(bq % c->w), bc,
                          want.exact ? "before all its inputs were accumulated" : "before it is written");
                goto done;
            }
            int64_t held, lost = c->ring ? ring_first_lost(c, q0, q1, &held) : -1;
            if (lost >= 0) {
                util_fail(err, "plan: step %d (op %d) reads row %lld column %lld of tensor %d after its ring slot was %s",
                          s, k->op, (long long)(lost / c->w), (long long)(lost % c->w), x->tensor,
                          held < lost ? "filled by an older pixel" : "reused");
                goto done;
            }
        }
        /* writes: each element once (partial sums: each input channel, or
         * pooled pixel, once) */
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
            util_fail(err,
                      "plan: step %d (op %d) writes tile rows [%d,%d) columns %d..%d channels [%d,%d) of tensor %d "
                      "outside its buffer",
                      s, k->op, st->tile.y0, st->tile.y1, st->tile.x0, st->tile.x1, st->tile.c0, st->tile.c1,
                      o->tensor);
            goto done;
        }
        /* a resource variable's ASSIGN_VARIABLE overwrites state that counts
         * as written from the start: no second-write check */
        if (g->tensors[o->tensor].is_variable) continue;
        rect tile = {t0, t1, st->tile.c0, st->tile.c1, 1};
        count_ok any = {0, 1};
        if (st->mode == STEP_ACC && !st->first) {
            if (cover_area(c, &tile, any) != rect_area(&tile)) {
                util_fail(err, "plan: step %d (op %d) continues partial sums of tensor %d that were not started", s,
                          k->op, o->tensor);
                goto done;
            }
            if (cover_bump(c, &tile, st->ic1 - st->ic0)) goto oom;
        } else {
            if (cover_area(c, &tile, any) != 0) {
                int64_t bq = t0;
                int32_t bc = tile.c0;
                for (int32_t i = 0; i < c->n_r; i++)
                    if (rect_meet(&c->r[i], &tile)) {
                        /* the first element of the first stored rectangle it meets */
                        bq = max64(c->r[i].q0, t0);
                        bc = c->r[i].c0 > tile.c0 ? c->r[i].c0 : tile.c0;
                        break;
                    }
                if (st->mode == STEP_ACC)
                    util_fail(err, "plan: step %d (op %d) starts partial sums of tensor %d row %lld channel %d again",
                              s, k->op, o->tensor, (long long)(bq / c->w), bc);
                else
                    util_fail(err, "plan: step %d computes row %lld channel %d of tensor %d a second time", s,
                              (long long)(bq / c->w), bc, o->tensor);
                goto done;
            }
            tile.n = st->mode == STEP_ACC ? st->ic1 - st->ic0 : 1;
            if (cover_add(c, tile)) goto oom;
        }
        slot_run runs[2];
        int32_t nruns = c->ring ? ring_runs(c, t0, t1, runs) : 0;
        for (int32_t i = 0; i < nruns; i++)
            if (ring_fill(c, runs[i])) goto oom;
    }
    /* every whole tensor, slice and streamed tensor complete, each element
     * written once */
    for (int32_t i = 0; i < p->n_buffers; i++) {
        const plan_buffer *b = &p->buffers[i];
        const cover *c = &cv[i];
        if (b->kind == BUF_PSUM || !c->used || plan_buf_dropped(p, i)) continue;
        rect whole = {0, c->hw, c->c_begin, c->c_begin + c->c_stored, 0};
        count_ok once = {1, 1};
        if (rect_area(&whole) > 0 && cover_area(c, &whole, once) != rect_area(&whole)) {
            int64_t bq;
            int32_t bc;
            cover_first_bad(c, &whole, once, &bq, &bc);
            util_fail(err, "plan: row %lld column %lld channel %d of buffer %d (tensor %d) is written %d times, "
                           "expected once",
                      (long long)(bq / c->w), (long long)(bq % c->w), bc, i, b->tensor, cover_at(c, bq, bc));
            goto done;
        }
    }
    /* streamed outputs are handed over as they are made (verify_io.c) */
    for (int32_t i = 0; !g->stream_output && i < g->n_outputs; i++) {
        int32_t bi = p->tensor_buffer[g->outputs[i]];
        int32_t bad = bi;
        if (bi < 0 || (p->n_steps > 0 && !bands_alive(p, bi, p->n_steps - 1, 0, INT32_MAX, &bad))) {
            util_fail(err, "plan: graph output tensor %d is not alive at the end", g->outputs[i]);
            goto done;
        }
    }
    rc = 0;
    goto done;
oom:
    util_fail(err, "out of memory verifying the plan");
done:
    for (int32_t i = 0; i < p->n_buffers; i++) {
        free(cv[i].r);
        free(cv[i].sr);
    }
    free(cv);
    return rc;
}
