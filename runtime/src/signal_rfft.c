/*
 * TFLM's int16 real FFT (SignalRfft), which is kissfft 1.3.0's fixed-point
 * FFT: the same bits, so the same features.
 *
 * A real FFT of N samples is a complex FFT of N/2 points over the samples
 * taken as (even, odd) pairs, followed by a pass that untangles the two
 * interleaved spectra with a second table of twiddles. The complex FFT is
 * kissfft's mixed-radix decimation in time: N/2 = p1 * p2 * ... (fours
 * first, then twos, threes, fives), each stage p sub-FFTs of length m
 * recombined by a radix-p butterfly. Fixed point decides the bits: every
 * butterfly first divides its inputs by p (multiplying by 32767 / p in Q15,
 * rounding), every product of two Q15 values rounds half up, and every sum
 * is stored back to int16 and wraps. So this file does those operations in
 * that order, on int16 pairs, with the compiler's twiddle tables (Q15,
 * rounded cos and sin of the same double phases kissfft computes) and
 * radices. Sums are formed in int32 (or uint32 where TFLM's int32
 * arithmetic can wrap) and narrowed where kissfft narrows.
 *
 * No scratch memory: the complex FFT writes straight into the output (the
 * bins are N/2 + 1 pairs, one more than the FFT needs), and the untangling
 * pass reads bins k and N/2 - k before it writes them, so it runs in place.
 * Samples past the frame (zero padding up to N) are read as zeros instead
 * of being copied.
 */
#include "pexc_kernels.h"

typedef struct {
    int16_t r, i;
} cpx;

typedef struct {
    const pexc_signal_rfft_params *p;
    const int16_t *x; /* the frame: in_len samples */
    cpx *out;
} fft_run;

/* x rounded from Q30 to Q15 and narrowed, as kissfft's sround. */
static int16_t q15(int32_t x) { return (int16_t)((int32_t)((uint32_t)x + (1u << 14)) >> 15); }

/* a * b of two Q15 complex values. */
static cpx cmul(cpx a, cpx b) {
    cpx m;
    m.r = q15((int32_t)((uint32_t)(a.r * b.r) - (uint32_t)(a.i * b.i)));
    m.i = q15((int32_t)((uint32_t)(a.r * b.i) + (uint32_t)(a.i * b.r)));
    return m;
}

/* c / div in Q15, kissfft's C_FIXDIV. */
static cpx cdiv(cpx c, int32_t div) {
    int32_t k = 32767 / div;
    c.r = q15(c.r * k);
    c.i = q15(c.i * k);
    return c;
}

static cpx cadd(cpx a, cpx b) {
    cpx s = {(int16_t)(a.r + b.r), (int16_t)(a.i + b.i)};
    return s;
}

static cpx csub(cpx a, cpx b) {
    cpx s = {(int16_t)(a.r - b.r), (int16_t)(a.i - b.i)};
    return s;
}

static cpx tw(const fft_run *r, size_t k) {
    cpx t = {r->p->twiddles[2 * k], r->p->twiddles[2 * k + 1]};
    return t;
}

static void bfly2(const fft_run *r, cpx *f, size_t fstride, size_t m) {
    for (size_t k = 0; k < m; k++) {
        f[k] = cdiv(f[k], 2);
        f[k + m] = cdiv(f[k + m], 2);
        cpx t = cmul(f[k + m], tw(r, k * fstride));
        f[k + m] = csub(f[k], t);
        f[k] = cadd(f[k], t);
    }
}

static void bfly3(const fft_run *r, cpx *f, size_t fstride, size_t m) {
    int16_t e = tw(r, fstride * m).i; /* sin(-2 pi / 3) */
    for (size_t k = 0; k < m; k++) {
        cpx *a = f + k, *b = a + m, *c = a + 2 * m;
        *a = cdiv(*a, 3);
        *b = cdiv(*b, 3);
        *c = cdiv(*c, 3);
        cpx s1 = cmul(*b, tw(r, k * fstride)), s2 = cmul(*c, tw(r, 2 * k * fstride));
        cpx s3 = cadd(s1, s2), s0 = csub(s1, s2);
        b->r = (int16_t)(a->r - (s3.r >> 1));
        b->i = (int16_t)(a->i - (s3.i >> 1));
        s0.r = q15(s0.r * e);
        s0.i = q15(s0.i * e);
        *a = cadd(*a, s3);
        c->r = (int16_t)(b->r + s0.i);
        c->i = (int16_t)(b->i - s0.r);
        b->r = (int16_t)(b->r - s0.i);
        b->i = (int16_t)(b->i + s0.r);
    }
}

static void bfly4(const fft_run *r, cpx *f, size_t fstride, size_t m) {
    for (size_t k = 0; k < m; k++) {
        cpx *a = f + k, *b = a + m, *c = a + 2 * m, *d = a + 3 * m;
        *a = cdiv(*a, 4);
        *b = cdiv(*b, 4);
        *c = cdiv(*c, 4);
        *d = cdiv(*d, 4);
        cpx s0 = cmul(*b, tw(r, k * fstride)), s1 = cmul(*c, tw(r, 2 * k * fstride));
        cpx s2 = cmul(*d, tw(r, 3 * k * fstride));
        cpx s5 = csub(*a, s1);
        *a = cadd(*a, s1);
        cpx s3 = cadd(s0, s2), s4 = csub(s0, s2);
        *c = csub(*a, s3);
        *a = cadd(*a, s3);
        b->r = (int16_t)(s5.r + s4.i);
        b->i = (int16_t)(s5.i - s4.r);
        d->r = (int16_t)(s5.r - s4.i);
        d->i = (int16_t)(s5.i + s4.r);
    }
}

