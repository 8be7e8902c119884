"""Widest channel counts under a min-sram budget (the stepwise prune's
channel vector, widened).

The stepwise prune (src/prune/prune.c) cuts the group alive at the peak
now; a group cut early can end up narrower than the final budget needs
once the peak has moved. This widens the vector greedily: each round tries
one more step (8, 4, 2, then 1 channels, never wider than the model) on
every group, cut straight from the original model by `pexc prune
--widths` (magnitude ranking), and keeps the widening that adds the most
MACs with the min-sram peak still within the budget.

  .venv/bin/python bench/prune_widths.py MODEL BUDGET W0,W1,... [--stream-input]
prints one line per round and the final vector (W0,...: the start).
--stream-input holds the budget to the peak with the model input streamed
(`pexc prune --stream-input`, the plan `pexc compile --stream-input` runs).
"""
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEXC = os.path.join(ROOT, "build", "pexc")


def figures(model, widths, tmp, extra):
    out = os.path.join(tmp, "w.tflite")
    r = subprocess.run([PEXC, "prune", model, "--widths", ",".join(map(str, widths)), "-o", out] + extra,
                       capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(r.stderr)
    line = [l for l in r.stdout.splitlines() if l.startswith("widths:")][0].split()
    return int(line[2]), int(line[4])  # peak, MACs


def main():
    extra = [a for a in sys.argv[1:] if a == "--stream-input"]
    args = [a for a in sys.argv[1:] if a != "--stream-input"]
    model, budget = args[0], int(args[1])
    w = [int(x) for x in args[2].split(",")]
    r = subprocess.run([PEXC, "prune", model, "--groups"] + extra, capture_output=True, text=True)
    cap = [int(l.split()[1]) for l in r.stdout.splitlines()[2:]]  # no wider than the model
    with tempfile.TemporaryDirectory() as tmp:
        peak, macs = figures(model, w, tmp, extra)
        print(f"start {w}: peak {peak}, {macs} MACs", flush=True)
        for step in (8, 4, 2, 1):
            while True:
                best = None
                for gi in range(len(w)):
                    t = list(w)
                    t[gi] += step
                    if t[gi] > cap[gi]:
                        continue
                    p, m = figures(model, t, tmp, extra)
                    if p <= budget and m > macs and (best is None or m > best[2]):
                        best = (t, p, m)
                if best is None:
                    break
                w, peak, macs = best
                print(f"+{step}: {w}: peak {peak}, {macs} MACs", flush=True)
        print("final", ",".join(map(str, w)), peak, macs)


if __name__ == "__main__":
    main()
