/*
 * Host driver for a model compiled by `pexc compile --stream-input`
 * (tests/test_stream_compile.py): the input file stands in for a sensor,
 * read through NAME_run_stream's callback.
 *
 *   cc -std=c11 -ffp-contract=off -DPEXC_MODEL=<name> -DPEXC_MACRO=<NAME> -I<dir> stream_main.c <dir>/<every .c>
 *   ./a.out INPUT.bin OUTPUT.bin [FAIL_CALL STATUS]
 *
 * The callback checks that each input's pixels are asked for in raster
 * order, each once, inside the input, and prints per input "input I: C
 * calls, P of T pixels". With FAIL_CALL, its FAIL_CALL-th call (from 1)
 * returns STATUS instead, and the driver prints "run status S" and exits 4
 * when the run returns S != 0. The streamed outputs must equal
 * NAME_run_io's on the whole input (from the same initial state: a model with
 * operator state, an LSTM's, is reset between the two runs).
 * Built with -DPEXC_STREAM_OUT (a model compiled with --stream-output too),
 * the output arrives through NAME_run_stream's write callback, which checks
 * each piece starts where the last ended and prints "output 0: W writes,
 * E of T elements"; FAIL_CALL written wN makes the N-th write return STATUS.
 * Exit status: 0 ok, 1 usage or I/O error, 2 run failed, 3 disagreement or
 * a request out of order, 4 the run stopped with the printed status.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_macros.h"

#if U(_NUM_INPUTS) != 1 || U(_NUM_OUTPUTS) != 1
#error "stream_main.c handles one input and one output"
#endif

typedef struct {
    const unsigned char *data; /* the whole input, as the sensor would deliver it */
    int32_t next;              /* the pixel the next request must start at */
    long calls, fail_call;
    int fail_status, bad;
} sensor;

static int sensor_read(void *ctx, int input, int32_t first_px, int32_t n_px, void *dst) {
    sensor *s = (sensor *)ctx;
    s->calls++;
    if (s->fail_call && s->calls == s->fail_call) return s->fail_status;
    if (input != 0 || first_px != s->next || n_px <= 0 || (int64_t)first_px + n_px > U(_INPUT0_PIXELS)) {
        fprintf(stderr, "request %ld: input %d pixels [%d, %d) (expected from %d, of %d)\n", s->calls, input,
                (int)first_px, (int)(first_px + n_px), (int)s->next, (int)U(_INPUT0_PIXELS));
        s->bad = 1;
        return 99;
    }
    memcpy(dst, s->data + (size_t)first_px * U(_INPUT0_PIXEL_BYTES), (size_t)n_px * U(_INPUT0_PIXEL_BYTES));
    s->next = first_px + n_px;
    return 0;
}

#ifdef PEXC_STREAM_OUT
typedef struct {
    unsigned char *out;
    int32_t next; /* the element the next piece must start at */
    long calls, fail_call;
    int fail_status, bad;
} sink;

static int sink_write(void *ctx, int output, int32_t first, int32_t n, const void *src) {
    sink *k = (sink *)ctx;
    k->calls++;
    if (k->fail_call && k->calls == k->fail_call) return k->fail_status;
    if (output != 0 || first != k->next || n <= 0 || (int64_t)first + n > U(_OUTPUT0_ELEMS)) {
        fprintf(stderr, "write %ld: output %d elements [%d, %d) (expected from %d, of %d)\n", k->calls, output,
                (int)first, (int)(first + n), (int)k->next, (int)U(_OUTPUT0_ELEMS));
        k->bad = 1;
        return 98;
    }
    memcpy(k->out + (size_t)first * U(_OUTPUT0_ELEM_BYTES), src, (size_t)n * U(_OUTPUT0_ELEM_BYTES));
    k->next = first + n;
    return 0;
}

/* Both callbacks see one context. */
typedef struct {
    sensor s;
    sink k;
} both;

static int both_read(void *ctx, int input, int32_t first_px, int32_t n_px, void *dst) {
    return sensor_read(&((both *)ctx)->s, input, first_px, n_px, dst);
}

static int both_write(void *ctx, int output, int32_t first, int32_t n, const void *src) {
    return sink_write(&((both *)ctx)->k, output, first, n, src);
}
#endif

int main(int argc, char **argv) {
    if (argc != 3 && argc != 5) {
        fprintf(stderr, "usage: %s INPUT.bin OUTPUT.bin [FAIL_CALL STATUS]\n", argv[0]);
        return 1;
    }
    static unsigned char in[U(_INPUT0_BYTES) + 1], out[U(_OUTPUT0_BYTES)], out2[U(_OUTPUT0_BYTES)];
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", argv[1]);
        return 1;
    }
    size_t got = fread(in, 1, sizeof in, f);
    fclose(f);
    if (got != U(_INPUT0_BYTES)) {
        fprintf(stderr, "%s: %zu bytes, expected %zu\n", argv[1], got, (size_t)U(_INPUT0_BYTES));
        return 1;
    }
    int fail_write = argc == 5 && argv[3][0] == 'w';
    sensor s = {in, 0, 0, argc == 5 && !fail_write ? atol(argv[3]) : 0, argc == 5 ? atoi(argv[4]) : 0, 0};
#ifdef PEXC_STREAM_OUT
    both io = {s, {out, 0, 0, fail_write ? atol(argv[3] + 1) : 0, argc == 5 ? atoi(argv[4]) : 0, 0}};
    int rc = M(_run_stream)(both_read, both_write, &io);
    s = io.s;
    printf("output 0: %ld writes, %d of %d elements\n", io.k.calls, (int)io.k.next, (int)U(_OUTPUT0_ELEMS));
    if (io.k.bad) return 3;
#else
    void *outs[1] = {out};
    int rc = M(_run_stream)(sensor_read, &s, outs);
#endif
    printf("input 0: %ld calls, %d of %d pixels\n", s.calls, (int)s.next, (int)U(_INPUT0_PIXELS));
    if (s.bad) return 3;
    if (rc) {
        printf("run status %d\n", rc);
        return s.fail_call || fail_write ? 4 : 2;
    }
#if U(_HAS_STATE)
    M(_reset)(); /* an LSTM's state carries across runs: the second starts from the initial one too */
#endif
    if (M(_run)(in, out2) || memcmp(out, out2, sizeof out)) {
        fprintf(stderr, "NAME_run on the whole input differs from NAME_run_stream\n");
        return 3;
    }
    f = fopen(argv[2], "wb");
    if (!f || fwrite(out, 1, sizeof out, f) != sizeof out || fclose(f)) {
        fprintf(stderr, "%s: cannot write\n", argv[2]);
        return 1;
    }
    return 0;
}
