#!/usr/bin/env python3
"""Generate the int8 table-operator models in tests/models/lut/.

One tiny model per element-wise int8 operator that pexc lowers to a table
(src/ops/lut.c): the operator alone on 256 values, so one ramp input visits
every table entry, and the operator between two 3x3 convolutions, so the
min-sram schedule streams rows through it. Made like tools/gen_models.py
(Keras, seeded weights, the TFLite converter with full-integer int8
quantisation) and checked the same way: each model must hold the operators
its entry names, in order.

The converter keeps ELU in float between a DEQUANTIZE and a QUANTIZE, yet
TFLM runs int8 ELU; for the elu models that pair is spliced out of the
flatbuffer, so ELU reads and writes the int8 tensors the converter
quantised around it. A few variants change one tensor's quantisation of a
converted model to reach paths the converter never takes: ABS with equal
scales (no rescaling), RSQRT with inputs below its domain (zero point above
-128), and a HARD_SWISH that TFLM's Prepare refuses (its name ends in
_refused).

    .venv/bin/python tools/gen_models_lut.py [--out DIR] [--only SUBSTR]
"""

import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_OUT = os.path.join(ROOT, "tests", "models", "lut")
sys.path.insert(0, HERE)
import gen_models  # noqa: E402


def _catalogue(keras):
    L = keras.layers
    ops = keras.ops

    def chain(act):
        def build(x):
            x = L.Conv2D(4, 3, padding="same")(x)
            return L.Conv2D(4, 3, padding="same")(act(x))
        return build

    def hswish(x):
        return x * ops.relu6(x + 3.0) / 6.0

    def rsqrt_pos(x):
        return ops.rsqrt(ops.abs(x) + 0.1)

    flat, img = (1, 256), (1, 8, 8, 3)
    conv = ["CONV_2D"]
    # name, input shape, build, representative range, expected operators
    return [
        ("tanh", flat, L.Activation("tanh"), (-4, 4), ["TANH"]),
        ("tanh_chain", img, chain(L.Activation("tanh")), (-1, 1), conv + ["TANH"] + conv),
        ("hard_swish", flat, hswish, (-5, 5), ["HARD_SWISH"]),
        ("hard_swish_chain", img, chain(hswish), (-3, 3), conv + ["HARD_SWISH"] + conv),
        ("leaky_relu", flat, L.LeakyReLU(negative_slope=0.2), (-2, 2), ["LEAKY_RELU"]),
        ("leaky_relu_steep", flat, L.LeakyReLU(negative_slope=1.7), (-1, 2), ["LEAKY_RELU"]),
        ("leaky_relu_neg", flat, lambda x: ops.leaky_relu(x, negative_slope=-0.4), (-2, 2),
         ["LEAKY_RELU"]),
        ("leaky_relu_chain", img, chain(L.LeakyReLU(negative_slope=0.3)), (-1, 1),
         conv + ["LEAKY_RELU"] + conv),
        ("elu", flat, L.ELU(), (-3, 2), ["ELU"]),
        ("elu_chain", img, chain(L.ELU()), (-1, 1), conv + ["ELU"] + conv),
        ("abs", flat, ops.abs, (-2, 1), ["ABS"]),
        ("abs_chain", img, chain(ops.abs), (-1, 1), conv + ["ABS"] + conv),
        ("rsqrt", flat, ops.rsqrt, (0.05, 4), ["RSQRT"]),
        ("rsqrt_chain", img, chain(rsqrt_pos), (-1, 1), conv + ["ABS", "ADD", "RSQRT"] + conv),
    ]


VARIANTS = [
    # name, base model, tensor ("in" / "out": the graph's), new scale, new zero point
    ("abs_same_scale", "abs", "out", "in", None),
    ("rsqrt_domain", "rsqrt", "in", None, -100),
    ("hard_swish_refused", "hard_swish", "out", 1 / 512, None),
]


def _pack(model, size):
    import flatbuffers
    b = flatbuffers.Builder(size + 1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def requantise(blob, which, scale, zero_point):
    """blob with the graph input's or output's quantisation changed: scale
    "in" copies the input's scale, a number scales the input's by it; None
    keeps what is there."""
    s = gen_models._schema()
    model = s.ModelT.InitFromObj(s.Model.GetRootAsModel(blob, 0))
    g = model.subgraphs[0]
    tin, t = g.tensors[g.inputs[0]], g.tensors[(g.inputs if which == "in" else g.outputs)[0]]
    if scale is not None:
        t.quantization.scale = [float(tin.quantization.scale[0]) * (1.0 if scale == "in" else scale)]
    if zero_point is not None:
        t.quantization.zeroPoint = [zero_point]
    return _pack(model, len(blob))


def splice_float_islands(blob):
    """Removes every DEQUANTIZE -> op -> QUANTIZE detour: the op then reads
    the DEQUANTIZE's int8 input and writes the QUANTIZE's int8 output."""
    s = gen_models._schema()
    model = s.ModelT.InitFromObj(s.Model.GetRootAsModel(blob, 0))
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in model.operatorCodes]
    g = model.subgraphs[0]
    producer = {int(t): op for op in g.operators for t in op.outputs}
    drop = set()
    for op in g.operators:
        if codes[op.opcodeIndex] != s.BuiltinOperator.QUANTIZE:
            continue
        mid = producer.get(int(op.inputs[0]))
        deq = producer.get(int(mid.inputs[0])) if mid is not None else None
        if deq is None or codes[deq.opcodeIndex] != s.BuiltinOperator.DEQUANTIZE:
            continue
        mid.inputs = list(deq.inputs)
        mid.outputs = list(op.outputs)
        drop.update((id(op), id(deq)))
    g.operators = [op for op in g.operators if id(op) not in drop]
    return _pack(model, len(blob))


def main(argv=None):
    ap = argparse.ArgumentParser(description="generate tests/models/lut")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--only", help="only models whose name contains this")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    import keras
    bad = 0
    for idx, (name, shape, build, rng, want) in enumerate(_catalogue(keras)):
        if args.only and args.only not in name:
            continue
        entry = {"name": name, "shape": shape, "build": build, "range": rng, "flags": {}}
        blob = gen_models.convert(entry, 2000 + idx, tf, keras)
        if name.startswith("elu"):
            blob = splice_float_islands(blob)
        path = os.path.join(args.out, name + ".tflite")
        with open(path, "wb") as f:
            f.write(blob)
        got = [d["op"] for d in gen_models.analyse(path)["ops"]]
        ok = got == want
        bad += not ok
        print("%-20s %6d B  %s%s" % (name, len(blob), " ".join(got),
                                     "" if ok else "   EXPECTED %s" % " ".join(want)))
    for name, base, which, scale, zp in VARIANTS:
        if args.only and args.only not in name:
            continue
        with open(os.path.join(args.out, base + ".tflite"), "rb") as f:
            blob = requantise(f.read(), which, scale, zp)
        with open(os.path.join(args.out, name + ".tflite"), "wb") as f:
            f.write(blob)
        print("%-20s %6d B  %s with the %sput requantised" % (name, len(blob), base, which))
    print("TF %s" % tf.__version__)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
