/*
 * The TFLite model writer: an edited graph back to a .tflite file.
 *
 * pexc's IR keeps only what the compiler needs, so the writer does not
 * rebuild a model from the IR alone. It copies the source file's tree
 * object by object through the builder (fbb.c), following a small
 * description of the schema (which fields of each table are strings,
 * vectors or other tables), and takes from the IR only what an edit can
 * change: the shape, contents and quantisation of subgraph 0's tensors.
 *
 * A table is copied as its inline bytes verbatim plus a copy of its
 * vtable; only its offset fields are rewritten, to point at the copies of
 * their targets. So every scalar field, those pexc never reads included,
 * keeps its exact value, and an options table of any operator comes across
 * whole. A field the schema description does not know (a newer schema) or
 * one the writer cannot carry (sparsity, external buffers, StableHLO
 * options) is refused with one line rather than written wrong.
 *
 * Buffers are rebuilt: each keeps its index; a buffer whose only tensor was
 * edited gets the new bytes, a shared one stays and the edited tensor gets
 * a new buffer at the end. Data that the source kept outside the
 * FlatBuffer (offset and size fields, for files over 2 GiB) is written
 * inline.
 *
 * The source was verified by reader_load, but the writer reads parts the
 * reader skips (other subgraphs, metadata, signatures), so every access
 * here is bounds-checked again.
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "writer/writer.h"

/* ---- the source file ---- */

typedef struct {
    const uint8_t *b;
    size_t n;
    util_err *err;
} wr_src;

typedef struct {
    size_t pos;
    size_t vt;
    uint16_t vt_len, len;
} wr_tab;

/* A little-endian word of n (2 or 4) bytes at a checked position; memcpy,
 * as the file need not be aligned (little-endian hosts, like the reader). */
static uint32_t wr_word(const wr_src *s, size_t at, size_t n) {
    uint32_t v = 0;
    memcpy(&v, s->b + at, n);
    return v;
}
#define wr_u32(s, at) wr_word((s), (at), 4)
#define wr_u16(s, at) ((uint16_t)wr_word((s), (at), 2))

static int wr_table(const wr_src *s, size_t pos, wr_tab *t) {
    if (pos > s->n || s->n - pos < 4 || (pos & 3))
        return util_fail(s->err, "writer: table at byte %zu lies outside the file", pos);
    int64_t vt = (int64_t)pos - (int32_t)wr_u32(s, pos);
    if (vt < 0 || (uint64_t)vt + 4 > s->n || (vt & 1))
        return util_fail(s->err, "writer: table at byte %zu has a bad vtable", pos);
    t->pos = pos;
    t->vt = (size_t)vt;
    t->vt_len = wr_u16(s, t->vt);
    t->len = wr_u16(s, t->vt + 2);
    if (t->vt_len < 4 || (t->vt_len & 1) || t->vt_len > s->n - t->vt || t->len < 4 || t->len > s->n - pos)
        return util_fail(s->err, "writer: table at byte %zu has a bad vtable", pos);
    return 0;
}

static int wr_nfields(const wr_tab *t) {
    return (t->vt_len - 4) / 2;
}

/* In-table offset of field id, 0 when absent (checked to fit size bytes). */
static uint16_t wr_field(const wr_src *s, const wr_tab *t, int id, uint32_t size) {
    if (id >= wr_nfields(t)) return 0;
    uint16_t fo = wr_u16(s, t->vt + 4 + 2 * (size_t)id);
    return fo && fo + size <= t->len ? fo : 0;
}

static uint32_t wr_scalar_u32(const wr_src *s, const wr_tab *t, int id, uint32_t def) {
    uint16_t fo = wr_field(s, t, id, 4);
    return fo ? wr_u32(s, t->pos + fo) : def;
}

/* Target of offset field id: 1 and *at, 0 when absent, -1 when out of the
 * file. */
static int wr_ref(const wr_src *s, const wr_tab *t, int id, size_t *at) {
    uint16_t fo = wr_field(s, t, id, 4);
    if (!fo) return 0;
    uint64_t tgt = (uint64_t)t->pos + fo + wr_u32(s, t->pos + fo);
    if (tgt + 4 > s->n) return util_fail(s->err, "writer: field %d of the table at byte %zu points outside the file",
                                         id, t->pos);
    *at = (size_t)tgt;
    return 1;
}

