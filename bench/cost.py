#!/usr/bin/env python3
"""The scheduler's cost model against the emulated Cortex-M4, per model and
schedule.

    .venv/bin/python bench/cost.py [--only SUBSTR,...] [--schedules baseline,default,min-sram] [--json FILE]
                                   [--conformance [--min-macs N]] [--per-op]

For every supported model of ../shared/models (and tests/models/cost/) and
each schedule: `pexc inspect --json` gives the plan's peak and its predicted
instructions (src/sched/cost.c with the constants of src/sched/cost_m4.c);
bench/m4.py's bench_one compiles the same plan for the Cortex-M4, runs it
once under `mcu-run --count` (outputs checked against the goldens for the
shared models) and gives the measured instructions of NAME_run_io().

Columns: peak SRAM; measured and predicted instructions; the prediction's
error; measured and predicted x baseline (each over the baseline of the same
model measured or predicted in this run). The default schedule is the least
peak whose predicted instructions are within 1.015x the baseline's (so that
it measures within 1.05x), so its "x baseline" columns are the rule at work.

--conformance adds the test models (tests/models/*/) of real size, at least
--min-macs multiply-accumulates (default 100,000): they have no golden
input, so tools/fit_cost.py's measurement runs them on seeded random bytes
with a region around each step, and both columns count the step loop only
(the sum of the steps' predicted and measured instructions).

--per-op prints, instead, each plan's operators whose predicted
instructions miss the measured ones by the most (a count region around
each step, as tools/fit_cost.py measures): where a model's error comes
from.
"""
import argparse
import glob
import shutil
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import m4  # noqa: E402
from m4 import H  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "tools"))
import fit_cost  # noqa: E402


def predicted(path, how):
    r = subprocess.run([H.PEXC, "inspect", path, "--json"] + how, capture_output=True, timeout=1200)
    if r.returncode:
        return None
    return json.loads(r.stdout)


def conformance_models(min_macs):
    """Test models of real size: (name, path), at least min_macs MACs."""
    out = []
    for p in sorted(glob.glob(os.path.join(ROOT, "tests", "models", "*", "*.tflite"))):
        if os.sep + "cost" + os.sep in p:
            continue  # already listed
        j = predicted(p, ["--schedule", "baseline"])
        if j and j["macs"] >= min_macs:
            out.append((os.path.basename(p)[:-7], p))
    return out


def measure_steps(name, path, sched, work):
    """Predicted and measured step-loop instructions of one plan of a model
    without a golden input (fit_cost's per-step regions, random input)."""
    how = ["--schedule", sched]
    j = predicted(path, how)
    if j is None:
        return {"error": "inspect refused"}
    steps = fit_cost.measure(name, path, how, work)
    if isinstance(steps, str):
        return {"error": steps, "peak": j["peak_sram_bytes"]}
    return {"peak": j["peak_sram_bytes"], "predicted": sum(op["predicted_instructions"] for op in j["ops"]),
            "instr": sum(s[2] for s in steps)}


