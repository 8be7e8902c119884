#!/usr/bin/env python3
"""Generate the int8 conformance models for the operators pexc adds next.

Writes tests/models/ops/NAME.tflite and tests/models/ops/MANIFEST.json.

Same method as tools/gen_models.py (whose flatbuffer analysis and claim
machinery this script imports): small Keras models, tf ops wrapped in
Lambda layers, seeded weights, converted by the real TensorFlow Lite
converter with full-integer post-training quantisation (representative
dataset, TFLITE_BUILTINS_INT8, int8 input and output tensors).  The
converter rewrites freely, so every model carries *claims* -- "there is a
STRIDED_SLICE with a negative stride and shrink_axis_mask 2" -- checked
against the flatbuffer after conversion.

Every model is then loaded and run through TFLite Micro's Python
interpreter (in a child process, so a crash cannot take the generator
down) on a random input; the manifest records `"tflm": "ok"` or TFLM's
error text.  Models TFLM refuses are kept: pexc must refuse them too.

Model names starting `multi_` have several inputs or outputs (the manifest
gives n_inputs / n_outputs); all others have one input and one output.
`block_*` are small model-level blocks (MobileNetV3, U-Net, attention,
Conv1D, unrolled GRU / LSTM, detection head).

    .venv/bin/python tools/gen_ops_models.py [--out DIR] [--only SUBSTR] [--check-only]

--check-only re-parses the existing files against the manifest claims and
needs no TensorFlow.
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

DEFAULT_OUT = os.path.join(ROOT, "tests", "models", "ops")

# ---------------------------------------------------------------------------
# Flatbuffer analysis: gen_models.analyse() plus the parameters of the new ops
# ---------------------------------------------------------------------------

_BINARY = {"ADD", "SUB", "MUL", "DIV", "MINIMUM", "MAXIMUM", "SQUARED_DIFFERENCE",
           "GREATER", "GREATER_EQUAL", "LESS", "LESS_EQUAL", "EQUAL", "NOT_EQUAL",
           "LOGICAL_AND", "LOGICAL_OR", "PRELU", "FLOOR_DIV", "FLOOR_MOD", "POW"}
_REDUCE = {"MEAN", "SUM", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_PROD", "REDUCE_ANY",
           "REDUCE_ALL"}
_TYPE_NAME = {0: "float32", 1: "float16", 2: "int32", 3: "uint8", 4: "int64", 6: "bool",
              7: "int16", 9: "int8"}


def _ints(a):
    return None if a is None else [int(v) for v in np.ravel(a)]


def analyse_ops(path):
    """gen_models.analyse(path) with the parameters of every operator this
    suite covers added to each op's dict (rank, axes, masks, flags...)."""
    a = G.analyse(path)
    s = G._schema()
    with open(path, "rb") as f:
        model = s.ModelT.InitFromObj(s.Model.GetRootAsModel(f.read(), 0))
    g = model.subgraphs[0]
    T = g.tensors

    def const(i):
        return None if i < 0 else G._const(model, T[i])

    for d, op in zip(a["ops"], g.operators):
        o = op.builtinOptions
        ins = [int(i) for i in op.inputs]
        outs = [int(i) for i in op.outputs]
        name = d["op"]
        d["rank"] = len(d["in"][0]) if d["in"] and d["in"][0] is not None else 0
        d["in_types"] = [_TYPE_NAME.get(T[i].type, str(T[i].type)) if i >= 0 else None
                         for i in ins]
        d["out_types"] = [_TYPE_NAME.get(T[i].type, str(T[i].type)) for i in outs]
        rank = d["rank"]
        if name in _BINARY and len(ins) >= 2:
            d["broadcast"] = d["in"][0] != d["in"][1]
            d["const_operand"] = const(ins[0]) is not None or const(ins[1]) is not None
            d["rank"] = max(len(d["in"][0] or []), len(d["in"][1] or []))
        if name == "STRIDED_SLICE":
            d["begin"], d["end"], d["strides"] = (_ints(const(i)) for i in ins[1:4])
            d["neg_stride"] = any(v < 0 for v in (d["strides"] or []))
            d["begin_mask"], d["end_mask"] = o.beginMask, o.endMask
            d["ellipsis_mask"], d["new_axis_mask"] = o.ellipsisMask, o.newAxisMask
            d["shrink_axis_mask"] = o.shrinkAxisMask
            d["offset"] = bool(getattr(o, "offset", False))
        elif name == "SLICE":
            d["begin"], d["size"] = _ints(const(ins[1])), _ints(const(ins[2]))
        elif name == "SPLIT":
            ax = _ints(const(ins[0]))
            r = len(d["in"][1])
            d["rank"] = r
            d["axis"] = ax[0] % r if ax else None
            d["num_splits"] = o.numSplits
        elif name == "SPLIT_V":
            ax = _ints(const(ins[2]))
            d["axis"] = ax[0] % rank if ax else None
            d["size_splits"] = _ints(const(ins[1]))
            d["num_splits"] = o.numSplits
        elif name == "PACK":
            d["axis"] = o.axis % (rank + 1)
            d["n"] = o.valuesCount
        elif name == "UNPACK":
            d["axis"] = o.axis % rank
            d["n"] = o.num
        elif name in _REDUCE:
            ax = _ints(const(ins[1]))
            d["axes_raw"] = ax
            d["axes"] = sorted(set(v % rank for v in ax)) if ax is not None else None
            d["neg_axes"] = any(v < 0 for v in ax) if ax is not None else None
            d["keepdims"] = bool(o.keepDims)
        elif name in ("RESIZE_BILINEAR", "RESIZE_NEAREST_NEIGHBOR"):
            d["size"] = _ints(const(ins[1]))
            d["align_corners"] = bool(o.alignCorners)
            d["half_pixel_centers"] = bool(o.halfPixelCenters)
        elif name == "TRANSPOSE_CONV":
            w = d["in"][1]
            d["kernel"] = [w[1], w[2]]
            d["cout"], d["cin"] = w[0], w[3]
            d["stride"] = [o.strideH, o.strideW]
            d["padding"] = G._PAD.get(o.padding, o.padding)
            d["per_channel"] = len(G._scales(T[ins[1]])) == w[0] and w[0] > 1
            d["bias"] = len(ins) > 3 and ins[3] >= 0
            d["act"] = G._ACT.get(o.fusedActivationFunction, str(o.fusedActivationFunction))
            d["rank"] = len(d["in"][2])
        elif name == "BATCH_MATMUL":
            d["adj_x"], d["adj_y"] = bool(o.adjX), bool(o.adjY)
            d["const_rhs"] = const(ins[1]) is not None
            d["broadcast"] = d["in"][0][:-2] != d["in"][1][:-2]
        elif name == "LEAKY_RELU":
            d["alpha"] = round(float(o.alpha), 6)
        elif name == "GATHER":
            d["axis"] = o.axis % rank
            d["batch_dims"] = o.batchDims
            d["indices"] = d["in"][1]
        elif name == "GATHER_ND":
            d["indices"] = d["in"][1]
        elif name in ("ARG_MAX", "ARG_MIN"):
            ax = _ints(const(ins[1]))
            d["axis"] = ax[0] % rank if ax else None
            d["out_type"] = d["out_types"][0]
        elif name in ("SPACE_TO_DEPTH", "DEPTH_TO_SPACE"):
            d["block_size"] = o.blockSize
        elif name in ("SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND"):
            d["block_shape"] = _ints(const(ins[1]))
            p = const(ins[2])
            d["paddings" if name == "SPACE_TO_BATCH_ND" else "crops"] = \
                p.tolist() if p is not None else None
        elif name == "MIRROR_PAD":
            d["mode"] = {0: "REFLECT", 1: "SYMMETRIC"}.get(o.mode, o.mode)
            p = const(ins[1])
            d["paddings"] = p.tolist() if p is not None else None
        elif name == "CUMSUM":
            ax = _ints(const(ins[1]))
            d["axis"] = ax[0] % rank if ax else None
            d["exclusive"], d["reverse"] = bool(o.exclusive), bool(o.reverse)
        elif name == "TILE":
            d["multiples"] = _ints(const(ins[1]))
        elif name == "BROADCAST_TO":
            d["shape"] = _ints(const(ins[1]))
        elif name == "REVERSE_V2":
            ax = _ints(const(ins[1]))
            d["axes"] = sorted(v % rank for v in ax) if ax else None
        elif name == "L2_POOL_2D":
            d["filter"] = [o.filterHeight, o.filterWidth]
            d["stride"] = [o.strideH, o.strideW]
            d["padding"] = G._PAD.get(o.padding, o.padding)
        elif name == "EXPAND_DIMS":
            ax = _ints(const(ins[1]))
            d["axis"] = ax[0] if ax else None
        elif name == "ADD_N":
            d["n"] = len(ins)
        elif name == "CONCATENATION":
            d["rank"] = len(d["out"][0])
    return a


