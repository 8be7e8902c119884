"""The int8 table operators (src/ops/lut.c) against TFLite Micro.

Models: tests/models/lut/, made by tools/gen_models_lut.py. Each runs under
the baseline and min-sram schedules (one `pexc run --batch` per model and
schedule) on the conformance inputs plus a ramp through all 256 byte values,
and every output byte must equal TFLM's. Beyond that:

* rsqrt_domain (RSQRT whose input zero point is -100): inputs at or above
  the zero point match TFLM; one below it makes both TFLM and pexc fail.
* *_refused models: TFLM's Prepare refuses them, so must pexc, in one line
  naming the operator.
* the C that `pexc compile` prints for one model per kernel (the streamed
  table, the checked whole-tensor table) builds with gcc -Werror together
  with the runtime files it copies, and gives TFLM's bytes.
"""

import os
import subprocess

import numpy as np
import pytest

import pexc_harness as H
import tflm_ref

LUT_DIR = os.path.join(H.ROOT, "tests", "models", "lut")
MODELS = sorted(fn[:-7] for fn in os.listdir(LUT_DIR) if fn.endswith(".tflite")) if os.path.isdir(LUT_DIR) else []
RUNNABLE = [m for m in MODELS if not m.endswith("_refused")]
REFUSED = [m for m in MODELS if m.endswith("_refused")]
SCHEDULES = ["baseline", "min-sram"]
HOST_MAIN = os.path.join(H.ROOT, "tests", "codegen", "host_main.c")
CFLAGS = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off"]

pytestmark = [
    pytest.mark.skipif(not H.pexc_available(), reason="pexc is not built"),
    pytest.mark.skipif(not tflm_ref.available(), reason="tflite-micro is not installed"),
]


def path(model):
    return os.path.join(LUT_DIR, model + ".tflite")


def domain_floor(model):
    """Smallest input byte the model's first operator accepts (RSQRT is
    undefined below its input zero point)."""
    info = H.gen_models.analyse(path(model))
    return info["input"]["zero_point"] if info["ops"][0]["op"] == "RSQRT" else -128


def inputs(ref, model):
    items = H.conformance_inputs(ref, model_name=model)
    ramp = (np.arange(ref.input_count) % 256 - 128).astype(np.int8)
    items.append(("ramp", ramp.tobytes()))
    lo = domain_floor(model)
    return [(label, np.maximum(np.frombuffer(d, np.int8), lo).astype(np.int8).tobytes()) for label, d in items]


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("model", RUNNABLE)
def test_matches_tflm(model, schedule):
    ref = tflm_ref.TflmModel(path(model))
    cases = inputs(ref, model)
    want = ref.run_many([d for _, d in cases])
    got = H.run_pexc(path(model), [d for _, d in cases], ref.output_nbytes, schedule)
    for (label, _), w, g in zip(cases, want, got):
        why = H.describe_mismatch(w, g, np.int8)
        assert why is None, "%s %s input %s: %s" % (model, schedule, label, why)


def test_rsqrt_outside_domain_fails_like_tflm(tmp_path):
    model = "rsqrt_domain"
    lo = domain_floor(model)
    assert lo > -128
    ref = tflm_ref.TflmModel(path(model))
    bad = np.full(ref.input_count, lo, np.int8)
    bad[100] = lo - 1
    with pytest.raises(Exception):
        ref.run(bad.tobytes())
    inp = tmp_path / "in.bin"
    inp.write_bytes(bad.tobytes())
    for schedule in SCHEDULES:
        r = subprocess.run([H.PEXC, "run", path(model), "--input", str(inp), "--output", str(tmp_path / "o.bin"),
                            "--schedule", schedule], capture_output=True, text=True, timeout=60)
        assert r.returncode == 1, "pexc ran RSQRT on an input below its domain (%s)" % schedule
        assert "RSQRT" in r.stderr and len(r.stderr.strip().splitlines()) == 1, r.stderr


@pytest.mark.parametrize("model", REFUSED)
def test_refused_like_tflm(model):
    with pytest.raises(Exception):
        tflm_ref.TflmModel(path(model)).run(None)
    r = subprocess.run([H.PEXC, "inspect", path(model)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1, "pexc accepted %s" % model
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "operator 0 (" in lines[0], r.stderr


# (model, schedule): a streamed K_LUT chain, a whole-tensor K_LUT, the checked
# K_GENERIC table
CODEGEN = [("tanh_chain", "min-sram"), ("elu", "baseline"), ("rsqrt_domain", "baseline")]


@pytest.mark.parametrize("model,schedule", CODEGEN)
def test_generated_c(model, schedule, tmp_path):
    d = tmp_path / "gen"
    r = subprocess.run([H.PEXC, "compile", path(model), "-o", str(d), "--name", "m", "--schedule", schedule],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    sources = sorted(str(p) for p in d.iterdir() if p.suffix == ".c")
    exe = str(tmp_path / "host")
    r = H.cc_build(["gcc"] + CFLAGS + ["-DPEXC_MODEL=m", "-DPEXC_MACRO=M", "-I" + str(d), HOST_MAIN] + sources + ["-o", exe],
                   text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-3000:]
    ref = tflm_ref.TflmModel(path(model))
    for label, data in inputs(ref, model)[-3:]:
        inp, out = tmp_path / "in.bin", tmp_path / "out.bin"
        inp.write_bytes(data)
        r = subprocess.run([exe, str(inp), str(out)], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, "%s: generated code failed: %s" % (label, r.stderr)
        why = H.describe_mismatch(ref.run(data), out.read_bytes(), np.int8)
        assert why is None, "%s %s input %s: generated C vs TFLM: %s" % (model, schedule, label, why)
