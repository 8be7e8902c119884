/*
 * The plan verifier on a streamed sequence: two stacked LSTMs feeding a
 * fully-connected layer through a reshape (tests/models/seq/lstm_stack_int8),
 * two time steps per step, the LSTMs' outputs in rings. The plan must
 * verify; then one thing at a time is broken and the verifier must refuse
 * it with the right reason:
 *   - two time steps of an LSTM swapped (its state would carry backwards);
 *   - a time step run twice;
 *   - the ring between the two LSTMs one pixel short (a step then no
 *     longer fits it);
 *   - the fully-connected layer reading a time step before the LSTM makes it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/model.h"

static int failures;

static void expect_fail(const pexc_model *m, const plan_t *p, const char *what, const char *needle1,
                        const char *needle2) {
    util_err e;
    memset(&e, 0, sizeof e);
    if (plan_verify(&m->g, m->calls, p, &e) == 0) {
        printf("FAIL %s: the verifier accepted it\n", what);
        failures++;
    } else if (!strstr(e.msg, needle1) && !(needle2 && strstr(e.msg, needle2))) {
        printf("FAIL %s: refused for another reason: %s\n", what, e.msg);
        failures++;
    } else {
        printf("ok   %s: %s\n", what, e.msg);
    }
}

/* The first and the second step of call c (-1: none). */
static void steps_of(const plan_t *p, int32_t c, int32_t *a, int32_t *b) {
    *a = *b = -1;
    for (int32_t s = 0; s < p->n_steps; s++)
        if (p->steps[s].call == c && p->steps[s].mode == STEP_FULL) {
            if (*a < 0) *a = s;
            else if (*b < 0) *b = s;
        }
}

int main(void) {
    const char *path = getenv("PEXC_VERIFY_SEQ_MODEL");
    if (!path) path = "tests/models/seq/lstm_stack_int8.tflite";
    pexc_model *m = NULL;
    char err[512];
    if (pexc_model_open(path, PEXC_SCHEDULE_BASELINE, &m, err, sizeof err)) {
        printf("FAIL cannot open %s: %s\n", path, err);
        return 1;
    }
    /* LSTM, LSTM, RESHAPE, FULLY_CONNECTED streamed two time steps a step,
     * fixed so the test does not depend on what the search picks */
    static plan_t plan;
    plan_t *p = &plan;
    util_err e;
    memset(&e, 0, sizeof e);
    plan_segment seg = {0, m->g.n_ops - 1, 1, 2, 0};
    if (sched_build(&m->g, m->calls, NULL, &seg, 1, p, &m->g.arena, &e) || plan_memory(p, &m->g.arena, &e) ||
        plan_verify(&m->g, m->calls, p, &e)) {
        printf("FAIL the streamed plan of %s does not verify: %s\n", path, e.msg);
        return 1;
    }
    int32_t lstm0 = p->order[0], lstm1 = p->order[1], rings = 0;
    for (int32_t i = 0; i < p->n_buffers; i++) rings += p->buffers[i].kind == BUF_RING;
    if (rings != 2 || p->n_steps < 10) {
        printf("FAIL expected two rings and a step per two time steps; %d rings, %d steps\n", rings, p->n_steps);
        return 1;
    }
    size_t nb = sizeof(plan_buffer) * (size_t)p->n_buffers, ns = sizeof(plan_step) * (size_t)p->n_steps;
    plan_buffer *bufs = malloc(nb);
    plan_step *steps = malloc(ns);
    if (!bufs || !steps) return 1;
    memcpy(bufs, p->buffers, nb);
    memcpy(steps, p->steps, ns);

    /* 1. the first LSTM's first two steps swapped in time */
    int32_t a, b;
    steps_of(p, lstm0, &a, &b);
    if (a < 0 || b < 0) {
        printf("FAIL the first LSTM has fewer than two steps\n");
        return 1;
    }
    pexc_tile ta = p->steps[a].tile;
    p->steps[a].tile = p->steps[b].tile;
    p->steps[b].tile = ta;
    expect_fail(m, p, "time steps swapped", "sequence operator", NULL);
    memcpy(p->steps, steps, ns);

    /* 2. a time step run twice */
    p->steps[b].tile = p->steps[a].tile;
    expect_fail(m, p, "time step repeated", "sequence operator", "second time");
    memcpy(p->steps, steps, ns);

    /* 3. the ring between the LSTMs one pixel short, its views agreeing */
    int32_t r = p->steps[a].out.buf;
    p->buffers[r].ring_px--;
    for (int32_t s = 0; s < p->n_steps; s++) {
        plan_view *v[3] = {&p->steps[s].in[0], &p->steps[s].in[1], &p->steps[s].out};
        for (int k = 0; k < 3; k++)
            if (v[k]->buf == r && v[k]->ring_px) v[k]->ring_px = p->buffers[r].ring_px;
    }
    expect_fail(m, p, "ring one pixel short", "ring", "outside its buffer");
    memcpy(p->buffers, bufs, nb);
    memcpy(p->steps, steps, ns);

    /* 4. the consumer's first partial sums moved before the second LSTM's
     * first step */
    int32_t c1, c2, acc = -1;
    steps_of(p, lstm1, &c1, &c2);
    for (int32_t s = c1 + 1; s < p->n_steps && acc < 0; s++)
        if (p->steps[s].mode == STEP_ACC) acc = s;
    if (c1 < 0 || acc < 0) {
        printf("FAIL no second LSTM step followed by partial sums\n");
        return 1;
    }
    plan_step t = p->steps[acc];
    memmove(&p->steps[c1 + 1], &p->steps[c1], sizeof(plan_step) * (size_t)(acc - c1));
    p->steps[c1] = t;
    expect_fail(m, p, "consumer before its time steps", "before it is written", "outside its life");
    memcpy(p->steps, steps, ns);

    if (plan_verify(&m->g, m->calls, p, &e)) {
        printf("FAIL the restored plan no longer verifies: %s\n", e.msg);
        failures++;
    }
    free(bufs);
    free(steps);
    pexc_model_free(m);
    if (failures) return 1;
    printf("verifier: all corruptions of the streamed sequence caught\n");
    return 0;
}
