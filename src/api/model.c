/* The public API: ties reader, IR checks, lowering, planning and execution. */
#define _POSIX_C_SOURCE 200809L

#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "api/model.h"
#include "pexc.h"

static void copy_err(char *dst, size_t n, const util_err *e) {
    if (dst && n) snprintf(dst, n, "%s", e->msg);
}

int pexc_model_open_bytes(const uint8_t *data, size_t len, pexc_schedule schedule, pexc_model **out, char *err,
                          size_t err_len) {
    return pexc_model_open_bytes_budget(data, len, schedule, 0, out, err, err_len);
}

int pexc_model_open_bytes_budget(const uint8_t *data, size_t len, pexc_schedule schedule, size_t sram_budget,
                                 pexc_model **out, char *err, size_t err_len) {
    *out = NULL;
    pexc_model *m = calloc(1, sizeof *m);
    util_err e = {{0}};
    if (!m) {
        snprintf(err, err_len, "out of memory");
        return -1;
    }
    m->file = malloc(len ? len : 1);
    if (!m->file) {
        free(m);
        snprintf(err, err_len, "out of memory copying a %zu-byte model", len);
        return -1;
    }
    memcpy(m->file, data, len);
    m->file_len = len;
    m->budget = sram_budget;
    int rc = api_prepare(m, schedule, &e);
    if (schedule != PEXC_SCHEDULE_BASELINE) {
        /* the graph with its skip convolutions decimated, when its plan
         * holds fewer bytes (ir/decimate.c) */
        util_err te = {{0}};
        pexc_model *t = api_twin(m, schedule, sram_budget, &te);
        if (t) {
            /* both refused the budget: the lower of the least peaks is the one to name */
            if (rc && !t->plan && t->chosen.arena_bytes && t->chosen.arena_bytes < m->chosen.arena_bytes) e = te;
            if (!rc && t->plan && schedule == PEXC_SCHEDULE_DEFAULT && !sram_budget) {
                /* the default plan may stay this graph's (a tie: the
                 * baseline) while the twin's least peak is lower: the
                 * min-sram figure beside it is then the twin's */
                api_trade tm, tt;
                api_trade_of(m, &tm);
                api_trade_of(t, &tt);
                if (tt.least_bytes < tm.least_bytes) {
                    m->twin_least_bytes = tt.least_bytes;
                    m->twin_least_cost = tt.least_cost;
                }
            }
            rc = api_keep_better(m, rc, t, t->plan ? 0 : -1, sram_budget == 0);
        }
    }
    if (rc) {
        copy_err(err, err_len, &e);
        pexc_model_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

pexc_model *api_twin(const pexc_model *m, pexc_schedule schedule, size_t budget, util_err *e) {
    if (m->decimate || !m->validated || ir_decimate_candidates(&m->g) == 0) return NULL;
    pexc_model *t = calloc(1, sizeof *t);
    if (!t || !(t->file = malloc(m->file_len ? m->file_len : 1))) {
        free(t);
        return NULL;
    }
    memcpy(t->file, m->file, m->file_len);
    t->file_len = m->file_len;
    t->budget = budget;
    t->decimate = 1;
    if (api_prepare(t, schedule, e)) t->plan = NULL; /* (kept to be freed by api_keep_better) */
    return t;
}

static int plan_kind(const pexc_model *m) {
    return m->plan == &m->chosen ? 1 : m->plan == &m->least ? 2 : m->plan == &m->baseline ? 0 : -1;
}

static plan_t *plan_of(pexc_model *m, int kind) {
    return kind == 1 ? &m->chosen : kind == 2 ? &m->least : kind == 0 ? &m->baseline : NULL;
}

int api_keep_better(pexc_model *m, int m_rc, pexc_model *t, int t_rc, int by_bytes) {
    int take = !t_rc && t->plan &&
               (m_rc || !m->plan || (by_bytes && t->plan->arena_bytes < m->plan->arena_bytes));
    if (take) {
        int km = plan_kind(m), kt = plan_kind(t);
        pexc_model tmp = *m;
        *m = *t;
        *t = tmp;
        m->plan = plan_of(m, kt);
        t->plan = plan_of(t, km);
        m_rc = 0;
    }
    pexc_model_free(t);
    return m_rc;
}

int api_prepare(pexc_model *m, pexc_schedule schedule, util_err *e) {
    if (reader_load(&m->g, m->file, m->file_len, e)) return -1;
    if (ir_inline(&m->g, e)) return -1;
    if (lower_supported(&m->g, e)) return -1;
    if (ir_expand(&m->g, e)) return -1;
    if (ir_check(&m->g, e)) return -1;
    if (ir_validate(&m->g, e)) return -1;
    m->validated = 1;
    if (m->decimate && (ir_decimate(&m->g, e) < 0 || ir_check(&m->g, e))) return -1;
    if (lower_graph(&m->g, &m->calls, e)) return -1;
    if (sched_baseline(&m->g, m->calls, &m->baseline, &m->g.arena, e)) return -1;
    m->plan = &m->baseline;
    if (m->budget && schedule == PEXC_SCHEDULE_BASELINE) {
        /* the baseline is held to the budget as it is */
        if (m->baseline.arena_bytes > m->budget) {
            char why[400];
            sched_describe_peak(&m->g, m->calls, &m->baseline, why, sizeof why);
            return util_fail(e, "SRAM budget of %zu bytes is below the baseline schedule's peak, %zu bytes; "
                                "bottleneck: %s", m->budget, m->baseline.arena_bytes, why);
        }
    } else if (m->budget) {
        int stream = schedule != PEXC_SCHEDULE_CHANNELS;
        if (m->baseline.arena_bytes > m->budget) {
            if (sched_min_sram(&m->g, m->calls, m->budget, stream, &m->chosen, &m->g.arena, e)) return -1;
            if (m->chosen.arena_bytes > m->budget &&
                sched_min_sram(&m->g, m->calls, 0, stream, &m->chosen, &m->g.arena, e))
                return -1;
            if (m->chosen.arena_bytes > m->budget) {
                char why[400];
                sched_describe_peak(&m->g, m->calls, &m->chosen, why, sizeof why);
                return util_fail(e, "SRAM budget of %zu bytes is below the least peak pexc reaches%s, %zu bytes; "
                                    "bottleneck: %s", m->budget, stream ? "" : " with channel splits",
                                 m->chosen.arena_bytes, why);
            }
            m->plan = &m->chosen;
            m->stream = stream;
        }
    } else if (schedule == PEXC_SCHEDULE_DEFAULT) {
        if (sched_default(&m->g, m->calls, &m->chosen, &m->least, &m->g.arena, e)) return -1;
        if (m->chosen.arena_bytes < m->baseline.arena_bytes) m->plan = &m->chosen;
        m->stream = 2;
    } else if (schedule == PEXC_SCHEDULE_MIN_SRAM || schedule == PEXC_SCHEDULE_CHANNELS) {
        if (sched_min_sram(&m->g, m->calls, 0, schedule == PEXC_SCHEDULE_MIN_SRAM, &m->chosen, &m->g.arena, e))
            return -1;
        if (m->chosen.arena_bytes < m->baseline.arena_bytes) m->plan = &m->chosen;
        m->stream = schedule == PEXC_SCHEDULE_MIN_SRAM;
    }
    if (plan_host_check(&m->g, m->plan, e)) return -1;
    m->arena = calloc(1, m->plan->arena_bytes ? m->plan->arena_bytes : 1);
    if (!m->arena) return util_fail(e, "out of memory allocating a %zu-byte arena", m->plan->arena_bytes);
    exec_reset_state(&m->g, m->plan, m->arena);
    return 0;
}

int pexc_model_open(const char *path, pexc_schedule schedule, pexc_model **out, char *err, size_t err_len) {
    return pexc_model_open_budget(path, schedule, 0, out, err, err_len);
}

int pexc_model_open_budget(const char *path, pexc_schedule schedule, size_t sram_budget, pexc_model **out,
                           char *err, size_t err_len) {
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        snprintf(err, err_len, "%s: is a directory, expected a .tflite model file", path);
        return -1;
    }
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, err_len, "%s: cannot open", path);
        return -1;
    }
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        snprintf(err, err_len, "%s: cannot seek", path);
        return -1;
    }
    long n = ftell(f);
    if (n < 0 || n > (1L << 30)) {
        fclose(f);
        snprintf(err, err_len, "%s: size %ld not supported (limit 1 GiB)", path, n);
        return -1;
    }
    rewind(f);
    uint8_t *buf = malloc((size_t)n + 1);
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        snprintf(err, err_len, "%s: read failed", path);
        return -1;
    }
    fclose(f);
    int r = pexc_model_open_bytes_budget(buf, (size_t)n, schedule, sram_budget, out, err, err_len);
    free(buf);
    if (r && err_len) {
        char tmp[600];
        snprintf(tmp, sizeof tmp, "%s: %s", path, err);
        snprintf(err, err_len, "%s", tmp);
    }
    return r;
}

