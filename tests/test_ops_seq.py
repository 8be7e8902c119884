"""UNIDIRECTIONAL_SEQUENCE_LSTM (int8, float32) and the float SOFTMAX the
float LSTM models end with: pexc against TFLite Micro, byte for byte.

- every golden output of the four shared LSTM models, both schedules;
- the shared models and the converter-made models of tests/models/seq
  (tools/gen_models_seq.py) against live TFLM on 5 random inputs and the
  int8 extremes, both schedules, one pexc process per model and schedule;
- state carried across runs (pexc run --keep-state) against one TFLM
  interpreter invoked repeatedly without Reset();
- refusals of what TFLM's LSTM cannot run;
- the generated C of an int8 and a float model built with -Werror and run.
"""

import os

import numpy as np
import pytest

import pexc_harness as H

SEQ_DIR = os.path.join(H.ROOT, "tests", "models", "seq")
SHARED_LSTM = ["mnist_lstm_int8", "micro_speech_lstm_int8", "dtln_int8", "mnist_lstm_float"]
SCHEDULES = ["baseline", "min-sram"]
# made by the converter with STRIDED_SLICE (return_sequences=False), an
# operator of another family: checked once pexc runs it
NEEDS_OTHER_OPS = {"lstm_last_int8": "STRIDED_SLICE", "lstm_softmax_f32": "STRIDED_SLICE"}

pytestmark = pytest.mark.skipif(not H.pexc_available(), reason="build/pexc is not built")


def seq_models():
    if not os.path.isdir(SEQ_DIR):
        return []
    return sorted(f[:-7] for f in os.listdir(SEQ_DIR) if f.endswith(".tflite"))


def model_path(name):
    return H.shared_model(name) if name in SHARED_LSTM else os.path.join(SEQ_DIR, name + ".tflite")


_REFS = {}


def ref_of(name, reset_between=True):
    key = (name, reset_between)
    if key not in _REFS:
        if not H.tflm_ref.available():
            pytest.skip("tflite-micro is not importable")
        _REFS[key] = H.tflm_ref.TflmModel(model_path(name), reset_between=reset_between)
    return _REFS[key]


def skip_if_other_family(name):
    if name in NEEDS_OTHER_OPS:
        cmd, rc, _, err = H._call(["inspect", model_path(name)], timeout=60)
        if rc != 0 and NEEDS_OTHER_OPS[name] in err:
            pytest.skip("%s needs %s (not in this branch)" % (name, NEEDS_OTHER_OPS[name]))


def dtype_of(ref):
    return ref.output_dtype


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("model", [m for m in SHARED_LSTM if H.have_shared()])
def test_golden(model, schedule):
    prefix = model + "."
    cases = []
    for fn in sorted(os.listdir(H.GOLDEN_DIR)):
        if fn.startswith(prefix) and fn.endswith(".out"):
            label = fn[len(prefix):-4]
            data = None
            if label != "det":
                with open(os.path.join(H.INPUTS_DIR, "%s.%s.bin" % (model, label)), "rb") as f:
                    data = f.read()
            with open(os.path.join(H.GOLDEN_DIR, fn), "rb") as f:
                cases.append((label, data, f.read()))
    assert cases
    det = [c for c in cases if c[1] is None]
    rest = [c for c in cases if c[1] is not None]
    got = H.run_pexc(model_path(model), [c[1] for c in rest], len(cases[0][2]), schedule) if rest else []
    got += H.run_pexc(model_path(model), [None], len(cases[0][2]), schedule) if det else []
    dt = "<f4" if model.endswith("_float") else "i1"
    for (label, _, want), out in zip(rest + det, got):
        why = H.describe_mismatch(want, out, dt)
        assert why is None, "%s.%s %s: %s" % (model, label, schedule, why)


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("model", [m for m in SHARED_LSTM if H.have_shared()] + seq_models())
def test_live_tflm(model, schedule):
    skip_if_other_family(model)
    ref = ref_of(model)
    H.check_matches_tflm(model_path(model), ref, H.conformance_inputs(ref, 5, 0, model), model, (schedule,))


@pytest.mark.parametrize("model", ["dtln_int8", "lstm_stack_int8", "lstm_batch2_f32"])
def test_state_carries_over(model):
    if model in SHARED_LSTM and not H.have_shared():
        pytest.skip("no shared models")
    H.check_state_carries(model_path(model), lambda: ref_of(model, reset_between=False), model)


# ---- refusals ---------------------------------------------------------------

def _patched(name, edit, tmp_path):
    """A copy of a model of this family with edit applied."""
    return H.patched_model(model_path(name), edit, tmp_path / ("%s_patched.tflite" % name))


def _refusal(path):
    return H.refusal_line(path)


def test_refuses_activation_other_than_tanh(tmp_path):
    def edit(m):
        m.subgraphs[0].operators[0].builtinOptions.fusedActivationFunction = 1
    line = _refusal(_patched("lstm_seq_int8", edit, tmp_path))
    assert "fused_activation_function 1" in line and "operator 0" in line


def test_refuses_state_that_is_not_variable(tmp_path):
    cell = []

    def edit(m):
        op = m.subgraphs[0].operators[0]
        cell.append(int(op.inputs[19]))
        m.subgraphs[0].tensors[op.inputs[19]].isVariable = False
    # a plain tensor nobody writes: refused before lowering, naming it
    line = _refusal(_patched("lstm_seq_int8", edit, tmp_path))
    assert "operator 0" in line and "tensor %d" % cell[0] in line and "read before" in line


def test_refuses_per_channel_weights(tmp_path):
    def edit(m):
        op = m.subgraphs[0].operators[0]
        t = m.subgraphs[0].tensors[op.inputs[2]]
        n = t.shape[0]
        t.quantization.scale = [float(t.quantization.scale[0])] * n
        t.quantization.zeroPoint = [0] * n
    line = _refusal(_patched("lstm_seq_int8", edit, tmp_path))
    assert "per-channel" in line and "input-to-forget weights" in line


# ---- generated C ---------------------------------------------------------------

@pytest.mark.parametrize("model", ["lstm_stack_int8", "lstm_seq_f32", "lstm_conv1d_int8"])
def test_generated_c_builds_and_matches(model, tmp_path):
    ref = ref_of(model)
    label, data = H.conformance_inputs(ref, 1, 5, model)[0]
    got = H.run_generated_c(model_path(model), tmp_path, data)
    why = H.describe_mismatch(ref.run(data), got, dtype_of(ref))
    assert why is None, "generated C of %s: %s" % (model, why)
