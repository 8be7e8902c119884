#!/usr/bin/env python3
"""Generate the data-movement test models in tests/models/move/.

Two kinds:

Each model is a tiny tf.function converted by the real TFLite converter:
int8 models with full-integer quantisation (representative dataset, int8
input and output), float32 models without quantisation for the types int8
quantisation cannot reach (float PAD of rank 5, CAST, ...).  After
conversion the operator list is checked: every model must contain the
operators it claims (the converter folds or rewrites some patterns), so a
TensorFlow upgrade that changes a pattern is noticed.

Hand-built models (hand_*.tflite, written with the flatbuffer schema, no
TensorFlow) cover what the converter never emits from static shapes:
indices computed at run time (GATHER, GATHER_ND, EMBEDDING_LOOKUP after a
CAST), CAST between every type pair, int16 TRANSPOSE / PAD / CONCATENATION,
and SHAPE, FILL, ZEROS_LIKE, BROADCAST_ARGS, EXPAND_DIMS.

    .venv/bin/python tools/gen_models_move.py [--only SUBSTR]
"""

import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "tests", "models", "move")
sys.path.insert(0, HERE)
import gen_models  # noqa: E402  (flatbuffer analysis)


def catalogue(tf):
    """[(name, input shape, fn, claimed operators, int8?)]."""
    m = []

    def add(name, shape, fn, claims, int8=True):
        m.append((name, shape, fn, claims, int8))

    add("strided_slice", [1, 8, 9, 6], lambda x: x[:, 1:7:2, ::-1, 1:5], ["STRIDED_SLICE"])
    add("strided_slice_shrink", [1, 6, 7, 5], lambda x: x[:, 2, -5:-1, ::2], ["STRIDED_SLICE"])
    add("strided_slice_neg", [2, 5, 6, 4], lambda x: x[1:, 4:0:-2, -2::-3, :3], ["STRIDED_SLICE"])
    add("slice", [1, 7, 8, 6], lambda x: tf.slice(x, [0, 2, 1, 0], [1, 4, -1, 5]), ["SLICE"])
    add("split", [1, 6, 4, 8], lambda x: tf.concat(tf.split(x, 4, axis=3)[::-1], axis=3),
        ["SPLIT", "CONCATENATION"])
    add("split_h", [1, 6, 4, 8], lambda x: tf.concat(tf.split(x, 3, axis=1)[::-1], axis=1), ["SPLIT"])
    add("split_v", [1, 5, 7, 3], lambda x: tf.concat(tf.split(x, [2, 1, 4], axis=2)[::-1], axis=2),
        ["SPLIT_V"])
    add("pack_unpack", [1, 3, 5, 4],
        lambda x: tf.stack(tf.unstack(x, axis=1)[::-1], axis=3), ["UNPACK", "PACK"])
    add("pack_last", [1, 6, 4],
        lambda x: tf.stack([x[:, :, 1], x[:, :, 3], x[:, :, 0]], axis=2), ["PACK"])
    add("space_to_depth", [1, 6, 8, 3], lambda x: tf.nn.space_to_depth(x, 2), ["SPACE_TO_DEPTH"])
    add("depth_to_space", [1, 3, 4, 12], lambda x: tf.nn.depth_to_space(x, 2), ["DEPTH_TO_SPACE"])
    # no padding: TFLM pads with an uninitialised value (see src/ops/move.c)
    add("space_to_batch", [1, 6, 6, 3],
        lambda x: tf.space_to_batch_nd(x, [2, 3], [[0, 0], [0, 0]]), ["SPACE_TO_BATCH_ND"])
    add("f32_space_to_batch3", [2, 6, 3],
        lambda x: tf.space_to_batch_nd(x, [2], [[0, 0]]), ["SPACE_TO_BATCH_ND"], int8=False)
    add("batch_to_space", [6, 3, 4, 2],
        lambda x: tf.batch_to_space(x, [2, 3], [[1, 0], [2, 1]]), ["BATCH_TO_SPACE_ND"])
    add("mirror_pad_reflect", [1, 5, 6, 3],
        lambda x: tf.pad(x, [[0, 0], [2, 1], [1, 3], [0, 0]], mode="REFLECT"), ["MIRROR_PAD"])
    add("mirror_pad_symmetric", [1, 4, 5, 3],
        lambda x: tf.pad(x, [[0, 0], [3, 2], [0, 4], [1, 1]], mode="SYMMETRIC"), ["MIRROR_PAD"])
    add("padv2", [1, 4, 5, 3],
        lambda x: tf.pad(x, [[0, 0], [1, 2], [2, 0], [0, 1]], constant_values=0.5), ["PADV2"])
    add("gather", [1, 6, 7, 5], lambda x: tf.gather(x, [4, 0, 0, 6, 2], axis=2), ["GATHER"])
    add("gather_nd", [4, 5, 6], lambda x: tf.gather_nd(x, [[1, 2], [3, 0], [0, 4]]), ["GATHER_ND"])
    add("reverse", [1, 5, 6, 4], lambda x: tf.reverse(x, axis=[1, 2]), ["REVERSE_V2"])
    add("reverse_c", [1, 5, 6, 4], lambda x: tf.reverse(x, axis=[3]), ["REVERSE_V2"])
    add("resize_nn", [1, 5, 7, 3], lambda x: tf.image.resize(x, [9, 12], method="nearest"),
        ["RESIZE_NEAREST_NEIGHBOR"])
    add("resize_nn_align", [1, 5, 7, 3],
        lambda x: tf.compat.v1.image.resize_nearest_neighbor(x, [8, 13], align_corners=True),
        ["RESIZE_NEAREST_NEIGHBOR"])
    add("resize_nn_down", [1, 9, 11, 2],
        lambda x: tf.compat.v1.image.resize_nearest_neighbor(x, [4, 5]), ["RESIZE_NEAREST_NEIGHBOR"])
    add("broadcast_to", [1, 1, 5, 1], lambda x: tf.broadcast_to(x, [2, 3, 5, 4]), ["BROADCAST_TO"])
    add("expand_dims", [1, 6, 5],
        lambda x: tf.reverse(tf.expand_dims(x, 2), axis=[1]), ["REVERSE_V2"])
    # views feeding and fed by convolutions (the split parts along H share
    # the convolution's output buffer; both schedules stream around them)
    w1 = np.random.default_rng(5).uniform(-0.5, 0.5, (3, 3, 4, 6)).astype(np.float32)
    w2 = np.random.default_rng(6).uniform(-0.5, 0.5, (3, 3, 6, 5)).astype(np.float32)

    add("split_conv", [1, 12, 10, 4], lambda x: tf.concat(
        [tf.nn.conv2d(p, w2, 1, "SAME") for p in tf.split(tf.nn.relu(tf.nn.conv2d(x, w1, 1, "SAME")), 2, axis=1)],
        axis=1), ["SPLIT", "CONV_2D"])
    # float32 models: other element types and ranks
    add("f32_pad5", [1, 2, 3, 4, 2],
        lambda x: tf.pad(x, [[0, 1], [1, 0], [0, 2], [1, 1], [0, 0]]), ["PAD"], int8=False)
    add("f32_slice_pack", [2, 3, 4],
        lambda x: tf.stack([x[:, 1:, ::2], x[:, :2, 1::2]], axis=1), ["PACK"], int8=False)
    add("f32_cast", [2, 3, 4],
        lambda x: tf.cast(tf.cast(x * 100.0, tf.int32), tf.float32) * 0.5, ["CAST"], int8=False)
    add("f32_mirror", [2, 4, 3],
        lambda x: tf.pad(x, [[1, 1], [2, 3], [0, 2]], mode="REFLECT"), ["MIRROR_PAD"], int8=False)
    add("f32_gather_b", [3, 4, 5],
        lambda x: tf.gather(x, [[1, 0, 3], [2, 2, 0], [3, 1, 1]], axis=1, batch_dims=1),
        ["GATHER"], int8=False)
    return m


