/*
 * Helium (MVE) path of int8 AVERAGE_POOL_2D, for the Cortex-M55.
 *
 * The portable kernel indexes every tap of every channel through the view
 * (a multiply-add and a test per byte), 17 instructions a tap in kws_ds_cnn's
 * global pool of 25 x 5 taps over 64 channels, more than its depthwise
 * layers cost per output. Here eight channels are summed per vector: each
 * window row's first tap is indexed once, the taps along it follow one
 * another c_stored bytes apart (pexc_view_next wraps a ring), and VLDRB.S16
 * widens eight bytes as it loads them. An int16 lane holds the sum of up
 * to 255 taps of int8 exactly (|sum| <= 128 * 255 < 2^15), so larger
 * windows are left to the portable kernel. The rounded division and the
 * clamp are TFLite's, per channel, as the portable avg_out_s8 does them;
 * the bytes are the same.
 */
#include "pexc_dot.h"
#include "mve_kernels.h"

#ifdef PEXC_MVE
#include <arm_mve.h>

/* Channels of a tile summed at once (int16 sums on the stack). */
#define MVE_POOL_C 256

int pexc_mve_avg_pool_s8(const pexc_pool_params *p, const pexc_view *in, const pexc_tile *t, pexc_view *out) {
    const int32_t nc = t->c1 - t->c0;
    if (p->filter_h * p->filter_w > 255 || nc > MVE_POOL_C || nc <= 0) return 0;
    int16_t sums[MVE_POOL_C] __attribute__((aligned(16)));
    const size_t cs = (size_t)in->c_stored;
    for (int32_t n = 0; n < out->n; n++) {
        const int8_t *ibase = (const int8_t *)in->data + pexc_view_index(in, n, 0, 0, in->c_begin);
        for (int32_t oy = t->y0; oy < t->y1; oy++) {
            const int32_t iy0 = oy * p->stride_h - p->pad_top;
            int32_t fy0, fy1;
            pexc_window_clip(iy0, 1, p->filter_h, in->h, &fy0, &fy1);
            const int32_t xe = pexc_tile_xe(t, oy, out->w);
            for (int32_t ox = pexc_tile_xb(t, oy); ox < xe; ox++) {
                const int32_t ix0 = ox * p->stride_w - p->pad_left;
                int32_t fx0, fx1;
                pexc_window_clip(ix0, 1, p->filter_w, in->w, &fx0, &fx1);
                const int32_t count = (fy1 - fy0) * (fx1 - fx0);
                if (count == 0) return 0; /* the portable kernel reports it */
                for (int32_t j = 0; j < nc; j += 8) {
                    const mve_pred16_t pr = vctp16q((uint32_t)(nc - j));
                    int16x8_t s = vdupq_n_s16(0);
                    for (int32_t fy = fy0; fy < fy1; fy++) {
                        size_t i = pexc_view_index(in, 0, iy0 + fy, ix0 + fx0, t->c0) + (size_t)j;
                        for (int32_t fx = fx0; fx < fx1; fx++, i = pexc_view_next(in, i, cs))
                            s = vaddq_s16(s, vldrbq_z_s16(ibase + i, pr));
                    }
                    vstrhq_p_s16(sums + j, s, pr);
                }
                int8_t *o = (int8_t *)out->data + pexc_view_index(out, n, oy, ox, t->c0);
                for (int32_t c = 0; c < nc; c++) {
                    const int32_t sum = sums[c];
                    int32_t avg = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
                    avg = avg < p->act_min ? p->act_min : avg > p->act_max ? p->act_max : avg;
                    o[c] = (int8_t)avg;
                }
            }
        }
    }
    return 1;
}

#else
typedef int pexc_mve_pool_unused;
#endif
