/*
 * SVDF, int8 and float32, as TFLite Micro's svdf.cc / svdf_common.cc.
 *
 * An SVDF layer is a rank-limited approximation of a fully-connected layer
 * over a window of the last M inputs: F = units x rank filters, each a
 * feature vector (over the input) times a time vector (over the window).
 * The window lives in a variable tensor [B, F * M] of feature values, which
 * the kernel shifts and refills in place on every call; like the LSTM's
 * state (seq.c) it gets a buffer that outlives the plan and is reset to its
 * initial value when the model is opened or reset.
 *
 * Lowering checks what TFLM's PrepareSvdf checks (five inputs, ranks and
 * extents, types, the variable state, the bias scale equal to state scale
 * times time-weight scale within 1e-5) and refuses what it would run
 * on garbage or crash on: a model without bias (the schema makes it
 * optional, but Prepare dereferences it: TFLM's Python interpreter
 * segfaults on such a float model), time weights and state of different widths (the
 * kernel reads both as the time weights' type), missing options (rank
 * unset). The two multipliers are TFLM's: the scale products are formed in
 * float, as TFLM forms them, then widened to double for QuantizeMultiplier.
 * Float models with int8 weights (the hybrid form) are refused, as TFLM's
 * Prepare refuses them.
 */
#include <string.h>

#include "ops/ops.h"
#include "prep/prep.h"

#define FAIL(...) return util_fail(c->err, __VA_ARGS__)

enum { SVDF_INPUT, SVDF_W_FEATURE, SVDF_W_TIME, SVDF_BIAS, SVDF_STATE, SVDF_N_IN };

/* BuiltinOptions union type of SVDFOptions; fields: 0 rank,
 * 1 fused_activation_function, 2 asymmetric_quantize_inputs */
#define SVDF_OPTIONS 6

static const char *const svdf_role[SVDF_N_IN] = {"input", "feature weights", "time weights", "bias",
                                                 "activation state"};

int ops_svdf_known(int32_t code) { return code == OP_SVDF; }

static pexc_status run_svdf_s8(const void *params, const void *const *in, void *out) {
    return pexc_svdf_s8(params, in, out);
}

static pexc_status run_svdf_f32(const void *params, const void *const *in, void *out) {
    return pexc_svdf_f32(params, in, out);
}

static int emit_svdf_s8(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_svdf_s8_params *p = k->gen_params;
    emit_printf(e,
                "static const pexc_svdf_s8_params %s = {\n"
                "    .batches = %d, .n_input = %d, .n_filter = %d, .n_memory = %d, .rank = %d,\n"
                "    .state_bytes = %d, .input_offset = %d, .state_zp = %d, .output_zp = %d,\n"
                "    .feature_mult = %d, .feature_shift = %d, .output_mult = %d, .output_shift = %d,\n};\n",
                var, p->batches, p->n_input, p->n_filter, p->n_memory, p->rank, p->state_bytes,
                p->input_offset, p->state_zp, p->output_zp, p->feature_mult, p->feature_shift, p->output_mult,
                p->output_shift);
    return 0;
}

static int emit_svdf_f32(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_svdf_f32_params *p = k->gen_params;
    emit_printf(e,
                "static const pexc_svdf_f32_params %s = {\n"
                "    .batches = %d, .n_input = %d, .n_filter = %d, .n_memory = %d, .rank = %d,\n"
                "    .activation = %d,\n};\n",
                var, p->batches, p->n_input, p->n_filter, p->n_memory, p->rank, p->activation);
    return 0;
}

static const ops_kernel kernel_svdf_s8 = {"pexc_svdf_s8", "pexc_svdf_s8_params", run_svdf_s8, emit_svdf_s8};
static const ops_kernel kernel_svdf_f32 = {"pexc_svdf_f32", "pexc_svdf_f32_params", run_svdf_f32, emit_svdf_f32};

static int need_type(lower_ctx *c, const ir_tensor *t, int k, int32_t type) {
    if (t->type != type)
        FAIL("operator %d (%s): %s tensor %d (%s) is %s; TFLM's SVDF requires %s here", c->op->index, c->name,
             svdf_role[k], t->index, t->name, ir_type_name(t->type), ir_type_name(type));
    return 0;
}

