"""Differential fuzzing: pexc against TFLite Micro on mutated models.

Structure-aware mutants (tests/mutate.py) of the conformance models and the
small real models go through `pexc run` and through TFLM's Python
interpreter (the oracle, in a child process since TFLM can abort), both on
the deterministic input. The invariant, for every mutant:

  * pexc refuses: exit status 1 and one stderr line naming the operator,
    tensor or byte offset at fault; or
  * pexc runs and its output bytes equal TFLM's (so TFLM must accept it);
  * never a signal, a sanitizer report or more than 60 s.

The test runs a bounded slice (fixed seed, DIFF_MUTANTS mutants, default
150). `make difffuzz N=2000 SEED=1` runs a longer one and prints the figures:
files tried / refused / identical / different (failures kept in
build/difffuzz/).

    python3 tests/test_differential.py [-n N] [--seed S] [--pexc BIN] [--keep DIR]
"""
import argparse
import concurrent.futures
import glob
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tools"))

MODELS = os.path.normpath(os.path.join(ROOT, "..", "shared", "models"))
REAL = ["hello_world_int8.tflite", "micro_speech_int8.tflite", "kws_ds_cnn_int8.tflite",
        "ad_autoencoder_int8.tflite"]
TIMEOUT = 60          # pexc: the invariant
TFLM_TIMEOUT = 20     # the oracle: a TFLM hang counts as a refusal
SAN_MARKERS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "runtime error:")
# A refusal names where: the operator (index), or for the reader's checks
# the byte offset in the file; model-wide limits name the subgraph or model.
WHERE = re.compile(r"\b(operator|byte) \d+|subgraph|model ")


def base_models():
    paths = sorted(glob.glob(os.path.join(ROOT, "tests", "models", "gen", "*.tflite")))
    paths += [os.path.join(MODELS, n) for n in REAL if os.path.exists(os.path.join(MODELS, n))]
    return paths


# ---- TFLM oracle: a child process serving many models, restarted when it dies

WORKER = r"""
import sys
sys.path.insert(0, sys.argv[1])
import tflm_ref
for line in sys.stdin:
    src, dst = line.rstrip("\n").split("\t")
    try:
        out = tflm_ref.TflmModel(src).run()
        with open(dst, "wb") as f:
            f.write(out)
        print("OK", flush=True)
    except Exception as e:
        print("ERR " + str(e).replace("\n", " ")[:300], flush=True)
"""


