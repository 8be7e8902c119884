#!/usr/bin/env python3
"""Structure-aware mutator of .tflite models, for differential testing.

    python3 tests/mutate.py SRC.tflite OUT_DIR [-n N] [--seed S]

A model is parsed with the schema's object API (the tflite-micro package's
schema_py_generated, as tools/gen_models.py does), one to three schema
fields are edited, and the model is serialised again with flatbuffers. The
edits are the ones a converter bug or a hand-made file can produce: tensor
shapes and types, quantisation vectors (scales, zero points, quantized
dimension, vectors left out), operator options (strides, dilations,
depth multiplier, padding, window sizes, fused activations, axes, beta,
options left out), operand lists (an extra, missing or absent operand),
operator versions, the builtin code (swapped for a sibling operator) and
constant data. Every edit is deterministic for a given random.Random.

mutate(data, rng) -> (bytes, description) is what tests/test_differential.py
uses.
"""
import argparse
import os
import random
import struct

import flatbuffers


def schema():
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s
    return s


S = schema()
BO = S.BuiltinOperator
OPT = S.BuiltinOptions

# Sibling operators: a builtin code can be swapped for one taking the same
# operands and options table.
SIBLINGS = [
    (BO.AVERAGE_POOL_2D, BO.MAX_POOL_2D),
    (BO.ADD, BO.MUL),
    (BO.LOGISTIC, BO.SOFTMAX, BO.QUANTIZE),
    (BO.RESHAPE, BO.SQUEEZE),
    (BO.CONV_2D, BO.DEPTHWISE_CONV_2D),
]

INTS = [-(1 << 31), -2, -1, 0, 1, 2, 3, 4, 7, 64, 1000, 1 << 16, (1 << 31) - 1]
FLOATS = [0.0, -1.0, 1e-12, 1e-6, 1.0 / 256, 0.5, 1.0, 2.0, 1e6, 1e30, float("inf"), float("nan")]


def load(data):
    return S.ModelT.InitFromObj(S.Model.GetRootAsModel(data, 0))


def dump(model):
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def _code(model, op):
    oc = model.operatorCodes[op.opcodeIndex]
    return max(oc.builtinCode, oc.deprecatedBuiltinCode)


def _int_value(rng, old):
    r = rng.random()
    if r < 0.4:
        return rng.choice(INTS)
    if r < 0.8 and old is not None:
        return int(old) + rng.choice([-1, 1, 2, -2]) if rng.random() < 0.7 else int(old) * rng.choice([2, 3, 8])
    return rng.randint(-3, 9)


def _clamp32(v):
    return max(-(1 << 31), min((1 << 31) - 1, int(v)))


# ---- the edits; each returns a description or None when not applicable ---

def m_shape(model, rng):
    g = model.subgraphs[0]
    t = rng.choice(g.tensors)
    if t.shape is None or len(t.shape) == 0:
        return None
    shape = [int(d) for d in t.shape]
    k = rng.randrange(len(shape))
    r = rng.random()
    if r < 0.15 and len(shape) > 1:
        shape.pop(k)
        what = f"drops axis {k}"
    elif r < 0.25:
        shape.insert(k, 1)
        what = f"gains a unit axis at {k}"
    else:
        shape[k] = _clamp32(_int_value(rng, shape[k]))
        what = f"axis {k} = {shape[k]}"
    t.shape = shape
    t.shapeSignature = None
    return f"tensor {g.tensors.index(t)} shape {what}"


def m_type(model, rng):
    g = model.subgraphs[0]
    i = rng.randrange(len(g.tensors))
    t = g.tensors[i]
    t.type = rng.choice([S.TensorType.INT8, S.TensorType.UINT8, S.TensorType.INT16, S.TensorType.INT32,
                         S.TensorType.FLOAT32, S.TensorType.INT64, S.TensorType.BOOL])
    return f"tensor {i} type {t.type}"


def m_quant(model, rng):
    g = model.subgraphs[0]
    cands = [i for i, t in enumerate(g.tensors) if t.quantization is not None and t.quantization.scale is not None]
    if not cands:
        return None
    i = rng.choice(cands)
    q = g.tensors[i].quantization
    scale = [float(v) for v in q.scale]
    zp = [int(v) for v in q.zeroPoint] if q.zeroPoint is not None else []
    r = rng.randrange(9)
    if r == 0:
        q.zeroPoint = None
        return f"tensor {i} loses its zero points"
    if r == 1:
        q.scale = None
        return f"tensor {i} loses its scales"
    if r == 2 and scale:
        k = rng.randrange(len(scale))
        scale[k] = rng.choice(FLOATS) if rng.random() < 0.5 else scale[k] * rng.choice([0.5, 1.000001, 2, 1000])
        q.scale = scale
        return f"tensor {i} scale {k} = {scale[k]}"
    if r == 3 and zp:
        k = rng.randrange(len(zp))
        zp[k] = rng.choice([-129, -128, -1, 0, 1, 5, 127, 128, 300, -32768]) if rng.random() < 0.6 else zp[k] + 1
        q.zeroPoint = zp
        return f"tensor {i} zero point {k} = {zp[k]}"
    if r == 4:
        q.quantizedDimension = rng.choice([-1, 0, 1, 2, 3, 4, 100])
        return f"tensor {i} quantized_dimension {q.quantizedDimension}"
    if r == 5 and len(scale) > 1:
        n = rng.randrange(1, len(scale))
        q.scale, q.zeroPoint = scale[:n], zp[:n] if zp else None
        return f"tensor {i} keeps {n} of {len(scale)} scales"
    if r == 6 and len(scale) >= 1:
        n = rng.choice([2, 3, 8])
        q.scale = scale * n
        q.zeroPoint = (zp or [0]) * n if rng.random() < 0.8 else zp
        return f"tensor {i} gets {len(q.scale)} scales"
    if r == 7:
        g.tensors[i].quantization = None
        return f"tensor {i} loses its quantization"
    if zp and len(zp) > 1:
        zp[0] = rng.choice([1, -3, 7])
        q.zeroPoint = zp
        return f"tensor {i} zero point 0 of {len(zp)} = {zp[0]}"
    return None


