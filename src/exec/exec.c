/*
 * Host executor: runs a plan step by step, each step one kernel call on views
 * of arena buffers. The C emitter prints exactly these calls with the view
 * fields as constants.
 */
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "sched/stream_io.h"

static void make_view(const ir_graph *g, const k_call *calls, const plan_t *p, uint8_t *arena, const plan_view *pv,
                      const int32_t d[4], pexc_view *v) {
    if (pv->buf >= 0)
        v->data = arena + p->buffers[pv->buf].offset +
                  (p->tensor_buffer[pv->tensor] == pv->buf ? plan_tensor_offset(g, calls, p, pv->tensor) : 0);
    else
        v->data = (void *)(uintptr_t)g->tensors[pv->tensor].data; /* constants are only read */
    v->n = d[0];
    v->h = d[1];
    v->w = d[2];
    v->c = d[3];
    /* whole tensors and partial sums are seen in the consumer's own shape
     * (FULLY_CONNECTED flattens its input); slices keep their channel range */
    int slice = pv->buf >= 0 && (p->buffers[pv->buf].kind == BUF_SLICE || p->buffers[pv->buf].kind == BUF_RING);
    v->c_begin = slice ? pv->c_begin : 0;
    v->c_stored = slice ? pv->c_stored : d[3];
    v->ring_px = pv->ring_px;
}

static void *tensor_ptr(const ir_graph *g, const k_call *calls, const plan_t *p, uint8_t *arena, int32_t ti) {
    const ir_tensor *t = &g->tensors[ti];
    if (t->data) return (void *)(uintptr_t)t->data;
    return arena + p->buffers[p->tensor_buffer[ti]].offset + plan_tensor_offset(g, calls, p, ti);
}

