"""pexc against TFLite Micro on the operator models of tests/models/ops.

The models (tools/gen_ops_models.py, described by tests/models/ops/MANIFEST.json)
cover the int8 operators pexc is gaining.  For each one-input one-output
model, under `--schedule baseline` and `--schedule min-sram`:

- TFLM runs it (manifest "tflm": "ok") and it is not listed in
  tests/models/ops/EXPECTED_REFUSED.txt: `pexc run --batch` on 3 seeded
  random inputs, all -128, all 127 and the deterministic input must give
  TFLM's output bytes exactly.
- It is listed in EXPECTED_REFUSED.txt (pexc does not support it yet):
  pexc must refuse it -- exit status 1, one line on stderr naming an
  operator, no output -- never crash or produce output.  When an operator
  lands, its models start running and this test fails until they are taken
  off the list, after which they must match TFLM; the list only shrinks.
- TFLM refuses it (manifest "tflm" holds TFLM's error): pexc must refuse it
  too (exit status 1, one line, no output).

Models with several inputs or outputs (`multi_*`) run the same way, one
`--input` file per input tensor and one `--output` file per output tensor.

Regenerate the list after an operator lands (pexc built):

    .venv/bin/python tests/test_ops_conformance.py --write-expected
"""

import os
import subprocess
import sys
import tempfile

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pexc_harness as H  # noqa: E402

OPS_DIR = os.path.join(H.ROOT, "tests", "models", "ops")
EXPECTED_FILE = os.path.join(OPS_DIR, "EXPECTED_REFUSED.txt")
SCHEDULES = ["baseline", "min-sram"]
N_RANDOM = 3


MODELS = H.manifest_models(OPS_DIR)


def _expected_refused():
    if not os.path.exists(EXPECTED_FILE):
        return set()
    with open(EXPECTED_FILE) as f:
        return {ln.strip() for ln in f if ln.strip() and not ln.startswith("#")}


EXPECTED_REFUSED = _expected_refused()


def _single_io(m):
    return m["n_inputs"] == 1 and m["n_outputs"] == 1


# ---------------------------------------------------------------------------
# TFLM reference, shared by both schedules
# ---------------------------------------------------------------------------

_REF_CACHE = {}


def _input_sets(m):
    """[(label, [bytes of each input])]: seeded random inputs, the extremes
    (int8 inputs) and the deterministic input, for every input tensor."""
    rng = np.random.default_rng([1, sum(map(ord, m["name"]))])
    sets = []
    for k in range(N_RANDOM):
        one = []
        for t in m["inputs"]:
            dt, count = np.dtype(t["dtype"]), int(np.prod(t["shape"]))
            if dt.kind == "f":
                one.append(rng.uniform(-4, 4, size=count).astype(dt).tobytes())
            else:
                one.append(rng.integers(0, 256, size=count * dt.itemsize, dtype=np.uint8).tobytes())
        sets.append(("random%d" % k, one))
    if all(np.dtype(t["dtype"]) == np.int8 for t in m["inputs"]):
        for label, v in (("min", -128), ("max", 127)):
            sets.append((label, [np.full(int(np.prod(t["shape"])), v, np.int8).tobytes()
                                 for t in m["inputs"]]))
    sets.append(("det", [H.tflm_ref.det_input(np.dtype(t["dtype"]), int(np.prod(t["shape"]))).tobytes()
                         for t in m["inputs"]]))
    return sets


def _reference(m):
    """([(label, [input bytes])], [[TFLM output bytes per output]]) for a model."""
    name = m["name"]
    if name not in _REF_CACHE:
        ref = H.tflm_ref.TflmModel(os.path.join(OPS_DIR, m["file"]))
        sets = _input_sets(m)
        _REF_CACHE[name] = (ref, sets, [ref.run_io(d, m["n_outputs"]) for _, d in sets])
    return _REF_CACHE[name]


