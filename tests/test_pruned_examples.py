"""The pruned models committed in examples/pruned (issue 15's sweep,
bench/prune_sweep.py): each still loads, meets the budget its name gives
under the plan it was pruned for, and gives TFLM's output bytes.

ic_resnet8_<budget>[_<method>][_stream].tflite: 12K, 8K, 6K and 4K are
1024-byte units, 5.3K the issue's 5,300 bytes; _stream files were pruned
for the streamed-input plan (`pexc prune --stream-input`), so their budget
holds `pexc inspect --stream-input`'s peak, the others the min-sram peak
with the input held whole. The figures in docs/prune_sweep.md (accuracy on
the 10,000 test images) come from the same files.
"""
import glob
import json
import os
import re
import subprocess

import numpy as np
import pytest

import pexc_harness as H

PRUNED = sorted(glob.glob(os.path.join(H.ROOT, "examples", "pruned", "ic_resnet8_*.tflite")))
pytestmark = pytest.mark.skipif(not (PRUNED and H.pexc_available()), reason="needs build/pexc")


def budget_of(name):
    b = re.match(r"ic_resnet8_([0-9.]+)K", name).group(1)
    return int(round(float(b) * 1000)) if "." in b else int(b) * 1024


@pytest.mark.parametrize("path", PRUNED, ids=[os.path.basename(p)[:-7] for p in PRUNED])
def test_pruned_example(path):
    name = os.path.basename(path)
    stream = ["--stream-input"] if name.endswith("_stream.tflite") else []
    r = subprocess.run([H.PEXC, "inspect", path, "--json", "--schedule", "min-sram"] + stream,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    j = json.loads(r.stdout)
    assert j["peak_sram_bytes"] <= budget_of(name), (name, j["peak_sram_bytes"])
    # the input and output the application was built for: CIFAR-10 int8 in, 10 classes out
    if not H.tflm_ref.available():
        pytest.skip("tflite-micro is not installed")
    ref = H.tflm_ref.TflmModel(path)
    rng = np.random.default_rng(15)
    inputs = [rng.integers(-128, 128, 32 * 32 * 3, dtype=np.int16).astype(np.int8).tobytes() for _ in range(2)]
    got = H.run_pexc(path, inputs, 10, "min-sram", extra=stream)
    for k, data in enumerate(inputs):
        assert got[k] == ref.run(data), "%s input %d: pexc and TFLM differ" % (name, k)
