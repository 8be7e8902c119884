/*
 * Plans and the memory planner.
 *
 * A plan is an ordered list of steps (kernel calls on tiles) and a set of
 * buffers, each alive from the step that first writes it to the step that
 * last reads it. The memory planner gives every buffer an offset in one arena
 * so that buffers alive at the same step never overlap.
 *
 * Placement is the offline dynamic-storage-allocation problem. The planner
 * runs a greedy "lowest offset that fits" placement under several orders
 * (largest first, longest-lived first, earliest first) and keeps the best;
 * for a final plan, plan_memory_refine then searches nearby orders. Its
 * result is reported against the lower bound, the largest sum of live bytes
 * at any one step, which no placement can beat.
 *
 * A RESHAPE/SQUEEZE step moves no data: its output shares its input's buffer.
 *
 * The verifier at the end of this file trusts nothing the scheduler or the
 * planner computed beyond the plan itself: it replays the steps, tracking
 * which (row, channel) elements of every buffer have been written, and
 * checks overlap, read-after-write and compute-exactly-once from scratch.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define PLAN_ALIGN 16

static size_t align_up(size_t x) { return (x + PLAN_ALIGN - 1) & ~(size_t)(PLAN_ALIGN - 1); }

static int overlap_time(const plan_buffer *a, const plan_buffer *b) {
    return a->first <= b->last && b->first <= a->last;
}

/* A placed buffer: its bytes and its life. */
typedef struct {
    size_t off, end;
    int32_t first, last;
} span;

/* Sorts a[0, n) ascending: qsort's calls through a comparison pointer
 * were a fifth of the search's time on deep models. */
static void sort_sizes(size_t *a, int32_t n) {
    while (n > 16) {
        size_t x = a[0], y = a[n / 2], z = a[n - 1];
        size_t piv = x < y ? (y < z ? y : x < z ? z : x) : (x < z ? x : y < z ? z : y);
        int32_t i = 0, j = n - 1;
        for (;;) {
            while (a[i] < piv) i++;
            while (a[j] > piv) j--;
            if (i >= j) break;
            size_t t = a[i];
            a[i++] = a[j];
            a[j--] = t;
        }
        /* [0, j] <= piv <= [j + 1, n): recurse on the smaller side */
        if (j + 1 < n - j - 1) {
            sort_sizes(a, j + 1);
            a += j + 1;
            n -= j + 1;
        } else {
            sort_sizes(a + j + 1, n - j - 1);
            n = j + 1;
        }
    }
    for (int32_t i = 1; i < n; i++)
        for (int32_t j = i; j > 0 && a[j - 1] > a[j]; j--) {
            size_t t = a[j - 1];
            a[j - 1] = a[j];
            a[j] = t;
        }
}

/* Bytes buffer i takes in the arena: rounded up to the alignment, except a
 * row band that another band of its tensor follows directly. */
static size_t footprint(const plan_t *p, int32_t i) {
    const plan_buffer *b = &p->buffers[i];
    if (b->head >= 0) {
        const plan_buffer *h = &p->buffers[b->head];
        int32_t last = h->n_bands > 1 ? h->band_next + h->n_bands - 2 : b->head;
        if (i != last) return b->size;
    }
    return align_up(b->size);
}

static int span_meets(const span *s, const plan_buffer *b) { return s->first <= b->last && b->first <= s->last; }

/* Greedy placement of the items (single buffers and band groups, each
 * named by its head) in the given order; returns the arena size. The
 * buffers placed so far are kept in tmp by offset, so finding the lowest
 * gap is one pass over them (the search places thousands of candidate
 * plans, and sorting the placed buffers again for every item made this the
 * compiler's hottest loop). */
