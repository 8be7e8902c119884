#!/usr/bin/env python3
"""Models whose output is large and made row by row (issue 16, streamed
output): a segmentation-like int8 CNN whose 32x32x8 output map is most of
its peak unless it leaves as it is made. Writes tests/models/stream/.

    .venv/bin/python tools/gen_models_stream.py
"""
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import gen_models  # noqa: E402  (convert_int8: the converter settings every test model uses)

OUT = os.path.join(ROOT, "tests", "models", "stream")


def seg_map_cnn(L):
    """32x32x3 in, two 3x3 convolutions, a 32x32x8 map out (8,192 bytes)."""
    def build(x):
        x = L.Conv2D(8, 3, padding="same", activation="relu")(x)
        return L.Conv2D(8, 3, padding="same")(x)
    return (1, 32, 32, 3), build


def main():
    import tensorflow as tf
    keras = tf.keras
    os.makedirs(OUT, exist_ok=True)
    keras.utils.set_random_seed(16)
    shape, build = seg_map_cnn(keras.layers)
    inp = keras.Input(shape=shape[1:], batch_size=shape[0], name="input")
    model = keras.Model(inp, build(inp), name="seg_map_cnn")
    rng = np.random.default_rng(16)

    def representative():
        for _ in range(32):
            yield [rng.uniform(-1.0, 1.0, size=shape).astype(np.float32)]

    data = gen_models.convert_int8(tf, model, representative)
    with open(os.path.join(OUT, "seg_map_cnn.tflite"), "wb") as f:
        f.write(data)
    print("wrote", os.path.join(OUT, "seg_map_cnn.tflite"), len(data), "bytes")


if __name__ == "__main__":
    main()
