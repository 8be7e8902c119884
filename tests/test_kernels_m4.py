"""The C kernel test programs (tests/kernels/test_*.c), built for an emulated
Cortex-M4 (mps2-an386 under QEMU, ../shared/mcu/mcu-run) and run there.

tests/test_c_units.py runs the same programs on the host. Here each program
is compiled with arm-none-eabi-gcc for the M4 (FPU, DSP: __ARM_FEATURE_DSP
is defined, and a probe file makes the build fail if it is not), so the
runtime's Arm DSP code paths (SMLAD etc.) are compared byte for byte with the
plain reference code in tests/common on the real target ISA.

Sources per program: the test file, runtime/src/*.c, tests/common/*.c and
the host-library directories its #includes reach (src/prep/*.c for
"prep/prep.h"), found by following quoted #includes. Nothing is built in the
source tree: each program gets its own pytest tmp dir (mcu-run -b).
tests/unit/test_verify.c stays host-only: it links the whole compiler and
reads a .tflite file from disk, which the bare-metal runtime cannot open.

Skips when mcu-run, arm-none-eabi-gcc or qemu-system-arm is missing
(`bash ../shared/mcu/install-deps.sh` installs them). About 65 s for all
programs on the 2-core machine, most of it compiling.
"""
import glob
import os
import re
import shutil
import subprocess

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared"))
MCU_RUN = os.path.join(SHARED, "mcu", "mcu-run")
BOARD = "mps2-an386"
HEAP = "1M"      # the largest random cases malloc a few hundred KiB
STACK = "64K"    # conv/depthwise/fc keep per-channel arrays and descriptions on the stack
QEMU_TIMEOUT = 240  # seconds of QEMU run time (mcu-run -t); ~5 s is typical

INCLUDE_DIRS = [os.path.join(ROOT, d) for d in ("runtime/include", "src", "include", "tests/common")]
CFLAGS = [
    "-std=c11", "-ffp-contract=off",
    *("-I" + d for d in INCLUDE_DIRS),
    # failure messages print %g / %.3f; newlib-nano leaves float printf out
    "-Wl,-u,_printf_float",
    # int32_t is `long` on arm-none-eabi: every "%d" of an int32_t warns
    # there, though both are 32 bits; keep the build log readable
    "-Wno-format",
]
RUNTIME_SRC = sorted(glob.glob(os.path.join(ROOT, "runtime", "src", "*.c")))
COMMON_SRC = sorted(glob.glob(os.path.join(ROOT, "tests", "common", "*.c")))
# test_fixedpoint_s16.c checks the 64-bit requantisation against an
# __int128 reference, which 32-bit Arm compilers do not have: host only.
# Also host-only: the training engine (every test_train_*.c: threads, AVX)
# and the math functions (checked against the host's glibc, not newlib).
HOST_ONLY = {"test_fixedpoint_s16.c", "test_mathf.c"}
KERNEL_TESTS = sorted(t for t in glob.glob(os.path.join(ROOT, "tests", "kernels", "test_*.c"))
                      if os.path.basename(t) not in HOST_ONLY and not os.path.basename(t).startswith("test_train"))

# A bare-metal build that silently lost the DSP extension would test nothing new.
DSP_PROBE = """#if !defined(__ARM_FEATURE_DSP)
#error "the Cortex-M4 build has no __ARM_FEATURE_DSP: the DSP code paths would not be tested"
#endif
typedef int pexc_m4_dsp_probe;
"""

_INCLUDE_RE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def _have_mcu():
    return (os.access(MCU_RUN, os.X_OK) and shutil.which("arm-none-eabi-gcc") is not None
            and shutil.which("qemu-system-arm") is not None)


def _resolve(name, from_dir):
    for d in [from_dir] + INCLUDE_DIRS:
        p = os.path.normpath(os.path.join(d, name))
        if os.path.isfile(p):
            return p
    return None


def _sources(test_c):
    """The test, the runtime, tests/common, and every src/<dir>/*.c whose
    header some source (transitively) includes."""
    sources = [test_c] + RUNTIME_SRC + COMMON_SRC
    src_root = os.path.join(ROOT, "src") + os.sep
    seen, todo = set(sources), list(sources)
    while todo:
        path = todo.pop()
        with open(path, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for name in _INCLUDE_RE.findall(text):
            h = _resolve(name, os.path.dirname(path))
            if h is None or h in seen:
                continue
            seen.add(h)
            todo.append(h)
            d = os.path.dirname(h)
            if h.startswith(src_root) and d + os.sep != src_root:
                for c in sorted(glob.glob(os.path.join(d, "*.c"))):
                    if c not in seen:
                        seen.add(c)
                        sources.append(c)
                        todo.append(c)
    return sources


def _tail(s, n=3000):
    return s if len(s) <= n else "...\n" + s[-n:]


# The programs whose kernels have Arm-only code, also built unoptimised:
# at -O0 the inner products take their C-with-intrinsics loop instead of
# the assembly one (which needs more free registers than -O0 leaves).
CASES = [(s, "-O2") for s in KERNEL_TESTS] + [
    (s, "-O0") for s in KERNEL_TESTS
    if os.path.basename(s) in ("test_conv.c", "test_fc.c", "test_depthwise.c")]


@pytest.mark.skipif(not _have_mcu(),
                    reason="needs ../shared/mcu/mcu-run, arm-none-eabi-gcc and qemu-system-arm "
                           "(bash ../shared/mcu/install-deps.sh)")
@pytest.mark.parametrize("src,opt", CASES,
                         ids=[os.path.basename(s)[:-2] + ("" if o == "-O2" else o) for s, o in CASES])
def test_kernel_on_m4(src, opt, tmp_path):
    probe = tmp_path / "dsp_probe.c"
    probe.write_text(DSP_PROBE)
    srcs = _sources(src)
    cmd = [MCU_RUN, "-q", "--heap", HEAP, "--stack", STACK, "-t", str(QEMU_TIMEOUT),
           "-b", str(tmp_path / "build"), BOARD, *srcs, str(probe), *CFLAGS, opt]
    r = subprocess.run(cmd, cwd=str(tmp_path), capture_output=True, text=True,
                       timeout=QEMU_TIMEOUT + 300)
    rel = os.path.relpath(src, ROOT)
    what = {124: " (QEMU timed out)", 125: " (mcu-run: build, link or QEMU start failed)",
            139: " (fault or unexpected interrupt)"}
    assert r.returncode == 0, (
        f"{rel} on {BOARD}: exit status {r.returncode}{what.get(r.returncode, '')}\n"
        f"sources: {' '.join(os.path.relpath(s, ROOT) for s in srcs)}\n"
        f"--- stdout (tail) ---\n{_tail(r.stdout)}\n--- stderr (tail) ---\n{_tail(r.stderr)}")
