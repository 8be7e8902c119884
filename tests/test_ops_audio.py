"""pexc against TFLite Micro on the audio front-end models of tests/models/audio.

The models (tools/gen_models_audio.py, described by MANIFEST.json) hold one
TFLM signal-library operator each, or the integer builtins the front end
uses around them (converter-made). For each model TFLM runs ("tflm": "ok"),
under `--schedule baseline` and `--schedule min-sram`, `pexc run --batch`
must give TFLM's output bytes exactly on random inputs over the whole range
of the input type, on log-uniform ones (every magnitude: FFT scaling,
square roots and logs of every size), small ones, zeros and the extremes.
TFLM runs each input on a freshly reset interpreter, which is what pexc
computes (the spectral subtraction's noise estimate starts at zero).

Models TFLM would misbehave on ("tflm": "refuse": an out-of-range shift or
index, an FFT radix TFLM's kissfft cannot do) must be refused: exit status
1, one line naming the operator. The front end itself
(micro_speech_preproc_int8) is checked against its golden outputs in
test_golden.py and test_codegen.py.

Generated C: one model per kernel is compiled with `pexc compile`, built
with gcc -std=c11 -Wall -Wextra -Werror with the runtime files pexc copies,
and must give `pexc run`'s bytes.
"""

import os
import subprocess
import zlib

import numpy as np
import pytest

import pexc_harness as H

AUDIO_DIR = os.path.join(H.ROOT, "tests", "models", "audio")
SCHEDULES = ["baseline", "min-sram"]
HOST_MAIN = os.path.join(H.ROOT, "tests", "codegen", "host_main.c")


MODELS = H.manifest_models(AUDIO_DIR)
OK = [m for m in MODELS if m["tflm"] == "ok"]
REFUSE = [m for m in MODELS if m["tflm"] == "refuse"]


def _path(m):
    return os.path.join(AUDIO_DIR, m["name"] + ".tflite")


def audio_inputs(dtype, n, name):
    """[(label, bytes)] over the type's whole range and every magnitude."""
    rng = np.random.default_rng([7, zlib.crc32(name.encode())])
    dt = np.dtype(dtype)
    items = []
    if dt == np.int16:
        for k in range(3):
            items.append(("random%d" % k, rng.integers(-32768, 32768, size=n)))
        items.append(("small", rng.integers(-200, 201, size=n)))
        items.append(("min", np.full(n, -32768)))
        items.append(("max", np.full(n, 32767)))
    else:
        bits = dt.itemsize * 8
        top = (1 << bits) - 1
        items.append(("random", rng.integers(0, top, size=n, dtype=dt, endpoint=True)))
        for k in range(2):
            mag = np.floor(2.0 ** rng.uniform(0, bits, size=n))
            items.append(("logspread%d" % k, np.minimum(mag, float(top)).astype(np.float64)))
        items.append(("small", rng.integers(0, 4096, size=n)))
        items.append(("max", np.full(n, top, dtype=dt)))
    items.append(("zeros", np.zeros(n)))
    out = []
    for label, x in items:
        if dt.itemsize == 8:
            a = np.array([int(v) for v in x], dtype=np.uint64)
        else:
            a = np.asarray(x).astype(np.int64).astype(dt)
        out.append((label, a.astype(dt.newbyteorder("<")).tobytes()))
    return out


_REFS = {}


def _reference(m):
    if m["name"] not in _REFS:
        ref = H.tflm_ref.TflmModel(_path(m))
        inputs = audio_inputs(ref.input_dtype, ref.input_count, m["name"])
        _REFS[m["name"]] = (ref, inputs, [ref.run(d) for _, d in inputs])
    return _REFS[m["name"]]


def test_manifest_present():
    assert MODELS, "tests/models/audio/MANIFEST.json is missing: run tools/gen_models_audio.py"


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("m", OK, ids=[m["name"] for m in OK])
def test_audio_model_matches_tflm(m, schedule):
    if not H.pexc_available():
        pytest.skip("%s is not built" % H.PEXC)
    if not H.tflm_ref.available():
        pytest.skip("tflite-micro is not installed")
    ref, inputs, want = _reference(m)
    got = H.run_pexc(_path(m), [d for _, d in inputs], ref.output_nbytes, schedule)
    why = H.mismatch_report(m["name"], schedule, _path(m), inputs, want, got,
                            ref.output_dtype.newbyteorder("<"))
    assert why is None, why


@pytest.mark.parametrize("m", REFUSE, ids=[m["name"] for m in REFUSE])
def test_audio_model_refused(m):
    if not H.pexc_available():
        pytest.skip("%s is not built" % H.PEXC)
    cmd, rc, out, err = H._call(["run", _path(m), "--output", os.devnull], timeout=60)
    assert rc == 1, "%s (%s): expected exit status 1, got %d: %s" % (m["name"], m["note"], rc, err)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, "%s: expected a one-line error, got:\n%s" % (m["name"], err)
    assert "operator 0 (Signal" in lines[0], "%s: error does not name the operator: %s" % (m["name"], lines[0])


# one model per runtime kernel
CODEGEN = ["window_2x64_shift12", "auto_scale_64_out1", "rfft_60_2frames", "energy_band_5_20",
           "filter_bank_neg_8", "sqrt_40_shift3", "subtract_clamping_out0", "pcan_40_shift6",
           "log_40_bits3_scale64", "int32_bcast", "slice_int32_rank3"]


@pytest.mark.parametrize("name", CODEGEN)
def test_audio_generated_c(name, tmp_path):
    if not H.pexc_available():
        pytest.skip("%s is not built" % H.PEXC)
    m = next(x for x in MODELS if x["name"] == name)
    d = tmp_path / "gen"
    r = subprocess.run([H.PEXC, "compile", _path(m), "-o", str(d), "--name", "m"], capture_output=True)
    assert r.returncode == 0, r.stderr.decode()
    srcs = sorted(str(p) for p in d.iterdir() if p.suffix == ".c")
    exe = str(tmp_path / "m")
    r = H.cc_build(["gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-DPEXC_MODEL=m", "-DPEXC_MACRO=M",
                    "-I" + str(d), HOST_MAIN] + srcs + ["-o", exe])
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    ref, inputs, _ = _reference(m)
    label, data = inputs[0]
    inp, out = str(tmp_path / "in.bin"), str(tmp_path / "out.bin")
    with open(inp, "wb") as f:
        f.write(data)
    r = subprocess.run([exe, inp, out], capture_output=True)
    assert r.returncode == 0, "generated code failed (exit %d): %s" % (r.returncode, r.stderr.decode())
    with open(out, "rb") as f:
        got = f.read()
    want = H.run_pexc(_path(m), [data], ref.output_nbytes, "min-sram")[0]
    assert got == want, "%s: generated C differs from pexc run on input %s" % (name, label)
