#!/usr/bin/env python3
"""Run a .tflite model through the TFLite Micro Python interpreter.

This is the live reference the conformance tests compare pexc against.

Library use:

    from tflm_ref import TflmModel
    ref = TflmModel("model.tflite")
    out = ref.run(input_bytes)          # raw output tensor bytes
    outs = ref.run_many([b1, b2, ...])  # one interpreter, many inputs
    ref.arena_bytes                     # {"total": .., "head": .., "tail": ..}

Command line (same byte conventions as `pexc run`):

    tflm_ref.py MODEL [--input FILE] [--output FILE] [--batch N] [--arena]

Inputs and outputs are the raw bytes of the single input / output tensor:
row-major, little-endian, no header.  Without --input the deterministic
input of shared/models/golden/README.md is used.  With --batch N the input
file holds N inputs back to back and the output file receives N outputs
back to back.

Arena bytes: the tflite-micro Python wrapper does not expose
MicroInterpreter::arena_used_bytes().  It does build the interpreter on a
RecordingMicroAllocator and can print that allocator's summary to stderr,
so we capture stderr at the file-descriptor level and parse the
"Arena allocation total/head/tail N bytes" lines.  The recording allocator
adds a little bookkeeping of its own, so "total" is a few hundred bytes
above what a plain MicroInterpreter reports; "head" is the planned
(non-persistent, activation) part, which is what an ahead-of-time memory
planner should be compared with.
"""

import argparse
import os
import re
import sys
import tempfile

import numpy as np

try:
    from tflite_micro.python.tflite_micro import runtime as _tflm
except ImportError as exc:  # pragma: no cover - depends on the environment
    _tflm = None
    _IMPORT_ERROR = exc
else:
    _IMPORT_ERROR = None

DEFAULT_ARENA = 16 << 20
_ARENA_RE = re.compile(r"Arena allocation (total|head|tail) (\d+) bytes")


def available():
    """True if the tflite-micro Python package can be imported."""
    return _tflm is not None


def det_input(dtype, count):
    """The deterministic input of golden/README.md as a flat numpy array."""
    i = np.arange(count, dtype=np.uint64)
    byte = ((i * np.uint64(37) + np.uint64(11)) & np.uint64(0xFF)).astype(np.uint8)
    dtype = np.dtype(dtype)
    if dtype == np.int8:
        return byte.view(np.int8)
    if dtype == np.uint8:
        return byte
    if dtype == np.float32:
        return (byte.astype(np.float32) / np.float32(255.0)).astype(np.float32)
    if dtype == np.int16:
        return (byte.view(np.int8).astype(np.int16) * 256).astype(np.int16)
    if dtype == np.int32:
        return byte.view(np.int8).astype(np.int32)
    if dtype == np.int64:
        return byte.view(np.int8).astype(np.int64)
    if dtype == np.bool_:
        return (byte & 1).astype(np.bool_)
    if dtype in (np.uint16, np.uint32, np.uint64):
        return byte.astype(dtype)
    raise ValueError("no deterministic input rule for dtype %s" % dtype)


