/*
 * Sequence operators: UNIDIRECTIONAL_SEQUENCE_LSTM, int8 and float32.
 *
 * An LSTM keeps a hidden and a cell state from one time step to the next,
 * and, in TFLite, from one Invoke() to the next: the two state tensors are
 * variable tensors of the model, which the operator reads and overwrites in
 * place. pexc gives them a buffer that lives through the whole plan and is
 * filled with its initial value when the model is opened or reset (see
 * is_variable in internal.h); the kernel receives them among its inputs and
 * updates them.
 *
 * Lowering checks what TFLite Micro's Prepare() and Eval() check (24
 * inputs, the standard LSTM without peephole, projection or layer norm,
 * shapes, types), refuses what TFLM would run on garbage or abort on (a
 * cell gate activation other than tanh, per-channel weights, whose
 * multipliers TFLM's LSTM never sets), and computes every integer parameter
 * as TFLM's Prepare() does (lstm_eval_common.cc): each gate's two
 * fully-connected layers requantise to Q3.12 with the multiplier of
 * float(input scale * weight scale) / 2^-12; the gate outputs are Q0.15, so
 * the cell update multiplies by 2^-15 * cell scale / cell scale and
 * 2^-30 / cell scale, the hidden update by 2^-30 / hidden scale; the tanh
 * of the cell state scales its input by the cell scale's rounded log2.
 */
#include <math.h>
#include <string.h>

#include "ops/ops.h"
#include "prep/prep.h"

#define FAIL(...) return util_fail(c->err, __VA_ARGS__)

enum {
    LSTM_INPUT = 0,
    LSTM_W_IN = 1,    /* input-to-{input, forget, cell, output} weights: 1..4 */
    LSTM_W_REC = 5,   /* recurrent-to-... weights: 5..8 */
    LSTM_BIAS = 12,   /* gate biases: 12..15 */
    LSTM_HIDDEN = 18, /* variable tensors */
    LSTM_CELL = 19,
    LSTM_N_IN = 24,
};

/* BuiltinOptions union type of UnidirectionalSequenceLSTMOptions; its
 * fields: 0 fused_activation_function, 1 cell_clip, 2 proj_clip,
 * 3 time_major, 4 asymmetric_quantize_inputs, 5 diagonal_recurrent_tensors */
#define LSTM_OPTIONS 71
#define ACT_TANH 4

int ops_seq_known(int32_t code) { return code == OP_UNIDIRECTIONAL_SEQUENCE_LSTM; }

/* ---- kernels ------------------------------------------------------------ */

static pexc_status run_lstm_s8(const void *params, const void *const *in, void *out) {
    return pexc_lstm_s8(params, in, out);
}

static pexc_status run_lstm_f32(const void *params, const void *const *in, void *out) {
    return pexc_lstm_f32(params, in, out);
}

/* One int32 array field on a line of its own (emit_int_field). */
static void print_ints(emit_ctx *e, const char *field, const int32_t *v, int n) {
    emit_printf(e, "    ");
    emit_int_field(e, field, v, n);
    emit_printf(e, "\n");
}

static int emit_lstm_s8(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_lstm_s8_params *p = k->gen_params;
    emit_printf(e, "static const pexc_lstm_s8_params %s = {\n", var);
    emit_printf(e, "    .batches = %d, .steps = %d, .time_major = %d, .n_input = %d, .n_state = %d,\n", p->batches,
                p->steps, p->time_major, p->n_input, p->n_state);
    emit_printf(e, "    .input_offset = %d, .hidden_offset = %d,\n", p->input_offset, p->hidden_offset);
    print_ints(e, "in_mult", p->in_mult, 4);
    print_ints(e, "in_shift", p->in_shift, 4);
    print_ints(e, "rec_mult", p->rec_mult, 4);
    print_ints(e, "rec_shift", p->rec_shift, 4);
    emit_printf(e, "    .forget_mult = %d, .forget_shift = %d, .update_mult = %d, .update_shift = %d,\n",
                p->forget_mult, p->forget_shift, p->update_mult, p->update_shift);
    emit_printf(e, "    .hidden_mult = %d, .hidden_shift = %d, .hidden_zp = %d,\n", p->hidden_mult, p->hidden_shift,
                p->hidden_zp);
    emit_printf(e, "    .tanh_mult = %d, .tanh_shift = %d, .clip_on = %d, .cell_clip = %d,\n};\n", p->tanh_mult,
                p->tanh_shift, p->clip_on, p->cell_clip);
    return 0;
}

