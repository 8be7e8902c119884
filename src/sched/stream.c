/*
 * Row streaming: a chain of spatial operators run a few rows (or a fraction
 * of a row) at a time, each intermediate tensor held in a ring buffer only
 * as deep as its readers' windows. stream_walk works out the steps; the
 * template cache (tmpl.c) keeps them for the search's next candidates.
 */
#include <stdio.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#include "sched/sched_int.h"

/* ---- row streaming --------------------------------------------------------- */

/* A reshape inside a streamed chain (an LSTM's output flattened for a
 * fully-connected layer): it has no step and no buffer of its own; its
 * reader reads its producer's ring. */
static int is_alias(const ir_graph *g, const k_call *k) {
    return k->kind == K_NOP && k->alias_off == 0 && k->in[0] >= 0 && !g->tensors[k->in[0]].data;
}

/* Ops that can make a range of output rows from a range of input rows. */
static int is_streamable(const k_call *k) {
    switch (k->kind) {
    case K_CONV: case K_DWCONV: case K_AVGPOOL: case K_MAXPOOL: case K_ADD: case K_MUL: case K_REQUANT:
    case K_LOGISTIC: case K_LUT: return 1;
    case K_PAD: return k->pad.before[0] == 0 && k->in_dims[0][0] == k->out_dims[0];
    case K_TRANSPOSE: return k->elem_size == 1 && k->transpose.rank <= 4; /* reads its input whole */
    case K_GENERIC: return sched_is_seq(k);
    default: return 0;
    }
}

/* Ops that can end a streamed chain by consuming their input a few rows at
 * a time into int32 partial sums: a fully-connected layer over the flattened
 * rows, or an average pool whose output is a single row (a global pool). */
static int is_row_consumer(const k_call *k) {
    return k->kind == K_FC || k->kind == K_FC_F32 ||
           ((k->kind == K_AVGPOOL || k->kind == K_DWCONV) && k->out_dims[1] == 1 && k->out_dims[0] == 1);
}


/* Readers of tensor t, a chain reshape of it (alias {output, t}, t the
 * chain tensor it finally reshapes) counted as the readers of its output. */
static int32_t readers_through(const ir_graph *g, int32_t t, const int32_t (*alias)[2], int32_t n_alias) {
    int32_t n = sched_tensor_readers(g, t);
    for (int32_t a = 0; a < n_alias; a++)
        if (alias[a][1] == t) n += sched_tensor_readers(g, alias[a][0]) - 1;
    return n;
}

