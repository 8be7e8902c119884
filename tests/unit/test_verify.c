/*
 * The plan verifier must catch every way a streamed plan can go wrong.
 *
 * Builds a streamed plan of a residual block (ring buffers and
 * row-band tensors), checks that it verifies, then breaks one thing at a
 * time and expects plan_verify to refuse it with the right reason:
 *   - a ring one pixel too small (a pixel is overwritten before its last
 *     read);
 *   - a band of the input freed one step early;
 *   - a band moved away from its tensor's other rows;
 *   - two streamed steps swapped (a row read before it is made);
 *   - a ring one pixel short of what two readers keep between them (a slot
 *     reused before its pixel's last read);
 *   - a streamed step run twice (rows computed a second time);
 *   - two buffers alive together placed on the same bytes.
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

/* Shrinks ring buffer r by one pixel, its views agreeing. */
static void shrink_ring(plan_t *p, int32_t r) {
    p->buffers[r].ring_px--;
    for (int32_t s = 0; s < p->n_steps; s++) {
        plan_view *v[3] = {&p->steps[s].in[0], &p->steps[s].in[1], &p->steps[s].out};
        for (int k = 0; k < 3; k++)
            if (v[k]->buf == r && v[k]->ring_px) v[k]->ring_px = p->buffers[r].ring_px;
    }
}

static int32_t find_ring(const plan_t *p) {
    for (int32_t i = 0; i < p->n_buffers; i++)
        if (p->buffers[i].kind == BUF_RING && p->buffers[i].ring_px > 1) return i;
    return -1;
}

int main(void) {
    const char *path = getenv("PEXC_VERIFY_MODEL");
    if (!path) path = "tests/models/gen/block_resnet_basic.tflite";
    pexc_model *m = verify_open(path);
    if (!m) return 1;
    /* a fixed streamed plan, a quarter row per step over the longest chain
     * from the first operator, so the test does not depend on what the
     * search picks (and rings hold rows and pixels) */
    static plan_t plan;
    plan_t *p = NULL;
    util_err e;
    memset(&e, 0, sizeof e);
    for (int32_t last = m->g.n_ops - 1; last > 0 && !p; last--) {
        plan_segment seg = {0, last, 1, 1, 4};
        if (sched_build(&m->g, m->calls, NULL, &seg, 1, &plan, &m->g.arena, &e) == 0 &&
            plan_memory(&plan, &m->g.arena, &e) == 0)
            p = &plan;
    }
    if (!p || plan_verify(&m->g, m->calls, p, &e)) {
        printf("FAIL no streamed plan of %s verifies: %s\n", path, e.msg);
        return 1;
    }
    size_t nb = sizeof(plan_buffer) * (size_t)p->n_buffers, ns = sizeof(plan_step) * (size_t)p->n_steps;
    plan_buffer *bufs = malloc(nb);
    plan_step *steps = malloc(ns);
    if (!bufs || !steps) return 1;
    memcpy(bufs, p->buffers, nb);
    memcpy(steps, p->steps, ns);

    /* 1. a ring one pixel too small, buffer and every view agreeing */
    int32_t r = find_ring(p);
    if (r < 0) {
        printf("FAIL no ring buffer in the streamed plan\n");
        return 1;
    }
    shrink_ring(p, r);
    expect_fail(m, p, "ring one pixel short", "ring");
    memcpy(p->buffers, bufs, nb);
    memcpy(p->steps, steps, ns);

    /* 2. an input band freed early, 3. a band moved */
    int32_t in_buf = p->tensor_buffer[m->g.inputs[0]];
    if (in_buf < 0 || p->buffers[in_buf].head != in_buf || p->buffers[in_buf].n_bands < 2) {
        printf("FAIL the streamed input is not cut into row bands\n");
        return 1;
    }
    int32_t band1 = p->buffers[in_buf].band_next;
    p->buffers[band1].last--; /* freed one step before its last read */
    expect_fail(m, p, "input band freed early", "outside its life");
    memcpy(p->buffers, bufs, nb);
    p->buffers[band1].offset += 16;
    expect_fail(m, p, "band moved away from its tensor", "row band");
    memcpy(p->buffers, bufs, nb);

    /* 4. the first streamed consumer step moved before its producer's */
    int32_t swap = -1;
    for (int32_t s = 0; s + 1 < p->n_steps && swap < 0; s++)
        if (p->steps[s].out.buf == r) swap = s;
    if (swap < 0) {
        printf("FAIL no step writes the ring\n");
        return 1;
    }
    for (int32_t s = swap + 1; s < p->n_steps; s++)
        if (p->steps[s].in[0].buf == r || p->steps[s].in[1].buf == r) {
            plan_step t = p->steps[s];
            p->steps[s] = p->steps[swap];
            p->steps[swap] = t;
            break;
        }
    expect_fail(m, p, "reader before writer", "before it is written|outside its life");
    memcpy(p->steps, steps, ns);

    /* 4b. a ring that every single read still fits, but one pixel short of
     * what the readers keep between them (a residual skip read late while
     * the convolution reads ahead): only tracking which row each slot holds
     * catches the pixel overwritten before its last read */
    int32_t r2 = -1;
    for (int32_t i = 0; i < p->n_buffers && r2 < 0; i++) {
        if (p->buffers[i].kind != BUF_RING) continue;
        int32_t widest = 0;
        for (int32_t s = 0; s < p->n_steps; s++)
            for (int w = 0; w < 2; w++)
                if ((w ? p->steps[s].in[1].buf : p->steps[s].in[0].buf) == i) {
                    int64_t q0, q1;
                    plan_step_pixels(&m->g, m->calls, &p->steps[s], w, &q0, &q1);
                    if (q1 - q0 > widest) widest = (int32_t)(q1 - q0);
                }
        if (p->buffers[i].ring_px > widest && p->buffers[i].ring_px > 1) r2 = i;
    }
    if (r2 < 0) {
        printf("FAIL no ring is wider than its widest read (expected the residual skip)\n");
        return 1;
    }
    shrink_ring(p, r2);
    expect_fail(m, p, "ring short of the rows its readers keep", "ring slot");
    memcpy(p->buffers, bufs, nb);
    memcpy(p->steps, steps, ns);

    /* 5. a streamed step run twice */
    p->steps[swap + 1] = p->steps[swap];
    expect_fail(m, p, "step repeated", "second time");
    memcpy(p->steps, steps, ns);

    /* 6. two live buffers on the same bytes */
    for (int32_t i = 0; i < p->n_buffers; i++)
        if (i != r && p->buffers[i].first <= p->buffers[r].last && p->buffers[r].first <= p->buffers[i].last &&
            p->buffers[i].head < 0) {
            p->buffers[i].offset = p->buffers[r].offset;
            break;
        }
    expect_fail(m, p, "overlapping buffers", "overlap");
    memcpy(p->buffers, bufs, nb);

    if (plan_verify(&m->g, m->calls, p, &e)) {
        printf("FAIL the restored plan no longer verifies: %s\n", e.msg);
        failures++;
    }
    free(bufs);
    free(steps);
    pexc_model_free(m);
    if (failures) return 1;
    printf("verifier: all corruptions caught\n");
    return 0;
}