OPTION_FIELDS = ["padding", "strideW", "strideH", "dilationWFactor", "dilationHFactor", "depthMultiplier",
                 "filterWidth", "filterHeight", "fusedActivationFunction", "axis", "beta", "keepDims",
                 "keepNumDims", "weightsFormat"]


def m_options(model, rng):
    g = model.subgraphs[0]
    k = rng.randrange(len(g.operators))
    op = g.operators[k]
    o = op.builtinOptions
    if o is None or rng.random() < 0.1:
        if o is None:
            return None
        op.builtinOptions, op.builtinOptionsType = None, OPT.NONE
        return f"operator {k} loses its options"
    fields = [f for f in OPTION_FIELDS if hasattr(o, f)]
    if not fields:
        return None
    f = rng.choice(fields)
    old = getattr(o, f)
    if f == "beta":
        v = rng.choice(FLOATS)
    elif f in ("keepDims", "keepNumDims"):
        v = not old
    elif f == "fusedActivationFunction":
        v = rng.randrange(7)
    elif f in ("padding", "weightsFormat"):
        v = rng.randrange(3)
    else:
        v = _clamp32(_int_value(rng, old))
    setattr(o, f, v)
    return f"operator {k} option {f} = {v}"


def m_operands(model, rng):
    g = model.subgraphs[0]
    k = rng.randrange(len(g.operators))
    op = g.operators[k]
    ins = [int(i) for i in op.inputs]
    r = rng.randrange(4)
    if r == 0:
        ins.append(rng.randrange(len(g.tensors)))
        what = f"gains input {ins[-1]}"
    elif r == 1 and ins:
        ins.pop()
        what = "loses its last input"
    elif r == 2 and ins:
        j = rng.randrange(len(ins))
        ins[j] = -1
        what = f"input {j} = -1"
    elif ins:
        j = rng.randrange(len(ins))
        ins[j] = rng.randrange(len(g.tensors))
        what = f"input {j} = tensor {ins[j]}"
    else:
        return None
    op.inputs = ins
    return f"operator {k} {what}"


def m_version(model, rng):
    k = rng.randrange(len(model.operatorCodes))
    model.operatorCodes[k].version = rng.choice([-1, 0, 1, 2, 3, 5, 8, 14, 1000])
    return f"operator code {k} version {model.operatorCodes[k].version}"


def m_code(model, rng):
    g = model.subgraphs[0]
    k = rng.randrange(len(g.operators))
    code = _code(model, g.operators[k])
    for group in SIBLINGS:
        if code in group:
            new = rng.choice([c for c in group if c != code])
            oc = S.OperatorCodeT()
            oc.builtinCode, oc.deprecatedBuiltinCode, oc.version = new, min(new, 127), 1
            model.operatorCodes.append(oc)
            g.operators[k].opcodeIndex = len(model.operatorCodes) - 1
            return f"operator {k} becomes builtin {new}"
    return None


def m_const(model, rng):
    g = model.subgraphs[0]
    cands = [i for i, t in enumerate(g.tensors)
             if 0 < t.buffer < len(model.buffers) and model.buffers[t.buffer].data is not None
             and len(model.buffers[t.buffer].data) >= 4]
    if not cands:
        return None
    i = rng.choice(cands)
    data = bytearray(bytes(model.buffers[g.tensors[i].buffer].data))
    at = rng.randrange(len(data) // 4) * 4
    v = rng.choice(INTS + [rng.randrange(1 << 32)])
    struct.pack_into("<I", data, at, v & 0xFFFFFFFF)
    # buffers may be shared: give the tensor its own copy
    b = S.BufferT()
    b.data = list(data)
    model.buffers.append(b)
    g.tensors[i].buffer = len(model.buffers) - 1
    return f"tensor {i} constant word at byte {at} = {v & 0xFFFFFFFF:#x}"


EDITS = [(m_shape, 3), (m_type, 1), (m_quant, 4), (m_options, 5), (m_operands, 2), (m_version, 1),
         (m_code, 1), (m_const, 1)]


def mutate(data, rng):
    """One to three schema edits of model bytes: (new bytes, description)."""
    model = load(data)
    done = []
    fns = [f for f, w in EDITS for _ in range(w)]
    for _ in range(rng.choice([1, 1, 1, 2, 3])):
        for _ in range(8):
            d = rng.choice(fns)(model, rng)
            if d:
                done.append(d)
                break
    return dump(model), "; ".join(done) or "re-serialised"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("src")
    ap.add_argument("out")
    ap.add_argument("-n", type=int, default=10)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    src = open(a.src, "rb").read()
    rng = random.Random(a.seed)
    base = os.path.basename(a.src)[:-7]
    for i in range(a.n):
        data, what = mutate(src, rng)
        with open(os.path.join(a.out, f"{base}_{i:04d}.tflite"), "wb") as f:
            f.write(data)
        print(f"{base}_{i:04d}: {what}")


if __name__ == "__main__":
    main()
