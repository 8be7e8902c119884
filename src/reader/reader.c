/*
 * The .tflite reader.
 *
 * A .tflite file is a FlatBuffer: a tree of tables, vectors and strings that
 * point at each other with 32-bit relative offsets. A hostile file can point
 * anywhere, so nothing here dereferences an offset before checking it.
 * Every object is opened through one of three gatekeepers:
 *
 *   fb_table()   checks the table's position, its vtable's position, the
 *                vtable's size and the table's inline size against the file;
 *   fb_field()   checks that a field's bytes lie inside the table's inline
 *                size (so inside the file);
 *   fb_vector()  checks a vector's length word and that length * element
 *                size bytes follow it inside the file (strings also need
 *                their NUL terminator inside the file).
 *
 * Only after a gate has passed does a typed accessor read the bytes, always
 * with memcpy (the file need not be aligned). The TFLite schema is a fixed
 * tree (model -> subgraph -> tensor/operator -> options), so the reader never
 * recurses on file contents and cannot loop on a cyclic file.
 *
 * Errors name the byte offset of the offending object and, once inside the
 * graph, the operator or tensor index.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

typedef struct {
    const uint8_t *b;
    size_t n;
    util_err *err;
} fb_file;

typedef struct {
    size_t pos;      /* table start */
    size_t vt;       /* vtable start */
    uint32_t vt_len; /* vtable bytes */
    uint32_t len;    /* table inline bytes */
} fb_tab;

typedef struct {
    size_t pos; /* first element */
    uint32_t len;
} fb_vec;

static uint32_t rd_u32(const fb_file *f, size_t at) {
    uint32_t v;
    memcpy(&v, f->b + at, 4);
    return v;
}
static uint16_t rd_u16(const fb_file *f, size_t at) {
    uint16_t v;
    memcpy(&v, f->b + at, 2);
    return v;
}

/* Puts a context prefix ("tensor 3") in front of the message already in err.
 * util_fail must not be handed err->msg itself: its vsnprintf would read the
 * buffer it is writing (overlapping copy, garbled message). */
