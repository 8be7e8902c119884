/*
 * Data movement: operators that copy elements without changing them.
 *
 * Almost all of them lower onto one runtime kernel, pexc_move
 * (runtime/src/move_table.c): the output is walked row-major and the input
 * offset of each element is base + one part per output axis, either
 * index * stride or a table entry computed here (a mirrored index, a
 * nearest-neighbour source row, a padding marker). Each lowering below
 * therefore only has to say, for every output axis, which input offset
 * each of its indices adds, using TFLM's own index arithmetic; mv_finish
 * then simplifies the description (drops unit axes, merges axes contiguous
 * in both tensors so the innermost copy is a long memcpy, widens 8-byte
 * elements into pairs of 4-byte ones) and proves every offset lies inside
 * the input, so the device does no shape arithmetic and no bounds checks.
 *
 * What cannot be tabulated has kernels of its own: GATHER, GATHER_ND and
 * EMBEDDING_LOOKUP read their indices at run time (pexc_gather,
 * pexc_gather_nd, which check them as TFLM does); outputs that are known in
 * full at compile time (SHAPE, BROADCAST_ARGS, ZEROS_LIKE, FILL of a
 * constant) are a byte pattern (pexc_move_fill); CAST converts (pexc_cast).
 * EXPAND_DIMS is a reshape (K_NOP). PAD, PADV2, TRANSPOSE and
 * CONCATENATION cases the core kernels handle stay with them
 * (ops_move_claims says which are ours).
 *
 * Refusals follow each operator's Prepare()/Eval() in TFLM: its types, its
 * rank limits, constant-only parameter tensors, and cases where TFLM would
 * leave output elements unwritten or read outside its input.
 */
#include <math.h>
#include <string.h>

#include "ops/ops.h"

#define FAIL(...) return util_fail(c->err, __VA_ARGS__)
#define OPN c->op->index, c->name

/* BuiltinOptions union types (schema order) of the options read here. */
enum {
    MV_OPT_SPACE_TO_DEPTH = 19, MV_OPT_GATHER = 23, MV_OPT_STRIDED_SLICE = 32, MV_OPT_CAST = 37,
    MV_OPT_PACK = 59, MV_OPT_UNPACK = 64, MV_OPT_RESIZE_NN = 74, MV_OPT_MIRROR_PAD = 77,
    MV_OPT_DEPTH_TO_SPACE = 94,
};

int ops_move_known(int32_t code) {
    switch (code) {
    case OP_STRIDED_SLICE: case OP_SLICE: case OP_SPLIT: case OP_SPLIT_V: case OP_PACK: case OP_UNPACK:
    case OP_BROADCAST_TO: case OP_SPACE_TO_DEPTH: case OP_DEPTH_TO_SPACE: case OP_SPACE_TO_BATCH_ND:
    case OP_BATCH_TO_SPACE_ND: case OP_MIRROR_PAD: case OP_PADV2: case OP_GATHER: case OP_GATHER_ND:
    case OP_REVERSE_V2: case OP_RESIZE_NEAREST_NEIGHBOR: case OP_EXPAND_DIMS: case OP_SHAPE: case OP_FILL:
    case OP_ZEROS_LIKE: case OP_BROADCAST_ARGS: case OP_EMBEDDING_LOOKUP: case OP_CAST:
        return 1;
    default: return 0;
    }
}

/* ---- kernels: host calls and C emission ------------------------------- */

static pexc_status run_move(const void *p, const void *const *in, void *out) { return pexc_move(p, in, out); }
static pexc_status run_gather(const void *p, const void *const *in, void *out) { return pexc_gather(p, in, out); }
static pexc_status run_gather_nd(const void *p, const void *const *in, void *out) {
    return pexc_gather_nd(p, in, out);
}
static pexc_status run_fill(const void *p, const void *const *in, void *out) { return pexc_move_fill(p, in, out); }
static pexc_status run_cast(const void *p, const void *const *in, void *out) { return pexc_cast(p, in, out); }

static int emit_move(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_move_params *p = k->gen_params;
    const char *tab[PEXC_MOVE_MAX_AXES] = {0};
    for (int32_t d = 0; d < p->rank; d++) {
        if (!p->axis[d].table) continue;
        char what[64];
        snprintf(what, sizeof what, "op%d_axis%d", k->op, d);
        size_t n = (size_t)p->axis[d].ext * (size_t)(p->axis[d].pair >= 0 ? p->axis[p->axis[d].pair].ext : 1);
        if (!(tab[d] = emit_const_array(e, p->axis[d].table, n, IR_I32, what))) return -1;
    }
    emit_printf(e, "static const pexc_move_params %s = {%d, %d, %d, %d, %d, {%u, %u, %u, %u}, {", var, p->rank,
                p->elem_size, p->base, p->sel_axis, p->pad_input, p->pad[0], p->pad[1], p->pad[2], p->pad[3]);
    for (int32_t d = 0; d < p->rank; d++)
        emit_printf(e, "%s{%d, %d, %s, %d}", d ? ", " : "", p->axis[d].ext, p->axis[d].stride,
                    tab[d] ? tab[d] : "NULL", p->axis[d].pair);
    emit_printf(e, "}};\n");
    return 0;
}

static int emit_gather(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_gather_params *p = k->gen_params;
    /* the scale as a hexadecimal float literal: exact */
    emit_printf(e, "static const pexc_gather_params %s = {%d, %d, %d, %d, %d, %af};\n", var, p->batch, p->outer,
                p->axis_size, p->coords, p->inner_bytes, (double)p->dequant_scale);
    return 0;
}

static int emit_gather_nd(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_gather_nd_params *p = k->gen_params;
    emit_printf(e, "static const pexc_gather_nd_params %s = {%d, %d, %d, %d, %d, {%d, %d, %d, %d, %d}};\n", var,
                p->n_slices, p->nd, p->slice_elems, p->flat_elems, p->elem_size, p->dim_count[0], p->dim_count[1],
                p->dim_count[2], p->dim_count[3], p->dim_count[4]);
    return 0;
}

static int emit_fill(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_move_fill_params *p = k->gen_params;
    char what[64];
    snprintf(what, sizeof what, "op%d_pattern", k->op);
    const char *pat = emit_const_array(e, p->pattern, (size_t)p->pattern_bytes, IR_U8, what);
    if (!pat) return -1;
    emit_printf(e, "static const pexc_move_fill_params %s = {%d, %d, %s};\n", var, p->bytes, p->pattern_bytes, pat);
    return 0;
}

static int emit_cast(emit_ctx *e, const k_call *k, const char *var) {
    const pexc_cast_params *p = k->gen_params;
    emit_printf(e, "static const pexc_cast_params %s = {%d, %d, %d};\n", var, p->count, p->from, p->to);
    return 0;
}

static const ops_kernel k_move = {"pexc_move", "pexc_move_params", run_move, emit_move};
static const ops_kernel k_gather = {"pexc_gather", "pexc_gather_params", run_gather, emit_gather};
static const ops_kernel k_gather_nd = {"pexc_gather_nd", "pexc_gather_nd_params", run_gather_nd, emit_gather_nd};
static const ops_kernel k_fill = {"pexc_move_fill", "pexc_move_fill_params", run_fill, emit_fill};
static const ops_kernel k_cast = {"pexc_cast", "pexc_cast_params", run_cast, emit_cast};

/* ---- building a pexc_move description --------------------------------- */

/* A description under construction: axes in output order, element offsets
 * in units of the tensor's own element size (es bytes, 1, 2, 4 or 8). */
typedef struct {
    pexc_move_params p;
    int32_t es;
    int64_t base;
} mv_desc;

static void mv_init(mv_desc *m, size_t es) {
    memset(m, 0, sizeof *m);
    m->es = (int32_t)es;
    m->p.sel_axis = -1;
    m->p.pad_input = -1;
}

static int mv_axis(lower_ctx *c, mv_desc *m, int32_t ext, int64_t stride) {
    if (m->p.rank >= PEXC_MOVE_MAX_AXES)
        FAIL("operator %d (%s): more than %d axes after splitting; not supported", OPN, PEXC_MOVE_MAX_AXES);
    if (stride > INT32_MAX / 2 || stride < -(INT32_MAX / 2))
        FAIL("operator %d (%s): tensor too large", OPN);
    pexc_move_axis *a = &m->p.axis[m->p.rank++];
    a->ext = ext;
    a->stride = (int32_t)stride;
    a->pair = -1;
    return 0;
}

/* Adds an axis with a table of ext (x the pair axis's ext) entries to fill. */
static int32_t *mv_table(lower_ctx *c, mv_desc *m, int32_t ext, int32_t pair) {
    if (mv_axis(c, m, ext, 0)) return NULL;
    pexc_move_axis *a = &m->p.axis[m->p.rank - 1];
    a->pair = pair;
    int32_t *t = ops_alloc(c, sizeof(int32_t) * (size_t)ext * (size_t)(pair >= 0 ? m->p.axis[pair].ext : 1));
    a->table = t;
    return t;
}