static size_t place(const plan_t *p, int32_t n_items, const int32_t *items, size_t *offs, span *tmp,
                    size_t *cands) {
    size_t arena = 0;
    const plan_buffer *bufs = p->buffers;
    int32_t np = 0;
    for (int32_t it = 0; it < n_items; it++) {
        int32_t h = items[it];
        const plan_buffer *hb = &bufs[h];
        int32_t nb = hb->head >= 0 ? hb->n_bands : 1;
        size_t base;
        if (nb == 1) {
            size_t at = 0, need = footprint(p, h);
            for (int32_t j = 0; j < np; j++) {
                if (!span_meets(&tmp[j], hb)) continue;
                if (tmp[j].off >= at + need) break;
                if (tmp[j].end > at) at = align_up(tmp[j].end);
            }
            base = at;
        } else {
            /* the lowest base at which no band meets a placed buffer alive
             * at the same time; candidates are 0 and the bases that put a
             * band right after such a buffer */
            int32_t nc = 0;
            cands[nc++] = 0;
            for (int32_t k = 0; k < nb; k++) {
                const plan_buffer *band = &bufs[plan_band(p, h, k)];
                for (int32_t j = 0; j < np; j++)
                    if (span_meets(&tmp[j], band) && tmp[j].end >= band->group_off)
                        cands[nc++] = align_up(tmp[j].end - band->group_off);
            }
            sort_sizes(cands, nc);
            base = cands[nc - 1];
            for (int32_t c = 0; c < nc; c++) {
                if (c && cands[c] == cands[c - 1]) continue;
                int ok = 1;
                for (int32_t k = 0; k < nb && ok; k++) {
                    int32_t bi = plan_band(p, h, k);
                    const plan_buffer *band = &bufs[bi];
                    size_t lo = cands[c] + band->group_off, hi = lo + footprint(p, bi);
                    for (int32_t j = 0; j < np && ok && tmp[j].off < hi; j++)
                        if (span_meets(&tmp[j], band) && lo < tmp[j].end) ok = 0;
                }
                if (ok) {
                    base = cands[c];
                    break;
                }
            }
        }
        for (int32_t k = 0; k < nb; k++) {
            int32_t bi = plan_band(p, h, k);
            offs[bi] = base + bufs[bi].group_off;
            span x = {offs[bi], offs[bi] + footprint(p, bi), bufs[bi].first, bufs[bi].last};
            int32_t lo = 0, hi = np; /* after every placed span starting at or below it */
            while (lo < hi) {
                int32_t mid = lo + (hi - lo) / 2;
                if (tmp[mid].off <= x.off) lo = mid + 1;
                else hi = mid;
            }
            memmove(tmp + lo + 1, tmp + lo, sizeof(span) * (size_t)(np - lo));
            tmp[lo] = x;
            np++;
            if (x.end > arena) arena = x.end;
        }
    }
    return arena;
}

/* Sort keys of an item: a band group counts as one buffer spanning its
 * bands' sizes and lives. */
typedef struct {
    size_t size;
    int32_t first, last;
} item_key;

static const item_key *sort_keys;
static int cmp_size(const void *x, const void *y) {
    const item_key *a = &sort_keys[*(const int32_t *)x], *b = &sort_keys[*(const int32_t *)y];
    if (a->size != b->size) return a->size > b->size ? -1 : 1;
    return a->first - b->first;
}
static int cmp_life(const void *x, const void *y) {
    const item_key *a = &sort_keys[*(const int32_t *)x], *b = &sort_keys[*(const int32_t *)y];
    int32_t la = a->last - a->first, lb = b->last - b->first;
    if (la != lb) return lb - la;
    if (a->size != b->size) return a->size > b->size ? -1 : 1;
    return a->first - b->first;
}
static int cmp_first(const void *x, const void *y) {
    const item_key *a = &sort_keys[*(const int32_t *)x], *b = &sort_keys[*(const int32_t *)y];
    if (a->first != b->first) return a->first - b->first;
    return a->size > b->size ? -1 : a->size < b->size ? 1 : 0;
}

int plan_memory(plan_t *p, util_arena *a, util_err *err) {
    int32_t n = p->n_buffers;
    int32_t *order = util_alloc(a, sizeof(int32_t) * (size_t)(n + 1));
    size_t *offs = util_alloc(a, sizeof(size_t) * (size_t)(n + 1));
    span *tmp = util_alloc(a, sizeof(span) * (size_t)(n + 1));
    size_t *cands = util_alloc(a, sizeof(size_t) * ((size_t)n * 64 + 2));
    item_key *keys = util_alloc(a, sizeof(item_key) * (size_t)(n + 1));
    if (!order || !offs || !tmp || !cands || !keys)
        return util_fail(err, "out of memory planning %d buffers", n);
    for (int32_t i = 0; i < n; i++) {
        const plan_buffer *b = &p->buffers[i];
        keys[i] = (item_key){b->size, b->first, b->last};
        if (b->head == i)
            for (int32_t k = 1; k < b->n_bands; k++) {
                const plan_buffer *band = &p->buffers[plan_band(p, i, k)];
                keys[i].size += band->size;
                if (band->first < keys[i].first) keys[i].first = band->first;
                if (band->last > keys[i].last) keys[i].last = band->last;
            }
    }
    int (*cmps[3])(const void *, const void *) = {cmp_size, cmp_life, cmp_first};
    size_t best = (size_t)-1;
    for (int k = 0; k < 3; k++) {
        int32_t m = 0;
        for (int32_t i = 0; i < n; i++)
            if (p->buffers[i].head < 0 || p->buffers[i].head == i) order[m++] = i;
        sort_keys = keys;
        qsort(order, (size_t)m, sizeof(int32_t), cmps[k]);
        size_t size = place(p, m, order, offs, tmp, cands);
        if (size < best) {
            best = size;
            for (int32_t i = 0; i < n; i++) p->buffers[i].offset = offs[i];
        }
    }
    p->arena_bytes = n ? best : 0;
    p->live_bytes = util_alloc(a, sizeof(size_t) * (size_t)(p->n_steps + 1));
    if (!p->live_bytes) return util_fail(err, "out of memory");
    p->lower_bound = plan_live_profile(p, p->live_bytes, NULL);
    return 0;
}

