/*
 * FULLY_CONNECTED, int8, over weights the compiler laid out in four-unit
 * blocks ("il4"), so that one pass reads four units' weights for four
 * inputs as 16 adjacent bytes.
 *
 * Why a layout. pexc_fully_connected_s8 reads four rows of a [units, depth]
 * matrix that lie depth bytes apart: each input word costs four loads and
 * two address additions besides the eight SMLADs and eight SXTB16s that
 * widen the weights (28 instructions per 16 multiply-accumulates on the
 * Cortex-M4). The weights are constants, so the compiler can store them in
 * the order the loop reads them: for units 4b..4b+3 and inputs 4g..4g+3,
 * row r's four bytes at block + 16g + 4r. Two LDRDs then fetch all 16
 * bytes with the pointer stepping by itself, and the loop, two input words
 * per pass, takes 45 instructions per 32 multiply-accumulates (1.41 per
 * MAC against 1.75). The depth's last depth % 4 inputs of a block follow
 * its whole words row by row, and the last units % 4 units stay row-major,
 * so every (unit, input) has one place: pexc_fc_il4_index.
 *
 * Same integers as the row-major kernel: the products and the int32 sums
 * are those of TFLite's reference (integer addition does not depend on
 * order), the bias starts each sum and the requantisation is
 * pexc_out_q_s8, so outputs are byte-identical. Units or inputs that do not
 * fill a block or word (tiles that cut a block, partial-sum depth ranges
 * that start inside a word, a nonzero weights zero point) take the plain
 * loop over the same layout, which is also the kernel of -DPEXC_NO_DSP
 * builds, the twin the tests compare against.
 */
#include "pexc_dot.h"

/* Inputs [d, d1) of unit u: sum of (w + filter_offset) * (x + off), the
 * plain loop over the layout; x points at input d0. */
static int32_t fc_il_unit(const int8_t *w, int32_t units, int32_t depth, int32_t u, const int8_t *x, int32_t d0,
                          int32_t d, int32_t d1, int32_t filter_offset, int32_t off) {
    int32_t a = 0;
    for (; d < d1; d++) a += (w[pexc_fc_il4_index(units, depth, u, d)] + filter_offset) * (x[d - d0] + off);
    return a;
}

/* acc[r] += inputs [d0, d1) of units u..u+3, a whole block (x at input d0). */
static void fc_il_block(const int8_t *w, int32_t units, int32_t depth, int32_t u, const int8_t *x, int32_t d0,
                        int32_t d1, int32_t off, int32_t acc[4]) {
    int32_t ds = d1, de = d1; /* the whole words [ds, de) go through the word loop */
#ifdef PEXC_DOT_DSP
    const int32_t dq = depth & ~3;
    ds = (d0 + 3) & ~3;
    de = (d1 < dq ? d1 : dq) & ~3;
    if (ds >= de) ds = de = d1;
#endif
    if (d0 < ds) /* the head: inputs before the first word boundary */
        for (int r = 0; r < 4; r++) acc[r] += fc_il_unit(w, units, depth, u + r, x, d0, d0, ds, 0, off);
#ifdef PEXC_DOT_DSP
    if (ds < de) pexc_il4_run(x + (ds - d0), w + pexc_fc_il4_index(units, depth, u, ds), (de - ds) >> 2, off, acc);
#endif
    if (de < d1) /* the tail: the depth's last inputs, or all of them in the plain build */
        for (int r = 0; r < 4; r++) acc[r] += fc_il_unit(w, units, depth, u + r, x, d0, de, d1, 0, off);
}

/* s[u - u0] = inputs [d0, d1) of units [u0, u1) (x at input d0), starting
 * from init[u - iu] (or 0 with init NULL). */
static void fc_il_sums(const int8_t *w, int32_t units, int32_t depth, const int8_t *x, int32_t d0, int32_t d1,
                       int32_t filter_offset, int32_t off, int32_t u0, int32_t u1, const int32_t *init, int32_t iu,
                       int32_t *s) {
    PEXC_COUNT_MAC((int64_t)(u1 - u0) * (d1 - d0));
    for (int32_t u = u0; u < u1;) {
        const int32_t i = u - u0;
        if (filter_offset == 0 && (u & 3) == 0 && u + 4 <= u1 && u + 4 <= (units & ~3)) {
            int32_t acc[4] = {0, 0, 0, 0};
            if (init) memcpy(acc, init + (u - iu), sizeof acc);
            fc_il_block(w, units, depth, u, x, d0, d1, off, acc);
            memcpy(s + i, acc, sizeof acc);
            u += 4;
        } else {
            s[i] = (init ? init[u - iu] : 0) + fc_il_unit(w, units, depth, u, x, d0, d0, d1, filter_offset, off);
            u++;
        }
    }
}

#define FC_IL_BLOCK 16

