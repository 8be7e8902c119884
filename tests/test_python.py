"""The Python package (issue 17): pexc.Interpreter against TFLM's Python
interpreter, byte for byte, on real and multi-input/output models;
PexcError on a bad file; pexc.compile's figures against `pexc inspect
--json`.

Two ways in: the module from the source tree (python/pexc, loading
build/libpexc.so, which `make pylib` builds: fast), and `pip install
<repo>` into a fresh venv, once per session (slow: it compiles the C
library; skipped when pip cannot reach the package registry). Both run the
same job (tests/pexc_py_worker.py), the venv's in a subprocess.
"""

import importlib
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import pexc_harness as H
import pexc_py_worker

pytestmark = [
    pytest.mark.skipif(not H.tflm_ref.available(), reason="tflite-micro is not importable"),
    pytest.mark.skipif(not H.have_shared(), reason="../shared/models is missing"),
]

REAL = ["hello_world_int8", "kws_ds_cnn_int8", "ic_resnet8_int8"]
OPS = os.path.join(H.ROOT, "tests", "models", "ops")
# several inputs; several outputs. The last two join once pexc supports SUB and SPLIT.
MULTI = ["multi_add_inputs_bcast", "multi_sub_inputs", "multi_split_outputs"]
MODELS = [H.shared_model(n) for n in REAL] + [os.path.join(OPS, n + ".tflite") for n in MULTI]
BAD = os.path.join(H.ROOT, "README.md")
COMPILE_MODEL = H.shared_model("kws_ds_cnn_int8")


def _run(cmd, timeout, **kw):
    return subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout, **kw)


# ---- the job and its check ----------------------------------------------------------

def _inputs(ref, n_inputs, name):
    """[per input: array (N, ...)]: seeded random inputs and the extremes."""
    rng = np.random.default_rng(sum(map(ord, name)))
    per_input = []
    for i in range(n_inputs):
        d = ref._interp.get_input_details(i)
        dt, shape = np.dtype(d["dtype"]), tuple(int(v) for v in d["shape"])
        assert dt == np.int8, (name, dt)
        xs = [rng.integers(-128, 128, size=shape, dtype=np.int8) for _ in range(3)]
        xs += [np.full(shape, -128, np.int8), np.full(shape, 127, np.int8)]
        per_input.append(np.stack(xs))
    return per_input


def _count(details):
    """How many tensors TFLM's details(i) describes (it raises past the last)."""
    n = 0
    while True:
        try:
            details(n)
        except (RuntimeError, IndexError, ValueError):
            return n
        n += 1


def _supported(model):
    if os.path.basename(model)[:-7] not in MULTI[1:]:
        return True
    try:
        return H.pexc_available() and bool(H.inspect_json(model))
    except H.PexcError:
        return False


@pytest.fixture(scope="module")
def job(tmp_path_factory):
    """(the job dict, the TFLM references: per model (ref, n_outputs, expected bytes per item))."""
    tmp = tmp_path_factory.mktemp("pyjob")
    models = [m for m in MODELS if _supported(m)]
    assert len(models) >= len(REAL) + 1, models
    job, refs = {"n_models": np.array(len(models))}, []
    for k, model in enumerate(models):
        ref = H.tflm_ref.TflmModel(model)
        n_in, n_out = _count(ref._interp.get_input_details), _count(ref._interp.get_output_details)
        ins = _inputs(ref, n_in, os.path.basename(model))
        job["model_%d" % k] = np.array(model)
        for i, x in enumerate(ins):
            job["in_%d_%d" % (k, i)] = x
        expected = [ref.run_io([x[b].tobytes() for x in ins], n_out) for b in range(len(ins[0]))]
        refs.append((ref, n_out, expected))
    job["bad"] = np.array(BAD)
    job["compile_model"] = np.array(COMPILE_MODEL)
    job["compile_dir"] = np.array(str(tmp / "gen"))
    return job, refs


def _check_models(job, refs, res):
    for k, (ref, n_out, expected) in enumerate(refs):
        model = str(job["model_%d" % k])
        info = json.loads(str(res["info_%d" % k]))
        assert len(info["outputs"]) == n_out, model
        for o in range(n_out):
            for how in ("out", "batch"):
                got = res["%s_%d_%d" % (how, k, o)]
                assert len(got) == len(expected), (model, how)
                for b, want in enumerate(expected):
                    assert got[b].tobytes() == want[o], "%s output %d item %d (%s) differs from TFLM" % (
                        model, o, b, "invoke" if how == "out" else "invoke_batch")
        # tensor details as TFLM gives them
        for what, dets, get in (("input", info["inputs"], ref._interp.get_input_details),
                                ("output", info["outputs"], ref._interp.get_output_details)):
            for i, d in enumerate(dets):
                t = get(i)
                assert d["shape"] == [int(v) for v in t["shape"]], (model, what, i)
                assert d["dtype"] == np.dtype(t["dtype"]).name, (model, what, i)
                q = t["quantization_parameters"]
                assert d["scales"] == [float(v) for v in q["scales"]], (model, what, i)
                assert d["zero_points"] == [int(v) for v in q["zero_points"]], (model, what, i)
                assert d["quantization"] == [float(q["scales"][0]), int(q["zero_points"][0])], (model, what, i)
        # peak figures and schedule as `pexc inspect --json` gives them
        if H.pexc_available():
            fig = H.inspect_json(model)
            for key in ("schedule", "peak_sram_bytes", "baseline_peak_sram_bytes"):
                assert info[key] == fig[key], (model, key)