/* Fills si for positions [s, e]; returns 0 if they form a streamable chain. */
static int stream_analyse(const ir_graph *g, const k_call *calls, const int32_t *order, int32_t s, int32_t e,
                          stream_info *si) {
    if (e < s || e - s + 1 > STREAM_MAX_OPS) return -1;
    int32_t m = 0;
    si->consumer = 0;
    int tall = 0, seq = 0;
    int32_t alias[STREAM_MAX_OPS][2], n_alias = 0; /* {output, input} of the chain's reshapes */
    for (int32_t pos = s; pos <= e; pos++) {
        const k_call *k = &calls[order[pos]];
        if (pos > s && pos < e && is_alias(g, k)) {
            int32_t t = k->in[0];
            for (int32_t a = n_alias - 1; a >= 0; a--)
                if (alias[a][0] == t) t = alias[a][1];
            int made = 0; /* a reshape of a tensor the chain makes */
            for (int32_t j = 0; j < m; j++) made |= si->k[j]->out == t;
            if (!made || g->tensors[k->out].is_output) return -1;
            alias[n_alias][0] = k->out;
            alias[n_alias][1] = t;
            n_alias++;
            continue;
        }
        int32_t i = m++;
        si->k[i] = k;
        si->pos[i] = pos - s;
        si->n_rd[i] = 0;
        int32_t ty = g->tensors[k->out].type;
        if (pos == e && i > 0 && is_row_consumer(k)) si->consumer = 1;
        else if (!is_streamable(k)) return -1;
        /* int8 chains; a float32 sequence streams into float32 ones */
        int f32_ok = sched_is_seq(k) || (si->consumer && k->kind == K_FC_F32);
        if (k->out_dims[0] != 1 || (ty != IR_I8 && !(ty == IR_F32 && f32_ok))) return -1;
        if (sched_is_seq(k) && (int64_t)k->out_dims[1] * k->out_dims[2] > 1) seq = 1;
        for (int o = 0; o < 2; o++) {
            si->src[i][o] = -1;
            si->need_tab[i][o] = si->low_tab[i][o] = NULL;
            if (k->in[o] < 0) continue;
            si->geom[i][o] = sched_geom_of(k, o);
            int32_t ti = g->tensors[k->in[o]].type;
            if (k->in_dims[o][0] != 1 || (ti != IR_I8 && !(ti == IR_F32 && f32_ok))) return -1;
            int32_t t = k->in[o];
            for (int32_t a = n_alias - 1; a >= 0; a--)
                if (alias[a][0] == t) t = alias[a][1];
            for (int32_t j = 0; j < i; j++)
                if (si->k[j]->out == t) si->src[i][o] = j;
        }
        si->P[i] = (int64_t)k->out_dims[1] * k->out_dims[2];
        si->W[i] = k->out_dims[2];
        if (k->out_dims[1] > 1) tall = 1;
    }
    si->m = m;
    if (!tall && !si->consumer && !seq) return -1;
    for (int o = 0; o < 2; o++) {
        const k_call *k0 = si->k[0];
        int32_t t = k0->in[o];
        int32_t in = t >= 0 ? plan_input_of(g, calls, t) : -1; /* (a reshape of one: its only reader) */
        /* int8 pixels, or a sequence operator's time steps (a time step is
         * a row: an LSTM's int8 or float32 input arrives a step at a time
         * as it runs them, in order) */
        si->in_stream[o] = g->stream_input && in >= 0 && !g->tensors[t].is_output &&
                           sched_tensor_readers(g, g->inputs[in]) == 1 && !g->tensors[g->inputs[in]].is_output &&
                           (g->tensors[t].type == IR_I8 || (g->tensors[t].type == IR_F32 && sched_is_seq(k0))) &&
                           !g->tensors[t].is_variable && si->src[0][o] < 0 && sched_tensor_readers(g, t) == 1 &&
                           k0->kind != K_TRANSPOSE &&
                           k0->in[1 - o] != t && !(o == 1 && k0->in[0] == t);
        if (si->in_stream[o]) {
            int32_t d[4];
            lower_nhwc(&g->tensors[t], d);
            if (memcmp(d, k0->in_dims[o], sizeof d) != 0) si->in_stream[o] = 0; /* broadcast or reshaped */
        }
    }
    si->rows_are_px = seq && !tall;
    for (int32_t i = 0; i < m; i++) {
        const k_call *k = si->k[i];
        for (int o = 0; o < 2; o++) {
            int32_t j = si->src[i][o];
            if (j < 0) {
                /* an operand from outside: read whole, any height for
                 * element-wise broadcasting is handled by the kernel */
                if (i == m - 1 && si->consumer && o == 0) return -1;
                continue;
            }
            const k_call *p = si->k[j];
            if (si->consumer && i == m - 1) {
                if (o != 0) return -1;
                if (k->kind == K_FC || k->kind == K_FC_F32) {
                    if (k->in_dims[0][3] != p->out_dims[1] * p->out_dims[2] * p->out_dims[3] ||
                        k->in_dims[0][0] != 1)
                        return -1;
                } else if (memcmp(k->in_dims[0], p->out_dims, sizeof p->out_dims) != 0) {
                    return -1;
                }
                si->P[i] = (int64_t)p->out_dims[1] * p->out_dims[2];
                si->W[i] = p->out_dims[2];
            } else if (memcmp(k->in_dims[o], p->out_dims, sizeof p->out_dims) != 0) {
                return -1; /* element-wise operands from the chain are not broadcast */
            }
            if (si->n_rd[j] >= 8) return -1;
            si->rd[j][si->n_rd[j]++] = i * 2 + o;
        }
    }
    for (int32_t j = 0; j + 1 < m; j++) {
        const ir_tensor *t = &g->tensors[si->k[j]->out];
        if (t->is_output || si->n_rd[j] == 0 ||
            si->n_rd[j] != readers_through(g, si->k[j]->out, (const int32_t(*)[2])alias, n_alias))
            return -1;
    }
    return 0;
}

