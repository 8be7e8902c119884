"""pexc prune --widths (src/prune/widths.c, src/prune/grow.c): each channel
group cut straight to a given count, or widened.

- Widening a pruned model changes nothing it computes: ic_resnet8 cut to
  the stepwise prune's 5.3K counts, widened in its two deepest groups,
  gives the very output bytes it gave before (pexc and TFLM alike), with
  more MACs and a min-sram peak still within 5,300 bytes: the room the
  stepwise prune left unused.
- Cutting the original model to the committed 5.3K file's counts gives
  its peak again.
- A count list of the wrong length, or a zero count: one line, exit 1."""
import os

import numpy as np

from test_prune import RESNET, check_pruned_matches_tflm, cifar_batch, peak, pexc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PRUNED = os.path.join(ROOT, "examples", "pruned", "ic_resnet8_5.3K.tflite")
STEPWISE = [8, 7, 16, 9, 49, 30]  # the magnitude search's counts at 5,300 bytes


def widths_line(r):
    line = [l for l in r.stdout.splitlines() if l.startswith("widths:")]
    assert r.returncode == 0 and len(line) == 1, r.stderr + r.stdout
    f = line[0].split()
    return int(f[2]), int(f[4])  # peak, MACs


def groups(model):
    r = pexc("prune", model, "--groups")
    assert r.returncode == 0, r.stderr
    return [int(l.split()[1]) for l in r.stdout.splitlines()[2:]]


def test_widening_keeps_the_outputs(tmp_path):
    """The stepwise prune's counts (the committed 5.3K file before it was
    widened), cut from the original, then widened in the two groups the
    peak no longer holds."""
    narrow = tmp_path / "narrow.tflite"
    _, macs0 = widths_line(pexc("prune", RESNET, "--widths", ",".join(map(str, STEPWISE)), "-o", narrow))
    wide = list(STEPWISE)
    wide[4], wide[5] = STEPWISE[4] + 15, STEPWISE[5] + 32
    out = tmp_path / "wide.tflite"
    p, macs = widths_line(pexc("prune", narrow, "--widths", ",".join(map(str, wide)), "-o", out))
    assert groups(out) == wide
    assert p == peak(out) <= 5300
    x = cifar_batch(40)
    assert np.array_equal(check_pruned_matches_tflm(out, tmp_path, x), check_pruned_matches_tflm(narrow, tmp_path, x))
    assert macs > 1.4 * macs0


def test_cut_to_the_stepwise_counts(tmp_path):
    counts = groups(PRUNED)
    out = tmp_path / "cut.tflite"
    p, _ = widths_line(pexc("prune", RESNET, "--widths", ",".join(map(str, counts)), "-o", out))
    assert groups(out) == counts and p == peak(PRUNED)


def test_bad_widths(tmp_path):
    out = tmp_path / "o.tflite"
    for w, words in [("8,7,16", ["names 3 groups", "has 6"]), ("8,7,16,9,0,30", ["--widths"])]:
        r = pexc("prune", RESNET, "--widths", w, "-o", out)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        assert r.returncode in (1, 2) and len(lines) == 1, r.stderr
        for word in words:
            assert word in lines[0], (word, lines[0])
        assert not out.exists()
