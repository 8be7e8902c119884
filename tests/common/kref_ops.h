/*
 * Helpers for the kernel tests: a seeded PRNG, views that store a channel
 * slice and/or a ring of pixels of a dense NHWC tensor, a driver that
 * streams a kernel through pixel tiles and rings, TFLite's fixed-point
 * primitives written independently of the runtime (from their definitions,
 * in 64-bit arithmetic), and mismatch reporting.
 * Everything here favours obviousness over speed.
 */
#ifndef KREF_OPS_H
#define KREF_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "pexc_kernels.h"

/* ---- PRNG (splitmix64) ---- */
typedef struct {
    uint64_t s;
} kref_ops_rng;

uint32_t kref_ops_u32(kref_ops_rng *r);
int32_t kref_ops_range(kref_ops_rng *r, int32_t lo, int32_t hi); /* [lo, hi] */
double kref_ops_logu(kref_ops_rng *r, double lo, double hi);     /* log-uniform */
void kref_ops_fill_s8(kref_ops_rng *r, int8_t *p, size_t n);

/* ---- views over dense NHWC tensors ---- */
/* A view of logical [n, h, w, c] storing channels [c_begin, c_begin +
 * c_stored) and pixels in a ring of ring_px (0: all pixels; a ring of R rows
 * is R * w). Allocates the physical buffer (elem bytes per element) and
 * fills it with 0x5A junk. */
pexc_view kref_ops_view_new(int32_t n, int32_t h, int32_t w, int32_t c,
                            int32_t c_begin, int32_t c_stored,
                            int32_t ring_px, size_t elem);
void kref_ops_view_free(pexc_view *v);
/* Bytes of a view's physical storage. */
size_t kref_ops_view_bytes(const pexc_view *v, size_t elem);
/* Copy logical rows [y0, y1) of the stored channels from / to a dense
 * tensor of the view's logical shape. */
void kref_ops_view_put(pexc_view *v, const void *dense, size_t elem, int32_t y0,
                       int32_t y1);
void kref_ops_view_get(const pexc_view *v, void *dense, size_t elem, int32_t y0,
                       int32_t y1, int32_t c0, int32_t c1);
/* The same for raster pixels [q0, q1) (q = y * w + x) of every batch index. */
void kref_ops_view_put_px(pexc_view *v, const void *dense, size_t elem, int64_t q0,
                          int64_t q1);
void kref_ops_view_get_px(const pexc_view *v, void *dense, size_t elem, int64_t q0,
                          int64_t q1, int32_t c0, int32_t c1);

/* ---- pixel tiles and streaming ---- */
/* The tile of output pixels [q0, q1) (raster order, q0 < q1) of an output w
 * pixels wide, channels [c0, c1). */
pexc_tile kref_ops_px_tile(int32_t w, int64_t q0, int64_t q1, int32_t c0, int32_t c1);

/* Random cuts 0 = b[0] <= b[1] <= ... <= b[k] = total of [0, total) into k
 * consecutive ranges (some empty, some single pixels); returns k. b needs
 * room for total + 66 entries. */
int32_t kref_ops_cuts(kref_ops_rng *r, int32_t total, int32_t *b);

/* Which input pixels an output pixel reads: output (oy, ox) reads input
 * (oy * sh - pt + ky * dh, ox * sw - pl + kx * dw) for ky < kh, kx < kw,
 * where inside the input. Element-wise ops are 1 x 1 windows of stride 1,
 * a broadcast axis has stride 0. */
typedef struct {
    int32_t sh, sw, dh, dw, kh, kw, pt, pl;
} kref_ops_window;

/* By brute force over the tile's pixels and taps: the raster range
 * [*lo, *hi] of the input pixels (in_h x in_w) tile t reads (*hi < *lo:
 * none). */
void kref_ops_window_reads(const kref_ops_window *g, int32_t in_h, int32_t in_w,
                           int32_t out_w, const pexc_tile *t, int64_t *lo, int64_t *hi);
/* The smallest ring_px for which the kernels' check (pexc_window_fits with
 * g's geometry) accepts an in_h x in_w ring input for tile t. */
int32_t kref_ops_ring_needed(const kref_ops_window *g, int32_t in_h, int32_t in_w,
                             int32_t out_w, const pexc_tile *t);

/* One operand of a streamed kernel: a whole logical tensor, dense NHWC, and
 * the window its output pixels read. */
typedef struct {
    const void *dense;
    int32_t n, h, w, c;
    size_t elem;
    kref_ops_window win;
} kref_ops_src;

/* Computes tile t of out from in[0], in[1], ... (views over the operands). */
typedef pexc_status (*kref_ops_tile_fn)(void *ctx, const pexc_view *in, const pexc_tile *t,
                                        pexc_view *out);

typedef struct {
    int32_t chunk;      /* output pixels per tile; 0: random lengths in [1, max_chunk] */
    int32_t max_chunk;
    int ring_in;        /* operands in pixel rings (else whole, dense views) */
    int ring_out;       /* output in a pixel ring (else a whole, dense view) */
    int32_t c0, c1;     /* output channels of every tile */
} kref_ops_stream_cfg;

/* Computes the output [on, oh, ow, oc] (elements oelem bytes) tile by tile,
 * each tile a run of cfg->chunk output pixels in raster order (crossing row
 * ends), and compares channels [c0, c1) with want (dense). With ring_in, each
 * operand lives in a pixel ring sized to the largest span the kernels' check
 * needs for a tile (plus 0..2 pixels of slack, so usually not a multiple of
 * the row), and is filled in raster order as a streaming producer would: up
 * to the last pixel the next tile reads, overwriting the oldest pixels.
 * Checks along the way:
 *   - the check never accepts a ring smaller than the pixels a tile reads;
 *   - every call succeeds and writes nothing outside its tile (the output
 *     storage is compared before and after);
 *   - with ring_in, one tile with an operand ring a pixel too small for it
 *     gets PEXC_ERR_ARG.
 * Prints the failure and returns 1, else 0. */
int kref_ops_stream(kref_ops_rng *r, const char *test, const char *desc,
                    const kref_ops_src *src, int32_t nin, int32_t on, int32_t oh, int32_t ow,
                    int32_t oc, size_t oelem, const void *want, const kref_ops_stream_cfg *cfg,
                    kref_ops_tile_fn fn, void *ctx);
/* A random tile length for output rows ow wide: 1, 3, ow / 2 + 1, ow + 1,
 * 2 * ow - 1, or 0 (random lengths). */
int32_t kref_ops_pick_chunk(kref_ops_rng *r, int32_t ow);

/* ---- TFLite fixed point, independent formulation ---- */
int32_t kref_ops_srdhm(int32_t a, int32_t b);
int32_t kref_ops_rdivpot(int32_t x, int32_t exponent);
int32_t kref_ops_requant(int32_t x, int32_t mult, int32_t shift);

/* ---- reporting ---- */
/* Compares n bytes; on the first difference prints test, params and index
 * with both values (as int8) and returns 1. */
int kref_ops_cmp_s8(const char *test, const char *params, const int8_t *want,
                    const int8_t *got, size_t n);
/* Prints a failure line and returns 1. */
int kref_ops_fail(const char *test, const char *fmt, ...);

#endif /* KREF_OPS_H */