int sched_stream_ok(const ir_graph *g, const k_call *calls, const int32_t *order, int32_t s, int32_t e) {
    stream_info si;
    return stream_analyse(g, calls, order, s, e, &si) == 0;
}

int sched_stream_reads_input(const ir_graph *g, const k_call *calls, const int32_t *order, const plan_segment *sg) {
    stream_info si;
    return stream_analyse(g, calls, order, sg->op_first, sg->op_last, &si) == 0 && si.in_stream[0];
}

/* Prefix of operand o's pixels that op i's output pixels [0, q) need, and
 * the first of them output pixel q still needs (a row consumer's "pixels"
 * are its input's). */
static int64_t stream_need(const stream_info *si, int32_t i, int o, int64_t q) {
    if (si->consumer && i == si->m - 1) return q;
    if (si->need_tab[i][o] && q >= 0 && q <= si->P[i]) return si->need_tab[i][o][q];
    return sched_geom_need(&si->geom[i][o], q);
}

static int64_t stream_lo(const stream_info *si, int32_t i, int o, int64_t q) {
    if (si->consumer && i == si->m - 1) return q;
    if (si->low_tab[i][o] && q >= 0 && q <= si->P[i]) return si->low_tab[i][o][q];
    return sched_geom_low(&si->geom[i][o], q);
}



/* Lowest pixel of op j's output that a reader still needs. */
static int64_t stream_low(const stream_info *si, const stream_state *st, int32_t j) {
    int64_t lo = st->done[j];
    for (int32_t r = 0; r < si->n_rd[j]; r++) {
        int32_t i = si->rd[j][r] / 2, o = si->rd[j][r] % 2;
        if (st->done[i] >= si->P[i]) continue;
        int64_t a = stream_lo(si, i, o, st->done[i]);
        if (a < lo) lo = a;
    }
    return lo;
}

static plan_view ring_view(const stream_info *si, const stream_state *st, int32_t j) {
    const k_call *k = si->k[j];
    plan_view v = {st->buf[j], k->out, 0, k->out_dims[3], st->ring[j] < si->P[j] ? (int32_t)st->ring[j] : 0};
    return v;
}

/* The ring a streamed model input is read into. */
static plan_view input_view(const stream_info *si, const stream_state *st, int o) {
    const k_call *k = si->k[0];
    int64_t P = (int64_t)k->in_dims[o][1] * k->in_dims[o][2];
    plan_view v = {st->in_buf[o], k->in[o], 0, k->in_dims[o][3], st->in_ring[o] < P ? (int32_t)st->in_ring[o] : 0};
    return v;
}

/* The tile of pixels [q0, q1) of an output w pixels wide. */
static pexc_tile pixel_tile(int64_t q0, int64_t q1, int32_t w, int32_t c) {
    pexc_tile t = {(int32_t)(q0 / w), (int32_t)((q1 - 1) / w + 1), 0, c, (int32_t)(q0 % w), (int32_t)(q1 % w)};
    return t;
}

