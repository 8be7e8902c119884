/*
 * The audio front end: TFLM's signal-library custom operators (window,
 * FFT auto-scale, int16 real FFT, energy, mel filter bank, square root,
 * spectral subtraction, PCAN gain control, log), and the builtins the
 * front-end graph needs around them (int32 ADD, MUL, DIV, MINIMUM,
 * MAXIMUM; integer CAST; STRIDED_SLICE), as whole-tensor K_GENERIC calls.
 *
 * Parameters: a signal operator's parameters are a FlexBuffer map in its
 * custom_options, which TFLM reads by position (the map's values in key
 * order) as plain integers, whatever the keys say; so does pexc. A value
 * that is not an inline integer (TFLM would take its offset or float bits
 * for the number) or a position past the map's end is refused.
 *
 * Arithmetic: each kernel (runtime/src/signal_*.c) is TFLM's integer
 * arithmetic; what the compiler can do it does here: kissfft's radices and
 * Q15 twiddle tables (from the same double-precision phases), and every
 * index a filter bank will read, checked against its arrays, so the device
 * needs no libm and reads nothing out of bounds. Shifts TFLM would take
 * past a type's width, and inputs it would read past their end, are
 * refused with the operator and value named.
 *
 * State: SignalFilterBankSpectralSubtraction keeps a noise estimate across
 * TFLM Invoke() calls; pexc keeps it in a variable tensor that
 * signal_state.c adds, carried from run to run and zeroed on reset as
 * TFLM's. The other signal operators pexc runs keep none (TFLM's
 * stateful Delay, Framer, OverlapAdd and Stacker are not supported).
 *
 * Two-output operators (SignalFftAutoScale, SignalFilterBankSpectral-
 * Subtraction) reach here expanded, one operator per output (op->part);
 * each part computes what its output needs (the spectral subtraction's
 * estimate part updates the state, its output part reads the result).
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "ops/ops.h"

#define FAIL(...) return util_fail(c->err, __VA_ARGS__)

enum {
    SIG_WINDOW, SIG_AUTO_SCALE, SIG_RFFT, SIG_ENERGY, SIG_FILTER_BANK, SIG_SQRT, SIG_SUBTRACT, SIG_PCAN, SIG_LOG,
    SIG_N
};

static const char *const custom_names[SIG_N] = {
    "SignalWindow", "SignalFftAutoScale", "SignalRfft", "SignalEnergy", "SignalFilterBank",
    "SignalFilterBankSquareRoot", "SignalFilterBankSpectralSubtraction", "SignalPCAN", "SignalFilterBankLog",
};

static int custom_index(const char *name) {
    for (int i = 0; name && i < SIG_N; i++)
        if (!strcmp(name, custom_names[i])) return i;
    return -1;
}

int ops_signal_custom_known(const char *name) { return custom_index(name) >= 0; }

int ops_signal_known(int32_t code) {
    switch (code) {
    case OP_CAST: case OP_STRIDED_SLICE: case OP_ADD: case OP_SUB: case OP_MUL: case OP_DIV: case OP_MINIMUM:
    case OP_MAXIMUM:
        return 1;
    default: return 0;
    }
}

/* ---- emission ---------------------------------------------------------------- */

/* Parameter structs made of int32 fields only, printed by one emitter. */
typedef struct {
    const char *name;
    size_t off;
} int_field;

#define FIELD(T, m) {#m, offsetof(T, m)}
static const struct {
    const char *ptype;
    int n;
    int_field f[3];
} int_structs[] = {
    {"pexc_signal_window_params", 3,
     {FIELD(pexc_signal_window_params, n), FIELD(pexc_signal_window_params, len),
      FIELD(pexc_signal_window_params, shift)}},
    {"pexc_signal_fft_auto_scale_params", 2,
     {FIELD(pexc_signal_fft_auto_scale_params, n), FIELD(pexc_signal_fft_auto_scale_params, part)}},
    {"pexc_signal_energy_params", 3,
     {FIELD(pexc_signal_energy_params, start), FIELD(pexc_signal_energy_params, end),
      FIELD(pexc_signal_energy_params, n_out)}},
    {"pexc_signal_filter_bank_params", 2,
     {FIELD(pexc_signal_filter_bank_params, num_channels), FIELD(pexc_signal_filter_bank_params, n_out)}},
    {"pexc_signal_sqrt_params", 1, {FIELD(pexc_signal_sqrt_params, n)}},
    {"pexc_signal_pcan_params", 2, {FIELD(pexc_signal_pcan_params, n), FIELD(pexc_signal_pcan_params, snr_shift)}},
    {"pexc_cast_int_params", 3,
     {FIELD(pexc_cast_int_params, n), FIELD(pexc_cast_int_params, from), FIELD(pexc_cast_int_params, to)}},
};
#undef FIELD

static int emit_ints(emit_ctx *e, const k_call *k, const char *var) {
    for (size_t i = 0; i < sizeof int_structs / sizeof int_structs[0]; i++) {
        if (strcmp(int_structs[i].ptype, k->gen->ptype)) continue;
        emit_printf(e, "static const %s %s = {", k->gen->ptype, var);
        for (int j = 0; j < int_structs[i].n; j++) {
            int32_t v;
            memcpy(&v, (const char *)k->gen_params + int_structs[i].f[j].off, sizeof v);
            emit_printf(e, "%s.%s = %d", j ? ", " : "", int_structs[i].f[j].name, v);
        }
        emit_printf(e, "};\n");
        return 0;
    }
    return -1;
}