static int svdf_multiplier(lower_ctx *c, float real, const char *what, int32_t *m, int32_t *s) {
    if (prep_quantize_multiplier((double)real, m, s))
        FAIL("operator %d (%s): the %s scale %g cannot be requantised", c->op->index, c->name, what, (double)real);
    return 0;
}

static int svdf_params_s8(lower_ctx *c, ir_tensor *const *t, const ir_tensor *out, pexc_svdf_s8_params *p) {
    ir_tensor *in = t[SVDF_INPUT], *wf = t[SVDF_W_FEATURE], *wt = t[SVDF_W_TIME], *st = t[SVDF_STATE];
    if (need_type(c, wf, SVDF_W_FEATURE, IR_I8) || need_type(c, out, 0, IR_I8)) return -1;
    if (wt->type != IR_I8 && wt->type != IR_I16)
        FAIL("operator %d (%s): time weights tensor %d (%s) is %s; TFLM's SVDF takes int8 or int16", c->op->index,
             c->name, wt->index, wt->name, ir_type_name(wt->type));
    if (st->type != wt->type)
        FAIL("operator %d (%s): activation state tensor %d (%s) is %s, the time weights %s; TFLM's kernel reads "
             "both as one type",
             c->op->index, c->name, st->index, st->name, ir_type_name(st->type), ir_type_name(wt->type));
    if (need_type(c, t[SVDF_BIAS], SVDF_BIAS, IR_I32)) return -1;
    for (int k = 0; k < SVDF_N_IN; k++)
        if (k != SVDF_BIAS && lower_need_q(c, t[k], svdf_role[k])) return -1;
    if (lower_need_q(c, (ir_tensor *)out, "output")) return -1;
    const float s_in = lower_scale(in), s_wf = lower_scale(wf), s_wt = lower_scale(wt), s_st = lower_scale(st);
    const float s_bias = t[SVDF_BIAS]->nq ? t[SVDF_BIAS]->scale[0] : 0.0f;
    /* float products, as TFLM's Prepare writes them, widened afterwards */
    const float e1 = s_in * s_wf / s_st, e2 = s_st * s_wt / lower_scale(out), sb = s_st * s_wt;
    double diff = (double)s_bias - (double)sb;
    if (!(diff < 1e-5 && diff > -1e-5))
        FAIL("operator %d (%s): bias tensor %d (%s) scale %g differs from activation state scale x time weights "
             "scale %g; TFLM requires them within 1e-5",
             c->op->index, c->name, t[SVDF_BIAS]->index, t[SVDF_BIAS]->name, (double)s_bias, (double)sb);
    if (svdf_multiplier(c, e1, "feature (input x feature weights / state)", &p->feature_mult, &p->feature_shift) ||
        svdf_multiplier(c, e2, "output (state x time weights / output)", &p->output_mult, &p->output_shift))
        return -1;
    p->state_bytes = st->type == IR_I16 ? 2 : 1;
    p->input_offset = -lower_zp(in);
    p->state_zp = lower_zp(st);
    p->output_zp = lower_zp(out);
    return 0;
}

