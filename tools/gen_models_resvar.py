#!/usr/bin/env python3
"""Generate tests/models/resvar/*.tflite: tiny stateful models whose state is
a resource variable (VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE, initialised
by a CALL_ONCE subgraph), for tests/test_ops_resvar.py.

Each model is a tf.Module with a tf.Variable that its tf.function updates,
converted with experimental_enable_resource_variables. The initial values
are not zero, so the tests see CALL_ONCE's initial value on the first run
apart from the zero point TFLM's Reset() restores. int8 models keep the
variable in float32 (the converter wraps it in QUANTIZE / DEQUANTIZE).

    .venv/bin/python tools/gen_models_resvar.py [--out DIR]
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_models  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "tests", "models", "resvar")


def modules(tf):
    class Ema(tf.Module):
        """A streaming moving average, read again after its assignment."""

        def __init__(self):
            self.s = tf.Variable([[0.5, -1.0, 2.0, 0.25, 0.0, 1.5]], trainable=False)

        @tf.function(input_signature=[tf.TensorSpec([1, 6], tf.float32)])
        def __call__(self, x):
            self.s.assign(self.s * 0.75 + x * 0.25)
            return self.s.read_value() * 2.0

    class Counter(tf.Module):
        """Two variables: a step counter and an accumulator read before its
        assignment."""

        def __init__(self):
            self.n = tf.Variable([1.0], trainable=False)
            self.acc = tf.Variable(tf.fill([1, 3, 4], 0.125), trainable=False)

        @tf.function(input_signature=[tf.TensorSpec([1, 3, 4], tf.float32)])
        def __call__(self, x):
            n = self.n + 1.0
            self.n.assign(n)
            y = x * 0.5 + self.acc
            self.acc.assign(tf.tanh(y))
            return y / n

    # name, module class, input shape, int8?
    return [
        ("ema_f32", Ema, [1, 6], False),
        ("ema_int8", Ema, [1, 6], True),
        ("counter_f32", Counter, [1, 3, 4], False),
        ("counter_int8", Counter, [1, 3, 4], True),
    ]


def convert(tf, np, cls, shape, int8, seed):
    tf.random.set_seed(seed)
    m = cls()
    conv = tf.lite.TFLiteConverter.from_concrete_functions([m.__call__.get_concrete_function()], m)
    conv.experimental_enable_resource_variables = True
    if int8:
        rng = np.random.default_rng(seed)

        def rep():
            for _ in range(32):
                yield [rng.uniform(-1.0, 1.0, shape).astype(np.float32)]

        conv.optimizations = [tf.lite.Optimize.DEFAULT]
        conv.representative_dataset = rep
        conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        conv.inference_input_type = tf.int8
        conv.inference_output_type = tf.int8
    return conv.convert()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    import numpy as np
    import tensorflow as tf
    os.makedirs(args.out, exist_ok=True)
    for seed, (name, cls, shape, int8) in enumerate(modules(tf)):
        blob = convert(tf, np, cls, shape, int8, seed)
        path = os.path.join(args.out, name + ".tflite")
        with open(path, "wb") as f:
            f.write(blob)
        ops = [d["op"] for d in gen_models.analyse(path)["ops"]]
        for need in ("READ_VARIABLE", "ASSIGN_VARIABLE", "CALL_ONCE"):
            if need not in ops:
                sys.exit("%s: the converter made %s, no %s" % (name, ops, need))
        print("%-14s %6d bytes  %s" % (name, len(blob), " ".join(ops)))


if __name__ == "__main__":
    main()