static int emit_rfft(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_signal_rfft_params *p = k->gen_params;
    char what[64];
    snprintf(what, sizeof what, "op%d_twiddles", k->op);
    const char *tw = emit_const_array(e, p->twiddles, (size_t)p->fft_length, IR_I16, what);
    snprintf(what, sizeof what, "op%d_super_twiddles", k->op);
    const char *sup = tw ? emit_const_array(e, p->super_twiddles, (size_t)(p->fft_length / 4) * 2, IR_I16, what)
                         : NULL;
    if (!sup) return -1;
    emit_printf(e, "static const pexc_signal_rfft_params %s = {\n    .fft_length = %d, .in_len = %d, .frames = %d, "
                   ".n_factors = %d,\n    ",
                var, p->fft_length, p->in_len, p->frames, p->n_factors);
    emit_int_field(e, "factors", p->factors, 2 * p->n_factors);
    emit_printf(e, "\n    .twiddles = %s, .super_twiddles = %s,\n};\n", tw, sup);
    return 0;
}

static int emit_subtract(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_signal_spectral_subtraction_params *p = k->gen_params;
    emit_printf(e,
                "static const pexc_signal_spectral_subtraction_params %s = {\n    .n = %d, .part = %d, "
                ".smoothing = %uu, .one_minus_smoothing = %uu,\n    .alternate_smoothing = %uu, "
                ".alternate_one_minus_smoothing = %uu, .min_signal_remaining = %uu,\n    .smoothing_bits = %uu, "
                ".spectral_subtraction_bits = %uu, .clamping = %uu,\n};\n",
                var, p->n, p->part, p->smoothing, p->one_minus_smoothing, p->alternate_smoothing,
                p->alternate_one_minus_smoothing, p->min_signal_remaining, p->smoothing_bits,
                p->spectral_subtraction_bits, p->clamping);
    return 0;
}

static int emit_log(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_signal_log_params *p = k->gen_params;
    emit_printf(e, "static const pexc_signal_log_params %s = {.n = %d, .output_scale = %uu, .correction_bits = %uu};\n",
                var, p->n, p->output_scale, p->correction_bits);
    return 0;
}

/* An int32 as a C constant (INT32_MIN has no literal). */
static const char *i32_c(int32_t v, char buf[24]) {
    if (v == INT32_MIN) snprintf(buf, 24, "INT32_MIN");
    else snprintf(buf, 24, "%d", v);
    return buf;
}

static int emit_arith(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_arith_s32_params *p = k->gen_params;
    char a[24], b[24];
    emit_printf(e, "static const pexc_arith_s32_params %s = {", var);
    emit_bcast_fields(e, p->op, p->rank, p->dims, p->stride_a, p->stride_b);
    emit_printf(e, "\n    .act_min = %s, .act_max = %s,\n};\n", i32_c(p->act_min, a), i32_c(p->act_max, b));
    return 0;
}

static int emit_strided(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_strided_copy_params *p = k->gen_params;
    emit_printf(e, "static const pexc_strided_copy_params %s = {\n    .elem_size = %d, ", var, p->elem_size);
    emit_int_field(e, "start", p->start, 5);
    emit_int_field(e, "step", p->step, 5);
    emit_printf(e, "\n    ");
    emit_int_field(e, "count", p->count, 5);
    emit_int_field(e, "in_stride", p->in_stride, 5);
    emit_printf(e, "\n};\n");
    return 0;
}

/* ---- host calls --------------------------------------------------------------- */

#define RUN(fn, ptype)                                                                  \
    static pexc_status run_##fn(const void *p, const void *const *in, void *out) {      \
        return pexc_##fn((const ptype *)p, in, out);                                    \
    }
RUN(signal_window_s16, pexc_signal_window_params)
RUN(signal_fft_auto_scale_s16, pexc_signal_fft_auto_scale_params)
RUN(signal_rfft_s16, pexc_signal_rfft_params)
RUN(signal_energy_s16, pexc_signal_energy_params)
RUN(signal_filter_bank, pexc_signal_filter_bank_params)
RUN(signal_filter_bank_sqrt, pexc_signal_sqrt_params)
RUN(signal_spectral_subtraction, pexc_signal_spectral_subtraction_params)
RUN(signal_pcan, pexc_signal_pcan_params)
RUN(signal_filter_bank_log, pexc_signal_log_params)
RUN(arith_s32, pexc_arith_s32_params)
RUN(cast_int, pexc_cast_int_params)
RUN(strided_copy, pexc_strided_copy_params)
#undef RUN

static const ops_kernel k_window = {"pexc_signal_window_s16", "pexc_signal_window_params", run_signal_window_s16,
                                    emit_ints};
static const ops_kernel k_auto_scale = {"pexc_signal_fft_auto_scale_s16", "pexc_signal_fft_auto_scale_params",
                                        run_signal_fft_auto_scale_s16, emit_ints};
static const ops_kernel k_rfft = {"pexc_signal_rfft_s16", "pexc_signal_rfft_params", run_signal_rfft_s16,
                                  emit_rfft};
