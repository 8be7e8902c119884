"""TFLM's audio front end (micro_speech_preproc_int8) against TFLM.

- Every golden output of the model in ../shared/models/golden (the
  deterministic input and the yes/no 30 ms windows of micro_speech_test.cc,
  each one Invoke() of a fresh TFLM interpreter) must equal `pexc run` byte
  for byte under `--schedule baseline` and `--schedule min-sram`: the front
  end's signal-library operators (window, FFT auto-scale, int16 real FFT,
  energy, filter bank, square root, spectral subtraction, PCAN, log) and
  the integer builtins around them, end to end. The operators one by one
  are in test_ops_audio.py.
- The spectral subtraction's noise estimate carried across runs: a stream
  of windows (a real clip, then full-scale noise, extremes, silence, quiet
  noise) through `pexc run --keep-state` must give, window by window, the
  bytes of one TFLM interpreter invoked without Reset(), under both
  schedules, for the front end and for the single-operator models of
  tests/models/audio (with and without clamping, each output, both
  outputs at once); pexc's reset must bring back the first window's bytes;
  the generated C (host build, both schedules) must do the same through
  NAME_reset().
- Refusals of a spectral subtraction TFLM's Prepare would refuse.
- tools/kws_audio_demo.py's stateful pipeline on six kws01 clips: the
  same features and scores as TFLM's.
"""

import os
import subprocess

import numpy as np
import pytest

import pexc_harness as H

MODEL = "micro_speech_preproc_int8"

SCHEDULES = ["baseline", "min-sram"]
AUDIO_DIR = os.path.join(H.ROOT, "tests", "models", "audio")
SUBTRACT = ["subtract_preproc_out0", "subtract_preproc_out1", "subtract_clamping_out0", "subtract_clamping_out1"]
CLIPS = os.path.join(H.SHARED, "data", "mlperf_tiny", "kws01_td_samples")
WINDOW, STRIDE = 480, 320

pytestmark = pytest.mark.skipif(not H.pexc_available(), reason="%s is not built" % H.PEXC)
shared = pytest.mark.skipif(not H.have_shared(), reason="../shared is missing")


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


@shared
def test_golden_outputs_present():
    labels = [c[0] for c in _golden()]
    assert {"det", "yes_30ms", "no_30ms"} <= set(labels), labels


@shared
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_preproc_matches_golden(schedule):
    cases = _golden()
    # the deterministic input is pexc's own (no --input); the others go in one batch
    got = H.run_pexc(H.shared_model(MODEL), [d for _, d, _ in cases], len(cases[0][2]), schedule)
    for (label, _, want), have in zip(cases, got):
        why = H.describe_mismatch(want, have, "i1")
        assert why is None, "%s.%s [%s] vs golden: %s" % (MODEL, label, schedule, why)


# ---- the noise estimate carried across runs -----------------------------------

def _ref(path):
    if not H.tflm_ref.available():
        pytest.skip("tflite-micro is not importable")
    return H.tflm_ref.TflmModel(path, reset_between=False)


