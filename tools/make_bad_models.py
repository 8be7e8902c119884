#!/usr/bin/env python3
"""Crafts malformed .tflite files for tests/test_bad_inputs.py.

    python3 tools/make_bad_models.py [--models DIR] [--out DIR] [--check BIN]

Each file is a real model from ../shared/models with one deliberate defect:
truncations, offsets pointing outside the file, absurd vector lengths, graph
errors (bad tensor indices, operators in the wrong order), overflowing
shapes, broken quantisation, unsupported operators or options. The output is
deterministic. tests/bad/MANIFEST.json lists, per file, what was broken and
the substrings the one-line error must contain (all of them).

The edits are done in place on the FlatBuffer bytes: a small reader below
walks the TFLite tables (vtables, offsets, vectors) far enough to find the
byte position of the field to damage. Only fields present in the source
model can be edited this way, so each case names a model and an object that
is known to carry the field; generation stops loudly if that is not so.

--check BIN runs `BIN inspect` on every generated file and prints the error
next to the expectation (handy when adding cases).
"""
import argparse
import json
import os
import struct
import subprocess
import sys

# Field ids of the TFLite schema (schema.fbs, version 3) that are edited.
MODEL = dict(version=0, operator_codes=1, subgraphs=2, description=3, buffers=4)
OPCODE = dict(deprecated_builtin_code=0, custom_code=1, version=2, builtin_code=3)
SUBGRAPH = dict(tensors=0, inputs=1, outputs=2, operators=3)
TENSOR = dict(shape=0, type=1, buffer=2, name=3, quantization=4)
QUANT = dict(scale=2, zero_point=3, quantized_dimension=6)
OPERATOR = dict(opcode_index=0, inputs=1, outputs=2, options_type=3, options=4)
BUFFER = dict(data=0)
CONV_OPTS = dict(padding=0, stride_w=1, stride_h=2, activation=3)
DWCONV_OPTS = dict(padding=0, stride_w=1, stride_h=2, depth_multiplier=3, activation=4)
FC_OPTS = dict(activation=0, weights_format=1)


class FlatError(Exception):
    pass


class Table:
    """A FlatBuffer table: start position and its vtable."""

    def __init__(self, fb, pos):
        self.fb, self.pos = fb, pos
        self.vt = pos - fb.i32(pos)
        self.vt_len = fb.u16(self.vt)
        self.len = fb.u16(self.vt + 2)

    def field(self, fid):
        """Absolute byte position of field fid, or None when absent."""
        slot = 4 + 2 * fid
        if slot + 2 > self.vt_len:
            return None
        off = self.fb.u16(self.vt + slot)
        return self.pos + off if off else None

    def need(self, fid, what):
        at = self.field(fid)
        if at is None:
            raise FlatError(f"{what}: field {fid} of the table at byte {self.pos} is absent")
        return at

    def ref(self, fid, what="field"):
        at = self.need(fid, what)
        return at + self.fb.u32(at)

    def table(self, fid, what="table"):
        return Table(self.fb, self.ref(fid, what))

    def vector(self, fid, what="vector"):
        return Vector(self.fb, self.ref(fid, what))

    def has(self, fid):
        return self.field(fid) is not None


class Vector:
    """A FlatBuffer vector: position of its length word and of element 0."""

    def __init__(self, fb, at):
        self.fb, self.len_pos = fb, at
        self.n = fb.u32(at)
        self.pos = at + 4

    def elem(self, i, size=4):
        return self.pos + i * size

    def table(self, i):
        at = self.elem(i)
        return Table(self.fb, at + self.fb.u32(at))

    def i32(self, i):
        return self.fb.i32(self.elem(i))

    def f32(self, i):
        return self.fb.f32(self.elem(i))


class Flat:
    def __init__(self, data):
        self.b = bytearray(data)

    def u8(self, at):
        return self.b[at]

    def u16(self, at):
        return struct.unpack_from("<H", self.b, at)[0]

    def u32(self, at):
        return struct.unpack_from("<I", self.b, at)[0]

    def i32(self, at):
        return struct.unpack_from("<i", self.b, at)[0]

    def f32(self, at):
        return struct.unpack_from("<f", self.b, at)[0]

    def put(self, at, fmt, value):
        struct.pack_into("<" + fmt, self.b, at, value)