class Oracle:
    """TFLM in a child process; run() gives ('ok', bytes), ('refused', msg) or
    ('crashed', msg)."""

    def __init__(self):
        self.proc = None
        self.lock = threading.Lock()

    def _start(self):
        self.proc = subprocess.Popen([sys.executable, "-c", WORKER, os.path.join(ROOT, "tools")],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                     text=True)

    def close(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()
            self.proc = None

    def run(self, path, out_path):
        with self.lock:
            if self.proc is None or self.proc.poll() is not None:
                self._start()
            result = [None]

            def read():
                result[0] = self.proc.stdout.readline()

            try:
                self.proc.stdin.write(f"{path}\t{out_path}\n")
                self.proc.stdin.flush()
            except BrokenPipeError:
                pass
            t = threading.Thread(target=read, daemon=True)
            t.start()
            t.join(TFLM_TIMEOUT)
            line = result[0]
            if t.is_alive() or not line:
                rc = self.proc.poll()
                self.close()
                return ("crashed", "timeout" if rc is None else f"exit {rc}")
            if line.startswith("OK"):
                with open(out_path, "rb") as f:
                    return ("ok", f.read())
            return ("refused", line[4:].strip())


def run_pexc(pexc, path, out_path, env=None):
    try:
        r = subprocess.run([pexc, "run", path, "--output", out_path], capture_output=True, text=True,
                           errors="replace", timeout=TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        return None
    return r


def judge(r, out_path, tflm):
    """Classifies one mutant: (category, detail). Categories: refused,
    identical, different, tflm-refused (pexc ran where TFLM refused), bad-refusal,
    crash."""
    if r is None:
        return "crash", f"pexc took more than {TIMEOUT} s"
    if any(m in r.stderr for m in SAN_MARKERS):
        return "crash", "sanitizer report: " + r.stderr[-600:]
    if r.returncode == 1:
        lines = r.stderr.splitlines()
        if len(lines) != 1 or not WHERE.search(lines[0]):
            return "bad-refusal", r.stderr[-600:]
        return "refused", lines[0]
    if r.returncode != 0:
        return "crash", f"pexc exit status {r.returncode}: {r.stderr[-600:]}"
    if tflm[0] != "ok":
        return "tflm-refused", f"TFLM {tflm[0]}: {tflm[1]}"
    with open(out_path, "rb") as f:
        got = f.read()
    if got != tflm[1]:
        n = sum(1 for a, b in zip(got, tflm[1]) if a != b) + abs(len(got) - len(tflm[1]))
        return "different", f"{n} of {len(tflm[1])} bytes differ"
    return "identical", ""


def campaign(n, seed, pexc, keep_dir=None, workers=2, env=None, log=None):
    """Runs n mutants; returns (counts, failures [(name, category, detail, description)])."""
    tmp = tempfile.mkdtemp(prefix="difffuzz-")
    jobs = make_mutants(n, seed, tmp)
    oracles = [Oracle() for _ in range(workers)]
    counts = dict(tried=0, refused=0, identical=0, different=0, **{"tflm-refused": 0, "bad-refusal": 0, "crash": 0})
    failures = []

    def one(k):
        name, path, what = jobs[k]
        o = oracles[k % workers]
        tflm = o.run(path, path + ".tflm.bin")
        r = run_pexc(pexc, path, path + ".pexc.bin", env)
        return (name, path, what) + judge(r, path + ".pexc.bin", tflm)

    try:
        with concurrent.futures.ThreadPoolExecutor(workers) as ex:
            for name, path, what, cat, detail in ex.map(one, range(len(jobs))):
                counts["tried"] += 1
                counts[cat] += 1
                if cat not in ("refused", "identical"):
                    failures.append((name, cat, detail, what))
                    if keep_dir:
                        os.makedirs(keep_dir, exist_ok=True)
                        shutil.copyfile(path, os.path.join(keep_dir, name))
                if log:
                    log(f"{name}: {cat} {detail[:200]} [{what}]")
    finally:
        for o in oracles:
            o.close()
        shutil.rmtree(tmp, ignore_errors=True)
    return counts, failures


def summary(counts):
    return ("files tried {tried} / refused {refused} / identical {identical} / different {different}"
            " (pexc ran where TFLM refused: {tflm-refused}; refusals not naming where: {bad-refusal};"
            " crashes or timeouts: {crash})").format(**counts)


def test_differential_slice():
    import pytest
    import tflm_ref
    if not tflm_ref.available():
        pytest.skip("tflite-micro is not importable")
    pexc = os.environ.get("PEXC", os.path.join(ROOT, "build", "pexc"))
    if not os.access(pexc, os.X_OK):
        subprocess.run(["make", "build/pexc"], cwd=ROOT, check=True, capture_output=True)
    n = int(os.environ.get("DIFF_MUTANTS", "150"))
    counts, failures = campaign(n, 0xD1FF, pexc, keep_dir=os.path.join(ROOT, "build", "difffuzz"))
    print(summary(counts))
    assert counts["tried"] == n
    assert not failures, summary(counts) + "\n" + "\n".join(
        f"{name}: {cat}: {detail} [{what}]" for name, cat, detail, what in failures[:15])


def make_mutants(n, seed, tmp):
    """The mutants campaign(n, seed) tries, written to tmp: [(name, path, description)]."""
    import mutate
    bases = base_models()
    srcs = {p: open(p, "rb").read() for p in bases}
    rng = random.Random(seed)
    jobs = []
    for i in range(n):
        src = rng.choice(bases)
        data, what = mutate.mutate(srcs[src], random.Random(rng.getrandbits(64)))
        name = f"{os.path.basename(src)[:-7]}_m{i:05d}.tflite"
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        jobs.append((name, path, what))
    return jobs


def check_messages(n, seed, pexc):
    """pexc alone on the mutants of campaign(n, seed): every refusal must be one
    line naming the operator or byte offset (or the model or subgraph for
    model-wide limits) and must not be cut off at the message buffer's end.
    Returns (refusals, [bad lines])."""
    tmp = tempfile.mkdtemp(prefix="diffmsg-")
    try:
        refusals, bad = 0, []
        for name, path, what in make_mutants(n, seed, tmp):
            r = run_pexc(pexc, path, path + ".bin")
            if r is None or r.returncode != 1:
                continue
            refusals += 1
            lines = r.stderr.splitlines()
            if len(lines) != 1 or not WHERE.search(lines[0]) or len(lines[0].split(": ", 2)[-1]) >= 511:
                bad.append(f"{name}: {r.stderr.strip()[:300]} [{what}]")
        return refusals, bad
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description="pexc against TFLM on mutated models")
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--pexc", default=os.path.join(ROOT, "build", "pexc"))
    ap.add_argument("--keep", default=os.path.join(ROOT, "build", "difffuzz"))
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("-v", action="store_true", help="one line per mutant")
    ap.add_argument("--messages", action="store_true",
                    help="pexc alone: count refusals that do not name where, or are cut off")
    a = ap.parse_args()
    if a.messages:
        refusals, bad = check_messages(a.n, a.seed, a.pexc)
        for line in bad:
            print(line)
        print(f"refusals {refusals}, not naming operator or byte offset or cut off: {len(bad)}")
        sys.exit(1 if bad else 0)
    counts, failures = campaign(a.n, a.seed, a.pexc, a.keep, a.workers, log=print if a.v else None)
    for name, cat, detail, what in failures:
        print(f"{name}: {cat}: {detail} [{what}]")
    print(summary(counts))
    sys.exit(1 if failures else 0)



# ---- outputs whose last dimension is 1 (issue 18: plan-check text reached users)

def _one_channel(model, op_index, w_axis):
    """Makes operator op_index (CONV_2D / FULLY_CONNECTED: filter axis 0) keep
    only its first output channel: filter, bias and quantisation sliced."""
    import numpy as np
    import mutate
    g = model.subgraphs[0]
    op = g.operators[op_index]
    w = g.tensors[op.inputs[1]]
    raw = bytes(np.asarray(model.buffers[w.buffer].data, dtype=np.uint8))
    arr = np.take(np.frombuffer(raw, dtype=np.int8).reshape([int(d) for d in w.shape]), [0], axis=w_axis)
    keep = [(w, arr.tobytes(), list(arr.shape))]
    if len(op.inputs) > 2 and op.inputs[2] >= 0:
        b = g.tensors[op.inputs[2]]
        keep.append((b, bytes(np.asarray(model.buffers[b.buffer].data, dtype=np.uint8))[:4], [1]))
    for t, data, shape in keep:
        buf = mutate.S.BufferT()
        buf.data = list(data)
        model.buffers.append(buf)
        t.buffer, t.shape = len(model.buffers) - 1, shape
        q = t.quantization
        if q is not None and q.scale is not None and len(q.scale) > 1:
            q.scale, q.zeroPoint = q.scale[:1], q.zeroPoint[:1]


TRAILING_ONE = {
    # model: (operator to narrow, output shapes of its operators after it)
    "logistic_conv": (0, [[1, 8, 8, 1], [1, 8, 8, 1]]),
    "logistic_fc": (0, [[1, 1], [1, 1]]),
    "mean_hw_keepdims": (0, [[1, 7, 7, 1], [1, 1, 1, 1]]),
    "mean_hw_nokeep": (0, [[1, 5, 9, 1], [1, 1]]),
    "fc_after_flatten": (2, [[1, 1]]),
}


def test_trailing_dimension_one(tmp_path):
    """FC, MEAN and LOGISTIC outputs whose last dimension is 1 run under both
    schedules and equal TFLM's bytes."""
    import pytest
    import mutate
    import tflm_ref
    if not tflm_ref.available():
        pytest.skip("tflite-micro is not importable")
    pexc = os.environ.get("PEXC", os.path.join(ROOT, "build", "pexc"))
    for name, (k, shapes) in TRAILING_ONE.items():
        m = mutate.load(open(os.path.join(ROOT, "tests", "models", "gen", name + ".tflite"), "rb").read())
        g = m.subgraphs[0]
        _one_channel(m, k, 0)
        for op, shape in zip(g.operators[k:], shapes):
            g.tensors[op.outputs[0]].shape = shape
        path = str(tmp_path / (name + "_c1.tflite"))
        with open(path, "wb") as f:
            f.write(mutate.dump(m))
        want = tflm_ref.TflmModel(path).run()
        for schedule in ("baseline", "min-sram"):
            out = str(tmp_path / "out.bin")
            r = subprocess.run([pexc, "run", path, "--schedule", schedule, "--output", out], capture_output=True,
                               text=True, timeout=TIMEOUT)
            assert r.returncode == 0, f"{name} ({schedule}): {r.stderr}"
            assert open(out, "rb").read() == want, f"{name} ({schedule}): output differs from TFLM"


# ---- SOFTMAX whose output shape is not its input's (seed 180519, mutants 356
# and 1009): TFLM takes the row length from both shapes unchecked, writes
# part of the output and leaves the rest as it was; pexc computed the whole.

SOFTMAX_SHAPES = {
    # tensor to reshape (softmax_fc10: 3 = FC output / softmax input, 4 = softmax output)
    "input_rank_1": (3, [10]),
    "output_unit_axis": (4, [1, 1, 10]),
}


@pytest.mark.parametrize("case", sorted(SOFTMAX_SHAPES))
def test_softmax_shape_mismatch_refused(case, tmp_path):
    import mutate
    t, shape = SOFTMAX_SHAPES[case]
    m = mutate.load(open(os.path.join(ROOT, "tests", "models", "gen", "softmax_fc10.tflite"), "rb").read())
    m.subgraphs[0].tensors[t].shape = shape
    if t == 3:
        m.subgraphs[0].operators[0].builtinOptions.keepNumDims = False
    path = str(tmp_path / f"softmax_{case}.tflite")
    with open(path, "wb") as f:
        f.write(mutate.dump(m))
    pexc = os.environ.get("PEXC", os.path.join(ROOT, "build", "pexc"))
    r = subprocess.run([pexc, "run", path, "--output", str(tmp_path / "out.bin")], capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert r.returncode == 1, f"{case}: accepted"
    assert "operator 1 (SOFTMAX)" in r.stderr and "TFLM needs the same shape" in r.stderr, r.stderr


if __name__ == "__main__":
    main()
