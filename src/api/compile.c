/*
 * pexc_compile (`pexc compile`): a model as standalone C for a microcontroller.
 * It writes DIR/NAME.h and DIR/NAME.c (the plan as straight-line kernel calls,
 * see src/emit/emit.c) and copies the runtime sources the generated code
 * needs: runtime/include/pexc_kernels.h and the runtime/src/ C files that
 * define the kernels it calls (and, transitively, what those call).
 *
 * The runtime directory is found next to the executable (build/pexc ->
 * ../runtime), else at the compile-time path PEXC_RUNTIME_DIR (a -D string),
 * else in the environment variable PEXC_RUNTIME_DIR, unless the caller names it.
 */
#define _POSIX_C_SOURCE 200809L

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/model.h"
#include "internal.h"
#include "pexc.h"

static const char *const TARGETS[] = {"host", "cortex-m4", "cortex-m7", "cortex-m33", "cortex-m55"};

static int is_ident(const char *s) {
    if (!*s || (*s >= '0' && *s <= '9')) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return 0;
    return 1;
}

/* The model file's basename without extension as a C identifier. */
static void default_name(const char *path, char *out, size_t n) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *dot = strrchr(b, '.');
    size_t len = dot && dot != b ? (size_t)(dot - b) : strlen(b);
    size_t at = 0;
    if (len && b[0] >= '0' && b[0] <= '9') at = (size_t)snprintf(out, n, "m_");
    for (size_t i = 0; i < len && at + 1 < n; i++) {
        char ch = b[i];
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
        out[at++] = ok ? ch : '_';
    }
    out[at] = 0;
    if (!at) snprintf(out, n, "model");
}

/* ---- files -------------------------------------------------------------- */

/* buf = a + b; -1 when it does not fit. */
static int pjoin(char *buf, size_t n, const char *a, const char *b) {
    int r = snprintf(buf, n, "%s%s", a, b);
    return r < 0 || (size_t)r >= n ? -1 : 0;
}

/* buf = a + "/" + b + c; -1 when it does not fit. */
static int pjoin3(char *buf, size_t n, const char *a, const char *b, const char *c) {
    int r = snprintf(buf, n, "%s/%s%s", a, b, c);
    return r < 0 || (size_t)r >= n ? -1 : 0;
}

static char *read_text(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 8192, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (n < cap) break;
        char *nb = realloc(buf, 2 * cap + 1);
        if (!nb) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = nb;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        return NULL;
    }
    buf[n] = 0;
    if (len) *len = n;
    return buf;
}

static int copy_file(const char *src, const char *dst) {
    size_t n;
    char *t = read_text(src, &n);
    if (!t) return -1;
    FILE *f = fopen(dst, "wb");
    int ok = f && fwrite(t, 1, n, f) == n;
    if (f && fclose(f)) ok = 0;
    free(t);
    return ok ? 0 : -1;
}

static int has_runtime(const char *dir) {
    char p[4096];
    struct stat sb;
    return !pjoin(p, sizeof p, dir, "/include/pexc_kernels.h") && stat(p, &sb) == 0;
}

static int find_runtime(char *out, size_t n) {
    char exe[4096];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = 0;
        char *slash = strrchr(exe, '/');
        if (slash) {
            *slash = 0;
            if (!pjoin(out, n, exe, "/../runtime") && has_runtime(out)) return 0;
            if (!pjoin(out, n, exe, "/runtime") && has_runtime(out)) return 0;
            if (!pjoin(out, n, exe, "/../share/pexc/runtime") && has_runtime(out)) return 0;
        }
    }
#ifdef PEXC_RUNTIME_DIR
    if (!pjoin(out, n, PEXC_RUNTIME_DIR, "") && has_runtime(out)) return 0;
#endif
    const char *env = getenv("PEXC_RUNTIME_DIR");
    if (env && *env) {
        if (!pjoin(out, n, env, "") && has_runtime(out)) return 0;
    }
    return -1;
}

/* ---- which runtime sources the generated code needs --------------------
 * Each runtime/src/ C file is scanned for the pexc_* functions it defines (a name
 * followed by '(' on a line starting in column 0, whose '{' comes before any
 * ';') and the pexc_* functions it calls. The files defining the kernels the
 * plan calls are taken, then the files defining what those call, until
 * nothing new is added. */

#define RT_MAX_FILES 256
#define RT_MAX_FUNCS 2048

typedef struct {
    char name[64];
    int32_t file;
} rt_func;