/* Row-major element strides of a tensor. */
static void mv_strides(const ir_tensor *t, int64_t *s) {
    int64_t run = 1;
    for (int32_t i = t->rank - 1; i >= 0; i--) {
        s[i] = run;
        run *= t->shape[i];
    }
}

static int32_t mv_table_len(const pexc_move_params *p, int32_t d) {
    return p->axis[d].ext * (p->axis[d].pair >= 0 ? p->axis[p->axis[d].pair].ext : 1);
}

/* Simplifies m, checks every offset lies in an input of in_elems elements
 * and the output has out_elems, and makes k a pexc_move call reading
 * tensors[0..n). */
static int mv_finish(lower_ctx *c, k_call *k, mv_desc *m, int64_t in_elems, int64_t out_elems,
                     const int32_t *tensors, int32_t n) {
    pexc_move_params *p = &m->p;
    int64_t total = 1;
    for (int32_t d = 0; d < p->rank; d++) total *= p->axis[d].ext;
    if (total != out_elems)
        FAIL("operator %d (%s): internal: %lld output elements described for %lld", OPN, (long long)total,
             (long long)out_elems);
    /* 8-byte elements move as two 4-byte halves */
    if (m->es == 8) {
        for (int32_t d = 0; d < p->rank; d++) {
            p->axis[d].stride *= 2;
            for (int32_t i = 0; p->axis[d].table && i < mv_table_len(p, d); i++)
                if (p->axis[d].table[i] != PEXC_MOVE_PAD) ((int32_t *)p->axis[d].table)[i] *= 2;
        }
        m->base *= 2;
        in_elems *= 2;
        if (mv_axis(c, m, 2, 1)) return -1;
        m->es = 4;
    }
    /* axes another axis refers to keep their place */
    int used[PEXC_MOVE_MAX_AXES] = {0};
    for (int32_t d = 0; d < p->rank; d++)
        if (p->axis[d].pair >= 0) used[p->axis[d].pair] = 1;
    if (p->sel_axis >= 0) used[p->sel_axis] = 1;
    /* unit axes add a constant: fold it into the base */
    int32_t map[PEXC_MOVE_MAX_AXES], r = 0;
    int kept_used[PEXC_MOVE_MAX_AXES] = {0};
    for (int32_t d = 0; d < p->rank; d++) {
        pexc_move_axis a = p->axis[d];
        int keep = a.ext > 1 || used[d] || a.pair >= 0 || (a.table && a.table[0] == PEXC_MOVE_PAD);
        if (!keep) {
            if (a.table) m->base += a.table[0];
            map[d] = -1;
            continue;
        }
        /* merge with the previous kept axis when both are plain strides
         * and this one continues it */
        if (r > 0 && !a.table && !used[d] && !p->axis[r - 1].table && !kept_used[r - 1] &&
            (int64_t)p->axis[r - 1].stride == (int64_t)a.stride * a.ext &&
            (int64_t)p->axis[r - 1].ext * a.ext <= INT32_MAX) {
            p->axis[r - 1].ext *= a.ext;
            p->axis[r - 1].stride = a.stride;
            map[d] = r - 1;
            continue;
        }
        map[d] = r;
        kept_used[r] = used[d];
        p->axis[r++] = a;
    }
    for (int32_t d = 0; d < r; d++)
        if (p->axis[d].pair >= 0) p->axis[d].pair = map[p->axis[d].pair];
    if (p->sel_axis >= 0) p->sel_axis = map[p->sel_axis];
    if (r == 0) {
        p->axis[0] = (pexc_move_axis){1, 1, NULL, -1};
        r = 1;
    }
    p->rank = r;
    /* the kernel picks the input per row: the selecting axis is not the last */
    if (p->sel_axis == r - 1 && mv_axis(c, m, 1, 0)) return -1;
    /* every offset inside the input */
    int64_t lo = m->base, hi = m->base;
    int any = 1;
    for (int32_t d = 0; d < p->rank; d++) {
        const pexc_move_axis *a = &p->axis[d];
        int64_t mn = INT64_MAX, mx = INT64_MIN;
        if (!a->table) {
            int64_t e = (int64_t)(a->ext - 1) * a->stride;
            mn = e < 0 ? e : 0;
            mx = e > 0 ? e : 0;
        }
        for (int32_t i = 0; a->table && i < mv_table_len(p, d); i++) {
            if (a->table[i] == PEXC_MOVE_PAD) continue;
            if (a->table[i] < mn) mn = a->table[i];
            if (a->table[i] > mx) mx = a->table[i];
        }
        if (mn > mx) any = 0; /* all padding */
        else {
            lo += mn;
            hi += mx;
        }
    }
    if (any && (lo < 0 || hi >= in_elems || m->base < INT32_MIN + 1 || m->base > INT32_MAX))
        FAIL("operator %d (%s): reads elements [%lld, %lld] of an input of %lld", OPN, (long long)lo,
             (long long)hi, (long long)in_elems);
    p->base = (int32_t)m->base;
    p->elem_size = m->es;
    /* one contiguous run of one input (a split part or unpacked slice along
     * the outermost axis, a slice of whole rows): no copy, the output is a
     * view into the input's buffer at the run's byte offset */
    if (p->rank == 1 && !p->axis[0].table && p->axis[0].stride == 1 && p->sel_axis < 0 && p->pad_input < 0 &&
        n == 1) {
        k->kind = K_NOP;
        k->in[0] = tensors[0];
        k->in[1] = -1;
        lower_nhwc(&c->g->tensors[tensors[0]], k->in_dims[0]);
        k->alias_off = (size_t)p->base * (size_t)m->es;
        return 0;
    }
    pexc_move_params *kp = ops_alloc(c, sizeof *kp);
    if (!kp) return -1;
    *kp = *p;
    return ops_generic(c, k, &k_move, kp, tensors, n);
}

/* ---- helpers ------------------------------------------------------------ */

static ir_tensor *mv_out(lower_ctx *c) { return &c->g->tensors[c->op->out[0]]; }

/* t's type is one of types[0..n). */
static int mv_type_in(lower_ctx *c, const ir_tensor *t, const char *role, const int32_t *types, int n) {
    for (int i = 0; i < n; i++)
        if (t->type == types[i]) return 0;
    FAIL("operator %d (%s): %s tensor %d (%s) has type %s, which TFLM does not support here", OPN, role, t->index,
         t->name, ir_type_name(t->type));
}

static int mv_same_type(lower_ctx *c, const ir_tensor *in, const ir_tensor *out) {
    if (in->type != out->type)
        FAIL("operator %d (%s): input tensor %d is %s, output tensor %d is %s; they must match", OPN, in->index,
             ir_type_name(in->type), out->index, ir_type_name(out->type));
    return 0;
}

static int mv_shape_is(lower_ctx *c, const ir_tensor *t, const int64_t *want, int32_t rank, const char *role) {
    int ok = t->rank == rank;
    for (int32_t i = 0; ok && i < rank; i++) ok = t->shape[i] == want[i];
    if (ok) return 0;
    char a[96] = "", b[96] = "";
    for (int32_t i = 0, at = 0; i < t->rank && at < 80; i++)
        at += snprintf(a + at, sizeof a - (size_t)at, i ? ",%d" : "%d", t->shape[i]);
    for (int32_t i = 0, at = 0; i < rank && at < 80; i++)
        at += snprintf(b + at, sizeof b - (size_t)at, i ? ",%lld" : "%lld", (long long)want[i]);
    FAIL("operator %d (%s): %s tensor %d (%s) has shape [%s], expected [%s]", OPN, role, t->index, t->name, a, b);
}

/* A constant int32 tensor's values (TFLM reads these as int32 only). */
static int mv_const_i32(lower_ctx *c, int k, const char *role, int64_t *v, int64_t max_n, int64_t *n) {
    ir_tensor *t = lower_in(c, k);
    if (!t) FAIL("operator %d (%s): missing %s (input %d)", OPN, role, k);
    if (!t->data)
        FAIL("operator %d (%s): %s tensor %d (%s) is not a constant; TFLM (and pexc) need a constant here", OPN,
             role, t->index, t->name);
    if (t->type != IR_I32)
        FAIL("operator %d (%s): %s tensor %d (%s) is %s; TFLM reads it as int32", OPN, role, t->index, t->name,
             ir_type_name(t->type));
    return lower_const_ints(c, t, v, max_n, n, role);
}

/* ---- slicing ------------------------------------------------------------ */

/* The start of an axis as TFLM's strided-slice Eval computes it. */
static int32_t ss_start(int64_t b, int32_t stride, int32_t size, int mask) {
    int64_t s = b < 0 ? b + size : b;
    if (stride > 0) s = s < 0 ? 0 : s > size ? size : s;
    else s = s < -1 ? -1 : s > size - 1 ? size - 1 : s;
    if (mask) s = stride > 0 ? 0 : size - 1;
    return (int32_t)s;
}