static int emit_lstm_f32(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_lstm_f32_params *p = k->gen_params;
    emit_printf(e,
                "static const pexc_lstm_f32_params %s = {\n"
                "    .batches = %d, .steps = %d, .time_major = %d, .n_input = %d, .n_state = %d,\n"
                "    .cell_clip_bits = 0x%08lxu,\n};\n",
                var, p->batches, p->steps, p->time_major, p->n_input, p->n_state, (unsigned long)p->cell_clip_bits);
    return 0;
}

static const ops_kernel kernel_lstm_s8 = {"pexc_lstm_s8", "pexc_lstm_s8_params", run_lstm_s8, emit_lstm_s8};
static const ops_kernel kernel_lstm_f32 = {"pexc_lstm_f32", "pexc_lstm_f32_params", run_lstm_f32, emit_lstm_f32};

/* The step forms: a streamed schedule runs a few time steps per call. */
static pexc_status steps_lstm_s8(const void *params, const void *const *in, const pexc_view *x, const pexc_tile *t,
                                 pexc_view *y) {
    return pexc_lstm_s8_steps(params, in, x, t, y);
}

static pexc_status steps_lstm_f32(const void *params, const void *const *in, const pexc_view *x, const pexc_tile *t,
                                  pexc_view *y) {
    return pexc_lstm_f32_steps(params, in, x, t, y);
}

static const ops_step_kernel step_lstm_s8 = {"pexc_lstm_s8_steps", steps_lstm_s8};
static const ops_step_kernel step_lstm_f32 = {"pexc_lstm_f32_steps", steps_lstm_f32};

const ops_step_kernel *ops_steps_of(const k_call *k) {
    if (k->kind != K_GENERIC) return NULL;
    if (k->gen == &kernel_lstm_s8) return &step_lstm_s8;
    if (k->gen == &kernel_lstm_f32) return &step_lstm_f32;
    return NULL;
}

/* ---- UNIDIRECTIONAL_SEQUENCE_LSTM ---------------------------------------- */

/* Names for messages, by input index. */
static const char *lstm_role(int k) {
    static const char *const names[LSTM_N_IN] = {
        "input", "input-to-input weights", "input-to-forget weights", "input-to-cell weights",
        "input-to-output weights", "recurrent-to-input weights", "recurrent-to-forget weights",
        "recurrent-to-cell weights", "recurrent-to-output weights", "cell-to-input (peephole) weights",
        "cell-to-forget (peephole) weights", "cell-to-output (peephole) weights", "input gate bias",
        "forget gate bias", "cell gate bias", "output gate bias", "projection weights", "projection bias",
        "hidden state", "cell state", "input layer norm", "forget layer norm", "cell layer norm",
        "output layer norm"};
    return k >= 0 && k < LSTM_N_IN ? names[k] : "operand";
}

static int need_shape(lower_ctx *c, const ir_tensor *t, int k, int32_t d0, int32_t d1) {
    if (t->rank != (d1 ? 2 : 1) || t->shape[0] != d0 || (d1 && t->shape[1] != d1)) {
        if (d1)
            FAIL("operator %d (%s): %s tensor %d (%s) must have shape [%d,%d]", c->op->index, c->name, lstm_role(k),
                 t->index, t->name, d0, d1);
        FAIL("operator %d (%s): %s tensor %d (%s) must have shape [%d]", c->op->index, c->name, lstm_role(k),
             t->index, t->name, d0);
    }
    return 0;
}

/* A per-tensor scale with zero point 0, as TFLM's LSTM needs of weights. */
static int need_weight_q(lower_ctx *c, const ir_tensor *t, int k) {
    if (lower_need_q(c, (ir_tensor *)t, lstm_role(k))) return -1;
    if (t->nq != 1)
        FAIL("operator %d (%s): %s tensor %d (%s) has %d per-channel scales; TFLM's LSTM uses one multiplier per "
             "layer and leaves it unset for per-channel weights",
             c->op->index, c->name, lstm_role(k), t->index, t->name, t->nq);
    if (t->zero_point[0] != 0)
        FAIL("operator %d (%s): %s tensor %d (%s) has zero point %lld; int8 weights must be symmetric",
             c->op->index, c->name, lstm_role(k), t->index, t->name, (long long)t->zero_point[0]);
    return 0;
}

