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
 * checks each request starts where the last ended. An input given as
 * channel planes (NAME_INPUT0_PLANES > 0, mobilenet_v2's NCHW input) is
 * asked for a run of each plane in turn: the callback checks, per plane,
 * that each request starts where that plane's last ended, that the planes
 * of a run come in order with one length, and serves the bytes from the
 * array's [C, H, W] layout. Prints over semihosting
 *
 *   out <hex bytes of the output>
 *   calls <requests>
 *   pixels <pixels delivered (planar: positions every plane delivered)>
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

/* The request's unit: an element of one plane, or a whole pixel (one plane
 * of all the pixels). */
#if U(_INPUT0_PLANES) > 0
#define PLANES U(_INPUT0_PLANES)
#define PLANE_UNITS U(_INPUT0_PLANE_PIXELS)
#define UNIT_BYTES 1
#else
#define PLANES 1
#define PLANE_UNITS U(_INPUT0_PIXELS)
#define UNIT_BYTES U(_INPUT0_PIXEL_BYTES)
#endif

typedef struct {
    int32_t next[PLANES]; /* per plane: the unit the next request must start at */
    int32_t plane, run;   /* the plane the next request must be of, the run's length */
    uint32_t calls;
    int bad;
} sensor;

static int sensor_read(void *ctx, int input, int32_t first_px, int32_t n_px, void *dst) {
    sensor *s = (sensor *)ctx;
    s->calls++;
    int32_t k = first_px / PLANE_UNITS, q = first_px % PLANE_UNITS;
    if (input != 0 || first_px < 0 || n_px <= 0 || k != s->plane || q != s->next[k] || q + n_px > PLANE_UNITS ||
        (k > 0 && n_px != s->run)) {
        s->bad = 1;
        return 99;
    }
    memcpy(dst, pexc_test_input + (uint32_t)first_px * UNIT_BYTES, (uint32_t)n_px * UNIT_BYTES);
    s->next[k] = q + n_px;
    s->run = n_px;
    s->plane = (k + 1) % PLANES;
    return 0;
}

/* The pixels every plane has delivered. */
static int32_t delivered(const sensor *s) {
    int32_t least = s->next[0];
    for (int k = 1; k < PLANES; k++)
        if (s->next[k] < least) least = s->next[k];
    return least;
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
    sensor s = {{0}, 0, 0, 0, 0};
#ifdef PEXC_STREAM_OUT
    both io = {{{0}, 0, 0, 0, 0}, 0, 0, 0};
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
    say("pixels ", delivered(&s));
#ifdef PEXC_STREAM_OUT
    say("writes ", (int32_t)io.writes);
#endif
    return 0;
}