def per_op(name, path, sched, work, out):
    """Predicted against measured instructions per operator of one plan
    (fit_cost's per-step regions; random input for a model without a
    golden one): the operators whose error moves the plan's total most."""
    how = ["--schedule", sched]
    j = predicted(path, how)
    steps = fit_cost.measure(name, path, how, work) if j else "inspect refused"
    if isinstance(steps, str):
        print("%s %s: %s" % (name, sched, steps), file=out)
        return
    ops = {}
    for st, (_, _, y) in zip(j["ops"], steps):
        o = ops.setdefault(st["op"], [st["type"], 0, 0.0, 0])
        o[1] += y
        o[2] += st["predicted_instructions"]
        o[3] += 1
    total = sum(o[1] for o in ops.values())
    print("\n%s %s: %s measured, %s predicted (step loop)" % (name, sched, m4.fmt(total),
                                                              m4.fmt(round(sum(o[2] for o in ops.values())))), file=out)
    print("| op | type | steps | measured | predicted | error | error / plan |", file=out)
    print("|---:|---|---:|---:|---:|---:|---:|", file=out)
    for op, (typ, meas, pred, n) in sorted(ops.items(), key=lambda kv: -abs(kv[1][2] - kv[1][1]))[:12]:
        print("| %d | %s | %d | %s | %s | %s | %+.1f %% |" % (
            op, typ, n, m4.fmt(meas), m4.fmt(round(pred)), "%+.1f %%" % (100 * (pred / meas - 1)) if meas else "—",
            100 * (pred - meas) / total if total else 0), file=out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", help="models whose name contains one of these (comma-separated)")
    ap.add_argument("--schedules", default="baseline,default,min-sram")
    ap.add_argument("--json", help="also write the figures here")
    ap.add_argument("--conformance", action="store_true", help="also the test models of real size (step loop only)")
    ap.add_argument("--min-macs", type=int, default=100000)
    ap.add_argument("--per-op", action="store_true",
                    help="instead: each plan's operators, predicted against measured (a region per step)")
    a = ap.parse_args()
    models = [(m, H.shared_model(m)) for m in H.SUPPORTED_SHARED]
    models += [(os.path.basename(p)[:-7], p) for p in sorted(glob.glob(os.path.join(ROOT, "tests", "models", "cost",
                                                                                         "*.tflite")))]
    conf = conformance_models(a.min_macs) if a.conformance else []
    models += conf
    conf = {n for n, _ in conf}
    models = [(n, p) for n, p in models if not a.only or any(o in n for o in a.only.split(","))]
    work = tempfile.mkdtemp(prefix="pexc-cost-")
    if a.per_op:
        for name, path in models:
            for sched in a.schedules.split(","):
                per_op(name, path, sched, work, sys.stdout)
        shutil.rmtree(work, ignore_errors=True)
        return 0
    cmd_env = m4.compile_cmd(work)
    rows = {}
    for name, path in models:
        for sched in a.schedules.split(","):
            print("%-24s %-9s ..." % (name, sched), file=sys.stderr, flush=True)
            if name in conf:
                rows[(name, sched)] = measure_steps(name, path, sched, work)
                continue
            j = predicted(path, ["--schedule", sched])
            r = {"predicted": j and j["predicted_instructions"], "peak": j and j["peak_sram_bytes"]}
            if os.path.exists(os.path.join(H.INPUTS_DIR, name + ".det.bin")):
                r.update(m4.bench_one(cmd_env, name, sched, work, "-O2"))
            rows[(name, sched)] = r
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"%s/%s" % k: v for k, v in rows.items()}, f, indent=1)
    print("| model | schedule | peak SRAM B | measured instr | predicted instr | error | measured x baseline "
          "| predicted x baseline |")
    print("|---|---|---:|---:|---:|---:|---:|---:|")
    errs = []
    for (name, sched), r in rows.items():
        b = rows.get((name, "baseline"), {})
        meas, pred = r.get("instr"), r.get("predicted")
        err = "%+.1f %%" % (100 * (pred / meas - 1)) if meas and pred else "—"
        if meas and pred:
            errs.append(abs(pred / meas - 1))
        mx = "%.3f" % (meas / b["instr"]) if meas and b.get("instr") else "—"
        px = "%.3f" % (pred / b["predicted"]) if pred and b.get("predicted") else "—"
        bad = "" if r.get("match", True) else " **DIFF**"
        print("| %s | %s | %s | %s | %s | %s | %s | %s |" % (
            name, sched + bad, m4.fmt(r.get("peak")), m4.fmt(meas), m4.fmt(round(pred) if pred else None), err, mx,
            px))
    shutil.rmtree(work, ignore_errors=True)
    if errs:
        print("\nprediction error: worst %.1f %%, mean %.1f %% over %d plans" % (100 * max(errs),
                                                                             100 * sum(errs) / len(errs), len(errs)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
