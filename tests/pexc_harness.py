"""Helpers shared by test_conformance.py, test_golden.py and bench/accuracy.py.

Paths are found relative to this file: the repository root is its parent
directory, the shared read-only material is ../shared next to the root.
`PEXC` in the environment overrides the compiler binary (default
build/pexc).

The pexc side only uses the documented command line:

    pexc run MODEL [--input FILE] [--output FILE] [--schedule S]
    pexc inspect MODEL --json

and probes, once per session, for two optional extensions so that tests get
faster / more helpful when they appear, without depending on them:

    --batch N       the input file holds N inputs back to back, the output
                    file receives N outputs back to back
    --dump-dir DIR  every intermediate tensor is written as DIR/<index>.bin
"""

import functools
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile
import threading

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared"))
SHARED_MODELS = os.path.join(SHARED, "models")
GOLDEN_DIR = os.path.join(SHARED_MODELS, "golden")
INPUTS_DIR = os.path.join(SHARED_MODELS, "inputs")
GEN_DIR = os.path.join(ROOT, "tests", "models", "gen")
PEXC = os.environ.get("PEXC", os.path.join(ROOT, "build", "pexc"))
TIMEOUT = float(os.environ.get("PEXC_TIMEOUT", "600"))

sys.path.insert(0, os.path.join(ROOT, "tools"))
import tflm_ref  # noqa: E402
import gen_models  # noqa: E402  (flatbuffer analysis only; no TensorFlow)

SUPPORTED_SHARED = [
    "vww_96_int8", "person_detect_int8", "kws_ds_cnn_int8", "ic_resnet8_int8",
    "ad_autoencoder_int8", "micro_speech_int8", "sww_int8", "hello_world_int8",
    "hello_world_float", "mobilenet_v2_int8",
    "mnist_lstm_int8", "dtln_int8", "micro_speech_lstm_int8", "mnist_lstm_float",
    "micro_speech_preproc_int8",
]
UNSUPPORTED_SHARED = [
]


def manifest_models(directory):
    """The "models" list of directory/MANIFEST.json ([] when absent)."""
    path = os.path.join(directory, "MANIFEST.json")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return json.load(f)["models"]


def shared_model(name):
    return os.path.join(SHARED_MODELS, name + ".tflite")


def have_shared():
    return os.path.isdir(SHARED_MODELS)


def pexc_available():
    return os.path.isfile(PEXC) and os.access(PEXC, os.X_OK)


def binding_loadable():
    """Whether this process may load the Python binding's library.  A
    sanitizer build's libpexc.so needs the sanitizer runtime loaded first
    (LD_PRELOAD=$(gcc -print-file-name=libasan.so)); without it the runtime
    ends the whole process, so the binding's tests skip instead."""
    build = os.environ.get("PEXC_BUILD", "build")
    return "asan" not in build or "libasan" in os.environ.get("LD_PRELOAD", "")


def skip_unless_binding_loadable():
    import pytest
    if not binding_loadable():
        pytest.skip("the sanitizer build's libpexc.so needs LD_PRELOAD of libasan in this process")


class PexcError(Exception):
    def __init__(self, cmd, returncode, stderr):
        self.cmd = cmd
        self.returncode = returncode
        self.stderr = stderr
        super().__init__("%s exited %s: %s" % (" ".join(cmd), returncode, stderr.strip()[:2000]))


class ScheduleUnsupported(Exception):
    pass


_FEATURES = {}  # "batch" / "dump_dir" / "schedule:<s>" -> bool


def _call(args, timeout=TIMEOUT):
    cmd = [PEXC] + [str(a) for a in args]
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
    return cmd, p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def _mentions(stderr, *words):
    s = stderr.lower()
    return any(w in s for w in words)


def _check_schedule_error(schedule, rc, stderr):
    if schedule and rc != 0 and _mentions(stderr, "schedule", schedule):
        _FEATURES["schedule:" + schedule] = False
        raise ScheduleUnsupported("pexc rejects --schedule %s: %s" % (schedule, stderr.strip()))


