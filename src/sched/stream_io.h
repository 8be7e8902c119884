/* The model's ends streamed (--stream-input, --stream-output): a
 * fully-connected layer reading a model input in chunks, outputs handed to
 * the caller as they are made (stream_io.c). */
#ifndef PEXC_SCHED_STREAM_IO_H
#define PEXC_SCHED_STREAM_IO_H

#include "internal.h"

/* sched_min_sram with the graph's stream_input / stream_output applied:
 * the search's plan, then its ends rewritten (sched_stream_io), placed and
 * verified. budget as sched_min_sram's. */
int sched_min_sram_io(const ir_graph *g, const k_call *calls, size_t budget, int stream_rows, plan_t *p,
                      util_arena *a, util_err *err);

/* Rewrites a placed plan's ends: with g->stream_input, a fully-connected
 * layer (int8) that reads a model input held whole reads it in chunks of
 * channels, each a slice the caller fills just before, into int32 partial
 * sums; with g->stream_output, a single-pixel output made by one
 * fully-connected step is made in channel chunks, each handed over and
 * freed, and any other output lives only until it is complete. Places and
 * verifies the result. */
int sched_stream_io(const ir_graph *g, const k_call *calls, plan_t *p, util_arena *a, util_err *err);

/* A model input read into a slice of channels (a chunk of a fully-connected
 * layer's input): the input's index, else -1. */
int32_t plan_input_chunk(const ir_graph *g, const k_call *calls, const plan_t *p, int32_t buf);

/* One piece of a streamed output handed to the caller after a step:
 * elements [first, first + n) of output `output` (raster order, channels
 * innermost), n * element size bytes at arena offset `off`. */
typedef struct {
    int32_t output;
    int64_t first, n;
    size_t off;
    int32_t buf;
} plan_out_piece;

/* The pieces handed over right after step s (at most max; returns how
 * many), in output order. With g->stream_output only. */
int32_t plan_output_pieces(const ir_graph *g, const k_call *calls, const plan_t *p, int32_t s, plan_out_piece *out,
                           int32_t max);

/* The streamed ends' rules, beside plan_verify's: every chunk of a model
 * input is read once, in order; every output element is handed over once,
 * in order, from a buffer alive and complete at that step. */
int plan_verify_stream_io(const ir_graph *g, const k_call *calls, const plan_t *p, util_err *err);

#endif