static const ops_kernel k_energy = {"pexc_signal_energy_s16", "pexc_signal_energy_params", run_signal_energy_s16,
                                    emit_ints};
static const ops_kernel k_filter_bank = {"pexc_signal_filter_bank", "pexc_signal_filter_bank_params",
                                         run_signal_filter_bank, emit_ints};
static const ops_kernel k_sqrt = {"pexc_signal_filter_bank_sqrt", "pexc_signal_sqrt_params",
                                  run_signal_filter_bank_sqrt, emit_ints};
static const ops_kernel k_subtract = {"pexc_signal_spectral_subtraction", "pexc_signal_spectral_subtraction_params",
                                      run_signal_spectral_subtraction, emit_subtract};
static const ops_kernel k_pcan = {"pexc_signal_pcan", "pexc_signal_pcan_params", run_signal_pcan, emit_ints};
static const ops_kernel k_log = {"pexc_signal_filter_bank_log", "pexc_signal_log_params",
                                 run_signal_filter_bank_log, emit_log};
static const ops_kernel k_arith = {"pexc_arith_s32", "pexc_arith_s32_params", run_arith_s32, emit_arith};
static const ops_kernel k_cast = {"pexc_cast_int", "pexc_cast_int_params", run_cast_int, emit_ints};
static const ops_kernel k_strided = {"pexc_strided_copy", "pexc_strided_copy_params", run_strided_copy,
                                     emit_strided};

/* ---- checks shared by the operators --------------------------------------------- */

/* TFLM's Prepare takes exactly n_in inputs and n_out outputs (an expanded
 * operator has one output of op->n_parts). */
static int io(lower_ctx *c, int32_t n_in, int32_t n_out) {
    int32_t outs = c->op->n_parts > 1 ? c->op->n_parts : c->op->n_out;
    if (c->op->n_in != n_in || outs != n_out)
        FAIL("operator %d (%s): %d inputs and %d outputs; TFLM takes exactly %d and %d", c->op->index, c->name,
             c->op->n_in, outs, n_in, n_out);
    for (int32_t i = 0; i < n_in; i++)
        if (!lower_in(c, i)) FAIL("operator %d (%s): input %d is absent; it is required", c->op->index, c->name, i);
    return 0;
}

/* t has IR type `type` and rank `rank` (-1: any rank of at least 1). */
static int typed(lower_ctx *c, const ir_tensor *t, const char *role, int32_t type, int32_t rank) {
    if (t->type != type)
        FAIL("operator %d (%s): %s tensor %d (%s) is %s; TFLM's kernel takes %s", c->op->index, c->name, role,
             t->index, t->name, ir_type_name(t->type), ir_type_name(type));
    if (rank >= 0 ? t->rank != rank : t->rank < 1)
        FAIL("operator %d (%s): %s tensor %d (%s) has rank %d; TFLM's kernel takes rank %s%d", c->op->index, c->name,
             role, t->index, t->name, t->rank, rank >= 0 ? "" : "at least ", rank >= 0 ? rank : 1);
    return 0;
}

/* Output k of the operator before expansion (the part this call writes is
 * c->op->out[0]). */
static ir_tensor *out_of(lower_ctx *c, int32_t k) {
    const int32_t *outs = c->op->n_parts > 1 ? c->op->out - c->op->part : c->op->out;
    return &c->g->tensors[outs[k]];
}

/* The operator's FlexBuffer parameters as TFLM's kernels read them: value
 * i of the map by position (keys[i] is the name TFLM's kernel expects
 * there, for messages; TFLM does not look), truncated to int32 as
 * ElementAsInt32 does; the value under key `by_key` (or NULL) is looked up
 * by name instead, as SignalRfft reads its type "T" (0 when absent). */
static int params(lower_ctx *c, const char *const *keys, int n, int32_t *v, const char *by_key) {
    flexbuf_map m;
    char why[sizeof c->err->msg];
    if (flexbuf_map_open(c->op->custom_opt, c->op->custom_opt_len, &m, c->err)) {
        memcpy(why, c->err->msg, sizeof why);
        FAIL("operator %d (%s): %s", c->op->index, c->name, why);
    }
    for (int i = 0; i < n; i++) {
        uint32_t at = (uint32_t)i;
        if (by_key && !strcmp(keys[i], by_key)) {
            for (at = 0; at < m.len; at++) {
                const char *key = flexbuf_map_key(&m, at);
                if (key && !strcmp(key, by_key)) break;
            }
            if (at == m.len) {
                v[i] = 0;
                continue;
            }
        }
        int64_t x;
        if (flexbuf_map_int(&m, at, &x, c->err)) {
            memcpy(why, c->err->msg, sizeof why);
            FAIL("operator %d (%s): option %d (\"%s\" to TFLM): %s", c->op->index, c->name, i, keys[i], why);
        }
        v[i] = (int32_t)x;
    }
    return 0;
}

static int range(lower_ctx *c, const char *what, int32_t v, int32_t lo, int32_t hi) {
    if (v < lo || v > hi)
        FAIL("operator %d (%s): %s is %d; pexc takes %d to %d (TFLM's shift or index would be out of range)",
             c->op->index, c->name, what, v, lo, hi);
    return 0;
}

