/*
 * Code flash and stack of a compiled model, from the measured table.
 *
 * A firmware linked with --gc-sections keeps the sections reachable through
 * relocations from what it calls; tools/kernel_sizes.py recorded each
 * runtime section's size and references per target, so the kernel code a
 * model costs is the sum over the sections reachable from the kernels its
 * NAME.c calls: the same walk the linker does, on the same objects. The
 * stack bound is the deepest of those kernels' worst paths (each a sum of
 * -fstack-usage frames down the call graph, library functions' frames read
 * from their disassembly) plus NAME_run's and NAME_run_io's own frames.
 * NAME.c's code is the one estimate: a line fitted on the real models.
 */
#include <stdlib.h>
#include <string.h>

#include "emit/figures.h"

static const kt_target *target_of(const char *target) {
    for (int32_t i = 0; i < kt_n_targets; i++)
        if (target && !strcmp(kt_targets[i].target, target)) return &kt_targets[i];
    for (int32_t i = 0; i < kt_n_targets; i++)
        if (!strcmp(kt_targets[i].target, "cortex-m4")) return &kt_targets[i];
    return kt_n_targets ? &kt_targets[0] : NULL;
}

static int32_t node_of(const kt_target *t, const char *name) {
    for (int32_t i = 0; i < t->n_nodes; i++)
        if (!strcmp(t->nodes[i].name, name)) return i;
    return -1;
}

void emit_figures_device(const char *target, const char *const *kernels, int32_t n_kernels, int32_t n_bodies,
                         emit_figures_dev *f) {
    size_t weights = f->weight_bytes;
    memset(f, 0, sizeof *f);
    f->weight_bytes = weights;
    const kt_target *t = target_of(target);
    if (!t) {
        f->missing = "(no table)";
        return;
    }
    f->target = t->target;
    f->flags = t->flags;
    /* reachable sections: a worklist over the edges, marks in a byte map */
    uint8_t *seen = calloc((size_t)t->n_nodes + 1, 1);
    int32_t *work = calloc((size_t)t->n_nodes + 1, sizeof *work);
    if (!seen || !work) {
        free(seen);
        free(work);
        f->missing = "(out of memory)";
        return;
    }
    int32_t n_work = 0;
    for (int32_t k = 0; k < n_kernels; k++) {
        int32_t i = node_of(t, kernels[k]);
        if (i < 0) {
            f->missing = kernels[k];
            free(seen);
            free(work);
            return;
        }
        if ((size_t)t->nodes[i].stack > f->kernel_stack) f->kernel_stack = t->nodes[i].stack;
        if (!seen[i]) {
            seen[i] = 1;
            work[n_work++] = i;
        }
    }
    while (n_work) {
        const kt_node *nd = &t->nodes[work[--n_work]];
        if (!strncmp(nd->name, "lib:", 4)) f->library_code += nd->bytes;
        else f->kernel_code += nd->bytes;
        for (uint32_t e = 0; e < nd->n_edges; e++) {
            uint16_t j = t->edges[nd->first_edge + e];
            if (!seen[j]) {
                seen[j] = 1;
                work[n_work++] = j;
            }
        }
    }
    free(seen);
    free(work);
    long model = (long)t->model_base + (long)t->model_per_body * n_bodies;
    f->model_code = model > 0 ? (size_t)model : 0;
    f->model_miss = (size_t)t->model_miss;
    f->code_bytes = f->kernel_code + f->library_code + f->model_code;
    f->run_frame = (size_t)t->run_frame;
    f->stack_bytes = f->run_frame + f->kernel_stack;
    f->n_fit = t->n_fit;
    f->measured = 1;
}
