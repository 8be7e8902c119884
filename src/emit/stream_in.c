/*
 * Streamed model input in the emitted C (pexc compile --stream-input).
 *
 * With ir_graph.stream_input set, the plan keeps a model input that a
 * streamed chain reads in a ring of its own (ring_px pixels, a pixel being
 * all channels of one position), and the host executor copies pixels
 * [next, end) into it before each step that reads it (exec.c). The emitted
 * code does the same through a function of the caller's,
 *
 *     int NAME_read_fn(void *ctx, int input, int32_t first_px, int32_t n_px, void *dst)
 *
 * asked for pixels in raster order, each pixel once. Pixels rather than
 * rows because a plan may stop a step's reads inside a row (a 3x3 window
 * at the first output pixel of a row needs only three pixels of the row
 * below); the caller gets a row's width (NAME_INPUTi_ROW_PIXELS) to cut
 * its sensor's rows by. A request never crosses the ring's end, so it is
 * split there; n_px * NAME_INPUTi_PIXEL_BYTES bytes go to dst.
 *
 * Everything the executor computes per step is known when emitting, so the
 * reads are a table, NAME_reads: {step, ring, end}, one row per step that
 * moves an input's next pixel on, in step order; NAME_rings gives each
 * ring's input, arena offset, length and pixel size. The loop walks the
 * table beside the step table. An input held whole (its first reader takes
 * it whole) is asked for in one call before the first step.
 *
 * An input given as channel planes ([1, C, H, W], its TRANSPOSE to NHWC
 * folded into these reads: src/ir/fold.c) is asked for plane by plane:
 * for NHWC pixels [q, q + n) the caller gets C requests, first_px = c *
 * PLANE_PIXELS + q and n_px = n, one per plane in order, each written
 * n bytes into the ring's slots; the emitted NAME_interleave then turns
 * the C runs into n pixels of C channels in place (a cycle-following
 * transposition: no scratch buffer). So the caller reads row h of every
 * plane as the first convolution reaches it, never the whole input. Held
 * whole, such an input is asked for one row of each plane at a time.
 */
#include "emit/stream_in.h"

#include <stdlib.h>
#include <string.h>

#include "emit/stream_out.h"
#include "sched/stream_io.h"

#define STREAM_IN_MAX 16 /* inputs with a ring, as exec.c allows */

/* Bytes of one pixel of t (all of its last NHWC dimension). */
static size_t whole_px_bytes(const ir_tensor *t) {
    int32_t d[4];
    lower_nhwc(t, d);
    int64_t px = (int64_t)d[0] * d[1] * d[2];
    return px > 0 ? t->bytes / (size_t)px : t->bytes;
}

/* Channel planes input i arrives as (ir_graph.input_planar), or 0. */
static int32_t planes_of(const ir_graph *g, int32_t i) {
    return g->input_planar && g->input_planar[i] ? g->tensors[g->inputs[i]].shape[1] : 0;
}

/* The ring buffer holding input i, or its first chunk (a fully-connected
 * layer reading it in channel slices, sched/stream_io.c), or -1 (the input
 * is held whole or not read). */
static int32_t ring_of(const ir_graph *g, const k_call *calls, const plan_t *p, int32_t i) {
    for (int32_t b = 0; b < p->n_buffers; b++)
        if ((p->buffers[b].kind == BUF_RING && plan_input_of(g, calls, p->buffers[b].tensor) == i) ||
            plan_input_chunk(g, calls, p, b) == i)
            return b;
    return -1;
}

/* Bytes of one "pixel" of a streamed input: all channels of a position in
 * a ring, one element in chunks. */
static size_t read_px_bytes(const ir_graph *g, const plan_t *p, int32_t b) {
    const plan_buffer *x = &p->buffers[b];
    const ir_tensor *t = &g->tensors[x->tensor];
    if (x->kind == BUF_SLICE) return t->elems ? t->bytes / (size_t)t->elems : 1;
    return (size_t)x->c_stored * ir_type_size(t->type); /* (a float32 sequence's time step: 4 bytes a feature) */
}

