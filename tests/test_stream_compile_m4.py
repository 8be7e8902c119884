"""Streamed-input generated C on the emulated Cortex-M4 (mps2-an386 under
QEMU, ../shared/mcu/mcu-run; issue 16): tests/codegen/mcu_stream_main.c
feeds NAME_run_stream from an input array in flash, pixel run by pixel run,
checking each request starts where the last ended (mobilenet_v2's NCHW
input, its TRANSPOSE folded: a run of each channel plane in turn, each
plane checked so). Checked: TFLM's golden output byte for byte, every
input byte delivered once, and the firmware's .bss
is the header's arena plus the output and a few bytes of driver state (the
arena is the whole activation SRAM). With --stream-output too
(ad_autoencoder), the output arrives through the write callback.
"""
import glob
import json
import os
import re
import shutil
import subprocess

import pytest

import pexc_harness as H

MCU_RUN = os.path.join(H.SHARED, "mcu", "mcu-run")
MAIN = os.path.join(H.ROOT, "tests", "codegen", "mcu_stream_main.c")
# (micro_speech_lstm_int8: its [1, 49, 257] spectrogram asked for a time
# step of 257 bytes at a time as its LSTM runs it)
MODELS = ["vww_96_int8", "micro_speech_int8", "kws_ds_cnn_int8", "ic_resnet8_int8", "person_detect_int8",
          "sww_int8", "ad_autoencoder_int8", "mobilenet_v2_int8", "micro_speech_lstm_int8"]
# inputs the header declares as channel planes (NAME_INPUT0_PLANES)
PLANES = {"mobilenet_v2_int8": 3}

pytestmark = [
    pytest.mark.skipif(not (H.have_shared() and H.pexc_available()), reason="needs ../shared and build/pexc"),
    pytest.mark.skipif(not (os.access(MCU_RUN, os.X_OK) and shutil.which("arm-none-eabi-gcc")
                            and shutil.which("qemu-system-arm")),
                       reason="arm-none-eabi-gcc / qemu-system-arm not installed (../shared/mcu/install-deps.sh)"),
]


def header_int(header, macro):
    return int(re.search(r"#define %s (\d+)" % macro, header).group(1))


def run_on_m4(name, tmp_path, flags, defines=()):
    """compile name with flags for the Cortex-M4, run it under QEMU on its
    first shared input that has a golden output; (header, golden, stdout,
    stderr)."""
    gen = tmp_path / "gen"
    r = subprocess.run([H.PEXC, "compile", H.shared_model(name), *flags, "--target", "cortex-m4", "-o", str(gen),
                        "--name", "m"], capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    header = (gen / "m.h").read_text()
    inp = sorted(glob.glob(os.path.join(H.INPUTS_DIR, name + ".*.bin")))
    inp = [p for p in inp if os.path.exists(os.path.join(H.GOLDEN_DIR, os.path.basename(p)[:-4] + ".out"))][0]
    with open(inp, "rb") as f:
        data = f.read()
    with open(os.path.join(H.GOLDEN_DIR, os.path.basename(inp)[:-4] + ".out"), "rb") as f:
        want = f.read()
    src = tmp_path / "input.c"
    src.write_text("#include <stdint.h>\nconst uint8_t pexc_test_input[%d] = {\n%s\n};\n"
                   % (len(data), ",".join(str(b) for b in data)))
    srcs = sorted(str(p) for p in gen.iterdir() if p.suffix == ".c")
    r = subprocess.run([MCU_RUN, "-t", "120", "--heap", "0", "mps2-an386"]
                       + H.mcu_cached("mps2-an386", [MAIN, str(src)] + srcs + [
                           "-I" + str(gen), "-DPEXC_MODEL=m", "-DPEXC_MACRO=M", *defines, "-ffp-contract=off",
                           "-Werror"]), capture_output=True, timeout=300)
    out, err = r.stdout.decode(), r.stderr.decode()
    assert r.returncode == 0, "exit %d\n%s\n%s" % (r.returncode, out[-2000:], err[-3000:])
    assert bytes.fromhex(re.search(r"^out ([0-9a-f]*)$", out, re.M).group(1)) == want
    return header, want, out, err


@pytest.mark.parametrize("name", MODELS)
def test_streamed_c_on_m4_gives_golden(name, tmp_path):
    header, want, out, err = run_on_m4(name, tmp_path, ["--stream-input"])
    assert header_int(header, "M_INPUT0_PLANES") == PLANES.get(name, 0)
    pixels = int(re.search(r"^pixels (\d+)$", out, re.M).group(1))
    assert pixels == header_int(header, "M_INPUT0_PIXELS")
    bss = int(re.search(r"bss (\d+)", err).group(1))
    arena = header_int(header, "M_ARENA_BYTES")
    assert arena <= bss - len(want) <= arena + 64, (bss, arena)


def test_streamed_output_on_m4_gives_golden(tmp_path):
    """compile --stream-input --stream-output: ad_autoencoder's input read
    in chunks from flash, its output handed to a write callback into an
    array, in order (the driver checks), TFLM's golden bytes; the
    firmware's .bss is the header's arena (640, the streamed peak) plus
    that array and a few bytes."""
    header, want, out, err = run_on_m4("ad_autoencoder_int8", tmp_path, ["--stream-input", "--stream-output"],
                                       ["-DPEXC_STREAM_OUT"])
    assert int(re.search(r"^pixels (\d+)$", out, re.M).group(1)) == header_int(header, "M_INPUT0_PIXELS") == 640
    assert int(re.search(r"^writes (\d+)$", out, re.M).group(1)) > 1
    arena = header_int(header, "M_ARENA_BYTES")
    assert arena == 640
    bss = int(re.search(r"bss (\d+)", err).group(1))
    assert arena <= bss - len(want) <= arena + 64, (bss, arena)


def test_camera_example(tmp_path):
    """examples/camera (vww_96 reading a frame in flash through the
    streamed-input callback) prints TFLM's scores for the frame under QEMU,
    in an arena of the streamed peak."""
    for f in ("main.c", "Makefile"):
        shutil.copy(os.path.join(H.ROOT, "examples", "camera", f), str(tmp_path))
    r = subprocess.run(["make", "-s", "ROOT=" + H.ROOT, "SHARED=" + H.SHARED, "PEXC=" + H.PEXC],
                       cwd=str(tmp_path), capture_output=True, timeout=300)
    out = r.stdout.decode()
    assert r.returncode == 0, out[-2000:] + r.stderr.decode()[-2000:]
    with open(os.path.join(H.GOLDEN_DIR, "vww_96_int8.det.out"), "rb") as f:
        want = [b - 256 if b > 127 else b for b in f.read()]
    assert "scores: %s\n" % " ".join(map(str, want)) in out
    header = (tmp_path / "gen" / "vww_96_int8.h").read_text()
    r = subprocess.run([H.PEXC, "inspect", H.shared_model("vww_96_int8"), "--stream-input", "--json"],
                       capture_output=True)
    assert header_int(header, "VWW_96_INT8_ARENA_BYTES") == json.loads(r.stdout)["peak_sram_bytes"]
    assert "(arena %d bytes" % header_int(header, "VWW_96_INT8_ARENA_BYTES") in out
