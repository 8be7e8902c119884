#!/usr/bin/env python3
"""The co-design sweep: ic_resnet8_int8 pruned to a series of SRAM budgets,
fine-tuned and written back to int8 by `pexc prune`, each result measured
on all 10,000 CIFAR-10 test images.

    nice .venv/bin/python bench/prune_sweep.py [--epochs N] [--limit N]
        [--steps S] [--lr X] [--budgets 12K,8K,6K,5.3K,4K]
        [--methods magnitude,gates] [--resume] [--tflm N] [--threads N]
        [--stream-input] [--report-only] [--repeak]

For every method and budget it runs

    pexc prune ic_resnet8_int8.tflite --sram B --data train --format cifar10
               --epochs N [--limit N] [--steps S] [--lr X] --method M -o OUT

(OUT: examples/pruned/ic_resnet8_<budget>.tflite for magnitude,
ic_resnet8_<budget>_<method>.tflite for the others), then measures the
written file itself: its min-sram peak (`pexc inspect --json`), its top-1
accuracy over the 10,000 test images run by `pexc run --batch` (q = pixel -
128, HWC), and whether TFLM gives the same output bytes on the first --tflm
test images (spread over the classes). The unpruned model is measured the
same way in the same run, and every figure is also given as a ratio to it.
A method `pexc prune` refuses ("not in this build") is skipped and said so.

Writes docs/prune_sweep.md (the table, the exact command and the CPU time
of each prune) and docs/prune_sweep.svg (accuracy against peak SRAM, one
line per method). --resume keeps results of budgets already done
(bench/prune_sweep.json) so a long sweep can be picked up again.

--stream-input prunes for the plan `pexc compile --stream-input` runs (the
model input read row by row, never held whole): each prune gets
--stream-input, its rows are "METHOD, input streamed", its files
ic_resnet8_<budget>[_<method>]_stream.tflite, and their peaks are that
plan's (the held-whole peak beside it), against the unpruned model's
streamed peak.
"""
import argparse
import json
import os
import resource
import re
import shutil
import subprocess
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared"))
PEXC = os.environ.get("PEXC", os.path.join(ROOT, "build", "pexc"))
RESNET = os.path.join(SHARED, "models", "ic_resnet8_int8.tflite")
TRAIN = os.path.join(SHARED, "data", "cifar10", "train_batch_interleaved.bin")
TEST = os.path.join(SHARED, "data", "cifar10", "test_batch_sorted.bin")
OUT_DIR = os.path.join(ROOT, "examples", "pruned")
STATE = os.path.join(ROOT, "bench", "prune_sweep.json")  # --state


def parse_budget(s):
    """12K, 8K ...: x 1024 bytes; a decimal such as 5.3K is the issue's
    5,300 bytes (10.5x under TFLM's 55,712-byte arena)."""
    s = s.strip().upper()
    if s.endswith("K"):
        return int(round(float(s[:-1]) * 1000)) if "." in s else int(s[:-1]) * 1024
    return int(s)


def cpu_children():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def test_set():
    raw = np.fromfile(TEST, np.uint8).reshape(-1, 3073)
    x = raw[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).reshape(len(raw), -1)
    return (x.astype(np.int16) - 128).astype(np.int8), raw[:, 0]


def measure(model, x, labels, tmp, n_tflm):
    """peak, accuracy %, TFLM agreement (equal, checked) of a model file."""
    r = subprocess.run([PEXC, "inspect", model, "--json", "--schedule", "min-sram"], capture_output=True, text=True,
                       check=True)
    info = json.loads(r.stdout)
    xin, yout = os.path.join(tmp, "x.bin"), os.path.join(tmp, "y.bin")
    if not os.path.exists(xin):
        x.tofile(xin)
    subprocess.run([PEXC, "run", model, "--input", xin, "--output", yout, "--batch", str(len(x))], check=True,
                   capture_output=True)
    y = np.fromfile(yout, np.int8).reshape(len(x), -1)
    acc = 100.0 * float((y.argmax(1) == labels).mean())
    eq = 0
    if n_tflm:
        import tflm_ref
        ref = tflm_ref.TflmModel(model)
        idx = np.linspace(0, len(x) - 1, n_tflm).astype(int)
        eq = sum(np.array_equal(np.frombuffer(ref.run(x[i].tobytes()), np.int8), y[i]) for i in idx)
    return {"peak": info["peak_sram_bytes"], "accuracy": acc, "tflm_equal": int(eq), "tflm_checked": n_tflm}


