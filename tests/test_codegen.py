"""`pexc compile`: generated C, built for the host and a Cortex-M4, against
`pexc run` and the TFLM golden outputs.

For every supported model in ../shared/models and both schedules:

* host: the generated NAME.c plus the runtime sources pexc copied are built
  with gcc (-std=c11 -Wall -Wextra -Werror, the generated file also with
  -pedantic -Wconversion -Wshadow) around tests/codegen/host_main.c, run on
  every input that has a golden output, and compared byte for byte with
  `pexc run` (the emitter prints exactly the host executor's calls) and with
  the golden file. A clang pass covers a few models.
* nm: the generated object's only undefined symbols are memcpy/memmove/memset
  and pexc kernels; no runtime object references anything else from libc.
* Cortex-M: every generated file compiles warning-free with
  arm-none-eabi-gcc -std=c11 for M4/M7/M33/M55, and the models run on
  mps2-an386 under QEMU (../shared/mcu/mcu-run, no heap) with
  tests/codegen/mcu_main.c; the output printed over semihosting must equal
  the golden output for the deterministic input (mobilenet_v2_int8 included:
  about 6 s per schedule under QEMU on the 2-core machine; set
  PEXC_CODEGEN_SKIP_M4=mobilenet_v2_int8,... to leave models out).
* --sram: below the least reachable peak compile fails (exit 1, one line
  naming the bottleneck operator and the least peak); at or above it the
  emitted NAME_ARENA_BYTES fits the budget and the outputs stay exact.

"""

import os
import re
import shutil
import subprocess

import pytest

import pexc_harness as H

pytestmark = pytest.mark.skipif(not H.have_shared(), reason="../shared is missing")

CODEGEN_DIR = os.path.join(H.ROOT, "tests", "codegen")
HOST_MAIN = os.path.join(CODEGEN_DIR, "host_main.c")
MCU_MAIN = os.path.join(CODEGEN_DIR, "mcu_main.c")
MCU_RUN = os.path.join(H.SHARED, "mcu", "mcu-run")
RUNTIME = os.path.join(H.ROOT, "runtime")
SCHEDULES = ["baseline", "min-sram"]
STRICT = ["-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off"]
GENERATED_EXTRA = ["-pedantic", "-Wconversion", "-Wshadow", "-Wcast-qual", "-Wstrict-prototypes"]
M4_SKIP = {m for m in os.environ.get("PEXC_CODEGEN_SKIP_M4", "").split(",") if m}
ARM_CPUS = {
    "cortex-m4": ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"],
    "cortex-m7": ["-mcpu=cortex-m7", "-mthumb", "-mfpu=fpv5-d16", "-mfloat-abi=hard"],
    "cortex-m33": ["-mcpu=cortex-m33", "-mthumb", "-mfpu=fpv5-sp-d16", "-mfloat-abi=hard"],
    "cortex-m55": ["-mcpu=cortex-m55", "-mthumb", "-mfloat-abi=hard"],
}
LIBC_ALLOWED = {"memcpy", "memmove", "memset"}
# The float kernels take log, sin and the other element-wise functions from
# libm, as TFLite's reference kernels do (their bytes are the C library's);
# exp, expm1 and tanh are pexc's own (runtime/src/pexc_mathf.c: glibc's bits
# on every target, so the float LSTM's goldens hold on the board too).
LIBM_ALLOWED = {"logf", "sqrtf", "sinf", "cosf", "floorf", "ceilf", "fabsf"}


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _run(cmd, timeout=300, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, **kw)


def _have_mcu():
    return (os.access(MCU_RUN, os.X_OK) and shutil.which("arm-none-eabi-gcc") is not None
            and shutil.which("qemu-system-arm") is not None)


# ---- the compile command ----------------------------------------------------

@pytest.fixture(scope="session")
def pexc_compile(tmp_path_factory):
    """argv prefix + env running `pexc compile`."""
    if not H.pexc_available():
        pytest.skip("%s is not built" % H.PEXC)
    env = dict(os.environ)
    probe = _run([H.PEXC, "compile", "--help"])
    assert probe.returncode == 0, probe.stderr
    return [H.PEXC, "compile"], env


def compile_model(pexc_compile, model, out_dir, *extra):
    cmd, env = pexc_compile
    return _run(cmd + [H.shared_model(model), "-o", str(out_dir)] + list(extra), env=env)


_COMPILED = {}


@pytest.fixture(scope="session")
def compiled(pexc_compile, tmp_path_factory):
    """compiled(model, schedule) -> directory with NAME.h, NAME.c and runtime sources."""
    def get(model, schedule):
        key = (model, schedule)
        if key not in _COMPILED:
            d = tmp_path_factory.mktemp("%s-%s" % (model, schedule))
            r = compile_model(pexc_compile, model, d, "--schedule", schedule)
            assert r.returncode == 0, "pexc compile %s --schedule %s: %s" % (model, schedule, r.stderr.decode())
            _COMPILED[key] = d
        return _COMPILED[key]
    return get


