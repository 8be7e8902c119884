/*
 * The LSTM's step form (pexc_lstm_s8_steps, pexc_lstm_f32_steps): a
 * streamed schedule runs a sequence a few rows at a time, reading the input
 * and writing the output through rings. On random shapes (1 to 3
 * sequences, 1 to 9 time steps, time-major and batch-major), weights,
 * inputs and starting states, the rows cut into random runs in order, the
 * input and output whole or in rings, every output byte and the final
 * hidden and cell states must equal one whole call's (pexc_lstm_s8,
 * pexc_lstm_f32): the state carries from run to run exactly as from row to
 * row. A ring one row short of a run is refused (kref_ops_stream).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kref_ops.h"
#include "pexc_kernels.h"

#define CASES 300

typedef struct {
    int f32;
    const void *params;
    const void **in; /* [15]: in[13], in[14] the working state */
} ctx_t;

static pexc_status run_tile(void *ctx, const pexc_view *in, const pexc_tile *t, pexc_view *out) {
    const ctx_t *c = ctx;
    if (c->f32) return pexc_lstm_f32_steps(c->params, c->in, &in[0], t, out);
    return pexc_lstm_s8_steps(c->params, c->in, &in[0], t, out);
}

static void fill_f32(kref_ops_rng *r, float *p, size_t n, float scale) {
    for (size_t i = 0; i < n; i++) p[i] = scale * ((float)kref_ops_range(r, -1000, 1000) / 1000.0f);
}

