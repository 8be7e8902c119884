/* `pexc inspect --json`: the chosen plan's figures as a JSON object, for
 * the command, pexc_compile and the Python package alike. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>

#include "api/model.h"
#include "internal.h"
#include "pexc.h"

void api_shape_str(const ir_tensor *t, char *buf, size_t n) {
    size_t at = 0;
    at += (size_t)snprintf(buf + at, n - at, "[");
    for (int i = 0; i < t->rank && at < n; i++)
        at += (size_t)snprintf(buf + at, n - at, i ? ",%d" : "%d", t->shape[i]);
    if (at < n) snprintf(buf + at, n - at, "]");
}

static void put_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const char *c = s; *c; c++) fprintf(f, *c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
    fputc('"', f);
}

static void write_json(const pexc_model *m, const char *label, FILE *f) {
    const ir_graph *g = &m->g;
    const plan_t *p = m->plan;
    int64_t total_macs = 0;
    for (int32_t i = 0; i < g->n_ops; i++) total_macs += ir_op_macs(g, &g->ops[i]);
    fprintf(f, "{\n  \"model\": ");
    put_string(f, label);
    fprintf(f, ",\n  \"schedule\": \"%s\",\n", pexc_model_schedule_name(m));
    fprintf(f, "  \"peak_sram_bytes\": %zu,\n  \"baseline_peak_sram_bytes\": %zu,\n", p->arena_bytes,
            m->baseline.arena_bytes);
    char why[600];
    sched_describe_peak(g, m->calls, p, why, sizeof why);
    fprintf(f, "  \"lower_bound_bytes\": %zu,\n  \"macs\": %lld,\n  \"steps\": %d,\n", p->lower_bound,
            (long long)total_macs, p->n_steps);
    fprintf(f, "  \"peak\": ");
    put_string(f, why);
    fprintf(f, ",\n  \"segments\": [");
    for (int32_t i = 0; i < p->n_segments; i++)
        fprintf(f, "%s{\"first_op\": %d, \"last_op\": %d, \"%s\": %d, \"row_fraction\": %d}", i ? ", " : "",
                p->segments[i].op_first, p->segments[i].op_last, p->segments[i].rows > 0 ? "rows" : "slices",
                p->segments[i].rows > 0 ? p->segments[i].rows : p->segments[i].n_slices,
                p->segments[i].rows > 0 && p->segments[i].frac > 1 ? p->segments[i].frac : 1);
    fprintf(f, "],\n  \"buffers\": [");
    for (int32_t i = 0; i < p->n_buffers; i++) {
        const plan_buffer *b = &p->buffers[i];
        const char *kind = b->kind == BUF_SLICE ? "slice" : b->kind == BUF_PSUM ? "psum"
                         : b->kind == BUF_RING ? "ring" : b->head >= 0 ? "band" : "tensor";
        int32_t d[4];
        lower_nhwc(&g->tensors[b->tensor], d);
        int32_t y0 = b->head >= 0 ? b->y0 : 0,
                y1 = b->head >= 0 ? b->y1 : b->kind == BUF_RING ? (b->ring_px + d[2] - 1) / d[2] : d[1];
        int64_t px = b->kind == BUF_RING ? b->ring_px : (int64_t)(y1 - y0) * d[2];
        fprintf(f, "%s\n    {\"tensor\": %d, \"kind\": \"%s\", \"rows\": [%d, %d], \"pixels\": %lld, "
                   "\"channels\": [%d, %d], \"first_step\": %d, \"last_step\": %d, \"offset\": %zu, \"size\": %zu}",
                i ? "," : "", b->tensor, kind, y0, y1, (long long)px, b->c_begin, b->c_begin + b->c_stored,
                b->first, b->last, b->offset, b->size);
    }
    fprintf(f, "],\n  \"op_order\": [");
    for (int32_t i = 0; i < g->n_ops; i++) fprintf(f, "%s%d", i ? ", " : "", p->order ? p->order[i] : i);
    fprintf(f, "],\n");
    fprintf(f, "  \"ops\": [\n");
    for (int32_t s = 0; s < p->n_steps; s++) {
        const k_call *k = &m->calls[p->steps[s].call];
        const ir_op *op = &g->ops[k->op];
        char in[64] = "[]", out[64];
        if (k->in[0] >= 0) api_shape_str(&g->tensors[k->in[0]], in, sizeof in);
        api_shape_str(&g->tensors[k->out], out, sizeof out);
        fprintf(f, "    {\"step\": %d, \"op\": %d, \"type\": \"%s\", \"input_shape\": %s, \"output_shape\": %s, "
                   "\"macs\": %lld, \"live_bytes\": %zu}%s\n",
                s, k->op, ir_op_name(op->code), in, out, (long long)plan_step_macs(g, m->calls, &p->steps[s]),
                p->live_bytes[s], s + 1 < p->n_steps ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
}

char *pexc_model_json(const pexc_model *m, const char *label) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    write_json(m, label ? label : "", f);
    if (fclose(f)) {
        free(buf);
        return NULL;
    }
    return buf;
}
