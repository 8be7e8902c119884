#!/usr/bin/env python3
"""pexc-generated C on an emulated Cortex-M55 (mps3-an547, Helium) beside
TFLite Micro + CMSIS-NN's MVE build.

    .venv/bin/python bench/m55.py [--only SUBSTR] [--schedules baseline] [--opt -O2] [--json FILE] [--keep DIR]

bench/m4.py with the core swapped: `pexc compile --target cortex-m55`, the
firmware built with mcu-run's mps3-an547 flags (-mcpu=cortex-m55 -mfpu=auto
-mfloat-abi=hard, so __ARM_FEATURE_MVE is defined and the runtime takes its
Helium paths, runtime/src/mve_*.c) and counted the same way. "x CMSIS-NN" is
against the m55_cmsis_nn entries of tflm-m4.json (the M55 column of
tflm-m4.md); the last lines give the geometric mean over the models that
have one.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import m4  # noqa: E402

m4.CPU = ["-mcpu=cortex-m55", "-mthumb", "-mfpu=auto", "-mfloat-abi=hard"]
m4.BOARD = "mps3-an547"
m4.TARGET = "cortex-m55"
m4.TFLM_KEY = "m55"
m4.CORE_NAME = "mps3-an547 (Cortex-M55 with Helium, QEMU"
# The models TFLM + CMSIS-NN's MVE build was measured on (the others need
# more than the board's 512 KiB or have no M55 figure to compare with).
with open(m4.TFLM_JSON) as _f:
    _tflm = json.load(_f)
m4.H.SUPPORTED_SHARED = [m for m in m4.H.SUPPORTED_SHARED if "m55_cmsis_nn" in _tflm.get(m, {})]

if __name__ == "__main__":
    sys.exit(m4.main())
