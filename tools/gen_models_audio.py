#!/usr/bin/env python3
"""Generate the audio front-end test models in tests/models/audio/.

Two kinds:

* signal models: one TFLM signal-library custom operator each (SignalWindow,
  SignalFftAutoScale, SignalRfft, SignalEnergy, SignalFilterBank,
  SignalFilterBankSquareRoot, SignalFilterBankSpectralSubtraction,
  SignalPCAN, SignalFilterBankLog), written directly as flatbuffers with the
  TFLite schema: the TensorFlow converter can only emit these operators
  through TFLM's TF custom-op libraries, which are not packaged. Parameters
  go into custom_options as a FlexBuffer map, as TFLM's Python ops write
  them. The filter bank, PCAN gain table and spectral subtraction settings
  of micro_speech_preproc_int8 are reused when ../shared is present, beside
  random configurations. Constant buffers are 16-byte aligned like the
  converter's.
* builtin models: the int32/int16 arithmetic, CAST and STRIDED_SLICE the
  front-end graph uses around those operators, made by the real TFLite
  converter (TF 2.21) from tf.functions (no quantisation: integer graphs).

MANIFEST.json lists every model with its input type and what TFLM does
with it: "ok" (tests compare pexc with TFLM), or "refuse" (TFLM would read
out of bounds, shift past a type's width or crash: pexc must refuse it;
TFLM is not run).

    .venv/bin/python tools/gen_models_audio.py [--only SUBSTR] [--no-tf]
"""

import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
OUT = os.path.join(ROOT, "tests", "models", "audio")
PREPROC = os.path.normpath(os.path.join(ROOT, "..", "shared", "models", "micro_speech_preproc_int8.tflite"))

# TFLite TensorType codes
INT16, INT32, INT8, UINT32, UINT64 = 7, 2, 9, 15, 12
NP = {INT16: np.int16, INT32: np.int32, INT8: np.int8, UINT32: np.uint32, UINT64: np.uint64}
TYPE_NAME = {INT16: "int16", INT32: "int32", INT8: "int8", UINT32: "uint32", UINT64: "uint64"}


def _schema():
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s
    return s


# ---------------------------------------------------------------------------
# Hand-built models of one custom operator
# ---------------------------------------------------------------------------

class Graph:
    """One subgraph under construction: tensors, buffers, operators."""

    def __init__(self):
        s = _schema()
        self.s = s
        self.tensors, self.buffers, self.ops, self.codes = [], [s.BufferT()], [], []
        self.inputs, self.outputs = [], []

    def tensor(self, name, shape, ttype, data=None):
        s = self.s
        t = s.TensorT()
        t.name, t.shape, t.type, t.buffer = name, list(shape), ttype, 0
        if data is not None:
            arr = np.asarray(data, dtype=NP[ttype]).reshape(shape)
            b = _AlignedBuffer()
            b.data = arr.astype(np.dtype(NP[ttype]).newbyteorder("<")).tobytes()
            self.buffers.append(b)
            t.buffer = len(self.buffers) - 1
        self.tensors.append(t)
        return len(self.tensors) - 1

    def op(self, custom, inputs, outputs, options=None, builtin=None, opt_type=0, opt=None):
        s = self.s
        key = custom or builtin
        if key not in [c[0] for c in self.codes]:
            oc = s.OperatorCodeT()
            if custom:
                oc.builtinCode = oc.deprecatedBuiltinCode = s.BuiltinOperator.CUSTOM
                oc.customCode = custom
            else:
                oc.builtinCode = oc.deprecatedBuiltinCode = builtin
            oc.version = 1
            self.codes.append((key, oc))
        o = s.OperatorT()
        o.opcodeIndex = [c[0] for c in self.codes].index(key)
        o.inputs, o.outputs = list(inputs), list(outputs)
        if custom:
            from flatbuffers import flexbuffers
            o.customOptions = list(flexbuffers.Dumps(options or {}))
            o.customOptionsFormat = 0
        else:
            o.builtinOptionsType, o.builtinOptions = opt_type, opt
        self.ops.append(o)

    def bytes(self, name, family="audio"):
        """The model as flatbuffer bytes, described as a pexc <family> test."""
        import flatbuffers
        s = self.s
        g = s.SubGraphT()
        g.tensors, g.inputs, g.outputs, g.operators, g.name = self.tensors, self.inputs, self.outputs, self.ops, "main"
        m = s.ModelT()
        m.version, m.description = 3, "pexc %s test: %s" % (family, name)
        m.operatorCodes = [c[1] for c in self.codes]
        m.subgraphs, m.buffers = [g], self.buffers
        b = flatbuffers.Builder(1024)
        b.Finish(m.Pack(b), file_identifier=b"TFL3")
        return bytes(b.Output())


