/*
 * Firmware driver for a model compiled by `pexc compile --stream-input`,
 * run on an emulated Cortex-M by ../shared/mcu/mcu-run
 * (tests/test_stream_compile_m4.py):
 *
 *   mcu-run mps2-an386 mcu_stream_main.c input.c <dir>/<every .c> -I<dir>
 *           -DPEXC_MODEL=<name> -DPEXC_MACRO=<NAME> -ffp-contract=off
 *
 * input.c defines pexc_test_input[] in flash: the stand-in for a sensor,
 * read pixel run by pixel run through NAME_run_stream's callback, which
 * checks each request starts where the last ended. Prints over semihosting
 *
 *   out <hex bytes of the output>
 *   calls <requests>
 *   pixels <pixels delivered>
 *
 * Built with -DPEXC_STREAM_OUT (compiled with --stream-output too), the
 * output arrives through the write callback, which checks each piece starts
 * where the last ended, and the driver also prints "writes <pieces>".
 * Exit status: 0 ok, 2 run failed (status printed), 3 a request out of order.
 */
#include <stdint.h>
#include <string.h>

#include "mcu.h"
#include "mcu_hex.h"

#include "model_macros.h"

#if U(_NUM_INPUTS) != 1 || U(_NUM_OUTPUTS) != 1
#error "mcu_stream_main.c handles one input and one output"
#endif

extern const uint8_t pexc_test_input[];

static uint8_t output[U(_OUTPUT0_BYTES)] __attribute__((aligned(8)));

typedef struct {
    int32_t next;
    uint32_t calls;
    int bad;
} sensor;

static int sensor_read(void *ctx, int input, int32_t first_px, int32_t n_px, void *dst) {
    sensor *s = (sensor *)ctx;
    s->calls++;
    if (input != 0 || first_px != s->next || n_px <= 0 || first_px + n_px > U(_INPUT0_PIXELS)) {
        s->bad = 1;
        return 99;
    }
    memcpy(dst, pexc_test_input + (uint32_t)first_px * U(_INPUT0_PIXEL_BYTES),
           (uint32_t)n_px * U(_INPUT0_PIXEL_BYTES));
    s->next = first_px + n_px;
    return 0;
}

#ifdef PEXC_STREAM_OUT
typedef struct {
    sensor s;
    int32_t next; /* the output element the next piece must start at */
    uint32_t writes;
    int bad;
} both;

static int both_read(void *ctx, int input, int32_t first_px, int32_t n_px, void *dst) {
    return sensor_read(&((both *)ctx)->s, input, first_px, n_px, dst);
}

static int sink_write(void *ctx, int out_i, int32_t first, int32_t n, const void *src) {
    both *b = (both *)ctx;
    b->writes++;
    if (out_i != 0 || first != b->next || n <= 0 || first + n > U(_OUTPUT0_ELEMS)) {
        b->bad = 1;
        return 98;
    }
    memcpy(output + (uint32_t)first * U(_OUTPUT0_ELEM_BYTES), src, (uint32_t)n * U(_OUTPUT0_ELEM_BYTES));
    b->next = first + n;
    return 0;
}
#endif

/* "label value\n" over semihosting */
static void say(const char *label, int32_t v) {
    mcu_puts(label);
    mcu_print_i32(v);
    mcu_puts("\n");
}

int main(void) {
    sensor s = {0, 0, 0};
#ifdef PEXC_STREAM_OUT
    both io = {{0, 0, 0}, 0, 0, 0};
    mcu_region_begin();
    int rc = M(_run_stream)(both_read, sink_write, &io);
    mcu_region_end();
    s = io.s;
    if (io.bad || (rc == 0 && io.next != U(_OUTPUT0_ELEMS))) return 3;
#else
    void *outs[1] = {output};
    mcu_region_begin();
    int rc = M(_run_stream)(sensor_read, &s, outs);
    mcu_region_end();
#endif
    if (s.bad) return 3;
    if (rc) {
        say("run status ", rc);
        return 2;
    }
    mcu_puts("out ");
    print_hex(output, sizeof output);
    say("\ncalls ", (int32_t)s.calls);
    say("pixels ", s.next);
#ifdef PEXC_STREAM_OUT
    say("writes ", (int32_t)io.writes);
#endif
    return 0;
}
