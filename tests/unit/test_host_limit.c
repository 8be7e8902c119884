/*
 * plan_host_check: a plan whose arena exceeds the host limit is refused
 * with the largest tensor live at its peak named; one within it passes.
 * (No model within the validator's activation limit makes such a plan, so
 * the arena is grown by hand.)
 */
#include <stdio.h>
#include <string.h>

#include "api/model.h"

int main(void) {
    const char *path = "tests/models/gen/block_tiny_cnn.tflite";
    pexc_model *m = NULL;
    util_err e;
    memset(&e, 0, sizeof e);
    if (pexc_model_open(path, PEXC_SCHEDULE_BASELINE, &m, e.msg, sizeof e.msg)) {
        printf("FAIL cannot open %s: %s\n", path, e.msg);
        return 1;
    }
    plan_t *p = m->plan;
    int failures = 0;
    if (plan_host_check(&m->g, p, &e)) {
        printf("FAIL a %zu-byte arena refused: %s\n", p->arena_bytes, e.msg);
        failures++;
    }
    /* the largest buffer live at the peak is the tensor to name */
    int32_t at = 0, big = -1;
    plan_live_profile(p, NULL, &at);
    for (int32_t i = 0; i < p->n_buffers; i++)
        if (p->buffers[i].first <= at && at <= p->buffers[i].last &&
            (big < 0 || p->buffers[i].size > p->buffers[big].size))
            big = i;
    char want[64];
    snprintf(want, sizeof want, "tensor %d (", p->buffers[big].tensor);
    size_t keep = p->arena_bytes;
    p->arena_bytes = PEXC_HOST_BYTES + 1;
    if (plan_host_check(&m->g, p, &e) == 0 || !strstr(e.msg, want) || !strstr(e.msg, "host limit")) {
        printf("FAIL an arena over the host limit: %s (expected %s...)\n", e.msg, want);
        failures++;
    } else {
        printf("ok   %s\n", e.msg);
    }
    p->arena_bytes = keep;
    pexc_model_free(m);
    return failures != 0;
}
