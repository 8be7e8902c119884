/*
 * int16 PAD and PADV2: the input copied into the middle of the output, every
 * other element set to one value (TFLM pads int16 with 0 unless PADV2 gives
 * a constant: not with the zero point, unlike int8).
 */
#include "pexc_kernels.h"

/**
 * @brief PAD int16 [in_dims] -> int16 [out_dims], input at offset before[].
 */
pexc_status pexc_pad_s16(const pexc_pad_s16_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out) return PEXC_ERR_ARG;
    const int16_t *x = in[0];
    int16_t *y = out;
    const int32_t *id = p->in_dims, *od = p->out_dims, *bf = p->before;
    size_t i = 0;
    for (int32_t n = 0; n < od[0]; n++)
        for (int32_t h = 0; h < od[1]; h++)
            for (int32_t w = 0; w < od[2]; w++)
                for (int32_t c = 0; c < od[3]; c++, i++) {
                    const int32_t a = n - bf[0], b = h - bf[1], e = w - bf[2], f = c - bf[3];
                    if (a < 0 || a >= id[0] || b < 0 || b >= id[1] || e < 0 || e >= id[2] || f < 0 || f >= id[3])
                        y[i] = (int16_t)p->value;
                    else
                        y[i] = x[(((size_t)a * id[1] + b) * id[2] + e) * id[3] + f];
                }
    return PEXC_OK;
}