static pexc_status run_call(const ir_graph *g, const k_call *calls, const k_call *k, const plan_t *p, uint8_t *arena,
                            const plan_step *st) {
    pexc_view in, in2, out;
    const pexc_tile *t = &st->tile;
    if (st->in[0].tensor >= 0) make_view(g, calls, p, arena, &st->in[0], st->mode == STEP_FINISH ? k->out_dims : k->in_dims[0], &in);
    if (st->in[1].tensor >= 0) make_view(g, calls, p, arena, &st->in[1], k->in_dims[1], &in2);
    make_view(g, calls, p, arena, &st->out, k->out_dims, &out);
    if (st->mode == STEP_FINISH && k->kind == K_AVGPOOL)
        return pexc_avg_pool_s8_finish(&k->pool, k->in_dims[0][1], k->in_dims[0][2], &in, t, &out);
    if (st->mode == STEP_FINISH && k->kind == K_FC_F32)
        return pexc_fully_connected_f32_finish(k->act_min_f, k->act_max_f, k->bias_f32, &in, t, &out);
    if (st->mode == STEP_FINISH) return pexc_requant_s32_s8(&k->conv, k->bias, &in, t, &out);
    if (st->mode == STEP_ACC && k->kind == K_AVGPOOL)
        return pexc_avg_pool_s8_acc(&k->pool, &in, st->ic0, st->ic1, st->first, t, &out);
    if (st->mode == STEP_ACC) {
        if (k->kind == K_CONV)
            return pexc_conv2d_s8_acc(&k->conv, &in, k->weights, k->kh, k->kw, st->ic0, st->ic1, st->first, t, &out);
        if (k->kind == K_FC_F32)
            return pexc_fully_connected_f32_acc(&in, k->weights_f32, st->ic0, st->ic1, st->first, t, &out);
        if (k->kind == K_FC)
            return pexc_fully_connected_s8_acc(&k->conv, k->filter_offset, &in, k->weights, st->ic0, st->ic1,
                                               st->first, t, &out);
        if (k->kind == K_DWCONV)
            return pexc_depthwise_conv2d_s8_acc(&k->conv, k->depth_mult, &in, k->weights, k->kh, k->kw, st->ic0,
                                                st->ic1, st->first, t, &out);
        return PEXC_ERR_UNSUPPORTED;
    }
    switch (k->kind) {
    case K_NOP: {
        unsigned char *src = (unsigned char *)tensor_ptr(g, calls, p, arena, k->in[0]) + k->alias_off;
        if (src != out.data) memmove(out.data, src, g->tensors[k->out].bytes);
        return PEXC_OK;
    }
    case K_CONV: return pexc_conv2d_s8(&k->conv, &in, k->weights, k->kh, k->kw, k->bias, t, &out);
    case K_DWCONV:
        return pexc_depthwise_conv2d_s8(&k->conv, k->depth_mult, &in, k->weights, k->kh, k->kw, k->bias, t, &out);
    case K_FC: return pexc_fully_connected_s8(&k->conv, k->filter_offset, &in, k->weights, k->bias, t, &out);
    case K_FC_F32:
        return pexc_fully_connected_f32(k->act_min_f, k->act_max_f, &in, k->weights_f32, k->bias_f32, t, &out);
    case K_AVGPOOL: return pexc_avg_pool_s8(&k->pool, &in, t, &out);
    case K_MAXPOOL: return pexc_max_pool_s8(&k->pool, &in, t, &out);
    case K_ADD: return pexc_add_s8(&k->add, &in, &in2, t, &out);
    case K_MUL: return pexc_mul_s8(&k->mul, &in, &in2, t, &out);
    case K_PAD: return pexc_pad_s8(&k->pad, &in, t, &out);
    case K_SOFTMAX: return pexc_softmax_s8(&k->softmax, &in, t, &out);
    case K_LOGISTIC: return pexc_logistic_s8(&k->logistic, &in, t, &out);
    case K_LUT: return pexc_lut_s8(k->lut, &in, t, &out);
    case K_MEAN: return pexc_mean_hw_s8(&k->mean, &in, t, &out);
    case K_REQUANT: return pexc_requantize_s8(&k->requant, &in, t, &out);
    case K_QUANT_F32: return pexc_quantize_f32_s8(k->qscale, k->qzp, &in, t, &out);
    case K_DEQUANT_F32: return pexc_dequantize_s8_f32(k->qscale, k->qzp, &in, t, &out);
    case K_TRANSPOSE:
        if (plan_step_tiled_transpose(k, st))
            return pexc_transpose_s8_tile(&k->transpose, tensor_ptr(g, calls, p, arena, k->in[0]), t, &out);
        return pexc_transpose(&k->transpose, k->elem_size, tensor_ptr(g, calls, p, arena, k->in[0]), out.data);
    case K_CONCAT:
    case K_GENERIC: {
        const void *ins[64];
        if (k->n_whole > 64) return PEXC_ERR_UNSUPPORTED;
        if (k->kind == K_GENERIC && plan_step_seq(p, k, st)) {
            /* time steps of a sequence: operand 0 through its view (maybe a
             * ring, which has no whole address) */
            for (int32_t i = 0; i < k->n_whole; i++)
                ins[i] = k->whole_in[i] == k->in[0] ? NULL : tensor_ptr(g, calls, p, arena, k->whole_in[i]);
            return ops_steps_of(k)->run(k->gen_params, ins, &in, t, &out);
        }
        for (int32_t i = 0; i < k->n_whole; i++) ins[i] = tensor_ptr(g, calls, p, arena, k->whole_in[i]);
        if (k->kind == K_GENERIC) return k->gen->run(k->gen_params, ins, out.data);
        return pexc_concat(k->n_whole, ins, k->cat_inner, k->cat_outer, k->elem_size, out.data);
    }
    }
    return PEXC_ERR_UNSUPPORTED;
}

/* Writes a tensor that step s has just completed to dir/<index>.bin. */
static int dump_tensor(const ir_graph *g, const k_call *calls, const plan_t *p, uint8_t *arena, int32_t s,
                       const char *dir, util_err *err) {
    const plan_step *st = &p->steps[s];
    int32_t t = st->out.tensor;
    if (st->mode == STEP_ACC || st->out.buf < 0 || p->buffers[st->out.buf].kind != BUF_TENSOR) return 0;
    for (int32_t k = s + 1; k < p->n_steps; k++)
        if (p->steps[k].out.tensor == t && p->steps[k].call == st->call) return 0; /* not complete yet */
    char path[1024];
    snprintf(path, sizeof path, "%s/%d.bin", dir, t);
    FILE *f = fopen(path, "wb");
    size_t n = g->tensors[t].bytes;
    if (!f || fwrite(tensor_ptr(g, calls, p, arena, t), 1, n, f) != n) {
        if (f) fclose(f);
        return util_fail(err, "cannot write %s", path);
    }
    return fclose(f) == 0 ? 0 : util_fail(err, "cannot write %s", path);
}

