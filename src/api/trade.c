/* The trade the default schedule makes: its peak and predicted instructions
 * beside min-sram's and the baseline's, for `pexc inspect` and its JSON. */
#include <stdio.h>

#include "api/model.h"

void api_trade_of(const pexc_model *m, api_trade *t) {
    t->base_cost = sched_plan_cost(&m->g, m->calls, &m->baseline);
    t->cost = sched_plan_cost(&m->g, m->calls, m->plan);
    t->is_default = m->stream == 2 && !m->budget;
    /* min-sram keeps the baseline when the search cannot beat its peak */
    const plan_t *least = t->is_default && m->least.arena_bytes < m->baseline.arena_bytes ? &m->least : &m->baseline;
    t->least_bytes = least->arena_bytes;
    t->least_cost = sched_plan_cost(&m->g, m->calls, least);
    if (t->is_default && m->twin_least_bytes && m->twin_least_bytes < t->least_bytes) {
        t->least_bytes = m->twin_least_bytes; /* the decimated graph's (api_twin) */
        t->least_cost = m->twin_least_cost;
    }
}

/* 12345 -> "12,345" */
static void commas(size_t v, char *buf, size_t n) {
    char raw[32];
    int len = snprintf(raw, sizeof raw, "%zu", v), at = 0;
    for (int i = 0; i < len && (size_t)at + 2 < n; i++) {
        if (i && (len - i) % 3 == 0) buf[at++] = ',';
        buf[at++] = raw[i];
    }
    buf[at] = 0;
}

void api_trade_line(const pexc_model *m, char *buf, size_t n) {
    api_trade t;
    api_trade_of(m, &t);
    double b = t.base_cost > 0 ? t.base_cost : 1;
    char a[32], l[32];
    commas(m->plan->arena_bytes, a, sizeof a);
    if (!t.is_default) {
        snprintf(buf, n, "predicted: %.0f instructions, %.2fx the baseline's (Cortex-M4)", t.cost, t.cost / b);
        return;
    }
    commas(t.least_bytes, l, sizeof l);
    snprintf(buf, n, "default: %s B at %.2fx baseline instructions (predicted); min-sram: %s B at %.2fx", a,
             t.cost / b, l, t.least_cost / b);
}
