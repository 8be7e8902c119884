#!/usr/bin/env python3
"""Generate the reduction and spatial/matmul test models in tests/models/reduce/.

Each model is a tiny tf.function converted by the real TFLite converter with
full-integer post-training quantisation (representative dataset, int8
builtins, int8 input and output), or a float32 model where noted. After
conversion the operator list is checked against the operators the entry
claims (so a converter that rewrites a pattern is noticed), and the list
goes into MANIFEST.json with the TensorFlow version.

    .venv/bin/python tools/gen_models_reduce.py [--only SUBSTR]
"""

import argparse
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "tests", "models", "reduce")


def _entries(tf):
    """(name, input shape, function of the input, claimed operators, float?)"""
    rng = np.random.default_rng(7)

    def const(shape, lo=-1.0, hi=1.0):
        return tf.constant(rng.uniform(lo, hi, size=shape).astype(np.float32))

    w_tc = const([3, 3, 5, 4])            # transpose conv filter [out, kh, kw, in]
    w_tc2 = const([6, 2, 3, 3])
    b_tc = const([5], -0.5, 0.5)
    m_rhs = const([8, 6])
    m_rhs3 = const([2, 8, 5])

    def tconv_bias(x):  # SAME, stride 2, bias, ReLU
        y = tf.nn.conv2d_transpose(x, tf.transpose(w_tc, [1, 2, 0, 3]), [1, 8, 10, 3], 2, "SAME")
        return tf.nn.relu(y + b_tc[:3])

    def tconv_valid(x):  # VALID, strides 1x2
        return tf.nn.conv2d_transpose(x, tf.transpose(w_tc2, [1, 2, 0, 3]), [1, 5, 7, 6], [1, 2], "VALID")

    return [
        # reductions
        ("mean_c", [1, 4, 5, 8], lambda x: tf.reduce_mean(x, axis=[3]), ["MEAN"], False),
        ("mean_c_keep", [1, 4, 5, 8], lambda x: tf.reduce_mean(x, axis=[-1], keepdims=True), ["MEAN"], False),
        ("mean_hwc", [1, 4, 5, 8], lambda x: tf.reduce_mean(x, axis=[1, 2, 3], keepdims=True), ["MEAN"], False),
        ("mean_h", [1, 6, 5, 3], lambda x: tf.reduce_mean(x, axis=[1]), ["MEAN"], False),
        ("mean_3d", [1, 6, 10], lambda x: tf.reduce_mean(x, axis=[-1]), ["MEAN"], False),
        ("mean_3d_mid", [2, 6, 10], lambda x: tf.reduce_mean(x, axis=[0, 2]), ["MEAN"], False),
        ("mean_big", [1, 9, 9, 40], lambda x: tf.reduce_mean(x, axis=[1, 3]), ["MEAN"], False),
        ("mean_all", [1, 4, 5, 8], lambda x: tf.reduce_mean(x, axis=[0, 1, 2, 3]), ["MEAN"], False),
        ("mean_5d", [1, 2, 3, 4, 5], lambda x: tf.reduce_mean(x, axis=[2, 4]), ["MEAN"], False),
        ("sum_c", [1, 4, 5, 8], lambda x: tf.reduce_sum(x, axis=[3]), ["SUM"], False),
        ("sum_hw_keep", [1, 4, 5, 8], lambda x: tf.reduce_sum(x, axis=[1, 2], keepdims=True), ["SUM"], False),
        ("sum_2d", [3, 7], lambda x: tf.reduce_sum(x, axis=[0]), ["SUM"], False),
        ("max_c", [1, 4, 5, 8], lambda x: tf.reduce_max(x, axis=[3]), ["REDUCE_MAX"], False),
        ("max_hw", [1, 4, 5, 8], lambda x: tf.reduce_max(x, axis=[1, 2], keepdims=True), ["REDUCE_MAX"], False),
        ("min_w", [1, 4, 5, 8], lambda x: tf.reduce_min(x, axis=[-2]), ["REDUCE_MIN"], False),
        ("argmax_c", [1, 4, 5, 8], lambda x: tf.math.argmax(x, axis=3, output_type=tf.int32), ["ARG_MAX"], False),
        ("argmin_w", [1, 4, 5, 8], lambda x: tf.math.argmin(x, axis=-2, output_type=tf.int32), ["ARG_MIN"], False),
        ("argmax_2d", [6, 9], lambda x: tf.math.argmax(x, axis=0, output_type=tf.int32), ["ARG_MAX"], False),
        ("log_softmax", [1, 3, 10], lambda x: tf.nn.log_softmax(x * 4.0), ["LOG_SOFTMAX"], False),
        ("log_softmax_wide", [2, 70], lambda x: tf.nn.log_softmax(x * 9.0), ["LOG_SOFTMAX"], False),
        ("log_softmax_narrow", [4, 5], lambda x: tf.nn.log_softmax(x * 0.2), ["LOG_SOFTMAX"], False),
        ("l2_norm", [1, 3, 16], lambda x: tf.math.l2_normalize(x, axis=-1), ["L2_NORMALIZATION"], False),
        ("l2_norm_4d", [1, 2, 3, 40], lambda x: tf.math.l2_normalize(x * 3.0 + 0.5, axis=-1),
         ["L2_NORMALIZATION"], False),
        ("l2_norm_small", [4, 3], lambda x: tf.math.l2_normalize(x * 0.01, axis=-1), ["L2_NORMALIZATION"], False),
        ("cumsum", [1, 4, 6], lambda x: tf.math.cumsum(x, axis=2), ["CUMSUM"], False),
        ("cumsum_excl_rev", [2, 5, 3], lambda x: tf.math.cumsum(x, axis=1, exclusive=True, reverse=True),
         ["CUMSUM"], False),
        ("cumsum_rev", [3, 4], lambda x: tf.math.cumsum(x, axis=-2, reverse=True), ["CUMSUM"], False),
        # resize
        ("resize_bilinear", [1, 5, 6, 3], lambda x: tf.image.resize(x, [9, 13], "bilinear"),
         ["RESIZE_BILINEAR"], False),
        ("resize_align", [1, 5, 6, 3],
         lambda x: tf.compat.v1.image.resize_bilinear(x, [9, 11], align_corners=True), ["RESIZE_BILINEAR"], False),
        ("resize_plain", [1, 5, 6, 3],
         lambda x: tf.compat.v1.image.resize_bilinear(x, [7, 4]), ["RESIZE_BILINEAR"], False),
        ("resize_down_half", [1, 9, 8, 2], lambda x: tf.image.resize(x, [4, 3], "bilinear"),
         ["RESIZE_BILINEAR"], False),
        # transpose conv: filter [kh, kw, out, in] in TF
        ("transpose_conv", [1, 4, 5, 4],
         lambda x: tf.nn.conv2d_transpose(x, tf.transpose(w_tc, [1, 2, 0, 3]), [1, 8, 10, 3], 2, "SAME"),
         ["TRANSPOSE_CONV"], False),
        ("transpose_conv_bias", [1, 4, 5, 4], tconv_bias, ["TRANSPOSE_CONV"], False),
        ("transpose_conv_valid", [1, 4, 3, 3], tconv_valid, ["TRANSPOSE_CONV"], False),
        ("transpose_conv_s1", [1, 4, 5, 4],
         lambda x: tf.nn.conv2d_transpose(x, tf.transpose(w_tc, [1, 2, 0, 3]), [1, 4, 5, 3], 1, "SAME"),
         ["TRANSPOSE_CONV"], False),
        ("transpose_conv_s3", [1, 3, 3, 4],
         lambda x: tf.nn.conv2d_transpose(x, tf.transpose(w_tc, [1, 2, 0, 3]), [1, 9, 8, 3], 3, "SAME"),
         ["TRANSPOSE_CONV"], False),
        # batch matmul
        ("batch_matmul", [1, 4, 8], lambda x: tf.matmul(x, x, transpose_b=True), ["BATCH_MATMUL"], False),
        ("batch_matmul_adjx", [2, 4, 8], lambda x: tf.matmul(x, x, transpose_a=True), ["BATCH_MATMUL"], False),
        ("batch_matmul_const", [2, 4, 8], lambda x: tf.matmul(x, m_rhs3), ["BATCH_MATMUL"], False),
        ("batch_matmul_lconst", [2, 5, 3], lambda x: tf.matmul(m_rhs3[:, :4, :], x), ["BATCH_MATMUL"], False),
        ("batch_matmul_bcast", [2, 1, 4, 8], lambda x: tf.matmul(x, tf.reshape(x, [1, 2, 8, 4]) * 0.5 + 0.1),
         ["BATCH_MATMUL"], False),
        # refused
        ("argmax_i64", [1, 4, 5, 8], lambda x: tf.math.argmax(x, axis=3, output_type=tf.int64), ["ARG_MAX"], False),
        # float32 reductions
        ("f_mean_c", [1, 4, 5, 8], lambda x: tf.reduce_mean(x, axis=[3]), ["MEAN"], True),
        ("f_mean_hw", [1, 4, 5, 8], lambda x: tf.reduce_mean(x, axis=[1, 2], keepdims=True), ["MEAN"], True),
        ("f_sum_hc", [1, 4, 5, 8], lambda x: tf.reduce_sum(x, axis=[1, 3]), ["SUM"], True),
        ("f_max_c", [1, 4, 5, 8], lambda x: tf.reduce_max(x, axis=[3]), ["REDUCE_MAX"], True),
        ("f_min_hw", [1, 4, 5, 8], lambda x: tf.reduce_min(x, axis=[1, 2]), ["REDUCE_MIN"], True),
        ("f_argmax_c", [1, 4, 5, 8], lambda x: tf.math.argmax(x, axis=3, output_type=tf.int32), ["ARG_MAX"], True),
        ("f_resize_bilinear", [1, 5, 6, 3], lambda x: tf.image.resize(x, [9, 13], "bilinear"),
         ["RESIZE_BILINEAR"], True),
        ("f_resize_align", [1, 5, 6, 3],
         lambda x: tf.compat.v1.image.resize_bilinear(x, [9, 11], align_corners=True), ["RESIZE_BILINEAR"], True),
        ("f_batch_matmul", [2, 4, 8], lambda x: tf.matmul(x, x, transpose_b=True), ["BATCH_MATMUL"], True),
        ("f_cumsum", [2, 5, 3], lambda x: tf.math.cumsum(x, axis=1, exclusive=True), ["CUMSUM"], True),
        ("f_cumsum_rev", [2, 5, 3], lambda x: tf.math.cumsum(x, axis=0, reverse=True), ["CUMSUM"], True),
        ("f_l2_norm", [2, 3, 16], lambda x: tf.math.l2_normalize(x, axis=-1), ["L2_NORMALIZATION"], True),
        ("f_l2_pool", [1, 6, 7, 3],
         lambda x: tf.nn.avg_pool2d(x, 3, 2, "SAME"), ["L2_POOL_2D"], True),
        ("f_l2_pool_valid", [1, 6, 7, 3],
         lambda x: tf.nn.relu6(tf.nn.avg_pool2d(x, [2, 3], [2, 1], "VALID")), ["L2_POOL_2D"], True),
        ("b_all_c", [1, 4, 5, 8], lambda x: tf.reduce_all(x, axis=[3]), ["REDUCE_ALL"], True),
        ("b_all_hw", [2, 3, 4], lambda x: tf.reduce_all(x, axis=[0, -1], keepdims=True), ["REDUCE_ALL"], True),
        ("f_transpose_conv", [1, 4, 5, 4], tconv_bias, ["TRANSPOSE_CONV"], True),
        ("f_transpose_conv_valid", [1, 4, 3, 3], tconv_valid, ["TRANSPOSE_CONV"], True),
        ("f_argmin_h", [1, 4, 5, 8], lambda x: tf.math.argmin(x, axis=1, output_type=tf.int32), ["ARG_MIN"], True),
    ]


