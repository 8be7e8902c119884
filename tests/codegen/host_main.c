/*
 * Host driver for a model compiled by `pexc compile` (tests/test_codegen.py).
 *
 *   cc -std=c11 -ffp-contract=off -DPEXC_MODEL=<name> -DPEXC_MACRO=<NAME> -I<dir> host_main.c <dir>/<every .c>
 *   ./a.out INPUT.bin OUTPUT.bin
 *
 * INPUT.bin holds the model's inputs back to back (NAME_INPUTi_BYTES each),
 * OUTPUT.bin receives its outputs back to back. The model runs twice and both
 * results must agree: the generated code keeps no state between runs but
 * operator state (NAME_HAS_STATE), which NAME_reset() puts back between the
 * two runs so both start as a fresh TFLM interpreter.
 * Exit status: 0 ok, 1 usage or I/O error, 2 kernel error, 3 runs disagree.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PEXC_STR(x) #x
#define PEXC_XSTR(x) PEXC_STR(x)
#define PEXC_CAT(a, b) a##b
#define PEXC_XCAT(a, b) PEXC_CAT(a, b)
#define M(suffix) PEXC_XCAT(PEXC_MODEL, suffix)
/* macros are the name in upper case: -DPEXC_MACRO=<NAME> */
#ifndef PEXC_MACRO
#error "build with -DPEXC_MODEL=<name> -DPEXC_MACRO=<NAME in upper case>"
#endif
#define U(suffix) PEXC_XCAT(PEXC_MACRO, suffix)

#include PEXC_XSTR(PEXC_MODEL.h)

/* -DPEXC_CALLER_ARENA: the model was compiled with --arena caller */
#ifdef PEXC_CALLER_ARENA
static uint8_t arena[U(_ARENA_BYTES)] __attribute__((aligned(U(_ARENA_ALIGN))));
#define ARENA arena,
#else
#define ARENA
#endif

/* a model with operator state (NAME_HAS_STATE) runs each time from its
 * initial state, so that repeated runs must agree */
#if U(_HAS_STATE)
#ifdef PEXC_CALLER_ARENA
#define RESET M(_reset)(arena)
#else
#define RESET M(_reset)()
#endif
#endif

static const size_t in_bytes[] = {
#define X(i) U(_INPUT##i##_BYTES)
    X(0),
#if U(_NUM_INPUTS) > 1
    X(1),
#endif
#if U(_NUM_INPUTS) > 2
    X(2),
#endif
#if U(_NUM_INPUTS) > 3
    X(3),
#endif
#undef X
};
static const size_t out_bytes[] = {
#define X(i) U(_OUTPUT##i##_BYTES)
    X(0),
#if U(_NUM_OUTPUTS) > 1
    X(1),
#endif
#if U(_NUM_OUTPUTS) > 2
    X(2),
#endif
#if U(_NUM_OUTPUTS) > 3
    X(3),
#endif
#undef X
};

#if U(_NUM_INPUTS) > 4 || U(_NUM_OUTPUTS) > 4
#error "host_main.c handles up to 4 inputs and 4 outputs"
#endif

int main(int argc, char **argv) {
    enum { NI = U(_NUM_INPUTS), NO = U(_NUM_OUTPUTS) };
    if (argc != 3) {
        fprintf(stderr, "usage: %s INPUT.bin OUTPUT.bin\n", argv[0]);
        return 1;
    }
    size_t ti = 0, to = 0;
    for (int i = 0; i < NI; i++) ti += in_bytes[i];
    for (int i = 0; i < NO; i++) to += out_bytes[i];
    unsigned char *in = malloc(ti + 1), *out = malloc(to + 1), *out2 = malloc(to + 1);
    if (!in || !out || !out2) return 1;
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", argv[1]);
        return 1;
    }
    size_t got = fread(in, 1, ti + 1, f);
    fclose(f);
    if (got != ti) {
        fprintf(stderr, "%s: %zu bytes, expected %zu\n", argv[1], got, ti);
        return 1;
    }
    const void *ins[NI];
    void *outs[NO], *outs2[NO];
    for (size_t i = 0, at = 0; i < NI; at += in_bytes[i], i++) ins[i] = in + at;
    for (size_t i = 0, at = 0; i < NO; at += out_bytes[i], i++) {
        outs[i] = out + at;
        outs2[i] = out2 + at;
    }
    memset(out2, 0x5a, to);
    int rc = M(_run_io)(ARENA ins, outs);
    if (rc) {
        fprintf(stderr, "run failed: kernel status %d\n", rc);
        return 2;
    }
#ifdef RESET
    RESET;
#endif
    rc = M(_run_io)(ARENA ins, outs2);
    if (rc || memcmp(out, out2, to)) {
        fprintf(stderr, "second run differs (status %d)\n", rc);
        return 3;
    }
#if U(_NUM_INPUTS) == 1 && U(_NUM_OUTPUTS) == 1
    /* the single-tensor entry point must agree too */
    memset(out2, 0xa5, to);
#ifdef RESET
    RESET;
#endif
    if (M(_run)(ARENA in, out2) || memcmp(out, out2, to)) {
        fprintf(stderr, "NAME_run differs from NAME_run_io\n");
        return 3;
    }
#endif
    f = fopen(argv[2], "wb");
    if (!f || fwrite(out, 1, to, f) != to || fclose(f)) {
        fprintf(stderr, "%s: cannot write\n", argv[2]);
        return 1;
    }
    free(in);
    free(out);
    free(out2);
    return 0;
}
