"""The training engine (src/train/) through `pexc train` and `pexc eval`.

- Gradients against TensorFlow: a tiny Keras CNN using every operator kind
  the trainer has (conv, depthwise, fully connected, average and max pool,
  add, mul, pad, relu / relu6, reshape, concatenation, mean, softmax) is
  converted to int8 by the real converter; its dequantised weights are put
  back into the Keras model, and the loss gradient of one batch computed by
  TF must match pexc's (`pexc train --grads`) within 1e-4 relative, layer by
  layer, with the same loss.
- ic_resnet8's float forward pass (dequantised weights) agrees with the int8
  model run by pexc within quantisation tolerance, and more closely still
  with fake quantisation on (--qat).
- A short training run (the tiny model, a 512-image CIFAR-10 slice, one
  epoch) lowers the loss, in seconds.
- Bad input: one line, exit 1, for a data file that is not whole records,
  a label out of range, an image shape unlike the model's input, and a
  model with operators the trainer lacks.

The finite-difference checks of every backward pass are the C program
tests/kernels/test_train_grad.c (run by test_c_units.py).
"""
import os
import subprocess

import numpy as np
import pytest

from pexc_harness import PEXC, SHARED, SHARED_MODELS
import gen_models  # tools/, put on the path by pexc_harness

CIFAR_TRAIN = os.path.join(SHARED, "data", "cifar10", "train_batch_interleaved.bin")
CIFAR_TEST = os.path.join(SHARED, "data", "cifar10", "test_batch_sorted.bin")
RESNET = os.path.join(SHARED_MODELS, "ic_resnet8_int8.tflite")
REC = 3073


def pexc(*args, timeout=600):
    r = subprocess.run([PEXC, *args], capture_output=True, text=True, timeout=timeout)
    return r.returncode, r.stdout, r.stderr


def cifar_records(path, idx):
    with open(path, "rb") as f:
        raw = f.read()
    rec = np.frombuffer(raw, dtype=np.uint8).reshape(-1, REC)
    return rec[idx]


def hwc(records):
    return records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """The tiny Keras model and its int8 conversion."""
    tf = pytest.importorskip("tensorflow")
    d = tmp_path_factory.mktemp("train")
    tf.keras.utils.set_random_seed(3)
    L = tf.keras.layers
    x = L.Input((32, 32, 3), batch_size=1)
    a = L.Conv2D(6, 3, strides=2, padding="same", activation="relu", name="c1")(x)          # 16x16x6
    b = L.DepthwiseConv2D(3, padding="same", depth_multiplier=1, activation=tf.nn.relu6, name="dw")(a)
    c = L.Conv2D(6, 1, name="pw")(b)
    s = L.Add()([a, c])
    s = L.ReLU()(s)
    p = L.ZeroPadding2D(((1, 0), (0, 1)))(s)                                                  # 17x17x6
    m = L.MaxPooling2D(2)(p)                                                                  # 8x8x6
    v = L.AveragePooling2D(2)(s)                                                              # 8x8x6
    g = L.Conv2D(6, 3, padding="valid", activation="relu", name="c2")(m)                      # 6x6x6
    g = L.ZeroPadding2D(1)(g)                                                                 # 8x8x6
    q = L.Multiply()([g, v])
    k = L.Concatenate()([q, m])                                                               # 8x8x12
    k = L.ZeroPadding2D(((1, 0), (1, 0)))(k)                                                # 9x9x12
    # a PAD before a convolution is folded into its reads (IR_PAD_EXPLICIT)
    e = L.Conv2D(8, 3, strides=2, padding="valid", activation="relu", name="c3")(k)           # 4x4x8
    f = L.GlobalAveragePooling2D()(e)
    h = L.Dense(12, activation="relu", name="fc1")(f)
    logits = L.Dense(10, name="fc2")(h)
    out = L.Softmax()(logits)
    model = tf.keras.Model(x, out)
    logit_model = tf.keras.Model(x, logits)

    rec = cifar_records(CIFAR_TRAIN, np.arange(200))
    imgs = hwc(rec).astype(np.float32) / 255.0

    def rep():
        for i in range(100):
            yield [imgs[i:i + 1]]

    path = str(d / "tiny_int8.tflite")
    with open(path, "wb") as fh:
        fh.write(gen_models.convert_int8(tf, model, rep))
    # the same with float input and output: QUANTIZE first, and the softmax
    # followed by DEQUANTIZE, which the loss must see through
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = rep
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    fpath = str(d / "tiny_int8_float_io.tflite")
    with open(fpath, "wb") as fh:
        fh.write(conv.convert())
    return tf, model, logit_model, {"int8": path, "float": fpath}, d


