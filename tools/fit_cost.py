#!/usr/bin/env python3
"""Fits the scheduler's cost model (src/sched/cost.c) to instruction counts
measured step by step on the emulated Cortex-M4, and writes the constants to
src/sched/cost_m4.c.

    .venv/bin/python tools/fit_cost.py [--only SUBSTR] [--data FILE] [--reuse FILE [--refeature]]
                                       [--check] [--steps PLAN,...]
    make cost-table        (every model, measurements kept in build/cost_data.json)

The models: the shared ones with a deterministic input, tests/models/cost/
and gen/ (baseline and min-sram only), and the other test models of real
size (REAL_SIZE_MACS: the kernels few other models run, LSTMs, transposed
convolutions). The runtime's sources are compiled once per run, not once
per plan. To measure in parallel, run several --only subsets with --data
and --check, then refit them together with --reuse a.json,b.json.

How. For every model and several schedules of it (baseline, min-sram,
channels, default and --sram budgets between the baseline's peak and the
least one, so the same kernels run over many tile shapes and pixel-run
lengths, from whole tensors to single pixels):

  1. `pexc compile --target cortex-m4`, and `pexc inspect --json` for the
     same plan: each step's cost class (kernel, step mode, kernel path:
     sched_cost_path)
     and features (src/sched/cost.h: 1, output pixels, output values,
     MACs, output rows, and the terms for the kernels' slower and faster
     paths);
  2. the generated step loop gets an instruction-count region around each
     pass (mcu_region_begin/end at the top of the loop body and before its
     status check), so region i is step i: the table row, the dispatch and
     the kernel call;
  3. the firmware (tests/codegen/mcu_main.c, its own region made a no-op)
     runs once under `mcu-run --count mps2-an386`, with the model's
     deterministic input (../shared/models/inputs/*.det.bin) or, for a test
     model, seeded random bytes.

Then per cost class a least-squares fit of instructions on the features,
constants kept non-negative (a feature whose constant comes out negative is
dropped and the fit redone), weighted by 1/instructions^0.75 so that small
steps count as well as large ones; a catch-all row is fitted on every
step. Prints the fit's error per plan (predicted against measured
step-loop instructions), with --steps per cost class of the plans named,
and for limits of 1.02-1.05x on a plan's predicted ratio to its baseline
the worst measured ratio among the plans under each (the margin the
default rule, SCHED_DEFAULT_SLOWDOWN, needs for the fit's error).
"""
import argparse
import glob
import hashlib
import json
import math
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import pexc_harness as H  # noqa: E402

MCU_RUN = os.path.join(H.SHARED, "mcu", "mcu-run")
MCU_MAIN = os.path.join(ROOT, "tests", "codegen", "mcu_main.c")
CPU = ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"]
OUT = os.path.join(ROOT, "src", "sched", "cost_m4.c")
# k_kind's names, in src/internal.h's order (for the table's comments)
KINDS = ["K_NOP", "K_CONV", "K_DWCONV", "K_FC", "K_FC_F32", "K_AVGPOOL", "K_MAXPOOL", "K_ADD", "K_MUL", "K_PAD",
         "K_SOFTMAX", "K_LOGISTIC", "K_MEAN", "K_REQUANT", "K_QUANT_F32", "K_DEQUANT_F32", "K_TRANSPOSE", "K_CONCAT",
         "K_LUT", "K_GENERIC"]
MODES = ["STEP_FULL", "STEP_ACC", "STEP_FINISH"]
# too many steps or instructions for a quick emulated run
SKIP = {"mobilenet_v2_int8"}
MAX_STEPS = 40000
# a test model of at least this many MACs is of real size
REAL_SIZE_MACS = 100000
# steps weighted by 1 / instructions^0.75: between absolute error (big whole
# layers dominate) and relative (one-pixel steps dominate); a streamed
# plan's per-call work is fitted better than at 0.5 (the square root)
WEIGHT_POW = 0.75


def run(cmd, timeout=1800, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, **kw)


