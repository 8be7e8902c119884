"""The remaining small operators against TFLite Micro.

Every model in tests/models/misc/ (tools/gen_models_misc.py: the float32
element-wise functions EXP, LOG, SQRT, RSQRT, SIN, COS, SQUARE, NEG,
FLOOR, CEIL, ROUND, ABS straight on the graph input; LOGICAL_NOT on a
comparison's bool; DYNAMIC_UPDATE_SLICE with run-time operand, update and
start indices) runs in TFLM and in `pexc run` under both schedules, one
pexc process per model per schedule: every output byte must agree. Float
inputs include zeros of both signs, subnormals, infinities, NaN, ties for
ROUND and values where EXP overflows; DYNAMIC_UPDATE_SLICE indices
include negative and too-large starts, which TFLM clamps. One model per
kernel is also compiled to C, built with gcc -Werror and run: it must
print TFLM's bytes. pexc refuses what TFLM refuses (EXP on int8).
"""

import os
import subprocess
import tempfile

import numpy as np
import pytest

import pexc_harness as H

MODEL_DIR = os.path.join(H.ROOT, "tests", "models", "misc")
SCHEDULES = ["baseline", "min-sram"]
HOST_MAIN = os.path.join(H.ROOT, "tests", "codegen", "host_main.c")
STRICT = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off"]
GENERATED_EXTRA = ["-pedantic", "-Wconversion", "-Wshadow", "-Wcast-qual", "-Wstrict-prototypes"]
CODEGEN = ["f32_chain", "logical_not", "dus_f32", "dus_i8_i64"]

pytestmark = pytest.mark.skipif(not H.pexc_available() or not H.tflm_ref.available(),
                                reason="needs build/pexc and tflite-micro")

SPECIAL = np.array([0.0, -0.0, 1e-40, -1e-40, np.inf, -np.inf, np.nan, 3.0, -2.5, 1e30, -1e30, 0.5, -1.0, 1.5,
                    2.5, -0.5, -1.5, 88.7, 89.0, -104.0, 1e5, 3e38, 8388607.5, -8388607.5], "<f4")


def _models():
    if not os.path.isdir(MODEL_DIR):
        return []
    return sorted(fn[:-7] for fn in os.listdir(MODEL_DIR) if fn.endswith(".tflite"))


def _path(name):
    return os.path.join(MODEL_DIR, name + ".tflite")


class _Ref:
    """A model in TFLM with its input sets (one bytes object per graph
    input) and the expected output bytes of each set."""

    def __init__(self, name):
        self.model = H.tflm_ref.TflmModel(_path(name))
        with open(_path(name), "rb") as f:
            sch = H.gen_models._schema()
            n_in = sch.Model.GetRootAsModel(f.read(), 0).Subgraphs(0).InputsLength()
        self.ins = [self.model._interp.get_input_details(k) for k in range(n_in)]
        self.starts = name.startswith("dus_")
        self.n_out = 1
        rng = np.random.default_rng(7)
        sets = []
        for s in range(8):
            sets.append([self._input(d, rng, s) for d in self.ins])
        self.sets = sets
        self.want = [self.model.run_io(st, self.n_out) for st in sets]

    def _input(self, det, rng, s):
        dt, shape = np.dtype(det["dtype"]), tuple(int(v) for v in det["shape"])
        n = int(np.prod(shape))
        if dt == np.float32:
            if s == 0:
                return np.resize(SPECIAL, n).astype("<f4").tobytes()
            return (rng.standard_normal(n) * (1, 4, 40, 0.5)[s % 4]).astype("<f4").tobytes()
        if self.starts and det is self.ins[-1]:
            # start indices: in range, negative, past the end (TFLM clamps)
            return rng.integers(-3, 9, size=n).astype(dt.newbyteorder("<")).tobytes()
        if dt == np.bool_:
            return (rng.integers(0, 2, size=n) if s else np.arange(n) % 2).astype(np.uint8).tobytes()
        info = np.iinfo(dt)
        lo, hi = (info.min, info.max) if s else (info.min, info.min + 1)
        return rng.integers(lo, hi, size=n, endpoint=True).astype(dt.newbyteorder("<")).tobytes()


_REF = {}


def _reference(name):
    if name not in _REF:
        _REF[name] = _Ref(name)
    return _REF[name]


