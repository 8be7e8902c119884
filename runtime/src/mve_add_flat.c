/*
 * Helium (MVE) ADD of int8 tensors stored as one run, for the Cortex-M55.
 *
 * A residual ADD (ic_resnet8's two, 24,576 elements) costs about 24
 * instructions an element through pexc_mve_add_s8's pixel walk: three view
 * indices and a broadcast test for every pixel of 16 or 32 channels. When
 * both operands have the output's shape and every view stores its channels
 * densely with no ring (the common case: whole tensors in the arena), the
 * tile's elements are one contiguous run in each buffer, at the same
 * offsets, so they go four at a time through one flat loop: about 6
 * instructions an element. The arithmetic is mve_add.c's (TFLite's exact
 * rescaling by VQRDMULH and the rounding fixup of mve_requant.h), so the
 * bytes are the same. Any other layout returns 0 and takes the pixel walk.
 */
#include "pexc_kernels.h"
#include "mve_kernels.h"

#ifdef PEXC_MVE
#include "mve_requant.h"

/* v is stored densely with out's shape and no ring. */
static int mve_flat_like(const pexc_view *v, const pexc_view *out) {
    return v->n == out->n && v->h == out->h && v->w == out->w && v->c == out->c && v->c_stored == v->c &&
           v->c_begin == 0 && !v->ring_px;
}

int pexc_mve_add_flat_s8(const pexc_add_params *p, const pexc_view *in1, const pexc_view *in2, const pexc_tile *t,
                         const pexc_view *out) {
    if (!mve_flat_like(out, out) || !mve_flat_like(in1, out) || !mve_flat_like(in2, out) || t->c0 != 0 ||
        t->c1 != out->c || t->y0 >= t->y1)
        return 0;
    const int32x4_t la = vdupq_n_s32(p->left_shift);
    const int32x4_t r1 = vdupq_n_s32(p->input1_shift), r2 = vdupq_n_s32(p->input2_shift);
    const int32x4_t ro = vdupq_n_s32(p->output_shift);
    const int32x4_t lo = vdupq_n_s32(p->act_min), hi = vdupq_n_s32(p->act_max);
    const int32_t m1 = p->input1_mult, m2 = p->input2_mult, mo = p->output_mult;
    const int32_t k1 = p->input1_offset, k2 = p->input2_offset, zo = p->output_offset;
    const int8_t *a0 = (const int8_t *)in1->data, *b0 = (const int8_t *)in2->data;
    int8_t *o0 = (int8_t *)out->data;
    const int32_t count = (int32_t)pexc_tile_pixels(t, out->w) * out->c;
    for (int32_t n = 0; n < out->n; n++) {
        const size_t first = pexc_view_index(out, n, t->y0, pexc_tile_xb(t, t->y0), 0);
        const int8_t *a = a0 + first, *b = b0 + first;
        int8_t *o = o0 + first;
        for (int32_t i = 0; i < count; i += 4, a += 4, b += 4, o += 4) {
            const mve_pred16_t pr = vctp32q((uint32_t)(count - i));
            const int32x4_t sa = mve_scale_le1(vshlq_s32(vaddq_n_s32(vldrbq_z_s32(a, pr), k1), la), m1, r1);
            const int32x4_t sb = mve_scale_le1(vshlq_s32(vaddq_n_s32(vldrbq_z_s32(b, pr), k2), la), m2, r2);
            const int32x4_t v = vaddq_n_s32(mve_scale_le1(vaddq_s32(sa, sb), mo, ro), zo);
            vstrbq_p_s32(o, vminq_s32(vmaxq_s32(v, lo), hi), pr);
        }
    }
    return 1;
}

#else
typedef int pexc_mve_add_flat_unused;
#endif
