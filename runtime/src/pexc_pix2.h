/*
 * An output pixel of a tile with the matching pixels of two operands that
 * may broadcast (extent 1) along any axis: where the int8 ADD kernels
 * (elementwise_s8.c and its Helium twin mve_add.c) start each pixel's run
 * over its channels, adjacent in every view.
 */
#ifndef PEXC_PIX2_H
#define PEXC_PIX2_H

#include "pexc_kernels.h"

/* The element of channel c0 (or 0 where an operand broadcasts it) of
 * output pixel (n, y, x) and of the operands' matching pixels. */
typedef struct {
    const int8_t *a, *b;
    int8_t *o;
} pexc_pix2;

/* Index along an operand axis of extent e matching output index i. */
static inline int32_t pexc_pix2_bc(int32_t e, int32_t i) { return e == 1 ? 0 : i; }

static inline pexc_pix2 pexc_pix2_at(const pexc_view *in1, const pexc_view *in2, pexc_view *out, int32_t n,
                                     int32_t y, int32_t x, int32_t c0) {
    pexc_pix2 px;
    px.a = (const int8_t *)in1->data + pexc_view_index(in1, pexc_pix2_bc(in1->n, n), pexc_pix2_bc(in1->h, y),
                                                       pexc_pix2_bc(in1->w, x), pexc_pix2_bc(in1->c, c0));
    px.b = (const int8_t *)in2->data + pexc_view_index(in2, pexc_pix2_bc(in2->n, n), pexc_pix2_bc(in2->h, y),
                                                       pexc_pix2_bc(in2->w, x), pexc_pix2_bc(in2->c, c0));
    px.o = (int8_t *)out->data + pexc_view_index(out, n, y, x, c0);
    return px;
}

#endif /* PEXC_PIX2_H */
