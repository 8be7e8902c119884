"""The .tflite writer (src/writer): every real model and every operator
model, written back unchanged by `pexc prune MODEL -o OUT --method none`,
gives pexc's outputs and TFLM's outputs byte for byte as the original does,
and writing the written file again gives the same bytes (the copy loses
nothing the next copy would need)."""
import glob
import os
import subprocess

import numpy as np
import pytest

from pexc_harness import PEXC, ROOT, SHARED_MODELS, tflm_ref

OPS_DIR = os.path.join(ROOT, "tests", "models", "ops")
MODELS = sorted(glob.glob(os.path.join(SHARED_MODELS, "*.tflite"))) + \
    sorted(glob.glob(os.path.join(OPS_DIR, "*.tflite")))


def pexc(*args):
    return subprocess.run([PEXC] + [str(a) for a in args], capture_output=True, text=True, timeout=600)


def rewrite(src, dst):
    r = pexc("prune", src, "-o", dst, "--method", "none")
    assert r.returncode == 0, r.stderr
    assert r.stderr == ""
    return dst


def pexc_outputs(model):
    """Outputs on the deterministic input as `pexc run` prints them, or None
    when pexc refuses the model."""
    r = pexc("run", model, "--schedule", "baseline")
    if r.returncode != 0:
        assert r.returncode == 1 and len(r.stderr.splitlines()) == 1, r.stderr
        return None
    return r.stdout


def tflm_outputs(model, seed):
    """TFLM's output bytes on the deterministic input and two random
    inputs (every input and output), or None when TFLM cannot load it."""
    try:
        ref = tflm_ref.TflmModel(model)
    except Exception:  # TFLM refuses it (unsupported operator)
        return None
    interp = ref._interp
    rng = np.random.default_rng(seed)
    outs = []
    n_in = 1
    while True:
        try:
            interp.get_input_details(n_in)
            n_in += 1
        except Exception:
            break
    n_out = 1
    while True:
        try:
            interp.get_output_details(n_out)
            n_out += 1
        except Exception:
            break
    for k in range(3):
        datas = []
        for i in range(n_in):
            d = interp.get_input_details(i)
            dt = np.dtype(d["dtype"])
            n = int(np.prod(d["shape"]))
            if k == 0:
                x = tflm_ref.det_input(dt, n)
            elif dt.kind == "f":
                x = rng.uniform(-1, 1, n).astype(dt)
            elif dt == np.bool_:
                x = rng.integers(0, 2, n).astype(dt)
            else:
                info = np.iinfo(dt)
                x = rng.integers(max(info.min, -1 << 15), min(info.max, 1 << 15), n, endpoint=True).astype(dt)
            datas.append(np.asarray(x, dt).tobytes())
        try:
            outs.append(ref.run_io(datas, n_out))
        except Exception as e:  # a model TFLM refuses at run time
            outs.append(("error", str(e).splitlines()[0] if str(e) else ""))
    return outs


@pytest.mark.parametrize("model", MODELS, ids=[os.path.basename(m)[:-7] for m in MODELS])
def test_round_trip(model, tmp_path):
    a = rewrite(model, tmp_path / "a.tflite")
    b = rewrite(a, tmp_path / "b.tflite")
    assert a.read_bytes() == b.read_bytes(), "a second rewrite changed the file"
    want = pexc_outputs(model)
    got = pexc_outputs(str(a))
    assert got == want
    seed = sum(map(ord, os.path.basename(model)))
    want = tflm_outputs(model, seed)
    got = tflm_outputs(str(a), seed)
    assert got == want


BAD = sorted(glob.glob(os.path.join(ROOT, "tests", "bad", "*.tflite")))


def test_bad_files_refused_or_written_whole(tmp_path):
    """The crafted bad files of tests/bad: the writer either writes a file
    pexc's reader takes back, or (the reader refusing the source) exit 1
    with one line and no file left; never a crash."""
    for src in BAD:
        out = tmp_path / "out.tflite"
        r = pexc("prune", src, "-o", out, "--method", "none")
        name = os.path.basename(src)
        assert r.returncode in (0, 1), (name, r.returncode, r.stderr)
        if r.returncode == 1:
            assert len(r.stderr.splitlines()) == 1, (name, r.stderr)
            assert os.listdir(tmp_path) == [], name
        else:
            again = pexc("prune", out, "-o", tmp_path / "again.tflite", "--method", "none")
            assert again.returncode == 0, (name, again.stderr)
            assert (tmp_path / "again.tflite").read_bytes() == out.read_bytes(), name
            for f in os.listdir(tmp_path):
                os.unlink(tmp_path / f)
