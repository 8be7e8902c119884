/*
 * The short requantisation (pexc_requant_short, out_round in the conv
 * params) against TFLite's long form (pexc_requant):
 *
 *   1. one sum at a time, wherever prep_short_requant accepts the channel:
 *      random sums, multipliers, shifts and zero points, the extreme sums
 *      +-(2^30 - 1), the multipliers 2^30, 3 * 2^29 and 2^31 - 1, and sums
 *      built to land exactly on a rounding tie of the final shift;
 *   2. the proof refuses what the short form cannot do (a sum of 2^30, no
 *      right shift, a rounding constant that overflows);
 *   3. ADD's rescaling (pexc_scale_le1_x2: any right shift, 0 included)
 *      against TFLite's doubling high multiply and rounding shift, with
 *      sums built on the ties of both roundings;
 *   4. whole conv, depthwise and fully connected kernels with out_round set
 *      from the same bound the compiler proves (sum of |w| times the largest
 *      |input + offset|, plus |bias|), against the plain reference.
 *
 * On the Cortex-M4 (tests/test_kernels_m4.py) the short form is SMMULR, on
 * the host its plain C twin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kref_conv.h"
#include "prep/prep.h"

static kref_conv_rng rng = {UINT64_C(0x5407A5407A)};
static long checks, short_used, short_refused, kernel_cases;

static int32_t long_form(int32_t x, int32_t m, int32_t s, int32_t zp) { return pexc_requant(x, m, s) + zp; }

static int check_one(int32_t x, int32_t m, int32_t s, int32_t zp) {
    int32_t round;
    if (!prep_short_requant(x < 0 ? -(int64_t)x : x, m, s, zp, &round)) {
        short_refused++;
        return 0;
    }
    short_used++;
    checks++;
    const int32_t got = pexc_requant_short(x, m, s, round), want = long_form(x, m, s, zp);
    if (got != want) {
        printf("FAIL short requant x=%d mult=%d shift=%d zp=%d: %d, TFLite %d\n", (int)x, (int)m, (int)s, (int)zp,
               (int)got, (int)want);
        return 1;
    }
    return 0;
}

static int32_t random_mult(void) {
    static const int32_t edge[] = {1 << 30, 3 << 29, INT32_MAX};
    if (kref_conv_range(&rng, 0, 7) == 0) return edge[kref_conv_range(&rng, 0, 2)];
    return (int32_t)((1u << 30) | (kref_conv_u32(&rng) >> 2));
}

static int check_scalar(void) {
    const int32_t big = (1 << 30) - 1;
    for (long i = 0; i < 400000; i++) {
        const int32_t m = random_mult(), s = -kref_conv_range(&rng, 1, 24), zp = kref_conv_range(&rng, -128, 127);
        int32_t x;
        switch (i % 4) {
        case 0: /* any sum the proof allows */
            x = (int32_t)(kref_conv_u32(&rng) % (2u * (uint32_t)big + 1u)) - big;
            break;
        case 1: /* the sums of real layers: a few times 2^(r + 8) */
            x = kref_conv_range(&rng, -(1 << 20), 1 << 20) * (1 << kref_conv_range(&rng, 0, 9)); /* (no shift of a negative) */
            break;
        case 2: /* the extremes */
            x = kref_conv_range(&rng, 0, 1) ? big - kref_conv_range(&rng, 0, 3) : -big + kref_conv_range(&rng, 0, 3);
            break;
        default: { /* a tie of the final shift: h = k * 2^r + 2^(r-1) exactly */
            const int32_t r = -s;
            const int64_t h = (int64_t)kref_conv_range(&rng, -4000, 4000) * ((int64_t)1 << r) +
                              ((int64_t)1 << (r - 1));
            /* smallest x with floor((x * m + 2^30) / 2^31) == h; an |h| of
             * 2^31 or more needs an x beyond the proof's 2^30 (and h * 2^31
             * would overflow int64), so such a draw tests 0 instead */
            int64_t xx = 0;
            if (h < ((int64_t)1 << 31) && h > -((int64_t)1 << 31)) {
                const int64_t num = h * ((int64_t)1 << 31) - ((int64_t)1 << 30);
                xx = num >= 0 ? (num + m - 1) / m : -((-num) / m);
            }
            if (xx > big || xx < -big) xx = 0;
            x = (int32_t)xx;
        }
        }
        if (check_one(x, m, s, zp)) return 1;
    }
    return 0;
}

