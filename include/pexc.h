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
    /* least peak whose predicted instructions stay within 1.05x the
     * baseline's (the default; with a budget: as PEXC_SCHEDULE_MIN_SRAM) */
    PEXC_SCHEDULE_DEFAULT = 3,
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

/* A model input or output tensor as TFLite describes it. */
typedef struct {
    const char *name;          /* the tensor's name in the model ("" when it has none) */
    int type;                  /* TFLite tensor type code (9 = int8, 0 = float32, ...) */
    int rank;
    int32_t shape[6];          /* shape[0..rank-1] */
    size_t bytes;
    int n_quant;               /* number of (scale, zero point) pairs, 0: not quantised */
    const float *scales;       /* [n_quant] */
    const int64_t *zero_points; /* [n_quant] */
    int quantized_dimension;
} pexc_tensor_info;

/* Fill info for input / output i; -1 when i is out of range. The pointers
 * stay valid until pexc_model_free. */
int pexc_model_input_info(const pexc_model *m, int i, pexc_tensor_info *info);
int pexc_model_output_info(const pexc_model *m, int i, pexc_tensor_info *info);

/* "baseline", "channels" or "min-sram" as a pexc_schedule; -1 when s is none of them. */
int pexc_schedule_from_name(const char *s, pexc_schedule *out);

/* A size: digits, optionally K/k/KiB (x 1024) or M/MiB (x 1048576), above 0
 * and at most 4 GiB. -1 with the reason in err (naming opt) when s is not one. */
int pexc_parse_size(const char *opt, const char *s, size_t *out, char *err, size_t err_len);

/* Runs n independent inferences (operator state reset before each):
 * inputs[i] holds n inputs for input i back to back,
 * outputs[o] receives n outputs back to back. Stops at the first error,
 * naming the batch item. */
int pexc_model_run_batch(pexc_model *m, size_t n, const void *const *inputs, void *const *outputs, char *err,
                         size_t err_len);

/* `pexc inspect --json`'s figures for the chosen plan as a JSON object
 * (label: its "model" field), NUL-terminated; free it with pexc_free. NULL
 * when out of memory. */
char *pexc_model_json(const pexc_model *m, const char *label);
/* The same with the code-flash and stack figures ("code_flash_bytes",
 * "stack_bytes", "device") for target (cortex-m4, -m7, -m33, -m55); NULL or
 * any other target: cortex-m4's. "weight_flash_bytes" holds for any. */
char *pexc_model_json_target(const pexc_model *m, const char *label, const char *target);
void pexc_free(void *p);

typedef struct {
    pexc_schedule schedule;
    size_t sram_budget;      /* bytes, 0: none */
    const char *name;        /* prefix of the generated code; NULL: the model file's name */
    const char *target;      /* host (NULL), cortex-m4, cortex-m7, cortex-m33 or cortex-m55 */
    const char *arena;       /* static (NULL) or caller */
    const char *runtime_dir; /* the runtime/ sources; NULL: found next to the executable, at the
                              * build's runtime path, or in the environment variable PEXC_RUNTIME_DIR */
    int stream_input;        /* 1: plan with streamed inputs; the code asks a caller's function for
                              * input pixels as the schedule needs them (NAME_run_stream) */
    int stream_output;       /* 1: outputs are handed to a caller's function as the schedule
                              * makes them (NAME_run_stream takes it instead of output arrays) */
} pexc_compile_options;

/* pexc compile: writes out_dir/NAME.h, NAME.c, the runtime sources they use
 * and CMakeLists.txt. summary (may be NULL) receives the one line the
 * command prints; *figures (figures may be NULL) the model's JSON as
 * pexc_model_json gives it, to free with pexc_free. Returns 0, -1 with the
 * reason in err, or -2 when an option is invalid (a usage error). */
int pexc_compile(const char *model_path, const char *out_dir, const pexc_compile_options *o, char *summary,
                 size_t summary_len, char **figures, char *err, size_t err_len);

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