def models(only):
    out = []
    for m in H.SUPPORTED_SHARED:
        if m not in SKIP and os.path.exists(os.path.join(H.INPUTS_DIR, m + ".det.bin")):
            out.append((m, H.shared_model(m)))
    for p in sorted(glob.glob(os.path.join(ROOT, "tests", "models", "cost", "*.tflite")) +
                    glob.glob(os.path.join(ROOT, "tests", "models", "gen", "*.tflite"))):
        out.append((os.path.basename(p)[:-7], p))
    # the other test models of real size (bench/cost.py --conformance's):
    # kernels (LSTM, transposed convolutions, resizes) few other models run
    for p in sorted(glob.glob(os.path.join(ROOT, "tests", "models", "*", "*.tflite"))):
        if os.path.basename(os.path.dirname(p)) in ("cost", "gen"):
            continue
        j = inspect(p, ["--schedule", "baseline"])
        if j and j["macs"] >= REAL_SIZE_MACS:
            out.append((os.path.basename(p)[:-7], p))
    return [(n, p) for n, p in out if not only or any(o in n for o in only.split(","))]


def inspect(path, how):
    r = run([H.PEXC, "inspect", path, "--json"] + how)
    if r.returncode:
        return None
    return json.loads(r.stdout)


def schedules(path, small):
    """--schedule and --sram arguments giving distinct plans of one model
    (a small test model: the baseline and the least peak only)."""
    if small:
        return [["--schedule", "baseline"], ["--schedule", "min-sram"]]
    out = [["--schedule", s] for s in ("baseline", "default", "min-sram", "channels")]
    lo = inspect(path, ["--schedule", "min-sram"])
    if lo:
        a, b = lo["peak_sram_bytes"], lo["baseline_peak_sram_bytes"]
        for f in (0.25, 0.5):
            budget = int(a + (b - a) * f)
            if a < budget < b:
                out.append(["--sram", str(budget)])
    return out


def patch_loop(c_path, name):
    """A region around each pass of the step loop."""
    src = open(c_path).read()
    head = re.search(r"(\n    for \(int32_t i = 0; i < \d+; i\+\+\) \{\n)", src)
    tail = "        if (st != PEXC_OK) return (int)st;\n    }\n"
    if not head or src.count(tail) != 1:
        return False
    src = src.replace(head.group(1), head.group(1) + "        mcu_region_begin();\n", 1)
    src = src.replace(tail, "        mcu_region_end();\n" + tail, 1)
    src = "void mcu_region_begin(void);\nvoid mcu_region_end(void);\n" + src
    open(c_path, "w").write(src)
    return True


