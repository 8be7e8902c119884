"""Data-movement operators (src/ops/move.c) against TFLite Micro, byte for byte.

Every model in tests/models/move (tools/gen_models_move.py: converter-made
and hand-built) runs in TFLM and in `pexc run` under both schedules on
seeded random inputs and the extremes; models whose inputs become indices
get inputs inside the indexed range, the CAST model floats far outside the
integer ranges (NaN and infinities included). Out-of-range run-time indices
must make pexc fail, not read outside the tensor. The generated C of a few
models is built with gcc -Werror and run on the host.
"""

import glob
import os
import shutil
import subprocess
import tempfile

import numpy as np
import pytest

import pexc_harness as H

MOVE_DIR = os.path.join(H.ROOT, "tests", "models", "move")
MODELS = sorted(glob.glob(os.path.join(MOVE_DIR, "*.tflite")))
SCHEDULES = ["baseline", "min-sram"]

# inputs for models whose input values become indices: [lo, hi)
INDEX_RANGE = {"hand_gather_rt": (0, 8), "hand_gather_nd_rt": (0, 4), "hand_embedding_rt": (0, 8),
               "hand_embedding_hybrid_rt": (0, 8)}


def _name(path):
    return os.path.basename(path)[:-7]


def _inputs(ref, name):
    if name in INDEX_RANGE:
        lo, hi = INDEX_RANGE[name]
        rng = np.random.default_rng(7)
        return [("idx%d" % k, rng.integers(lo, hi, ref.input_count).astype(ref.input_dtype).tobytes())
                for k in range(4)]
    if name.startswith("hand_cast"):
        special = np.array([0.0, -0.0, 0.99, -0.99, 127.5, -128.7, 300.7, -300.7, 40000.2, -70000.9,
                            3e9, -3e9, 1e30, np.inf, -np.inf, np.nan], np.float32)
        rng = np.random.default_rng(3)
        out = [("special", np.resize(special, ref.input_count).astype(np.float32).tobytes())]
        for k in range(3):
            out.append(("wide%d" % k, rng.uniform(-5e4, 5e4, ref.input_count).astype(np.float32).tobytes()))
        return out
    return H.conformance_inputs(ref, model_name=name)


@pytest.mark.parametrize("model", MODELS, ids=[_name(m) for m in MODELS])
def test_move_matches_tflm(model):
    if not H.tflm_ref.available():
        pytest.skip("tflite-micro is not installed")
    name = _name(model)
    ref = H.tflm_ref.TflmModel(model)
    inputs = _inputs(ref, name)
    expected = [ref.run(d) for _, d in inputs]
    for sched in SCHEDULES:
        got = H.run_pexc(model, [d for _, d in inputs], ref.output_nbytes, sched)
        for (label, _), e, g in zip(inputs, expected, got):
            assert e == g, "%s %s %s: %s" % (name, sched, label, H.describe_mismatch(e, g, ref.output_dtype))


