"""Hostile and broken model files.

* every crafted file in tests/bad (tools/make_bad_models.py, MANIFEST.json)
  is refused by `pexc inspect` and `pexc run` with exit status 1 and exactly
  one line on stderr containing the expected substrings; the same under the
  AddressSanitizer + UBSan build (build-asan/pexc) with no sanitizer report;
* seeded random mutations (byte flips, interesting words, truncations,
  insertions, deletions) of small real models: `pexc inspect` exits 0 (no
  stderr) or 1 (one stderr line), never a signal or a hang; the sanitizer
  build runs the mutants end to end (`pexc run`) with no report;
* a bounded libFuzzer run (FUZZ_SECONDS, default 60; 0 skips it) of
  build-fuzz/fuzz_reader seeded with the real models, when clang can build
  it. Crash inputs stay in build-fuzz/artifacts/.
"""
import concurrent.futures
import json
import os
import random
import shutil
import signal
import struct
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BAD_DIR = os.path.join(ROOT, "tests", "bad")
MODELS = os.path.normpath(os.path.join(ROOT, "..", "shared", "models"))
PEXC = os.path.join(ROOT, "build", "pexc")
PEXC_ASAN = os.path.join(ROOT, "build-asan", "pexc")
RUN_TIMEOUT = 10
MUTANTS_PER_MODEL = 300
MUTATED_MODELS = ["hello_world_int8.tflite", "micro_speech_int8.tflite", "kws_ds_cnn_int8.tflite"]
WORKERS = max(2, min(8, os.cpu_count() or 2))

SAN_ENV = dict(
    os.environ,
    ASAN_OPTIONS="abort_on_error=0:exitcode=86:detect_leaks=1:allocator_may_return_null=1",
    UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=87",
)
SAN_MARKERS = ("AddressSanitizer", "LeakSanitizer", "UndefinedBehaviorSanitizer", "runtime error:")


def _load_manifest():
    with open(os.path.join(BAD_DIR, "MANIFEST.json")) as f:
        return json.load(f)["files"]


MANIFEST = _load_manifest()
BAD_FILES = sorted(MANIFEST)