def measure(name, path, how, work):
    """[(class, features, measured instructions)] of every step, or an error."""
    tag = re.sub(r"[^A-Za-z0-9]+", "_", "_".join(how))
    d = os.path.join(work, "%s-%s" % (name, tag))
    shutil.rmtree(d, ignore_errors=True)
    cname = "m_" + re.sub(r"[^a-z0-9_]", "_", name.lower())
    j = inspect(path, how)
    if j is None:
        return "inspect refused"
    if j["steps"] > MAX_STEPS:
        return "%d steps" % j["steps"]
    r = run([H.PEXC, "compile", path, "-o", d, "--name", cname, "--target", "cortex-m4"] + how)
    if r.returncode:
        return "compile: " + r.stderr.decode().strip()[:200]
    if not patch_loop(os.path.join(d, cname + ".c"), cname):
        return "no step loop found"
    objs = []
    # the runtime's sources are the same in every plan: each compiled once
    # (keyed by its text and the headers beside it), nine tenths of a small
    # model's measuring time otherwise
    cache = os.path.join(work, "objcache")
    os.makedirs(cache, exist_ok=True)
    headers = hashlib.sha1(b"".join(open(os.path.join(d, h), "rb").read() for h in sorted(os.listdir(d))
                                    if h.endswith(".h") and h != cname + ".h")).hexdigest()
    for fn in sorted(os.listdir(d)):
        if not fn.endswith(".c"):
            continue
        obj = os.path.join(d, fn[:-2] + ".o")
        text = open(os.path.join(d, fn), "rb").read()
        key = os.path.join(cache, hashlib.sha1(text + headers.encode()).hexdigest() + ".o")
        if fn != cname + ".c" and os.path.exists(key):
            shutil.copyfile(key, obj)
            objs.append(obj)
            continue
        r = run(["arm-none-eabi-gcc"] + CPU + ["-O2", "-std=c11", "-ffunction-sections", "-fdata-sections",
                 "-ffp-contract=off", "-I" + d, "-c", os.path.join(d, fn), "-o", obj])
        if r.returncode:
            return "gcc %s: %s" % (fn, r.stderr.decode()[-300:])
        if fn != cname + ".c":
            shutil.copyfile(obj, key)
        objs.append(obj)
    hdr = open(os.path.join(d, cname + ".h")).read()
    n_in = sum(int(x) for x in re.findall(r"#define %s_INPUT\d+_BYTES (\d+)" % cname.upper(), hdr))
    det = os.path.join(H.INPUTS_DIR, name + ".det.bin")
    if os.path.exists(det):
        data = open(det, "rb").read()
    else:
        rng = random.Random(name)
        data = bytes(rng.randrange(256) for _ in range(n_in))
    inp = os.path.join(d, "fit_input.c")
    with open(inp, "w") as f:
        f.write("#include <stdint.h>\nvoid fit_nop(void);\nvoid fit_nop(void) {}\n"
                "const uint8_t pexc_test_input[%d] __attribute__((aligned(16))) = {\n%s\n};\n"
                % (max(len(data), 1), ",".join(str(b) for b in data) or "0"))
    # the driver's own region around the run made a no-op (regions do not nest)
    drv = os.path.join(d, "fit_main.o")
    r = run(["arm-none-eabi-gcc"] + CPU + ["-O2", "-std=gnu11", "-I" + d, "-I" + os.path.join(H.SHARED, "mcu", "src"),
             "-DPEXC_MODEL=" + cname, "-DPEXC_MACRO=" + cname.upper(), "-Dmcu_region_begin=fit_nop",
             "-Dmcu_region_end=fit_nop", "-c", MCU_MAIN, "-o", drv])
    if r.returncode:
        return "gcc mcu_main.c: " + r.stderr.decode()[-300:]
    counts = os.path.join(d, "counts.txt")
    r = run([MCU_RUN, "-q", "-t", "1200", "--count", "--count-out", counts, "--heap", "0", "mps2-an386",
             drv, inp] + objs + ["-O2", "-ffp-contract=off"])
    if r.returncode:
        return "mcu-run exit %d: %s" % (r.returncode, r.stderr.decode()[-300:])
    kv = dict(ln.split("=", 1) for ln in open(counts).read().split() if "=" in ln)
    n = int(kv.get("regions", 0))
    if n != j["steps"]:
        return "%d regions for %d steps" % (n, j["steps"])
    shutil.rmtree(d, ignore_errors=True)
    out = []
    for i, st in enumerate(j["ops"]):
        k, mode, fn = st["cost_class"]
        # less the region calls' constant 2
        out.append(((k, mode, fn), st["cost_features"], int(kv["region.%d" % (i + 1)]) - 2))
    return out


def refeature(plans):
    """The measured plans with their steps' features as pexc computes them
    now; a plan pexc no longer makes the same (steps or cost classes
    differ, e.g. a default schedule the new table moves) is dropped."""
    paths = dict(models(None))
    out = {}
    for key, v in plans.items():
        name, how = key.split(" ", 1)
        j = inspect(paths[name], how.split()) if name in paths else None
        # the same kinds and modes step by step (a path's name may be new)
        if not j or len(j["ops"]) != len(v) or any(list(st["cost_class"])[:2] != list(c)[:2] for st, (c, _, _) in
                                                   zip(j["ops"], v)):
            print("%-40s dropped: not the plan measured" % key, file=sys.stderr)
            continue
        out[key] = [(st["cost_class"], st["cost_features"], y) for st, (c, _, y) in zip(j["ops"], v)]
    return out