# ---------------------------------------------------------------------------
# Catalogue
# ---------------------------------------------------------------------------

CATALOGUE = []


def spec(name, shapes, build, claims, desc, data_range=(-1.0, 1.0), flags=None):
    """shapes: one input shape, or a list of shapes (several inputs; the name
    must then start with multi_).  build(*inputs) returns a tensor or a list
    of tensors (several outputs)."""
    if isinstance(shapes[0], int):
        shapes = [shapes]
    CATALOGUE.append({"name": name, "shapes": [tuple(s) for s in shapes], "build": build,
                      "claims": claims, "desc": desc, "range": data_range,
                      "flags": flags or {}})


def _catalogue():
    import tensorflow as tf
    import keras
    L = keras.layers

    def binit():
        return keras.initializers.RandomNormal(stddev=0.2)

    def lam(fn, *xs):
        """Apply a tf function to Keras tensors through a Lambda layer."""
        if len(xs) == 1:
            return L.Lambda(fn)(xs[0])
        return L.Lambda(lambda ts: fn(*ts))(list(xs))

    def unary(name, shape, fn, claim, desc, rng=(-1.0, 1.0)):
        spec(name, shape, lambda x: lam(fn, x), [claim], desc, data_range=rng)

    # -- STRIDED_SLICE ---------------------------------------------------------
    SS = "STRIDED_SLICE"
    unary("strided_slice_4d_steps", (1, 8, 10, 6), lambda t: t[:, 1:7, ::2, 1:5],
          {"op": SS, "strides": [1, 1, 2, 1], "rank": 4}, "x[:, 1:7, ::2, 1:5]")
    unary("strided_slice_neg_stride_h", (1, 7, 6, 4), lambda t: t[:, ::-1, :, :],
          {"op": SS, "neg_stride": True}, "x[:, ::-1] (reverse rows)")
    unary("strided_slice_neg_stride2", (1, 9, 8, 5), lambda t: t[:, 7:1:-2, ::-3, 1:4],
          {"op": SS, "neg_stride": True, "strides": [1, -2, -3, 1]},
          "x[:, 7:1:-2, ::-3, 1:4] (negative strides, explicit bounds)")
    unary("strided_slice_neg_index", (1, 8, 8, 6), lambda t: t[:, -5:-1, -3:, :-2],
          {"op": SS}, "x[:, -5:-1, -3:, :-2] (negative begin/end)")
    unary("strided_slice_shrink", (1, 6, 7, 8), lambda t: t[:, 2, 1:6, :],
          {"op": SS, "shrink_axis_mask": 2}, "x[:, 2, 1:6, :] (shrink axis 1)")
    unary("strided_slice_shrink_last", (1, 6, 7, 8), lambda t: t[:, :, :, 3],
          {"op": SS, "shrink_axis_mask": 8}, "x[..., 3] as x[:, :, :, 3] (shrink channel)")
    unary("strided_slice_ellipsis", (1, 5, 6, 9), lambda t: t[..., 2:8:3],
          {"op": SS, "strides": [1, 1, 1, 3]}, "x[..., 2:8:3] (ellipsis, stride 3 on channels)")
    unary("strided_slice_masks", (1, 8, 8, 4), lambda t: t[:, :5, 3:, ::-1],
          {"op": SS, "neg_stride": True}, "x[:, :5, 3:, ::-1] (begin/end masks, reversed channels)")
    spec("strided_slice_new_axis", (1, 6, 8), lambda x: lam(lambda t: t[:, tf.newaxis, 1:5, ::2], x),
         [{"op": SS, "strides": [1, 1, 1, 2]}, {"op": "RESHAPE"}],
         "x[:, newaxis, 1:5, ::2] (TF 2.21 turns the new axis into a RESHAPE; "
         "no new_axis_mask reaches the flatbuffer)")
    unary("strided_slice_rank2", (1, 40), lambda t: t[:, 3:37:3],
          {"op": SS, "rank": 2}, "x[:, 3:37:3] on a rank-2 tensor")
    unary("strided_slice_rank3_neg", (1, 12, 10), lambda t: t[:, 10:0:-3, -2::-2],
          {"op": SS, "rank": 3, "neg_stride": True}, "rank 3, negative strides")
    unary("strided_slice_rank5", (1, 4, 5, 6, 3), lambda t: t[:, 1:, ::2, 1:5, :],
          {"op": SS, "rank": 5}, "rank 5")
    unary("strided_slice_offset", (1, 10, 8),
          lambda t: tf.strided_slice(t, [0, 2, 1], [0, 5, 6], [1, 1, 1], end_mask=1),
          {"op": SS, "end_mask": 1}, "tf.strided_slice with end_mask on batch")

    # -- SLICE ---------------------------------------------------------------------
    unary("slice_4d", (1, 8, 9, 6), lambda t: tf.slice(t, [0, 2, 1, 1], [1, 4, -1, 3]),
          {"op": "SLICE", "rank": 4}, "tf.slice begin [0,2,1,1] size [1,4,-1,3]")
    unary("slice_rank2", (1, 30), lambda t: tf.slice(t, [0, 5], [1, 17]),
          {"op": "SLICE", "rank": 2}, "tf.slice on rank 2")
    unary("slice_rank3", (1, 10, 12), lambda t: tf.slice(t, [0, 3, 0], [1, 5, 7]),
          {"op": "SLICE", "rank": 3}, "tf.slice on rank 3")
    unary("slice_rank5", (1, 3, 4, 5, 6), lambda t: tf.slice(t, [0, 1, 1, 0, 2], [1, 2, 2, 5, 3]),
          {"op": "SLICE", "rank": 5}, "tf.slice on rank 5")

    # -- SPLIT / SPLIT_V -------------------------------------------------------------
    def split_cat(n, axis, cat_axis=None):
        return lambda t: tf.concat(tf.split(t, n, axis=axis)[::-1],
                                   axis=axis if cat_axis is None else cat_axis)
    unary("split_ch3_concat", (1, 6, 6, 9), split_cat(3, -1),
          {"op": "SPLIT", "num_splits": 3, "axis": 3}, "SPLIT 3 on channels (axis -1), concat reversed")
    unary("split_h2_concat", (1, 8, 5, 4), split_cat(2, 1),
          {"op": "SPLIT", "num_splits": 2, "axis": 1}, "SPLIT 2 on height, concat reversed")
    unary("split_rank2", (1, 24), split_cat(4, 1),
          {"op": "SPLIT", "num_splits": 4, "rank": 2}, "SPLIT 4 on a rank-2 tensor")
    unary("split_rank3_axis1", (1, 6, 10), split_cat(3, 1),
          {"op": "SPLIT", "num_splits": 3, "axis": 1, "rank": 3}, "SPLIT 3 on axis 1, rank 3")
    unary("split_rank5", (1, 2, 4, 3, 4), split_cat(2, 2),
          {"op": "SPLIT", "num_splits": 2, "axis": 2, "rank": 5}, "SPLIT on rank 5")
    unary("split_v_ch", (1, 5, 5, 10), lambda t: tf.concat(tf.split(t, [1, 6, 3], axis=3)[::-1], 3),
          {"op": "SPLIT_V", "size_splits": [1, 6, 3], "axis": 3}, "SPLIT_V [1,6,3] on channels")
    unary("split_v_neg_axis", (1, 9, 6), lambda t: tf.concat(tf.split(t, [4, -1], axis=-2)[::-1], 1),
          {"op": "SPLIT_V", "axis": 1, "rank": 3}, "SPLIT_V [4,-1] on axis -2")
    spec("multi_split_outputs", (1, 6, 6, 8), lambda x: lam(lambda t: tf.split(t, 4, axis=3), x),
         [{"op": "SPLIT", "num_splits": 4}], "SPLIT into 4 model outputs")
    spec("multi_split_v_outputs", (1, 7, 12),
         lambda x: lam(lambda t: tf.split(t, [2, 3, 2], axis=1), x),
         [{"op": "SPLIT_V", "size_splits": [2, 3, 2]}], "SPLIT_V into 3 model outputs")

    # -- PACK / UNPACK -------------------------------------------------------------------
    unary("pack_axis1", (1, 6, 8), lambda t: tf.stack(tf.split(t, 2, axis=2), axis=1),
          {"op": "PACK", "axis": 1, "n": 2}, "SPLIT then PACK on a new axis 1")
    unary("pack_axis_last", (1, 4, 4, 6), lambda t: tf.stack(tf.split(t, 3, axis=3), axis=-1),
          {"op": "PACK", "axis": 4, "n": 3}, "PACK on a new last axis (rank 5 out)")
    unary("pack_rank2", (1, 12), lambda t: tf.stack([t[0, :6], t[0, 6:]], axis=0),
          {"op": "PACK", "axis": 0}, "PACK two rank-1 slices on axis 0")
    unary("unpack_axis1_concat", (1, 4, 5, 3), lambda t: tf.concat(tf.unstack(t, axis=1)[::-1], axis=-1),
          {"op": "UNPACK", "axis": 1, "n": 4}, "UNPACK on height, concat on channels")
    unary("unpack_axis_last", (1, 5, 3), lambda t: tf.concat(tf.unstack(t, axis=-1)[::-1], axis=1),
          {"op": "UNPACK", "axis": 2, "n": 3}, "UNPACK on the last axis (-1)")
    spec("multi_unpack_outputs", (1, 3, 4, 5), lambda x: lam(lambda t: tf.unstack(t, axis=1), x),
         [{"op": "UNPACK", "n": 3}], "UNPACK into 3 model outputs")
    spec("multi_pack_inputs", [(1, 4, 5), (1, 4, 5), (1, 4, 5)],
         lambda a, b, c: lam(lambda p, q, r: tf.stack([p, q, r], axis=2), a, b, c),
         [{"op": "PACK", "n": 3}], "PACK three model inputs")

    # -- unary activations and math ------------------------------------------------------
    unary("tanh_4d", (1, 6, 6, 8), tf.tanh, {"op": "TANH", "rank": 4}, "TANH", rng=(-3, 3))
    unary("tanh_rank2", (1, 64), tf.tanh, {"op": "TANH", "rank": 2}, "TANH rank 2", rng=(-4, 4))
    unary("tanh_rank3_small", (1, 7, 9), tf.tanh, {"op": "TANH", "rank": 3}, "TANH on a small range",
          rng=(-0.3, 0.3))
    unary("logistic_rank3", (1, 7, 9), tf.sigmoid, {"op": "LOGISTIC", "rank": 3}, "LOGISTIC rank 3",
          rng=(-6, 6))
    unary("hard_swish_4d", (1, 6, 6, 8), lambda t: t * tf.nn.relu6(t + 3.0) / 6.0,
          {"op": "HARD_SWISH"}, "HARD_SWISH (x * relu6(x+3)/6)", rng=(-5, 5))
    unary("hard_swish_rank2", (1, 50), lambda t: t * tf.nn.relu6(t + 3.0) * (1.0 / 6.0),
          {"op": "HARD_SWISH", "rank": 2}, "HARD_SWISH rank 2", rng=(-8, 3))
    unary("relu_4d", (1, 6, 6, 8), tf.nn.relu, {"op": "RELU"}, "standalone RELU")
    unary("relu_rank2", (1, 40), tf.nn.relu, {"op": "RELU", "rank": 2}, "RELU rank 2", rng=(-1, 3))
    unary("relu6_4d", (1, 6, 6, 8), tf.nn.relu6, {"op": "RELU6"}, "standalone RELU6", rng=(-4, 9))
    unary("relu_n1_to_1", (1, 6, 6, 8), lambda t: tf.clip_by_value(t, -1.0, 1.0),
          {"op": "RELU_N1_TO_1"}, "clip to [-1, 1]", rng=(-3, 3))
    unary("leaky_relu_02", (1, 6, 6, 8), lambda t: tf.nn.leaky_relu(t, 0.2),
          {"op": "LEAKY_RELU", "alpha": 0.2}, "LEAKY_RELU alpha 0.2", rng=(-3, 3))
    unary("leaky_relu_rank3_001", (1, 10, 12), lambda t: tf.nn.leaky_relu(t, 0.01),
          {"op": "LEAKY_RELU", "rank": 3}, "LEAKY_RELU alpha 0.01 rank 3", rng=(-3, 3))
    spec("prelu_channel", (1, 6, 6, 8),
         lambda x: L.PReLU(alpha_initializer=keras.initializers.RandomUniform(-0.5, 0.8),
                           shared_axes=[1, 2])(x),
         [{"op": "PRELU", "broadcast": True}], "PRELU per-channel alpha", data_range=(-2, 2))
    spec("prelu_full", (1, 5, 5, 4),
         lambda x: L.PReLU(alpha_initializer=keras.initializers.RandomUniform(-0.5, 0.8))(x),
         [{"op": "PRELU"}], "PRELU alpha per element", data_range=(-2, 2))
    unary("elu_4d", (1, 6, 6, 8), tf.nn.elu, {"op": "ELU"}, "ELU", rng=(-3, 3))
    unary("abs_4d", (1, 6, 6, 8), tf.abs, {"op": "ABS"}, "ABS", rng=(-2, 1))
    unary("neg_rank3", (1, 8, 9), tf.negative, {"op": "NEG"}, "NEG", rng=(-2, 1))
    unary("exp_4d", (1, 5, 5, 6), tf.exp, {"op": "EXP"}, "EXP", rng=(-3, 1))
    unary("log_4d", (1, 5, 5, 6), tf.math.log, {"op": "LOG"}, "LOG of a positive input",
          rng=(0.05, 4))
    unary("sqrt_4d", (1, 5, 5, 6), tf.sqrt, {"op": "SQRT"}, "SQRT of a positive input",
          rng=(0.0, 4))
    unary("rsqrt_4d", (1, 5, 5, 6), tf.math.rsqrt, {"op": "RSQRT"}, "RSQRT of a positive input",
          rng=(0.1, 4))
    unary("rsqrt_rank2", (1, 48), tf.math.rsqrt, {"op": "RSQRT", "rank": 2}, "RSQRT rank 2",
          rng=(0.5, 10))
    unary("square_4d", (1, 6, 6, 8), tf.square, {"op": "SQUARE"}, "SQUARE", rng=(-2, 2))
    unary("log_softmax_rank2", (1, 16), tf.nn.log_softmax, {"op": "LOG_SOFTMAX"}, "LOG_SOFTMAX",
          rng=(-4, 4))
    unary("log_softmax_4d", (1, 3, 4, 10), tf.nn.log_softmax, {"op": "LOG_SOFTMAX", "rank": 4},
          "LOG_SOFTMAX over channels of a 4-D tensor", rng=(-4, 4))
    unary("softmax_rank3", (1, 6, 12), tf.nn.softmax, {"op": "SOFTMAX", "rank": 3},
          "SOFTMAX on a rank-3 tensor", rng=(-4, 4))
    unary("l2_normalization", (1, 4, 4, 12), lambda t: tf.math.l2_normalize(t, axis=-1),
          {"op": "L2_NORMALIZATION"}, "L2_NORMALIZATION over channels")
    unary("l2_normalization_rank2", (1, 32), lambda t: tf.math.l2_normalize(t, axis=-1),
          {"op": "L2_NORMALIZATION", "rank": 2}, "L2_NORMALIZATION rank 2")

    # -- binary element-wise, broadcasting -------------------------------------------------
    rng0 = np.random.default_rng(7)

    def cst(shape, lo=-1.0, hi=1.0):
        return tf.constant(rng0.uniform(lo, hi, size=shape).astype(np.float32))

    def half(t, axis=-1):
        a, b = tf.split(t, 2, axis=axis)
        return a, b

    c_sub = cst((1, 1, 1, 8))
    c5a, c5b = cst((1, 2, 1, 4, 1)), cst((1, 1, 3, 1, 5), 0.2, 2.0)
    unary("sub_const_channel", (1, 6, 6, 8), lambda t: t - c_sub,
          {"op": "SUB", "broadcast": True, "const_operand": True}, "SUB x - c[channel]")
    unary("sub_halves", (1, 6, 6, 8), lambda t: tf.subtract(*half(t)),
          {"op": "SUB", "broadcast": False}, "SUB of two channel halves (same scale)")
    unary("sub_mean_rank3", (1, 8, 12), lambda t: t - tf.reduce_mean(t, axis=-1, keepdims=True),
          {"op": "SUB", "broadcast": True, "rank": 3}, "SUB x - mean(x, -1) (layer-norm centring)")
    unary("sub_rank5_bcast", (1, 2, 3, 4, 6), lambda t: t - c5a,
          {"op": "SUB", "broadcast": True, "rank": 5}, "SUB rank 5, constant [1,2,1,4,1] broadcast")
    spec("multi_sub_inputs", [(1, 5, 6, 4), (1, 1, 6, 1)],
         lambda a, b: lam(lambda p, q: p - q, a, b),
         [{"op": "SUB", "broadcast": True}], "SUB of two model inputs, broadcast")
    spec("sub_relu_fused", (1, 6, 6, 8),
         lambda x: L.ReLU()(lam(lambda t: t[..., :4] - t[..., 4:] * 2.0, x)),
         [{"op": "SUB"}], "SUB (possibly with fused RELU)")
    c_add2 = cst((1, 1, 7, 1))
    unary("add_const_bcast_w", (1, 5, 7, 6), lambda t: t + c_add2,
          {"op": "ADD", "broadcast": True, "const_operand": True}, "ADD x + c[1,1,W,1]")
    unary("add_two_way_bcast", (1, 4, 6, 5), lambda t: t[:, :1, :, :] + t[:, :, :1, :],
          {"op": "ADD", "broadcast": True}, "ADD [1,1,6,5] + [1,4,1,5] (both operands broadcast)")
    unary("add_rank2_bcast", (1, 20), lambda t: tf.reshape(t, [4, 5]) + t[:, :5],
          {"op": "ADD", "broadcast": True, "rank": 2}, "ADD [4,5] + [1,5]")
    unary("add_rank3", (1, 6, 10), lambda t: t[:, :, :5] + t[:, :, 5:] * 3.0,
          {"op": "ADD", "rank": 3}, "ADD rank 3")
    unary("add_rank5_bcast", (1, 2, 3, 4, 5), lambda t: t + tf.reduce_max(t, axis=[1, 3], keepdims=True),
          {"op": "ADD", "broadcast": True, "rank": 5},
          "ADD rank 5: x + reduce_max(x, [1,3]) (broadcast on axes 1 and 3)")
    spec("multi_add_inputs_bcast", [(1, 4, 1, 6), (1, 1, 5, 1)],
         lambda a, b: lam(lambda p, q: p + q, a, b),
         [{"op": "ADD", "broadcast": True}], "ADD of two model inputs, two-way broadcast")
    c_mul = cst((1, 6, 1, 1), 0.2, 2.0)
    unary("mul_const_bcast_h", (1, 6, 5, 4), lambda t: t * c_mul,
          {"op": "MUL", "broadcast": True, "const_operand": True}, "MUL x * c[1,H,1,1]")
    unary("mul_two_way_bcast", (1, 4, 6, 5), lambda t: t[:, :, :1, :] * t[:, :1, :, :],
          {"op": "MUL", "broadcast": True}, "MUL [1,4,1,5] * [1,1,6,5]")
    unary("mul_rank3", (1, 6, 10), lambda t: t[:, :, :5] * t[:, :, 5:],
          {"op": "MUL", "rank": 3}, "MUL rank 3")
    unary("mul_rank5_bcast", (1, 2, 3, 4, 5), lambda t: t * c5b,
          {"op": "MUL", "broadcast": True, "rank": 5}, "MUL rank 5, constant [1,1,3,1,5] broadcast")
    unary("mul_rank2_bcast", (1, 24), lambda t: tf.reshape(t, [4, 6]) * t[:, 6:12],
          {"op": "MUL", "broadcast": True, "rank": 2}, "MUL [4,6] * [1,6]")
    c_min = cst((1, 1, 1, 6), -0.5, 0.5)
    unary("minimum_const", (1, 5, 5, 6), lambda t: tf.minimum(t, c_min),
          {"op": "MINIMUM", "broadcast": True, "const_operand": True}, "MINIMUM x, c[channel]")
    unary("maximum_halves", (1, 5, 5, 8), lambda t: tf.maximum(*half(t)),
          {"op": "MAXIMUM", "broadcast": False}, "MAXIMUM of two channel halves")
    unary("maximum_bcast_rank3", (1, 6, 8), lambda t: tf.maximum(t, t[:, :1, :] * 0.5),
          {"op": "MAXIMUM", "broadcast": True, "rank": 3}, "MAXIMUM with broadcast, rank 3")
    unary("minimum_rank5_bcast", (1, 2, 3, 4, 3), lambda t: tf.minimum(t, tf.reduce_mean(t, axis=3, keepdims=True)),
          {"op": "MINIMUM", "broadcast": True, "rank": 5},
          "MINIMUM rank 5: x, mean(x, 3) (broadcast on axis 3)")
    spec("multi_maximum_inputs", [(1, 4, 4, 3), (1, 4, 4, 3)],
         lambda a, b: lam(tf.maximum, a, b), [{"op": "MAXIMUM"}], "MAXIMUM of two model inputs")
    unary("squared_difference_halves", (1, 5, 5, 8), lambda t: tf.math.squared_difference(*half(t)),
          {"op": "SQUARED_DIFFERENCE"}, "SQUARED_DIFFERENCE of two halves")
    unary("squared_difference_bcast", (1, 6, 10),
          lambda t: tf.math.squared_difference(t, tf.reduce_mean(t, axis=-1, keepdims=True)),
          {"op": "SQUARED_DIFFERENCE", "broadcast": True}, "SQUARED_DIFFERENCE x, mean(x)")
    unary("div_halves", (1, 5, 5, 8), lambda t: t[..., :4] / (tf.abs(t[..., 4:]) + 0.5),
          {"op": "DIV"}, "DIV a / (|b| + 0.5)")
    unary("div_bcast", (1, 6, 8),
          lambda t: t / (tf.reduce_max(tf.abs(t), axis=-1, keepdims=True) + 0.25),
          {"op": "DIV", "broadcast": True}, "DIV by a broadcast per-row max")
    unary("add_n_three", (1, 4, 4, 12), lambda t: tf.add_n(tf.split(t, 3, axis=3)),
          {"op": "ADD_N", "n": 3}, "ADD_N of three channel thirds")
    unary("add_relu6_fused", (1, 6, 6, 8), lambda t: tf.nn.relu6(t[..., :4] + t[..., 4:] * 4.0),
          {"op": "ADD"}, "ADD then RELU6", rng=(-2, 2))

    # -- comparisons, SELECT_V2, logical ----------------------------------------------------
    unary("select_same_shape", (1, 6, 6, 8), lambda t: tf.where(t[..., :4] > t[..., 4:],
                                                                t[..., :4], t[..., 4:] * 0.5),
          {"op": "SELECT"}, "tf.where(a > b, a, b/2) with equal shapes: the converter emits "
          "SELECT (v1), which TFLM does not register")
    c_else = cst((1, 1, 1, 3), -0.5, 0.5)
    for cmp, fn in (("GREATER_EQUAL", tf.greater_equal), ("LESS", tf.less),
                    ("LESS_EQUAL", tf.less_equal), ("EQUAL", tf.equal),
                    ("NOT_EQUAL", tf.not_equal), ("GREATER", tf.greater)):
        unary("select_%s" % cmp.lower(), (1, 5, 6, 6),
              lambda t, fn=fn: tf.where(fn(t[..., :3], t[..., 3:]), t[..., :3], c_else),
              {"op": cmp}, "%s feeding SELECT_V2 (else: a broadcast constant)" % cmp)
    c_thr = cst((1, 1, 1, 4), -0.3, 0.3)
    unary("select_v2_const_bcast", (1, 5, 5, 4), lambda t: tf.where(t > c_thr, t, tf.zeros_like(t)),
          {"op": "SELECT_V2"}, "SELECT_V2 with a broadcast constant threshold and zeros")
    unary("logical_and_or_not", (1, 5, 5, 6),
          lambda t: tf.where(tf.logical_or(tf.logical_and(t[..., :2] > 0.0, t[..., 2:4] < 0.25),
                                           tf.logical_not(t[..., 4:] > -0.25)),
                             t[..., :2], c_else[..., :2]),
          {"op": "LOGICAL_AND"}, "LOGICAL_AND / LOGICAL_OR feeding SELECT_V2 (the converter "
          "folds LOGICAL_NOT into the comparison)")
    spec("multi_select_v2_inputs", [(1, 4, 1), (1, 4, 5), (1, 4, 5)],
         lambda c, a, b: lam(lambda p, q, r: tf.where(p > 0.0, q, r), c, a, b),
         [{"op": "SELECT_V2"}], "tf.where(c > 0, a, b) of three model inputs, c broadcast")

    # -- reductions ---------------------------------------------------------------------------
    red = {"REDUCE_MAX": tf.reduce_max, "REDUCE_MIN": tf.reduce_min, "SUM": tf.reduce_sum,
           "MEAN": tf.reduce_mean}
    cases = [((1, 6, 6, 8), [1, 2], True), ((1, 6, 6, 8), [-1], False),
             ((1, 5, 7, 6), [1], True), ((1, 5, 7, 6), [2], False),
             ((1, 8, 10), [1], False), ((1, 8, 10), [-1], True),
             ((1, 30), [1], True), ((1, 3, 4, 5, 6), [2, -1], False),
             ((1, 4, 5, 6), [1, 2, 3], False)]
    for op, fn in red.items():
        for k, (shape, axes, keep) in enumerate(cases):
            if op == "MEAN" and axes == [1, 2] and keep:
                continue  # already in tests/models/gen
            rank = len(shape)
            nm = "%s_r%d_ax%s_%s" % (op.lower(), rank,
                                     "".join(("m%d" % -a) if a < 0 else str(a) for a in axes),
                                     "keep" if keep else "nokeep")
            unary(nm, shape, lambda t, fn=fn, axes=axes, keep=keep: fn(t, axis=axes, keepdims=keep),
                  {"op": op, "axes": sorted(set(a % rank for a in axes)), "keepdims": keep},
                  "%s over axes %s of a rank-%d tensor, keepdims=%s" % (op, axes, rank, keep),
                  rng=(-1, 1) if op != "SUM" else (-0.3, 0.3))

    # -- RESIZE ----------------------------------------------------------------------------------
    for kind, op, v1 in (("nearest", "RESIZE_NEAREST_NEIGHBOR",
                          tf.compat.v1.image.resize_nearest_neighbor),
                         ("bilinear", "RESIZE_BILINEAR", tf.compat.v1.image.resize_bilinear)):
        unary("resize_%s_x2_hpc" % kind, (1, 5, 6, 4),
              lambda t, kind=kind: tf.image.resize(t, [10, 12], method=kind),
              {"op": op, "half_pixel_centers": True}, "%s x2, half-pixel centres" % kind)
        unary("resize_%s_align" % kind, (1, 5, 6, 4),
              lambda t, v1=v1: v1(t, [9, 11], align_corners=True),
              {"op": op, "align_corners": True}, "%s 5x6 -> 9x11, align_corners" % kind)
        unary("resize_%s_plain" % kind, (1, 4, 5, 3),
              lambda t, v1=v1: v1(t, [7, 13], align_corners=False, half_pixel_centers=False),
              {"op": op, "align_corners": False, "half_pixel_centers": False},
              "%s 4x5 -> 7x13, neither flag" % kind)
        down = [4, 3] if kind == "nearest" else [4, 5]
        unary("resize_%s_down" % kind, (1, 9, 10, 3) if kind == "nearest" else (1, 11, 9, 5),
              lambda t, kind=kind, down=down: tf.image.resize(t, down, method=kind),
              {"op": op, "size": down}, "%s down to %s" % (kind, down))
    spec("resize_upsampling2d", (1, 4, 4, 6), lambda x: L.UpSampling2D(2)(x),
         [{"op": "TILE"}, {"op": "RESHAPE"}],
         "Keras UpSampling2D(2): TF 2.21 writes RESHAPE/TILE, not RESIZE_NEAREST_NEIGHBOR")

    # -- TRANSPOSE_CONV ----------------------------------------------------------------------
    def tconv(name, shape, filters, k, s, pad, bias=True, act=None, flags=None, per_channel=True):
        spec(name, shape,
             lambda x: L.Conv2DTranspose(filters, k, strides=s, padding=pad, use_bias=bias,
                                         activation=act, bias_initializer=binit())(x),
             [{"op": "TRANSPOSE_CONV", "kernel": [k, k] if isinstance(k, int) else list(k),
               "stride": [s, s] if isinstance(s, int) else list(s), "padding": pad.upper(),
               "per_channel": per_channel, "cout": filters}],
             "TRANSPOSE_CONV k=%s s=%s %s %d->%d%s%s" % (k, s, pad, shape[-1], filters,
                                                      "" if bias else " no bias",
                                                      " " + act if act else ""), flags=flags)
    tconv("tconv_k3_s2_same_c4to6", (1, 5, 5, 4), 6, 3, 2, "same")
    tconv("tconv_k2_s2_valid_c8to4", (1, 4, 6, 8), 4, 2, 2, "valid")
    tconv("tconv_k4_s2_same_c3to5_relu", (1, 4, 4, 3), 5, 4, 2, "same", act="relu")
    tconv("tconv_k3_s1_same_c6to6_nobias", (1, 6, 6, 6), 6, 3, 1, "same", bias=False)
    tconv("tconv_k3_s1_valid_c2to7", (1, 5, 5, 2), 7, 3, 1, "valid")
    tconv("tconv_k5x3_s2x1_same_c4to4", (1, 4, 5, 4), 4, (5, 3), (2, 1), "same")
    tconv("tconv_k3_s2_same_c16to8", (1, 4, 4, 16), 8, 3, 2, "same")
    tconv("tconv_k3_s2_per_tensor", (1, 4, 4, 4), 6, 3, 2, "same",
          flags={"_experimental_disable_per_channel": True}, per_channel=False)

    # -- BATCH_MATMUL ------------------------------------------------------------------------
    def bmm(name, shape, fn, claim, desc):
        unary(name, shape, fn, dict(claim, op="BATCH_MATMUL"), desc)
    bmm("batch_matmul_plain", (1, 4, 10), lambda t: tf.matmul(t[:, :, :4], t[:, :, 4:]),
        {"adj_x": False, "adj_y": False, "rank": 3}, "[1,4,4] x [1,4,6]")
    bmm("batch_matmul_adj_y", (1, 6, 8), lambda t: tf.matmul(t[:, :, :4], t[:, :, 4:], transpose_b=True),
        {"adj_x": False, "adj_y": True}, "A x B^T, [1,6,4] x [1,6,4]^T")
    bmm("batch_matmul_adj_x", (1, 6, 8), lambda t: tf.matmul(t[:, :, :4], t[:, :, 4:], transpose_a=True),
        {"adj_x": True, "adj_y": False}, "A^T x B, [1,6,4]^T x [1,6,4]")
    bmm("batch_matmul_adj_xy", (1, 5, 8),
        lambda t: tf.matmul(t[:, :, :3], t[:, :4, 3:], transpose_a=True, transpose_b=True),
        {"adj_x": True, "adj_y": True}, "A^T x B^T")
    bmm("batch_matmul_rank4", (1, 2, 5, 8), lambda t: tf.matmul(t[..., :4], t[..., 4:], transpose_b=True),
        {"rank": 4, "adj_y": True}, "rank-4 batched [1,2,5,4] x [1,2,5,4]^T")
    bmm("batch_matmul_bcast", (1, 3, 4, 6),
        lambda t: tf.matmul(t[:, :, :, :3], t[:, :1, :3, 3:]),
        {"rank": 4, "broadcast": True}, "batch broadcast [1,3,4,3] x [1,1,3,3]")
    spec("multi_batch_matmul_inputs", [(1, 4, 4), (1, 4, 4)],
         lambda a, b: lam(tf.matmul, a, b), [{"op": "BATCH_MATMUL"}], "A x B of two model inputs")

    # -- ARG_MAX / ARG_MIN ------------------------------------------------------------------------
    unary("arg_max_channels", (1, 5, 5, 8), lambda t: tf.argmax(t, axis=-1, output_type=tf.int32),
          {"op": "ARG_MAX", "axis": 3, "out_type": "int32"}, "ARG_MAX over channels, int32 out")
    unary("arg_max_axis1_i64", (1, 7, 6), lambda t: tf.argmax(t, axis=1),
          {"op": "ARG_MAX", "axis": 1, "out_type": "int64"}, "ARG_MAX axis 1, int64 out")
    unary("arg_min_channels", (1, 5, 5, 8), lambda t: tf.argmin(t, axis=-1, output_type=tf.int32),
          {"op": "ARG_MIN", "axis": 3}, "ARG_MIN over channels")
    unary("arg_min_rank2", (1, 20), lambda t: tf.argmin(t, axis=1, output_type=tf.int32),
          {"op": "ARG_MIN", "rank": 2}, "ARG_MIN rank 2")

    # -- GATHER / GATHER_ND / EMBEDDING ----------------------------------------------------------
    unary("gather_axis3", (1, 4, 4, 8), lambda t: tf.gather(t, [7, 0, 3, 3, 5], axis=3),
          {"op": "GATHER", "axis": 3}, "GATHER channels [7,0,3,3,5]")
    unary("gather_axis1", (1, 6, 5), lambda t: tf.gather(t, [5, 1, 2], axis=1),
          {"op": "GATHER", "axis": 1}, "GATHER rows on axis 1")
    unary("gather_axis_neg2_2d_idx", (1, 6, 4), lambda t: tf.gather(t, [[0, 5], [2, 2]], axis=-2),
          {"op": "GATHER", "axis": 1}, "GATHER with 2-D indices, axis -2")
    unary("gather_nd", (1, 5, 6, 3), lambda t: tf.gather_nd(t, [[0, 1, 2], [0, 4, 5], [0, 0, 0]]),
          {"op": "GATHER_ND"}, "GATHER_ND picking 3 pixels")
    unary("gather_nd_slices", (1, 5, 6, 3), lambda t: tf.gather_nd(t, [[0, 3], [0, 1]]),
          {"op": "GATHER_ND"}, "GATHER_ND picking 2 rows")

    # -- shape / data movement --------------------------------------------------------------------
    unary("tile_4d", (1, 3, 4, 5), lambda t: tf.tile(t, [1, 2, 1, 3]),
          {"op": "TILE", "multiples": [1, 2, 1, 3]}, "TILE [1,2,1,3]")
    unary("tile_rank2", (1, 10), lambda t: tf.tile(t, [3, 2]),
          {"op": "TILE", "multiples": [3, 2]}, "TILE rank 2")
    unary("broadcast_to_4d", (1, 1, 5, 1), lambda t: tf.broadcast_to(t, [1, 4, 5, 6]),
          {"op": "BROADCAST_TO"}, "BROADCAST_TO [1,1,5,1] -> [1,4,5,6]")
    unary("broadcast_to_rank3", (1, 6, 1), lambda t: tf.broadcast_to(t, [3, 6, 7]),
          {"op": "BROADCAST_TO"}, "BROADCAST_TO [1,6,1] -> [3,6,7]")
    unary("space_to_depth_b2", (1, 8, 6, 3), lambda t: tf.nn.space_to_depth(t, 2),
          {"op": "SPACE_TO_DEPTH", "block_size": 2}, "SPACE_TO_DEPTH block 2")
    unary("depth_to_space_b2", (1, 4, 3, 12), lambda t: tf.nn.depth_to_space(t, 2),
          {"op": "DEPTH_TO_SPACE", "block_size": 2}, "DEPTH_TO_SPACE block 2")
    unary("depth_to_space_b3", (1, 2, 3, 18), lambda t: tf.nn.depth_to_space(t, 3),
          {"op": "DEPTH_TO_SPACE", "block_size": 3}, "DEPTH_TO_SPACE block 3")
    unary("space_to_batch_nd", (1, 6, 8, 3),
          lambda t: tf.space_to_batch_nd(t, [2, 2], [[0, 0], [1, 1]]),
          {"op": "SPACE_TO_BATCH_ND", "block_shape": [2, 2]}, "SPACE_TO_BATCH_ND block 2x2, pad W")
    unary("batch_to_space_nd", (1, 6, 8, 4),
          lambda t: tf.batch_to_space(tf.reshape(t, [4, 3, 4, 4]), [2, 2], [[0, 1], [1, 0]]),
          {"op": "BATCH_TO_SPACE_ND", "block_shape": [2, 2]}, "BATCH_TO_SPACE_ND block 2x2 with crops")
    unary("s2b_b2s_roundtrip", (1, 8, 8, 4),
          lambda t: tf.batch_to_space(tf.space_to_batch_nd(t, [2, 2], [[0, 0], [0, 0]]) * 1.5,
                                      [2, 2], [[0, 0], [0, 0]]),
          {"op": "SPACE_TO_BATCH_ND"}, "SPACE_TO_BATCH_ND -> MUL -> BATCH_TO_SPACE_ND")
    unary("mirror_pad_reflect", (1, 5, 6, 3),
          lambda t: tf.pad(t, [[0, 0], [2, 1], [1, 2], [0, 0]], mode="REFLECT"),
          {"op": "MIRROR_PAD", "mode": "REFLECT"}, "MIRROR_PAD REFLECT")
    unary("mirror_pad_symmetric", (1, 5, 6, 3),
          lambda t: tf.pad(t, [[0, 0], [2, 2], [0, 3], [1, 0]], mode="SYMMETRIC"),
          {"op": "MIRROR_PAD", "mode": "SYMMETRIC"}, "MIRROR_PAD SYMMETRIC incl. channels")
    unary("mirror_pad_rank3", (1, 8, 5),
          lambda t: tf.pad(t, [[0, 0], [3, 3], [0, 0]], mode="REFLECT"),
          {"op": "MIRROR_PAD", "rank": 3}, "MIRROR_PAD rank 3 (time axis)")
    unary("padv2_value", (1, 5, 5, 4),
          lambda t: tf.pad(t, [[0, 0], [1, 2], [2, 1], [0, 0]], constant_values=0.5),
          {"op": "PADV2"}, "PADV2 with constant 0.5")
    unary("pad_rank3", (1, 6, 5), lambda t: tf.pad(t, [[0, 0], [2, 1], [0, 3]]),
          {"op": "PAD", "rank": 3}, "PAD rank 3")
    unary("pad_rank5", (1, 2, 3, 4, 3), lambda t: tf.pad(t, [[0, 0], [1, 0], [0, 1], [1, 1], [0, 0]]),
          {"op": "PAD", "rank": 5}, "PAD rank 5")
    unary("reverse_axis1", (1, 6, 5, 4), lambda t: tf.reverse(t, [1]),
          {"op": "REVERSE_V2", "axes": [1]}, "REVERSE_V2 axis 1")
    unary("reverse_axis_last", (1, 6, 7), lambda t: tf.reverse(t, [-1]),
          {"op": "REVERSE_V2", "axes": [2]}, "REVERSE_V2 axis -1")
    unary("reverse_two_axes", (1, 4, 5, 6), lambda t: tf.reverse(t, [1, 2]),
          {"op": "REVERSE_V2", "axes": [1, 2]}, "REVERSE_V2 axes 1 and 2 (TFLite takes "
          "contiguous axes only)")
    unary("cumsum_axis1", (1, 6, 7), lambda t: tf.cumsum(t, axis=1),
          {"op": "CUMSUM", "axis": 1, "exclusive": False, "reverse": False}, "CUMSUM axis 1",
          rng=(-0.5, 0.5))
    unary("cumsum_excl_rev", (1, 4, 5, 6), lambda t: tf.cumsum(t, axis=-1, exclusive=True, reverse=True),
          {"op": "CUMSUM", "exclusive": True, "reverse": True}, "CUMSUM exclusive reverse on channels",
          rng=(-0.5, 0.5))
    unary("transpose_rank3", (1, 6, 8), lambda t: tf.transpose(t, [0, 2, 1]),
          {"op": "TRANSPOSE", "perm": [0, 2, 1]}, "TRANSPOSE rank 3")
    unary("transpose_rank5", (1, 2, 3, 4, 5), lambda t: tf.transpose(t, [0, 4, 2, 1, 3]),
          {"op": "TRANSPOSE", "perm": [0, 4, 2, 1, 3]}, "TRANSPOSE rank 5")
    unary("concat_rank3_neg_axis", (1, 6, 8), lambda t: tf.concat([t[:, :, :3], t, t[:, :, :2]], axis=-1),
          {"op": "CONCATENATION", "rank": 3}, "CONCATENATION rank 3, axis -1, 3 inputs")

    # -- model-level blocks -------------------------------------------------------------------------
    def hswish(t):
        return L.Lambda(lambda v: v * tf.nn.relu6(v + 3.0) / 6.0)(t)

    def mbv3(x):
        x = hswish(L.Conv2D(16, 3, strides=2, padding="same", bias_initializer=binit())(x))
        y = hswish(L.Conv2D(32, 1, bias_initializer=binit())(x))
        y = hswish(L.DepthwiseConv2D(3, padding="same", bias_initializer=binit())(y))
        s = L.GlobalAveragePooling2D(keepdims=True)(y)
        s = L.Conv2D(8, 1, activation="relu", bias_initializer=binit())(s)
        s = L.Conv2D(32, 1, bias_initializer=binit())(s)
        s = L.Lambda(lambda v: tf.nn.relu6(v + 3.0) / 6.0)(s)  # hard sigmoid
        y = L.Multiply()([y, s])
        y = L.Conv2D(16, 1, bias_initializer=binit())(y)
        return L.Add()([x, y])
    spec("block_mobilenet_v3", (1, 16, 16, 3), mbv3,
         [{"op": "HARD_SWISH"}, {"op": "MEAN", "axes": [1, 2]}, {"op": "MUL", "broadcast": True},
          {"op": "ADD", "broadcast": False}],
         "MobileNetV3-small block: hard-swish, squeeze-excite (GAP, hard sigmoid, MUL), residual")

    def unet(x):
        e1 = L.Conv2D(8, 3, padding="same", activation="relu", bias_initializer=binit())(x)
        e2 = L.Conv2D(16, 3, strides=2, padding="same", activation="relu", bias_initializer=binit())(e1)
        b = L.Conv2D(16, 3, strides=2, padding="same", activation="relu", bias_initializer=binit())(e2)
        u2 = L.Conv2DTranspose(16, 2, strides=2, bias_initializer=binit())(b)
        d2 = L.Concatenate()([u2, e2])
        d2 = L.Conv2D(8, 3, padding="same", activation="relu", bias_initializer=binit())(d2)
        u1 = L.Lambda(lambda v: tf.image.resize(v, [16, 16], method="bilinear"))(d2)
        d1 = L.Concatenate()([u1, e1])
        return L.Conv2D(2, 1, bias_initializer=binit())(d1)
    spec("block_unet", (1, 16, 16, 3), unet,
         [{"op": "TRANSPOSE_CONV", "stride": [2, 2]}, {"op": "RESIZE_BILINEAR"},
          {"op": "CONCATENATION", "axis": 3}],
         "small U-Net: two strided encoders, transpose-conv and bilinear decoders, skip concats")

    def attention(x):
        d = 16
        q = L.Dense(d, bias_initializer=binit())(x)
        k = L.Dense(d, bias_initializer=binit())(x)
        v = L.Dense(d, bias_initializer=binit())(x)
        a = L.Lambda(lambda ts: tf.nn.softmax(tf.matmul(ts[0], ts[1], transpose_b=True) / 4.0))([q, k])
        o = L.Lambda(lambda ts: tf.matmul(ts[0], ts[1]))([a, v])
        o = L.Dense(d, bias_initializer=binit())(o)
        y = L.LayerNormalization(epsilon=1e-3)(L.Add()([x, o]))
        f = L.Dense(32, activation="relu", bias_initializer=binit())(y)
        f = L.Dense(d, bias_initializer=binit())(f)
        return L.LayerNormalization(epsilon=1e-3)(L.Add()([y, f]))
    spec("block_attention", (1, 8, 16), attention,
         [{"op": "BATCH_MATMUL"}, {"op": "SOFTMAX"}, {"op": "RSQRT"},
          {"op": "FULLY_CONNECTED"}],
         "tiny transformer block: QKV dense, Q K^T BATCH_MATMUL, softmax, A V, "
         "layer norm (MEAN / SQUARED_DIFFERENCE / RSQRT), FFN")

    def conv1d(x):
        x = L.Conv1D(8, 5, padding="same", activation="relu", bias_initializer=binit())(x)
        x = L.Conv1D(16, 3, strides=2, activation="relu", bias_initializer=binit())(x)
        x = L.Conv1D(16, 3, dilation_rate=2, padding="causal", activation="relu",
                     bias_initializer=binit())(x)
        a = L.GlobalAveragePooling1D()(x)
        m = L.GlobalMaxPooling1D()(x)
        x = L.Concatenate()([a, m])
        return L.Softmax()(L.Dense(4, bias_initializer=binit())(x))
    spec("block_conv1d_timeseries", (1, 32, 3), conv1d,
         [{"op": "CONV_2D"}, {"op": "MEAN"}, {"op": "REDUCE_MAX"}],
         "Conv1D time series: conv1d x3 (stride, causal dilation), global avg + max pool, softmax",
         data_range=(-2, 2))

    H = 8

    def gru(x):
        wx = L.Dense(3 * H, bias_initializer=binit())
        wh = L.Dense(2 * H, use_bias=False)
        wc = L.Dense(H, use_bias=False)
        steps = L.Lambda(lambda t: tf.unstack(t, axis=1))(x)
        h = None
        for xt in steps:
            gx = wx(xt)
            if h is None:
                zr = L.Lambda(lambda g: tf.sigmoid(g[:, :2 * H]))(gx)
                z = L.Lambda(lambda g: g[:, :H])(zr)
                c = L.Lambda(lambda g: tf.tanh(g[:, 2 * H:]))(gx)
                h = L.Lambda(lambda ts: ts[0] * ts[1])([z, c])
                continue
            zr = L.Lambda(lambda ts: tf.sigmoid(ts[0][:, :2 * H] + ts[1]))([gx, wh(h)])
            z, r = L.Lambda(lambda t: tf.split(t, 2, axis=1))(zr)
            c = L.Lambda(lambda ts: tf.tanh(ts[0][:, 2 * H:] + ts[1]))(
                [gx, wc(L.Multiply()([r, h]))])
            h = L.Lambda(lambda ts: (1.0 - ts[0]) * ts[1] + ts[0] * ts[2])([z, h, c])
        return L.Dense(4, bias_initializer=binit())(h)
    spec("block_gru_unrolled", (1, 5, 6), gru,
         [{"op": "UNPACK"}, {"op": "SPLIT"}, {"op": "TANH"}, {"op": "LOGISTIC"}, {"op": "SUB"},
          {"op": "MUL"}],
         "GRU unrolled over 5 steps by hand (UNPACK, FC, SPLIT, LOGISTIC, TANH, SUB, MUL)")

    def lstm(x):
        wx = L.Dense(4 * H, bias_initializer=binit())
        wh = L.Dense(4 * H, use_bias=False)
        steps = L.Lambda(lambda t: tf.unstack(t, axis=1))(x)
        h = c = None
        for xt in steps:
            g = wx(xt) if h is None else L.Add()([wx(xt), wh(h)])
            i, f, gg, o = L.Lambda(lambda t: tf.split(t, 4, axis=1))(g)
            i, f, o = (L.Activation("sigmoid")(v) for v in (i, f, o))
            gg = L.Activation("tanh")(gg)
            ig = L.Multiply()([i, gg])
            c = ig if c is None else L.Add()([L.Multiply()([f, c]), ig])
            h = L.Multiply()([o, L.Activation("tanh")(c)])
        return L.Dense(4, bias_initializer=binit())(h)
    spec("block_lstm_unrolled", (1, 5, 6), lstm,
         [{"op": "UNPACK"}, {"op": "SPLIT", "num_splits": 4}, {"op": "TANH"}, {"op": "LOGISTIC"},
          {"op": "MUL"}, {"op": "ADD"}],
         "LSTM cell unrolled over 5 steps by hand (UNPACK, FC, SPLIT, LOGISTIC, TANH, MUL, ADD)")

    def keras_lstm(x):
        return L.Dense(3, bias_initializer=binit())(L.LSTM(8, unroll=True)(x))
    spec("block_keras_lstm_unroll", (1, 4, 5), keras_lstm, [{"op": "TANH"}],
         "Keras LSTM(unroll=True) as converted (the converter may fuse it)")

    def det_head(x):
        f1 = L.Conv2D(8, 3, strides=2, padding="same", activation="relu", bias_initializer=binit())(x)
        f2 = L.Conv2D(16, 3, strides=2, padding="same", activation="relu", bias_initializer=binit())(f1)
        up = L.Lambda(lambda v: tf.image.resize(v, [8, 8], method="nearest"))(
            L.Conv2D(8, 1, bias_initializer=binit())(f2))
        p = L.Add()([f1, up])
        p = L.Conv2D(8, 3, padding="same", activation="relu", bias_initializer=binit())(p)
        cls = L.Activation("sigmoid")(L.Conv2D(3, 1, bias_initializer=binit())(p))
        box = L.Conv2D(4, 1, bias_initializer=binit())(p)
        return L.Reshape((64, 7))(L.Concatenate()([box, cls]))
    spec("block_detection_head", (1, 16, 16, 3), det_head,
         [{"op": "RESIZE_NEAREST_NEIGHBOR"}, {"op": "LOGISTIC"}, {"op": "CONCATENATION"},
          {"op": "ADD"}],
         "FPN-style detection head: nearest-resize top-down, add, class (sigmoid) + box heads")

    return tf, keras


