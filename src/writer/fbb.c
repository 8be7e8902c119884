/*
 * A FlatBuffers builder.
 *
 * A FlatBuffer is read front to back but is easiest to write back to front:
 * every reference is an unsigned 32-bit offset pointing forward, from the
 * referring field to the object, so an object must be complete before
 * anything that points at it is written. The builder therefore prepends:
 * bytes live at the end of a growing array, and an object is named by its
 * distance from the end ("ref"), which does not change as more is prepended.
 * A reference written at distance F to an object at ref R holds F - R.
 *
 * Alignment is absolute in the finished file: fbb_finish pads the front so
 * the total size is a multiple of the largest alignment ever asked for, and
 * then an object at ref R sits at total - R, aligned whenever R is.
 *
 * A table is its fields (prepended one by one, each aligned to its size),
 * then a 32-bit signed offset to its vtable, and the vtable itself written
 * just before it: vtable bytes, table inline bytes, then one 16-bit offset
 * per field id (0: absent, the reader takes the schema default).
 */
#include <stdlib.h>
#include <string.h>

#include "writer/writer.h"

void fbb_init(fbb *b) {
    memset(b, 0, sizeof *b);
    b->minalign = 4;
}

void fbb_free(fbb *b) {
    free(b->buf);
    memset(b, 0, sizeof *b);
}

static int fbb_reserve(fbb *b, size_t n) {
    if (b->oom) return -1;
    if (b->cap - b->size >= n) return 0;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->size < n) {
        if (cap > ((size_t)1 << 31)) {
            b->oom = 1;
            return -1;
        }
        cap *= 2;
    }
    uint8_t *nb = malloc(cap);
    if (!nb) {
        b->oom = 1;
        return -1;
    }
    /* keep the bytes at the end of the new array */
    if (b->size) memcpy(nb + cap - b->size, b->buf + b->cap - b->size, b->size);
    free(b->buf);
    b->buf = nb;
    b->cap = cap;
    return 0;
}

static void fbb_push(fbb *b, const void *p, size_t n) {
    if (!n || fbb_reserve(b, n)) return;
    b->size += n;
    memcpy(b->buf + b->cap - b->size, p, n);
}

static void fbb_zeros(fbb *b, size_t n) {
    if (!n || fbb_reserve(b, n)) return;
    b->size += n;
    memset(b->buf + b->cap - b->size, 0, n);
}

void fbb_prep(fbb *b, size_t align, size_t next) {
    if (align > b->minalign) b->minalign = align;
    size_t pad = (align - (b->size + next) % align) % align;
    fbb_zeros(b, pad);
}

static void fbb_push_u32(fbb *b, uint32_t v) {
    fbb_push(b, &v, 4);
}

/* A reference to ref from the 4 bytes about to be prepended (aligned). */
static void fbb_push_ref(fbb *b, size_t ref) {
    fbb_prep(b, 4, 4);
    fbb_push_u32(b, (uint32_t)(b->size + 4 - ref));
}

size_t fbb_vector(fbb *b, const void *data, size_t n, size_t elem, size_t align) {
    fbb_prep(b, 4, n * elem);
    fbb_prep(b, align < 4 ? 4 : align, n * elem);
    fbb_push(b, data, n * elem);
    /* data's start is 4-aligned, so the length word before it is too */
    fbb_push_u32(b, (uint32_t)n);
    return b->size;
}

size_t fbb_string(fbb *b, const char *s, size_t n) {
    fbb_prep(b, 4, n + 1);
    fbb_zeros(b, 1);
    fbb_push(b, s, n);
    fbb_push_u32(b, (uint32_t)n);
    return b->size;
}

size_t fbb_ref_vector(fbb *b, const size_t *refs, size_t n) {
    fbb_prep(b, 4, 4 * n);
    for (size_t i = n; i-- > 0;) fbb_push_ref(b, refs[i]);
    fbb_push_u32(b, (uint32_t)n);
    return b->size;
}

