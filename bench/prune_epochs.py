"""Long fine-tuning of a pruned model, one checkpoint per epoch.

Each epoch is one `pexc prune MODEL --sram B --tune-always --epochs 1` call
on all 50,000 CIFAR-10 training images (cosine from the call's peak rate to
0 within the epoch, a new seed each), so every epoch leaves an int8 file
that can be measured and kept. The peak rates themselves follow a cosine
over the planned number of epochs, from --lr down to a tenth of it (warm
restarts whose height decays), and each checkpoint is measured on all
10,000 test images by `pexc run --batch` (bench/prune_sweep.py's measure).

  nice .venv/bin/python bench/prune_epochs.py MODEL OUTDIR [--budget 5300]
      [--epochs 30] [--lr 0.003] [--seed 41] [--threads 1] [--widths W0,...]
      [--limit N] [--stream-input] [--teacher FILE] [--resume]

--widths first widens (or cuts) MODEL's channel groups (`pexc prune
--widths`); OUTDIR/epNN.tflite are the checkpoints, OUTDIR/log one line
per epoch (rate, CPU and wall seconds, peak, accuracy). Touch OUTDIR/STOP
to end after the running epoch; OUTDIR/N, if present, replaces --epochs
from the next epoch on (the schedule stretches or shrinks). --stream-input
holds --budget to the peak with the model input streamed (`pexc prune
--stream-input`); the log then gives that peak too (peak_streamed).
"""
import argparse
import json
import math
import os
import resource
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import prune_sweep as ps  # noqa: E402


def lr_at(k, n, top):
    return top * (0.1 + 0.9 * 0.5 * (1.0 + math.cos(math.pi * k / n)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model")
    ap.add_argument("outdir")
    ap.add_argument("--budget", type=int, default=5300)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--lr", type=float, default=0.003)
    ap.add_argument("--seed", type=int, default=41)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--widths", default=None)
    ap.add_argument("--limit", type=int, default=0, help="the first N training records only (0: all)")
    ap.add_argument("--stream-input", action="store_true", help="the budget held to the peak with streamed input")
    ap.add_argument("--teacher", default=None, help="distil from this model's outputs too")
    ap.add_argument("--resume", action="store_true", help="go on from OUTDIR/log's last epoch")
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    log = open(os.path.join(args.outdir, "log"), "a")
    x, labels = ps.test_set()
    prev = args.model
    stream = ["--stream-input"] if args.stream_input else []
    done = 0
    if args.resume and os.path.exists(os.path.join(args.outdir, "log")):
        done = sum(1 for line in open(os.path.join(args.outdir, "log")) if line.strip())
    if done:
        prev = os.path.join(args.outdir, "ep%02d.tflite" % done)
        if not os.path.exists(prev):
            raise SystemExit(f"--resume: {prev} (epoch {done} of the log) is missing")
    elif args.widths:
        prev = os.path.join(args.outdir, "ep00.tflite")
        subprocess.run([ps.PEXC, "prune", args.model, "--widths", args.widths, "-o", prev] + stream, check=True)
    teacher = ["--teacher", args.teacher] if args.teacher else []
    n = args.epochs
    for k in range(done, 1000):
        nfile = os.path.join(args.outdir, "N")
        if os.path.exists(nfile):
            n = int(open(nfile).read())
        if k >= n or os.path.exists(os.path.join(args.outdir, "STOP")):
            break
        lr = lr_at(k, n, args.lr)
        out = os.path.join(args.outdir, "ep%02d.tflite" % (k + 1))
        r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.time()
        r = subprocess.run([ps.PEXC, "prune", prev, "--sram", str(args.budget), "--tune-always", "--epochs", "1",
                            "--data", ps.TRAIN, "--format", "cifar10", "--threads", str(args.threads), "--seed",
                            str(args.seed + k), "--lr", "%.6f" % lr, "-o", out]
                           + (["--limit", str(args.limit)] if args.limit else []) + stream + teacher,
                           capture_output=True,
                           text=True)
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if r.returncode:
            raise SystemExit(r.stderr)
        cpu = r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime
        m = ps.measure(out, x, labels, args.outdir, 0)
        line = {"epoch": k + 1, "lr": round(lr, 6), "seed": args.seed + k, "cpu_s": round(cpu, 1),
                "wall_s": round(time.time() - t0, 1), "peak": m["peak"], "accuracy": m["accuracy"]}
        if args.stream_input:
            line["peak_streamed"] = ps.streamed_peak(out)
        print(json.dumps(line), file=log, flush=True)
        print(json.dumps(line), flush=True)
        prev = out


if __name__ == "__main__":
    main()
