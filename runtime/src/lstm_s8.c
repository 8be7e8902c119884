/*
 * UNIDIRECTIONAL_SEQUENCE_LSTM with int8 activations, the integer LSTM of
 * TFLite Micro (lstm_eval.h), without its four scratch vectors.
 *
 * TFLM runs a time step as a series of whole-vector operations: the forget
 * gate of every unit into one buffer, the input gate into a second, the
 * cell gate into a third (each the sum of two fully-connected layers, one
 * over the step's input and one over the previous hidden state, through a
 * fourth), then the cell update, the output gate, the new hidden state, and
 * finally a copy of the hidden state into the step's row of the output.
 * Every one of those operations is element-wise across units except the
 * recurrent layers, which read the whole previous hidden state. So the same
 * integers come out if each unit is finished on its own, gates, cell and
 * hidden value, provided the previous hidden state stays intact until every
 * unit of the step has read it: the kernel writes each unit's new hidden
 * value straight into the step's output row (where TFLM would copy it at the
 * end) and copies the row into the hidden state once the step is done. No
 * scratch memory is needed, and the arithmetic of each value is TFLM's step
 * for step:
 *
 *   gate   = sat16(fc16(x) + fc16(h))        fc16: int32 sum, requantised
 *                                            to Q3.12, clamped to int16
 *   i, f, o = logistic(gate)  g = tanh(gate)  Q0.15
 *   c      = sat16(rq16(f * c) + rq16(i * g)), clipped to the cell clip
 *   h      = clamp8(zp + rq(tanh_c(c) * o))
 *
 * Sums wrap in 32 bits, as TFLM's int32 accumulators do on every target.
 *
 * Rows: time-major input [T, B, I] holds the B sequences' rows of step 0,
 * then of step 1, ...; batch-major input [B, T, I] the T steps of sequence
 * 0, then of sequence 1. Either way a row reads and writes only its own
 * sequence's state, so the rows run in storage order, each row's hidden
 * value copied into its sequence's state as soon as the row is done.
 *
 * Time steps as rows: pexc_lstm_s8_steps runs rows [q0, q1) (a tile of
 * pixels of the output seen as NHWC [1, H, W, S], one row per pixel),
 * reading the input and writing the output through views, so a streamed
 * schedule feeds the LSTM a few rows at a time from a ring buffer and
 * hands its output rows to the next layer through another: the state is
 * all that persists between calls. Running [0, T) in one call or in any
 * number of calls in order gives the same bytes.
 */
#include <string.h>

#include "pexc_kernels.h"

enum { GATE_INPUT = 0, GATE_FORGET = 1, GATE_CELL = 2, GATE_OUTPUT = 3 };

static int32_t sat16(int32_t v) { return v < -32768 ? -32768 : v > 32767 ? 32767 : v; }

/* sum of w[d] * (x[d] + offset), wrapping in 32 bits */
static uint32_t dot_s8(const int8_t *w, const int8_t *x, int32_t n, int32_t offset) {
    uint32_t acc = 0;
    for (int32_t d = 0; d < n; d++) acc += (uint32_t)((int32_t)w[d] * ((int32_t)x[d] + offset));
    PEXC_COUNT_MAC(n);
    return acc;
}

/* The pre-activation of gate g for one unit: both layers in Q3.12. */
static int32_t gate_sum(const pexc_lstm_s8_params *p, int g, const int8_t *wi, const int8_t *wr,
                        const int32_t *bias, const int8_t *x, const int8_t *h, int32_t unit) {
    const int32_t ni = p->n_input, ns = p->n_state;
    uint32_t a = dot_s8(wi + (size_t)unit * (size_t)ni, x, ni, p->input_offset) + (uint32_t)bias[unit];
    int32_t from_x = sat16(pexc_requant_inline((int32_t)a, p->in_mult[g], p->in_shift[g]));
    uint32_t r = dot_s8(wr + (size_t)unit * (size_t)ns, h, ns, p->hidden_offset);
    int32_t from_h = sat16(pexc_requant_inline((int32_t)r, p->rec_mult[g], p->rec_shift[g]));
    return sat16(from_x + from_h);
}

/* One row: every unit's gates, cell and hidden value, then the hidden
 * value of the row becomes its sequence's state. */
