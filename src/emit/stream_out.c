/*
 * Streamed model output in the emitted C (pexc compile --stream-output).
 *
 * The plan hands each output over in pieces as it completes them
 * (plan_output_pieces: after a step, elements [first, first + n) of an
 * output, from a buffer at a known arena offset), in order, each element
 * once, which the verifier checks. All of it is known when emitting, so
 * the pieces are a table, NAME_writes: {step, output, arena offset, first,
 * n}, in step order, walked beside the step table: after step i the loop
 * calls the caller's
 *
 *     int NAME_write_fn(void *ctx, int output, int32_t first, int32_t n, const void *src)
 *
 * for each row of step i, src pointing into the arena (valid only during
 * the call: the bytes are reused later). A non-zero return stops the run,
 * which returns it. NAME_run_io passes a writer into the caller's output
 * arrays, so the whole-tensor interface still works.
 */
#include "emit/stream_out.h"

#include "sched/stream_io.h"

void emit_stream_out_header(const ir_graph *g, const char *n, const char *u, FILE *h) {
    fprintf(h,
            "\n/* Streamed output (compiled with --stream-output): %s_run_stream hands each\n"
            " * output to write as the schedule makes it, in order, each element once:\n"
            " * elements [first, first + n) of output `output` (row-major), n *\n"
            " * %s_OUTPUTi_ELEM_BYTES bytes at src, which stay valid only during the\n"
            " * call. write returns 0; any other value stops the run, which returns it. */\n",
            n, u);
    for (int32_t i = 0; i < g->n_outputs; i++) {
        const ir_tensor *t = &g->tensors[g->outputs[i]];
        fprintf(h, "#define %s_OUTPUT%d_ELEMS %lld\n#define %s_OUTPUT%d_ELEM_BYTES %zu\n", u, i, (long long)t->elems,
                u, i, t->elems ? t->bytes / (size_t)t->elems : 1);
    }
    fprintf(h, "typedef int (*%s_write_fn)(void *ctx, int output, int32_t first, int32_t n, const void *src);\n", n);
}

int emit_stream_out_tables(const ir_graph *g, const k_call *calls, const plan_t *p, const char *n, FILE *c,
                           util_err *err) {
    fprintf(c, "\n/* The outputs' pieces: after step `step`, elements [first, first + n) of\n"
               " * output `output`, at arena offset `off`, in step order. */\n"
               "typedef struct {\n    int32_t step, output, off, first, n;\n} %s_write;\n\n",
            n);
    int32_t n_writes = 0;
    for (int pass = 0; pass < 2; pass++) {
        if (pass) fprintf(c, "static const %s_write %s_writes[%d] = {\n", n, n, n_writes ? n_writes : 1);
        for (int32_t s = 0; s < p->n_steps; s++) {
            plan_out_piece pc[16];
            int32_t k = plan_output_pieces(g, calls, p, s, pc, 16);
            for (int32_t j = 0; j < k; j++) {
                if (pc[j].off > INT32_MAX || pc[j].first > INT32_MAX || pc[j].n > INT32_MAX)
                    return util_fail(err, "--stream-output: output %d has over 2^31 elements", pc[j].output);
                if (!pass) n_writes++;
                else
                    fprintf(c, "    {%d, %d, %zu, %lld, %lld},\n", s, pc[j].output, pc[j].off, (long long)pc[j].first,
                            (long long)pc[j].n);
            }
        }
    }
    if (!n_writes) fputs("    {-1, 0, 0, 0, 0}, /* (none) */\n", c);
    fputs("};\n", c);
    fprintf(c, "#define %s_N_WRITES %d\n", n, n_writes);
    /* NAME_run_io's writer: into the caller's whole output arrays */
    fprintf(c, "\nstatic const size_t %s_elem_bytes[%d] = {", n, g->n_outputs ? g->n_outputs : 1);
    for (int32_t i = 0; i < g->n_outputs; i++) {
        const ir_tensor *t = &g->tensors[g->outputs[i]];
        fprintf(c, "%s%zu", i ? ", " : "", t->elems ? t->bytes / (size_t)t->elems : 1);
    }
    fprintf(c, "%s};\n\n"
               "static int %s_write_whole(void *ctx, int output, int32_t first, int32_t n, const void *src) {\n"
               "    uint8_t *dst = (uint8_t *)((const %s_io *)ctx)->outputs[output];\n"
               "    memcpy(dst + (size_t)first * %s_elem_bytes[output], src, (size_t)n * %s_elem_bytes[output]);\n"
               "    return 0;\n}\n",
            g->n_outputs ? "" : "0", n, n, n, n);
    return 0;
}

const char *emit_stream_out_epilogue(const char *n) {
    static char buf[2048]; /* the text is under 300 bytes and 5 names of at most 127 */
    snprintf(buf, sizeof buf,
             "        for (; w < %s_N_WRITES && %s_writes[w].step == i; w++)\n"
             "            if ((rc = write(ctx, (int)%s_writes[w].output, %s_writes[w].first, %s_writes[w].n,\n"
             "                            %s_arena + %s_writes[w].off)) != 0)\n"
             "                return rc;\n",
             n, n, n, n, n, n, n);
    return buf;
}