typedef struct {
    char path[4096];
    char base[256];
    char *text;
    int take;
} rt_file;

typedef struct {
    rt_file files[RT_MAX_FILES];
    int32_t n_files;
    rt_func funcs[RT_MAX_FUNCS];
    int32_t n_funcs;
} rt_index;

static int ident_char(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_';
}

/* Next "pexc_name(" call or declaration at or after *pos; 0 when none. */
static int next_pexc_call(const char *t, size_t *pos, char *name, size_t n, size_t *paren) {
    for (const char *s = strstr(t + *pos, "pexc_"); s; s = strstr(s + 1, "pexc_")) {
        if (s > t && ident_char(s[-1])) continue;
        size_t len = 0;
        while (ident_char(s[len])) len++;
        size_t k = len;
        while (s[k] == ' ' || s[k] == '\t') k++;
        if (s[k] != '(' || len >= n) continue;
        memcpy(name, s, len);
        name[len] = 0;
        *paren = (size_t)(s - t) + k;
        *pos = *paren + 1;
        return 1;
    }
    return 0;
}

static int32_t func_file(const rt_index *x, const char *name) {
    for (int32_t i = 0; i < x->n_funcs; i++)
        if (!strcmp(x->funcs[i].name, name)) return x->funcs[i].file;
    return -1;
}

/* A runtime source's text followed by the local headers in runtime/src it
 * includes (one level), so the pexc_* functions a shared header's code
 * calls count as the including file's calls. */
static char *read_with_local_headers(const char *dir, const char *path) {
    char *t = read_text(path, NULL);
    const size_t own = t ? strlen(t) : 0; /* includes of the appended headers are not followed */
    for (const char *s = t ? strstr(t, "#include \"") : NULL; s && (size_t)(s - t) < own;
         s = strstr(s + 1, "#include \"")) {
        const char *b = s + 10, *e = strchr(b, '"');
        char inc[256], hp[4096];
        if (!e || e - b <= 0 || e - b > 200) continue;
        memcpy(inc, b, (size_t)(e - b));
        inc[e - b] = 0;
        if (!strcmp(inc, "pexc_kernels.h") || strchr(inc, '/') || pjoin3(hp, sizeof hp, dir, inc, "")) continue;
        char *h = read_text(hp, NULL);
        if (!h) continue;
        size_t at = (size_t)(s - t), nt = strlen(t), nh = strlen(h);
        char *both = realloc(t, nt + nh + 2);
        if (both) {
            memcpy(both + nt, "\n", 1);
            memcpy(both + nt + 1, h, nh + 1);
            t = both;
            s = t + at;
        }
        free(h);
        if (!both) {
            free(t);
            return NULL;
        }
    }
    return t;
}

static int index_runtime(const char *rt, rt_index *x, util_err *err) {
    char dir[4096];
    if (pjoin(dir, sizeof dir, rt, "/src")) return util_fail(err, "runtime path too long");
    DIR *d = opendir(dir);
    if (!d) return util_fail(err, "%s: cannot list the runtime sources", dir);
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        if (len < 3 || strcmp(de->d_name + len - 2, ".c") || len >= sizeof x->files[0].base) continue;
        if (x->n_files == RT_MAX_FILES) {
            closedir(d);
            return util_fail(err, "%s: more than %d runtime sources", dir, RT_MAX_FILES);
        }
        rt_file *f = &x->files[x->n_files];
        memset(f, 0, sizeof *f);
        snprintf(f->base, sizeof f->base, "%s", de->d_name);
        if (pjoin3(f->path, sizeof f->path, dir, de->d_name, "")) continue;
        f->text = read_with_local_headers(dir, f->path);
        if (!f->text) {
            closedir(d);
            return util_fail(err, "%s: cannot read", f->path);
        }
        x->n_files++;
    }
    closedir(d);
    for (int32_t i = 0; i < x->n_files; i++) {
        const char *t = x->files[i].text;
        size_t pos = 0, paren;
        char name[64];
        while (next_pexc_call(t, &pos, name, sizeof name, &paren)) {
            size_t ls = paren;
            while (ls > 0 && t[ls - 1] != '\n') ls--;
            char c0 = t[ls];
            if (c0 == ' ' || c0 == '\t' || c0 == '#' || c0 == '/' || c0 == '*' || !strncmp(t + ls, "static", 6))
                continue;
            size_t semi = strcspn(t + paren, ";{");
            if (t[paren + semi] != '{' || func_file(x, name) >= 0 || x->n_funcs == RT_MAX_FUNCS) continue;
            snprintf(x->funcs[x->n_funcs].name, sizeof x->funcs[0].name, "%s", name);
            x->funcs[x->n_funcs++].file = i;
        }
    }
    return 0;
}

