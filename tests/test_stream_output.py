"""The model's streamed ends (issue 16): --stream-output hands each output to
the caller as the plan makes it, and --stream-input lets a fully-connected
layer read a model input in chunks into int32 partial sums
(src/sched/stream_io.c). Checked here:

- `pexc run --stream-output` (with and without --stream-input) writes
  TFLM's golden outputs byte for byte on every shared input, the output
  file written piece by piece through the executor's callback;
- the exact peaks of ad_autoencoder (input 640 and output 640 around its
  FC chain): 768 held whole, 640 with both ends streamed, and each MAC
  still done once;
- --sram with streaming is held to the streamed plan: a budget below the
  held-whole peak fits, one below the least streamed peak names it;
- the generated C (host): NAME_run_stream's write callback gets the output
  in order, each element once, TFLM's bytes; a write or read callback
  returning non-zero stops the run with that status;
- the memory-over-time SVG draws the input's chunks and the output's pieces
  as bands of their own;
- a row-streamed output (seg_map_cnn, tests/models/stream: a 32x32x8 map)
  leaves through a ring of one step's pixels: its exact peaks, TFLM's
  bytes from run and from the emitted C.
(On the emulated Cortex-M4: test_stream_compile_m4.py; the verifier's
refusals: tests/unit/test_verify_stream_io.c; the Python binding:
test_stream_compile.py.)
"""
import glob
import json
import os
import re
import subprocess

import pytest

import pexc_harness as H

pytestmark = pytest.mark.skipif(not (H.have_shared() and H.pexc_available()), reason="needs ../shared and build/pexc")

MAIN = os.path.join(H.ROOT, "tests", "codegen", "stream_main.c")
AD = "ad_autoencoder_int8"


def pexc(*args, timeout=300):
    return subprocess.run([H.PEXC, *args], capture_output=True, timeout=timeout)


def golden_pairs(name):
    for inp in sorted(glob.glob(os.path.join(H.INPUTS_DIR, name + ".*.bin"))):
        golden = os.path.join(H.GOLDEN_DIR, os.path.basename(inp)[:-4] + ".out")
        if os.path.exists(golden):
            with open(golden, "rb") as f:
                yield inp, f.read()


@pytest.mark.parametrize("name", [AD, "micro_speech_int8", "kws_ds_cnn_int8", "sww_int8", "mnist_lstm_int8"])
@pytest.mark.parametrize("flags", [["--stream-output"], ["--stream-input", "--stream-output"]])
def test_streamed_output_matches_tflm_golden(name, flags, tmp_path):
    pairs = list(golden_pairs(name))
    assert pairs
    for inp, want in pairs:
        out = tmp_path / "out.bin"
        r = pexc("run", H.shared_model(name), *flags, "--input", inp, "--output", str(out))
        assert r.returncode == 0, r.stderr.decode()
        assert out.read_bytes() == want, "%s on %s" % (name, inp)


def test_streamed_output_to_stdout():
    inp, want = next(golden_pairs(AD))
    r = pexc("run", H.shared_model(AD), "--stream-input", "--stream-output", "--input", inp, "--output", "-")
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout == want


def inspect(name, *flags):
    r = pexc("inspect", H.shared_model(name), "--json", *flags)
    assert r.returncode == 0, r.stderr.decode()
    return json.loads(r.stdout)


@pytest.mark.parametrize("flags,peak", [([], 768), (["--stream-input"], 768), (["--stream-output"], 768),
                                        (["--stream-input", "--stream-output"], 640)])
def test_ad_autoencoder_peaks(flags, peak):
    """Chunked input alone leaves the 640-byte output beside its 128-byte
    input (768); streamed output alone leaves the 640-byte input; both give
    the partial sums (512) plus a 128-byte chunk."""
    j = inspect(AD, *flags)
    assert j["peak_sram_bytes"] == peak
    assert j["lower_bound_bytes"] <= peak
    if "--stream-input" in flags:
        assert j["inputs_streamed"] == [True]
    if "--stream-output" in flags:
        assert j["outputs_streamed"] == [True]