class Model:
    """Enough of a TFLite model to find the fields the cases edit."""

    def __init__(self, data):
        self.fb = fb = Flat(data)
        self.root = Table(fb, fb.u32(0))
        self.opcodes = self.root.vector(MODEL["operator_codes"])
        self.buffers = self.root.vector(MODEL["buffers"])
        self.sg = self.root.vector(MODEL["subgraphs"]).table(0)
        self.tensors = self.sg.vector(SUBGRAPH["tensors"])
        self.ops = self.sg.vector(SUBGRAPH["operators"])
        self.inputs = self.sg.vector(SUBGRAPH["inputs"])
        self.outputs = self.sg.vector(SUBGRAPH["outputs"])

    def tensor(self, i):
        return self.tensors.table(i)

    def op(self, i):
        return self.ops.table(i)

    def opcode(self, i):
        return self.opcodes.table(i)

    def op_io(self, i, which):
        return self.op(i).vector(OPERATOR[which])

    def op_code_index(self, i):
        at = self.op(i).field(OPERATOR["opcode_index"])
        return self.fb.u32(at) if at is not None else 0

    def tensor_buffer(self, t):
        at = self.tensor(t).field(TENSOR["buffer"])
        return self.fb.u32(at) if at is not None else 0

    def tensor_name(self, t):
        v = self.tensor(t).vector(TENSOR["name"])
        return bytes(self.fb.b[v.pos:v.pos + v.n]).decode("ascii", "replace")

    def quant(self, t):
        return self.tensor(t).table(TENSOR["quantization"])

    def find_op(self, code):
        """Index of the first operator with builtin code `code`."""
        for i in range(self.ops.n):
            c = self.opcode(self.op_code_index(i))
            codes = []
            for name in ("builtin_code", "deprecated_builtin_code"):
                at = c.field(OPCODE[name])
                if at is not None:
                    codes.append(self.fb.i32(at) if name == "builtin_code" else struct.unpack_from("<b", self.fb.b, at)[0])
            if code in codes:
                return i
        raise FlatError(f"no operator with builtin code {code}")

    def bytes(self):
        return bytes(self.fb.b)


# ---------------------------------------------------------------------------
# The cases. Each returns (bytes, what it breaks, [expected substrings]).

HELLO = "hello_world_int8.tflite"
SPEECH = "micro_speech_int8.tflite"
KWS = "kws_ds_cnn_int8.tflite"

OP_FC, OP_CONV, OP_DWCONV = 9, 3, 4


def truncations(src, name, points):
    out = []
    n = len(src)
    for label, at in points(Model(src), n):
        out.append((f"{name}_trunc_{label}", src[:at], f"cut to its first {at} of {n} bytes ({label})",
                    ["byte"] if at >= 8 else ["too short"]))
    return out


