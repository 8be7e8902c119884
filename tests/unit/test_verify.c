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
 *
 * Then the same for a streamed sequence: two stacked LSTMs feeding a
 * fully-connected layer through a reshape (tests/models/seq/
 * lstm_stack_int8), two time steps per step, the LSTMs' outputs in rings:
 *   - two time steps of an LSTM swapped (its state would carry backwards);
 *   - a time step run twice;
 *   - the ring between the two LSTMs one pixel short (a step then no
 *     longer fits it);
 *   - the fully-connected layer reading a time step before the LSTM makes
 *     it.
 *
 * And with the model input streamed (--stream-input: the sequence arrives
 * a time step at a time into a ring of its own, each once, in order, as
 * the first LSTM reads it):
 *   - the input's ring one time step short (a step arriving overwrites
 *     one not yet read);
 *   - the input's ring given up a step before the first LSTM's last step.
 * (Time steps read out of order would be an LSTM's steps out of order,
 * refused above.)
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

/* Copies of p's buffers and steps (nb, ns bytes), to put back after each
 * corruption. */
static int copies(const plan_t *p, plan_buffer **bufs, size_t *nb, plan_step **steps, size_t *ns) {
    *nb = sizeof(plan_buffer) * (size_t)p->n_buffers;
    *ns = sizeof(plan_step) * (size_t)p->n_steps;
    *bufs = malloc(*nb);
    *steps = malloc(*ns);
    if (!*bufs || !*steps) return -1;
    memcpy(*bufs, p->buffers, *nb);
    memcpy(*steps, p->steps, *ns);
    return 0;
}

/* The model named by environment variable env, else def (NULL: failed). */
static pexc_model *open_model(const char *env, const char *def, const char **path) {
    *path = getenv(env);
    if (!*path) *path = def;
    return verify_open(*path);
}

/* The restored plan must verify again; frees the copies and the model. */
static void finish(pexc_model *m, const plan_t *p, plan_buffer *bufs, plan_step *steps, const char *what) {
    util_err e;
    memset(&e, 0, sizeof e);
    if (plan_verify(&m->g, m->calls, p, &e)) {
        printf("FAIL the restored %s no longer verifies: %s\n", what, e.msg);
        failures++;
    }
    free(bufs);
    free(steps);
    pexc_model_free(m);
}

static int check_sequence(void);
static int check_sequence_input(void);