void pexc_model_free(pexc_model *m) {
    if (!m) return;
    util_arena_free(&m->g.arena);
    free(m->arena);
    free(m->file);
    free(m);
}

size_t pexc_model_arena_bytes(const pexc_model *m) { return m->plan->arena_bytes; }
size_t pexc_model_baseline_arena_bytes(const pexc_model *m) { return m->baseline.arena_bytes; }

const char *pexc_model_schedule_name(const pexc_model *m) {
    if (m->plan == &m->baseline) return "baseline";
    return m->stream == 2 ? "default" : m->stream ? "min-sram" : "channels";
}
int pexc_model_num_inputs(const pexc_model *m) { return m->g.n_inputs; }
int pexc_model_num_outputs(const pexc_model *m) { return m->g.n_outputs; }
size_t pexc_model_input_bytes(const pexc_model *m, int i) { return m->g.tensors[m->g.inputs[i]].bytes; }
size_t pexc_model_output_bytes(const pexc_model *m, int i) { return m->g.tensors[m->g.outputs[i]].bytes; }
int pexc_model_input_type(const pexc_model *m, int i) { return m->g.tensors[m->g.inputs[i]].type; }

static int tensor_info(const pexc_model *m, int32_t t, pexc_tensor_info *info) {
    const ir_tensor *x = &m->g.tensors[t];
    memset(info, 0, sizeof *info);
    info->name = x->name ? x->name : "";
    info->type = x->type;
    info->rank = x->rank < 6 ? x->rank : 6;
    for (int d = 0; d < info->rank; d++) info->shape[d] = x->shape[d];
    info->bytes = x->bytes;
    info->n_quant = x->nq;
    info->scales = x->scale;
    info->zero_points = x->zero_point;
    info->quantized_dimension = x->q_dim;
    return 0;
}