void emit_stream_header(const ir_graph *g, const k_call *calls, const plan_t *p, const char *n, const char *u,
                        int caller_arena, FILE *h) {
    fprintf(h,
            "\n/* Streamed input (compiled with --stream-input): %s_run_stream asks read\n"
            " * for each input's pixels as the schedule needs them, in raster order, each\n"
            " * pixel once; a pixel is all channels of one position (row * ROW_PIXELS +\n"
            " * column), %s_INPUTi_PIXEL_BYTES bytes. read must write n_px pixels, from\n"
            " * pixel first_px on, to dst and return 0; any other value stops the run,\n"
            " * which returns it. A request may end inside a row, and one is split where\n"
            " * the input's ring wraps. An input not streamed (%s_INPUTi_STREAMED 0) is\n"
            " * asked for whole, in one call, before the first step. An input given\n"
            " * as channel planes (%s_INPUTi_PLANES > 0, its TRANSPOSE to NHWC folded\n"
            " * into these reads) is asked for each run of pixels plane by plane:\n"
            " * first_px = plane * %s_INPUTi_PLANE_PIXELS + pixel, n_px bytes of that\n"
            " * plane (held whole: one row of each plane at a time). */\n",
            n, u, u, u, u);
    for (int32_t i = 0; i < g->n_inputs; i++) {
        const ir_tensor *t = &g->tensors[g->inputs[i]];
        int32_t b = ring_of(g, calls, p, i);
        int32_t d[4];
        size_t px = whole_px_bytes(t);
        if (b >= 0 && p->buffers[b].kind == BUF_SLICE) {
            /* read in chunks: a pixel is an element, a row all of them */
            px = read_px_bytes(g, p, b);
            d[2] = (int32_t)(t->bytes / px);
        } else if (b >= 0) {
            lower_nhwc(&g->tensors[p->buffers[b].tensor], d);
            px = read_px_bytes(g, p, b);
        } else {
            lower_nhwc(t, d);
        }
        fprintf(h,
                "#define %s_INPUT%d_STREAMED %d\n#define %s_INPUT%d_PIXEL_BYTES %zu\n"
                "#define %s_INPUT%d_PIXELS %zu\n#define %s_INPUT%d_ROW_PIXELS %d\n",
                u, i, b >= 0, u, i, px, u, i, px ? t->bytes / px : 0, u, i, planes_of(g, i) ? t->shape[3] : d[2]);
        fprintf(h, "#define %s_INPUT%d_PLANES %d\n#define %s_INPUT%d_PLANE_PIXELS %d\n", u, i, planes_of(g, i), u, i,
                planes_of(g, i) ? t->shape[2] * t->shape[3] : 0);
    }
    fprintf(h, "typedef int (*%s_read_fn)(void *ctx, int input, int32_t first_px, int32_t n_px, void *dst);\n", n);
    if (g->stream_output) {
        emit_stream_out_header(g, n, u, h);
        fprintf(h, "int %s_run_stream(%s%s_read_fn read, %s_write_fn write, void *ctx);\n", n,
                caller_arena ? "void *arena, " : "", n, n);
    } else {
        fprintf(h, "int %s_run_stream(%s%s_read_fn read, void *ctx, void *const *outputs);\n", n,
                caller_arena ? "void *arena, " : "", n);
    }
}

