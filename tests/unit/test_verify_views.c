/*
 * Views (a split part or unpacked slice that shares its input's buffer at a
 * byte offset, src/ops/move.c) under the plan verifier: the plan of a model
 * with views verifies, and a view pushed past the end of the buffer it
 * views, or a viewed buffer shrunk under its views, is refused.
 */
#include <stdio.h>
#include <string.h>

#include "api/model.h"

static const char *path = "tests/models/move/pack_unpack.tflite"; /* UNPACK parts are views */

int main(void) {
    pexc_model *m = NULL;
    util_err e;
    memset(&e, 0, sizeof e);
    if (pexc_model_open(path, PEXC_SCHEDULE_MIN_SRAM, &m, e.msg, sizeof e.msg) ||
        plan_verify(&m->g, m->calls, m->plan, &e)) {
        printf("FAIL %s does not open or its plan does not verify: %s\n", path, e.msg);
        return 1;
    }
    plan_t *p = m->plan;
    /* the last view: the part furthest into its buffer */
    int32_t v = -1;
    for (int32_t i = 0; i < m->g.n_ops; i++)
        if (m->calls[i].kind == K_NOP && m->calls[i].alias_off > 0) v = i;
    if (v < 0) {
        printf("FAIL %s has no view\n", path);
        return 1;
    }
    k_call *k = &m->calls[v];
    int failures = 0;
    size_t keep = k->alias_off;
    k->alias_off += m->g.tensors[k->out].bytes;
    if (plan_verify(&m->g, m->calls, p, &e) == 0 || !strstr(e.msg, "reaches past")) {
        printf("FAIL a view past its buffer's end: %s\n", e.msg);
        failures++;
    }
    k->alias_off = keep;
    plan_buffer *b = &p->buffers[p->tensor_buffer[k->out]];
    size_t size = b->size;
    b->size = keep; /* ends where the view starts */
    memset(&e, 0, sizeof e);
    if (plan_verify(&m->g, m->calls, p, &e) == 0 || !strstr(e.msg, "reaches past")) {
        printf("FAIL a viewed buffer shrunk under its view: %s\n", e.msg);
        failures++;
    }
    b->size = size;
    if (plan_verify(&m->g, m->calls, p, &e)) {
        printf("FAIL the restored plan does not verify: %s\n", e.msg);
        failures++;
    }
    pexc_model_free(m);
    if (!failures) printf("test_verify_views: views checked against their buffers\n");
    return failures != 0;
}