static int fail_ctx(util_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail_ctx(util_err *err, const char *fmt, ...) {
    char inner[sizeof err->msg], prefix[128];
    memcpy(inner, err->msg, sizeof inner);
    inner[sizeof inner - 1] = '\0';
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    return util_fail(err, "%s: %s", prefix, inner);
}

static int fb_table(const fb_file *f, size_t pos, fb_tab *t, const char *what) {
    if (pos > f->n || f->n - pos < 4)
        return util_fail(f->err, "%s table at byte %zu lies outside the %zu-byte file", what, pos, f->n);
    int32_t soff = (int32_t)rd_u32(f, pos);
    int64_t vt = (int64_t)pos - (int64_t)soff;
    if (vt < 0 || (uint64_t)vt > f->n - 4 || (vt & 1))
        return util_fail(f->err, "%s table at byte %zu has a bad vtable offset (%d)", what, pos, soff);
    t->pos = pos;
    t->vt = (size_t)vt;
    t->vt_len = rd_u16(f, t->vt);
    t->len = rd_u16(f, t->vt + 2);
    if (t->vt_len < 4 || (t->vt_len & 1) || t->vt_len > f->n - t->vt)
        return util_fail(f->err, "%s table at byte %zu: vtable at byte %zu has bad size %u", what, pos, t->vt, t->vt_len);
    if (t->len < 4 || t->len > f->n - pos)
        return util_fail(f->err, "%s table at byte %zu: inline size %u runs past the end of the file", what, pos, t->len);
    return 0;
}

/* Returns the absolute byte position of field `id` of size `size`, 0 if the
 * field is absent, or -1 (error set) if it does not fit the table. */
static int64_t fb_field(const fb_file *f, const fb_tab *t, int id, uint32_t size, const char *what) {
    uint32_t slot = 4u + 2u * (uint32_t)id;
    if (slot + 2 > t->vt_len) return 0;
    uint16_t fo = rd_u16(f, t->vt + slot);
    if (fo == 0) return 0;
    if ((uint32_t)fo + size > t->len)
        return util_fail(f->err, "%s table at byte %zu: field %d (offset %u, %u bytes) lies outside the table's %u bytes",
                         what, t->pos, id, fo, size, t->len);
    return (int64_t)(t->pos + fo);
}

static int fb_i32(const fb_file *f, const fb_tab *t, int id, int32_t def, int32_t *out, const char *what) {
    int64_t at = fb_field(f, t, id, 4, what);
    if (at < 0) return -1;
    *out = at ? (int32_t)rd_u32(f, (size_t)at) : def;
    return 0;
}
static int fb_u8(const fb_file *f, const fb_tab *t, int id, uint8_t def, uint8_t *out, const char *what) {
    int64_t at = fb_field(f, t, id, 1, what);
    if (at < 0) return -1;
    *out = at ? f->b[at] : def;
    return 0;
}
static int fb_f32(const fb_file *f, const fb_tab *t, int id, float def, float *out, const char *what) {
    int64_t at = fb_field(f, t, id, 4, what);
    if (at < 0) return -1;
    if (at) memcpy(out, f->b + at, 4);
    else *out = def;
    return 0;
}
static int fb_u64(const fb_file *f, const fb_tab *t, int id, uint64_t *out, const char *what) {
    int64_t at = fb_field(f, t, id, 8, what);
    if (at < 0) return -1;
    *out = 0;
    if (at) memcpy(out, f->b + at, 8);
    return 0;
}

/* Follows the offset stored in field `id`. Returns 1 and *target if present,
 * 0 if absent, -1 on a bad offset. */
static int fb_ref(const fb_file *f, const fb_tab *t, int id, size_t *target, const char *what) {
    int64_t at = fb_field(f, t, id, 4, what);
    if (at <= 0) return (int)at;
    uint64_t tgt = (uint64_t)at + rd_u32(f, (size_t)at);
    if (tgt >= f->n)
        return util_fail(f->err, "%s table at byte %zu: field %d points to byte %llu, past the end of the %zu-byte file",
                         what, t->pos, id, (unsigned long long)tgt, f->n);
    *target = (size_t)tgt;
    return 1;
}

static int fb_vector_at(const fb_file *f, size_t at, uint32_t elem, fb_vec *v, const char *what) {
    if (at > f->n || f->n - at < 4)
        return util_fail(f->err, "%s vector at byte %zu: length word outside the file", what, at);
    v->len = rd_u32(f, at);
    v->pos = at + 4;
    if ((uint64_t)v->len * elem > f->n - v->pos)
        return util_fail(f->err, "%s vector at byte %zu: %u elements of %u bytes run past the end of the file",
                         what, at, v->len, elem);
    return 0;
}

/* Vector in field `id`; absent -> len 0. */
static int fb_vector(const fb_file *f, const fb_tab *t, int id, uint32_t elem, fb_vec *v, const char *what) {
    size_t at = 0;
    v->len = 0;
    v->pos = 0;
    int r = fb_ref(f, t, id, &at, what);
    if (r <= 0) return r;
    return fb_vector_at(f, at, elem, v, what);
}

/* Table element i of a vector of tables. */
static int fb_vec_table(const fb_file *f, const fb_vec *v, uint32_t i, fb_tab *t, const char *what) {
    size_t at = v->pos + (size_t)i * 4;
    uint64_t tgt = (uint64_t)at + rd_u32(f, at);
    if (tgt >= f->n)
        return util_fail(f->err, "%s %u: offset points to byte %llu, past the end of the file", what, i,
                         (unsigned long long)tgt);
    if (fb_table(f, (size_t)tgt, t, what)) return fail_ctx(f->err, "%s %u", what, i);
    return 0;
}

static int32_t vec_i32(const fb_file *f, const fb_vec *v, uint32_t i) {
    return (int32_t)rd_u32(f, v->pos + (size_t)i * 4);
}

/* Copies a string field into the arena (NULL if absent). */
static int fb_string(const fb_file *f, const fb_tab *t, int id, util_arena *a, const char **out, const char *what) {
    fb_vec v;
    *out = NULL;
    if (fb_vector(f, t, id, 1, &v, what) != 0) return -1;
    if (v.pos == 0) return 0;
    if (v.len >= f->n - v.pos)
        return util_fail(f->err, "%s string at byte %zu has no terminator inside the file", what, v.pos - 4);
    uint32_t keep = v.len > 255 ? 255 : v.len;
    char *s = util_alloc(a, keep + 1);
    if (!s) return util_fail(f->err, "out of memory reading %s string", what);
    memcpy(s, f->b + v.pos, keep);
    for (uint32_t i = 0; i < keep; i++)
        if ((unsigned char)s[i] < 32 || (unsigned char)s[i] > 126) s[i] = '?';
    *out = s;
    return 0;
}

typedef struct {
    const uint8_t *data;
    size_t len;
} rd_buffer;

typedef struct {
    int32_t code;
    int32_t version;
    const char *custom;
} rd_opcode;

static int read_buffers(const fb_file *f, const fb_tab *model, util_arena *a, rd_buffer **out, uint32_t *n) {
    fb_vec v;
    if (fb_vector(f, model, 4, 4, &v, "model.buffers") != 0) return -1;
    *n = v.len;
    *out = util_alloc(a, sizeof(rd_buffer) * (v.len ? v.len : 1));
    if (!*out) return util_fail(f->err, "out of memory: %u buffers", v.len);
    for (uint32_t i = 0; i < v.len; i++) {
        fb_tab b;
        if (fb_vec_table(f, &v, i, &b, "buffer") != 0) return -1;
        fb_vec d;
        if (fb_vector(f, &b, 0, 1, &d, "buffer.data") != 0) return -1;
        (*out)[i].data = d.len ? f->b + d.pos : NULL;
        (*out)[i].len = d.len;
        if (!d.len) {
            uint64_t off, size;
            if (fb_u64(f, &b, 1, &off, "buffer") || fb_u64(f, &b, 2, &size, "buffer")) return -1;
            if (off > 1 && size > 0) {
                if (off > f->n || size > f->n - off)
                    return util_fail(f->err, "buffer %u: external data [%llu, +%llu) lies outside the %zu-byte file",
                                     i, (unsigned long long)off, (unsigned long long)size, f->n);
                (*out)[i].data = f->b + off;
                (*out)[i].len = (size_t)size;
            }
        }
    }
    return 0;
}

static int read_opcodes(const fb_file *f, const fb_tab *model, util_arena *a, rd_opcode **out, uint32_t *n) {
    fb_vec v;
    if (fb_vector(f, model, 1, 4, &v, "model.operator_codes") != 0) return -1;
    *n = v.len;
    *out = util_alloc(a, sizeof(rd_opcode) * (v.len ? v.len : 1));
    if (!*out) return util_fail(f->err, "out of memory: %u operator codes", v.len);
    for (uint32_t i = 0; i < v.len; i++) {
        fb_tab c;
        uint8_t dep;
        int32_t code, ver;
        if (fb_vec_table(f, &v, i, &c, "operator_code")) return -1;
        if (fb_u8(f, &c, 0, 0, &dep, "operator_code") || fb_i32(f, &c, 2, 1, &ver, "operator_code") ||
            fb_i32(f, &c, 3, 0, &code, "operator_code"))
            return -1;
        int32_t d = (int8_t)dep;
        (*out)[i].code = code > d ? code : d;
        (*out)[i].version = ver;
        if (fb_string(f, &c, 1, a, &(*out)[i].custom, "operator_code.custom_code")) return -1;
    }
    return 0;
}

static int read_tensor(const fb_file *f, const fb_tab *t, int32_t idx, ir_graph *g, const rd_buffer *bufs,
                       uint32_t n_bufs) {
    ir_tensor *x = &g->tensors[idx];
    util_err *err = f->err;
    x->index = idx;
    x->producer = -1;
    fb_vec shape;
    uint8_t type;
    int32_t buf;
    if (fb_vector(f, t, 0, 4, &shape, "tensor.shape") || fb_u8(f, t, 1, 0, &type, "tensor") ||
        fb_i32(f, t, 2, 0, &buf, "tensor") || fb_string(f, t, 3, &g->arena, &x->name, "tensor.name"))
        return fail_ctx(err, "tensor %d", idx);
    if (!x->name) x->name = "";
    /* converter names join every fused layer's name and can fill the
     * message before the field and value at fault: messages show the
     * first 64 characters */
    char nm[72];
    snprintf(nm, sizeof nm, "%.64s%s", x->name, strlen(x->name) > 64 ? "..." : "");
    if (shape.len > IR_MAX_RANK)
        return util_fail(err, "tensor %d (%s): rank %u exceeds the supported %d", idx, nm, shape.len, IR_MAX_RANK);
    x->rank = (int32_t)shape.len;
    x->type = type;
    x->elems = 1;
    for (uint32_t i = 0; i < shape.len; i++) {
        int32_t d = vec_i32(f, &shape, i);
        if (d < 0)
            return util_fail(err, "tensor %d (%s): dimension %u is %d; pexc needs static shapes", idx, nm, i, d);
        x->shape[i] = d;
        if (d > 0 && x->elems > ((int64_t)1 << 40) / d)
            return util_fail(err, "tensor %d (%s): element count overflows (dimension %u = %d)", idx, nm, i, d);
        x->elems *= d;
    }
    /* A type pexc cannot size gets 0 bytes; lowering refuses any supported
     * operator that touches it, and unsupported operators are refused first. */
    size_t es = ir_type_size(type);
    if (es > 0 && x->elems > ((int64_t)1 << 30) / (int64_t)es)
        return util_fail(err, "tensor %d (%s): %lld elements of %zu bytes exceed the 1 GiB tensor limit", idx, nm,
                         (long long)x->elems, es);
    x->bytes = (size_t)x->elems * es;
    if ((uint32_t)buf >= n_bufs && buf != 0)
        return util_fail(err, "tensor %d (%s): buffer index %u out of range (%u buffers)", idx, nm, (uint32_t)buf,
                         n_bufs);
    uint8_t var;
    if (fb_u8(f, t, 5, 0, &var, "tensor")) return fail_ctx(err, "tensor %d", idx);
    x->is_variable = var != 0;
    if (buf > 0 && bufs[buf].len > 0 && !x->is_variable) {
        if (bufs[buf].len != x->bytes)
            return util_fail(err, "tensor %d (%s): constant buffer %d holds %zu bytes, shape needs %zu", idx, nm,
                             buf, bufs[buf].len, x->bytes);
        x->data = bufs[buf].data;
    }
    /* quantisation */
    size_t qpos;
    fb_tab q;
    int r = fb_ref(f, t, 4, &qpos, "tensor");
    if (r < 0) return fail_ctx(err, "tensor %d", idx);
    if (r == 1) {
        fb_vec sc, zp;
        if (fb_table(f, qpos, &q, "quantization") || fb_vector(f, &q, 2, 4, &sc, "quantization.scale") ||
            fb_vector(f, &q, 3, 8, &zp, "quantization.zero_point") ||
            fb_i32(f, &q, 6, 0, &x->q_dim, "quantization"))
            return fail_ctx(err, "tensor %d", idx);
        if (sc.len != zp.len && zp.len != 0)
            return util_fail(err, "tensor %d (%s): %u scales but %u zero points", idx, nm, sc.len, zp.len);
        /* TFLM (micro_allocator.cc) treats a tensor as quantised only when
         * both the scale and the zero-point vectors are non-empty */
        if (sc.len > 0 && zp.len == 0)
            return util_fail(err, "tensor %d (%s): quantization has %u scales and no zero points", idx, nm,
                             sc.len);
        if (sc.len > 0) {
            if (sc.len > 1 && (int64_t)sc.len > x->elems)
                return util_fail(err, "tensor %d (%s): %u per-channel scales for %lld elements", idx, nm,
                                 sc.len, (long long)x->elems);
            float *s = util_alloc(&g->arena, 4 * sc.len);
            int64_t *z = util_alloc(&g->arena, 8 * sc.len);
            if (!s || !z) return util_fail(err, "out of memory");
            memcpy(s, f->b + sc.pos, 4 * (size_t)sc.len);
            if (zp.len) memcpy(z, f->b + zp.pos, 8 * (size_t)zp.len);
            for (uint32_t i = 0; i < sc.len; i++) {
                if (!(s[i] > 0.0f) || !isfinite(s[i]))
                    return util_fail(err, "tensor %d (%s): quantization scale %u is %g; must be positive", idx,
                                     nm, i, (double)s[i]);
                if (z[i] < -32768 || z[i] > 65535)
                    return util_fail(err, "tensor %d (%s): zero point %lld out of range", idx, nm,
                                     (long long)z[i]);
            }
            x->nq = (int32_t)sc.len;
            x->scale = s;
            x->zero_point = z;
        }
    }
    size_t sp;
    r = fb_ref(f, t, 6, &sp, "tensor");
    if (r < 0) return fail_ctx(err, "tensor %d", idx);
    if (r == 1) return util_fail(err, "tensor %d (%s): sparse tensors are not supported", idx, nm);
    return 0;
}

/* Options tables: which union type carries the fields we read. */
static int read_options(const fb_file *f, const fb_tab *opt_tab, uint8_t utype, ir_op *op) {
    const char *on = ir_op_name(op->code);
    uint8_t want = 0;
    switch (op->code) {
    case OP_CONV_2D: want = 1; break;
    case OP_DEPTHWISE_CONV_2D: want = 2; break;
    case OP_AVERAGE_POOL_2D:
    case OP_MAX_POOL_2D: want = 5; break;
    case OP_FULLY_CONNECTED: want = 8; break;
    case OP_SOFTMAX: want = 9; break;
    case OP_CONCATENATION: want = 10; break;
    case OP_ADD: want = 11; break;
    case OP_MUL: want = 21; break;
    case OP_MEAN: want = 27; break;
    default: return 0; /* options unused */
    }
    ir_options *o = &op->opt;
    /* absent fields take the schema's defaults (schema.fbs), as TFLM's
     * flatbuffer parsing does: dilations 1, everything else 0 */
    o->dilation_w = o->dilation_h = 1;
    if (!opt_tab) {
        if (op->code == OP_FULLY_CONNECTED || op->code == OP_ADD || op->code == OP_MUL || op->code == OP_MEAN)
            return 0; /* all-default options are legal */
        return util_fail(f->err, "operator %d (%s): missing builtin options", op->index, on);
    }
    if (utype != want)
        return util_fail(f->err, "operator %d (%s): builtin options have union type %u, expected %u", op->index, on,
                         utype, want);
    uint8_t u8;
    const fb_tab *t = opt_tab;
    int e = 0;
    switch (op->code) {
    case OP_CONV_2D:
        e |= fb_u8(f, t, 0, 0, &u8, on); o->padding = u8;
        e |= fb_i32(f, t, 1, 0, &o->stride_w, on);
        e |= fb_i32(f, t, 2, 0, &o->stride_h, on);
        e |= fb_u8(f, t, 3, 0, &u8, on); o->activation = u8;
        e |= fb_i32(f, t, 4, 1, &o->dilation_w, on);
        e |= fb_i32(f, t, 5, 1, &o->dilation_h, on);
        break;
    case OP_DEPTHWISE_CONV_2D:
        e |= fb_u8(f, t, 0, 0, &u8, on); o->padding = u8;
        e |= fb_i32(f, t, 1, 0, &o->stride_w, on);
        e |= fb_i32(f, t, 2, 0, &o->stride_h, on);
        e |= fb_i32(f, t, 3, 0, &o->depth_multiplier, on);
        e |= fb_u8(f, t, 4, 0, &u8, on); o->activation = u8;
        e |= fb_i32(f, t, 5, 1, &o->dilation_w, on);
        e |= fb_i32(f, t, 6, 1, &o->dilation_h, on);
        break;
    case OP_AVERAGE_POOL_2D:
    case OP_MAX_POOL_2D:
        e |= fb_u8(f, t, 0, 0, &u8, on); o->padding = u8;
        e |= fb_i32(f, t, 1, 0, &o->stride_w, on);
        e |= fb_i32(f, t, 2, 0, &o->stride_h, on);
        e |= fb_i32(f, t, 3, 0, &o->filter_w, on);
        e |= fb_i32(f, t, 4, 0, &o->filter_h, on);
        e |= fb_u8(f, t, 5, 0, &u8, on); o->activation = u8;
        break;
    case OP_FULLY_CONNECTED:
        e |= fb_u8(f, t, 0, 0, &u8, on); o->activation = u8;
        e |= fb_u8(f, t, 1, 0, &u8, on); o->weights_format = u8;
        e |= fb_u8(f, t, 2, 0, &u8, on); o->keep_dims = u8;
        break;
    case OP_SOFTMAX: e |= fb_f32(f, t, 0, 0.0f, &o->beta, on); break;
    case OP_CONCATENATION:
        e |= fb_i32(f, t, 0, 0, &o->axis, on);
        e |= fb_u8(f, t, 1, 0, &u8, on); o->activation = u8;
        break;
    case OP_ADD:
    case OP_MUL: e |= fb_u8(f, t, 0, 0, &u8, on); o->activation = u8; break;
    case OP_MEAN: e |= fb_u8(f, t, 0, 0, &u8, on); o->keep_dims = u8; break;
    default: break;
    }
    if (e) return fail_ctx(f->err, "operator %d (%s)", op->index, on);
    op->has_opt = 1;
    return 0;
}

static int read_index_vec(const fb_file *f, const fb_tab *t, int id, util_arena *a, int32_t **out, int32_t *n,
                          int32_t n_tensors, const char *what, int32_t op) {
    fb_vec v;
    if (fb_vector(f, t, id, 4, &v, what)) return op < 0 ? -1 : fail_ctx(f->err, "operator %d", op);
    if (v.len > 1024) {
        if (op < 0) return util_fail(f->err, "%u %s (limit 1024)", v.len, what);
        return util_fail(f->err, "operator %d: %u %s (limit 1024)", op, v.len, what);
    }
    *n = (int32_t)v.len;
    *out = util_alloc(a, 4 * (v.len ? v.len : 1));
    if (!*out) return util_fail(f->err, "out of memory");
    for (uint32_t i = 0; i < v.len; i++) {
        int32_t ti = vec_i32(f, &v, i);
        if (ti < -1 || ti >= n_tensors)
            return op < 0 ? util_fail(f->err, "%s[%u] = %d is not a tensor index (model has %d tensors)", what, i, ti,
                                      n_tensors)
                          : util_fail(f->err, "operator %d: %s[%u] = %d is not a tensor index (model has %d tensors)",
                                      op, what, i, ti, n_tensors);
        (*out)[i] = ti;
    }
    return 0;
}

/* Operator i of the operator vector ov (of a subgraph with n_tensors
 * tensors) into op: code, operands, the options pexc keeps, where the rest
 * of its options lie in the file. */
static int read_operator(const fb_file *f, const fb_vec *ov, uint32_t i, util_arena *a, int32_t n_tensors,
                         const rd_opcode *codes, uint32_t n_codes, ir_op *op) {
    util_err *err = f->err;
    op->index = (int32_t)i;
    fb_tab t;
    if (fb_vec_table(f, ov, i, &t, "operator")) return -1;
    int32_t oc;
    if (fb_i32(f, &t, 0, 0, &oc, "operator")) return fail_ctx(err, "operator %u", i);
    if ((uint32_t)oc >= n_codes)
        return util_fail(err, "operator %u: opcode_index %u out of range (%u operator codes)", i, (uint32_t)oc,
                         n_codes);
    op->code = codes[oc].code;
    op->version = codes[oc].version;
    op->custom_name = codes[oc].custom;
    if (read_index_vec(f, &t, 1, a, &op->in, &op->n_in, n_tensors, "inputs", op->index) ||
        read_index_vec(f, &t, 2, a, &op->out, &op->n_out, n_tensors, "outputs", op->index))
        return -1;
    uint8_t utype;
    size_t opos;
    if (fb_u8(f, &t, 3, 0, &utype, "operator")) return fail_ctx(err, "operator %u", i);
    int r = fb_ref(f, &t, 4, &opos, "operator");
    if (r < 0) return fail_ctx(err, "operator %u", i);
    fb_tab ot;
    if (r == 1 && fb_table(f, opos, &ot, "builtin_options")) return fail_ctx(err, "operator %u", i);
    if (read_options(f, r == 1 ? &ot : NULL, utype, op)) return -1;
    op->opt_type = utype;
    op->opt_pos = r == 1 ? opos : 0;
    fb_vec co;
    if (fb_vector(f, &t, 5, 1, &co, "operator.custom_options")) return fail_ctx(err, "operator %u", i);
    op->custom_opt = co.len ? f->b + co.pos : NULL;
    op->custom_opt_len = co.len;
    op->src_index = op->index;
    op->n_parts = 1;
    return 0;
}

/* ---- resource variables ------------------------------------------------
 *
 * A Keras or tf.Module variable reaches the file as a resource: VAR_HANDLE
 * names it (container, shared_name), READ_VARIABLE copies its value out,
 * ASSIGN_VARIABLE copies a value in, and the converter puts the initial
 * value in a second subgraph that the main one runs once through
 * CALL_ONCE. TFLM sizes a variable by the first ASSIGN_VARIABLE it
 * prepares (main subgraph first), fills it with that tensor's zero point,
 * lets CALL_ONCE's subgraph assign the initial value on the first Invoke(),
 * and at Reset() fills it with the zero point again without rerunning the
 * init subgraph.
 *
 * pexc folds all of this away here, before anything else sees the graph:
 * every variable becomes a variable tensor of the main graph (the LSTM's
 * state machinery: one buffer for the whole plan, filled at open and
 * reset), its initial bytes are computed now from the init subgraph, which
 * may only assign constants, READ_VARIABLE reads that tensor and
 * ASSIGN_VARIABLE writes it as its one output. VAR_HANDLE and CALL_ONCE
 * then have nothing left to do and are dropped. */

enum { OPT_CALL_ONCE = 103, OPT_VAR_HANDLE = 111 };

typedef struct {
    const char *container, *shared;
    int32_t value;          /* main-graph tensor that sizes it, or -1 */
    const ir_tensor *shape; /* the tensor that sizes it (main or init) */
    const uint8_t *init;    /* initial bytes from the init subgraph */
    int32_t assigns;        /* ASSIGN_VARIABLE operators in the main graph */
    int32_t tensor;         /* its variable tensor in the rewritten graph */
} rd_var;

/* TFLM's MicroResourceVariables::FindId: an absent container matches any. */
static int32_t var_find(rd_var *v, int32_t *n, const char *container, const char *shared) {
    if (!shared) shared = "";
    for (int32_t i = 0; i < *n; i++)
        if ((!container || (v[i].container && !strcmp(container, v[i].container))) && !strcmp(shared, v[i].shared))
            return i;
    v[*n] = (rd_var){container, shared, -1, NULL, NULL, 0, -1};
    return (*n)++;
}

/* A VAR_HANDLE's names (VarHandleOptions) or CALL_ONCE's init subgraph
 * (CallOnceOptions), from the operator table t. */
static int var_handle_names(const fb_file *f, util_arena *a, const fb_tab *op_t, int32_t where, int32_t opi,
                            const char **container, const char **shared) {
    uint8_t utype;
    size_t opos;
    fb_tab ot;
    *container = *shared = NULL;
    if (fb_u8(f, op_t, 3, 0, &utype, "operator")) return -1;
    int r = fb_ref(f, op_t, 4, &opos, "operator");
    if (r < 0) return -1;
    if (r == 0) return 0;
    if (utype != OPT_VAR_HANDLE)
        return util_fail(f->err, "subgraph %d operator %d (VAR_HANDLE): builtin options have union type %u, expected %d",
                         where, opi, utype, OPT_VAR_HANDLE);
    if (fb_table(f, opos, &ot, "VarHandleOptions") || fb_string(f, &ot, 0, a, container, "container") ||
        fb_string(f, &ot, 1, a, shared, "shared_name"))
        return -1;
    return 0;
}

/* Runs init subgraph s on the host: VAR_HANDLE and ASSIGN_VARIABLE of
 * constants only, anything else is refused. */
static int read_init_subgraph(const fb_file *f, const fb_vec *subs, uint32_t s, ir_graph *g, const rd_buffer *bufs,
                              uint32_t n_bufs, const rd_opcode *codes, uint32_t n_codes, rd_var *vars,
                              int32_t *n_vars, int32_t max_vars) {
    util_err *err = f->err;
    fb_tab sg;
    fb_vec tv, ov;
    if (fb_vec_table(f, subs, s, &sg, "subgraph") || fb_vector(f, &sg, 0, 4, &tv, "subgraph.tensors") ||
        fb_vector(f, &sg, 3, 4, &ov, "subgraph.operators"))
        return -1;
    if (tv.len > 10000 || ov.len > 10000)
        return util_fail(err, "init subgraph %u has %u tensors and %u operators; limits 10000", s, tv.len, ov.len);
    /* read_tensor fills g->tensors[i] and allocates from g->arena: lend it
     * a table of this subgraph's own for the duration */
    ir_tensor *main_t = g->tensors;
    int32_t main_n = g->n_tensors;
    ir_tensor *st = util_alloc(&g->arena, sizeof(ir_tensor) * (tv.len ? tv.len : 1));
    int32_t *res = util_alloc(&g->arena, sizeof(int32_t) * (tv.len ? tv.len : 1));
    if (!st || !res) return util_fail(err, "out of memory");
    g->tensors = st;
    g->n_tensors = (int32_t)tv.len;
    int rc = 0;
    for (uint32_t i = 0; i < tv.len && !rc; i++) {
        fb_tab t;
        res[i] = -1;
        rc = fb_vec_table(f, &tv, i, &t, "tensor") || read_tensor(f, &t, (int32_t)i, g, bufs, n_bufs);
    }
    g->tensors = main_t;
    g->n_tensors = main_n;
    if (rc) return fail_ctx(err, "init subgraph %u", s);
    for (uint32_t i = 0; i < ov.len; i++) {
        fb_tab t;
        int32_t oc, n_in, n_out, *in, *out;
        if (fb_vec_table(f, &ov, i, &t, "operator") || fb_i32(f, &t, 0, 0, &oc, "operator"))
            return fail_ctx(err, "init subgraph %u operator %u", s, i);
        if ((uint32_t)oc >= n_codes)
            return util_fail(err, "init subgraph %u operator %u: opcode_index %d out of range", s, i, oc);
        if (read_index_vec(f, &t, 1, &g->arena, &in, &n_in, (int32_t)tv.len, "inputs", (int32_t)i) ||
            read_index_vec(f, &t, 2, &g->arena, &out, &n_out, (int32_t)tv.len, "outputs", (int32_t)i))
            return fail_ctx(err, "init subgraph %u", s);
        int32_t code = codes[oc].code;
        if (code == OP_VAR_HANDLE) {
            const char *cn, *sn;
            if (n_out != 1 || out[0] < 0)
                return util_fail(err, "init subgraph %u operator %u (VAR_HANDLE): %d outputs; TFLM writes one", s, i,
                                 n_out);
            if (var_handle_names(f, &g->arena, &t, (int32_t)s, (int32_t)i, &cn, &sn)) return -1;
            if (*n_vars >= max_vars)
                return util_fail(err, "init subgraph %u operator %u (VAR_HANDLE): more than %d variables", s, i,
                                 max_vars);
            res[out[0]] = var_find(vars, n_vars, cn, sn);
        } else if (code == OP_ASSIGN_VARIABLE) {
            if (n_in != 2 || in[0] < 0 || in[1] < 0 || res[in[0]] < 0)
                return util_fail(err, "init subgraph %u operator %u (ASSIGN_VARIABLE): its resource does not come "
                                      "from a VAR_HANDLE of this subgraph",
                                 s, i);
            const ir_tensor *v = &st[in[1]];
            if (!v->data)
                return util_fail(err, "init subgraph %u operator %u (ASSIGN_VARIABLE): value tensor %d (%s) is not a "
                                      "constant; pexc evaluates init subgraphs at compile time and needs constants",
                                 s, i, in[1], v->name);
            rd_var *x = &vars[res[in[0]]];
            if (!x->shape) x->shape = v;
            if (x->shape->bytes != v->bytes || x->shape->type != v->type)
                return util_fail(err, "init subgraph %u operator %u (ASSIGN_VARIABLE): variable %s is %s of %zu "
                                      "bytes, the initial value %s of %zu bytes; pexc needs one shape per variable",
                                 s, i, x->shared, ir_type_name(x->shape->type), x->shape->bytes,
                                 ir_type_name(v->type), v->bytes);
            x->init = v->data;
        } else {
            return util_fail(err, "init subgraph %u operator %u (%s): pexc evaluates CALL_ONCE init subgraphs at "
                                  "compile time and runs only VAR_HANDLE and ASSIGN_VARIABLE of constants there",
                             s, i, ir_op_name(code));
        }
    }
    return 0;
}

/* Marks in mark[] every subgraph that a WHILE (cond, body) or IF (then,
 * else) operator of any subgraph names: src/ir/inline.c inlines them, so
 * they are neither init subgraphs nor left unused. An index that names
 * no other subgraph is refused here, with the operator. */
static int mark_control_targets(const fb_file *f, const fb_vec *subs, const rd_opcode *codes, uint32_t n_codes,
                                uint8_t *mark) {
    for (uint32_t s = 0; s < subs->len; s++) {
        fb_tab sg;
        fb_vec ov;
        if (fb_vec_table(f, subs, s, &sg, "subgraph") || fb_vector(f, &sg, 3, 4, &ov, "subgraph.operators"))
            return fail_ctx(f->err, "model has %u subgraphs", subs->len);
        for (uint32_t i = 0; i < ov.len; i++) {
            fb_tab t, ot;
            int32_t oc, a, b;
            size_t opos;
            if (fb_vec_table(f, &ov, i, &t, "operator") || fb_i32(f, &t, 0, 0, &oc, "operator"))
                return fail_ctx(f->err, "subgraph %u operator %u", s, i);
            if ((uint32_t)oc >= n_codes || (codes[oc].code != OP_WHILE && codes[oc].code != OP_IF)) continue;
            int w = codes[oc].code == OP_WHILE;
            char where[48] = "";
            if (s) snprintf(where, sizeof where, "subgraph %u ", s);
            uint8_t utype;
            if (fb_u8(f, &t, 3, 0, &utype, "operator")) return fail_ctx(f->err, "%soperator %u", where, i);
            int r = fb_ref(f, &t, 4, &opos, "operator");
            if (r < 0) return fail_ctx(f->err, "%soperator %u", where, i);
            if (r == 0 || utype != (w ? 93 : 92))
                return util_fail(f->err, "%soperator %u (%s): no %s (builtin options of union type %u); TFLM needs "
                                         "its subgraph indices",
                                 where, i, w ? "WHILE" : "IF", w ? "WhileOptions" : "IfOptions", r ? utype : 0);
            if (fb_table(f, opos, &ot, "builtin_options") || fb_i32(f, &ot, 0, 0, &a, "options") ||
                fb_i32(f, &ot, 1, 0, &b, "options"))
                return fail_ctx(f->err, "%soperator %u", where, i);
            int32_t idx[2] = {a, b};
            for (int k = 0; k < 2; k++) {
                if (idx[k] >= 1 && (uint32_t)idx[k] < subs->len) continue;
                return util_fail(f->err, "%soperator %u (%s): %s_subgraph_index %d; the model has subgraphs 1 to %u "
                                         "besides the main one",
                                 where, i, w ? "WHILE" : "IF", w ? (k ? "body" : "cond") : (k ? "else" : "then"),
                                 idx[k], subs->len - 1);
            }
            for (int k = 0; k < 2; k++) {
                mark[idx[k]] = 1;
            }
        }
    }
    return 0;
}

static int read_resources(const fb_file *f, const fb_vec *subs, ir_graph *g, const rd_buffer *bufs,
                          uint32_t n_bufs, const rd_opcode *codes, uint32_t n_codes) {
    util_err *err = f->err;
    int any = subs->len > 1;
    for (int32_t i = 0; i < g->n_ops; i++) {
        int32_t c = g->ops[i].code;
        if (c == OP_VAR_HANDLE || c == OP_READ_VARIABLE || c == OP_ASSIGN_VARIABLE || c == OP_CALL_ONCE) any = 1;
    }
    if (!any) return 0;
    const int32_t max_vars = g->n_ops + 64;
    rd_var *vars = util_alloc(&g->arena, sizeof(rd_var) * (size_t)max_vars);
    int32_t *res = util_alloc(&g->arena, sizeof(int32_t) * (size_t)(g->n_tensors ? g->n_tensors : 1));
    uint8_t *called = util_alloc(&g->arena, subs->len);
    if (!vars || !res || !called) return util_fail(err, "out of memory");
    for (int32_t i = 0; i < g->n_tensors; i++) res[i] = -1;
    int32_t n_vars = 0, n_kept = 0;
    fb_tab sg;
    fb_vec ov;
    if (fb_vec_table(f, subs, 0, &sg, "subgraph") || fb_vector(f, &sg, 3, 4, &ov, "subgraph.operators")) return -1;
    for (int32_t i = 0; i < g->n_ops; i++) {
        ir_op *op = &g->ops[i];
        const char *on = ir_op_name(op->code);
        switch (op->code) {
        case OP_VAR_HANDLE: {
            fb_tab t;
            const char *cn, *sn;
            if (op->n_out != 1 || op->n_in != 0)
                return util_fail(err, "operator %d (%s): %d inputs and %d outputs; TFLM takes none and writes one",
                                 op->index, on, op->n_in, op->n_out);
            if (fb_vec_table(f, &ov, (uint32_t)i, &t, "operator") ||
                var_handle_names(f, &g->arena, &t, 0, op->index, &cn, &sn))
                return -1;
            res[op->out[0]] = var_find(vars, &n_vars, cn, sn);
            continue; /* dropped: the variable tensor stands for it */
        }
        case OP_CALL_ONCE: {
            int32_t s;
            if (reader_opt_int(g, op, OPT_CALL_ONCE, 0, 4, 0, &s, err)) return -1;
            if (s < 1 || (uint32_t)s >= subs->len)
                return util_fail(err, "operator %d (CALL_ONCE): init_subgraph_index %d; the model has subgraphs 0 to "
                                      "%u and pexc runs only subgraphs other than the main one as init subgraphs",
                                 op->index, s, subs->len - 1);
            called[s] = 1;
            continue; /* run now, at compile time (below) */
        }
        case OP_READ_VARIABLE:
        case OP_ASSIGN_VARIABLE: {
            int32_t need = op->code == OP_READ_VARIABLE ? 1 : 2, nout = op->code == OP_READ_VARIABLE ? 1 : 0;
            if (op->n_in != need || op->n_out != nout)
                return util_fail(err, "operator %d (%s): %d inputs and %d outputs; TFLM requires %d and %d",
                                 op->index, on, op->n_in, op->n_out, need, nout);
            if (op->in[0] < 0 || res[op->in[0]] < 0)
                return util_fail(err, "operator %d (%s): resource tensor %d does not come from an earlier VAR_HANDLE",
                                 op->index, on, op->in[0]);
            if (op->code == OP_ASSIGN_VARIABLE) {
                rd_var *x = &vars[res[op->in[0]]];
                if (op->in[1] < 0) return util_fail(err, "operator %d (%s): value input is -1", op->index, on);
                const ir_tensor *v = &g->tensors[op->in[1]];
                if (x->value < 0) {
                    x->value = op->in[1];
                    x->shape = v;
                }
                if (x->shape->bytes != v->bytes || x->shape->type != v->type)
                    return util_fail(err, "operator %d (%s): variable %s is %s of %zu bytes, value tensor %d (%s) %s "
                                          "of %zu bytes; pexc needs one shape per variable",
                                     op->index, on, x->shared, ir_type_name(x->shape->type), x->shape->bytes,
                                     v->index, v->name, ir_type_name(v->type), v->bytes);
                if (++x->assigns > 1)
                    return util_fail(err, "operator %d (%s): variable %s is assigned twice in one run; pexc supports "
                                          "one ASSIGN_VARIABLE per variable",
                                     op->index, on, x->shared);
            }
            break;
        }
        default: break;
        }
        n_kept++;
    }
    uint8_t *branch = util_alloc(&g->arena, subs->len);
    if (!branch) return util_fail(err, "out of memory");
    if (mark_control_targets(f, subs, codes, n_codes, branch)) return -1;
    for (uint32_t s = 1; s < subs->len; s++) {
        if (branch[s] && called[s])
            return util_fail(err, "subgraph %u is both a CALL_ONCE init subgraph and a WHILE or IF branch; pexc "
                                  "evaluates init subgraphs at compile time and inlines branches, not both",
                             s);
        if (branch[s]) continue; /* inlined where it is called (src/ir/inline.c) */
        if (!called[s])
            return util_fail(err, "model has %u subgraphs and subgraph %u is not a CALL_ONCE init subgraph nor a "
                                  "WHILE or IF branch; pexc compiles only the main subgraph and those",
                             subs->len, s);
        if (read_init_subgraph(f, subs, s, g, bufs, n_bufs, codes, n_codes, vars, &n_vars, max_vars)) return -1;
    }
    /* the variables become tensors n_tensors.. of the main graph */
    ir_tensor *t = util_alloc(&g->arena, sizeof(ir_tensor) * (size_t)(g->n_tensors + n_vars));
    ir_op *ops = util_alloc(&g->arena, sizeof(ir_op) * (size_t)(n_kept ? n_kept : 1));
    if (!t || !ops) return util_fail(err, "out of memory");
    memcpy(t, g->tensors, sizeof(ir_tensor) * (size_t)g->n_tensors);
    for (int32_t v = 0; v < n_vars; v++) {
        rd_var *x = &vars[v];
        int32_t ti = g->n_tensors + v;
        x->tensor = ti;
        if (!x->shape) {
            /* never assigned: TFLM never allocates its buffer */
            t[ti] = (ir_tensor){.index = ti, .name = x->shared, .producer = -1};
            continue;
        }
        t[ti] = *x->shape;
        t[ti].index = ti;
        t[ti].name = x->shared;
        t[ti].data = NULL;
        t[ti].is_input = t[ti].is_output = 0;
        t[ti].is_variable = 1;
        t[ti].producer = -1;
        t[ti].init = x->init;
    }
    int32_t k = 0;
    for (int32_t i = 0; i < g->n_ops; i++) {
        ir_op *op = &g->ops[i];
        if (op->code == OP_VAR_HANDLE || op->code == OP_CALL_ONCE) continue;
        /* later stages index g->ops by op->index: it becomes the position,
         * src_index keeps the model's operator index */
        ops[k] = *op;
        ops[k].index = k;
        ops[k].src_index = op->index;
        if (op->code == OP_READ_VARIABLE || op->code == OP_ASSIGN_VARIABLE) {
            rd_var *x = &vars[res[op->in[0]]];
            if (!x->shape)
                return util_fail(err, "operator %d (%s): variable %s is never assigned, so TFLM gives it no buffer",
                                 op->index, ir_op_name(op->code), x->shared);
            int32_t *io = util_alloc(&g->arena, 2 * sizeof(int32_t));
            if (!io) return util_fail(err, "out of memory");
            if (op->code == OP_READ_VARIABLE) {
                io[0] = x->tensor;
                ops[k].in = io;
            } else {
                /* the value in, the variable out */
                io[0] = op->in[1];
                io[1] = x->tensor;
                ops[k].in = io;
                ops[k].n_in = 1;
                ops[k].out = io + 1;
                ops[k].n_out = 1;
            }
        }
        k++;
    }
    g->tensors = t;
    g->n_tensors += n_vars;
    g->ops = ops;
    g->n_ops = n_kept;
    return 0;
}

int reader_load(ir_graph *g, const uint8_t *file, size_t len, util_err *err) {
    memset(g, 0, sizeof *g);
    util_arena_init(&g->arena, (size_t)256 << 20);
    g->file = file;
    g->file_len = len;
    fb_file f = {file, len, err};
    if (len < 8) return util_fail(err, "file is %zu bytes; too short for a TFLite flatbuffer", len);
    if (memcmp(file + 4, "TFL3", 4) != 0)
        return util_fail(err, "not a TFLite model: file identifier at byte 4 is not \"TFL3\"");
    fb_tab model;
    if (fb_table(&f, rd_u32(&f, 0), &model, "model")) return -1;
    int32_t version;
    if (fb_i32(&f, &model, 0, 0, &version, "model")) return -1;
    if (version != 3) return util_fail(err, "model schema version %d; pexc reads version 3", version);
    if (fb_string(&f, &model, 3, &g->arena, &g->description, "model.description")) return -1;

    rd_buffer *bufs;
    uint32_t n_bufs;
    rd_opcode *codes;
    uint32_t n_codes;
    if (read_buffers(&f, &model, &g->arena, &bufs, &n_bufs)) return -1;
    if (read_opcodes(&f, &model, &g->arena, &codes, &n_codes)) return -1;

    fb_vec subs;
    if (fb_vector(&f, &model, 2, 4, &subs, "model.subgraphs")) return -1;
    if (subs.len < 1) return util_fail(err, "model has no subgraph");
    fb_tab sg;
    if (fb_vec_table(&f, &subs, 0, &sg, "subgraph")) return -1;

    fb_vec tv, ov;
    if (fb_vector(&f, &sg, 0, 4, &tv, "subgraph.tensors") || fb_vector(&f, &sg, 3, 4, &ov, "subgraph.operators"))
        return -1;
    /* The planner and scheduler are quadratic in the number of buffers: more
     * operators than any microcontroller model has would only let a small
     * hostile file burn minutes of CPU. */
    /* the scheduler's search builds per-tensor tables for every candidate
     * plan in the 256 MiB compiler arena: 10,000 tensors fit it */
    if (tv.len > 10000 || ov.len > 10000)
        return util_fail(err, "subgraph has %u tensors and %u operators; limits 10000 and 10000", tv.len, ov.len);
    g->n_tensors = (int32_t)tv.len;
    g->n_ops = (int32_t)ov.len;
    g->tensors = util_alloc(&g->arena, sizeof(ir_tensor) * (tv.len ? tv.len : 1));
    g->ops = util_alloc(&g->arena, sizeof(ir_op) * (ov.len ? ov.len : 1));
    if (!g->tensors || !g->ops) return util_fail(err, "out of memory");
    for (uint32_t i = 0; i < tv.len; i++) {
        fb_tab t;
        if (fb_vec_table(&f, &tv, i, &t, "tensor")) return -1;
        /* a tensor's field errors name the tensor; the table's byte offset
         * says where in the file it is */
        if (read_tensor(&f, &t, (int32_t)i, g, bufs, n_bufs)) return fail_ctx(err, "tensor table at byte %zu", t.pos);
    }
    if (read_index_vec(&f, &sg, 1, &g->arena, &g->inputs, &g->n_inputs, g->n_tensors, "subgraph.inputs", -1) ||
        read_index_vec(&f, &sg, 2, &g->arena, &g->outputs, &g->n_outputs, g->n_tensors, "subgraph.outputs", -1))
        return -1;
    for (uint32_t i = 0; i < ov.len; i++)
        if (read_operator(&f, &ov, i, &g->arena, g->n_tensors, codes, n_codes, &g->ops[i])) return -1;
    g->n_subgraphs = (int32_t)subs.len;
    return read_resources(&f, &subs, g, bufs, n_bufs, codes, n_codes);
}

/* The options table of op, checked again (the reader verified it once). */
static int op_table(const ir_graph *g, const ir_op *op, uint8_t want_type, fb_file *f, fb_tab *t, int *present,
                    util_err *err) {
    f->b = g->file;
    f->n = g->file_len;
    f->err = err;
    *present = 0;
    if (!op->opt_pos) return 0;
    if (op->opt_type != want_type)
        return util_fail(err, "operator %d (%s): builtin options have union type %u, expected %u", op->index,
                         ir_op_name(op->code), op->opt_type, want_type);
    if (fb_table(f, op->opt_pos, t, "builtin_options")) return fail_ctx(err, "operator %d", op->index);
    *present = 1;
    return 0;
}

int reader_opt_int(const ir_graph *g, const ir_op *op, uint8_t want_type, int id, int size, int32_t def,
                   int32_t *v, util_err *err) {
    fb_file f;
    fb_tab t;
    int present;
    *v = def;
    if (op_table(g, op, want_type, &f, &t, &present, err)) return -1;
    if (!present) return 0;
    if (size == 1) {
        uint8_t u;
        if (fb_u8(&f, &t, id, (uint8_t)def, &u, ir_op_name(op->code))) return fail_ctx(err, "operator %d", op->index);
        *v = u;
        return 0;
    }
    if (fb_i32(&f, &t, id, def, v, ir_op_name(op->code))) return fail_ctx(err, "operator %d", op->index);
    return 0;
}

int reader_opt_f32(const ir_graph *g, const ir_op *op, uint8_t want_type, int id, float def, float *v,
                   util_err *err) {
    fb_file f;
    fb_tab t;
    int present;
    *v = def;
    if (op_table(g, op, want_type, &f, &t, &present, err)) return -1;
    if (!present) return 0;
    if (fb_f32(&f, &t, id, def, v, ir_op_name(op->code))) return fail_ctx(err, "operator %d", op->index);
    return 0;
}

int reader_subgraph(ir_graph *g, int32_t s, ir_subgraph *out, util_err *err) {
    fb_file f = {g->file, g->file_len, err};
    fb_tab model, sg;
    fb_vec subs, tv, ov;
    rd_buffer *bufs;
    rd_opcode *codes;
    uint32_t n_bufs, n_codes;
    memset(out, 0, sizeof *out);
    if (fb_table(&f, rd_u32(&f, 0), &model, "model") || read_buffers(&f, &model, &g->arena, &bufs, &n_bufs) ||
        read_opcodes(&f, &model, &g->arena, &codes, &n_codes) ||
        fb_vector(&f, &model, 2, 4, &subs, "model.subgraphs"))
        return -1;
    if (s < 0 || (uint32_t)s >= subs.len)
        return util_fail(err, "subgraph %d does not exist (the model has %u)", s, subs.len);
    if (fb_vec_table(&f, &subs, (uint32_t)s, &sg, "subgraph") || fb_vector(&f, &sg, 0, 4, &tv, "subgraph.tensors") ||
        fb_vector(&f, &sg, 3, 4, &ov, "subgraph.operators") ||
        fb_string(&f, &sg, 4, &g->arena, &out->name, "subgraph.name"))
        return fail_ctx(err, "subgraph %d", s);
    if (tv.len > 10000 || ov.len > 10000)
        return util_fail(err, "subgraph %d has %u tensors and %u operators; limits 10000 and 10000", s, tv.len,
                         ov.len);
    out->n_tensors = (int32_t)tv.len;
    out->n_ops = (int32_t)ov.len;
    out->tensors = util_alloc(&g->arena, sizeof(ir_tensor) * (tv.len ? tv.len : 1));
    out->ops = util_alloc(&g->arena, sizeof(ir_op) * (ov.len ? ov.len : 1));
    if (!out->tensors || !out->ops) return util_fail(err, "out of memory");
    /* read_tensor fills g->tensors[i]: lend it this subgraph's table */
    ir_tensor *main_t = g->tensors;
    int32_t main_n = g->n_tensors;
    g->tensors = out->tensors;
    g->n_tensors = out->n_tensors;
    int rc = 0;
    for (uint32_t i = 0; i < tv.len && !rc; i++) {
        fb_tab t;
        rc = fb_vec_table(&f, &tv, i, &t, "tensor") || read_tensor(&f, &t, (int32_t)i, g, bufs, n_bufs);
    }
    g->tensors = main_t;
    g->n_tensors = main_n;
    if (rc) return fail_ctx(err, "subgraph %d", s);
    if (read_index_vec(&f, &sg, 1, &g->arena, &out->inputs, &out->n_inputs, out->n_tensors, "subgraph.inputs", -1) ||
        read_index_vec(&f, &sg, 2, &g->arena, &out->outputs, &out->n_outputs, out->n_tensors, "subgraph.outputs",
                       -1))
        return fail_ctx(err, "subgraph %d", s);
    for (uint32_t i = 0; i < ov.len; i++)
        if (read_operator(&f, &ov, i, &g->arena, out->n_tensors, codes, n_codes, &out->ops[i]))
            return fail_ctx(err, "subgraph %d", s);
    return 0;
}
