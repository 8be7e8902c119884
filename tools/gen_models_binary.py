#!/usr/bin/env python3
"""Generate the element-wise binary operator models in tests/models/binary/.

Small Keras models (seeded weights) converted by the real TFLite converter
with full-integer quantisation, int8 input and output, like
tools/gen_models.py. `pexc run` takes one input today, so every model in
the main set has ONE int8 input and computes the second operand from it (a
1x1 convolution of it, a constant, a slice); the models in two_input/ have
two graph inputs and are kept for when `pexc run` takes several. Where the
converter keeps an operator in float (EQUAL, NOT_EQUAL, ADD_N between
DEQUANTIZE and QUANTIZE) the model tests the float32 kernel, as do the
f32_* models (not quantised); the i16_* models are 16x8-quantised (int16
input and output).

Each model claims the operators it must contain (after conversion the
flatbuffer is parsed and every claim must hold, so a converter that
rewrites a pattern is noticed).

    .venv/bin/python tools/gen_models_binary.py [--out DIR] [--only SUBSTR]
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

DEFAULT_OUT = os.path.join(ROOT, "tests", "models", "binary")

MODELS = []  # (name, input shapes, build(inputs) -> output, claimed ops, data range)


def model(name, shapes, ops, data_range=(-1.0, 1.0), recode=None, int16=False, float32=False):
    """Decorator: registers build(tf, L, *inputs) for the given input shapes.

    recode {"LESS": "EQUAL", ...} renames operator codes after conversion:
    the converter compares int8 tensors for EQUAL and NOT_EQUAL only in
    float, so int8 EQUAL is made from a converted int8 LESS (the same
    operands, quantisation and options-free Prepare in TFLM).
    int16: 16x8 quantisation (int16 activations, input and output).
    float32: not quantised at all (float input, output and operators)."""
    def reg(build):
        MODELS.append({"name": name, "shapes": [tuple(s) for s in shapes], "build": build,
                       "ops": ops, "range": data_range, "recode": recode or {},
                       "int16": int16, "float32": float32})
        return build
    return reg


def recode_ops(blob, recode):
    """The model with operator codes renamed (BuiltinOperator names)."""
    if not recode:
        return blob
    import flatbuffers
    s = gen_models._schema()
    m = s.ModelT.InitFromObj(s.Model.GetRootAsModel(blob, 0))
    for oc in m.operatorCodes:
        name = {v: k for k, v in vars(s.BuiltinOperator).items() if not k.startswith("_")}[oc.builtinCode]
        if name in recode:
            oc.builtinCode = getattr(s.BuiltinOperator, recode[name])
            oc.deprecatedBuiltinCode = min(oc.builtinCode, 127)
    b = flatbuffers.Builder(len(blob) + 1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def conv1(L, x, c, seed):
    import keras
    return L.Conv2D(c, 1, kernel_initializer=keras.initializers.RandomNormal(stddev=0.6, seed=seed),
                    bias_initializer=keras.initializers.RandomNormal(stddev=0.3, seed=seed + 1))(x)


def const(shape, lo, hi, seed):
    return np.random.default_rng(seed).uniform(lo, hi, size=shape).astype(np.float32)


# ---- SUB ------------------------------------------------------------------

@model("sub_conv", [(1, 6, 6, 8)], ["SUB"])
def _(tf, L, x):
    return L.Lambda(lambda t: t[0] - t[1])([x, conv1(L, x, 8, 1)])


@model("sub_const_channel", [(1, 5, 5, 6)], ["SUB"])
def _(tf, L, x):
    c = const((6,), -1.5, 1.5, 2)
    return L.Lambda(lambda t: c - t)(x)


@model("sub_bcast_w_relu", [(1, 4, 6, 5)], ["SUB"])
def _(tf, L, x):
    y = L.AveragePooling2D((1, 6))(conv1(L, x, 5, 3))
    return L.ReLU()(L.Lambda(lambda t: t[0] - t[1])([x, y]))


@model("sub_rank5", [(1, 4, 3, 2, 6)], ["SUB"])
def _(tf, L, x):
    c = const((3, 1, 6), -1.0, 1.0, 4)
    return L.Lambda(lambda t: t - c)(x)


@model("sub_outer", [(1, 4, 1, 6)], ["SUB"])
def _(tf, L, x):
    # both operands broadcast: [1,4,1,6] - [5,1] -> [1,4,5,6]
    c = const((5, 1), -1.0, 1.0, 23)
    return L.Lambda(lambda t: t - c)(x)


# ---- MINIMUM / MAXIMUM ---------------------------------------------------------

@model("min_conv", [(1, 6, 6, 8)], ["MINIMUM"])
def _(tf, L, x):
    return L.Lambda(lambda t: tf.minimum(t[0], t[1]))([x, conv1(L, x, 8, 5)])


@model("max_const", [(1, 5, 5, 6)], ["MAXIMUM"])
def _(tf, L, x):
    c = const((1, 5, 6), -0.5, 0.5, 6)
    return L.Lambda(lambda t: tf.maximum(t, c))(x)


# ---- SQUARED_DIFFERENCE --------------------------------------------------------

@model("sqdiff_conv", [(1, 6, 6, 8)], ["SQUARED_DIFFERENCE"])
def _(tf, L, x):
    return L.Lambda(lambda t: tf.math.squared_difference(t[0], t[1]))([x, conv1(L, x, 8, 7)])


@model("sqdiff_bcast", [(1, 4, 4, 6)], ["SQUARED_DIFFERENCE"])
def _(tf, L, x):
    m = L.Lambda(lambda t: tf.reduce_mean(t, axis=[1, 2], keepdims=True))(x)
    return L.Lambda(lambda t: tf.math.squared_difference(t[0], t[1]))([x, m])


# ---- DIV --------------------------------------------------------------------------

@model("div_conv", [(1, 5, 5, 6)], ["DIV"])
def _(tf, L, x):
    d = L.Lambda(lambda t: t + 0.5)(L.ReLU()(conv1(L, x, 6, 9)))
    return L.Lambda(lambda t: t[0] / t[1])([x, d])


@model("div_zero", [(1, 4, 4, 6)], ["DIV"])
def _(tf, L, x):
    # divisor and dividend both hit their zero point often: TFLite's
    # arithmetic at 0 / y and its undefined x / 0 as its x86 build computes
    d = L.ReLU()(conv1(L, x, 6, 10))
    return L.Lambda(lambda t: t[0] / t[1])([L.ReLU()(x), d])


# ---- PRELU --------------------------------------------------------------------------

@model("prelu_channel", [(1, 6, 6, 8)], ["PRELU"])
def _(tf, L, x):
    import keras
    return L.PReLU(alpha_initializer=keras.initializers.RandomUniform(-0.5, 0.8, seed=11),
                   shared_axes=[1, 2])(x)


@model("prelu_full", [(1, 4, 5, 3)], ["PRELU"])
def _(tf, L, x):
    import keras
    return L.PReLU(alpha_initializer=keras.initializers.RandomUniform(0.0, 0.5, seed=12))(x)


# ---- comparisons, SELECT_V2, logical ---------------------------------------------------

@model("greater_select", [(1, 6, 6, 4)], ["GREATER", "SELECT_V2"])
def _(tf, L, x):
    y = conv1(L, x, 4, 13)
    c = const((4,), -0.5, 0.5, 17)
    return L.Lambda(lambda t: tf.raw_ops.SelectV2(condition=t[0] > t[1], t=t[0], e=c))([x, y])


def compare_three(tf, L, x):
    y = L.Conv2D(4, 1, kernel_initializer="ones", bias_initializer="zeros")(x)
    c = const((4,), -0.5, 0.5, 14)

    def f(t):
        a, b = t
        r = tf.raw_ops.SelectV2(condition=a < b, t=a, e=c)
        r = tf.raw_ops.SelectV2(condition=a <= b * 0.5, t=r, e=c * 0.5)
        return tf.raw_ops.SelectV2(condition=a >= 0.25, t=r, e=c * 0.25)
    return L.Lambda(f)([x, y])


model("compare_all", [(1, 4, 4, 4)], ["LESS", "LESS_EQUAL", "GREATER_EQUAL"])(compare_three)
model("equal_int8", [(1, 4, 4, 4)], ["EQUAL", "NOT_EQUAL", "GREATER"],
      recode={"LESS": "EQUAL", "LESS_EQUAL": "NOT_EQUAL", "GREATER_EQUAL": "GREATER"})(compare_three)


# The converter compares in float for EQUAL and NOT_EQUAL (DEQUANTIZE before)
@model("equal_float", [(1, 4, 4, 4)], ["EQUAL", "NOT_EQUAL"])
def _(tf, L, x):
    y = L.Conv2D(4, 1, kernel_initializer="ones", bias_initializer="zeros")(x)
    c = const((4,), -0.5, 0.5, 15)

    def f(t):
        a, b = t
        r = tf.raw_ops.SelectV2(condition=tf.equal(a, b), t=a, e=c)
        return tf.raw_ops.SelectV2(condition=tf.not_equal(a, b * 0.5), t=r, e=c * 2.0)
    return L.Lambda(f)([x, y])


@model("logical_select", [(1, 5, 5, 4)], ["LOGICAL_AND", "LOGICAL_OR", "SELECT_V2"])
def _(tf, L, x):
    y = conv1(L, x, 4, 15)

    def f(t):
        a, b = t[0], t[1]
        c = tf.logical_and(a > 0.0, b < 0.3)
        d = tf.logical_or(c, a < -0.5)
        return tf.raw_ops.SelectV2(condition=d, t=a, e=t[2])
    return L.Lambda(f)([x, y, conv1(L, x, 1, 19)])


# ---- ADD_N ----------------------------------------------------------------------------------

@model("add_n_float", [(1, 5, 5, 6)], ["ADD_N"])
def _(tf, L, x):
    return L.Lambda(lambda t: tf.add_n(t))([x, conv1(L, x, 6, 16), conv1(L, x, 6, 18)])


# The converter keeps ADD_N in float; an ADD of one tensor with itself
# (one scale and zero point, as TFLM's ADD_N requires) recoded gives int8.
@model("add_n_int8", [(1, 5, 5, 6)], ["ADD_N"], recode={"ADD": "ADD_N"})
def _(tf, L, x):
    y = conv1(L, x, 6, 22)
    return L.Add()([y, y])


# ---- ADD / MUL beyond the 4-D kernels ------------------------------------------------------

@model("add_rank5", [(1, 3, 4, 2, 5)], ["ADD"])
def _(tf, L, x):
    c = const((4, 1, 5), -1.0, 1.0, 20)
    return L.Lambda(lambda t: t + c)(x)


@model("mul_rank5", [(1, 2, 3, 4, 5)], ["MUL"])
def _(tf, L, x):
    c = const((2, 1, 1, 5), -2.0, 2.0, 21)
    return L.Lambda(lambda t: t * c)(x)


@model("add_rank6", [(1, 2, 2, 3, 2, 4)], ["ADD"])
def _(tf, L, x):
    c = const((2, 1, 3, 1, 4), -1.0, 1.0, 24)
    return L.Lambda(lambda t: t + c)(x)


# ---- int16 (16x8 quantisation) ----------------------------------------------------

@model("i16_sub", [(1, 4, 4, 6)], ["SUB"], int16=True)
def _(tf, L, x):
    c = const((6,), -1.0, 1.0, 25)
    return L.Lambda(lambda t: t - c)(x)


@model("i16_add_relu", [(1, 4, 4, 6)], ["ADD"], int16=True)
def _(tf, L, x):
    c = const((4, 1, 6), -1.0, 1.0, 26)
    return L.ReLU()(L.Lambda(lambda t: t + c)(x))


@model("i16_mul", [(1, 4, 4, 6)], ["MUL"], int16=True)
def _(tf, L, x):
    c = const((6,), -2.0, 2.0, 27)
    return L.Lambda(lambda t: t * c)(x)


@model("i16_max", [(1, 4, 4, 6)], ["MAXIMUM"], int16=True)
def _(tf, L, x):
    c = const((6,), -0.5, 0.5, 28)
    return L.Lambda(lambda t: tf.maximum(t, c))(x)


@model("i16_sqdiff", [(1, 4, 4, 6)], ["SQUARED_DIFFERENCE"], int16=True)
def _(tf, L, x):
    c = const((6,), -1.0, 1.0, 29)
    return L.Lambda(lambda t: tf.math.squared_difference(t, c))(x)


# ---- float32 models (no quantisation) ----------------------------------------------

@model("f32_arith", [(1, 4, 4, 6)], ["ADD", "SUB", "MUL", "DIV"], float32=True)
def _(tf, L, x):
    c1, c2, c3 = const((6,), -1, 1, 30), const((4, 1, 6), -2, 2, 31), const((6,), 0.5, 1.5, 32)
    return L.Lambda(lambda t: ((t + c1) * c2 - t * t * c3) / (t * t + c3))(x)


@model("f32_minmax_sqdiff", [(1, 4, 4, 6)], ["MINIMUM", "MAXIMUM", "SQUARED_DIFFERENCE"], float32=True)
def _(tf, L, x):
    c1, c2, c3 = const((6,), -0.5, 0.5, 33), const((4, 1, 1), -0.8, 0.0, 34), const((6,), -1, 1, 35)
    return L.Lambda(lambda t: tf.maximum(tf.minimum(t, c1), c2) - tf.math.squared_difference(t, c3))(x)


@model("f32_compare", [(1, 4, 4, 6)], ["GREATER", "LESS_EQUAL", "EQUAL", "NOT_EQUAL", "LESS", "GREATER_EQUAL",
                                       "SELECT_V2", "LOGICAL_AND", "LOGICAL_OR"], float32=True)
def _(tf, L, x):
    c1, c2 = const((6,), -0.5, 0.5, 36), const((4, 1, 6), -0.5, 0.5, 37)

    def f(t):
        # every SELECT_V2 broadcasts (same shapes convert to SELECT, which
        # TFLM does not have)
        r = tf.raw_ops.SelectV2(condition=t > c1, t=t, e=c2)
        r = tf.raw_ops.SelectV2(condition=tf.logical_and(t <= c2, t < 0.75), t=r, e=c1 * 0.5)
        r = tf.raw_ops.SelectV2(condition=tf.logical_or(tf.equal(t, r), t >= 0.9), t=c2 * 2.0, e=r)
        return tf.raw_ops.SelectV2(condition=tf.not_equal(r, c1), t=r, e=c1 * 3.0)
    return L.Lambda(f)(x)


@model("bool_equal", [(1, 4, 4, 6)], ["EQUAL", "NOT_EQUAL"], float32=True)
def _(tf, L, x):
    c1, c2 = const((6,), -0.5, 0.5, 40), const((4, 1, 6), -0.5, 0.5, 41)

    def f(t):
        # EQUAL and NOT_EQUAL of bool tensors (compared without scaling)
        e = tf.equal(t > c1, t < c2)
        n = tf.not_equal(t > c2, t < 0.25)
        return tf.raw_ops.SelectV2(condition=tf.logical_and(e, n), t=t, e=c1)
    return L.Lambda(f)(x)


@model("f32_floor", [(1, 4, 4, 6)], ["FLOOR_DIV", "FLOOR_MOD"], float32=True)
def _(tf, L, x):
    c = const((6,), 0.3, 1.7, 38) * np.array([1, -1, 1, -1, 1, -1], np.float32)
    return L.Lambda(lambda t: tf.math.floordiv(t * 5.0, c) + tf.math.floormod(t * 5.0, c))(x)


@model("f32_prelu_add_n", [(1, 4, 4, 6)], ["PRELU", "ADD_N"], float32=True)
def _(tf, L, x):
    import keras
    p = L.PReLU(alpha_initializer=keras.initializers.RandomUniform(-0.5, 0.8, seed=39), shared_axes=[1, 2])(x)
    return L.Lambda(lambda t: tf.add_n([t[0], t[1], t[0]]))([x, p])


# ---- two graph inputs (for a future multi-input `pexc run`) -----------------------------------

@model("two_sub", [(1, 4, 4, 6), (1, 1, 4, 6)], ["SUB"])
def _(tf, L, x, y):
    return L.Lambda(lambda t: t[0] - t[1])([x, y])


@model("two_max", [(1, 4, 4, 6), (1, 4, 4, 6)], ["MAXIMUM"])
def _(tf, L, x, y):
    return L.Lambda(lambda t: tf.maximum(t[0], t[1]))([x, y])


@model("two_greater_select", [(1, 4, 4, 6), (1, 4, 4, 6)], ["GREATER", "SELECT_V2"])
def _(tf, L, x, y):
    return L.Lambda(lambda t: tf.raw_ops.SelectV2(condition=t[0] > t[1], t=t[0], e=t[1] * 0.5))([x, y[:, :1]])


def convert(entry, seed, tf, keras):
    # a fresh session: layer names (and so the file's bytes) do not depend
    # on which models were built before in this process
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    ins = [keras.Input(shape=s[1:], batch_size=s[0], name="input%d" % k)
           for k, s in enumerate(entry["shapes"])]
    out = entry["build"](tf, keras.layers, *ins)
    m = keras.Model(ins, out, name=entry["name"])
    lo, hi = entry["range"]
    rng = np.random.default_rng(seed)

    def representative():
        for k in range(48):
            xs = [rng.uniform(lo, hi, size=s).astype(np.float32) for s in entry["shapes"]]
            if k % 4 == 3:
                xs = [(x * rng.uniform(0.2, 1.0)).astype(np.float32) for x in xs]
            yield xs

    if entry["float32"]:
        conv = tf.lite.TFLiteConverter.from_keras_model(m)
        return conv.convert()
    flags = {}
    if entry["int16"]:
        flags = {"target_spec": tf.lite.TargetSpec(supported_ops=[
                     tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]),
                 "inference_input_type": tf.int16, "inference_output_type": tf.int16}
    return gen_models.convert_int8(tf, m, representative, flags)


def main(argv=None):
    ap = argparse.ArgumentParser(description="generate tests/models/binary")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--only", help="only models whose name contains this")
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    import keras
    bad = 0
    for entry in MODELS:
        if args.only and args.only not in entry["name"]:
            continue
        seed = 2000 + zlib.crc32(entry["name"].encode()) % 1000  # stable when models are added
        blob = recode_ops(convert(entry, seed, tf, keras), entry["recode"])
        sub = args.out if len(entry["shapes"]) == 1 else os.path.join(args.out, "two_input")
        os.makedirs(sub, exist_ok=True)
        path = os.path.join(sub, entry["name"] + ".tflite")
        with open(path, "wb") as f:
            f.write(blob)
        got = [d["op"] for d in gen_models.analyse(path)["ops"]]
        missing = [o for o in entry["ops"] if o not in got]
        bad += bool(missing)
        print("%-22s %6d B  %s%s" % (entry["name"], len(blob), " ".join(got),
                                     ("   MISSING: %s" % missing) if missing else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