static int32_t ss_stop(int64_t e, int32_t stride, int32_t size, int mask) {
    int64_t s = e < 0 ? e + size : e;
    if (stride > 0) s = s < 0 ? 0 : s > size ? size : s;
    else s = s < -1 ? -1 : s > size - 1 ? size - 1 : s;
    if (mask) s = stride > 0 ? size : -1;
    return (int32_t)s;
}

static int lower_strided_slice(lower_ctx *c, k_call *k) {
    ir_tensor *in = lower_in(c, 0), *out = mv_out(c);
    static const int32_t types[] = {IR_F32, IR_I8, IR_I16, IR_I32, IR_BOOL};
    if (mv_type_in(c, in, "input", types, 5) || mv_same_type(c, in, out)) return -1;
    if (in->rank > 4) FAIL("operator %d (%s): input has rank %d; TFLM supports at most 4", OPN, in->rank);
    int64_t b[4], e[4], s[4], nb, ne, ns;
    if (mv_const_i32(c, 1, "begin", b, 4, &nb) || mv_const_i32(c, 2, "end", e, 4, &ne) ||
        mv_const_i32(c, 3, "strides", s, 4, &ns))
        return -1;
    if (nb != in->rank || ne != in->rank || ns != in->rank)
        FAIL("operator %d (%s): begin, end and strides have %lld, %lld, %lld values for rank %d", OPN,
             (long long)nb, (long long)ne, (long long)ns, in->rank);
    /* TFLM reads begin, end and shrink masks; ellipsis and new-axis masks and
     * the offset flag are ignored (its parameters set them to 0), and the
     * output shape check below refuses models that relied on them */
    int32_t bm, em, sm;
    if (reader_opt_int(c->g, c->op, MV_OPT_STRIDED_SLICE, 0, 4, 0, &bm, c->err) ||
        reader_opt_int(c->g, c->op, MV_OPT_STRIDED_SLICE, 1, 4, 0, &em, c->err) ||
        reader_opt_int(c->g, c->op, MV_OPT_STRIDED_SLICE, 4, 4, 0, &sm, c->err))
        return -1;
    int64_t st[6], want[6];
    mv_strides(in, st);
    mv_desc m;
    mv_init(&m, ir_type_size(in->type));
    int32_t nw = 0;
    for (int32_t d = 0; d < in->rank; d++) {
        int32_t size = in->shape[d];
        if (s[d] == 0) FAIL("operator %d (%s): stride of axis %d is 0", OPN, d);
        if (s[d] > INT32_MAX || s[d] < -INT32_MAX) FAIL("operator %d (%s): stride of axis %d out of range", OPN, d);
        int32_t stride = (int32_t)s[d];
        int shrink = (sm >> d) & 1;
        int32_t start = ss_start(b[d], stride, size, (bm >> d) & 1);
        int32_t stop = shrink ? (start >= size ? start : start + 1) : ss_stop(e[d], stride, size, (em >> d) & 1);
        int64_t cnt = stride > 0 ? (stop - start + (int64_t)stride - 1) / stride
                                 : (start - stop + (int64_t)(-stride) - 1) / (-stride);
        if (cnt <= 0)
            FAIL("operator %d (%s): axis %d selects no element (start %d, stop %d, stride %d%s); TFLM writes no "
                 "output there",
                 OPN, d, start, stop, stride, shrink ? ", shrunk" : "");
        if (!shrink) want[nw++] = cnt;
        m.base += start * st[d];
        if (mv_axis(c, &m, (int32_t)cnt, stride * st[d])) return -1;
    }
    if (mv_shape_is(c, out, want, nw, "output")) return -1;
    return mv_finish(c, k, &m, in->elems, out->elems, &in->index, 1);
}

static int lower_slice(lower_ctx *c, k_call *k) {
    ir_tensor *in = lower_in(c, 0), *out = mv_out(c);
    static const int32_t types[] = {IR_F32, IR_I32, IR_I8, IR_I16, IR_BOOL};
    if (mv_type_in(c, in, "input", types, 5) || mv_same_type(c, in, out)) return -1;
    if (in->rank > 4) FAIL("operator %d (%s): input has rank %d; TFLM supports at most 4 (its parameter arrays have 4 entries)", OPN,
                               in->rank);
    int64_t b[4], sz[4], nb, ns;
    ir_tensor *bt = lower_in(c, 1), *zt = lower_in(c, 2);
    if (lower_const_ints(c, bt, b, 4, &nb, "begin") || lower_const_ints(c, zt, sz, 4, &ns, "size")) return -1;
    if (bt->type != zt->type) FAIL("operator %d (%s): begin and size tensors differ in type", OPN);
    if (nb != in->rank || ns != in->rank)
        FAIL("operator %d (%s): begin and size have %lld and %lld values for rank %d", OPN, (long long)nb,
             (long long)ns, in->rank);
    int64_t st[6], want[6];
    mv_strides(in, st);
    mv_desc m;
    mv_init(&m, ir_type_size(in->type));
    for (int32_t d = 0; d < in->rank; d++) {
        int64_t stop = sz[d] == -1 ? in->shape[d] : b[d] + sz[d];
        if (b[d] < 0 || stop > in->shape[d] || stop <= b[d])
            FAIL("operator %d (%s): axis %d begin %lld size %lld outside the input's %d", OPN, d, (long long)b[d],
                 (long long)sz[d], in->shape[d]);
        want[d] = stop - b[d];
        m.base += b[d] * st[d];
        if (mv_axis(c, &m, (int32_t)want[d], st[d])) return -1;
    }
    if (mv_shape_is(c, out, want, in->rank, "output")) return -1;
    return mv_finish(c, k, &m, in->elems, out->elems, &in->index, 1);
}

/* SPLIT and SPLIT_V: part k is the slice of the input along the axis after
 * the earlier outputs, each as wide as its output tensor (TFLM reads the
 * widths from the outputs, not from size_splits). */
static int lower_split(lower_ctx *c, k_call *k) {
    ir_op *op = c->op;
    int v = op->code == OP_SPLIT_V;
    ir_tensor *in = lower_in(c, v ? 0 : 1), *out = mv_out(c);
    if (!in) FAIL("operator %d (%s): missing input", OPN);
    static const int32_t types[] = {IR_F32, IR_I8, IR_I16, IR_I32};
    if (mv_type_in(c, in, "input", types, 4) || mv_same_type(c, in, out)) return -1;
    int64_t ax, n;
    if (mv_const_i32(c, v ? 2 : 0, "axis", &ax, 1, &n)) return -1;
    if (n != 1) FAIL("operator %d (%s): axis tensor has %lld values", OPN, (long long)n);
    if (ax < 0) ax += in->rank;
    if (ax < 0 || ax >= in->rank) FAIL("operator %d (%s): axis %lld outside rank %d", OPN, (long long)ax, in->rank);
    int32_t parts = op->n_parts > 0 ? op->n_parts : 1;
    const int32_t *outs = op->out - op->part;
    int64_t at = 0, sum = 0, pos = 0;
    for (int32_t i = 0; i < parts; i++) {
        const ir_tensor *o = &c->g->tensors[outs[i]];
        if (o->rank != in->rank) FAIL("operator %d (%s): output tensor %d has rank %d, input %d", OPN, o->index,
                                      o->rank, in->rank);
        for (int32_t d = 0; d < in->rank; d++)
            if (d != ax && o->shape[d] != in->shape[d])
                FAIL("operator %d (%s): output tensor %d differs from the input in axis %d", OPN, o->index, d);
        if (i == op->part) at = pos;
        pos += o->shape[ax];
        sum += o->shape[ax];
    }
    if (sum != in->shape[ax])
        FAIL("operator %d (%s): outputs add up to %lld along axis %lld, the input has %d", OPN, (long long)sum,
             (long long)ax, in->shape[ax]);
    int64_t st[6];
    mv_strides(in, st);
    mv_desc m;
    mv_init(&m, ir_type_size(in->type));
    m.base = at * st[ax];
    for (int32_t d = 0; d < in->rank; d++)
        if (mv_axis(c, &m, out->shape[d], st[d])) return -1;
    return mv_finish(c, k, &m, in->elems, out->elems, &in->index, 1);
}

/* ---- packing ------------------------------------------------------------ */