/* One step of op i making pixels [q0, q1) (pass 2 only). */
static int stream_step(builder *b, const stream_info *si, const stream_state *st, int32_t pos, int32_t i,
                       int64_t q0, int64_t q1) {
    const k_call *k = si->k[i];
    int32_t op = b->order[pos];
    if (si->consumer && i == si->m - 1) {
        int32_t j = si->src[i][0];
        const k_call *p = si->k[j];
        int64_t ring = st->ring[j] < si->P[j] ? st->ring[j] : si->P[j];
        if (k->kind == K_FC || k->kind == K_FC_F32) {
            /* the FC reads its features contiguously: one step per stretch
             * of pixels that does not wrap around the ring */
            int32_t C = p->out_dims[3];
            for (int64_t r = q0; r < q1;) {
                int64_t base = r - r % ring, e = base + ring < q1 ? base + ring : q1;
                plan_step *s = sched_step_new(b, op);
                if (!s) return -1;
                s->mode = STEP_ACC;
                s->ic0 = (int32_t)(r * C);
                s->ic1 = (int32_t)(e * C);
                s->first = r == 0;
                sched_tile_full(k, &s->tile);
                s->in[0] = (plan_view){st->buf[j], p->out, (int32_t)(base * C), (int32_t)(ring * C), 0};
                s->out = (plan_view){st->psum, k->out, 0, k->out_dims[3], 0};
                r = e;
            }
            return 0;
        }
        plan_step *s = sched_step_new(b, op);
        if (!s) return -1;
        s->mode = STEP_ACC;
        s->ic0 = (int32_t)q0;
        s->ic1 = (int32_t)q1;
        s->first = q0 == 0;
        sched_tile_full(k, &s->tile);
        s->in[0] = ring_view(si, st, j);
        s->out = (plan_view){st->psum, k->out, 0, k->out_dims[3], 0};
        return 0;
    }
    plan_step *s = sched_step_new(b, op);
    if (!s) return -1;
    s->tile = pixel_tile(q0, q1, k->out_dims[2], k->out_dims[3]);
    s->in[0] = st->view[i][0];
    s->in[1] = st->view[i][1];
    s->out = st->view[i][2];
    return 0;
}

/* Can op i make its pixels [q0, q1) now (its in-chain inputs exist)? */
static int stream_ready(const stream_info *si, const stream_state *st, int32_t i, int64_t q1) {
    for (int o = 0; o < 2; o++) {
        int32_t j = si->src[i][o];
        if (j >= 0 && stream_need(si, i, o, q1) > st->done[j]) return 0;
    }
    return 1;
}

/* A strided 1x1 layer beside a sibling that reads the same tensor ahead
 * of it (a residual block's skip convolution next to its 3x3 branch):
 * run late, in step with the block's ADD, it keeps its input's rows in
 * the shared ring until the ADD comes; run as far as its input allows,
 * it releases them with the sibling's and holds its own smaller output a
 * little longer instead (ic_resnet8: two input rows of 512 bytes for one
 * output row of 512, at each stride-2 block). Its output ring then grows
 * by what the ADD lags, so the segment is walked both ways and keeps the
 * one whose rings take fewer bytes (add_stream_in). */
static int stream_eager(const stream_info *si, int32_t i) {
    const px_geom *g = &si->geom[i][0];
    int32_t j = si->src[i][0];
    if (j < 0 || si->n_rd[j] < 2 || si->k[i]->in[1] >= 0 || !g->window || g->fh != 1 || g->fw != 1 || g->sh < 2 ||
        g->sw < 2)
        return 0;
    /* only when the input rows it frees outweigh the output row it holds */
    const k_call *k = si->k[i];
    return (int64_t)g->sh * g->W * k->in_dims[0][3] > (int64_t)g->OW * k->out_dims[3];
}

/* Does op a's output reach op b through the chain (b reads what a makes,
 * or what something made from it)? Ops are in topological order, so only
 * ops from a to b can lie on the way: one pass over them, each marked
 * when a reaches it (a chain of residual blocks has exponentially many
 * paths, so no walk along them). */
