/*
 * The pexc command.
 *
 *   pexc inspect MODEL [--json] [--schedule S] [--sram SIZE] [--svg FILE]
 *   pexc run MODEL [--input FILE|-]... [--output FILE|-]... [--batch N] [--schedule S] [--sram SIZE]
 *            [--dump-dir DIR]            (one --input per model input, one --output per output)
 *   pexc compile MODEL -o DIR ...          (compile.c)
 *   pexc prune MODEL --sram SIZE -o OUT    (prune.c)
 *   pexc help [COMMAND], pexc COMMAND --help, pexc --version
 *
 * Every option also takes the form --option=value. Errors: one line on
 * stderr, exit status 1 (2 for usage errors).
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/model.h"
#include "sched/stream_io.h"
#include "cli/cli.h"
#include "pexc.h"

#define PEXC_VERSION "0.1.0"

#define CLI_MAX_IO 16

typedef struct {
    const char *cmd, *model, *schedule, *svg, *dump_dir;
    const char *input[CLI_MAX_IO], *output[CLI_MAX_IO]; /* one file per model input / output, in order */
    int n_input, n_output;
    int json, help, keep_state, stream_input, stream_output;
    long batch;
    size_t sram;
} cli_args;

static int parse(int argc, char **argv, cli_args *a) {
    memset(a, 0, sizeof *a);
    a->batch = 1;
    a->schedule = "default";
    if (argc < 2) return -1;
    a->cmd = argv[1];
    for (int i = 2; i < argc; i++) {
        const char *s = argv[i], *v = NULL;
        int r;
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) a->help = 1;
        else if (!strcmp(s, "--json")) a->json = 1;
        else if (!strcmp(s, "--keep-state")) a->keep_state = 1;
        else if (!strcmp(s, "--stream-input")) a->stream_input = 1;
        else if (!strcmp(s, "--stream-output")) a->stream_output = 1;
        else if ((r = cli_opt_value(argc, argv, &i, "--input", &v))) {
            if (r < 0) return -2;
            if (a->n_input == CLI_MAX_IO) {
                fprintf(stderr, "pexc: at most %d --input files\n", CLI_MAX_IO);
                return -2;
            }
            a->input[a->n_input++] = v;
        } else if ((r = cli_opt_value(argc, argv, &i, "--output", &v))) {
            if (r < 0) return -2;
            if (a->n_output == CLI_MAX_IO) {
                fprintf(stderr, "pexc: at most %d --output files\n", CLI_MAX_IO);
                return -2;
            }
            a->output[a->n_output++] = v;
        } else if ((r = cli_opt_value(argc, argv, &i, "--schedule", &v))) {
            if (r < 0) return -2;
            a->schedule = v;
        } else if ((r = cli_opt_value(argc, argv, &i, "--svg", &v))) {
            if (r < 0) return -2;
            a->svg = v;
        } else if ((r = cli_opt_value(argc, argv, &i, "--dump-dir", &v))) {
            if (r < 0) return -2;
            a->dump_dir = v;
        } else if ((r = cli_opt_value(argc, argv, &i, "--sram", &v))) {
            if (r < 0 || cli_parse_size("--sram", v, &a->sram)) return -2;
        } else if ((r = cli_opt_value(argc, argv, &i, "--batch", &v))) {
            char *end;
            if (r < 0) return -2;
            errno = 0;
            a->batch = strtol(v, &end, 10);
            if (*end || !*v || errno || a->batch < 1 || a->batch > 1000000) {
                fprintf(stderr, "pexc: --batch takes a count from 1 to 1000000, got '%s'\n", v);
                return -2;
            }
        } else if (s[0] == '-' && s[1]) {
            fprintf(stderr, "pexc: %s: unknown option '%s' (see pexc help %s)\n", a->cmd, s, a->cmd);
            return -2;
        } else if (!a->model) a->model = s;
        else {
            fprintf(stderr, "pexc: %s: unexpected argument '%s'\n", a->cmd, s);
            return -2;
        }
    }
    if (a->help) return 0;
    if (!a->model) return -1;
    return 0;
}

/* `pexc ops [--json]`: every builtin operator of the TFLite schema, whether
 * pexc lowers it and, when not, why (the coverage table's source). */