# converter output rewired to the int8 kernel (see int8_core)
INT8_CORE = {"cumsum", "cumsum_excl_rev", "cumsum_rev"}


# models TFLM refuses (and so must pexc), in tests/models/reduce/refused/
REFUSED = {"argmax_i64"}


def convert(tf, shape, fn, is_float, seed=0):
    dtype = tf.bool if getattr(fn, "bool_input", False) else tf.float32
    f = tf.function(fn, input_signature=[tf.TensorSpec(shape, dtype)])
    conv = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], f)
    if not is_float:
        rng = np.random.default_rng(seed)

        def representative():
            for k in range(48):
                x = rng.uniform(-1, 1, size=shape).astype(np.float32)
                if k % 4 == 3:
                    x = (x * rng.uniform(0.2, 1.0)).astype(np.float32)
                yield [x]

        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = representative
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    return conv.convert()


def op_names(data):
    """The builtin operator names of a model, in order."""
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s
    m = s.Model.GetRootAsModel(data, 0)
    names = {v: k for k, v in vars(s.BuiltinOperator).items() if not k.startswith("_")}
    g = m.Subgraphs(0)
    out = []
    for i in range(g.OperatorsLength()):
        c = m.OperatorCodes(g.Operators(i).OpcodeIndex())
        out.append(names[max(c.BuiltinCode(), c.DeprecatedBuiltinCode())])
    return out


