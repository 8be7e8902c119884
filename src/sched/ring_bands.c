/*
 * Rings that fill and drain: a ring buffer cut into bands of slots.
 *
 * A streamed chain's ring holds R pixels for its whole life, but it is
 * not full for its whole life. At the start of the chain its slots fill
 * one run at a time (slot q for logical pixel q, q < R) while the chain's
 * pipeline spins up, and at the end its last pixels are read in order,
 * after which their slots hold nothing anyone reads again. A ring taken
 * as one buffer charges all R pixels from its first write to its last
 * read. Where a ring starts while something big is dying (person_detect
 * with its input held whole: the second chain's line buffers come alive
 * while the first chain's output, 9,216 bytes, is still being released
 * row by row) or ends while something big is being made (the first
 * stage's rings while the 12x12 tensor that the next segment reads
 * fills), those idle slots sit on top of the peak.
 *
 * So the final plan cuts each ring into bands of consecutive slots, the
 * way whole tensors are cut into row bands: band k holds slots [s0, s1),
 * lives from the first step that writes or reads one of its slots to the
 * last, and the bands of one ring are placed contiguously (plan/plan.c
 * places band groups), so kernels still see one ring of R pixels at the
 * head's offset. A step touching logical pixels [q0, q1) touches slots
 * q0 % R .. (q1 - 1) % R, wrapping, or all of them when q1 - q0 >= R; the
 * pixel span a step reads is a prefix-to-need range (plan_step_pixels),
 * a superset of the taps it reads, so a band is never dead while a slot
 * of it is read. The verifier checks exactly that (plan/verify.c).
 *
 * Only the final plan is cut (the search's scoring takes segments from
 * templates that keep a ring as one buffer, so it ranks plans as before),
 * and its placement tries the rings whole too and keeps the smaller arena
 * (plan/plan.c, plan_memory_refine). Rings of model inputs and outputs
 * (stream_io.c, the emitters' read and write callbacks) stay whole; so do
 * rings under 128 bytes, and a plan's rings share 256 bands, since each
 * band adds a pass over the buffers alive beside its ring to every
 * placement the planner tries.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#include "sched/sched_int.h"

_Thread_local int sched_rings_whole;

static void ring_split(int32_t R, size_t px_bytes, int32_t cap, int32_t *nb, int32_t *per) {
    size_t most = (size_t)R * px_bytes / SCHED_RING_BAND_MIN;
    int32_t n = R < cap ? R : cap;
    if ((size_t)n > most) n = most > 0 ? (int32_t)most : 1;
    *per = (R + n - 1) / n;
    *nb = (R + *per - 1) / *per;
}

/* Slot runs of logical pixels [q0, q1) in a ring of R: at most two. */
static int ring_slot_runs(int64_t R, int64_t q0, int64_t q1, int64_t runs[2][2]) {
    if (q1 <= q0) return 0;
    int64_t a = q0 % R, n = q1 - q0 < R ? q1 - q0 : R;
    runs[0][0] = a;
    runs[0][1] = a + n < R ? a + n : R;
    runs[1][0] = 0;
    runs[1][1] = a + n > R ? a + n - R : 0;
    return 2;
}

/* Widens lives[k] = {first, last} of the bands (of per slots) that the
 * slots of pixels [q0, q1) fall in to hold step s. */
static void ring_touch(int32_t *lives, int32_t nb, int32_t per, int64_t R, int32_t s, int64_t q0, int64_t q1) {
    int64_t runs[2][2];
    int n = ring_slot_runs(R, q0, q1, runs);
    for (int r = 0; r < n; r++) {
        if (runs[r][1] <= runs[r][0]) continue;
        int32_t k1 = (int32_t)((runs[r][1] - 1) / per);
        for (int32_t k = (int32_t)(runs[r][0] / per); k <= k1 && k < nb; k++) {
            if (lives[2 * k] < 0 || s < lives[2 * k]) lives[2 * k] = s;
            if (s > lives[2 * k + 1]) lives[2 * k + 1] = s;
        }
    }
}

/* Pixels [*q0, *q1) of ring buffer x that view `which` of st touches. */
static void ring_view_px(const builder *b, const plan_step *st, int which, const plan_buffer *x, int64_t *q0,
                         int64_t *q1) {
    const plan_view *v = which == 2 ? &st->out : &st->in[which];
    *q0 = 0;
    *q1 = x->ring_px;
    if (v->tensor == x->tensor) plan_step_pixels(b->g, b->calls, st, which, q0, q1);
}

