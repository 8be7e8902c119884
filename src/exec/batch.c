/*
 * Batch evaluation on the host: N independent inputs through one plan,
 * spread over the machine's cores.
 *
 * Accuracy runs (10,000 CIFAR images through a ResNet) are N copies of one
 * inference with nothing carried between them, so they parallelise without
 * any change to the arithmetic: each worker owns an arena of the plan's size
 * and runs the same exec_run on a contiguous range of items, writing each
 * item's outputs at that item's place. The kernels keep no state of their
 * own (their parameters are const, the arena is the only thing written), so
 * every output byte is the one a serial run gives. A model with variable
 * tensors (LSTM state, resource variables) is not split: the caller runs it
 * item by item on its own arena, as before.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

enum { BATCH_MAX_IO = 64, BATCH_MAX_WORKERS = 16 };

typedef struct {
    const ir_graph *g;
    const k_call *calls;
    const plan_t *p;
    const void *const *inputs; /* per model input: n items back to back */
    void *const *outputs;
    size_t b0, b1;             /* items [b0, b1) */
    uint8_t *arena;
    size_t failed_at;          /* first item that failed, or b1 */
    util_err err;
} batch_work;

static void *batch_worker(void *arg) {
    batch_work *w = arg;
    const ir_graph *g = w->g;
    const void *ins[BATCH_MAX_IO];
    void *outs[BATCH_MAX_IO];
    w->failed_at = w->b1;
    for (size_t b = w->b0; b < w->b1; b++) {
        for (int32_t i = 0; i < g->n_inputs; i++)
            ins[i] = (const uint8_t *)w->inputs[i] + b * g->tensors[g->inputs[i]].bytes;
        for (int32_t o = 0; o < g->n_outputs; o++)
            outs[o] = (uint8_t *)w->outputs[o] + b * g->tensors[g->outputs[o]].bytes;
        if (exec_run(g, w->calls, w->p, w->arena, ins, outs, &w->err)) {
            w->failed_at = b;
            break;
        }
    }
    return NULL;
}

int exec_batch_splittable(const ir_graph *g, const plan_t *p) {
    if (g->n_inputs > BATCH_MAX_IO || g->n_outputs > BATCH_MAX_IO) return 0;
    for (int32_t i = 0; i < g->n_tensors; i++)
        if (g->tensors[i].is_variable && p->tensor_buffer[i] >= 0) return 0;
    return 1;
}

int exec_batch_workers(size_t n) {
    long cores = 1;
    const char *env = getenv("PEXC_THREADS");
    if (env && *env) cores = strtol(env, NULL, 10);
    else cores = sysconf(_SC_NPROCESSORS_ONLN);
    if (cores < 1) cores = 1;
    if (cores > BATCH_MAX_WORKERS) cores = BATCH_MAX_WORKERS;
    /* a worker costs an arena and a thread: not for a handful of items */
    if ((size_t)cores > n / 8) cores = (long)(n / 8);
    return cores < 1 ? 1 : (int)cores;
}

int exec_run_batch(const ir_graph *g, const k_call *calls, const plan_t *p, uint8_t *arena, size_t n,
                   const void *const *inputs, void *const *outputs, int workers, size_t *failed_at,
                   util_err *err) {
    if (workers < 1) workers = 1;
    if (workers > BATCH_MAX_WORKERS) workers = BATCH_MAX_WORKERS;
    if (!exec_batch_splittable(g, p)) return util_fail(err, "internal: a stateful plan cannot be split");
    batch_work w[BATCH_MAX_WORKERS];
    pthread_t tid[BATCH_MAX_WORKERS];
    int started[BATCH_MAX_WORKERS] = {0};
    const size_t bytes = p->arena_bytes ? p->arena_bytes : 1;
    int rc = 0;
    memset(w, 0, sizeof w);
    for (int k = 0; k < workers; k++) {
        w[k] = (batch_work){.g = g, .calls = calls, .p = p, .inputs = inputs, .outputs = outputs,
                            .b0 = n * (size_t)k / (size_t)workers, .b1 = n * (size_t)(k + 1) / (size_t)workers};
        /* worker 0 runs on the model's own arena, in this thread */
        w[k].arena = k ? calloc(1, bytes) : arena;
        if (!w[k].arena) {
            rc = util_fail(err, "out of memory allocating a %zu-byte arena for batch worker %d", bytes, k);
            break;
        }
    }
    for (int k = 1; k < workers && !rc; k++) {
        if (pthread_create(&tid[k], NULL, batch_worker, &w[k])) {
            w[k].failed_at = w[k].b0; /* run below, in this thread */
            continue;
        }
        started[k] = 1;
    }
    if (!rc) batch_worker(&w[0]);
    for (int k = 1; k < workers; k++) {
        if (started[k]) pthread_join(tid[k], NULL);
        else if (!rc && w[k].arena) batch_worker(&w[k]);
    }
    for (int k = 0; k < workers && !rc; k++)
        if (w[k].failed_at < w[k].b1) {
            *failed_at = w[k].failed_at;
            snprintf(err->msg, sizeof err->msg, "%s", w[k].err.msg);
            rc = -1;
        }
    for (int k = 1; k < workers; k++) free(w[k].arena);
    return rc;
}
