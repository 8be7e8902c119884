/*
 * pexc_fully_connected_s8_il and its partial-sum form over weights laid out
 * in four-unit blocks (pexc_fc_il4_index), against the plain reference in
 * tests/common/kref_conv.c: random depths and unit counts around the block
 * and word sizes (so whole blocks, the row-major last units and the depth's
 * tail words all occur), unit tiles that cut blocks, depth ranges that start
 * and end inside words, weights at a word-aligned address (the DSP loop)
 * and one byte past it (the plain loop). Then the gathered-window first
 * layers over the same layout (filter_by_channel = PEXC_FILTER_GATHER_IL4):
 * convolutions with a few input channels and depthwise layers with one,
 * strided and padded, whole and cut into tiles of channels and rows,
 * against the dense references. Built for the host and, by
 * tests/test_kernels_m4.py, for the emulated Cortex-M4, where the assembly
 * loop runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kref_conv.h"

#ifndef NCASES
#define NCASES 1200
#endif
#define MAXU 160 /* units or output channels at most */

static kref_conv_rng rng = {UINT64_C(0x11F4C0DE)};

/* One fully connected case: its quantisation, data, reference output and
 * the weights in four-unit blocks. */
typedef struct {
    int32_t batches, depth, units, filter_offset, mult[MAXU], shift[MAXU], bias_store[MAXU];
    const int32_t *bias;
    const int8_t *w; /* the laid-out weights: wstore + 0 or + 1 */
    pexc_conv_params p;
    int8_t *in, *ref, *wstore;
    char desc[400];
} il_case;

static long checks;
#define xmalloc kref_conv_xmalloc

static size_t out_elems(const il_case *c) { return (size_t)c->batches * (size_t)c->units; }

static void make_case(il_case *c) {
    /* around the block (4 units) and word (4 inputs) sizes, and ad_autoencoder's */
    static const int32_t depths[] = {1, 3, 4, 5, 8, 9, 15, 16, 17, 64, 127, 128, 130, 640},
                         units[] = {1, 3, 4, 5, 7, 8, 12, 16, 17, 32, 128, 130};
    int bias_used;
    char qdesc[256];
    c->depth = kref_conv_pick(&rng, depths, 14);
    c->units = kref_conv_pick(&rng, units, 12);
    c->batches = kref_conv_range(&rng, 0, 3) ? 1 : kref_conv_range(&rng, 2, 3);
    c->filter_offset = kref_conv_range(&rng, 0, 5) == 0 ? kref_conv_range(&rng, -20, 20) : 0;
    kref_conv_random_quant(&rng, c->units, c->depth, &c->p, c->mult, c->shift, c->bias_store, &bias_used, qdesc,
                           sizeof qdesc);
    c->bias = bias_used ? c->bias_store : NULL;
    const int misaligned = kref_conv_range(&rng, 0, 4) == 0;
    snprintf(c->desc, sizeof c->desc, "batches=%d depth=%d units=%d filter_offset=%d weights%s aligned %s",
             (int)c->batches, (int)c->depth, (int)c->units, (int)c->filter_offset, misaligned ? " not" : "", qdesc);
    const size_t in_n = (size_t)c->batches * (size_t)c->depth, w_n = (size_t)c->units * (size_t)c->depth;
    int8_t *w = xmalloc(w_n);
    c->in = xmalloc(in_n);
    c->ref = xmalloc(out_elems(c));
    c->wstore = xmalloc(w_n + 8); /* malloc: word-aligned */
    kref_conv_fill_s8(&rng, c->in, in_n, -128, 127);
    kref_conv_fill_s8(&rng, w, w_n, -127, 127);
    kref_conv_fc(&c->p, c->filter_offset, c->batches, c->depth, c->in, c->units, w, c->bias, c->ref);
    int8_t *lw = c->wstore + misaligned;
    /* every place written exactly once: fill with a marker, then check */
    memset(lw, 0x5A, w_n);
    unsigned char *seen = xmalloc(w_n);
    memset(seen, 0, w_n);
    for (int32_t u = 0; u < c->units; u++)
        for (int32_t d = 0; d < c->depth; d++) {
            const size_t i = pexc_fc_il4_index(c->units, c->depth, u, d);
            if (i >= w_n || seen[i]) {
                printf("FAIL fc_il_layout: %s: (%d, %d) -> %zu taken twice or out of range\n", c->desc, (int)u,
                       (int)d, i);
                exit(1);
            }
            seen[i] = 1;
            lw[i] = w[(size_t)u * (size_t)c->depth + (size_t)d];
        }
    checks++;
    c->w = lw;
    free(seen);
    free(w);
}

