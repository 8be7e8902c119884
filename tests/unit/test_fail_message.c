/*
 * util_fail keeps the field and value of a message whose tensor name alone
 * would fill it: converter names join every fused layer's name (hundreds of
 * characters), and the differential run found refusals cut off after the
 * name. A message that fits is kept as written.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"

int main(void) {
    util_err e;
    char name[700];
    for (size_t i = 0; i + 1 < sizeof name; i++) name[i] = (char)('a' + i % 26);
    name[sizeof name - 1] = '\0';
    int failures = 0;
    util_fail(&e, "operator 3 (CONV_2D): output tensor 4 (%s) has shape [1,8,8,4], expected [1,8,8,5]", name);
    if (!strstr(e.msg, "operator 3 (CONV_2D): output tensor 4 (abcdef") || !strstr(e.msg, "...)") ||
        !strstr(e.msg, "has shape [1,8,8,4], expected [1,8,8,5]")) {
        printf("FAIL long name: %s\n", e.msg);
        failures++;
    }
    util_fail(&e, "tensor 2 (%s): dimension 1 is -3", "serving_default_input:0");
    if (strcmp(e.msg, "tensor 2 (serving_default_input:0): dimension 1 is -3") != 0) {
        printf("FAIL short message changed: %s\n", e.msg);
        failures++;
    }
    if (!failures) printf("test_fail_message: field and value kept after long names\n");
    return failures != 0;
}
