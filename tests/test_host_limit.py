"""The host memory limit (PEXC_HOST_BYTES, 64 MiB of activations).

A model at the limit compiles in host memory proportional to its plan, not
to its tensors (the plan verifier works on ranges: the per-element counters
it kept before needed 4 bytes per activation element); a model one tensor
over it is refused before lowering, with the tensor named.
"""
import os
import resource
import subprocess

import numpy as np
import pytest

from pexc_harness import PEXC, ROOT, patched_model, refusal_line

SRC = os.path.join(ROOT, "tests", "models", "gen", "pad_sym_hw.tflite")  # CONV 1x1 6x6x3 -> 5, PAD
LIMIT = 64 << 20
# the process may map the 64 MiB arena and its own code, not 4 bytes per
# activation element (256 MiB for this model)
ADDRESS_SPACE = 224 << 20


def _pad_to(h, w):
    """The PAD's output grown to [1, h, w, 5] by its paddings."""
    def edit(m):
        g = m.subgraphs[0]
        pads = np.array([[0, 0], [(h - 6) // 2, h - 6 - (h - 6) // 2], [(w - 6) // 2, w - 6 - (w - 6) // 2], [0, 0]],
                        dtype=np.int32)
        m.buffers[g.tensors[1].buffer].data = list(pads.tobytes())
        g.tensors[5].shape = [1, h, w, 5]
    return edit


def _limited():
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


@pytest.mark.skipif("asan" in os.environ.get("PEXC_BUILD", ""),
                    reason="AddressSanitizer reserves terabytes of address space; an address-space cap cannot hold")
def test_at_the_limit_compiles_in_plan_sized_memory(tmp_path):
    h, w = 3000, 4470  # 67,050,000 bytes of PAD output, 288 more of input and conv
    assert 288 + h * w * 5 <= LIMIT
    path = patched_model(SRC, _pad_to(h, w), tmp_path / "pad_at_limit.tflite")
    r = subprocess.run([PEXC, "inspect", path, "--json"], capture_output=True, text=True, timeout=120,
                       preexec_fn=_limited)
    assert r.returncode == 0, r.stderr
    assert '"peak_sram_bytes"' in r.stdout


def test_over_the_limit_names_the_tensor(tmp_path):
    h, w = 3000, 4475
    assert 288 + h * w * 5 > LIMIT
    path = patched_model(SRC, _pad_to(h, w), tmp_path / "pad_over_limit.tflite")
    line = refusal_line(path)
    assert "tensor 5 (StatefulPartitionedCall_1:0)" in line and "host limit of 67108864 bytes" in line, line
