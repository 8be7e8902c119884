#!/usr/bin/env python3
"""Generate the int16x8 conformance models in tests/models/int16/.

Same method as tools/gen_models.py (whose conversion, flatbuffer analysis
and claim machinery this script imports): small Keras models with seeded
weights, converted by the real TensorFlow Lite converter, here with
16-bit activations and 8-bit weights
(EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8, int16 input
and output tensors, int64 biases).  Every model carries claims checked
against the flatbuffer, and is run once through TFLite Micro's Python
interpreter: the manifest records "tflm": "ok" or TFLM's error, and
tests/test_ops_int16.py expects pexc to match TFLM on the first kind and
to refuse the second.

    .venv/bin/python tools/gen_models_int16.py [--only SUBSTR]
"""

import argparse
import json
import os
import subprocess
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import gen_models as G  # noqa: E402

OUT = os.path.join(ROOT, "tests", "models", "int16")
CATALOGUE = []


def spec(name, shape, build, claims, desc, io="int16"):
    CATALOGUE.append({"name": name, "shape": tuple(shape), "build": build, "claims": claims,
                      "desc": desc, "range": (-1.0, 1.0), "flags": {}, "int16x8": True, "io": io})


def _catalogue():
    import tensorflow as tf
    import keras
    L = keras.layers

    def binit():
        return keras.initializers.RandomNormal(stddev=0.2)

    def lam(fn):
        return L.Lambda(fn)

    def conv(f, k, **kw):
        return L.Conv2D(f, k, bias_initializer=binit(), **kw)

    # -- convolutions ---------------------------------------------------------
    spec("conv_k3_s1_same_relu", (1, 8, 8, 3), lambda x: conv(8, 3, padding="same", activation="relu")(x),
         [{"op": "CONV_2D", "kernel": [3, 3], "stride": [1, 1], "padding": "SAME", "act": "RELU"}],
         "CONV_2D 3x3 SAME RELU, 3->8")
    spec("conv_k3_s2_valid", (1, 9, 9, 4), lambda x: conv(6, 3, strides=2)(x),
         [{"op": "CONV_2D", "stride": [2, 2], "padding": "VALID", "act": "NONE"}], "CONV_2D 3x3 stride 2 VALID")
    spec("conv_k3_d2_relu6", (1, 10, 10, 4), lambda x: conv(5, 3, padding="same", dilation_rate=2,
                                                           activation="relu6")(x),
         [{"op": "CONV_2D", "dilation": [2, 2], "act": "RELU6"}], "CONV_2D 3x3 dilation 2 RELU6")
    spec("conv_k1_nobias", (1, 6, 6, 8), lambda x: L.Conv2D(4, 1, use_bias=False)(x),
         [{"op": "CONV_2D", "kernel": [1, 1]}], "CONV_2D 1x1 without bias")
    spec("dw_k3_s1_same_relu", (1, 8, 8, 6),
         lambda x: L.DepthwiseConv2D(3, padding="same", activation="relu", bias_initializer=binit())(x),
         [{"op": "DEPTHWISE_CONV_2D", "depth_multiplier": 1, "act": "RELU"}], "DEPTHWISE_CONV_2D 3x3 SAME RELU")
    spec("dw_k3_s2_valid_m2", (1, 9, 9, 3),
         lambda x: L.DepthwiseConv2D(3, strides=2, depth_multiplier=2, bias_initializer=binit())(x),
         [{"op": "DEPTHWISE_CONV_2D", "depth_multiplier": 2, "stride": [2, 2]}],
         "DEPTHWISE_CONV_2D 3x3 stride 2 multiplier 2")
    spec("fc_relu", (1, 20), lambda x: L.Dense(12, activation="relu", bias_initializer=binit())(x),
         [{"op": "FULLY_CONNECTED", "bias": True, "act": "RELU"}], "FULLY_CONNECTED 20->12 RELU")
    spec("fc_batch3", (3, 16), lambda x: L.Dense(5, bias_initializer=binit())(x),
         [{"op": "FULLY_CONNECTED", "units": 5}], "FULLY_CONNECTED on 3 batches")

    # -- pools ------------------------------------------------------------------
    spec("avgpool_3x3_s1_same", (1, 7, 7, 4), lambda x: L.AveragePooling2D(3, 1, padding="same")(conv(4, 1)(x)),
         [{"op": "AVERAGE_POOL_2D", "filter": [3, 3], "padding": "SAME"}], "AVERAGE_POOL_2D 3x3 SAME (edge windows)")
    spec("maxpool_3x3_s2_same", (1, 9, 9, 4), lambda x: L.MaxPooling2D(3, 2, padding="same")(conv(4, 1)(x)),
         [{"op": "MAX_POOL_2D", "filter": [3, 3], "stride": [2, 2]}], "MAX_POOL_2D 3x3 stride 2 SAME")

    # -- element-wise binary ------------------------------------------------------
    def branches(x, c):
        return conv(c, 1)(x), conv(c, 3, padding="same",
                                   kernel_initializer=keras.initializers.RandomNormal(stddev=1.5))(x)

    spec("add_branches", (1, 6, 6, 4), lambda x: L.Add()(list(branches(x, 4))),
         [{"op": "ADD", "scales_differ": True}], "ADD of two conv branches of different scales")
    spec("add_relu_broadcast", (1, 6, 6, 4),
         lambda x: L.ReLU()(L.Add()([conv(4, 1)(x), lam(lambda t: tf.reduce_mean(t, axis=[1, 2],
                                                                               keepdims=True))(x)])),
         [{"op": "ADD", "broadcast": True}], "ADD [1,6,6,4] + [1,1,1,4], fused RELU")
    spec("sub_branches", (1, 6, 6, 4), lambda x: L.Subtract()(list(branches(x, 4))),
         [{"op": "SUB"}], "SUB of two conv branches")
    spec("mul_branches", (1, 6, 6, 4), lambda x: L.Multiply()(list(branches(x, 4))),
         [{"op": "MUL", "broadcast": False}], "MUL of two conv branches")
    spec("mul_broadcast", (1, 6, 6, 4),
         lambda x: L.Multiply()([conv(4, 1)(x), lam(lambda t: tf.reduce_mean(t, axis=[1, 2], keepdims=True))(x)]),
         [{"op": "MUL", "broadcast": True}], "MUL [1,6,6,4] * [1,1,1,4]")

    # -- softmax, logistic, tanh ------------------------------------------------
    spec("softmax_fc10", (1, 16), lambda x: L.Softmax()(L.Dense(10, bias_initializer=binit())(x)),
         [{"op": "SOFTMAX"}], "SOFTMAX over 10 classes")
    spec("softmax_rows", (1, 4, 6), lambda x: L.Softmax()(L.Dense(6, bias_initializer=binit())(x)),
         [{"op": "SOFTMAX"}], "SOFTMAX over the last axis of [1,4,6]")
    spec("logistic", (1, 6, 6, 4), lambda x: L.Activation("sigmoid")(conv(4, 3, padding="same")(x)),
         [{"op": "LOGISTIC"}], "LOGISTIC after a conv (non power-of-two input scale)")
    spec("tanh", (1, 6, 6, 4), lambda x: L.Activation("tanh")(conv(4, 3, padding="same")(x)),
         [{"op": "TANH"}], "TANH after a conv")
    spec("logistic_input", (1, 32), lambda x: L.Activation("sigmoid")(x), [{"op": "LOGISTIC"}],
         "LOGISTIC of the model input")
    spec("tanh_input", (1, 32), lambda x: L.Activation("tanh")(x), [{"op": "TANH"}], "TANH of the model input")

    # -- requantisation, data movement, reductions ---------------------------------
    spec("concat_requant", (1, 5, 5, 3),
         lambda x: L.Concatenate()([L.Activation("sigmoid")(conv(3, 1)(x)), conv(4, 3, padding="same")(x)]),
         [{"op": "CONCATENATION", "axis": 3}, {"op": "QUANTIZE"}],
         "CONCATENATION of two branches, QUANTIZE int16->int16 to the output scale")
    spec("float_io", (1, 6, 6, 3), lambda x: conv(4, 3, padding="same", activation="relu")(x),
         [{"op": "QUANTIZE"}, {"op": "DEQUANTIZE"}], "float32 input and output: QUANTIZE float->int16, "
         "DEQUANTIZE int16->float", io="float32")
    spec("pad_hw", (1, 5, 5, 3), lambda x: L.ZeroPadding2D(((1, 2), (2, 0)))(conv(3, 1)(x)),
         [{"op": "PAD"}], "PAD asymmetric on H and W")
    spec("mean_hw", (1, 6, 6, 8), lambda x: L.GlobalAveragePooling2D()(conv(8, 3, padding="same")(x)),
         [{"op": "MEAN"}], "MEAN over H, W (GlobalAveragePooling2D)")
    spec("sum_c", (1, 4, 5, 6), lambda x: lam(lambda t: tf.reduce_sum(t, axis=[3]))(conv(6, 1)(x)),
         [{"op": "SUM"}], "SUM over the channel axis")
    spec("reduce_max_hw", (1, 5, 5, 4), lambda x: lam(lambda t: tf.reduce_max(t, axis=[1, 2]))(conv(4, 1)(x)),
         [{"op": "REDUCE_MAX"}], "REDUCE_MAX over H, W (TFLM has no int16 REDUCE_MAX: pexc must refuse)")

    # -- small networks --------------------------------------------------------------
    def cnn(x):
        y = conv(8, 3, strides=2, padding="same", activation="relu")(x)
        y = L.DepthwiseConv2D(3, padding="same", activation="relu6", bias_initializer=binit())(y)
        y = conv(12, 1, activation="relu")(y)
        y = L.AveragePooling2D(2)(y)
        y = L.MaxPooling2D(2)(y)
        y = L.Flatten()(y)
        return L.Softmax()(L.Dense(10, bias_initializer=binit())(y))
    spec("cnn", (1, 16, 16, 3), cnn,
         [{"op": "CONV_2D"}, {"op": "DEPTHWISE_CONV_2D"}, {"op": "AVERAGE_POOL_2D"}, {"op": "MAX_POOL_2D"},
          {"op": "FULLY_CONNECTED"}, {"op": "SOFTMAX"}], "small CNN: conv, depthwise, 1x1, pools, FC, softmax")

    def audio(x):
        # a keyword-spotting style network over 20 frames of 10 features
        y = conv(8, (5, 3), strides=(2, 1), padding="same", activation="relu")(x)
        y = L.DepthwiseConv2D(3, padding="same", activation="relu", bias_initializer=binit())(y)
        y = conv(8, 1, activation="relu")(y)
        y = L.Add()([y, L.DepthwiseConv2D(3, padding="same", bias_initializer=binit())(y)])
        y = L.GlobalAveragePooling2D()(y)
        return L.Softmax()(L.Dense(4, bias_initializer=binit())(y))
    spec("audio_kws", (1, 20, 10, 1), audio,
         [{"op": "CONV_2D"}, {"op": "DEPTHWISE_CONV_2D"}, {"op": "ADD"}, {"op": "MEAN"},
          {"op": "FULLY_CONNECTED"}, {"op": "SOFTMAX"}],
         "keyword-spotting style: 5x3 conv over frames, depthwise, residual ADD, MEAN, FC, softmax")
    return tf, keras


