/*
 * The pexc command.
 *
 *   pexc inspect MODEL [--json] [--schedule baseline|min-sram]
 *   pexc run MODEL [--input FILE] [--output FILE] [--batch N] [--schedule ...]
 *
 * Errors: one line on stderr, exit status 1 (2 for usage errors).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/model.h"
#include "pexc.h"

#define PEXC_VERSION "0.1.0"

int cli_write_svg(const char *path, const pexc_model *m, const char *title);
int cli_compile(int argc, char **argv);

static void usage(FILE *f) {
    fprintf(f,
            "usage: pexc <command> MODEL [options]\n"
            "  inspect MODEL [--json] [--schedule baseline|min-sram] [--sram BYTES] [--svg FILE]\n"
            "      the schedule step by step: operator, tile, MACs, live bytes; the peak\n"
            "      SRAM and where it sits; --svg draws memory over time, baseline beside\n"
            "      the chosen schedule\n"
            "  run MODEL [--input FILE] [--output FILE] [--batch N] [--schedule S] [--sram BYTES]\n"
            "      run on raw input bytes (default: the deterministic input);\n"
            "      --batch N reads N inputs back to back and writes N outputs;\n"
            "      --dump-dir DIR writes every whole intermediate tensor as DIR/<index>.bin;\n"
            "      each input starts from fresh operator state (LSTM state) unless\n"
            "      --keep-state carries it from one input to the next\n"
            "  compile MODEL -o DIR [--name NAME] [--schedule S] [--sram BYTES] [--target T]\n"
            "      standalone C (NAME.h, NAME.c, runtime kernels) for host or Cortex-M\n"
            "  --schedule: baseline (TFLite order, whole tensors) or min-sram (default)\n"
            "  --sram BYTES: fastest schedule whose peak fits, or an error naming the bottleneck\n");
}

typedef struct {
    const char *cmd, *model, *input, *output, *schedule, *svg, *dump_dir;
    int json, keep_state;
    long batch;
    size_t sram;
} cli_args;

static int parse(int argc, char **argv, cli_args *a) {
    memset(a, 0, sizeof *a);
    a->batch = 1;
    a->schedule = "min-sram";
    if (argc < 2) return -1;
    a->cmd = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *s = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(s, "--json")) a->json = 1;
        else if (!strcmp(s, "--keep-state")) a->keep_state = 1;
        else if (!strcmp(s, "--input") && v) a->input = argv[++i];
        else if (!strcmp(s, "--output") && v) a->output = argv[++i];
        else if (!strcmp(s, "--schedule") && v) a->schedule = argv[++i];
        else if (!strcmp(s, "--svg") && v) a->svg = argv[++i];
        else if (!strcmp(s, "--dump-dir") && v) a->dump_dir = argv[++i];
        else if (!strcmp(s, "--sram") && v) {
            char *end;
            unsigned long long x = strtoull(argv[++i], &end, 10);
            if (*end == 'K' || *end == 'k') { x *= 1024; end++; }
            if (*end || x == 0 || argv[i][0] == '-') {
                fprintf(stderr, "pexc: --sram takes a positive byte count (e.g. 65536 or 64K), got '%s'\n", argv[i]);
                return -2;
            }
            a->sram = (size_t)x;
        }
        else if (!strcmp(s, "--batch") && v) {
            char *end;
            a->batch = strtol(argv[++i], &end, 10);
            if (*end || a->batch < 1 || a->batch > 1000000) {
                fprintf(stderr, "pexc: --batch takes a count from 1 to 1000000, got '%s'\n", argv[i]);
                return -2;
            }
        } else if (s[0] == '-' ) {
            fprintf(stderr, "pexc: unknown or incomplete option '%s'\n", s);
            return -2;
        } else if (!a->model) a->model = s;
        else {
            fprintf(stderr, "pexc: unexpected argument '%s'\n", s);
            return -2;
        }
    }
    if (!a->model) return -1;
    return 0;
}

static int schedule_of(const char *s, pexc_schedule *out) {
    if (!strcmp(s, "baseline")) *out = PEXC_SCHEDULE_BASELINE;
    else if (!strcmp(s, "min-sram")) *out = PEXC_SCHEDULE_MIN_SRAM;
    else if (!strcmp(s, "channels")) *out = PEXC_SCHEDULE_CHANNELS;
    else {
        fprintf(stderr, "pexc: unknown schedule '%s' (baseline, channels or min-sram)\n", s);
        return -1;
    }
    return 0;
}

static void shape_str(const ir_tensor *t, char *buf, size_t n) {
    size_t at = 0;
    at += (size_t)snprintf(buf + at, n - at, "[");
    for (int i = 0; i < t->rank && at < n; i++)
        at += (size_t)snprintf(buf + at, n - at, i ? ",%d" : "%d", t->shape[i]);
    if (at < n) snprintf(buf + at, n - at, "]");
}

static int cmd_inspect(pexc_model *m, const cli_args *a) {
    const ir_graph *g = &m->g;
    const plan_t *p = m->plan;
    int64_t total_macs = 0;
    for (int32_t i = 0; i < g->n_ops; i++) total_macs += ir_op_macs(g, &g->ops[i]);
    if (a->json) {
        if (a->svg && cli_write_svg(a->svg, m, a->model)) return 1;
        printf("{\n  \"model\": \"%s\",\n  \"schedule\": \"%s\",\n", a->model, a->schedule);
        printf("  \"peak_sram_bytes\": %zu,\n  \"baseline_peak_sram_bytes\": %zu,\n", p->arena_bytes,
               m->baseline.arena_bytes);
        char why[600];
        sched_describe_peak(g, m->calls, p, why, sizeof why);
        printf("  \"lower_bound_bytes\": %zu,\n  \"macs\": %lld,\n  \"steps\": %d,\n", p->lower_bound,
               (long long)total_macs, p->n_steps);
        printf("  \"peak\": \"");
        for (const char *c = why; *c; c++) printf(*c == '"' || *c == '\\' ? "\\%c" : "%c", *c);
        printf("\",\n  \"segments\": [");
        for (int32_t i = 0; i < p->n_segments; i++)
            printf("%s{\"first_op\": %d, \"last_op\": %d, \"%s\": %d, \"row_fraction\": %d}", i ? ", " : "",
                   p->segments[i].op_first, p->segments[i].op_last, p->segments[i].rows > 0 ? "rows" : "slices",
                   p->segments[i].rows > 0 ? p->segments[i].rows : p->segments[i].n_slices,
                   p->segments[i].rows > 0 && p->segments[i].frac > 1 ? p->segments[i].frac : 1);
        printf("],\n  \"buffers\": [");
        for (int32_t i = 0; i < p->n_buffers; i++) {
            const plan_buffer *b = &p->buffers[i];
            const char *kind = b->kind == BUF_SLICE ? "slice" : b->kind == BUF_PSUM ? "psum"
                             : b->kind == BUF_RING ? "ring" : b->head >= 0 ? "band" : "tensor";
            int32_t d[4];
            lower_nhwc(&g->tensors[b->tensor], d);
            int32_t y0 = b->head >= 0 ? b->y0 : 0,
                    y1 = b->head >= 0 ? b->y1 : b->kind == BUF_RING ? (b->ring_px + d[2] - 1) / d[2] : d[1];
            int64_t px = b->kind == BUF_RING ? b->ring_px : (int64_t)(y1 - y0) * d[2];
            printf("%s\n    {\"tensor\": %d, \"kind\": \"%s\", \"rows\": [%d, %d], \"pixels\": %lld, "
                   "\"channels\": [%d, %d], \"first_step\": %d, \"last_step\": %d, \"offset\": %zu, \"size\": %zu}",
                   i ? "," : "", b->tensor, kind, y0, y1, (long long)px, b->c_begin, b->c_begin + b->c_stored,
                   b->first, b->last, b->offset, b->size);
        }
        printf("],\n  \"op_order\": [");
        for (int32_t i = 0; i < g->n_ops; i++) printf("%s%d", i ? ", " : "", p->order ? p->order[i] : i);
        printf("],\n");
        printf("  \"ops\": [\n");
        for (int32_t s = 0; s < p->n_steps; s++) {
            const k_call *k = &m->calls[p->steps[s].call];
            const ir_op *op = &g->ops[k->op];
            char in[64] = "[]", out[64];
            if (k->in[0] >= 0) shape_str(&g->tensors[k->in[0]], in, sizeof in);
            shape_str(&g->tensors[k->out], out, sizeof out);
            printf("    {\"step\": %d, \"op\": %d, \"type\": \"%s\", \"input_shape\": %s, \"output_shape\": %s, "
                   "\"macs\": %lld, \"live_bytes\": %zu}%s\n",
                   s, k->op, ir_op_name(op->code), in, out, (long long)plan_step_macs(g, m->calls, &p->steps[s]),
                   p->live_bytes[s],
                   s + 1 < p->n_steps ? "," : "");
        }
        printf("  ]\n}\n");
        return 0;
    }
    printf("model %s: %d operators, %d tensors%s%s\n", a->model, g->n_ops, g->n_tensors,
           g->description ? ", " : "", g->description ? g->description : "");
    printf("%5s %4s  %-18s %-7s %-13s %-18s %12s %10s\n", "step", "op", "type", "mode", "tile", "output",
           "MACs", "live B");
    for (int32_t s = 0; s < p->n_steps; s++) {
        const plan_step *st = &p->steps[s];
        const k_call *k = &m->calls[st->call];
        const ir_op *op = &g->ops[k->op];
        char out[64], ch[32];
        shape_str(&g->tensors[k->out], out, sizeof out);
        const char *mode = st->mode == STEP_ACC ? "acc" : st->mode == STEP_FINISH ? "finish" : "full";
        if (st->mode == STEP_ACC) snprintf(ch, sizeof ch, "in %d-%d", st->ic0, st->ic1);
        else snprintf(ch, sizeof ch, "%d-%d", st->tile.c0, st->tile.c1);
        if (st->mode == STEP_ACC && (k->kind == K_AVGPOOL || k->kind == K_DWCONV))
            snprintf(ch, sizeof ch, "px %d-%d", st->ic0, st->ic1 - 1);
        if (st->mode == STEP_FULL && (st->tile.c0 != 0 || st->tile.c1 != k->out_dims[3])) mode = "slice";
        if (st->mode == STEP_FULL && (st->tile.x0 || st->tile.x1)) {
            mode = "pixels";
            snprintf(ch, sizeof ch, "%d,%d-%d,%d", st->tile.y0, st->tile.x0, st->tile.y1 - 1,
                     (st->tile.x1 ? st->tile.x1 : k->out_dims[2]) - 1);
        } else if (st->mode == STEP_FULL && (st->tile.y0 != 0 || st->tile.y1 != k->out_dims[1])) {
            mode = "rows";
            snprintf(ch, sizeof ch, "rows %d-%d", st->tile.y0, st->tile.y1 - 1);
        }
        printf("%5d %4d  %-18s %-7s %-13s %-18s %12lld %10zu\n", s, k->op, ir_op_name(op->code), mode, ch, out,
               (long long)plan_step_macs(g, m->calls, st), p->live_bytes[s]);
    }
    char why[600];
    sched_describe_peak(g, m->calls, p, why, sizeof why);
    int32_t n_streamed = 0;
    for (int32_t i = 0; i < p->n_segments; i++) n_streamed += p->segments[i].rows > 0;
    printf("schedule %s: peak SRAM %zu bytes (lower bound %zu; baseline %zu), %lld MACs, %d steps, %d channel-split "
           "and %d streamed segments\n",
           a->schedule, p->arena_bytes, p->lower_bound, m->baseline.arena_bytes, (long long)total_macs, p->n_steps,
           p->n_segments - n_streamed, n_streamed);
    printf("peak: %s\n", why);
    if (a->svg && cli_write_svg(a->svg, m, a->model)) return 1;
    return 0;
}

static int cmd_run(pexc_model *m, const cli_args *a) {
    char err[600];
    int ni = pexc_model_num_inputs(m), no = pexc_model_num_outputs(m);
    if (ni != 1 || no != 1) {
        fprintf(stderr, "pexc: run supports single-input single-output models (this one has %d inputs, %d outputs)\n",
                ni, no);
        return 1;
    }
    size_t isz = pexc_model_input_bytes(m, 0), osz = pexc_model_output_bytes(m, 0);
    size_t n = (size_t)a->batch;
    uint8_t *in = malloc(isz * n + 1), *out = malloc(osz * n + 1);
    if (!in || !out) {
        fprintf(stderr, "pexc: out of memory for %zu inputs\n", n);
        free(in);
        free(out);
        return 1;
    }
    int rc = 1;
    if (a->input) {
        FILE *f = fopen(a->input, "rb");
        if (!f) {
            fprintf(stderr, "pexc: %s: cannot open input\n", a->input);
            goto done;
        }
        size_t got = fread(in, 1, isz * n + 1, f);
        fclose(f);
        if (got != isz * n) {
            fprintf(stderr, "pexc: %s: %zu bytes, expected %zu (%zu input%s of %zu bytes)\n", a->input, got, isz * n,
                    n, n == 1 ? "" : "s", isz);
            goto done;
        }
    } else {
        for (size_t b = 0; b < n; b++)
            if (pexc_model_det_input(m, 0, in + b * isz)) {
                fprintf(stderr, "pexc: no deterministic input for this input type\n");
                goto done;
            }
    }
#ifdef PEXC_COUNT_MACS
    pexc_mac_count = 0;
#endif
    for (size_t b = 0; b < n; b++) {
        const void *ins[1] = {in + b * isz};
        void *outs[1] = {out + b * osz};
        /* each input as on a freshly built TFLM interpreter (what the
         * golden files hold), unless asked to run them as one stream */
        if (!a->keep_state) pexc_model_reset(m);
        if (pexc_model_run_dump(m, ins, outs, a->dump_dir, err, sizeof err)) {
            fprintf(stderr, "pexc: %s: %s\n", a->model, err);
            goto done;
        }
    }
