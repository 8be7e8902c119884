/*
 * Firmware driver for a model compiled by `pexc compile`, built and run on an
 * emulated Cortex-M by ../shared/mcu/mcu-run (tests/test_codegen.py,
 * bench/m4.py):
 *
 *   mcu-run mps2-an386 mcu_main.c input.c <dir>/<every .c> -I<dir>
 *           -DPEXC_MODEL=<name> -DPEXC_MACRO=<NAME> -ffp-contract=off
 *
 * input.c (generated per model) defines pexc_test_input[]: the inputs back to
 * back. The firmware paints the unused thread stack, runs NAME_run_io() once
 * inside an instruction-count region, and prints over semihosting:
 *
 *   out <hex bytes of the outputs, back to back>
 *   stack <peak thread-stack bytes used by the whole program so far>
 *   base <thread-stack bytes in use when main calls NAME_run_io>
 *
 * so that stack - base is what the run itself took (the header's bound).
 *
 * Exit status: 0 ok, 2 kernel error (status printed), 3 stack paint lost.
 */
#include <stdint.h>
#include <string.h>

#include "mcu.h"
#include "mcu_hex.h"

#define PEXC_STR(x) #x
#define PEXC_XSTR(x) PEXC_STR(x)
#define PEXC_CAT(a, b) a##b
#define PEXC_XCAT(a, b) PEXC_CAT(a, b)
#define M(suffix) PEXC_XCAT(PEXC_MODEL, suffix)
/* macros are the name in upper case: -DPEXC_MACRO=<NAME> */
#define U(suffix) PEXC_XCAT(PEXC_MACRO, suffix)

#include PEXC_XSTR(PEXC_MODEL.h)

/* -DPEXC_CALLER_ARENA: the model was compiled with --arena caller */
#ifdef PEXC_CALLER_ARENA
static uint8_t arena[U(_ARENA_BYTES)] __attribute__((aligned(U(_ARENA_ALIGN))));
#define ARENA arena,
#else
#define ARENA
#endif

#if U(_NUM_INPUTS) > 4 || U(_NUM_OUTPUTS) > 4
#error "mcu_main.c handles up to 4 inputs and 4 outputs"
#endif

extern const uint8_t pexc_test_input[];

static const uint32_t in_bytes[] = {
    U(_INPUT0_BYTES),
#if U(_NUM_INPUTS) > 1
    U(_INPUT1_BYTES),
#endif
#if U(_NUM_INPUTS) > 2
    U(_INPUT2_BYTES),
#endif
#if U(_NUM_INPUTS) > 3
    U(_INPUT3_BYTES),
#endif
};
static const uint32_t out_bytes[] = {
    U(_OUTPUT0_BYTES),
#if U(_NUM_OUTPUTS) > 1
    U(_OUTPUT1_BYTES),
#endif
#if U(_NUM_OUTPUTS) > 2
    U(_OUTPUT2_BYTES),
#endif
#if U(_NUM_OUTPUTS) > 3
    U(_OUTPUT3_BYTES),
#endif
};

#define OUT_TOTAL (sizeof out_bytes / sizeof out_bytes[0] > 1 ? 4096 : U(_OUTPUT0_BYTES))
static uint8_t output[OUT_TOTAL] __attribute__((aligned(8)));

/* ---- stack painting --------------------------------------------------
 * The thread stack spans [__stack_limit__, __thread_stack_top__) (see
 * mcu/ld/cortexm-sections.ld). Every word below the current stack pointer
 * (minus a margin for this function's own frame) is filled with a pattern;
 * afterwards the lowest overwritten word marks the deepest the stack went. */
extern uint32_t __stack_limit__[], __thread_stack_top__[];
#define PAINT 0xC0DEFACEu

static inline uintptr_t current_sp(void) {
    uintptr_t sp;
    __asm__ volatile("mov %0, sp" : "=r"(sp));
    return sp;
}

__attribute__((noinline)) static void paint_stack(void) {
    uint32_t *lo = __stack_limit__;
    uint32_t *hi = (uint32_t *)(current_sp() - 64);
    for (volatile uint32_t *p = lo; p < hi; p++) *p = PAINT;
}

__attribute__((noinline)) static uint32_t stack_used(void) {
    uint32_t *p = __stack_limit__;
    while (p < __thread_stack_top__ && *p == PAINT) p++;
    return (uint32_t)((uintptr_t)__thread_stack_top__ - (uintptr_t)p);
}

int main(void) {
    enum { NI = U(_NUM_INPUTS), NO = U(_NUM_OUTPUTS) };
    const void *ins[NI];
    void *outs[NO];
    uint32_t at = 0, total = 0;
    for (int i = 0; i < NI; i++) {
        ins[i] = pexc_test_input + at;
        at += in_bytes[i];
    }
    for (int i = 0; i < NO; i++) {
        outs[i] = output + total;
        total += out_bytes[i];
    }
    if (total > sizeof output) return 4;
    paint_stack();
    const uint32_t base = (uint32_t)((uintptr_t)__thread_stack_top__ - current_sp());
    mcu_region_begin();
    int rc = M(_run_io)(ARENA ins, outs);
    mcu_region_end();
    uint32_t stack = stack_used();
    if (rc) {
        mcu_puts("kernel status ");
        mcu_print_i32(rc);
        mcu_puts("\n");
        return 2;
    }
    mcu_puts("out ");
    print_hex(output, total);
    mcu_puts("\nstack ");
    mcu_print_u32(stack);
    mcu_puts("\nbase ");
    mcu_print_u32(base);
    mcu_puts("\n");
    return 0;
}
