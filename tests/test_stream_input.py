"""Streamed model input (--stream-input, issue 16): a model input whose
first reader is a streamed chain is read into a ring of its own as the plan
needs its rows, instead of sitting whole in SRAM from the start. Checked
here:

- `pexc run --stream-input` gives TFLM's golden outputs byte for byte on
  every shared model input (the host executor copies the rows in before
  each step reading them; every plan passes the verifier, which checks each
  input pixel arrives once, in raster order, before it is read);
- the exact streamed peaks, and that they are below the held-whole peaks
  where the input was the bottleneck;
- the LSTM models' sequences arrive a time step (a row) at a time, as the
  LSTM runs them; dtln_int8, whose input is a single time step, keeps it
  whole and says so in inspect (ad_autoencoder: that its input is read in
  chunks);
- (the emitted C's streamed input: test_stream_compile.py).
"""
import glob
import json
import os
import subprocess

import pytest

import pexc_harness as H

# (held whole, streamed) min-sram peaks in bytes, and whether the input
# streams (micro_speech's through the reshape before its first convolution,
# which then has no step; ad_autoencoder's in chunks by its first
# fully-connected layer, its peak then the 640-byte output beside the last
# layer's input: test_stream_output.py streams that too); ic_resnet8 10,912
# and 9,584 before its skip convolutions read a decimated input
# (src/ir/decimate.c)
EXPECTED = {
    "vww_96_int8": (28032, 10296, True),
    "person_detect_int8": (11936, 10072, True),
    "kws_ds_cnn_int8": (4192, 3872, True),
    "ic_resnet8_int8": (9840, 8512, True),
    "sww_int8": (3384, 2992, True),
    "micro_speech_int8": (2000, 416, True),
    "ad_autoencoder_int8": (768, 768, True),
    # a time step is a row: the LSTM models' sequences arrive a time step at
    # a time into a one-step ring as the LSTM runs them (the float one in
    # float32 time steps of 112 bytes); dtln's input is a single time step
    "micro_speech_lstm_int8": (12944, 608, True),
    "mnist_lstm_int8": (944, 192, True),
    "mnist_lstm_float": (3424, 400, True),
    "dtln_int8": (1184, 1184, False),
}

pytestmark = pytest.mark.skipif(not (H.have_shared() and H.pexc_available()), reason="needs ../shared and build/pexc")


def pexc(*args, timeout=300):
    return subprocess.run([H.PEXC, *args], capture_output=True, timeout=timeout)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_streamed_input_matches_tflm_golden(name, tmp_path):
    model = H.shared_model(name)
    inputs = sorted(glob.glob(os.path.join(H.INPUTS_DIR, name + ".*.bin")))
    assert inputs
    for inp in inputs:
        tag = os.path.basename(inp)[len(name) + 1:-4]
        golden = os.path.join(H.GOLDEN_DIR, "%s.%s.out" % (name, tag))
        if not os.path.exists(golden):
            continue
        out = tmp_path / (tag + ".out")
        r = pexc("run", model, "--stream-input", "--input", inp, "--output", str(out))
        assert r.returncode == 0, r.stderr.decode()
        with open(golden, "rb") as f:
            assert out.read_bytes() == f.read(), "%s on %s" % (name, tag)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_streamed_input_peak(name):
    whole, streamed, streams = EXPECTED[name]
    model = H.shared_model(name)
    assert H.inspect_json(model, "min-sram")["peak_sram_bytes"] == whole
    r = pexc("inspect", model, "--stream-input", "--json")
    assert r.returncode == 0, r.stderr.decode()
    j = json.loads(r.stdout)
    assert j["stream_input"] is True
    assert j["peak_sram_bytes"] == streamed
    assert j["lower_bound_bytes"] <= streamed
    assert j["inputs_streamed"] == [streams]


def test_whole_reader_falls_back_and_says_so():
    # dtln's LSTM reads a single time step a run: nothing to stream
    r = pexc("inspect", H.shared_model("dtln_int8"), "--stream-input")
    assert r.returncode == 0
    assert ("input 0 held whole: a single time step, which operator 0 (UNIDIRECTIONAL_SEQUENCE_LSTM) reads at "
            "once; nothing to stream") in r.stdout.decode()
    r = pexc("inspect", H.shared_model("mnist_lstm_int8"), "--stream-input")
    assert ("input 0 streamed: time steps read into a ring as operator 0 (UNIDIRECTIONAL_SEQUENCE_LSTM) runs them"
            in r.stdout.decode())
    r = pexc("inspect", H.shared_model("ad_autoencoder_int8"), "--stream-input")
    assert "input 0 streamed: read in chunks by a fully-connected layer" in r.stdout.decode()


@pytest.mark.parametrize("name", ["vww_96_int8", "micro_speech_int8", "kws_ds_cnn_int8", "micro_speech_lstm_int8",
                                  "mnist_lstm_float"])
def test_streamed_input_does_each_mac_once(name):
    """The steps' multiply-accumulates (inspect's per-step column, counted
    by plan_step_macs) add up to the model's, as with the input held whole."""
    model = H.shared_model(name)
    sums = []
    for extra in ([], ["--stream-input"]):
        out = pexc("inspect", model, *extra).stdout.decode().splitlines()
        rows = [l.split() for l in out if l[:5].strip().isdigit()]
        total = int(next(l for l in out if l.startswith("schedule ")).split(" MACs")[0].split()[-1])
        assert sum(int(r[-2]) for r in rows) == total
        sums.append(total)
    assert sums[0] == sums[1]
