/*
 * The template cache of streamed segments (see stream_tmpl in sched_int.h):
 * the search builds thousands of candidate plans that share most of their
 * streamed segments, so a segment's steps are walked once and replayed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#include "sched/sched_int.h"

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

/* The hash bucket of a segment's template: its position, length and step. */
static uint32_t tmpl_bucket(int32_t s, int32_t e, int32_t rows, int32_t frac) {
    uint32_t h = (uint32_t)s * 2654435761u ^ (uint32_t)e * 40503u ^ (uint32_t)rows * 9973u ^ (uint32_t)frac * 131u;
    return (h ^ (h >> 15)) % STREAM_CACHE_BUCKETS;
}

static void tmpl_drop(stream_cache *c, stream_tmpl *t) {
    int32_t *at = &c->bucket[tmpl_bucket(t->s, t->e, t->seg_rows, t->frac)], slot = (int32_t)(t - c->t);
    while (*at >= 0 && *at != slot) at = &c->t[*at].next;
    if (*at == slot) *at = t->next;
    c->bytes -= t->bytes;
    c->n_dropped++;
    tmpl_free_parts(t);
    if (c->free_slots) c->free_slots[c->n_free++] = slot;
}

static int by_use(const void *x, const void *y) {
    uint64_t a = ((const uint64_t *)x)[0], b = ((const uint64_t *)y)[0];
    return a < b ? -1 : a > b;
}

/* Drops the templates used longest ago, none the current build uses, at
 * least min_drop of them and until need more bytes fit with a sixteenth
 * of the cache to spare (one template at a time, each found by a pass
 * over every slot, made a deep chain's search quadratic in the templates
 * it makes). -1: out of memory. */
static int tmpl_evict(stream_cache *c, size_t need, int32_t min_drop) {
    uint64_t(*lru)[2] = malloc(sizeof *lru * ((size_t)c->n + 1));
    if (!lru) return -1;
    int32_t n = 0;
    for (int32_t i = 0; i < c->n; i++)
        if (c->t[i].live && c->t[i].used < c->tick) {
            lru[n][0] = c->t[i].used;
            lru[n][1] = (uint64_t)i;
            n++;
        }
    qsort(lru, (size_t)n, sizeof *lru, by_use);
    for (int32_t j = 0; j < n && (j < min_drop || c->bytes + need > STREAM_CACHE_BYTES / 16 * 15); j++)
        tmpl_drop(c, &c->t[lru[j][1]]);
    free(lru);
    return 0;
}

void sched_cache_free(stream_cache *c) {
    if (c->t)
        for (int32_t i = 0; i < c->n; i++)
            if (c->t[i].live) tmpl_drop(c, &c->t[i]);
    free(c->t);
    free(c->bucket);
    free(c->steps);
    free(c->bufs);
    free(c->rows);
    free(c->uses);
    free(c->free_slots);
    if (c->tabs)
        for (int32_t i = 0; i < c->n_calls * 4; i++) free(c->tabs[i]);
    free(c->tabs);
    memset(c, 0, sizeof *c);
}

#define GEOM_TAB_MAX ((int64_t)1 << 22) /* pixels; larger outputs work each value out */

/* Points si's operand windows at their tables, making those missing. */
void sched_tmpl_tables(builder *b, stream_info *si) {
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
                    (*need)[q] = sched_geom_need(&si->geom[i][o], q);
                    (*low)[q] = sched_geom_low(&si->geom[i][o], q);
                }
            }
            si->need_tab[i][o] = *need;
            si->low_tab[i][o] = *low;
        }
    }
}

/* Makes *x hold at least n items of size sz (contents not kept). */
int sched_scratch(void **x, size_t *cap, size_t n, size_t sz) {
    if (n <= *cap) return 0;
    free(*x);
    *x = malloc(n * sz);
    *cap = *x ? n : 0;
    return *x ? 0 : -1;
}

