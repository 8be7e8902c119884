"""pexc against TFLite Micro on the int16x8 models of tests/models/int16.

The models (tools/gen_models_int16.py, described by MANIFEST.json) have
16-bit activations and 8-bit weights. For each one, under `--schedule
baseline` and `--schedule min-sram`:

- TFLM runs it (manifest "tflm": "ok"): one `pexc run --batch` on 3 seeded
  random inputs, all -32768, all 32767 and all 0 (float inputs: random
  only) must give TFLM's output bytes exactly.
- TFLM refuses it: pexc must refuse it too (exit status 1, one line naming
  the operator, no output).

Then a few models covering every int16 kernel are compiled with `pexc
compile` and the generated C, with the runtime files it copied, is built
by gcc -std=c11 -Wall -Wextra -Werror around tests/codegen/host_main.c and
must give TFLM's output too.
"""

import json
import os
import subprocess
import tempfile

import numpy as np
import pytest

import pexc_harness as H

DIR = os.path.join(H.ROOT, "tests", "models", "int16")
SCHEDULES = ["baseline", "min-sram"]
HOST_MAIN = os.path.join(H.ROOT, "tests", "codegen", "host_main.c")
# together these call every int16 kernel
CODEGEN = ["cnn", "audio_kws", "sub_branches", "mul_broadcast", "tanh", "logistic", "concat_requant",
           "float_io", "pad_hw", "sum_c"]


def _models():
    path = os.path.join(DIR, "MANIFEST.json")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return json.load(f)["models"]


MODELS = _models()
_REF = {}


def _reference(m):
    """(TflmModel, [(label, input bytes)], [TFLM output bytes])."""
    if m["name"] not in _REF:
        ref = H.tflm_ref.TflmModel(os.path.join(DIR, m["file"]))
        items = H.conformance_inputs(ref, n_random=3, model_name=m["name"])
        if ref.input_dtype == np.int16:
            for label, v in (("all-32768", -32768), ("all32767", 32767), ("zero", 0)):
                items.append((label, np.full(ref.input_count, v, np.int16).tobytes()))
        _REF[m["name"]] = (ref, items, [ref.run(d) for _, d in items])
    return _REF[m["name"]]


def _run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=H.TIMEOUT)


pytestmark = pytest.mark.skipif(not H.pexc_available() or not H.tflm_ref.available(),
                                reason="needs build/pexc and tflite-micro")


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("m", [m for m in MODELS if m["tflm"] == "ok"], ids=lambda m: m["name"])
def test_matches_tflm(m, schedule):
    ref, items, want = _reference(m)
    path = os.path.join(DIR, m["file"])
    got = H.run_pexc(path, [d for _, d in items], ref.output_nbytes, schedule)
    msg = H.mismatch_report(m["name"], schedule, path, items, want, got, ref.output_dtype)
    assert msg is None, msg


@pytest.mark.parametrize("m", [m for m in MODELS if m["tflm"] != "ok"], ids=lambda m: m["name"])
def test_refused_like_tflm(m, tmp_path):
    out = tmp_path / "out.bin"
    r = _run([H.PEXC, "run", os.path.join(DIR, m["file"]), "--output", str(out)])
    lines = [ln for ln in r.stderr.decode().splitlines() if ln.strip()]
    assert r.returncode == 1 and len(lines) == 1 and "operator" in lines[0], (r.returncode, lines)
    assert not out.exists() or out.stat().st_size == 0


@pytest.mark.parametrize("name", CODEGEN)
def test_generated_c_builds_and_matches(name, tmp_path):
    m = next(x for x in MODELS if x["name"] == name)
    ref, items, want = _reference(m)
    d = tmp_path / "gen"
    r = _run([H.PEXC, "compile", os.path.join(DIR, m["file"]), "-o", str(d), "--name", "m",
              "--schedule", "min-sram"])
    assert r.returncode == 0, r.stderr.decode()
    srcs = sorted(str(p) for p in d.iterdir() if p.suffix == ".c")
    exe = str(tmp_path / "host")
    r = H.cc_build(["gcc", "-std=c11", "-O1", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off", "-DPEXC_MODEL=m",
                    "-DPEXC_MACRO=M", "-I" + str(d), HOST_MAIN] + srcs + ["-o", exe])
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    for (label, data), expect in list(zip(items, want))[:3]:
        with tempfile.TemporaryDirectory() as t:
            inp, outp = os.path.join(t, "in.bin"), os.path.join(t, "out.bin")
            with open(inp, "wb") as f:
                f.write(data)
            r = _run([exe, inp, outp])
            assert r.returncode == 0, r.stderr.decode()
            with open(outp, "rb") as f:
                got = f.read()
        why = H.describe_mismatch(expect, got, ref.output_dtype)
        assert why is None, "%s %s: generated C vs TFLM: %s" % (name, label, why)