def peak_of(model, stream):
    """The min-sram peak, held whole or with the model input streamed
    (`pexc inspect --stream-input`, the plan `pexc compile --stream-input`
    runs)."""
    r = subprocess.run([PEXC, "inspect", model, "--json", "--schedule", "min-sram"] +
                       (["--stream-input"] if stream else []), capture_output=True, text=True, check=True)
    return json.loads(r.stdout)["peak_sram_bytes"]


def streamed_peak(model):
    return peak_of(model, True)


def repeak(state):
    """Every file's peaks (and the unpruned model's) measured again with
    this pexc: a better scheduler lowers them; the files, and so every
    other figure, stay as they are."""
    state["base"]["peak"] = peak_of(RESNET, False)
    if "base_streamed" in state:
        state["base_streamed"] = peak_of(RESNET, True)
    for r in state["results"]:
        if r.get("skipped") or not r.get("file"):
            continue
        f = os.path.join(ROOT, r["file"])
        if r["method"].endswith("input streamed"):
            r["peak_held"], r["peak"], r["base_streamed"] = peak_of(f, False), peak_of(f, True), state["base_streamed"]
        else:
            r["peak"] = peak_of(f, False)


def report_row(stdout, name):
    for line in stdout.splitlines():
        if line.startswith(name):
            return float(line.split()[-2])
    return None


def weights_of(model, tmp):
    """Weight bytes and MACs of a model, as pexc prune's report counts them
    (a prune to a budget above its peak removes nothing)."""
    r = subprocess.run([PEXC, "prune", model, "--sram", "1000000", "-o", os.path.join(tmp, "same.tflite")],
                       capture_output=True, text=True, check=True)
    return report_row(r.stdout, "weight bytes"), report_row(r.stdout, "MACs")