def run_pexc(model, inputs, out_nbytes, schedule=None, extra=()):
    """Run `pexc run` on each input (bytes, or None for the built-in
    deterministic input); return the list of output byte strings.

    Uses --batch when pexc accepts it, else one process per input.
    Raises ScheduleUnsupported if pexc refuses the schedule name, PexcError
    on any other failure.
    """
    sched = ["--schedule", schedule] if schedule else []
    if _FEATURES.get("schedule:" + str(schedule)) is False:
        raise ScheduleUnsupported("pexc rejects --schedule %s" % schedule)
    outs = [None] * len(inputs)
    with tempfile.TemporaryDirectory(prefix="pexc_t_") as tmp:
        explicit = [k for k, d in enumerate(inputs) if d is not None]
        if len(explicit) > 1 and _FEATURES.get("batch") is not False:
            allin = os.path.join(tmp, "all.bin")
            allout = os.path.join(tmp, "all.out")
            with open(allin, "wb") as f:
                for k in explicit:
                    f.write(inputs[k])
            cmd, rc, _, err = _call(["run", model, "--input", allin, "--output", allout,
                                     "--batch", len(explicit)] + sched + list(extra))
            _check_schedule_error(schedule, rc, err)
            if rc == 0 and os.path.getsize(allout) == len(explicit) * out_nbytes:
                _FEATURES["batch"] = True
                with open(allout, "rb") as f:
                    blob = f.read()
                for j, k in enumerate(explicit):
                    outs[k] = blob[j * out_nbytes:(j + 1) * out_nbytes]
            elif rc == 0 or _mentions(err, "batch", "unknown option", "usage"):
                if _FEATURES.get("batch"):
                    raise PexcError(cmd, rc, err or "batch output has the wrong size")
                _FEATURES["batch"] = False
            else:
                raise PexcError(cmd, rc, err)
        for k, data in enumerate(inputs):
            if outs[k] is not None:
                continue
            out = os.path.join(tmp, "out%d.bin" % k)
            args = ["run", model, "--output", out] + sched + list(extra)
            if data is not None:
                inp = os.path.join(tmp, "in%d.bin" % k)
                with open(inp, "wb") as f:
                    f.write(data)
                args[2:2] = ["--input", inp]
            cmd, rc, _, err = _call(args)
            _check_schedule_error(schedule, rc, err)
            if rc != 0:
                raise PexcError(cmd, rc, err)
            with open(out, "rb") as f:
                outs[k] = f.read()
    if schedule:
        _FEATURES["schedule:" + schedule] = True
    return outs


def inspect_json(model, schedule=None):
    """`pexc inspect MODEL --json` as a dict (tries with --schedule first)."""
    tries = [["inspect", model, "--json"]]
    if schedule:
        tries.insert(0, ["inspect", model, "--json", "--schedule", schedule])
    last = None
    for args in tries:
        cmd, rc, out, err = _call(args, timeout=120)
        if rc == 0:
            try:
                return json.loads(out.decode("utf-8", "replace"))
            except ValueError as exc:
                last = PexcError(cmd, rc, "bad JSON: %s" % exc)
                continue
        last = PexcError(cmd, rc, err)
    raise last


# ---------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------

def _as_elements(data, dtype):
    dt = np.dtype(dtype).newbyteorder("<")
    usable = len(data) - len(data) % dt.itemsize
    return np.frombuffer(data[:usable], dtype=dt)


def describe_mismatch(expected, got, dtype):
    """None if equal, else a short text: first differing element, both values."""
    if expected == got:
        return None
    if len(expected) != len(got):
        return "output size differs: TFLM %d bytes, pexc %d bytes" % (len(expected), len(got))
    e, g = _as_elements(expected, dtype), _as_elements(got, dtype)
    # compare bit patterns, not values (so NaN and -0.0 count too)
    bits = np.dtype("<u%d" % e.itemsize)
    diff = np.nonzero(e.view(bits) != g.view(bits))[0]
    if len(diff) == 0:
        return "outputs differ in padding bytes only"
    i = int(diff[0])
    return ("first difference at element %d of %d: TFLM %r, pexc %r (%d elements differ, "
            "max |diff| %s)" % (i, len(e), e[i].item(), g[i].item(), len(diff),
                                np.max(np.abs(e[diff].astype(np.float64) - g[diff].astype(np.float64)))))


def mismatch_report(name, schedule, model, inputs, expected, got, dtype):
    """None if every output matches, else the failure text: the first
    differing input, the first differing operator when pexc can dump
    tensors, and the other inputs that differ.  inputs: [(label, bytes)]."""
    problems = []
    for (label, data), want, have in zip(inputs, expected, got):
        why = describe_mismatch(want, have, dtype)
        if why:
            problems.append((label, data, why))
    if not problems:
        return None
    label, data, why = problems[0]
    msg = "%s [%s] input %s: %s" % (name, schedule, label, why)
    where = first_bad_operator(model, data, schedule)
    if where:
        msg += "\n  first differing operator: " + where
    if len(problems) > 1:
        msg += "\n  also differs on: " + ", ".join(p[0] for p in problems[1:])
    return msg


