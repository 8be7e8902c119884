"""pexc from Python: run an int8 TFLite model in the least SRAM, byte for
byte as TFLite Micro does, or compile it to C.

    import pexc
    it = pexc.Interpreter("model.tflite")           # schedule="default", sram=None
    it.set_input(x, 0); it.invoke(); y = it.get_output(0)
    ys = it.invoke_batch(xs)                        # N inputs in one C call, GIL released
    figures = pexc.compile("model.tflite", "gen", target="cortex-m4")

The C library is loaded with ctypes: the extension built by `pip install .`
next to this file, else build/libpexc.so of the source tree (`make pylib`),
else the file named by the environment variable PEXC_LIBRARY.
"""

import ctypes
import json
import os
import signal
import sys
import threading

import numpy as np

__all__ = ["Interpreter", "compile", "PexcError", "main"]

_HERE = os.path.dirname(os.path.abspath(__file__))
_TREE = os.path.normpath(os.path.join(_HERE, "..", ".."))  # the repository, when run from python/


class PexcError(Exception):
    """A pexc failure; str(e) is pexc's one-line message."""


def _library_path():
    env = os.environ.get("PEXC_LIBRARY")
    if env:
        return env
    for f in sorted(os.listdir(_HERE)):
        if f.startswith("_pexc_c") and f.endswith((".so", ".dylib", ".pyd")):
            return os.path.join(_HERE, f)
    return os.path.join(_TREE, os.environ.get("PEXC_BUILD", "build"), "libpexc.so")


def _runtime_dir():
    packaged = os.path.join(_HERE, "runtime")
    return packaged if os.path.isdir(packaged) else os.path.join(_TREE, "runtime")


_LIB_PATH = _library_path()
try:
    _lib = ctypes.CDLL(_LIB_PATH)  # a CDLL call releases the GIL
except OSError as exc:
    raise ImportError("pexc: cannot load the C library %s (%s); pip install the repository, or run "
                      "`make pylib` to use the source tree" % (_LIB_PATH, exc)) from None

_P, _SZ, _INT, _STR = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_char_p


class _TensorInfo(ctypes.Structure):
    _fields_ = [("name", _STR), ("type", _INT), ("rank", _INT), ("shape", ctypes.c_int32 * 6),
                ("bytes", _SZ), ("n_quant", _INT), ("scales", ctypes.POINTER(ctypes.c_float)),
                ("zero_points", ctypes.POINTER(ctypes.c_int64)), ("quantized_dimension", _INT)]


class _CompileOptions(ctypes.Structure):
    _fields_ = [("schedule", _INT), ("sram_budget", _SZ), ("name", _STR), ("target", _STR), ("arena", _STR),
                ("runtime_dir", _STR), ("stream_input", _INT),
                ("stream_output", _INT)]


def _sig(name, res, *args):
    f = getattr(_lib, name)
    f.restype, f.argtypes = res, list(args)
    return f


_ERR = ctypes.c_char_p  # a create_string_buffer passes as char *
_open_budget = _sig("pexc_model_open_budget", _INT, _STR, _INT, _SZ, ctypes.POINTER(_P), _ERR, _SZ)
_open_bytes_budget = _sig("pexc_model_open_bytes_budget", _INT, _P, _SZ, _INT, _SZ, ctypes.POINTER(_P), _ERR, _SZ)
_free_model = _sig("pexc_model_free", None, _P)
_arena_bytes = _sig("pexc_model_arena_bytes", _SZ, _P)
_baseline_bytes = _sig("pexc_model_baseline_arena_bytes", _SZ, _P)
_schedule_name = _sig("pexc_model_schedule_name", _STR, _P)
_num_inputs = _sig("pexc_model_num_inputs", _INT, _P)
_num_outputs = _sig("pexc_model_num_outputs", _INT, _P)
_input_info = _sig("pexc_model_input_info", _INT, _P, _INT, ctypes.POINTER(_TensorInfo))
_output_info = _sig("pexc_model_output_info", _INT, _P, _INT, ctypes.POINTER(_TensorInfo))
_run = _sig("pexc_model_run", _INT, _P, ctypes.POINTER(_P), ctypes.POINTER(_P), _ERR, _SZ)
_reset = _sig("pexc_model_reset", None, _P)
_run_batch = _sig("pexc_model_run_batch", _INT, _P, _SZ, ctypes.POINTER(_P), ctypes.POINTER(_P), _ERR, _SZ)
_model_json = _sig("pexc_model_json", _P, _P, _STR)
_free = _sig("pexc_free", None, _P)
_schedule_from_name = _sig("pexc_schedule_from_name", _INT, _STR, ctypes.POINTER(_INT))
_parse_size = _sig("pexc_parse_size", _INT, _STR, _STR, ctypes.POINTER(_SZ), _ERR, _SZ)
_compile = _sig("pexc_compile", _INT, _STR, _STR, ctypes.POINTER(_CompileOptions), _ERR, _SZ, ctypes.POINTER(_P),
                _ERR, _SZ)