static int same_elems(lower_ctx *c, const ir_tensor *a, const ir_tensor *b) {
    if (a->elems != b->elems)
        FAIL("operator %d (%s): tensor %d (%s) has %lld elements and tensor %d (%s) %lld; TFLM's kernel needs them "
             "equal",
             c->op->index, c->name, a->index, a->name, (long long)a->elems, b->index, b->name, (long long)b->elems);
    return 0;
}

/* ---- the signal operators ----------------------------------------------------- */

static int lower_window(lower_ctx *c, k_call *k) {
    static const char *const keys[] = {"shift"};
    int32_t shift;
    if (io(c, 2, 1) || params(c, keys, 1, &shift, NULL)) return -1;
    ir_tensor *in = lower_in(c, 0), *w = lower_in(c, 1), *out = out_of(c, 0);
    if (typed(c, in, "input", IR_I16, -1) || typed(c, w, "weights", IR_I16, 1) ||
        typed(c, out, "output", IR_I16, in->rank) || same_elems(c, in, out) || range(c, "shift", shift, 0, 31))
        return -1;
    if (in->elems % w->elems)
        FAIL("operator %d (%s): input tensor %d has %lld samples, not a multiple of the %lld window weights",
             c->op->index, c->name, in->index, (long long)in->elems, (long long)w->elems);
    pexc_signal_window_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    p->n = (int32_t)in->elems;
    p->len = (int32_t)w->elems;
    p->shift = shift;
    int32_t ts[2] = {in->index, w->index};
    return ops_generic(c, k, &k_window, p, ts, 2);
}

static int lower_auto_scale(lower_ctx *c, k_call *k) {
    if (io(c, 1, 2)) return -1;
    ir_tensor *in = lower_in(c, 0), *out = out_of(c, 0), *bits = out_of(c, 1);
    if (typed(c, in, "input", IR_I16, 1) || typed(c, out, "output", IR_I16, 1) ||
        typed(c, bits, "scale bits", IR_I32, 0) || same_elems(c, in, out))
        return -1;
    pexc_signal_fft_auto_scale_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    p->n = (int32_t)in->elems;
    p->part = c->op->part;
    return ops_generic(c, k, &k_auto_scale, p, &in->index, 1);
}

/* kissfft's factorisation of n: fours, then twos, then odd primes, the
 * search ending at floor(sqrt(n)) of the original n. */
static int32_t kiss_factors(int32_t n, int32_t *f) {
    int32_t p = 4, k = 0;
    double floor_sqrt = floor(sqrt((double)n));
    do {
        while (n % p) {
            p = p == 4 ? 2 : p == 2 ? 3 : p + 2;
            if (p > floor_sqrt) p = n;
        }
        n /= p;
        f[2 * k] = p;
        f[2 * k + 1] = n;
        k++;
    } while (n > 1 && k < 32);
    return k;
}

/* Q15 cos and sin of phase, kissfft's kf_cexp for 16-bit samples. */
static void cexp_q15(double phase, int16_t *t) {
    t[0] = (int16_t)floor(.5 + 32767 * cos(phase));
    t[1] = (int16_t)floor(.5 + 32767 * sin(phase));
}

static int lower_rfft(lower_ctx *c, k_call *k) {
    static const char *const keys[] = {"T", "fft_length"};
    int32_t v[2];
    if (io(c, 1, 1) || params(c, keys, 2, v, "T")) return -1;
    ir_tensor *in = lower_in(c, 0), *out = out_of(c, 0);
    if (v[0] != IR_I16)
        FAIL("operator %d (%s): option T is %s; pexc has the int16 real FFT only", c->op->index, c->name,
             ir_type_name(v[0]));
    if (typed(c, in, "input", IR_I16, -1) || typed(c, out, "output", IR_I16, in->rank)) return -1;
    int32_t n = v[1], in_len = in->shape[in->rank - 1];
    /* kissfft refuses odd lengths, and its generic radix (a prime factor
     * above 5) needs a scratch allocation TFLM's build leaves NULL */
    if (n < 4 || n % 2 || n > (1 << 20) || in_len > n)
        FAIL("operator %d (%s): fft_length %d with %d-sample frames; pexc needs an even length of 4 to 2^20 covering "
             "the frame",
             c->op->index, c->name, n, in_len);
    pexc_signal_rfft_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    p->n_factors = kiss_factors(n / 2, p->factors);
    for (int32_t s = 0; s < p->n_factors; s++)
        if (p->factors[2 * s] < 2 || p->factors[2 * s] > 5)
            FAIL("operator %d (%s): fft_length %d has the radix %d; kissfft in TFLM handles radices 2 to 5 only",
                 c->op->index, c->name, n, p->factors[2 * s]);
    p->fft_length = n;
    p->in_len = in_len;
    p->frames = (int32_t)(in->elems / in_len);
    if (out->shape[out->rank - 1] != n + 2 || out->elems != (int64_t)p->frames * (n + 2))
        FAIL("operator %d (%s): output tensor %d has %lld values; %d frames of fft_length %d make %d bins of 2",
             c->op->index, c->name, out->index, (long long)out->elems, p->frames, n, n / 2 + 1);
    int16_t *tw = ops_alloc(c, sizeof(int16_t) * (size_t)n), *sup = ops_alloc(c, sizeof(int16_t) * (size_t)(n / 2));
    if (!tw || !sup) return -1;
    /* the phases exactly as kissfft forms them, so the rounded tables match */
    const double pi = 3.14159265358979323846264338327950288;
    int32_t half = n / 2;
    for (int32_t i = 0; i < half; i++) cexp_q15(-2 * pi * i / half, tw + 2 * i);
    for (int32_t i = 0; i < half / 2; i++) cexp_q15(-pi * ((double)(i + 1) / half + .5), sup + 2 * i);
    p->twiddles = tw;
    p->super_twiddles = sup;
    return ops_generic(c, k, &k_rfft, p, &in->index, 1);
}

