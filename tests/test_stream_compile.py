"""Generated C with streamed input (`pexc compile --stream-input`, issue 16):
NAME_run_stream asks a function of the caller's for each input's pixels as
the schedule needs them. Checked here, on the host, with
tests/codegen/stream_main.c feeding the pixels from the input file:

- the outputs are TFLM's golden outputs byte for byte on every shared
  input of the models test_stream_input.py streams (and NAME_run on the
  whole input agrees);
- the pixels are asked for in raster order, each once, and all of them
  (the driver checks each request starts where the last ended);
- the header's arena is the streamed peak `pexc inspect --stream-input`
  reports, below the held-whole one where the input was the bottleneck;
- a model whose first reader is a fully-connected layer (ad_autoencoder)
  is asked for its input in chunks, in order;
- the LSTM models are asked for their sequences a time step at a time, in
  order (a time step is a row), one request a step: micro_speech_lstm's 49
  steps of 257 bytes, mnist_lstm_float's 28 float32 steps of 112 bytes;
  dtln_int8's single time step is asked for whole; converter-made ones (a
  Conv1D first, a float32 batch of two) give the baseline's bytes;
- a callback returning an error stops the run at that call, and the run
  returns its status.
"""
import glob
import json
import os
import re
import subprocess

import pytest

import pexc_harness as H

# (the LSTM models: a time step, one row of the sequence, a request; the
# float one's 112 bytes each; dtln's single time step asked for whole)
MODELS = ["vww_96_int8", "micro_speech_int8", "kws_ds_cnn_int8", "ic_resnet8_int8", "person_detect_int8",
          "sww_int8", "ad_autoencoder_int8", "micro_speech_lstm_int8", "mnist_lstm_int8", "mnist_lstm_float",
          "dtln_int8"]

# the LSTM models' time steps (pixels) and bytes a time step
TIME_STEPS = {"micro_speech_lstm_int8": (49, 257), "mnist_lstm_int8": (28, 28), "mnist_lstm_float": (28, 112)}

pytestmark = pytest.mark.skipif(not (H.have_shared() and H.pexc_available()), reason="needs ../shared and build/pexc")

MAIN = os.path.join(H.ROOT, "tests", "codegen", "stream_main.c")


