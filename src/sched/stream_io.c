/*
 * The model's two ends, streamed.
 *
 * Row streaming keeps a chain's intermediates in rings, but a model input
 * read by a fully-connected layer and a model output were still whole
 * tensors: an autoencoder's 640-byte input and 640-byte reconstruction are
 * most of its peak. Neither has to be whole.
 *
 * A fully-connected layer is a sum over its input channels, so it can take
 * them a chunk at a time into int32 partial sums and requantise once at the
 * end. Integer sums do not depend on their order, so the bytes are TFLM's.
 * The chunks come from the caller (the same read callback as streamed rows,
 * a "pixel" being one element here), each into a slice alive for its one
 * step: the input costs a chunk instead of the whole, the partial sums
 * (four bytes an output) are alive across the chunks.
 *
 * An output handed to the caller as it is made needs no buffer past that
 * moment. A single-pixel output made by a fully-connected step (or the
 * finish of one reading partial sums) is made in channel chunks, each a
 * slice handed over after its step and freed; its input stays whole, so the
 * step costs the input plus a chunk. An output a streamed chain makes in
 * runs of pixels (a segmentation map) is written into a ring as long as one
 * run, each run handed over right after its step, before the ring comes
 * round: its row bands would not do, as the planner places a band group as
 * one block however early its bands die. Any other output keeps its whole
 * buffer, handed over after the step that completes it, and lives no longer
 * than its last reader instead of to the end of the run.
 *
 * This runs after the search, on its plan. With streamed output the
 * search also runs knowing the outputs leave early (the builder then ends
 * their lives at their last use, so a chain ending at the output pays),
 * and the smaller of the two rewritten plans wins. The rewrite places and
 * verifies the plan again.
 */
#include <stdlib.h>
#include <string.h>

#include "sched/stream_io.h"
#include "sched/sched_int.h"

static int banded_pieces(const ir_graph *g, const k_call *calls, const plan_t *p, int32_t t);
static int band_written_after(const ir_graph *g, const k_call *calls, const plan_t *p, int32_t h,
                              const plan_buffer *band, int32_t s);

/* Chunks of at most 64 per layer keep the step count small. */
#define STREAM_IO_MAX_CHUNKS 64

static int32_t div_up(int64_t a, int64_t b) { return (int32_t)((a + b - 1) / b); }

static int dims_one_pixel(const int32_t d[4]) { return d[0] == 1 && d[1] == 1 && d[2] == 1; }

/* Does any step other than `except` read or write buffer bi (through a view
 * or as a whole operand)? */
static int buf_used_elsewhere(const ir_graph *g, const k_call *calls, const plan_t *p, int32_t bi, int32_t except) {
    for (int32_t s = 0; s < p->n_steps; s++) {
        if (s == except) continue;
        const plan_step *st = &p->steps[s];
        if (st->in[0].buf == bi || st->in[1].buf == bi || st->out.buf == bi) return 1;
        const k_call *k = &calls[st->call];
        for (int32_t i = 0; i < k->n_whole; i++)
            if (!g->tensors[k->whole_in[i]].data && p->tensor_buffer[k->whole_in[i]] == bi) return 1;
    }
    return 0;
}

/* The graph output index whose tensor is t, or -1. */
static int32_t output_of(const ir_graph *g, int32_t t) {
    for (int32_t i = 0; i < g->n_outputs; i++)
        if (g->outputs[i] == t) return i;
    return -1;
}

/* Step s reads a model input held whole, only there, as a fully-connected
 * layer: its chunk size, else 0. */
