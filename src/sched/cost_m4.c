/* Placeholder until tools/fit_cost.py writes the fitted table. */
#include "sched/cost.h"

const double cost_m4_per_run = 0;
const cost_row cost_m4_rows[] = {
    {-1, 0, NULL, {60, 10, 10, 2, 10}},
};
const int32_t cost_m4_n_rows = (int32_t)(sizeof cost_m4_rows / sizeof cost_m4_rows[0]);
