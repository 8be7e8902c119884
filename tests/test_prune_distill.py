"""pexc prune --distill / --teacher (src/train/distill.c): fine-tuning
against the unpruned model's softened outputs as well as the labels.

The loss's gradient is checked against finite differences by the C
program tests/kernels/test_train_distill.c (test_c_units.py). Here, on the
tiny converter-made model of test_prune.py and a 1,024-image slice:
- with --alpha 0 the soft term weighs nothing, and the pruned file is the
  very bytes the plain fine-tune writes (the teacher runs but only the
  labels steer);
- with the default mix the weights train differently, and the file is a
  valid pruned model: under budget, TFLM's bytes equal pexc's;
- a teacher that cannot see the data (another input shape), or a missing
  teacher file, is refused in one line before any training."""
import os

import numpy as np

from pexc_harness import SHARED_MODELS
from test_prune import TINY_BUDGET, as_input, check_pruned_matches_tflm, peak, pexc, records, tiny  # noqa: F401


def prune(tiny_model, out, *extra):
    path, train, _ = tiny_model
    return pexc("prune", path, "--sram", TINY_BUDGET, "--data", train, "--format", "cifar10", "--epochs", "1",
                "--lr", "0.001", "--limit", "512", "-o", out, *extra)


def test_alpha_zero_is_the_plain_fine_tune(tiny, tmp_path):
    plain, soft0 = tmp_path / "plain.tflite", tmp_path / "a0.tflite"
    r = prune(tiny, plain)
    assert r.returncode == 0, r.stderr
    r = prune(tiny, soft0, "--distill", "--alpha", "0")
    assert r.returncode == 0, r.stderr
    assert soft0.read_bytes() == plain.read_bytes()


def test_distilled_prune_is_a_valid_model(tiny, tmp_path):
    plain, soft = tmp_path / "plain.tflite", tmp_path / "kd.tflite"
    assert prune(tiny, plain).returncode == 0
    r = prune(tiny, soft, "--teacher", tiny[0], "--temperature", "4", "--alpha", "0.9")
    assert r.returncode == 0, r.stderr
    assert soft.read_bytes() != plain.read_bytes()
    assert peak(soft) <= TINY_BUDGET
    x = as_input(records(tiny[2], slice(0, 40)))
    check_pruned_matches_tflm(soft, tmp_path, x)


def test_bad_teacher_refused(tiny, tmp_path):
    out = tmp_path / "out.tflite"
    for teacher, words in [(os.path.join(SHARED_MODELS, "kws_ds_cnn_int8.tflite"), ["kws_ds_cnn", "32x32x3"]),
                           (tmp_path / "missing.tflite", ["missing.tflite"])]:
        r = prune(tiny, out, "--teacher", teacher)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        assert r.returncode == 1 and len(lines) == 1, r.stderr
        for w in words:
            assert w in lines[0], (w, lines[0])
        assert "epoch" not in r.stdout
        assert not out.exists()