static int32_t in_chunk(const ir_graph *g, const k_call *calls, const plan_t *p, int32_t s) {
    const plan_step *st = &p->steps[s];
    const k_call *k = &calls[st->call];
    if (!g->stream_input || st->mode != STEP_FULL || k->kind != K_FC || st->in[0].buf < 0) return 0;
    const plan_buffer *b = &p->buffers[st->in[0].buf];
    const ir_tensor *t = &g->tensors[st->in[0].tensor];
    int32_t d[4];
    lower_nhwc(t, d);
    if (b->kind != BUF_TENSOR || b->head >= 0 || t->type != IR_I8 || plan_input_of(g, calls, b->tensor) < 0 ||
        !dims_one_pixel(k->in_dims[0]) || memcmp(d, k->in_dims[0], sizeof d) != 0 || st->tile.c0 != 0 ||
        st->tile.c1 != k->out_dims[3] || buf_used_elsewhere(g, calls, p, st->in[0].buf, s))
        return 0;
    /* a chunk no larger than the layer's output keeps the reading steps
     * under the finishing one (partial sums and output) */
    int32_t depth = d[3], c = k->out_dims[3] > 0 ? k->out_dims[3] : 1;
    if (c > depth) c = depth;
    if (div_up(depth, c) > STREAM_IO_MAX_CHUNKS) c = div_up(depth, STREAM_IO_MAX_CHUNKS);
    return c < depth ? c : 0;
}

/* Step s makes a single-pixel model output alone, in channels: its chunk
 * size, else 0. */
static int32_t out_chunk(const ir_graph *g, const k_call *calls, const plan_t *p, int32_t s) {
    const plan_step *st = &p->steps[s];
    const k_call *k = &calls[st->call];
    if (!g->stream_output || st->out.buf < 0 || output_of(g, st->out.tensor) < 0) return 0;
    if (!(k->kind == K_FC || k->kind == K_FC_F32) || st->mode == STEP_ACC) return 0;
    const plan_buffer *b = &p->buffers[st->out.buf];
    int32_t d[4];
    lower_nhwc(&g->tensors[st->out.tensor], d);
    if (b->kind != BUF_TENSOR || b->head >= 0 || p->tensor_buffer[st->out.tensor] != st->out.buf ||
        !dims_one_pixel(k->out_dims) || memcmp(d, k->out_dims, sizeof d) != 0 || st->tile.c0 != 0 ||
        st->tile.c1 != k->out_dims[3] || buf_used_elsewhere(g, calls, p, st->out.buf, s))
        return 0;
    /* as many bytes a chunk as the step reads (at least 16, at most 64
     * chunks): the step costs about twice its input */
    int32_t n = d[3], es = (int32_t)(g->tensors[st->out.tensor].bytes / (size_t)n);
    int64_t in_bytes = st->in[0].buf >= 0 ? (int64_t)p->buffers[st->in[0].buf].size : 0;
    int32_t c = (int32_t)(in_bytes / es);
    if (c < 16) c = 16;
    if (div_up(n, c) > STREAM_IO_MAX_CHUNKS) c = div_up(n, STREAM_IO_MAX_CHUNKS);
    return c < n ? c : 0;
}

/* Appends a buffer alive at steps [first, last] (sched_buf_new's, with a
 * builder holding only the plan). */
static int32_t buf_add(plan_t *p, int32_t cap, int32_t tensor, plan_buf_kind kind, int32_t c_begin, int32_t c_stored,
                       size_t size, int32_t first, int32_t last) {
    builder bd;
    memset(&bd, 0, sizeof bd);
    bd.p = p;
    bd.cap_bufs = cap;
    int32_t b = sched_buf_new(&bd, tensor, kind, c_begin, c_stored, size);
    if (b >= 0) {
        p->buffers[b].first = first;
        p->buffers[b].last = last;
    }
    return b;
}

/* A whole buffer no longer exists: every tensor in it loses it. */
static void buf_drop(const ir_graph *g, plan_t *p, int32_t bi) {
    p->buffers[bi].size = 0;
    p->buffers[bi].first = p->buffers[bi].last = 0;
    for (int32_t t = 0; t < g->n_tensors; t++)
        if (p->tensor_buffer[t] == bi) p->tensor_buffer[t] = -1;
}

/* One pass: every step with a chunk size (chunk[s] > 0) becomes its chunk
 * steps, `in` chooses which rewrite. Step indices of the other buffers move
 * with their steps. */