void fbb_table_start(fbb *b) {
    b->n_fields = 0;
    b->table_base = b->size;
}

static void fbb_field(fbb *b, int id) {
    if (b->n_fields == FBB_MAX_FIELDS || id < 0 || id >= FBB_MAX_FIELDS) {
        b->oom = 1; /* a writer bug; reported as a failure to finish */
        return;
    }
    b->field_id[b->n_fields] = id;
    b->field_ref[b->n_fields++] = b->size;
}

void fbb_add_scalar(fbb *b, int id, const void *v, size_t size) {
    fbb_prep(b, size, size);
    fbb_push(b, v, size);
    fbb_field(b, id);
}

void fbb_add_i32(fbb *b, int id, int32_t v, int32_t def) {
    if (v != def) fbb_add_scalar(b, id, &v, 4);
}

void fbb_add_u8(fbb *b, int id, uint8_t v, uint8_t def) {
    if (v != def) fbb_add_scalar(b, id, &v, 1);
}

void fbb_add_ref(fbb *b, int id, size_t ref) {
    fbb_push_ref(b, ref);
    fbb_field(b, id);
}

/* Prepends the vtable of the table at ref tab (fields vt[0..n), inline
 * bytes len) and points the table at it. */
static size_t fbb_vtable(fbb *b, size_t tab, const uint16_t *vt, int n, uint32_t len) {
    fbb_prep(b, 2, 4 + 2 * (size_t)n);
    for (int i = n; i-- > 0;) fbb_push(b, &vt[i], 2);
    uint16_t head[2] = {(uint16_t)(4 + 2 * n), (uint16_t)len};
    fbb_push(b, head, 4);
    if (b->oom) return 0;
    /* the table's first word: its position minus its vtable's */
    int32_t so = (int32_t)(b->size - tab);
    memcpy(b->buf + b->cap - tab, &so, 4);
    return tab;
}

size_t fbb_table_end(fbb *b) {
    fbb_prep(b, 4, 4);
    fbb_zeros(b, 4);
    size_t tab = b->size;
    uint16_t vt[FBB_MAX_FIELDS] = {0};
    int n = 0;
    for (int i = 0; i < b->n_fields; i++) {
        vt[b->field_id[i]] = (uint16_t)(tab - b->field_ref[i]);
        if (b->field_id[i] + 1 > n) n = b->field_id[i] + 1;
    }
    return fbb_vtable(b, tab, vt, n, (uint32_t)(tab - b->table_base));
}

size_t fbb_table_copy(fbb *b, const uint8_t *inl, uint32_t len, size_t src_pos, const uint16_t *vt, int n,
                      const int *off_id, const size_t *off_ref, int n_off) {
    /* same position modulo 8 as in the source: each scalar field stays
     * aligned as it was there */
    if (b->minalign < 8) b->minalign = 8;
    fbb_zeros(b, (8 - (b->size + len + src_pos % 8) % 8) % 8);
    fbb_push(b, inl, len);
    if (b->oom) return 0;
    size_t tab = b->size;
    for (int k = 0; k < n_off; k++) {
        uint16_t fo = off_id[k] < n ? vt[off_id[k]] : 0;
        if (!fo || fo + 4u > len) continue;
        uint32_t v = (uint32_t)(tab - fo - off_ref[k]);
        memcpy(b->buf + b->cap - tab + fo, &v, 4);
    }
    return fbb_vtable(b, tab, vt, n, len);
}

int fbb_finish(fbb *b, size_t root, const char ident[4]) {
    if (b->minalign < 16) b->minalign = 16;
    fbb_prep(b, b->minalign, 8);
    fbb_push(b, ident, 4);
    fbb_push_ref(b, root);
    return b->oom ? -1 : 0;
}

const uint8_t *fbb_data(const fbb *b) {
    return b->buf + b->cap - b->size;
}
