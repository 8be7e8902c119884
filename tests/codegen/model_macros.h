/*
 * The generated model's names for a test driver built with
 * -DPEXC_MODEL=<name> -DPEXC_MACRO=<NAME in upper case>: M(_run_stream) is
 * <name>_run_stream, U(_ARENA_BYTES) is <NAME>_ARENA_BYTES; includes
 * <name>.h.
 */
#ifndef PEXC_TEST_MODEL_MACROS_H
#define PEXC_TEST_MODEL_MACROS_H

#define PEXC_STR(x) #x
#define PEXC_XSTR(x) PEXC_STR(x)
#define PEXC_CAT(a, b) a##b
#define PEXC_XCAT(a, b) PEXC_CAT(a, b)
#ifndef PEXC_MACRO
#error "build with -DPEXC_MODEL=<name> -DPEXC_MACRO=<NAME in upper case>"
#endif
#define M(suffix) PEXC_XCAT(PEXC_MODEL, suffix)
#define U(suffix) PEXC_XCAT(PEXC_MACRO, suffix)

#include PEXC_XSTR(PEXC_MODEL.h)

#endif
