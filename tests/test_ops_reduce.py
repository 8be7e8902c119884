"""Reductions and spatial/matmul operators (src/ops/reduce.c, src/ops/spatial.c)
against TFLite Micro, byte for byte.

Every model in tests/models/reduce (tools/gen_models_reduce.py: converter-made,
int8, float32 or bool) runs in TFLM's Python interpreter and in `pexc run`
under the baseline and min-sram schedules on 5 seeded random inputs and, for
int8, all -128, all 127 and all at the input zero point; every output byte
must agree. One model per runtime
kernel is also compiled with `pexc compile`, built with gcc -Werror around
tests/codegen/host_main.c and run on the same inputs.
"""

import os
import subprocess

import numpy as np
import pytest

import pexc_harness as H

MODELS_DIR = os.path.join(H.ROOT, "tests", "models", "reduce")
SCHEDULES = ["baseline", "min-sram"]
# one model per runtime kernel, built as generated C
CODEGEN = ["mean_c", "f_mean_c", "f_argmax_c", "argmax_c", "resize_bilinear", "transpose_conv_bias",
           "batch_matmul", "f_resize_bilinear", "f_batch_matmul", "log_softmax", "l2_norm", "cumsum_excl_rev",
           "f_cumsum", "f_l2_norm", "f_l2_pool", "f_transpose_conv"]


def _models():
    if not os.path.isdir(MODELS_DIR):
        return []
    return sorted(fn[:-7] for fn in os.listdir(MODELS_DIR) if fn.endswith(".tflite"))


_REF = {}


def _reference(name):
    if name not in _REF:
        path = os.path.join(MODELS_DIR, name + ".tflite")
        ref = H.tflm_ref.TflmModel(path)
        if ref.input_dtype == np.bool_:
            rng = np.random.default_rng(len(name))
            inputs = [("random%d" % k, (rng.random(ref.input_count) < 0.9).astype(np.uint8).tobytes())
                      for k in range(5)]
            inputs += [("all0", bytes(ref.input_count)), ("all1", b"\x01" * ref.input_count)]
        else:
            inputs = H.conformance_inputs(ref, n_random=5, model_name=name)
            zps = ref.input_quant.get("zero_points")
            if ref.input_dtype == np.int8 and zps is not None and len(zps):
                # every value at the zero point: real zeros (L2 norm's
                # zero-sum path, sums that cancel)
                inputs.append(("all-zp", np.full(ref.input_count, int(zps[0]), np.int8).tobytes()))
        _REF[name] = (path, ref, inputs, [ref.run(d) for _, d in inputs])
    return _REF[name]


def _compare(name, got, ref, inputs, expected, how):
    for (label, _), want, mine in zip(inputs, expected, got):
        if mine != want:
            pytest.fail("%s, %s, input %s: %s" % (name, how, label,
                                                   H.describe_mismatch(want, mine, ref.output_dtype)))


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("name", _models())
def test_matches_tflm(name, schedule):
    path, ref, inputs, expected = _reference(name)
    got = H.run_pexc(path, [d for _, d in inputs], ref.output_nbytes, schedule)
    _compare(name, got, ref, inputs, expected, schedule)