static int stream_feeds(const stream_info *si, int32_t a, int32_t b) {
    uint8_t reached[STREAM_MAX_OPS];
    if (b < a) return 0;
    memset(reached + a, 0, (size_t)(b - a + 1));
    reached[a] = 1;
    for (int32_t i = a + 1; i <= b; i++)
        for (int o = 0; o < 2; o++) {
            int32_t j = si->src[i][o];
            if (j >= a && j < i && reached[j]) reached[i] = 1;
        }
    return reached[b];
}

/* A branch that joins another at an ADD or MUL, and is read by nothing
 * else (a residual block's skip convolution), can make its pixels as the
 * other branch makes its own instead of as soon as its input allows:
 * while the pipeline fills, the other branch (two 3x3 convolutions deep)
 * is rows behind, and every pixel made ahead of it waits in this op's
 * ring. Kept in step, the wait moves to the input's ring: fewer bytes
 * when the input has fewer channels (the skip convolution of a
 * decimated input widens it) or already holds those rows for another
 * reader. The segment is walked both ways and keeps the smaller rings.
 * Fills si->pace; returns whether any op has one. */
static int stream_paces(stream_info *si) {
    int any = 0;
    for (int32_t i = 0; i < si->m; i++) {
        si->pace[i] = -1;
        if (i + 1 >= si->m || si->n_rd[i] != 1) continue;
        int32_t r = si->rd[i][0] / 2, o = si->rd[i][0] % 2;
        const k_call *k = si->k[r];
        if ((k->kind != K_ADD && k->kind != K_MUL) || !si->geom[r][0].window || !si->geom[r][1].window) continue;
        int32_t j = si->src[r][1 - o];
        if (j < 0 || j == i || stream_feeds(si, i, j)) continue;
        si->pace[i] = j;
        any = 1;
    }
    return any;
}

/* The most pixels op i can make from what its producers will have made
 * this round (their need): at least its own need. */
static int64_t stream_reach(const stream_info *si, const stream_state *st, int32_t i) {
    int64_t lo = st->need[i], hi = si->P[i];
    int32_t j = si->src[i][0];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo + 1) / 2;
        if (stream_need(si, i, 0, mid) <= st->need[j]) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

/* Walks the chain, one chunk of the last op's pixels at a time. Each round
 * works out how many pixels every op must have made for the readers' next
 * pixels, then runs the ops in passes, each op making at most its chunk per
 * step and only pixels whose inputs exist, so the pipeline fills a little
 * at a time and every ring holds no more than its readers' window (a 3x3
 * convolution's input ring: two rows and a few pixels). Pass 1 (b == NULL)
 * sizes the rings; pass 2 emits the steps. */
