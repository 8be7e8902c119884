/* `pexc inspect --json`: the chosen plan's figures as a JSON object, for
 * the command, pexc_compile and the Python package alike. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/model.h"
#include "internal.h"
#include "pexc.h"
#include "sched/cost.h"

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

/* The generated header's flash and stack figures for target: the emitter
 * run on the plan with its text thrown away (the constants' bytes are only
 * known once it has laid them out). */
static int device_figures(const pexc_model *m, const char *target, emit_figures_dev *d) {
    FILE *h = fopen("/dev/null", "w"), *c = fopen("/dev/null", "w");
    int rc = -1;
    if (h && c) {
        emit_options eo = {.name = "model", .model_path = "", .schedule = pexc_model_schedule_name(m),
                           .target = target, .figures_out = d};
        util_err e = {{0}};
        rc = emit_model(&m->g, m->calls, m->plan, &eo, h, c, &e);
    }
    if (h) fclose(h);
    if (c) fclose(c);
    return rc;
}

static void write_device(const pexc_model *m, const char *target, FILE *f) {
    emit_figures_dev d;
    memset(&d, 0, sizeof d);
    if (device_figures(m, target, &d)) {
        fprintf(f, "  \"weight_flash_bytes\": null,\n  \"code_flash_bytes\": null,\n  \"stack_bytes\": null,\n");
        return;
    }
    fprintf(f, "  \"weight_flash_bytes\": %zu,\n", d.weight_bytes);
    if (!d.measured) {
        fprintf(f, "  \"code_flash_bytes\": null,\n  \"stack_bytes\": null,\n");
        return;
    }
    fprintf(f, "  \"code_flash_bytes\": %zu,\n  \"stack_bytes\": %zu,\n", d.code_bytes, d.stack_bytes);
    fprintf(f, "  \"device\": {\"target\": ");
    put_string(f, d.target);
    fprintf(f, ", \"flags\": ");
    put_string(f, d.flags);
    fprintf(f, ", \"kernel_code_bytes\": %zu, \"library_code_bytes\": %zu, \"model_code_bytes\": %zu, "
               "\"model_code_within\": %zu, \"kernel_stack_bytes\": %zu, \"run_frame_bytes\": %zu, "
               "\"method\": \"tools/kernel_sizes.py: runtime sections reachable from the kernels called; "
               "-fstack-usage frames along the call graph; model code fitted on %d real models\"},\n",
            d.kernel_code, d.library_code, d.model_code, d.model_miss, d.kernel_stack, d.run_frame, d.n_fit);
}