def nnls_fit(X, y):
    """Least squares on X with non-negative constants, weighted by
    1/y^WEIGHT_POW: drop the most negative constant and refit until none is."""
    w = 1 / np.maximum(y, 1.0) ** WEIGHT_POW
    keep = [i for i in range(X.shape[1]) if np.any(X[:, i])]
    while keep:
        c, *_ = np.linalg.lstsq(X[:, keep] * w[:, None], y * w, rcond=None)
        if (c >= 0).all():
            out = np.zeros(X.shape[1])
            out[keep] = c
            return out
        keep.pop(int(np.argmin(c)))
    return np.zeros(X.shape[1])


def fit(samples):
    """{class: constants} plus the catch-all under None."""
    by = {}
    for cls, f, y in samples:
        by.setdefault(tuple(cls), []).append((f, y))
    rows = {}
    for cls, v in sorted(by.items()):
        X = np.array([f for f, _ in v], dtype=float)
        y = np.array([y for _, y in v], dtype=float)
        rows[cls] = nnls_fit(X, y)
    # a kind's paths together: for a path (a K_GENERIC family) the fit has
    # not seen, where the kind has no row of its own without one
    for k, mode in sorted({(cls[0], cls[1]) for cls, _, _ in samples if cls[2]}):
        if (k, mode, "") in rows:
            continue
        v = [(f, y) for cls, f, y in samples if cls[0] == k and cls[1] == mode]
        rows[(k, mode, "")] = nnls_fit(np.array([f for f, _ in v], float), np.array([y for _, y in v], float))
    X = np.array([f for _, f, _ in samples], dtype=float)
    y = np.array([y for _, _, y in samples], dtype=float)
    rows[None] = nnls_fit(X, y)
    return rows


def predict(rows, cls, f):
    c = rows.get(tuple(cls))
    if c is None and cls[2]:
        c = rows.get((cls[0], cls[1], ""))
    if c is None:
        c = rows[None]
    return float(np.dot(c, f))