static int one_case(kref_ops_rng *r, int k, int f32) {
    const int32_t B = kref_ops_range(r, 1, 3), T = kref_ops_range(r, 1, 9), I = kref_ops_range(r, 1, 12),
                  S = kref_ops_range(r, 1, 10), tm = kref_ops_range(r, 0, 1), rows = B * T;
    const size_t e = f32 ? 4 : 1;
    pexc_lstm_s8_params ps;
    pexc_lstm_f32_params pf;
    memset(&ps, 0, sizeof ps);
    memset(&pf, 0, sizeof pf);
    ps.batches = pf.batches = B;
    ps.steps = pf.steps = T;
    ps.time_major = pf.time_major = tm;
    ps.n_input = pf.n_input = I;
    ps.n_state = pf.n_state = S;
    ps.input_offset = kref_ops_range(r, -127, 128);
    ps.hidden_offset = kref_ops_range(r, -127, 128);
    ps.hidden_zp = -ps.hidden_offset;
    for (int g = 0; g < 4; g++) {
        ps.in_mult[g] = (1 << 30) + kref_ops_range(r, 0, (1 << 30) - 1);
        ps.in_shift[g] = kref_ops_range(r, -10, -2);
        ps.rec_mult[g] = (1 << 30) + kref_ops_range(r, 0, (1 << 30) - 1);
        ps.rec_shift[g] = kref_ops_range(r, -10, -2);
    }
    ps.forget_mult = ps.update_mult = ps.hidden_mult = (1 << 30) + kref_ops_range(r, 0, (1 << 30) - 1);
    ps.forget_shift = kref_ops_range(r, -16, -14);
    ps.update_shift = kref_ops_range(r, -20, -14);
    ps.hidden_shift = kref_ops_range(r, -24, -20);
    ps.tanh_mult = 3 << kref_ops_range(r, 0, 3);
    ps.clip_on = kref_ops_range(r, 0, 1);
    ps.cell_clip = kref_ops_range(r, 100, 32767);
    float clip = kref_ops_range(r, 0, 1) ? 0.0f : 3.0f;
    memcpy(&pf.cell_clip_bits, &clip, sizeof clip);

    /* constants: weights [S, I] and [S, S] x 4, biases [S] x 4 */
    void *x = malloc((size_t)rows * (size_t)I * e), *w[8], *bias[4];
    void *h0 = malloc((size_t)B * (size_t)S * e), *c0 = malloc((size_t)B * (size_t)S * (f32 ? 4 : 2));
    void *h = malloc((size_t)B * (size_t)S * e), *c = malloc((size_t)B * (size_t)S * (f32 ? 4 : 2));
    void *want = malloc((size_t)rows * (size_t)S * e);
    void *hw = malloc((size_t)B * (size_t)S * e), *cw = malloc((size_t)B * (size_t)S * (f32 ? 4 : 2));
    for (int g = 0; g < 8; g++) w[g] = malloc((size_t)S * (size_t)(g < 4 ? I : S) * e);
    for (int g = 0; g < 4; g++) bias[g] = malloc((size_t)S * 4);
    if (f32) {
        fill_f32(r, x, (size_t)rows * (size_t)I, 2.0f);
        for (int g = 0; g < 8; g++) fill_f32(r, w[g], (size_t)S * (size_t)(g < 4 ? I : S), 1.0f);
        for (int g = 0; g < 4; g++) fill_f32(r, bias[g], (size_t)S, 0.5f);
        fill_f32(r, h0, (size_t)B * (size_t)S, 1.0f);
        fill_f32(r, c0, (size_t)B * (size_t)S, 2.0f);
    } else {
        kref_ops_fill_s8(r, x, (size_t)rows * (size_t)I);
        for (int g = 0; g < 8; g++) kref_ops_fill_s8(r, w[g], (size_t)S * (size_t)(g < 4 ? I : S));
        for (int g = 0; g < 4; g++)
            for (int32_t u = 0; u < S; u++) ((int32_t *)bias[g])[u] = kref_ops_range(r, -20000, 20000);
        kref_ops_fill_s8(r, h0, (size_t)B * (size_t)S);
        for (int32_t i = 0; i < B * S; i++) ((int16_t *)c0)[i] = (int16_t)kref_ops_range(r, -32768, 32767);
    }
    const void *ins[15];
    ins[0] = x;
    for (int g = 0; g < 8; g++) ins[1 + g] = w[g];
    for (int g = 0; g < 4; g++) ins[9 + g] = bias[g];

    /* the whole call */
    size_t hb = (size_t)B * (size_t)S * e, cb = (size_t)B * (size_t)S * (f32 ? 4 : 2);
    memcpy(hw, h0, hb);
    memcpy(cw, c0, cb);
    ins[13] = hw;
    ins[14] = cw;
    pexc_status st = f32 ? pexc_lstm_f32(&pf, ins, want) : pexc_lstm_s8(&ps, ins, want);
    int fail = 0;
    char desc[160];
    snprintf(desc, sizeof desc, "case %d %s: B %d T %d I %d S %d %s-major", k, f32 ? "f32" : "s8", B, T, I, S,
             tm ? "time" : "batch");
    if (st != PEXC_OK) fail = kref_ops_fail("lstm_steps", "%s: whole call status %d", desc, (int)st);

    /* the same rows in runs: one row of the sequence per pixel of [1, H, W] */
    const int32_t H = tm ? T : B, W = tm ? B : T;
    memcpy(h, h0, hb);
    memcpy(c, c0, cb);
    ins[13] = h;
    ins[14] = c;
    ctx_t ctx = {f32, f32 ? (const void *)&pf : (const void *)&ps, ins};
    kref_ops_src src = {x, 1, H, W, I, e, {1, 1, 1, 1, 1, 1, 0, 0}};
    kref_ops_stream_cfg cfg = {kref_ops_pick_chunk(r, W), kref_ops_range(r, 1, rows), kref_ops_range(r, 0, 1),
                               kref_ops_range(r, 0, 1), 0, S};
    if (!fail)
        fail = kref_ops_stream(r, "lstm_steps", desc, &src, 1, 1, H, W, S, e, want, &cfg, run_tile, &ctx);
    if (!fail && (memcmp(h, hw, hb) || memcmp(c, cw, cb)))
        fail = kref_ops_fail("lstm_steps", "%s: the state after the runs differs from the whole call's", desc);

    free(x);
    free(h0);
    free(c0);
    free(h);
    free(c);
    free(want);
    free(hw);
    free(cw);
    for (int g = 0; g < 8; g++) free(w[g]);
    for (int g = 0; g < 4; g++) free(bias[g]);
    return fail;
}

int main(void) {
    kref_ops_rng r = {0x5e95u};
    int fails = 0;
    for (int k = 0; k < CASES && !fails; k++) fails += one_case(&r, k, k % 2);
    if (fails) return 1;
    printf("lstm steps: %d cases, runs of rows equal the whole call\n", CASES);
    return 0;
}