/* Units cut into random tiles (cutting blocks), written into one dense
 * output that starts as noise. */
static int check_tiles(il_case *c) {
    int32_t ub[8];
    const int32_t nu = kref_conv_cuts(&rng, 0, c->units, 5, 1, ub);
    const size_t ne = out_elems(c);
    int8_t *got = xmalloc(ne);
    kref_conv_fill_s8(&rng, got, ne, -128, 127);
    pexc_view vi = kref_conv_dense(c->in, c->batches, 1, 1, c->depth);
    pexc_view vo = kref_conv_dense(got, c->batches, 1, 1, c->units);
    int bad = 0;
    for (int32_t j = 0; j < nu && !bad; j++) {
        pexc_tile t = {0, 1, ub[j], ub[j + 1], 0, 0};
        bad = !kref_conv_status_ok("fc_il", c->desc,
                         pexc_fully_connected_s8_il(&c->p, c->filter_offset, &vi, c->w, c->bias, &t, &vo));
    }
    char d[500];
    snprintf(d, sizeof d, "%s units cut %d ways", c->desc, (int)nu);
    bad = bad || kref_conv_cmp_s8("fc_il", d, c->ref, got, ne);
    free(got);
    checks++;
    return bad;
}

/* Input depth split into partial sums (ranges starting and ending inside
 * words), units in tiles, then requantised. */
static int check_acc(il_case *c) {
    int32_t db[8], ub[8];
    const int32_t nd = kref_conv_cuts(&rng, 0, c->depth, 5, 1, db);
    const int32_t nu = kref_conv_cuts(&rng, 0, c->units, 3, 1, ub);
    const size_t ne = out_elems(c);
    int32_t *acc = xmalloc(4 * ne);
    int8_t *got = xmalloc(ne);
    pexc_view vi = kref_conv_dense(c->in, c->batches, 1, 1, c->depth);
    pexc_view va = kref_conv_dense(acc, c->batches, 1, 1, c->units);
    pexc_view vo = kref_conv_dense(got, c->batches, 1, 1, c->units);
    int bad = 0;
    for (int32_t j = 0; j < nu && !bad; j++) {
        pexc_tile t = {0, 1, ub[j], ub[j + 1], 0, 0};
        for (int32_t k = 0; k < nd && !bad; k++)
            bad = !kref_conv_status_ok("fc_il_acc", c->desc,
                             pexc_fully_connected_s8_il_acc(&c->p, c->filter_offset, &vi, c->w, db[k], db[k + 1],
                                                            k == 0, &t, &va));
        if (!bad) bad = !kref_conv_status_ok("fc_il_acc requant", c->desc, pexc_requant_s32_s8(&c->p, c->bias, &va, &t, &vo));
    }
    char d[500];
    snprintf(d, sizeof d, "%s depth cut %d ways, units %d ways", c->desc, (int)nd, (int)nu);
    bad = bad || kref_conv_cmp_s8("fc_il_acc", d, c->ref, got, ne);
    free(acc);
    free(got);
    checks++;
    return bad;
}

