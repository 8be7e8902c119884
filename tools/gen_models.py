#!/usr/bin/env python3
"""Generate the int8 conformance models in tests/models/gen/.

Every model is a small Keras model with seeded random weights, converted by
the real TensorFlow Lite converter with full-integer post-training
quantisation (representative dataset, int8 builtins only, int8 input and
output tensors).  Weights are per-channel, the converter's default.

The converter is free to fuse or rewrite what Keras describes (activation
folding, dilated-conv reconstruction, ...), so every model carries a list of
*claims* -- "there is a CONV_2D with a 5x5 kernel, stride 2, SAME padding,
RELU6, 7 output channels" -- and after conversion the flatbuffer itself is
parsed and each claim must match one of its operators.  The result, the
operator list and a per-operator parameter summary go into MANIFEST.json,
together with the TensorFlow version.  A claim that does not hold makes the
script fail (so a TF upgrade that rewrites a pattern is noticed).

    sh tools/setup.sh --tf          # once: installs tensorflow-cpu
    .venv/bin/python tools/gen_models.py [--out DIR] [--only SUBSTR] [--check-only]

--check-only re-parses the existing .tflite files and rewrites nothing; it
needs only tflite-micro (for the flatbuffer schema), not TensorFlow.
"""

import argparse
import hashlib
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT_OUT = os.path.join(ROOT, "tests", "models", "gen")

# ---------------------------------------------------------------------------
# Flatbuffer analysis (no TensorFlow needed)
# ---------------------------------------------------------------------------

_ACT = {0: "NONE", 1: "RELU", 2: "RELU_N1_TO_1", 3: "RELU6", 4: "TANH", 5: "SIGN_BIT"}
_PAD = {0: "SAME", 1: "VALID"}
_NP_TYPE = {0: np.float32, 2: np.int32, 3: np.uint8, 4: np.int64, 7: np.int16, 9: np.int8}


def _schema():
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s
    return s


def _const(model, tensor):
    """Constant data of a tensor as a numpy array, or None."""
    buf = model.buffers[tensor.buffer] if tensor.buffer < len(model.buffers) else None
    if buf is None or buf.data is None or len(buf.data) == 0:
        return None
    dt = _NP_TYPE.get(tensor.type)
    if dt is None:
        return None
    arr = np.frombuffer(np.asarray(buf.data, dtype=np.uint8).tobytes(), dtype=dt)
    shape = [int(d) for d in tensor.shape] if tensor.shape is not None else []
    return arr.reshape(shape) if shape else arr


def _scales(tensor):
    q = tensor.quantization
    if q is None or q.scale is None:
        return []
    return [float(v) for v in q.scale]


def analyse(path):
    """Describe every operator of a .tflite file as a flat dict of parameters."""
    s = _schema()
    with open(path, "rb") as f:
        data = f.read()
    model = s.ModelT.InitFromObj(s.Model.GetRootAsModel(data, 0))
    names = {v: k for k, v in vars(s.BuiltinOperator).items() if not k.startswith("_")}
    g = model.subgraphs[0]
    T = g.tensors

    def shape(i):
        return [int(d) for d in T[i].shape] if T[i].shape is not None else []

    ops = []
    for op in g.operators:
        oc = model.operatorCodes[op.opcodeIndex]
        name = names[max(oc.builtinCode, oc.deprecatedBuiltinCode)]
        o = op.builtinOptions
        ins = [int(i) for i in op.inputs]
        outs = [int(i) for i in op.outputs]
        d = {"op": name, "in": [shape(i) if i >= 0 else None for i in ins],
             "out": [shape(i) for i in outs], "outputs": outs}
        if name == "CUSTOM" and oc.customCode:
            d["custom"] = oc.customCode.decode() if isinstance(oc.customCode, bytes) \
                else str(oc.customCode)
        act = getattr(o, "fusedActivationFunction", None)
        if act is not None:
            d["act"] = _ACT.get(act, str(act))
        if name in ("CONV_2D", "DEPTHWISE_CONV_2D"):
            w = shape(ins[1])
            if name == "CONV_2D":
                d["kernel"] = [w[1], w[2]]
                d["cin"] = w[3]
                d["cout"] = w[0]
            else:
                d["kernel"] = [w[1], w[2]]
                d["cin"] = shape(ins[0])[3]
                d["cout"] = w[3]
                d["depth_multiplier"] = w[3] // max(1, d["cin"])
            d["stride"] = [o.strideH, o.strideW]
            d["padding"] = _PAD.get(o.padding, o.padding)
            d["dilation"] = [o.dilationHFactor, o.dilationWFactor]
            d["per_channel"] = len(_scales(T[ins[1]])) == d["cout"] and d["cout"] > 1
            d["bias"] = len(ins) > 2 and ins[2] >= 0
        elif name in ("AVERAGE_POOL_2D", "MAX_POOL_2D"):
            d["filter"] = [o.filterHeight, o.filterWidth]
            d["stride"] = [o.strideH, o.strideW]
            d["padding"] = _PAD.get(o.padding, o.padding)
        elif name in ("ADD", "MUL", "SUB"):
            a, b = ins[0], ins[1]
            d["broadcast"] = shape(a) != shape(b)
            d["const_operand"] = _const(model, T[a]) is not None or _const(model, T[b]) is not None
            sa, sb = _scales(T[a]), _scales(T[b])
            d["scales_differ"] = bool(sa and sb and abs(sa[0] - sb[0]) > 1e-9 * max(sa[0], sb[0]))
        elif name == "CONCATENATION":
            rank = len(shape(outs[0]))
            d["axis"] = o.axis % rank if rank else o.axis
            d["n_inputs"] = len(ins)
            sc = [(_scales(T[i]) or [None])[0] for i in ins]
            d["scales_differ"] = len(set(sc)) > 1
        elif name in ("PAD", "PADV2"):
            p = _const(model, T[ins[1]])
            d["paddings"] = p.tolist() if p is not None else None
        elif name == "MEAN":
            ax = _const(model, T[ins[1]])
            rank = len(shape(ins[0]))
            d["axes"] = sorted(int(a) % rank for a in np.ravel(ax)) if ax is not None else None
            d["keepdims"] = bool(o.keepDims)
        elif name == "FULLY_CONNECTED":
            d["bias"] = len(ins) > 2 and ins[2] >= 0
            d["keep_num_dims"] = bool(o.keepNumDims)
            d["units"] = shape(ins[1])[0]
            d["per_channel"] = len(_scales(T[ins[1]])) > 1
        elif name == "SOFTMAX":
            d["beta"] = float(o.beta)
        elif name == "TRANSPOSE":
            p = _const(model, T[ins[1]])
            d["perm"] = p.tolist() if p is not None else None
        ops.append(d)
    gin, gout = int(g.inputs[0]), int(g.outputs[0])

    def tinfo(i):
        t = T[i]
        q = t.quantization
        zp = [int(z) for z in q.zeroPoint] if q is not None and q.zeroPoint is not None else []
        return {"shape": shape(i), "dtype": np.dtype(_NP_TYPE[t.type]).name,
                "scale": (_scales(t) or [None])[0], "zero_point": (zp or [None])[0]}

    return {"n_inputs": len(g.inputs), "n_outputs": len(g.outputs),
            "input": tinfo(gin), "output": tinfo(gout), "ops": ops}


