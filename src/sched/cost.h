/* The cost model (cost.c) and its fitted constants (cost_m4.c, written by
 * tools/fit_cost.py: `make cost-table`). */
#ifndef PEXC_SCHED_COST_H
#define PEXC_SCHED_COST_H

#include "internal.h"

/* A step's features: 1, output pixels, output values, MACs, output rows,
 * and the MACs the kernels' four-wide inner loops leave to a scalar tail:
 * those of output channels beyond a multiple of 4, and those of input
 * channels beyond a multiple of 4 (convolutions, fully connected; for a
 * depthwise convolution instead the MACs of windows other than 3x3, which
 * miss its specialised path), and a convolution's MACs off its two-pixel
 * path (a tile of fewer than COST_PAIR_MIN_PIXELS pixels, or a window read
 * from a ring). */
#define COST_NF 8
/* runtime/src/conv2d_s8.c's CONV_PAIR_MIN_PIXELS: a tile of fewer pixels
 * runs one pixel at a time (about 1.75 instructions per MAC against 1.3). */
#define COST_PAIR_MIN_PIXELS 8
/* runtime/include/pexc_kernels.h's PEXC_GATHER_MAX: a window of at most
 * this many values (taps x input channels) takes the gathered path. */
#define COST_GATHER_MAX 128

/* Instructions of one step: c . features. kind < 0: the catch-all row;
 * fn NULL: every family of the kind (K_GENERIC), else the runtime function
 * of one. */
typedef struct {
    int kind;
    int mode;
    const char *fn;
    double c[COST_NF];
} cost_row;

extern const cost_row cost_m4_rows[];
extern const int32_t cost_m4_n_rows;
extern const double cost_m4_per_run; /* outside the step loop */

void sched_step_features(const ir_graph *g, const k_call *calls, const plan_step *st, double f[COST_NF]);
const cost_row *sched_cost_row(const k_call *k, plan_step_mode mode);
double sched_step_cost(const ir_graph *g, const k_call *calls, const plan_step *st);

#endif