def test_each_mac_once_and_says_what_streams():
    out = pexc("inspect", H.shared_model(AD), "--stream-input", "--stream-output").stdout.decode()
    rows = [l.split() for l in out.splitlines() if l[:5].strip().isdigit()]
    total = int(next(l for l in out.splitlines() if l.startswith("schedule ")).split(" MACs")[0].split()[-1])
    assert sum(int(r[-2]) for r in rows) == total == 264192
    assert "input 0 streamed: read in chunks by a fully-connected layer" in out
    assert re.search(r"output 0 streamed: handed over in \d+ pieces", out)
    # the first layer reads its input in chunks into partial sums
    assert [r[3] for r in rows[:6]] == ["acc"] * 5 + ["finish"]


def test_sram_budget_held_to_the_streamed_plan():
    model = H.shared_model("vww_96_int8")
    # held whole, 12 KiB is below vww's least peak (28,032)
    r = pexc("inspect", model, "--sram", "12K")
    assert r.returncode == 1 and b"28032 bytes" in r.stderr
    least = inspect("vww_96_int8", "--stream-input")
    fit = inspect("vww_96_int8", "--stream-input", "--sram", "12K")
    assert fit["peak_sram_bytes"] <= 12 * 1024
    assert fit["steps"] <= least["steps"]
    r = pexc("inspect", model, "--stream-input", "--sram", str(least["peak_sram_bytes"] - 1))
    assert r.returncode == 1
    msg = r.stderr.decode()
    assert "least peak pexc reaches with streamed input, %d bytes" % least["peak_sram_bytes"] in msg, msg
    assert msg.count("\n") == 1
    # ad_autoencoder: 700 bytes fit only with both ends streamed
    assert pexc("inspect", H.shared_model(AD), "--sram", "700").returncode == 1
    assert inspect(AD, "--stream-input", "--stream-output", "--sram", "700")["peak_sram_bytes"] == 640


def build_stream_c(tmp_path, name, flags):
    """compile (a shared model's name, or a path) and build it around
    stream_main.c with the write callback; (gen dir, executable)."""
    gen = tmp_path / "gen"
    model = name if os.path.sep in name else H.shared_model(name)
    r = pexc("compile", model, *flags, "-o", str(gen), "--name", "m")
    assert r.returncode == 0, r.stderr.decode()
    exe = tmp_path / "run"
    srcs = sorted(str(p) for p in gen.iterdir() if p.suffix == ".c")
    r = H.cc_build(["gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off",
                    "-DPEXC_STREAM_OUT", "-DPEXC_MODEL=m", "-DPEXC_MACRO=M", "-I" + str(gen), MAIN] + srcs +
                   ["-o", str(exe), "-lm"])
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    return gen, exe


@pytest.mark.parametrize("name", [AD, "micro_speech_int8"])
def test_generated_c_streams_output(name, tmp_path):
    gen, exe = build_stream_c(tmp_path, name, ["--stream-input", "--stream-output"])
    header = (gen / "m.h").read_text()
    assert "int m_run_stream(m_read_fn read, m_write_fn write, void *ctx);" in header
    arena = int(re.search(r"#define M_ARENA_BYTES (\d+)", header).group(1))
    assert arena == inspect(name, "--stream-input", "--stream-output")["peak_sram_bytes"]
    for inp, want in golden_pairs(name):
        out = tmp_path / "out.bin"
        r = subprocess.run([str(exe), inp, str(out)], capture_output=True)
        assert r.returncode == 0, r.stderr.decode() + r.stdout.decode()
        assert out.read_bytes() == want
        elems = len(want)
        assert re.search(r"output 0: \d+ writes, %d of %d elements" % (elems, elems), r.stdout.decode())


def test_generated_c_callback_errors_stop_the_run(tmp_path):
    _, exe = build_stream_c(tmp_path, AD, ["--stream-input", "--stream-output"])
    inp, _ = next(golden_pairs(AD))
    out = str(tmp_path / "out.bin")
    # the third write fails: two 128-element pieces went out, the run stops
    r = subprocess.run([str(exe), inp, out, "w3", "7"], capture_output=True)
    assert r.returncode == 4, r.stderr.decode()
    assert "run status 7" in r.stdout.decode()
    assert "output 0: 3 writes, 256 of 640 elements" in r.stdout.decode()
    # the second read fails: nothing has been written yet
    r = subprocess.run([str(exe), inp, out, "2", "5"], capture_output=True)
    assert r.returncode == 4
    assert "run status 5" in r.stdout.decode()
    assert "output 0: 0 writes" in r.stdout.decode()


