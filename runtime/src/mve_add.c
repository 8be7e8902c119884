/*
 * Helium (MVE) path of int8 ADD (pexc_add_s8), for the Cortex-M55.
 *
 * TFLite's quantised ADD takes each operand to a common scale ((x + offset)
 * << left_shift, then a doubling high multiply by a multiplier below one and
 * a rounding right shift), adds or subtracts, and rescales the sum the same
 * way. Each of those steps is the vector requantisation of mve_conv.c:
 * VQRDMULH is the doubling high multiply, and VRSHL after the fixup (-1 for
 * a negative value when the shift is not 0) is the round-half-away-from-zero
 * divide, so the bytes are TFLite's. Four elements go in int32 lanes, from
 * bytes widened as they are loaded (VLDRB.S32) to bytes narrowed as they
 * are stored (VSTRB.32); a broadcast channel is one value duplicated.
 *
 * pexc_add_s8 (elementwise_s8.c) hands its tiles to pexc_mve_add_s8 when the
 * core has integer MVE (runtime/src/mve_kernels.h).
 */
#include "pexc_kernels.h"
#include "mve_kernels.h"
#include "pexc_pix2.h"

#ifdef PEXC_MVE
#include "mve_requant.h"

int pexc_mve_add_s8(const pexc_add_params *p, const pexc_view *in1, const pexc_view *in2, const pexc_tile *t,
                    pexc_view *out) {
    if (pexc_mve_add_flat_s8(p, in1, in2, t, out)) return 1;
    const int32x4_t la = vdupq_n_s32(p->left_shift);
    const int32x4_t r1 = vdupq_n_s32(p->input1_shift), r2 = vdupq_n_s32(p->input2_shift);
    const int32x4_t ro = vdupq_n_s32(p->output_shift);
    const int32x4_t lo = vdupq_n_s32(p->act_min), hi = vdupq_n_s32(p->act_max);
    const int32_t nc = t->c1 - t->c0;
    for (int32_t n = 0; n < out->n; n++)
        for (int32_t y = t->y0; y < t->y1; y++)
            for (int32_t x = pexc_tile_xb(t, y); x < pexc_tile_xe(t, y, out->w); x++) {
                const pexc_pix2 it = pexc_pix2_at(in1, in2, out, n, y, x, t->c0);
                /* a pixel's channels are adjacent in every view; a broadcast
                 * channel (extent 1) is one value duplicated */
                const int8_t *a = it.a, *b = it.b;
                int8_t *o = it.o;
                const int32x4_t a1 = vdupq_n_s32(a[0]), b1 = vdupq_n_s32(b[0]);
                for (int32_t c = 0; c < nc; c += 4) {
                    const mve_pred16_t pr = vctp32q((uint32_t)(nc - c));
                    const int32x4_t va = in1->c == 1 ? a1 : vldrbq_z_s32(a + c, pr);
                    const int32x4_t vb = in2->c == 1 ? b1 : vldrbq_z_s32(b + c, pr);
                    const int32x4_t sa = mve_scale_le1(vshlq_s32(vaddq_n_s32(va, p->input1_offset), la), p->input1_mult, r1);
                    const int32x4_t sb = mve_scale_le1(vshlq_s32(vaddq_n_s32(vb, p->input2_offset), la), p->input2_mult, r2);
                    int32x4_t v = vaddq_n_s32(mve_scale_le1(vaddq_s32(sa, sb), p->output_mult, ro), p->output_offset);
                    vstrbq_p_s32(o + c, vminq_s32(vmaxq_s32(v, lo), hi), pr);
                }
            }
    return 1;
}

#else
typedef int pexc_mve_add_unused;
#endif
