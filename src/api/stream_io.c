/* Planning a model again with its ends streamed (--stream-input,
 * --stream-output), shared by inspect, run and compile. The model is first
 * opened without a budget (its whole-input peak may be above one that the
 * streamed plan meets); the budget is held here, to the streamed plan. */
#include <stdlib.h>

#include "api/model.h"
#include "sched/stream_io.h"

static int plan_streamed(pexc_model *m, pexc_schedule schedule, int in, int out, size_t budget, util_err *e) {
    ir_graph *g = &m->g;
    g->stream_input = in;
    g->stream_output = out;
    int rows = schedule != PEXC_SCHEDULE_CHANNELS;
    /* the budget as the search understands it (the fewest steps that fit),
     * then the least peak when nothing fits */
    if (sched_min_sram_io(g, m->calls, budget, rows, &m->chosen, &g->arena, e)) return -1;
    if (budget && m->chosen.arena_bytes > budget &&
        sched_min_sram_io(g, m->calls, 0, rows, &m->chosen, &g->arena, e))
        return -1;
    if (budget && m->chosen.arena_bytes > budget) {
        char why[400];
        sched_describe_peak(g, m->calls, &m->chosen, why, sizeof why);
        return util_fail(e, "SRAM budget of %zu bytes is below the least peak pexc reaches with streamed %s, "
                            "%zu bytes; bottleneck: %s",
                         budget, in && out ? "input and output" : in ? "input" : "output", m->chosen.arena_bytes,
                         why);
    }
    m->plan = &m->chosen;
    m->stream = rows;
    if (plan_host_check(g, m->plan, e)) return -1;
    uint8_t *arena = calloc(1, m->plan->arena_bytes ? m->plan->arena_bytes : 1);
    if (!arena) return util_fail(e, "out of memory allocating a %zu-byte arena", m->plan->arena_bytes);
    free(m->arena);
    m->arena = arena;
    exec_reset_state(g, m->plan, m->arena);
    return 0;
}

int api_plan_streamed(pexc_model *m, pexc_schedule schedule, int in, int out, size_t budget, util_err *e) {
    int rc = plan_streamed(m, schedule, in, out, budget, e);
    /* the graph with its skip convolutions decimated, planned the same
     * way, when its plan holds fewer bytes (ir/decimate.c) */
    util_err te = {{0}};
    pexc_model *t = api_twin(m, PEXC_SCHEDULE_BASELINE, 0, &te);
    if (!t) return rc;
    int t_rc = t->plan ? plan_streamed(t, schedule, in, out, budget, &te) : -1;
    /* both refused the budget: the lower of the least peaks is the one to name */
    if (rc && t_rc && t->chosen.arena_bytes && t->chosen.arena_bytes < m->chosen.arena_bytes) *e = te;
    return api_keep_better(m, rc, t, t_rc, budget == 0);
}