def first_bad_operator(model, data, schedule=None):
    """Name the first operator whose output differs between TFLM and pexc.

    Needs `pexc run --dump-dir DIR` (DIR/<tensor_index>.bin for every
    intermediate tensor).  Returns None when pexc does not support it, so
    callers can always call this on a mismatch.
    """
    if _FEATURES.get("dump_dir") is False or not pexc_available():
        return None
    ref = tflm_ref.TflmModel(model, preserve_all=True)
    ref.run(data)
    ops = gen_models.analyse(model)["ops"]
    with tempfile.TemporaryDirectory(prefix="pexc_dump_") as tmp:
        dump = os.path.join(tmp, "dump")
        os.mkdir(dump)
        try:
            run_pexc(model, [data], ref.output_nbytes, schedule,
                     extra=["--dump-dir", dump])
        except (PexcError, ScheduleUnsupported):
            _FEATURES["dump_dir"] = False
            return None
        if not os.listdir(dump):
            _FEATURES["dump_dir"] = False
            return None
        _FEATURES["dump_dir"] = True
        for n, d in enumerate(ops):
            for t in d["outputs"]:
                path = os.path.join(dump, "%d.bin" % t)
                if not os.path.exists(path):
                    continue  # fused away / never materialised by pexc
                with open(path, "rb") as f:
                    mine = f.read()
                theirs = ref.tensor_bytes(t)
                if mine != theirs:
                    arr_dtype = np.int8 if len(theirs) == len(mine) else np.uint8
                    why = describe_mismatch(theirs, mine, arr_dtype)
                    return "operator %d (%s), output tensor %d: %s" % (n, d["op"], t, why)
    return "no intermediate tensor differs (only the final output?)"


# ---------------------------------------------------------------------------
# Inputs
# ---------------------------------------------------------------------------

def conformance_inputs(ref, n_random=5, seed=0, model_name=""):
    """[(label, bytes)]: n_random seeded random inputs, then the extremes.

    int8: uniform over [-128, 127], then all -128 and all 127 (uint8: 0, 255).
    float32: uniform floats over a range that suits the model (hello_world
    takes x in [0, 2*pi]); no extremes.
    """
    rng = np.random.default_rng([seed, sum(map(ord, model_name))])
    dt = ref.input_dtype
    n = ref.input_count
    items = []
    for k in range(n_random):
        if dt == np.int8:
            x = rng.integers(-128, 128, size=n, dtype=np.int8)
        elif dt == np.uint8:
            x = rng.integers(0, 256, size=n, dtype=np.uint8)
        elif dt == np.int16:
            x = rng.integers(-32768, 32768, size=n, dtype=np.int16)
        elif dt == np.float32:
            lo, hi = (0.0, 2 * np.pi) if "hello_world" in model_name else (-1.0, 1.0)
            x = rng.uniform(lo, hi, size=n).astype(np.float32)
        else:
            raise ValueError("no random input rule for %s" % dt)
        items.append(("random%d" % k, x.astype(dt.newbyteorder("<")).tobytes()))
    if dt == np.int8:
        items.append(("all-128", np.full(n, -128, np.int8).tobytes()))
        items.append(("all127", np.full(n, 127, np.int8).tobytes()))
    if dt == np.uint8:
        items.append(("all0", np.zeros(n, np.uint8).tobytes()))
        items.append(("all255", np.full(n, 255, np.uint8).tobytes()))
    return items


# ---------------------------------------------------------------------------
# Crafted variants of a model, refusals and operator state (shared by the
# operator-family tests)
# ---------------------------------------------------------------------------

def patched_model(src, edit, out_path, pass_schema=False):
    """Writes to out_path a copy of the model at src with edit(model_object)
    (or edit(model_object, schema) when pass_schema) applied; returns it."""
    import flatbuffers
    s = gen_models._schema()
    with open(src, "rb") as f:
        m = s.ModelT.InitFromObj(s.Model.GetRootAsModel(f.read(), 0))
    if pass_schema:
        edit(m, s)
    else:
        edit(m)
    b = flatbuffers.Builder(1024)
    b.Finish(m.Pack(b), file_identifier=b"TFL3")
    with open(out_path, "wb") as f:
        f.write(bytes(b.Output()))
    return str(out_path)


def refusal_line(path):
    """`pexc inspect` must refuse the model with exit 1 and one line; returns it."""
    _, rc, _, err = _call(["inspect", path], timeout=60)
    assert rc == 1, "expected a refusal, got exit %d: %s" % (rc, err)
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert len(lines) == 1, err
    return lines[0]