_cli_main = _sig("pexc_cli_main", _INT, _INT, ctypes.POINTER(_STR))

# TFLite tensor type codes
_DTYPES = {0: np.float32, 1: np.float16, 2: np.int32, 3: np.uint8, 4: np.int64, 6: np.bool_, 7: np.int16,
           9: np.int8, 10: np.float64}


def _errbuf():
    return ctypes.create_string_buffer(1024)


def _fail(err):
    raise PexcError(err.value.decode("utf-8", "replace"))


def _schedule(schedule):
    out = _INT(3)  # PEXC_SCHEDULE_DEFAULT
    if schedule is None:
        return out.value
    if _schedule_from_name(str(schedule).encode(), ctypes.byref(out)):
        raise PexcError("unknown schedule '%s' (default, min-sram, channels or baseline)" % schedule)
    return out.value


def _budget(sram):
    """sram: None, a byte count or a size string ("48K", "1MiB")."""
    if sram is None:
        return 0
    if isinstance(sram, (int, np.integer)) and not isinstance(sram, bool):
        if sram <= 0:
            raise PexcError("sram takes a positive size, got %d" % sram)
        return int(sram)
    out, err = _SZ(0), _errbuf()
    if _parse_size(b"sram", str(sram).encode(), ctypes.byref(out), err, len(err)):
        _fail(err)
    return out.value


def _take_json(ptr):
    try:
        return json.loads(ctypes.string_at(ptr).decode("utf-8"))
    finally:
        _free(ptr)


def _details(info, index):
    dtype = _DTYPES.get(info.type)
    if dtype is None:
        raise PexcError("tensor type %d has no numpy dtype" % info.type)
    scales = np.array([info.scales[k] for k in range(info.n_quant)], dtype=np.float32)
    zps = np.array([info.zero_points[k] for k in range(info.n_quant)], dtype=np.int32)
    return {
        "name": info.name.decode("utf-8", "replace"),
        "index": index,
        "shape": np.array(info.shape[:info.rank], dtype=np.int32),
        "dtype": dtype,
        "quantization": (float(scales[0]), int(zps[0])) if info.n_quant else (0.0, 0),
        "quantization_parameters": {"scales": scales, "zero_points": zps,
                                    "quantized_dimension": info.quantized_dimension},
    }


