"""Differentiable pruning (src/prune/gates.c, src/train/gate.c): channel
gates trained under a penalty on the min-sram peak, through the test driver
tests/gates/gate_tool.c (built here with make).

- Gate gradients: g dL/dg equals the sum of w dL/dw over the channel's
  weights and bias (exact: scaling the gate is scaling them), and gate and
  weight gradients agree with central finite differences of the loss, on a
  converter-made model and on ic_resnet8.
- Folding is exact: the gated float network and the one with the gates
  folded into its weights give the same logits.
- Selection: the pruned model's min-sram peak fits the budget, it is
  smaller than the unpruned one, it keeps the input and output, and TFLM
  gives the same bytes as pexc on it; a budget no channel pruning can reach
  is refused in one line.
"""
import json
import os
import subprocess

import numpy as np
import pytest

from pexc_harness import PEXC, ROOT, SHARED, SHARED_MODELS, tflm_ref
import gen_models  # tools/, put on the path by pexc_harness

BUILD = os.environ.get("PEXC_BUILD", "build")
TOOL = os.path.join(ROOT, BUILD, "tests", "gates", "gate_tool")
CIFAR_TRAIN = os.path.join(SHARED, "data", "cifar10", "train_batch_interleaved.bin")
CIFAR_TEST = os.path.join(SHARED, "data", "cifar10", "test_batch_sorted.bin")
RESNET = os.path.join(SHARED_MODELS, "ic_resnet8_int8.tflite")


@pytest.fixture(scope="module")
def tool():
    if BUILD == "build":
        r = subprocess.run(["make", "-s", "build/tests/gates/gate_tool"], cwd=ROOT, capture_output=True, text=True,
                           timeout=600)
        assert r.returncode == 0, r.stderr
    assert os.path.exists(TOOL), TOOL + " not built"
    return TOOL


def run(*args, timeout=600):
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=timeout)


def peak(model):
    r = run(PEXC, "inspect", model, "--json", "--schedule", "min-sram")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["peak_sram_bytes"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A small residual CNN for 32x32x3 images, converted to int8."""
    tf = pytest.importorskip("tensorflow")
    d = tmp_path_factory.mktemp("gates")
    tf.keras.utils.set_random_seed(5)
    L = tf.keras.layers
    x = L.Input((32, 32, 3), batch_size=1)
    a = L.Conv2D(8, 3, padding="same", activation="relu")(x)
    # (a conv reading and writing the same channel group, Conv(a) added to
    # a, is one prune_remove cannot yet cut: reported, avoided here)
    m = L.Conv2D(6, 3, padding="same", activation="relu")(a)
    b = L.Conv2D(8, 3, padding="same", activation="relu")(m)
    s = L.ReLU()(L.Add()([a, b]))
    c = L.DepthwiseConv2D(3, strides=2, padding="same", activation="relu")(s)
    e = L.Conv2D(16, 1, activation="relu")(c)
    f = L.GlobalAveragePooling2D()(e)
    out = L.Softmax()(L.Dense(10)(f))
    model = tf.keras.Model(x, out)
    raw = np.fromfile(CIFAR_TRAIN, np.uint8, count=200 * 3073).reshape(-1, 3073)
    imgs = raw[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).astype(np.float32) / 255.0

    def rep():
        for i in range(100):
            yield [imgs[i:i + 1]]

    path = str(d / "tiny_int8.tflite")
    with open(path, "wb") as fh:
        fh.write(gen_models.convert_int8(tf, model, rep))
    # a 512-image training slice
    data = d / "train512.bin"
    np.fromfile(CIFAR_TRAIN, np.uint8, count=512 * 3073).tofile(data)
    return path, str(data)


# gate_tool's checks: records used, and what its report must say
TOOL_CHECKS = {
    # gate and weight gradients against central finite differences
    "grad": (8, ["gate identity worst relative error", "0 mismatches"]),
    # the gated network's logits equal those after folding the gates
    "fold": (16, ["gates reset to 1: yes"]),
    # gates training runs each batch as two halves sharing the gate values
    # (src/train/split.c): their weighted gradients are the whole batch's,
    # and the same bytes on one thread and on two
    "split": (16, ["halves on", "1 and 2 threads identical: yes"]),
}


@pytest.mark.parametrize("which", ["tiny", "resnet8"])
@pytest.mark.parametrize("command", sorted(TOOL_CHECKS))
def test_gate_tool_check(tool, tiny, which, command):
    n, words = TOOL_CHECKS[command]
    model = tiny[0] if which == "tiny" else RESNET
    r = run(tool, command, model, CIFAR_TRAIN, n)
    assert r.returncode == 0, r.stdout + r.stderr
    assert all(w in r.stdout for w in words), r.stdout


def cifar_inputs(n, zero_point):
    raw = np.fromfile(CIFAR_TEST, np.uint8).reshape(-1, 3073)
    rec = raw[np.linspace(0, len(raw) - 1, n).astype(int)]
    hwc = rec[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).reshape(n, -1)
    return np.clip(hwc.astype(np.int16) + zero_point, -128, 127).astype(np.int8)


def test_selected_model_fits_and_matches_tflm(tool, tiny, tmp_path):
    model, data = tiny
    p0 = peak(model)
    budget = p0 * 7 // 10
    out = tmp_path / "gated.tflite"
    r = run(tool, "select", model, data, 512, budget, out, 10, 6)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "gates round 1:" in r.stdout, r.stdout
    p1 = peak(out)
    assert p1 <= budget < p0
    ref0, ref = tflm_ref.TflmModel(model), tflm_ref.TflmModel(str(out))
    assert ref.output_nbytes == ref0.output_nbytes == 10
    # the model's input quantisation is the converter's; pixels go in as it says
    x = cifar_inputs(20, -128)
    xin, yout = tmp_path / "x.bin", tmp_path / "y.bin"
    x.tofile(xin)
    for schedule in ("baseline", "min-sram"):
        r = run(PEXC, "run", out, "--input", xin, "--output", yout, "--batch", len(x), "--schedule", schedule)
        assert r.returncode == 0, r.stderr
        got = np.fromfile(yout, np.int8).reshape(len(x), -1)
        want = np.stack([np.frombuffer(ref.run(xi.tobytes()), np.int8) for xi in x])
        assert np.array_equal(got, want), schedule


def test_budget_out_of_reach_is_refused(tool, tiny, tmp_path):
    model, data = tiny
    out = tmp_path / "never.tflite"
    r = run(tool, "select", model, data, 64, 1000, out, 2, 1)
    assert r.returncode == 1
    lines = [ln for ln in r.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "needs whole layers removed" in lines[0], r.stderr
    assert not out.exists()