# ---------------------------------------------------------------------------
# Crafted variants: cases the converter does not make, derived from a
# converted model by editing its flatbuffer (schema object API)
# ---------------------------------------------------------------------------

def _load(name):
    s = G._schema()
    with open(os.path.join(OUT, name + ".tflite"), "rb") as f:
        return s, s.ModelT.InitFromObj(s.Model.GetRootAsModel(f.read(), 0))


def _save(s, model, name):
    import flatbuffers
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    with open(os.path.join(OUT, name + ".tflite"), "wb") as f:
        f.write(b.Output())


def _add_tensor(s, model, like, ttype, scale, zp, name):
    g = model.subgraphs[0]
    t = s.TensorT()
    t.shape, t.type, t.name, t.buffer = list(like.shape), ttype, name.encode(), 0
    t.quantization = s.QuantizationParametersT()
    t.quantization.scale, t.quantization.zeroPoint = [scale], [zp]
    g.tensors.append(t)
    return len(g.tensors) - 1


def _opcode(s, model, code):
    for i, oc in enumerate(model.operatorCodes):
        if max(oc.builtinCode, oc.deprecatedBuiltinCode) == code:
            return i
    oc = s.OperatorCodeT()
    oc.builtinCode, oc.deprecatedBuiltinCode, oc.version = code, min(code, 127), 2
    model.operatorCodes.append(oc)
    return len(model.operatorCodes) - 1