def claim_holds(claim, ops):
    """True if some operator matches every key of the claim."""
    for d in ops:
        if all(k in d and d[k] == v for k, v in claim.items()):
            return True
    return False


# ---------------------------------------------------------------------------
# Model catalogue
# ---------------------------------------------------------------------------

CATALOGUE = []


def spec(name, shape, build, claims, desc, data_range=(-1.0, 1.0), flags=None):
    """flags: extra converter attributes, e.g. to ask for per-tensor weights."""
    CATALOGUE.append({"name": name, "shape": tuple(shape), "build": build,
                      "claims": claims, "desc": desc, "range": data_range,
                      "flags": flags or {}})


def _pair(v):
    return [v, v] if isinstance(v, int) else list(v)


def _catalogue():
    """Fill CATALOGUE; imported lazily so --check-only needs no TensorFlow."""
    import tensorflow as tf
    import keras
    L = keras.layers

    def binit():
        return keras.initializers.RandomNormal(stddev=0.2)

    def conv_case(name, shape, filters, kernel, strides=1, padding="same",
                  dilation=1, act=None, bias=True):
        def build(x):
            return L.Conv2D(filters, kernel, strides=strides, padding=padding,
                            dilation_rate=dilation, activation=act, use_bias=bias,
                            bias_initializer=binit())(x)
        claim = {"op": "CONV_2D", "kernel": _pair(kernel), "stride": _pair(strides),
                 "padding": padding.upper(), "dilation": _pair(dilation),
                 "act": (act or "none").upper(), "cin": shape[-1], "cout": filters,
                 "per_channel": True}
        spec(name, shape, build, [claim],
             "CONV_2D %s k=%s s=%s d=%s %s, %d->%d ch"
             % (padding, kernel, strides, dilation, act or "linear", shape[-1], filters))

    def dw_case(name, shape, kernel, strides=1, padding="same", mult=1,
                dilation=1, act=None):
        def build(x):
            return L.DepthwiseConv2D(kernel, strides=strides, padding=padding,
                                     depth_multiplier=mult, dilation_rate=dilation,
                                     activation=act, bias_initializer=binit())(x)
        claim = {"op": "DEPTHWISE_CONV_2D", "kernel": _pair(kernel),
                 "stride": _pair(strides), "padding": padding.upper(),
                 "dilation": _pair(dilation), "act": (act or "none").upper(),
                 "cin": shape[-1], "cout": shape[-1] * mult, "depth_multiplier": mult,
                 "per_channel": True}
        spec(name, shape, build, [claim],
             "DEPTHWISE_CONV_2D %s k=%s s=%s d=%s mult=%d %s, %d ch"
             % (padding, kernel, strides, dilation, mult, act or "linear", shape[-1]))

    def pool_case(name, shape, kind, pool, strides, padding):
        layer = L.AveragePooling2D if kind == "avg" else L.MaxPooling2D
        opname = "AVERAGE_POOL_2D" if kind == "avg" else "MAX_POOL_2D"

        def build(x):
            # A conv in front so the pool sees a computed tensor, not the input.
            x = L.Conv2D(shape[-1], 1, bias_initializer=binit())(x)
            return layer(pool, strides=strides, padding=padding)(x)
        claim = {"op": opname, "filter": _pair(pool), "stride": _pair(strides),
                 "padding": padding.upper()}
        spec(name, shape, build, [claim],
             "%s %s pool=%s s=%s" % (opname, padding, pool, strides))

    # -- CONV_2D --------------------------------------------------------------
    conv_case("conv_k1_s1_c8to16_relu", (1, 10, 10, 8), 16, 1, act="relu")
    conv_case("conv_k3_s1_same_c3to8_relu6", (1, 12, 12, 3), 8, 3, act="relu6")
    conv_case("conv_k3_s2_valid_c5to5", (1, 13, 13, 5), 5, 3, strides=2, padding="valid")
    conv_case("conv_k3_s2_same_c4to12_relu", (1, 12, 12, 4), 12, 3, strides=2, act="relu")
    conv_case("conv_k5_s1_same_c6to12_relu", (1, 12, 12, 6), 12, 5, act="relu")
    conv_case("conv_k5_s2_same_c4to7", (1, 15, 15, 4), 7, 5, strides=2)
    conv_case("conv_k5_s1_valid_c16to32_relu6", (1, 9, 9, 16), 32, 5, padding="valid", act="relu6")
    conv_case("conv_k7_s2_same_c3to16_relu", (1, 16, 16, 3), 16, 7, strides=2, act="relu")
    conv_case("conv_k7_s1_valid_c2to3", (1, 14, 14, 2), 3, 7, padding="valid")
    conv_case("conv_k3x1_s1_same_c4to6_relu", (1, 12, 10, 4), 6, (3, 1), act="relu")
    conv_case("conv_k1x5_s1_valid_c3to9_relu6", (1, 10, 12, 3), 9, (1, 5), padding="valid", act="relu6")
    conv_case("conv_k5x3_s2x1_same_c5to8", (1, 12, 11, 5), 8, (5, 3), strides=(2, 1))
    conv_case("conv_k3_d2_same_c4to8_relu", (1, 12, 12, 4), 8, 3, dilation=2, act="relu")
    conv_case("conv_k3_d2_valid_c3to5", (1, 14, 14, 3), 5, 3, dilation=2, padding="valid")
    conv_case("conv_k1_s1_c17to32", (1, 6, 6, 17), 32, 1)
    conv_case("conv_k2_s2_valid_c8to20_relu", (1, 12, 12, 8), 20, 2, strides=2, padding="valid", act="relu")
    conv_case("conv_k3_s1_same_nobias_c8to8", (1, 8, 8, 8), 8, 3, bias=False)
    spec("conv_k3_per_tensor_c4to8", (1, 8, 8, 4),
         lambda x: L.Conv2D(8, 3, padding="same", activation="relu",
                            bias_initializer=binit())(x),
         [{"op": "CONV_2D", "kernel": [3, 3], "per_channel": False}],
         "CONV_2D 3x3 with per-tensor weights", flags={"_experimental_disable_per_channel": True})
    conv_case("conv_k10x4_s2_same_c1to16_relu", (1, 25, 10, 1), 16, (10, 4), strides=2, act="relu")

    # -- DEPTHWISE_CONV_2D ----------------------------------------------------
    dw_case("dw_k3_s1_same_m1_c8_relu", (1, 12, 12, 8), 3, act="relu")
    dw_case("dw_k3_s2_same_m1_c16_relu6", (1, 13, 13, 16), 3, strides=2, act="relu6")
    dw_case("dw_k3_s2_valid_m2_c5", (1, 12, 12, 5), 3, strides=2, padding="valid", mult=2)
    dw_case("dw_k5_s1_same_m1_c12_relu", (1, 12, 12, 12), 5, act="relu")
    dw_case("dw_k5_s2_same_m2_c3_relu6", (1, 11, 11, 3), 5, strides=2, mult=2, act="relu6")
    dw_case("dw_k7_s2_valid_m1_c4", (1, 16, 16, 4), 7, strides=2, padding="valid")
    dw_case("dw_k1_s1_same_m2_c3", (1, 8, 8, 3), 1, mult=2)
    dw_case("dw_k3x1_s1_same_m1_c6_relu", (1, 12, 10, 6), (3, 1), act="relu")
    dw_case("dw_k1x5_s1_valid_m2_c4", (1, 10, 12, 4), (1, 5), padding="valid", mult=2)
    dw_case("dw_k3_d2_same_m1_c8_relu6", (1, 12, 12, 8), 3, dilation=2, act="relu6")
    dw_case("dw_k3_s1_valid_m1_c24", (1, 10, 10, 24), 3, padding="valid")

    # -- pools ----------------------------------------------------------------
    pool_case("avgpool_2x2_s2_valid", (1, 12, 12, 8), "avg", 2, 2, "valid")
    pool_case("avgpool_3x3_s1_same", (1, 10, 10, 5), "avg", 3, 1, "same")
    pool_case("avgpool_3x3_s2_same", (1, 11, 11, 4), "avg", 3, 2, "same")
    pool_case("avgpool_6x6_global_valid", (1, 6, 6, 16), "avg", 6, 6, "valid")
    pool_case("maxpool_2x2_s2_valid", (1, 12, 12, 8), "max", 2, 2, "valid")
    pool_case("maxpool_3x3_s2_same", (1, 13, 13, 6), "max", 3, 2, "same")
    pool_case("maxpool_3x3_s1_same", (1, 9, 9, 3), "max", 3, 1, "same")
    pool_case("maxpool_2x3_s1x2_valid", (1, 10, 12, 4), "max", (2, 3), (1, 2), "valid")

    # -- ADD / MUL ------------------------------------------------------------
    def two_branches(x, c):
        a = L.Conv2D(c, 1, bias_initializer=binit())(x)
        b = L.Conv2D(c, 3, padding="same", bias_initializer=binit(),
                     kernel_initializer=keras.initializers.RandomNormal(stddev=1.5))(x)
        return a, b

    spec("add_two_branches", (1, 8, 8, 6),
         lambda x: L.Add()(list(two_branches(x, 6))),
         [{"op": "ADD", "broadcast": False, "scales_differ": True, "act": "NONE"}],
         "ADD of a 1x1-conv branch and a 3x3-conv branch (different scales)")
    spec("add_two_branches_relu", (1, 8, 8, 8),
         lambda x: L.ReLU()(L.Add()(list(two_branches(x, 8)))),
         [{"op": "ADD", "broadcast": False, "scales_differ": True, "act": "RELU"}],
         "ADD with fused ReLU")
    spec("add_input_residual", (1, 8, 8, 4),
         lambda x: L.Add()([x, L.Conv2D(4, 3, padding="same", bias_initializer=binit())(x)]),
         [{"op": "ADD", "broadcast": False, "scales_differ": True}],
         "ADD of the model input and a conv of it (residual, different scales)")

    def add_bcast(x):
        c = L.Conv2D(16, 1, bias_initializer=binit())(x)
        m = L.Lambda(lambda t: tf.reduce_mean(t, axis=[1, 2], keepdims=True))(c)
        m = L.Conv2D(16, 1, bias_initializer=binit())(m)
        return L.Add()([c, m])
    spec("add_broadcast_hw", (1, 6, 6, 8), add_bcast,
         [{"op": "ADD", "broadcast": True, "scales_differ": True}],
         "ADD [1,6,6,16] + [1,1,1,16] (broadcast over H and W)")

    class AddConst(L.Layer):
        def build(self, s):
            self.w = self.add_weight(shape=(s[-1],), initializer=binit(), name="c")

        def call(self, t):
            return t + self.w

    class MulConst(L.Layer):
        def build(self, s):
            self.w = self.add_weight(
                shape=(1, 1, s[-1]), name="c",
                initializer=keras.initializers.RandomUniform(-2.0, 2.0))

        def call(self, t):
            return t * self.w

    spec("add_const_channel", (1, 6, 6, 8), lambda x: AddConst()(x),
         [{"op": "ADD", "broadcast": True, "const_operand": True}],
         "ADD of the input and a constant per-channel vector")
    spec("mul_two_branches", (1, 8, 8, 6),
         lambda x: L.Multiply()(list(two_branches(x, 6))),
         [{"op": "MUL", "broadcast": False, "scales_differ": True}],
         "MUL of two conv branches of different scale")
    spec("mul_input_square", (1, 6, 6, 4),
         lambda x: L.Multiply()([x, L.Conv2D(4, 1, bias_initializer=binit())(x)]),
         [{"op": "MUL", "broadcast": False}],
         "MUL of the input and a 1x1 conv of it")

    def squeeze_excite(x):
        c = L.Conv2D(12, 3, padding="same", activation="relu", bias_initializer=binit())(x)
        m = L.GlobalAveragePooling2D(keepdims=True)(c)
        m = L.Conv2D(4, 1, activation="relu", bias_initializer=binit())(m)
        m = L.Conv2D(12, 1, activation="sigmoid", bias_initializer=binit())(m)
        return L.Multiply()([c, m])
    spec("mul_broadcast_squeeze_excite", (1, 8, 8, 6), squeeze_excite,
         [{"op": "MUL", "broadcast": True}, {"op": "LOGISTIC"},
          {"op": "MEAN", "axes": [1, 2], "keepdims": True}],
         "squeeze-excite: MEAN -> conv -> conv -> LOGISTIC -> MUL (broadcast over H,W)")
    spec("mul_const_channel", (1, 6, 6, 8), lambda x: MulConst()(x),
         [{"op": "MUL", "broadcast": True, "const_operand": True}],
         "MUL of the input and a constant per-channel vector")

    def fc_add(x):
        a = L.Dense(24, bias_initializer=binit())(x)
        b = L.Dense(24, activation="relu", bias_initializer=binit())(x)
        return L.Add()([a, b])
    spec("add_fc_rank2", (1, 20), fc_add,
         [{"op": "ADD", "scales_differ": True},
          {"op": "FULLY_CONNECTED", "bias": True, "act": "RELU"}],
         "ADD of two FULLY_CONNECTED branches (TF 2.21 reshapes one operand to "
         "rank 1, so the ADD broadcasts [1,24] + [24])")

    # -- CONCATENATION --------------------------------------------------------
    spec("concat_axis3_branches", (1, 8, 8, 4),
         lambda x: L.Concatenate(axis=3)(list(two_branches(x, 5))),
         [{"op": "CONCATENATION", "axis": 3, "n_inputs": 2}],
         "CONCATENATION on channels of two conv branches (the converter gives "
         "all concat operands one scale)")
    spec("concat_axis2_input_conv", (1, 6, 5, 4),
         lambda x: L.Concatenate(axis=2)([x, L.Conv2D(4, 3, padding="same",
                                                       bias_initializer=binit())(x)]),
         [{"op": "CONCATENATION", "axis": 2, "n_inputs": 2}],
         "CONCATENATION on width of the input and a conv of it")

    def cat_h(x):
        a = L.Conv2D(4, 3, padding="same", bias_initializer=binit())(x)
        b = L.MaxPooling2D(3, strides=1, padding="same")(x)
        return L.Concatenate(axis=1)([a, x, b])
    spec("concat_axis1_three", (1, 5, 6, 4), cat_h,
         [{"op": "CONCATENATION", "axis": 1, "n_inputs": 3}],
         "CONCATENATION of three tensors on height")

    # -- PAD --------------------------------------------------------------------
    def pad_then_conv(x):
        p = L.ZeroPadding2D(((0, 1), (2, 0)))(L.Conv2D(6, 1, bias_initializer=binit())(x))
        return L.DepthwiseConv2D(3, strides=2, padding="valid", bias_initializer=binit())(p)
    spec("pad_asym_then_dw_s2", (1, 12, 12, 4), pad_then_conv,
         [{"op": "PAD", "paddings": [[0, 0], [0, 1], [2, 0], [0, 0]]},
          {"op": "DEPTHWISE_CONV_2D", "padding": "VALID", "stride": [2, 2]}],
         "PAD asymmetric (MobileNet-style) before a VALID stride-2 depthwise conv")
    spec("pad_sym_hw", (1, 6, 6, 3),
         lambda x: L.ZeroPadding2D(2)(L.Conv2D(5, 1, bias_initializer=binit())(x)),
         [{"op": "PAD", "paddings": [[0, 0], [2, 2], [2, 2], [0, 0]]}],
         "PAD 2 on every spatial side")
    spec("pad_channels", (1, 5, 5, 3),
         lambda x: L.Lambda(lambda t: tf.pad(t, [[0, 0], [0, 0], [0, 0], [1, 4]]))(
             L.Conv2D(3, 1, bias_initializer=binit())(x)),
         [{"op": "PAD", "paddings": [[0, 0], [0, 0], [0, 0], [1, 4]]}],
         "PAD on the channel axis")

    # -- MEAN -------------------------------------------------------------------
    spec("mean_hw_keepdims", (1, 7, 7, 8),
         lambda x: L.Lambda(lambda t: tf.reduce_mean(t, axis=[1, 2], keepdims=True))(
             L.Conv2D(8, 1, bias_initializer=binit())(x)),
         [{"op": "MEAN", "axes": [1, 2], "keepdims": True}],
         "MEAN over H,W keepdims=True")
    spec("mean_hw_nokeep", (1, 5, 9, 12),
         lambda x: L.GlobalAveragePooling2D()(L.Conv2D(12, 3, padding="same", activation="relu",
                                                       bias_initializer=binit())(x)),
         [{"op": "MEAN", "axes": [1, 2], "keepdims": False}],
         "MEAN over H,W keepdims=False (GlobalAveragePooling2D)")

    # -- SOFTMAX / FC / LOGISTIC / RESHAPE / TRANSPOSE ---------------------------
    spec("softmax_fc10", (1, 32),
         lambda x: L.Softmax()(L.Dense(10, bias_initializer=binit())(x)),
         [{"op": "SOFTMAX"}, {"op": "FULLY_CONNECTED", "bias": True}],
         "FULLY_CONNECTED -> SOFTMAX over 10 classes", data_range=(-3.0, 3.0))
    spec("softmax_4d_channels", (1, 4, 4, 8),
         lambda x: L.Softmax(axis=-1)(L.Conv2D(8, 1, bias_initializer=binit())(x)),
         [{"op": "SOFTMAX", "in": [[1, 4, 4, 8]]}],
         "SOFTMAX along channels of a 4-D tensor")
    spec("fc_bias_relu", (1, 64),
         lambda x: L.Dense(32, activation="relu", bias_initializer=binit())(x),
         [{"op": "FULLY_CONNECTED", "bias": True, "act": "RELU", "units": 32}],
         "FULLY_CONNECTED 64->32 with bias, fused ReLU")
    spec("fc_nobias", (1, 48),
         lambda x: L.Dense(10, use_bias=False)(x),
         [{"op": "FULLY_CONNECTED", "bias": False, "units": 10}],
         "FULLY_CONNECTED 48->10 without bias")
    spec("fc_relu6_odd", (1, 37),
         lambda x: L.Dense(13, activation="relu6", bias_initializer=binit())(x),
         [{"op": "FULLY_CONNECTED", "act": "RELU6", "units": 13}],
         "FULLY_CONNECTED 37->13 with fused ReLU6")
    spec("fc_per_tensor", (1, 40),
         lambda x: L.Dense(12, activation="relu", bias_initializer=binit())(x),
         [{"op": "FULLY_CONNECTED", "per_channel": False, "units": 12}],
         "FULLY_CONNECTED with per-tensor weights (as older converters made)",
         flags={"_experimental_disable_per_channel_quantization_for_dense_layers": True})
    spec("fc_after_flatten", (1, 6, 6, 4),
         lambda x: L.Dense(16, bias_initializer=binit())(
             L.Flatten()(L.Conv2D(4, 3, padding="same", activation="relu",
                                  bias_initializer=binit())(x))),
         [{"op": "RESHAPE"}, {"op": "FULLY_CONNECTED", "units": 16}],
         "conv -> Flatten (RESHAPE) -> FULLY_CONNECTED")
    spec("logistic_conv", (1, 8, 8, 4),
         lambda x: L.Activation("sigmoid")(L.Conv2D(6, 3, padding="same",
                                                    bias_initializer=binit())(x)),
         [{"op": "LOGISTIC"}],
         "conv -> LOGISTIC", data_range=(-3.0, 3.0))
    spec("logistic_fc", (1, 24),
         lambda x: L.Dense(8, activation="sigmoid", bias_initializer=binit())(x),
         [{"op": "LOGISTIC"}, {"op": "FULLY_CONNECTED"}],
         "FULLY_CONNECTED -> LOGISTIC")
    spec("reshape_conv_reshape", (1, 8, 8, 4),
         lambda x: L.Conv2D(4, 3, padding="same", bias_initializer=binit())(
             L.Reshape((16, 16, 1))(L.Conv2D(4, 1, bias_initializer=binit())(x))),
         [{"op": "RESHAPE", "out": [[1, 16, 16, 1]]}],
         "RESHAPE [1,8,8,4] -> [1,16,16,1] between convs")
    spec("transpose_0213", (1, 6, 4, 5),
         lambda x: L.Lambda(lambda t: tf.transpose(t, [0, 2, 1, 3]))(
             L.Conv2D(5, 1, bias_initializer=binit())(x)),
         [{"op": "TRANSPOSE", "perm": [0, 2, 1, 3]}],
         "TRANSPOSE swapping H and W")
    spec("transpose_nchw", (1, 5, 4, 6),
         lambda x: L.Lambda(lambda t: tf.transpose(t, [0, 3, 1, 2]))(
             L.Conv2D(6, 1, bias_initializer=binit())(x)),
         [{"op": "TRANSPOSE", "perm": [0, 3, 1, 2]}],
         "TRANSPOSE NHWC -> NCHW")

    # -- multi-op blocks ------------------------------------------------------------
    def mbv1(x):
        x = L.Conv2D(8, 3, strides=2, padding="same", activation="relu", bias_initializer=binit())(x)
        for stride, cout in ((1, 16), (2, 24)):
            x = L.DepthwiseConv2D(3, strides=stride, padding="same", activation="relu",
                                  bias_initializer=binit())(x)
            x = L.Conv2D(cout, 1, activation="relu", bias_initializer=binit())(x)
        return x
    spec("block_mobilenet_v1", (1, 16, 16, 3), mbv1,
         [{"op": "DEPTHWISE_CONV_2D", "stride": [1, 1], "act": "RELU"},
          {"op": "DEPTHWISE_CONV_2D", "stride": [2, 2], "act": "RELU"},
          {"op": "CONV_2D", "kernel": [1, 1], "act": "RELU"}],
         "MobileNetV1: conv s2 then two dw3x3 -> pw1x1 blocks (s1, s2)")

    def inverted_residual(x, cin, expand, cout, stride):
        y = L.Conv2D(cin * expand, 1, activation="relu6", bias_initializer=binit())(x)
        y = L.DepthwiseConv2D(3, strides=stride, padding="same", activation="relu6",
                              bias_initializer=binit())(y)
        y = L.Conv2D(cout, 1, bias_initializer=binit())(y)
        if stride == 1 and cin == cout:
            y = L.Add()([x, y])
        return y

    def mbv2(x):
        x = L.Conv2D(8, 3, padding="same", activation="relu6", bias_initializer=binit())(x)
        x = inverted_residual(x, 8, 6, 8, 1)
        x = inverted_residual(x, 8, 4, 12, 2)
        return inverted_residual(x, 12, 4, 12, 1)
    spec("block_mobilenet_v2", (1, 12, 12, 3), mbv2,
         [{"op": "CONV_2D", "kernel": [1, 1], "act": "RELU6"},
          {"op": "DEPTHWISE_CONV_2D", "act": "RELU6", "stride": [1, 1]},
          {"op": "DEPTHWISE_CONV_2D", "act": "RELU6", "stride": [2, 2]},
          {"op": "CONV_2D", "kernel": [1, 1], "act": "NONE"},
          {"op": "ADD", "broadcast": False}],
         "MobileNetV2 inverted residuals: expand 1x1 -> dw3x3 -> project 1x1 (+ add)")

    def resnet(x):
        x = L.Conv2D(8, 3, padding="same", activation="relu", bias_initializer=binit())(x)
        y = L.Conv2D(8, 3, padding="same", activation="relu", bias_initializer=binit())(x)
        y = L.Conv2D(8, 3, padding="same", bias_initializer=binit())(y)
        x = L.ReLU()(L.Add()([x, y]))
        y = L.Conv2D(16, 3, strides=2, padding="same", activation="relu", bias_initializer=binit())(x)
        y = L.Conv2D(16, 3, padding="same", bias_initializer=binit())(y)
        s = L.Conv2D(16, 1, strides=2, bias_initializer=binit())(x)
        x = L.ReLU()(L.Add()([s, y]))
        x = L.GlobalAveragePooling2D()(x)
        return L.Softmax()(L.Dense(10, bias_initializer=binit())(x))
    spec("block_resnet_basic", (1, 12, 12, 3), resnet,
         [{"op": "ADD", "act": "RELU"}, {"op": "CONV_2D", "kernel": [1, 1], "stride": [2, 2]},
          {"op": "MEAN"}, {"op": "SOFTMAX"}],
         "ResNet basic blocks (identity and 1x1 s2 shortcut), GAP, FC, softmax")

    def ds_cnn(x):
        x = L.Conv2D(16, (10, 4), strides=2, padding="same", activation="relu",
                     bias_initializer=binit())(x)
        for _ in range(2):
            x = L.DepthwiseConv2D(3, padding="same", activation="relu", bias_initializer=binit())(x)
            x = L.Conv2D(16, 1, activation="relu", bias_initializer=binit())(x)
        x = L.AveragePooling2D(pool_size=(25, 5))(x)
        x = L.Flatten()(x)
        return L.Softmax()(L.Dense(12, bias_initializer=binit())(x))
    spec("block_ds_cnn", (1, 49, 10, 1), ds_cnn,
         [{"op": "CONV_2D", "kernel": [10, 4], "stride": [2, 2]},
          {"op": "AVERAGE_POOL_2D", "filter": [25, 5]}, {"op": "SOFTMAX"}],
         "small DS-CNN keyword spotter on a 49x10 MFCC-shaped input", data_range=(-30.0, 30.0))

    def autoencoder(x):
        for units in (48, 24, 8, 24, 48):
            x = L.Dense(units, activation="relu", bias_initializer=binit())(x)
        return L.Dense(80, bias_initializer=binit())(x)
    spec("block_fc_autoencoder", (1, 80), autoencoder,
         [{"op": "FULLY_CONNECTED", "units": 8, "act": "RELU"},
          {"op": "FULLY_CONNECTED", "units": 80, "act": "NONE"}],
         "FC auto-encoder 80-48-24-8-24-48-80", data_range=(-5.0, 5.0))

    def tiny_cnn(x):
        x = L.Conv2D(8, 3, padding="same", activation="relu", bias_initializer=binit())(x)
        x = L.MaxPooling2D(2)(x)
        x = L.Conv2D(16, 3, padding="same", activation="relu", bias_initializer=binit())(x)
        x = L.MaxPooling2D(2)(x)
        x = L.Flatten()(x)
        return L.Softmax()(L.Dense(10, bias_initializer=binit())(x))
    spec("block_tiny_cnn", (1, 16, 16, 1), tiny_cnn,
         [{"op": "MAX_POOL_2D", "filter": [2, 2]}, {"op": "RESHAPE"},
          {"op": "SOFTMAX"}],
         "LeNet-like: conv, maxpool, conv, maxpool, flatten, FC, softmax")

    def temporal_dw(x):
        x = L.Conv2D(12, 1, activation="relu", bias_initializer=binit())(x)
        x = L.DepthwiseConv2D((5, 1), dilation_rate=(2, 1), activation="relu",
                              bias_initializer=binit())(x)
        x = L.Conv2D(12, 1, activation="relu", bias_initializer=binit())(x)
        x = L.DepthwiseConv2D((12, 3), depth_multiplier=2, bias_initializer=binit())(x)
        x = L.Flatten()(x)
        return L.Softmax()(L.Dense(4, bias_initializer=binit())(x))
    spec("block_temporal_dw", (1, 20, 3, 6), temporal_dw,
         [{"op": "DEPTHWISE_CONV_2D", "kernel": [5, 1], "dilation": [2, 1]},
          {"op": "DEPTHWISE_CONV_2D", "kernel": [12, 3], "depth_multiplier": 2},
          {"op": "SOFTMAX"}],
         "temporal convolutions (sww-like): a dilated 5x1 depthwise, then a "
         "depthwise whose window covers the whole remaining input (12x3 -> 1x1)")
    return tf, keras


