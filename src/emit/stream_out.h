/* Streamed model output in the emitted C (pexc compile --stream-output). */
#ifndef PEXC_EMIT_STREAM_OUT_H
#define PEXC_EMIT_STREAM_OUT_H

#include <stdio.h>

#include "internal.h"

/* Prints NAME_write_fn and each output's element figures into the header. */
void emit_stream_out_header(const ir_graph *g, const char *n, const char *u, FILE *h);
/* Prints the table of output pieces (after which step, which output, where
 * in the arena, which elements) and NAME_write_whole, the writer
 * NAME_run_io passes (ctx: a NAME_io). */
int emit_stream_out_tables(const ir_graph *g, const k_call *calls, const plan_t *p, const char *n, FILE *c,
                           util_err *err);
/* The code run after each step of the dispatch loop (step index i, the
 * next write row w): the pieces that step completes, to write. */
const char *emit_stream_out_epilogue(const char *n);

#endif