static int check_args(void) {
    static int8_t in[10], w[4 * 10], out[4];
    int32_t mult[4] = {1 << 30, 1 << 30, 1 << 30, 1 << 30}, shift[4] = {-4, -4, -4, -4};
    pexc_conv_params p = {0, 0, 0, 0, 0, 0, 0, 0, -128, 127, mult, shift, NULL, 0};
    pexc_view vi = kref_conv_dense(in, 1, 1, 1, 10), vo = kref_conv_dense(out, 1, 1, 1, 4);
    pexc_tile t = {0, 1, 0, 4, 0, 0}, tb = {0, 1, 2, 5, 0, 0};
    int bad = 0;
    checks += 4;
    bad |= pexc_fully_connected_s8_il(&p, 0, &vi, w, NULL, &t, &vo) != PEXC_OK;
    bad |= pexc_fully_connected_s8_il(&p, 0, &vi, w, NULL, &tb, &vo) != PEXC_ERR_ARG;
    bad |= pexc_fully_connected_s8_il(&p, 0, &vi, NULL, NULL, &t, &vo) != PEXC_ERR_ARG;
    static int32_t acc[4];
    pexc_view va = kref_conv_dense(acc, 1, 1, 1, 4);
    bad |= pexc_fully_connected_s8_il_acc(&p, 0, &vi, w, 6, 5, 1, &t, &va) != PEXC_ERR_ARG;
    if (bad) printf("FAIL fc_il_args: a valid call refused or an invalid one accepted\n");
    return bad;
}

/* A gathered layer: a convolution (dm 0) with cin input channels or a
 * depthwise layer with one input channel and depth multiplier dm. */