/* TFLM GetQuantizedConvolutionMultipler (the product rounded to float) and
 * QuantizeMultiplier, for a layer whose int16 output has scale 2^-12. */
static int fc_multiplier(lower_ctx *c, float in_scale, float w_scale, int k, int32_t *m, int32_t *s) {
    float product = in_scale * w_scale;
    if (prep_quantize_multiplier((double)product / (double)0.000244140625f, m, s))
        FAIL("operator %d (%s): %s scale %g times input scale %g cannot be requantised to Q3.12", c->op->index,
             c->name, lstm_role(k), (double)w_scale, (double)in_scale);
    return 0;
}

/* TFLM CreateInterGateMulParams: a product of two scales over a third. */
static int mul_multiplier(lower_ctx *c, float s1, float s2, float so, const char *what, int32_t *m, int32_t *s) {
    if (prep_quantize_multiplier((double)s1 * (double)s2 / (double)so, m, s))
        FAIL("operator %d (%s): the %s multiplier (%g x %g / %g) is out of range", c->op->index, c->name, what,
             (double)s1, (double)s2, (double)so);
    return 0;
}

static int lstm_params_s8(lower_ctx *c, ir_tensor *const *t, pexc_lstm_s8_params *p, float cell_clip) {
    ir_tensor *in = t[LSTM_INPUT], *hid = t[LSTM_HIDDEN], *cell = t[LSTM_CELL];
    if (lower_need_q(c, in, "input") || lower_need_q(c, hid, "hidden state") ||
        lower_need_q(c, cell, "cell state"))
        return -1;
    for (int k = LSTM_W_IN; k < LSTM_W_REC + 4; k++)
        if (need_weight_q(c, t[k], k)) return -1;
    for (int k = LSTM_BIAS; k < LSTM_BIAS + 4; k++)
        if (lower_need(c, t[k], k, lstm_role(k), IR_I32, 0)) return -1;
    float s_in = lower_scale(in), s_h = lower_scale(hid), s_c = lower_scale(cell);
    p->input_offset = -lower_zp(in);
    p->hidden_offset = -lower_zp(hid);
    p->hidden_zp = lower_zp(hid);
    for (int g = 0; g < 4; g++)
        if (fc_multiplier(c, s_in, lower_scale(t[LSTM_W_IN + g]), LSTM_W_IN + g, &p->in_mult[g], &p->in_shift[g]) ||
            fc_multiplier(c, s_h, lower_scale(t[LSTM_W_REC + g]), LSTM_W_REC + g, &p->rec_mult[g], &p->rec_shift[g]))
            return -1;
    /* gate outputs are Q0.15 */
    const float q15 = 0.000030517578125f;
    if (mul_multiplier(c, q15, s_c, s_c, "forget gate x cell state", &p->forget_mult, &p->forget_shift) ||
        mul_multiplier(c, q15, q15, s_c, "input gate x cell gate", &p->update_mult, &p->update_shift) ||
        mul_multiplier(c, q15, q15, s_h, "output gate x tanh(cell)", &p->hidden_mult, &p->hidden_shift))
        return -1;
    /* TFLM CheckedLog2 (its exactness is not checked): the tanh of a cell
     * state with scale 2^power reads it as Q3.12 after a shift by
     * 15 + power - 3 bits, a left shift folded into the multiplier 3 */
    float l2 = logf(s_c) * (1.0f / logf(2.0f));
    int32_t shift = 15 + (int32_t)roundf(l2) - 3;
    if (shift > 14 || shift < -30)
        FAIL("operator %d (%s): cell state tensor %d (%s) scale %g is outside the range TFLM's int16 tanh handles",
             c->op->index, c->name, cell->index, cell->name, (double)s_c);
    p->tanh_mult = shift >= 0 ? 3 << shift : 3;
    p->tanh_shift = shift >= 0 ? 0 : -shift;
    if (cell_clip > 0.0f) {
        double q = (double)cell_clip / (double)s_c;
        p->clip_on = 1;
        p->cell_clip = (int32_t)(int16_t)(q < -32768.0 ? -32768.0 : q > 32767.0 ? 32767.0 : q);
    }
    return 0;
}

