/*
 * The host memory limit: the compiler and `pexc run` hold a model's
 * activations in host memory (the validator sums them before lowering; the
 * plan's arena is allocated by the executor). One limit, PEXC_HOST_BYTES,
 * bounds both, and a refusal names the tensor that brings the model over
 * it, so that a user sees which layer to shrink. Everything else the
 * compiler allocates is proportional to the plan (steps, buffers,
 * operators), not to tensor elements: the plan verifier works on ranges.
 */
#include "internal.h"

int plan_host_check(const ir_graph *g, const plan_t *p, util_err *err) {
    if (p->arena_bytes <= PEXC_HOST_BYTES) return 0;
    int32_t at = 0, big = -1;
    plan_live_profile(p, NULL, &at);
    for (int32_t i = 0; i < p->n_buffers; i++) {
        const plan_buffer *b = &p->buffers[i];
        if (b->first <= at && at <= b->last && (big < 0 || b->size > p->buffers[big].size)) big = i;
    }
    if (big < 0) big = 0;
    const ir_tensor *t = p->n_buffers ? &g->tensors[p->buffers[big].tensor] : NULL;
    const ir_op *op = p->n_steps ? &g->ops[p->steps[at].call] : NULL;
    return util_fail(err,
                     "tensor %d (%s): its %zu-byte buffer, live at operator %d (%s), brings the plan's arena to %zu "
                     "bytes, above the host limit of %zu bytes (64 MiB)",
                     t ? t->index : -1, t ? t->name : "?", p->n_buffers ? p->buffers[big].size : 0,
                     op ? p->steps[at].call : -1, op ? ir_op_name(op->code) : "none", p->arena_bytes,
                     (size_t)PEXC_HOST_BYTES);
}
