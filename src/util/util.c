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

/* Copies a message that does not fit into out[n], each parenthesised run
 * longer than 64 characters (a converter's tensor name joins every fused
 * layer's name) cut to its first 60 and "...", so that the field and value
 * after the name still fit. */
static void util_msg_squeeze(const char *in, char *out, size_t n) {
    size_t o = 0;
    for (const char *c = in; *c && o + 1 < n; c++) {
        if (*c == '(') {
            const char *e = c + 1;
            for (int depth = 1; *e && depth; e++) depth += (*e == '(') - (*e == ')');
            if (e - c - 2 > 64) {
                int w = snprintf(out + o, n - o, "(%.60s...)", c + 1);
                o = w < 0 || (size_t)w >= n - o ? n - 1 : o + (size_t)w;
                c = e - 1;
                continue;
            }
        }
        out[o++] = *c;
    }
    out[o] = '\0';
}

int util_fail(util_err *err, const char *fmt, ...) {
    if (err) {
        char full[4096];
        va_list ap;
        va_start(ap, fmt);
        int len = vsnprintf(full, sizeof full, fmt, ap);
        va_end(ap);
        if (len >= 0 && (size_t)len < sizeof err->msg) memcpy(err->msg, full, (size_t)len + 1);
        else util_msg_squeeze(full, err->msg, sizeof err->msg);
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