uint8_t exec_state_fill(const ir_tensor *t) {
    /* TFLM ResetTensorData: memset with the first zero point of an int8
     * tensor, with 0 for any other type */
    return t->type == IR_I8 && t->nq > 0 ? (uint8_t)(int8_t)t->zero_point[0] : 0;
}

void exec_reset_state(const ir_graph *g, const plan_t *p, uint8_t *arena) {
    for (int32_t i = 0; i < g->n_tensors; i++) {
        const ir_tensor *t = &g->tensors[i];
        if (t->is_variable && p->tensor_buffer[i] >= 0)
            memset(arena + p->buffers[p->tensor_buffer[i]].offset, exec_state_fill(t), t->bytes);
    }
}

void exec_init_state(const ir_graph *g, const plan_t *p, uint8_t *arena) {
    for (int32_t i = 0; i < g->n_tensors; i++) {
        const ir_tensor *t = &g->tensors[i];
        if (t->is_variable && t->init && p->tensor_buffer[i] >= 0)
            memcpy(arena + p->buffers[p->tensor_buffer[i]].offset, t->init, t->bytes);
    }
}

/* NHWC pixel q of input i, px bytes, to dst: the caller's bytes at q, or
 * for an input given as channel planes (ir_graph.input_planar, its
 * TRANSPOSE folded into this copy) element q of each plane. */
static void exec_input_pixel(const ir_graph *g, int32_t i, const uint8_t *src, int64_t q, size_t px, uint8_t *dst) {
    if (g->input_planar && g->input_planar[i]) {
        const ir_tensor *t = &g->tensors[g->inputs[i]];
        size_t plane = (size_t)t->shape[2] * (size_t)t->shape[3];
        for (size_t c = 0; c < px; c++) dst[c] = src[c * plane + (size_t)q];
        return;
    }
    memcpy(dst, src + (size_t)q * px, px);
}

/* A streamed model input (ir_graph.stream_input) sits in a ring that the
 * caller fills as the plan reads it: before a step reading that ring, the
 * pixels up to the last one it reads are copied in, in raster order, each
 * once (the plan verifier checks the same rule). */
#define PEXC_EXEC_MAX_STREAMED 16
static int exec_read_input_rows(const ir_graph *g, const k_call *calls, const plan_t *p, uint8_t *arena,
                                const plan_step *st, const void *const *inputs, int64_t *read_next) {
    for (int w = 0; w < 2; w++) {
        const plan_view *v = &st->in[w];
        if (v->buf < 0) continue;
        const plan_buffer *b = &p->buffers[v->buf];
        int32_t ci = plan_input_chunk(g, calls, p, v->buf);
        if (ci >= 0) {
            /* a chunk of channels for a fully-connected layer (stream_io.c) */
            const ir_tensor *t = &g->tensors[b->tensor];
            size_t es = t->elems ? t->bytes / (size_t)t->elems : 1;
            memcpy(arena + b->offset, (const uint8_t *)inputs[ci] + (size_t)b->c_begin * es, (size_t)b->c_stored * es);
            continue;
        }
        if (b->kind != BUF_RING || v->tensor != b->tensor) continue;
        int32_t i = plan_input_of(g, calls, b->tensor);
        if (i < 0) continue;
        if (i >= PEXC_EXEC_MAX_STREAMED) return -1;
        int64_t q0, q1;
        plan_step_pixels(g, calls, st, w, &q0, &q1);
        size_t px = (size_t)b->c_stored * ir_type_size(g->tensors[b->tensor].type); /* int8, or float32 time steps */
        for (int64_t q = read_next[i]; q < q1; q++)
            exec_input_pixel(g, i, (const uint8_t *)inputs[i], q, px, arena + b->offset + (size_t)(q % b->ring_px) * px);
        if (q1 > read_next[i]) read_next[i] = q1;
    }
    return 0;
}