static int rewrite(const ir_graph *g, const k_call *calls, plan_t *p, const int32_t *chunk, int in, util_arena *a,
                   util_err *err) {
    int32_t n_new = 0, extra_bufs = 0;
    for (int32_t s = 0; s < p->n_steps; s++) {
        int32_t depth = in ? calls[p->steps[s].call].in_dims[0][3] : calls[p->steps[s].call].out_dims[3];
        int32_t n = chunk[s] ? div_up(depth, chunk[s]) : 1;
        n_new += n + (chunk[s] && in); /* reading a chunk each, then the finish */
        extra_bufs += chunk[s] ? n + 1 : 0;
    }
    plan_step *steps = util_alloc(a, sizeof(plan_step) * (size_t)(n_new + 1));
    int32_t *first_of = util_alloc(a, sizeof(int32_t) * (size_t)(p->n_steps + 1));
    int32_t *last_of = util_alloc(a, sizeof(int32_t) * (size_t)(p->n_steps + 1));
    int32_t cap = p->n_buffers + extra_bufs;
    plan_buffer *bufs = util_alloc(a, sizeof(plan_buffer) * (size_t)(cap + 1));
    if (!steps || !first_of || !last_of || !bufs) return util_fail(err, "out of memory streaming the model's ends");
    memcpy(bufs, p->buffers, sizeof(plan_buffer) * (size_t)p->n_buffers);
    int32_t n_old_bufs = p->n_buffers;
    p->buffers = bufs;
    int32_t m = 0;
    for (int32_t s = 0; s < p->n_steps; s++) {
        const plan_step *st = &p->steps[s];
        const k_call *k = &calls[st->call];
        first_of[s] = m;
        if (!chunk[s]) {
            steps[m++] = *st;
            last_of[s] = m - 1;
            continue;
        }
        int32_t c = chunk[s];
        if (in) {
            int32_t depth = k->in_dims[0][3], n = div_up(depth, c), oc = k->out_dims[3];
            int32_t psum = buf_add(p, cap, k->out, BUF_PSUM, 0, oc, (size_t)oc * 4, m, m + n);
            int32_t es = (int32_t)(g->tensors[st->in[0].tensor].bytes / (size_t)depth);
            for (int32_t j = 0; j < n; j++) {
                int32_t c0 = j * c, cs = depth - c0 < c ? depth - c0 : c;
                int32_t sl = buf_add(p, cap, st->in[0].tensor, BUF_SLICE, c0, cs, (size_t)cs * (size_t)es, m, m);
                plan_step *x = &steps[m++];
                *x = *st;
                x->mode = STEP_ACC;
                x->ic0 = c0;
                x->ic1 = c0 + cs;
                x->first = j == 0;
                x->in[0] = (plan_view){sl, st->in[0].tensor, c0, cs, 0};
                x->out = (plan_view){psum, k->out, 0, oc, 0};
            }
            plan_step *f = &steps[m++];
            *f = *st;
            f->mode = STEP_FINISH;
            f->in[0] = (plan_view){psum, k->out, 0, oc, 0};
            if (psum < 0) return util_fail(err, "streaming the model's ends: buffer table full");
            buf_drop(g, p, st->in[0].buf);
        } else {
            int32_t oc = k->out_dims[3], n = div_up(oc, c);
            int32_t es = (int32_t)(g->tensors[st->out.tensor].bytes / (size_t)oc);
            for (int32_t j = 0; j < n; j++) {
                int32_t c0 = j * c, cs = oc - c0 < c ? oc - c0 : c;
                int32_t sl = buf_add(p, cap, st->out.tensor, BUF_SLICE, c0, cs, (size_t)cs * (size_t)es, m, m);
                if (sl < 0) return util_fail(err, "streaming the model's ends: buffer table full");
                plan_step *x = &steps[m++];
                *x = *st;
                x->tile.c0 = c0;
                x->tile.c1 = c0 + cs;
                x->out = (plan_view){sl, st->out.tensor, c0, cs, 0};
            }
            buf_drop(g, p, st->out.buf);
        }
        last_of[s] = m - 1;
    }
    /* the buffers that were there follow their steps */
    for (int32_t i = 0; i < n_old_bufs; i++) {
        plan_buffer *x = &p->buffers[i];
        /* an expanded layer's output is first written by its finish */
        if (in && x->first >= 0 && x->first < p->n_steps && chunk[x->first] && p->steps[x->first].out.buf == i)
            x->first = last_of[x->first];
        else if (x->first >= 0 && x->first < p->n_steps) x->first = first_of[x->first];
        if (x->last >= 0 && x->last < p->n_steps) x->last = last_of[x->last];
        if (!x->size) x->first = x->last = 0; /* dropped (buf_drop) */
    }
    p->steps = steps;
    p->n_steps = m;
    return 0;
}

