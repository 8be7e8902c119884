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
 * The plan verifier is in verify.c.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define PLAN_ALIGN 16
/* The search over placement orders of cut rings, started from the whole
 * rings' order, ends after this many orders without a smaller arena: on
 * the shared models its gains came within 1,200 of the last one, and
 * each order places every band. */
#define PLAN_CUT_STALL 2048

static size_t align_up(size_t x) { return (x + PLAN_ALIGN - 1) & ~(size_t)(PLAN_ALIGN - 1); }

/* A placed buffer: its bytes and its life. */
typedef struct {
    size_t off, end;
    int32_t first, last;
} span;

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

/* Every buffer's footprint, looked up once per placement run (place()
 * asks for each band's on every pass of its sweep). */
static size_t *footprints(const plan_t *p, util_arena *a) {
    size_t *fps = util_alloc(a, sizeof(size_t) * ((size_t)p->n_buffers + 1));
    if (fps)
        for (int32_t i = 0; i < p->n_buffers; i++) fps[i] = footprint(p, i);
    return fps;
}

size_t plan_footprint(const plan_t *p, int32_t i) { return footprint(p, i); }

static int span_meets(const span *s, const plan_buffer *b) { return s->first <= b->last && b->first <= s->last; }

/* Greedy placement of the items (single buffers and band groups, each
 * named by its head) in the given order; returns the arena size. The
 * buffers placed so far are kept in tmp by offset, so finding the lowest
 * gap is one pass over them (the search places thousands of candidate
 * plans, and sorting the placed buffers again for every item made this the
 * compiler's hottest loop). */