static int stream_walk(builder *b, const stream_info *si, stream_state *st, int32_t s) {
    int32_t m = si->m;
    int64_t P = si->P[m - 1];
    if (b) /* the views every step of op i takes (no buffer is made while stepping) */
        for (int32_t i = 0; i < m; i++) {
            const k_call *k = si->k[i];
            for (int o = 0; o < 2; o++)
                st->view[i][o] = si->src[i][o] >= 0 ? ring_view(si, st, si->src[i][o])
                                 : i == 0 && si->in_stream[o] ? input_view(si, st, o)
                                                             : sched_view_whole(b, k->in[o]);
            st->view[i][2] = i + 1 < si->m ? ring_view(si, st, i) : sched_view_whole(b, k->out);
        }
    if (b && st->trace) {
        for (size_t t = 0; t < st->n_trace; t++)
            if (stream_step(b, si, st, s + si->pos[st->trace[t][0]], (int32_t)st->trace[t][0], st->trace[t][1],
                            st->trace[t][2]))
                return -1;
        return 0;
    }
    for (int32_t i = 0; i < m; i++) {
        st->done[i] = 0;
        st->stuck[i][0] = -1;
    }
    for (int64_t tgt = st->chunk[m - 1] < P ? st->chunk[m - 1] : P;;
         tgt = tgt + st->chunk[m - 1] < P ? tgt + st->chunk[m - 1] : P) {
        st->need[m - 1] = tgt;
        for (int32_t j = m - 2; j >= 0; j--) {
            int64_t need = st->done[j];
            for (int32_t r = 0; r < si->n_rd[j]; r++) {
                int32_t i = si->rd[j][r] / 2, o = si->rd[j][r] % 2;
                int64_t bb = stream_need(si, i, o, st->need[i]);
                if (bb > need) need = bb;
            }
            if (tgt == P) need = si->P[j]; /* every pixel once, read or not */
            st->need[j] = need;
        }
        for (int32_t i = 0; i + 1 < m; i++)
            if (st->eager && stream_eager(si, i)) st->need[i] = stream_reach(si, st, i);
        int free_run = 0; /* paced ops run free: none could move in step */
        for (;;) {
            int pending = 0, moved = 0;
            for (int32_t i = 0; i < m; i++) {
                if (st->need[i] <= st->done[i]) continue;
                pending = 1;
                int64_t q0 = st->done[i], hi = st->need[i] < q0 + st->chunk[i] ? st->need[i] : q0 + st->chunk[i];
                if (st->paced && !free_run && si->pace[i] >= 0 && !(st->eager && stream_eager(si, i))) {
                    /* no further ahead of the other branch than a step */
                    int64_t cap = st->done[si->pace[i]] + st->chunk[i];
                    if (cap < hi) hi = cap > q0 ? cap : q0;
                }
                int64_t d0 = si->src[i][0] >= 0 ? st->done[si->src[i][0]] : -1;
                int64_t d1 = si->src[i][1] >= 0 ? st->done[si->src[i][1]] : -1;
                int64_t *stuck = st->stuck[i];
                if (stuck[0] == q0 && stuck[1] == hi && stuck[2] == d0 && stuck[3] == d1) continue;
                /* the most pixels whose inputs have been made (need is
                 * monotone in q: bisect; none when not even pixel q0) */
                int64_t lo = stream_ready(si, st, i, hi) ? hi : q0;
                if (lo < hi && stream_ready(si, st, i, q0 + 1)) {
                    int64_t top = hi;
                    lo = q0 + 1;
                    while (lo < top) {
                        int64_t mid = lo + (top - lo + 1) / 2;
                        if (stream_ready(si, st, i, mid)) lo = mid;
                        else top = mid - 1;
                    }
                }
                if (lo <= q0) {
                    stuck[0] = q0;
                    stuck[1] = hi;
                    stuck[2] = d0;
                    stuck[3] = d1;
                    continue;
                }
                if (b && stream_step(b, si, st, s + si->pos[i], i, q0, lo)) return -1;
                if (!b && st->trace) {
                    if (st->n_trace == st->cap_trace) {
                        size_t cap = st->cap_trace ? 2 * st->cap_trace : 1024;
                        int64_t(*t)[3] = realloc(st->trace, sizeof *t * cap);
                        if (!t) {
                            free(st->trace); /* pass 2 walks again */
                            st->trace = NULL;
                        } else {
                            st->trace = t;
                            st->cap_trace = cap;
                        }
                    }
                    if (st->trace) {
                        st->trace[st->n_trace][0] = i;
                        st->trace[st->n_trace][1] = q0;
                        st->trace[st->n_trace][2] = lo;
                        st->n_trace++;
                    }
                }
                st->done[i] = lo;
                moved = 1;
                if (!b && i == 0)
                    for (int o = 0; o < 2; o++)
                        if (si->in_stream[o]) {
                            /* the input pixels this step reads, all in the ring */
                            int64_t req = sched_geom_need(&si->geom[0][o], lo) - sched_geom_low(&si->geom[0][o], q0);
                            if (req > st->in_ring[o]) st->in_ring[o] = req;
                        }
                if (!b && i + 1 < m) {
                    int64_t req = lo - stream_low(si, st, i);
                    if (req < lo - q0) req = lo - q0;
                    if (req > st->ring[i]) st->ring[i] = req;
                }
            }
            if (!pending) break;
            if (!moved && st->paced && !free_run) {
                free_run = 1;
                continue;
            }
            if (!moved) return -1; /* cannot happen: the first op short of its need can always move */
        }
        if (tgt == P) break;
    }
    return 0;
}

