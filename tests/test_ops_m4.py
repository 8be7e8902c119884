"""Every operator model's generated C on an emulated Cortex-M4, against TFLM.

Models: every .tflite of tests/models/*/ except gen/ (ops/, lut/ and the
families other branches add) that `pexc inspect` accepts; models TFLM cannot
load (or, for a family with a MANIFEST.json, whose "tflm" entry is not "ok")
are skipped.  For each model and each of `--schedule baseline` and
`--schedule min-sram`, `pexc compile MODEL --name NAME --target cortex-m4`
with a name of its own (family_model_b / _s).

Cheap by construction: many models share one firmware.  The runtime kernel
files are the same for every model, so they are copied once per firmware
(the same name must be the same bytes); each model's arena is a static
array, so models are packed into a few firmwares whose arenas together stay
well below the board's SRAM (mps2-an386).  A generated main.c holds each
model's inputs as const arrays (two seeded random inputs and the
deterministic input, per input tensor; when TFLM fails on all three, the
largest input too), runs NAME_run_io on each and prints

    r <case> <status> <hex of the outputs, back to back>

over semihosting.  Each firmware is compiled once and run once (two at a
time, one per core).  TFLM (tools/tflm_ref.py, TflmModel.run_io) gives the
expected bytes for the same inputs; where TFLM fails on an input (RSQRT
below its domain) the generated code must return a non-zero status too.
A failure names the model, the schedule and the input.

The test also prints the flash bytes (arm-none-eabi-gcc -Os, text) of each
runtime kernel file the firmwares use (tools/kernel_flash.py; informative).

    .venv/bin/python -m pytest tests/test_ops_m4.py
"""

import concurrent.futures
import json
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pexc_harness as H  # noqa: E402
import kernel_flash  # noqa: E402  (tools/, on the path through pexc_harness)

MODELS_DIR = os.path.join(H.ROOT, "tests", "models")
MCU_RUN = os.path.join(H.SHARED, "mcu", "mcu-run")
CODEGEN_DIR = os.path.join(H.ROOT, "tests", "codegen")  # mcu_hex.h
BOARD = "mps2-an386"
SCHEDULES = ["baseline", "min-sram"]
SUFFIX = {"baseline": "b", "min-sram": "s"}
N_RANDOM = 2
# The board has 4 MiB of SRAM; the arenas of one firmware stay below 1 MiB
# (stack, outputs and margin fit the rest) and a firmware holds at most
# MAX_PER_FIRMWARE model-schedules, so that a compile stays short.
ARENA_BUDGET = 1 << 20
MAX_PER_FIRMWARE = 60
JOBS = 2


def _run(cmd, timeout=300, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, **kw)


def _have_mcu():
    return (os.access(MCU_RUN, os.X_OK) and shutil.which("arm-none-eabi-gcc") is not None
            and shutil.which("qemu-system-arm") is not None)


# ---- which models --------------------------------------------------------------

def _families():
    if not os.path.isdir(MODELS_DIR):
        return []
    return sorted(d for d in os.listdir(MODELS_DIR)
                  if d != "gen" and os.path.isdir(os.path.join(MODELS_DIR, d))
                  and any(f.endswith(".tflite") for f in os.listdir(os.path.join(MODELS_DIR, d))))