def convert(tf, name, shape, fn, int8, seed):
    f = tf.function(fn, input_signature=[tf.TensorSpec(shape, tf.float32)])
    conv = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], f)
    if int8:
        rng = np.random.default_rng(seed)

        def representative():
            for _ in range(32):
                yield [rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)]

        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = representative
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    return conv.convert()


def _handmade():
    """[(name, tensors, ops, inputs, outputs)] for hand-built models.

    tensors: (name, type, shape, constant array or None, (scale, zp) or None)
    ops: (builtin operator name, inputs, outputs, options class name, options dict)
    """
    i8q = (0.05, 3)
    grid = np.arange(24, dtype=np.float32).reshape(8, 3) * 0.25 - 2.0
    m = []
    # GATHER, GATHER_ND and EMBEDDING_LOOKUP with indices computed at run time
    m.append(("hand_gather_rt",
              [("x", "INT8", [6], None, i8q), ("idx", "INT32", [6], None, None),
               ("p", "INT8", [8, 3], (np.arange(24) * 5 - 60).astype(np.int8), i8q),
               ("y", "INT8", [6, 3], None, i8q)],
              [("CAST", [0], [1], None, {}), ("GATHER", [2, 1], [3], "GatherOptions", {"axis": 0})],
              [0], [3]))
    m.append(("hand_gather_nd_rt",
              [("x", "INT8", [4, 2], None, i8q), ("idx", "INT32", [4, 2], None, None),
               ("p", "FLOAT32", [4, 5, 3], np.arange(60, dtype=np.float32) * 0.5, None),
               ("y", "FLOAT32", [4, 3], None, None)],
              [("CAST", [0], [1], None, {}), ("GATHER_ND", [2, 1], [3], None, {})],
              [0], [3]))
    m.append(("hand_embedding_rt",
              [("x", "INT8", [5], None, i8q), ("ids", "INT32", [5], None, None),
               ("v", "FLOAT32", [8, 3], grid.ravel(), None), ("y", "FLOAT32", [5, 3], None, None)],
              [("CAST", [0], [1], None, {}), ("EMBEDDING_LOOKUP", [1, 2], [3], None, {})],
              [0], [3]))
    m.append(("hand_embedding_hybrid_rt",
              [("x", "INT8", [4], None, i8q), ("ids", "INT32", [4], None, None),
               ("v", "INT8", [8, 2, 3], (np.arange(48) * 5 - 120).astype(np.int8), (0.0371, 0)),
               ("y", "FLOAT32", [4, 2, 3], None, None)],
              [("CAST", [0], [1], None, {}), ("EMBEDDING_LOOKUP", [1, 2], [3], None, {})],
              [0], [3]))
    # PADV2 whose pad value is computed (a one-element slice of the input,
    # itself a view into the input's buffer)
    m.append(("hand_padv2_dynamic",
              [("x", "INT8", [2, 3], None, i8q), ("b", "INT32", [2], np.array([1, 2], np.int32), None),
               ("sz", "INT32", [2], np.array([1, 1], np.int32), None), ("v", "INT8", [1, 1], None, i8q),
               ("p", "INT32", [2, 2], np.array([[1, 0], [2, 1]], np.int32), None),
               ("y", "INT8", [3, 6], None, i8q)],
              [("SLICE", [0, 1, 2], [3], None, {}), ("PADV2", [0, 4, 3], [5], None, {})], [0], [5]))
    # CAST: float -> int8, int16, int32 (truncation, wrapping), back to float
    m.append(("hand_cast",
              [("x", "FLOAT32", [12], None, None), ("a", "INT32", [12], None, None),
               ("b", "INT16", [12], None, None), ("c", "INT8", [12], None, None),
               ("d", "FLOAT32", [12], None, None)],
              [("CAST", [0], [1], None, {}), ("CAST", [1], [2], None, {}), ("CAST", [2], [3], None, {}),
               ("CAST", [3], [4], None, {})],
              [0], [4]))
    m.append(("hand_cast_bool",
              [("x", "FLOAT32", [16], None, None), ("b", "BOOL", [16], None, None),
               ("c", "INT16", [16], None, None)],
              [("CAST", [0], [1], None, {}), ("CAST", [1], [2], None, {})], [0], [2]))
    m.append(("hand_cast_f2i8",
              [("x", "FLOAT32", [16], None, None), ("c", "INT8", [16], None, None)],
              [("CAST", [0], [1], None, {})], [0], [1]))
    # int16 TRANSPOSE, PAD and CONCATENATION (core kernels' other types)
    m.append(("hand_int16",
              [("x", "INT16", [2, 3, 4], None, (0.001, 0)),
               ("perm", "INT32", [3], np.array([2, 0, 1], np.int32), None),
               ("t", "INT16", [4, 2, 3], None, (0.001, 0)),
               ("pads", "INT32", [3, 2], np.array([[1, 0], [0, 2], [1, 1]], np.int32), None),
               ("p", "INT16", [5, 4, 5], None, (0.001, 0)),
               ("y", "INT16", [5, 4, 10], None, (0.001, 0))],
              [("TRANSPOSE", [0, 1], [2], None, {}), ("PAD", [2, 3], [4], None, {}),
               ("CONCATENATION", [4, 4], [5], "ConcatenationOptions", {"axis": 2})],
              [0], [5]))
    # outputs the compiler knows: SHAPE, BROADCAST_ARGS, ZEROS_LIKE, FILL
    m.append(("hand_shape",
              [("x", "INT8", [1, 2, 3, 4], None, i8q), ("s", "INT32", [4], None, None)],
              [("SHAPE", [0], [1], "ShapeOptions", {"outType": 2})], [0], [1]))
    m.append(("hand_zeros_like",
              [("x", "INT8", [2, 5], None, i8q), ("z", "INT8", [2, 5], None, i8q)],
              [("ZEROS_LIKE", [0], [1], None, {})], [0], [1]))
    m.append(("hand_fill",
              [("x", "INT8", [], None, i8q), ("dims", "INT32", [3], np.array([2, 3, 2], np.int32), None),
               ("y", "INT8", [2, 3, 2], None, i8q)],
              [("FILL", [1, 0], [2], None, {})], [0], [2]))
    m.append(("hand_broadcast_args",
              [("x", "INT8", [3], None, i8q), ("s1", "INT32", [3], np.array([2, 1, 5], np.int32), None),
               ("s2", "INT32", [2], np.array([4, 1], np.int32), None), ("y", "INT32", [3], None, None)],
              [("BROADCAST_ARGS", [1, 2], [3], None, {})], [0], [3]))
    m.append(("hand_expand_dims",
              [("x", "INT8", [3, 4], None, i8q), ("ax", "INT32", [1], np.array([-2], np.int32), None),
               ("e", "INT8", [3, 1, 4], None, i8q), ("r", "INT32", [1], np.array([0], np.int32), None),
               ("y", "INT8", [3, 1, 4], None, i8q)],
              [("EXPAND_DIMS", [0, 1], [2], None, {}), ("REVERSE_V2", [2, 3], [4], None, {})], [0], [4]))
    return m


