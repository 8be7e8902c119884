"""float32 models and uint8 model interfaces against TFLite Micro.

Models: tests/models/io/, made by tools/gen_models_io.py (float32 CNN and
element-wise models as the converter writes them; int8 models with uint8
inputs and outputs, whose interfaces are QUANTIZE operators). Each runs
under the baseline and min-sram schedules on seeded random inputs, the
extremes of uint8 inputs and the deterministic input, and every output byte
must equal TFLM's: the float kernels sum in the reference kernels' order.
"""

import os

import pytest

import pexc_harness as H

IO_DIR = os.path.join(H.ROOT, "tests", "models", "io")
MODELS = sorted(fn[:-7] for fn in os.listdir(IO_DIR) if fn.endswith(".tflite")) if os.path.isdir(IO_DIR) else []

pytestmark = [
    pytest.mark.skipif(not H.pexc_available(), reason="pexc is not built"),
    pytest.mark.skipif(not H.tflm_ref.available(), reason="tflite-micro is not installed"),
]

_REF = {}


def reference(model):
    if model not in _REF:
        path = os.path.join(IO_DIR, model + ".tflite")
        ref = H.tflm_ref.TflmModel(path)
        inputs = H.conformance_inputs(ref, n_random=4, model_name=model)
        inputs.append(("det", ref.det_bytes()))
        _REF[model] = (ref, inputs, [ref.run(d) for _, d in inputs])
    return _REF[model]


def test_models_exist():
    assert any(m.startswith("float_") for m in MODELS) and any(m.startswith("uint8_") for m in MODELS)


@pytest.mark.parametrize("schedule", ["baseline", "min-sram"])
@pytest.mark.parametrize("model", MODELS)
def test_matches_tflm(model, schedule):
    ref, inputs, expected = reference(model)
    path = os.path.join(IO_DIR, model + ".tflite")
    got = H.run_pexc(path, [d for _, d in inputs], ref.output_nbytes, schedule=schedule)
    msg = H.mismatch_report(model, schedule, path, inputs, expected, got, ref.output_dtype)
    if msg:
        pytest.fail(msg, pytrace=False)
