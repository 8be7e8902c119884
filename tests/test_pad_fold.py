"""A PAD folded into the convolution that reads it (src/ir/fold.c,
ir_fold_pad; issue 16).

TFLM's int8 PAD writes the output zero point into its new rows and columns,
and its int8 convolutions add filter x (input + input offset) for the taps
inside the input only, so a convolution of a zero-point-padded tensor is
the same convolution of the unpadded tensor with the PAD's rows and columns
added to its own padding (possibly unequal sides). pexc folds such a PAD
away: the padded copy never exists, and the kernels skip the padded taps.
Checked here:

- a generated model with asymmetric PADs before a VALID stride-2
  convolution, before a SAME depthwise layer (the PAD adds to SAME's
  padding), a chain of two PADs before a stride-2 depthwise layer with
  depth multiplier 2 (both fold), and a PAD before a max pool (not folded:
  a max pool reads padded values as values): the PADs that fold leave
  pexc's operator list, and every schedule (held whole and with
  --stream-input) gives TFLM's bytes on random and extreme inputs;
- the MACs the kernels count (-DPEXC_COUNT_MACS) are the same under every
  schedule, and below the whole windows' count (the padded taps are no
  longer multiplied);
- mobilenet_v2's 18 PADs all fold (its peaks and golden bytes are pinned
  in tests/test_floors.py).
"""
import json
import os
import re
import subprocess

import pytest

import pexc_harness as H

pytestmark = pytest.mark.skipif(not H.pexc_available(), reason="needs build/pexc")


def pexc(*args):
    return subprocess.run(list(args), capture_output=True, timeout=600)


def inspect(path, *extra):
    r = pexc(H.PEXC, "inspect", path, "--json", *extra)
    assert r.returncode == 0, r.stderr.decode()
    return json.loads(r.stdout)


@pytest.fixture(scope="module")
def padded(tmp_path_factory):
    """The generated model: (path, PAD operators in the file)."""
    tf = pytest.importorskip("tensorflow")
    import numpy as np

    d = tmp_path_factory.mktemp("pad_fold")
    tf.keras.utils.set_random_seed(16)
    L = tf.keras.layers
    x = L.Input((13, 11, 5), batch_size=1)
    a = L.ZeroPadding2D(((1, 2), (0, 3)))(x)                                       # 16x14
    a = L.Conv2D(8, 3, strides=2, padding="valid", activation="relu")(a)           # 7x6
    b = L.ZeroPadding2D(((2, 0), (1, 1)))(a)                                       # 9x8
    b = L.DepthwiseConv2D(3, padding="same", activation="relu6")(b)                # 9x8
    c = L.ZeroPadding2D(1)(b)                                                      # 11x10
    c = L.ZeroPadding2D(((0, 1), (1, 0)))(c)                                       # 12x11
    c = L.DepthwiseConv2D(3, strides=2, depth_multiplier=2, padding="valid")(c)    # 5x5x16
    e = L.ZeroPadding2D(((1, 0), (0, 1)))(c)                                       # 6x6
    e = L.MaxPooling2D(2)(e)                                                       # 3x3
    out = L.Conv2D(4, 1)(e)
    model = tf.keras.Model(x, out)

    def rep():
        rng = np.random.default_rng(0)
        for _ in range(32):
            yield [rng.uniform(-1, 1, (1, 13, 11, 5)).astype(np.float32)]

    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]
    conv.representative_dataset = rep
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    path = str(d / "pad_fold.tflite")
    with open(path, "wb") as f:
        f.write(conv.convert())
    it = tf.lite.Interpreter(model_path=path)
    pads = sum(1 for op in it._get_ops_details() if op["op_name"] in ("PAD", "PADV2"))
    return path, pads


def test_folded_pads_leave_the_graph(padded):
    path, pads = padded
    assert pads == 5
    kinds = [op["type"] for op in inspect(path, "--schedule", "baseline")["ops"]]
    # four fold into the convolutions; the one before the max pool stays
    assert kinds.count("PAD") + kinds.count("PADV2") == 1, kinds
    assert kinds[kinds.index("MAX_POOL_2D") - 1] in ("PAD", "PADV2")


@pytest.mark.parametrize("stream", [False, True])
def test_tflm_bytes(padded, stream):
    path, _ = padded
    ref = H.tflm_ref.TflmModel(path)
    items = H.conformance_inputs(ref, model_name="pad_fold")
    want = [ref.run(d) for _, d in items]
    for schedule in ("baseline", "channels", "min-sram"):
        if stream and schedule != "min-sram":
            continue
        got = H.run_pexc(path, [d for _, d in items], ref.output_nbytes, schedule,
                         extra=["--stream-input"] if stream else [])
        for (label, _), w, g in zip(items, want, got):
            why = H.describe_mismatch(w, g, ref.output_dtype)
            assert why is None, "%s %s: %s" % (label, schedule, why)


def test_macs_once_and_padded_taps_skipped(padded, tmp_path):
    path, _ = padded
    r = subprocess.run(["make", "-s", "BUILD=build-macs", "CFLAGS=-DPEXC_COUNT_MACS", "build-macs/pexc"],
                       cwd=H.ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    counting = os.path.join(H.ROOT, "build-macs", "pexc")
    inp = tmp_path / "in.bin"
    inp.write_bytes(bytes((i * 37) % 256 for i in range(13 * 11 * 5)))
    macs = set()
    for schedule, extra in (("baseline", []), ("channels", []), ("min-sram", []), ("min-sram", ["--stream-input"])):
        r = pexc(counting, "run", path, "--schedule", schedule, "--input", str(inp), "--output",
                 str(tmp_path / "out.bin"), *extra)
        assert r.returncode == 0, r.stderr.decode()
        macs.add(int(re.search(rb"macs_executed (\d+)", r.stderr).group(1)))
    assert len(macs) == 1, macs
    assert macs.pop() < inspect(path, "--schedule", "baseline")["macs"]


@pytest.mark.skipif(not H.have_shared(), reason="needs ../shared")
def test_mobilenet_v2_pads_all_fold():
    j = inspect(H.shared_model("mobilenet_v2_int8"), "--schedule", "baseline")
    assert "PAD" not in [op["type"] for op in j["ops"]]
    assert len({op["op"] for op in j["ops"]}) == 84 - 18  # 84 operators, 18 of them PADs
