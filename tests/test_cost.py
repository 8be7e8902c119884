"""The scheduler's cost model and the default-schedule rule (issue 14).

tests/models/cost/conv1d_timeseries.tflite (tools/gen_models_cost.py) is a
small Keras Conv1D stack, converter-made, whose least-peak plan cuts its
128-channel layer into 128 one-channel slices. Checked:

  - the default schedule's predicted instructions are within 1.015x the
    baseline's (the rule's limit: 1.05x measured less the fit's error),
    while min-sram's are over 1.05x, and the default still saves SRAM
    (its peak lies between min-sram's and the baseline's);
  - `--schedule min-sram` keeps the absolute minimum (the same peak the
    default reports as min-sram's), `--sram B` fits B at the default's cost;
  - every schedule gives TFLM's bytes;
  - on the emulated Cortex-M4 (when installed): the measured instructions
    of the default are within 1.05x the baseline's, and the cost model's
    prediction of each schedule is within 10 % of the measured count.
"""
import os
import re
import shutil
import subprocess

import pytest

import pexc_harness as H

MODEL = os.path.join(H.ROOT, "tests", "models", "cost", "conv1d_timeseries.tflite")
MCU_RUN = os.path.join(H.SHARED, "mcu", "mcu-run")
MCU_MAIN = os.path.join(H.ROOT, "tests", "codegen", "mcu_main.c")

# src/internal.h's SCHED_DEFAULT_SLOWDOWN: the rule's limit on the prediction
LIMIT = 1.015

pytestmark = pytest.mark.skipif(not H.pexc_available(), reason="needs build/pexc")

have_m4 = (os.access(MCU_RUN, os.X_OK) and shutil.which("arm-none-eabi-gcc") is not None
           and shutil.which("qemu-system-arm") is not None)