def _window_stream():
    """[bytes]: 30 ms windows as one stream: the 49 of the first kws01 "yes"
    clip, then what moves the estimate most: full-scale noise and extremes
    (it climbs), silence (it stays above the signal while it decays), quiet
    noise."""
    if not os.path.isdir(CLIPS):
        pytest.skip("%s is missing" % CLIPS)
    name = sorted(f for f in os.listdir(CLIPS) if "_Yes_" in f)[0]
    clip = np.fromfile(os.path.join(CLIPS, name), dtype="<i2")
    ws = [clip[k * STRIDE:k * STRIDE + WINDOW] for k in range((clip.size - WINDOW) // STRIDE + 1)]
    rng = np.random.default_rng(13)
    ws += [rng.integers(-32768, 32768, size=WINDOW) for _ in range(3)]
    ws += [np.full(WINDOW, 32767), np.tile([32767, -32768], WINDOW // 2)]
    ws += [np.zeros(WINDOW, dtype=np.int64)] * 5
    ws += [rng.integers(-300, 301, size=WINDOW) for _ in range(3)]
    return [np.asarray(w).astype("<i2").tobytes() for w in ws]


def _channel_stream(n=40):
    """[bytes]: uint32 [n] filter-bank energies as one stream, every
    magnitude, then silence after the loudest input and quiet again."""
    rng = np.random.default_rng(29)
    xs = [np.floor(2.0 ** rng.uniform(0, 32, size=n)) for _ in range(4)]
    xs += [rng.integers(0, 1 << 32, size=n, dtype=np.uint64), np.full(n, (1 << 32) - 1)]
    xs += [np.zeros(n)] * 3
    xs += [rng.integers(0, 4096, size=n) for _ in range(3)]
    return [np.asarray(x).astype(np.uint64).astype("<u4").tobytes() for x in xs]


def _check_stream(path, stream, ref, schedule):
    want = [ref.run(d) for d in stream]
    got = H.run_pexc(path, stream, ref.output_nbytes, schedule, extra=["--keep-state"])
    for k, (w, g) in enumerate(zip(want, got)):
        why = H.describe_mismatch(w, g, ref.output_dtype)
        assert why is None, "%s %s run %d: differs from TFLM invoked without Reset(): %s" % (
            os.path.basename(path), schedule, k, why)
    return want


@shared
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_preproc_state_carries_across_windows(schedule):
    path = H.shared_model(MODEL)
    stream = _window_stream()
    want = _check_stream(path, stream, _ref(path), schedule)
    # the state matters: a reset before each window gives other features
    fresh = H.run_pexc(path, stream, len(want[0]), schedule)
    assert sum(f != w for f, w in zip(fresh, want)) > len(stream) // 2


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("model", SUBTRACT)
def test_subtraction_state_carries_across_runs(model, schedule):
    path = os.path.join(AUDIO_DIR, model + ".tflite")
    stream = _channel_stream()
    want = _check_stream(path, stream, _ref(path), schedule)
    if "preproc" in model:
        # the clamping settings smooth by more than 1 (20000 / 2^14), so
        # their estimate is clamped to the signal on almost every input
        fresh = H.run_pexc(path, stream, len(want[0]), schedule)
        assert fresh != want, "the noise estimate should change %s's outputs" % model


@shared
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_preproc_reset_gives_first_window_again(schedule):
    """`pexc run` resets before every input (pexc_model_reset): after a
    window that moved the estimate, the first window gives its bytes of a
    fresh TFLM interpreter again."""
    path = H.shared_model(MODEL)
    stream = _window_stream()
    ref = H.tflm_ref.TflmModel(path)
    first = ref.run(stream[0])
    loud = len(stream) - 11  # full-scale noise: the estimate is far from zero
    got = H.run_pexc(path, [stream[0], stream[loud], stream[0]], len(first), schedule)
    assert got[0] == first and got[2] == first
    assert got[1] == ref.run(stream[loud])


# ---- generated C ---------------------------------------------------------------

# The inputs of argv[2] as one stream of argv[1] runs, m_reset() before run
# number argv[3] (none when it is past the end), every output to argv[4].
STREAM_DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include "m.h"
int main(int argc, char **argv) {
    static unsigned char in[M_INPUT0_BYTES], out[M_OUTPUT0_BYTES];
    if (argc != 5) return 1;
    long runs = atol(argv[1]), reset_at = atol(argv[3]);
    FILE *fi = fopen(argv[2], "rb"), *fo = fopen(argv[4], "wb");
    if (!fi || !fo) return 1;
    for (long r = 0; r < runs; r++) {
        if (r == reset_at) m_reset();
        if (fread(in, 1, sizeof in, fi) != sizeof in) return 1;
        if (m_run(in, out)) return 2;
        if (fwrite(out, 1, sizeof out, fo) != sizeof out) return 1;
    }
    return fclose(fo) != 0;
}
"""


def _generated_stream(path, schedule, stream, reset_at, tmp_path):
    """The outputs of the generated C (host build, -Werror) of path over
    stream, m_reset() before run reset_at."""
    gen = tmp_path / ("gen_" + schedule)
    r = subprocess.run([H.PEXC, "compile", path, "-o", str(gen), "--name", "m", "--schedule", schedule],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert r.returncode == 0, r.stderr.decode()
    assert "#define M_HAS_STATE 1" in (gen / "m.h").read_text()
    (tmp_path / "driver.c").write_text(STREAM_DRIVER)
    exe = str(tmp_path / ("run_" + schedule))
    srcs = sorted(str(gen / f) for f in os.listdir(gen) if f.endswith(".c"))
    r = H.cc_build(["gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off",
                    "-I" + str(gen), str(tmp_path / "driver.c")] + srcs + ["-o", exe, "-lm"])
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    inp, res = tmp_path / "in.bin", tmp_path / "out.bin"
    inp.write_bytes(b"".join(stream))
    r = subprocess.run([exe, str(len(stream)), str(inp), str(reset_at), str(res)], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE)
    assert r.returncode == 0, r.stderr.decode()
    got = res.read_bytes()
    n = len(got) // len(stream)
    return [got[k * n:(k + 1) * n] for k in range(len(stream))]


def _check_generated(path, stream, schedule, tmp_path):
    """The stream twice, reset between: TFLM's interpreter, Reset() between."""
    ref = _ref(path)
    want = [ref.run(d) for d in stream]
    ref.reset()
    want += [ref.run(d) for d in stream]
    got = _generated_stream(path, schedule, stream + stream, len(stream), tmp_path)
    for k, (w, g) in enumerate(zip(want, got)):
        why = H.describe_mismatch(w, g, ref.output_dtype)
        assert why is None, "generated C of %s (%s), run %d: %s" % (os.path.basename(path), schedule, k, why)


@shared
@pytest.mark.parametrize("schedule", SCHEDULES)
def test_generated_c_carries_and_resets_state(schedule, tmp_path):
    _check_generated(H.shared_model(MODEL), _window_stream(), schedule, tmp_path)


@pytest.mark.parametrize("model", ["subtract_clamping_out0", "subtract_clamping_out1"])
def test_generated_c_subtraction_state(model, tmp_path):
    _check_generated(os.path.join(AUDIO_DIR, model + ".tflite"), _channel_stream(), "min-sram", tmp_path)


# ---- refusals -------------------------------------------------------------------

def _patched_subtract(edit, tmp_path):
    return H.patched_model(os.path.join(AUDIO_DIR, "subtract_preproc_out0.tflite"), edit,
                           tmp_path / "subtract_patched.tflite")


def test_refuses_second_input(tmp_path):
    def edit(m):
        op = m.subgraphs[0].operators[0]
        op.inputs = list(op.inputs) + [op.inputs[0]]
    line = H.refusal_line(_patched_subtract(edit, tmp_path))
    assert "SignalFilterBankSpectralSubtraction" in line and "2 inputs" in line, line


def test_refuses_absent_input(tmp_path):
    def edit(m):
        m.subgraphs[0].operators[0].inputs = [-1]
    line = H.refusal_line(_patched_subtract(edit, tmp_path))
    assert "SignalFilterBankSpectralSubtraction" in line and "absent" in line, line


def test_refuses_absent_estimate_output(tmp_path):
    def edit(m):
        op = m.subgraphs[0].operators[0]
        op.outputs = [op.outputs[0], -1]
    line = H.refusal_line(_patched_subtract(edit, tmp_path))
    assert "output 0 is -1" in line, line


@pytest.mark.parametrize("schedule", SCHEDULES)
def test_both_outputs_carry_state(schedule, tmp_path):
    """Both outputs of the operator graph outputs: `pexc run --keep-state`
    writes both, run by run, as TFLM's interpreter without Reset()."""
    def edit(m):
        m.subgraphs[0].outputs = list(m.subgraphs[0].operators[0].outputs)
    path = _patched_subtract(edit, tmp_path)
    ref = _ref(path)
    stream = _channel_stream()
    want = [ref.run_io([d], 2) for d in stream]
    inp, outs = tmp_path / "in.bin", [tmp_path / "out0.bin", tmp_path / "out1.bin"]
    inp.write_bytes(b"".join(stream))
    r = subprocess.run([H.PEXC, "run", path, "--input", str(inp), "--output", str(outs[0]), "--output",
                        str(outs[1]), "--batch", str(len(stream)), "--schedule", schedule, "--keep-state"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert r.returncode == 0, r.stderr.decode()
    for o in range(2):
        got = outs[o].read_bytes()
        n = len(got) // len(stream)
        for k, w in enumerate(want):
            assert got[k * n:(k + 1) * n] == w[o], "output %d, run %d differs from TFLM without Reset()" % (o, k)


# ---- the keyword demo ------------------------------------------------------------

@shared
def test_kws_demo_stateful_pipeline_matches_tflm(capsys):
    """tools/kws_audio_demo.py: the front end carried across each clip's
    windows and the keyword model, clip for clip the bytes of TFLM's
    stateful pipeline (its exit status says so)."""
    import sys
    sys.path.insert(0, os.path.join(H.ROOT, "tools"))
    import kws_audio_demo
    if not os.path.isdir(kws_audio_demo.CLIPS):
        pytest.skip("%s is missing" % kws_audio_demo.CLIPS)
    assert kws_audio_demo.main(["--limit", "6", "--tflm"]) == 0
    assert "6 of 6 clips' features and 6 of 6 score vectors identical" in capsys.readouterr().out