def dequantised_params(path):
    """(op name, weights, bias) of each conv / depthwise / FC op in model order."""
    import tensorflow as tf
    it = tf.lite.Interpreter(model_path=path)
    it.allocate_tensors()
    details = {t["index"]: t for t in it.get_tensor_details()}

    def deq(idx):
        t = details[idx]
        q = it.get_tensor(idx).astype(np.float64)
        qp = t["quantization_parameters"]
        sc, zp = qp["scales"], qp["zero_points"]
        if len(sc) == 0:
            return q.astype(np.float32)
        shape = [1] * q.ndim
        if len(sc) > 1:
            shape[qp["quantized_dimension"]] = len(sc)
        return ((q - zp.reshape(shape)) * sc.reshape(shape)).astype(np.float32)

    out = []
    for op in it._get_ops_details():
        if op["op_name"] in ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED"):
            w = deq(op["inputs"][1])
            oc = w.shape[-1] if op["op_name"] == "DEPTHWISE_CONV_2D" else w.shape[0]
            # the converter drops an all-zero bias; pexc trains one anyway
            b = deq(op["inputs"][2]) if op["inputs"][2] >= 0 else np.zeros(oc, np.float32)
            out.append((op["op_name"], w, b))
    inp = it.get_input_details()[0]["quantization"]
    return out, inp


def keras_layout(kind, w):
    if kind == "CONV_2D":
        return w.transpose(1, 2, 3, 0)
    if kind == "DEPTHWISE_CONV_2D":
        return w.reshape(w.shape[1], w.shape[2], w.shape[3], 1)
    return w.T


def tflite_layout(kind, g):
    if kind == "CONV_2D":
        return g.transpose(3, 0, 1, 2)
    if kind == "DEPTHWISE_CONV_2D":
        return g.reshape(1, g.shape[0], g.shape[1], -1)
    return g.T


@pytest.mark.parametrize("io", ["int8", "float"])
def test_gradients_match_tensorflow(tiny, tmp_path, io):
    tf, model, logit_model, paths, _ = tiny
    path = paths[io]
    params, (in_scale, in_zp) = dequantised_params(path)
    layers = [l for l in model.layers if l.weights]
    assert len(layers) == len(params) == 7
    # the converter keeps the Keras order here; the shapes prove the pairing
    for l, (kind, w, b) in zip(layers, params):
        kw = keras_layout(kind, w)
        assert kw.shape == tuple(l.weights[0].shape), (l.name, kind)
        l.set_weights([kw, b])
    n = 24
    rec = cifar_records(CIFAR_TRAIN, np.arange(1000, 1000 + n))
    data = tmp_path / "batch.bin"
    rec.tofile(data)
    if io == "int8":  # q = pixel - 128, dequantised
        x = ((hwc(rec).astype(np.float32) - 128.0 - in_zp) * in_scale).astype(np.float32)
    else:  # a float input takes pixel / 255
        x = (hwc(rec).astype(np.float32) / 255.0).astype(np.float32)
    y = rec[:, 0].astype(np.int64)
    with tf.GradientTape() as tape:
        logits = logit_model(x, training=False)
        loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
    grads = tape.gradient(loss, [v for l in layers for v in l.weights])

    out = tmp_path / "grads.bin"
    rc, so, se = pexc("train", path, "--data", str(data), "--format", "cifar10", "--batch", str(n),
                      "--grads", str(out))
    assert rc == 0, se
    pexc_loss = float(so.split()[1])
    assert abs(pexc_loss - float(loss)) <= 1e-4 * abs(float(loss)), (pexc_loss, float(loss))
    got = np.fromfile(out, dtype=np.float32)
    pos = 0
    for i, (kind, w, b) in enumerate(params):
        for want, ref in ((tflite_layout(kind, grads[2 * i].numpy()), w), (grads[2 * i + 1].numpy(), b)):
            g = got[pos:pos + ref.size].reshape(ref.shape)
            pos += ref.size
            err = np.linalg.norm(g - want) / np.linalg.norm(want)
            assert np.linalg.norm(want) > 0, layers[i].name
            assert err < 1e-4, "%s (%s): relative error %.2e" % (layers[i].name, kind, err)
    assert pos == got.size


def test_short_training_lowers_the_loss(tiny, tmp_path):
    _, _, _, paths, _ = tiny
    path = paths["int8"]
    data = tmp_path / "slice.bin"
    cifar_records(CIFAR_TRAIN, np.arange(512)).tofile(data)
    rc, so, se = pexc("train", path, "--data", str(data), "--format", "cifar10", "--epochs", "1", "--batch", "32",
                      "--optim", "adam", "--lr", "0.003", "--test", str(data), timeout=300)
    assert rc == 0, se
    lines = so.splitlines()
    before = [l for l in lines if l.startswith("before:")][0]
    after = [l for l in lines if l.startswith("after:")][0]
    assert any(l.startswith("epoch 1/1") for l in lines), so
    loss = lambda l: float(l.split("(loss ")[1].split(")")[0])
    assert loss(after) < loss(before), so


def test_qat_training_runs(tiny, tmp_path):
    """Quantisation-aware fine-tuning: the forward pass on int8 grids, the
    loss still comes down."""
    _, _, _, paths, _ = tiny
    path = paths["int8"]
    data = tmp_path / "slice.bin"
    cifar_records(CIFAR_TRAIN, np.arange(512)).tofile(data)
    rc, so, se = pexc("train", path, "--data", str(data), "--format", "cifar10", "--epochs", "1", "--batch", "32",
                      "--optim", "adam", "--lr", "0.003", "--qat", "--test", str(data), timeout=300)
    assert rc == 0, se
    loss = lambda tag: float([l for l in so.splitlines() if l.startswith(tag)][0].split("(loss ")[1].split(")")[0])
    assert loss("after:") < loss("before:"), so