def test_svg_draws_the_streamed_ends(tmp_path):
    svg = tmp_path / "m.svg"
    r = pexc("inspect", H.shared_model(AD), "--stream-input", "--stream-output", "--svg", str(svg))
    assert r.returncode == 0, r.stderr.decode()
    text = svg.read_text()
    # five input chunks arriving, five output pieces leaving (plus a legend entry each)
    assert len(re.findall(r"<title>tensor 0 [^<]*input arriving", text)) == 5
    assert len(re.findall(r"<title>tensor 30 [^<]*output leaving", text)) == 5
    # held whole, neither band is drawn
    r = pexc("inspect", H.shared_model(AD), "--svg", str(svg))
    assert "arriving (streamed)</title>" not in svg.read_text()


SEG = os.path.join(H.ROOT, "tests", "models", "stream", "seg_map_cnn.tflite")
GEN = os.path.join(H.ROOT, "tests", "models", "gen")


@pytest.mark.parametrize("flags,peak", [(["--schedule", "min-sram"], 8736), (["--stream-input"], 8704), (["--stream-output"], 3632),
                                        (["--stream-input", "--stream-output"], 768)])
def test_row_streamed_output_peaks(flags, peak):
    """seg_map_cnn (tools/gen_models_stream.py): two 3x3 convolutions make a
    32x32x8 map (8,192 bytes). Streamed out, the map is written into a ring
    of one step's pixels, each run handed over right after its step: the
    input (3,072 held whole) and the line buffer are what remain."""
    r = pexc("inspect", SEG, "--json", *flags)
    assert r.returncode == 0, r.stderr.decode()
    j = json.loads(r.stdout)
    assert j["peak_sram_bytes"] == peak
    if "--stream-output" in flags:
        assert j["outputs_streamed"] == [True]


def tflm_items(model, n_random):
    ref = H.tflm_ref.TflmModel(model)
    inputs = H.conformance_inputs(ref, n_random=n_random, model_name=os.path.basename(model))
    return [(data, ref.run(data)) for _, data in inputs]


def test_row_streamed_output_matches_tflm(tmp_path):
    """run --stream-output on seg_map_cnn and on converter-made single
    layers whose output becomes a ring: TFLM's bytes, every element once
    (the plan verifier) and in order (the file is appended piece by piece)."""
    models = [SEG] + [os.path.join(GEN, m) for m in ("conv_k3_s2_same_c4to12_relu.tflite",
                                                   "dw_k5_s2_same_m2_c3_relu6.tflite",
                                                   "avgpool_3x3_s1_same.tflite", "add_two_branches.tflite")]
    for model in models:
        for k, (data, want) in enumerate(tflm_items(model, 2)):
            inp, out = tmp_path / "in.bin", tmp_path / "out.bin"
            inp.write_bytes(data if data is not None else b"")
            args = ["run", model, "--stream-input", "--stream-output", "--output", str(out)]
            if data is not None:
                args += ["--input", str(inp)]
            r = pexc(*args)
            assert r.returncode == 0, r.stderr.decode()
            assert out.read_bytes() == want, "%s item %d" % (model, k)


def test_row_streamed_output_generated_c(tmp_path):
    """The emitted C hands seg_map_cnn's map over run by run (the driver
    checks the order), TFLM's bytes, in the 768-byte arena."""
    gen, exe = build_stream_c(tmp_path, SEG, ["--stream-input", "--stream-output"])
    assert int(re.search(r"#define M_ARENA_BYTES (\d+)", (gen / "m.h").read_text()).group(1)) == 768
    for data, want in tflm_items(SEG, 2):
        if data is None:
            continue
        inp, out = tmp_path / "in.bin", tmp_path / "out.bin"
        inp.write_bytes(data)
        r = subprocess.run([str(exe), str(inp), str(out)], capture_output=True)
        assert r.returncode == 0, r.stderr.decode() + r.stdout.decode()
        assert out.read_bytes() == want
        assert "8192 of 8192 elements" in r.stdout.decode()