/* Rows [*r0, *r1) of buffer bi's tensor that operand `which` of step st
 * touches: none when it is another buffer, all when seen under another
 * tensor's shape or read whole. */
static int view_rows_of(const ir_graph *g, const k_call *calls, const plan_t *p, const plan_step *st, int which,
                        int32_t bi, int32_t *r0, int32_t *r1) {
    const plan_view *v = which == 2 ? &st->out : &st->in[which];
    if (v->buf != bi) return 0;
    *r0 = 0;
    *r1 = INT32_MAX;
    if (v->tensor == p->buffers[bi].tensor) plan_step_rows(g, calls, st, which, r0, r1);
    return 1;
}

/* A row-band output: each band lives until the last step touching its
 * rows (it is handed over when its last writer is done). */
static void shorten_banded_output(const ir_graph *g, const k_call *calls, plan_t *p, int32_t h) {
    plan_buffer *hb = &p->buffers[h];
    for (int32_t k = 0; k < hb->n_bands; k++) {
        plan_buffer *band = &p->buffers[plan_band(p, h, k)];
        int32_t last = -1;
        for (int32_t s = 0; s < p->n_steps; s++) {
            const plan_step *st = &p->steps[s];
            int32_t r0, r1;
            for (int w = 0; w < 3; w++)
                if (view_rows_of(g, calls, p, st, w, h, &r0, &r1) && r0 < band->y1 && band->y0 < r1) last = s;
            const k_call *kc = &calls[st->call];
            for (int32_t j = 0; j < kc->n_whole; j++)
                if (!g->tensors[kc->whole_in[j]].data && p->tensor_buffer[kc->whole_in[j]] == h) last = s;
        }
        if (last >= band->first) band->last = last;
    }
}

/* With streamed output, an output kept whole lives until its last use
 * (the builder kept it to the end of the run for the caller). */
static void shorten_whole_outputs(const ir_graph *g, const k_call *calls, plan_t *p) {
    for (int32_t i = 0; i < g->n_outputs; i++) {
        int32_t bi = p->tensor_buffer[g->outputs[i]];
        if (bi < 0) continue;
        int keep_all = 0;
        for (int32_t t = 0; t < g->n_tensors; t++)
            if (p->tensor_buffer[t] == bi && (g->tensors[t].is_input || g->tensors[t].is_variable)) keep_all = 1;
        if (p->buffers[bi].head >= 0) {
            if (!keep_all && p->buffers[bi].head == bi && banded_pieces(g, calls, p, g->outputs[i]))
                shorten_banded_output(g, calls, p, bi);
            continue;
        }
        int32_t last = -1;
        for (int32_t s = 0; s < p->n_steps; s++) {
            const plan_step *st = &p->steps[s];
            if (st->in[0].buf == bi || st->in[1].buf == bi || st->out.buf == bi) last = s;
            const k_call *k = &calls[st->call];
            for (int32_t w = 0; w < k->n_whole; w++)
                if (!g->tensors[k->whole_in[w]].data && p->tensor_buffer[k->whole_in[w]] == bi) last = s;
        }
        /* an input that is also an output, or a variable, keeps its life */
        int keep = 0;
        for (int32_t t = 0; t < g->n_tensors; t++)
            if (p->tensor_buffer[t] == bi && (g->tensors[t].is_input || g->tensors[t].is_variable)) keep = 1;
        if (last >= p->buffers[bi].first && !keep) p->buffers[bi].last = last;
    }
}

/* Kernels that write their output through pexc_view_index, so into a
 * ring as well as a whole tensor. */
static int ring_writer(const k_call *k) {
    switch (k->kind) {
    case K_CONV: case K_DWCONV: case K_AVGPOOL: case K_MAXPOOL: case K_ADD: case K_MUL: case K_LOGISTIC:
    case K_LUT: case K_REQUANT: return 1;
    default: return 0;
    }
}

/* An output made in runs of pixels, all channels at a time, and read by no
 * step, needs only a ring as long as the longest run: each run is handed
 * over right after its step (plan_output_pieces), before the ring comes
 * round to its slots. Its whole buffer (a row-band group, which the
 * planner places as one block however early its bands die) goes. */