def c_sources(d):
    return sorted(str(p) for p in d.iterdir() if p.suffix == ".c" and p.name != "test_input.c")


def golden_inputs(model):
    """[(label, input bytes, golden output bytes)], det first."""
    cases = []
    for fn in sorted(os.listdir(H.GOLDEN_DIR)):
        if fn.startswith(model + ".") and fn.endswith(".out"):
            label = fn[len(model) + 1:-4]
            path = os.path.join(H.INPUTS_DIR, "%s.%s.bin" % (model, label))
            if os.path.exists(path):
                cases.append((label, _read(path), _read(os.path.join(H.GOLDEN_DIR, fn))))
    cases.sort(key=lambda c: c[0] != "det")
    return cases


def pexc_run_path(path, schedule, data, tmp):
    inp, out = os.path.join(tmp, "pexc_in.bin"), os.path.join(tmp, "pexc_out.bin")
    with open(inp, "wb") as f:
        f.write(data)
    r = _run([H.PEXC, "run", path, "--schedule", schedule, "--input", inp, "--output", out])
    assert r.returncode == 0, "pexc run: " + r.stderr.decode()
    return _read(out)


def pexc_run(model, schedule, data, tmp):
    return pexc_run_path(H.shared_model(model), schedule, data, tmp)


def header_define(d, model, what):
    text = (d / (model + ".h")).read_text()
    m = re.search(r"#define %s_%s (\d+)" % (re.escape(model.upper()), what), text)
    assert m, "%s.h has no %s_%s" % (model, model.upper(), what)
    return int(m.group(1))


def build_host(d, model, cc, exe):
    """Builds host_main + generated model; the generated file is held to extra warnings."""
    gen = str(d / (model + ".c"))
    obj = os.path.join(os.path.dirname(exe), "%s.%s.o" % (model, cc))
    r = _run([cc] + STRICT + GENERATED_EXTRA + ["-I" + str(d), "-c", gen, "-o", obj])
    assert r.returncode == 0, "%s on the generated %s.c:\n%s" % (cc, model, r.stderr.decode()[-3000:])
    r = H.cc_build([cc] + STRICT + ["-DPEXC_MODEL=" + model, "-DPEXC_MACRO=" + model.upper(), "-I" + str(d), HOST_MAIN]
                   + c_sources(d) + ["-o", exe, "-lm"])
    assert r.returncode == 0, "%s build of %s:\n%s" % (cc, model, r.stderr.decode()[-3000:])


def check_host(d, model, schedule, cc, tmp, compare_pexc=True):
    exe = os.path.join(tmp, "host_" + cc)
    build_host(d, model, cc, exe)
    for label, data, want in golden_inputs(model):
        inp, out = os.path.join(tmp, "in.bin"), os.path.join(tmp, "out.bin")
        with open(inp, "wb") as f:
            f.write(data)
        r = _run([exe, inp, out])
        assert r.returncode == 0, "%s.%s: generated code failed (exit %d): %s" % (
            model, label, r.returncode, r.stderr.decode())
        got = _read(out)
        dtype = "<f4" if model.endswith("_float") else "i1"
        if compare_pexc:
            ref = pexc_run(model, schedule, data, tmp)
            why = H.describe_mismatch(ref, got, dtype)
            assert why is None, "%s.%s %s: generated C vs pexc run: %s" % (model, label, schedule, why)
        why = H.describe_mismatch(want, got, dtype)
        assert why is None, "%s.%s %s: generated C vs golden: %s" % (model, label, schedule, why)


# ---- host ------------------------------------------------------------------

@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("model", H.SUPPORTED_SHARED)
def test_host_gcc(compiled, model, schedule, tmp_path):
    d = compiled(model, schedule)
    check_host(d, model, schedule, "gcc", str(tmp_path))
    # the header's arena is the plan pexc reports for the same schedule
    r = _run([H.PEXC, "inspect", H.shared_model(model), "--json", "--schedule", schedule])
    assert r.returncode == 0, r.stderr.decode()
    peak = int(re.search(rb'"peak_sram_bytes": (\d+)', r.stdout).group(1))
    assert header_define(d, model, "ARENA_BYTES") == peak


@pytest.mark.skipif(shutil.which("clang") is None, reason="clang not installed")
@pytest.mark.parametrize("model", ["hello_world_float", "kws_ds_cnn_int8", "ic_resnet8_int8", "person_detect_int8"])
def test_host_clang(compiled, model, tmp_path):
    check_host(compiled(model, "min-sram"), model, "min-sram", "clang", str(tmp_path), compare_pexc=False)


