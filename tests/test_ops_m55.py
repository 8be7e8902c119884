"""The generated C of shared models on an emulated Cortex-M55 (mps3-an547,
with Helium) gives their golden outputs, baseline and min-sram schedules.

Each model-schedule is compiled with `pexc compile --target cortex-m55`,
built with mcu-run's M55 flags (so runtime/src/mve_*.c take over the
convolutions, depthwise and fully connected layers and ADD) and run once on
the deterministic input by bench/m4.py's own driver (bench/m55.py's
settings); the output must equal ../shared/models/golden/MODEL.det.out byte
for byte. The firmware must contain the MVE entry points (they exist only
when the build has integer MVE), so a build that lost Helium cannot pass
unnoticed. The models cover every MVE path: kws_ds_cnn
(a first-layer 10x4 convolution, depthwise 3x3, pointwise, fully
connected), ic_resnet8 (3x3 convolutions with padding and strides, ADD)
and micro_speech (a one-channel depthwise layer by channel, fully
connected). The instruction counts are bench/m55.py's business.
"""
import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "bench"))
import m55  # noqa: E402  (sets bench/m4.py up for the M55)

M4 = m55.m4
MODELS = ["kws_ds_cnn_int8", "ic_resnet8_int8", "micro_speech_int8"]
SCHEDULES = ["baseline", "min-sram"]


def _have_mcu():
    import shutil
    return os.access(M4.MCU_RUN, os.X_OK) and shutil.which("arm-none-eabi-gcc") and shutil.which("qemu-system-arm")


@pytest.mark.skipif(not _have_mcu(), reason="needs ../shared/mcu/mcu-run, arm-none-eabi-gcc and qemu-system-arm")
@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("model", MODELS)
def test_shared_model_on_m55(model, schedule, tmp_path):
    if not M4.H.pexc_available():
        pytest.skip("build/pexc not built")
    r = M4.bench_one(M4.compile_cmd(str(tmp_path)), model, schedule, str(tmp_path), "-O2")
    assert "error" not in r, "%s/%s on mps3-an547: %s" % (model, schedule, r.get("error"))
    assert r["match"], "%s/%s on mps3-an547: output differs from the golden" % (model, schedule)
    elf = os.path.join(str(tmp_path), "%s-%s" % (model, schedule), "fw", "prog.elf")
    syms = subprocess.run(["arm-none-eabi-nm", elf], capture_output=True, text=True).stdout
    want = ["pexc_mve_conv2d_s8"] + (["pexc_mve_fully_connected_s8"] if schedule == "baseline" else []) + (["pexc_mve_add_s8"] if "resnet" in model else [])
    for sym in want:
        assert sym in syms, "%s/%s: no %s in the firmware: the Helium paths were not built" % (model, schedule, sym)