static int ring_output(const ir_graph *g, const k_call *calls, plan_t *p, int32_t i, util_arena *a, util_err *err) {
    int32_t t = g->outputs[i], h = p->tensor_buffer[t];
    const ir_tensor *ot = &g->tensors[t];
    int32_t d[4];
    lower_nhwc(ot, d);
    if (h < 0 || ot->is_input || ot->is_variable || d[0] != 1 || ot->bytes != (size_t)d[1] * d[2] * d[3] ||
        (p->buffers[h].head >= 0 && p->buffers[h].head != h))
        return 0;
    int64_t longest = 0, total = 0;
    int32_t first = -1, last = -1;
    for (int32_t s = 0; s < p->n_steps; s++) {
        const plan_step *st = &p->steps[s];
        const k_call *k = &calls[st->call];
        if (st->in[0].buf == h || st->in[1].buf == h) return 0;
        for (int32_t j = 0; j < k->n_whole; j++)
            if (!g->tensors[k->whole_in[j]].data && p->tensor_buffer[k->whole_in[j]] == h) return 0;
        if (st->out.buf != h) continue;
        if (st->out.tensor != t || st->mode != STEP_FULL || !ring_writer(k) || st->tile.c0 != 0 ||
            st->tile.c1 != d[3] || memcmp(k->out_dims, d, sizeof d) != 0)
            return 0;
        int64_t q0, q1;
        plan_step_pixels(g, calls, st, 2, &q0, &q1);
        if (q1 - q0 > longest) longest = q1 - q0;
        total += q1 - q0;
        if (first < 0) first = s;
        last = s;
    }
    /* a ring no shorter than the tensor saves nothing */
    if (first < 0 || longest >= (int64_t)d[1] * d[2] || total != (int64_t)d[1] * d[2]) return 0;
    plan_buffer *bufs = util_alloc(a, sizeof(plan_buffer) * (size_t)(p->n_buffers + 2));
    if (!bufs) return util_fail(err, "out of memory streaming the model's ends");
    memcpy(bufs, p->buffers, sizeof(plan_buffer) * (size_t)p->n_buffers);
    p->buffers = bufs;
    int32_t r = buf_add(p, p->n_buffers + 1, t, BUF_RING, 0, d[3], (size_t)longest * (size_t)d[3], first, last);
    p->buffers[r].ring_px = (int32_t)longest;
    for (int32_t s = first; s <= last; s++)
        if (p->steps[s].out.buf == h) p->steps[s].out = (plan_view){r, t, 0, d[3], (int32_t)longest};
    int32_t n_bands = p->buffers[h].head == h ? p->buffers[h].n_bands : 1;
    for (int32_t k = n_bands - 1; k >= 0; k--) {
        /* no bytes and no group: the planner would still place a band at
         * its group offset */
        plan_buffer *band = &p->buffers[plan_band(p, h, k)];
        band->size = 0;
        band->first = band->last = 0;
        band->head = -1;
        band->n_bands = 0;
        band->group_off = 0;
    }
    buf_drop(g, p, h);
    return 0;
}

/* The rewrite, reading inputs in chunks or not, on p (placed). */
static int stream_io_once(const ir_graph *g, const k_call *calls, plan_t *p, int chunk_inputs, util_arena *a,
                          util_err *err) {
    for (int pass = !chunk_inputs; pass < 2; pass++) {
        int32_t *chunk = util_alloc(a, sizeof(int32_t) * (size_t)(p->n_steps + 1));
        if (!chunk) return util_fail(err, "out of memory streaming the model's ends");
        int any = 0;
        for (int32_t s = 0; s < p->n_steps; s++) any |= (chunk[s] = pass ? out_chunk(g, calls, p, s)
                                                                         : in_chunk(g, calls, p, s)) != 0;
        if (any && rewrite(g, calls, p, chunk, !pass, a, err)) return -1;
    }
    for (int32_t i = 0; g->stream_output && g->n_outputs == 1 && i < g->n_outputs; i++)
        if (ring_output(g, calls, p, i, a, err)) return -1;
    if (g->stream_output) shorten_whole_outputs(g, calls, p);
    return plan_memory(p, a, err) || plan_memory_refine(p, 2e8, a, err) ? -1 : 0;
}

