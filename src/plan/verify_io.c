/*
 * The plan verifier's rules for the model's streamed ends (stream_io.c):
 * plan_verify checks what the steps compute; this checks what crosses the
 * boundary to the caller. A model input read in chunks must be asked for
 * once, in order, each chunk into a slice alive at the step that reads it;
 * a streamed output must be handed over element by element exactly once,
 * in order, each piece from a buffer alive at the step after which it is
 * handed over and not written again later (so what the caller gets is
 * final).
 */
#include <stdlib.h>
#include <string.h>

#include "sched/stream_io.h"

#define VERIFY_IO_MAX_PIECES 16

static int verify_input_chunks(const ir_graph *g, const k_call *calls, const plan_t *p, util_err *err) {
    int64_t *next = calloc((size_t)g->n_inputs + 1, sizeof(int64_t));
    uint8_t *seen = calloc((size_t)p->n_buffers + 1, 1);
    int rc = -1;
    if (!next || !seen) {
        util_fail(err, "out of memory verifying the plan");
        goto done;
    }
    for (int32_t s = 0; s < p->n_steps; s++)
        for (int w = 0; w < 2; w++) {
            int32_t bi = p->steps[s].in[w].buf, i = plan_input_chunk(g, calls, p, bi);
            if (i < 0 || seen[bi]) continue;
            const plan_buffer *b = &p->buffers[bi];
            seen[bi] = 1;
            if (b->c_begin != next[i]) {
                util_fail(err, "plan: step %d reads channels [%d,+%d) of input %d; the caller has given up to %lld",
                          s, b->c_begin, b->c_stored, i, (long long)next[i]);
                goto done;
            }
            if (b->first > s || b->last < s) {
                util_fail(err, "plan: step %d reads a chunk of input %d outside its buffer's life [%d, %d]", s, i,
                          b->first, b->last);
                goto done;
            }
            next[i] += b->c_stored;
        }
    for (int32_t i = 0; i < g->n_inputs; i++) {
        if (next[i] && (next[i] != g->tensors[g->inputs[i]].elems || p->tensor_buffer[g->inputs[i]] >= 0)) {
            util_fail(err, "plan: input %d is read in chunks up to element %lld of %lld%s", i, (long long)next[i],
                      (long long)g->tensors[g->inputs[i]].elems,
                      p->tensor_buffer[g->inputs[i]] >= 0 ? " and held whole too" : "");
            goto done;
        }
    }
    rc = 0;
done:
    free(next);
    free(seen);
    return rc;
}

static int verify_output_pieces(const ir_graph *g, const k_call *calls, const plan_t *p, util_err *err) {
    int64_t *next = calloc((size_t)g->n_outputs + 1, sizeof(int64_t));
    if (!next) return util_fail(err, "out of memory verifying the plan");
    int rc = -1;
    for (int32_t s = 0; s < p->n_steps; s++) {
        plan_out_piece pc[VERIFY_IO_MAX_PIECES];
        int32_t n = plan_output_pieces(g, calls, p, s, pc, VERIFY_IO_MAX_PIECES);
        for (int32_t j = 0; j < n; j++) {
            const plan_buffer *b = &p->buffers[pc[j].buf];
            const ir_tensor *t = &g->tensors[g->outputs[pc[j].output]];
            size_t es = t->elems ? t->bytes / (size_t)t->elems : 1, whole = b->size;
            for (int32_t k = 1; b->head >= 0 && k < b->n_bands; k++) whole += p->buffers[plan_band(p, pc[j].buf, k)].size;
            if (pc[j].first != next[pc[j].output]) {
                util_fail(err, "plan: after step %d output %d is handed over from element %lld; %lld were handed over",
                          s, pc[j].output, (long long)pc[j].first, (long long)next[pc[j].output]);
                goto done;
            }
            if (s < b->first || s > b->last || pc[j].off < b->offset ||
                pc[j].off + (size_t)pc[j].n * es > b->offset + whole) {
                util_fail(err, "plan: after step %d output %d is handed over from buffer %d outside its life or bytes",
                          s, pc[j].output, pc[j].buf);
                goto done;
            }
            next[pc[j].output] += pc[j].n;
        }
    }
    for (int32_t i = 0; i < g->n_outputs; i++)
        if (!g->tensors[g->outputs[i]].data && next[i] != g->tensors[g->outputs[i]].elems) {
            util_fail(err, "plan: output %d (tensor %d) is handed over up to element %lld of %lld", i, g->outputs[i],
                      (long long)next[i], (long long)g->tensors[g->outputs[i]].elems);
            goto done;
        }
    rc = 0;
done:
    free(next);
    return rc;
}

int plan_verify_stream_io(const ir_graph *g, const k_call *calls, const plan_t *p, util_err *err) {
    if (verify_input_chunks(g, calls, p, err)) return -1;
    return g->stream_output ? verify_output_pieces(g, calls, p, err) : 0;
}
