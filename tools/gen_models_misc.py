#!/usr/bin/env python3
"""Generate the models of the remaining small operators in tests/models/misc/.

Small Keras models converted by the real TFLite converter without
quantisation (float32 input, output and operators): TFLM has EXP, LOG,
SQRT, RSQRT, SIN, COS, SQUARE, NEG, FLOOR, CEIL, ROUND and ABS in float32
(the last two also in int8, tested elsewhere), so each float model applies
one of them straight to the graph input, where the test's special values
(zeros of both signs, subnormals, infinities, NaN, ties) reach it.
LOGICAL_NOT sits on the bool output of a float comparison, CAST back to
float. DYNAMIC_UPDATE_SLICE comes from tf.raw_ops.XlaDynamicUpdateSlice
with the start indices a second graph input (int32), so that the clamping
happens at run time.

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


def dus(name, operand, update, index_type="int32"):
    @model(name, [(operand, "float32"), ((len(operand),), index_type)], ["DYNAMIC_UPDATE_SLICE"])
    def _(tf, x, idx):
        upd = tf.constant(np.arange(np.prod(update), dtype=np.float32).reshape(update) * 0.5 - 3.0)
        return tf.raw_ops.XlaDynamicUpdateSlice(input=x * 2.0, update=upd, indices=idx)
    MODELS[-1]["function"] = True


dus("dus_f32", (1, 5, 6, 3), (1, 2, 3, 2))
dus("dus_f32_rank2", (7, 5), (3, 5))


def convert(entry, seed, tf, keras):
    if entry.get("function"):
        # Keras cannot wrap an XLA op: a tf.function converts directly
        sig = [tf.TensorSpec(s, getattr(tf, dt)) for s, dt in entry["inputs"]]
        fn = tf.function(lambda *xs: entry["build"](tf, *xs), input_signature=sig).get_concrete_function()
        return tf.lite.TFLiteConverter.from_concrete_functions([fn]).convert()
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