/* A copy of p whose steps, buffers and tensor map the rewrite may change. */
static int plan_clone(const ir_graph *g, const plan_t *p, plan_t *q, util_arena *a, util_err *err) {
    *q = *p;
    q->steps = util_alloc(a, sizeof(plan_step) * (size_t)(p->n_steps + 1));
    q->buffers = util_alloc(a, sizeof(plan_buffer) * (size_t)(p->n_buffers + 1));
    q->tensor_buffer = util_alloc(a, sizeof(int32_t) * (size_t)(g->n_tensors + 1));
    if (!q->steps || !q->buffers || !q->tensor_buffer) return util_fail(err, "out of memory streaming the model's ends");
    memcpy(q->steps, p->steps, sizeof(plan_step) * (size_t)p->n_steps);
    memcpy(q->buffers, p->buffers, sizeof(plan_buffer) * (size_t)p->n_buffers);
    memcpy(q->tensor_buffer, p->tensor_buffer, sizeof(int32_t) * (size_t)g->n_tensors);
    return 0;
}

int sched_stream_io(const ir_graph *g, const k_call *calls, plan_t *p, util_arena *a, util_err *err) {
    if (!g->stream_input && !g->stream_output) return 0;
    /* int32 partial sums take four bytes an output: reading the input in
     * chunks pays only when the layer's input outweighs them, so the plan
     * is made both ways and the smaller arena kept */
    plan_t q;
    if (g->stream_input && plan_clone(g, p, &q, a, err)) return -1;
    if (stream_io_once(g, calls, p, g->stream_input, a, err)) return -1;
    if (g->stream_input) {
        if (stream_io_once(g, calls, &q, 0, a, err)) return -1;
        if (q.arena_bytes < p->arena_bytes) *p = q;
    }
    if (plan_verify(g, calls, p, err)) return -1;
    return plan_verify_stream_io(g, calls, p, err);
}

/* With streamed output the search runs twice: seeing the outputs leave as
 * they are made (the builder then ends their lives at their last use, so
 * a streamed chain may end at the output), and not seeing it (the plan of
 * --stream-input alone, its ends rewritten after); the smaller arena wins,
 * then the fewer steps, within a budget the fewer steps that fit. */
int sched_min_sram_io(const ir_graph *g, const k_call *calls, size_t budget, int stream_rows, plan_t *p,
                      util_arena *a, util_err *err) {
    if (sched_min_sram(g, calls, budget, stream_rows, p, a, err)) return -1;
    if (sched_stream_io(g, calls, p, a, err)) return -1;
    if (!g->stream_output) return 0;
    ir_graph hidden = *g; /* (shares g's arrays, read only) */
    hidden.stream_output = 0;
    plan_t q;
    if (sched_min_sram(&hidden, calls, budget, stream_rows, &q, a, err) || sched_stream_io(g, calls, &q, a, err))
        return -1;
    /* within the budget: the one that fits, both fitting the fewer steps */
    int fit[2] = {budget && p->arena_bytes <= budget, budget && q.arena_bytes <= budget}, take_q;
    if (fit[0] != fit[1]) take_q = fit[1];
    else if (fit[0]) take_q = q.n_steps < p->n_steps;
    else take_q = q.arena_bytes != p->arena_bytes ? q.arena_bytes < p->arena_bytes : q.n_steps < p->n_steps;
    if (take_q) *p = q;
    return 0;
}

int32_t plan_input_chunk(const ir_graph *g, const k_call *calls, const plan_t *p, int32_t buf) {
    /* stream_io makes them slices alive for their one step */
    if (buf < 0 || p->buffers[buf].kind != BUF_SLICE || p->buffers[buf].first != p->buffers[buf].last) return -1;
    return plan_input_of(g, calls, p->buffers[buf].tensor);
}

/* Is buffer bi written by a step after s? */
static int written_after(const plan_t *p, int32_t bi, int32_t s) {
    for (int32_t k = s + 1; k < p->n_steps; k++)
        if (p->steps[k].out.buf == bi) return 1;
    return 0;
}