static int cmd_ops(int argc, char **argv) {
    int json = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            cli_usage(stdout, "ops");
            return 0;
        } else {
            fprintf(stderr, "pexc: ops: unknown option '%s' (see pexc help ops)\n", argv[i]);
            return 2;
        }
    }
    if (json) printf("[\n");
    int first = 1;
    for (int32_t code = 0; code < 256; code++) {
        const char *name = ir_op_name(code);
        if (!strcmp(name, "UNKNOWN_OP") || code == OP_CUSTOM || code == OP_DELEGATE ||
            code == OP_PLACEHOLDER_FOR_GREATER_OP_CODES)
            continue;
        int ok = lower_known(code);
        const char *why = ops_missing_reason(code);
        if (json) {
            printf("%s  {\"code\": %d, \"name\": \"%s\", \"supported\": %s", first ? "" : ",\n", code, name,
                   ok ? "true" : "false");
            if (why) printf(", \"reason\": \"%s\"", why);
            printf("}");
        } else {
            printf("%4d %-34s %s%s%s\n", code, name, ok ? "yes" : "no", why ? ": " : "", why ? why : "");
        }
        first = 0;
    }
    if (json) printf("\n]\n");
    return 0;
}

static int cmd_inspect(pexc_model *m, const cli_args *a) {
    const ir_graph *g = &m->g;
    const plan_t *p = m->plan;
    int64_t total_macs = 0;
    for (int32_t i = 0; i < g->n_ops; i++) total_macs += ir_op_macs(g, &g->ops[i]);
    const char *sched_name = pexc_model_schedule_name(m);
    if (a->json) {
        if (a->svg && cli_write_svg(a->svg, m, a->model)) return 1;
        char *json = pexc_model_json(m, a->model);
        if (!json) {
            fprintf(stderr, "pexc: out of memory\n");
            return 1;
        }
        fputs(json, stdout);
        pexc_free(json);
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
        api_shape_str(&g->tensors[k->out], out, sizeof out);
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
    char why[4096];
    sched_describe_peak(g, m->calls, p, why, sizeof why);
    int32_t n_streamed = 0;
    for (int32_t i = 0; i < p->n_segments; i++) n_streamed += p->segments[i].rows > 0;
    printf("schedule %s: peak SRAM %zu bytes (lower bound %zu; baseline %zu), %lld MACs, %d steps, %d channel-split "
           "and %d streamed segments\n",
           sched_name, p->arena_bytes, p->lower_bound, m->baseline.arena_bytes, (long long)total_macs, p->n_steps,
           p->n_segments - n_streamed, n_streamed);
    printf("peak: %s\n", why);
    char trade[200];
    api_trade_line(m, trade, sizeof trade);
    printf("%s\n", trade);
    for (int32_t i = 0; g->stream_input && i < g->n_inputs; i++) {
        int32_t t = g->inputs[i], reader = -1;
        for (int32_t s = 0; s < p->n_steps && reader < 0; s++)
            for (int w = 0; w < 2; w++)
                if (p->steps[s].in[w].tensor == t) reader = p->steps[s].call;
        int chunked = 0;
        for (int32_t b = 0; b < p->n_buffers && !chunked; b++) chunked = plan_input_chunk(g, m->calls, p, b) == i;
        /* a sequence operator's input: its rows are time steps */
        const k_call *kr = reader >= 0 ? &m->calls[reader] : NULL;
        int seq = kr && ops_steps_of(kr) && kr->in[0] >= 0;
        if (chunked)
            printf("input %d streamed: read in chunks by a fully-connected layer into int32 partial sums\n", i);
        else if (p->tensor_buffer[t] < 0 && seq)
            printf("input %d streamed: time steps read into a ring as operator %d (%s) runs them\n", i, reader,
                   ir_op_name(g->ops[reader].code));
        else if (p->tensor_buffer[t] < 0)
            printf("input %d streamed: rows read into a ring as the plan needs them\n", i);
        else if (seq && (int64_t)kr->in_dims[0][1] * kr->in_dims[0][2] == 1)
            printf("input %d held whole: a single time step, which operator %d (%s) reads at once; nothing to "
                   "stream\n",
                   i, reader, ir_op_name(g->ops[reader].code));
        else if (reader >= 0)
            printf("input %d held whole: its first reader, operator %d (%s), does not stream it\n", i, reader,
                   ir_op_name(g->ops[reader].code));
        else
            printf("input %d held whole\n", i);
    }
    for (int32_t i = 0; g->stream_output && i < g->n_outputs; i++) {
        int32_t pieces = 0;
        plan_out_piece pc[16];
        for (int32_t s = 0; s < p->n_steps; s++) {
            int32_t n = plan_output_pieces(g, m->calls, p, s, pc, 16);
            for (int32_t j = 0; j < n; j++) pieces += pc[j].output == i;
        }
        printf("output %d streamed: handed over in %d piece%s as the plan makes it\n", i, pieces,
               pieces == 1 ? "" : "s");
    }
    if (a->svg && cli_write_svg(a->svg, m, a->model)) return 1;
    return 0;
}

/* Reads exactly `want` bytes from path ("-": stdin) into buf; a file of
 * another size is reported with its real size. */
static int read_exact(const char *path, uint8_t *buf, size_t want, size_t n, size_t one) {
    int std = !strcmp(path, "-");
    if (!std && util_is_dir(path)) {
        fprintf(stderr, "pexc: %s: is a directory, expected the input file\n", path);
        return -1;
    }
    FILE *f = std ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "pexc: %s: cannot open input: %s\n", path, strerror(errno));
        return -1;
    }
    size_t got = fread(buf, 1, want, f);
    char extra[4096];
    for (size_t k; (k = fread(extra, 1, sizeof extra, f)) > 0;) got += k;
    int bad = ferror(f);
    if (!std) fclose(f);
    if (bad) {
        fprintf(stderr, "pexc: %s: read error\n", std ? "stdin" : path);
        return -1;
    }
    if (got != want) {
        fprintf(stderr, "pexc: %s: %zu bytes, expected %zu (%zu input%s of %zu bytes)\n", std ? "stdin" : path, got,
                want, n, n == 1 ? "" : "s", one);
        return -1;
    }
    return 0;
}