int pexc_model_input_info(const pexc_model *m, int i, pexc_tensor_info *info) {
    if (i < 0 || i >= m->g.n_inputs) return -1;
    return tensor_info(m, m->g.inputs[i], info);
}

int pexc_model_output_info(const pexc_model *m, int i, pexc_tensor_info *info) {
    if (i < 0 || i >= m->g.n_outputs) return -1;
    return tensor_info(m, m->g.outputs[i], info);
}

int pexc_schedule_from_name(const char *s, pexc_schedule *out) {
    if (!strcmp(s, "baseline")) *out = PEXC_SCHEDULE_BASELINE;
    else if (!strcmp(s, "min-sram")) *out = PEXC_SCHEDULE_MIN_SRAM;
    else if (!strcmp(s, "channels")) *out = PEXC_SCHEDULE_CHANNELS;
    else if (!strcmp(s, "default")) *out = PEXC_SCHEDULE_DEFAULT;
    else return -1;
    return 0;
}

/* Sizes above 4 GiB cannot be the SRAM of a 32-bit microcontroller. */
int pexc_parse_size(const char *opt, const char *s, size_t *out, char *err, size_t err_len) {
    const unsigned long long limit = (unsigned long long)1 << 32;
    unsigned long long v = 0, mult = 1;
    const char *c = s;
    int ok = *c >= '0' && *c <= '9', big = 0;
    for (; *c >= '0' && *c <= '9'; c++) {
        v = v * 10 + (unsigned long long)(*c - '0');
        if (v > limit) {
            big = 1;
            v = limit;
        }
    }
    if (ok && *c) {
        if (!strcmp(c, "K") || !strcmp(c, "k") || !strcmp(c, "KiB")) mult = 1024;
        else if (!strcmp(c, "M") || !strcmp(c, "MiB")) mult = 1024 * 1024;
        else ok = 0;
    }
    if (!ok || v == 0) {
        snprintf(err, err_len, "%s takes a positive size: " PEXC_SIZE_FORMS "; got '%s'", opt, s);
        return -1;
    }
    if (big || v * mult > limit) {
        snprintf(err, err_len, "%s '%s' is more than 4 GiB, the address space of a 32-bit microcontroller", opt, s);
        return -1;
    }
    *out = (size_t)(v * mult);
    return 0;
}

