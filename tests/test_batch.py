"""Batch evaluation through the Python package (issue 17): invoke_batch
spreads the items over worker threads, each on its own arena
(src/exec/batch.c); the outputs must be the bytes invoke() gives one item at
a time, and TFLM's, whatever the number of workers.

Real data: the first CIFAR-10 test images (../shared/data, as
bench/accuracy.py reads them) through ic_resnet8_int8; a stateful model
(mnist_lstm_int8) keeps the serial path, each item from the reset state.
"""

import os
import sys

import numpy as np
import pytest

import pexc_harness as H
from test_python import tree_pexc  # noqa: F401  (the module from the source tree, built by make)

if not H.binding_loadable():  # bench/accuracy.py loads the binding on import
    pytest.skip("the sanitizer build's libpexc.so needs LD_PRELOAD of libasan", allow_module_level=True)
sys.path.insert(0, os.path.join(H.ROOT, "bench"))
import accuracy as A  # noqa: E402

pytestmark = [
    pytest.mark.skipif(not H.tflm_ref.available(), reason="tflite-micro is not importable"),
    pytest.mark.skipif(not H.have_shared(), reason="../shared/models is missing"),
]

CIFAR = os.path.join(H.SHARED, "data", "cifar10", "test_batch_sorted.bin")


def _one_by_one(it, xs):
    outs = []
    for x in xs:
        it.set_input(x, 0)
        it.invoke()
        outs.append(it.get_output(0))
    return np.stack(outs)


@pytest.mark.skipif(not os.path.exists(CIFAR), reason="../shared/data/cifar10 is missing")
@pytest.mark.parametrize("threads", ["1", "2", "3"])
def test_cifar_batch_matches_invoke_and_tflm(tree_pexc, threads, monkeypatch):
    pexc = tree_pexc
    monkeypatch.setenv("PEXC_THREADS", threads)  # read by each invoke_batch call
    xs, _ = A.load_cifar10()
    xs = xs[:61].reshape(61, 32, 32, 3)  # 61: workers get unequal shares
    model = H.shared_model("ic_resnet8_int8")
    it = pexc.Interpreter(model)
    got = it.invoke_batch(xs)
    want = _one_by_one(pexc.Interpreter(model), xs)
    bad = [b for b in range(len(xs)) if got[b].tobytes() != want[b].tobytes()]
    assert not bad, "PEXC_THREADS=%s: invoke_batch differs from invoke() at items %s" % (threads, bad[:10])
    ref = H.tflm_ref.TflmModel(model)
    for b in range(0, len(xs), 10):
        assert got[b].tobytes() == ref.run(xs[b].tobytes()), "item %d differs from TFLM" % b


def test_stateful_batch_resets_each_item(tree_pexc, monkeypatch):
    pexc = tree_pexc
    monkeypatch.setenv("PEXC_THREADS", "2")
    model = H.shared_model("mnist_lstm_int8")
    it = pexc.Interpreter(model)
    d = it.get_input_details(0)
    rng = np.random.default_rng(7)
    xs = rng.integers(-128, 128, size=(20,) + tuple(d["shape"]), dtype=np.int8)
    got = it.invoke_batch(xs)
    one = pexc.Interpreter(model)
    for b in range(len(xs)):
        one.reset()
        one.set_input(xs[b], 0)
        one.invoke()
        assert got[b].tobytes() == one.get_output(0).tobytes(), "item %d" % b
