/*
 * pexc prune: the command line of the pruner (src/prune/prune.c).
 *
 *   pexc prune MODEL --sram BYTES -o OUT.tflite [--method magnitude|none]
 *              [--test FILE --format cifar10]
 *   pexc prune MODEL --groups
 *
 * Errors: one line on stderr, exit status 1 (2 for usage errors).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "prune/prune.h"

int cli_prune(int argc, char **argv) {
    prune_options o = {.method = "magnitude"};
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i], *v = NULL;
        int r = 0;
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            cli_usage(stdout, "prune");
            return 0;
        }
        if (!strcmp(s, "--groups")) {
            o.groups = 1;
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
    if (strcmp(o.method, "magnitude") && strcmp(o.method, "none")) {
        fprintf(stderr, "pexc: prune: --method takes magnitude or none, got '%s'\n", o.method);
        return 2;
    }
    if (!strcmp(o.method, "magnitude") && !o.sram && !o.groups) {
        fprintf(stderr, "pexc: prune: --method magnitude needs --sram BYTES, the budget to prune to\n");
        return 2;
    }
    if (o.data) {
        /* fine-tuning data: the training engine (src/train) is not part of
         * this build yet, and pruning without it must not pretend to use it */
        fprintf(stderr, "pexc: prune: --data (fine-tuning) needs the training engine, which this build lacks; "
                        "use --test FILE to measure accuracy\n");
        return 1;
    }
    util_err err;
    if (prune_run(&o, stdout, &err)) {
        fprintf(stderr, "pexc: %s\n", err.msg);
        return 1;
    }
    return 0;
}
