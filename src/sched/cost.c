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

/* A window's taps inside the input along one axis, for output index o. */
static int64_t cost_axis_taps(int32_t o, int32_t stride, int32_t pad, int32_t dil, int32_t k, int32_t n) {
    int64_t c = 0;
    for (int32_t i = 0; i < k; i++) {
        int32_t at = o * stride - pad + i * dil;
        c += at >= 0 && at < n;
    }
    return c;
}

/* A tile's windows against the input, summed over its pixels (per batch
 * index): taps inside the input (the general loops clip each window, so a
 * 7x7 window of stride 2 with SAME padding on a small image runs far fewer
 * MACs than taps x pixels), kernel rows inside (the windowed loops walk a
 * kernel row's inputs as one contiguous run), and pixels whose window lies
 * whole inside (only those take the two-pixel path). Rows are separable:
 * a row's sums are its kernel rows inside times its columns' sums, the
 * columns summed once for a whole row. */
typedef struct {
    int64_t taps, rows, whole;
} cost_win;

static cost_win cost_tile_win(const pexc_tile *t, int32_t ow, int32_t sh, int32_t sw, int32_t ph, int32_t pw,
                              int32_t dh, int32_t dw, int32_t kh, int32_t kw, int32_t H, int32_t W) {
    cost_win r = {0, 0, 0};
    if (t->y0 >= t->y1) return r;
    /* per column range: taps, pixels, whole pixels; the whole row, the
     * first row's columns [xb, ow) and the last row's [0, xe) */
    int64_t sum[3][3] = {{0}};
    int32_t xb = pexc_tile_xb(t, t->y0), xe = pexc_tile_xe(t, t->y1 - 1, ow);
    for (int32_t ox = 0; ox < ow; ox++) {
        int64_t c = cost_axis_taps(ox, sw, pw, dw, kw, W);
        int64_t v[3] = {c, 1, c == kw};
        for (int i = 0; i < 3; i++) {
            sum[0][i] += v[i];
            if (ox >= xb) sum[1][i] += v[i];
            if (ox < xe) sum[2][i] += v[i];
        }
    }
    for (int32_t oy = t->y0; oy < t->y1; oy++) {
        int64_t cols[3];
        for (int i = 0; i < 3; i++)
            cols[i] = t->y0 == t->y1 - 1 ? sum[1][i] + sum[2][i] - sum[0][i]
                      : oy == t->y0      ? sum[1][i]
                      : oy == t->y1 - 1  ? sum[2][i]
                                         : sum[0][i];
        int64_t ky = cost_axis_taps(oy, sh, ph, dh, kh, H);
        r.taps += ky * cols[0];
        r.rows += ky * cols[1];
        if (ky == kh) r.whole += cols[2];
    }
    return r;
}

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
    /* depthwise: 3x3 windows of depth multiplier 1 and no dilation have a
     * path of their own, the others the general one at about twice the
     * instructions per MAC */
    if (k->kind == K_DWCONV)
        f[6] = k->kh == 3 && k->kw == 3 && k->depth_mult == 1 && k->conv.dilation_h == 1 && k->conv.dilation_w == 1
                   ? 0
                   : f[3];
    /* The convolution's two-pixel path (runtime/src/conv2d_s8.c) folds the
     * input offset into a constant per channel first, one pass over the
     * weights, so it only runs on tiles of several pixels; a window wider
     * than one pixel also needs its input held whole, not in a ring. A
     * streamed step, or a slice's single pixel, runs one pixel at a time
     * (small first-layer windows take their gathered path either way). */
    f[7] = 0;
    int gather = 0;
    if (k->kind == K_CONV && st->mode == STEP_FULL) {
        int pointwise = k->kh == 1 && k->kw == 1;
        gather = !pointwise && taps * k->in_dims[0][3] <= COST_GATHER_MAX;
        if (!gather && (px < COST_PAIR_MIN_PIXELS || (!pointwise && st->in[0].ring_px > 0))) f[7] = f[3];
    }
    if (k->kind == K_DWCONV && st->mode == STEP_FULL && k->conv.filter_by_channel) gather = 1;
    f[8] = f[9] = f[10] = f[11] = 0;
    /* the general loops skip the taps outside the input */
    /* the two-pixel path runs (and folds its filter first) */
    const int pairs = k->kind == K_CONV && st->mode == STEP_FULL && !gather && f[7] == 0 && px > 0;
    double inside = 1, krows = (double)px * k->kh, edge = 0;
    if ((k->kind == K_CONV || (k->kind == K_DWCONV && st->mode == STEP_FULL)) && !gather && taps > 1 && px > 0) {
        const pexc_conv_params *c = &k->conv;
        const double nb = (double)(k->out_dims[0] ? k->out_dims[0] : 1);
        cost_win w = cost_tile_win(t, k->out_dims[2], c->stride_h, c->stride_w, c->pad_top, c->pad_left,
                                   c->dilation_h, c->dilation_w, k->kh, k->kw, k->in_dims[0][1], k->in_dims[0][2]);
        inside = (double)w.taps * nb / ((double)px * (double)taps);
        krows = (double)w.rows * nb;
        /* the MACs of pixels whose window is clipped: off the two-pixel
         * path (conv_pixel), wherever the tile is */
        edge = w.taps > 0 ? ((double)w.taps - (double)(w.whole * taps)) / (double)w.taps : 0;
        f[3] *= inside;
        f[5] *= inside;
        f[6] *= inside;
        f[7] *= inside;
        if (pairs) f[7] = f[3] * edge;
        if (k->kind == K_CONV) {
            /* The windowed loops take a kernel row's kw x Cin inputs as one
             * run: the run's tail beyond whole words goes byte by byte, and
             * a run of odd length leaves the two-pixel dot product for a
             * slower pair loop (conv_pair). */
            int64_t run = (int64_t)k->kw * cin;
            f[6] = (double)ch * krows * (double)(run % 4);
            if (pairs && run % 2) f[7] = f[3];
        }
    }
    /* A convolution's loops run over taps, and within a tap over input
     * channels: a window of many taps over few input channels (5x5 over 6)
     * pays the per-tap pointer and loop work on few MACs. */
    if (k->kind == K_CONV && st->mode != STEP_FINISH && !gather && taps > 1) f[11] = (double)ch * krows;
    /* The depthwise general path builds its tap list per pixel: work per
     * pixel and tap, whatever the channels. */
    if (k->kind == K_DWCONV && st->mode == STEP_FULL && !gather && f[6] > 0) f[11] = (double)(px * taps) * inside;
    /* A window wider than one tap runs other loops than a pointwise layer
     * (conv_rows against conv_pointwise): its MACs a term of their own. */
    /* The two-pixel path first folds the input offset into a constant per
     * channel, one pass over the tile's filter bytes per call: a layer cut
     * into 13 row steps pays it 13 times (kws's streamed pointwise layers,
     * 16 % over their whole-layer cost). */
    f[13] = 0;
    if (pairs)
        f[13] = (double)(ch * taps * k->in_dims[0][3]);
    /* An input read from a ring: the kernels wrap its addresses pixel by
     * pixel (the 3x3 depthwise path measured about 9 % slower on ring rows
     * than on a whole tensor). */
    f[14] = st->in[0].ring_px > 0 ? f[2] : 0;
    /* The compiler proves per layer whether the short requantisation
     * (about 7 instructions an output) gives TFLite's bytes; where it
     * cannot, each output takes the long form, several times dearer. */
    f[15] = (k->kind == K_CONV || k->kind == K_DWCONV || k->kind == K_FC) && st->mode != STEP_ACC &&
                    !k->conv.out_round
                ? f[2]
                : 0;
    f[12] = 0;
    if (k->kind == K_CONV && !gather && taps > 1) {
        f[12] = f[3];
        f[3] = 0;
    }
    if (gather) {
        /* A first layer's gathered path copies each pixel's window
         * (taps x input channels) into a small buffer and runs a plain
         * product over it against a filter row per channel: per MAC it is
         * far cheaper than the general loops (about 0.8 instructions
         * against 1.3-1.75), per window value it pays the copy. */
        int64_t win = taps * (k->kind == K_CONV ? k->in_dims[0][3] : 1);
        f[8] = (double)(px * win);
        f[9] = f[3];
        /* channels beyond the tile's whole blocks of four take a scalar
         * loop, three to four times the block's cost per MAC */
        f[10] = (double)(px * (ch % 4) * win);
        f[3] = f[5] = f[6] = 0;
    } else if (k->kind == K_AVGPOOL || k->kind == K_MAXPOOL) {
        /* A pool has no MACs but reads a window of values per output value:
         * kws's global average pool (25x5 window, one output pixel) costs
         * ten times what its 64 outputs alone predict. A partial step of a
         * streamed global pool reads its input pixels [ic0, ic1). */
        const pexc_pool_params *q = &k->pool;
        if (st->mode == STEP_ACC) f[8] = (double)(px * ch * (st->ic1 - st->ic0));
        else if (st->mode == STEP_FULL)
            f[8] = (double)(ch * (k->out_dims[0] ? k->out_dims[0] : 1) *
                            cost_tile_win(t, k->out_dims[2], q->stride_h, q->stride_w, q->pad_top, q->pad_left, 1, 1,
                                          q->filter_h, q->filter_w, k->in_dims[0][1], k->in_dims[0][2])
                                .taps);
    }
}

