/* Shared by the plan verifier's tests (test_verify.c, test_verify_ranges.c).
 * Header-only: tests/common is also built into the Cortex-M kernel tests,
 * which must not pull in the compiler. */
#ifndef PEXC_TESTS_VERIFY_EXPECT_H
#define PEXC_TESTS_VERIFY_EXPECT_H

#include <stdio.h>
#include <string.h>

#include "api/model.h"

/* needle: alternatives separated by '|' */
static int verify_matches(const char *msg, const char *needle) {
    char buf[256];
    snprintf(buf, sizeof buf, "%s", needle);
    for (char *t = strtok(buf, "|"); t; t = strtok(NULL, "|"))
        if (strstr(msg, t)) return 1;
    return 0;
}

/* plan_verify must refuse p with a message containing one of the
 * alternatives of needle; prints ok or FAIL with the message and returns 1
 * on a failure. */
static int verify_expect_fail(const pexc_model *m, const plan_t *p, const char *what, const char *needle) {
    util_err e;
    memset(&e, 0, sizeof e);
    if (plan_verify(&m->g, m->calls, p, &e) == 0) {
        printf("FAIL %s: the verifier accepted it\n", what);
        return 1;
    }
    if (!verify_matches(e.msg, needle)) {
        printf("FAIL %s: refused for another reason: %s\n", what, e.msg);
        return 1;
    }
    printf("ok   %s: %s\n", what, e.msg);
    return 0;
}

/* Opens the model at path with the min-SRAM schedule, or prints FAIL and
 * returns NULL. */
static pexc_model *verify_open(const char *path) {
    pexc_model *m = NULL;
    char err[512];
    if (pexc_model_open(path, PEXC_SCHEDULE_MIN_SRAM, &m, err, sizeof err)) {
        printf("FAIL cannot open %s: %s\n", path, err);
        return NULL;
    }
    return m;
}

#endif