def hello_points(m, n):
    vt = m.root.vt
    return [
        ("4", 4), ("7", 7), ("8", 8),
        ("root_vtable", vt + 3),              # mid-vtable of the model table
        ("root_table", m.root.pos + 6),       # inside the model table
        ("opcodes_vec", m.opcodes.pos + 2),   # mid-vector
        ("buffers_vec", m.buffers.pos + 2),
        ("tensors_vec", m.tensors.pos + 2),
        ("quarter", n // 4), ("half", n // 2), ("three_quarters", 3 * n // 4),
        ("last_byte", n - 1),
    ]


def biggest_buffer(m):
    best, best_len = 0, -1
    for i in range(m.buffers.n):
        b = m.buffers.table(i)
        if b.has(BUFFER["data"]):
            v = b.vector(BUFFER["data"])
            if v.n > best_len:
                best, best_len = i, v.n
    return best, m.buffers.table(best).vector(BUFFER["data"])


def speech_points(m, n):
    _, data = biggest_buffer(m)
    return [("const_data", data.pos + data.n // 2), ("last_byte", n - 1)]


def edit(src, fn):
    m = Model(src)
    r = fn(m)
    return m.bytes(), r


def cases(models):
    H, S, K = models[HELLO], models[SPEECH], models[KWS]
    source = {id(v): k for k, v in models.items()}
    out = []

    def add(name, src, what, expect, fn=None, data=None):
        if fn is not None:
            data, extra = edit(src, fn)
            if callable(expect):
                expect = expect(extra)
        out.append((name, data, f"{source[id(src)]}: {what}", expect))

    # --- whole-file damage ---------------------------------------------------
    add("empty", H, "empty file", ["0 bytes", "too short"], data=b"")
    for src, short, points in ((H, "hello", hello_points), (S, "speech", speech_points)):
        for name, data, what, expect in truncations(src, short, points):
            add(name, src, what, expect, data=data)

    def wrong_ident(m):
        m.fb.b[4:8] = b"TFL2"
    add("wrong_identifier", H, "file identifier TFL2 instead of TFL3", ["file identifier", "byte 4"], wrong_ident)

    def bad_version(m):
        m.fb.put(m.root.need(MODEL["version"], "model.version"), "i", 2)
    add("schema_version_2", H, "model.version = 2", ["schema version 2"], bad_version)

    # --- offsets -------------------------------------------------------------
    def root_past_end(m):
        n = len(m.fb.b)
        m.fb.put(0, "I", n + 64)
        return n + 64
    add("root_past_end", H, "root table offset past the end of the file",
        lambda at: ["model table", f"byte {at}", "outside"], root_past_end)

    def vtable_before_start(m):
        m.fb.put(m.root.pos, "i", m.root.pos + 0x1000)  # vtable would be at a negative position
    add("vtable_before_file", H, "model table's vtable offset points before byte 0",
        ["model table", "bad vtable offset"], vtable_before_start)

    def vtable_past_end(m):
        m.fb.put(m.root.pos, "i", -(len(m.fb.b) + 0x100))
        return m.root.pos
    add("vtable_past_end", H, "model table's vtable offset points past the end",
        lambda p: [f"model table at byte {p}", "bad vtable offset"], vtable_past_end)

    def vtable_huge_size(m):
        vt = m.tensor(2).vt
        m.fb.put(vt, "H", 0xFFFE)
        # vtables are shared: the first tensor using this one reports it
        return next(i for i in range(m.tensors.n) if m.tensor(i).vt == vt)
    add("vtable_size_huge", H, "tensor 2's vtable (shared with other tensors) claims 65534 bytes",
        lambda t: [f"tensor {t}", "vtable", "bad size 65534"], vtable_huge_size)

    def table_inline_huge(m):
        t = m.op(1)
        m.fb.put(t.vt + 2, "H", 0xFFF0)
    add("table_size_huge", H, "operator 1's table claims 65520 inline bytes",
        ["operator 1", "inline size 65520"], table_inline_huge)

    def field_outside_table(m):
        t = m.tensor(1)
        slot = t.vt + 4 + 2 * TENSOR["type"]
        m.fb.put(slot, "H", t.len + 8)
    add("field_outside_table", H, "tensor 1's type field lies outside its table",
        ["tensor 1", "field 1", "outside the table"], field_outside_table)

    def subgraphs_offset_past_end(m):
        at = m.root.need(MODEL["subgraphs"], "model.subgraphs")
        m.fb.put(at, "I", 0x7FFFFFF0)
    add("offset_past_end", H, "model.subgraphs offset points past the end of the file",
        ["model.subgraphs", "field 2", "past the end"], subgraphs_offset_past_end)

    def operator_offset_past_end(m):
        m.fb.put(m.ops.elem(2), "I", 0x40000000)
    add("operator_offset_past_end", H, "operators[2] offset points past the end of the file",
        ["operator 2", "past the end"], operator_offset_past_end)

    def tables_alias(m):
        # the operators vector points at the tensors vector: offsets that loop
        # back into another part of the tree
        at = m.sg.need(SUBGRAPH["operators"], "subgraph.operators")
        m.fb.put(at, "I", m.tensors.len_pos - at)
    add("operators_alias_tensors", H, "subgraph.operators points at the tensors vector (aliasing offsets)",
        ["operator 0"], tables_alias)

    def self_referencing_vector(m):
        # subgraphs[0] points at the subgraphs vector's own length word
        v = m.root.vector(MODEL["subgraphs"])
        m.fb.put(v.elem(0), "I", (v.len_pos - v.elem(0)) & 0xFFFFFFFF)
    add("subgraph_points_to_itself", H, "subgraphs[0] offset points backwards at its own vector",
        ["subgraph"], self_referencing_vector)

    # --- vectors and strings -------------------------------------------------
    def tensors_len_huge(m):
        m.fb.put(m.tensors.len_pos, "I", 0xFFFFFFFF)
        return m.tensors.len_pos
    add("vector_len_huge", H, "subgraph.tensors vector length 0xFFFFFFFF",
        lambda p: [f"vector at byte {p}", "4294967295 elements", "past the end"], tensors_len_huge)

    def shape_len_huge(m):
        v = m.tensor(3).vector(TENSOR["shape"])
        m.fb.put(v.len_pos, "I", 0x40000000)
    add("shape_len_huge", H, "tensor 3 shape vector length 2^30", ["tensor 3", "past the end"], shape_len_huge)

    def buffers_len_huge(m):
        m.fb.put(m.buffers.len_pos, "I", 0x3FFFFFFF)
    add("buffers_len_huge", H, "model.buffers vector length 2^30-1", ["model.buffers", "past the end"],
        buffers_len_huge)

    def string_unterminated(m):
        v = m.root.vector(MODEL["description"])
        m.fb.put(v.len_pos, "I", len(m.fb.b) - v.pos)
        return v.len_pos
    add("string_no_terminator", H, "model.description string runs to the last byte with no NUL",
        lambda p: ["model.description", f"byte {p}", "no terminator"], string_unterminated)

    def tensor_name_len_huge(m):
        v = m.tensor(4).vector(TENSOR["name"])
        m.fb.put(v.len_pos, "I", 0x7FFFFFFF)
    add("tensor_name_len_huge", H, "tensor 4 name length 2^31-1", ["tensor 4", "tensor.name", "past the end"],
        tensor_name_len_huge)

    # --- graph structure -------------------------------------------------------
    def subgraph_count(m):
        v = m.root.vector(MODEL["subgraphs"])
        m.fb.put(v.len_pos, "I", 2)
    add("two_subgraphs", H, "model.subgraphs claims 2 subgraphs", ["2 subgraphs"], subgraph_count)

    def buffer_index_oob(m):
        for t in range(m.tensors.n):
            at = m.tensor(t).field(TENSOR["buffer"])
            if at is not None and m.fb.u32(at) > 0:
                m.fb.put(at, "I", 1000)
                return t
        raise FlatError("no tensor with a buffer field")
    add("tensor_buffer_oob", H, "a tensor's buffer index is 1000",
        lambda t: [f"tensor {t}", "buffer index 1000 out of range"], buffer_index_oob)

    def buffer_index_neg(m):
        for t in range(m.tensors.n):
            at = m.tensor(t).field(TENSOR["buffer"])
            if at is not None and m.fb.u32(at) > 0:
                m.fb.put(at, "i", -5)
                return t
        raise FlatError("no tensor with a buffer field")
    add("tensor_buffer_negative", H, "a tensor's buffer index is -5",
        lambda t: [f"tensor {t}", "out of range"], buffer_index_neg)

    def op_input_oob(m):
        v = m.op_io(1, "inputs")
        m.fb.put(v.elem(0), "i", m.tensors.n + 7)
        return m.tensors.n + 7
    add("op_input_oob", H, "operator 1 input 0 = n_tensors + 7",
        lambda x: ["operator 1", f"inputs[0] = {x}", "not a tensor index"], op_input_oob)

    def op_input_neg2(m):
        m.fb.put(m.op_io(2, "inputs").elem(1), "i", -2)
    add("op_input_minus2", H, "operator 2 input 1 = -2", ["operator 2", "inputs[1] = -2"], op_input_neg2)

    def op_output_oob(m):
        m.fb.put(m.op_io(0, "outputs").elem(0), "i", 0x7FFFFFFF)
    add("op_output_oob", H, "operator 0 output 0 = 2^31-1", ["operator 0", "outputs[0] = 2147483647"],
        op_output_oob)

    def graph_input_oob(m):
        m.fb.put(m.inputs.elem(0), "i", 99)
    add("graph_input_oob", H, "subgraph input 0 = 99 (10 tensors)", ["subgraph.inputs[0] = 99"], graph_input_oob)

    def opcode_oob(m):
        for i in range(m.ops.n):
            at = m.op(i).field(OPERATOR["opcode_index"])
            if at is not None:
                m.fb.put(at, "I", 77)
                return i
        raise FlatError("no operator with an opcode_index field")
    add("opcode_index_oob", S, "an operator's opcode_index is 77",
        lambda i: [f"operator {i}", "opcode_index 77 out of range"], opcode_oob)

    def reads_later_output(m):
        # operator 0 reads what operator 1 writes: wrong order / cycle
        later = m.op_io(1, "outputs").i32(0)
        m.fb.put(m.op_io(0, "inputs").elem(0), "i", later)
        return later
    add("op_reads_later_output", H, "operator 0 reads the output of operator 1 (out of order)",
        lambda t: ["operator 0", f"tensor {t}", "read before any operator writes it"], reads_later_output)

    def cycle(m):
        # operator 0 reads operator 2's output, operator 2 reads operator 1's: a cycle 0 -> 1 -> 2 -> 0
        last = m.op_io(2, "outputs").i32(0)
        m.fb.put(m.op_io(0, "inputs").elem(0), "i", last)
        return last
    add("op_cycle", H, "operator 0 reads the graph output written by operator 2 (cycle)",
        lambda t: ["operator 0", f"tensor {t}", "read before"], cycle)

    def self_loop(m):
        own = m.op_io(1, "outputs").i32(0)
        m.fb.put(m.op_io(1, "inputs").elem(0), "i", own)
        return own
    add("op_reads_own_output", H, "operator 1 reads its own output",
        lambda t: ["operator 1", f"tensor {t}", "read before"], self_loop)

    def writes_input(m):
        gin = m.inputs.i32(0)
        m.fb.put(m.op_io(1, "outputs").elem(0), "i", gin)
        return gin
    add("op_writes_graph_input", H, "operator 1 writes the graph input tensor",
        lambda t: ["operator 1", f"tensor {t}", "already a graph input"], writes_input)

    def writes_constant(m):
        w = m.op_io(0, "inputs").i32(1)
        m.fb.put(m.op_io(2, "outputs").elem(0), "i", w)
        return w
    add("op_writes_constant", H, "operator 2 writes operator 0's weights",
        lambda t: ["operator 2", f"tensor {t}", "constant"], writes_constant)

    def double_write(m):
        o0 = m.op_io(0, "outputs").i32(0)
        m.fb.put(m.op_io(1, "outputs").elem(0), "i", o0)
        return o0
    add("op_output_written_twice", H, "operators 0 and 1 write the same tensor",
        lambda t: ["operator 1", f"tensor {t}", "written by an earlier operator"], double_write)

    # --- shapes and sizes ------------------------------------------------------
    def dims_overflow(m):
        t = m.op_io(0, "outputs").i32(0)
        v = m.tensor(t).vector(TENSOR["shape"])
        assert v.n == 2
        m.fb.put(v.elem(0), "i", 1 << 30)
        m.fb.put(v.elem(1), "i", 1 << 30)
        return t
    add("dims_2p30_x_2p30", H, "a tensor of shape [2^30, 2^30] (element count overflows)",
        lambda t: [f"tensor {t}", "overflows"], dims_overflow)

    def dims_int_max(m):
        t = m.op_io(1, "outputs").i32(0)
        v = m.tensor(t).vector(TENSOR["shape"])
        m.fb.put(v.elem(0), "i", 0x7FFFFFFF)
        m.fb.put(v.elem(1), "i", 0x7FFFFFFF)
        return t
    add("dims_int_max", H, "a tensor of shape [2^31-1, 2^31-1]",
        lambda t: [f"tensor {t}", "overflows"], dims_int_max)

    def dims_too_big(m):
        t = m.op_io(0, "outputs").i32(0)
        v = m.tensor(t).vector(TENSOR["shape"])
        m.fb.put(v.elem(0), "i", 1 << 16)
        m.fb.put(v.elem(1), "i", 1 << 16)
        return t
    add("dims_4gib", H, "an int8 tensor of shape [65536, 65536] (4 GiB)",
        lambda t: [f"tensor {t}", "1 GiB"], dims_too_big)

    def dim_negative(m):
        t = m.op_io(1, "outputs").i32(0)
        v = m.tensor(t).vector(TENSOR["shape"])
        m.fb.put(v.elem(1), "i", -16)
        return t
    add("dim_negative", H, "a tensor dimension of -16",
        lambda t: [f"tensor {t}", "dimension 1 is -16"], dim_negative)

    def rank_too_big(m):
        v = m.tensor(0).vector(TENSOR["shape"])
        m.fb.put(v.len_pos, "I", 7)
    add("rank_7", H, "tensor 0 of rank 7", ["tensor 0", "rank 7"], rank_too_big)

    def const_size_wrong(m):
        w = m.op_io(1, "inputs").i32(1)
        b = m.tensor_buffer(w)
        v = m.buffers.table(b).vector(BUFFER["data"])
        m.fb.put(v.len_pos, "I", v.n - 1)
        return w, b, v.n - 1
    add("const_buffer_short", H, "operator 1's weights buffer is one byte short",
        lambda r: [f"tensor {r[0]}", f"constant buffer {r[1]} holds {r[2]} bytes"], const_size_wrong)

    def shape_mismatch(m):
        t = m.op_io(1, "outputs").i32(0)
        v = m.tensor(t).vector(TENSOR["shape"])
        m.fb.put(v.elem(1), "i", 15)
        return t
    add("fc_output_shape_wrong", H, "operator 1's output has 15 units instead of 16",
        ["operator 1", "FULLY_CONNECTED", "output"], shape_mismatch)

    # --- types and quantisation ----------------------------------------------
    def conv_input_int16(m):
        i = m.find_op(OP_CONV)
        t = m.op_io(i, "inputs").i32(0)
        m.fb.put(m.tensor(t).need(TENSOR["type"], "tensor.type"), "B", 7)
        return i, t
    add("conv_input_int16", K, "the first CONV_2D's input tensor is int16",
        lambda r: [f"operator {r[0]}", "CONV_2D", "int16"], conv_input_int16)

    def type_unknown(m):
        m.fb.put(m.tensor(0).need(TENSOR["type"], "tensor.type"), "B", 200)
    add("tensor_type_200", H, "tensor 0 has type code 200", ["tensor"], type_unknown)

    def per_channel_mismatch(m):
        i = m.find_op(OP_CONV)
        w = m.op_io(i, "inputs").i32(1)
        q = m.quant(w)
        sc, zp = q.vector(QUANT["scale"]), q.vector(QUANT["zero_point"])
        assert sc.n > 2 and zp.n == sc.n
        m.fb.put(sc.len_pos, "I", 2)
        m.fb.put(zp.len_pos, "I", 2)
        return i, sc.n
    add("per_channel_scale_mismatch", K, "the first CONV_2D's filter has 2 scales for all its output channels",
        lambda r: [f"operator {r[0]}", "2 scales for", f"{r[1]} output channels"], per_channel_mismatch)

    def zp_count_mismatch(m):
        zp2 = m.quant(m.outputs.i32(0)).vector(QUANT["zero_point"])
        m.fb.put(zp2.len_pos, "I", 3)
        return m.outputs.i32(0)
    add("zero_point_count_mismatch", H, "the output tensor has 1 scale but 3 zero points",
        lambda t: [f"tensor {t}", "1 scales but 3 zero points"], zp_count_mismatch)

    def set_scale(value):
        def f(m):
            t = m.op_io(0, "outputs").i32(0)
            sc = m.quant(t).vector(QUANT["scale"])
            m.fb.put(sc.elem(0), "f", value)
            return t
        return f
    add("scale_zero", H, "an activation scale of 0", lambda t: [f"tensor {t}", "scale 0 is 0"], set_scale(0.0))
    add("scale_negative", H, "an activation scale of -0.25",
        lambda t: [f"tensor {t}", "scale 0 is -0.25"], set_scale(-0.25))
    add("scale_nan", H, "an activation scale of NaN", lambda t: [f"tensor {t}", "nan"], set_scale(float("nan")))
    add("scale_inf", H, "an activation scale of +inf", lambda t: [f"tensor {t}", "inf"], set_scale(float("inf")))

    def zero_point_huge(m):
        t = m.op_io(0, "outputs").i32(0)
        zp = m.quant(t).vector(QUANT["zero_point"])
        m.fb.put(zp.elem(0, 8), "q", 1 << 40)
        return t
    add("zero_point_huge", H, "a zero point of 2^40", lambda t: [f"tensor {t}", "zero point"], zero_point_huge)

    # --- operators and options ---------------------------------------------------
    def set_opcode(code):
        def f(m):
            i = m.find_op(OP_FC)
            c = m.opcode(m.op_code_index(i))
            at = c.field(OPCODE["builtin_code"])
            if at is not None:
                m.fb.put(at, "i", code)
            at = c.field(OPCODE["deprecated_builtin_code"])
            if at is not None:
                m.fb.put(at, "b", min(code, 127))
            return i
        return f
    add("unsupported_op_lstm", H, "the FULLY_CONNECTED opcode becomes LSTM (16)",
        lambda i: [f"operator {i}", "LSTM", "not supported"], set_opcode(16))
    add("unsupported_op_seq_lstm", H, "the FULLY_CONNECTED opcode becomes UNIDIRECTIONAL_SEQUENCE_LSTM (44)",
        lambda i: [f"operator {i}", "UNIDIRECTIONAL_SEQUENCE_LSTM", "24"], set_opcode(44))
    add("unsupported_op_code_999", H, "the FULLY_CONNECTED opcode becomes 999 (unknown)",
        lambda i: [f"operator {i}", "999"], set_opcode(999))

    def activation(m):
        i = 0
        o = m.op(i).table(OPERATOR["options"])
        m.fb.put(o.need(FC_OPTS["activation"], "fc.activation"), "B", 5)  # SIGN_BIT
        return i
    add("unsupported_activation", H, "operator 0's fused activation is SIGN_BIT (5)",
        lambda i: [f"operator {i}", "fused activation 5"], activation)

    def options_type(m):
        m.fb.put(m.op(0).need(OPERATOR["options_type"], "operator.options_type"), "B", 1)
    add("options_union_type_wrong", H, "operator 0 (FULLY_CONNECTED) carries Conv2DOptions",
        ["operator 0", "union type 1"], options_type)

    def stride_zero(m):
        i = m.find_op(OP_CONV)
        o = m.op(i).table(OPERATOR["options"])
        m.fb.put(o.need(CONV_OPTS["stride_w"], "conv.stride_w"), "i", 0)
        return i
    add("conv_stride_zero", K, "the first CONV_2D has stride_w 0",
        lambda i: [f"operator {i}", "CONV_2D", "stride"], stride_zero)

    def dw_stride_negative(m):
        i = m.find_op(OP_DWCONV)
        o = m.op(i).table(OPERATOR["options"])
        m.fb.put(o.need(DWCONV_OPTS["stride_h"], "dwconv.stride_h"), "i", -2)
        return i
    add("dwconv_stride_negative", S, "the DEPTHWISE_CONV_2D has stride_h -2",
        lambda i: [f"operator {i}", "DEPTHWISE_CONV_2D", "stride"], dw_stride_negative)

    def dw_stride_int_max(m):
        # (in + stride - 1) used to overflow int32 in the output-size formula
        i = m.find_op(OP_DWCONV)
        o = m.op(i).table(OPERATOR["options"])
        m.fb.put(o.need(DWCONV_OPTS["stride_w"], "dwconv.stride_w"), "i", 0x7FFFFFFF)
        return i
    add("dwconv_stride_int_max", S, "the DEPTHWISE_CONV_2D has stride_w 2^31-1",
        lambda i: [f"operator {i}", "DEPTHWISE_CONV_2D", "stride_w is 2147483647"], dw_stride_int_max)

    def empty_input(m):
        # a 0 dimension: used to reach a division by the channel count
        t = m.inputs.i32(0)
        v = m.tensor(t).vector(TENSOR["shape"])
        m.fb.put(v.elem(v.n - 1), "i", 0)
        return t
    add("input_dimension_zero", H, "the graph input has a dimension of 0",
        lambda t: ["operator 0", f"tensor {t}", "empty"], empty_input)

    def bias_overflow(m):
        # bias + products used to overflow the kernels' int32 accumulator
        b = m.op_io(1, "inputs").i32(2)
        v = m.buffers.table(m.tensor_buffer(b)).vector(BUFFER["data"])
        m.fb.put(v.pos, "i", 0x7FFFFFF0)
        return b
    add("bias_overflows_accumulator", H, "operator 1's first bias value is 2^31-16",
        ["operator 1", "overflow the int32 accumulator"], bias_overflow)

    def zero_point_int8_range(m):
        t = m.op_io(0, "outputs").i32(0)
        zp = m.quant(t).vector(QUANT["zero_point"])
        m.fb.put(zp.elem(0, 8), "q", 1000)
        return t
    add("zero_point_outside_int8", H, "an int8 activation with zero point 1000",
        lambda t: [f"tensor {t}", "zero point 1000 outside the int8 range"], zero_point_int8_range)

    def too_many_operators(m):
        # appends a table for one operator and a 10001-entry operators vector
        # pointing at it, and repoints subgraph.operators there: the reader
        # refuses the count before looking at the (repeated) operator
        b = m.fb.b
        b.extend(b"\0" * (-len(b) % 4))
        n = 10001
        vec = len(b)
        tab = vec + 4 + 4 * n
        vt = tab + 16
        ins = vt + 12
        outs = ins + 8
        b.extend(b"\0" * (outs + 8 - vec))
        m.fb.put(vec, "I", n)
        for k in range(n):
            m.fb.put(vec + 4 + 4 * k, "I", tab - (vec + 4 + 4 * k))
        m.fb.put(tab, "i", tab - vt)
        m.fb.put(tab + 8, "I", ins - (tab + 8))
        m.fb.put(tab + 12, "I", outs - (tab + 12))
        struct.pack_into("<6H", b, vt, 10, 16, 4, 8, 12, 0)
        struct.pack_into("<2I", b, ins, 1, 0)
        struct.pack_into("<2I", b, outs, 1, 1)
        at = m.sg.need(SUBGRAPH["operators"], "subgraph.operators")
        m.fb.put(at, "I", vec - at)
    add("too_many_operators", H, "subgraph.operators holds 10001 operators (limit 10000)",
        ["10001 operators", "limit"], too_many_operators)

    def pool_filter_zero(m):
        i = m.find_op(1)  # AVERAGE_POOL_2D
        o = m.op(i).table(OPERATOR["options"])
        m.fb.put(o.need(3, "pool.filter_width"), "i", 0)
        return i
    add("avgpool_filter_zero", K, "the AVERAGE_POOL_2D has a filter width of 0",
        lambda i: [f"operator {i}", "AVERAGE_POOL_2D", "filter_width is 0"], pool_filter_zero)

    # --- the TFLM contract (src/ir/validate.c) ----------------------------------
    def dw_multiplier(value):
        def f(m):
            i = m.find_op(OP_DWCONV)
            o = m.op(i).table(OPERATOR["options"])
            m.fb.put(o.need(DWCONV_OPTS["depth_multiplier"], "dwconv.depth_multiplier"), "i", value)
            return i
        return f
    for label, v in (("0", 0), ("minus1", -1), ("3", 3), ("int_max", 0x7FFFFFFF)):
        add(f"dwconv_depth_multiplier_{label}", S, f"the first DEPTHWISE_CONV_2D has depth_multiplier {v}",
            lambda i, v=v: [f"operator {i}", "DEPTHWISE_CONV_2D", f"depth_multiplier is {v}"], dw_multiplier(v))

    def no_zero_points(m):
        t = m.inputs.i32(0)
        zp = m.quant(t).vector(QUANT["zero_point"])
        m.fb.put(zp.len_pos, "I", 0)
        return t
    add("scales_without_zero_points", H, "the graph input has a scale and an empty zero-point vector",
        lambda t: [f"tensor {t}", "1 scales and no zero points"], no_zero_points)

    def pool_requantises(m):
        i = m.find_op(1)  # AVERAGE_POOL_2D
        t = m.op_io(i, "outputs").i32(0)
        sc = m.quant(t).vector(QUANT["scale"])
        m.fb.put(sc.elem(0), "f", sc.f32(0) * 2)
        return i, t
    add("avgpool_output_scale_differs", K, "the AVERAGE_POOL_2D's output scale is twice its input's",
        lambda r: [f"operator {r[0]}", "AVERAGE_POOL_2D", f"output tensor {r[1]}", "scale"], pool_requantises)

    def fc_one_input(m):
        m.fb.put(m.op_io(0, "inputs").len_pos, "I", 1)
    add("fc_one_input", H, "operator 0 (FULLY_CONNECTED) lists only its input, no weights",
        ["operator 0", "FULLY_CONNECTED", "has 1 inputs", "2 to 3"], fc_one_input)

    def dw_quant_dim(m):
        i = m.find_op(OP_DWCONV)
        w = m.op_io(i, "inputs").i32(1)
        q = m.quant(w)
        m.fb.put(q.need(QUANT["quantized_dimension"], "quantized_dimension"), "i", 0)
        return i, w
    add("dwconv_filter_quantized_dimension_0", S, "the first DEPTHWISE_CONV_2D's per-channel filter names axis 0",
        lambda r: [f"operator {r[0]}", f"filter tensor {r[1]}", "quantized_dimension 0"], dw_quant_dim)

    def fc_bias_scale(m):
        b = m.op_io(0, "inputs").i32(2)
        sc = m.quant(b).vector(QUANT["scale"])
        m.fb.put(sc.elem(0), "f", sc.f32(0) * 4)
        return b
    add("fc_bias_scale_wrong", H, "operator 0's bias scale is 4x input scale x weights scale",
        lambda b: ["operator 0", "FULLY_CONNECTED", f"bias tensor {b}", "scale"], fc_bias_scale)

    def op_version(value):
        def f(m):
            c = m.opcode(m.op_code_index(0))
            m.fb.put(c.need(OPCODE["version"], "operator_code.version"), "i", value)
        return f
    for label, v in (("0", 0), ("minus1", -1), ("1000", 1000)):
        add(f"op_version_{label}", H, f"operator 0 (FULLY_CONNECTED) has version {v}",
            ["operator 0", "FULLY_CONNECTED", f"version {v}"], op_version(v))

    def huge_activation(m):
        # a 536-byte-like model asking for a 128 MiB input: refused before
        # anything is sized by it, naming the tensor
        t = m.inputs.i32(0)
        v = m.tensor(t).vector(TENSOR["shape"])
        m.fb.put(v.elem(0), "i", 1 << 27)
        return t
    add("activation_128mib", H, "the graph input has shape [2^27, 1] (128 MiB of activations)",
        lambda t: [f"tensor {t}", "host limit"], huge_activation)
    return out


def generate(models_dir, out_dir):
    names = (HELLO, SPEECH, KWS)
    models = {}
    for n in names:
        with open(os.path.join(models_dir, n), "rb") as f:
            models[n] = f.read()
    produced = cases(models)
    os.makedirs(out_dir, exist_ok=True)
    for old in os.listdir(out_dir):
        if old.endswith(".tflite"):
            os.remove(os.path.join(out_dir, old))
    manifest = {}
    seen = set()
    for name, data, what, expect in produced:
        if name in seen:
            raise FlatError(f"duplicate case {name}")
        seen.add(name)
        fn = name + ".tflite"
        with open(os.path.join(out_dir, fn), "wb") as f:
            f.write(data)
        manifest[fn] = {"breaks": what, "expect": expect}
    with open(os.path.join(out_dir, "MANIFEST.json"), "w") as f:
        json.dump({
            "about": "Crafted bad models (tools/make_bad_models.py). For each file: what is broken and the "
                     "substrings the one-line error of `pexc inspect` / `pexc run` must all contain.",
            "files": manifest,
        }, f, indent=1, sort_keys=True)
        f.write("\n")
    return manifest


def check(out_dir, binary, manifest):
    bad = 0
    for fn in sorted(manifest):
        r = subprocess.run([binary, "inspect", os.path.join(out_dir, fn)], capture_output=True, text=True, timeout=30)
        err = r.stderr.strip()
        ok = r.returncode == 1 and len(r.stderr.splitlines()) == 1 and all(s in err for s in manifest[fn]["expect"])
        bad += not ok
        print(f"{'ok ' if ok else 'BAD'} {fn}: rc={r.returncode} {err}\n      expect {manifest[fn]['expect']}")
    return bad


def main():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--models", default=os.path.join(root, "..", "shared", "models"))
    ap.add_argument("--out", default=os.path.join(root, "tests", "bad"))
    ap.add_argument("--check", metavar="BIN", help="run BIN inspect on every file and compare")
    a = ap.parse_args()
    manifest = generate(a.models, a.out)
    total = sum(os.path.getsize(os.path.join(a.out, f)) for f in manifest)
    print(f"{len(manifest)} files, {total} bytes in {a.out}")
    if a.check:
        sys.exit(1 if check(a.out, a.check, manifest) else 0)


if __name__ == "__main__":
    main()