/* header: the text of pexc_kernels.h, whose inline helpers every kernel
 * file uses, so what they call is always taken. */
static int select_runtime(rt_index *x, const char *header, const char **kernels, int32_t n_kernels,
                          util_err *err) {
    for (int32_t i = 0; i < n_kernels; i++) {
        int32_t f = func_file(x, kernels[i]);
        if (f < 0) return util_fail(err, "no runtime source defines %s, which the generated code calls", kernels[i]);
        x->files[f].take = 1;
    }
    /* only the bodies of the header's inline functions call anything */
    for (const char *h = header ? strstr(header, "static inline") : NULL; h; h = strstr(h + 1, "static inline")) {
        const char *open = strchr(h, '{'), *close = open ? strstr(open, "\n}") : NULL;
        if (!close) break;
        size_t n = (size_t)(close - open);
        char *body = malloc(n + 1);
        if (!body) return util_fail(err, "out of memory");
        memcpy(body, open, n);
        body[n] = 0;
        size_t hpos = 0, hparen;
        char hname[64];
        while (next_pexc_call(body, &hpos, hname, sizeof hname, &hparen)) {
            int32_t f = func_file(x, hname);
            if (f >= 0) x->files[f].take = 1;
        }
        free(body);
    }
    for (int changed = 1; changed;) {
        changed = 0;
        for (int32_t i = 0; i < x->n_files; i++) {
            if (!x->files[i].take) continue;
            size_t pos = 0, paren;
            char name[64];
            while (next_pexc_call(x->files[i].text, &pos, name, sizeof name, &paren)) {
                int32_t f = func_file(x, name);
                if (f >= 0 && !x->files[f].take) x->files[f].take = changed = 1;
            }
        }
    }
    return 0;
}

/* Copies the local headers a runtime source includes ("x.h" other than
 * pexc_kernels.h), from runtime/src or runtime/include. */
static int copy_local_includes(const char *rt, const char *text, const char *out_dir, int *n_copied, util_err *err) {
    for (const char *s = strstr(text, "#include \""); s; s = strstr(s + 1, "#include \"")) {
        const char *b = s + 10, *e = strchr(b, '"');
        if (!e || e - b <= 0 || e - b > 200) continue;
        char inc[256], src[4096], dst[4096];
        memcpy(inc, b, (size_t)(e - b));
        inc[e - b] = 0;
        if (!strcmp(inc, "pexc_kernels.h") || strchr(inc, '/')) continue;
        struct stat sb;
        if (pjoin3(src, sizeof src, rt, "src/", inc) || pjoin3(dst, sizeof dst, out_dir, inc, "")) continue;
        if (stat(src, &sb) && pjoin3(src, sizeof src, rt, "include/", inc)) continue;
        if (stat(dst, &sb) == 0) continue; /* copied already this run (or stale: overwritten below) */
        if (copy_file(src, dst)) return util_fail(err, "cannot copy %s to %s", src, dst);
        (*n_copied)++;
        char *t = read_text(src, NULL);
        if (t) {
            int r = copy_local_includes(rt, t, out_dir, n_copied, err);
            free(t);
            if (r) return r;
        }
    }
    return 0;
}

/* Copies the runtime sources the plan needs into out_dir; the names of the
 * .c files copied are appended to srcs (space-separated). */
