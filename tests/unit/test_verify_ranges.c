/*
 * The range-based plan verifier on channel-split plans: partial sums
 * (STEP_ACC / STEP_FINISH), slices and whole tensors written in pieces.
 *
 * test_verify.c breaks a row-streamed plan (rings, bands); this one builds
 * a fixed channel-split plan (a producer split into slices, its consumer
 * accumulating int32 partial sums slice by slice) of a small CNN, checks it
 * verifies, then breaks one thing at a time and expects plan_verify to
 * refuse it with the right reason:
 *   - a producer slice one channel short (its consumer reads a channel
 *     before it is written);
 *   - a step writing a channel past its buffer, and a row past it;
 *   - the last step's tile one channel (or row) short (an element of a
 *     graph output never written);
 *   - a partial-sum step that adds one input channel too few (the finish
 *     step reads sums not complete);
 *   - partial sums started twice, and continued without being started;
 *   - a slice's producer step run twice (elements computed a second time).
 * Each corruption changes steps only: buffer lives and placement stay as
 * built, so only the element bookkeeping can see it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/model.h"
#include "verify_expect.h"

static int failures;

static void expect_fail(const pexc_model *m, const plan_t *p, const char *what, const char *needle) {
    failures += verify_expect_fail(m, p, what, needle);
}

/* A verified plan with partial sums: two operators, the first split into
 * n slices that the second accumulates. */
static plan_t *split_plan(pexc_model *m, plan_t *plan) {
    util_err e;
    memset(&e, 0, sizeof e);
    for (int32_t first = 0; first + 1 < m->g.n_ops; first++)
        for (int32_t n = 2; n <= 4; n++) {
            plan_segment seg = {first, first + 1, n, 0, 0};
            if (sched_build(&m->g, m->calls, NULL, &seg, 1, plan, &m->g.arena, &e) ||
                plan_memory(plan, &m->g.arena, &e) || plan_verify(&m->g, m->calls, plan, &e))
                continue;
            int acc = 0;
            for (int32_t s = 0; s < plan->n_steps; s++) acc += plan->steps[s].mode == STEP_ACC;
            if (acc >= 2) return plan;
        }
    return NULL;
}

int main(void) {
    const char *path = "tests/models/gen/block_tiny_cnn.tflite";
    pexc_model *m = verify_open(path);
    if (!m) return 1;
    static plan_t plan;
    plan_t *p = split_plan(m, &plan);
    if (!p) {
        printf("FAIL no channel-split plan of %s with partial sums verifies\n", path);
        return 1;
    }
    size_t ns = sizeof(plan_step) * (size_t)p->n_steps;
    plan_step *steps = malloc(ns);
    if (!steps) return 1;
    memcpy(steps, p->steps, ns);

    /* the steps to break: a producer slice read by a later step, the first
     * and a later partial-sum step, and the last step */
    int32_t prod = -1, acc_first = -1, acc_next = -1, last = p->n_steps - 1;
    for (int32_t s = 0; s < p->n_steps; s++) {
        const plan_step *st = &p->steps[s];
        if (st->mode == STEP_ACC && st->first && acc_first < 0) acc_first = s;
        if (st->mode == STEP_ACC && !st->first && acc_next < 0 && st->ic1 - st->ic0 > 1) acc_next = s;
        if (st->mode == STEP_FULL && p->buffers[st->out.buf].kind == BUF_SLICE && prod < 0 &&
            st->tile.c1 - st->tile.c0 > 1)
            prod = s;
    }
    if (prod < 0 || prod + 1 >= p->n_steps || acc_first < 0 || acc_next < 0) {
        printf("FAIL the split plan lacks a step to break (slice %d, partial sums %d/%d)\n", prod, acc_first,
               acc_next);
        return 1;
    }

    /* 1. a producer slice one channel short: read before written */
    p->steps[prod].tile.c1--;
    expect_fail(m, p, "slice one channel short", "before it is written");
    memcpy(p->steps, steps, ns);

    /* 2. a write past the buffer's channels, 3. past its rows */
    const plan_buffer *slice = &p->buffers[p->steps[prod].out.buf];
    p->steps[prod].tile.c1 = slice->c_begin + slice->c_stored + 1;
    expect_fail(m, p, "channel past the buffer", "outside its buffer");
    memcpy(p->steps, steps, ns);
    p->steps[last].tile.y1++;
    expect_fail(m, p, "row past the buffer", "outside its buffer");
    memcpy(p->steps, steps, ns);

    /* 4. the last step's tile a channel (or row, or pixel) short: a graph
     * output element never written */
    pexc_tile *t = &p->steps[last].tile;
    if (t->c1 - t->c0 > 1) t->c1--;
    else if (t->y1 - t->y0 > 1) t->y1--;
    else t->x1 = t->x1 ? t->x1 - 1 : m->calls[p->steps[last].call].out_dims[2] - 1;
    expect_fail(m, p, "output element never written", "written 0 times");
    memcpy(p->steps, steps, ns);

    /* 5. partial sums one input channel short */
    p->steps[acc_next].ic1--;
    expect_fail(m, p, "partial sums one channel short", "before all its inputs were accumulated");
    memcpy(p->steps, steps, ns);

    /* 6. partial sums started twice, 7. continued without a start */
    p->steps[acc_next].first = 1;
    expect_fail(m, p, "partial sums started twice", "starts partial sums");
    memcpy(p->steps, steps, ns);
    p->steps[acc_first].first = 0;
    expect_fail(m, p, "partial sums never started", "not started");
    memcpy(p->steps, steps, ns);

    /* 8. a slice computed twice: the step after its producer (within the
     * slice's life) repeats the producer */
    p->steps[prod + 1] = p->steps[prod];
    expect_fail(m, p, "slice step run twice", "second time");
    memcpy(p->steps, steps, ns);

    util_err e;
    memset(&e, 0, sizeof e);
    if (plan_verify(&m->g, m->calls, p, &e)) {
        printf("FAIL the restored plan no longer verifies: %s\n", e.msg);
        failures++;
    }
    free(steps);
    pexc_model_free(m);
    if (failures) return 1;
    printf("verifier: every channel-split corruption caught\n");
    return 0;
}