# Parameter combinations the issue asks for; checked over the whole set.
REQUIRED = [
    ("CONV_2D", "kernel", [[1, 1], [3, 3], [5, 5], [7, 7], [3, 1], [1, 5]]),
    ("CONV_2D", "stride", [[1, 1], [2, 2]]),
    ("CONV_2D", "padding", ["SAME", "VALID"]),
    ("CONV_2D", "dilation", [[2, 2]]),
    ("CONV_2D", "act", ["NONE", "RELU", "RELU6"]),
    ("CONV_2D", "per_channel", [True, False]),
    ("FULLY_CONNECTED", "per_channel", [True, False]),
    ("DEPTHWISE_CONV_2D", "depth_multiplier", [1, 2]),
    ("DEPTHWISE_CONV_2D", "kernel", [[1, 1], [3, 3], [5, 5], [7, 7], [3, 1], [1, 5]]),
    ("DEPTHWISE_CONV_2D", "stride", [[1, 1], [2, 2]]),
    ("DEPTHWISE_CONV_2D", "padding", ["SAME", "VALID"]),
    ("DEPTHWISE_CONV_2D", "dilation", [[2, 2]]),
    ("DEPTHWISE_CONV_2D", "act", ["NONE", "RELU", "RELU6"]),
    ("AVERAGE_POOL_2D", "padding", ["SAME", "VALID"]),
    ("MAX_POOL_2D", "padding", ["SAME", "VALID"]),
    ("AVERAGE_POOL_2D", "stride", [[1, 1], [2, 2]]),
    ("MAX_POOL_2D", "stride", [[1, 1], [2, 2]]),
    ("ADD", "broadcast", [True, False]),
    ("ADD", "scales_differ", [True]),
    ("MUL", "broadcast", [True, False]),
    ("MUL", "scales_differ", [True]),
    ("CONCATENATION", "axis", [1, 2, 3]),
    ("MEAN", "keepdims", [True, False]),
    ("FULLY_CONNECTED", "bias", [True, False]),
]
REQUIRED_OPS = ["PAD", "SOFTMAX", "LOGISTIC", "RESHAPE", "TRANSPOSE"]