@pytest.mark.parametrize("model", H.SUPPORTED_SHARED)
def test_no_libc_beyond_mem(compiled, model, tmp_path):
    d = compiled(model, "min-sram")
    undefined = {}
    for src in c_sources(d):
        obj = str(tmp_path / (os.path.basename(src) + ".o"))
        r = _run(["gcc"] + STRICT + ["-I" + str(d), "-c", src, "-o", obj])
        assert r.returncode == 0, r.stderr.decode()[-2000:]
        nm = _run(["nm", "-u", obj])
        assert nm.returncode == 0
        undefined[os.path.basename(src)] = {ln.split()[-1] for ln in nm.stdout.decode().splitlines() if ln.strip()}
    gen = undefined.pop(model + ".c")
    bad = {s for s in gen if s not in LIBC_ALLOWED and not s.startswith("pexc_")}
    assert not bad, "generated %s.o references %s" % (model, sorted(bad))
    for name, syms in undefined.items():
        bad = {s for s in syms if s not in LIBC_ALLOWED | LIBM_ALLOWED and not s.startswith("pexc_")}
        assert not bad, "runtime %s references %s" % (name, sorted(bad))


# ---- --sram ----------------------------------------------------------------

def test_sram_budget(pexc_compile, compiled, tmp_path):
    model = "person_detect_int8"  # min-sram is well below the baseline here
    least = header_define(compiled(model, "min-sram"), model, "ARENA_BYTES")
    base = header_define(compiled(model, "baseline"), model, "ARENA_BYTES")
    assert least < base

    r = compile_model(pexc_compile, model, tmp_path / "below", "--sram", str(least - 1))
    err = r.stderr.decode()
    assert r.returncode == 1, "budget below the least peak must fail with exit 1, got %d: %s" % (r.returncode, err)
    assert len(err.strip().splitlines()) == 1, "expected a one-line error, got:\n" + err
    assert "bottleneck" in err and str(least) in err, err
    assert re.search(r"op \d+ [A-Z_0-9]+", err), "error does not name the bottleneck operator: " + err
    assert not (tmp_path / "below" / (model + ".c")).exists()

    for budget in (least, (least + base) // 2, base):
        d = tmp_path / ("b%d" % budget)
        r = compile_model(pexc_compile, model, d, "--sram", str(budget))
        assert r.returncode == 0, "--sram %d: %s" % (budget, r.stderr.decode())
        arena = header_define(d, model, "ARENA_BYTES")
        assert arena <= budget
        if budget == base:
            assert arena == base  # the baseline fits: nothing to split
    check_host(tmp_path / ("b%d" % ((least + base) // 2)), model, "min-sram", "gcc", str(tmp_path),
               compare_pexc=False)


def test_usage_errors(pexc_compile, tmp_path):
    model = "hello_world_int8"
    assert compile_model(pexc_compile, model, tmp_path / "a", "--name", "9bad-name").returncode == 2
    assert compile_model(pexc_compile, model, tmp_path / "b", "--target", "pdp11").returncode == 2
    assert compile_model(pexc_compile, model, tmp_path / "c", "--sram", "lots").returncode == 2
    assert compile_model(pexc_compile, model, tmp_path / "d", "--schedule", "fastest").returncode == 2
    cmd, env = pexc_compile
    assert _run(cmd + [H.shared_model(model)], env=env).returncode == 2  # no -o


def test_default_name_is_sanitised(pexc_compile, tmp_path):
    odd = tmp_path / "9 hello-world.v2.tflite"
    shutil.copy(H.shared_model("hello_world_int8"), odd)
    cmd, env = pexc_compile
    r = _run(cmd + [str(odd), "-o", str(tmp_path / "out")], env=env)
    assert r.returncode == 0, r.stderr.decode()
    assert (tmp_path / "out" / "m_9_hello_world_v2.h").exists()
    assert (tmp_path / "out" / "m_9_hello_world_v2.c").exists()
    assert (tmp_path / "out" / "pexc_kernels.h").exists()


# ---- Cortex-M ----------------------------------------------------------------

def write_input_c(d, data):
    body = ",".join(str(b) for b in data)
    path = d / "test_input.c"
    path.write_text("#include <stdint.h>\n"
                    "const uint8_t pexc_test_input[%d] __attribute__((aligned(16))) = {\n%s\n};\n"
                    % (len(data), body))
    return str(path)


def mcu_run(d, model, data, board="mps2-an386", timeout=120, extra_opts=()):
    """Runs the model on the board; returns (output bytes, peak stack, CompletedProcess)."""
    inp = write_input_c(d, data)
    cmd = ([MCU_RUN, "-q", "-t", str(timeout), "--heap", "0"] + list(extra_opts) + [board]
           + H.mcu_cached(board, [MCU_MAIN, inp] + c_sources(d)
                          + ["-I" + str(d), "-DPEXC_MODEL=" + model, "-DPEXC_MACRO=" + model.upper(),
                             "-ffp-contract=off", "-Werror"]))
    r = _run(cmd, timeout=timeout + 120)
    out = r.stdout.decode()
    assert r.returncode == 0, "%s on %s: exit %d\n%s\n%s" % (model, board, r.returncode, out[-2000:],
                                                             r.stderr.decode()[-3000:])
    m = re.search(r"^out ([0-9a-f]*)$", out, re.M)
    s = re.search(r"^stack (\d+)$", out, re.M)
    assert m and s, "unexpected firmware output:\n" + out[-2000:]
    return bytes.fromhex(m.group(1)), int(s.group(1)), r


@pytest.mark.skipif(not _have_mcu(), reason="arm-none-eabi-gcc / qemu-system-arm not installed "
                    "(../shared/mcu/install-deps.sh)")
@pytest.mark.parametrize("target", sorted(ARM_CPUS))
@pytest.mark.parametrize("model", ["kws_ds_cnn_int8", "hello_world_float", "ic_resnet8_int8"])
def test_arm_compiles_strict(compiled, model, target, tmp_path):
    d = compiled(model, "min-sram")
    for src in c_sources(d):
        obj = str(tmp_path / (os.path.basename(src) + ".o"))
        flags = STRICT + (GENERATED_EXTRA if os.path.basename(src) == model + ".c" else [])
        r = _run(["arm-none-eabi-gcc"] + ARM_CPUS[target] + flags + ["-I" + str(d), "-c", src, "-o", obj])
        assert r.returncode == 0, "%s %s:\n%s" % (target, os.path.basename(src), r.stderr.decode()[-3000:])


@pytest.mark.skipif(not _have_mcu(), reason="arm-none-eabi-gcc / qemu-system-arm not installed "
                    "(../shared/mcu/install-deps.sh)")
@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("model", H.SUPPORTED_SHARED)
def test_m4_matches_golden(compiled, model, schedule):
    if model in M4_SKIP:
        pytest.skip("%s left out by PEXC_CODEGEN_SKIP_M4" % model)
    d = compiled(model, schedule)
    cases = golden_inputs(model)
    if not model.endswith("_float"):
        cases = cases[:1]  # det; the float model also checks its samples (FPU exactness)
    for label, data, want in cases:
        got, stack, _ = mcu_run(d, model, data)
        dtype = "<f4" if model.endswith("_float") else "i1"
        why = H.describe_mismatch(want, got, dtype)
        assert why is None, "%s.%s %s on mps2-an386 vs golden: %s" % (model, label, schedule, why)
        assert 0 < stack < 8192


# ---- the synthetic conformance models ------------------------------------------
# They exercise what the shared models do not (MUL, LOGISTIC, CONCATENATION,
# TRANSPOSE, constant operands, broadcasting, reshapes): every emitter path.

def _gen_models():
    if not os.path.isdir(H.GEN_DIR):
        return []
    return sorted(fn[:-7] for fn in os.listdir(H.GEN_DIR) if fn.endswith(".tflite"))


@pytest.mark.parametrize("schedule", SCHEDULES)
@pytest.mark.parametrize("model", _gen_models())
def test_host_gen_models(pexc_compile, model, schedule, tmp_path):
    path = os.path.join(H.GEN_DIR, model + ".tflite")
    cmd, env = pexc_compile
    d = tmp_path / "gen"
    r = _run(cmd + [path, "-o", str(d), "--schedule", schedule], env=env)
    assert r.returncode == 0, "pexc compile %s: %s" % (model, r.stderr.decode())
    n_in, n_out = header_define(d, model, "NUM_INPUTS"), header_define(d, model, "NUM_OUTPUTS")
    if n_in != 1 or n_out != 1:
        pytest.skip("pexc run compares single-input single-output models only")
    size = header_define(d, model, "INPUT0_BYTES")
    exe = str(tmp_path / "host")
    build_host(d, model, "gcc", exe)
    det = bytes(((i * 37 + 11) & 0xFF) for i in range(size))
    rnd = bytes(((i * 2654435761 + 12345) >> 13) & 0xFF for i in range(size))
    for label, data in (("det", det), ("hash", rnd)):
        inp, out = str(tmp_path / "in.bin"), str(tmp_path / "out.bin")
        with open(inp, "wb") as f:
            f.write(data)
        r = _run([exe, inp, out])
        assert r.returncode == 0, "%s: generated code failed (exit %d): %s" % (model, r.returncode, r.stderr.decode())
        want = pexc_run_path(path, schedule, data, str(tmp_path))
        why = H.describe_mismatch(want, _read(out), "i1")
        assert why is None, "%s %s input %s: generated C vs pexc run: %s" % (model, schedule, label, why)