/* Outputs [c0, c1) by the general loop, unit u stored at o[u - ob]. */
static void fc_il_out(const int8_t *w, int32_t units, int32_t depth, const int8_t *x, int32_t filter_offset,
                      int32_t off, int32_t c0, int32_t c1, const int32_t *bias, const pexc_out_q *q, int8_t *o,
                      int32_t ob) {
    for (int32_t u0 = c0, u1; u0 < c1; u0 = u1) {
        /* pieces end on multiples of 4, so that no four-unit block is cut */
        u1 = (u0 & ~3) + FC_IL_BLOCK;
        if (u1 > c1) u1 = c1;
        int32_t s[FC_IL_BLOCK];
        fc_il_sums(w, units, depth, x, 0, depth, filter_offset, off, u0, u1, bias, 0, s);
        for (int32_t u = u0; u < u1; u++) o[u - ob] = pexc_out_q_s8(q, s[u - u0], u);
    }
}

pexc_status pexc_fully_connected_s8_il(const pexc_conv_params *p, int32_t filter_offset, const pexc_view *in,
                                       const int8_t *weights, const int32_t *bias, const pexc_tile *t,
                                       pexc_view *out) {
    if (!pexc_conv_quant_valid(p) || !pexc_input_offset_valid(p) || !weights || !pexc_fc_shapes_valid(in, t, out) ||
        !pexc_view_stores(in, 0, in->c))
        return PEXC_ERR_ARG;
    const int32_t depth = in->c, units = out->c, off = p->input_offset;
    const pexc_out_q q = pexc_out_q_of(p);
    for (int32_t b = 0; b < out->n && t->c0 < t->c1; b++) {
        const int8_t *x = (const int8_t *)in->data + pexc_view_index(in, b, 0, 0, 0);
        int8_t *o = (int8_t *)out->data + pexc_view_index(out, b, 0, 0, t->c0);
        int32_t fb = t->c1, fe = t->c1; /* units [fb, fe) go block by block below */
#ifdef PEXC_DOT_ASM
        /* The common case alone, with nothing to decide per block: whole
         * blocks over a depth of whole word pairs, symmetric weights. */
        fb = (t->c0 + 3) & ~3;
        fe = (t->c1 < units ? t->c1 : units) & ~3;
        if (filter_offset != 0 || (depth & 7) != 0 || depth == 0 || ((uintptr_t)weights & 3) != 0 || fb >= fe)
            fb = fe = t->c1;
        const int32_t off2 = pexc_off2(off);
        PEXC_COUNT_MAC((int64_t)(fe - fb) * depth);
        for (int32_t u = fb; u < fe; u += 4) {
            int32_t a[4] = {0, 0, 0, 0};
            if (bias) memcpy(a, bias + u, sizeof a);
            pexc_il4_words(x, weights + (size_t)u * (size_t)depth, depth >> 3, off2, a);
            int8_t *ou = o + (u - t->c0);
            ou[0] = pexc_out_q_s8(&q, a[0], u);
            ou[1] = pexc_out_q_s8(&q, a[1], u + 1);
            ou[2] = pexc_out_q_s8(&q, a[2], u + 2);
            ou[3] = pexc_out_q_s8(&q, a[3], u + 3);
        }
#endif
        fc_il_out(weights, units, depth, x, filter_offset, off, t->c0, fb, bias, &q, o, t->c0);
        fc_il_out(weights, units, depth, x, filter_offset, off, fe, t->c1, bias, &q, o, t->c0);
    }
    return PEXC_OK;
}

pexc_status pexc_fully_connected_s8_il_acc(const pexc_conv_params *p, int32_t filter_offset, const pexc_view *in,
                                           const int8_t *weights, int32_t d0, int32_t d1, int first,
                                           const pexc_tile *t, pexc_view *acc) {
    if (!pexc_conv_quant_valid(p) || !pexc_input_offset_valid(p) || !weights || !pexc_fc_shapes_valid(in, t, acc) ||
        d0 < 0 || d0 > d1 || d1 > in->c || !pexc_view_stores(in, d0, d1))
        return PEXC_ERR_ARG;
    const int32_t depth = in->c, units = acc->c;
    for (int32_t b = 0; b < acc->n && t->c0 < t->c1; b++) {
        /* With an empty depth range x is never read; keep it in bounds. */
        const int8_t *x = (const int8_t *)in->data + (d0 < d1 ? pexc_view_index(in, b, 0, 0, d0) : 0);
        int32_t *a = (int32_t *)acc->data + pexc_view_index(acc, b, 0, 0, t->c0);
        fc_il_sums(weights, units, depth, x, d0, d1, filter_offset, p->input_offset, t->c0, t->c1,
                   first ? NULL : a, t->c0, a);
    }
    return PEXC_OK;
}
