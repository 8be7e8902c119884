#!/usr/bin/env python3
"""Generate tests/models/seq/*.tflite: tiny LSTM models made by the TFLite
converter, for tests/test_ops_seq.py.

Keras 3 (the `keras` package TF 2.21 ships with) lowers an LSTM layer to a
WHILE loop over VAR_HANDLE resources, and the int8 calibrator crashes on it;
only Keras 2 (`tf_keras`, the same release) marks its LSTM for the converter,
which then emits the fused UNIDIRECTIONAL_SEQUENCE_LSTM that TFLite Micro
runs. So the models are built with tf_keras (pip install tf-keras==2.21.0)
and each is checked to hold that operator and no WHILE.

    .venv/bin/python tools/gen_models_seq.py [--out DIR]
"""

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_models  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "tests", "models", "seq")


def catalogue(keras):
    L = keras.layers

    def lstm(units, seq):
        return lambda x: L.LSTM(units, return_sequences=seq)(x)

    def stack(x):
        x = L.LSTM(8, return_sequences=True)(x)
        x = L.LSTM(6, return_sequences=True)(x)
        return L.Dense(3)(L.Flatten()(x))

    def lstm_dense_softmax(x):
        x = L.LSTM(6, return_sequences=False)(x)
        return L.Softmax()(L.Dense(4)(x))

    def conv_lstm(x):
        # a streamed chain through the LSTM: Conv1D (RESHAPE, CONV_2D,
        # RESHAPE), the LSTM, RESHAPE, FULLY_CONNECTED
        x = L.Conv1D(6, 3, padding="same", activation="relu")(x)
        x = L.LSTM(8, return_sequences=True)(x)
        return L.Dense(3)(L.Flatten()(x))

    def long_lstm(x):
        x = L.LSTM(4, return_sequences=True)(x)
        return L.Dense(2)(L.Flatten()(x))

    # name, input shape (batch first), build, int8?
    return [
        ("lstm_seq_int8", [1, 5, 6], lstm(7, True), True),
        ("lstm_last_int8", [1, 4, 3], lstm(5, False), True),
        ("lstm_stack_int8", [1, 6, 5], stack, True),
        ("lstm_seq_f32", [1, 5, 6], lstm(7, True), False),
        ("lstm_softmax_f32", [1, 4, 3], lstm_dense_softmax, False),
        ("lstm_batch2_f32", [2, 3, 4], lstm(5, True), False),
        ("lstm_conv1d_int8", [1, 12, 4], conv_lstm, True),
        ("lstm_long_int8", [1, 400, 3], long_lstm, True),
    ]


def convert_float(entry, seed, tf, keras):
    keras.utils.set_random_seed(seed)
    inp = keras.Input(shape=entry["shape"][1:], batch_size=entry["shape"][0], name="input")
    model = keras.Model(inp, entry["build"](inp), name=entry["name"])
    return tf.lite.TFLiteConverter.from_keras_model(model).convert()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    import tensorflow as tf
    import tf_keras as keras
    os.makedirs(args.out, exist_ok=True)
    for seed, (name, shape, build, int8) in enumerate(catalogue(keras)):
        entry = {"name": name, "shape": shape, "build": build, "range": (-1.0, 1.0), "flags": {}}
        if int8:
            blob = gen_models.convert(entry, seed, tf, keras)
        else:
            blob = convert_float(entry, seed, tf, keras)
        path = os.path.join(args.out, name + ".tflite")
        with open(path, "wb") as f:
            f.write(blob)
        ops = [d["op"] for d in gen_models.analyse(path)["ops"]]
        if "UNIDIRECTIONAL_SEQUENCE_LSTM" not in ops or "WHILE" in ops:
            sys.exit("%s: the converter made %s, not a fused LSTM" % (name, ops))
        print("%-20s %6d bytes  %s" % (name, len(blob), " ".join(ops)))


if __name__ == "__main__":
    main()