/* The template of segment sg under this operator order, or -1. */
int32_t sched_tmpl_find(const stream_cache *c, const int32_t *order, const plan_segment *sg) {
    for (int32_t i = c->bucket[tmpl_bucket(sg->op_first, sg->op_last, sg->rows, sg->frac)]; i >= 0; i = c->t[i].next) {
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
int32_t sched_tmpl_buf(builder *b, const stream_tmpl *t, const tmpl_ref *r, int32_t base, int32_t *tensor) {
    if (r->enc >= 0) {
        *tensor = b->p->buffers[base + r->enc].tensor;
        return base + r->enc;
    }
    *tensor = t->outer[-2 - r->enc];
    return sched_view_whole(b, *tensor).buf;
}

/* Makes segment sg's template from the steps [step0, n_steps) it just made,
 * its own buffers from base. No room (templates the current build uses
 * are never evicted) just means no template. */
void sched_tmpl_put(builder *b, const plan_segment *sg, const stream_state *st, int32_t m, int32_t base,
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
    x.in_ring[0] = st->in_ring[0];
    x.in_ring[1] = st->in_ring[1];
    /* the reference of each encoding (own buffer e at [e], outer tensor k
     * at [n_own + k]) and the outer slot of each tensor, or -1: looked up,
     * not searched, for each of a long segment's many views */
    int32_t *ref_of = malloc(sizeof(int32_t) * (size_t)(x.n_own + max_refs + 1));
    int32_t *outer_of = malloc(sizeof(int32_t) * (size_t)(b->g->n_tensors + 1));
    if (!ref_of || !outer_of) {
        free(ref_of);
        free(outer_of);
        goto fail;
    }
    for (int32_t i = 0; i < x.n_own + max_refs; i++) ref_of[i] = -1;
    for (int32_t i = 0; i < b->g->n_tensors; i++) outer_of[i] = -1;
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
                int32_t k = outer_of[v->tensor];
                if (k < 0) {
                    if (x.n_outer == max_refs) goto fail_maps; /* cannot happen */
                    k = outer_of[v->tensor] = x.n_outer;
                    x.outer[x.n_outer++] = v->tensor;
                }
                enc = -2 - k;
            }
            int32_t *at = &ref_of[enc >= 0 ? enc : x.n_own - 2 - enc], r = *at;
            if (r < 0) {
                if (x.n_refs == max_refs) goto fail_maps; /* cannot happen */
                /* outer tensors are whole tensors (tensor_buffer holds
                 * nothing else) */
                r = *at = x.n_refs;
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
    free(ref_of);
    free(outer_of);
    ref_of = outer_of = NULL;
    x.groups = malloc(sizeof(tmpl_rows) * (size_t)(n_seen + 1));
    /* the views of each reference in step order: a counting sort by
     * reference (scanning every view once per reference was quadratic in a
     * long segment's length) */
    int32_t *by_ref = malloc(sizeof(int32_t) * (size_t)(n_seen + 1));
    int32_t *start = calloc((size_t)x.n_refs + 1, sizeof(int32_t));
    if (!x.groups || !by_ref || !start) {
        free(by_ref);
        free(start);
        goto fail;
    }
    for (int32_t i = 0; i < n_seen; i++) start[seen[i][0] + 1]++;
    for (int32_t r = 0; r < x.n_refs; r++) start[r + 1] += start[r];
    for (int32_t i = 0; i < n_seen; i++) by_ref[start[seen[i][0]]++] = i;
    for (int32_t r = x.n_refs; r > 0; r--) start[r] = start[r - 1];
    start[0] = 0;
    for (int32_t r = 0; r < x.n_refs; r++) {
        x.refs[r].g0 = x.n_groups;
        for (int32_t v = start[r]; v < start[r + 1]; v++) {
            int32_t i = by_ref[v];
            tmpl_rows *gr = x.n_groups > x.refs[r].g0 ? &x.groups[x.n_groups - 1] : NULL;
            if (gr && gr->r0 == seen[i][1] && gr->r1 == seen[i][2]) {
                gr->hi = seen[i][3];
            } else {
                x.groups[x.n_groups++] = (tmpl_rows){seen[i][1], seen[i][2], seen[i][3], seen[i][3]};
            }
        }
        x.refs[r].ng = x.n_groups - x.refs[r].g0;
    }
    free(by_ref);
    free(start);
    free(seen);
    seen = NULL;
    /* the most bytes its steps surely hold at one step: its own rings and
     * partial sums, and each row of a whole tensor its steps touch, while
     * the row band holding it (or the whole tensor, no smaller) surely
     * lives. With the bytes alive across a window, a floor under a
     * candidate's peak (subplan.c, sched_sub_floor). */
    int64_t *d = calloc((size_t)n + 2, sizeof(int64_t));
    if (!d) goto fail;
    for (int32_t r = 0; r < x.n_refs; r++) {
        const tmpl_ref *rf = &x.refs[r];
        if (!rf->tensor) {
            int64_t f = (int64_t)plan_footprint(p, base + rf->enc);
            d[rf->first] += f;
            d[rf->last + 1] -= f;
            continue;
        }
        int32_t t = rf->enc >= 0 ? p->buffers[base + rf->enc].tensor : x.outer[-2 - rf->enc], dm[4];
        lower_nhwc(&b->g->tensors[t], dm);
        int32_t h = dm[1] > 0 ? dm[1] : 1;
        int64_t row = (int64_t)(b->g->tensors[t].bytes / (size_t)h);
        int32_t *span = malloc(sizeof(int32_t) * 2 * (size_t)h); /* each row's first and last step */
        if (!span) {
            free(d);
            goto fail;
        }
        for (int32_t y = 0; y < h; y++) {
            span[2 * y] = INT32_MAX;
            span[2 * y + 1] = -1;
        }
        for (int32_t gi = rf->g0; gi < rf->g0 + rf->ng; gi++) {
            const tmpl_rows *gr = &x.groups[gi];
            for (int32_t y = gr->r0 > 0 ? gr->r0 : 0; y < gr->r1 && y < h; y++) {
                if (gr->lo < span[2 * y]) span[2 * y] = gr->lo;
                if (gr->hi > span[2 * y + 1]) span[2 * y + 1] = gr->hi;
            }
        }
        for (int32_t y = 0; y < h; y++) {
            if (span[2 * y + 1] < 0) continue;
            /* a tensor made before the segment holds its rows from before
             * it; the segment's own output holds them for its reader after
             * it (or to the end of the run) */
            int32_t lo = rf->enc < 0 ? 0 : span[2 * y], hi = rf->enc < 0 ? span[2 * y + 1] : n - 1;
            d[lo] += row;
            d[hi + 1] -= row;
        }
        free(span);
    }
    int64_t run = 0;
    for (int32_t i = 0; i < n; i++) {
        run += d[i];
        if ((size_t)run > x.own_peak) x.own_peak = (size_t)run;
    }
    free(d);
    x.bytes = sizeof(int32_t) * (size_t)n + sizeof(tmpl_rows) * (size_t)x.n_groups +
              (sizeof(int32_t) * 2 + sizeof(int64_t) + sizeof(tmpl_ref)) * (size_t)max_refs + 64;
    if (x.bytes > STREAM_CACHE_BYTES / 2) goto fail;
    if (!c->free_slots && !(c->free_slots = malloc(sizeof(int32_t) * STREAM_CACHE_SLOTS))) goto fail;
    int full = !c->n_free && c->n >= STREAM_CACHE_SLOTS;
    if ((c->bytes + x.bytes > STREAM_CACHE_BYTES || full) && tmpl_evict(c, x.bytes, full ? c->n / 4 : 0)) goto fail;
    if (c->bytes + x.bytes > STREAM_CACHE_BYTES) goto fail;
    int32_t slot;
    if (c->n_free) {
        slot = c->free_slots[--c->n_free];
    } else {
        if (c->n >= STREAM_CACHE_SLOTS) goto fail;
        slot = c->n++;
    }
    x.used = c->tick;
    x.live = 1;
    int32_t *head = &c->bucket[tmpl_bucket(x.s, x.e, x.seg_rows, x.frac)];
    x.next = *head;
    *head = slot;
    c->t[slot] = x;
    c->bytes += x.bytes;
    note_use(b, slot, step0, base);
    return;
fail_maps:
    free(ref_of);
    free(outer_of);
fail:
    free(seen);
    tmpl_free_parts(&x);
}

/* Takes template slot's steps as the next ones, its own buffers from base
 * (they are not made: a scored plan does not need them). */
int sched_tmpl_replay(builder *b, int32_t slot, int32_t base) {
    stream_tmpl *t = &b->cache->t[slot];
    plan_t *p = b->p;
    if (p->n_steps > b->cap_steps - t->n_steps) return -1; /* the walk would run out of steps too */
    note_use(b, slot, p->n_steps, base);
    p->n_steps += t->n_steps;
    t->used = b->cache->tick;
    return 0;
}

int32_t sched_step_op(const stream_cache *c, const plan_t *p, int32_t s) {
    /* the uses are in step order: the last starting at or before s */
    int32_t lo = 0, hi = c ? c->n_uses : 0;
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (c->uses[mid].step0 <= s) lo = mid + 1;
        else hi = mid;
    }
    if (lo > 0 && s < c->uses[lo - 1].step0 + c->uses[lo - 1].n)
        return c->t[c->uses[lo - 1].tmpl].calls[s - c->uses[lo - 1].step0];
    return p->steps[s].call;
}