# Operators of TFLM's int8 list that TF 2.21's converter never writes from a
# static-shape int8 graph (tried; the claims failed), recorded in the manifest.
FOLDED = [
    ("EXPAND_DIMS", "tf.expand_dims becomes RESHAPE"),
    ("SQUEEZE", "tf.squeeze becomes RESHAPE"),
    ("SHAPE", "tf.shape of a static shape is folded to a constant"),
    ("FILL", "tf.fill of a static shape is folded to a constant"),
    ("ZEROS_LIKE", "tf.zeros_like of a static shape is folded to a constant"),
    ("L2_POOL_2D", "sqrt(avg_pool(x^2)) is not fused; no TF op maps to L2_POOL_2D"),
    ("EMBEDDING_LOOKUP", "tf.nn.embedding_lookup becomes GATHER (and needs int32 ids, "
                         "not an int8 input)"),
    ("STRIDED_SLICE new_axis_mask", "tf.newaxis in a slice becomes a RESHAPE"),
]

# Operators the suite must contain at least once (checked over all models).
REQUIRED_OPS = [
    "STRIDED_SLICE", "SLICE", "SPLIT", "SPLIT_V", "PACK", "UNPACK", "TANH", "SUB",
    "HARD_SWISH", "REDUCE_MAX", "REDUCE_MIN", "SUM", "MEAN", "RESIZE_NEAREST_NEIGHBOR",
    "RESIZE_BILINEAR", "TRANSPOSE_CONV", "LEAKY_RELU", "PRELU", "ELU", "RELU", "RELU6",
    "MINIMUM", "MAXIMUM", "SQUARED_DIFFERENCE", "RSQRT", "NEG", "ABS", "EXP",
    "LOG", "DIV", "L2_NORMALIZATION", "BATCH_MATMUL", "ARG_MAX", "ARG_MIN", "GATHER",
    "GATHER_ND", "TILE", "SPACE_TO_DEPTH", "DEPTH_TO_SPACE",
    "SPACE_TO_BATCH_ND", "BATCH_TO_SPACE_ND", "MIRROR_PAD", "PADV2", "SELECT_V2",
    "LOG_SOFTMAX", "CUMSUM", "REVERSE_V2", "ADD_N",
]
REQUIRED = [
    ("STRIDED_SLICE", "neg_stride", [True, False]),
    ("STRIDED_SLICE", "rank", [2, 3, 4, 5]),
    ("RESIZE_BILINEAR", "align_corners", [True, False]),
    ("RESIZE_BILINEAR", "half_pixel_centers", [True, False]),
    ("RESIZE_NEAREST_NEIGHBOR", "align_corners", [True, False]),
    ("RESIZE_NEAREST_NEIGHBOR", "half_pixel_centers", [True, False]),
    ("TRANSPOSE_CONV", "per_channel", [True, False]),
    ("BATCH_MATMUL", "adj_x", [True, False]),
    ("BATCH_MATMUL", "adj_y", [True, False]),
    ("SUM", "keepdims", [True, False]),
    ("REDUCE_MAX", "keepdims", [True, False]),
    ("REDUCE_MIN", "keepdims", [True, False]),
    ("MEAN", "keepdims", [True, False]),
    ("ADD", "broadcast", [True]),
    ("MUL", "broadcast", [True]),
    ("SUB", "broadcast", [True, False]),
]


