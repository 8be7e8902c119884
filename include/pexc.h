/*
 * pexc public API: load an int8 .tflite model, plan it, run it on the host.
 *
 *   pexc_model *m;
 *   char err[512];
 *   if (pexc_model_open("model.tflite", PEXC_SCHEDULE_MIN_SRAM, &m, err, sizeof err)) { puts(err); ... }
 *   pexc_model_run(m, input_bytes, output_bytes, err, sizeof err);
 *   pexc_model_free(m);
 *
 * Inputs and outputs are raw tensor bytes (row-major, little-endian).
 * Every function returns 0 on success or -1 with a one-line message in err.
 */
#ifndef PEXC_H
#define PEXC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    PEXC_SCHEDULE_BASELINE = 0, /* TFLite's op order, whole tensors */
    PEXC_SCHEDULE_MIN_SRAM = 1, /* least peak SRAM found by the scheduler */
    PEXC_SCHEDULE_CHANNELS = 2, /* least peak with channel splits only (no row streaming) */
} pexc_schedule;

typedef struct pexc_model pexc_model;

int pexc_model_open(const char *path, pexc_schedule schedule, pexc_model **out, char *err, size_t err_len);
/* As pexc_model_open, with an SRAM budget in bytes (0: none). With a budget
 * the fastest schedule whose peak fits is chosen (the baseline if it fits);
 * a budget below the least reachable peak fails, naming the bottleneck.
 * PEXC_SCHEDULE_BASELINE with a budget: the baseline if it fits, else an
 * error; PEXC_SCHEDULE_CHANNELS: the fastest channel-split plan that fits. */
int pexc_model_open_budget(const char *path, pexc_schedule schedule, size_t sram_budget, pexc_model **out,
                           char *err, size_t err_len);
int pexc_model_open_bytes(const uint8_t *data, size_t len, pexc_schedule schedule, pexc_model **out, char *err,
                          size_t err_len);
int pexc_model_open_bytes_budget(const uint8_t *data, size_t len, pexc_schedule schedule, size_t sram_budget,
                                 pexc_model **out, char *err, size_t err_len);
void pexc_model_free(pexc_model *m);

size_t pexc_model_arena_bytes(const pexc_model *m);
/* Peak of the baseline schedule (TFLite's order, whole tensors). */
size_t pexc_model_baseline_arena_bytes(const pexc_model *m);
/* The schedule the plan actually is: "baseline" (also when min-sram or a
 * budget kept TFLite's order because nothing lowers its peak or it fits),
 * "channels" or "min-sram". */
const char *pexc_model_schedule_name(const pexc_model *m);
int pexc_model_num_inputs(const pexc_model *m);
int pexc_model_num_outputs(const pexc_model *m);
size_t pexc_model_input_bytes(const pexc_model *m, int i);
size_t pexc_model_output_bytes(const pexc_model *m, int i);
/* TFLite tensor type code (9 = int8, 0 = float32, ...) */
int pexc_model_input_type(const pexc_model *m, int i);

/* Runs one inference: inputs[i] and outputs[i] hold the tensors' bytes.
 * Operator state (an LSTM's variable tensors) carries from one run to the
 * next, as across TFLM Invoke() calls; it starts at its initial value when
 * the model is opened and after pexc_model_reset. */
int pexc_model_run(pexc_model *m, const void *const *inputs, void *const *outputs, char *err, size_t err_len);

/* Puts operator state back to its initial value (TFLM's Reset()). */
void pexc_model_reset(pexc_model *m);
/* As pexc_model_run, also writing every intermediate tensor the schedule
 * holds whole to dump_dir/<tensor index>.bin (for finding the first operator
 * that differs from a reference). */
int pexc_model_run_dump(pexc_model *m, const void *const *inputs, void *const *outputs, const char *dump_dir,
                        char *err, size_t err_len);

/* Fills buf with the deterministic input of ../shared/models/golden/README.md
 * for input i (x[k] = (k * 37 + 11) & 0xFF in the tensor's type). */
int pexc_model_det_input(const pexc_model *m, int i, void *buf);

#ifdef __cplusplus
}
#endif
#endif /* PEXC_H */