/* Whether a gathered layer's step runs on the filter in four-unit blocks
 * (src/emit/fc_layout.c's emit_gather_il, seen from one step: the plan
 * decides for all the layer's steps, and a step of whole blocks is almost
 * always in a plan of whole blocks). */
static int cost_blocks(const k_call *k, const plan_step *st, int32_t depth) {
    const int32_t c = k->out_dims[3];
    return depth >= 8 && depth % 4 == 0 && c >= 4 && st->tile.c0 % 4 == 0 && (st->tile.c1 % 4 == 0 || st->tile.c1 == c);
}

const char *sched_cost_path(const k_call *k, const plan_step *st) {
    if (k->kind == K_GENERIC) return k->gen ? k->gen->fn : NULL;
    if (st->mode != STEP_FULL) return NULL;
    const int32_t taps = k->kh * k->kw;
    if (k->kind == K_CONV) {
        if (taps == 1) return "pointwise";
        const int32_t d = taps * k->in_dims[0][3];
        if (d <= COST_GATHER_MAX) return cost_blocks(k, st, d) ? "gather_blocks" : "gather";
        return "window";
    }
    if (k->kind == K_DWCONV) {
        if (k->conv.filter_by_channel) return cost_blocks(k, st, taps) ? "gather_blocks" : "gather";
        return k->kh == 3 && k->kw == 3 && k->depth_mult == 1 && k->conv.dilation_h == 1 && k->conv.dilation_w == 1
                   ? "3x3"
                   : "window";
    }
    if (k->kind == K_FC && k->filter_offset == 0 && k->in_dims[0][3] >= 8 && cost_blocks(k, st, 8)) return "blocks";
    return NULL;
}

const cost_row *sched_cost_row(const k_call *k, plan_step_mode mode, const char *fn) {
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
    const k_call *k = &calls[st->call];
    const cost_row *r = sched_cost_row(k, st->mode, sched_cost_path(k, st));
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
