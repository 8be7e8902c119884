/*
 * pexc prune: the command line of the pruner (src/prune/prune.c).
 *
 *   pexc prune MODEL --sram BYTES -o OUT.tflite [--method magnitude|none]
 *              [--data FILE] [--test FILE] [--format cifar10|idx] [--epochs N]
 *              [--steps S] [--limit N] [--lr X] [--threads N] [--seed N]
 *              [--stream-input]
 *   pexc prune MODEL --groups [--stream-input]
 *
 * Errors: one line on stderr, exit status 1 (2 for usage errors).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "prune/prune.h"

/* A number from lo to hi for option opt: 0, or -1 with the usage line. */
static int prune_parse_real(const char *opt, const char *v, double lo, double hi, float *out) {
    char *end;
    double x = strtod(v, &end);
    if (*end || !*v || !(x >= lo && x <= hi)) {
        fprintf(stderr, "pexc: prune: %s takes a number from %g to %g, got '%s'\n", opt, lo, hi, v);
        return -1;
    }
    *out = (float)x;
    return 0;
}

int cli_prune(int argc, char **argv) {
    prune_options o = {.method = "magnitude", .epochs = 1, .steps = 1, .threads = 2, .lr = 3e-3f, .seed = 1,
                       .temperature = 4.0f, .alpha = 0.9f};
    long x;
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i], *v = NULL;
        int r = 0;
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            cli_usage(stdout, "prune");
            return 0;
        }
        if (!strcmp(s, "--no-fold")) {
            o.no_fold = 1;
            continue;
        }
        if (!strcmp(s, "--tune-always")) {
            o.tune_always = 1;
            continue;
        }
        if (!strcmp(s, "--distill")) {
            o.distill = 1;
            continue;
        }
        if (!strcmp(s, "--groups")) {
            o.groups = 1;
            continue;
        }
        if (!strcmp(s, "--stream-input")) {
            o.stream_input = 1;
            continue;
        }
        if ((r = cli_opt_value(argc, argv, &i, "-o", &v)) || (r = cli_opt_value(argc, argv, &i, "--output", &v))) {
            o.out = v;
        } else if ((r = cli_opt_value(argc, argv, &i, "--method", &v))) {
            o.method = v;
        } else if ((r = cli_opt_value(argc, argv, &i, "--data", &v))) {
            o.data = v;
        } else if ((r = cli_opt_value(argc, argv, &i, "--test", &v))) {
            o.test = v;
        } else if ((r = cli_opt_value(argc, argv, &i, "--format", &v))) {
            o.format = v;
        } else if ((r = cli_opt_value(argc, argv, &i, "--epochs", &v))) {
            if (r > 0 && cli_parse_long("--epochs", v, 0, 10000, &x)) return 2;
            o.epochs = (int32_t)x;
        } else if ((r = cli_opt_value(argc, argv, &i, "--steps", &v))) {
            if (r > 0 && cli_parse_long("--steps", v, 1, 100, &x)) return 2;
            o.steps = (int32_t)x;
        } else if ((r = cli_opt_value(argc, argv, &i, "--limit", &v))) {
            if (r > 0 && cli_parse_long("--limit", v, 1, 10000000, &x)) return 2;
            o.limit = (int32_t)x;
        } else if ((r = cli_opt_value(argc, argv, &i, "--threads", &v))) {
            if (r > 0 && cli_parse_long("--threads", v, 1, 8, &x)) return 2;
            o.threads = (int32_t)x;
        } else if ((r = cli_opt_value(argc, argv, &i, "--seed", &v))) {
            if (r > 0 && cli_parse_long("--seed", v, 0, 2147483647L, &x)) return 2;
            o.seed = (uint64_t)x;
        } else if ((r = cli_opt_value(argc, argv, &i, "--lr", &v))) {
            char *end;
            double lr = r > 0 ? strtod(v, &end) : 0;
            if (r > 0 && (*end || !*v || !(lr > 0.0) || lr > 10.0)) {
                fprintf(stderr, "pexc: prune: --lr takes a number above 0 up to 10, got '%s'\n", v);
                return 2;
            }
            o.lr = (float)lr;
        } else if ((r = cli_opt_value(argc, argv, &i, "--teacher", &v))) {
            o.teacher = v;
            o.distill = 1;
        } else if ((r = cli_opt_value(argc, argv, &i, "--temperature", &v))) {
            if (r > 0 && prune_parse_real("--temperature", v, 1.0, 100.0, &o.temperature)) return 2;
            o.distill = 1;
        } else if ((r = cli_opt_value(argc, argv, &i, "--alpha", &v))) {
            if (r > 0 && prune_parse_real("--alpha", v, 0.0, 1.0, &o.alpha)) return 2;
            o.distill = 1;
        } else if ((r = cli_opt_value(argc, argv, &i, "--widths", &v))) {
            const char *p = v;
            o.n_widths = 0;
            while (r > 0 && *p) {
                char *end;
                long w = strtol(p, &end, 10);
                if (end == p || w < 1 || w > 1000000 || (*end && *end != ',') || o.n_widths >= 64) {
                    fprintf(stderr, "pexc: prune: --widths takes channel counts 1,2,... (one per group), got '%s'\n",
                            v);
                    return 2;
                }
                o.widths[o.n_widths++] = (int32_t)w;
                p = *end ? end + 1 : end;
            }
        } else if ((r = cli_opt_value(argc, argv, &i, "--sram", &v))) {
            if (r > 0 && cli_parse_size("--sram", v, &o.sram)) return 2;
        } else if (s[0] == '-' && s[1]) {
            fprintf(stderr, "pexc: prune: unknown option '%s' (see pexc help prune)\n", s);
            return 2;
        } else if (!o.model) o.model = s;
        else {
            fprintf(stderr, "pexc: prune: unexpected argument '%s'\n", s);
            return 2;
        }
        if (r < 0) return 2;
    }
    if (!o.model || (!o.out && !o.groups)) {
        cli_usage(stderr, "prune");
        return 2;
    }
    if (!strcmp(o.method, "gates") && (!o.data || !o.sram)) {
        /* the gates learn which channels matter from the data */
        fprintf(stderr, "pexc: prune: --method gates needs --data FILE and --sram BYTES\n");
        return 2;
    }
    if (strcmp(o.method, "magnitude") && strcmp(o.method, "none") && strcmp(o.method, "gates")) {
        fprintf(stderr, "pexc: prune: --method takes magnitude, gates or none, got '%s'\n", o.method);
        return 2;
    }
    if (!strcmp(o.method, "magnitude") && !o.sram && !o.groups && !o.n_widths) {
        fprintf(stderr, "pexc: prune: --method magnitude needs --sram BYTES, the budget to prune to\n");
        return 2;
    }
    util_err err;
    if (prune_run(&o, stdout, &err)) {
        fprintf(stderr, "pexc: %s\n", err.msg);
        return 1;
    }
    return 0;
}
