/* Streamed model input in the emitted C (pexc compile --stream-input). */
#ifndef PEXC_EMIT_STREAM_IN_H
#define PEXC_EMIT_STREAM_IN_H

#include <stdio.h>

#include "internal.h"

/* Prints NAME_read_fn, NAME_run_stream's declaration and the per-input
 * pixel figures into the header. */
void emit_stream_header(const ir_graph *g, const k_call *calls, const plan_t *p, const char *n, const char *u,
                        int caller_arena, FILE *h);
/* Prints the tables of the reads (which ring, which step, up to which pixel)
 * and NAME_read_whole, the reader NAME_run_io passes. */
int emit_stream_tables(const ir_graph *g, const k_call *calls, const plan_t *p, const char *n, FILE *c,
                       util_err *err);
/* Prints NAME_run_stream's locals: each input's next pixel, the read row. */
/* Prints NAME_interleave (src/emit/stream_in.c): an input given as channel
 * planes becomes NHWC pixels in place. */
void emit_interleave_fn(const char *n, FILE *c);
void emit_stream_open(const ir_graph *g, const char *n, FILE *c);
/* The code run before each step of the dispatch loop (step index i): the
 * reads that step needs; empty when no input streams. */
const char *emit_stream_prologue(const ir_graph *g, const char *n);

#endif