static int write_runtime(const char *rt, const k_call *calls, const plan_t *p, const char *target, const char *out_dir,
                         int *n_files, char *srcs, size_t srcs_len, util_err *err) {
    const char *kernels[64];
    int32_t nk = emit_kernels_used(calls, p, target, kernels, 64);
    rt_index *x = calloc(1, sizeof *x);
    if (!x) return util_fail(err, "out of memory");
    int rc = -1;
    char src[4096], dst[4096];
    char *header = NULL;
    if (pjoin3(src, sizeof src, rt, "include/pexc_kernels.h", "") || !(header = read_text(src, NULL))) {
        util_fail(err, "cannot read %s", src);
        goto done;
    }
    int sel = index_runtime(rt, x, err) || select_runtime(x, header, kernels, nk, err);
    free(header);
    if (sel) goto done;
    /* headers first, so a stale copy of a local header is replaced */
    for (int32_t i = 0; i < x->n_files; i++) {
        if (!x->files[i].take) continue;
        for (const char *s = strstr(x->files[i].text, "#include \""); s; s = strstr(s + 1, "#include \"")) {
            const char *b = s + 10, *e = strchr(b, '"');
            if (!e || e - b <= 0 || e - b > 200) continue;
            char inc[256];
            memcpy(inc, b, (size_t)(e - b));
            inc[e - b] = 0;
            if (pjoin3(dst, sizeof dst, out_dir, inc, "")) continue;
            if (strcmp(inc, "pexc_kernels.h") && !strchr(inc, '/')) remove(dst);
        }
    }
    if (pjoin3(src, sizeof src, rt, "include/pexc_kernels.h", "") ||
        pjoin3(dst, sizeof dst, out_dir, "pexc_kernels.h", "") || copy_file(src, dst)) {
        util_fail(err, "cannot copy %s to %s", src, dst);
        goto done;
    }
    *n_files = 1;
    for (int32_t i = 0; i < x->n_files; i++) {
        if (!x->files[i].take) continue;
        if (pjoin3(dst, sizeof dst, out_dir, x->files[i].base, "") || copy_file(x->files[i].path, dst)) {
            util_fail(err, "cannot copy %s to %s", x->files[i].path, dst);
            goto done;
        }
        (*n_files)++;
        size_t at = strlen(srcs);
        if (snprintf(srcs + at, srcs_len - at, " %s", x->files[i].base) >= (int)(srcs_len - at)) {
            util_fail(err, "too many runtime sources");
            goto done;
        }
        if (copy_local_includes(rt, x->files[i].text, out_dir, n_files, err)) goto done;
    }
    rc = 0;
done:
    for (int32_t i = 0; i < x->n_files; i++) free(x->files[i].text);
    free(x);
    return rc;
}

/* DIR/CMakeLists.txt: a static library target NAME of the generated and
 * runtime sources, with the flags the header asks for. */
static int write_cmake(const char *out_dir, const char *name, const char *srcs) {
    char path[4200];
    if (pjoin3(path, sizeof path, out_dir, "CMakeLists.txt", "")) {
        errno = ENAMETOOLONG;
        return -1;
    }
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fprintf(f,
            "# Generated by pexc: the model %s as a static library target of the same name.\n"
            "#\n"
            "#   add_subdirectory(gen)                 # this directory\n"
            "#   target_link_libraries(app PRIVATE %s)  # adds the include directory too\n"
            "#\n"
            "# The CPU flags (-mcpu=..., -mfloat-abi=...) come from the firmware's\n"
            "# toolchain file, as for the rest of the firmware. Build with -O1 or more\n"
            "# (CMAKE_BUILD_TYPE Release, MinSizeRel or RelWithDebInfo) for the\n"
            "# kernels' DSP inner loops; the outputs are the same bytes either way.\n"
            "cmake_minimum_required(VERSION 3.13)\n"
            "add_library(%s STATIC %s.c%s)\n"
            "target_include_directories(%s PUBLIC ${CMAKE_CURRENT_SOURCE_DIR})\n"
            "set_target_properties(%s PROPERTIES C_STANDARD 11 C_STANDARD_REQUIRED ON C_EXTENSIONS OFF)\n"
            "# float kernels must not fuse multiply-adds: bit-exact with TFLite Micro\n"
            "target_compile_options(%s PRIVATE -ffp-contract=off)\n",
            name, name, name, name, srcs, name, name, name);
    int bad = ferror(f);
    return fclose(f) || bad ? -1 : 0;
}

/* ---- the library call --------------------------------------------------- */

