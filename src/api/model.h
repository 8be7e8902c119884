/* The model object behind the public API (shared with the CLI). */
#ifndef PEXC_API_MODEL_H
#define PEXC_API_MODEL_H

#include "internal.h"
#include "pexc.h"

struct pexc_model {
    uint8_t *file;
    size_t file_len;
    ir_graph g;
    k_call *calls;
    plan_t baseline;
    plan_t chosen;    /* the searched schedule */
    plan_t least;     /* the default schedule: also the least-peak plan (min-sram) */
    plan_t *plan;     /* the chosen schedule */
    uint8_t *arena;   /* host arena of plan->arena_bytes */
    size_t budget;    /* SRAM budget in bytes, 0: none */
    int stream;       /* chosen was searched with row streaming (min-sram), else channels;
                         2: the default rule chose it */
    int init_done;    /* resource variables hold their CALL_ONCE values (exec_init_state) */
    int decimate;     /* the graph's strided 1x1 skip convolutions decimated (ir_decimate) */
    int validated;    /* the graph passed ir_validate */
    /* the default schedule kept this graph: the least peak of its
     * decimated twin (api_twin) and that plan's predicted instructions,
     * when lower than this graph's (0: none) */
    size_t twin_least_bytes;
    double twin_least_cost;
};

int api_prepare(pexc_model *m, pexc_schedule schedule, util_err *e);
/* m's twin: the same file with its strided 1x1 skip convolutions
 * decimated (ir_decimate), prepared with schedule and budget; NULL when m
 * has none or m is a twin itself. */
pexc_model *api_twin(const pexc_model *m, pexc_schedule schedule, size_t budget, util_err *e);
/* Makes m the twin t when m's plan failed (m_rc != 0) and t's did not,
 * or, by_bytes, when t's plan holds fewer bytes (under a budget the plan
 * that fits is the fastest one, so the model's own graph stays when it
 * fits); frees t. Returns m's outcome after. */
int api_keep_better(pexc_model *m, int m_rc, pexc_model *t, int t_rc, int by_bytes);
/* Plans m again with its inputs (in) and/or outputs (out) streamed, held to
 * budget bytes (0: none), and gives it an arena of that plan (stream_io.c). */
int api_plan_streamed(pexc_model *m, pexc_schedule schedule, int in, int out, size_t budget, util_err *e);

/* Predicted instructions (sched_plan_cost) of the chosen plan, the baseline
 * and, under the default rule, the least-peak plan (trade.c). */
typedef struct {
    double cost, base_cost, least_cost;
    size_t least_bytes;
    int is_default;
} api_trade;
void api_trade_of(const pexc_model *m, api_trade *t);
/* "default: 2,356 B at 1.03x baseline instructions (predicted); min-sram:
 * 2,100 B at 1.41x", or for another schedule its predicted instructions. */
void api_trade_line(const pexc_model *m, char *buf, size_t n);

/* "[d0,d1,...]" */
void api_shape_str(const ir_tensor *t, char *buf, size_t n);

#define PEXC_SIZE_FORMS "a byte count (65536), or K or KiB (x 1024: 64K), or M or MiB (x 1048576: 1MiB)"

#endif