def build_handmade(name, tensors, ops, inputs, outputs):
    """The .tflite bytes of a hand-described model (see _handmade)."""
    import flatbuffers
    s = gen_models._schema()
    model = s.ModelT()
    model.version = 3
    model.buffers = [s.BufferT()]
    sg = s.SubGraphT()
    sg.tensors = []
    for tname, ttype, shape, data, q in tensors:
        t = s.TensorT()
        t.name = tname
        t.type = getattr(s.TensorType, ttype)
        t.shape = list(shape)
        t.buffer = 0
        if data is not None:
            b = s.BufferT()
            b.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), np.uint8).tolist()
            model.buffers.append(b)
            t.buffer = len(model.buffers) - 1
        if q is not None:
            t.quantization = s.QuantizationParametersT()
            t.quantization.scale = [q[0]]
            t.quantization.zeroPoint = [q[1]]
        sg.tensors.append(t)
    codes, sg.operators = [], []
    for opname, ins, outs, optname, opts in ops:
        code = getattr(s.BuiltinOperator, opname)
        if code not in codes:
            codes.append(code)
        o = s.OperatorT()
        o.opcodeIndex = codes.index(code)
        o.inputs, o.outputs = list(ins), list(outs)
        if optname:
            o.builtinOptionsType = getattr(s.BuiltinOptions, optname)
            ob = getattr(s, optname + "T")()
            for k, v in opts.items():
                setattr(ob, k, v)
            o.builtinOptions = ob
        sg.operators.append(o)
    model.operatorCodes = []
    for code in codes:
        oc = s.OperatorCodeT()
        oc.builtinCode = code
        oc.deprecatedBuiltinCode = min(code, 127)
        oc.version = 1
        model.operatorCodes.append(oc)
    sg.inputs, sg.outputs = list(inputs), list(outputs)
    model.subgraphs = [sg]
    model.description = "pexc tools/gen_models_move.py " + name
    b = flatbuffers.Builder(1024)
    b.Finish(model.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only")
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--hand-only", action="store_true", help="only the hand-built models (no TensorFlow)")
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    for name, tensors, ops, ins, outs in _handmade():
        if args.only and args.only not in name:
            continue
        blob = build_handmade(name, tensors, ops, ins, outs)
        with open(os.path.join(args.out, name + ".tflite"), "wb") as f:
            f.write(blob)
        print("%-24s %6d B  %s" % (name, len(blob), " ".join(o[0] for o in ops)))
    if args.hand_only:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    bad = []
    for idx, (name, shape, fn, claims, int8) in enumerate(catalogue(tf)):
        if args.only and args.only not in name:
            continue
        blob = convert(tf, name, shape, fn, int8, 2000 + idx)
        path = os.path.join(args.out, name + ".tflite")
        with open(path, "wb") as f:
            f.write(blob)
        ops = [o["op"] for o in gen_models.analyse(path)["ops"]]
        missing = [c for c in claims if c not in ops]
        if missing:
            bad.append("%s: %s missing" % (name, missing))
        print("%-24s %6d B  %s%s" % (name, len(blob), " ".join(ops), "   MISSING %s" % missing if missing else ""))
    if bad:
        sys.exit("claims failed: " + "; ".join(bad))


if __name__ == "__main__":
    main()