static int check_refusals(void) {
    int32_t round = 0;
    const struct {
        int64_t bound;
        int32_t m, s, zp;
    } no[] = {
        {(int64_t)1 << 30, 1 << 30, -1, 0},   /* 2x would not fit */
        {1000, 1 << 30, 0, 0},                /* no right shift to round */
        {1000, 1 << 30, 2, 0},                /* a left shift */
        {1000, 1 << 30, -24, 127},            /* 127 * 2^24 + 2^23 + h: still fits */
        {1000, 1 << 30, -31, 1},              /* 2^31 + 2^30 does not */
        {1000, 0, -5, 0},                     /* a zero multiplier */
    };
    const int want[] = {0, 0, 0, 1, 0, 0};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        checks++;
        if (prep_short_requant(no[i].bound, no[i].m, no[i].s, no[i].zp, &round) != want[i]) {
            printf("FAIL prep_short_requant case %zu (bound %lld, shift %d, zp %d): %s\n", i, (long long)no[i].bound,
                   (int)no[i].s, (int)no[i].zp, want[i] ? "refused" : "accepted");
            return 1;
        }
    }
    return 0;
}

/* 3. ADD's rescaling: x with |x| < 2^30, a multiplier of at most 1/2 or
 * 2^30 exactly, a right shift of 0 to 31. */
static int check_scale_le1(void) {
    const int32_t big = (1 << 30) - 1;
    for (long i = 0; i < 300000; i++) {
        const int32_t m = random_mult(), r = kref_conv_range(&rng, 0, 31);
        int32_t x;
        if (i % 3 == 0) {
            x = (int32_t)(kref_conv_u32(&rng) % (2u * (uint32_t)big + 1u)) - big;
        } else if (i % 3 == 1) { /* ADD's operands: (v + offset) << 20 */
            x = kref_conv_range(&rng, -255, 255) * (1 << 20);
        } else { /* a tie of the final shift (r >= 1) or of the high multiply */
            const int32_t rr = r > 0 && r < 20 ? r : 1;
            const int64_t h = (int64_t)kref_conv_range(&rng, -3000, 3000) * ((int64_t)1 << rr) + ((int64_t)1 << (rr - 1));
            const int64_t num = h * ((int64_t)1 << 31) - ((int64_t)1 << 30);
            int64_t xx = num >= 0 ? (num + m - 1) / m : -((-num) / m);
            x = xx > big || xx < -big ? 0 : (int32_t)xx;
        }
        const pexc_scale_le1 s = pexc_scale_le1_of(m, -r);
        const int32_t got = pexc_scale_le1_x2(&s, (int32_t)((uint32_t)x << 1));
        const int32_t want = pexc_rdivpot(pexc_srdhm(x, m), r);
        checks++;
        if (got != want) {
            printf("FAIL scale_le1 x=%d mult=%d shift=%d: %d, TFLite %d\n", (int)x, (int)m, (int)-r, (int)got,
                   (int)want);
            return 1;
        }
    }
    return 0;
}

/* out_round for channels whose weights for channel oc lie at w[oc * cs + t *
 * ts], t < n, when all are proved; NULL otherwise (as the compiler does). */
static const int32_t *short_round(const pexc_conv_params *p, const int8_t *w, int32_t w_off, size_t cs, size_t ts,
                                  int32_t n, const int32_t *bias, int32_t cout, int32_t *round) {
    const int64_t lo = -128 + p->input_offset, hi = 127 + p->input_offset, xmax = -lo > hi ? -lo : hi;
    for (int32_t oc = 0; oc < cout; oc++) {
        int64_t sw = 0;
        for (int32_t t = 0; t < n; t++) {
            const int64_t v = (int64_t)w[(size_t)oc * cs + (size_t)t * ts] + w_off;
            sw += v < 0 ? -v : v;
        }
        const int64_t b = bias ? (bias[oc] < 0 ? -(int64_t)bias[oc] : bias[oc]) : 0;
        if (!prep_short_requant(sw * xmax + b, p->out_mult[oc], p->out_shift[oc], p->output_offset, &round[oc]))
            return NULL;
    }
    return round;
}

#define MAXC 48