def _aligned_pack(self, builder):
    """BufferT.Pack with the data vector 16-byte aligned (the converter's
    layout: kernels may read int16/uint32 constants in place)."""
    s = _schema()
    data = None
    if self.data is not None:
        builder.StartVector(1, len(self.data), 16)
        builder.head -= len(self.data)
        builder.Bytes[builder.head:builder.head + len(self.data)] = self.data
        builder.vectorNumElems = len(self.data)
        data = builder.EndVector()
    s.BufferStart(builder)
    if data is not None:
        s.BufferAddData(builder, data)
    return s.BufferEnd(builder)


class _AlignedBuffer:
    def __init__(self):
        self.data = None

    Pack = _aligned_pack


def single(name, custom, ins, outs, options, out_index=0):
    """A model of one custom operator. ins: [(shape, type, const data or
    None)], the first non-constant one the model input; outs: [(shape,
    type)]; out_index: the output the model exposes."""
    g = Graph()
    ti = []
    for k, (shape, ttype, data) in enumerate(ins):
        t = g.tensor("in%d" % k, shape, ttype, data)
        ti.append(t)
        if data is None:
            g.inputs.append(t)
    to = [g.tensor("out%d" % k, shape, ttype) for k, (shape, ttype) in enumerate(outs)]
    g.outputs = [to[out_index]]
    g.op(custom, ti, to, options)
    return g.bytes(name)


def _preproc_consts():
    """Constant arrays of micro_speech_preproc_int8 by tensor name, and the
    custom options of its operators by operator name (None without ../shared)."""
    if not os.path.exists(PREPROC):
        return None, None
    s = _schema()
    from flatbuffers import flexbuffers
    with open(PREPROC, "rb") as f:
        data = f.read()
    m = s.ModelT.InitFromObj(s.Model.GetRootAsModel(data, 0))
    g = m.subgraphs[0]
    consts = {}
    for t in g.tensors:
        b = m.buffers[t.buffer]
        if b.data is not None and len(b.data) and t.type in NP:
            consts[t.name.decode() if isinstance(t.name, bytes) else t.name] = np.frombuffer(
                np.asarray(b.data, np.uint8).tobytes(), NP[t.type]).copy()
    opts = {}
    for op in g.operators:
        code = m.operatorCodes[op.opcodeIndex]
        if code.customCode:
            name = code.customCode.decode() if isinstance(code.customCode, bytes) else code.customCode
            opts[name] = flexbuffers.Loads(bytes(np.asarray(op.customOptions, np.uint8)))
    return consts, opts


def random_filter_bank(rng, nch, nbins, negative):
    """A filter bank of nch channels over nbins bins in TFLM's layout
    (channel 0 is scratch): bands, weights and unweights, every index in
    range; some empty channels; negative weights when asked."""
    starts, wstarts, widths, weights = [], [], [], []
    at = 0
    for ch in range(nch + 1):
        w = int(rng.integers(0, 6)) if ch % 4 != 3 else 0
        f = int(rng.integers(0, nbins - w + 1))
        starts.append(f)
        wstarts.append(at)
        widths.append(w)
        at += w
    lo = -4096 if negative else 0
    weights = rng.integers(lo, 4097, size=max(at, 1)).astype(np.int16)
    unweights = rng.integers(lo, 4097, size=max(at, 1)).astype(np.int16)
    return (weights, unweights, np.array(starts, np.int16), np.array(wstarts, np.int16),
            np.array(widths, np.int16))