/* May ring buffer x be cut? Rings of model inputs and outputs are filled
 * and drained by the caller's callbacks, whole. */
static int ring_cuttable(const builder *b, const plan_buffer *x) {
    return x->kind == BUF_RING && x->head < 0 && x->ring_px >= 2 && !b->g->tensors[x->tensor].is_output &&
           plan_input_of(b->g, b->calls, x->tensor) < 0;
}

/* Sets the life of band k of ring group h from lives (offsets by step0). */
static void band_life(plan_t *p, int32_t h, const int32_t *lives, int32_t nb, int32_t step0) {
    for (int32_t k = 0; k < nb; k++) {
        if (lives[2 * k] < 0) continue;
        plan_buffer *band = &p->buffers[plan_band(p, h, k)];
        if (step0 + lives[2 * k] < band->first) band->first = step0 + lives[2 * k];
        if (step0 + lives[2 * k + 1] > band->last) band->last = step0 + lives[2 * k + 1];
    }
}

int sched_ring_bands(builder *b) {
    plan_t *p = b->p;
    int32_t n0 = p->n_buffers;
    int any = 0;
    /* every band costs the planner a pass over the buffers alive beside
     * its ring on every order it tries: the plan's bands are shared out
     * among its rings */
    int32_t n_rings = 0, cap;
    for (int32_t bi = 0; bi < n0; bi++) n_rings += ring_cuttable(b, &p->buffers[bi]);
    cap = n_rings ? SCHED_RING_BANDS_ALL / n_rings : 0;
    if (cap > SCHED_RING_BANDS) cap = SCHED_RING_BANDS;
    if (cap < 2) cap = 2;
    for (int32_t bi = 0; bi < n0; bi++) {
        plan_buffer *x = &p->buffers[bi];
        if (!ring_cuttable(b, x)) continue;
        int32_t R = x->ring_px, nb, per;
        ring_split(R, x->size / (size_t)R, cap, &nb, &per);
        if (nb < 2) continue;
        if (p->n_buffers + nb - 1 > b->cap_bufs) return -1;
        size_t px = x->size / (size_t)R;
        x->head = bi;
        x->n_bands = nb;
        x->band_next = p->n_buffers;
        x->group_off = 0;
        x->y0 = 0;
        x->y1 = per;
        x->ring_first = x->first;
        x->ring_last = x->last;
        x->first = INT32_MAX;
        x->last = -1;
        for (int32_t k = 1; k < nb; k++) {
            plan_buffer *y = &p->buffers[p->n_buffers++];
            *y = *x;
            y->n_bands = 0;
            y->band_next = -1;
            y->y0 = k * per;
            y->y1 = (k + 1) * per < R ? (k + 1) * per : R;
            y->group_off = px * (size_t)y->y0;
            y->size = px * (size_t)(y->y1 - y->y0);
        }
        x->size = px * (size_t)per;
        any = 1;
    }
    if (!any) return 0;
    int32_t *lives = malloc(sizeof(int32_t) * 2 * SCHED_RING_BANDS);
    if (!lives) return -1;
    for (int32_t s = 0; s < p->n_steps; s++) {
        const plan_step *st = &p->steps[s];
        for (int w = 0; w < 3; w++) {
            const plan_view *v = w == 2 ? &st->out : &st->in[w];
            if (v->buf < 0) continue;
            const plan_buffer *x = &p->buffers[v->buf];
            if (x->kind != BUF_RING || x->head != v->buf) continue;
            int32_t nb = x->n_bands, per = x->y1 - x->y0;
            int64_t q0, q1;
            for (int32_t k = 0; k < 2 * nb; k++) lives[k] = -1;
            ring_view_px(b, st, w, x, &q0, &q1);
            ring_touch(lives, nb, per, x->ring_px, 0, q0, q1);
            band_life(p, v->buf, lives, nb, s);
        }
    }
    free(lives);
    for (int32_t i = n0; i < p->n_buffers; i++) {
        plan_buffer *x = &p->buffers[i];
        if (x->last < 0) x->first = x->last = 0; /* never used */
    }
    for (int32_t i = 0; i < n0; i++) {
        plan_buffer *x = &p->buffers[i];
        if (x->kind == BUF_RING && x->head == i && x->last < 0) x->first = x->last = 0;
    }
    return 0;
}
