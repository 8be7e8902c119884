/*
 * The sixteen-channel depthwise path of runtime/src/mve_depthwise.c at the
 * edges of its int16 arithmetic, in the guest, against the reference loop
 * of tests/common (kref_conv_depthwise).
 *
 * Two products of int8 summed in an int16 lane are exact unless both are
 * (-128) * (-128); the kernel takes the sixteen-lane path only when no
 * weight is -128. The random cases of test_depthwise.c draw weights from
 * [-127, 127], so they never reach the other side of that choice nor the
 * largest sums: here inputs and weights are mostly the extremes (-128,
 * -127, 127), and half the cases put -128 weights in one channel (one, or
 * all its taps over inputs of -128, whose paired products would overflow
 * int16: the layer must then take the four-lane path and still give the
 * reference bytes),
 * and the channels (16 to 72) cover whole and partial vectors, 3x3 windows
 * (the run path) and others (the tap-pointer path), with padding. Prints one
 * line per mismatching case and exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kref_conv.h"

#define NCASES 120
#define MAXC 72
#define MAXHW 10

static kref_conv_rng rng = {0x6d76653264776564ull};

/* Mostly the extremes of int8, sometimes any value. */
static int8_t extreme(int allow_m128) {
    static const int8_t ends[] = {-128, -127, 127, 126, -1, 0};
    const int32_t r = kref_conv_range(&rng, 0, 9);
    int8_t v = r < 6 ? ends[r] : (int8_t)kref_conv_range(&rng, -128, 127);
    return !allow_m128 && v == -128 ? -127 : v;
}

int main(void) {
    static int8_t in[MAXHW * MAXHW * MAXC], filter[5 * 5 * MAXC], want[MAXHW * MAXHW * MAXC],
        got[MAXHW * MAXHW * MAXC];
    static int32_t mult[MAXC], shift[MAXC], bias[MAXC];
    static const int32_t chans[] = {16, 17, 24, 32, 40, 64, 72};
    int bad = 0, with_m128 = 0;
    for (int i = 0; i < NCASES; i++) {
        const int32_t c = kref_conv_pick(&rng, chans, 7), h = kref_conv_range(&rng, 3, MAXHW),
                      w = kref_conv_range(&rng, 3, MAXHW);
        const int sq = kref_conv_range(&rng, 0, 2) != 0;
        const int32_t kh = sq ? 3 : kref_conv_range(&rng, 1, 5), kw = sq ? 3 : kref_conv_range(&rng, 1, 3);
        const int32_t s = kref_conv_range(&rng, 1, 2), same = kref_conv_range(&rng, 0, 1);
        int32_t pt, pl;
        const int32_t oh = kref_conv_out_size(h, kh, s, 1, same, &pt), ow = kref_conv_out_size(w, kw, s, 1, same, &pl);
        if (oh <= 0 || ow <= 0) continue;
        pexc_conv_params p;
        int bias_used;
        char qdesc[200];
        kref_conv_random_quant(&rng, c, kh * kw, &p, mult, shift, bias, &bias_used, qdesc, sizeof qdesc);
        p.stride_h = p.stride_w = s;
        p.dilation_h = p.dilation_w = 1;
        p.pad_top = pt;
        p.pad_left = pl;
        for (int32_t j = 0; j < h * w * c; j++) in[j] = extreme(1);
        for (int32_t j = 0; j < kh * kw * c; j++) filter[j] = extreme(0);
        if (i & 1) { /* -128 weights: the four-lane path */
            const int32_t ch = kref_conv_range(&rng, 0, c - 1);
            if (i & 2) { /* a whole channel of them over inputs of -128: two such products overflow int16 */
                for (int32_t j = 0; j < kh * kw; j++) filter[j * c + ch] = -128;
                for (int32_t j = 0; j < h * w; j++) in[j * c + ch] = -128;
            } else {
                filter[kref_conv_range(&rng, 0, kh * kw - 1) * c + ch] = -128;
            }
            with_m128++;
        }
        const int32_t *b = bias_used ? bias : NULL;
        kref_conv_depthwise(&p, 1, 1, h, w, c, in, kh, kw, filter, b, oh, ow, want);
        pexc_view vin = kref_conv_dense(in, 1, h, w, c), vout = kref_conv_dense(got, 1, oh, ow, c);
        const pexc_tile t = {0, oh, 0, c, 0, 0};
        memset(got, 0x5a, sizeof got);
        const pexc_status st = pexc_depthwise_conv2d_s8(&p, 1, &vin, filter, kh, kw, b, &t, &vout);
        char desc[320];
        snprintf(desc, sizeof desc, "case %d: %dx%dx%d k=%dx%d s=%d %s%s %s", i, (int)h, (int)w, (int)c, (int)kh,
                 (int)kw, (int)s, same ? "SAME" : "VALID", i & 1 ? " (a -128 weight)" : "", qdesc);
        if (st != PEXC_OK) {
            printf("FAIL %s: status %d\n", desc, (int)st);
            bad++;
        } else {
            bad += kref_conv_cmp_s8("mve_dw_edge", desc, want, got, (size_t)(oh * ow * c));
        }
    }
    if (bad) {
        printf("test_mve_dw_edge: %d cases differ\n", bad);
        return 1;
    }
    printf("test_mve_dw_edge: OK (%d cases, %d with a -128 weight)\n", NCASES, with_m128);
    return 0;
}