static int lower_pack(lower_ctx *c, k_call *k) {
    ir_op *op = c->op;
    ir_tensor *in = lower_in(c, 0), *out = mv_out(c);
    if (!in) FAIL("operator %d (%s): missing input", OPN);
    static const int32_t types[] = {IR_F32, IR_I8, IR_I16, IR_I32, IR_I64};
    if (mv_type_in(c, out, "output", types, 5)) return -1;
    int32_t count, axis;
    if (reader_opt_int(c->g, op, MV_OPT_PACK, 0, 4, 0, &count, c->err) ||
        reader_opt_int(c->g, op, MV_OPT_PACK, 1, 4, 0, &axis, c->err))
        return -1;
    if (count != op->n_in || count < 1 || count > 64)
        FAIL("operator %d (%s): values_count %d for %d inputs", OPN, count, op->n_in);
    if (axis < 0) axis += out->rank;
    if (axis < 0 || axis >= out->rank) FAIL("operator %d (%s): axis %d outside rank %d", OPN, axis, out->rank);
    int32_t *ts = ops_alloc(c, sizeof(int32_t) * (size_t)count);
    if (!ts) return -1;
    int64_t want[6];
    for (int32_t d = 0, j = 0; d < out->rank; d++) want[d] = d == axis ? count : in->shape[j++];
    if (in->rank + 1 != out->rank || mv_shape_is(c, out, want, out->rank, "output")) {
        if (in->rank + 1 != out->rank)
            FAIL("operator %d (%s): input rank %d, output rank %d", OPN, in->rank, out->rank);
        return -1;
    }
    for (int32_t i = 0; i < count; i++) {
        ir_tensor *t = lower_in(c, i);
        if (!t || t->type != out->type || t->rank != in->rank || memcmp(t->shape, in->shape, sizeof(int32_t) * (size_t)in->rank))
            FAIL("operator %d (%s): input %d differs from input 0 in type or shape", OPN, i);
        ts[i] = t->index;
    }
    int64_t st[6];
    mv_strides(in, st);
    mv_desc m;
    mv_init(&m, ir_type_size(out->type));
    for (int32_t d = 0, j = 0; d < out->rank; d++) {
        if (d == axis) {
            m.p.sel_axis = m.p.rank;
            if (mv_axis(c, &m, count, 0)) return -1;
        } else if (mv_axis(c, &m, in->shape[j], st[j])) {
            return -1;
        } else {
            j++;
        }
    }
    return mv_finish(c, k, &m, in->elems, out->elems, ts, count);
}

static int lower_unpack(lower_ctx *c, k_call *k) {
    ir_op *op = c->op;
    ir_tensor *in = lower_in(c, 0), *out = mv_out(c);
    static const int32_t types[] = {IR_F32, IR_I32, IR_I16, IR_I8};
    if (mv_type_in(c, in, "input", types, 4) || mv_same_type(c, in, out)) return -1;
    int32_t num, axis;
    if (reader_opt_int(c->g, op, MV_OPT_UNPACK, 0, 4, 0, &num, c->err) ||
        reader_opt_int(c->g, op, MV_OPT_UNPACK, 1, 4, 0, &axis, c->err))
        return -1;
    int32_t parts = op->n_parts > 0 ? op->n_parts : 1;
    if (axis < 0) axis += in->rank;
    if (axis < 0 || axis >= in->rank) FAIL("operator %d (%s): axis %d outside rank %d", OPN, axis, in->rank);
    if (num != parts || in->shape[axis] != num)
        FAIL("operator %d (%s): num %d, %d outputs, axis extent %d must agree", OPN, num, parts, in->shape[axis]);
    int64_t want[6], st[6];
    for (int32_t d = 0, j = 0; d < in->rank; d++)
        if (d != axis) want[j++] = in->shape[d];
    if (mv_shape_is(c, out, want, in->rank - 1, "output")) return -1;
    mv_strides(in, st);
    mv_desc m;
    mv_init(&m, ir_type_size(in->type));
    m.base = op->part * st[axis];
    for (int32_t d = 0; d < in->rank; d++)
        if (d != axis && mv_axis(c, &m, in->shape[d], st[d])) return -1;
    return mv_finish(c, k, &m, in->elems, out->elems, &in->index, 1);
}

static int lower_broadcast_to(lower_ctx *c, k_call *k) {
    ir_tensor *in = lower_in(c, 0), *out = mv_out(c);
    if (!in) FAIL("operator %d (%s): missing input", OPN);
    if (mv_same_type(c, in, out)) return -1;
    if (!ir_type_size(in->type) || in->type == IR_STRING || in->type == IR_F64 || in->type == IR_C64)
        FAIL("operator %d (%s): type %s is not supported", OPN, ir_type_name(in->type));
    int64_t sh[6], n;
    ir_tensor *shape = lower_in(c, 1);
    if (lower_const_ints(c, shape, sh, 6, &n, "shape")) return -1;
    if (out->rank > 5 || in->rank > out->rank || n != out->rank)
        FAIL("operator %d (%s): input rank %d, shape of %lld values, output rank %d (TFLM: at most 5)", OPN,
             in->rank, (long long)n, out->rank);
    if (mv_shape_is(c, out, sh, out->rank, "output")) return -1;
    int64_t st[6];
    mv_strides(in, st);
    mv_desc m;
    mv_init(&m, ir_type_size(in->type));
    int32_t lead = out->rank - in->rank;
    for (int32_t d = 0; d < out->rank; d++) {
        int32_t id = d - lead;
        int32_t e = id >= 0 ? in->shape[id] : 1;
        if (e != 1 && e != out->shape[d])
            FAIL("operator %d (%s): input axis %d (%d) does not broadcast to %d", OPN, id, e, out->shape[d]);
        if (mv_axis(c, &m, out->shape[d], e == 1 ? 0 : st[id])) return -1;
    }
    return mv_finish(c, k, &m, in->elems, out->elems, &in->index, 1);
}

/* ---- depth, space and batch shuffles ------------------------------------ */

static int lower_depth_space(lower_ctx *c, k_call *k) {
    ir_op *op = c->op;
    ir_tensor *in = lower_in(c, 0), *out = mv_out(c);
    static const int32_t types[] = {IR_F32, IR_I8};
    if (mv_type_in(c, out, "output", types, 2) || mv_same_type(c, in, out)) return -1;
    if (in->rank != 4) FAIL("operator %d (%s): input must be 4-D (rank %d)", OPN, in->rank);
    int d2s = op->code == OP_DEPTH_TO_SPACE;
    int32_t bs;
    if (reader_opt_int(c->g, op, d2s ? MV_OPT_DEPTH_TO_SPACE : MV_OPT_SPACE_TO_DEPTH, 0, 4, 0, &bs, c->err))
        return -1;
    int32_t n = in->shape[0], h = in->shape[1], w = in->shape[2], ch = in->shape[3];
    int64_t bb = (int64_t)bs * bs; /* a block size near 2^31 must not overflow int */
    if (bs < 1 || (d2s ? ch % bb : h % bs || w % bs))
        FAIL("operator %d (%s): block size %d does not divide input [%d,%d,%d,%d]", OPN, bs, n, h, w, ch);
    int64_t Hs = (int64_t)w * ch, Bs = (int64_t)h * Hs;
    mv_desc m;
    mv_init(&m, ir_type_size(in->type));
    int r = 0;
    if (d2s) {
        /* out (b, h*bs + bh, w*bs + bw, d) = in (b, h, w, (bh*bs + bw)*od + d) */
        int32_t od = (int32_t)(ch / bb);
        int64_t want[4] = {n, (int64_t)h * bs, (int64_t)w * bs, od};
        if (mv_shape_is(c, out, want, 4, "output")) return -1;
        r = mv_axis(c, &m, n, Bs) || mv_axis(c, &m, h, Hs) || mv_axis(c, &m, bs, (int64_t)bs * od) ||
            mv_axis(c, &m, w, ch) || mv_axis(c, &m, bs, od) || mv_axis(c, &m, od, 1);
    } else {
        /* out (b, h, w, (bh*bs + bw)*ch + d) = in (b, h*bs + bh, w*bs + bw, d) */
        int64_t want[4] = {n, h / bs, w / bs, (int64_t)ch * bs * bs};
        if (mv_shape_is(c, out, want, 4, "output")) return -1;
        r = mv_axis(c, &m, n, Bs) || mv_axis(c, &m, h / bs, bs * Hs) || mv_axis(c, &m, w / bs, (int64_t)bs * ch) ||
            mv_axis(c, &m, bs, Hs) || mv_axis(c, &m, bs, ch) || mv_axis(c, &m, ch, 1);
    }
    if (r) return -1;
    return mv_finish(c, k, &m, in->elems, out->elems, &in->index, 1);
}

/* Input and output of SPACE_TO_BATCH_ND / BATCH_TO_SPACE_ND as TFLM extends
 * them to 4-D ([b, h, c] -> [b, h, 1, c]); block and pads for the width are
 * 1 and 0 then. */
static void sb_dims4(const ir_tensor *t, int32_t d[4]) {
    d[0] = t->shape[0];
    d[1] = t->shape[1];
    d[2] = t->rank == 4 ? t->shape[2] : 1;
    d[3] = t->shape[t->rank - 1];
}