static int lower_energy(lower_ctx *c, k_call *k) {
    static const char *const keys[] = {"end_index", "start_index"};
    int32_t v[2];
    if (io(c, 1, 1) || params(c, keys, 2, v, NULL)) return -1;
    ir_tensor *in = lower_in(c, 0), *out = out_of(c, 0);
    if (typed(c, in, "input", IR_I16, 1) || typed(c, out, "output", IR_U32, 1)) return -1;
    int32_t end = v[0], start = v[1];
    if (start < end && (start < 0 || end > out->elems || end > in->elems / 2))
        FAIL("operator %d (%s): bins [%d, %d) do not fit the %lld input bins and %lld outputs", c->op->index, c->name,
             start, end, (long long)(in->elems / 2), (long long)out->elems);
    pexc_signal_energy_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    p->n_out = (int32_t)out->elems;
    p->start = start < end ? start : 0;
    p->end = start < end ? end : 0;
    return ops_generic(c, k, &k_energy, p, &in->index, 1);
}

static int16_t i16_at(const ir_tensor *t, int64_t i) {
    int16_t x;
    memcpy(&x, t->data + 2 * i, 2);
    return x;
}

static int lower_filter_bank(lower_ctx *c, k_call *k) {
    static const char *const keys[] = {"num_channels"};
    static const char *const roles[] = {"input", "weights", "unweights", "channel frequency starts",
                                        "channel weight starts", "channel widths"};
    int32_t nch;
    if (io(c, 6, 1) || params(c, keys, 1, &nch, NULL)) return -1;
    ir_tensor *t[6], *out = out_of(c, 0);
    for (int i = 0; i < 6; i++) {
        t[i] = lower_in(c, i);
        if (typed(c, t[i], roles[i], i ? IR_I16 : IR_U32, 1)) return -1;
    }
    if (typed(c, out, "output", IR_U64, 1)) return -1;
    if (nch < 1 || nch > 4096 || out->elems > nch)
        FAIL("operator %d (%s): num_channels %d with %lld outputs; pexc takes 1 to 4096 channels, at least one per "
             "output",
             c->op->index, c->name, nch, (long long)out->elems);
    for (int i = 3; i < 6; i++) {
        if (!t[i]->data)
            FAIL("operator %d (%s): %s tensor %d must be a constant (pexc checks every index it holds)",
                 c->op->index, c->name, roles[i], t[i]->index);
        if (t[i]->elems < nch + 1)
            FAIL("operator %d (%s): %s tensor %d has %lld values for %d channels (TFLM reads %d)", c->op->index,
                 c->name, roles[i], t[i]->index, (long long)t[i]->elems, nch, nch + 1);
    }
    for (int32_t ch = 0; ch <= nch; ch++) {
        int32_t f = i16_at(t[3], ch), w = i16_at(t[4], ch), n = i16_at(t[5], ch);
        if (n > 0 && (f < 0 || f + n > t[0]->elems || w < 0 || w + n > t[1]->elems || w + n > t[2]->elems))
            FAIL("operator %d (%s): channel %d reads bins [%d, %d) of %lld and weights [%d, %d) of %lld", c->op->index,
                 c->name, ch, f, f + n, (long long)t[0]->elems, w, w + n,
                 (long long)(t[1]->elems < t[2]->elems ? t[1]->elems : t[2]->elems));
    }
    pexc_signal_filter_bank_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    p->num_channels = nch;
    p->n_out = (int32_t)out->elems;
    int32_t ts[6];
    for (int i = 0; i < 6; i++) ts[i] = t[i]->index;
    return ops_generic(c, k, &k_filter_bank, p, ts, 6);
}

static int lower_sqrt(lower_ctx *c, k_call *k) {
    if (io(c, 2, 1)) return -1;
    ir_tensor *in = lower_in(c, 0), *bits = lower_in(c, 1), *out = out_of(c, 0);
    if (typed(c, in, "input", IR_U64, 1) || typed(c, bits, "scale bits", IR_I32, 0) ||
        typed(c, out, "output", IR_U32, 1) || same_elems(c, in, out))
        return -1;
    pexc_signal_sqrt_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    p->n = (int32_t)in->elems;
    int32_t ts[2] = {in->index, bits->index};
    return ops_generic(c, k, &k_sqrt, p, ts, 2);
}