static void lstm_row(const pexc_lstm_s8_params *p, const int8_t *const *wi, const int8_t *const *wr,
                     const int32_t *const *bias, const int8_t *xr, int8_t *hr, int16_t *cr, int8_t *yr) {
    const int32_t ns = p->n_state, clip = p->cell_clip;
    for (int32_t u = 0; u < ns; u++) {
        int32_t f = pexc_logistic_s16((int16_t)gate_sum(p, GATE_FORGET, wi[1], wr[1], bias[1], xr, hr, u), 3, 0);
        int32_t i = pexc_logistic_s16((int16_t)gate_sum(p, GATE_INPUT, wi[0], wr[0], bias[0], xr, hr, u), 3, 0);
        int32_t g = pexc_tanh_s16((int16_t)gate_sum(p, GATE_CELL, wi[2], wr[2], bias[2], xr, hr, u), 3, 0);
        int32_t c = sat16(pexc_requant_inline(f * cr[u], p->forget_mult, p->forget_shift)) +
                    sat16(pexc_requant_inline(i * g, p->update_mult, p->update_shift));
        c = sat16(c);
        if (p->clip_on) c = c > clip ? clip : c < -clip ? -clip : c;
        cr[u] = (int16_t)c;
        int32_t o = pexc_logistic_s16((int16_t)gate_sum(p, GATE_OUTPUT, wi[3], wr[3], bias[3], xr, hr, u), 3, 0);
        int32_t t = pexc_tanh_s16((int16_t)c, p->tanh_mult, p->tanh_shift);
        int32_t v = p->hidden_zp + pexc_requant_inline(t * o, p->hidden_mult, p->hidden_shift);
        yr[u] = (int8_t)(v < -128 ? -128 : v > 127 ? 127 : v);
    }
    /* every unit has read the old hidden state: replace it */
    memcpy(hr, yr, (size_t)ns);
}

pexc_status pexc_lstm_s8_steps(const pexc_lstm_s8_params *p, const void *const *in, const pexc_view *x,
                               const pexc_tile *t, pexc_view *y) {
    if (!p || !in || p->batches < 1 || p->steps < 1 || p->n_input < 1 || p->n_state < 1 ||
        !pexc_seq_views_valid(x, y, t, p->batches * p->steps, p->n_input, p->n_state))
        return PEXC_ERR_ARG;
    for (int k = 1; k < 15; k++)
        if (!in[k]) return PEXC_ERR_ARG;
    const int8_t *wi[4], *wr[4];
    const int32_t *bias[4];
    for (int g = 0; g < 4; g++) {
        wi[g] = in[1 + g];
        wr[g] = in[5 + g];
        bias[g] = in[9 + g];
    }
    /* the state tensors are the model's to update: the arena, never flash */
    int8_t *hidden = (int8_t *)(uintptr_t)in[13];
    int16_t *cell = (int16_t *)(uintptr_t)in[14];
    const int32_t w = y->w, ns = p->n_state;
    const int64_t q0 = (int64_t)t->y0 * w + t->x0, q1 = q0 + pexc_tile_pixels(t, w);
    for (int64_t q = q0; q < q1; q++) {
        const int32_t r = (int32_t)q, sb = p->time_major ? r % p->batches : r / p->steps; /* the row's sequence */
        const int8_t *xr = (const int8_t *)x->data + pexc_view_index(x, 0, r / w, r % w, 0);
        int8_t *yr = (int8_t *)y->data + pexc_view_index(y, 0, r / w, r % w, 0);
        lstm_row(p, wi, wr, bias, xr, hidden + (size_t)sb * (size_t)ns, cell + (size_t)sb * (size_t)ns, yr);
    }
    return PEXC_OK;
}

pexc_status pexc_lstm_s8(const pexc_lstm_s8_params *p, const void *const *in, void *out) {
    if (!p || !in || !in[0] || !out) return PEXC_ERR_ARG;
    pexc_view x, y;
    const pexc_tile t = pexc_seq_whole(in[0], out, p->batches * p->steps, p->n_input, p->n_state, &x, &y);
    return pexc_lstm_s8_steps(p, in, &x, &t, &y);
}