/* Is band k of head h written (rows of it) by a step after s? */
static int band_written_after(const ir_graph *g, const k_call *calls, const plan_t *p, int32_t h, const plan_buffer *band,
                              int32_t s) {
    for (int32_t k = s + 1; k < p->n_steps; k++) {
        int32_t r0, r1;
        if (view_rows_of(g, calls, p, &p->steps[k], 2, h, &r0, &r1) && r0 < band->y1 && band->y0 < r1) return 1;
    }
    return 0;
}

int32_t plan_output_pieces(const ir_graph *g, const k_call *calls, const plan_t *p, int32_t s, plan_out_piece *out,
                           int32_t max) {
    if (!g->stream_output || s < 0 || s >= p->n_steps) return 0;
    const plan_step *st = &p->steps[s];
    int32_t n = 0;
    if (st->mode == STEP_ACC || st->out.buf < 0) return 0;
    const plan_buffer *b = &p->buffers[st->out.buf];
    for (int32_t i = 0; i < g->n_outputs && n < max; i++) {
        int32_t t = g->outputs[i];
        const ir_tensor *ot = &g->tensors[t];
        if (ot->data) continue;
        /* (which buffer first: only the output's writers pay for
         * written_after) */
        if (b->kind == BUF_RING && b->tensor == t) {
            /* a run of pixels of a ring output, in one or two pieces (where
             * the ring wraps) */
            int64_t q0, q1;
            plan_step_pixels(g, calls, st, 2, &q0, &q1);
            int64_t c = b->c_stored, es = ot->elems ? (int64_t)(ot->bytes / (size_t)ot->elems) : 1;
            for (int64_t q = q0; q < q1 && n < max;) {
                int64_t slot = q % b->ring_px, e = q + (b->ring_px - slot) < q1 ? q + (b->ring_px - slot) : q1;
                out[n++] = (plan_out_piece){i, q * c, (e - q) * c, b->offset + (size_t)(slot * c * es), st->out.buf};
                q = e;
            }
        } else if (b->kind == BUF_SLICE && b->tensor == t) {
            /* a chunk of channels of a single-pixel output */
            if (!written_after(p, st->out.buf, s))
                out[n++] = (plan_out_piece){i, b->c_begin, b->c_stored, b->offset, st->out.buf};
        } else if (b->head == st->out.buf && p->tensor_buffer[t] == st->out.buf && banded_pieces(g, calls, p, t)) {
            /* a row-band output: each band its last writer completes */
            int32_t r0, r1;
            if (!view_rows_of(g, calls, p, st, 2, st->out.buf, &r0, &r1)) continue;
            size_t es = ot->elems ? ot->bytes / (size_t)ot->elems : 1;
            for (int32_t k = 0; k < b->n_bands && n < max; k++) {
                const plan_buffer *band = &p->buffers[plan_band(p, st->out.buf, k)];
                if (band->y1 <= r0 || r1 <= band->y0 || band_written_after(g, calls, p, st->out.buf, band, s))
                    continue;
                out[n++] = (plan_out_piece){i, (int64_t)(band->group_off / es), (int64_t)(band->size / es),
                                            band->offset, plan_band(p, st->out.buf, k)};
            }
        } else if (p->tensor_buffer[t] >= 0 && p->tensor_buffer[t] == (b->head >= 0 ? b->head : st->out.buf) &&
                   !written_after(p, st->out.buf, s)) {
            /* the whole output, complete after its last writer */
            int32_t h = p->tensor_buffer[t];
            out[n++] = (plan_out_piece){i, 0, ot->elems, p->buffers[h].offset + plan_tensor_offset(g, calls, p, t),
                                        h};
        }
    }
    return n;
}

/* Output t is a row-band group of its own tensor, the bands its whole
 * bytes in order: it is handed over band by band. */
static int banded_pieces(const ir_graph *g, const k_call *calls, const plan_t *p, int32_t t) {
    int32_t h = p->tensor_buffer[t];
    if (h < 0 || p->buffers[h].head != h || p->buffers[h].tensor != t || plan_tensor_offset(g, calls, p, t) != 0)
        return 0;
    size_t total = 0;
    for (int32_t k = 0; k < p->buffers[h].n_bands; k++) {
        const plan_buffer *band = &p->buffers[plan_band(p, h, k)];
        if (band->group_off != total) return 0;
        total += band->size;
    }
    return total == g->tensors[t].bytes;
}