static int lower_subtract(lower_ctx *c, k_call *k) {
    static const char *const keys[] = {"alternate_one_minus_smoothing", "alternate_smoothing", "clamping",
                                       "min_signal_remaining", "num_channels", "one_minus_smoothing", "smoothing",
                                       "smoothing_bits", "spectral_subtraction_bits"};
    int32_t v[9];
    /* an operator of two outputs was split and given a second input by
     * ops_signal_add_state (the state, or the updated estimate): any other
     * count is the model's and is refused as TFLM's Prepare refuses it */
    if ((c->op->n_parts != 2 && io(c, 1, 2)) || params(c, keys, 9, v, NULL)) return -1;
    ir_tensor *in = lower_in(c, 0), *est = lower_in(c, 1), *out = out_of(c, 0), *noise = out_of(c, 1);
    if (!in || !est)
        FAIL("operator %d (%s): input 0 is absent; it is required", c->op->index, c->name);
    if (typed(c, in, "input", IR_U32, 1) || typed(c, out, "output", IR_U32, 1) ||
        typed(c, noise, "noise estimate", IR_U32, 1) || range(c, "smoothing_bits", v[7], 0, 31) ||
        range(c, "spectral_subtraction_bits", v[8], 0, 63))
        return -1;
    int32_t nch = v[4];
    if (nch < 1 || in->elems < nch || out->elems != nch || noise->elems != nch || est->elems != nch)
        FAIL("operator %d (%s): num_channels %d with input, output and noise estimate of %lld, %lld and %lld values",
             c->op->index, c->name, nch, (long long)in->elems, (long long)out->elems, (long long)noise->elems);
    pexc_signal_spectral_subtraction_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    p->n = nch;
    p->part = c->op->part;
    /* TFLM stores the int32 options in uint32 fields */
    p->alternate_one_minus_smoothing = (uint32_t)v[0];
    p->alternate_smoothing = (uint32_t)v[1];
    p->clamping = v[2] != 0;
    p->min_signal_remaining = (uint32_t)v[3];
    p->one_minus_smoothing = (uint32_t)v[5];
    p->smoothing = (uint32_t)v[6];
    p->smoothing_bits = (uint32_t)v[7];
    p->spectral_subtraction_bits = (uint32_t)v[8];
    int32_t ts[2] = {in->index, est->index};
    return ops_generic(c, k, &k_subtract, p, ts, 2);
}

static int lower_pcan(lower_ctx *c, k_call *k) {
    static const char *const keys[] = {"snr_shift"};
    int32_t shift;
    if (io(c, 3, 1) || params(c, keys, 1, &shift, NULL)) return -1;
    ir_tensor *in = lower_in(c, 0), *noise = lower_in(c, 1), *lut = lower_in(c, 2), *out = out_of(c, 0);
    if (typed(c, in, "input", IR_U32, 1) || typed(c, noise, "noise estimate", IR_U32, 1) ||
        typed(c, lut, "gain table", IR_I16, 1) || typed(c, out, "output", IR_U32, 1) || same_elems(c, in, out) ||
        range(c, "snr_shift", shift, 0, 63))
        return -1;
    /* the gain of a noise estimate with its top bit at 32 reads entry 124 */
    if (noise->elems < in->elems || lut->elems < 125)
        FAIL("operator %d (%s): noise estimate of %lld values for %lld channels, gain table of %lld entries (TFLM "
             "reads up to 125)",
             c->op->index, c->name, (long long)noise->elems, (long long)in->elems, (long long)lut->elems);
    pexc_signal_pcan_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    p->n = (int32_t)in->elems;
    p->snr_shift = shift;
    int32_t ts[3] = {in->index, noise->index, lut->index};
    return ops_generic(c, k, &k_pcan, p, ts, 3);
}

static int lower_log(lower_ctx *c, k_call *k) {
    static const char *const keys[] = {"input_correction_bits", "output_scale"};
    int32_t v[2];
    if (io(c, 1, 1) || params(c, keys, 2, v, NULL)) return -1;
    ir_tensor *in = lower_in(c, 0), *out = out_of(c, 0);
    if (typed(c, in, "input", IR_U32, 1) || typed(c, out, "output", IR_I16, 1) || same_elems(c, in, out) ||
        range(c, "input_correction_bits", v[0], 0, 31))
        return -1;
    pexc_signal_log_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    p->n = (int32_t)in->elems;
    p->correction_bits = (uint32_t)v[0];
    p->output_scale = (uint32_t)v[1];
    return ops_generic(c, k, &k_log, p, &in->index, 1);
}

/* ---- builtins: int32 arithmetic, CAST, STRIDED_SLICE ------------------------------- */