static int lower_space_batch(lower_ctx *c, k_call *k) {
    ir_op *op = c->op;
    ir_tensor *in = lower_in(c, 0), *out = mv_out(c);
    static const int32_t types[] = {IR_F32, IR_I8};
    if (mv_type_in(c, in, "input", types, 2) || mv_same_type(c, in, out)) return -1;
    if (in->rank < 3 || in->rank > 4 || out->rank != in->rank)
        FAIL("operator %d (%s): input rank %d, output rank %d; TFLM supports 3 or 4 (equal)", OPN, in->rank,
             out->rank);
    int64_t blk[2], pads[4], nb, np;
    if (mv_const_i32(c, 1, "block_shape", blk, 2, &nb) || mv_const_i32(c, 2, "paddings/crops", pads, 4, &np))
        return -1;
    int four = in->rank == 4;
    if (nb != (four ? 2 : 1) || np != 2 * nb)
        FAIL("operator %d (%s): block_shape has %lld values, paddings %lld, for rank %d", OPN, (long long)nb,
             (long long)np, in->rank);
    int64_t bh = blk[0], bw = four ? blk[1] : 1, pt = pads[0], pl = four ? pads[2] : 0;
    if (bh < 1 || bw < 1 || bh > 65536 || bw > 65536 || pt < 0 || pl < 0 || pt > 65536 || pl > 65536)
        FAIL("operator %d (%s): block %lldx%lld or padding %lld,%lld out of range", OPN, (long long)bh,
             (long long)bw, (long long)pt, (long long)pl);
    int32_t di[4], dout[4];
    sb_dims4(in, di);
    sb_dims4(out, dout);
    if (dout[3] != di[3]) FAIL("operator %d (%s): input depth %d, output depth %d", OPN, di[3], dout[3]);
    int64_t Ws = di[3], Hs = (int64_t)di[2] * Ws, Bs = (int64_t)di[1] * Hs;
    mv_desc m;
    mv_init(&m, ir_type_size(in->type));
    if (op->code == OP_SPACE_TO_BATCH_ND) {
        /* output batch (sh * bw + sw) * IB + ib reads input batch ib at row
         * oh * bh + sh - pt, column ow * bw + sw - pl (padding outside) */
        if ((int64_t)dout[0] != di[0] * bh * bw)
            FAIL("operator %d (%s): output batch %d is not input batch %d x block %lldx%lld", OPN, dout[0], di[0],
                 (long long)bh, (long long)bw);
        if (mv_axis(c, &m, (int32_t)bh, 0) || mv_axis(c, &m, (int32_t)bw, 0) || mv_axis(c, &m, di[0], Bs))
            return -1;
        int32_t *th = mv_table(c, &m, dout[1], 0), *tw = th ? mv_table(c, &m, dout[2], 1) : NULL;
        if (!tw) return -1;
        for (int32_t s = 0; s < bh; s++)
            for (int32_t y = 0; y < dout[1]; y++) {
                int64_t iy = (int64_t)y * bh + s - pt;
                th[s * dout[1] + y] = iy < 0 || iy >= di[1] ? PEXC_MOVE_PAD : (int32_t)(iy * Hs);
            }
        for (int32_t s = 0; s < bw; s++)
            for (int32_t x = 0; x < dout[2]; x++) {
                int64_t ix = (int64_t)x * bw + s - pl;
                tw[s * dout[2] + x] = ix < 0 || ix >= di[2] ? PEXC_MOVE_PAD : (int32_t)(ix * Ws);
            }
        /* TFLM pads with its parameter struct's output_offset, which its
         * Prepare() never sets: the padded bytes are whatever that memory
         * held (0, 16 and 0xD0 seen from its interpreter), so no output can
         * be TFLM's. Refuse padding, naming why. */
        for (int64_t i = 0; i < bh * dout[1]; i++)
            if (th[i] == PEXC_MOVE_PAD)
                FAIL("operator %d (%s): padding (paddings tensor %d) is filled with an uninitialised value by "
                     "TFLM, so its output there is undefined; pexc takes SPACE_TO_BATCH_ND without padding",
                     OPN, op->in[2]);
        for (int64_t i = 0; i < bw * dout[2]; i++)
            if (tw[i] == PEXC_MOVE_PAD)
                FAIL("operator %d (%s): padding (paddings tensor %d) is filled with an uninitialised value by "
                     "TFLM, so its output there is undefined; pexc takes SPACE_TO_BATCH_ND without padding",
                     OPN, op->in[2]);
        if (mv_axis(c, &m, di[3], 1)) return -1;
        return mv_finish(c, k, &m, in->elems, out->elems, &in->index, 1);
    }
    /* BATCH_TO_SPACE_ND: output (ob, oh, ow) comes from input batch
     * (sh * bw + sw) * OB + ob, row (oh + ct) / bh, column (ow + cl) / bw,
     * where sh = (oh + ct) % bh and sw = (ow + cl) % bw */
    if ((int64_t)di[0] != dout[0] * bh * bw)
        FAIL("operator %d (%s): input batch %d is not output batch %d x block %lldx%lld", OPN, di[0], dout[0],
             (long long)bh, (long long)bw);
    int64_t OBs = (int64_t)dout[0] * Bs;
    if (mv_axis(c, &m, dout[0], Bs)) return -1;
    int32_t *th = mv_table(c, &m, dout[1], -1), *tw = th ? mv_table(c, &m, dout[2], -1) : NULL;
    if (!tw) return -1;
    for (int32_t y = 0; y < dout[1]; y++) {
        int64_t v = y + pt;
        if (v / bh >= di[1])
            FAIL("operator %d (%s): output row %d has no input row (TFLM leaves it unwritten)", OPN, y);
        th[y] = (int32_t)((v % bh) * bw * OBs + (v / bh) * Hs);
    }
    for (int32_t x = 0; x < dout[2]; x++) {
        int64_t v = x + pl;
        if (v / bw >= di[2])
            FAIL("operator %d (%s): output column %d has no input column (TFLM leaves it unwritten)", OPN, x);
        tw[x] = (int32_t)((v % bw) * OBs + (v / bw) * Ws);
    }
    if (mv_axis(c, &m, di[3], 1)) return -1;
    return mv_finish(c, k, &m, in->elems, out->elems, &in->index, 1);
}

/* ---- padding ------------------------------------------------------------ */

/* The input index TFLM's mirror pad reads for output index j of an axis. */
static int64_t mirror_index(int64_t j, int64_t left, int64_t size, int64_t offset) {
    if (j < left) {
        int64_t orig = left + offset - 1;
        int64_t m = j < orig - offset ? j : orig - offset;
        return orig - m;
    }
    j -= left;
    if (j >= size) {
        j -= size;
        int64_t orig = size - (1 + offset);
        return orig - (j < orig ? j : orig);
    }
    return j;
}

static int lower_pad_any(lower_ctx *c, k_call *k) {
    ir_op *op = c->op;
    ir_tensor *in = lower_in(c, 0), *out = mv_out(c), *val = lower_in(c, 2);
    int mirror = op->code == OP_MIRROR_PAD;
    static const int32_t ptypes[] = {IR_F32, IR_I8, IR_I16, IR_I32}, mtypes[] = {IR_F32, IR_I8};
    if (!in) FAIL("operator %d (%s): missing input", OPN);
    if (mv_type_in(c, out, "output", mirror ? mtypes : ptypes, mirror ? 2 : 4) || mv_same_type(c, in, out))
        return -1;
    if (!mirror && in->rank > 5) FAIL("operator %d (%s): rank %d; TFLM pads at most 5 axes", OPN, in->rank);
    int64_t pd[12], n;
    ir_tensor *pt = lower_in(c, 1);
    if (mirror ? lower_const_ints(c, pt, pd, 12, &n, "paddings") : mv_const_i32(c, 1, "paddings", pd, 12, &n))
        return -1;
    if (n != 2 * in->rank || out->rank != in->rank)
        FAIL("operator %d (%s): paddings has %lld values for rank %d", OPN, (long long)n, in->rank);
    int32_t offset = 0;
    if (mirror) {
        int32_t mode;
        if (reader_opt_int(c->g, op, MV_OPT_MIRROR_PAD, 0, 1, 0, &mode, c->err)) return -1;
        if (mode != 0 && mode != 1) FAIL("operator %d (%s): mirror pad mode %d", OPN, mode);
        offset = mode == 0; /* REFLECT leaves the edge out, SYMMETRIC repeats it */
    }
    int64_t st[6], want[6];
    mv_strides(in, st);
    mv_desc m;
    mv_init(&m, ir_type_size(in->type));
    for (int32_t d = 0; d < in->rank; d++) {
        if (pd[2 * d] < 0 || pd[2 * d + 1] < 0 || pd[2 * d] > 65536 || pd[2 * d + 1] > 65536)
            FAIL("operator %d (%s): padding %lld,%lld of axis %d out of range", OPN, (long long)pd[2 * d],
                 (long long)pd[2 * d + 1], d);
        want[d] = in->shape[d] + pd[2 * d] + pd[2 * d + 1];
    }
    if (mv_shape_is(c, out, want, in->rank, "output")) return -1;
    for (int32_t d = 0; d < in->rank; d++) {
        if (!pd[2 * d] && !pd[2 * d + 1]) {
            if (mv_axis(c, &m, in->shape[d], st[d])) return -1;
            continue;
        }
        int32_t *t = mv_table(c, &m, out->shape[d], -1);
        if (!t) return -1;
        for (int32_t j = 0; j < out->shape[d]; j++) {
            int64_t i = mirror ? mirror_index(j, pd[2 * d], in->shape[d], offset) : j - pd[2 * d];
            if (mirror && (i < 0 || i >= in->shape[d]))
                FAIL("operator %d (%s): padding %lld,%lld of axis %d is wider than the input's %d allows", OPN,
                     (long long)pd[2 * d], (long long)pd[2 * d + 1], d, in->shape[d]);
            t[j] = i < 0 || i >= in->shape[d] ? PEXC_MOVE_PAD : (int32_t)(i * st[d]);
        }
    }
    int32_t ts[2] = {in->index, -1};
    int32_t nt = 1;
    if (op->code == OP_PADV2 && val) {
        if (val->type != in->type || val->elems != 1)
            FAIL("operator %d (%s): constant_values tensor %d must be one %s value", OPN, val->index,
                 ir_type_name(in->type));
        if (in->type == IR_I8 && (lower_zp(val) != lower_zp(out) || lower_scale(val) != lower_scale(out)))
            FAIL("operator %d (%s): constant_values quantisation (scale %g, zero point %d) differs from the "
                 "output's (scale %g, zero point %d)",
                 OPN, (double)lower_scale(val), lower_zp(val), (double)lower_scale(out), lower_zp(out));
        if (val->data) {
            memcpy(m.p.pad, val->data, ir_type_size(val->type));
        } else {
            ts[nt] = val->index;
            m.p.pad_input = nt++;
        }
    } else if (!mirror && in->type == IR_I8) {
        if (lower_zp(out) < -128 || lower_zp(out) > 127)
            FAIL("operator %d (%s): output zero point %d outside int8", OPN, lower_zp(out));
        m.p.pad[0] = (uint8_t)(int8_t)lower_zp(out);
    }
    return mv_finish(c, k, &m, in->elems, out->elems, ts, nt);
}