int pexc_compile(const char *model, const char *out_dir, const pexc_compile_options *o, char *summary,
                 size_t summary_len, char **figures, char *err, size_t err_len) {
    const char *target = o->target ? o->target : "host", *arena = o->arena ? o->arena : "static";
    if (figures) *figures = NULL;
    int known = 0;
    for (size_t i = 0; i < sizeof TARGETS / sizeof TARGETS[0]; i++) known |= !strcmp(target, TARGETS[i]);
    if (!known) {
        snprintf(err, err_len, "unknown target '%s' (host, cortex-m4, cortex-m7, cortex-m33 or cortex-m55)", target);
        return -2;
    }
    if (strcmp(arena, "static") && strcmp(arena, "caller")) {
        snprintf(err, err_len, "--arena takes static or caller, got '%s'", arena);
        return -2;
    }
    char nm[128];
    if (o->name) {
        if (!is_ident(o->name) || strlen(o->name) >= sizeof nm) {
            snprintf(err, err_len, "--name '%s' is not a C identifier (letters, digits, '_'; no leading digit)",
                     o->name);
            return -2;
        }
        snprintf(nm, sizeof nm, "%s", o->name);
    } else {
        default_name(model, nm, sizeof nm);
    }

    char rt[4096];
    if (o->runtime_dir ? (pjoin(rt, sizeof rt, o->runtime_dir, "") || !has_runtime(rt)) : find_runtime(rt, sizeof rt)) {
        snprintf(err, err_len, o->runtime_dir ? "%s: no runtime sources there (include/pexc_kernels.h)"
                                              : "cannot find the runtime sources (runtime/include/pexc_kernels.h) "
                                                "next to the pexc executable; set PEXC_RUNTIME_DIR",
                 o->runtime_dir);
        return -1;
    }

    /* With an SRAM budget the library picks the fastest schedule that fits
     * (or holds --schedule baseline to it) and fails, naming the bottleneck,
     * when none does. */
    pexc_model *m;
    int streamed = o->stream_input || o->stream_output;
    /* streamed, the budget is held to the streamed plan (api_plan_streamed),
     * which plans both graphs again: the open's plan is then the
     * baseline's, which costs no search */
    if (pexc_model_open_budget(model, streamed ? PEXC_SCHEDULE_BASELINE : o->schedule, streamed ? 0 : o->sram_budget,
                               &m, err, err_len))
        return -1;
    int rc = -1;
    if (streamed) {
        /* plan again with each input a streamed chain or fully-connected
         * layer reads arriving as the plan reads it, outputs leaving as they
         * are made (as pexc inspect/run --stream-input/--stream-output) */
        util_err se = {{0}};
        if (api_plan_streamed(m, o->schedule, o->stream_input, o->stream_output, o->sram_budget, &se)) {
            snprintf(err, err_len, "%s: %s", model, se.msg);
            goto out;
        }
    }
    const plan_t *p = m->plan;
    const char *sched_name = pexc_model_schedule_name(m);

    if (util_mkdir_p(out_dir)) {
        snprintf(err, err_len, "%s: cannot create the output directory: %s", out_dir, strerror(errno));
        goto out;
    }
    char hpath[4200], cpath[4200];
    if (pjoin3(hpath, sizeof hpath, out_dir, nm, ".h") || pjoin3(cpath, sizeof cpath, out_dir, nm, ".c")) {
        snprintf(err, err_len, "%s: output path too long", out_dir);
        goto out;
    }
    FILE *hf = fopen(hpath, "w"), *cf = fopen(cpath, "w");
    if (!hf || !cf) {
        snprintf(err, err_len, "cannot write %s", !hf ? hpath : cpath);
        if (hf) fclose(hf);
        if (cf) fclose(cf);
        goto out;
    }
    const char *base = strrchr(model, '/');
    emit_options eo = {.name = nm, .model_path = base ? base + 1 : model, .schedule = sched_name, .target = target,
                       .caller_arena = !strcmp(arena, "caller")};
    util_err e = {{0}};
    int er = emit_model(&m->g, m->calls, p, &eo, hf, cf, &e);
    int werr = ferror(hf) || ferror(cf);
    werr |= fclose(hf) != 0;
    werr |= fclose(cf) != 0;
    if (er || werr) {
        snprintf(err, err_len, "%s: %s", model, er ? e.msg : "write error in the output directory");
        remove(hpath);
        remove(cpath);
        goto out;
    }
    int n_rt = 0;
    char srcs[8192] = "";
    if (write_runtime(rt, m->calls, p, target, out_dir, &n_rt, srcs, sizeof srcs, &e)) {
        snprintf(err, err_len, "%s", e.msg);
        goto out;
    }
    if (write_cmake(out_dir, nm, srcs)) {
        snprintf(err, err_len, "%s/CMakeLists.txt: cannot write: %s", out_dir, strerror(errno));
        goto out;
    }
    if (summary && summary_len)
        snprintf(summary, summary_len,
                 "%s -> %s/%s.{h,c} + %d runtime files + CMakeLists.txt: schedule %s, %d steps, arena %zu bytes "
                 "(%s), target %s",
                 model, out_dir, nm, n_rt, sched_name, p->n_steps, p->arena_bytes,
                 eo.caller_arena ? "caller" : "static", target);
    if (figures && !(*figures = pexc_model_json_target(m, model, target))) {
        snprintf(err, err_len, "out of memory");
        goto out;
    }
    rc = 0;
out:
    pexc_model_free(m);
    return rc;
}