def _capture_fd2(func):
    """Call func() with the process's fd 2 redirected; return the text."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            func()
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        tmp.seek(0)
        return tmp.read().decode("utf-8", "replace")


class TflmModel:
    """One TFLM interpreter for one single-input single-output model."""

    def __init__(self, model, arena_size=None, reset_between=True, preserve_all=False):
        """preserve_all: keep every intermediate tensor readable after
        invoke() (TFLM's kPreserveAllTensors mode, for locating the first
        operator whose output differs); arena_bytes is then unavailable."""
        if _tflm is None:
            raise RuntimeError("tflite-micro is not importable: %s" % _IMPORT_ERROR)
        if isinstance(model, (bytes, bytearray)):
            self.model_bytes = bytes(model)
            self.name = "<bytes>"
        else:
            self.name = os.fspath(model)
            with open(self.name, "rb") as f:
                self.model_bytes = f.read()
        self.reset_between = reset_between
        size = arena_size or max(DEFAULT_ARENA, 10 * len(self.model_bytes))
        self._interp = None
        last_err = None
        # Retry with a bigger arena if AllocateTensors fails.
        for _ in range(3):
            try:
                cfg = (_tflm.InterpreterConfig.kPreserveAllTensors if preserve_all
                       else _tflm.InterpreterConfig.kAllocationRecording)
                self._interp = _tflm.Interpreter.from_bytes(
                    self.model_bytes, arena_size=size, intrepreter_config=cfg)
                break
            except RuntimeError as exc:
                last_err = exc
                size *= 4
        if self._interp is None:
            raise RuntimeError("TFLM could not load %s: %s" % (self.name, last_err))
        self.arena_size = size
        ind = self._interp.get_input_details(0)
        outd = self._interp.get_output_details(0)
        self.input_dtype = np.dtype(ind["dtype"])
        self.input_shape = tuple(int(d) for d in ind["shape"])
        self.input_quant = ind["quantization_parameters"]
        self.output_dtype = np.dtype(outd["dtype"])
        self.output_shape = tuple(int(d) for d in outd["shape"])
        self.output_quant = outd["quantization_parameters"]
        self.input_count = int(np.prod(self.input_shape))
        self.output_count = int(np.prod(self.output_shape))
        self.input_nbytes = self.input_count * self.input_dtype.itemsize
        self.output_nbytes = self.output_count * self.output_dtype.itemsize
        self._invoked = False
        self._arena = None
        self.preserve_all = preserve_all

    # -- running -----------------------------------------------------------
    def run_array(self, x):
        """Run on a numpy array (any shape with the right element count)."""
        x = np.ascontiguousarray(x, dtype=self.input_dtype).reshape(self.input_shape)
        if self.reset_between and self._invoked:
            self._interp.reset()
        self._interp.set_input(x, 0)
        self._interp.invoke()
        self._invoked = True
        return np.array(self._interp.get_output(0), copy=True).reshape(self.output_shape)

    def run_io(self, datas, n_outputs):
        """Run a model with several inputs and outputs: datas[i] are the raw
        bytes of input i; returns the raw bytes of outputs 0..n_outputs-1."""
        if self.reset_between and self._invoked:
            self._interp.reset()
        for i, d in enumerate(datas):
            det = self._interp.get_input_details(i)
            x = np.frombuffer(d, dtype=np.dtype(det["dtype"])).reshape(
                tuple(int(v) for v in det["shape"]))
            self._interp.set_input(x, i)
        self._interp.invoke()
        self._invoked = True
        return [np.array(self._interp.get_output(o), copy=True).tobytes()
                for o in range(n_outputs)]

    def reset(self):
        """Resets the interpreter's state (variable tensors, the signal
        operators' persistent buffers), as a fresh interpreter has it."""
        self._interp.reset()

    def run(self, data=None):
        """Run on raw input bytes (None = deterministic input); return bytes."""
        if data is None:
            x = det_input(self.input_dtype, self.input_count)
        else:
            if len(data) != self.input_nbytes:
                raise ValueError("%s: input is %d bytes, model wants %d"
                                 % (self.name, len(data), self.input_nbytes))
            x = np.frombuffer(data, dtype=self.input_dtype.newbyteorder("<"))
        out = self.run_array(x)
        return out.astype(self.output_dtype.newbyteorder("<"), copy=False).tobytes()

    def run_many(self, inputs):
        return [self.run(d) for d in inputs]

    def det_bytes(self):
        return det_input(self.input_dtype, self.input_count).astype(
            self.input_dtype.newbyteorder("<")).tobytes()

    def tensor_bytes(self, index):
        """Raw bytes of tensor `index` after the last run (preserve_all only)."""
        if not self.preserve_all:
            raise RuntimeError("tensor_bytes() needs TflmModel(..., preserve_all=True)")
        t = self._interp.GetTensor(index, 0)
        arr = np.asarray(t["tensor_data"])
        return arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes()

    # -- memory ------------------------------------------------------------
    @property
    def arena_bytes(self):
        """{'total','head','tail'} from the recording allocator, or {}."""
        if self._arena is None:
            if self.preserve_all:
                return {}
            if not self._invoked:
                self.run(None)
            text = _capture_fd2(self._interp.print_allocations)
            self._arena = {k: int(v) for k, v in _ARENA_RE.findall(text)}
        return self._arena


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--input", help="raw input bytes (default: deterministic input)")
    ap.add_argument("--output", help="write raw output bytes here (default: hex to stdout)")
    ap.add_argument("--batch", type=int, default=1,
                    help="the input file holds N inputs back to back")
    ap.add_argument("--arena", action="store_true",
                    help="print TFLM arena bytes (recording allocator) to stderr")
    ap.add_argument("--arena-size", type=int, default=None)
    args = ap.parse_args(argv)

    ref = TflmModel(args.model, arena_size=args.arena_size)
    if args.input:
        with open(args.input, "rb") as f:
            blob = f.read()
        n = args.batch
        if len(blob) != n * ref.input_nbytes:
            sys.exit("tflm_ref: %s is %d bytes, expected %d x %d"
                     % (args.input, len(blob), n, ref.input_nbytes))
        chunks = [blob[k * ref.input_nbytes:(k + 1) * ref.input_nbytes] for k in range(n)]
    else:
        chunks = [None] * args.batch
    outs = b"".join(ref.run_many(chunks))
    if args.output:
        with open(args.output, "wb") as f:
            f.write(outs)
    else:
        print(outs.hex())
    if args.arena:
        a = ref.arena_bytes
        print("tflm arena: total %s head %s tail %s"
              % (a.get("total"), a.get("head"), a.get("tail")), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
