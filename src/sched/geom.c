/*
 * Window geometry: which input pixels (raster order) an operator's output
 * pixels read, used by row streaming to size its rings and by the plan's
 * verifier to check each step; and the multiply-accumulates of one step.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#include "sched/sched_int.h"

/* A sequence operator with a step form (an LSTM): its output pixel q, one
 * row of the sequence, needs input pixel q and the rows before it, which
 * the state carries; the rows of the input and output are pixels of the
 * same NHWC grid. */
int sched_is_seq(const k_call *k) {
    return ops_steps_of(k) && k->in[0] >= 0 && k->in_dims[0][0] == 1 && k->out_dims[0] == 1 &&
           k->in_dims[0][1] == k->out_dims[1] && k->in_dims[0][2] == k->out_dims[2];
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
    case K_GENERIC: return which == 0 && sched_is_seq(k); /* a row of the sequence per pixel */
    default: return 0;
    }
}



px_geom sched_geom_of(const k_call *k, int which) {
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

int64_t sched_geom_need(const px_geom *g, int64_t q) {
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
int64_t sched_geom_low(const px_geom *g, int64_t q) {
    if (!g->window) return 0;
    int64_t y = q / g->OW, lo = px_lo(g, y, q % g->OW);
    if (y + 1 < g->OH) {
        int64_t l2 = px_lo(g, y + 1, 0);
        if (l2 < lo) lo = l2;
    }
    return lo;
}

int64_t sched_px_need(const k_call *k, int which, int64_t q) {
    px_geom g = sched_geom_of(k, which);
    return sched_geom_need(&g, q);
}

int64_t sched_px_low(const k_call *k, int which, int64_t q) {
    px_geom g = sched_geom_of(k, which);
    return sched_geom_low(&g, q);
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