def inspect(*args):
    r = subprocess.run([H.PEXC, "inspect", MODEL] + list(args), capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout.decode()


def inspect_json(*args):
    import json
    return json.loads(inspect("--json", *args))


def test_default_is_within_5_percent_of_baseline_and_saves_sram():
    d = inspect_json()
    assert d["schedule"] == "default"
    base = d["baseline_predicted_instructions"]
    assert d["predicted_instructions"] <= LIMIT * base
    assert d["default"]["predicted_instructions"] == d["predicted_instructions"]
    assert d["default"]["peak_sram_bytes"] == d["peak_sram_bytes"]
    # the rule matters here: the least peak costs more than 5 % over
    assert d["min_sram"]["predicted_instructions"] > 1.05 * base
    assert d["min_sram"]["peak_sram_bytes"] < d["peak_sram_bytes"] < d["baseline_peak_sram_bytes"]


def test_min_sram_keeps_the_least_peak():
    m = inspect_json("--schedule", "min-sram")
    d = inspect_json()
    assert m["schedule"] == "min-sram"
    assert m["peak_sram_bytes"] == d["min_sram"]["peak_sram_bytes"]
    # the least peak: 128 one-channel slices of the 128-channel layer
    assert m["peak_sram_bytes"] == 12416
    assert {"first_op": 2, "last_op": 3, "slices": 128, "row_fraction": 1} in m["segments"]
    assert m["baseline_peak_sram_bytes"] == 24576


def test_inspect_prints_the_trade():
    d = inspect_json()
    text = inspect()
    want = "default: {:,} B at {:.2f}x baseline instructions (predicted); min-sram: {:,} B at {:.2f}x".format(
        d["peak_sram_bytes"], d["predicted_instructions"] / d["baseline_predicted_instructions"],
        d["min_sram"]["peak_sram_bytes"],
        d["min_sram"]["predicted_instructions"] / d["baseline_predicted_instructions"])
    assert want in text.splitlines(), text[-600:]


def test_sram_budget_takes_a_cheap_plan_that_fits():
    d = inspect_json()
    b = inspect_json("--sram", str(d["peak_sram_bytes"]))
    assert b["peak_sram_bytes"] <= d["peak_sram_bytes"]
    assert b["predicted_instructions"] <= LIMIT * b["baseline_predicted_instructions"]
    # a budget at the least peak forces min-sram's plan
    m = inspect_json("--sram", str(d["min_sram"]["peak_sram_bytes"]))
    assert m["peak_sram_bytes"] == d["min_sram"]["peak_sram_bytes"]


def test_every_schedule_gives_tflm_bytes():
    ref = H.tflm_ref.TflmModel(MODEL)
    items = H.conformance_inputs(ref, n_random=3, model_name="conv1d_timeseries")
    H.check_matches_tflm(MODEL, ref, items, "conv1d_timeseries", schedules=("baseline", "default", "min-sram"))


def test_unknown_schedule_is_refused_in_one_line():
    r = subprocess.run([H.PEXC, "inspect", MODEL, "--schedule", "fastest"], capture_output=True, timeout=60)
    assert r.returncode == 2
    err = r.stderr.decode().strip()
    assert len(err.splitlines()) == 1 and "fastest" in err and "default" in err, err


def m4_instructions(tmp_path, schedule):
    gen = tmp_path / schedule
    r = subprocess.run([H.PEXC, "compile", MODEL, "--schedule", schedule, "--target", "cortex-m4", "-o", str(gen),
                        "--name", "m"], capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    ref = H.tflm_ref.TflmModel(MODEL)
    data = H.conformance_inputs(ref, n_random=1, model_name="conv1d_timeseries")[-1][1]
    src = tmp_path / ("input_%s.c" % schedule)
    src.write_text("#include <stdint.h>\nconst uint8_t pexc_test_input[%d] __attribute__((aligned(16))) = {\n%s\n};\n"
                   % (len(data), ",".join(str(b) for b in data)))
    counts = tmp_path / ("counts_%s.txt" % schedule)
    srcs = sorted(str(p) for p in gen.iterdir() if p.suffix == ".c")
    r = subprocess.run([MCU_RUN, "-q", "-t", "300", "--count", "--count-out", str(counts), "--heap", "0",
                        "mps2-an386", MCU_MAIN, str(src)] + srcs +
                       ["-I" + str(gen), "-DPEXC_MODEL=m", "-DPEXC_MACRO=M", "-ffp-contract=off"],
                       capture_output=True, timeout=600)
    assert r.returncode == 0, r.stderr.decode()[-2000:]
    got = bytes.fromhex(re.search(r"^out ([0-9a-f]*)$", r.stdout.decode(), re.M).group(1))
    assert got == ref.run(data)
    kv = dict(ln.split("=", 1) for ln in counts.read_text().split() if "=" in ln)
    return int(kv["region.1"])


@pytest.mark.skipif(not have_m4, reason="arm-none-eabi-gcc / qemu-system-arm not installed")
def test_m4_default_is_fast_and_predictions_hold(tmp_path):
    meas = {s: m4_instructions(tmp_path, s) for s in ("baseline", "default", "min-sram")}
    assert meas["default"] <= 1.05 * meas["baseline"], meas
    # the slices really are slower: what the rule protects users from
    assert meas["min-sram"] > 1.2 * meas["baseline"], meas
    for s, n in meas.items():
        pred = inspect_json("--schedule", s)["predicted_instructions"]
        assert abs(pred / n - 1) <= 0.10, (s, pred, n)


@pytest.mark.skipif(not os.path.exists(os.path.join(H.ROOT, "build", "libpexc.so")), reason="make pylib")
def test_python_default_is_the_clis():
    import sys
    H.skip_unless_binding_loadable()
    sys.path.insert(0, os.path.join(H.ROOT, "python"))
    import pexc
    d = inspect_json()
    it = pexc.Interpreter(MODEL)
    assert (it.schedule, it.peak_sram_bytes) == ("default", d["peak_sram_bytes"])
    it = pexc.Interpreter(MODEL, schedule="min-sram")
    assert (it.schedule, it.peak_sram_bytes) == ("min-sram", d["min_sram"]["peak_sram_bytes"])


KWS = os.path.join(H.SHARED, "models", "kws_ds_cnn_int8.tflite")


@pytest.mark.skipif(not os.path.exists(KWS), reason="../shared/models missing")
def test_features_see_pool_windows_and_gathered_first_layers():
    """kws's global average pool reads a 25x5 window per output value, and
    its first layer (10x4 window over one input channel) takes the gathered
    path in four-unit blocks: the cost classes and features say so."""
    import json
    r = subprocess.run([H.PEXC, "inspect", KWS, "--json", "--schedule", "baseline"], capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    ops = json.loads(r.stdout)["ops"]
    first = ops[0]
    assert first["type"] == "CONV_2D" and first["cost_class"][2] == "gather_blocks"
    # window copies: 125 output pixels x 40 window values; the MACs go to
    # the gathered term, not the general one
    assert first["cost_features"][8] == 125 * 40
    assert first["cost_features"][9] == first["macs"] and first["cost_features"][3] == 0
    pool = next(o for o in ops if o["type"] == "AVERAGE_POOL_2D")
    assert pool["cost_features"][8] == 25 * 5 * 64
    assert [o["cost_class"][2] for o in ops if o["type"] == "DEPTHWISE_CONV_2D"] == ["3x3"] * 4


@pytest.mark.skipif(not have_m4 or not os.path.exists(KWS), reason="needs the emulated Cortex-M4 and ../shared")
def test_m4_kws_steps_predicted_within_10_percent():
    """Step by step on the emulated Cortex-M4 (tools/fit_cost.py's count
    regions, the model's deterministic input): the global average pool (136K
    instructions, once predicted as 14K) and the gathered first layer (once
    +27 %) are each predicted within 10 %, and so is the whole plan."""
    import sys
    import tempfile
    sys.path.insert(0, os.path.join(H.ROOT, "tools"))
    import fit_cost
    import json
    how = ["--schedule", "baseline"]
    work = tempfile.mkdtemp(prefix="pexc-test-cost-")
    try:
        steps = fit_cost.measure("kws_ds_cnn_int8", KWS, how, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    assert not isinstance(steps, str), steps
    r = subprocess.run([H.PEXC, "inspect", KWS, "--json"] + how, capture_output=True, timeout=120)
    ops = json.loads(r.stdout)["ops"]
    assert len(ops) == len(steps)
    for op, (_, _, meas) in zip(ops, steps):
        if op["type"] == "AVERAGE_POOL_2D" or op["step"] == 0:
            assert abs(op["predicted_instructions"] / meas - 1) <= 0.10, (op["type"], op["predicted_instructions"], meas)
    total = sum(y for _, _, y in steps)
    assert abs(sum(op["predicted_instructions"] for op in ops) / total - 1) <= 0.10