static int add_stream_in(builder *b, const plan_segment *sg, stream_state *st);

/* Bytes of the rings pass 1 sized (intermediates and streamed inputs). */
static int64_t stream_ring_bytes(const stream_info *si, const stream_state *st) {
    int64_t n = 0;
    for (int32_t j = 0; j + 1 < si->m; j++) n += st->ring[j] * si->k[j]->out_dims[3];
    for (int o = 0; o < 2; o++)
        if (si->in_stream[o]) n += st->in_ring[o] * si->k[0]->in_dims[o][3];
    return n;
}

/* Walks the segment again with skip layers run ahead (stream_eager) or
 * branches kept in step (stream_paces) as given, and keeps that walk
 * when its rings take fewer bytes; else restores the kept walk's rings
 * and flags (pass 2 then walks again, as that walk did). */
static int stream_try(const stream_info *si, stream_state *st, int32_t s, int eager, int paced) {
    int64_t ring[STREAM_MAX_OPS], in_ring[2] = {st->in_ring[0], st->in_ring[1]};
    int was_eager = st->eager, was_paced = st->paced;
    memcpy(ring, st->ring, sizeof(int64_t) * (size_t)si->m);
    int64_t before = stream_ring_bytes(si, st);
    memset(st->ring, 0, sizeof st->ring);
    st->in_ring[0] = st->in_ring[1] = 0;
    st->n_trace = 0;
    st->eager = eager;
    st->paced = paced;
    if (stream_walk(NULL, si, st, s)) return -1;
    for (int32_t j = 0; j + 1 < si->m; j++)
        if (st->ring[j] > si->P[j]) st->ring[j] = si->P[j];
    if (stream_ring_bytes(si, st) < before) return 0;
    st->eager = was_eager;
    st->paced = was_paced;
    memcpy(st->ring, ring, sizeof(int64_t) * (size_t)si->m);
    st->in_ring[0] = in_ring[0];
    st->in_ring[1] = in_ring[1];
    free(st->trace);
    st->trace = NULL;
    st->n_trace = st->cap_trace = 0;
    return 0;
}

int sched_stream_add(builder *b, const plan_segment *sg) {
    stream_state st;
    /* all but the views, which stream_walk writes whole before it reads
     * them: clearing those 15 KB for every segment of every candidate the
     * search builds was a tenth of its time */
    memset(&st, 0, offsetof(stream_state, view));
    st.eager = st.paced = 0;
    int rc = add_stream_in(b, sg, &st);
    free(st.trace);
    return rc;
}