def _random_inputs(m, n=N_RANDOM):
    """Input sets for a model TFLM cannot load: random bytes per input tensor."""
    rng = np.random.default_rng([0, sum(map(ord, m["name"]))])
    blobs = []
    for t in m["inputs"]:
        dt, count = np.dtype(t["dtype"]), int(np.prod(t["shape"]))
        blobs.append(rng.integers(0, 256, size=n * count * dt.itemsize, dtype=np.uint8).tobytes())
    return blobs, n


# ---------------------------------------------------------------------------
# pexc refusing a model
# ---------------------------------------------------------------------------

def _run_raw(model, blobs, n, schedule, n_outputs):
    """`pexc run --batch n` with blobs[i] as input i; (returncode, stderr text,
    [output bytes per output] or None when no output file was written)."""
    with tempfile.TemporaryDirectory(prefix="pexc_ops_") as tmp:
        cmd = [H.PEXC, "run", model, "--batch", str(n), "--schedule", schedule]
        for i, blob in enumerate(blobs):
            path = os.path.join(tmp, "in%d.bin" % i)
            with open(path, "wb") as f:
                f.write(blob)
            cmd += ["--input", path]
        outs = [os.path.join(tmp, "out%d.bin" % o) for o in range(n_outputs)]
        for path in outs:
            cmd += ["--output", path]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           timeout=H.TIMEOUT)
        data = None
        if any(os.path.exists(path) for path in outs):
            data = []
            for path in outs:
                with open(path, "rb") as f:
                    data.append(f.read())
        return p.returncode, p.stderr.decode("utf-8", "replace"), data


def _refusal_problem(m, rc, err, data, need_operator):
    """None if pexc refused properly, else what is wrong."""
    lines = [ln for ln in err.splitlines() if ln.strip()]
    if rc < 0:
        return "pexc crashed (signal %d): %s" % (-rc, err.strip()[:500])
    if rc == 0:
        return "pexc ran it (exit 0)"
    if rc != 1:
        return "exit status %d, not 1: %s" % (rc, err.strip()[:500])
    if len(lines) != 1:
        return "%d lines on stderr, not one: %r" % (len(lines), err[:500])
    if data and any(data):
        return "refused but wrote %d output bytes" % sum(len(d) for d in data)
    if need_operator:
        low = lines[0].lower()
        names = set(m["ops"]) | {o.replace("_", " ") for o in m["ops"]}
        if "operator" not in low and not any(o.lower() in low for o in names):
            return "the message names no operator: %r" % lines[0]
    return None


# ---------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------

def _params():
    items = []
    for m in MODELS:
        items.append(pytest.param(m, id=m["name"]))
    return items