/* PADV2 of an int8 tensor of rank 4 or less by a constant: the core PAD
 * kernel, which streams, with the constant as its pad value. */
static int lower_padv2_core(lower_ctx *c, k_call *k) {
    ir_tensor *in = lower_in(c, 0), *out = mv_out(c), *val = lower_in(c, 2);
    if (mv_same_type(c, in, out)) return -1;
    if (val->type != IR_I8 || val->elems != 1)
        FAIL("operator %d (%s): constant_values tensor %d must be one int8 value", OPN, val->index);
    if (lower_zp(val) != lower_zp(out) || lower_scale(val) != lower_scale(out))
        FAIL("operator %d (%s): constant_values quantisation (scale %g, zero point %d) differs from the output's "
             "(scale %g, zero point %d)",
             OPN, (double)lower_scale(val), lower_zp(val), (double)lower_scale(out), lower_zp(out));
    int64_t pd[8], n, want[4];
    if (mv_const_i32(c, 1, "paddings", pd, 8, &n)) return -1;
    if (n != 2 * in->rank) FAIL("operator %d (%s): paddings has %lld values for rank %d", OPN, (long long)n, in->rank);
    memset(&k->pad, 0, sizeof k->pad);
    for (int32_t d = 0; d < in->rank; d++) {
        if (pd[2 * d] < 0 || pd[2 * d + 1] < 0 || pd[2 * d] > 65536 || pd[2 * d + 1] > 65536)
            FAIL("operator %d (%s): padding %lld,%lld of axis %d out of range", OPN, (long long)pd[2 * d],
                 (long long)pd[2 * d + 1], d);
        want[d] = in->shape[d] + pd[2 * d] + pd[2 * d + 1];
        k->pad.before[4 - in->rank + d] = (int32_t)pd[2 * d];
    }
    if (mv_shape_is(c, out, want, in->rank, "output")) return -1;
    k->kind = K_PAD;
    k->pad.pad_value = (int8_t)val->data[0];
    return 0;
}

/* ---- reversing and resizing --------------------------------------------- */

static int lower_reverse(lower_ctx *c, k_call *k) {
    ir_tensor *in = lower_in(c, 0), *out = mv_out(c);
    static const int32_t types[] = {IR_I32, IR_F32, IR_U8, IR_I8, IR_I16, IR_I64, IR_BOOL};
    if (mv_type_in(c, in, "input", types, 7) || mv_same_type(c, in, out)) return -1;
    int64_t ax[8], n;
    if (mv_const_i32(c, 1, "axis", ax, 8, &n)) return -1;
    if (n > in->rank) FAIL("operator %d (%s): %lld axes for rank %d", OPN, (long long)n, in->rank);
    int rev[6] = {0};
    int32_t lo = in->rank, hi = -1;
    for (int64_t i = 0; i < n; i++) {
        int64_t a = ax[i] < 0 ? ax[i] + in->rank : ax[i];
        if (a < 0 || a >= in->rank) FAIL("operator %d (%s): axis %lld outside rank %d", OPN, (long long)ax[i], in->rank);
        if (rev[a]) FAIL("operator %d (%s): axis %lld given twice (TFLM: non-contiguous axes)", OPN, (long long)a);
        rev[a] = 1;
        lo = a < lo ? (int32_t)a : lo;
        hi = a > hi ? (int32_t)a : hi;
    }
    if (n && hi - lo + 1 != n) FAIL("operator %d (%s): axes are not contiguous; TFLM refuses them", OPN);
    int64_t want[6];
    for (int32_t d = 0; d < in->rank; d++) want[d] = in->shape[d];
    if (mv_shape_is(c, out, want, in->rank, "output")) return -1;
    int64_t st[6];
    mv_strides(in, st);
    mv_desc m;
    mv_init(&m, ir_type_size(in->type));
    for (int32_t d = 0; d < in->rank; d++) {
        if (rev[d]) m.base += (int64_t)(in->shape[d] - 1) * st[d];
        if (mv_axis(c, &m, in->shape[d], rev[d] ? -st[d] : st[d])) return -1;
    }
    return mv_finish(c, k, &m, in->elems, out->elems, &in->index, 1);
}

/* TFLM's GetNearestNeighbor, in float as it computes it. */
static int32_t nearest(int32_t v, int32_t in_size, int32_t out_size, int align, int half) {
    float scale = align && out_size > 1 ? (float)(in_size - 1) / (float)(out_size - 1)
                                        : (float)in_size / (float)out_size;
    float offset = half ? 0.5f : 0.0f;
    float x = ((float)v + offset) * scale;
    int32_t r = align ? (int32_t)roundf(x) : (int32_t)floorf(x);
    if (r > in_size - 1) r = in_size - 1;
    if (half && r < 0) r = 0;
    return r;
}

static int lower_resize_nn(lower_ctx *c, k_call *k) {
    ir_tensor *in = lower_in(c, 0), *out = mv_out(c);
    static const int32_t types[] = {IR_F32, IR_I8, IR_I16};
    if (mv_type_in(c, out, "output", types, 3) || mv_same_type(c, in, out)) return -1;
    if (in->rank != 4) FAIL("operator %d (%s): input must be 4-D (rank %d)", OPN, in->rank);
    int64_t sz[2], n;
    if (mv_const_i32(c, 1, "size", sz, 2, &n)) return -1;
    if (n != 2) FAIL("operator %d (%s): size has %lld values", OPN, (long long)n);
    int64_t want[4] = {in->shape[0], sz[0], sz[1], in->shape[3]};
    if (mv_shape_is(c, out, want, 4, "output")) return -1;
    int32_t align, half;
    if (reader_opt_int(c->g, c->op, MV_OPT_RESIZE_NN, 0, 1, 0, &align, c->err) ||
        reader_opt_int(c->g, c->op, MV_OPT_RESIZE_NN, 1, 1, 0, &half, c->err))
        return -1;
    int64_t st[6];
    mv_strides(in, st);
    mv_desc m;
    mv_init(&m, ir_type_size(in->type));
    if (mv_axis(c, &m, in->shape[0], st[0])) return -1;
    for (int d = 1; d <= 2; d++) {
        int32_t *t = mv_table(c, &m, out->shape[d], -1);
        if (!t) return -1;
        for (int32_t j = 0; j < out->shape[d]; j++)
            t[j] = (int32_t)(nearest(j, in->shape[d], out->shape[d], align, half) * st[d]);
    }
    if (mv_axis(c, &m, in->shape[3], 1)) return -1;
    return mv_finish(c, k, &m, in->elems, out->elems, &in->index, 1);
}

/* ---- gathering ---------------------------------------------------------- */

/* Constant indices are checked here (TFLM only debug-checks GATHER's);
 * indices computed at run time are checked by the kernel. */
static int check_const_indices(lower_ctx *c, const ir_tensor *idx, int64_t limit) {
    for (int64_t i = 0; idx->data && i < idx->elems; i++) {
        int32_t v;
        memcpy(&v, idx->data + 4 * i, 4);
        if (v < 0 || v >= limit)
            FAIL("operator %d (%s): index %d (element %lld of tensor %d) outside [0, %lld)", OPN, v, (long long)i,
                 idx->index, (long long)limit);
    }
    return 0;
}

/* GATHER and GATHER_ND read float32 or int8 data through int32 indices,
 * writing the data's type (TFLM's Prepare checks). */