static int add_stream_in(builder *b, const plan_segment *sg, stream_state *st) {
    const ir_graph *g = b->g;
    stream_info si;
    if (stream_analyse(g, b->calls, b->order, sg->op_first, sg->op_last, &si)) return -1;
    if (b->cache) sched_tmpl_tables(b, &si);
    for (int32_t i = 0; i < si.m; i++) {
        int64_t w = si.W[i];
        /* a chain of one-row sequences steps by time steps, its pixels */
        st->chunk[i] = sg->frac > 1 ? (w + sg->frac - 1) / sg->frac : (int64_t)sg->rows * (si.rows_are_px ? 1 : w);
    }
    /* (a streamed model input's ring is one of the template's own
     * buffers, sized as the intermediates' rings are: mobilenet_v2's
     * input segment was walked again for every candidate without one) */
    int32_t tmpl = b->cache ? sched_tmpl_find(b->cache, b->order, sg) : -1;
    if (tmpl >= 0) {
        memcpy(st->ring, b->cache->t[tmpl].ring, sizeof(int64_t) * (size_t)si.m);
        st->in_ring[0] = b->cache->t[tmpl].in_ring[0];
        st->in_ring[1] = b->cache->t[tmpl].in_ring[1];
    } else {
        st->trace = malloc(sizeof *st->trace * 1024); /* NULL: pass 2 walks again */
        st->cap_trace = st->trace ? 1024 : 0;
        st->eager = st->paced = 0;
        if (stream_walk(NULL, &si, st, sg->op_first)) return -1;
        for (int32_t j = 0; j + 1 < si.m; j++)
            if (st->ring[j] > si.P[j]) st->ring[j] = si.P[j];
        int any = 0, pace = stream_paces(&si);
        for (int32_t i = 0; i + 1 < si.m; i++) any |= stream_eager(&si, i);
        if ((any && stream_try(&si, st, sg->op_first, 1, 0)) || (pace && stream_try(&si, st, sg->op_first, 0, 1)) ||
            (any && pace && stream_try(&si, st, sg->op_first, 1, 1)))
            return -1;
    }
    int32_t base = b->p->n_buffers;
    for (int o = 0; o < 2; o++) {
        st->in_buf[o] = -1;
        if (!si.in_stream[o]) continue;
        const k_call *k0 = si.k[0];
        int64_t P = (int64_t)k0->in_dims[o][1] * k0->in_dims[o][2];
        if (st->in_ring[o] > P || st->in_ring[o] < 1) st->in_ring[o] = P;
        st->in_buf[o] = sched_buf_new(b, k0->in[o], BUF_RING, 0, k0->in_dims[o][3],
                                      (size_t)st->in_ring[o] * (size_t)k0->in_dims[o][3] *
                                          ir_type_size(g->tensors[k0->in[o]].type));
        if (st->in_buf[o] < 0) return -1;
        b->p->buffers[st->in_buf[o]].ring_px = (int32_t)st->in_ring[o];
    }
    for (int32_t j = 0; j + 1 < si.m; j++) {
        const k_call *k = si.k[j];
        size_t sz = (size_t)st->ring[j] * (size_t)k->out_dims[3] * ir_type_size(g->tensors[k->out].type);
        st->buf[j] = sched_buf_new(b, k->out, BUF_RING, 0, k->out_dims[3], sz);
        if (st->buf[j] < 0) return -1;
        b->p->buffers[st->buf[j]].ring_px = (int32_t)st->ring[j];
    }
    const k_call *ke = si.k[si.m - 1];
    st->psum = -1;
    if (si.consumer) {
        st->psum = sched_buf_new(b, ke->out, BUF_PSUM, 0, ke->out_dims[3],
                                 (size_t)g->tensors[ke->out].elems * plan_psum_elem(ke));
        if (st->psum < 0) return -1;
    } else {
        sched_tensor_buf(b, ke->out);
    }
    if (tmpl >= 0 && b->p->n_buffers - base == b->cache->t[tmpl].n_own) {
        if (sched_tmpl_replay(b, tmpl, base)) return -1;
    } else { /* (a template making other buffers cannot happen: walk then) */
        int32_t step0 = b->p->n_steps;
        if (b->cache) b->cache->n_walks++;
        if (stream_walk(b, &si, st, sg->op_first)) return -1;
        if (b->cache && tmpl < 0) sched_tmpl_put(b, sg, st, si.m, base, step0);
    }
    if (si.consumer) {
        sched_tensor_buf(b, ke->out);
        plan_step *s = sched_step_new(b, b->order[sg->op_last]);
        if (!s) return -1;
        s->mode = STEP_FINISH;
        sched_tile_full(ke, &s->tile);
        s->in[0] = (plan_view){st->psum, ke->out, 0, ke->out_dims[3], 0};
        s->out = sched_view_whole(b, ke->out);
    }
    return 0;
}