def signal_models():
    rng = np.random.default_rng(20261203)
    consts, opts = _preproc_consts()
    models = []

    def add(name, blob, dtype, tflm="ok", note=""):
        models.append({"name": name, "blob": blob, "input": dtype, "tflm": tflm, "note": note})

    # SignalWindow: int16 frames times an int16 window, >> shift, saturated
    for name, frames, n, shift, lo in [("window_2x64_shift12", 2, 64, 12, 0), ("window_32_shift0", 1, 32, 0, -32768),
                                       ("window_48_shift31", 1, 48, 31, -32768),
                                       ("window_3x16_shift14", 3, 16, 14, -32768)]:
        w = rng.integers(lo, 32768, size=n)
        add(name, single(name, "SignalWindow", [([frames, n], INT16, None), ([n], INT16, w)],
                         [([frames, n], INT16)], {"shift": shift}), "int16")
    # TFLM reads options by position, whatever the key: so does pexc
    w = rng.integers(-32768, 32768, size=16)
    add("window_renamed_key", single("window_renamed_key", "SignalWindow", [([16], INT16, None), ([16], INT16, w)],
                                     [([16], INT16)], {"window_shift": 9}), "int16")
    # SignalFftAutoScale: both outputs
    for k in (0, 1):
        name = "auto_scale_64_out%d" % k
        add(name, single(name, "SignalFftAutoScale", [([64], INT16, None)], [([64], INT16), ([], INT32)], {},
                         out_index=k), "int16")
    # SignalRfft: radix 4 and 2 (16), 3 (24), 5 (40), 2-3-5 (60, two frames), the front end's 512
    for name, shape, n in [("rfft_16_in12", [12], 16), ("rfft_24", [24], 24), ("rfft_40_in33", [33], 40),
                           ("rfft_60_2frames", [2, 60], 60), ("rfft_512_in480", [480], 512)]:
        out = list(shape[:-1]) + [n + 2]
        add(name, single(name, "SignalRfft", [(shape, INT16, None)], [(out, INT16)], {"T": INT16, "fft_length": n}),
            "int16")
    # SignalEnergy over all bins, and over a band with the rest sliced off
    # (the other outputs are whatever TFLM's arena held, as in the front end)
    add("energy_33", single("energy_33", "SignalEnergy", [([66], INT16, None)], [([33], UINT32)],
                            {"end_index": 33, "start_index": 0}), "int16")
    g = Graph()
    x = g.tensor("spectrum", [66], INT16)
    e = g.tensor("energy", [33], UINT32)
    c = g.tensor("energy_i32", [33], INT32)
    b, en, st = (g.tensor(nm, [1], INT32, [v]) for nm, v in (("begin", 5), ("end", 20), ("stride", 1)))
    y = g.tensor("band", [15], INT32)
    g.inputs, g.outputs = [x], [y]
    g.op("SignalEnergy", [x], [e], {"end_index": 20, "start_index": 5})
    g.op(None, [e], [c], builtin=g.s.BuiltinOperator.CAST)
    sso = g.s.StridedSliceOptionsT()
    g.op(None, [c, b, en, st], [y], builtin=g.s.BuiltinOperator.STRIDED_SLICE,
         opt_type=g.s.BuiltinOptions.StridedSliceOptions, opt=sso)
    add("energy_band_5_20", g.bytes("energy_band_5_20"), "int16")
    # SignalFilterBank: the front end's 40 channels over 257 bins; random banks
    banks = []
    if consts:
        fb = [consts["signal_filter_bank/Const" + s] for s in ("", "_1", "_2", "_3", "_4")]
        banks.append(("filter_bank_preproc_40", 257, 40, 40, fb))
    for name, nbins, nch, nout, neg in [("filter_bank_rand_6", 32, 6, 6, False), ("filter_bank_neg_8", 24, 8, 8, True),
                                        ("filter_bank_partial_4of6", 20, 6, 4, False)]:
        banks.append((name, nbins, nch, nout, list(random_filter_bank(rng, nch, nbins, neg))))
    for name, nbins, nch, nout, fb in banks:
        ins = [([nbins], UINT32, None)] + [([len(a)], INT16, a) for a in fb]
        add(name, single(name, "SignalFilterBank", ins, [([nout], UINT64)], {"num_channels": nch}), "uint32")
    # SignalFilterBankSquareRoot, scale bits a constant
    for shift in (0, 3, 14):
        name = "sqrt_40_shift%d" % shift
        add(name, single(name, "SignalFilterBankSquareRoot", [([40], UINT64, None), ([], INT32, [shift])],
                         [([40], UINT32)], {}), "uint64")
    # SignalFilterBankSpectralSubtraction: the front end's settings, and a
    # clamping one whose estimate can exceed the signal
    sub = dict(opts["SignalFilterBankSpectralSubtraction"]) if opts else {
        "alternate_one_minus_smoothing": 15401, "alternate_smoothing": 983, "clamping": False,
        "min_signal_remaining": 819, "num_channels": 40, "one_minus_smoothing": 15975, "smoothing": 409,
        "smoothing_bits": 10, "spectral_subtraction_bits": 14}
    clamp = dict(sub, clamping=True, smoothing=20000, alternate_smoothing=30000, one_minus_smoothing=100,
                 smoothing_bits=4, min_signal_remaining=5000)
    for tag, o in (("preproc", sub), ("clamping", clamp)):
        for k in (0, 1):
            name = "subtract_%s_out%d" % (tag, k)
            add(name, single(name, "SignalFilterBankSpectralSubtraction", [([40], UINT32, None)],
                             [([40], UINT32), ([40], UINT32)], o, out_index=k), "uint32")
    # SignalPCAN: noise estimates spread over every power of two
    lut = consts["signal_pcan/Const"] if consts else None
    if lut is not None:
        noise = np.concatenate([[0, 1, 2, 3], (2.0 ** rng.uniform(2, 32, size=36)).astype(np.uint64)])
        noise = np.minimum(noise, 2 ** 32 - 1).astype(np.uint32)
        for shift in (6, 10):
            name = "pcan_40_shift%d" % shift
            add(name, single(name, "SignalPCAN", [([40], UINT32, None), ([40], UINT32, noise), ([125], INT16, lut)],
                             [([40], UINT32)], {"snr_shift": shift}), "uint32")
    # SignalFilterBankLog
    for name, bits, scale in [("log_40_bits3_scale64", 3, 64), ("log_40_bits0_scale1600", 0, 1600),
                              ("log_40_bits8_scale64", 8, 64)]:
        add(name, single(name, "SignalFilterBankLog", [([40], UINT32, None)], [([40], INT16)],
                         {"input_correction_bits": bits, "output_scale": scale}), "uint32")

    # What TFLM would read out of bounds, shift past a width or crash on
    add("refuse_rfft_radix7", single("refuse_rfft_radix7", "SignalRfft", [([28], INT16, None)], [([30], INT16)],
                                     {"T": INT16, "fft_length": 28}), "int16", "refuse",
        "kissfft's generic radix needs a scratch allocation TFLM leaves NULL")
    add("refuse_window_shift40", single("refuse_window_shift40", "SignalWindow",
                                        [([16], INT16, None), ([16], INT16, np.ones(16))], [([16], INT16)],
                                        {"shift": 40}), "int16", "refuse", "shift past 31")
    add("refuse_window_no_options", single("refuse_window_no_options", "SignalWindow",
                                           [([16], INT16, None), ([16], INT16, np.ones(16))], [([16], INT16)],
                                           {}), "int16", "refuse", "TFLM would read past the empty map")
    add("refuse_window_float_option", single("refuse_window_float_option", "SignalWindow",
                                             [([16], INT16, None), ([16], INT16, np.ones(16))], [([16], INT16)],
                                             {"shift": 12.0}), "int16", "refuse",
        "TFLM would take the float's bits for the shift")
    bad = list(random_filter_bank(rng, 4, 16, False))
    bad[2] = bad[2].copy()
    bad[2][1] = 14
    bad[4] = bad[4].copy()
    bad[4][1] = 5
    add("refuse_filter_bank_index", single("refuse_filter_bank_index", "SignalFilterBank",
                                           [([16], UINT32, None)] + [([len(a)], INT16, a) for a in bad],
                                           [([4], UINT64)], {"num_channels": 4}), "uint32", "refuse",
        "channel 1 reads bins 14..18 of 16")
    add("refuse_pcan_short_lut", single("refuse_pcan_short_lut", "SignalPCAN",
                                        [([8], UINT32, None), ([8], UINT32, np.arange(8)), ([64], INT16, np.ones(64))],
                                        [([8], UINT32)], {"snr_shift": 6}), "uint32", "refuse",
        "gain table of 64 entries")
    return models