@pytest.mark.parametrize("name", sorted(INDEX_RANGE))
def test_move_runtime_index_out_of_range_fails(name):
    """An index outside the tensor is a kernel error, as in TFLM's
    EMBEDDING_LOOKUP and GATHER_ND (TFLM's GATHER only debug-checks)."""
    model = os.path.join(MOVE_DIR, name + ".tflite")
    ref = H.tflm_ref.TflmModel(model)
    bad = np.full(ref.input_count, 9, np.int8).tobytes()
    with tempfile.TemporaryDirectory() as tmp:
        inp = os.path.join(tmp, "in.bin")
        with open(inp, "wb") as f:
            f.write(bad)
        p = subprocess.run([H.PEXC, "run", model, "--input", inp, "--output", os.path.join(tmp, "o.bin")],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    assert p.returncode == 1 and b"kernel returned status" in p.stderr, p.stderr


BUILD_MODELS = ["strided_slice_neg", "pack_unpack", "split_h", "slice", "space_to_batch", "mirror_pad_reflect", "padv2", "gather",
                "gather_nd", "resize_nn_align", "hand_cast", "hand_embedding_hybrid_rt", "hand_shape", "hand_gather_nd_rt", "f32_pad5",
                "hand_int16"]


@pytest.mark.skipif(shutil.which("gcc") is None, reason="gcc is not installed")
def test_move_generated_c_builds_and_matches():
    """pexc compile output of one model per kernel builds with -Werror and
    gives pexc run's bytes."""
    with tempfile.TemporaryDirectory(prefix="pexc_move_c_") as tmp:
        for name in BUILD_MODELS:
            model = os.path.join(MOVE_DIR, name + ".tflite")
            ref = H.tflm_ref.TflmModel(model)
            data = _inputs(ref, name)[0][1]
            gen = os.path.join(tmp, name)
            subprocess.run([H.PEXC, "compile", model, "-o", gen, "--name", "m"], check=True, timeout=60)
            main = os.path.join(gen, "main.c")
            with open(main, "w") as f:
                f.write('#include <stdio.h>\n#include "m.h"\n'
                        "static unsigned char in[%d], out[%d];\n"
                        "int main(int c, char **v) {\n"
                        "    FILE *f = fopen(v[1], \"rb\");\n"
                        "    if (c < 3 || !f || fread(in, 1, sizeof in, f) != sizeof in) return 2;\n"
                        "    fclose(f);\n"
                        "    if (m_run(in, out)) return 3;\n"
                        "    f = fopen(v[2], \"wb\");\n"
                        "    return !f || fwrite(out, 1, sizeof out, f) != sizeof out || fclose(f);\n"
                        "}\n" % (len(data), ref.output_nbytes))
            srcs = sorted(glob.glob(os.path.join(gen, "*.c")))
            exe = os.path.join(gen, "a.out")
            r = H.cc_build(["gcc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off", "-I", gen,
                            "-o", exe] + srcs + ["-lm"], timeout=120)
            assert r.returncode == 0, r.stderr.decode()[-3000:]
            inp, outp = os.path.join(gen, "in.bin"), os.path.join(gen, "out.bin")
            with open(inp, "wb") as f:
                f.write(data)
            subprocess.run([exe, inp, outp], check=True, timeout=60)
            with open(outp, "rb") as f:
                assert f.read() == ref.run(data), name


def _bad_models():
    """(id, tensors, ops, does TFLM refuse it too) for models pexc must refuse."""
    q = (0.05, 0)
    x = ("x", "INT8", [2, 3, 4], None, q)
    i32 = lambda name, v: (name, "INT32", [len(v)], np.array(v, np.int32), None)  # noqa: E731
    return [
        ("reverse_non_contiguous", [x, i32("ax", [0, 2]), ("y", "INT8", [2, 3, 4], None, q)],
         [("REVERSE_V2", [0, 1], [2], None, {})], True),
        ("gather_int16", [("x", "INT16", [4, 3], None, None), i32("i", [1, 0]), ("y", "INT16", [2, 3], None, None)],
         [("GATHER", [0, 1], [2], "GatherOptions", {"axis": 0})], True),
        ("gather_const_index_out_of_range", [x, i32("i", [1, 2]), ("y", "INT8", [2, 3, 4], None, q)],
         [("GATHER", [0, 1], [2], "GatherOptions", {"axis": 0})], False),
        ("cast_to_int64", [x, ("y", "INT64", [2, 3, 4], None, None)], [("CAST", [0], [1], None, {})], True),
        ("transpose_int32", [("x", "INT32", [2, 3], None, None), i32("p", [1, 0]),
                             ("y", "INT32", [3, 2], None, None)], [("TRANSPOSE", [0, 1], [2], None, {})], True),
        ("concat_rescale", [x, ("x2", "INT8", [2, 3, 4], None, (0.1, 0)), ("y", "INT8", [2, 3, 8], None, q)],
         [("CONCATENATION", [0, 1], [2], "ConcatenationOptions", {"axis": 2})], True),
        ("padv2_value_quant", [x, ("p", "INT32", [3, 2], np.array([[0, 0], [1, 1], [0, 0]], np.int32), None),
                               ("v", "INT8", [], np.array([5], np.int8), (0.1, 0)),
                               ("y", "INT8", [2, 5, 4], None, q)],
         [("PADV2", [0, 1, 2], [3], None, {})], True),
        ("strided_slice_new_axis", [x, i32("b", [0, 0, 0]), i32("e", [2, 3, 4]), i32("s", [1, 1, 1]),
                                    ("y", "INT8", [2, 1, 3, 4], None, q)],
         [("STRIDED_SLICE", [0, 1, 2, 3], [4], "StridedSliceOptions", {"newAxisMask": 2})], True),
        ("tile", [x, i32("m", [1, 2, 1]), ("y", "INT8", [2, 6, 4], None, q)],
         [("TILE", [0, 1], [2], None, {})], True),
    ]


@pytest.mark.parametrize("case", _bad_models(), ids=[b[0] for b in _bad_models()])
def test_move_refuses_what_tflm_refuses(case):
    import gen_models_move as G
    name, tensors, ops, tflm_refuses = case
    blob = G.build_handmade(name, tensors, ops, [0], [len(tensors) - 1])
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, name + ".tflite")
        with open(path, "wb") as f:
            f.write(blob)
        p = subprocess.run([H.PEXC, "inspect", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        err = p.stderr.decode()
        assert p.returncode == 1 and "operator" in err and err.count("\n") == 1, err
        if tflm_refuses and H.tflm_ref.available():
            with pytest.raises(Exception):
                ref = H.tflm_ref.TflmModel(path)
                ref.run(bytes(ref.input_nbytes))