def _model(data):
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s
    return s, s.ModelT.InitFromObj(s.Model.GetRootAsModel(data, 0))


def _pack(m):
    import flatbuffers
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    return bytes(b.Output())


def int8_core(data):
    """The converter keeps some operators (CUMSUM) in float between a
    DEQUANTIZE and a QUANTIZE even in an int8 model. Rewire such a
    DEQUANTIZE -> OP -> QUANTIZE chain so OP reads the int8 input and writes
    the int8 output directly: the int8 kernel TFLM would run."""
    s, m = _model(data)
    g = m.subgraphs[0]
    codes = [max(c.builtinCode, c.deprecatedBuiltinCode) for c in m.operatorCodes]
    ops = g.operators
    if [codes[o.opcodeIndex] for o in ops][0] != s.BuiltinOperator.DEQUANTIZE or \
            codes[ops[-1].opcodeIndex] != s.BuiltinOperator.QUANTIZE or len(ops) != 3:
        raise SystemExit("int8_core: expected DEQUANTIZE, OP, QUANTIZE")
    core = ops[1]
    core.inputs = [int(ops[0].inputs[0])] + [int(i) for i in core.inputs[1:]]
    core.outputs = [int(ops[2].outputs[0])]
    g.operators = [core]
    return _pack(m)


