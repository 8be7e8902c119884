"""TFLM's audio front end (micro_speech_preproc_int8) against its golden outputs.

Every golden output of the model in ../shared/models/golden (the
deterministic input and the yes/no 30 ms windows of micro_speech_test.cc,
each one Invoke() of a fresh TFLM interpreter) must equal `pexc run` byte
for byte under `--schedule baseline` and `--schedule min-sram`: the front
end's signal-library operators (window, FFT auto-scale, int16 real FFT,
energy, filter bank, square root, spectral subtraction, PCAN, log) and the
integer builtins around them, end to end. The operators one by one are in
test_ops_audio.py.
"""

import os

import pytest

import pexc_harness as H

MODEL = "micro_speech_preproc_int8"

pytestmark = pytest.mark.skipif(not H.have_shared(), reason="../shared is missing")


def _golden():
    cases = []
    for fn in sorted(os.listdir(H.GOLDEN_DIR)) if H.have_shared() else []:
        if fn.startswith(MODEL + ".") and fn.endswith(".out"):
            label = fn[len(MODEL) + 1:-4]
            with open(os.path.join(H.GOLDEN_DIR, fn), "rb") as f:
                want = f.read()
            data = None
            if label != "det":
                with open(os.path.join(H.INPUTS_DIR, "%s.%s.bin" % (MODEL, label)), "rb") as f:
                    data = f.read()
            cases.append((label, data, want))
    return cases


def test_golden_outputs_present():
    labels = [c[0] for c in _golden()]
    assert {"det", "yes_30ms", "no_30ms"} <= set(labels), labels


@pytest.mark.parametrize("schedule", ["baseline", "min-sram"])
def test_preproc_matches_golden(schedule):
    if not H.pexc_available():
        pytest.skip("%s is not built" % H.PEXC)
    cases = _golden()
    # the deterministic input is pexc's own (no --input); the others go in one batch
    got = H.run_pexc(H.shared_model(MODEL), [d for _, d, _ in cases], len(cases[0][2]), schedule)
    for (label, _, want), have in zip(cases, got):
        why = H.describe_mismatch(want, have, "i1")
        assert why is None, "%s.%s [%s] vs golden: %s" % (MODEL, label, schedule, why)