int emit_stream_tables(const ir_graph *g, const k_call *calls, const plan_t *p, const char *n, FILE *c,
                       util_err *err) {
    if (g->n_inputs > STREAM_IN_MAX) return util_fail(err, "--stream-input: %d inputs (at most %d)", g->n_inputs,
                                                      STREAM_IN_MAX);
    int32_t ring[STREAM_IN_MAX], n_rings = 0, ring_index[STREAM_IN_MAX], chunk_len[STREAM_IN_MAX];
    for (int32_t i = 0; i < g->n_inputs; i++) {
        ring_index[i] = -1;
        chunk_len[i] = 0;
        int32_t b = ring_of(g, calls, p, i);
        if (b < 0) continue;
        if (p->tensor_buffer[g->inputs[i]] >= 0)
            return util_fail(err, "--stream-input: input %d (tensor %d) is both held whole and streamed", i,
                             g->inputs[i]);
        if (p->buffers[b].kind == BUF_SLICE) {
            chunk_len[i] = p->buffers[b].c_stored; /* read in chunks: rows below */
            continue;
        }
        ring_index[i] = n_rings;
        ring[n_rings++] = b;
    }
    /* an input read in chunks: one row of rings per chunk, each as long as
     * the first (chunk k starts at k times that, so its slot is 0) */
    int32_t n_chunks = 0, *chunk_ring = calloc((size_t)p->n_buffers + 1, sizeof(int32_t));
    if (!chunk_ring) return util_fail(err, "out of memory");
    for (int32_t b = 0; b < p->n_buffers; b++) {
        int32_t i = plan_input_chunk(g, calls, p, b);
        if (i < 0) continue;
        int32_t len = chunk_len[i];
        if (len <= 0 || p->buffers[b].c_begin % len != 0 || p->buffers[b].c_stored > len) {
            free(chunk_ring);
            return util_fail(err, "--stream-input: chunk [%d,+%d) of input %d is not on a %d-element boundary",
                             p->buffers[b].c_begin, p->buffers[b].c_stored, i, len);
        }
        chunk_ring[b] = n_rings + n_chunks++;
    }
    /* the plane fields only when an input arrives as channel planes (the
     * code of every other model stays as it was) */
    int planar = 0;
    for (int32_t i = 0; i < g->n_inputs; i++) planar |= planes_of(g, i) > 0;
    fprintf(c, "\n/* Each input's ring: input, arena offset, pixels, bytes a pixel%s. */\n"
               "typedef struct {\n    int32_t input, off, ring_px, px%s;\n} %s_ring;\n\n"
               "static const %s_ring %s_rings[%d] = {\n",
            planar ? ", channel planes, pixels a plane" : "", planar ? ", planes, plane_px" : "", n, n, n,
            n_rings + n_chunks ? n_rings + n_chunks : 1);
    for (int32_t r = 0; r < n_rings; r++) {
        const plan_buffer *b = &p->buffers[ring[r]];
        int32_t in = plan_input_of(g, calls, b->tensor), pl = planes_of(g, in);
        fprintf(c, "    {%d, %zu, %d, %zu", in, b->offset, b->ring_px, read_px_bytes(g, p, ring[r]));
        if (planar)
            fprintf(c, ", %d, %d", pl, pl ? g->tensors[g->inputs[in]].shape[2] * g->tensors[g->inputs[in]].shape[3] : 0);
        fprintf(c, "}, /* tensor %d */\n", b->tensor);
    }
    for (int32_t b = 0; b < p->n_buffers; b++) {
        int32_t i = plan_input_chunk(g, calls, p, b);
        if (i < 0) continue;
        fprintf(c, "    {%d, %zu, %d, %zu%s}, /* tensor %d, elements %d.. */\n", i, p->buffers[b].offset,
                chunk_len[i], read_px_bytes(g, p, b), planar ? ", 0, 0" : "", p->buffers[b].tensor,
                p->buffers[b].c_begin);
    }
    if (!n_rings && !n_chunks) fprintf(c, "    {0, 0, 1, 1%s}, /* (no input streams) */\n", planar ? ", 0, 0" : "");
    fprintf(c, "};\n\n/* The reads: before step `step`, ring `ring` gets its input's pixels up to\n"
               " * `end` (exclusive), in step order. */\n"
               "typedef struct {\n    int32_t step, ring, end;\n} %s_read;\n\n",
            n);
    /* the executor's rule (exec_read_input_rows): a step reading the ring
     * of an input gets that input's pixels up to the last one it reads */
    int64_t next[STREAM_IN_MAX] = {0};
    int32_t n_reads = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass) fprintf(c, "static const %s_read %s_reads[%d] = {\n", n, n, n_reads ? n_reads : 1);
        memset(next, 0, sizeof next);
        for (int32_t s = 0; s < p->n_steps; s++)
            for (int w = 0; w < 2; w++) {
                const plan_view *v = &p->steps[s].in[w];
                if (v->buf < 0) continue;
                const plan_buffer *b = &p->buffers[v->buf];
                int32_t ci = plan_input_chunk(g, calls, p, v->buf);
                if (ci >= 0) {
                    /* a chunk: its elements, into its own slice */
                    if (b->c_begin + b->c_stored <= next[ci]) continue;
                    next[ci] = b->c_begin + b->c_stored;
                    if (!pass) n_reads++;
                    else fprintf(c, "    {%d, %d, %lld}, /* step %d */\n", s, chunk_ring[v->buf], (long long)next[ci], s);
                    continue;
                }
                if (b->kind != BUF_RING || v->tensor != b->tensor) continue;
                int32_t i = plan_input_of(g, calls, b->tensor);
                if (i < 0) continue;
                int64_t q0, q1;
                plan_step_pixels(g, calls, &p->steps[s], w, &q0, &q1);
                if (q1 <= next[i]) continue;
                if (q1 > INT32_MAX) {
                    free(chunk_ring);
                    return util_fail(err, "--stream-input: input %d has over 2^31 pixels", i);
                }
                next[i] = q1;
                if (!pass) n_reads++;
                else fprintf(c, "    {%d, %d, %lld}, /* step %d */\n", s, ring_index[i], (long long)q1, s);
            }
    }
    free(chunk_ring);
    if (!n_reads) fputs("    {-1, 0, 0}, /* (none) */\n", c);
    fputs("};\n", c);
    fprintf(c, "#define %s_N_READS %d\n", n, n_reads);
    /* NAME_run_io's reader: the pixels from the caller's whole input arrays */
    fprintf(c, "\nstatic const size_t %s_px_bytes[%d] = {", n, g->n_inputs ? g->n_inputs : 1);
    for (int32_t i = 0; i < g->n_inputs; i++) {
        int32_t b = ring_of(g, calls, p, i);
        /* (an input given as planes is asked for by element) */
        fprintf(c, "%s%zu", i ? ", " : "",
                planes_of(g, i) ? (size_t)1
                : b >= 0        ? read_px_bytes(g, p, b)
                                : whole_px_bytes(&g->tensors[g->inputs[i]]));
    }
    /* with streamed output, NAME_run_io's context holds both arrays */
    if (g->stream_output)
        fprintf(c, "%s};\n\ntypedef struct {\n    const void *const *inputs;\n    void *const *outputs;\n} %s_io;\n",
                g->n_inputs ? "" : "0", n);
    else
        fprintf(c, "%s};\n", g->n_inputs ? "" : "0");
    fprintf(c, "\nstatic int %s_read_whole(void *ctx, int input, int32_t first_px, int32_t n_px, void *dst) {\n", n);
    if (g->stream_output)
        fprintf(c, "    const uint8_t *src = (const uint8_t *)((const %s_io *)ctx)->inputs[input];\n", n);
    else
        fputs("    const uint8_t *src = (const uint8_t *)((const void *const *)ctx)[input];\n", c);
    fprintf(c, "    memcpy(dst, src + (size_t)first_px * %s_px_bytes[input], (size_t)n_px * %s_px_bytes[input]);\n"
               "    return 0;\n}\n",
            n, n);
    if (planar) emit_interleave_fn(n, c);
    if (g->stream_output) return emit_stream_out_tables(g, calls, p, n, c, err);
    return 0;
}