def coverage(models):
    """For each op, the set of values each parameter takes over all models."""
    cov = {}
    for m in models:
        for d in m["analysis"]["ops"]:
            slot = cov.setdefault(d["op"], {"count": 0, "models": set()})
            slot["count"] += 1
            slot["models"].add(m["name"])
            for k, v in d.items():
                if k in ("op", "in", "out", "outputs", "paddings"):
                    continue
                slot.setdefault(k, set()).add(json.dumps(v))
    out = {}
    for op, slot in sorted(cov.items()):
        out[op] = {"count": slot["count"], "n_models": len(slot["models"])}
        for k, vals in slot.items():
            if k in ("count", "models"):
                continue
            out[op][k] = sorted((json.loads(v) for v in vals), key=json.dumps)
    problems = []
    for op, key, want in REQUIRED:
        have = out.get(op, {}).get(key, [])
        for w in want:
            if w not in have:
                problems.append("%s.%s = %s not covered" % (op, key, json.dumps(w)))
    for op in REQUIRED_OPS:
        if op not in out:
            problems.append("%s not covered" % op)
    # channel counts: multiples of 16, of 4 but not 16, and not of 4
    for op in ("CONV_2D", "DEPTHWISE_CONV_2D"):
        couts = out.get(op, {}).get("cout", [])
        kinds = {("x16" if c % 16 == 0 else "x4" if c % 4 == 0 else "odd") for c in couts}
        for k in ("x16", "x4", "odd"):
            if k not in kinds:
                problems.append("%s has no output channel count of kind %s" % (op, k))
    return out, problems