static int check_kernels(void) {
    static int8_t in[4 * 12 * 12 * MAXC], filt[MAXC * 5 * 5 * MAXC], got[4 * 12 * 12 * MAXC], want[4 * 12 * 12 * MAXC];
    int32_t mult[MAXC], shift[MAXC], bias[MAXC], round[MAXC];
    char desc[400], full[520];
    for (int i = 0; i < 600; i++) {
        const int kind = i % 3; /* conv, depthwise, fully connected */
        const int32_t n = kref_conv_range(&rng, 1, 2), h = kref_conv_range(&rng, 1, 12), wd = kref_conv_range(&rng, 1, 12);
        const int32_t kh = kref_conv_range(&rng, 1, 5), kw = kref_conv_range(&rng, 1, 5);
        const int32_t stride = kref_conv_range(&rng, 1, 2), same = kref_conv_range(&rng, 0, 1);
        const int32_t dm = kind == 1 ? kref_conv_pick(&rng, (const int32_t[]){1, 1, 4, 8}, 4) : 1;
        const int32_t cin = kind == 1 ? kref_conv_range(&rng, 1, MAXC / dm) : kref_conv_range(&rng, 1, MAXC);
        const int32_t cout = kind == 1 ? cin * dm : kref_conv_range(&rng, 1, MAXC);
        const int32_t foff = kind == 2 && kref_conv_range(&rng, 0, 3) == 0 ? kref_conv_range(&rng, -20, 20) : 0;
        int32_t pt, pl, oh = kref_conv_out_size(h, kh, stride, 1, same, &pt), ow = kref_conv_out_size(wd, kw, stride, 1, same, &pl);
        if (kind != 2 && (oh < 1 || ow < 1)) continue;
        const int32_t depth = h * wd * cin; /* fully connected: the whole input is one row */
        const int32_t taps = kind == 0 ? kh * kw * cin : kind == 1 ? kh * kw : depth;
        if (kind == 2 && depth > MAXC * 5 * 5) continue;
        pexc_conv_params p;
        int bias_used;
        kref_conv_random_quant(&rng, cout, taps, &p, mult, shift, bias, &bias_used, desc, sizeof desc);
        p.stride_h = p.stride_w = stride;
        p.dilation_h = p.dilation_w = 1;
        p.pad_top = pt;
        p.pad_left = pl;
        const int32_t *b = bias_used ? bias : NULL;
        kref_conv_fill_s8(&rng, in, (size_t)n * h * wd * cin, -128, 127);
        kref_conv_fill_s8(&rng, filt, kind == 1 ? (size_t)kh * kw * cout : (size_t)cout * taps, -127, 127);
        if (kind == 0)
            p.out_round = short_round(&p, filt, 0, (size_t)taps, 1, taps, b, cout, round);
        else if (kind == 1)
            p.out_round = short_round(&p, filt, 0, 1, (size_t)cout, taps, b, cout, round);
        else
            p.out_round = short_round(&p, filt, foff, (size_t)depth, 1, depth, b, cout, round);
        if (!p.out_round) {
            short_refused++;
            continue;
        }
        kernel_cases++;
        size_t ne;
        pexc_status st;
        if (kind == 2) {
            ne = (size_t)n * cout;
            kref_conv_fc(&p, foff, n, depth, in, cout, filt, b, want);
            pexc_view vi = kref_conv_dense(in, n, 1, 1, depth), vo = kref_conv_dense(got, n, 1, 1, cout);
            pexc_tile t = {0, 1, 0, cout, 0, 0};
            st = pexc_fully_connected_s8(&p, foff, &vi, filt, b, &t, &vo);
        } else {
            ne = (size_t)n * oh * ow * cout;
            pexc_view vi = kref_conv_dense(in, n, h, wd, cin), vo = kref_conv_dense(got, n, oh, ow, cout);
            pexc_tile t = {0, oh, 0, cout, 0, 0};
            if (kind == 0) {
                kref_conv_conv2d(&p, n, h, wd, cin, in, cout, kh, kw, filt, b, oh, ow, want);
                st = pexc_conv2d_s8(&p, &vi, filt, kh, kw, b, &t, &vo);
            } else {
                kref_conv_depthwise(&p, dm, n, h, wd, cin, in, kh, kw, filt, b, oh, ow, want);
                st = pexc_depthwise_conv2d_s8(&p, dm, &vi, filt, kh, kw, b, &t, &vo);
            }
        }
        snprintf(full, sizeof full, "%s n=%d %dx%dx%d k=%dx%d s=%d dm=%d cout=%d %s",
                 kind == 0 ? "conv" : kind == 1 ? "depthwise" : "fc", (int)n, (int)h, (int)wd, (int)cin, (int)kh,
                 (int)kw, (int)stride, (int)dm, (int)cout, desc);
        checks++;
        if (st != PEXC_OK) {
            printf("FAIL %s: status %d\n", full, (int)st);
            return 1;
        }
        if (kref_conv_cmp_s8("short requant", full, want, got, ne)) return 1;
    }
    return 0;
}

int main(void) {
    if (check_scalar() || check_refusals() || check_scale_le1() || check_kernels()) return 1;
    if (short_used < 1000 || short_refused < 10 || kernel_cases < 100) {
        printf("FAIL the cases did not reach both forms (%ld short, %ld refused, %ld kernel calls)\n", short_used,
               short_refused, kernel_cases);
        return 1;
    }
    printf("test_requant_short: OK (%ld checks, %ld short sums, %ld refused, %ld kernel calls)\n", checks, short_used,
           short_refused, kernel_cases);
    return 0;
}
