"""The generated directory's CMakeLists.txt, for the host and for the emulated
Cortex-M4, with the static arena and with --arena caller: the firmware
(tests/codegen/cmake) only does add_subdirectory(gen) and links the target
NAME; the outputs must equal the TFLM goldens in ../shared/models/golden.
"""

import os
import shutil
import subprocess

import pytest

import pexc_harness as H
from test_codegen import golden_inputs, write_input_c, MCU_RUN, _have_mcu

pytestmark = pytest.mark.skipif(not (H.have_shared() and H.pexc_available() and shutil.which("cmake")),
                                reason="needs ../shared, build/pexc and cmake")

PROJECT = os.path.join(H.ROOT, "tests", "codegen", "cmake")
TOOLCHAIN = os.path.join(H.ROOT, "examples", "firmware", "cortex-m4.cmake")
MODELS = ["hello_world_int8", "ad_autoencoder_int8", "kws_ds_cnn_int8"]


def _run(cmd, **kw):
    r = subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600, **kw)
    assert r.returncode == 0, "%s: exit %d\n%s\n%s" % (" ".join(map(str, cmd)), r.returncode,
                                                      r.stdout.decode()[-2000:], r.stderr.decode()[-3000:])
    return r


def build(tmp_path, model, arena, target, extra=()):
    gen = tmp_path / "gen"
    _run([H.PEXC, "compile", H.shared_model(model), "-o", gen, "--arena", arena, "--target", target])
    b = tmp_path / "build"
    _run(["cmake", "-S", PROJECT, "-B", b, "-DPEXC_GEN=%s" % gen, "-DPEXC_MODEL=%s" % model,
          "-DPEXC_CALLER_ARENA=%s" % ("ON" if arena == "caller" else "OFF")] + list(extra))
    _run(["cmake", "--build", b])
    return b


@pytest.mark.parametrize("arena", ["static", "caller"])
@pytest.mark.parametrize("model", MODELS)
def test_cmake_host(tmp_path, model, arena):
    b = build(tmp_path, model, arena, "host")
    for label, data, want in golden_inputs(model):
        inp, out = tmp_path / "in.bin", tmp_path / "out.bin"
        inp.write_bytes(data)
        _run([b / "app", inp, out])
        assert out.read_bytes() == want, "%s.%s (%s arena): not the golden output" % (model, label, arena)


@pytest.mark.skipif(not _have_mcu(), reason="arm-none-eabi-gcc / qemu-system-arm not installed")
@pytest.mark.parametrize("arena", ["static", "caller"])
@pytest.mark.parametrize("model", MODELS)
def test_cmake_cortex_m4(tmp_path, model, arena):
    label, data, want = golden_inputs(model)[0]
    assert label == "det"
    inp = write_input_c(tmp_path, data)
    b = build(tmp_path, model, arena, "cortex-m4",
              ["-DCMAKE_TOOLCHAIN_FILE=%s" % TOOLCHAIN, "-DMCU=%s" % os.path.join(H.SHARED, "mcu"),
               "-DTEST_INPUT=%s" % inp])
    r = _run([MCU_RUN, "-q", "-t", "120", "mps2-an386", b / "app.elf"])
    out = r.stdout.decode()
    line = [ln for ln in out.splitlines() if ln.startswith("out ")]
    assert line, out
    assert bytes.fromhex(line[0][4:]) == want, "%s (%s arena) on the Cortex-M4: not the golden output" % (model,
                                                                                                         arena)