static int write_all(const char *path, const uint8_t *buf, size_t n) {
    if (!strcmp(path, "-")) {
        if (fwrite(buf, 1, n, stdout) != n || fflush(stdout)) {
            fprintf(stderr, "pexc: cannot write the output to stdout\n");
            return -1;
        }
        return 0;
    }
    if (util_is_dir(path)) {
        fprintf(stderr, "pexc: %s: is a directory, expected the output file\n", path);
        return -1;
    }
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, n, f) != n) {
        fprintf(stderr, "pexc: %s: cannot write output: %s\n", path, strerror(errno));
        if (f) fclose(f);
        return -1;
    }
    if (fclose(f) != 0) {
        fprintf(stderr, "pexc: %s: cannot write output: %s\n", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* Prints output tensor o's values (batch after batch) on one line. */
static void print_values(const pexc_model *m, int o, const uint8_t *out, size_t bytes) {
    int type = m->g.tensors[m->g.outputs[o]].type;
    size_t es = type == IR_F32 || type == IR_I32 ? 4 : type == IR_I16 ? 2 : type == IR_I64 ? 8 : 1;
    for (size_t i = 0; i < bytes / es; i++) {
        const char *sep = i ? " " : "";
        if (type == IR_F32) {
            float v;
            memcpy(&v, out + 4 * i, 4);
            printf("%s%g", sep, (double)v);
        } else if (type == IR_I32) {
            int32_t v;
            memcpy(&v, out + 4 * i, 4);
            printf("%s%d", sep, (int)v);
        } else if (type == IR_I16) {
            int16_t v;
            memcpy(&v, out + 2 * i, 2);
            printf("%s%d", sep, (int)v);
        } else if (type == IR_I64) {
            int64_t v;
            memcpy(&v, out + 8 * i, 8);
            printf("%s%lld", sep, (long long)v);
        } else if (type == IR_U8 || type == IR_BOOL) {
            printf("%s%u", sep, (unsigned)out[i]);
        } else {
            printf("%s%d", sep, (int)(int8_t)out[i]);
        }
    }
    printf("\n");
}

/* run --stream-output: each output piece goes to the output's file as the
 * plan hands it over (in order, so appended), or into the array printed at
 * the end. */
typedef struct {
    FILE *f[CLI_MAX_IO];
    uint8_t *out[CLI_MAX_IO]; /* this item's output arrays */
    int64_t next[CLI_MAX_IO]; /* per output: elements handed over in this item */
} cli_writer;

static int cli_write_piece(void *ctx, int output, int64_t first, int64_t n, size_t elem, const void *src) {
    cli_writer *w = ctx;
    if (first != w->next[output]) return 2; /* out of order: the plan verifier rules this out */
    w->next[output] = first + n;
    if (w->f[output]) return fwrite(src, elem, (size_t)n, w->f[output]) == (size_t)n ? 0 : 1;
    memcpy(w->out[output] + (size_t)first * elem, src, (size_t)n * elem);
    return 0;
}

static int cmd_run(pexc_model *m, const cli_args *a) {
    char err[600];
    int ni = pexc_model_num_inputs(m), no = pexc_model_num_outputs(m);
    if (ni > CLI_MAX_IO || no > CLI_MAX_IO) {
        fprintf(stderr, "pexc: run supports up to %d inputs and outputs (this model has %d inputs, %d outputs)\n",
                CLI_MAX_IO, ni, no);
        return 1;
    }
    if (a->n_input && a->n_input != ni) {
        fprintf(stderr, "pexc: %s: the model has %d input%s; give one --input file per input, in order (got %d)\n",
                a->model, ni, ni == 1 ? "" : "s", a->n_input);
        return 1;
    }
    if (a->n_output && a->n_output != no) {
        fprintf(stderr, "pexc: %s: the model has %d output%s; give one --output file per output, in order (got %d)\n",
                a->model, no, no == 1 ? "" : "s", a->n_output);
        return 1;
    }
    size_t n = (size_t)a->batch;
    uint8_t *in[CLI_MAX_IO] = {0}, *out[CLI_MAX_IO] = {0};
    size_t isz[CLI_MAX_IO], osz[CLI_MAX_IO];
    int rc = 1;
    for (int i = 0; i < ni; i++) {
        isz[i] = pexc_model_input_bytes(m, i);
        if (!(in[i] = malloc(isz[i] * n + 1))) goto oom;
        if (a->n_input) {
            if (read_exact(a->input[i], in[i], isz[i] * n, n, isz[i])) goto done;
            continue;
        }
        for (size_t b = 0; b < n; b++)
            if (pexc_model_det_input(m, i, in[i] + b * isz[i])) {
                fprintf(stderr, "pexc: no deterministic input for the type of input %d\n", i);
                goto done;
            }
    }
    for (int o = 0; o < no; o++) {
        osz[o] = pexc_model_output_bytes(m, o);
        if (!(out[o] = malloc(osz[o] * n + 1))) goto oom;
    }
    cli_writer wr;
    memset(&wr, 0, sizeof wr);
    for (int o = 0; m->g.stream_output && a->n_output && o < no; o++) {
        int std = !strcmp(a->output[o], "-");
        if (!std && util_is_dir(a->output[o])) {
            fprintf(stderr, "pexc: %s: is a directory, expected the output file\n", a->output[o]);
            goto done;
        }
        if (!(wr.f[o] = std ? stdout : fopen(a->output[o], "wb"))) {
            fprintf(stderr, "pexc: %s: cannot write output: %s\n", a->output[o], strerror(errno));
            goto done;
        }
    }
#ifdef PEXC_COUNT_MACS
    pexc_mac_count = 0;
#endif
    for (size_t b = 0; b < n; b++) {
        const void *ins[CLI_MAX_IO];
        void *outs[CLI_MAX_IO];
        for (int i = 0; i < ni; i++) ins[i] = in[i] + b * isz[i];
        for (int o = 0; o < no; o++) outs[o] = out[o] + b * osz[o];
        /* each input as on a freshly built TFLM interpreter (what the
         * golden files hold), unless asked to run them as one stream; as
         * in TFLM, a reset does not rerun CALL_ONCE, so resource variables
         * restart from their zero point, not their initial value */
        if (!a->keep_state) pexc_model_reset(m);
        if (m->g.stream_output) {
            util_err e = {0};
            if (!m->init_done) exec_init_state(&m->g, m->plan, m->arena);
            m->init_done = 1;
            for (int o = 0; o < no; o++) {
                wr.out[o] = outs[o];
                wr.next[o] = 0;
            }
            if (exec_run_stream(&m->g, m->calls, m->plan, m->arena, ins, cli_write_piece, &wr, a->dump_dir, &e)) {
                fprintf(stderr, "pexc: %s: %s\n", a->model, e.msg);
                goto done;
            }
            continue;
        }
        if (pexc_model_run_dump(m, ins, outs, a->dump_dir, err, sizeof err)) {
            fprintf(stderr, "pexc: %s: %s\n", a->model, err);
            goto done;
        }
    }
#ifdef PEXC_COUNT_MACS
    fprintf(stderr, "macs_executed %llu\n", (unsigned long long)pexc_mac_count);
#endif
    for (int o = 0; o < no; o++) {
        if (wr.f[o]) {
            /* written piece by piece during the run */
            FILE *f = wr.f[o];
            wr.f[o] = NULL;
            if ((f == stdout ? fflush(f) : fclose(f)) != 0) {
                fprintf(stderr, "pexc: %s: cannot write output: %s\n", a->output[o], strerror(errno));
                goto done;
            }
        } else if (a->n_output) {
            if (write_all(a->output[o], out[o], osz[o] * n)) goto done;
        } else {
            print_values(m, o, out[o], osz[o] * n);
        }
    }
    rc = 0;
    goto done;
oom:
    fprintf(stderr, "pexc: out of memory for %zu inputs\n", n);
done:
    for (int i = 0; i < CLI_MAX_IO; i++) {
        free(in[i]);
        free(out[i]);
        if (wr.f[i] && wr.f[i] != stdout) fclose(wr.f[i]);
    }
    return rc;
}

int pexc_cli_main(int argc, char **argv) {
    if (argc < 2) {
        cli_usage(stderr, NULL);
        return 2;
    }
    const char *c1 = argv[1];
    if (!strcmp(c1, "--help") || !strcmp(c1, "-h") || !strcmp(c1, "help")) {
        if (argc > 2 && cli_train_usage(argv[2])) {
            printf("%s", cli_train_usage(argv[2]));
            return 0;
        }
        if (argc > 2 && !cli_is_command(argv[2])) {
            fprintf(stderr, "pexc: help: unknown command '%s' (inspect, run or compile)\n", argv[2]);
            return 2;
        }
        cli_usage(stdout, argc > 2 ? argv[2] : NULL);
        return 0;
    }
    if (!strcmp(c1, "--version") || !strcmp(c1, "-V")) {
        printf("pexc %s\n", PEXC_VERSION);
        return 0;
    }
    if (!strcmp(c1, "train")) return cli_train(argc - 1, argv + 1);
    if (!strcmp(c1, "eval")) return cli_eval(argc - 1, argv + 1);
    if (!cli_is_command(c1)) {
        fprintf(stderr, "pexc: unknown command '%s' (inspect, run, compile or ops; see pexc --help)\n", c1);
        return 2;
    }
    if (!strcmp(c1, "compile")) return cli_compile(argc - 1, argv + 1);
    if (!strcmp(c1, "ops")) return cmd_ops(argc, argv);
    if (!strcmp(c1, "prune")) return cli_prune(argc - 1, argv + 1);
    cli_args a;
    int r = parse(argc, argv, &a);
    if (r == 0 && a.help) {
        cli_usage(stdout, a.cmd);
        return 0;
    }
    if (r) {
        if (r == -1) cli_usage(stderr, a.cmd);
        return 2;
    }
    pexc_schedule sched;
    if (cli_schedule_of(a.schedule, &sched)) return 2;
    if (a.svg) {
        /* fail before printing anything */
        FILE *f = util_is_dir(a.svg) ? NULL : fopen(a.svg, "w");
        if (!f) {
            fprintf(stderr, "pexc: %s: cannot write the SVG: %s\n", a.svg,
                    util_is_dir(a.svg) ? "is a directory" : strerror(errno));
            return 1;
        }
        fclose(f);
    }
    if (a.dump_dir && util_mkdir_p(a.dump_dir)) {
        fprintf(stderr, "pexc: %s: cannot create the dump directory: %s\n", a.dump_dir, strerror(errno));
        return 1;
    }
    pexc_model *m;
    char err[700];
    int streamed = a.stream_input || a.stream_output;
    if (streamed && strcmp(a.cmd, "inspect") != 0 && strcmp(a.cmd, "run") != 0) {
        fprintf(stderr, "pexc: %s: --stream-input and --stream-output are options of inspect, run and compile\n",
                a.cmd);
        return 1;
    }
    /* streamed, the budget is held to the streamed plan (api_plan_streamed),
     * which plans both graphs again: the open's plan is then the
     * baseline's, which costs no search */
    if (pexc_model_open_budget(a.model, streamed ? PEXC_SCHEDULE_BASELINE : sched, streamed ? 0 : a.sram, &m, err,
                               sizeof err)) {
        fprintf(stderr, "pexc: %s\n", err);
        return 1;
    }
    if (streamed) {
        /* each model input a streamed chain or fully-connected layer reads
         * arrives as the plan reads it, and outputs leave as they are made;
         * run reads the input file and writes the output file that way */
        util_err e = {0};
        if (api_plan_streamed(m, sched, a.stream_input, a.stream_output, a.sram, &e)) {
            fprintf(stderr, "pexc: %s: %s\n", a.model, e.msg);
            pexc_model_free(m);
            return 1;
        }
    }
    int rc = !strcmp(a.cmd, "inspect") ? cmd_inspect(m, &a) : cmd_run(m, &a);
    pexc_model_free(m);
    return rc;
}
