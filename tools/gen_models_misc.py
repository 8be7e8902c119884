#!/usr/bin/env python3
"""Generate the models of the remaining small operators in tests/models/misc/.

Small Keras models converted by the real TFLite converter without
quantisation (float32 input, output and operators): TFLM has EXP, LOG,
SQRT, RSQRT, SIN, COS, SQUARE, NEG, FLOOR, CEIL, ROUND and ABS in float32
(the last two also in int8, tested elsewhere), so each float model applies
one of them straight to the graph input, where the test's special values
(zeros of both signs, subnormals, infinities, NaN, ties) reach it.
LOGICAL_NOT sits on the bool output of a float comparison, CAST back to
float. The DYNAMIC_UPDATE_SLICE models (float32, int8, int16, int32
operands; int32 and int64 start indices, a graph input so that TFLM's
clamping happens at run time) and a bool-in, bool-out LOGICAL_NOT are
built by hand with the schema's object API, as the converter makes
neither.

Each model claims the operators it must contain (checked after
conversion, so a converter that rewrites a pattern is noticed).

    .venv/bin/python tools/gen_models_misc.py [--out DIR] [--only SUBSTR]
"""

import argparse
import os
import sys
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import gen_models  # noqa: E402

DEFAULT_OUT = os.path.join(ROOT, "tests", "models", "misc")

MODELS = []


def model(name, inputs, ops):
    """Registers build(tf, L, *inputs); inputs are (shape, dtype) pairs."""
    def reg(build):
        MODELS.append({"name": name, "inputs": inputs, "build": build, "ops": ops})
        return build
    return reg


F = [((1, 4, 4, 3), "float32")]


def unary(name, op, fn):
    model(name, F, [op])(lambda tf, L, x: L.Lambda(lambda t: fn(tf, t), output_shape=F[0][0][1:])(x))


unary("f32_exp", "EXP", lambda tf, t: tf.math.exp(t))
unary("f32_log", "LOG", lambda tf, t: tf.math.log(t))
unary("f32_sqrt", "SQRT", lambda tf, t: tf.math.sqrt(t))
unary("f32_rsqrt", "RSQRT", lambda tf, t: tf.math.rsqrt(t))
unary("f32_sin", "SIN", lambda tf, t: tf.math.sin(t))
unary("f32_cos", "COS", lambda tf, t: tf.math.cos(t))
unary("f32_square", "SQUARE", lambda tf, t: tf.math.square(t))
unary("f32_neg", "NEG", lambda tf, t: tf.math.negative(t))
unary("f32_floor", "FLOOR", lambda tf, t: tf.math.floor(t))
unary("f32_ceil", "CEIL", lambda tf, t: tf.math.ceil(t))
unary("f32_round", "ROUND", lambda tf, t: tf.math.round(t))
unary("f32_abs", "ABS", lambda tf, t: tf.math.abs(t))
# a chain, for the generated-C check of several functions in one kernel
unary("f32_chain", "EXP", lambda tf, t: tf.math.round(tf.math.sin(tf.math.exp(t) * 3.0) * 4.0)
      + tf.math.sqrt(tf.math.abs(t)))
unary("logical_not", "LOGICAL_NOT",
      lambda tf, t: tf.cast(tf.math.logical_not(tf.math.logical_or(t > 0.25, t < -0.5)), tf.float32))


# ---- hand-made: the converter emits no DYNAMIC_UPDATE_SLICE from TF ops
# (tf.raw_ops.XlaDynamicUpdateSlice is not in tensorflow-cpu) and folds
# LOGICAL_NOT of a comparison into the opposite comparison ----

FLOAT32, INT32, INT64, BOOL, INT16, INT8 = 0, 2, 4, 6, 7, 9

# name -> (operand shape, update shape, element type, index type, update constant)
DUS = {
    "dus_f32": ((1, 5, 6, 3), (1, 2, 3, 2), FLOAT32, INT32, False),
    "dus_i8_i64": ((4, 7), (2, 3), INT8, INT64, True),
    "dus_i16": ((3, 4, 5), (3, 2, 5), INT16, INT32, False),
    "dus_i32_full": ((2, 6), (2, 6), INT32, INT32, False),
    "dus_f32_rank1": ((9,), (4,), FLOAT32, INT64, False),
}


def hand_made():
    """{name: flatbuffer bytes} of the hand-built models."""
    import gen_models_audio as A
    A.NP.update({FLOAT32: np.float32, INT64: np.int64, BOOL: np.bool_})
    s = A._schema()
    out = {}
    for name, (shape, ushape, et, it, const_update) in DUS.items():
        g = A.Graph()
        a = g.tensor("operand", shape, et)
        data = None
        if const_update:
            data = (np.arange(np.prod(ushape)) * 7 - 50).astype(A.NP[et]).reshape(ushape)
        u = g.tensor("update", ushape, et, data)
        i = g.tensor("start", (len(shape),), it)
        o = g.tensor("output", shape, et)
        g.inputs = [a] + ([] if const_update else [u]) + [i]
        g.outputs = [o]
        g.op(None, [a, u, i], [o], builtin=s.BuiltinOperator.DYNAMIC_UPDATE_SLICE)
        out[name] = g
    g = A.Graph()
    x = g.tensor("x", (2, 3, 4), BOOL)
    y = g.tensor("y", (2, 3, 4), BOOL)
    g.inputs, g.outputs = [x], [y]
    g.op(None, [x], [y], builtin=s.BuiltinOperator.LOGICAL_NOT)
    out["logical_not_bool"] = g
    blobs = {}
    for name, g in out.items():
        for _, oc in g.codes:  # the deprecated code is one byte: 127 for codes above it
            oc.deprecatedBuiltinCode = min(oc.builtinCode, 127)
        blobs[name] = g.bytes(name, "misc")
    return blobs


def convert(entry, seed, tf, keras):
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    ins = [keras.Input(shape=s[1:], batch_size=s[0], dtype=dt, name="input%d" % k)
           for k, (s, dt) in enumerate(entry["inputs"])]
    out = entry["build"](tf, keras.layers, *ins)
    m = keras.Model(ins, out, name=entry["name"])
    return tf.lite.TFLiteConverter.from_keras_model(m).convert()


def main(argv=None):
    ap = argparse.ArgumentParser(description="generate tests/models/misc")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--only", help="only models whose name contains this")
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    import keras
    bad = 0
    os.makedirs(args.out, exist_ok=True)
    for name, blob in hand_made().items():
        if args.only and args.only not in name:
            continue
        blob = bytes(blob)
        path = os.path.join(args.out, name + ".tflite")
        with open(path, "wb") as f:
            f.write(blob)
        print("%-16s %6d B  (hand-made)" % (name, len(blob)))
    for entry in MODELS:
        if args.only and args.only not in entry["name"]:
            continue
        seed = 3000 + zlib.crc32(entry["name"].encode()) % 1000
        blob = convert(entry, seed, tf, keras)
        path = os.path.join(args.out, entry["name"] + ".tflite")
        with open(path, "wb") as f:
            f.write(blob)
        got = [d["op"] for d in gen_models.analyse(path)["ops"]]
        missing = [o for o in entry["ops"] if o not in got]
        bad += bool(missing)
        print("%-16s %6d B  %s%s" % (entry["name"], len(blob), " ".join(got),
                                     ("   MISSING: %s" % missing) if missing else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