def write_table(rows, n_samples, n_plans):
    lines = ["/* Generated by tools/fit_cost.py (`make cost-table`) from %d steps of %d plans"
             % (n_samples, n_plans),
             " * measured on the emulated Cortex-M4 (mps2-an386, -O2): instructions per step",
             " * = c . features (src/sched/cost.h's COST_NF terms, in its order: 1, output",
             " * pixels, output values, MACs, output rows, then the kernels' slower and",
             " * faster paths), one row per cost class. Do not edit; re-run the tool",
             " * after changing kernels. */",
             '#include "sched/cost.h"', "",
             "const double cost_m4_per_run = 0;", "const cost_row cost_m4_rows[] = {"]
    for cls in sorted((c for c in rows if c is not None), key=lambda c: (c[0], c[1], c[2])):
        c = rows[cls]
        fn = '"%s"' % cls[2] if cls[2] else "NULL"
        lines.append("    {%s, %s, %s, {%s}}," % (KINDS[cls[0]] if cls[0] < len(KINDS) else cls[0], MODES[cls[1]], fn,
                                                ", ".join("%.6g" % v for v in c)))
    lines.append("    {-1, STEP_FULL, NULL, {%s}}, /* any other step */" % ", ".join("%.6g" % v for v in rows[None]))
    lines += ["};", "const int32_t cost_m4_n_rows = (int32_t)(sizeof cost_m4_rows / sizeof cost_m4_rows[0]);", ""]
    with open(OUT, "w") as f:
        f.write("\n".join(lines))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", help="models whose name contains one of these (comma-separated)")
    ap.add_argument("--data", help="also write the measured steps here (JSON)")
    ap.add_argument("--reuse", help="fit measurements written earlier with --data (comma-separated files) instead of measuring")
    ap.add_argument("--check", action="store_true", help="print the fit's errors, do not write the table")
    ap.add_argument("--refeature", action="store_true",
                    help="with --reuse: take each step's features from today's `pexc inspect` (same plan, same "
                         "cost classes: after a change of features, without measuring again)")
    ap.add_argument("--steps", help="also the error per cost class of the plans whose name contains one of these")
    a = ap.parse_args()
    plans = {}
    if a.reuse:
        for fn in a.reuse.split(","):
            plans.update(json.load(open(fn)))
    else:
        work = tempfile.mkdtemp(prefix="pexc-fit-")
        for name, path in models(a.only):
            for how in schedules(path, os.path.dirname(path).endswith("gen")):
                key = "%s %s" % (name, " ".join(how))
                res = measure(name, path, how, work)
                if isinstance(res, str):
                    print("%-40s skipped: %s" % (key, res), file=sys.stderr, flush=True)
                    continue
                plans[key] = res
                print("%-40s %6d steps %12d instructions" % (key, len(res), sum(y for _, _, y in res)),
                      file=sys.stderr, flush=True)
        shutil.rmtree(work, ignore_errors=True)
        if a.data:
            with open(a.data, "w") as f:
                json.dump(plans, f)
    if a.reuse and a.refeature:
        plans = refeature(plans)
    samples = [s for v in plans.values() for s in v]
    if not samples:
        sys.exit("nothing measured")
    rows = fit(samples)
    print("| plan | steps | measured | predicted | error |")
    print("|---|---:|---:|---:|---:|")
    worst = 0.0
    for key, v in plans.items():
        meas = sum(y for _, _, y in v)
        pred = sum(predict(rows, c, f) for c, f, _ in v)
        err = pred / meas - 1 if meas else 0
        worst = max(worst, abs(err))
        print("| %s | %d | %s | %s | %+.1f %% |" % (key, len(v), "{:,}".format(meas), "{:,.0f}".format(pred), 100 * err))
    print("\nworst plan error %.1f %% over %d plans, %d steps" % (100 * worst, len(plans), len(samples)))
    # The default rule against the measurements: of each model's plans
    # predicted within a limit of its baseline, the measured ratio of the
    # worst (how much margin the rule's 1.05x needs for the fit's error).
    base = {k.split(" ", 1)[0]: v for k, v in plans.items() if k.endswith(" --schedule baseline")}
    ratios = []
    for key, v in plans.items():
        b = base.get(key.split(" ", 1)[0])
        if not b or key.endswith(" --schedule baseline"):
            continue
        pb = sum(predict(rows, c, f) for c, f, _ in b)
        mb = sum(y for _, _, y in b)
        if pb > 0 and mb > 0:
            ratios.append((sum(predict(rows, c, f) for c, f, _ in v) / pb, sum(y for _, _, y in v) / mb, key))
    if a.steps:
        for r in sorted(ratios):
            if 1.0 < r[0] <= 1.06:
                print("  predicted %.3fx measured %.3fx  %s" % r)
    for lim in (1.02, 1.03, 1.04, 1.05):
        ok = [r for r in ratios if r[0] <= lim]
        if ok:
            w = max(ok, key=lambda r: r[1])
            print("plans predicted within %.2fx their baseline: %d, worst measured %.3fx (%s, predicted %.3fx)" % (
                lim, len(ok), w[1], w[2], w[0]))
    if a.steps:
        # per cost class within the plans named: where a plan's error comes from
        for key, v in plans.items():
            if not any(o in key for o in a.steps.split(",")):
                continue
            by = {}
            for c, f, y in v:
                b = by.setdefault(tuple(c), [0, 0.0, 0])
                b[0] += y
                b[1] += predict(rows, c, f)
                b[2] += 1
            print("\n%s" % key)
            for c, (meas, pred, n) in sorted(by.items(), key=lambda kv: -abs(kv[1][1] - kv[1][0])):
                print("  %-12s %-11s %-24s %5d steps %12s measured %12s predicted %+6.1f %%" % (
                    KINDS[c[0]], MODES[c[1]], c[2], n, "{:,}".format(meas), "{:,.0f}".format(pred),
                    100 * (pred / meas - 1) if meas else 0))
    if not a.check:
        write_table(rows, len(samples), len(plans))
        print("wrote " + os.path.relpath(OUT, ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