# ---------------------------------------------------------------------------
# Conversion
# ---------------------------------------------------------------------------

def convert(entry, seed, tf, keras):
    """entry["shape"], or entry["shapes"] for several model inputs
    (tools/gen_ops_models.py): build(*inputs) gets one Keras input each."""
    keras.utils.set_random_seed(seed)
    shapes = entry.get("shapes") or [entry["shape"]]
    inps = [keras.Input(shape=s[1:], batch_size=s[0],
                        name="input" if len(shapes) == 1 else "input%d" % k)
            for k, s in enumerate(shapes)]
    model = keras.Model(inps[0] if len(inps) == 1 else inps, entry["build"](*inps),
                        name=entry["name"])
    lo, hi = entry["range"]
    rng = np.random.default_rng(seed)

    def representative():
        for k in range(48):
            xs = []
            for s in shapes:
                x = rng.uniform(lo, hi, size=s).astype(np.float32)
                if k % 4 == 3:  # some smoother, less extreme samples too
                    x = (x * rng.uniform(0.2, 1.0)).astype(np.float32)
                xs.append(x)
            yield xs

    return convert_int8(tf, model, representative, entry["flags"], entry)


def set_int8(tf, conv, representative):
    """Asks converter conv for full-integer int8 (input and output too),
    calibrated on representative()."""
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = representative
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8


