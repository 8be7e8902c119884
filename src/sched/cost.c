/*
 * What a plan costs to run: predicted instructions on a Cortex-M4.
 *
 * Peak SRAM is exact; speed is not, but the choice between two plans of
 * nearly equal peak needs only a fair estimate of how much slower the finer
 * one runs. Each step of a plan is one pass through the generated step loop
 * and one kernel call, so its cost is modelled as a linear function of what
 * the step does: a constant (table row, dispatch, the call and its argument
 * checks), a term per output pixel (the per-pixel window and pointer work),
 * per output value (requantise, clamp, store), per multiply-accumulate and
 * per output row touched (a tile that wraps rows restarts its inner loops).
 * The constants depend on the kernel and the step's mode (a whole step, a
 * partial-sum accumulation, the finish of one), and on the kernel family
 * for whole-tensor kernels. tools/fit_cost.py measures every step of real
 * plans on the emulated core (one instruction-count region per step) and
 * fits the constants by least squares into cost_m4.c; a kernel the fit has
 * not seen takes the table's catch-all row.
 */
#include <string.h>

#include "sched/cost.h"

void sched_step_features(const ir_graph *g, const k_call *calls, const plan_step *st, double f[COST_NF]) {
    const k_call *k = &calls[st->call];
    const pexc_tile *t = &st->tile;
    int64_t px = (int64_t)(k->out_dims[0] ? k->out_dims[0] : 1) * pexc_tile_pixels(t, k->out_dims[2]);
    int64_t ch = t->c1 - t->c0;
    if (px < 0) px = 0;
    if (ch < 0) ch = 0;
    f[0] = 1;
    f[1] = (double)px;
    f[2] = (double)(px * ch);
    f[3] = (double)plan_step_macs(g, calls, st);
    f[4] = t->y1 > t->y0 ? (double)(t->y1 - t->y0) : 0;
    /* A one-channel slice of a convolution runs every MAC in the scalar
     * tail of a loop built for four channels at a time: per MAC it costs
     * about twice what a whole layer does. */
    int64_t taps = (int64_t)k->kh * k->kw, cin = 0;
    if (k->kind == K_CONV) cin = st->mode == STEP_ACC ? st->ic1 - st->ic0 : k->in_dims[0][3];
    else if (k->kind == K_FC) cin = st->mode == STEP_ACC ? st->ic1 - st->ic0 : k->in_dims[0][3];
    else if (k->kind == K_DWCONV && st->mode != STEP_ACC) cin = 1;
    if (k->kind == K_FC) taps = 1;
    if (st->mode == STEP_FINISH || taps < 1) cin = 0;
    f[5] = (double)(px * (ch % 4) * taps * cin);
    f[6] = (double)(px * ch * taps * (cin % 4));
    /* depthwise: 3x3 windows have a path of their own, other sizes the
     * general one at about twice the instructions per MAC */
    if (k->kind == K_DWCONV) f[6] = k->kh == 3 && k->kw == 3 ? 0 : f[3];
    /* The convolution's two-pixel path (runtime/src/conv2d_s8.c) folds the
     * input offset into a constant per channel first, one pass over the
     * weights, so it only runs on tiles of several pixels; a window wider
     * than one pixel also needs its input held whole, not in a ring. A
     * streamed step, or a slice's single pixel, runs one pixel at a time
     * (small first-layer windows take their gathered path either way). */
    f[7] = 0;
    if (k->kind == K_CONV && st->mode == STEP_FULL) {
        int pointwise = k->kh == 1 && k->kw == 1;
        int gather = !pointwise && taps * k->in_dims[0][3] <= COST_GATHER_MAX;
        if (!gather && (px < COST_PAIR_MIN_PIXELS || (!pointwise && st->in[0].ring_px > 0))) f[7] = f[3];
    }
}

const cost_row *sched_cost_row(const k_call *k, plan_step_mode mode) {
    const char *fn = k->kind == K_GENERIC && k->gen ? k->gen->fn : NULL;
    const cost_row *same_kind = NULL, *any = NULL;
    for (int32_t i = 0; i < cost_m4_n_rows; i++) {
        const cost_row *r = &cost_m4_rows[i];
        if (r->kind < 0) {
            any = r;
            continue;
        }
        if ((k_kind)r->kind != k->kind || (int)r->mode != (int)mode) continue;
        if (!r->fn || (fn && !strcmp(r->fn, fn))) {
            if (r->fn || !fn) return r;
            same_kind = r; /* the kind's average over its families */
        }
    }
    return same_kind ? same_kind : any;
}

double sched_step_cost(const ir_graph *g, const k_call *calls, const plan_step *st) {
    const cost_row *r = sched_cost_row(&calls[st->call], st->mode);
    if (!r) return 0;
    double f[COST_NF];
    sched_step_features(g, calls, st, f);
    double c = 0;
    for (int i = 0; i < COST_NF; i++) c += r->c[i] * f[i];
    return c;
}

double sched_plan_cost(const ir_graph *g, const k_call *calls, const plan_t *p) {
    double c = cost_m4_per_run;
    for (int32_t s = 0; s < p->n_steps; s++) c += sched_step_cost(g, calls, &p->steps[s]);
    return c;
}