# ---------------------------------------------------------------------------
# Converter-made integer models
# ---------------------------------------------------------------------------

def builtin_models(tf):
    def fn(spec):
        def wrap(f):
            return tf.function(f, input_signature=[spec])
        return wrap

    entries = []

    @fn(tf.TensorSpec([40], tf.int16))
    def int_tail(x):
        # the front end's tail: log features to int8 (x * 256 + 333) / 666 - 128
        y = tf.cast(x, tf.int32) * 256 + 333
        y = tf.truncatediv(y, tf.constant(666, tf.int32)) - 128
        return tf.cast(tf.clip_by_value(y, -128, 127), tf.int8)
    entries.append(("int_tail", int_tail))

    @fn(tf.TensorSpec([4, 10], tf.int16))
    def int32_bcast(x):
        y = tf.cast(x, tf.int32)
        y = y * tf.constant(np.arange(-4, 6, dtype=np.int32)) + tf.constant([[3], [-5], [7], [0]], tf.int32)
        y = tf.truncatediv(y, tf.constant([3, -7, -1, 5, 2, 9, -2, 11, 13, 1], tf.int32))
        y = tf.maximum(tf.minimum(y, tf.constant(70000, tf.int32)), tf.constant([-9000], tf.int32))
        return tf.cast(y, tf.int16)
    entries.append(("int32_bcast", int32_bcast))

    @fn(tf.TensorSpec([64], tf.int16))
    def int32_wrap(x):
        # products and sums past int32 wrap; casts narrow by wrapping
        y = tf.cast(x, tf.int32)
        y = y * y * tf.constant(3, tf.int32) + tf.constant(2 ** 31 - 9, tf.int32)
        u = tf.cast(y, tf.uint32)
        return tf.cast(tf.cast(u, tf.int32) + tf.cast(y, tf.int32), tf.int16)
    entries.append(("int32_wrap", int32_wrap))

    @fn(tf.TensorSpec([6, 40], tf.int16))
    def slice_int16(x):
        return x[1:5:2, ::-3]
    entries.append(("slice_int16_steps", slice_int16))

    @fn(tf.TensorSpec([6, 40], tf.int16))
    def slice_shrink(x):
        return x[-2, 5:-3]
    entries.append(("slice_int16_shrink", slice_shrink))

    @fn(tf.TensorSpec([2, 5, 12], tf.int16))
    def slice_int32(x):
        return tf.cast(x, tf.int32)[:, 1:, -1:2:-2]
    entries.append(("slice_int32_rank3", slice_int32))

    out = []
    for name, f in entries:
        conv = tf.lite.TFLiteConverter.from_concrete_functions([f.get_concrete_function()], f)
        blob = conv.convert()
        out.append({"name": name, "blob": blob, "input": "int16", "tflm": "ok", "note": "TFLite converter"})
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", help="only models whose name contains this")
    ap.add_argument("--no-tf", action="store_true", help="skip the converter-made models")
    a = ap.parse_args(argv)
    models = signal_models()
    if not a.no_tf:
        import tensorflow as tf
        models += builtin_models(tf)
    os.makedirs(OUT, exist_ok=True)
    manifest_path = os.path.join(OUT, "MANIFEST.json")
    old = {}
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            old = {m["name"]: m for m in json.load(f)["models"]}
    for m in models:
        if a.only and a.only not in m["name"]:
            continue
        with open(os.path.join(OUT, m["name"] + ".tflite"), "wb") as f:
            f.write(m.pop("blob"))
        old[m["name"]] = m
    for m in models:
        m.pop("blob", None)
    with open(manifest_path, "w") as f:
        json.dump({"generator": "tools/gen_models_audio.py",
                   "models": [old[k] for k in sorted(old)]}, f, indent=1)
        f.write("\n")
    print("%d models in %s" % (len(old), OUT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