static int gather_operands(lower_ctx *c, const char *data_role, const char *idx_role, ir_tensor **in,
                           ir_tensor **idx) {
    static const int32_t types[] = {IR_F32, IR_I8};
    *in = lower_in(c, 0);
    *idx = lower_in(c, 1);
    if (!*in || !*idx) FAIL("operator %d (%s): needs %s and %s", OPN, data_role, idx_role);
    if (mv_type_in(c, *in, data_role, types, 2) || mv_same_type(c, *in, mv_out(c))) return -1;
    if ((*idx)->type != IR_I32)
        FAIL("operator %d (%s): %s tensor %d is %s; TFLM supports int32", OPN, idx_role, (*idx)->index,
             ir_type_name((*idx)->type));
    return 0;
}

static int lower_gather(lower_ctx *c, k_call *k) {
    ir_tensor *in, *idx, *out = mv_out(c);
    if (gather_operands(c, "input", "positions", &in, &idx)) return -1;
    int32_t axis, bd;
    if (reader_opt_int(c->g, c->op, MV_OPT_GATHER, 0, 4, 0, &axis, c->err) ||
        reader_opt_int(c->g, c->op, MV_OPT_GATHER, 1, 4, 0, &bd, c->err))
        return -1;
    if (axis < 0) axis += in->rank;
    if (bd < 0) bd += idx->rank;
    if (axis < 0 || axis >= in->rank || bd < 0 || bd > axis || bd >= in->rank || bd > idx->rank)
        FAIL("operator %d (%s): axis %d, batch_dims %d invalid for input rank %d, positions rank %d", OPN, axis, bd,
             in->rank, idx->rank);
    int64_t want[12];
    int32_t nw = 0;
    for (int32_t i = 0; i < bd; i++)
        if (in->shape[i] != idx->shape[i])
            FAIL("operator %d (%s): batch axis %d: input %d, positions %d", OPN, i, in->shape[i], idx->shape[i]);
    for (int32_t i = 0; i < axis; i++) want[nw++] = in->shape[i];
    for (int32_t i = bd; i < idx->rank; i++) want[nw++] = idx->shape[i];
    for (int32_t i = axis + 1; i < in->rank; i++) want[nw++] = in->shape[i];
    if (nw > IR_MAX_RANK) FAIL("operator %d (%s): output rank %d", OPN, nw);
    if (mv_shape_is(c, out, want, nw, "output")) return -1;
    if (check_const_indices(c, idx, in->shape[axis])) return -1;
    pexc_gather_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    int64_t batch = 1, outer = 1, inner = 1, coords = 1;
    for (int32_t i = 0; i < bd; i++) batch *= in->shape[i];
    for (int32_t i = bd; i < axis; i++) outer *= in->shape[i];
    for (int32_t i = axis + 1; i < in->rank; i++) inner *= in->shape[i];
    for (int32_t i = bd; i < idx->rank; i++) coords *= idx->shape[i];
    p->batch = (int32_t)batch;
    p->outer = (int32_t)outer;
    p->axis_size = in->shape[axis];
    p->coords = (int32_t)coords;
    p->inner_bytes = (int32_t)(inner * (int64_t)ir_type_size(in->type));
    int32_t ts[2] = {in->index, idx->index};
    return ops_generic(c, k, &k_gather, p, ts, 2);
}

static int lower_embedding_lookup(lower_ctx *c, k_call *k) {
    ir_tensor *ids = lower_in(c, 0), *val = lower_in(c, 1), *out = mv_out(c);
    if (!ids || !val) FAIL("operator %d (%s): needs ids and values", OPN);
    if (ids->rank != 1 || ids->type != IR_I32)
        FAIL("operator %d (%s): ids tensor %d must be 1-D int32", OPN, ids->index);
    static const int32_t types[] = {IR_F32, IR_I8};
    if (mv_type_in(c, val, "value", types, 2)) return -1;
    if (val->rank < 2) FAIL("operator %d (%s): value tensor %d must have rank 2 or more", OPN, val->index);
    int hybrid = val->type == IR_I8 && out->type == IR_F32;
    if (hybrid && lower_zp(val) != 0)
        FAIL("operator %d (%s): int8 value tensor %d has zero point %d; TFLM requires 0 for a float output", OPN,
             val->index, lower_zp(val));
    if (!hybrid && mv_same_type(c, val, out)) return -1;
    int64_t want[6] = {ids->shape[0]};
    for (int32_t i = 1; i < val->rank; i++) want[i] = val->shape[i];
    if (mv_shape_is(c, out, want, val->rank, "output")) return -1;
    if (check_const_indices(c, ids, val->shape[0])) return -1;
    pexc_gather_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    p->batch = p->outer = 1;
    p->axis_size = val->shape[0];
    p->coords = ids->shape[0];
    p->inner_bytes = (int32_t)(val->bytes / (size_t)val->shape[0]);
    p->dequant_scale = hybrid ? lower_scale(val) : 0.0f;
    if (hybrid && !(p->dequant_scale != 0.0f))
        FAIL("operator %d (%s): int8 value tensor %d has scale 0", OPN, val->index);
    int32_t ts[2] = {val->index, ids->index};
    return ops_generic(c, k, &k_gather, p, ts, 2);
}

static int lower_gather_nd(lower_ctx *c, k_call *k) {
    ir_tensor *in, *idx, *out = mv_out(c);
    if (gather_operands(c, "params", "indices", &in, &idx)) return -1;
    if (in->rank < 1 || idx->rank < 1) FAIL("operator %d (%s): params and indices must be at least vectors", OPN);
    int32_t nd = idx->shape[idx->rank - 1];
    if (nd < 1 || nd > in->rank || nd > 5)
        FAIL("operator %d (%s): index depth %d for params rank %d (TFLM: at most 5)", OPN, nd, in->rank);
    int64_t want[12];
    int32_t nw = 0;
    for (int32_t i = 0; i < idx->rank - 1; i++) want[nw++] = idx->shape[i];
    for (int32_t i = nd; i < in->rank; i++) want[nw++] = in->shape[i];
    if (nw > IR_MAX_RANK || mv_shape_is(c, out, want, nw, "output")) {
        if (nw > IR_MAX_RANK) FAIL("operator %d (%s): output rank %d", OPN, nw);
        return -1;
    }
    pexc_gather_nd_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    p->nd = nd;
    p->n_slices = (int32_t)(idx->elems / nd);
    p->flat_elems = (int32_t)in->elems;
    p->elem_size = (int32_t)ir_type_size(in->type);
    int64_t slice = 1, rem = in->elems;
    for (int32_t i = nd; i < in->rank; i++) slice *= in->shape[i];
    p->slice_elems = (int32_t)slice;
    for (int32_t j = 0; j < nd; j++) {
        rem /= in->shape[j];
        p->dim_count[j] = (int32_t)rem;
    }
    for (int32_t i = 0; idx->data && i < p->n_slices; i++) {
        int64_t from = 0;
        for (int32_t j = 0; j < nd; j++) {
            int32_t v;
            memcpy(&v, idx->data + 4 * ((size_t)i * (size_t)nd + (size_t)j), 4);
            from += (int64_t)v * p->dim_count[j];
        }
        if (from < 0 || from + slice > in->elems)
            FAIL("operator %d (%s): index row %d reaches outside the params tensor (TFLM: out of bounds)", OPN, i);
    }
    int32_t ts[2] = {in->index, idx->index};
    return ops_generic(c, k, &k_gather_nd, p, ts, 2);
}

/* ---- constant outputs, fills, casts -------------------------------------- */

static int mv_const_out(lower_ctx *c, k_call *k, const void *pattern, size_t pattern_bytes) {
    ir_tensor *out = mv_out(c);
    pexc_move_fill_params *p = ops_alloc(c, sizeof *p);
    uint8_t *pat = ops_alloc(c, pattern_bytes);
    if (!p || !pat) return -1;
    if (out->bytes > INT32_MAX || !pattern_bytes || out->bytes % pattern_bytes)
        FAIL("operator %d (%s): output of %zu bytes", OPN, out->bytes);
    memcpy(pat, pattern, pattern_bytes);
    p->bytes = (int32_t)out->bytes;
    p->pattern_bytes = (int32_t)pattern_bytes;
    p->pattern = pat;
    return ops_generic(c, k, &k_fill, p, NULL, 0);
}

static int lower_shape(lower_ctx *c, k_call *k) {
    ir_tensor *in = lower_in(c, 0), *out = mv_out(c);
    if (!in) FAIL("operator %d (%s): missing input", OPN);
    if (out->type != IR_I32) FAIL("operator %d (%s): output type %s; TFLM supports int32", OPN, ir_type_name(out->type));
    if (out->elems != in->rank) FAIL("operator %d (%s): output has %lld elements for rank %d", OPN,
                                     (long long)out->elems, in->rank);
    return mv_const_out(c, k, in->shape, sizeof(int32_t) * (size_t)in->rank);
}