void emit_interleave_fn(const char *n, FILE *c) {
    fprintf(c,
            "\n/* b holds `planes` runs of n bytes (element j of plane k at k * n + j);\n"
            " * makes them n pixels of `planes` bytes (at j * planes + k) in place,\n"
            " * following each cycle of the permutation from its least index. */\n"
            "static void %s_interleave(uint8_t *b, int32_t planes, int32_t n) {\n"
            "    const int32_t len = planes * n;\n"
            "    for (int32_t s = 1; s < len - 1; s++) {\n"
            "        int32_t k = s;\n"
            "        do k = (k %% n) * planes + k / n; while (k > s);\n"
            "        if (k < s) continue; /* its cycle was moved from a smaller index */\n"
            "        uint8_t v = b[s];\n"
            "        do {\n"
            "            const int32_t d = (k %% n) * planes + k / n;\n"
            "            const uint8_t w = b[d];\n"
            "            b[d] = v;\n"
            "            v = w;\n"
            "            k = d;\n"
            "        } while (k != s);\n"
            "    }\n"
            "}\n",
            n);
}

void emit_stream_open(const ir_graph *g, const char *n, FILE *c) {
    fprintf(c,
            "    int32_t %s_next[%d] = {0}; /* per input: its next pixel not yet read */\n"
            "    int32_t r = 0; /* the next row of %s_reads */\n"
            "    int rc = 0;\n",
            n, g->n_inputs ? g->n_inputs : 1, n);
    if (g->stream_output) fprintf(c, "    int32_t w = 0; /* the next row of %s_writes */\n", n);
}