int ops_svdf_lower(lower_ctx *c, k_call *k) {
    ir_op *op = c->op;
    ir_graph *g = c->g;
    if (op->code != OP_SVDF) return 1;
    if (op->n_in != SVDF_N_IN)
        FAIL("operator %d (%s): %d inputs; TFLM requires %d", op->index, c->name, op->n_in, SVDF_N_IN);
    if (op->n_out != 1) FAIL("operator %d (%s): %d outputs; TFLM requires 1", op->index, c->name, op->n_out);
    ir_tensor *t[SVDF_N_IN], *out = &g->tensors[op->out[0]];
    for (int i = 0; i < SVDF_N_IN; i++) {
        t[i] = lower_in(c, i);
        if (!t[i])
            FAIL("operator %d (%s): missing %s (input %d); TFLM's SVDF dereferences every input in Prepare",
                 op->index, c->name, svdf_role[i], i);
    }
    ir_tensor *in = t[SVDF_INPUT], *wf = t[SVDF_W_FEATURE], *wt = t[SVDF_W_TIME], *st = t[SVDF_STATE];
    if (!st->is_variable)
        FAIL("operator %d (%s): activation state tensor %d (%s) is not a variable tensor", op->index, c->name,
             st->index, st->name);
    if (!op->opt_pos)
        FAIL("operator %d (%s): no SVDF options, so no rank; TFLM's SVDF would divide by an unset rank", op->index,
             c->name);
    int32_t rank, act;
    if (reader_opt_int(g, op, SVDF_OPTIONS, 0, 4, 0, &rank, c->err) ||
        reader_opt_int(g, op, SVDF_OPTIONS, 1, 1, 0, &act, c->err))
        return -1;
    /* TFLM turns an activation code it does not know into none */
    if (act < 0 || act > 5) act = 0;
    if (in->rank != 2 || wf->rank != 2 || wt->rank != 2 || st->rank != 2 || out->rank != 2)
        FAIL("operator %d (%s): input, feature weights, time weights, state and output must be 2-D (ranks %d %d %d "
             "%d %d)",
             op->index, c->name, in->rank, wf->rank, wt->rank, st->rank, out->rank);
    const int32_t batches = in->shape[0], ni = in->shape[1], nf = wf->shape[0], nm = wt->shape[1];
    if (rank < 1 || nf % rank)
        FAIL("operator %d (%s): rank %d does not divide the %d filters of feature weights tensor %d", op->index,
             c->name, rank, nf, wf->index);
    const int32_t units = nf / rank;
    if (batches < 1 || ni < 1 || nf < 1 || nm < 1)
        FAIL("operator %d (%s): empty input or weights (%d batches, %d inputs, %d filters, memory %d)", op->index,
             c->name, batches, ni, nf, nm);
    if (out->shape[0] != batches || out->shape[1] != units)
        FAIL("operator %d (%s): output tensor %d (%s) must have shape [%d,%d]", op->index, c->name, out->index,
             out->name, batches, units);
    if (wf->shape[1] != ni)
        FAIL("operator %d (%s): feature weights tensor %d (%s) has %d columns, the input %d", op->index, c->name,
             wf->index, wf->name, wf->shape[1], ni);
    if (wt->shape[0] != nf)
        FAIL("operator %d (%s): time weights tensor %d (%s) has %d rows for %d filters", op->index, c->name,
             wt->index, wt->name, wt->shape[0], nf);
    if ((t[SVDF_BIAS]->rank < 1 || t[SVDF_BIAS]->shape[0] != units))
        FAIL("operator %d (%s): bias tensor %d (%s) must have %d values", op->index, c->name, t[SVDF_BIAS]->index,
             t[SVDF_BIAS]->name, units);
    if (st->shape[0] != batches || (int64_t)st->shape[1] != (int64_t)nm * nf)
        FAIL("operator %d (%s): activation state tensor %d (%s) must have shape [%d,%d]", op->index, c->name,
             st->index, st->name, batches, nm * nf);
    if (!t[SVDF_BIAS]->data)
        FAIL("operator %d (%s): bias tensor %d (%s) must be a constant", op->index, c->name, t[SVDF_BIAS]->index,
             t[SVDF_BIAS]->name);

    const int32_t tensors[SVDF_N_IN] = {in->index, wf->index, wt->index, st->index, t[SVDF_BIAS]->index};

    if (in->type == IR_F32) {
        for (int i = 1; i < SVDF_N_IN; i++)
            if (need_type(c, t[i], i, IR_F32)) return -1;
        if (need_type(c, out, 0, IR_F32)) return -1;
        pexc_svdf_f32_params *p = ops_alloc(c, sizeof *p);
        if (!p) return -1;
        *p = (pexc_svdf_f32_params){batches, ni, nf, nm, rank, act};
        return ops_generic(c, k, &kernel_svdf_f32, p, tensors, SVDF_N_IN);
    }
    if (in->type != IR_I8)
        FAIL("operator %d (%s): input tensor %d (%s) is %s; TFLM's SVDF takes int8 or float32", op->index, c->name,
             in->index, in->name, ir_type_name(in->type));
    pexc_svdf_s8_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    memset(p, 0, sizeof *p);
    p->batches = batches;
    p->n_input = ni;
    p->n_filter = nf;
    p->n_memory = nm;
    p->rank = rank;
    if (svdf_params_s8(c, t, out, p)) return -1;
    return ops_generic(c, k, &kernel_svdf_s8, p, tensors, SVDF_N_IN);
}
