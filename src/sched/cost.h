/* The cost model (cost.c) and its fitted constants (cost_m4.c, written by
 * tools/fit_cost.py: `make cost-table`). */
#ifndef PEXC_SCHED_COST_H
#define PEXC_SCHED_COST_H

#include "internal.h"

/* A step's features: 1, output pixels, output values, MACs, output rows,
 * and the MACs the kernels' four-wide inner loops leave to a scalar tail:
 * those of output channels beyond a multiple of 4, and those of input
 * channels beyond a multiple of 4 (convolutions, fully connected; for a
 * depthwise convolution instead the MACs of windows other than 3x3 of
 * depth multiplier 1, which miss its specialised path), and a convolution's MACs off its two-pixel
 * path (a tile of fewer than COST_PAIR_MIN_PIXELS pixels, or a window read
 * from a ring).
 * Eight more for the kernels whose work is not MACs or whose MACs run at
 * another rate: values read by a window (a pool's window values, a
 * gathered first layer's window copy), the MACs of a gathered first layer
 * (not counted in the MACs term), and those of its output channels beyond
 * a multiple of 4; for a convolution wider than one tap, output values
 * times taps (the per-tap loop work, heavy where input channels are few;
 * for a depthwise layer off its 3x3 path, pixels times taps); and the MACs
 * of a convolution wider than one tap (not counted in the MACs term, which
 * is then a pointwise layer's); and the filter bytes a convolution's
 * two-pixel path folds once per call; and the output values of a step
 * whose input is a ring; and the output values of a layer whose
 * requantisation takes the long form (the short one not proved exact).
 */
#define COST_NF 16
/* runtime/src/conv2d_s8.c's CONV_PAIR_MIN_PIXELS: a tile of fewer pixels
 * runs one pixel at a time (about 1.75 instructions per MAC against 1.3). */
#define COST_PAIR_MIN_PIXELS 8
/* runtime/include/pexc_kernels.h's PEXC_GATHER_MAX: a window of at most
 * this many values (taps x input channels) takes the gathered path. */
#define COST_GATHER_MAX 128

/* Instructions of one step: c . features. kind < 0: the catch-all row;
 * fn NULL: every path of the kind (for a path the fit has not seen), else
 * one path (sched_cost_path). */
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
/* The step's kernel path within its kind (the runtime function of a
 * K_GENERIC family; a convolution's pointwise, windowed or gathered loops,
 * a depthwise layer's 3x3 path, a fully-connected layer's four-unit
 * blocks), or NULL: the cost class's third part. */
const char *sched_cost_path(const k_call *k, const plan_step *st);
const cost_row *sched_cost_row(const k_call *k, plan_step_mode mode, const char *fn);
double sched_step_cost(const ir_graph *g, const k_call *calls, const plan_step *st);

#endif
