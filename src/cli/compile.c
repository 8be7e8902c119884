/*
 * pexc compile: the command line of pexc_compile (src/api/compile.c).
 *
 *   pexc compile MODEL -o DIR [--name NAME] [--schedule default|min-sram|channels|baseline]
 *                [--sram BYTES] [--target host|cortex-m4|cortex-m7|cortex-m33|cortex-m55]
 *                [--arena static|caller] [--stream-input] [--stream-output]
 *
 * Errors: one line on stderr, exit status 1 (2 for usage errors).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "pexc.h"

int cli_compile(int argc, char **argv) {
    const char *model = NULL, *out_dir = NULL, *schedule = NULL;
    pexc_compile_options o = {.schedule = PEXC_SCHEDULE_DEFAULT};
    for (int i = 1; i < argc; i++) {
        const char *s = argv[i], *v = NULL;
        int r = 0;
        if (!strcmp(s, "--help") || !strcmp(s, "-h")) {
            cli_usage(stdout, "compile");
            return 0;
        }
        if ((r = cli_opt_value(argc, argv, &i, "-o", &v)) || (r = cli_opt_value(argc, argv, &i, "--output", &v))) {
            out_dir = v;
        } else if ((r = cli_opt_value(argc, argv, &i, "--name", &v))) {
            o.name = v;
        } else if ((r = cli_opt_value(argc, argv, &i, "--schedule", &v))) {
            schedule = v;
        } else if ((r = cli_opt_value(argc, argv, &i, "--target", &v))) {
            o.target = v;
        } else if ((r = cli_opt_value(argc, argv, &i, "--arena", &v))) {
            o.arena = v;
        } else if ((r = cli_opt_value(argc, argv, &i, "--sram", &v))) {
            if (r > 0 && cli_parse_size("--sram", v, &o.sram_budget)) return 2;
        } else if (!strcmp(s, "--stream-input")) {
            o.stream_input = 1;
        } else if (!strcmp(s, "--stream-output")) {
            o.stream_output = 1;
        } else if (s[0] == '-' && s[1]) {
            fprintf(stderr, "pexc: compile: unknown option '%s' (see pexc help compile)\n", s);
            return 2;
        } else if (!model) model = s;
        else {
            fprintf(stderr, "pexc: compile: unexpected argument '%s'\n", s);
            return 2;
        }
        if (r < 0) return 2;
    }
    if (!model || !out_dir) {
        cli_usage(stderr, "compile");
        return 2;
    }
    if (schedule && cli_schedule_of(schedule, &o.schedule)) return 2;
    char summary[9000], err[1000];
    int r = pexc_compile(model, out_dir, &o, summary, sizeof summary, NULL, err, sizeof err);
    if (r) {
        fprintf(stderr, "pexc: %s\n", err);
        return r == -2 ? 2 : 1;
    }
    printf("%s\n", summary);
    return 0;
}
