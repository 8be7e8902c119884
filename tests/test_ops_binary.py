"""Element-wise binary operators (src/ops/binary.c) against TFLite Micro.

Every model in tests/models/binary/ (tools/gen_models_binary.py: one
input, the other operand computed from it or constant; int8, 16x8 int16 or
float32) runs in TFLM and in `pexc run` under both schedules, on 5 seeded
random inputs, the deterministic input and the extremes (all -128 / 127,
all -32768 / 32767, or float zeros, subnormals, infinities and NaN): every
output byte must agree. A few of
them are also compiled to C and built with gcc -Werror (the generated file
with the project's extra warnings; every file also for a Cortex-M4 when
arm-none-eabi-gcc is installed), and the built program must print the
bytes TFLM does. pexc must refuse what TFLM refuses: a comparison
whose input scale is not below 1 (TFLM aborts in Prepare), an int16 MUL
with a zero point; and compute what it accepts, such as int16 ADD and SUB
with zero points (models patched from the generated ones).
"""

import os
import shutil
import subprocess

import numpy as np
import pytest

import pexc_harness as H

MODEL_DIR = os.path.join(H.ROOT, "tests", "models", "binary")
SCHEDULES = ["baseline", "min-sram"]
HOST_MAIN = os.path.join(H.ROOT, "tests", "codegen", "host_main.c")
STRICT = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off"]
ARM_M4 = ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard", "-Wno-format"]
GENERATED_EXTRA = ["-pedantic", "-Wconversion", "-Wshadow", "-Wcast-qual", "-Wstrict-prototypes"]
# one model per arithmetic path of pexc_binary_s8 worth building as C
CODEGEN = ["sub_outer", "div_zero", "logical_select", "add_n_int8", "prelu_channel", "add_rank6", "add_n_float",
           "equal_float", "i16_add_relu", "f32_floor"]

pytestmark = pytest.mark.skipif(not H.pexc_available() or not H.tflm_ref.available(),
                                reason="needs build/pexc and tflite-micro")


def _models():
    if not os.path.isdir(MODEL_DIR):
        return []
    return sorted(fn[:-7] for fn in os.listdir(MODEL_DIR) if fn.endswith(".tflite"))


def _path(name):
    return os.path.join(MODEL_DIR, name + ".tflite")


_REF = {}


def _reference(name):
    if name not in _REF:
        ref = H.tflm_ref.TflmModel(_path(name))
        inputs = H.conformance_inputs(ref, n_random=5, model_name=name)
        if ref.input_dtype == np.int16:
            inputs += [("all-32768", np.full(ref.input_count, -32768, "<i2").tobytes()),
                       ("all32767", np.full(ref.input_count, 32767, "<i2").tobytes())]
        if ref.input_dtype == np.float32:
            # zeros of both signs, subnormals, infinities, NaN, integers, huge values
            special = np.array([0.0, -0.0, 1e-40, -1e-40, np.inf, -np.inf, np.nan, 3.0, -2.5, 1e30, -1e30,
                                0.5, -1.0], "<f4")
            inputs.append(("special", np.resize(special, ref.input_count).astype("<f4").tobytes()))
        inputs.append(("det", ref.det_bytes()))
        _REF[name] = (ref, inputs, ref.run_many([d for _, d in inputs]))
    return _REF[name]


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("name", _models())
def test_matches_tflm(name, schedule):
    ref, inputs, want = _reference(name)
    got = H.run_pexc(_path(name), [d for _, d in inputs], ref.output_nbytes, schedule)
    for (label, _), w, g in zip(inputs, want, got):
        why = H.describe_mismatch(w, g, ref.output_dtype)
        assert why is None, "%s %s %s: %s" % (name, schedule, label, why)


def _run(cmd):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)


