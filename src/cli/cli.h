/* What the pexc subcommands share (src/cli/args.c). */
#ifndef PEXC_CLI_H
#define PEXC_CLI_H

#include <stddef.h>
#include <stdio.h>

#include "pexc.h"

/* Usage of one command ("inspect", "run", "compile"), or of pexc (NULL). */
void cli_usage(FILE *f, const char *cmd);
int cli_is_command(const char *cmd);
/* The value of option name at argv[*i]: "--name VALUE" or "--name=VALUE".
 * 1 and *val set when argv[*i] is that option, 0 when it is another, -1
 * (reported) when its value is missing. */
int cli_opt_value(int argc, char **argv, int *i, const char *name, const char **val);
/* A size option: digits, optionally K/k/KiB (x 1024) or M/MiB (x 1048576);
 * at most 4 GiB. Prints the error (naming opt and the accepted forms) and
 * returns -1 when s is not one. */
int cli_parse_size(const char *opt, const char *s, size_t *out);
/* A whole number in [lo, hi] for option opt (train.c); -1 reported. */
int cli_parse_long(const char *opt, const char *v, long lo, long hi, long *out);

/* --schedule's value; -1 (reported) when it is none of the three. */
int cli_schedule_of(const char *s, pexc_schedule *out);

int cli_compile(int argc, char **argv);
/* pexc train and pexc eval (train.c); the usage of either, NULL for others. */
int cli_train(int argc, char **argv);
int cli_eval(int argc, char **argv);
const char *cli_train_usage(const char *cmd);
int cli_prune(int argc, char **argv);
/* The whole command (argv[0] is the program); its exit status. */
int pexc_cli_main(int argc, char **argv);
int cli_write_svg(const char *path, const pexc_model *m, const char *title);

#endif