/* Local search over placement orders for a final plan: from the best greedy
 * order, move one item earlier or swap two (a fixed pseudo-random sequence,
 * so plans are reproducible), keep every order that places in no more
 * bytes, stop at the lower bound or after a work budget of about
 * `work` buffer-pair checks. The greedy orders leave a gap above the lower
 * bound on small plans with many overlapping rings; this closes part of it. */
int plan_memory_refine(plan_t *p, double work, util_arena *a, util_err *err) {
    int32_t n = p->n_buffers;
    if (n < 2 || p->arena_bytes <= p->lower_bound) return 0;
    int32_t *order = util_alloc(a, sizeof(int32_t) * (size_t)(n + 1));
    int32_t *trial = util_alloc(a, sizeof(int32_t) * (size_t)(n + 1));
    size_t *offs = util_alloc(a, sizeof(size_t) * (size_t)(n + 1));
    span *tmp = util_alloc(a, sizeof(span) * (size_t)(n + 1));
    size_t *cands = util_alloc(a, sizeof(size_t) * ((size_t)n * 64 + 2));
    if (!order || !trial || !offs || !tmp || !cands)
        return util_fail(err, "out of memory planning %d buffers", n);
    /* the items in the order of their planned offsets: placing them in that
     * order gives back the current placement or a better one */
    int32_t m = 0;
    for (int32_t i = 0; i < n; i++)
        if (p->buffers[i].head < 0 || p->buffers[i].head == i) order[m++] = i;
    for (int32_t i = 1; i < m; i++) /* insertion sort by offset, then size */
        for (int32_t j = i; j > 0; j--) {
            const plan_buffer *x = &p->buffers[order[j - 1]], *y = &p->buffers[order[j]];
            if (x->offset < y->offset || (x->offset == y->offset && x->size >= y->size)) break;
            int32_t t = order[j - 1];
            order[j - 1] = order[j];
            order[j] = t;
        }
    size_t cur = place(p, m, order, offs, tmp, cands);
    if (cur < p->arena_bytes) {
        for (int32_t i = 0; i < n; i++) p->buffers[i].offset = offs[i];
        p->arena_bytes = cur;
    }
    cur = p->arena_bytes;
    uint64_t rng = UINT64_C(0x9E3779B97F4A7C15);
    int64_t iters = (int64_t)(work / ((double)n * (double)n + 1.0));
    if (iters > 20000) iters = 20000;
    for (int64_t it = 0; it < iters && cur > p->lower_bound && m > 1; it++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        int32_t i = (int32_t)(rng % (uint64_t)m), j = (int32_t)((rng >> 32) % (uint64_t)m);
        if (i == j) continue;
        memcpy(trial, order, sizeof(int32_t) * (size_t)m);
        if (rng & (UINT64_C(1) << 62)) {
            int32_t t = trial[i];
            trial[i] = trial[j];
            trial[j] = t;
        } else { /* move the later of the two to the earlier's place */
            int32_t lo = i < j ? i : j, hi = i < j ? j : i, t = trial[hi];
            memmove(trial + lo + 1, trial + lo, sizeof(int32_t) * (size_t)(hi - lo));
            trial[lo] = t;
        }
        size_t size = place(p, m, trial, offs, tmp, cands);
        if (size > cur) continue;
        memcpy(order, trial, sizeof(int32_t) * (size_t)m);
        if (size < cur) {
            cur = size;
            for (int32_t b = 0; b < n; b++) p->buffers[b].offset = offs[b];
            p->arena_bytes = cur;
        }
    }
    return 0;
}

size_t plan_live_profile(const plan_t *p, size_t *live, int32_t *peak_step) {
    /* difference array over steps: +size at a buffer's first step, -size
     * after its last; live[s] is the running sum */
    size_t best = 0;
    int32_t at = 0;
    int64_t *d = calloc((size_t)p->n_steps + 2, sizeof(int64_t));
    if (!d) return (size_t)-1;
    for (int32_t i = 0; i < p->n_buffers; i++) {
        const plan_buffer *b = &p->buffers[i];
        d[b->first] += (int64_t)footprint(p, i);
        d[b->last + 1] -= (int64_t)footprint(p, i);
    }
    int64_t run = 0;
    for (int32_t s = 0; s < p->n_steps; s++) {
        run += d[s];
        if (live) live[s] = (size_t)run;
        if ((size_t)run > best) {
            best = (size_t)run;
            at = s;
        }
    }
    free(d);
    if (peak_step) *peak_step = at;
    return best;
}