/* Vector in field id: *n elements of elem bytes at *data (0 when absent). */
static int wr_vec(const wr_src *s, const wr_tab *t, int id, size_t elem, const uint8_t **data, uint32_t *n) {
    size_t at = 0;
    *n = 0;
    *data = NULL;
    int r = wr_ref(s, t, id, &at);
    if (r <= 0) return r;
    uint32_t len = wr_u32(s, at);
    if ((uint64_t)len * elem + 1 > s->n - at - 4)
        return util_fail(s->err, "writer: vector at byte %zu runs past the end of the file", at);
    *n = len;
    *data = s->b + at + 4;
    return 1;
}

/* ---- the schema, as far as a copy needs it ---- */

typedef enum { F_STR, F_VEC, F_TAB, F_TABVEC, F_OPTIONS, F_REFUSE } wr_kind;

typedef struct wr_schema wr_schema;
typedef struct {
    int id;
    wr_kind kind;
    uint8_t elem;           /* F_VEC: element bytes */
    const wr_schema *sub;   /* F_TAB, F_TABVEC */
} wr_fieldspec;

struct wr_schema {
    const char *name;
    int n_ids;              /* fields the schema has: ids 0 .. n_ids - 1 */
    int n_off;
    const wr_fieldspec *off; /* its offset fields */
};

