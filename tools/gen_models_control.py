#!/usr/bin/env python3
"""Generate tests/models/control/*.tflite: tiny models with WHILE and IF
control flow as the TF 2.21 converter writes them, for
tests/test_ops_control.py.

- tf.while_loop over a counter with a constant limit (float and int8), the
  shape pexc unrolls, and a loop nested in a loop body;
- Keras 3 GRU and LSTM layers called inside a tf.function with a fixed
  sequence length: the converter lowers them to a WHILE whose body is one
  time step, the counters compared against the sequence length (Keras 2,
  `tf_keras`, gives the fused UNIDIRECTIONAL_SEQUENCE_LSTM instead; see
  gen_models_seq.py);
- tf.cond on data (an IF whose branch is chosen at run time; float and
  int8), and the float model with its condition replaced by a constant true
  or false (the converter folds a tf.cond on a constant itself, so those two
  are patched);
- refuse_if_gather_f32: an IF on data with a GATHER in a branch, which pexc
  must refuse (it computes both branches, and a GATHER can fail);
- refuse_while_data_f32: a tf.while_loop whose condition reads the input,
  which pexc must refuse.

    .venv/bin/python tools/gen_models_control.py [--out DIR]
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_models  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "tests", "models", "control")


def catalogue(tf, keras):
    def while_count(x):
        def body(i, y):
            return i + 1, tf.tanh(y * 1.5 + 0.25)
        return tf.while_loop(lambda i, y: i < 3, body, [tf.constant(0), x])[1]

    def while_two_counters(x):
        # counts down and up at once, the body steps both by their own amount
        def body(i, j, y):
            return i - 2, j + 1, y * 0.5 + tf.reduce_mean(y) * 0.25
        return tf.while_loop(lambda i, j, y: tf.logical_and(i > 0, j < 10), body,
                             [tf.constant(7), tf.constant(0), x])[2]

    def while_nested(x):
        # a loop in a loop body: the inner trip count depends on the outer
        # counter, 1 + 2 + 3 inner iterations in all
        def inner(i):
            def body(j, y):
                return j + 1, y * 0.75 + tf.cast(j, tf.float32) * 0.125
            return lambda y: tf.while_loop(lambda j, y: j < i, body, [tf.constant(0), y])[1]

        def outer(i, y):
            return i + 1, tf.tanh(inner(i + 1)(y))
        return tf.while_loop(lambda i, y: i < 3, outer, [tf.constant(0), x])[1]

    def while_data(x):
        # the trip count depends on the input's values
        def body(y):
            return [y * 2.0]
        return tf.while_loop(lambda y: tf.reduce_sum(y) < 100.0, body, [x])[0]

    def if_data(x):
        return tf.cond(tf.reduce_sum(x) > 0.0, lambda: tf.tanh(x * 2.0), lambda: x - 1.0)

    def if_gather(x):
        # a branch with a GATHER: pexc computes both branches of an IF on
        # data, and a GATHER may fail on indices TFLM's untaken branch
        # never sees, so pexc refuses this one
        idx = tf.cast(tf.clip_by_value(x[0, :2] * 4.0, 0.0, 3.0), tf.int32)
        return tf.cond(tf.reduce_sum(x) > 0.0, lambda: tf.gather(x, idx, axis=1) * 2.0, lambda: x[:, :2] - 1.0)

    def rnn(layer):
        def build(x):
            inp = keras.Input(x.shape[1:], batch_size=x.shape[0])
            return keras.Model(inp, layer(inp))(x)
        return build

    def stack(*layers):
        # the layers exist before tracing: tf.function makes variables once
        def apply(x):
            for layer in layers:
                x = layer(x)
            return x
        return apply

    # name, input shape, function (called once per build), int8?
    return [
        ("while_count_f32", [1, 6], lambda: while_count, False),
        ("while_count_int8", [1, 6], lambda: while_count, True),
        ("while_two_counters_f32", [2, 3], lambda: while_two_counters, False),
        ("while_nested_f32", [1, 5], lambda: while_nested, False),
        ("gru_f32", [1, 5, 3], lambda: rnn(keras.layers.GRU(4)), False),
        ("lstm_f32", [1, 4, 3], lambda: rnn(keras.layers.LSTM(5)), False),
        ("if_data_f32", [1, 4], lambda: if_data, False),
        ("if_data_int8", [1, 4], lambda: if_data, True),
        ("refuse_if_gather_f32", [1, 4], lambda: if_gather, False),
        ("refuse_while_data_f32", [1, 4], lambda: while_data, False),
        # MNIST-sized: 28 rows of 28 pixels through a 32-unit LSTM and a Dense
        # layer, the shape of ../shared/models/mnist_lstm_float in Keras 3
        ("lstm_mnist_f32", [1, 28, 28], lambda: rnn(stack(keras.layers.LSTM(32), keras.layers.Dense(10))), False),
    ]


def convert(tf, np, fn, shape, int8, seed):
    f = tf.function(fn, input_signature=[tf.TensorSpec(shape, tf.float32)])
    conv = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()])
    if int8:
        rng = np.random.default_rng(seed)
        gen_models.set_int8(tf, conv, lambda: ([rng.uniform(-1.0, 1.0, shape).astype(np.float32)]
                                               for _ in range(32)))
    return conv.convert()


def const_condition(src, dst, value):
    """src's IF reads a constant condition instead (the ops that computed it
    dropped): what a tf.cond on a compile-time value would be if the
    converter kept it."""
    import flatbuffers
    import numpy as np
    s = gen_models._schema()
    with open(src, "rb") as f:
        m = s.ModelT.InitFromObj(s.Model.GetRootAsModel(f.read(), 0))
    sg = m.subgraphs[0]
    code = [i for i, c in enumerate(m.operatorCodes)
            if max(c.builtinCode, c.deprecatedBuiltinCode) == s.BuiltinOperator.IF][0]
    op = [o for o in sg.operators if o.opcodeIndex == code][0]
    buf = s.BufferT()
    buf.data = np.array([1 if value else 0], np.uint8)
    m.buffers.append(buf)
    t = s.TensorT()
    t.shape = np.array([], np.int32)
    t.type = s.TensorType.BOOL
    t.buffer = len(m.buffers) - 1
    t.name = b"constant_condition"
    sg.tensors.append(t)
    op.inputs = [len(sg.tensors) - 1] + [int(i) for i in op.inputs[1:]]
    sg.operators = [op]
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    with open(dst, "wb") as f:
        f.write(bytes(b.Output()))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    import keras
    import numpy as np
    import tensorflow as tf
    os.makedirs(args.out, exist_ok=True)
    made = []
    for seed, (name, shape, make, int8) in enumerate(catalogue(tf, keras)):
        keras.utils.set_random_seed(seed)
        blob = convert(tf, np, make(), shape, int8, seed)
        path = os.path.join(args.out, name + ".tflite")
        with open(path, "wb") as f:
            f.write(blob)
        made.append(path)
    for value in (True, False):
        path = os.path.join(args.out, "if_const_%s_f32.tflite" % ("true" if value else "false"))
        const_condition(os.path.join(args.out, "if_data_f32.tflite"), path, value)
        made.append(path)
    for path in made:
        ops = [d["op"] for d in gen_models.analyse(path)["ops"]]
        if "WHILE" not in ops and "IF" not in ops:
            sys.exit("%s: the converter made %s, no WHILE or IF" % (path, ops))
        print("%-26s %6d bytes  %s" % (os.path.basename(path), os.path.getsize(path), " ".join(ops)))


if __name__ == "__main__":
    main()
