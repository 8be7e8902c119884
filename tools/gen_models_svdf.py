#!/usr/bin/env python3
"""Generate tests/models/svdf/*.tflite: tiny SVDF models for
tests/test_ops_svdf.py.

The TF converter does not emit SVDF (TF2 graphs have no pattern it fuses
into one; the old TOCO SVDF identification is gone), so the models are
written with the TFLite schema's object API (the tflite-micro package's
schema_py_generated), as tools/gen_models_audio.py does for the signal
operators: one SVDF operator whose activation state is a variable tensor,
random weights, and quantisation parameters chosen as a quantiser would
(bias scale = state scale x time weights scale, as TFLM requires).

    .venv/bin/python tools/gen_models_svdf.py [--out DIR]
"""

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gen_models_audio import Graph, _schema  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_OUT = os.path.join(ROOT, "tests", "models", "svdf")

FLOAT32, INT32, INT16, INT8 = 0, 2, 7, 9
NP = {FLOAT32: np.float32, INT32: np.int32, INT16: np.int16, INT8: np.int8}
SVDF, SVDF_OPTIONS = 27, 6


class SvdfGraph(Graph):
    """Graph with float tensors and quantisation parameters."""

    def qtensor(self, name, shape, ttype, data=None, scale=None, zp=0, variable=False):
        s = self.s
        t = s.TensorT()
        t.name, t.shape, t.type, t.buffer = name, list(shape), ttype, 0
        if data is not None:
            from gen_models_audio import _AlignedBuffer
            b = _AlignedBuffer()
            b.data = np.asarray(data, dtype=NP[ttype]).reshape(shape).astype(
                np.dtype(NP[ttype]).newbyteorder("<")).tobytes()
            self.buffers.append(b)
            t.buffer = len(self.buffers) - 1
        if scale is not None:
            q = s.QuantizationParametersT()
            q.scale, q.zeroPoint = [float(scale)], [int(zp)]
            t.quantization = q
        t.isVariable = variable
        self.tensors.append(t)
        return len(self.tensors) - 1


def svdf_model(name, rng, batches, n_input, units, rank, memory, kind, act=0, bias=True, gain=1.0):
    """kind: 'f32', 'int16' (int8 with int16 time weights and state) or
    'int8' (int8 time weights and state). gain > 1 narrows the state's
    range so that feature values saturate (and, with the int8 state's
    zero point, wrap when TFLM stores zero point + clamped value)."""
    s = _schema()
    g = SvdfGraph()
    nf = units * rank
    opts = s.SVDFOptionsT()
    opts.rank, opts.fusedActivationFunction = rank, act
    if kind == "f32":
        x = g.qtensor("input", [batches, n_input], FLOAT32)
        wf = g.qtensor("weights_feature", [nf, n_input], FLOAT32, rng.uniform(-1, 1, (nf, n_input)))
        wt = g.qtensor("weights_time", [nf, memory], FLOAT32, rng.uniform(-1, 1, (nf, memory)))
        b = g.qtensor("bias", [units], FLOAT32, rng.uniform(-1, 1, units)) if bias else -1
        st = g.qtensor("activation_state", [batches, nf * memory], FLOAT32, variable=True)
        y = g.qtensor("output", [batches, units], FLOAT32)
    else:
        wide = kind == "int16"
        tt = INT16 if wide else INT8
        tmax = 32767 if wide else 127
        s_in, zp_in = 0.05, -3
        s_wf = 0.01
        # feature values reach about |x| . |w| ~ 6.4 x sqrt(n_input) x 0.6
        feat = 6.4 * 1.27 * 0.6 * np.sqrt(n_input)
        s_st = 2 * feat / tmax / gain
        zp_st = 0 if wide else 3
        s_wt = 1.0 / tmax
        s_out, zp_out = feat * rank * memory / 3 / 127, 2
        x = g.qtensor("input", [batches, n_input], INT8, scale=s_in, zp=zp_in)
        wf = g.qtensor("weights_feature", [nf, n_input], INT8, rng.integers(-127, 128, (nf, n_input)),
                       scale=s_wf)
        wt = g.qtensor("weights_time", [nf, memory], tt, rng.integers(-tmax, tmax + 1, (nf, memory)), scale=s_wt)
        s_b = np.float32(s_st) * np.float32(s_wt)
        b = g.qtensor("bias", [units], INT32, rng.integers(-2 ** 14, 2 ** 14, units) * (64 if wide else 1),
                      scale=s_b)
        st = g.qtensor("activation_state", [batches, nf * memory], tt, scale=s_st, zp=zp_st, variable=True)
        y = g.qtensor("output", [batches, units], INT8, scale=s_out, zp=zp_out)
    g.inputs, g.outputs = [x], [y]
    g.op(None, [x, wf, wt, b, st], [y], builtin=SVDF, opt_type=SVDF_OPTIONS, opt=opts)
    return g.bytes(name)


CATALOGUE = [
    # name, batches, inputs, units, rank, memory, kind, activation, bias[, gain]
    ("svdf_int8", 1, 8, 3, 2, 4, "int16", 0, True),
    ("svdf_state8_int8", 1, 6, 4, 1, 5, "int8", 0, True),
    ("svdf_batch2_int8", 2, 5, 3, 2, 3, "int16", 1, True),
    ("svdf_f32", 1, 8, 3, 2, 4, "f32", 1, True),
    ("svdf_batch2_tanh_f32", 2, 5, 4, 1, 3, "f32", 4, True),
    ("svdf_rank3_f32", 1, 4, 2, 3, 6, "f32", 3, True),
    ("svdf_saturate_int8", 1, 6, 3, 2, 4, "int8", 0, True, 20.0),
    ("svdf_saturate16_int8", 1, 6, 3, 2, 4, "int16", 0, True, 20.0),
]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    args = ap.parse_args(argv)
    os.makedirs(args.out, exist_ok=True)
    for k, (name, *spec) in enumerate(CATALOGUE):
        rng = np.random.default_rng(1000 + k)
        blob = svdf_model(name, rng, *spec)
        with open(os.path.join(args.out, name + ".tflite"), "wb") as f:
            f.write(blob)
        print("wrote", name, len(blob), "bytes")


if __name__ == "__main__":
    main()
