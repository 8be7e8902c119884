/* The cost model (cost.c) and its fitted constants (cost_m4.c, written by
 * tools/fit_cost.py: `make cost-table`). */
#ifndef PEXC_SCHED_COST_H
#define PEXC_SCHED_COST_H

#include "internal.h"

/* A step's features (cost.c says why each is there):
 *  0  1 (the call)
 *  1  output pixels
 *  2  output values
 *  3  MACs (a convolution's: pointwise ones only, see 9 and 12; MACs of
 *     taps inside the input)
 *  4  output rows
 *  5  MACs of output channels beyond a multiple of 4 (scalar tails)
 *  6  MACs of input channels beyond a multiple of 4; a windowed
 *     convolution's kernel-row run tails; a depthwise layer's MACs off
 *     its 3x3 path
 *  7  a convolution's MACs off its two-pixel path (a tile under
 *     COST_PAIR_MIN_PIXELS, a window read from a ring, a clipped window,
 *     a run of odd length)
 *  8  values read by a window: a pool's, a gathered first layer's copy
 *  9  a gathered first layer's MACs
 * 10  a gathered first layer's MACs of output channels beyond a multiple
 *     of 4
 * 11  a windowed convolution's output values x kernel rows inside; a
 *     depthwise layer's pixels x taps off its 3x3 path
 * 12  a windowed (wider than one tap, not gathered) convolution's MACs
 * 13  the filter bytes the two-pixel path folds once per call
 * 14  output values of a step whose input is a ring
 * 15  output values of a layer whose requantisation takes the long form
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