def coverage(models):
    """gen_models.coverage's table, with this suite's required ops/params."""
    cov, _ = G.coverage(models)
    for slot in cov.values():  # lists of shapes are noise in the summary
        for k in ("in_types", "out_types", "begin", "end", "size", "indices", "axes_raw"):
            slot.pop(k, None)
    problems = ["%s not covered" % op for op in REQUIRED_OPS if op not in cov]
    for op, key, want in REQUIRED:
        have = cov.get(op, {}).get(key, [])
        problems += ["%s.%s = %s not covered" % (op, key, json.dumps(w))
                     for w in want if w not in have]
    return cov, problems


# ---------------------------------------------------------------------------
# Conversion and the TFLM check
# ---------------------------------------------------------------------------

_TFLM_CHILD = r"""
import sys, numpy as np
sys.path.insert(0, sys.argv[1])
import tflm_ref
path = sys.argv[2]
box = []
def load():
    try:
        box.append(tflm_ref.TflmModel(path))
    except Exception as exc:
        box.append(exc)
text = tflm_ref._capture_fd2(load)
if isinstance(box[0], Exception):
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    seen = []
    for l in lines:  # the loader retries with bigger arenas: say each line once
        if l not in seen:
            seen.append(l)
    print("load: " + "; ".join(seen[:3] + [" ".join(str(box[0]).split()).replace(path, "MODEL")]))
    sys.exit(0)
ref = box[0]
it = ref._interp
rng = np.random.default_rng(0)
k = 0
while True:
    try:
        d = it.get_input_details(k)
    except Exception:
        break
    x = rng.integers(-128, 128, size=d["shape"]).astype(d["dtype"])
    it.set_input(x, k)
    k += 1
err = []
def go():
    try:
        it.invoke()
    except Exception as exc:
        err.append(" ".join(str(exc).split()))
text = tflm_ref._capture_fd2(go)
if err:
    lines = [l.strip() for l in text.splitlines() if l.strip()]
    print("invoke: " + "; ".join(lines[-3:] + err))
else:
    print("ok")
"""


