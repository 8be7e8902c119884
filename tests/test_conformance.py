"""pexc against TFLite Micro, live, byte for byte.

For every generated model (tests/models/gen/*.tflite, see
tools/gen_models.py) and every supported model in ../shared/models, TFLM
(through its Python interpreter, tools/tflm_ref.py) and `build/pexc run`
are given the same inputs -- 5 seeded random inputs, all -128 and all 127
for int8 inputs, the deterministic input and, for shared models, their
sample inputs -- and must produce identical output bytes.  Each model runs
under `--schedule baseline` and `--schedule min-sram`.

At the end a table of TFLM arena bytes beside pexc's peak_sram_bytes is
printed.  PEXC_CONFORMANCE_FULL=1 also feeds mobilenet_v2_int8 the full
random set (by default it gets one random input, its sample and det).
"""

import os

import pytest

import pexc_harness as H

SCHEDULES = ["baseline", "min-sram"]
FULL = os.environ.get("PEXC_CONFORMANCE_FULL") == "1"
SLOW_SHARED = {"mobilenet_v2_int8"}


def _models():
    items = []
    if os.path.isdir(H.GEN_DIR):
        for fn in sorted(os.listdir(H.GEN_DIR)):
            if fn.endswith(".tflite"):
                items.append(pytest.param(os.path.join(H.GEN_DIR, fn), "gen",
                                          id="gen/" + fn[:-7]))
    for name in H.SUPPORTED_SHARED:
        marks = [] if H.have_shared() else [pytest.mark.skip(reason="../shared is missing")]
        items.append(pytest.param(H.shared_model(name), "shared", id="shared/" + name,
                                  marks=marks))
    return items


_REF_CACHE = {}
_MEMORY = []


def _reference(model, origin):
    """(TflmModel, [(label, input bytes or None)], [TFLM output bytes]) per model."""
    if model in _REF_CACHE:
        return _REF_CACHE[model]
    name = os.path.basename(model)[:-7]
    ref = H.tflm_ref.TflmModel(model)
    n_random = 1 if (name in SLOW_SHARED and not FULL) else 5
    inputs = H.conformance_inputs(ref, n_random=n_random, model_name=name)
    if name in SLOW_SHARED and not FULL:
        inputs = inputs[:1]
    inputs.append(("det", ref.det_bytes()))
    if origin == "shared":
        for fn in sorted(os.listdir(H.INPUTS_DIR)):
            if fn.startswith(name + ".") and fn.endswith(".bin") and not fn.endswith(".det.bin"):
                with open(os.path.join(H.INPUTS_DIR, fn), "rb") as f:
                    inputs.append((fn[len(name) + 1:-4], f.read()))
    expected = [ref.run(data) for _, data in inputs]
    _REF_CACHE[model] = (ref, inputs, expected)
    return _REF_CACHE[model]


@pytest.fixture(scope="module", autouse=True)
def memory_table(request):
    yield
    if not _MEMORY:
        return
    lines = ["", "TFLM arena (recording allocator: total = head + tail; head = planned "
             "activations) vs pexc peak_sram_bytes",
             "| model | schedule | TFLM total | TFLM head | pexc peak_sram_bytes | pexc/TFLM head |",
             "|---|---|---:|---:|---:|---:|"]
    for model, sched, arena, peak in _MEMORY:
        head = arena.get("head")
        ratio = "%.2f" % (peak / head) if isinstance(peak, int) and head else "-"
        lines.append("| %s | %s | %s | %s | %s | %s |" % (
            model, sched, arena.get("total", "-"), head if head is not None else "-",
            peak if peak is not None else "-", ratio))
    tr = request.config.pluginmanager.getplugin("terminalreporter")
    if tr is not None:
        for line in lines:
            tr.write_line(line)
    else:
        print("\n".join(lines))


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("model,origin", _models())
def test_matches_tflm(model, origin, schedule):
    if not H.tflm_ref.available():
        pytest.skip("tflite-micro is not installed (sh tools/setup.sh)")
    name = os.path.basename(model)[:-7]
    ref, inputs, expected = _reference(model, origin)
    if not H.pexc_available():
        pytest.skip("%s is not built" % H.PEXC)
    datas = [d for _, d in inputs]
    try:
        got = H.run_pexc(model, datas, ref.output_nbytes, schedule=schedule)
    except H.ScheduleUnsupported as exc:
        pytest.skip(str(exc))
    except H.PexcError as exc:
        pytest.fail("%s [%s]: pexc failed: %s" % (name, schedule, exc), pytrace=False)

    peak = None
    try:
        peak = H.inspect_json(model, schedule).get("peak_sram_bytes")
    except (H.PexcError, OSError):
        pass
    _MEMORY.append((name, schedule, ref.arena_bytes, peak))

    msg = H.mismatch_report(name, schedule, model, inputs, expected, got, ref.output_dtype)
    if msg:
        pytest.fail(msg, pytrace=False)


def test_generated_manifest_is_current():
    """The generated models are the ones MANIFEST.json describes, and every
    claim recorded there (op present with the stated parameters) still holds
    when the flatbuffers are re-parsed."""
    import hashlib
    import json
    if not H.tflm_ref.available():
        pytest.skip("tflite-micro (flatbuffer schema) is not installed")
    with open(os.path.join(H.GEN_DIR, "MANIFEST.json")) as f:
        manifest = json.load(f)
    on_disk = sorted(fn for fn in os.listdir(H.GEN_DIR) if fn.endswith(".tflite"))
    assert on_disk == sorted(m["file"] for m in manifest["models"])
    assert manifest["all_claims_hold"] and not manifest["coverage_problems"]
    for m in manifest["models"]:
        path = os.path.join(H.GEN_DIR, m["file"])
        with open(path, "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == m["sha256"], m["file"]
        ops = H.gen_models.analyse(path)["ops"]
        for c in m["claims"]:
            assert H.gen_models.claim_holds(c["claim"], ops), (m["name"], c["claim"])
