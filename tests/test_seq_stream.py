"""Sequences streamed: under min-sram an LSTM runs a few time steps per step,
its input read and its output written through ring buffers, into a
fully-connected layer that consumes the sequence into partial sums (a time
step is a row). Checked here:

- the exact peaks of the shared LSTM models and of the converter-made
  sequence models, baseline (whole tensors) and min-sram, and that min-sram
  streams an LSTM whose sequence is longer than one step (pexc verifies every plan before it inspects, runs or emits it;
  tests/unit/test_verify.c breaks a streamed sequence plan and expects
  the verifier to refuse it);
- the streamed plan gives the baseline's bytes and performs exactly its
  multiply-accumulates (counted inside the kernels, -DPEXC_COUNT_MACS);
- the generated C of a streamed int8 and float32 LSTM model calls the step
  form, builds with -Werror and reproduces the golden outputs;
- with --stream-input the sequence itself arrives a time step at a time
  (a time step is a row) into a ring of its own as the first LSTM (or the
  Conv1D before it) reads it: the exact peaks, the baseline's bytes and
  multiply-accumulates, and TFLM's bytes on the converter-made models
  (the shared ones' goldens: test_stream_input.py, test_stream_compile.py;
  tests/unit/test_verify.c breaks a streamed-input sequence plan).

Byte-identity with TFLM under both schedules is tests/test_ops_seq.py's.
"""
import json
import os
import subprocess

import pytest

import pexc_harness as H

SEQ_DIR = os.path.join(H.ROOT, "tests", "models", "seq")

# (baseline, min-sram) peaks in bytes, and whether min-sram streams the LSTM
EXPECTED = {
    "mnist_lstm_int8": (1424, 944, True),
    "micro_speech_lstm_int8": (16768, 12944, True),
    "mnist_lstm_float": (5536, 3424, True),
    # one time step per run: nothing to stream, the two states and the gates
    "dtln_int8": (1312, 1184, False),
    "lstm_stack_int8": (160, 144, True),
    "lstm_batch2_f32": (320, 272, True),
    # Conv1D -> LSTM -> FC streamed as one chain; 400 time steps
    "lstm_conv1d_int8": (208, 128, True),
    "lstm_long_int8": (2832, 1264, True),
    "lstm_seq_int8": (112, 112, False),
    "lstm_seq_f32": (336, 336, False),
}

# min-sram peaks with --stream-input, and whether the input streams (dtln's
# is a single time step; lstm_seq's output is the LSTM's sequence, so the
# LSTM streams alone, between its input's ring and its whole output)
STREAM_INPUT = {
    "mnist_lstm_int8": (192, True),
    "micro_speech_lstm_int8": (608, True),
    "mnist_lstm_float": (400, True),
    "dtln_int8": (1184, False),
    "lstm_stack_int8": (128, True),
    "lstm_batch2_f32": (236, True),
    "lstm_conv1d_int8": (96, True),
    "lstm_long_int8": (80, True),
    "lstm_seq_int8": (96, True),
    "lstm_seq_f32": (240, True),
}

pytestmark = pytest.mark.skipif(not H.pexc_available(), reason="build/pexc is not built")


def path_of(name):
    if os.path.exists(os.path.join(SEQ_DIR, name + ".tflite")):
        return os.path.join(SEQ_DIR, name + ".tflite")
    if not H.have_shared():
        pytest.skip("../shared/models missing")
    return H.shared_model(name)