#define WR_SCHEMA(var, name, n_ids, ...)                                                                \
    static const wr_fieldspec var##_f[] = {__VA_ARGS__};                                               \
    static const wr_schema var = {name, n_ids, (int)(sizeof var##_f / sizeof var##_f[0]), var##_f}

static const wr_schema wr_scalars = {"options", 64, 0, NULL};
WR_SCHEMA(wr_quant, "quantization", 7, {0, F_VEC, 4, NULL}, {1, F_VEC, 4, NULL}, {2, F_VEC, 4, NULL},
          {3, F_VEC, 8, NULL}, {5, F_REFUSE, 0, NULL});
WR_SCHEMA(wr_tensor, "tensor", 11, {0, F_VEC, 4, NULL}, {3, F_STR, 0, NULL}, {4, F_TAB, 0, &wr_quant},
          {6, F_REFUSE, 0, NULL}, {7, F_VEC, 4, NULL}, {9, F_REFUSE, 0, NULL});
WR_SCHEMA(wr_operator, "operator", 14, {1, F_VEC, 4, NULL}, {2, F_VEC, 4, NULL}, {4, F_OPTIONS, 0, NULL},
          {5, F_VEC, 1, NULL}, {7, F_VEC, 1, NULL}, {8, F_VEC, 4, NULL}, {12, F_REFUSE, 0, NULL});
WR_SCHEMA(wr_subgraph, "subgraph", 6, {0, F_TABVEC, 0, &wr_tensor}, {1, F_VEC, 4, NULL}, {2, F_VEC, 4, NULL},
          {3, F_TABVEC, 0, &wr_operator}, {4, F_STR, 0, NULL});
WR_SCHEMA(wr_opcode, "operator_code", 4, {1, F_STR, 0, NULL});
WR_SCHEMA(wr_metadata, "metadata", 2, {0, F_STR, 0, NULL});
WR_SCHEMA(wr_tensormap, "tensor map", 2, {0, F_STR, 0, NULL});
WR_SCHEMA(wr_signature, "signature def", 5, {0, F_TABVEC, 0, &wr_tensormap}, {1, F_TABVEC, 0, &wr_tensormap},
          {2, F_STR, 0, NULL}, {3, F_STR, 0, NULL});

/* Builtin options (union BuiltinOptions, schema numbering) with offset
 * fields; every other options table holds scalars only. */
WR_SCHEMA(wr_opt_concat_emb, "ConcatEmbeddingsOptions", 3, {1, F_VEC, 4, NULL}, {2, F_VEC, 4, NULL});
WR_SCHEMA(wr_opt_reshape, "ReshapeOptions", 1, {0, F_VEC, 4, NULL});
WR_SCHEMA(wr_opt_squeeze, "SqueezeOptions", 1, {0, F_VEC, 4, NULL});
WR_SCHEMA(wr_opt_var_handle, "VarHandleOptions", 2, {0, F_STR, 0, NULL}, {1, F_STR, 0, NULL});
WR_SCHEMA(wr_opt_bucketize, "BucketizeOptions", 1, {0, F_VEC, 4, NULL});

/* The union's last member the writer knows (schema.fbs, BuiltinOptions). */
#define WR_LAST_OPTIONS 126

static const wr_schema *wr_options_schema(uint8_t type) {
    switch (type) {
    case 3: return &wr_opt_concat_emb;
    case 17: return &wr_opt_reshape;
    case 30: return &wr_opt_squeeze;
    case 111: return &wr_opt_var_handle;
    case 115: return &wr_opt_bucketize;
    default: return type >= 1 && type <= WR_LAST_OPTIONS ? &wr_scalars : NULL;
    }
}

/* ---- copying ---- */

typedef struct {
    wr_src src;
    fbb b;
    const ir_graph *g;
    uint32_t n_bufs;        /* source buffers */
    const uint8_t **buf_data; /* [n_out_bufs] contents written for each output buffer */
    size_t *buf_len;
    uint32_t n_out_bufs;
    int32_t *tensor_buf;    /* subgraph 0: buffer index written, -1 unedited */
    uint8_t *edited;        /* subgraph 0: tensor needs a rebuilt table */
} wr_ctx;

static int wr_copy_table(wr_ctx *c, size_t pos, const wr_schema *sc, size_t *ref);

static int wr_copy_string(wr_ctx *c, size_t at, size_t *ref) {
    uint32_t len = wr_u32(&c->src, at);
    if ((uint64_t)len + 1 > c->src.n - at - 4)
        return util_fail(c->src.err, "writer: string at byte %zu runs past the end of the file", at);
    *ref = fbb_string(&c->b, (const char *)c->src.b + at + 4, len);
    return 0;
}

static int wr_copy_tabvec(wr_ctx *c, size_t at, const wr_schema *sc, size_t *ref) {
    uint32_t n = wr_u32(&c->src, at);
    if ((uint64_t)n * 4 > c->src.n - at - 4)
        return util_fail(c->src.err, "writer: %s vector at byte %zu runs past the end of the file", sc->name, at);
    size_t *refs = malloc(sizeof(size_t) * (n ? n : 1));
    if (!refs) return util_fail(c->src.err, "writer: out of memory");
    for (uint32_t i = 0; i < n; i++) {
        size_t el = at + 4 + 4 * (size_t)i;
        if (wr_copy_table(c, el + wr_u32(&c->src, el), sc, &refs[i])) {
            free(refs);
            return -1;
        }
    }
    *ref = fbb_ref_vector(&c->b, refs, n);
    free(refs);
    return 0;
}

static int wr_copy_table(wr_ctx *c, size_t pos, const wr_schema *sc, size_t *ref) {
    wr_tab t;
    if (wr_table(&c->src, pos, &t)) return -1;
    int nf = wr_nfields(&t);
    uint16_t vt[64];
    if (nf > 64) return util_fail(c->src.err, "writer: %s table at byte %zu has %d fields", sc->name, pos, nf);
    for (int i = 0; i < nf; i++) {
        vt[i] = wr_u16(&c->src, t.vt + 4 + 2 * (size_t)i);
        if (vt[i] && i >= sc->n_ids)
            return util_fail(c->src.err, "writer: %s table at byte %zu has field %d, unknown to pexc's schema",
                             sc->name, pos, i);
    }
    int ids[16];
    size_t refs[16];
    int n = 0;
    for (int k = 0; k < sc->n_off; k++) {
        const wr_fieldspec *fs = &sc->off[k];
        size_t at = 0;
        int r = wr_ref(&c->src, &t, fs->id, &at);
        if (r < 0) return -1;
        if (r == 0) continue;
        if (fs->kind == F_REFUSE)
            return util_fail(c->src.err, "writer: %s table at byte %zu: field %d is not supported by the writer",
                             sc->name, pos, fs->id);
        switch (fs->kind) {
        case F_STR:
            if (wr_copy_string(c, at, &refs[n])) return -1;
            break;
        case F_VEC: {
            const uint8_t *d;
            uint32_t len;
            if (wr_vec(&c->src, &t, fs->id, fs->elem, &d, &len) < 0) return -1;
            refs[n] = fbb_vector(&c->b, d, len, fs->elem, fs->elem > 4 ? fs->elem : 4);
            break;
        }
        case F_TAB:
            if (wr_copy_table(c, at, fs->sub, &refs[n])) return -1;
            break;
        case F_TABVEC:
            if (wr_copy_tabvec(c, at, fs->sub, &refs[n])) return -1;
            break;
        case F_OPTIONS: {
            uint16_t fo = wr_field(&c->src, &t, fs->id - 1, 1);
            uint8_t type = fo ? c->src.b[t.pos + fo] : 0;
            const wr_schema *os = wr_options_schema(type);
            if (!os)
                return util_fail(c->src.err, "writer: %s table at byte %zu: builtin options type %u is unknown to "
                                             "pexc's schema", sc->name, pos, type);
            if (wr_copy_table(c, at, os, &refs[n])) return -1;
            break;
        }
        case F_REFUSE: break;
        }
        ids[n++] = fs->id;
    }
    *ref = fbb_table_copy(&c->b, c->src.b + pos, t.len, pos, vt, nf, ids, refs, n);
    return c->b.oom ? util_fail(c->src.err, "writer: out of memory") : 0;
}

/* ---- edits: subgraph 0's tensors ---- */

/* The source tensor table i's buffer contents (what reader_load took as
 * the tensor's data), NULL when none. */
static const uint8_t *wr_src_tensor_data(wr_ctx *c, const wr_tab *t, uint32_t *buf) {
    *buf = wr_scalar_u32(&c->src, t, 2, 0);
    return *buf < c->n_bufs ? c->buf_data[*buf] : NULL;
}

static int wr_same_i32(const uint8_t *d, uint32_t n, const int32_t *v, int32_t nv) {
    if ((int32_t)n != nv) return 0;
    for (uint32_t i = 0; i < n; i++) {
        int32_t x;
        memcpy(&x, d + 4 * (size_t)i, 4);
        if (x != v[i]) return 0;
    }
    return 1;
}

/* 1 when tensor x's quantisation differs from the source table q (or
 * its absence). */
static int wr_quant_edited(wr_ctx *c, const wr_tab *t, const ir_tensor *x) {
    size_t at = 0;
    int r = wr_ref(&c->src, t, 4, &at);
    if (r == 0) return x->nq != 0;
    wr_tab q;
    if (r < 0 || wr_table(&c->src, at, &q)) return -1;
    const uint8_t *sd, *zd;
    uint32_t ns, nz;
    if (wr_vec(&c->src, &q, 2, 4, &sd, &ns) < 0 || wr_vec(&c->src, &q, 3, 8, &zd, &nz) < 0) return -1;
    if (!(ns > 0 && nz > 0)) return x->nq != 0;
    if ((int32_t)ns != x->nq || nz != ns) return 1;
    if (memcmp(sd, x->scale, 4 * (size_t)ns) || memcmp(zd, x->zero_point, 8 * (size_t)ns)) return 1;
    return (int32_t)wr_scalar_u32(&c->src, &q, 6, 0) != x->q_dim;
}

/* A tensor table rebuilt with x's shape and quantisation and buffer buf;
 * the other fields from the source table t. */
static int wr_tensor_edited(wr_ctx *c, const wr_tab *t, const ir_tensor *x, uint32_t buf, size_t *ref) {
    fbb *b = &c->b;
    util_err *err = c->src.err;
    size_t shape = fbb_vector(b, x->shape, (size_t)x->rank, 4, 4), sig = 0, name = 0, quant = 0, at;
    const uint8_t *d;
    uint32_t n;
    int r = wr_vec(&c->src, t, 7, 4, &d, &n);
    if (r < 0) return -1;
    if (r == 1) {
        /* keep a dynamic (-1) batch dimension of the signature */
        int32_t s[IR_MAX_RANK];
        for (int32_t i = 0; i < x->rank; i++) {
            int32_t v = x->shape[i];
            if ((uint32_t)i < n) memcpy(&v, d + 4 * (size_t)i, 4);
            s[i] = v < 0 ? v : x->shape[i];
        }
        sig = fbb_vector(b, s, (size_t)x->rank, 4, 4);
    }
    r = wr_ref(&c->src, t, 3, &at);
    if (r < 0 || (r == 1 && wr_copy_string(c, at, &name))) return -1;
    if (x->nq > 0) {
        size_t sc = fbb_vector(b, x->scale, (size_t)x->nq, 4, 4);
        size_t zp = fbb_vector(b, x->zero_point, (size_t)x->nq, 8, 8);
        fbb_table_start(b);
        fbb_add_ref(b, 2, sc);
        fbb_add_ref(b, 3, zp);
        fbb_add_i32(b, 6, x->q_dim, 0);
        quant = fbb_table_end(b);
    }
    uint16_t fo;
    if (wr_ref(&c->src, t, 6, &at) || wr_ref(&c->src, t, 9, &at))
        return util_fail(err, "writer: tensor %d (%s): sparse or variant tensors are not supported", x->index,
                         x->name);
    fbb_table_start(b);
    fbb_add_ref(b, 0, shape);
    fo = wr_field(&c->src, t, 1, 1);
    fbb_add_u8(b, 1, fo ? c->src.b[t->pos + fo] : 0, 0);
    fbb_add_i32(b, 2, (int32_t)buf, 0);
    if (name) fbb_add_ref(b, 3, name);
    if (quant) fbb_add_ref(b, 4, quant);
    fo = wr_field(&c->src, t, 5, 1);
    fbb_add_u8(b, 5, fo ? c->src.b[t->pos + fo] : 0, 0);
    if (sig) fbb_add_ref(b, 7, sig);
    fo = wr_field(&c->src, t, 8, 1);
    fbb_add_u8(b, 8, fo ? c->src.b[t->pos + fo] : 0, 0);
    *ref = fbb_table_end(b);
    return b->oom ? util_fail(err, "writer: out of memory") : 0;
}

/* Subgraph 0: as wr_copy_table, its edited tensors rebuilt. */
static int wr_copy_main(wr_ctx *c, size_t pos, size_t *ref) {
    wr_tab t, tt;
    size_t at, tv = 0;
    if (wr_table(&c->src, pos, &t)) return -1;
    if (wr_ref(&c->src, &t, 0, &tv) < 0) return -1;
    uint32_t n = tv ? wr_u32(&c->src, tv) : 0;
    if ((uint64_t)n * 4 > c->src.n - tv - 4 || (int32_t)n > c->g->n_tensors)
        return util_fail(c->src.err, "writer: subgraph 0 has %u tensors, the graph %d", n, c->g->n_tensors);
    size_t *refs = malloc(sizeof(size_t) * (n ? n : 1));
    if (!refs) return util_fail(c->src.err, "writer: out of memory");
    for (uint32_t i = 0; i < n; i++) {
        size_t el = tv + 4 + 4 * (size_t)i;
        at = el + wr_u32(&c->src, el);
        int bad = wr_table(&c->src, at, &tt);
        if (!bad && c->edited[i])
            bad = wr_tensor_edited(c, &tt, &c->g->tensors[i], (uint32_t)c->tensor_buf[i], &refs[i]);
        else if (!bad)
            bad = wr_copy_table(c, at, &wr_tensor, &refs[i]);
        if (bad) {
            free(refs);
            return -1;
        }
    }
    size_t tens = fbb_ref_vector(&c->b, refs, n);
    free(refs);
    /* the other fields as wr_copy_table would, the tensors already written */
    int nf = wr_nfields(&t);
    uint16_t vt[64];
    if (nf > 64 || nf > wr_subgraph.n_ids) return util_fail(c->src.err, "writer: subgraph 0 has unknown fields");
    for (int i = 0; i < nf; i++) vt[i] = wr_u16(&c->src, t.vt + 4 + 2 * (size_t)i);
    int ids[5] = {0};
    size_t rr[5] = {tens};
    int k = tv ? 1 : 0;
    for (int f = 1; f < wr_subgraph.n_off; f++) {
        const wr_fieldspec *fs = &wr_subgraph.off[f];
        int r = wr_ref(&c->src, &t, fs->id, &at);
        if (r < 0) return -1;
        if (!r) continue;
        const uint8_t *d;
        uint32_t len;
        if (fs->kind == F_VEC) {
            if (wr_vec(&c->src, &t, fs->id, 4, &d, &len) < 0) return -1;
            rr[k] = fbb_vector(&c->b, d, len, 4, 4);
        } else if (fs->kind == F_STR) {
            if (wr_copy_string(c, at, &rr[k])) return -1;
        } else if (wr_copy_tabvec(c, at, fs->sub, &rr[k])) {
            return -1;
        }
        ids[k++] = fs->id;
    }
    *ref = fbb_table_copy(&c->b, c->src.b + pos, t.len, pos, vt, nf, ids, rr, k);
    return c->b.oom ? util_fail(c->src.err, "writer: out of memory") : 0;
}

/* Reads the source buffers and decides where each edited tensor's bytes
 * go. */
static int wr_plan_buffers(wr_ctx *c, const wr_tab *model, size_t main_pos) {
    util_err *err = c->src.err;
    size_t at = 0;
    int r = wr_ref(&c->src, model, 4, &at);
    if (r < 0) return -1;
    uint32_t nb = r ? wr_u32(&c->src, at) : 0;
    if ((uint64_t)nb * 4 > c->src.n - at - 4) return util_fail(err, "writer: buffers vector runs past the file");
    const ir_graph *g = c->g;
    size_t cap = (size_t)nb + (size_t)g->n_tensors + 1;
    c->n_bufs = nb;
    c->buf_data = calloc(cap, sizeof *c->buf_data);
    c->buf_len = calloc(cap, sizeof *c->buf_len);
    c->tensor_buf = calloc((size_t)g->n_tensors + 1, sizeof *c->tensor_buf);
    c->edited = calloc((size_t)g->n_tensors + 1, 1);
    uint32_t *uses = calloc((size_t)nb + 1, sizeof *uses);
    if (!c->buf_data || !c->buf_len || !c->tensor_buf || !c->edited || !uses) {
        free(uses);
        return util_fail(err, "writer: out of memory");
    }
    for (uint32_t i = 0; i < nb; i++) {
        size_t el = at + 4 + 4 * (size_t)i;
        wr_tab bt;
        const uint8_t *d;
        uint32_t len;
        if (wr_table(&c->src, el + wr_u32(&c->src, el), &bt) || wr_vec(&c->src, &bt, 0, 1, &d, &len) < 0) {
            free(uses);
            return -1;
        }
        c->buf_data[i] = len ? d : NULL;
        c->buf_len[i] = len;
        uint16_t fo = wr_field(&c->src, &bt, 1, 8), fs = wr_field(&c->src, &bt, 2, 8);
        uint64_t off = 0, size = 0;
        if (fo) memcpy(&off, c->src.b + bt.pos + fo, 8);
        if (fs) memcpy(&size, c->src.b + bt.pos + fs, 8);
        if (!len && off > 1 && size > 0) {
            if (off > c->src.n || size > c->src.n - off) {
                free(uses);
                return util_fail(err, "writer: buffer %u: external data lies outside the file", i);
            }
            c->buf_data[i] = c->src.b + off;
            c->buf_len[i] = (size_t)size;
        }
    }
    /* how many tensors (of every subgraph) and metadata entries name each
     * buffer: only a buffer used once may take the edited bytes in place */
    size_t sv = 0;
    wr_tab sg, tt;
    r = wr_ref(&c->src, model, 2, &sv);
    uint32_t ns = r == 1 ? wr_u32(&c->src, sv) : 0;
    if (r < 0 || (uint64_t)ns * 4 > c->src.n - sv - 4) {
        free(uses);
        return util_fail(err, "writer: subgraphs vector runs past the file");
    }
    for (uint32_t s = 0; s < ns; s++) {
        size_t el = sv + 4 + 4 * (size_t)s, tv = 0;
        if (wr_table(&c->src, el + wr_u32(&c->src, el), &sg) || wr_ref(&c->src, &sg, 0, &tv) < 0) {
            free(uses);
            return -1;
        }
        uint32_t nt = wr_nfields(&sg) > 0 && wr_field(&c->src, &sg, 0, 4) ? wr_u32(&c->src, tv) : 0;
        for (uint32_t i = 0; i < nt; i++) {
            size_t te = tv + 4 + 4 * (size_t)i;
            if (te + 4 > c->src.n || wr_table(&c->src, te + wr_u32(&c->src, te), &tt)) {
                free(uses);
                return util_fail(err, "writer: subgraph %u tensor %u lies outside the file", s, i);
            }
            uint32_t bi = wr_scalar_u32(&c->src, &tt, 2, 0);
            if (bi < nb) uses[bi]++;
        }
    }
    const uint8_t *md;
    uint32_t nm;
    if (wr_vec(&c->src, model, 5, 4, &md, &nm) < 0) {
        free(uses);
        return -1;
    }
    for (uint32_t i = 0; i < nm; i++) {
        uint32_t bi = wr_u32(&c->src, (size_t)(md - c->src.b) + 4 * (size_t)i);
        if (bi < nb) uses[bi] += 2;
    }
    /* metadata tables name buffers too */
    r = wr_ref(&c->src, model, 6, &at);
    uint32_t nmeta = r == 1 ? wr_u32(&c->src, at) : 0;
    for (uint32_t i = 0; r == 1 && i < nmeta && (uint64_t)at + 8 + 4 * (uint64_t)i <= c->src.n; i++) {
        size_t el = at + 4 + 4 * (size_t)i;
        if (wr_table(&c->src, el + wr_u32(&c->src, el), &tt)) {
            free(uses);
            return -1;
        }
        uint32_t bi = wr_scalar_u32(&c->src, &tt, 1, 0);
        if (bi < nb) uses[bi] += 2;
    }
    /* subgraph 0's tensors against the graph */
    c->n_out_bufs = nb;
    size_t tv = 0;
    if (wr_table(&c->src, main_pos, &sg) || wr_ref(&c->src, &sg, 0, &tv) < 0) {
        free(uses);
        return -1;
    }
    uint32_t nt = tv ? wr_u32(&c->src, tv) : 0;
    for (uint32_t i = 0; i < nt && (int32_t)i < g->n_tensors; i++) {
        const ir_tensor *x = &g->tensors[i];
        size_t te = tv + 4 + 4 * (size_t)i;
        const uint8_t *sd;
        uint32_t sn, bi;
        if (wr_table(&c->src, te + wr_u32(&c->src, te), &tt) || wr_vec(&c->src, &tt, 0, 4, &sd, &sn) < 0) {
            free(uses);
            return -1;
        }
        const uint8_t *old = wr_src_tensor_data(c, &tt, &bi);
        int qe = wr_quant_edited(c, &tt, x);
        if (qe < 0) {
            free(uses);
            return -1;
        }
        int data_edit = x->data && x->data != old;
        c->tensor_buf[i] = (int32_t)bi;
        if (data_edit) {
            if (bi > 0 && bi < nb && uses[bi] == 1) {
                c->buf_data[bi] = x->data;
                c->buf_len[bi] = x->bytes;
            } else {
                c->tensor_buf[i] = (int32_t)c->n_out_bufs;
                c->buf_data[c->n_out_bufs] = x->data;
                c->buf_len[c->n_out_bufs++] = x->bytes;
            }
        }
        c->edited[i] = (uint8_t)(data_edit || qe || !wr_same_i32(sd, sn, x->shape, x->rank));
        if (c->edited[i] && !data_edit && bi > 0 && bi < nb && c->buf_len[bi] && c->buf_len[bi] != x->bytes) {
            free(uses);
            return util_fail(err, "writer: tensor %u (%s): new shape needs %zu bytes, its data holds %zu", i,
                             x->name, x->bytes, c->buf_len[bi]);
        }
    }
    free(uses);
    return 0;
}

static size_t wr_buffers(wr_ctx *c) {
    size_t *refs = malloc(sizeof(size_t) * (c->n_out_bufs ? c->n_out_bufs : 1));
    if (!refs) {
        c->b.oom = 1;
        return 0;
    }
    for (uint32_t i = 0; i < c->n_out_bufs; i++) {
        size_t d = c->buf_len[i] ? fbb_vector(&c->b, c->buf_data[i], c->buf_len[i], 1, 16) : 0;
        fbb_table_start(&c->b);
        if (d) fbb_add_ref(&c->b, 0, d);
        refs[i] = fbb_table_end(&c->b);
    }
    size_t r = fbb_ref_vector(&c->b, refs, c->n_out_bufs);
    free(refs);
    return r;
}

int writer_tflite(const ir_graph *g, uint8_t **out, size_t *out_len, util_err *err) {
    wr_ctx c;
    memset(&c, 0, sizeof c);
    c.src = (wr_src){g->file, g->file_len, err};
    c.g = g;
    fbb_init(&c.b);
    *out = NULL;
    int rc = -1;
    wr_tab m;
    size_t sv = 0;
    if (g->file_len < 8 || wr_table(&c.src, wr_u32(&c.src, 0), &m)) goto done;
    if (wr_nfields(&m) > 8) {
        util_fail(err, "writer: the model has external buffer fields, which the writer does not carry");
        goto done;
    }
    if (wr_ref(&c.src, &m, 2, &sv) != 1) {
        util_fail(err, "writer: the model has no subgraphs");
        goto done;
    }
    uint32_t ns = wr_u32(&c.src, sv);
    if (ns < 1 || (uint64_t)ns * 4 > g->file_len - sv - 4) {
        util_fail(err, "writer: bad subgraphs vector");
        goto done;
    }
    if (wr_plan_buffers(&c, &m, sv + 4 + wr_u32(&c.src, sv + 4))) goto done;

    /* children first, then the model table */
    size_t refs[8] = {0};
    int ids[8], n = 0;
    size_t at = 0;
    for (int id = 1; id <= 7; id++) {
        int r = id == 4 ? 1 : wr_ref(&c.src, &m, id, &at);
        if (r < 0) goto done;
        if (!r) continue;
        int bad = 0;
        if (id == 1) bad = wr_copy_tabvec(&c, at, &wr_opcode, &refs[n]);
        else if (id == 2) {
            size_t *sr = malloc(sizeof(size_t) * ns);
            if (!sr) {
                util_fail(err, "writer: out of memory");
                goto done;
            }
            for (uint32_t s = 0; s < ns && !bad; s++) {
                size_t el = sv + 4 + 4 * (size_t)s, p = el + wr_u32(&c.src, el);
                bad = s == 0 ? wr_copy_main(&c, p, &sr[s]) : wr_copy_table(&c, p, &wr_subgraph, &sr[s]);
            }
            if (!bad) refs[n] = fbb_ref_vector(&c.b, sr, ns);
            free(sr);
        } else if (id == 3) bad = wr_copy_string(&c, at, &refs[n]);
        else if (id == 4) refs[n] = wr_buffers(&c);
        else if (id == 5) {
            const uint8_t *d;
            uint32_t len;
            bad = wr_vec(&c.src, &m, 5, 4, &d, &len) < 0;
            if (!bad) refs[n] = fbb_vector(&c.b, d, len, 4, 4);
        } else if (id == 6) bad = wr_copy_tabvec(&c, at, &wr_metadata, &refs[n]);
        else bad = wr_copy_tabvec(&c, at, &wr_signature, &refs[n]);
        if (bad) goto done;
        ids[n++] = id;
    }
    fbb_table_start(&c.b);
    fbb_add_i32(&c.b, 0, 3, 0);
    for (int k = 0; k < n; k++) fbb_add_ref(&c.b, ids[k], refs[k]);
    size_t root = fbb_table_end(&c.b);
    if (fbb_finish(&c.b, root, "TFL3")) {
        util_fail(err, "writer: out of memory");
        goto done;
    }
    *out = malloc(c.b.size);
    if (!*out) {
        util_fail(err, "writer: out of memory");
        goto done;
    }
    memcpy(*out, fbb_data(&c.b), c.b.size);
    *out_len = c.b.size;
    rc = 0;
done:
    free(c.buf_data);
    free(c.buf_len);
    free(c.tensor_buf);
    free(c.edited);
    fbb_free(&c.b);
    return rc;
}

/* Creates the temporary file beside path: its descriptor, -1 (err set). */
static int wr_temp(const char *path, char **tmp, util_err *err) {
    size_t n = strlen(path);
    *tmp = malloc(n + 16);
    if (!*tmp) return util_fail(err, "out of memory");
    snprintf(*tmp, n + 16, "%s.tmpXXXXXX", path);
    int fd = mkstemp(*tmp);
    if (fd < 0) {
        util_fail(err, "cannot write %s: %s", path, strerror(errno));
        free(*tmp);
        *tmp = NULL;
    }
    return fd;
}

int writer_probe(const char *path, util_err *err) {
    char *tmp;
    int fd = wr_temp(path, &tmp, err);
    if (fd < 0) return -1;
    close(fd);
    unlink(tmp);
    free(tmp);
    return 0;
}

int writer_save(const char *path, const uint8_t *bytes, size_t len, util_err *err) {
    char *tmp;
    int fd = wr_temp(path, &tmp, err);
    if (fd < 0) return -1;
    FILE *f = fdopen(fd, "wb");
    int bad = !f || fwrite(bytes, 1, len, f) != len;
    if (f ? fclose(f) != 0 : close(fd) != 0) bad = 1;
    if (bad || rename(tmp, path) != 0) {
        util_fail(err, "cannot write %s: %s", path, strerror(errno ? errno : EIO));
        unlink(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}
