/*
 * libFuzzer target for the whole compiler: reader -> IR checks -> lowering
 * -> baseline plan -> verifier (all inside pexc_model_open_bytes), then the
 * C emitter into memory, then, for a small model, a run on the host
 * executor and the same again with the min-SRAM schedule (search, row
 * streaming, channel splits).
 *
 * Contract under test: a model is either refused with a one-line message or
 * accepted, emitted and runnable; never a sanitizer report, crash or hang,
 * and never a plan or internal error on a model the front end accepted
 * (those are pexc's bugs, not the model's).
 *
 * Per-input cost under the sanitizers is what limits how much of the input
 * space a run sees, so only small models (FUZZ_SMALL_BYTES of arena and
 * inputs and outputs, FUZZ_SMALL_MACS multiply-accumulates) are run, and
 * searched when they have at most FUZZ_SEARCH_OPS operators; larger ones
 * are still read, lowered, planned, verified and emitted.
 */
#define _POSIX_C_SOURCE 200809L

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/model.h"

#define FUZZ_SMALL_BYTES ((size_t)64 << 10)
#define FUZZ_SMALL_MACS ((int64_t)1 << 20)
/* The min-SRAM search grows with the operator count (an 11-operator
 * residual network at 12x12 takes 2 s natively, over 60 s under the
 * sanitizers on a loaded machine): searched only up to this many. */
#define FUZZ_SEARCH_OPS 8

static int fuzz_io_ok(const pexc_model *m) {
    int ni = pexc_model_num_inputs(m), no = pexc_model_num_outputs(m);
    return ni >= 1 && no >= 1 && ni <= 64 && no <= 64;
}

/* Arena, inputs and outputs within FUZZ_SMALL_BYTES and the plan's MACs
 * within FUZZ_SMALL_MACS. */
static int fuzz_is_small(const pexc_model *m) {
    if (!fuzz_io_ok(m)) return 0;
    size_t total = pexc_model_arena_bytes(m);
    for (int i = 0; i < pexc_model_num_inputs(m); i++) total += pexc_model_input_bytes(m, i);
    for (int i = 0; i < pexc_model_num_outputs(m); i++) total += pexc_model_output_bytes(m, i);
    if (total > FUZZ_SMALL_BYTES) return 0;
    int64_t macs = 0;
    for (int32_t s = 0; s < m->plan->n_steps && macs <= FUZZ_SMALL_MACS; s++)
        macs += plan_step_macs(&m->g, m->calls, &m->plan->steps[s]);
    return macs <= FUZZ_SMALL_MACS;
}

/* A message a user may see: one non-empty line, not an internal check. */
static void fuzz_check_message(const char *msg) {
    if (msg[0] == '\0' || strchr(msg, '\n') != NULL) abort();
    if (strncmp(msg, "plan:", 5) == 0 || strncmp(msg, "internal", 8) == 0) abort();
}

static void fuzz_run(pexc_model *m) {
    int ni = pexc_model_num_inputs(m), no = pexc_model_num_outputs(m);
    const void *ins[64];
    void *outs[64];
    int ok = 1;
    for (int i = 0; i < ni; i++) {
        size_t n = pexc_model_input_bytes(m, i);
        void *p = calloc(1, n ? n : 1);
        ins[i] = p;
        if (!p) ok = 0;
    }
    for (int i = 0; i < no; i++) {
        size_t n = pexc_model_output_bytes(m, i);
        outs[i] = malloc(n ? n : 1);
        if (!outs[i]) ok = 0;
    }
    if (ok) {
        char err[512];
        err[0] = '\0';
        if (pexc_model_run(m, ins, outs, err, sizeof err) != 0) fuzz_check_message(err);
    }
    for (int i = 0; i < ni; i++) free((void *)(uintptr_t)ins[i]);
    for (int i = 0; i < no; i++) free(outs[i]);
}

/* The generated header and source into memory streams: the emitter's
 * whole path (constants, steps, kernel calls) without touching the disk.
 * caller_arena picks the variant whose model_run takes the arena. */
static void fuzz_emit(const pexc_model *m, int caller_arena) {
    char *hb = NULL, *cb = NULL;
    size_t hn = 0, cn = 0;
    FILE *h = open_memstream(&hb, &hn), *c = open_memstream(&cb, &cn);
    if (h && c) {
        emit_options eo = {.name = "fuzz", .model_path = "fuzz.tflite", .schedule = pexc_model_schedule_name(m),
                           .target = "host", .caller_arena = caller_arena};
        util_err e;
        memset(&e, 0, sizeof e);
        if (emit_model(&m->g, m->calls, m->plan, &eo, h, c, &e) != 0) fuzz_check_message(e.msg);
    }
    if (h) fclose(h);
    if (c) fclose(c);
    free(hb);
    free(cb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    pexc_model *m = NULL;
    char err[512];
    err[0] = '\0';
    if (pexc_model_open_bytes(data, size, PEXC_SCHEDULE_BASELINE, &m, err, sizeof err) != 0) {
        /* a refusal comes with exactly one line naming what is wrong */
        if (m != NULL) abort();
        fuzz_check_message(err);
        return 0;
    }
    int caller_arena = size > 0 && (data[size - 1] & 1);
    fuzz_emit(m, caller_arena);
    int small = fuzz_is_small(m);
    if (small) fuzz_run(m);
    int search = small && m->g.n_ops <= FUZZ_SEARCH_OPS;
    pexc_model_free(m);
    if (!search) return 0;

    /* the min-SRAM schedule: its search, split and streamed plans, their
     * emission and their tiled execution, under the same contract */
    if (pexc_model_open_bytes(data, size, PEXC_SCHEDULE_MIN_SRAM, &m, err, sizeof err) != 0) {
        if (m != NULL) abort();
        fuzz_check_message(err);
        return 0;
    }
    fuzz_emit(m, !caller_arena);
    fuzz_run(m);
    pexc_model_free(m);
    return 0;
}