@pytest.fixture(scope="module")
def resnet_slice(tmp_path_factory):
    d = tmp_path_factory.mktemp("resnet")
    rec = cifar_records(CIFAR_TEST, np.arange(0, 10000, 50))  # 200 records, 20 per class
    path = d / "slice.bin"
    rec.tofile(path)
    q = (hwc(rec).astype(np.int16) - 128).astype(np.int8)
    qin = d / "in.bin"
    q.tofile(qin)
    qout = d / "out.bin"
    rc, _, se = pexc("run", RESNET, "--batch", str(len(rec)), "--input", str(qin), "--output", str(qout))
    assert rc == 0, se
    int8 = (np.fromfile(qout, dtype=np.int8).reshape(len(rec), 10).astype(np.float32) + 128) / 256.0
    return path, int8, rec[:, 0]


def _probs(path, tmp_path, *extra):
    out = tmp_path / "probs.bin"
    rc, so, se = pexc("eval", RESNET, "--data", str(path), "--format", "cifar10", "--probs", str(out), *extra)
    assert rc == 0, se
    return np.fromfile(out, dtype=np.float32).reshape(-1, 10), so


def test_resnet8_forward_agrees_with_int8(resnet_slice, tmp_path):
    path, int8, labels = resnet_slice
    fl, so = _probs(path, tmp_path)
    # the int8 output has a step of 1/256; the float model differs by the
    # int8 model's rounding of every activation on the way (measured: mean
    # 0.0054, top-1 agreement 98.5 %; a wrong forward pass is far off both)
    assert np.abs(fl - int8).mean() < 0.01
    agree = (fl.argmax(1) == int8.argmax(1)).mean()
    assert agree >= 0.95, agree
    acc_f = (fl.argmax(1) == labels).mean()
    acc_q = (int8.argmax(1) == labels).mean()
    assert "accuracy %.2f %%" % (100 * acc_f) in so and "accuracy %.2f %%" % (100 * acc_q) in so, so
    # fake quantisation reproduces the int8 arithmetic more closely
    fq, _ = _probs(path, tmp_path, "--qat", "--no-int8")
    assert np.abs(fq - int8).mean() < np.abs(fl - int8).mean()
    assert (fq.argmax(1) == int8.argmax(1)).mean() >= agree


def test_bad_data_and_models(tiny, tmp_path):
    _, _, _, paths, _ = tiny
    path = paths["int8"]
    good = cifar_records(CIFAR_TRAIN, np.arange(20))
    cut = tmp_path / "cut.bin"
    cut.write_bytes(good.tobytes()[:-5])
    bad_label = good.copy()
    bad_label[7, 0] = 12
    lab = tmp_path / "label.bin"
    bad_label.tofile(lab)
    ok = tmp_path / "ok.bin"
    good.tofile(ok)
    cases = [
        ((path, "--data", str(cut)), ["61455 bytes", "whole number", "3073"]),
        ((path, "--data", str(lab)), ["record 7", "label 12"]),
        ((os.path.join(SHARED_MODELS, "kws_ds_cnn_int8.tflite"), "--data", str(ok)), ["32x32x3", "input tensor"]),
        ((os.path.join(SHARED_MODELS, "micro_speech_lstm_int8.tflite"), "--data", str(ok)),
         ["trainer lacks", "UNIDIRECTIONAL_SEQUENCE_LSTM"]),
    ]
    for args, words in cases:
        for cmd in ("train", "eval"):
            rc, so, se = pexc(cmd, *args, "--format", "cifar10", timeout=120)
            lines = [l for l in se.splitlines() if l.strip()]
            assert rc == 1 and len(lines) == 1, (cmd, args, rc, se)
            for w in words:
                assert w in lines[0], (w, lines[0])


def test_threads_give_the_same_gradients(tmp_path):
    """A batch's two halves run on two threads, or one after the other on
    one (src/train/split.c), and the matrix product splits rows of C over
    its threads, each row computed by the same code in the same order:
    ic_resnet8's gradients for one batch are the same bytes on one thread
    and on two. (test_gradients_match_tensorflow checks the halves' sum
    against TensorFlow's gradient of the whole batch.)"""
    data = tmp_path / "b.bin"
    cifar_records(CIFAR_TRAIN, np.arange(32)).tofile(data)
    got = []
    for t in ("1", "2"):
        out = tmp_path / ("g%s.bin" % t)
        rc, _, se = pexc("train", RESNET, "--data", str(data), "--format", "cifar10", "--batch", "32",
                         "--threads", t, "--grads", str(out))
        assert rc == 0, se
        got.append(out.read_bytes())
    pytest.importorskip("tensorflow")
    params, _ = dequantised_params(RESNET)
    assert len(got[0]) == 4 * sum(w.size + b.size for _, w, b in params)
    assert got[0] == got[1]
    assert np.abs(np.frombuffer(got[0], np.float32)).max() > 0
