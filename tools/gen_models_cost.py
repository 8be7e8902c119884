#!/usr/bin/env python3
"""Generate tests/models/cost/: models where the least peak and speed pull
apart, for the default-schedule rule (tests/test_cost.py).

conv1d_timeseries: a small Keras Conv1D stack over a time series, the kind
of model a new user tries first (128 time steps of 3 sensor channels, three
Conv1D layers, a pooled dense head), int8 by the real converter with a
seeded representative dataset. Its least-peak plan cuts a layer into many
one-channel slices and runs far slower than the baseline, while plans a few
hundred bytes larger run at about the baseline's speed.

    .venv/bin/python tools/gen_models_cost.py [--out DIR]
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import gen_models  # noqa: E402


def conv1d_timeseries(tf):
    L = tf.keras.layers
    x = inp = L.Input((128, 3), batch_size=1)
    x = L.Conv1D(32, 5, padding="same", activation="relu")(x)
    x = L.Conv1D(128, 3, padding="same", activation="relu")(x)
    x = L.MaxPooling1D(2)(x)
    x = L.Conv1D(32, 3, padding="same", activation="relu")(x)
    x = L.GlobalAveragePooling1D()(x)
    x = L.Dense(4)(x)
    return tf.keras.Model(inp, x), (1, 128, 3)


def representative(np, shape):
    def rep():
        rng = np.random.default_rng(0)
        for _ in range(8):
            yield [rng.uniform(-1, 1, shape).astype(np.float32)]
    return rep


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(ROOT, "tests", "models", "cost"))
    a = ap.parse_args()
    import numpy as np
    import tensorflow as tf
    os.makedirs(a.out, exist_ok=True)
    for make in (conv1d_timeseries,):
        tf.keras.utils.set_random_seed(1)
        model, shape = make(tf)
        path = os.path.join(a.out, make.__name__ + ".tflite")
        with open(path, "wb") as f:
            f.write(gen_models.convert_int8(tf, model, representative(np, shape)))
        print(path)


if __name__ == "__main__":
    main()
