/*
 * What the pexc subcommands share: the usage texts and sizes (--sram).
 */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <string.h>

#include "api/model.h"
#include "cli/cli.h"

#define SCHEDULES "default (the least peak within 1.015x the baseline's predicted\n" \
    "                 instructions, to run within 1.05x), min-sram (the least peak),\n" \
    "                 channels or baseline"
#define TARGETS "host (default), cortex-m4, cortex-m7, cortex-m33 or cortex-m55"

static const char *const USAGE_INSPECT =
    "usage: pexc inspect MODEL [--json] [--schedule S] [--sram SIZE] [--svg FILE] [--stream-input]\n"
    "                    [--stream-output]\n"
    "  the schedule step by step (operator, tile, MACs, live bytes), the peak SRAM\n"
    "  and where it sits\n"
    "  --json         the same as JSON (peak_sram_bytes, baseline_peak_sram_bytes, ...)\n"
    "  --svg FILE     memory over time, the baseline beside the chosen schedule\n"
    "  --stream-input plan each input read row by row into a ring as needed (or in\n"
    "                 chunks by a fully-connected layer)\n"
    "  --stream-output plan each output handed over as it is made, not kept whole\n"
    "                 (with --sram, the budget is held to the streamed plan)\n";
static const char *const USAGE_RUN =
    "usage: pexc run MODEL [--input FILE]... [--output FILE]... [--batch N] [--schedule S]\n"
    "                [--sram SIZE] [--keep-state] [--dump-dir DIR] [--stream-input] [--stream-output]\n"
    "  runs the model on raw input bytes (row-major, little-endian)\n"
    "  --input FILE   the input bytes; '-' reads stdin (default: the deterministic input);\n"
    "                 a model with several inputs takes one --input per input, in order\n"
    "  --output FILE  the output bytes; '-' writes stdout (default: print the values, one\n"
    "                 line per output); one --output per output, in order\n"
    "  --batch N      N inputs back to back in, N outputs back to back out\n"
    "  --keep-state   carry operator state (LSTM state) from one input to the next\n"
    "                 (default: each input starts from the initial state)\n"
    "  --dump-dir DIR writes every whole intermediate tensor as DIR/<index>.bin\n"
    "                 (DIR is created when missing)\n"
    "  --stream-input read each input into a ring row by row as the plan needs it\n"
    "  --stream-output write each output file piece by piece as the plan makes it\n";
static const char *const USAGE_COMPILE =
    "usage: pexc compile MODEL -o DIR [--name NAME] [--schedule S] [--sram SIZE]\n"
    "                    [--target T] [--arena static|caller] [--stream-input] [--stream-output]\n"
    "  writes DIR/NAME.h, DIR/NAME.c, the runtime kernel sources they need and\n"
    "  DIR/CMakeLists.txt (a static library target NAME)\n"
    "  -o, --output DIR  the output directory (created when missing)\n"
    "  --name NAME    prefix of the generated functions (macros: NAME in upper case);\n"
    "                 default: the model file's name\n"
    "  --target T     " TARGETS "\n"
    "  --arena A      static (default): one static arena in NAME.c; caller: NAME_run\n"
    "                 takes the arena as its first argument\n"
    "  --stream-input plan with streamed inputs: NAME_run_stream asks a function of\n"
    "                 the caller's for input pixels in raster order as the plan needs them\n"
    "  --stream-output NAME_run_stream hands each output to a function of the\n"
    "                 caller's as the plan makes it (in order, each element once)\n";
static const char *const USAGE_PRUNE =
    "usage: pexc prune MODEL --sram SIZE -o OUT.tflite [--method magnitude|gates|none]\n"
    "                  [--data FILE] [--test FILE] [--format cifar10|idx] [--epochs N]\n"
    "                  [--steps S] [--limit N] [--lr X] [--threads N] [--seed N]\n"
    "                  [--distill] [--teacher FILE] [--temperature T] [--alpha A]\n"
    "                  [--widths W0,W1,...] [--stream-input]\n"
    "  removes whole channels (smallest L1 norm first, in the channel group\n"
    "  where the min-sram peak sits) until the min-sram peak fits SIZE; with\n"
    "  --data, fine-tunes after each stage with quantisation-aware training and\n"
    "  quantises back to int8 (per-channel weights, int32 biases, the model's\n"
    "  activation ranges, input and output kept), then writes the int8 model\n"
    "  -o, --output FILE  the pruned .tflite (written whole or not at all)\n"
    "  --method M     magnitude (default); gates: per-channel gates trained with the\n"
    "                 weights under a penalty on the peak (needs --data); or none:\n"
    "                 write the model back unchanged\n"
    "  --groups       print the channel groups and the min-sram peak a step on each\n"
    "                 would give; write nothing\n"
    "  --data FILE    labelled training images to fine-tune on\n"
    "  --test FILE    labelled test images: report int8 accuracy before and after\n"
    "  --format F     the layout of --data and --test: cifar10 (1 label byte,\n"
    "                 3072 pixel bytes) or idx (FILE is IMAGES,LABELS: two IDX\n"
    "                 files of unsigned bytes, as MNIST ships)\n"
    "  --no-fold      (magnitude) drop cut channels without adding their mean\n"
    "                 output to the next layers' biases (for comparison)\n"
    "  --tune-always  fine-tune even after a stage that removed nothing (a check\n"
    "                 of the training and requantisation path)\n"
    "  --epochs N     quantisation-aware epochs after each stage (default 1)\n"
    "  --steps S      reach the budget in S stages, each fine-tuned (default 1)\n"
    "  --limit N      the first N training records only\n"
    "  --lr X         Adam's peak rate as a fraction of each layer's RMS weight,\n"
    "                 cosine schedule (default 0.003)\n"
    "  --threads N    threads for the training (default 2; the same results for any N)\n"
    "  --seed N       shuffle and augmentation seed (default 1)\n"
    "  --distill      fine-tune against the unpruned model's softened outputs as\n"
    "                 well as the labels (knowledge distillation)\n"
    "  --teacher FILE the model distilled from (default: MODEL itself); implies\n"
    "                 --distill\n"
    "  --temperature T  both softmaxes of the soft term at T (default 4)\n"
    "  --alpha A      the soft term's weight, 1 - A on the labels (default 0.9)\n"
    "  --widths W0,W1,...  cut channel group i (as --groups numbers them) straight\n"
    "                 to its Wi strongest channels instead of searching; a count\n"
    "                 above the group's widens it with channels every consumer\n"
    "                 reads with weight 0 (same outputs; fine-tuning uses them)\n"
    "  --stream-input every peak (the budget, the search, the floor check, --groups\n"
    "                 and --widths reports) is the min-sram plan's with the model\n"
    "                 input streamed, as `pexc compile --stream-input` plans it\n"
    "  --sram SIZE    " PEXC_SIZE_FORMS "\n"
    "  -h, --help     this text\n"
    "Every option also takes the form --option=value.\n";