def check_matches_tflm(path, ref, items, name, schedules=("baseline", "min-sram")):
    """pexc gives the bytes of TFLM model ref on each (label, input bytes)
    of items, under each schedule."""
    want = [ref.run(d) for _, d in items]
    for schedule in schedules:
        got = run_pexc(path, [d for _, d in items], ref.output_nbytes, schedule)
        for (label, _), w, g in zip(items, want, got):
            why = describe_mismatch(w, g, ref.output_dtype)
            assert why is None, "%s %s %s: %s" % (name, label, schedule, why)


def check_state_carries(path, make_ref, name, schedules=("baseline", "min-sram")):
    """A model with state: `pexc run --keep-state` over several inputs gives
    the bytes of one TFLM interpreter invoked without Reset(), under each
    schedule, and the state really changes the outputs."""
    ref = make_ref()
    items = conformance_inputs(ref, 6, 3, name)
    want = [ref.run(d) for _, d in items]
    got = None
    for schedule in schedules:
        got = run_pexc(path, [d for _, d in items], ref.output_nbytes, schedule, extra=["--keep-state"])
        for k, (w, g) in enumerate(zip(want, got)):
            why = describe_mismatch(w, g, ref.output_dtype)
            assert why is None, "%s %s run %d: differs from TFLM invoked without Reset(): %s" % (
                name, schedule, k, why)
    fresh = run_pexc(path, [d for _, d in items], ref.output_nbytes, "baseline")
    assert fresh != got, "the state should make a difference on %s" % name


# ---- building generated C --------------------------------------------------

OBJ_CACHE = os.path.join(ROOT, "build", "test-objcache")
_RUNTIME_FILES = {}


def _runtime_file(name):
    """The bytes of runtime/src/NAME or runtime/include/NAME, or None."""
    if name not in _RUNTIME_FILES:
        data = None
        for d in ("src", "include"):
            path = os.path.join(ROOT, "runtime", d, name)
            if os.path.exists(path):
                with open(path, "rb") as f:
                    data = f.read()
        _RUNTIME_FILES[name] = data
    return _RUNTIME_FILES[name]


def _object_key(cc, flags, src, data):
    """What a runtime kernel's object depends on: the compiler, the flags
    (without include paths and the model-naming defines, which only the
    generated files and the test mains use), its bytes and the bytes of the
    runtime headers beside it."""
    h = hashlib.sha256()
    skip = False
    for f in [cc] + flags:
        if skip:
            skip = False
            continue
        if f == "-I":
            skip = True
            continue
        if f.startswith("-I") or f.startswith("-DPEXC_MODEL=") or f.startswith("-DPEXC_MACRO="):
            continue
        h.update(f.encode() + b"\0")
    h.update(data)
    d = os.path.dirname(src)
    for name in sorted(os.listdir(d)):
        if name.endswith(".h") and _runtime_file(name) is not None:
            with open(os.path.join(d, name), "rb") as f:
                h.update(name.encode() + b"\0" + f.read())
    return h.hexdigest()[:32]


def _cached_object(cc, flags, src, data, tag, timeout, kw):
    """(object path, None) for runtime kernel file src compiled by cc with
    flags, compiled now unless the cache has it; (None, the compiler's
    CompletedProcess) on an error. Each compile writes a file of its own
    (process and thread in the name) and renames it into place, so that
    workers and threads building the same kernel at once do not collide."""
    obj = os.path.join(OBJ_CACHE, "%s-%s%s.o" % (os.path.basename(src)[:-2], tag, _object_key(cc, flags, src, data)))
    if os.path.exists(obj):
        return obj, None
    tmp = "%s.%d.%d.tmp" % (obj, os.getpid(), threading.get_ident())
    r = subprocess.run([cc] + flags + ["-c", src, "-o", tmp], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=timeout, **kw)
    if r.returncode:
        return None, r
    os.replace(tmp, obj)
    return obj, None