def convert_int8(tf, model, representative, flags=None, entry=None):
    """Full-integer conversion of a Keras model (int8 input and output)."""
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    set_int8(tf, conv, representative)
    if entry and entry.get("int16x8"):
        # 16-bit activations, 8-bit weights (tools/gen_models_int16.py); the
        # model's input and output are int16 unless the entry's io says so
        conv.target_spec.supported_ops = [
            tf.lite.OpsSet.EXPERIMENTAL_TFLITE_BUILTINS_ACTIVATIONS_INT16_WEIGHTS_INT8]
        io = {"int16": tf.int16, "float32": tf.float32}[entry.get("io", "int16")]
        conv.inference_input_type = conv.inference_output_type = io
    for k, v in (flags or {}).items():
        setattr(conv, k, v)
    # Keras prints a "Saved artifact ..." report on stdout; keep ours readable.
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        return conv.convert()
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def describe(entry_name, path, claims, desc, seed, rng_range, flags=None):
    a = analyse(path)
    with open(path, "rb") as f:
        blob = f.read()
    results = [{"claim": c, "holds": claim_holds(c, a["ops"])} for c in claims]
    return {
        "name": entry_name,
        "file": os.path.basename(path),
        "bytes": len(blob),
        "sha256": hashlib.sha256(blob).hexdigest(),
        "description": desc,
        "seed": seed,
        "representative_range": list(rng_range),
        "converter_flags": flags,
        "input": a["input"],
        "output": a["output"],
        "single_io": a["n_inputs"] == 1 and a["n_outputs"] == 1,
        "ops": [d["op"] for d in a["ops"]],
        "claims": results,
        "analysis": a,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description="generate tests/models/gen")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--only", help="only models whose name contains this")
    ap.add_argument("--check-only", action="store_true",
                    help="re-verify existing files against MANIFEST.json claims")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    manifest_path = os.path.join(args.out, "MANIFEST.json")

    if args.check_only:
        with open(manifest_path) as f:
            manifest = json.load(f)
        models = []
        for m in manifest["models"]:
            d = describe(m["name"], os.path.join(args.out, m["file"]),
                         [c["claim"] for c in m["claims"]], m["description"],
                         m["seed"], m["representative_range"], m.get("converter_flags"))
            models.append(d)
        tf_version = manifest.get("tensorflow_version")
        keras_version = manifest.get("keras_version")
        np_version = manifest.get("numpy_version")
    else:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        tf, keras = _catalogue()
        tf_version, keras_version = tf.__version__, keras.__version__
        np_version = np.__version__
        models = []
        old = {}
        if args.only and os.path.exists(manifest_path):
            with open(manifest_path) as f:
                old = {m["name"]: m for m in json.load(f)["models"]}
        for idx, entry in enumerate(CATALOGUE):
            if args.only and args.only not in entry["name"]:
                if entry["name"] in old:
                    models.append(old[entry["name"]])
                continue
            seed = 1000 + idx
            blob = convert(entry, seed, tf, keras)
            path = os.path.join(args.out, entry["name"] + ".tflite")
            with open(path, "wb") as f:
                f.write(blob)
            d = describe(entry["name"], path, entry["claims"], entry["desc"], seed,
                         entry["range"], entry["flags"])
            models.append(d)
            bad = [r["claim"] for r in d["claims"] if not r["holds"]]
            print("%-36s %6d B  %s%s" % (entry["name"], len(blob), " ".join(d["ops"]),
                                         ("   CLAIM FAILED: %s" % bad) if bad else ""))
        names = {m["name"] for m in models}
        for fn in os.listdir(args.out):
            if fn.endswith(".tflite") and fn[:-7] not in names:
                print("removing stale %s" % fn)
                os.remove(os.path.join(args.out, fn))

    cov, problems = coverage(models)
    failed = ["%s: %s" % (m["name"], r["claim"]) for m in models
              for r in m["claims"] if not r["holds"]]
    failed += ["%s: not single-input single-output" % m["name"]
               for m in models if not m["single_io"]]
    manifest = {
        "generator": "tools/gen_models.py",
        "tensorflow_version": tf_version,
        "keras_version": keras_version,
        "numpy_version": np_version,
        "note": "bytes are reproducible with these versions (same seeds give identical "
                "files); another TensorFlow may quantise or rewrite differently",
        "converter": "tf.lite.TFLiteConverter.from_keras_model, Optimize.DEFAULT, "
                     "representative dataset (48 seeded uniform samples), "
                     "TFLITE_BUILTINS_INT8, inference_input_type = inference_output_type = int8",
        "n_models": len(models),
        "total_bytes": sum(m["bytes"] for m in models),
        "all_claims_hold": not failed,
        "coverage_problems": problems,
        "coverage": cov,
        "models": models,
    }
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1, sort_keys=False)
        f.write("\n")
    print("%d models, %d bytes, TF %s" % (len(models), manifest["total_bytes"], tf_version))
    for p in failed + problems:
        print("PROBLEM:", p)
    return 1 if failed or problems else 0


if __name__ == "__main__":
    sys.exit(main())