def _requant_io(src, name, at_input, ttype, scale, zp):
    """src with a QUANTIZE from (at_input) or to an int8/int16 tensor."""
    s, model = _load(src)
    g = model.subgraphs[0]
    op = s.OperatorT()
    op.opcodeIndex = _opcode(s, model, s.BuiltinOperator.QUANTIZE)
    if at_input:
        old = g.inputs[0]
        t = _add_tensor(s, model, g.tensors[old], ttype, scale, zp, "requant_in")
        op.inputs, op.outputs = [t], [old]
        g.operators.insert(0, op)
        g.inputs = [t]
    else:
        old = g.outputs[0]
        t = _add_tensor(s, model, g.tensors[old], ttype, scale, zp, "requant_out")
        op.inputs, op.outputs = [old], [t]
        g.operators.append(op)
        g.outputs = [t]
    _save(s, model, name)


def _edit(src, name, fn):
    s, model = _load(src)
    fn(s, model.subgraphs[0], model)
    _save(s, model, name)


def crafted():
    """[(name, source, description)] written next to the converted models."""
    out = []

    def q(t):
        return t.quantization

    _requant_io("conv_k3_s2_valid", "requant_s16_to_s8", False, G._schema().TensorType.INT8, 0.02, 3)
    out.append(("requant_s16_to_s8", "conv_k3_s2_valid", "QUANTIZE int16 -> int8 (scale 0.02, zero point 3)"))
    _requant_io("conv_k3_s2_valid", "requant_s8_to_s16", True, G._schema().TensorType.INT8, 1.0 / 128, -5)
    out.append(("requant_s8_to_s16", "conv_k3_s2_valid", "QUANTIZE int8 (zero point -5) -> int16"))

    def pot(scale):
        def fn(s, g, m):
            q(g.tensors[g.inputs[0]]).scale = [scale]
        return fn
    _edit("logistic_input", "logistic_pot", pot(2.0 ** -12))
    out.append(("logistic_pot", "logistic_input", "LOGISTIC with input scale 2^-12 (TFLM's power-of-two path)"))
    _edit("tanh_input", "tanh_pot", pot(2.0 ** -11))
    out.append(("tanh_pot", "tanh_input", "TANH with input scale 2^-11 (power-of-two path, shift 1)"))

    def bias32(s, g, m):
        op = g.operators[0]
        b = g.tensors[op.inputs[2]]
        buf = m.buffers[b.buffer]
        v = np.frombuffer(bytes(bytearray(buf.data)), np.int64)
        buf.data = list(v.astype(np.int32).tobytes())
        b.type = s.TensorType.INT32
    _edit("conv_k3_s1_same_relu", "conv_bias32", bias32)
    out.append(("conv_bias32", "conv_k3_s1_same_relu", "CONV_2D with an int32 bias (TFLM's int32 accumulator)"))
    _edit("fc_relu", "fc_bias32", bias32)
    out.append(("fc_bias32", "fc_relu", "FULLY_CONNECTED with an int32 bias"))

    def per_tensor(s, g, m):
        op = g.operators[0]
        w, b = g.tensors[op.inputs[1]], g.tensors[op.inputs[2]]
        ws = float(max(q(w).scale))
        q(w).scale, q(w).zeroPoint, q(w).quantizedDimension = [ws], [0], 0
        q(b).scale = [float(np.float32(q(g.tensors[op.inputs[0]]).scale[0]) * np.float32(ws))]
        q(b).zeroPoint = [0]
    _edit("fc_relu", "fc_per_tensor", per_tensor)
    out.append(("fc_per_tensor", "fc_relu", "FULLY_CONNECTED with per-tensor weights"))

    def mul_zp(s, g, m):
        q(g.tensors[g.operators[-1].inputs[0]]).zeroPoint = [5]
    _edit("mul_branches", "mul_zp5", mul_zp)
    out.append(("mul_zp5", "mul_branches", "MUL with an int16 input zero point of 5 (TFLM refuses)"))

    def softmax_scale(s, g, m):
        q(g.tensors[g.outputs[0]]).scale = [1.0 / 16384]
    _edit("softmax_fc10", "softmax_bad_scale", softmax_scale)
    out.append(("softmax_bad_scale", "softmax_fc10", "SOFTMAX with output scale 1/16384 (TFLM refuses)"))
    return out


