/*
 * How many operators read each tensor, counted once per search.
 *
 * sched_tensor_readers walks every operator; stream_analyse asks it for
 * each operator of a streamed chain, and the search analyses chains for
 * every candidate it builds, so on a 200-operator chain the count was a
 * sixth of the search's time. The graph does not change while a search
 * runs: the search counts every tensor's readers once (begin) and the
 * lookups inside it answer from that table until it ends. Thread-local, so
 * two searches on two threads keep their own.
 */
#include <stdlib.h>

#include "sched/sched_int.h"

static _Thread_local const ir_graph *memo_graph;
static _Thread_local int32_t *memo_count;

int sched_readers_begin(const ir_graph *g) {
    int32_t *n = calloc((size_t)g->n_tensors + 1, sizeof(int32_t));
    if (!n) return -1; /* no table: the lookups count as before */
    for (int32_t o = 0; o < g->n_ops; o++)
        for (int32_t i = 0; i < g->ops[o].n_in; i++)
            if (g->ops[o].in[i] >= 0 && g->ops[o].in[i] < g->n_tensors) n[g->ops[o].in[i]]++;
    free(memo_count);
    memo_count = n;
    memo_graph = g;
    return 0;
}

void sched_readers_end(void) {
    free(memo_count);
    memo_count = NULL;
    memo_graph = NULL;
}

int32_t sched_readers_lookup(const ir_graph *g, int32_t t) {
    if (g != memo_graph || t < 0 || t >= g->n_tensors) return -1;
    return memo_count[t];
}