/* Hands the caller the output pieces step s has completed (stream_io.c). */
static int exec_write_pieces(const ir_graph *g, const k_call *calls, const plan_t *p, uint8_t *arena, int32_t s,
                             exec_write_fn write, void *ctx, util_err *err) {
    plan_out_piece pc[16];
    int32_t n = plan_output_pieces(g, calls, p, s, pc, 16);
    for (int32_t j = 0; j < n; j++) {
        const ir_tensor *t = &g->tensors[g->outputs[pc[j].output]];
        size_t es = t->elems ? t->bytes / (size_t)t->elems : 1;
        int rc = write(ctx, pc[j].output, pc[j].first, pc[j].n, es, arena + pc[j].off);
        if (rc) return util_fail(err, "step %d: writing elements [%lld,+%lld) of output %d returned %d", s,
                                 (long long)pc[j].first, (long long)pc[j].n, pc[j].output, rc);
    }
    return 0;
}

int exec_run(const ir_graph *g, const k_call *calls, const plan_t *p, uint8_t *arena, const void *const *inputs,
             void *const *outputs, util_err *err) {
    return exec_run_dump(g, calls, p, arena, inputs, outputs, NULL, err);
}

/* exec_run_dump's writer of streamed outputs: into the caller's arrays. */
static int exec_write_arrays(void *ctx, int output, int64_t first, int64_t n, size_t elem, const void *src) {
    memcpy((uint8_t *)((void *const *)ctx)[output] + (size_t)first * elem, src, (size_t)n * elem);
    return 0;
}

int exec_run_dump(const ir_graph *g, const k_call *calls, const plan_t *p, uint8_t *arena,
                  const void *const *inputs, void *const *outputs, const char *dump_dir, util_err *err) {
    if (g->stream_output)
        return exec_run_stream(g, calls, p, arena, inputs, exec_write_arrays, (void *)(uintptr_t)outputs, dump_dir,
                               err);
    return exec_run_stream(g, calls, p, arena, inputs, NULL, (void *)(uintptr_t)outputs, dump_dir, err);
}

/* With write NULL, ctx is the outputs array, filled at the end. */
int exec_run_stream(const ir_graph *g, const k_call *calls, const plan_t *p, uint8_t *arena,
                    const void *const *inputs, exec_write_fn write, void *ctx, const char *dump_dir, util_err *err) {
    void *const *outputs = (void *const *)ctx;
    int64_t read_next[PEXC_EXEC_MAX_STREAMED] = {0}; /* per input: next pixel not yet read into its ring */
    for (int32_t i = 0; i < g->n_inputs; i++) {
        int32_t ti = g->inputs[i];
        if (p->tensor_buffer[ti] < 0) continue;
        uint8_t *dst = tensor_ptr(g, calls, p, arena, ti);
        if (g->input_planar && g->input_planar[i]) {
            /* held whole, NHWC: the folded TRANSPOSE (src/ir/fold.c) */
            const ir_tensor *t = &g->tensors[ti];
            size_t c = (size_t)t->shape[1], n = (size_t)t->shape[2] * (size_t)t->shape[3];
            for (size_t q = 0; q < n; q++) exec_input_pixel(g, i, inputs[i], (int64_t)q, c, dst + q * c);
        } else {
            memcpy(dst, inputs[i], g->tensors[ti].bytes);
        }
    }
    for (int32_t s = 0; s < p->n_steps; s++) {
        const k_call *k = &calls[p->steps[s].call];
        if (exec_read_input_rows(g, calls, p, arena, &p->steps[s], inputs, read_next))
            return util_fail(err, "step %d (operator %d): a streamed input has more than %d inputs before it", s,
                             k->op, PEXC_EXEC_MAX_STREAMED);
        pexc_status st = run_call(g, calls, k, p, arena, &p->steps[s]);
        if (st != PEXC_OK)
            return util_fail(err, "step %d (operator %d, %s): kernel returned status %d", s, k->op,
                             ir_op_name(g->ops[k->op].code), (int)st);
        if (dump_dir && dump_tensor(g, calls, p, arena, s, dump_dir, err)) return -1;
        if (write && exec_write_pieces(g, calls, p, arena, s, write, ctx, err)) return -1;
    }
    for (int32_t i = 0; !write && i < g->n_outputs; i++) {
        int32_t ti = g->outputs[i];
        memcpy(outputs[i], tensor_ptr(g, calls, p, arena, ti), g->tensors[ti].bytes);
    }
    return 0;
}