def as_l2_pool(data):
    """The converter never writes L2_POOL_2D (sqrt(avg_pool(x^2)) stays three
    operators), so an AVERAGE_POOL_2D model is retyped: both read the same
    Pool2DOptions."""
    s, m = _model(data)
    n = 0
    for c in m.operatorCodes:
        if max(c.builtinCode, c.deprecatedBuiltinCode) == s.BuiltinOperator.AVERAGE_POOL_2D:
            c.builtinCode = c.deprecatedBuiltinCode = s.BuiltinOperator.L2_POOL_2D
            n += 1
    if n != 1:
        raise SystemExit("as_l2_pool: expected one AVERAGE_POOL_2D operator code")
    return _pack(m)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=OUT)
    ap.add_argument("--only")
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    os.makedirs(args.out, exist_ok=True)
    manifest_path = os.path.join(args.out, "MANIFEST.json")
    manifest = {}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            manifest = json.load(f).get("models", {})
    for name, shape, fn, claim, is_float in _entries(tf):
        if args.only and args.only not in name:
            continue
        if name.startswith("b_"):
            fn.bool_input = True
        data = convert(tf, shape, fn, is_float)
        if name in INT8_CORE:
            data = int8_core(data)
        if "l2_pool" in name:
            data = as_l2_pool(data)
        path = os.path.join(args.out, "refused" if name in REFUSED else "", name + ".tflite")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
        ops = op_names(data)
        for c in claim:
            if c not in ops:
                raise SystemExit("%s: claimed %s, converter made %s" % (name, c, ops))
        manifest[name] = {"ops": ops, "input": shape, "float": is_float}
        print("%-16s %s" % (name, " ".join(ops)))
    with open(manifest_path, "w") as f:
        json.dump({"tensorflow": tf.__version__, "models": manifest}, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