static const char *const USAGE_COMMON =
    "  --schedule S   " SCHEDULES "\n"
    "  --sram SIZE    the fastest schedule whose peak fits SIZE, or exit 1 naming the\n"
    "                 bottleneck; SIZE is " PEXC_SIZE_FORMS "\n"
    "  -h, --help     this text\n"
    "Every option also takes the form --option=value.\n";

static const char *const USAGE_OPS =
    "usage: pexc ops [--json]\n"
    "  every builtin operator of the TFLite schema: whether pexc compiles it (in\n"
    "  some type) and, when not, why\n";

void cli_usage(FILE *f, const char *cmd) {
    if (cmd && !strcmp(cmd, "ops")) fprintf(f, "%s", USAGE_OPS);
    else if (cmd && !strcmp(cmd, "inspect")) fprintf(f, "%s%s", USAGE_INSPECT, USAGE_COMMON);
    else if (cmd && !strcmp(cmd, "run")) fprintf(f, "%s%s", USAGE_RUN, USAGE_COMMON);
    else if (cmd && !strcmp(cmd, "compile")) fprintf(f, "%s%s", USAGE_COMPILE, USAGE_COMMON);
    else if (cmd && !strcmp(cmd, "prune")) fprintf(f, "%s", USAGE_PRUNE);
    else
        fprintf(f,
                "usage: pexc <command> MODEL [options]\n"
                "       pexc help <command> | pexc <command> --help | pexc --version\n"
                "commands:\n"
                "  inspect MODEL [--json] [--schedule S] [--sram SIZE] [--svg FILE]\n"
                "      the schedule step by step, the peak SRAM and where it sits\n"
                "  run MODEL [--input FILE] [--output FILE] [--batch N] [--schedule S] [--sram SIZE]\n"
                "            [--dump-dir DIR]\n"
                "      runs the model on raw input bytes ('-': stdin / stdout)\n"
                "  compile MODEL -o DIR [--name NAME] [--schedule S] [--sram SIZE] [--target T]\n"
                "                [--arena static|caller] [--stream-input] [--stream-output]\n"
                "      standalone C (NAME.h, NAME.c, runtime kernels, CMakeLists.txt)\n"
                "  prune MODEL --sram SIZE -o OUT.tflite [--data FILE --format cifar10|idx] ...\n"
                "      removes channels where the peak sits until it fits SIZE, fine-tunes\n"
                "  ops [--json]\n"
                "      the TFLite operators pexc compiles, and why the others are left out\n"
                "  train MODEL --data FILE --format cifar10|idx [--epochs N] [--lr X] ...\n"
                "      fine-tunes the dequantised model in float32 (pexc help train)\n"
                "  eval MODEL --data FILE --format cifar10|idx\n"
                "      top-1 accuracy of the float and the int8 model\n"
                "  --schedule S   " SCHEDULES "\n"
                "  --sram SIZE    " PEXC_SIZE_FORMS "\n"
                "  --target T     " TARGETS "\n"
                "Every option also takes the form --option=value.\n");
}

/* The value of option name at argv[*i]: "--name VALUE" or "--name=VALUE".
 * 1 and *val set when argv[*i] is that option, 0 when it is another, -1
 * (reported) when its value is missing. */
int cli_opt_value(int argc, char **argv, int *i, const char *name, const char **val) {
    const char *s = argv[*i];
    size_t n = strlen(name);
    if (strncmp(s, name, n)) return 0;
    if (s[n] == '=') {
        *val = s + n + 1;
        return 1;
    }
    if (s[n]) return 0;
    if (*i + 1 >= argc) {
        fprintf(stderr, "pexc: %s needs a value (see pexc help)\n", name);
        return -1;
    }
    *val = argv[++*i];
    return 1;
}

int cli_is_command(const char *cmd) {
    return cmd && (!strcmp(cmd, "inspect") || !strcmp(cmd, "run") || !strcmp(cmd, "compile") || !strcmp(cmd, "ops") ||
                   !strcmp(cmd, "prune"));
}

int cli_parse_size(const char *opt, const char *s, size_t *out) {
    char err[300];
    if (pexc_parse_size(opt, s, out, err, sizeof err)) {
        fprintf(stderr, "pexc: %s\n", err);
        return -1;
    }
    return 0;
}

int cli_schedule_of(const char *s, pexc_schedule *out) {
    if (pexc_schedule_from_name(s, out)) {
        fprintf(stderr, "pexc: unknown schedule '%s' (default, min-sram, channels or baseline)\n", s);
        return -1;
    }
    return 0;
}