@pytest.mark.parametrize("name", [m for m in CODEGEN if m in _models()])
def test_generated_c(name, tmp_path):
    path, ref, inputs, expected = _reference(name)
    gen = tmp_path / "gen"
    r = subprocess.run([H.PEXC, "compile", path, "-o", str(gen), "--name", "m", "--schedule", "min-sram"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    srcs = sorted(str(gen / f) for f in os.listdir(gen) if f.endswith(".c"))
    exe = str(tmp_path / "m")
    main = os.path.join(H.ROOT, "tests", "codegen", "host_main.c")
    strict = ["gcc", "-std=c11", "-O1", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off", "-I" + str(gen)]
    # the generated file is held to the extra warnings test_codegen.py uses
    r = subprocess.run(strict + ["-pedantic", "-Wconversion", "-Wshadow", "-Wcast-qual", "-Wstrict-prototypes",
                                 "-c", str(gen / "m.c"), "-o", str(tmp_path / "m.o")], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = H.cc_build(strict + ["-DPEXC_MODEL=m", "-DPEXC_MACRO=M", main] + srcs + ["-o", exe, "-lm"], text=True)
    assert r.returncode == 0, r.stderr
    got = []
    for k, (_, d) in enumerate(inputs):
        fin, fout = str(tmp_path / ("in%d" % k)), str(tmp_path / ("out%d" % k))
        with open(fin, "wb") as f:
            f.write(d)
        r = subprocess.run([exe, fin, fout], capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        with open(fout, "rb") as f:
            got.append(f.read())
    _compare(name, got, ref, inputs, expected, "generated C")


def _patched(tmp_path, name, old, new, unique=True):
    """A copy of model `name` with the int32 vector `old` replaced by `new`
    (same length; its first occurrence when not unique): axis lists and
    shapes the converter never writes."""
    import struct
    with open(os.path.join(MODELS_DIR, name + ".tflite"), "rb") as f:
        data = f.read()
    a, b = struct.pack("<%di" % len(old), *old), struct.pack("<%di" % len(new), *new)
    assert data.count(a) == 1 or (not unique and data.count(a) > 1)
    path = str(tmp_path / (name + "_patched.tflite"))
    with open(path, "wb") as f:
        f.write(data.replace(a, b, 1))
    return path


def test_mean_negative_and_duplicate_axes(tmp_path):
    # [1, -3, 2, 3] resolves to {1, 2, 3}: axis 1 twice, batch (extent 1) not at all
    path = _patched(tmp_path, "mean_all", [0, 1, 2, 3], [1, -3, 2, 3])
    ref = H.tflm_ref.TflmModel(path)
    inputs = H.conformance_inputs(ref, n_random=3, model_name="mean_dup")
    expected = [ref.run(d) for _, d in inputs]
    for schedule in SCHEDULES:
        got = H.run_pexc(path, [d for _, d in inputs], ref.output_nbytes, schedule)
        _compare("mean_dup", got, ref, inputs, expected, schedule)


def test_axis_out_of_range_refused(tmp_path):
    path = _patched(tmp_path, "mean_all", [0, 1, 2, 3], [0, 1, 2, 4])
    r = subprocess.run([H.PEXC, "run", path, "--output", str(tmp_path / "o")], capture_output=True, text=True)
    assert r.returncode == 1
    assert "axis tensor" in r.stderr and "value 4 is out of range" in r.stderr, r.stderr


def _refused(path, tmp_path, *words):
    r = subprocess.run([H.PEXC, "run", path, "--output", str(tmp_path / "o")], capture_output=True, text=True)
    assert r.returncode == 1, r.stderr
    line = r.stderr.strip()
    assert "\n" not in line and all(w in line for w in words), line


def test_argmax_int64_refused(tmp_path):
    # TFLM computes int32 indices only and fails ARG_MAX with int64 output
    path = os.path.join(MODELS_DIR, "refused", "argmax_i64.tflite")
    with pytest.raises(Exception):
        H.tflm_ref.TflmModel(path).run(None)
    _refused(path, tmp_path, "operator 0 (ARG_MAX)", "output tensor", "int64")


def test_transpose_conv_output_shape_mismatch_refused(tmp_path):
    # [1, 8, 10, 3] is both the output_shape operand and the output tensor's
    # shape: changing either one makes them disagree
    path = _patched(tmp_path, "transpose_conv", [1, 8, 10, 3], [1, 8, 9, 3], unique=False)
    _refused(path, tmp_path, "TRANSPOSE_CONV", "output_shape tensor", "does not match output tensor")


M4_MODELS = ["resize_bilinear", "f_resize_bilinear", "f_l2_pool", "log_softmax", "f_transpose_conv"]


@pytest.mark.parametrize("name", [m for m in M4_MODELS if m in _models()])
def test_cortex_m4(name, tmp_path):
    """The generated C on an emulated Cortex-M4 (FPU float arithmetic, no
    heap): the first random input must give TFLM's bytes."""
    import test_codegen as CG
    if not CG._have_mcu():
        pytest.skip("arm-none-eabi-gcc / qemu-system-arm not installed")
    path, ref, inputs, expected = _reference(name)
    gen = tmp_path / "gen"
    r = subprocess.run([H.PEXC, "compile", path, "-o", str(gen), "--name", "m", "--target", "cortex-m4"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    got, _, _ = CG.mcu_run(gen, "m", inputs[0][1])
    _compare(name, [got], ref, inputs[:1], expected[:1], "cortex-m4")
