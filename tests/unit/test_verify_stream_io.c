/*
 * The streamed ends under the plan verifier (src/plan/verify_io.c): plans
 * with streamed output (a ring output, channel-chunk outputs) and chunked
 * input verify, and output pieces handed over out of order, an output
 * chunk written again after it went out, and input chunks asked for out of
 * order are refused.
 */
#include <stdio.h>
#include <string.h>

#include "api/model.h"
#include "sched/stream_io.h"

static pexc_model *open_streamed(const char *path, int in, int out) {
    pexc_model *m = NULL;
    util_err e;
    memset(&e, 0, sizeof e);
    if (pexc_model_open(path, PEXC_SCHEDULE_MIN_SRAM, &m, e.msg, sizeof e.msg) ||
        api_plan_streamed(m, PEXC_SCHEDULE_MIN_SRAM, in, out, 0, &e) ||
        plan_verify_stream_io(&m->g, m->calls, m->plan, &e)) {
        printf("FAIL %s does not open, plan streamed or verify: %s\n", path, e.msg);
        if (m) pexc_model_free(m);
        return NULL;
    }
    return m;
}

/* 1 when the streamed-ends verifier refuses m's plan with a message holding want. */
static int refused(pexc_model *m, const char *want, const char *what) {
    util_err e;
    memset(&e, 0, sizeof e);
    if (plan_verify_stream_io(&m->g, m->calls, m->plan, &e) == 0 || !strstr(e.msg, want)) {
        printf("FAIL %s: %s\n", what, e.msg[0] ? e.msg : "accepted");
        return 0;
    }
    return 1;
}

/* The first step after s that hands a piece of output over. */
static int32_t next_piece_step(const pexc_model *m, int32_t s) {
    plan_out_piece pc[16];
    for (int32_t k = s + 1; k < m->plan->n_steps; k++)
        if (plan_output_pieces(&m->g, m->calls, m->plan, k, pc, 16) > 0) return k;
    return -1;
}

int main(void) {
    int failures = 0;
    /* a ring output: swapping two runs hands the map over out of order */
    pexc_model *m = open_streamed("tests/models/stream/seg_map_cnn.tflite", 1, 1);
    if (!m) return 1;
    int32_t a = next_piece_step(m, -1), b = next_piece_step(m, a);
    if (a < 0 || b < 0) {
        printf("FAIL seg_map_cnn hands over fewer than two pieces\n");
        failures++;
    } else {
        plan_step t = m->plan->steps[a];
        m->plan->steps[a] = m->plan->steps[b];
        m->plan->steps[b] = t;
        failures += !refused(m, "is handed over from element", "ring output runs out of order");
    }
    pexc_model_free(m);
    /* channel chunks: a later step writing the first chunk again keeps it
     * from ever being final, so the output is not all handed over */
    m = open_streamed("tests/models/gen/block_fc_autoencoder.tflite", 0, 1);
    if (!m) return 1;
    a = next_piece_step(m, -1);
    plan_step *last = &m->plan->steps[m->plan->n_steps - 1];
    if (a < 0 || a == m->plan->n_steps - 1) {
        printf("FAIL block_fc_autoencoder's output is not in chunks\n");
        failures++;
    } else {
        last->out = m->plan->steps[a].out;
        failures += !refused(m, "handed over", "an output chunk written after it went out");
    }
    pexc_model_free(m);
    /* input chunks asked for out of order (needs ../shared) */
    FILE *f = fopen("../shared/models/ad_autoencoder_int8.tflite", "rb");
    if (f) {
        fclose(f);
        m = open_streamed("../shared/models/ad_autoencoder_int8.tflite", 1, 1);
        if (!m) return 1;
        int32_t c[2], n = 0;
        for (int32_t i = 0; i < m->plan->n_buffers && n < 2; i++)
            if (plan_input_chunk(&m->g, m->calls, m->plan, i) >= 0) c[n++] = i;
        if (n < 2) {
            printf("FAIL ad_autoencoder's input is not read in chunks\n");
            failures++;
        } else {
            int32_t t = m->plan->buffers[c[0]].c_begin;
            m->plan->buffers[c[0]].c_begin = m->plan->buffers[c[1]].c_begin;
            m->plan->buffers[c[1]].c_begin = t;
            failures += !refused(m, "the caller has given up to", "input chunks out of order");
        }
        pexc_model_free(m);
    }
    if (!failures) printf("test_verify_stream_io: streamed ends checked\n");
    return failures != 0;
}
