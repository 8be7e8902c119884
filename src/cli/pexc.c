/* The pexc executable: the command of src/cli/main.c (also callable from
 * the Python package, which links every other src/cli file). */
#include "cli/cli.h"

int main(int argc, char **argv) { return pexc_cli_main(argc, argv); }
