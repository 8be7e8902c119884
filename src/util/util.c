/* Arena allocation, error values and directories shared by every compiler stage. */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

struct util_chunk {
    util_chunk *next;
    size_t size;
    max_align_t data[];
};

void util_arena_init(util_arena *a, size_t limit) {
    a->head = NULL;
    a->total = 0;
    a->limit = limit;
}

void *util_alloc(util_arena *a, size_t size) {
    if (size > a->limit || a->total > a->limit - size) return NULL;
    util_chunk *c = calloc(1, sizeof(util_chunk) + (size ? size : 1));
    if (!c) return NULL;
    c->next = a->head;
    c->size = size;
    a->head = c;
    a->total += size;
    return c->data;
}

void util_arena_free(util_arena *a) {
    util_chunk *c = a->head;
    while (c) {
        util_chunk *n = c->next;
        free(c);
        c = n;
    }
    a->head = NULL;
    a->total = 0;
}

int util_fail(util_err *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int util_is_dir(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

int util_mkdir_p(const char *dir) {
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", dir) >= (int)sizeof tmp) return -1;
    for (char *q = tmp + 1; *q; q++) {
        if (*q != '/') continue;
        *q = 0;
        if (mkdir(tmp, 0777) && errno != EEXIST) return -1;
        *q = '/';
    }
    if (mkdir(tmp, 0777) && errno != EEXIST) return -1;
    if (!util_is_dir(tmp)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}
