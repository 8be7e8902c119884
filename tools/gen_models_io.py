#!/usr/bin/env python3
"""Generate the float32 and uint8-interface conformance models in tests/models/io/.

float32 models are the converter's plain output (no quantisation): a small
CNN (convolution, depthwise with depth multiplier 2, max and average pool,
dense, softmax), element-wise chains (logistic, tanh, relu, relu6, add,
sub, mul) and broadcasting. uint8 models are full-integer int8 models
converted with inference_input_type / inference_output_type = uint8, so
their interfaces are QUANTIZE operators between uint8 and int8.

    .venv/bin/python tools/gen_models_io.py [--out DIR]
"""

import argparse
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_OUT = os.path.join(os.path.dirname(HERE), "tests", "models", "io")


def convert(tf, model, shape, quant=None):
    c = tf.lite.TFLiteConverter.from_keras_model(model)
    if quant is not None:
        def rep():
            rng = np.random.default_rng(0)
            for _ in range(64):
                yield [rng.uniform(0, 1, size=shape).astype(np.float32)]
        c.optimizations = [tf.lite.Optimize.DEFAULT]
        c.representative_dataset = rep
        c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        c.inference_input_type = quant
        c.inference_output_type = quant
    return c.convert()


def models(tf):
    L = tf.keras.layers

    def build(fn, shape):
        inp = tf.keras.Input(shape=shape[1:], batch_size=shape[0])
        return tf.keras.Model(inp, fn(inp))

    def cnn(x):
        x = L.Conv2D(6, 3, strides=2, padding="same", activation="relu")(x)
        x = L.DepthwiseConv2D(3, padding="same", depth_multiplier=2, activation="relu6")(x)
        x = L.MaxPooling2D(2, padding="same")(x)
        x = L.AveragePooling2D(2)(x)
        x = L.Conv2D(4, 1, padding="valid", dilation_rate=1)(x)
        return L.Softmax()(L.Dense(5)(L.Flatten()(x)))

    def elem(x):
        return L.Activation("tanh")(x) + L.Activation("sigmoid")(x) * L.ReLU()(x) - L.ReLU(6.0)(x)

    def bcast(x):
        a = L.Conv2D(3, 1)(x)
        b = L.Conv2D(3, 1)(L.AveragePooling2D((6, 6))(x))
        return a * b - b + L.Conv2D(3, (1, 6))(x)

    def dilated(x):
        x = L.Conv2D(5, 3, padding="same", dilation_rate=2, activation="relu")(x)
        return L.DepthwiseConv2D((3, 2), strides=(2, 1), padding="valid", use_bias=False)(x)

    def small_cnn(x):
        x = L.Conv2D(4, 3, padding="same", activation="relu")(x)
        x = L.DepthwiseConv2D(3, padding="same")(x)
        return L.Dense(3)(L.GlobalAveragePooling2D()(x))

    yield "float_cnn", build(cnn, (1, 16, 16, 3)), (1, 16, 16, 3), None
    yield "float_elementwise", build(elem, (1, 4, 5, 3)), (1, 4, 5, 3), None
    yield "float_broadcast", build(bcast, (1, 6, 6, 3)), (1, 6, 6, 3), None
    yield "float_dilated", build(dilated, (1, 9, 8, 2)), (1, 9, 8, 2), None
    yield "uint8_io_cnn", build(small_cnn, (1, 8, 8, 3)), (1, 8, 8, 3), "uint8"
    yield "uint8_io_elementwise", build(lambda x: L.Conv2D(3, 1)(L.ReLU(6.0)(x)), (1, 5, 5, 2)), (1, 5, 5, 2), "uint8"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args()
    import tensorflow as tf
    os.makedirs(args.out, exist_ok=True)
    tf.keras.utils.set_random_seed(0)  # the weights of every model, in order
    for name, model, shape, quant in models(tf):
        data = convert(tf, model, shape, getattr(tf, quant) if quant else None)
        with open(os.path.join(args.out, name + ".tflite"), "wb") as f:
            f.write(data)
        print("%-24s %6d bytes" % (name, len(data)))


if __name__ == "__main__":
    main()