def svg(results, base, path):
    W, H, L, B, T, R = 700, 400, 60, 50, 20, 200
    pts = [r for r in results if r.get("accuracy") is not None] + [base]
    xs = [p["peak"] for p in pts]
    x0, x1 = 0, max(xs) * 1.05
    y0, y1 = 0.0, 100.0
    sx = lambda v: L + (v - x0) / (x1 - x0) * (W - L - R)
    sy = lambda v: H - B - (v - y0) / (y1 - y0) * (H - B - T)
    out = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" '
           'font-size="12">' % (W, H), '<rect width="100%" height="100%" fill="white"/>',
           '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (L, H - B, W - R, H - B),
           '<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>' % (L, T, L, H - B)]
    for v in range(0, int(x1) + 1, 2000):
        out.append('<text x="%.1f" y="%d" text-anchor="middle">%d</text>' % (sx(v), H - B + 16, v))
    for v in range(0, 101, 20):
        out.append('<text x="%d" y="%.1f" text-anchor="end">%d</text>' % (L - 6, sy(v) + 4, v))
        out.append('<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/>' % (L, sy(v), W - R, sy(v)))
    out.append('<text x="%d" y="%d" text-anchor="middle">peak SRAM, bytes (min-sram; dashed: input streamed)</text>'
               % ((L + W - R) // 2, H - 12))
    out.append('<text x="14" y="%d" transform="rotate(-90 14 %d)" text-anchor="middle">CIFAR-10 top-1, %% '
               '(10,000 test images)</text>' % ((T + H - B) // 2, (T + H - B) // 2))
    colours = {"magnitude": "#1f77b4", "gates": "#d62728"}
    methods = sorted({r["method"] for r in results})
    for k, m in enumerate(methods):
        rs = sorted([r for r in results if r["method"] == m and r.get("accuracy") is not None],
                    key=lambda r: r["peak"])
        c = colours.get(m.split(",")[0], "#2ca02c")
        # rows pruned for the streamed-input plan: dashed, their peaks that plan's
        dash = ' stroke-dasharray="6,4"' if "streamed" in m else ""
        if rs:
            out.append('<polyline fill="none" stroke="%s" stroke-width="2"%s points="%s"/>'
                       % (c, dash, " ".join("%.1f,%.1f" % (sx(r["peak"]), sy(r["accuracy"])) for r in rs)))
        for r in rs:
            out.append('<circle cx="%.1f" cy="%.1f" r="3.5" fill="%s"/>' % (sx(r["peak"]), sy(r["accuracy"]), c))
        out.append('<text x="%d" y="%d" fill="%s">%s</text>' % (W - R + 10, T + 20 + 18 * k, c, m))
    streamed = [r["base_streamed"] for r in results if "base_streamed" in r]
    if streamed:
        out.append('<circle cx="%.1f" cy="%.1f" r="4" fill="none" stroke="black"/>'
                   % (sx(streamed[0]), sy(base["accuracy"])))
        out.append('<text x="%.1f" y="%.1f" text-anchor="end">input streamed</text>'
                   % (sx(streamed[0]) - 6, sy(base["accuracy"]) + 16))
    out.append('<circle cx="%.1f" cy="%.1f" r="4" fill="black"/>' % (sx(base["peak"]), sy(base["accuracy"])))
    out.append('<text x="%d" y="%d">unpruned</text>' % (W - R + 10, T + 20 + 18 * len(methods)))
    out.append('<text x="%.1f" y="%.1f" text-anchor="end">unpruned</text>'
               % (sx(base["peak"]) - 6, sy(base["accuracy"]) - 6))
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def table(results, base, args):
    lines = ["| method | budget | peak SRAM (min-sram) | MACs | weight bytes | CIFAR-10 top-1 | TFLM bytes equal "
             "| prune CPU time |", "|---|---|---:|---:|---:|---:|---:|---:|",
             "| none (the model) | | %s | %s | %s | %.2f %% | %d/%d | |" % (
                 format(base["peak"], ","), format(int(base["macs"]), ","), format(int(base["weights"]), ","),
                 base["accuracy"], base["tflm_equal"], base["tflm_checked"])]
    for r in sorted(results, key=lambda r: (not r["method"].startswith("magnitude"), r["method"],
                                            -parse_budget(r["budget"]))):
        if r.get("skipped"):
            lines.append("| %s | %s | %s | | | | | |" % (r["method"], r["budget"], r["skipped"]))
            continue
        # a row pruned for the streamed-input plan (pexc prune --stream-input):
        # its peak is that plan's, against the model's streamed peak
        peak = ("%s (%.3fx) with streamed input (the model: %s); %s held whole" % (
            format(r["peak"], ","), r["peak"] / r["base_streamed"], format(r["base_streamed"], ","),
            format(r["peak_held"], ",")) if "peak_held" in r else
            "%s (%.3fx)" % (format(r["peak"], ","), r["peak"] / base["peak"]))
        lines.append("| %s | %s | %s | %s (%.3fx) | %s (%.3fx) | %.2f %% | %d/%d | %.0f s |" % (
            r["method"], r["budget"], peak, format(int(r["macs"]), ","),
            r["macs"] / base["macs"], format(int(r["weights"]), ","), r["weights"] / base["weights"],
            r["accuracy"], r["tflm_equal"], r["tflm_checked"], r["cpu_s"]))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--budgets", default="12K,8K,6K,5.3K,4K")
    ap.add_argument("--methods", default="magnitude,gates")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--limit", type=int, default=0, help="training records (0: all 50,000)")
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("--lr", default=None)
    ap.add_argument("--threads", type=int, default=0, help="training threads per prune (0: pexc's default)")
    ap.add_argument("--stream-input", action="store_true",
                    help="prune for the streamed-input plan (rows 'METHOD, input streamed')")
    ap.add_argument("--tflm", type=int, default=200, help="test images TFLM checks per model")
    ap.add_argument("--resume", action="store_true")
    ap.add_argument("--state", default=STATE, help="results kept between runs (JSON)")
    ap.add_argument("--merge", nargs="*", default=[], help="other --state files whose results join this one's")
    ap.add_argument("--report-only", action="store_true", help="write the table and plot from --state, run nothing")
    ap.add_argument("--repeak", action="store_true",
                    help="measure the peaks of the unpruned model and of every file in --state again with this pexc "
                         "(other figures kept), then report")
    ap.add_argument("--adopt", nargs=5, action="append", default=[], metavar=("METHOD", "BUDGET", "FILE", "LOG", "CMD"),
                    help="a prune run outside the sweep (long runs go to the background): measure FILE, copy it to "
                         "examples/pruned, take MACs and weight bytes from the report in LOG and CPU and wall "
                         "seconds from its /usr/bin/time line, and let it replace the (METHOD, BUDGET) row")
    args = ap.parse_args()
    os.makedirs(OUT_DIR, exist_ok=True)
    tmp = os.path.join(ROOT, "build", "prune_sweep")
    os.makedirs(tmp, exist_ok=True)
    x, labels = test_set()
    keep = (args.resume or args.report_only or args.repeak) and os.path.exists(args.state)
    state = json.load(open(args.state)) if keep else {"results": []}
    if "base" not in state:
        base = measure(RESNET, x, labels, tmp, args.tflm)
        base["weights"], base["macs"] = weights_of(RESNET, tmp)
        state["base"] = base
    if args.repeak:
        repeak(state)
        with open(args.state, "w") as f:
            json.dump(state, f, indent=1)
        args.report_only = True
    base = state["base"]
    for other in args.merge:
        state["results"] += [r for r in json.load(open(other))["results"] if not r.get("skipped")]
    if args.merge:
        with open(args.state, "w") as f:
            json.dump(state, f, indent=1)
    for method, budget, path, log, cmd in args.adopt:
        name = "ic_resnet8_%s%s.tflite" % (budget, "" if method == "magnitude" else "_" + method)
        out = os.path.join(OUT_DIR, name)
        shutil.copyfile(path, out)
        text = open(log).read()
        res = {"method": method, "budget": budget, "cmd": cmd}
        res.update(measure(out, x, labels, tmp, args.tflm))
        res["macs"] = report_row(text, "MACs")
        res["weights"] = report_row(text, "weight bytes")
        t = re.search(r"([0-9.]+) s user ([0-9.]+) s sys .* ([0-9.]+) s wall", text)
        res["cpu_s"], res["wall_s"] = (float(t.group(1)) + float(t.group(2)), float(t.group(3))) if t else (0, 0)
        res["file"] = os.path.relpath(out, ROOT)
        assert res["peak"] <= parse_budget(budget), res
        print(json.dumps(res), flush=True)
        state["results"] = [r for r in state["results"] if (r["method"], r["budget"]) != (method, budget)] + [res]
        with open(args.state, "w") as f:
            json.dump(state, f, indent=1)
    done = {(r["method"], r["budget"]) for r in state["results"]}
    suffix = ", input streamed" if args.stream_input else ""
    if args.stream_input and "base_streamed" not in state:
        state["base_streamed"] = streamed_peak(RESNET)
    for method in [] if args.report_only else args.methods.split(","):
        for budget in args.budgets.split(","):
            if (method + suffix, budget) in done:
                continue
            name = "ic_resnet8_%s%s%s.tflite" % (budget, "" if method == "magnitude" else "_" + method,
                                                 "_stream" if args.stream_input else "")
            out = os.path.join(OUT_DIR, name)
            cmd = [PEXC, "prune", RESNET, "--sram", str(parse_budget(budget)), "--data", TRAIN, "--format", "cifar10", "--epochs",
                   str(args.epochs), "--steps", str(args.steps), "--method", method, "-o", out]
            if args.limit:
                cmd += ["--limit", str(args.limit)]
            if args.lr:
                cmd += ["--lr", args.lr]
            if args.threads:
                cmd += ["--threads", str(args.threads)]
            if args.stream_input:
                cmd += ["--stream-input"]
            print("$ " + " ".join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in cmd), flush=True)
            c0, t0 = cpu_children(), time.time()
            r = subprocess.run(cmd, capture_output=True, text=True)
            cpu, wall = cpu_children() - c0, time.time() - t0
            print(r.stdout + r.stderr, flush=True)
            res = {"method": method + suffix, "budget": budget, "cmd": " ".join(cmd[1:]).replace(ROOT + "/", "")}
            if r.returncode:
                res["skipped"] = r.stderr.strip().replace("|", "/")
                if "not in this build" not in r.stderr:
                    print("prune failed: " + r.stderr, file=sys.stderr)
            else:
                res.update(measure(out, x, labels, tmp, args.tflm))
                res["macs"] = report_row(r.stdout, "MACs")
                res["weights"] = report_row(r.stdout, "weight bytes")
                res["cpu_s"], res["wall_s"], res["file"] = cpu, wall, os.path.relpath(out, ROOT)
                if args.stream_input:
                    # the budget holds the streamed plan; the held-whole peak beside it
                    res["peak_held"], res["peak"] = res["peak"], streamed_peak(out)
                    res["base_streamed"] = state["base_streamed"]
                assert res["peak"] <= parse_budget(budget), res
            print(json.dumps(res), flush=True)
            state["results"].append(res)
            with open(args.state, "w") as f:
                json.dump(state, f, indent=1)
    results = state["results"]
    md = table(results, base, args)
    doc = ["# Pruning sweep: ic_resnet8_int8 on CIFAR-10", "",
           "Written by `bench/prune_sweep.py`. Each row is `pexc prune` at one budget; the figures are "
           "measured on the written file (peak: `pexc inspect`; accuracy: all 10,000 CIFAR-10 test "
           "images through `pexc run --batch`; TFLM: output bytes compared on test images spread over "
           "the classes). Ratios are against the unpruned model measured in the same run.", "",
           "Rows adopted with `--adopt` (commands with `--threads`) were re-run in December 2026 with the "
           "channel-mean fold (src/prune/fold.c) and measured on the min-sram schedule's peak; the others "
           "are files of the earlier sweep, pruned when the unpruned model's min-sram peak was 12,272 bytes "
           "(%s now). Every file's peak is today's scheduler's (`--repeak`), so a file may now sit well under "
           "its budget. See docs/prune_diagnosis.md for where the accuracy goes." % format(base["peak"], ","), "",
           "Rows \"METHOD, input streamed\" were pruned for the plan `pexc compile --stream-input` runs "
           "(`pexc prune --stream-input`, `bench/prune_sweep.py --stream-input`): the model input is read row "
           "by row and never held whole, their peaks are that plan's (the held-whole peak beside it), against "
           "the unpruned model's %s bytes streamed; dashed in the plot." % format(state.get("base_streamed", 0), ","),
           "", md,
           "Commands run (CPU time is the prune's, training included):", ""]
    doc += ["- `pexc %s` (%.0f s CPU, %.0f s wall)" % (r["cmd"], r.get("cpu_s", 0), r.get("wall_s", 0))
            for r in results if not r.get("skipped")]
    doc += ["", "![accuracy against peak SRAM](prune_sweep.svg)", ""]
    with open(os.path.join(ROOT, "docs", "prune_sweep.md"), "w") as f:
        f.write("\n".join(doc))
    svg(results, base, os.path.join(ROOT, "docs", "prune_sweep.svg"))
    print(md)


if __name__ == "__main__":
    main()