def lstm_ops(j):
    return [o["op"] for o in j["ops"] if o["type"] == "UNIDIRECTIONAL_SEQUENCE_LSTM"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_peak_pinned_and_streamed(name):
    base, mins, streams = EXPECTED[name]
    model = path_of(name)
    jb = H.inspect_json(model, "baseline")
    assert jb["peak_sram_bytes"] == base
    assert jb["segments"] == []
    j = H.inspect_json(model, "min-sram")
    assert j["peak_sram_bytes"] == mins
    assert j["baseline_peak_sram_bytes"] == base
    assert j["peak_sram_bytes"] >= j["lower_bound_bytes"]
    order = j["op_order"]
    streamed = [o for s in j["segments"] if s.get("rows", 0) > 0
                for o in order[s["first_op"]:s["last_op"] + 1]]
    lstms = lstm_ops(jb)
    assert lstms
    if streams:
        # (lstm_stack_int8 streams its second LSTM only: streaming both
        # ties at 144 bytes in 16-byte aligned buffers, and fewer steps win)
        assert any(op in streamed for op in lstms), (name, j["segments"])
        # one step per time step or a few: more steps than operators
        assert j["steps"] > jb["steps"]
    else:
        assert not any(op in streamed for op in lstms)


def test_layers_around_the_lstm_stream_with_it():
    """lstm_conv1d_int8: the Conv1D before the LSTM (RESHAPE, CONV_2D,
    RESHAPE) and the fully-connected layer after it (through a RESHAPE)
    are one streamed segment, the reshapes views of the rings."""
    j = H.inspect_json(path_of("lstm_conv1d_int8"), "min-sram")
    order = j["op_order"]
    segs = [order[s["first_op"]:s["last_op"] + 1] for s in j["segments"] if s.get("rows", 0) > 0]
    types = {o["op"]: o["type"] for o in j["ops"]}
    assert any({"CONV_2D", "UNIDIRECTIONAL_SEQUENCE_LSTM", "FULLY_CONNECTED"} <= {types.get(op) for op in seg}
               for seg in segs), j["segments"]


@pytest.fixture(scope="module")
def counting_pexc():
    """pexc built with kernel MAC counters (build-macs/, shared with
    tests/test_schedule.py)."""
    r = subprocess.run(["make", "-s", "BUILD=build-macs", "CFLAGS=-DPEXC_COUNT_MACS", "build-macs/pexc"],
                       cwd=H.ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return os.path.join(H.ROOT, "build-macs", "pexc")


def run_counted(exe, model, schedule, extra=()):
    r = subprocess.run([exe, "run", model, "--schedule", schedule, "--output", "/dev/stdout", *extra],
                       capture_output=True, timeout=300)
    assert r.returncode == 0, r.stderr.decode()
    return r.stdout, int(r.stderr.decode().split("macs_executed")[1].split()[0])


@pytest.mark.parametrize("name", sorted(n for n in EXPECTED if EXPECTED[n][2]))
def test_streamed_same_bytes_and_macs(name, counting_pexc):
    model = path_of(name)
    out_b, macs_b = run_counted(counting_pexc, model, "baseline")
    out_m, macs_m = run_counted(counting_pexc, model, "min-sram")
    assert out_b == out_m, "%s: the streamed plan's output differs from the baseline's" % name
    assert macs_b == macs_m > 0, "%s: baseline executes %d MACs, min-sram %d" % (name, macs_b, macs_m)


@pytest.mark.parametrize("name", sorted(STREAM_INPUT))
def test_stream_input_peak(name):
    peak, streams = STREAM_INPUT[name]
    model = path_of(name)
    r = subprocess.run([H.PEXC, "inspect", model, "--schedule", "min-sram", "--stream-input", "--json"],
                       capture_output=True, timeout=120)
    assert r.returncode == 0, r.stderr.decode()
    j = json.loads(r.stdout)
    assert j["peak_sram_bytes"] == peak
    assert j["inputs_streamed"] == [streams]
    whole = EXPECTED[name][1]
    assert (peak < whole) if streams else (peak == whole)


@pytest.mark.parametrize("name", sorted(n for n in STREAM_INPUT if STREAM_INPUT[n][1]))
def test_stream_input_same_bytes_and_macs(name, counting_pexc):
    """The sequence read a time step at a time: the baseline's bytes and
    exactly its multiply-accumulates (counted inside the kernels)."""
    model = path_of(name)
    out_b, macs_b = run_counted(counting_pexc, model, "baseline")
    out_s, macs_s = run_counted(counting_pexc, model, "min-sram", ["--stream-input"])
    assert out_b == out_s, "%s: --stream-input's output differs from the baseline's" % name
    assert macs_b == macs_s > 0, "%s: baseline executes %d MACs, --stream-input %d" % (name, macs_b, macs_s)


@pytest.mark.parametrize("name", sorted(n for n in STREAM_INPUT
                                        if STREAM_INPUT[n][1] and os.path.exists(os.path.join(SEQ_DIR, n + ".tflite"))))
def test_stream_input_matches_tflm(name):
    """The converter-made models (a Conv1D first in lstm_conv1d, 400 time
    steps in lstm_long, batch 2, float32) with the sequence streamed in:
    TFLM's bytes on random inputs and the int8 extremes."""
    if not H.tflm_ref.available():
        pytest.skip("tflite-micro is not importable")
    model = path_of(name)
    ref = H.tflm_ref.TflmModel(model, reset_between=True)
    items = H.conformance_inputs(ref, 3, 0, name)
    want = [ref.run(d) for _, d in items]
    got = H.run_pexc(model, [d for _, d in items], ref.output_nbytes, "min-sram", extra=["--stream-input"])
    for (label, _), w, g in zip(items, want, got):
        why = H.describe_mismatch(w, g, ref.output_dtype)
        assert why is None, "%s %s --stream-input: %s" % (name, label, why)


def golden_case(name):
    with open(os.path.join(H.INPUTS_DIR, name + ".sample0.bin"), "rb") as f:
        data = f.read()
    with open(os.path.join(H.GOLDEN_DIR, name + ".sample0.out"), "rb") as f:
        return data, f.read()


@pytest.mark.parametrize("name", ["mnist_lstm_int8", "mnist_lstm_float"])
def test_generated_c_streams_and_matches_golden(name, tmp_path):
    model = path_of(name)
    data, want = golden_case(name)
    got = H.run_generated_c(model, tmp_path, data)
    with open(os.path.join(str(tmp_path), "gen", "m.c")) as f:
        code = f.read()
    kind = "f32" if name.endswith("_float") else "s8"
    assert "pexc_lstm_%s_steps(" % kind in code
    why = H.describe_mismatch(want, got, "<f4" if kind == "f32" else "i1")
    assert why is None, "generated C of %s: %s" % (name, why)