/* ---- pixels a step touches ------------------------------------------------ */

static void tile_px(const pexc_tile *t, int32_t w, int64_t *q0, int64_t *q1) {
    *q0 = (int64_t)t->y0 * w + t->x0;
    *q1 = t->y0 < t->y1 ? (int64_t)(t->y1 - 1) * w + (t->x1 ? t->x1 : w) : *q0;
}

void plan_step_pixels(const ir_graph *g, const k_call *calls, const plan_step *st, int which, int64_t *q0,
                      int64_t *q1) {
    const k_call *k = &calls[st->call];
    const plan_view *v = which == 2 ? &st->out : &st->in[which];
    int32_t d[4];
    lower_nhwc(&g->tensors[v->tensor], d);
    *q0 = 0;
    *q1 = (int64_t)d[1] * d[2];
    if (which == 2) {
        if (st->mode != STEP_ACC && v->tensor == k->out && memcmp(d, k->out_dims, sizeof d) == 0)
            tile_px(&st->tile, d[2], q0, q1);
        return;
    }
    if (st->mode == STEP_FINISH) {
        tile_px(&st->tile, d[2], q0, q1);
        return;
    }
    if (st->mode == STEP_ACC && (k->kind == K_FC || k->kind == K_FC_F32)) {
        /* a fully-connected layer reads its input flattened: its depth
         * range is a range of pixels when the tensor has one batch */
        if (d[0] == 1 && st->ic0 < st->ic1) {
            *q0 = st->ic0 / d[3];
            *q1 = (st->ic1 + d[3] - 1) / d[3];
        }
        return;
    }
    if (st->mode == STEP_ACC && (k->kind == K_AVGPOOL || k->kind == K_DWCONV)) {
        *q0 = st->ic0;
        *q1 = st->ic1;
        return;
    }
    if (memcmp(d, k->in_dims[which], sizeof d) != 0) return; /* seen reshaped: all of it */
    int64_t t0, t1;
    tile_px(&st->tile, k->out_dims[2], &t0, &t1);
    if (t0 >= t1) {
        *q0 = *q1 = 0;
        return;
    }
    /* an operand read whole: low 0, need all */
    *q0 = sched_px_low(k, which, t0);
    *q1 = sched_px_need(k, which, t1);
    if (*q1 < *q0) *q1 = *q0;
}

void plan_step_rows(const ir_graph *g, const k_call *calls, const plan_step *st, int which, int32_t *r0,
                    int32_t *r1) {
    const plan_view *v = which == 2 ? &st->out : &st->in[which];
    int32_t d[4];
    int64_t q0, q1;
    lower_nhwc(&g->tensors[v->tensor], d);
    plan_step_pixels(g, calls, st, which, &q0, &q1);
    if (q0 >= q1) {
        *r0 = *r1 = 0;
        return;
    }
    *r0 = (int32_t)(q0 / d[2]);
    *r1 = (int32_t)((q1 + d[2] - 1) / d[2]);
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
    int64_t read_next; /* the ring of a streamed model input: its next pixel the caller supplies */
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

size_t plan_tensor_offset(const ir_graph *g, const k_call *calls, const plan_t *p, int32_t t) {
    size_t off = 0;
    /* follow views back to the tensor that owns the buffer (a chain of
     * operators, so at most n_ops steps) */
    for (int32_t n = 0; t >= 0 && n < g->n_ops; n++) {
        int32_t op = g->tensors[t].producer;
        if (op < 0 || calls[op].kind != K_NOP || calls[op].in[0] < 0) break;
        int32_t src = calls[op].in[0];
        if (g->tensors[src].data || p->tensor_buffer[t] < 0 || p->tensor_buffer[t] != p->tensor_buffer[src]) break;
        off += calls[op].alias_off;
        t = src;
    }
    return off;
}

/* A sequence operator (a call with a step form, ops_steps_of) carries its
 * state from one row to the next, so its steps must make its rows in
 * order, each starting where the one before ended. */
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
    int rc = -1;
    if (verify_seq_order(g, calls, p, err)) return -1;
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
            if (b->kind == BUF_RING && x->tensor == b->tensor && plan_input_of(g, calls, b->tensor) >= 0) {
                /* a streamed model input: the pixels up to what this step
                 * reads arrive now, in raster order, each once */
                int64_t a0, a1;
                plan_step_pixels(g, calls, st, v, &a0, &a1);
                for (int64_t q = c->read_next; q < a1; q++) {
                    c->slot[q % c->ring] = q;
                    for (int32_t ch = 0; ch < c->c_stored; ch++) (*cov_at(c, q, ch))++;
                    c->full[q] = c->c_stored;
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