def _run_pexc(name, ref, schedule):
    """All input sets through one `pexc run --batch` process."""
    with tempfile.TemporaryDirectory(prefix="pexc_misc_") as tmp:
        args = [H.PEXC, "run", _path(name), "--batch", str(len(ref.sets)), "--schedule", schedule]
        for k in range(len(ref.ins)):
            p = os.path.join(tmp, "in%d.bin" % k)
            with open(p, "wb") as f:
                f.write(b"".join(st[k] for st in ref.sets))
            args += ["--input", p]
        out = os.path.join(tmp, "out.bin")
        r = subprocess.run(args + ["--output", out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        assert r.returncode == 0, r.stderr.decode()
        with open(out, "rb") as f:
            blob = f.read()
    n = len(ref.want[0][0])
    return [blob[j * n:(j + 1) * n] for j in range(len(ref.sets))]


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("name", _models())
def test_matches_tflm(name, schedule):
    ref = _reference(name)
    got = _run_pexc(name, ref, schedule)
    dtype = ref.model._interp.get_output_details(0)["dtype"]
    for j, (w, g) in enumerate(zip(ref.want, got)):
        why = H.describe_mismatch(w[0], g, dtype)
        assert why is None, "%s %s set %d: %s" % (name, schedule, j, why)


def _run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)


@pytest.mark.parametrize("name", CODEGEN)
def test_generated_c_builds_and_agrees(name, tmp_path):
    d = tmp_path / "gen"
    r = _run([H.PEXC, "compile", _path(name), "-o", str(d), "--name", "m", "--schedule", "min-sram"])
    assert r.returncode == 0, r.stderr.decode()
    srcs = sorted(str(p) for p in d.iterdir() if p.suffix == ".c")
    r = _run(["gcc"] + STRICT + GENERATED_EXTRA + ["-I" + str(d), "-c", str(d / "m.c"), "-o",
                                                   str(tmp_path / "m.o")])
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    exe = str(tmp_path / "host")
    r = H.cc_build(["gcc"] + STRICT + ["-DPEXC_MODEL=m", "-DPEXC_MACRO=M", "-I" + str(d), HOST_MAIN] + srcs +
                   ["-o", exe, "-lm"])
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    ref = _reference(name)
    for j in range(3):
        inp, out = str(tmp_path / "in.bin"), str(tmp_path / "out.bin")
        with open(inp, "wb") as f:
            f.write(b"".join(ref.sets[j]))
        r = _run([exe, inp, out])
        assert r.returncode == 0, "%s set %d: exit %d %s" % (name, j, r.returncode, r.stderr.decode())
        with open(out, "rb") as f:
            got = f.read()
        assert got == ref.want[j][0], "%s set %d: generated C differs" % (name, j)


def _retyped(name, dst, tensor_types):
    """Copy of model `name` with tensors retyped: {tensor index: TensorType}."""
    import flatbuffers
    s = H.gen_models._schema()
    with open(_path(name), "rb") as f:
        blob = f.read()
    m = s.ModelT.InitFromObj(s.Model.GetRootAsModel(blob, 0))
    for i, t in tensor_types.items():
        m.subgraphs[0].tensors[i].type = t
    b = flatbuffers.Builder(len(blob) + 1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    with open(dst, "wb") as f:
        f.write(bytes(b.Output()))


INT8, UINT8, INT16, BOOL = 9, 3, 7, 6


@pytest.mark.parametrize("name,types,words", [
    # EXP exists in TFLM for float32 only
    ("f32_exp", {0: INT8, 1: INT8}, ["EXP", "float32"]),
    ("f32_log", {0: INT8, 1: INT8}, ["LOG", "float32"]),
    # LOGICAL_NOT takes bools only
    ("logical_not_bool", {0: INT8, 1: INT8}, ["LOGICAL_NOT", "input"]),
    # DYNAMIC_UPDATE_SLICE: uint8 operands and int16 start indices are refused
    ("dus_i32_full", {0: UINT8, 1: UINT8, 3: UINT8}, ["DYNAMIC_UPDATE_SLICE", "operand"]),
    ("dus_f32", {2: INT16}, ["DYNAMIC_UPDATE_SLICE", "start indices"]),
])
def test_refuses_what_tflm_refuses(name, types, words, tmp_path):
    path = str(tmp_path / "bad.tflite")
    _retyped(name, path, types)
    try:
        ref = H.tflm_ref.TflmModel(path)
        ref.run_io([bytes(d["shape"].prod() * np.dtype(d["dtype"]).itemsize)
                    for d in [ref._interp.get_input_details(k) for k in range(len(_reference(name).ins))]], 1)
        tflm_ok = True
    except Exception:
        tflm_ok = False
    assert not tflm_ok, "TFLM accepts %s retyped %s" % (name, types)
    r = _run([H.PEXC, "run", path])
    assert r.returncode != 0
    err = r.stderr.decode()
    assert all(w in err for w in words), err


@pytest.mark.parametrize("name", ["f32_exp", "f32_ceil", "f32_round"])
def test_refuses_reshaping_exp_ceil_round(name, tmp_path):
    """TFLM's EXP, CEIL and ROUND require the output to have the input's
    shape (same element count is not enough)."""
    import flatbuffers
    s = H.gen_models._schema()
    with open(_path(name), "rb") as f:
        blob = f.read()
    m = s.ModelT.InitFromObj(s.Model.GetRootAsModel(blob, 0))
    g = m.subgraphs[0]
    g.tensors[g.outputs[0]].shape = [1, 48]
    b = flatbuffers.Builder(len(blob) + 1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    path = str(tmp_path / "bad.tflite")
    with open(path, "wb") as f:
        f.write(bytes(b.Output()))
    with pytest.raises(Exception):
        ref = H.tflm_ref.TflmModel(path)
        ref.run_io([bytes(4 * 48)], 1)
    r = _run([H.PEXC, "run", path])
    assert r.returncode != 0 and "shape" in r.stderr.decode(), r.stderr.decode()