static void bfly5(const fft_run *r, cpx *f, size_t fstride, size_t m) {
    cpx ya = tw(r, fstride * m), yb = tw(r, 2 * fstride * m);
    for (size_t u = 0; u < m; u++) {
        cpx *g[5];
        for (int j = 0; j < 5; j++) {
            g[j] = f + u + (size_t)j * m;
            *g[j] = cdiv(*g[j], 5);
        }
        cpx s0 = *g[0];
        cpx s1 = cmul(*g[1], tw(r, u * fstride)), s2 = cmul(*g[2], tw(r, 2 * u * fstride));
        cpx s3 = cmul(*g[3], tw(r, 3 * u * fstride)), s4 = cmul(*g[4], tw(r, 4 * u * fstride));
        cpx s7 = cadd(s1, s4), s10 = csub(s1, s4), s8 = cadd(s2, s3), s9 = csub(s2, s3);
        g[0]->r = (int16_t)(g[0]->r + s7.r + s8.r);
        g[0]->i = (int16_t)(g[0]->i + s7.i + s8.i);
        cpx s5, s6, s11, s12;
        s5.r = (int16_t)(s0.r + q15(s7.r * ya.r) + q15(s8.r * yb.r));
        s5.i = (int16_t)(s0.i + q15(s7.i * ya.r) + q15(s8.i * yb.r));
        s6.r = (int16_t)(q15(s10.i * ya.i) + q15(s9.i * yb.i));
        s6.i = (int16_t)(-q15(s10.r * ya.i) - q15(s9.r * yb.i));
        *g[1] = csub(s5, s6);
        *g[4] = cadd(s5, s6);
        s11.r = (int16_t)(s0.r + q15(s7.r * yb.r) + q15(s8.r * ya.r));
        s11.i = (int16_t)(s0.i + q15(s7.i * yb.r) + q15(s8.i * ya.r));
        s12.r = (int16_t)(-q15(s10.i * yb.i) + q15(s9.i * ya.i));
        s12.i = (int16_t)(q15(s10.r * yb.i) - q15(s9.r * ya.i));
        *g[2] = cadd(s11, s12);
        *g[3] = csub(s11, s12);
    }
}

/* Complex input sample q: the pair (x[2q], x[2q + 1]), zero past the frame. */
static cpx sample(const fft_run *r, size_t q) {
    size_t n = (size_t)r->p->in_len;
    cpx s = {2 * q < n ? r->x[2 * q] : 0, 2 * q + 1 < n ? r->x[2 * q + 1] : 0};
    return s;
}

/* The FFT of the samples q0 + j * fstride into f, stage `st` onwards
 * (kissfft's kf_work): p sub-FFTs of length m, then the radix-p butterfly.
 * Depth is the number of stages (at most 31). */
static void fft_stage(const fft_run *r, cpx *f, size_t q0, size_t fstride, int32_t st) {
    size_t p = (size_t)r->p->factors[2 * st], m = (size_t)r->p->factors[2 * st + 1];
    if (m == 1) {
        for (size_t j = 0; j < p; j++) f[j] = sample(r, q0 + j * fstride);
    } else {
        for (size_t j = 0; j < p; j++) fft_stage(r, f + j * m, q0 + j * fstride, fstride * p, st + 1);
    }
    switch (p) {
    case 2: bfly2(r, f, fstride, m); break;
    case 3: bfly3(r, f, fstride, m); break;
    case 4: bfly4(r, f, fstride, m); break;
    default: bfly5(r, f, fstride, m); break;
    }
}

/** @brief Per frame: out = kissfft real FFT of the frame (fft_length / 2 + 1
 * int16 pairs). */
pexc_status pexc_signal_rfft_s16(const pexc_signal_rfft_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out || !p->twiddles || !p->super_twiddles || p->fft_length < 4 ||
        p->fft_length % 2 || p->in_len < 0 || p->in_len > p->fft_length || p->n_factors < 1 || p->n_factors > 32)
        return PEXC_ERR_ARG;
    for (int32_t s = 0; s < p->n_factors; s++)
        if (p->factors[2 * s] < 2 || p->factors[2 * s] > 5) return PEXC_ERR_ARG;
    size_t half = (size_t)p->fft_length / 2;
    for (int32_t fr = 0; fr < p->frames; fr++) {
        fft_run r = {p, (const int16_t *)in[0] + (size_t)fr * (size_t)p->in_len,
                     (cpx *)out + (size_t)fr * (half + 1)};
        cpx *b = r.out;
        fft_stage(&r, b, 0, 1, 0);
        /* untangle: bin 0 and bin N/2 from the DC pair */
        cpx dc = cdiv(b[0], 2);
        b[0].r = (int16_t)(dc.r + dc.i);
        b[half].r = (int16_t)(dc.r - dc.i);
        b[0].i = b[half].i = 0;
        for (size_t k = 1; k <= half / 2; k++) {
            cpx fk = cdiv(b[k], 2), fnk = {b[half - k].r, (int16_t)-b[half - k].i};
            fnk = cdiv(fnk, 2);
            cpx f1 = cadd(fk, fnk), f2 = csub(fk, fnk);
            cpx st = {p->super_twiddles[2 * (k - 1)], p->super_twiddles[2 * (k - 1) + 1]};
            cpx t = cmul(f2, st);
            b[k].r = (int16_t)((f1.r + t.r) >> 1);
            b[k].i = (int16_t)((f1.i + t.i) >> 1);
            b[half - k].r = (int16_t)((f1.r - t.r) >> 1);
            b[half - k].i = (int16_t)((t.i - f1.i) >> 1);
        }
    }
    return PEXC_OK;
}
