"""Decimated skip inputs (src/ir/decimate.c) and branches kept in step
(stream.c, stream_paces): ic_resnet8's strided 1x1 skip convolutions read
a MAX_POOL_2D copy of every second pixel when that plan holds fewer bytes.
The plan that uses it gives TFLM's bytes on CIFAR-10 test images, held
whole and with the input streamed; the baseline keeps the model's own
graph; a plain chain with no skip path has nothing to decimate."""
import json
import os
import subprocess

import numpy as np
import pytest

from pexc_harness import PEXC, SHARED, SHARED_MODELS, have_shared, pexc_available, tflm_ref

pytestmark = pytest.mark.skipif(not (have_shared() and pexc_available()), reason="needs ../shared and build/pexc")

RESNET = os.path.join(SHARED_MODELS, "ic_resnet8_int8.tflite")
KWS = os.path.join(SHARED_MODELS, "kws_ds_cnn_int8.tflite")
CIFAR = os.path.join(SHARED, "data", "cifar10", "test_batch_sorted.bin")


def pexc(*args):
    return subprocess.run([PEXC] + [str(a) for a in args], capture_output=True, text=True, timeout=600)


def inspect(model, *args):
    r = pexc("inspect", model, *args)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.mark.parametrize("stream", [False, True])
def test_resnet8_min_sram_decimates_and_matches_tflm(stream, tmp_path):
    flags = ["--schedule", "min-sram"] + (["--stream-input"] if stream else [])
    text = inspect(RESNET, *flags)
    # the two downsampling blocks' skip inputs, copied every second pixel
    pools = [ln for ln in text.splitlines() if " MAX_POOL_2D " in ln]
    assert pools, "no decimation step in the plan"
    assert "decimated" in text
    peak = json.loads(inspect(RESNET, "--json", *flags))["peak_sram_bytes"]
    assert peak == (8512 if stream else 9840)
    n = 24
    raw = np.fromfile(CIFAR, np.uint8).reshape(-1, 3073)
    rec = raw[np.linspace(0, len(raw) - 1, n).astype(int)]
    x = (rec[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).reshape(n, -1).astype(np.int16) - 128).astype(np.int8)
    xin, yout = tmp_path / "x.bin", tmp_path / "y.bin"
    x.tofile(xin)
    r = pexc("run", RESNET, "--input", xin, "--output", yout, "--batch", n, *flags)
    assert r.returncode == 0, r.stderr
    got = np.fromfile(yout, np.int8).reshape(n, -1)
    if not tflm_ref.available():
        pytest.skip("tflite-micro is not installed")
    ref = tflm_ref.TflmModel(RESNET)
    want = np.stack([np.frombuffer(ref.run(xi.tobytes()), np.int8) for xi in x])
    assert np.array_equal(got, want)


def test_baseline_keeps_the_models_graph():
    text = inspect(RESNET, "--schedule", "baseline")
    assert " MAX_POOL_2D " not in text and "decimated" not in text
    assert "16 operators" in text


def test_no_skip_path_nothing_to_decimate():
    # kws_ds_cnn's convolutions have no strided 1x1 beside another reader
    text = inspect(KWS, "--schedule", "min-sram", "--stream-input")
    assert " MAX_POOL_2D " not in text and "decimated" not in text


def test_budget_that_the_models_graph_meets_keeps_it():
    # under --sram the plan that fits is the fastest: the decimated graph
    # (a lower peak, more steps) is taken only when the model's own
    # graph cannot meet the budget
    text = inspect(RESNET, "--sram", "24K")
    assert "16 operators" in text and " MAX_POOL_2D " not in text
    text = inspect(RESNET, "--sram", "9900")
    assert "18 operators" in text and " MAX_POOL_2D " in text
    r = pexc("inspect", RESNET, "--sram", "9800")
    # refused, naming the least peak of the two graphs
    assert r.returncode == 1 and "least peak pexc reaches, 9840 bytes" in r.stderr, r.stderr
    r = pexc("inspect", RESNET, "--sram", "8400", "--stream-input")
    assert r.returncode == 1 and "8512 bytes" in r.stderr, r.stderr


def test_default_names_the_decimated_least_peak():
    # the default schedule keeps ic_resnet8's baseline (a tie between the
    # two graphs), and the min-sram figure beside it is the least of both
    j = json.loads(inspect(RESNET, "--json"))
    assert j["peak_sram_bytes"] == 49152 and j["min_sram"]["peak_sram_bytes"] == 9840
    assert "min-sram: 9,840 B" in inspect(RESNET)
