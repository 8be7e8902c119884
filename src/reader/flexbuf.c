/*
 * A bounded FlexBuffer map reader, for custom operators' options.
 *
 * A FlexBuffer is read from its end: the last byte is the root's slot
 * width, the byte before it the root's packed type (type << 2 | log2 of the
 * width of the slots it points to), and the slot before that the root.
 * A map root is an unsigned offset back to the map's first value slot.
 * Before the values sit, one slot each, the offset back to the key vector,
 * the key slots' width and the entry count; after the values come one type
 * byte per entry. Keys are offsets back to NUL-terminated strings, sorted,
 * and the values follow the keys' order.
 *
 * TFLM's signal kernels read value i of the map as a plain integer of the
 * slot's width (FlexbufferWrapper), whatever its type says, so a caller
 * here names the key it expects at each index and the value must be an
 * inline integer or boolean: anything else TFLM would misread, and pexc
 * refuses instead. Every position is checked against the buffer before a
 * byte of it is read, as in reader.c; the buffer is a few dozen bytes, so
 * nothing here loops on its contents beyond one pass over a key.
 */
#include <string.h>

#include "internal.h"

enum {
    FBT_INT = 1, FBT_UINT = 2, FBT_MAP = 9, FBT_BOOL = 26,
};

/* An unsigned integer of w bytes (1, 2, 4 or 8) at b + at, little-endian. */
static uint64_t rd_uint(const uint8_t *b, size_t at, uint32_t w) {
    uint64_t v = 0;
    for (uint32_t k = 0; k < w; k++) v |= (uint64_t)b[at + k] << (8 * k);
    return v;
}

static int width_ok(uint64_t w) { return w == 1 || w == 2 || w == 4 || w == 8; }

/* The position `off` bytes before `at`, when it lies in [0, at]. */
static int back(size_t at, uint64_t off, size_t *to) {
    if (off > at) return -1;
    *to = at - (size_t)off;
    return 0;
}

int flexbuf_map_open(const uint8_t *b, size_t n, flexbuf_map *m, util_err *err) {
    memset(m, 0, sizeof *m);
    if (!b || n < 3) return util_fail(err, "custom options: %zu bytes are too few for a FlexBuffer", n);
    uint32_t rw = b[n - 1];
    uint8_t packed = b[n - 2];
    if (!width_ok(rw) || rw > n - 2)
        return util_fail(err, "custom options: root width %u does not fit the %zu-byte FlexBuffer", rw, n);
    if (packed >> 2 != FBT_MAP)
        return util_fail(err, "custom options: the FlexBuffer root has type %u, not a map", packed >> 2);
    size_t root = n - 2 - rw;
    uint32_t w = 1u << (packed & 3);
    size_t vals;
    if (back(root, rd_uint(b, root, rw), &vals) || vals < 3 * (size_t)w)
        return util_fail(err, "custom options: the map offset at byte %zu points outside the FlexBuffer", root);
    uint64_t len = rd_uint(b, vals - w, w), kw = rd_uint(b, vals - 2 * w, w);
    size_t kslot = vals - 3 * (size_t)w, keys;
    /* values, then one type byte per entry, inside the buffer */
    if (len > (n - vals) / (w + 1u))
        return util_fail(err, "custom options: a map of %llu entries runs past the %zu-byte FlexBuffer",
                         (unsigned long long)len, n);
    if (!width_ok(kw) || back(kslot, rd_uint(b, kslot, w), &keys) || keys < kw ||
        rd_uint(b, keys - kw, (uint32_t)kw) != len || len > (n - keys) / kw)
        return util_fail(err, "custom options: the map's key vector (at byte %zu) is malformed", kslot);
    m->b = b;
    m->n = n;
    m->vals = vals;
    m->width = w;
    m->len = (uint32_t)len;
    m->keys = keys;
    m->key_width = (uint32_t)kw;
    return 0;
}

const char *flexbuf_map_key(const flexbuf_map *m, uint32_t i) {
    if (i >= m->len) return NULL;
    size_t slot = m->keys + (size_t)i * m->key_width, at;
    if (back(slot, rd_uint(m->b, slot, m->key_width), &at)) return NULL;
    const void *nul = memchr(m->b + at, 0, m->n - at);
    return nul ? (const char *)(m->b + at) : NULL;
}

int flexbuf_map_int(const flexbuf_map *m, uint32_t i, int64_t *v, util_err *err) {
    if (i >= m->len) return util_fail(err, "custom options: the map has %u entries, no entry %u", m->len, i);
    uint8_t type = m->b[m->vals + (size_t)m->len * m->width + i] >> 2;
    if (type != FBT_INT && type != FBT_UINT && type != FBT_BOOL)
        return util_fail(err, "custom options: entry %u has FlexBuffer type %u, not an inline integer", i, type);
    uint64_t u = rd_uint(m->b, m->vals + (size_t)i * m->width, m->width);
    /* sign-extend from the slot's width, as TFLM's ReadInt64 does */
    uint32_t bits = 8 * m->width;
    if (bits < 64 && (u >> (bits - 1) & 1)) u |= ~(uint64_t)0 << bits;
    *v = (int64_t)u;
    return 0;
}