def build(name, tmp_path, extra=()):
    """name: a shared model, or a .tflite path."""
    out = str(tmp_path / "gen")
    model = name if name.endswith(".tflite") else H.shared_model(name)
    r = subprocess.run([H.PEXC, "compile", model, "--stream-input", "-o", out, "--name", "m", *extra],
                       capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    srcs = sorted(os.path.join(out, f) for f in os.listdir(out) if f.endswith(".c"))
    exe = str(tmp_path / "run")
    r = H.cc_build(["gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off",
                    "-DPEXC_MODEL=m", "-DPEXC_MACRO=M", "-I" + out, MAIN] + srcs + ["-o", exe, "-lm"])
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    with open(os.path.join(out, "m.h")) as f:
        return exe, f.read()


def header_int(header, macro):
    return int(re.search(r"#define %s (\d+)" % macro, header).group(1))


def calls_of(stdout):
    m = re.search(r"input 0: (\d+) calls, (\d+) of (\d+) pixels", stdout)
    return int(m.group(1)), int(m.group(2)), int(m.group(3))


@pytest.mark.parametrize("name", MODELS)
def test_streamed_c_gives_golden_outputs(name, tmp_path):
    exe, header = build(name, tmp_path)
    r = subprocess.run([H.PEXC, "inspect", H.shared_model(name), "--stream-input", "--json"], capture_output=True)
    j = json.loads(r.stdout)
    assert header_int(header, "M_ARENA_BYTES") == j["peak_sram_bytes"]
    streamed = j["inputs_streamed"][0]
    assert header_int(header, "M_INPUT0_STREAMED") == int(streamed)
    n = 0
    for inp in sorted(glob.glob(os.path.join(H.INPUTS_DIR, name + ".*.bin"))):
        tag = os.path.basename(inp)[len(name) + 1:-4]
        golden = os.path.join(H.GOLDEN_DIR, "%s.%s.out" % (name, tag))
        if not os.path.exists(golden):
            continue
        out = tmp_path / (tag + ".out")
        r = subprocess.run([exe, inp, str(out)], capture_output=True, timeout=120)
        assert r.returncode == 0, r.stderr.decode()
        calls, got, total = calls_of(r.stdout.decode())
        assert got == total == header_int(header, "M_INPUT0_PIXELS")
        # streamed: many small requests; held whole: one
        assert (calls > 1) if streamed else (calls == 1)
        if name in TIME_STEPS:  # one request a time step, each a row
            assert calls == header_int(header, "M_INPUT0_PIXELS") == TIME_STEPS[name][0]
            assert header_int(header, "M_INPUT0_PIXEL_BYTES") == TIME_STEPS[name][1]
        with open(golden, "rb") as f:
            assert out.read_bytes() == f.read(), "%s on %s" % (name, tag)
        n += 1
    assert n > 0


@pytest.mark.parametrize("name,steps", [("lstm_conv1d_int8", 12), ("lstm_batch2_f32", 6)])
def test_streamed_c_converter_sequences(name, steps, tmp_path):
    """Converter-made sequence models (tests/models/seq): a Conv1D reading
    the input before its LSTM, a float32 batch-2 LSTM. Every time step
    asked for once, in order (the driver checks), and the bytes of
    `pexc run --schedule baseline` (TFLM's: tests/test_ops_seq.py) on a
    random input."""
    import numpy as np
    model = os.path.join(H.ROOT, "tests", "models", "seq", name + ".tflite")
    exe, header = build(model, tmp_path)
    assert header_int(header, "M_INPUT0_STREAMED") == 1
    n = header_int(header, "M_INPUT0_BYTES")
    rng = np.random.default_rng(7)
    data = (rng.uniform(-1, 1, n // 4).astype("<f4") if name.endswith("_f32")
            else rng.integers(-128, 128, n, dtype=np.int8)).tobytes()
    inp, out, want = tmp_path / "in.bin", tmp_path / "out.bin", tmp_path / "want.bin"
    inp.write_bytes(data)
    r = subprocess.run([exe, str(inp), str(out)], capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    calls, got, total = calls_of(r.stdout.decode())
    assert got == total == header_int(header, "M_INPUT0_PIXELS") == steps and calls > 1
    r = subprocess.run([H.PEXC, "run", model, "--schedule", "baseline", "--input", str(inp), "--output", str(want)],
                       capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    assert out.read_bytes() == want.read_bytes()


@pytest.mark.parametrize("name", ["vww_96_int8", "kws_ds_cnn_int8"])
def test_callback_error_stops_the_run(name, tmp_path):
    exe, _ = build(name, tmp_path)
    inp = sorted(glob.glob(os.path.join(H.INPUTS_DIR, name + ".*.bin")))[0]
    r = subprocess.run([exe, inp, str(tmp_path / "o")], capture_output=True, timeout=120)
    all_calls = calls_of(r.stdout.decode())[0]
    for fail_call, status in ((1, 7), (all_calls // 2, -3), (all_calls, 12345)):
        r = subprocess.run([exe, inp, str(tmp_path / "o"), str(fail_call), str(status)], capture_output=True,
                           timeout=120)
        assert r.returncode == 4, (r.stdout.decode(), r.stderr.decode())
        out = r.stdout.decode()
        assert "run status %d" % status in out
        # no request after the failing one
        assert calls_of(out)[0] == fail_call


@pytest.mark.parametrize("name,flags,decl", [
    ("micro_speech_int8", [], "int m_run_stream(void *arena, m_read_fn read, void *ctx, void *const *outputs);"),
    # with --stream-output (test_stream_output.py) NAME_run_io goes through
    # the emitted writer into whole arrays
    ("ad_autoencoder_int8", ["--stream-output"],
     "int m_run_stream(void *arena, m_read_fn read, m_write_fn write, void *ctx);")])
def test_streamed_c_with_caller_arena(name, flags, decl, tmp_path):
    """--arena caller: NAME_run_stream takes the arena first; same output."""
    out = str(tmp_path / "gen")
    r = subprocess.run([H.PEXC, "compile", H.shared_model(name), "--stream-input", *flags, "--arena", "caller",
                        "-o", out, "--name", "m"], capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    with open(os.path.join(out, "m.h")) as f:
        assert decl in f.read()
    # the whole-input entry point, built with the codegen tests' host driver
    srcs = sorted(os.path.join(out, f) for f in os.listdir(out) if f.endswith(".c"))
    exe = str(tmp_path / "run")
    r = H.cc_build(["gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off",
                    "-DPEXC_MODEL=m", "-DPEXC_MACRO=M", "-DPEXC_CALLER_ARENA", "-I" + out,
                    os.path.join(H.ROOT, "tests", "codegen", "host_main.c")] + srcs + ["-o", exe, "-lm"])
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    inp = sorted(glob.glob(os.path.join(H.INPUTS_DIR, name + ".*.bin")))[0]
    tag = os.path.basename(inp)[len(name) + 1:-4]
    r = subprocess.run([exe, inp, str(tmp_path / "o")], capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    with open(os.path.join(H.GOLDEN_DIR, "%s.%s.out" % (name, tag)), "rb") as f:
        assert (tmp_path / "o").read_bytes() == f.read()


@pytest.mark.parametrize("name,kwargs,flags", [
    ("vww_96_int8", {"stream_input": True}, ["--stream-input"]),
    # both ends (test_stream_output.py): the header's callbacks, 640 bytes
    ("ad_autoencoder_int8", {"stream_input": True, "stream_output": True}, ["--stream-input", "--stream-output"])])
def test_python_compile_stream_input(name, kwargs, flags, tmp_path):
    """pexc.compile(..., stream_input=True[, stream_output=True]) is compile
    --stream-input [--stream-output]: the same header, figures of the
    streamed plan."""
    import sys
    H.skip_unless_binding_loadable()
    build = os.environ.get("PEXC_BUILD", "build")
    r = subprocess.run(["make", "-s", "BUILD=" + build, build + "/libpexc.so"], capture_output=True, timeout=900,
                       cwd=H.ROOT)
    assert r.returncode == 0, r.stderr.decode()[-3000:]  # the module loads this library: build it current
    sys.path.insert(0, os.path.join(H.ROOT, "python"))
    try:
        import pexc
    except ImportError as e:
        pytest.skip(str(e))
    model = H.shared_model(name)
    figures = pexc.compile(model, str(tmp_path / "py"), name="m", **kwargs)
    r = subprocess.run([H.PEXC, "compile", model, *flags, "-o", str(tmp_path / "cli"), "--name", "m"],
                       capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    py, cli = ((tmp_path / d / "m.h").read_text() for d in ("py", "cli"))
    assert py == cli and "m_run_stream" in py
    assert figures["peak_sram_bytes"] == header_int(py, "M_ARENA_BYTES")
    assert figures["stream_input"] is True
    if "--stream-output" in flags:
        assert "m_write_fn write" in py
        assert figures["peak_sram_bytes"] == 640 and figures["outputs_streamed"] == [True]


@pytest.mark.parametrize("arena", ["static", "caller"])
def test_streamed_c_is_warning_free(arena, tmp_path):
    """The streamed entry points compile under the strict flags the codegen
    tests hold generated code to (-pedantic -Wconversion -Wcast-qual ...)."""
    out = str(tmp_path / "gen")
    r = subprocess.run([H.PEXC, "compile", H.shared_model("kws_ds_cnn_int8"), "--stream-input", "--arena", arena,
                        "-o", out, "--name", "m"], capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    r = subprocess.run(["gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off", "-pedantic",
                        "-Wconversion", "-Wshadow", "-Wcast-qual", "-Wstrict-prototypes", "-I" + out, "-c",
                        os.path.join(out, "m.c"), "-o", str(tmp_path / "m.o")], capture_output=True)
    assert r.returncode == 0, r.stderr.decode()[-3000:]


def test_longest_name(tmp_path):
    """A 127-character --name (the longest compile takes) still gives whole
    streamed-read code: micro_speech's golden output through the callback."""
    name = "s" * 127
    out = str(tmp_path / "gen")
    r = subprocess.run([H.PEXC, "compile", H.shared_model("micro_speech_int8"), "--stream-input", "-o", out,
                        "--name", name], capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    srcs = sorted(os.path.join(out, f) for f in os.listdir(out) if f.endswith(".c"))
    exe = str(tmp_path / "run")
    r = H.cc_build(["gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off",
                    "-DPEXC_MODEL=" + name, "-DPEXC_MACRO=" + name.upper(), "-I" + out, MAIN] + srcs +
                   ["-o", exe, "-lm"])
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    inp = sorted(glob.glob(os.path.join(H.INPUTS_DIR, "micro_speech_int8.*.bin")))[0]
    r = subprocess.run([exe, inp, str(tmp_path / "o")], capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    golden = os.path.join(H.GOLDEN_DIR, os.path.basename(inp)[:-4] + ".out")
    with open(golden, "rb") as f:
        assert (tmp_path / "o").read_bytes() == f.read()
