/*
 * The pixels of an output tile in raster order, each with the matching
 * pixels of two operands that may broadcast (extent 1) along any axis: the
 * walk of the int8 ADD kernels (elementwise_s8.c and its Helium twin
 * mve_add.c), which then run over one pixel's channels, adjacent in every
 * view.
 */
#ifndef PEXC_PIX2_H
#define PEXC_PIX2_H

#include "pexc_kernels.h"

typedef struct {
    int32_t n, y, x;      /* the current output pixel */
    const int8_t *a, *b;  /* the operands' elements of channel t->c0 (or 0 where broadcast) */
    int8_t *o;            /* the output's element of channel t->c0 */
} pexc_pix2;

/* Index along an operand axis of extent e matching output index i. */
static inline int32_t pexc_pix2_bc(int32_t e, int32_t i) { return e == 1 ? 0 : i; }

static inline void pexc_pix2_ptrs(pexc_pix2 *it, const pexc_view *in1, const pexc_view *in2, pexc_view *out,
                                  int32_t c0) {
    it->a = (const int8_t *)in1->data + pexc_view_index(in1, pexc_pix2_bc(in1->n, it->n), pexc_pix2_bc(in1->h, it->y),
                                                        pexc_pix2_bc(in1->w, it->x), pexc_pix2_bc(in1->c, c0));
    it->b = (const int8_t *)in2->data + pexc_view_index(in2, pexc_pix2_bc(in2->n, it->n), pexc_pix2_bc(in2->h, it->y),
                                                        pexc_pix2_bc(in2->w, it->x), pexc_pix2_bc(in2->c, c0));
    it->o = (int8_t *)out->data + pexc_view_index(out, it->n, it->y, it->x, c0);
}

/* Moves to the next pixel of tile t (the first one after pexc_pix2_begin)
 * and sets its pointers; 0 past the last. */
static inline int pexc_pix2_next(pexc_pix2 *it, const pexc_view *in1, const pexc_view *in2, pexc_view *out,
                                 const pexc_tile *t) {
    if (it->n < 0) {
        if (out->n <= 0 || t->y0 >= t->y1) return 0;
        it->n = 0;
        it->y = t->y0;
        it->x = pexc_tile_xb(t, t->y0) - 1;
    }
    it->x++;
    while (it->x >= pexc_tile_xe(t, it->y, out->w)) { /* past a row's end (or an empty row) */
        if (++it->y >= t->y1) {
            if (++it->n >= out->n) return 0;
            it->y = t->y0;
        }
        it->x = pexc_tile_xb(t, it->y);
    }
    pexc_pix2_ptrs(it, in1, in2, out, t->c0);
    return 1;
}

static inline pexc_pix2 pexc_pix2_begin(void) {
    pexc_pix2 it = {-1, 0, 0, NULL, NULL, NULL};
    return it;
}

#endif /* PEXC_PIX2_H */
