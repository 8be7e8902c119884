/* The .tflite writer (src/writer): a FlatBuffers byte builder (fbb.c) and
 * the TFLite model writer on top of it (tflite.c). */
#ifndef PEXC_WRITER_H
#define PEXC_WRITER_H

#include "internal.h"

/* ------------------------------------------------------------------------
 * fbb: a FlatBuffers builder. Bytes are prepended, so an object is known by
 * its distance from the end of the buffer (a "ref"); a reference to an
 * object can only be written after the object, as FlatBuffers requires
 * (offsets point forward, to higher addresses).
 * ---------------------------------------------------------------------- */

#define FBB_MAX_FIELDS 32

typedef struct {
    uint8_t *buf;    /* bytes live at buf[cap - size, cap) */
    size_t cap, size;
    size_t minalign; /* the largest alignment asked for: the finished size is a multiple of it */
    int oom;         /* a growth failed; every later call is a no-op */
    /* the table under construction */
    int n_fields;
    int32_t field_id[FBB_MAX_FIELDS];
    size_t field_ref[FBB_MAX_FIELDS];
    size_t table_base;
} fbb;

void fbb_init(fbb *b);
void fbb_free(fbb *b);
/* Pads so that `next` more bytes end on an `align` boundary. */
void fbb_prep(fbb *b, size_t align, size_t next);
/* A vector of n elements of elem bytes (little-endian already), its data
 * aligned to align (4 or more). */
size_t fbb_vector(fbb *b, const void *data, size_t n, size_t elem, size_t align);
/* A string of n bytes (a NUL is added after them). */
size_t fbb_string(fbb *b, const char *s, size_t n);
/* A vector of references to tables (or strings) written before. */
size_t fbb_ref_vector(fbb *b, const size_t *refs, size_t n);
void fbb_table_start(fbb *b);
/* Scalars of 1, 2, 4 or 8 bytes; written only when not the default, as
 * flatc does (fbb_add_scalar always writes). */
void fbb_add_scalar(fbb *b, int id, const void *v, size_t size);
void fbb_add_i32(fbb *b, int id, int32_t v, int32_t def);
void fbb_add_u8(fbb *b, int id, uint8_t v, uint8_t def);
void fbb_add_ref(fbb *b, int id, size_t ref);
size_t fbb_table_end(fbb *b);
/* Copies a table of another buffer byte for byte: its inline bytes inl[len]
 * (which sat at src_pos there, so the copy keeps its alignment), its vtable
 * field offsets vt[n], and for the offset fields off_id[k] the refs
 * off_ref[k] of their targets, already written here. */
size_t fbb_table_copy(fbb *b, const uint8_t *inl, uint32_t len, size_t src_pos, const uint16_t *vt, int n,
                      const int *off_id, const size_t *off_ref, int n_off);
/* Writes the root reference and the file identifier; the result is
 * fbb_data(b)[0, b->size). -1 when out of memory. */
int fbb_finish(fbb *b, size_t root, const char ident[4]);
const uint8_t *fbb_data(const fbb *b);

/* ------------------------------------------------------------------------
 * tflite: the model writer.
 * ---------------------------------------------------------------------- */

/* Writes g (as reader_load gave it, before ir_expand) as a .tflite file:
 * subgraph 0's tensors from g with their edits (shape, type, data,
 * quantisation), everything else (operator codes, operators with their
 * options and custom options, other subgraphs, buffers, metadata,
 * signature defs) copied from g->file. *out is malloc'd. */
int writer_tflite(const ir_graph *g, uint8_t **out, size_t *out_len, util_err *err);
/* Writes bytes to path through a temporary file in the same directory and
 * a rename, so path is either the whole file or untouched. */
int writer_save(const char *path, const uint8_t *bytes, size_t len, util_err *err);
/* Whether writer_save could create its temporary file beside path (checked
 * before long work, so a bad output path fails at once). */
int writer_probe(const char *path, util_err *err);

#endif
