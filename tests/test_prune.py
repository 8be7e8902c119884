"""pexc prune (src/prune): ic_resnet8 pruned by magnitude where the
min-sram peak sits, down to a budget. The pruned file loads in TFLM, TFLM's
outputs equal pexc's byte for byte on CIFAR-10 test images, and its peak
fits the budget; bad input gives one line, exit 1 and no output file."""
import json
import os
import subprocess

import numpy as np
import pytest

from pexc_harness import PEXC, SHARED, SHARED_MODELS, tflm_ref

RESNET = os.path.join(SHARED_MODELS, "ic_resnet8_int8.tflite")
CIFAR = os.path.join(SHARED, "data", "cifar10", "test_batch_sorted.bin")


def pexc(*args):
    return subprocess.run([PEXC] + [str(a) for a in args], capture_output=True, text=True, timeout=900)


def peak(model):
    r = pexc("inspect", model, "--json")
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)["peak_sram_bytes"]


def cifar_batch(n=40):
    """n test images spread over the classes (the file is sorted by class),
    as the model's int8 input: q = pixel - 128, HWC."""
    raw = np.fromfile(CIFAR, np.uint8).reshape(-1, 3073)
    rec = raw[np.linspace(0, len(raw) - 1, n).astype(int)]
    hwc = rec[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).reshape(n, -1)
    return (hwc.astype(np.int16) - 128).astype(np.int8)


def check_pruned_matches_tflm(model, tmp_path):
    x = cifar_batch()
    xin, yout = tmp_path / "x.bin", tmp_path / "y.bin"
    x.tofile(xin)
    r = pexc("run", model, "--input", xin, "--output", yout, "--batch", len(x))
    assert r.returncode == 0, r.stderr
    got = np.fromfile(yout, np.int8).reshape(len(x), -1)
    ref = tflm_ref.TflmModel(str(model))
    want = np.stack([np.frombuffer(ref.run(xi.tobytes()), np.int8) for xi in x])
    assert np.array_equal(got, want)
    return got


# (budget, the pruned model's min-sram peak): 12K already fits the
# unpruned model's 11,328 bytes, so nothing is removed.
CASES = [("12K", 11328), ("8K", 8032)]


@pytest.mark.parametrize("budget,want_peak", CASES)
def test_prune_resnet8_fits_and_matches_tflm(budget, want_peak, tmp_path):
    out = tmp_path / "pruned.tflite"
    r = pexc("prune", RESNET, "--sram", budget, "-o", out)
    assert r.returncode == 0, r.stderr
    limit = int(budget[:-1]) * 1024
    p = peak(out)
    assert p <= limit
    if want_peak is not None:
        assert p == want_peak
    assert "peak SRAM (min-sram)" in r.stdout
    before = check_pruned_matches_tflm(out, tmp_path)
    assert before.shape[1] == 10


@pytest.mark.parametrize("args,words", [
    (["--sram", "2K"], "needs whole layers removed"),
    (["--sram", "12K", "--model-missing"], "unknown option"),
    (["--sram", "8K", "--data", CIFAR, "--format", "cifar10"], "training engine"),
])
def test_prune_refusals(args, words, tmp_path):
    out = tmp_path / "out.tflite"
    r = pexc("prune", RESNET, "-o", out, *args)
    assert r.returncode in (1, 2)
    assert len(r.stderr.splitlines()) == 1 and words in r.stderr
    assert not out.exists() and os.listdir(tmp_path) == []


def test_prune_missing_model(tmp_path):
    out = tmp_path / "out.tflite"
    r = pexc("prune", tmp_path / "nope.tflite", "--sram", "8K", "-o", out)
    assert r.returncode == 1 and len(r.stderr.splitlines()) == 1 and "nope.tflite" in r.stderr
    assert os.listdir(tmp_path) == []


def test_prune_unwritable_output(tmp_path):
    out = tmp_path / "no_such_dir" / "out.tflite"
    # 8K needs pruning: the output path is checked before that work
    r = pexc("prune", RESNET, "--sram", "8K", "-o", out)
    assert r.returncode == 1 and len(r.stderr.splitlines()) == 1 and "no_such_dir" in r.stderr
    assert os.listdir(tmp_path) == []


def test_prune_bad_test_file(tmp_path):
    bad = tmp_path / "bad.bin"
    bad.write_bytes(b"\x00" * 3000)
    out = tmp_path / "out.tflite"
    r = pexc("prune", RESNET, "--sram", "12K", "-o", out, "--test", bad, "--format", "cifar10")
    assert r.returncode == 1 and len(r.stderr.splitlines()) == 1 and "3073" in r.stderr
    assert sorted(os.listdir(tmp_path)) == ["bad.bin"]


def test_groups_of_resnet8():
    """ResNet8's channel groups, from its structure: three residual stages
    (16, 32, 64 channels) whose ADD ties the stage's input, its second
    conv's output and the sum into one group, plus one inner conv per
    stage on its own; the last stage's group also holds the average pool
    and the reshape before the classifier. The first line's peak is
    `pexc inspect`'s, and no group's step raises it here."""
    r = pexc("prune", RESNET, "--groups")
    assert r.returncode == 0, r.stderr
    rows = [l.split() for l in r.stdout.splitlines()[2:]]
    got = sorted((int(c[1]), int(c[2])) for c in rows)
    assert got == [(16, 1), (16, 3), (32, 1), (32, 3), (64, 1), (64, 5)]
    first = int(r.stdout.split()[2])
    assert first == peak(RESNET)
    for c in rows:
        assert int(c[4]) <= first