def _manifest_tflm(family):
    """{file: manifest "tflm" entry} when the family has a MANIFEST.json that says."""
    path = os.path.join(MODELS_DIR, family, "MANIFEST.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        models = json.load(f).get("models", [])
    return {m["file"]: m["tflm"] for m in models if "file" in m and "tflm" in m}


def _accepted(path):
    return _run([H.PEXC, "inspect", path], timeout=120).returncode == 0


def _discover():
    """[(key, path, tflm note or None)] of the models pexc accepts; key is family/stem."""
    if not H.pexc_available():
        return []
    found = []
    for fam in _families():
        tflm = _manifest_tflm(fam)
        d = os.path.join(MODELS_DIR, fam)
        for fn in sorted(os.listdir(d)):
            if fn.endswith(".tflite"):
                found.append(("%s/%s" % (fam, fn[:-7]), os.path.join(d, fn), tflm.get(fn)))
    with concurrent.futures.ThreadPoolExecutor(max_workers=JOBS) as pool:
        ok = list(pool.map(lambda m: _accepted(m[1]), found))
    return [m for m, a in zip(found, ok) if a]


MODELS = _discover()


def c_name(key, schedule):
    name = re.sub(r"[^a-z0-9_]", "_", key.replace("/", "_").lower()) + "_" + SUFFIX[schedule]
    return name if name[0].isalpha() else "m_" + name


# ---- TFLM: inputs and expected outputs ----------------------------------------

def _input_sets(key, details):
    """[(label, [bytes per input tensor])]: seeded random inputs, then det
    (then, when TFLM fails on all of these, the largest input: "max")."""
    rng = np.random.default_rng([2, sum(map(ord, key))])
    sets = []
    for k in range(N_RANDOM):
        one = []
        for dt, count in details:
            if dt.kind == "f":
                one.append(rng.uniform(-4, 4, size=count).astype(dt).tobytes())
            elif dt.kind == "b":  # a bool byte is 0 or 1; TFLM's `!v` on others is undefined
                one.append(rng.integers(0, 2, size=count, dtype=np.uint8).tobytes())
            else:
                one.append(rng.integers(0, 256, size=count * dt.itemsize, dtype=np.uint8).tobytes())
        sets.append(("random%d" % k, one))
    sets.append(("det", [H.tflm_ref.det_input(dt, count).astype(dt.newbyteorder("<")).tobytes()
                         for dt, count in details]))
    return sets


def _max_input(dt, count):
    if dt.kind in "fb":
        return np.ones(count, dt).tobytes()
    return np.full(count, np.iinfo(dt).max, dt).astype(dt.newbyteorder("<")).tobytes()


def tflm_reference(key, path, n_inputs, n_outputs):
    """(None, sets, [outputs or None per set], [output dtypes]) or (why TFLM
    refuses it, None, None, None)."""
    try:
        ref = H.tflm_ref.TflmModel(path)
        details = []
        for i in range(n_inputs):
            det = ref._interp.get_input_details(i)
            details.append((np.dtype(det["dtype"]), int(np.prod(det["shape"]))))
        out_dtypes = [np.dtype(ref._interp.get_output_details(o)["dtype"]) for o in range(n_outputs)]
    except Exception as exc:  # TFLM refuses the model
        return "TFLM refuses it: %s" % str(exc)[:200], None, None, None
    sets = _input_sets(key, details)

    def run(datas):
        nonlocal ref
        try:
            return ref.run_io(datas, n_outputs)
        except Exception:  # TFLM fails on this input: the generated code must fail too
            ref = H.tflm_ref.TflmModel(path)  # a fresh interpreter after a failed invoke
            return None

    expected = [run(datas) for _, datas in sets]
    if all(e is None for e in expected):
        # e.g. RSQRT with a high input zero point: every random input holds a
        # value below its domain; the largest input is inside it
        sets.append(("max", [_max_input(dt, count) for dt, count in details]))
        expected.append(run(sets[-1][1]))
    if all(e is None for e in expected):
        return "TFLM fails on every input", None, None, None
    return None, sets, expected, out_dtypes


# ---- compile ----------------------------------------------------------------------

def header_define(text, name, what):
    m = re.search(r"#define %s_%s (\d+)" % (re.escape(name.upper()), what), text)
    assert m, "%s.h has no %s_%s" % (name, name.upper(), what)
    return int(m.group(1))


def pexc_compile(path, schedule, name, out_dir):
    r = _run([H.PEXC, "compile", path, "-o", out_dir, "--name", name, "--schedule", schedule,
              "--target", "cortex-m4"])
    if r.returncode != 0:
        return {"error": "pexc compile --schedule %s: exit %d: %s" % (schedule, r.returncode,
                                                                       r.stderr.decode().strip()[:1000])}
    with open(os.path.join(out_dir, name + ".h")) as f:
        h = f.read()
    n_in, n_out = header_define(h, name, "NUM_INPUTS"), header_define(h, name, "NUM_OUTPUTS")
    return {"dir": out_dir, "arena": header_define(h, name, "ARENA_BYTES"), "n_in": n_in, "n_out": n_out,
            "in_bytes": [header_define(h, name, "INPUT%d_BYTES" % i) for i in range(n_in)],
            "out_bytes": [header_define(h, name, "OUTPUT%d_BYTES" % o) for o in range(n_out)]}


# ---- firmware ---------------------------------------------------------------------

def pack(units):
    """units: [(key, arena bytes, n model-schedules)] -> [[key]] firmwares:
    at least JOBS of them, each under ARENA_BUDGET and MAX_PER_FIRMWARE."""
    total = sum(u[2] for u in units)
    n = max(JOBS, -(-total // MAX_PER_FIRMWARE), -(-sum(u[1] for u in units) // ARENA_BUDGET))
    bins = [[0, 0, []] for _ in range(n)]
    for key, arena, count in sorted(units, key=lambda u: (-u[1], u[0])):
        fits = [b for b in bins if b[0] + arena <= ARENA_BUDGET and b[1] + count <= MAX_PER_FIRMWARE]
        if not fits:
            fits = [[0, 0, []]]
            bins.append(fits[0])
        b = min(fits, key=lambda b: (b[1], b[0]))
        b[0] += arena
        b[1] += count
        b[2].append(key)
    return [sorted(b[2]) for b in bins if b[2]]


def _c_bytes(data):
    return ",\n".join(",".join(str(b) for b in data[i:i + 32]) for i in range(0, len(data), 32)) or "0"


MAIN_HEAD = r"""/* Generated by tests/test_ops_m4.py: every case runs NAME_run_io once and
 * prints "r <case> <status> <output hex>" over semihosting. */
#include <stdint.h>
#include <string.h>

#include "mcu.h"
#include "mcu_hex.h"
"""

MAIN_HELPERS = r"""
typedef int (*run_io_fn)(const void *const *, void *const *);

static void run_case(uint32_t k, run_io_fn fn, const void *const *ins, void *const *outs, uint32_t n_out) {
    memset(outbuf, 0x5a, n_out);
    int rc = fn(ins, outs);
    mcu_puts("r ");
    mcu_print_u32(k);
    mcu_puts(" ");
    mcu_print_i32(rc);
    mcu_puts(" ");
    if (rc == 0) print_hex(outbuf, n_out);
    mcu_puts("\n");
}
"""


def write_firmware(fw_dir, entries):
    """entries: [(key, schedule, name, compiled, sets)].  Copies the generated
    files and the runtime files (once) into fw_dir, writes main.c; returns
    (the C sources, [(key, schedule, label)] by case number, runtime files)."""
    os.makedirs(fw_dir)
    runtime = {}
    for key, schedule, name, comp, _ in entries:
        for fn in sorted(os.listdir(comp["dir"])):
            src = os.path.join(comp["dir"], fn)
            if fn in (name + ".c", name + ".h"):
                shutil.copy(src, fw_dir)
            elif fn.endswith((".c", ".h")):
                with open(src, "rb") as f:
                    data = f.read()
                if fn in runtime:
                    assert runtime[fn] == data, "%s: runtime file %s differs from another model's copy" % (key, fn)
                else:
                    runtime[fn] = data
                    with open(os.path.join(fw_dir, fn), "wb") as f:
                        f.write(data)
    out_max = max(sum(e[3]["out_bytes"]) for e in entries)
    parts = [MAIN_HEAD]
    parts += ['#include "%s.h"\n' % e[2] for e in entries]
    # a model with state (an LSTM) starts every input from it, as TFLM's
    # reference does (a reset interpreter per input)
    for e in entries:
        parts.append("#if %s_HAS_STATE\n#define RESET_%s() %s_reset()\n#else\n#define RESET_%s() ((void)0)\n#endif\n"
                     % (e[2].upper(), e[2], e[2], e[2]))
    parts.append("\nstatic uint8_t outbuf[%d] __attribute__((aligned(16)));\n" % out_max)
    parts.append(MAIN_HELPERS)
    inputs_done = {}
    cases, calls = [], []
    for key, schedule, name, comp, sets in entries:
        # inputs are shared by the schedules of a model
        if key not in inputs_done:
            inputs_done[key] = "in%d" % len(inputs_done)
            for s, (label, datas) in enumerate(sets):
                for i, d in enumerate(datas):
                    parts.append("static const uint8_t %s_%d_%d[%d] __attribute__((aligned(16))) = {\n%s\n};\n"
                                 % (inputs_done[key], s, i, len(d), _c_bytes(d)))
        pre = inputs_done[key]
        offs, at = [], 0
        for b in comp["out_bytes"]:
            offs.append(at)
            at += b
        parts.append("static void *const outs_%s[] = {%s};\n" % (name, ", ".join("outbuf + %d" % o for o in offs)))
        for s, (label, datas) in enumerate(sets):
            parts.append("static const void *const ins_%s_%d[] = {%s};\n"
                         % (name, s, ", ".join("%s_%d_%d" % (pre, s, i) for i in range(len(datas)))))
            calls.append("    RESET_%s();\n    run_case(%du, %s_run_io, ins_%s_%d, outs_%s, %du);\n"
                         % (name, len(cases), name, name, s, name, at))
            cases.append((key, schedule, label))
    parts.append("\nint main(void) {\n")
    parts += calls
    parts.append('    mcu_puts("done\\n");\n    return 0;\n}\n')
    with open(os.path.join(fw_dir, "main.c"), "w") as f:
        f.write("".join(parts))
    sources = [os.path.join(fw_dir, "main.c")] + sorted(
        os.path.join(fw_dir, fn) for fn in os.listdir(fw_dir) if fn.endswith(".c") and fn != "main.c")
    return sources, cases, sorted(fn for fn in runtime if fn.endswith(".c"))


def build_and_run(fw_dir, sources):
    cmd = ([MCU_RUN, "-q", "-t", "120", "--heap", "0", BOARD]
           + H.mcu_cached(BOARD, sources + ["-I" + fw_dir, "-I" + CODEGEN_DIR, "-ffp-contract=off", "-Werror"]))
    return _run(cmd, timeout=400)


# ---- the whole run, once per session ----------------------------------------------

@pytest.fixture(scope="module")
def m4(tmp_path_factory):
    if not MODELS:
        pytest.skip("no accepted models (pexc built? tests/models/*/)")
    if not _have_mcu():
        pytest.skip("arm-none-eabi-gcc / qemu-system-arm not installed (../shared/mcu/install-deps.sh)")
    if not H.tflm_ref.available():
        pytest.skip("tflite-micro is not installed (sh tools/setup.sh)")
    t0 = time.time()
    root = str(tmp_path_factory.mktemp("ops_m4"))
    res = {"skipped": {}, "compile_error": {}, "firmware_error": {}, "outputs": {}, "out_dtypes": {}}

    jobs = [(key, path, s) for key, path, _ in MODELS for s in SCHEDULES]
    with concurrent.futures.ThreadPoolExecutor(max_workers=JOBS) as pool:
        comps = list(pool.map(lambda j: pexc_compile(j[1], j[2], c_name(j[0], j[2]),
                                                     os.path.join(root, "gen", c_name(j[0], j[2]))), jobs))
    compiled = {}
    for (key, _, s), comp in zip(jobs, comps):
        if "error" in comp:
            res["compile_error"][(key, s)] = comp["error"]
        else:
            compiled[(key, s)] = comp

    refs = {}
    for key, path, note in MODELS:
        if note is not None and note != "ok":
            res["skipped"][key] = "TFLM refuses it (manifest): %s" % note[:200]
            continue
        comp = next((compiled[(key, s)] for s in SCHEDULES if (key, s) in compiled), None)
        if comp is None:
            continue
        why, sets, expected, out_dtypes = tflm_reference(key, path, comp["n_in"], comp["n_out"])
        if why:
            res["skipped"][key] = why
        else:
            refs[key] = (sets, expected)
            res["out_dtypes"][key] = out_dtypes
    t_ref = time.time()

    units = [(key, sum(compiled[(key, s)]["arena"] for s in SCHEDULES if (key, s) in compiled),
              sum(1 for s in SCHEDULES if (key, s) in compiled)) for key in sorted(refs)]
    groups = pack(units)
    firmwares = []
    used_runtime = {}  # kernel file name -> one copy
    for g, keys in enumerate(groups):
        entries = [(key, s, c_name(key, s), compiled[(key, s)], refs[key][0])
                   for key in keys for s in SCHEDULES if (key, s) in compiled]
        fw_dir = os.path.join(root, "fw%d" % g)
        sources, cases, rt = write_firmware(fw_dir, entries)
        for fn in rt:
            used_runtime.setdefault(fn, os.path.join(fw_dir, fn))
        firmwares.append((fw_dir, sources, cases, entries))

    with concurrent.futures.ThreadPoolExecutor(max_workers=JOBS) as pool:
        runs = list(pool.map(lambda f: build_and_run(f[0], f[1]), firmwares))
    for (fw_dir, sources, cases, entries), r in zip(firmwares, runs):
        out = r.stdout.decode("utf-8", "replace")
        got = {}
        for m in re.finditer(r"^r (\d+) (-?\d+) ([0-9a-f]*)$", out, re.M):
            got[int(m.group(1))] = (int(m.group(2)), bytes.fromhex(m.group(3)))
        problem = None
        if r.returncode != 0 or not re.search(r"^done$", out, re.M):
            problem = "firmware %s (%d models) exit %d: %s\n%s" % (
                os.path.basename(fw_dir), len(entries), r.returncode, out[-1500:], r.stderr.decode()[-3000:])
        for k, (key, s, label) in enumerate(cases):
            if k in got:
                res["outputs"][(key, s, label)] = got[k]
            elif problem:
                res["firmware_error"][(key, s)] = problem
    res["n_firmwares"] = len(firmwares)
    res["per_firmware"] = [len(f[3]) for f in firmwares]
    res["refs"] = refs
    res["compiled"] = compiled
    res["used_runtime"] = sorted(used_runtime.values())
    res["times"] = (t_ref - t0, time.time() - t_ref)
    return res


# float32 outputs: the kernels compute in TFLM's order and are bit-exact on
# the host, where both sides call glibc's expf and tanhf; on the Cortex-M4
# the generated code links newlib's, which can differ in the last bits, and
# an LSTM carries such a difference through its steps. Integer outputs are
# compared byte for byte.
FLOAT_ULPS = 64


def _within_ulps(want, got, ulps):
    a = np.frombuffer(want, np.float32)
    b = np.frombuffer(got, np.float32)
    if a.shape != b.shape or not np.array_equal(np.isnan(a), np.isnan(b)):
        return False
    ok = ~np.isnan(a)
    return bool(np.all(np.abs(a[ok] - b[ok]) <= ulps * np.spacing(np.maximum(np.abs(a[ok]), np.abs(b[ok])))))


def _check(res, key, schedule):
    """None if every input matched TFLM, else the failure text."""
    if (key, schedule) in res["compile_error"]:
        return "%s [%s]: %s" % (key, schedule, res["compile_error"][(key, schedule)])
    if key in res["skipped"]:
        return None
    if (key, schedule) in res["firmware_error"]:
        return "%s [%s]: %s" % (key, schedule, res["firmware_error"][(key, schedule)])
    sets, expected = res["refs"][key]
    comp = res["compiled"][(key, schedule)]
    problems = []
    for (label, _), want in zip(sets, expected):
        rc, got = res["outputs"][(key, schedule, label)]
        if want is None:
            if rc == 0:
                problems.append("input %s: TFLM fails on it, the generated code returned 0" % label)
            continue
        if rc != 0:
            problems.append("input %s: the generated code returned status %d" % (label, rc))
            continue
        at = 0
        for o, size in enumerate(comp["out_bytes"]):
            dt = res["out_dtypes"][key][o]
            why = H.describe_mismatch(want[o], got[at:at + size], dt)
            if why and np.dtype(dt) == np.float32 and _within_ulps(want[o], got[at:at + size], FLOAT_ULPS):
                why = None  # newlib's expf/tanhf, not glibc's: see FLOAT_ULPS
            if why:
                problems.append("input %s output %d: %s" % (label, o, why))
            at += size
    if problems:
        return "%s [%s] on %s: %s" % (key, schedule, BOARD, "; ".join(problems))
    return None


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("key", [m[0] for m in MODELS])
def test_ops_m4(m4, key, schedule):
    why = _check(m4, key, schedule)
    if why:
        pytest.fail(why, pytrace=False)
    if key in m4["skipped"]:
        pytest.skip(m4["skipped"][key])


def test_ops_m4_summary(m4, capsys):
    """Prints what ran and the flash bytes of the kernel files used (informative)."""
    bad = [(k, s) for k, _, _ in MODELS for s in SCHEDULES if _check(m4, k, s)]
    ran = [(k, s) for (k, s) in m4["compiled"] if k in m4["refs"]]
    sizes = kernel_flash.flash_sizes(m4["used_runtime"])
    with capsys.disabled():
        print("\n[ops-m4] %d models x %d schedules = %d runs of generated C on %s in %d firmwares (%s "
              "model-schedules each), %d inferences: %s; %d models skipped (TFLM refuses); "
              "pexc compile + TFLM %.1f s, firmware build + run %.1f s"
              % (len(ran) // len(SCHEDULES), len(SCHEDULES), len(ran), BOARD, m4["n_firmwares"],
                 "/".join(map(str, m4["per_firmware"])), len(m4["outputs"]),
                 "all byte-identical to TFLM" if not bad else "%d differ" % len(bad),
                 len(m4["skipped"]), m4["times"][0], m4["times"][1]))
        print("[ops-m4] flash per runtime kernel file used (arm-none-eabi-gcc -Os -mcpu=cortex-m4, text):")
        for line in kernel_flash.format_table(sizes):
            print("  " + line)