static size_t place(const plan_t *p, int32_t n_items, const int32_t *items, const size_t *fps, size_t *offs,
                    span *tmp, int32_t *cursor) {
    size_t arena = 0;
    const plan_buffer *bufs = p->buffers;
    int32_t np = 0;
    for (int32_t it = 0; it < n_items; it++) {
        int32_t h = items[it];
        const plan_buffer *hb = &bufs[h];
        int32_t nb = hb->head >= 0 ? hb->n_bands : 1;
        size_t base;
        if (nb == 1) {
            size_t at = 0, need = fps[h];
            for (int32_t j = 0; j < np; j++) {
                if (!span_meets(&tmp[j], hb)) continue;
                if (tmp[j].off >= at + need) break;
                if (tmp[j].end > at) at = align_up(tmp[j].end);
            }
            base = at;
        } else {
            /* the lowest aligned base at which no band meets a placed
             * buffer alive at the same time. Band k at base b meets
             * placed span j (alive with it) iff off_j < b + go_k + fp_k
             * and b + go_k < end_j; tmp is sorted by offset, so each
             * band's conflicts come in rising order. Each band keeps a
             * cursor into tmp; the base only rises (to just past a
             * conflict), so a band's conflicts starting below the base
             * are passed once each, and the sweep ends when no band has
             * one: O(bands x placed) per group, no sort. The placed
             * spans alive at some time in the group's life are gathered
             * first (a ring lives a short part of a streamed plan, so
             * the bands then pass over few). */
            int32_t *near = cursor + nb, nn = 0;
            plan_buffer life = *hb;
            for (int32_t k = 1; k < nb; k++) {
                const plan_buffer *band = &bufs[plan_band(p, h, k)];
                if (band->first < life.first) life.first = band->first;
                if (band->last > life.last) life.last = band->last;
            }
            for (int32_t j = 0; j < np; j++)
                if (span_meets(&tmp[j], &life)) near[nn++] = j;
            size_t b = 0;
            for (int32_t k = 0; k < nb; k++) cursor[k] = 0;
            for (int moved = 1; moved;) {
                moved = 0;
                for (int32_t k = 0; k < nb; k++) {
                    int32_t bi = plan_band(p, h, k);
                    const plan_buffer *band = &bufs[bi];
                    size_t go = band->group_off, fp = fps[bi];
                    int32_t c = cursor[k];
                    for (; c < nn && tmp[near[c]].off < b + go + fp; c++) {
                        const span *x = &tmp[near[c]];
                        if (!span_meets(x, band) || x->end <= b + go) continue;
                        b = align_up(x->end - go);
                        moved = 1;
                    }
                    cursor[k] = c;
                }
            }
            base = b;
        }
        for (int32_t k = 0; k < nb; k++) {
            int32_t bi = plan_band(p, h, k);
            offs[bi] = base + bufs[bi].group_off;
            span x = {offs[bi], offs[bi] + fps[bi], bufs[bi].first, bufs[bi].last};
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

/* The bands a whole-placed ring emptied (plan_memory_refine) hold no
 * bytes; they stay where their ring's slots are. */
static void place_emptied(plan_t *p) {
    for (int32_t i = 0; i < p->n_buffers; i++) {
        plan_buffer *x = &p->buffers[i];
        if (x->kind == BUF_RING && x->head >= 0 && x->head != i && !x->size)
            x->offset = p->buffers[x->head].offset + x->group_off;
    }
}

int plan_memory(plan_t *p, util_arena *a, util_err *err) {
    int32_t n = p->n_buffers;
    int32_t *order = util_alloc(a, sizeof(int32_t) * (size_t)(n + 1));
    size_t *offs = util_alloc(a, sizeof(size_t) * (size_t)(n + 1));
    span *tmp = util_alloc(a, sizeof(span) * (size_t)(n + 1));
    int32_t *cursor = util_alloc(a, sizeof(int32_t) * (2 * (size_t)n + 2));
    size_t *fps = footprints(p, a);
    item_key *keys = util_alloc(a, sizeof(item_key) * (size_t)(n + 1));
    if (!order || !offs || !tmp || !cursor || !fps || !keys)
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
        size_t size = place(p, m, order, fps, offs, tmp, cursor);
        if (size < best) {
            best = size;
            for (int32_t i = 0; i < n; i++) p->buffers[i].offset = offs[i];
        }
    }
    p->arena_bytes = n ? best : 0;
    place_emptied(p);
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
static int refine_once(plan_t *p, double work, int64_t stall, const plan_buffer *start, util_arena *a,
                       util_err *err) {
    int32_t n = p->n_buffers;
    if (n < 2 || p->arena_bytes <= p->lower_bound) return 0;
    int32_t *order = util_alloc(a, sizeof(int32_t) * (size_t)(n + 1));
    int32_t *trial = util_alloc(a, sizeof(int32_t) * (size_t)(n + 1));
    size_t *offs = util_alloc(a, sizeof(size_t) * (size_t)(n + 1));
    span *tmp = util_alloc(a, sizeof(span) * (size_t)(n + 1));
    int32_t *cursor = util_alloc(a, sizeof(int32_t) * (2 * (size_t)n + 2));
    size_t *fps = footprints(p, a);
    if (!order || !trial || !offs || !tmp || !cursor || !fps)
        return util_fail(err, "out of memory planning %d buffers", n);
    /* the items in the order of their planned offsets: placing them in that
     * order gives back the current placement or a better one */
    int32_t m = 0;
    for (int32_t i = 0; i < n; i++)
        if (p->buffers[i].head < 0 || p->buffers[i].head == i) order[m++] = i;
    const plan_buffer *at = start ? start : p->buffers;
    for (int32_t i = 1; i < m; i++) /* insertion sort by offset, then size */
        for (int32_t j = i; j > 0; j--) {
            const plan_buffer *x = &at[order[j - 1]], *y = &at[order[j]];
            if (x->offset < y->offset || (x->offset == y->offset && x->size >= y->size)) break;
            int32_t t = order[j - 1];
            order[j - 1] = order[j];
            order[j] = t;
        }
    size_t cur = place(p, m, order, fps, offs, tmp, cursor);
    if (cur < p->arena_bytes) {
        for (int32_t i = 0; i < n; i++) p->buffers[i].offset = offs[i];
        p->arena_bytes = cur;
    }
    cur = p->arena_bytes;
    uint64_t rng = UINT64_C(0x9E3779B97F4A7C15);
    /* (a ring's bands count as one buffer: cutting rings must not cut the
     * search short) */
    int32_t n_eff = n;
    for (int32_t i = 0; i < n; i++)
        if (p->buffers[i].kind == BUF_RING && p->buffers[i].head >= 0 && p->buffers[i].head != i) n_eff--;
    int64_t iters = (int64_t)(work / ((double)n_eff * (double)n_eff + 1.0));
    if (iters > 20000) iters = 20000;
    for (int64_t it = 0, last = 0; it < iters && cur > p->lower_bound && m > 1 && !(stall && it - last > stall); it++) {
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
        size_t size = place(p, m, trial, fps, offs, tmp, cursor);
        if (size > cur) continue;
        memcpy(order, trial, sizeof(int32_t) * (size_t)m);
        if (size < cur) {
            cur = size;
            last = it;
            for (int32_t b = 0; b < n; b++) p->buffers[b].offset = offs[b];
            p->arena_bytes = cur;
        }
    }
    place_emptied(p);
    return 0;
}

/* A ring cut into bands of slots (sched/ring_bands.c) frees the slots it
 * has not filled yet or will not read again, but its bands must sit
 * together: where rings stack up (mobilenet_v2's dozens of them) the
 * greedy orders can place the bands worse than whole rings. So a plan
 * with cut rings is placed again with each ring whole (its head holding
 * all its slots for the ring's whole life, the other bands emptied), and
 * the cut rings are kept only if they place in fewer bytes. */
static int ring_groups(const plan_t *p) {
    for (int32_t i = 0; i < p->n_buffers; i++)
        if (p->buffers[i].kind == BUF_RING && p->buffers[i].head == i && p->buffers[i].n_bands > 1) return 1;
    return 0;
}

/* Makes every cut ring of p whole again: its head holds all its slots
 * for the ring's whole life, its other bands no bytes. */
static void rings_whole(plan_t *p) {
    for (int32_t h = 0; h < p->n_buffers; h++) {
        plan_buffer *x = &p->buffers[h];
        if (x->kind != BUF_RING || x->head != h || x->n_bands < 2) continue;
        for (int32_t k = 1; k < x->n_bands; k++) {
            plan_buffer *band = &p->buffers[plan_band(p, h, k)];
            x->size += band->size;
            band->size = 0;
        }
        x->first = x->ring_first;
        x->last = x->ring_last;
        for (int32_t k = 1; k < x->n_bands; k++) {
            p->buffers[plan_band(p, h, k)].first = x->first;
            p->buffers[plan_band(p, h, k)].last = x->last;
        }
        x->n_bands = 1;
        x->y1 = x->ring_px;
    }
}

int plan_memory_refine(plan_t *p, double work, util_arena *a, util_err *err) {
    if (!ring_groups(p)) return refine_once(p, work, 0, NULL, a, err);
    /* the cut rings as the caller placed them, then whole with the full
     * budget (the plan as before rings were cut), then the cut rings
     * again from the whole rings' order with a sixteenth of it, ended
     * early once it stops finding smaller arenas (each order places every
     * band, so a full budget here was most of a compile's time) */
    int32_t n = p->n_buffers;
    plan_buffer *cut = malloc(sizeof(plan_buffer) * (size_t)(n + 1));
    if (!cut) return util_fail(err, "out of memory planning %d buffers", n);
    memcpy(cut, p->buffers, sizeof(plan_buffer) * (size_t)n);
    size_t arena = p->arena_bytes, lower = p->lower_bound, *live = p->live_bytes;
    rings_whole(p);
    if (plan_memory(p, a, err) || refine_once(p, work, 0, NULL, a, err)) {
        free(cut);
        return -1;
    }
    plan_buffer *whole = malloc(sizeof(plan_buffer) * (size_t)(n + 1));
    if (!whole) {
        free(cut);
        return util_fail(err, "out of memory planning %d buffers", n);
    }
    memcpy(whole, p->buffers, sizeof(plan_buffer) * (size_t)n);
    size_t w_arena = p->arena_bytes, w_lower = p->lower_bound, *w_live = p->live_bytes;
    memcpy(p->buffers, cut, sizeof(plan_buffer) * (size_t)n);
    p->arena_bytes = arena;
    p->lower_bound = lower;
    p->live_bytes = live;
    /* the search over orders starts from the whole rings' order: the cut
     * rings placed in it take no more than the whole ones, most often */
    int rc = refine_once(p, work / 16, PLAN_CUT_STALL, whole, a, err);
    if (rc == 0 && p->arena_bytes >= w_arena) { /* whole rings place no worse */
        memcpy(p->buffers, whole, sizeof(plan_buffer) * (size_t)n);
        p->arena_bytes = w_arena;
        p->lower_bound = w_lower;
        p->live_bytes = w_live;
    }
    free(cut);
    free(whole);
    return rc;
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