class Interpreter:
    """One planned model. TFLM's calls: set_input(array, index), invoke(),
    get_output(index), get_input_details(index), get_output_details(index).

    schedule: "default" (None: the least peak within 1.015x the baseline's
    predicted instructions, to run within 1.05x), "min-sram" (the least
    peak), "channels" or "baseline";
    sram: a budget (bytes or "48K"): the fastest schedule that fits, or
    PexcError naming the bottleneck. `schedule` then names the schedule
    chosen, `peak_sram_bytes` its arena."""

    def __init__(self, model_path, schedule=None, sram=None):
        self._m = None
        sched, budget = _schedule(schedule), _budget(sram)
        m, err = _P(), _errbuf()
        if isinstance(model_path, (bytes, bytearray, memoryview)):
            data = bytes(model_path)
            r = _open_bytes_budget(data, len(data), sched, budget, ctypes.byref(m), err, len(err))
        else:
            r = _open_budget(os.fsencode(model_path), sched, budget, ctypes.byref(m), err, len(err))
        if r:
            _fail(err)
        self._m = m
        self._lock = threading.Lock()  # one arena per model: one run at a time
        self.num_inputs = _num_inputs(m)
        self.num_outputs = _num_outputs(m)
        self.peak_sram_bytes = _arena_bytes(m)
        self.baseline_peak_sram_bytes = _baseline_bytes(m)
        self.schedule = _schedule_name(m).decode()
        self._in_det, self._out_det = [], []
        for dets, get, n in ((self._in_det, _input_info, self.num_inputs),
                             (self._out_det, _output_info, self.num_outputs)):
            for i in range(n):
                info = _TensorInfo()
                get(m, i, ctypes.byref(info))
                dets.append(_details(info, i))
        self._inputs = [np.zeros(tuple(d["shape"]), d["dtype"]) for d in self._in_det]
        self._outputs = [np.zeros(tuple(d["shape"]), d["dtype"]) for d in self._out_det]
        self._in_ptrs = (_P * max(1, self.num_inputs))(*[a.ctypes.data for a in self._inputs])
        self._out_ptrs = (_P * max(1, self.num_outputs))(*[a.ctypes.data for a in self._outputs])

    def close(self):
        if self._m:
            _free_model(self._m)
            self._m = None

    def __del__(self):
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _index(self, index, n, what):
        if not isinstance(index, (int, np.integer)) or not 0 <= index < n:
            raise IndexError("%s index %r out of range: the model has %d %ss" % (what, index, n, what))
        return int(index)

    def get_input_details(self, index=0):
        return self._in_det[self._index(index, self.num_inputs, "input")]

    def get_output_details(self, index=0):
        return self._out_det[self._index(index, self.num_outputs, "output")]

    def _check(self, x, i, batch):
        """x as a contiguous array of input i's dtype; its number of inputs."""
        d = self._in_det[i]
        x = np.asarray(x)
        if x.dtype != d["dtype"]:
            raise ValueError("input %d is %s, got an array of %s" % (i, np.dtype(d["dtype"]).name, x.dtype))
        n = int(np.prod(d["shape"]))
        wrong = (n == 0 or x.size % n) if batch else x.size != n
        if wrong:
            raise ValueError("input %d takes %s%d elements (shape %s), got %d" % (
                i, "a multiple of " if batch else "", n, list(d["shape"]), x.size))
        return np.ascontiguousarray(x), (x.size // n if n else 1)

    def set_input(self, array, index=0):
        i = self._index(index, self.num_inputs, "input")
        x, _ = self._check(array, i, False)
        self._inputs[i][...] = x.reshape(self._inputs[i].shape)

    def invoke(self):
        if not self._m:
            raise PexcError("the interpreter is closed")
        err = _errbuf()
        with self._lock:
            if _run(self._m, self._in_ptrs, self._out_ptrs, err, len(err)):
                _fail(err)

    def reset(self):
        """Puts operator state (an LSTM's) back to its initial value, as
        TFLM's reset(); invoke() otherwise carries it from run to run."""
        if not self._m:
            raise PexcError("the interpreter is closed")
        with self._lock:
            _reset(self._m)

    def get_output(self, index=0):
        return self._outputs[self._index(index, self.num_outputs, "output")].copy()

    def invoke_batch(self, inputs):
        """Runs N independent inputs in one C call (the GIL released; state
        reset before each). inputs: for a
        one-input model an array of N inputs (shape (N, ...) or flat);
        otherwise a sequence with one such array per input. Returns an
        array (N, *output shape), or a list of them for several outputs."""
        if not self._m:
            raise PexcError("the interpreter is closed")
        if self.num_inputs == 1:
            inputs = [inputs]
        elif len(inputs) != self.num_inputs:
            raise ValueError("the model has %d inputs, got %d arrays" % (self.num_inputs, len(inputs)))
        xs, ns = zip(*[self._check(x, i, True) for i, x in enumerate(inputs)])
        if len(set(ns)) > 1:
            raise ValueError("every input needs the same number of items, got %s" % list(ns))
        n = ns[0]
        outs = [np.empty((n,) + tuple(d["shape"]), d["dtype"]) for d in self._out_det]
        ins = (_P * len(xs))(*[x.ctypes.data for x in xs])
        optr = (_P * max(1, len(outs)))(*[o.ctypes.data for o in outs])
        err = _errbuf()
        with self._lock:
            if n and _run_batch(self._m, n, ins, optr, err, len(err)):
                _fail(err)
        return outs[0] if len(outs) == 1 else outs

    run_batch = invoke_batch


def compile(model_path, out_dir, target="host", name=None, sram=None, schedule=None, arena="static",
            stream_input=False, stream_output=False):
    """pexc compile: out_dir/NAME.h, NAME.c, the runtime sources they use and
    CMakeLists.txt. Returns the figures of `pexc inspect --json` (a dict).
    stream_input: as --stream-input (NAME_run_stream reads input pixels
    through a function of the caller's); stream_output: as --stream-output
    (it hands the outputs to another as they are made)."""
    def enc(s):
        return None if s is None else os.fsencode(s)

    o = _CompileOptions(schedule=_schedule(schedule), sram_budget=_budget(sram), name=enc(name),
                        target=enc(target), arena=enc(arena), runtime_dir=enc(_runtime_dir()),
                        stream_input=1 if stream_input else 0, stream_output=1 if stream_output else 0)
    figures, err = _P(), _errbuf()
    if _compile(os.fsencode(model_path), os.fsencode(out_dir), ctypes.byref(o), None, 0, ctypes.byref(figures),
                err, len(err)):
        _fail(err)
    return _take_json(figures)


def main(argv=None):
    """The pexc command in this process; returns its exit status."""
    args = ["pexc"] + list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("PEXC_RUNTIME_DIR", _runtime_dir())
    c_argv = (_STR * (len(args) + 1))(*[os.fsencode(a) for a in args], None)
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        return _cli_main(len(args), c_argv)
    finally:
        ctypes.CDLL(None).fflush(None)


def _console():
    # behave as the C executable: die on SIGPIPE and Ctrl-C
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    sys.exit(main())