def cc_build(argv, timeout=600, **kw):
    """Builds what `argv` (cc FLAGS... SOURCES... -o EXE -lLIBS) builds, as
    subprocess.run would (returncode, stdout, stderr), but compiles each
    runtime kernel file pexc copied (bytes equal to runtime/'s) once per
    compiler, flags and runtime headers, keeping its object in
    build/test-objcache: the suite builds the same kernels for hundreds of
    generated models. The generated files and the test mains are compiled
    every time, and the link takes exactly the copied files' objects, so a
    kernel file pexc forgot to copy still fails the link."""
    cc, flags, srcs, libs, exe = argv[0], [], [], [], None
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "-o":
            exe = argv[i + 1]
            i += 2
            continue
        if a.endswith(".c"):
            srcs.append(a)
        elif a.startswith("-l"):
            libs.append(a)
        else:
            flags.append(a)
        i += 1
    assert exe, "cc_build: no -o in %r" % (argv,)
    objs, fresh = [], []
    os.makedirs(OBJ_CACHE, exist_ok=True)
    for src in srcs:
        with open(src, "rb") as f:
            data = f.read()
        if _runtime_file(os.path.basename(src)) != data:
            fresh.append(src)
            continue
        obj, r = _cached_object(cc, flags, src, data, "", timeout, kw)
        if obj is None:
            return r
        objs.append(obj)
    return subprocess.run([cc] + flags + fresh + objs + ["-o", exe] + libs, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout, **kw)


MCU_DIR = os.path.join(SHARED, "mcu")


@functools.lru_cache(maxsize=None)
def _mcu_board_flags(board):
    """The compile flags ../shared/mcu/mcu-run gives every source for BOARD
    (read from the script itself, once per board, so that they follow it)."""
    with open(os.path.join(MCU_DIR, "mcu-run")) as f:
        text = f.read()
    m = re.search(r"^\s*%s\)\s*\n\s*CPUFLAGS=\"([^\"]*)\"" % re.escape(board), text, re.M)
    c = re.search(r"CMD=\(\"\$\{CROSS\}gcc\" \$CPUFLAGS ([^$]*)\$\{MCU_CFLAGS", text)
    if not m or not c or "-ffunction-sections -fdata-sections" not in text:
        return None
    macro = "MCU_BOARD_" + board.upper().replace("-", "_")
    return tuple(m.group(1).split() + c.group(1).split() + ["-ffunction-sections", "-fdata-sections",
                 "--specs=nano.specs", '-DMCU_BOARD="%s"' % board, "-D%s=1" % macro,
                 "-I" + os.path.join(MCU_DIR, "src")])


def mcu_cached(board, args):
    """mcu-run's BOARD SOURCE... FLAGS... arguments with every runtime kernel
    file pexc copied (bytes equal to runtime/'s) replaced by its object,
    compiled once with the flags mcu-run would give it (its own, then the
    command line's) and kept in build/test-objcache: mcu-run compiles every
    source of every firmware, and the suite builds the same kernels for
    dozens of them. The objects are what mcu-run would have compiled, so the
    firmware's code and sizes do not change."""
    base = _mcu_board_flags(board)
    if base is None:
        return list(args)
    user = [a for a in args if a.startswith("-")]
    flags = list(base) + os.environ.get("MCU_CFLAGS", "").split() + user
    out = []
    os.makedirs(OBJ_CACHE, exist_ok=True)
    for a in args:
        if not a.endswith(".c") or a.startswith("-"):
            out.append(a)
            continue
        with open(a, "rb") as f:
            data = f.read()
        if _runtime_file(os.path.basename(a)) != data:
            out.append(a)
            continue
        obj, _ = _cached_object("arm-none-eabi-gcc", flags, a, data, "arm-", 600, {})
        out.append(obj or a)  # on a compile error mcu-run compiles the source and reports it
    return out


def run_generated_c(model, tmp_path, data):
    """`pexc compile` model (--name m), build the C with gcc -Werror around
    tests/codegen/host_main.c, run it on the input bytes data and return
    the output bytes."""
    out = os.path.join(str(tmp_path), "gen")
    cmd, rc, _, err = _call(["compile", model, "-o", out, "--name", "m"], timeout=120)
    assert rc == 0, err
    srcs = sorted(os.path.join(out, f) for f in os.listdir(out) if f.endswith(".c"))
    exe = os.path.join(str(tmp_path), "run")
    main = os.path.join(ROOT, "tests", "codegen", "host_main.c")
    r = cc_build(["gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off",
                  "-DPEXC_MODEL=m", "-DPEXC_MACRO=M", "-I" + out, main] + srcs + ["-o", exe, "-lm"])
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    inp, res = os.path.join(str(tmp_path), "in.bin"), os.path.join(str(tmp_path), "out.bin")
    with open(inp, "wb") as f:
        f.write(data)
    r = subprocess.run([exe, inp, res], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert r.returncode == 0, r.stderr.decode()
    with open(res, "rb") as f:
        return f.read()