int pexc_model_run_batch(pexc_model *m, size_t n, const void *const *inputs, void *const *outputs, char *err,
                         size_t err_len) {
    enum { MAX_IO = 64 };
    int ni = m->g.n_inputs, no = m->g.n_outputs;
    if (ni > MAX_IO || no > MAX_IO) {
        snprintf(err, err_len, "batch runs take up to %d inputs and outputs (this model has %d inputs, %d outputs)",
                 MAX_IO, ni, no);
        return -1;
    }
    int workers = exec_batch_workers(n);
    if (workers > 1 && exec_batch_splittable(&m->g, m->plan)) {
        /* items are independent: spread over the cores, same bytes */
        util_err e = {{0}};
        size_t bad = 0;
        if (exec_run_batch(&m->g, m->calls, m->plan, m->arena, n, inputs, outputs, workers, &bad, &e)) {
            snprintf(err, err_len, "batch item %zu: %s", bad, e.msg);
            return -1;
        }
        return 0;
    }
    const void *ins[MAX_IO];
    void *outs[MAX_IO];
    for (size_t b = 0; b < n; b++) {
        for (int i = 0; i < ni; i++) ins[i] = (const uint8_t *)inputs[i] + b * pexc_model_input_bytes(m, i);
        for (int o = 0; o < no; o++) outs[o] = (uint8_t *)outputs[o] + b * pexc_model_output_bytes(m, o);
        pexc_model_reset(m); /* batch items are independent inputs */
        if (pexc_model_run(m, ins, outs, err, err_len)) {
            if (err_len) {
                char tmp[600];
                snprintf(tmp, sizeof tmp, "batch item %zu: %s", b, err);
                snprintf(err, err_len, "%s", tmp);
            }
            return -1;
        }
    }
    return 0;
}

void pexc_free(void *p) { free(p); }

/* TFLM runs a CALL_ONCE init subgraph in the first Invoke() only, even
 * after a Reset(), and never again: the same here. */
static void run_init_once(pexc_model *m) {
    if (m->init_done) return;
    exec_init_state(&m->g, m->plan, m->arena);
    m->init_done = 1;
}

int pexc_model_run(pexc_model *m, const void *const *inputs, void *const *outputs, char *err, size_t err_len) {
    util_err e = {{0}};
    run_init_once(m);
    if (exec_run(&m->g, m->calls, m->plan, m->arena, inputs, outputs, &e)) {
        copy_err(err, err_len, &e);
        return -1;
    }
    return 0;
}

void pexc_model_reset(pexc_model *m) { exec_reset_state(&m->g, m->plan, m->arena); }

int pexc_model_run_dump(pexc_model *m, const void *const *inputs, void *const *outputs, const char *dump_dir,
                        char *err, size_t err_len) {
    util_err e = {{0}};
    run_init_once(m);
    if (exec_run_dump(&m->g, m->calls, m->plan, m->arena, inputs, outputs, dump_dir, &e)) {
        copy_err(err, err_len, &e);
        return -1;
    }
    return 0;
}

int pexc_model_det_input(const pexc_model *m, int i, void *buf) {
    const ir_tensor *t = &m->g.tensors[m->g.inputs[i]];
    uint8_t *b = buf;
    for (int64_t k = 0; k < t->elems; k++) {
        uint64_t x = ((uint64_t)k * 37u + 11u) & 0xFFu;
        int8_t s8 = (int8_t)(uint8_t)x;
        switch (t->type) {
        case IR_I8: case IR_U8: b[k] = (uint8_t)x; break;
        case IR_F32: {
            float f = (float)x / 255.0f;
            memcpy(b + 4 * k, &f, 4);
            break;
        }
        case IR_I16: {
            int16_t v = (int16_t)(s8 * 256);
            memcpy(b + 2 * k, &v, 2);
            break;
        }
        case IR_I32: {
            int32_t v = s8;
            memcpy(b + 4 * k, &v, 4);
            break;
        }
        case IR_I64: {
            int64_t v = s8;
            memcpy(b + 8 * k, &v, 8);
            break;
        }
        case IR_BOOL: b[k] = (uint8_t)(x & 1u); break;
        case IR_U16: {
            uint16_t v = (uint16_t)x;
            memcpy(b + 2 * k, &v, 2);
            break;
        }
        case IR_U32: {
            uint32_t v = (uint32_t)x;
            memcpy(b + 4 * k, &v, 4);
            break;
        }
        case IR_U64: {
            uint64_t v = x;
            memcpy(b + 8 * k, &v, 8);
            break;
        }
        default: return -1;
        }
    }
    return 0;
}
