#!/usr/bin/env python3
"""Generate the data-movement test models in tests/models/move/.

Each model is a tiny tf.function converted by the real TFLite converter:
int8 models with full-integer quantisation (representative dataset, int8
input and output), float32 models without quantisation for the types int8
quantisation cannot reach (float PAD of rank 5, CAST, ...).  After
conversion the operator list is checked: every model must contain the
operators it claims (the converter folds or rewrites some patterns), so a
TensorFlow upgrade that changes a pattern is noticed.

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
    add("f32_space_to_batch3", [2, 5, 3],
        lambda x: tf.space_to_batch_nd(x, [2], [[1, 2]]), ["SPACE_TO_BATCH_ND"], int8=False)
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


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--only")
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf
    os.makedirs(args.out, exist_ok=True)
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
