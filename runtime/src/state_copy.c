/* A resource variable's read or assignment: a byte copy (pexc_kernels.h). */
#include <string.h>

#include "pexc_kernels.h"

pexc_status pexc_state_copy(const pexc_state_copy_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out || p->bytes < 0) return PEXC_ERR_ARG;
    memcpy(out, in[0], (size_t)p->bytes);
    return PEXC_OK;
}