static int lower_broadcast_args(lower_ctx *c, k_call *k) {
    ir_tensor *a = lower_in(c, 0), *b = lower_in(c, 1), *out = mv_out(c);
    if (!a || !b) FAIL("operator %d (%s): needs two shapes", OPN);
    if ((a->type != IR_I32 && a->type != IR_I64) || b->type != a->type || out->type != a->type)
        FAIL("operator %d (%s): shapes and output must all be int32 or all int64", OPN);
    if (a->rank != 1 || b->rank != 1 || out->rank != 1) FAIL("operator %d (%s): shapes must be 1-D", OPN);
    if (!a->data || !b->data)
        FAIL("operator %d (%s): shapes computed at run time are not supported by pexc (constants only)", OPN);
    int64_t va[16], vb[16], na, nb, r[16];
    if (lower_const_ints(c, a, va, 16, &na, "shape 1") || lower_const_ints(c, b, vb, 16, &nb, "shape 2")) return -1;
    int64_t n = out->elems;
    if (n > 16) FAIL("operator %d (%s): output of %lld values", OPN, (long long)n);
    for (int64_t i = 0; i < n; i++) {
        int64_t x = i < na ? va[na - 1 - i] : 1, y = i < nb ? vb[nb - 1 - i] : 1;
        if (x != 1 && y != 1 && x != y)
            FAIL("operator %d (%s): extents %lld and %lld do not broadcast", OPN, (long long)x, (long long)y);
        r[n - 1 - i] = x == 1 ? y : x;
    }
    if (a->type == IR_I64) return mv_const_out(c, k, r, 8 * (size_t)n);
    int32_t r32[16];
    for (int64_t i = 0; i < n; i++) r32[i] = (int32_t)r[i];
    return mv_const_out(c, k, r32, 4 * (size_t)n);
}

static int lower_fill(lower_ctx *c, k_call *k) {
    ir_tensor *dims = lower_in(c, 0), *val = lower_in(c, 1), *out = mv_out(c);
    if (!dims || !val) FAIL("operator %d (%s): needs dims and value", OPN);
    static const int32_t types[] = {IR_F32, IR_I32, IR_I8};
    if (mv_type_in(c, val, "value", types, 3) || mv_same_type(c, val, out)) return -1;
    if (val->rank != 0) FAIL("operator %d (%s): value tensor %d must be a scalar", OPN, val->index);
    int64_t d[6], n;
    if (!dims->data) FAIL("operator %d (%s): dims tensor %d is not a constant; TFLM needs one", OPN, dims->index);
    if (dims->type != IR_I32 && dims->type != IR_I64)
        FAIL("operator %d (%s): dims tensor %d is %s", OPN, dims->index, ir_type_name(dims->type));
    if (dims->rank != 1 || lower_const_ints(c, dims, d, 6, &n, "dims")) return -1;
    if (mv_shape_is(c, out, d, (int32_t)n, "output")) return -1;
    if (val->data) return mv_const_out(c, k, val->data, ir_type_size(val->type));
    mv_desc m;
    mv_init(&m, ir_type_size(val->type));
    if (out->elems > INT32_MAX || mv_axis(c, &m, (int32_t)out->elems, 0)) return -1;
    return mv_finish(c, k, &m, 1, out->elems, &val->index, 1);
}

static int lower_zeros_like(lower_ctx *c, k_call *k) {
    ir_tensor *in = lower_in(c, 0), *out = mv_out(c);
    static const int32_t types[] = {IR_I64, IR_I32, IR_I8, IR_F32};
    if (!in) FAIL("operator %d (%s): missing input", OPN);
    if (mv_type_in(c, in, "input", types, 4) || mv_same_type(c, in, out)) return -1;
    if (in->elems != out->elems) FAIL("operator %d (%s): input and output sizes differ", OPN);
    static const uint8_t zero = 0;
    return mv_const_out(c, k, &zero, 1);
}

static int32_t cast_code(int32_t t) {
    switch (t) {
    case IR_F32: return PEXC_CAST_F32;
    case IR_I32: return PEXC_CAST_I32;
    case IR_BOOL: return PEXC_CAST_BOOL;
    case IR_I16: return PEXC_CAST_I16;
    case IR_I8: return PEXC_CAST_I8;
    default: return -1;
    }
}

static int lower_cast(lower_ctx *c, k_call *k) {
    ir_tensor *in = lower_in(c, 0), *out = mv_out(c);
    if (!in) FAIL("operator %d (%s): missing input", OPN);
    int32_t from = cast_code(in->type), to = cast_code(out->type);
    /* unsigned audio types: the signal family's integer CAST (signal.c) */
    if ((from < 0 || to < 0) && (in->type == IR_U32 || out->type == IR_U32 || in->type == IR_U16 ||
                                 out->type == IR_U16))
        return 1;
    if (from < 0 || to < 0)
        FAIL("operator %d (%s): cast from %s to %s is not supported (int8, int16, int32, float32 and bool are)",
             OPN, ir_type_name(in->type), ir_type_name(out->type));
    if (in->elems != out->elems) FAIL("operator %d (%s): input and output sizes differ", OPN);
    if (in->elems > INT32_MAX) FAIL("operator %d (%s): tensor too large", OPN);
    pexc_cast_params *p = ops_alloc(c, sizeof *p);
    if (!p) return -1;
    p->count = (int32_t)in->elems;
    p->from = from;
    p->to = to;
    return ops_generic(c, k, &k_cast, p, &in->index, 1);
}

static int lower_expand_dims(lower_ctx *c, k_call *k) {
    ir_tensor *in = lower_in(c, 0), *out = mv_out(c), *ax = lower_in(c, 1);
    static const int32_t types[] = {IR_F32, IR_I16, IR_I8, IR_I32};
    if (!in || !ax) FAIL("operator %d (%s): needs input and axis", OPN);
    if (mv_type_in(c, in, "input", types, 4) || mv_same_type(c, in, out)) return -1;
    if (ax->rank > 1 || ax->elems != 1) FAIL("operator %d (%s): axis must be one value", OPN);
    int64_t a, n;
    if (mv_const_i32(c, 1, "axis", &a, 1, &n)) return -1;
    if (a < 0) a += in->rank + 1;
    if (a < 0 || a > in->rank) FAIL("operator %d (%s): axis %lld outside rank %d", OPN, (long long)a, in->rank);
    int64_t want[6];
    if (in->rank + 1 > IR_MAX_RANK) FAIL("operator %d (%s): rank %d", OPN, in->rank + 1);
    for (int32_t i = 0, j = 0; i <= in->rank; i++) want[i] = i == a ? 1 : in->shape[j++];
    if (mv_shape_is(c, out, want, in->rank + 1, "output")) return -1;
    k->kind = K_NOP;
    return 0;
}

/* ---- the cases of core operators this family takes ---------------------- */

int ops_move_claims(const ir_graph *g, const ir_op *op) {
    if (op->n_in < 1 || op->in[0] < 0 || op->n_out < 1 || op->out[0] < 0) return 0;
    const ir_tensor *in = &g->tensors[op->in[0]];
    switch (op->code) {
    case OP_PAD:
        /* the core kernel pads int8 tensors of rank 4 or less */
        return in->type != IR_I8 || in->rank > 4;
    case OP_PADV2:
        /* ... and PADV2 too when the value is a constant */
        return in->type != IR_I8 || in->rank > 4 || op->n_in < 3 || op->in[2] < 0 || !g->tensors[op->in[2]].data;
    default: return 0;
    }
}

int ops_move_lower(lower_ctx *c, k_call *k) {
    switch (c->op->code) {
    case OP_STRIDED_SLICE: return lower_strided_slice(c, k);
    case OP_SLICE: return lower_slice(c, k);
    case OP_SPLIT: case OP_SPLIT_V: return lower_split(c, k);
    case OP_PACK: return lower_pack(c, k);
    case OP_UNPACK: return lower_unpack(c, k);
    case OP_BROADCAST_TO: return lower_broadcast_to(c, k);
    case OP_SPACE_TO_DEPTH: case OP_DEPTH_TO_SPACE: return lower_depth_space(c, k);
    case OP_SPACE_TO_BATCH_ND: case OP_BATCH_TO_SPACE_ND: return lower_space_batch(c, k);
    case OP_PADV2:
        if (!ops_move_claims(c->g, c->op)) return lower_padv2_core(c, k);
        return lower_pad_any(c, k);
    case OP_MIRROR_PAD: case OP_PAD: return lower_pad_any(c, k);
    case OP_GATHER: return lower_gather(c, k);
    case OP_GATHER_ND: return lower_gather_nd(c, k);
    case OP_EMBEDDING_LOOKUP: return lower_embedding_lookup(c, k);
    case OP_REVERSE_V2: return lower_reverse(c, k);
    case OP_RESIZE_NEAREST_NEIGHBOR: return lower_resize_nn(c, k);
    case OP_EXPAND_DIMS: return lower_expand_dims(c, k);
    case OP_SHAPE: return lower_shape(c, k);
    case OP_FILL: return lower_fill(c, k);
    case OP_ZEROS_LIKE: return lower_zeros_like(c, k);
    case OP_BROADCAST_ARGS: return lower_broadcast_args(c, k);
    case OP_CAST: return lower_cast(c, k);
    default: return 1;
    }
}