static void write_json(const pexc_model *m, const char *label, const char *target, FILE *f) {
    const ir_graph *g = &m->g;
    const plan_t *p = m->plan;
    int64_t total_macs = 0;
    for (int32_t i = 0; i < g->n_ops; i++) total_macs += ir_op_macs(g, &g->ops[i]);
    fprintf(f, "{\n  \"model\": ");
    put_string(f, label);
    fprintf(f, ",\n  \"schedule\": \"%s\",\n", pexc_model_schedule_name(m));
    fprintf(f, "  \"peak_sram_bytes\": %zu,\n  \"baseline_peak_sram_bytes\": %zu,\n", p->arena_bytes,
            m->baseline.arena_bytes);
    char why[4096];
    sched_describe_peak(g, m->calls, p, why, sizeof why);
    fprintf(f, "  \"lower_bound_bytes\": %zu,\n  \"macs\": %lld,\n  \"steps\": %d,\n", p->lower_bound,
            (long long)total_macs, p->n_steps);
    if (g->stream_input) {
        /* per model input: read into a ring as the plan needs it, or held
         * whole because its first reader takes it whole */
        fprintf(f, "  \"stream_input\": true,\n  \"inputs_streamed\": [");
        for (int32_t i = 0; i < g->n_inputs; i++)
            fprintf(f, "%s%s", i ? ", " : "", p->tensor_buffer[g->inputs[i]] < 0 ? "true" : "false");
        fprintf(f, "],\n");
    }
    if (g->stream_output) {
        /* per model output: handed over in pieces as it is made (a single
         * fully-connected output), or whole when complete */
        fprintf(f, "  \"stream_output\": true,\n  \"outputs_streamed\": [");
        for (int32_t i = 0; i < g->n_outputs; i++)
            fprintf(f, "%s%s", i ? ", " : "", p->tensor_buffer[g->outputs[i]] < 0 ? "true" : "false");
        fprintf(f, "],\n");
    }
    write_device(m, target, f);
    api_trade t;
    api_trade_of(m, &t);
    fprintf(f, "  \"predicted_instructions\": %.0f,\n  \"baseline_predicted_instructions\": %.0f,\n", t.cost,
            t.base_cost);
    if (t.is_default)
        fprintf(f, "  \"default\": {\"peak_sram_bytes\": %zu, \"predicted_instructions\": %.0f},\n"
                   "  \"min_sram\": {\"peak_sram_bytes\": %zu, \"predicted_instructions\": %.0f},\n",
                m->plan->arena_bytes, t.cost, t.least_bytes, t.least_cost);
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
        /* a ring cut into bands of slots (sched/ring_bands.c): the ring's
         * rows, and the band's slots */
        int ring_band = b->kind == BUF_RING && b->head >= 0;
        int32_t y0 = b->head >= 0 && !ring_band ? b->y0 : 0,
                y1 = b->head >= 0 && !ring_band ? b->y1
                     : b->kind == BUF_RING     ? (b->ring_px + d[2] - 1) / d[2]
                                               : d[1];
        int64_t px = b->kind == BUF_RING ? b->ring_px : (int64_t)(y1 - y0) * d[2];
        char slots[48] = "";
        if (ring_band) snprintf(slots, sizeof slots, ", \"slots\": [%d, %d]", b->y0, b->y1);
        fprintf(f, "%s\n    {\"tensor\": %d, \"kind\": \"%s\", \"rows\": [%d, %d], \"pixels\": %lld%s, "
                   "\"channels\": [%d, %d], \"first_step\": %d, \"last_step\": %d, \"offset\": %zu, \"size\": %zu}",
                i ? "," : "", b->tensor, kind, y0, y1, (long long)px, slots, b->c_begin, b->c_begin + b->c_stored,
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
        /* the cost model's view of the step, for tools/fit_cost.py */
        double cf[COST_NF];
        sched_step_features(g, m->calls, &p->steps[s], cf);
        fprintf(f, "    {\"step\": %d, \"op\": %d, \"type\": \"%s\", \"input_shape\": %s, \"output_shape\": %s, "
                   "\"macs\": %lld, \"live_bytes\": %zu, \"cost_class\": [%d, %d, ",
                s, k->op, ir_op_name(op->code), in, out, (long long)plan_step_macs(g, m->calls, &p->steps[s]),
                p->live_bytes[s], (int)k->kind, (int)p->steps[s].mode);
        const char *path = sched_cost_path(k, &p->steps[s]);
        put_string(f, path ? path : "");
        fprintf(f, "], \"cost_features\": [");
        for (int i = 0; i < COST_NF; i++) fprintf(f, "%s%.0f", i ? ", " : "", cf[i]);
        fprintf(f, "], \"predicted_instructions\": %.0f}%s\n", sched_step_cost(g, m->calls, &p->steps[s]),
                s + 1 < p->n_steps ? "," : "");
    }
    fprintf(f, "  ]\n}\n");
}

char *pexc_model_json(const pexc_model *m, const char *label) { return pexc_model_json_target(m, label, NULL); }

char *pexc_model_json_target(const pexc_model *m, const char *label, const char *target) {
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    write_json(m, label ? label : "", target, f);
    if (fclose(f)) {
        free(buf);
        return NULL;
    }
    return buf;
}