def tflm_status(path):
    """"ok", or TFLM's error text (run in a child: a crash is an answer too)."""
    code = ("import sys, numpy as np; sys.path.insert(0, %r); import tflm_ref; "
            "m = tflm_ref.TflmModel(sys.argv[1]); "
            "m.run(np.zeros(m.input_count, m.input_dtype).tobytes())" % HERE)
    p = subprocess.run([sys.executable, "-c", code, path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    if p.returncode == 0:
        return "ok"
    lines = [ln for ln in p.stderr.decode("utf-8", "replace").splitlines() if ln.strip()]
    return (lines[-1] if lines else "exit %d" % p.returncode)[:300]


def main(argv=None):
    ap = argparse.ArgumentParser(description="generate tests/models/int16")
    ap.add_argument("--only", help="only models whose name contains this")
    args = ap.parse_args(argv)
    os.makedirs(OUT, exist_ok=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    tf, keras = _catalogue()
    mpath = os.path.join(OUT, "MANIFEST.json")
    old = {}
    if os.path.exists(mpath):
        with open(mpath) as f:
            old = {m["name"]: m for m in json.load(f)["models"]}
    models, failed = [], []
    for idx, e in enumerate(CATALOGUE):
        if args.only and args.only not in e["name"]:
            if e["name"] in old:
                models.append(old[e["name"]])
            continue
        seed = 3000 + idx
        path = os.path.join(OUT, e["name"] + ".tflite")
        with open(path, "wb") as f:
            f.write(G.convert(e, seed, tf, keras))
        d = G.describe(e["name"], path, e["claims"], e["desc"], seed, e["range"], {"int16x8": True, "io": e["io"]})
        del d["analysis"]
        d["tflm"] = tflm_status(path)
        models.append(d)
        bad = [r["claim"] for r in d["claims"] if not r["holds"]]
        failed += ["%s: %s" % (e["name"], b) for b in bad]
        print("%-22s %6d B  tflm %-4s %s%s" % (e["name"], d["bytes"], d["tflm"][:40], " ".join(d["ops"]),
                                              ("   CLAIM FAILED: %s" % bad) if bad else ""))
    for name, src, desc in ([] if args.only else crafted()):
        path = os.path.join(OUT, name + ".tflite")
        d = G.describe(name, path, [], desc, None, (), {"crafted_from": src})
        del d["analysis"]
        d["tflm"] = tflm_status(path)
        models.append(d)
        print("%-22s %6d B  tflm %-4s %s (crafted)" % (name, d["bytes"], d["tflm"][:40], " ".join(d["ops"])))
    with open(mpath, "w") as f:
        json.dump({"generator": "tools/gen_models_int16.py", "tensorflow_version": tf.__version__,
                   "converter": "Optimize.DEFAULT, representative dataset (48 seeded uniform samples), "
                                "EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8, "
                                "int16 (or float32 where io says so) input and output",
                   "all_claims_hold": not failed, "models": models}, f, indent=1)
        f.write("\n")
    for msg in failed:
        print("CLAIM FAILED:", msg)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
