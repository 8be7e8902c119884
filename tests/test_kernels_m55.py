"""The Helium (MVE) kernels of runtime/src/mve_*.c on an emulated Cortex-M55
(mps3-an547 under QEMU, ../shared/mcu/mcu-run), against plain C.

- tests/kernels/test_conv.c, test_depthwise.c, test_fc.c,
  test_elementwise.c and test_pool.c, the kernel
  test programs tests/test_kernels_m4.py runs on the M4, built for the M55:
  there __ARM_FEATURE_MVE is defined (a probe file fails the build if not),
  so pexc_conv2d_s8, pexc_depthwise_conv2d_s8, pexc_fully_connected_s8,
  pexc_add_s8 and pexc_avg_pool_s8 take their MVE paths, and each program
  compares them byte for byte with the plain reference kernels of tests/common on its random shapes, strides,
  paddings, dilations, ring views, tiles and channel slices.
- tests/kernels_m55/test_mve_requant.c: the vector requantisation against
  pexc_requant on exact halves, negative sums, extremes and random values.
- tests/kernels_m55/test_mve_dw_edge.c: the sixteen-channel depthwise path
  at the edges of its int16 sums (extreme inputs and weights, and layers
  with a -128 weight, which must take the four-lane path).

Skips when mcu-run, arm-none-eabi-gcc or qemu-system-arm is missing.
"""
import os
import subprocess

import pytest

import test_kernels_m4 as M4

BOARD = "mps3-an547"
HEAP = "400K"     # the board has 512 KiB of SRAM
STACK = "32K"
# test_depthwise.c's M4 run (1,500 cases up to 200,000 output x taps)
# needs more heap than the board has: fewer, smaller cases here.
# test_conv.c's 1,500 cases run on the M4 already: 400 reach every MVE
# path here at a quarter of the suite's time.
EXTRA = {"test_depthwise.c": ["-DNCASES=400", "-DMAX_WORK=50000.0"], "test_conv.c": ["-DNCASES=400"]}
MVE_PROBE = """#if !defined(__ARM_FEATURE_MVE) || !(__ARM_FEATURE_MVE & 1)
#error "the Cortex-M55 build has no integer MVE: the Helium paths would not be tested"
#endif
typedef int pexc_m55_mve_probe;
"""
PROGRAMS = [os.path.join(M4.ROOT, "tests", "kernels", f)
            for f in ("test_conv.c", "test_depthwise.c", "test_fc.c", "test_elementwise.c", "test_pool.c")]
PROGRAMS += [os.path.join(M4.ROOT, "tests", "kernels_m55", f) for f in ("test_mve_requant.c", "test_mve_dw_edge.c")]


@pytest.mark.skipif(not M4._have_mcu(), reason="needs ../shared/mcu/mcu-run, arm-none-eabi-gcc and qemu-system-arm")
@pytest.mark.parametrize("src", PROGRAMS, ids=[os.path.basename(s)[:-2] for s in PROGRAMS])
def test_kernel_on_m55(src, tmp_path):
    probe = tmp_path / "mve_probe.c"
    probe.write_text(MVE_PROBE)
    if os.path.basename(src) == "test_mve_requant.c":
        srcs = [src, os.path.join(M4.ROOT, "runtime", "src", "fixedpoint.c")]
    else:
        srcs = M4._sources(src)
    cmd = [M4.MCU_RUN, "-q", "--heap", HEAP, "--stack", STACK, "-t", str(M4.QEMU_TIMEOUT),
           "-b", str(tmp_path / "build"), BOARD, *srcs, str(probe), *M4.CFLAGS,
           *EXTRA.get(os.path.basename(src), []), "-O2"]
    r = subprocess.run(cmd, cwd=str(tmp_path), capture_output=True, text=True, timeout=M4.QEMU_TIMEOUT + 300)
    rel = os.path.relpath(src, M4.ROOT)
    assert r.returncode == 0, (
        f"{rel} on {BOARD}: exit status {r.returncode}\n"
        f"--- stdout (tail) ---\n{M4._tail(r.stdout)}\n--- stderr (tail) ---\n{M4._tail(r.stderr)}")
    assert "OK" in r.stdout, r.stdout