static int check_gather(int idx) {
    static const int32_t ks[][2] = {{10, 4}, {10, 8}, {3, 3}, {2, 4}, {4, 2}, {5, 5}, {8, 8}};
    const int32_t *kk = ks[kref_conv_range(&rng, 0, 6)];
    const int32_t kh = kk[0], kw = kk[1];
    const int dw = kref_conv_range(&rng, 0, 1);
    int32_t cin = dw ? 1 : kref_conv_range(&rng, 1, 4);
    while (kh * kw * cin > PEXC_GATHER_MAX) cin--;
    const int32_t cout = dw ? 4 * kref_conv_range(&rng, 1, 4) : kref_conv_range(&rng, 1, 20);
    const int32_t h = kref_conv_range(&rng, kh, kh + 12), w = kref_conv_range(&rng, kw, kw + 9);
    const int32_t sh = kref_conv_range(&rng, 1, 2), sw = kref_conv_range(&rng, 1, 2);
    const int same = kref_conv_range(&rng, 0, 1);
    int32_t pt, pl;
    const int32_t oh = kref_conv_out_size(h, kh, sh, 1, same, &pt), ow = kref_conv_out_size(w, kw, sw, 1, same, &pl);
    const int32_t k = kh * kw * cin;
    int32_t mult[MAXU], shift[MAXU], bias_store[MAXU];
    int bias_used;
    char qdesc[256], d[500];
    pexc_conv_params p;
    kref_conv_random_quant(&rng, cout, k, &p, mult, shift, bias_store, &bias_used, qdesc, sizeof qdesc);
    p.stride_h = sh;
    p.stride_w = sw;
    p.dilation_h = p.dilation_w = 1;
    p.pad_top = pt;
    p.pad_left = pl;
    snprintf(d, sizeof d, "gather case %d: %s %dx%dx%d -> %dx%dx%d kernel %dx%d stride %dx%d %s %s", idx,
             dw ? "depthwise" : "conv", (int)h, (int)w, (int)cin, (int)oh, (int)ow, (int)cout, (int)kh, (int)kw,
             (int)sh, (int)sw, same ? "SAME" : "VALID", qdesc);
    const int32_t *bias = bias_used ? bias_store : NULL;
    int8_t *in = xmalloc((size_t)(h * w * cin)), *f = xmalloc((size_t)(cout * k)), *ref = xmalloc((size_t)(oh * ow * cout));
    int8_t *got = xmalloc((size_t)(oh * ow * cout)), *lstore = xmalloc((size_t)(cout * k) + 8);
    kref_conv_fill_s8(&rng, in, (size_t)(h * w * cin), -128, 127);
    kref_conv_fill_s8(&rng, f, (size_t)(cout * k), -127, 127);
    /* f is [cout][kh][kw][cin]; the depthwise reference takes [kh][kw][cout] */
    if (dw) {
        int8_t *fd = xmalloc((size_t)(cout * k));
        for (int32_t oc = 0; oc < cout; oc++)
            for (int32_t j = 0; j < k; j++) fd[j * cout + oc] = f[oc * k + j];
        kref_conv_depthwise(&p, cout, 1, h, w, 1, in, kh, kw, fd, bias, oh, ow, ref);
        free(fd);
    } else {
        kref_conv_conv2d(&p, 1, h, w, cin, in, cout, kh, kw, f, bias, oh, ow, ref);
    }
    for (int32_t oc = 0; oc < cout; oc++)
        for (int32_t j = 0; j < k; j++) lstore[pexc_fc_il4_index(cout, k, oc, j)] = f[oc * k + j];
    p.filter_by_channel = PEXC_FILTER_GATHER_IL4;
    pexc_view vi = kref_conv_dense(in, 1, h, w, cin), vo = kref_conv_dense(got, 1, oh, ow, cout);
    kref_conv_fill_s8(&rng, got, (size_t)(oh * ow * cout), -128, 127);
    int32_t yb[8], cb[8];
    const int32_t ny = kref_conv_cuts(&rng, 0, oh, 3, 0, yb), nc = kref_conv_cuts(&rng, 0, cout, 3, 0, cb);
    int bad = 0;
    for (int32_t i = 0; i < ny && !bad; i++)
        for (int32_t j = 0; j < nc && !bad; j++) {
            pexc_tile t = {yb[i], yb[i + 1], cb[j], cb[j + 1], 0, 0};
            bad = !kref_conv_status_ok("gather_il4", d,
                             dw ? pexc_depthwise_conv2d_s8(&p, cout, &vi, lstore, kh, kw, bias, &t, &vo)
                                : pexc_conv2d_s8(&p, &vi, lstore, kh, kw, bias, &t, &vo));
        }
    bad = bad || kref_conv_cmp_s8("gather_il4", d, ref, got, (size_t)(oh * ow * cout));
    /* the partial-sum forms read the plain layout: they refuse this one */
    if (!bad) {
        int32_t acc[4];
        pexc_view va = kref_conv_dense(acc, 1, 1, 1, 4);
        pexc_tile t1 = {0, 1, 0, 1, 0, 1};
        const pexc_status st = dw ? pexc_depthwise_conv2d_s8_acc(&p, cout, &vi, lstore, kh, kw, 0, 1, 1, &t1, &va)
                                  : pexc_conv2d_s8_acc(&p, &vi, lstore, kh, kw, 0, 1, 1, &t1, &va);
        if (st != PEXC_ERR_ARG) {
            printf("FAIL gather_il4: %s\n  the partial-sum form accepted the block layout (status %d)\n", d, (int)st);
            bad = 1;
        }
    }
    checks += 2;
    free(in);
    free(f);
    free(ref);
    free(got);
    free(lstore);
    return bad;
}

int main(void) {
    int bad = check_args();
    int n = 0;
    for (; n < NCASES && !bad; n++) {
        il_case c;
        make_case(&c);
        bad = check_tiles(&c) || check_acc(&c);
        free(c.wstore);
        free(c.ref);
        free(c.in);
    }
    int ng = 0;
    for (; ng < NCASES / 3 && !bad; ng++) bad = check_gather(ng);
    if (bad) return 1;
    printf("test_fc_il: OK (%d fully connected cases, %d gathered layers, %ld checks)\n", n, ng, checks);
    return 0;
}