static int lower_arith(lower_ctx *c, k_call *k, ir_tensor *a, ir_tensor *out) {
    ir_op *op = c->op;
    if (io(c, 2, 1)) return -1;
    ir_tensor *b = lower_in(c, 1);
    if (lower_need(c, b, 1, "input", IR_I32, 0) || lower_need(c, out, 0, "output", IR_I32, 0)) return -1;
    if (out->rank > 4 || a->rank > 4 || b->rank > 4)
        FAIL("operator %d (%s): rank %d operands; TFLM broadcasts int32 up to rank 4", op->index, c->name,
             out->rank > a->rank ? (out->rank > b->rank ? out->rank : b->rank) : a->rank);
    /* ADD, SUB and DIV refuse quantised int32 in TFLM's Prepare */
    if ((op->code == OP_ADD || op->code == OP_SUB || op->code == OP_DIV) && (a->nq || b->nq || out->nq))
        FAIL("operator %d (%s): quantized int32 operand; TFLM takes unquantized int32 only", op->index, c->name);
    pexc_arith_s32_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    /* the fused activation: field 0 of the options table (union type);
     * TFLM's int32 ADD ignores its activation, MINIMUM/MAXIMUM have none */
    int32_t act = 0, utype = 0;
    switch (op->code) {
    case OP_ADD: p->op = PEXC_ARITH_ADD; break;
    case OP_SUB: p->op = PEXC_ARITH_SUB; utype = 28; break;
    case OP_MUL: p->op = PEXC_ARITH_MUL; utype = 21; break;
    case OP_DIV: p->op = PEXC_ARITH_DIV; utype = 29; break;
    case OP_MINIMUM: p->op = PEXC_ARITH_MIN; break;
    default: p->op = PEXC_ARITH_MAX; break;
    }
    if (utype && reader_opt_int(c->g, op, (uint8_t)utype, 0, 1, 0, &act, c->err)) return -1;
    /* CalculateActivationRange for int32: RELU, RELU6, RELU_N1_TO_1 clamp,
     * anything else leaves the full range */
    p->act_min = act == 1 || act == 3 ? 0 : act == 2 ? -1 : INT32_MIN;
    p->act_max = act == 3 ? 6 : act == 2 ? 1 : INT32_MAX;
    if (op->code == OP_DIV) {
        /* TFLM divides with no check: a zero divisor faults */
        if (!b->data)
            FAIL("operator %d (%s): divisor tensor %d is not a constant; pexc needs one to rule out division by zero",
                 op->index, c->name, b->index);
        for (int64_t i = 0; i < b->elems; i++) {
            int32_t d;
            memcpy(&d, b->data + 4 * i, 4);
            if (!d) FAIL("operator %d (%s): divisor tensor %d holds 0 at %lld", op->index, c->name, b->index, (long long)i);
        }
    }
    p->rank = out->rank ? out->rank : 1;
    for (int d = 0; d < 6; d++) p->dims[d] = 1;
    for (int32_t d = 0; d < out->rank; d++) p->dims[d] = out->shape[d];
    if (out->rank &&
        (lower_bcast_strides(c, a, out, p->stride_a) || lower_bcast_strides(c, b, out, p->stride_b)))
        return -1;
    int32_t ts[2] = {a->index, b->index};
    return ops_generic(c, k, &k_arith, p, ts, 2);
}

static int int_code(int32_t type) {
    switch (type) {
    case IR_I8: return PEXC_INT_S8;
    case IR_I16: return PEXC_INT_S16;
    case IR_I32: return PEXC_INT_S32;
    case IR_U32: return PEXC_INT_U32;
    case IR_BOOL: return PEXC_INT_BOOL;
    default: return -1;
    }
}

static int lower_cast(lower_ctx *c, k_call *k, ir_tensor *in, ir_tensor *out) {
    int from = int_code(in->type), to = int_code(out->type);
    /* integer to integer only; float casts are the data-movement family's */
    if (from < 0 || to < 0 || to == PEXC_INT_BOOL) return 1;
    if (io(c, 1, 1) || same_elems(c, in, out)) return -1;
    pexc_cast_int_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    p->n = (int32_t)in->elems;
    p->from = from;
    p->to = to;
    return ops_generic(c, k, &k_cast, p, &in->index, 1);
}

static int clampi(int v, int lo, int hi) { return hi < v ? hi : v < lo ? lo : v; }

/* One axis of TFLM's STRIDED_SLICE: Prepare's extent (StartForAxis /
 * StopForAxis, the extent by float division) into *prep, and Eval's start
 * and stop (StridedSliceStartForAxis / EndForAxis, which order the mask and
 * the clamping differently) into *start, *stop. */
static void slice_axis(int size, int begin, int end, int stride, int bmask, int emask, int shrink, int32_t *prep,
                       int *start, int *stop) {
    /* Prepare */
    int s = bmask ? (stride > 0 ? INT32_MIN : INT32_MAX) : begin;
    if (s < 0) s = s == INT32_MIN ? INT32_MIN + size : s + size;
    s = stride > 0 ? clampi(s, 0, size) : clampi(s, -1, size - 1);
    int e;
    if (shrink) {
        e = s + 1;
    } else {
        e = emask ? (stride > 0 ? INT32_MAX : INT32_MIN) : end;
        if (e < 0) e = e == INT32_MIN ? INT32_MIN + size : e + size;
        e = stride > 0 ? clampi(e, 0, size) : clampi(e, -1, size - 1);
    }
    int32_t ext = (int32_t)ceilf((float)(e - s) / (float)stride);
    *prep = ext < 0 ? 0 : ext;
    /* Eval */
    s = begin < 0 ? begin + size : begin;
    s = stride > 0 ? clampi(s, 0, size) : clampi(s, -1, size - 1);
    if (bmask) s = stride > 0 ? 0 : size - 1;
    if (shrink) {
        e = s >= size ? s : s + 1;
    } else {
        e = end < 0 ? end + size : end;
        e = stride > 0 ? clampi(e, 0, size) : clampi(e, -1, size - 1);
        if (emask) e = stride > 0 ? size : -1;
    }
    *start = s;
    *stop = e;
}