def _make(*args, timeout=900):
    r = subprocess.run(["make", *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        pytest.fail(f"make {' '.join(args)} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")


@pytest.fixture(scope="session")
def pexc():
    if not os.access(PEXC, os.X_OK):
        _make("build/pexc")
    return PEXC


@pytest.fixture(scope="session")
def pexc_asan():
    # PEXC_ASAN_BIN=path tests another sanitizer build as is
    if os.environ.get("PEXC_ASAN_BIN"):
        return os.environ["PEXC_ASAN_BIN"]
    # incremental: cheap when build-asan is up to date, never a stale binary;
    # the command alone, not the sanitized C test programs `make asan` adds
    _make("-j2", "asan-pexc")
    return PEXC_ASAN


def _run(cmd, env=None):
    try:
        return subprocess.run(cmd, capture_output=True, text=True, errors="replace", timeout=RUN_TIMEOUT, env=env)
    except subprocess.TimeoutExpired:
        pytest.fail(f"timed out after {RUN_TIMEOUT} s: {' '.join(cmd)}")


def _check_refusal(r, fn, cmd):
    where = f"{cmd} {fn}"
    assert r.returncode == 1, f"{where}: exit status {r.returncode} (want 1); stderr: {r.stderr[-2000:]}"
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and r.stderr.endswith("\n"), f"{where}: want exactly one stderr line, got {r.stderr!r}"
    for s in MANIFEST[fn]["expect"]:
        assert s in lines[0], f"{where}: error {lines[0]!r} lacks {s!r} ({MANIFEST[fn]['breaks']})"
    assert not any(m in r.stderr for m in SAN_MARKERS), f"{where}: sanitizer report: {r.stderr}"


def test_manifest_matches_files():
    on_disk = sorted(f for f in os.listdir(BAD_DIR) if f.endswith(".tflite"))
    assert on_disk == BAD_FILES, "tests/bad and MANIFEST.json disagree: rerun tools/make_bad_models.py"
    for fn, entry in MANIFEST.items():
        assert entry["breaks"] and entry["expect"], fn
    total = sum(os.path.getsize(os.path.join(BAD_DIR, f)) for f in on_disk)
    assert total < 700_000, f"tests/bad holds {total} bytes"


@pytest.mark.parametrize("fn", BAD_FILES)
@pytest.mark.parametrize("cmd", ["inspect", "run"])
def test_bad_file_refused(pexc, cmd, fn):
    _check_refusal(_run([pexc, cmd, os.path.join(BAD_DIR, fn)]), fn, cmd)


def test_bad_files_under_sanitizers(pexc_asan):
    jobs = [(cmd, fn) for fn in BAD_FILES for cmd in ("inspect", "run")]

    def one(job):
        cmd, fn = job
        return job, _run([pexc_asan, cmd, os.path.join(BAD_DIR, fn)], env=SAN_ENV)

    with concurrent.futures.ThreadPoolExecutor(WORKERS) as ex:
        for (cmd, fn), r in ex.map(one, jobs):
            _check_refusal(r, fn, f"build-asan/pexc {cmd}")


def test_bad_files_regenerate_identically(tmp_path):
    """tools/make_bad_models.py is deterministic and the committed files are current."""
    if not os.path.isdir(MODELS):
        pytest.skip(f"{MODELS} not found")
    r = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "make_bad_models.py"), "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    for fn in BAD_FILES + ["MANIFEST.json"]:
        with open(os.path.join(BAD_DIR, fn), "rb") as a, open(os.path.join(tmp_path, fn), "rb") as b:
            assert a.read() == b.read(), f"tests/bad/{fn} differs from a fresh generation"


# ---------------------------------------------------------------------------
# random mutations

INTERESTING = [0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0x8000, 0xFFFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF,
               0x40000000, 0x10000]


def mutate(data, rng):
    b = bytearray(data)
    kind = rng.randrange(6)
    if kind == 0:  # flip a few bytes
        for _ in range(rng.randint(1, 8)):
            b[rng.randrange(len(b))] ^= 1 << rng.randrange(8)
    elif kind == 1:  # an interesting 32-bit word at an aligned position
        for _ in range(rng.randint(1, 3)):
            at = rng.randrange(len(b) // 4) * 4
            v = rng.choice(INTERESTING + [len(b), len(b) - at, rng.randrange(1 << 32)])
            struct.pack_into("<I", b, at, v & 0xFFFFFFFF)
    elif kind == 2:  # truncate
        del b[rng.randrange(len(b)):]
    elif kind == 3:  # insert random bytes
        at = rng.randrange(len(b) + 1)
        b[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    elif kind == 4:  # delete a range
        at = rng.randrange(len(b))
        del b[at:at + rng.randint(1, 64)]
    else:  # a 16-bit value (vtable entries, inline sizes)
        at = rng.randrange(len(b) // 2) * 2
        struct.pack_into("<H", b, at, rng.choice([0, 2, 4, 0xFF, 0x100, 0xFFFE, 0xFFFF, rng.randrange(1 << 16)]))
    return bytes(b)


@pytest.fixture(scope="session")
def mutants(tmp_path_factory):
    out = tmp_path_factory.mktemp("mutants")
    files = []
    for mi, name in enumerate(MUTATED_MODELS):
        path = os.path.join(MODELS, name)
        if not os.path.exists(path):
            continue
        with open(path, "rb") as f:
            src = f.read()
        rng = random.Random(0x9E3779B9 + mi)
        for i in range(MUTANTS_PER_MODEL):
            p = out / f"{name[:-7]}_{i:03d}.tflite"
            p.write_bytes(mutate(src, rng))
            files.append(str(p))
    if not files:
        pytest.skip(f"no models in {MODELS}")
    return files


def _run_all(cmds, env=None):
    # The bound is CPU time (ulimit -S -t: SIGXCPU past it), so a loaded machine
    # does not turn a slow wall clock into a failure; the wall timeout only
    # catches a process that hangs without using the CPU.
    def one(cmd):
        try:
            return cmd, subprocess.run(["sh", "-c", 'ulimit -S -t %d; exec "$@"' % RUN_TIMEOUT, "sh", *cmd],
                                       capture_output=True, text=True, errors="replace",
                                       timeout=RUN_TIMEOUT * 30, env=env)
        except subprocess.TimeoutExpired:
            return cmd, None

    with concurrent.futures.ThreadPoolExecutor(WORKERS) as ex:
        return list(ex.map(one, cmds))


def _check_mutant(cmd, r, keep_dir):
    what = " ".join(os.path.relpath(c, ROOT) if os.path.isabs(c) else c for c in cmd)
    problem = None
    if r is None:
        problem = f"no exit after {RUN_TIMEOUT * 30} s of wall time"
    elif r.returncode == -signal.SIGXCPU:
        problem = f"over {RUN_TIMEOUT} s of CPU time"
    elif r.returncode not in (0, 1):
        problem = f"exit status {r.returncode}"
    elif any(m in r.stderr for m in SAN_MARKERS):
        problem = "sanitizer report"
    elif len(r.stderr.splitlines()) != r.returncode:
        problem = "want one stderr line on refusal, none on success"
    if problem is None:
        return None
    os.makedirs(keep_dir, exist_ok=True)
    kept = os.path.join(keep_dir, os.path.basename(cmd[2]))
    shutil.copyfile(cmd[2], kept)
    return f"{what}: {problem} (input kept as {os.path.relpath(kept, ROOT)})\n{(r.stderr if r else '')[-1500:]}"


def test_random_mutations(pexc, mutants):
    results = _run_all([[pexc, "inspect", m] for m in mutants])
    failures = [f for f in (_check_mutant(c, r, os.path.join(ROOT, "build", "mutant-failures")) for c, r in results)
                if f]
    accepted = sum(1 for _, r in results if r is not None and r.returncode == 0)
    print(f"{len(results)} mutants, {accepted} accepted, {len(results) - accepted} refused")
    assert not failures, "\n".join(failures[:10])


def test_random_mutations_under_sanitizers(pexc_asan, mutants):
    # `run` covers reading, checking, lowering and planning, then executes
    # whatever was accepted on the deterministic input
    results = _run_all([[pexc_asan, "run", m] for m in mutants], env=SAN_ENV)
    failures = [f for f in (_check_mutant(c, r, os.path.join(ROOT, "build-asan", "mutant-failures"))
                            for c, r in results) if f]
    assert not failures, "\n".join(failures[:10])


# ---------------------------------------------------------------------------
# libFuzzer

def _fuzz_toolchain():
    r = subprocess.run(["sh", os.path.join(ROOT, "tests", "fuzz", "ensure-clang.sh")], capture_output=True,
                       text=True, timeout=900)
    return r.returncode == 0


def test_fuzz_reader_bounded():
    seconds = int(os.environ.get("FUZZ_SECONDS", "60"))
    if seconds <= 0:
        pytest.skip("FUZZ_SECONDS=0")
    if not os.path.isdir(MODELS):
        pytest.skip(f"{MODELS} not found (seed corpus)")
    if not _fuzz_toolchain():
        pytest.skip("clang with libFuzzer (-fsanitize=fuzzer) is not available")
    _make("fuzz")
    artifacts = os.path.join(ROOT, "build-fuzz", "artifacts")
    before = set(os.listdir(artifacts)) if os.path.isdir(artifacts) else set()
    r = subprocess.run(["make", "-s", "-f", "tests/fuzz/fuzz.mk", "fuzz-run", f"FUZZ_SECONDS={seconds}",
                        # libFuzzer's timeout is wall time: the suite's other worker shares the
                        # cores, and the sanitized search of the larger seeds takes 15-20 s alone
                        "FUZZ_TIMEOUT=" + os.environ.get("FUZZ_TIMEOUT", "240")], cwd=ROOT,
                       capture_output=True, text=True, errors="replace", timeout=seconds + 600)
    new = sorted(set(os.listdir(artifacts)) - before) if os.path.isdir(artifacts) else []
    stats = [ln for ln in r.stderr.splitlines() if ln.startswith("stat::")]
    print("\n".join(stats))
    if r.returncode != 0 or new:
        paths = "\n".join(os.path.join(artifacts, a) for a in new) or "(none written)"
        report = [ln for ln in r.stderr.splitlines() if "ERROR" in ln or "runtime error" in ln or "SUMMARY" in ln]
        pytest.fail(f"fuzz_reader failed (exit {r.returncode}); crash inputs:\n{paths}\n"
                    f"reproduce: build-fuzz/fuzz_reader <input>\n" + "\n".join(report[:20]) + "\n"
                    + r.stderr[-4000:])


# Inputs the libFuzzer target found crashing (tests/fuzz/found), kept as
# regressions: each must now be refused in one line naming the operator.
FOUND = {
    # a SLICE whose inputs vector is empty: the move family read input 0
    # without asking (null dereference, 1-hour fuzz run of session 7)
    "slice_no_inputs.tflite": ["operator 0", "SLICE", "no inputs"],
    # a DEPTH_TO_SPACE block size of 12,910,594: its square overflowed int
    # in the divisibility check (UBSan, 1-hour fuzz run of session 8)
    "depth_to_space_huge_block.tflite": ["operator 0", "DEPTH_TO_SPACE", "block size 12910594"],
}


@pytest.mark.parametrize("fn", sorted(FOUND))
@pytest.mark.parametrize("cmd", ["inspect", "run"])
def test_fuzz_found_refused(pexc, cmd, fn):
    r = _run([pexc, cmd, os.path.join(ROOT, "tests", "fuzz", "found", fn)])
    line = r.stderr
    assert r.returncode == 1 and line.count("\n") == 1, (r.returncode, line)
    for s in FOUND[fn]:
        assert s in line, (s, line)