@pytest.fixture(scope="module", autouse=True)
def _needs():
    if not MODELS:
        pytest.skip("tests/models/ops/MANIFEST.json is missing (tools/gen_ops_models.py)")
    if not H.tflm_ref.available():
        pytest.skip("tflite-micro is not installed (sh tools/setup.sh)")
    if not H.pexc_available():
        pytest.skip("%s is not built" % H.PEXC)


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("m", _params())
def test_ops_model(m, schedule):
    name = m["name"]
    model = os.path.join(OPS_DIR, m["file"])
    n_out = m["n_outputs"]
    if m["tflm"] != "ok":
        blobs, n = _random_inputs(m)
        rc, err, data = _run_raw(model, blobs, n, schedule, n_out)
        why = _refusal_problem(m, rc, err, data, need_operator=False)
        if why:
            pytest.fail("%s [%s]: TFLM refuses it (%s), so pexc must refuse it too: %s"
                        % (name, schedule, m["tflm"][:200], why), pytrace=False)
        return
    ref, sets, expected = _reference(m)
    blobs = [b"".join(d[i] for _, d in sets) for i in range(m["n_inputs"])]
    rc, err, data = _run_raw(model, blobs, len(sets), schedule, n_out)
    if name in EXPECTED_REFUSED:
        why = _refusal_problem(m, rc, err, data, need_operator=True)
        if why == "pexc ran it (exit 0)":
            pytest.fail("%s [%s]: pexc runs it now; take it off tests/models/ops/"
                        "EXPECTED_REFUSED.txt (it must then match TFLM)" % (name, schedule),
                        pytrace=False)
        if why:
            pytest.fail("%s [%s]: listed as refused, but %s" % (name, schedule, why),
                        pytrace=False)
        return
    if rc != 0 or data is None:
        pytest.fail("%s [%s]: pexc failed and the model is not in EXPECTED_REFUSED.txt: %s"
                    % (name, schedule, err.strip()[:1000]), pytrace=False)
    for o in range(n_out):
        size = len(expected[0][o])
        got = [data[o][k * size:(k + 1) * size] for k in range(len(sets))]
        want = [e[o] for e in expected]
        dtype = np.dtype(m["outputs"][o]["dtype"]) if "outputs" in m else ref.output_dtype
        msg = H.mismatch_report("%s output %d" % (name, o), schedule, model,
                                [(label, d[0]) for label, d in sets], want, got, dtype)
        if msg:
            pytest.fail(msg, pytrace=False)


def test_expected_refused_names_exist():
    """Every name in EXPECTED_REFUSED.txt is a model TFLM runs."""
    ok = {m["name"] for m in MODELS if m["tflm"] == "ok"}
    stale = sorted(EXPECTED_REFUSED - ok)
    assert not stale, "EXPECTED_REFUSED.txt lists unknown or non-applicable models: %s" % stale


def test_ops_manifest_is_current():
    """The files are the ones MANIFEST.json describes, and its claims hold."""
    import hashlib
    on_disk = sorted(fn for fn in os.listdir(OPS_DIR) if fn.endswith(".tflite"))
    assert on_disk == sorted(m["file"] for m in MODELS)
    sys.path.insert(0, os.path.join(H.ROOT, "tools"))
    import gen_ops_models
    for m in MODELS:
        path = os.path.join(OPS_DIR, m["file"])
        with open(path, "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == m["sha256"], m["file"]
        ops = gen_ops_models.analyse_ops(path)["ops"]
        for c in m["claims"]:
            assert H.gen_models.claim_holds(c["claim"], ops), (m["name"], c["claim"])
        assert _single_io(m) or m["name"].startswith("multi_"), m["name"]


def write_expected():
    """Write EXPECTED_REFUSED.txt: the single-I/O models TFLM runs that pexc
    refuses today (exit status 1 under the baseline schedule)."""
    refused = []
    for m in MODELS:
        if m["tflm"] != "ok":
            continue
        blobs, n = _random_inputs(m, 1)
        rc, err, data = _run_raw(os.path.join(OPS_DIR, m["file"]), blobs, n, "baseline", m["n_outputs"])
        if rc != 0:
            refused.append(m["name"])
            print("%-36s refused: %s" % (m["name"], err.strip().splitlines()[-1][:120]
                                         if err.strip() else "exit %d" % rc))
    with open(EXPECTED_FILE, "w") as f:
        f.write("# Models of tests/models/ops that pexc refuses today (written by\n"
                "# `tests/test_ops_conformance.py --write-expected`). pexc must refuse\n"
                "# each with exit status 1 and a one-line message naming an operator;\n"
                "# take a model off when its operators land: it must then match TFLM.\n")
        for name in refused:
            f.write(name + "\n")
    print("%d of %d TFLM-run models refused" % (
        len(refused), sum(1 for m in MODELS if m["tflm"] == "ok")))


if __name__ == "__main__":
    if sys.argv[1:] == ["--write-expected"]:
        write_expected()
    else:
        sys.exit("usage: %s --write-expected   (otherwise run it with pytest)" % sys.argv[0])