static int lower_strided_slice(lower_ctx *c, k_call *k, ir_tensor *in, ir_tensor *out) {
    ir_op *op = c->op;
    size_t es = ir_type_size(in->type);
    if (in->type != IR_F32 && in->type != IR_I8 && in->type != IR_I16 && in->type != IR_I32 && in->type != IR_BOOL)
        FAIL("operator %d (%s): input tensor %d is %s; TFLM slices float32, int8, int16, int32 and bool", op->index,
             c->name, in->index, ir_type_name(in->type));
    if (io(c, 4, 1) || lower_need(c, out, 0, "output", in->type, 0)) return -1;
    int32_t dims = in->rank;
    if (dims < 1 || dims > 4)
        FAIL("operator %d (%s): input of rank %d; TFLM slices ranks 1 to 4", op->index, c->name, dims);
    static const char *const roles[] = {"begin", "end", "strides"};
    int32_t v[3][4];
    for (int j = 0; j < 3; j++) {
        ir_tensor *t = lower_in(c, 1 + j);
        if (lower_need(c, t, 1 + j, roles[j], IR_I32, 1)) return -1;
        if (t->elems != dims)
            FAIL("operator %d (%s): %s tensor %d has %lld values for a rank-%d input", op->index, c->name, roles[j],
                 t->index, (long long)t->elems, dims);
        memcpy(v[j], t->data, 4 * (size_t)dims);
    }
    int32_t bmask, emask, smask;
    if (reader_opt_int(c->g, op, 32 /* StridedSliceOptions */, 0, 4, 0, &bmask, c->err) ||
        reader_opt_int(c->g, op, 32, 1, 4, 0, &emask, c->err) ||
        reader_opt_int(c->g, op, 32, 4, 4, 0, &smask, c->err))
        return -1;
    pexc_strided_copy_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    p->elem_size = (int32_t)es;
    /* leading axes of extent 1 up to 5, whole (TFLM pads the same way) */
    int32_t pad = 5 - dims, kept = 0;
    int64_t stride_el = 1, total = 1;
    for (int a = 4; a >= 0; a--) {
        p->in_stride[a] = (int32_t)stride_el;
        if (a < pad) {
            p->start[a] = 0;
            p->step[a] = 1;
            p->count[a] = 1;
            continue;
        }
        int i = a - pad, size = in->shape[i], st = v[2][i];
        if (st == 0) FAIL("operator %d (%s): stride %d is 0", op->index, c->name, i);
        int start, stop;
        int32_t prep;
        slice_axis(size, v[0][i], v[1][i], st, bmask >> i & 1, emask >> i & 1, smask >> i & 1, &prep, &start, &stop);
        int64_t cnt = st > 0 ? (stop > start ? ((int64_t)stop - start + st - 1) / st : 0)
                             : (stop < start ? ((int64_t)start - stop - st - 1) / -st : 0);
        p->start[a] = start;
        p->step[a] = st;
        p->count[a] = (int32_t)cnt;
        total *= cnt;
        stride_el *= size;
        if (!(smask >> i & 1)) {
            /* Prepare compares the kept axes with the output's shape, in order */
            int32_t at = 0;
            for (int j = 0; j < i; j++) at += !(smask >> j & 1);
            if (at >= out->rank || out->shape[at] != prep)
                FAIL("operator %d (%s): axis %d of the slice has %d elements; output tensor %d does not match",
                     op->index, c->name, i, prep, out->index);
            kept++;
        }
    }
    if (kept != out->rank)
        FAIL("operator %d (%s): output tensor %d has rank %d; the slice keeps %d axes", op->index, c->name,
             out->index, out->rank, kept);
    if (total != out->elems)
        FAIL("operator %d (%s): the slice copies %lld elements into output tensor %d of %lld", op->index, c->name,
             (long long)total, out->index, (long long)out->elems);
    for (int a = 0; a < 5; a++)
        if (p->count[a] == 0) p->start[a] = 0;
    return ops_generic(c, k, &k_strided, p, &in->index, 1);
}

/* ---- dispatch -------------------------------------------------------------------- */

int ops_signal_lower(lower_ctx *c, k_call *k) {
    ir_op *op = c->op;
    if (op->code == OP_CUSTOM) {
        switch (custom_index(op->custom_name)) {
        case SIG_WINDOW: return lower_window(c, k);
        case SIG_AUTO_SCALE: return lower_auto_scale(c, k);
        case SIG_RFFT: return lower_rfft(c, k);
        case SIG_ENERGY: return lower_energy(c, k);
        case SIG_FILTER_BANK: return lower_filter_bank(c, k);
        case SIG_SQRT: return lower_sqrt(c, k);
        case SIG_SUBTRACT: return lower_subtract(c, k);
        case SIG_PCAN: return lower_pcan(c, k);
        case SIG_LOG: return lower_log(c, k);
        default: return 1;
        }
    }
    ir_tensor *in = lower_in(c, 0), *out = &c->g->tensors[op->out[0]];
    if (!ops_signal_known(op->code) || !in) return 1;
    switch (op->code) {
    case OP_CAST: return lower_cast(c, k, in, out);
    case OP_STRIDED_SLICE: return lower_strided_slice(c, k, in, out);
    default: return in->type == IR_I32 ? lower_arith(c, k, in, out) : 1;
    }
}