int main(void) {
    const char *path;
    pexc_model *m = open_model("PEXC_VERIFY_MODEL", "tests/models/gen/block_resnet_basic.tflite", &path);
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
    size_t nb, ns;
    plan_buffer *bufs;
    plan_step *steps;
    if (copies(p, &bufs, &nb, &steps, &ns)) return 1;

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

    finish(m, p, bufs, steps, "plan");
    if (check_sequence() || check_sequence_input() || failures) return 1;
    printf("verifier: all corruptions caught\n");
    return 0;
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

/* The stacked-LSTM model (LSTM, LSTM, RESHAPE, FULLY_CONNECTED) streamed
 * two time steps a step, fixed so the test does not depend on what the
 * search picks, into p; with stream_input its input arrives a time step at
 * a time. NULL (and FAIL printed) unless the plan verifies. */
static pexc_model *sequence_plan(int stream_input, plan_t *p) {
    const char *path;
    pexc_model *m = open_model("PEXC_VERIFY_SEQ_MODEL", "tests/models/seq/lstm_stack_int8.tflite", &path);
    if (!m) return NULL;
    m->g.stream_input = stream_input;
    util_err e;
    memset(&e, 0, sizeof e);
    plan_segment seg = {0, m->g.n_ops - 1, 1, 2, 0};
    if (sched_build(&m->g, m->calls, NULL, &seg, 1, p, &m->g.arena, &e) || plan_memory(p, &m->g.arena, &e) ||
        plan_verify(&m->g, m->calls, p, &e)) {
        printf("FAIL the streamed plan of %s (input %s) does not verify: %s\n", path,
               stream_input ? "streamed" : "held whole", e.msg);
        pexc_model_free(m);
        return NULL;
    }
    return m;
}

static int check_sequence(void) {
    static plan_t plan;
    plan_t *p = &plan;
    pexc_model *m = sequence_plan(0, p);
    if (!m) return 1;
    int32_t rings = 0;
    for (int32_t i = 0; i < p->n_buffers; i++) rings += p->buffers[i].kind == BUF_RING;
    if (rings != 2 || p->n_steps < 10) {
        printf("FAIL expected two rings and a step per two time steps; %d rings, %d steps\n", rings, p->n_steps);
        return 1;
    }
    size_t nb, ns;
    plan_buffer *bufs;
    plan_step *steps;
    if (copies(p, &bufs, &nb, &steps, &ns)) return 1;

    /* 1. the first LSTM's first two steps swapped in time */
    int32_t a, b;
    steps_of(p, p->order[0], &a, &b);
    if (a < 0 || b < 0) {
        printf("FAIL the first LSTM has fewer than two steps\n");
        return 1;
    }
    pexc_tile ta = p->steps[a].tile;
    p->steps[a].tile = p->steps[b].tile;
    p->steps[b].tile = ta;
    expect_fail(m, p, "time steps swapped", "sequence operator");
    memcpy(p->steps, steps, ns);

    /* 2. a time step run twice */
    p->steps[b].tile = p->steps[a].tile;
    expect_fail(m, p, "time step repeated", "sequence operator|second time");
    memcpy(p->steps, steps, ns);

    /* 3. the ring between the LSTMs one pixel short, its views agreeing */
    shrink_ring(p, p->steps[a].out.buf);
    expect_fail(m, p, "ring between the LSTMs one pixel short", "ring|outside its buffer");
    memcpy(p->buffers, bufs, nb);
    memcpy(p->steps, steps, ns);

    /* 4. the consumer's first partial sums moved before the second LSTM's
     * first step */
    int32_t c1, c2, acc = -1;
    steps_of(p, p->order[1], &c1, &c2);
    for (int32_t s = c1 + 1; s < p->n_steps && acc < 0; s++)
        if (p->steps[s].mode == STEP_ACC) acc = s;
    if (c1 < 0 || acc < 0) {
        printf("FAIL no second LSTM step followed by partial sums\n");
        return 1;
    }
    plan_step t = p->steps[acc];
    memmove(&p->steps[c1 + 1], &p->steps[c1], sizeof(plan_step) * (size_t)(acc - c1));
    p->steps[c1] = t;
    expect_fail(m, p, "consumer before its time steps", "before it is written|outside its life");
    memcpy(p->steps, steps, ns);

    finish(m, p, bufs, steps, "streamed sequence");
    return 0;
}

static int check_sequence_input(void) {
    static plan_t plan;
    plan_t *p = &plan;
    pexc_model *m = sequence_plan(1, p); /* the input arrives a time step at a time */
    if (!m) return 1;
    int32_t in = -1;
    for (int32_t i = 0; i < p->n_buffers; i++)
        if (p->buffers[i].kind == BUF_RING && p->buffers[i].tensor == m->g.inputs[0]) in = i;
    if (in < 0 || p->buffers[in].ring_px != 2 || p->tensor_buffer[m->g.inputs[0]] >= 0) {
        printf("FAIL expected the input in a ring of two time steps, not held whole\n");
        return 1;
    }
    size_t nb, ns;
    plan_buffer *bufs;
    plan_step *steps;
    if (copies(p, &bufs, &nb, &steps, &ns)) return 1;

    /* 1. the input's ring one time step short, its views agreeing */
    shrink_ring(p, in);
    expect_fail(m, p, "input ring one time step short", "ring holds|ring slot|does not fit");
    memcpy(p->buffers, bufs, nb);
    memcpy(p->steps, steps, ns);

    /* 2. the input's ring given up before the first LSTM's last step */
    p->buffers[in].last--;
    expect_fail(m, p, "input ring freed a step early", "outside its life");
    memcpy(p->buffers, bufs, nb);

    finish(m, p, bufs, steps, "streamed-input sequence");
    return 0;
}