def tflm_status(path):
    """'ok' if TFLM loads and runs the model on a random input, else the error."""
    p = subprocess.run([sys.executable, "-c", _TFLM_CHILD, HERE, path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    out = p.stdout.decode("utf-8", "replace").strip().splitlines()
    if p.returncode != 0:
        tail = p.stderr.decode("utf-8", "replace").strip().splitlines()[-2:]
        return "crashed (exit %d): %s" % (p.returncode, " ".join(tail))
    return out[-1] if out else "no answer"


def describe(name, path, claims, desc, seed, rng_range, flags):
    d = G.describe(name, path, [], desc, seed, rng_range, flags)
    a = analyse_ops(path)
    d["analysis"] = a
    d["n_inputs"], d["n_outputs"] = a["n_inputs"], a["n_outputs"]
    d["claims"] = [{"claim": c, "holds": G.claim_holds(c, a["ops"])} for c in claims]
    d["float_ops"] = sorted({o["op"] for o in a["ops"] if "float32" in o["in_types"]})
    s = G._schema()
    with open(path, "rb") as f:
        model = s.ModelT.InitFromObj(s.Model.GetRootAsModel(f.read(), 0))
    g = model.subgraphs[0]

    def tinfo(i):
        t = g.tensors[i]
        q = t.quantization
        zp = [int(z) for z in q.zeroPoint] if q is not None and q.zeroPoint is not None else []
        return {"shape": [int(v) for v in t.shape], "dtype": _TYPE_NAME.get(t.type, str(t.type)),
                "scale": (G._scales(t) or [None])[0], "zero_point": (zp or [None])[0]}
    d["inputs"] = [tinfo(int(i)) for i in g.inputs]
    d["outputs"] = [tinfo(int(i)) for i in g.outputs]
    return d


def main(argv=None):
    ap = argparse.ArgumentParser(description="generate tests/models/ops")
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--only", help="only models whose name contains this")
    ap.add_argument("--check-only", action="store_true",
                    help="re-verify existing files against MANIFEST.json claims")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    manifest_path = os.path.join(args.out, "MANIFEST.json")
    old = {}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            old_manifest = json.load(f)
        old = {m["name"]: m for m in old_manifest["models"]}

    models, not_made = [], []
    if args.check_only:
        for m in old_manifest["models"]:
            d = describe(m["name"], os.path.join(args.out, m["file"]),
                         [c["claim"] for c in m["claims"]], m["description"], m["seed"],
                         m["representative_range"], m.get("converter_flags"))
            d["tflm"] = m["tflm"]
            models.append(d)
        not_made = old_manifest.get("not_made", [])
        versions = {k: old_manifest.get(k) for k in
                    ("tensorflow_version", "keras_version", "numpy_version")}
    else:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
        tf, keras = _catalogue()
        versions = {"tensorflow_version": tf.__version__, "keras_version": keras.__version__,
                    "numpy_version": np.__version__}
        names = [e["name"] for e in CATALOGUE]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            sys.exit("duplicate model names: %s" % dup)
        for idx, entry in enumerate(CATALOGUE):
            name = entry["name"]
            if args.only and args.only not in name:
                if name in old:
                    models.append(old[name])
                continue
            seed = 2000 + idx
            try:
                blob = G.convert(entry, seed, tf, keras)
            except Exception as exc:  # the converter refuses: record, go on
                why = " ".join(str(exc).split())[-400:]
                not_made.append({"name": name, "description": entry["desc"],
                                 "reason": "converter: " + why})
                print("%-36s NOT CONVERTED: %s" % (name, why[-160:]))
                continue
            path = os.path.join(args.out, name + ".tflite")
            with open(path, "wb") as f:
                f.write(blob)
            d = describe(name, path, entry["claims"], entry["desc"], seed, entry["range"],
                         entry["flags"])
            d["tflm"] = tflm_status(path)
            models.append(d)
            bad = [r["claim"] for r in d["claims"] if not r["holds"]]
            print("%-36s %6d B  %s%s%s" % (
                name, len(blob), " ".join(d["ops"]),
                "" if d["tflm"] == "ok" else "   TFLM: " + d["tflm"][:120],
                ("   CLAIM FAILED: %s" % bad) if bad else ""))
        keep = {m["name"] for m in models}
        for fn in os.listdir(args.out):
            if fn.endswith(".tflite") and fn[:-7] not in keep:
                print("removing stale %s" % fn)
                os.remove(os.path.join(args.out, fn))

    cov, problems = coverage(models)
    failed = ["%s: %s" % (m["name"], r["claim"]) for m in models
              for r in m["claims"] if not r["holds"]]
    failed += ["%s: several inputs/outputs but the name does not start with multi_" % m["name"]
               for m in models if not m["single_io"] and not m["name"].startswith("multi_")]
    manifest = {
        "generator": "tools/gen_ops_models.py",
        **versions,
        "note": "bytes are reproducible with these versions (same seeds give identical "
                "files); another TensorFlow may quantise or rewrite differently",
        "converter": "tf.lite.TFLiteConverter.from_keras_model, Optimize.DEFAULT, "
                     "representative dataset (48 seeded uniform samples per input), "
                     "TFLITE_BUILTINS_INT8, inference_input_type = inference_output_type = int8",
        "tflm_check": "each model loaded and invoked by TFLM's Python interpreter on a seeded "
                      "random int8 input; 'tflm' is 'ok' or TFLM's error",
        "n_models": len(models),
        "n_tflm_ok": sum(m["tflm"] == "ok" for m in models),
        "total_bytes": sum(m["bytes"] for m in models),
        "all_claims_hold": not failed,
        "claim_failures": failed,
        "coverage_problems": problems,
        "not_made": not_made,
        "folded_by_converter": [{"op": o, "why": w} for o, w in FOLDED],
        "coverage": cov,
        "models": models,
    }
    with open(manifest_path, "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print("%d models (%d run by TFLM), %d not convertible, %d bytes, TF %s" % (
        len(models), manifest["n_tflm_ok"], len(not_made), manifest["total_bytes"],
        versions["tensorflow_version"]))
    for p in failed + problems:
        print("PROBLEM:", p)
    return 1 if failed or problems else 0


if __name__ == "__main__":
    sys.exit(main())