def _check_bad_and_compile(job, res):
    kind, msg = json.loads(str(res["bad_error"]))
    assert kind == "PexcError", (kind, msg)
    assert "\n" not in msg and "not a TFLite model" in msg and BAD in msg, msg
    got = json.loads(str(res["compile"]))
    if H.pexc_available():
        assert got == H.inspect_json(COMPILE_MODEL)
    gen = str(job["compile_dir"])
    name = "kws_ds_cnn_int8"
    for f in (name + ".h", name + ".c", "CMakeLists.txt", "pexc_kernels.h"):
        assert os.path.isfile(os.path.join(gen, f)), f
    assert "%s_ARENA_BYTES %d" % (name.upper(), got["peak_sram_bytes"]) in open(os.path.join(gen, name + ".h")).read()


# ---- from the source tree ----------------------------------------------------------------

@pytest.fixture(scope="module")
def tree_pexc():
    H.skip_unless_binding_loadable()
    build = os.environ.get("PEXC_BUILD", "build")
    r = _run(["make", "-s", "BUILD=" + build, build + "/libpexc.so"], 900, cwd=H.ROOT)
    assert r.returncode == 0, "make %s/libpexc.so failed:\n%s%s" % (build, r.stdout[-3000:], r.stderr[-3000:])
    sys.path.insert(0, os.path.join(H.ROOT, "python"))
    try:
        return importlib.import_module("pexc")
    finally:
        sys.path.pop(0)


def test_tree_module_against_tflm(tree_pexc, job):
    the_job, refs = job
    res = pexc_py_worker.run_job(tree_pexc, the_job)
    _check_models(the_job, refs, res)
    _check_bad_and_compile(the_job, res)


def test_tree_module_errors(tree_pexc):
    model = H.shared_model("kws_ds_cnn_int8")
    with pytest.raises(tree_pexc.PexcError, match="below the least peak"):
        tree_pexc.Interpreter(model, sram=1024)
    with pytest.raises(tree_pexc.PexcError, match="unknown schedule 'fast'"):
        tree_pexc.Interpreter(model, schedule="fast")
    with pytest.raises(tree_pexc.PexcError, match="takes a positive size"):
        tree_pexc.Interpreter(model, sram="1.5K")
    it = tree_pexc.Interpreter(model, sram="8K")
    assert it.peak_sram_bytes <= 8192
    with pytest.raises(ValueError, match="input 0 is int8"):
        it.set_input(np.zeros(490, np.float32), 0)
    with pytest.raises(ValueError, match="490 elements"):
        it.set_input(np.zeros(10, np.int8), 0)
    with pytest.raises(IndexError):
        it.get_output(1)
    with pytest.raises(tree_pexc.PexcError, match="unknown target"):
        tree_pexc.compile(model, "/nonexistent/x", target="cortex-m99")
    assert it.invoke_batch(np.zeros((0, 49, 10, 1), np.int8)).shape == (0, 1, 12)


# ---- pip install into a fresh venv --------------------------------------------------------

@pytest.fixture(scope="session")
def venv(tmp_path_factory):
    d = tmp_path_factory.mktemp("pexc_venv")
    r = _run([sys.executable, "-m", "venv", d], 300)
    assert r.returncode == 0, r.stderr
    py = d / "bin" / "python"
    pip = [py, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    r = _run(pip + ["numpy"], 900)
    if r.returncode != 0:
        pytest.skip("pip cannot install numpy from the package registry: %s" %
                    (r.stderr.strip().splitlines() or ["?"])[-1])
    r = _run(pip + [H.ROOT], 1800)
    assert r.returncode == 0, "pip install %s failed:\n%s%s" % (H.ROOT, r.stdout[-3000:], r.stderr[-5000:])
    return d


def test_installed_package_against_tflm(venv, job, tmp_path):
    the_job, refs = job
    job_file, res_file = tmp_path / "job.npz", tmp_path / "res.npz"
    np.savez(job_file, **the_job)
    worker = os.path.join(H.ROOT, "tests", "pexc_py_worker.py")
    # from another directory, so that python/ of the tree cannot shadow the install
    r = _run([venv / "bin" / "python", worker, job_file, res_file], 1200, cwd=str(tmp_path))
    assert r.returncode == 0, r.stderr[-5000:]
    with np.load(res_file) as res:
        res = dict(res)
    _check_models(the_job, refs, res)
    _check_bad_and_compile(the_job, res)
    r = _run([venv / "bin" / "python", "-c", "import pexc; print(pexc._LIB_PATH)"], 120, cwd=str(tmp_path))
    assert str(venv) in r.stdout, r.stdout + r.stderr


def test_installed_command(venv, tmp_path):
    exe = venv / "bin" / "pexc"
    model = H.shared_model("kws_ds_cnn_int8")
    r = _run([exe, "inspect", model, "--json"], 300)
    assert r.returncode == 0, r.stderr
    if H.pexc_available():
        assert r.stdout == _run([H.PEXC, "inspect", model, "--json"], 300).stdout
    r = _run([exe, "compile", model, "-o", tmp_path / "gen", "--target", "cortex-m4"], 300)
    assert r.returncode == 0, r.stderr
    assert os.path.isfile(tmp_path / "gen" / "kws_ds_cnn_int8.c") and "target cortex-m4" in r.stdout
    r = _run([exe, "run", BAD], 120)
    assert r.returncode == 1 and len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert r.stderr.startswith("pexc: ") and "not a TFLite model" in r.stderr
    assert _run([exe, "run"], 120).returncode == 2