const char *emit_stream_prologue(const ir_graph *g, const char *n) {
    static char buf[4096]; /* the text is under 1,300 bytes and 11 names of at most 127 */
    int planar = 0;
    for (int32_t i = 0; g->input_planar && i < g->n_inputs; i++) planar |= g->input_planar[i];
    int at = snprintf(buf, sizeof buf,
                      "        for (; r < %s_N_READS && %s_reads[r].step == i; r++) {\n"
                      "            const %s_ring *g = &%s_rings[%s_reads[r].ring];\n"
                      "            int32_t *q = &%s_next[g->input];\n"
                      "            while (*q < %s_reads[r].end) {\n"
                      "                /* up to the ring's end at most */\n"
                      "                const int32_t slot = *q %% g->ring_px, room = g->ring_px - slot;\n"
                      "                const int32_t cnt = %s_reads[r].end - *q < room ? %s_reads[r].end - *q : room;\n",
                      n, n, n, n, n, n, n, n, n);
    if (at < 0 || (size_t)at >= sizeof buf) return buf;
    if (!planar) /* (no input given as channel planes: one read per run) */
        at += snprintf(buf + at, sizeof buf - (size_t)at,
                       "                rc = read(ctx, (int)g->input, *q, cnt, %s_arena + g->off + (size_t)slot * (size_t)g->px);\n"
                       "                if (rc != 0) return rc;\n",
                       n);
    else
        at += snprintf(buf + at, sizeof buf - (size_t)at,
                       "                uint8_t *const dst = %s_arena + g->off + (size_t)slot * (size_t)g->px;\n"
                       "                if (g->planes == 0) {\n"
                       "                    if ((rc = read(ctx, (int)g->input, *q, cnt, dst)) != 0) return rc;\n"
                       "                } else { /* one run of each channel plane, then pixels of them */\n"
                       "                    for (int32_t k = 0; k < g->planes; k++)\n"
                       "                        if ((rc = read(ctx, (int)g->input, k * g->plane_px + *q, cnt, dst + (size_t)k * (size_t)cnt)) != 0)\n"
                       "                            return rc;\n"
                       "                    %s_interleave(dst, g->planes, cnt);\n"
                       "                }\n",
                       n, n);
    if (at < 0 || (size_t)at >= sizeof buf) return buf;
    snprintf(buf + at, sizeof buf - (size_t)at, "                *q += cnt;\n            }\n        }\n");
    return buf;
}