static int lower_lstm(lower_ctx *c, k_call *k) {
    ir_op *op = c->op;
    ir_graph *g = c->g;
    if (op->n_out != 1) FAIL("operator %d (%s): %d outputs; TFLM requires 1", op->index, c->name, op->n_out);
    if (op->n_in != LSTM_N_IN)
        FAIL("operator %d (%s): %d inputs; TFLM requires %d", op->index, c->name, op->n_in, LSTM_N_IN);
    ir_tensor *t[LSTM_N_IN], *out = &g->tensors[op->out[0]];
    for (int i = 0; i < LSTM_N_IN; i++) t[i] = lower_in(c, i);
    /* the standard LSTM only: TFLM's kernel refuses every variant */
    static const int absent[] = {9, 10, 11, 16, 17, 20, 21, 22, 23};
    for (size_t i = 0; i < sizeof absent / sizeof absent[0]; i++)
        if (t[absent[i]])
            FAIL("operator %d (%s): %s tensor %d is present; TFLM's LSTM supports no peephole, projection or layer "
                 "norm variant",
                 op->index, c->name, lstm_role(absent[i]), t[absent[i]]->index);
    for (int i = 0; i < 16; i++)
        if ((i < 9 || i >= LSTM_BIAS) && !t[i])
            FAIL("operator %d (%s): missing %s (input %d)", op->index, c->name, lstm_role(i), i);
    for (int i = LSTM_HIDDEN; i <= LSTM_CELL; i++) {
        if (!t[i]) FAIL("operator %d (%s): missing %s (input %d)", op->index, c->name, lstm_role(i), i);
        if (!t[i]->is_variable)
            FAIL("operator %d (%s): %s tensor %d (%s) is not a variable tensor", op->index, c->name, lstm_role(i),
                 t[i]->index, t[i]->name);
    }
    ir_tensor *in = t[LSTM_INPUT], *hid = t[LSTM_HIDDEN], *cell = t[LSTM_CELL];
    if (hid->type != in->type || out->type != in->type)
        FAIL("operator %d (%s): input is %s, hidden state %s, output %s; TFLM requires one type", op->index,
             c->name, ir_type_name(in->type), ir_type_name(hid->type), ir_type_name(out->type));
    for (int i = 1; i < 9; i++)
        if (t[i]->type != t[LSTM_W_IN + 1]->type)
            FAIL("operator %d (%s): %s tensor %d is %s, the input-to-forget weights %s; TFLM requires one type",
                 op->index, c->name, lstm_role(i), t[i]->index, ir_type_name(t[i]->type),
                 ir_type_name(t[LSTM_W_IN + 1]->type));
    for (int i = LSTM_BIAS; i < LSTM_BIAS + 4; i++)
        if (t[i]->type != t[LSTM_BIAS + 1]->type)
            FAIL("operator %d (%s): %s tensor %d is %s, the forget gate bias %s; TFLM requires one type", op->index,
                 c->name, lstm_role(i), t[i]->index, ir_type_name(t[i]->type), ir_type_name(t[LSTM_BIAS + 1]->type));
    /* sizes (TFLM CreateLstmSizeInfo, ValidateTensorSize) */
    if (in->rank != 3)
        FAIL("operator %d (%s): input tensor %d (%s) has rank %d; TFLM's LSTM reads it as 3-D", op->index, c->name,
             in->index, in->name, in->rank);
    if (hid->rank != 2)
        FAIL("operator %d (%s): hidden state tensor %d (%s) has rank %d; TFLM takes the state size from its second "
             "dimension",
             op->index, c->name, hid->index, hid->name, hid->rank);
    int32_t time_major, act;
    float cell_clip;
    if (!op->opt_pos)
        FAIL("operator %d (%s): no options, so no cell gate activation; TFLM's LSTM aborts without tanh",
             op->index, c->name);
    if (reader_opt_int(g, op, LSTM_OPTIONS, 0, 1, 0, &act, c->err) ||
        reader_opt_f32(g, op, LSTM_OPTIONS, 1, 0.0f, &cell_clip, c->err) ||
        reader_opt_int(g, op, LSTM_OPTIONS, 3, 1, 0, &time_major, c->err))
        return -1;
    if (act != ACT_TANH)
        FAIL("operator %d (%s): fused_activation_function %d; TFLM's LSTM runs only tanh (4) as the cell gate "
             "activation and aborts on any other",
             op->index, c->name, act);
    const int32_t tm = time_major != 0;
    const int32_t batches = tm ? in->shape[1] : in->shape[0], steps = tm ? in->shape[0] : in->shape[1];
    const int32_t ni = in->shape[2], ns = hid->shape[1];
    if (batches < 1 || steps < 1 || ni < 1 || ns < 1)
        FAIL("operator %d (%s): empty input or state (%d sequences, %d steps, %d inputs, %d units)", op->index,
             c->name, batches, steps, ni, ns);
    for (int i = 1; i < 9; i++)
        if (need_shape(c, t[i], i, ns, i < LSTM_W_REC ? ni : ns)) return -1;
    for (int i = LSTM_BIAS; i < LSTM_BIAS + 4; i++)
        if (need_shape(c, t[i], i, ns, 0)) return -1;
    for (int i = LSTM_HIDDEN; i <= LSTM_CELL; i++)
        if (t[i]->elems != (int64_t)batches * ns)
            FAIL("operator %d (%s): %s tensor %d (%s) has %lld elements, expected %d x %d", op->index, c->name,
                 lstm_role(i), t[i]->index, t[i]->name, (long long)t[i]->elems, batches, ns);
    if (out->rank != 3 || out->shape[0] != in->shape[0] || out->shape[1] != in->shape[1] || out->shape[2] != ns)
        FAIL("operator %d (%s): output tensor %d (%s) must have shape [%d,%d,%d]", op->index, c->name, out->index,
             out->name, in->shape[0], in->shape[1], ns);

    int32_t tensors[15];
    tensors[0] = in->index;
    for (int i = 0; i < 8; i++) tensors[1 + i] = t[LSTM_W_IN + i]->index;
    for (int i = 0; i < 4; i++) tensors[9 + i] = t[LSTM_BIAS + i]->index;
    tensors[13] = hid->index;
    tensors[14] = cell->index;

    if (in->type == IR_F32) {
        if (cell->type != IR_F32)
            FAIL("operator %d (%s): cell state tensor %d (%s) is %s; a float32 LSTM needs a float32 cell state",
                 op->index, c->name, cell->index, cell->name, ir_type_name(cell->type));
        if (t[LSTM_W_IN + 1]->type != IR_F32 || t[LSTM_BIAS + 1]->type != IR_F32)
            FAIL("operator %d (%s): weights %s, bias %s; pexc runs float32 LSTMs with float32 weights and biases "
                 "(not the hybrid form)",
                 op->index, c->name, ir_type_name(t[LSTM_W_IN + 1]->type), ir_type_name(t[LSTM_BIAS + 1]->type));
        pexc_lstm_f32_params *p = ops_alloc(c, sizeof *p);
        if (!p) return -1;
        p->batches = batches;
        p->steps = steps;
        p->time_major = tm;
        p->n_input = ni;
        p->n_state = ns;
        memcpy(&p->cell_clip_bits, &cell_clip, sizeof cell_clip);
        return ops_generic(c, k, &kernel_lstm_f32, p, tensors, 15);
    }
    if (in->type != IR_I8)
        FAIL("operator %d (%s): input tensor %d (%s) is %s; pexc runs int8 and float32 LSTMs", op->index, c->name,
             in->index, in->name, ir_type_name(in->type));
    if (t[LSTM_W_IN + 1]->type != IR_I8)
        FAIL("operator %d (%s): weights are %s; TFLM's int8 LSTM takes int8 weights", op->index, c->name,
             ir_type_name(t[LSTM_W_IN + 1]->type));
    if (cell->type != IR_I16)
        FAIL("operator %d (%s): cell state tensor %d (%s) is %s; TFLM's int8 LSTM needs an int16 cell state",
             op->index, c->name, cell->index, cell->name, ir_type_name(cell->type));
    pexc_lstm_s8_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    p->batches = batches;
    p->steps = steps;
    p->time_major = tm;
    p->n_input = ni;
    p->n_state = ns;
    if (lstm_params_s8(c, t, p, cell_clip)) return -1;
    return ops_generic(c, k, &kernel_lstm_s8, p, tensors, 15);
}

/* float32 SOFTMAX over the last axis (TFLM SoftmaxPrepare: one input of
 * rank >= 1; the reference kernel takes every other axis as rows). */
int ops_seq_lower(lower_ctx *c, k_call *k) {
    switch (c->op->code) {
    case OP_UNIDIRECTIONAL_SEQUENCE_LSTM: return lower_lstm(c, k);
    default: return 1;
    }
}