@pytest.mark.parametrize("name", CODEGEN)
def test_generated_c_builds_and_agrees(name, tmp_path):
    d = tmp_path / "gen"
    r = _run([H.PEXC, "compile", _path(name), "-o", str(d), "--name", "m", "--schedule", "min-sram"])
    assert r.returncode == 0, r.stderr.decode()
    srcs = sorted(str(p) for p in d.iterdir() if p.suffix == ".c")
    # int16 ADD and MUL are the int16 family's (arith_s16.c); the rest this family's
    assert any(os.path.basename(s).startswith(("binary_", "arith_")) for s in srcs), srcs
    r = _run(["gcc"] + STRICT + GENERATED_EXTRA + ["-I" + str(d), "-c", str(d / "m.c"), "-o",
                                                   str(tmp_path / "m.o")])
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    exe = str(tmp_path / "host")
    r = H.cc_build(["gcc"] + STRICT + ["-DPEXC_MODEL=m", "-DPEXC_MACRO=M", "-I" + str(d), HOST_MAIN] + srcs + ["-o", exe, "-lm"])
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    if shutil.which("arm-none-eabi-gcc"):
        for src in [s for s in srcs if os.path.basename(s).startswith(("m.", "binary_"))]:
            r = _run(["arm-none-eabi-gcc"] + STRICT + ARM_M4 + ["-I" + str(d), "-c", src, "-o",
                                                                str(tmp_path / "arm.o")])
            assert r.returncode == 0, "Cortex-M4 build of %s:\n%s" % (src, r.stderr.decode()[-3000:])
    ref, inputs, want = _reference(name)
    for label, data in inputs[:3]:
        inp, out = str(tmp_path / "in.bin"), str(tmp_path / "out.bin")
        with open(inp, "wb") as f:
            f.write(data)
        r = _run([exe, inp, out])
        assert r.returncode == 0, "%s %s: exit %d %s" % (name, label, r.returncode, r.stderr.decode())
        with open(out, "rb") as f:
            got = f.read()
        assert got == want[[lbl for lbl, _ in inputs].index(label)], "%s %s: generated C differs" % (name, label)


def _patched(src, dst, op_name, patch):
    """Copy of src with patch(tensors, op) applied to the first op_name operator."""
    import flatbuffers
    s = H.gen_models._schema()
    with open(src, "rb") as f:
        blob = f.read()
    m = s.ModelT.InitFromObj(s.Model.GetRootAsModel(blob, 0))
    code = getattr(s.BuiltinOperator, op_name)
    g = m.subgraphs[0]
    patch(g.tensors, next(o for o in g.operators if m.operatorCodes[o.opcodeIndex].builtinCode == code))
    b = flatbuffers.Builder(len(blob) + 1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    with open(dst, "wb") as f:
        f.write(bytes(b.Output()))


def _zero_points(zps):
    """patch: the operator's inputs and output get zero points zps."""
    def patch(tensors, op):
        for i, z in zip(list(op.inputs) + list(op.outputs), zps):
            tensors[i].quantization.zeroPoint = [z]
    return patch


@pytest.mark.parametrize("name,op,zps", [("i16_sub", "SUB", (-50, 0, 7)), ("i16_add_relu", "ADD", (300, 0, -1000))])
def test_int16_add_sub_zero_points(name, op, zps, tmp_path):
    """TFLM's int16 ADD and SUB take any zero point (MUL and
    SQUARED_DIFFERENCE require 0): pexc computes those too."""
    path = str(tmp_path / "zp.tflite")
    _patched(_path(name), path, op, _zero_points(zps))
    ref = H.tflm_ref.TflmModel(path)
    inputs = [d for _, d in H.conformance_inputs(ref, n_random=3, model_name=name)]
    inputs += [np.full(ref.input_count, v, "<i2").tobytes() for v in (-32768, 32767)]
    want = ref.run_many(inputs)
    for schedule in SCHEDULES:
        got = H.run_pexc(path, inputs, ref.output_nbytes, schedule)
        for k, (w, g) in enumerate(zip(want, got)):
            assert w == g, "%s %s input %d: %s" % (name, schedule, k, H.describe_mismatch(w, g, np.int16))


def test_refuses_int16_mul_zero_point(tmp_path):
    bad = str(tmp_path / "bad.tflite")
    _patched(_path("i16_mul"), bad, "MUL", _zero_points((0, 0, 5)))
    r = _run([H.PEXC, "run", bad, "--output", str(tmp_path / "o.bin")])
    err = r.stderr.decode()
    assert r.returncode == 1 and "(MUL)" in err and "zero point 5" in err and err.count("\n") == 1, err


def test_refuses_comparison_scale_not_below_one(tmp_path):
    bad = str(tmp_path / "bad.tflite")
    _patched(_path("compare_all"), bad, "LESS", lambda tensors, op: setattr(tensors[op.inputs[0]].quantization,
                                                                             "scale", [1.5]))
    r = _run([H.PEXC, "run", bad, "--output", str(tmp_path / "o.bin")])
    err = r.stderr.decode()
    assert r.returncode == 1 and "(LESS" in err and "(0, 1)" in err and err.count("\n") == 1, err