#ifdef PEXC_COUNT_MACS
    fprintf(stderr, "macs_executed %llu\n", (unsigned long long)pexc_mac_count);
#endif
    if (a->output) {
        FILE *f = fopen(a->output, "wb");
        if (!f || fwrite(out, 1, osz * n, f) != osz * n) {
            fprintf(stderr, "pexc: %s: cannot write output\n", a->output);
            if (f) fclose(f);
            goto done;
        }
        if (fclose(f) != 0) {
            fprintf(stderr, "pexc: %s: cannot write output\n", a->output);
            goto done;
        }
    } else {
        int type = m->g.tensors[m->g.outputs[0]].type;
        for (size_t i = 0; i < (type == IR_F32 ? osz * n / 4 : osz * n); i++) {
            if (type == IR_F32) {
                float v;
                memcpy(&v, out + 4 * i, 4);
                printf("%s%g", i ? " " : "", (double)v);
            } else {
                printf("%s%d", i ? " " : "", (int)(int8_t)out[i]);
            }
        }
        printf("\n");
    }
    rc = 0;
done:
    free(in);
    free(out);
    return rc;
}

int main(int argc, char **argv) {
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))) {
        usage(stdout);
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "--version")) {
        printf("pexc %s\n", PEXC_VERSION);
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "compile")) return cli_compile(argc - 1, argv + 1);
    cli_args a;
    int r = parse(argc, argv, &a);
    if (r) {
        if (r == -1) usage(stderr);
        return 2;
    }
    if (strcmp(a.cmd, "inspect") && strcmp(a.cmd, "run")) {
        fprintf(stderr, "pexc: unknown command '%s'\n", a.cmd);
        usage(stderr);
        return 2;
    }
    pexc_schedule sched;
    if (schedule_of(a.schedule, &sched)) return 2;
    pexc_model *m;
    char err[700];
    if (pexc_model_open_budget(a.model, sched, a.sram, &m, err, sizeof err)) {
        fprintf(stderr, "pexc: %s\n", err);
        return 1;
    }
    int rc = !strcmp(a.cmd, "inspect") ? cmd_inspect(m, &a) : cmd_run(m, &a);
    pexc_model_free(m);
    return rc;
}
