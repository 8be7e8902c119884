/*
 * Outputs the compiler knows in full: SHAPE, BROADCAST_ARGS, ZEROS_LIKE and
 * FILL with a constant value write a constant byte pattern, repeated.
 */
#include <string.h>

#include "pexc_kernels.h"

/**
 * @brief out[k] = pattern[k % pattern_bytes] for k in [0, bytes).
 *
 * in is not read (the output does not depend on any tensor's values).
 */
pexc_status pexc_move_fill(const pexc_move_fill_params *p, const void *const *in, void *out) {
    (void)in;
    if (!p || !out || !p->pattern || p->pattern_bytes < 1 || p->bytes < 0 || p->bytes % p->pattern_bytes)
        return PEXC_ERR_ARG;
    unsigned char *d = out;
    if (p->pattern_bytes == 1) {
        memset(d, p->pattern[0], (size_t)p->bytes);
        return PEXC_OK;
    }
    for (int32_t k = 0; k < p->bytes; k += p->pattern_bytes) memcpy(d + k, p->pattern, (size_t)p->pattern_bytes);
    return PEXC_OK;
}
