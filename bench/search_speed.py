#!/usr/bin/env python3
"""How long the schedule search takes as models grow deeper.

Generates int8 chains with the real TFLite converter (cached under
build/search_speed/): plain 3x3 convolutions, 3x3 depthwise layers, and a
CNN mix (pointwise, depthwise, max pools, residual adds), each of 25, 50,
100, 150 and 200 operators on a 32x32 input with 8-16 channels, then times
`pexc inspect --json --schedule min-sram` (the search alone, without the
default rule's few extra plan builds) on each, and on every model of
../shared/models. Prints a markdown table: operators, plan steps, CPU and
wall seconds, the min-sram peak and the baseline peak.

    .venv/bin/python bench/search_speed.py [--sizes 25,50] [--kinds conv,dw,cnn] [--no-shared]
        [--before OLD_PEXC] [--extra="--stream-input --stream-output"]

--before times another pexc build on the same models in the same run (the
machine is shared: only a baseline measured beside the new figures gives a
fair ratio) and checks that it finds the same peak.
"""
import argparse
import glob
import json
import os
import resource
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared", "models"))
PEXC = os.environ.get("PEXC", os.path.join(ROOT, "build", "pexc"))
CACHE = os.path.join(ROOT, "build", "search_speed")
TIMEOUT = 600


def _layers(kind, n, tf):
    """Keras layers making about n TFLite operators of the given kind."""
    L = tf.keras.layers
    x = inp = L.Input((32, 32, 8), batch_size=1)
    made = 0
    i = 0
    while made < n:
        if kind == "conv":
            x = L.Conv2D(8 + 8 * (i % 2), 3, padding="same", activation="relu")(x)
            made += 1
        elif kind == "dw":
            x = L.DepthwiseConv2D(3, padding="same", activation="relu")(x)
            made += 1
        else:
            # a residual block: expand, depthwise, project, add (4 ops), a
            # max pool every third block (stride 1: the size stays 32x32)
            c = x.shape[-1]
            y = L.Conv2D(16, 1, activation="relu")(x)
            y = L.DepthwiseConv2D(3, padding="same", activation="relu")(y)
            y = L.Conv2D(c, 1)(y)
            x = L.Add()([x, y])
            made += 4
            if i % 3 == 2 and made < n:
                x = L.MaxPooling2D(3, strides=1, padding="same")(x)
                made += 1
        i += 1
    return tf.keras.Model(inp, x)


def make_model(kind, n):
    path = os.path.join(CACHE, f"{kind}_{n}.tflite")
    if os.path.exists(path):
        return path
    import numpy as np
    import tensorflow as tf
    tf.keras.utils.set_random_seed(n)
    model = _layers(kind, n, tf)
    conv = tf.lite.TFLiteConverter.from_keras_model(model)
    conv.optimizations = [tf.lite.Optimize.DEFAULT]

    def rep():
        rng = np.random.default_rng(0)
        for _ in range(4):
            yield [rng.uniform(-1, 1, (1, 32, 32, 8)).astype(np.float32)]

    conv.representative_dataset = rep
    conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    conv.inference_input_type = tf.int8
    conv.inference_output_type = tf.int8
    data = conv.convert()
    os.makedirs(CACHE, exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


def time_inspect(path, *args, pexc=None):
    """Wall seconds and CPU seconds (user + system) of one `pexc inspect`:
    the machine may be shared, and the search is single-threaded, so the
    CPU seconds are what an idle machine's wall clock would show."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    try:
        r = subprocess.run([pexc or PEXC, "inspect", path, "--json", *args], capture_output=True, text=True,
                           timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        r = subprocess.CompletedProcess([], 1, "", f"over {TIMEOUT} s")
    dt = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    if r.returncode:
        return dt, cpu, None, r.stderr.strip()
    return dt, cpu, json.loads(r.stdout), ""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="25,50,100,150,200")
    ap.add_argument("--kinds", default="conv,dw,cnn")
    ap.add_argument("--no-shared", action="store_true")
    ap.add_argument("--only-shared", action="store_true")
    ap.add_argument("--timeout", type=float, default=600, help="seconds per model")
    ap.add_argument("--before", help="another pexc binary to time beside this one")
    ap.add_argument("--extra", default="", help="more inspect arguments (e.g. --stream-input)")
    args = ap.parse_args()
    global TIMEOUT
    TIMEOUT = args.timeout
    rows = []
    if not args.only_shared:
        for kind in args.kinds.split(","):
            for n in [int(s) for s in args.sizes.split(",")]:
                rows.append((f"{kind}_{n}", make_model(kind, n)))
    if not args.no_shared:
        for p in sorted(glob.glob(os.path.join(SHARED, "*.tflite"))):
            rows.append((os.path.basename(p)[:-7], p))
    extra = args.extra.split()
    if args.before:
        print("| model | operators | steps | before CPU s | CPU s | ratio | wall s | min-sram peak B | same peak | "
              "baseline peak B |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    else:
        print("| model | operators | steps | CPU s | wall s | min-sram peak B | baseline peak B |")
        print("|---|---:|---:|---:|---:|---:|---:|")
    for name, path in rows:
        dt, cpu, j, err = time_inspect(path, "--schedule", "min-sram", *extra)
        if j is None:
            print(f"| {name} | | | {cpu:.2f} | {dt:.2f} | refused: {err[:60]} | |", flush=True)
            continue
        if args.before:
            _, cpu0, j0, _ = time_inspect(path, "--schedule", "min-sram", *extra, pexc=args.before)
            same = "yes" if j0 and j0["peak_sram_bytes"] == j["peak_sram_bytes"] else "NO"
            ratio = f"{cpu0 / cpu:.2f}x" if cpu > 0 else ""
            print(f"| {name} | {len(j['op_order'])} | {j['steps']:,} | {cpu0:.2f} | {cpu:.2f} | {ratio} | {dt:.2f} | "
                  f"{j['peak_sram_bytes']:,} | {same} | {j['baseline_peak_sram_bytes']:,} |", flush=True)
            continue
        print(f"| {name} | {len(j['op_order'])} | {j['steps']:,} | {cpu:.2f} | {dt:.2f} | {j['peak_sram_bytes']:,} | "
              f"{j['baseline_peak_sram_bytes']:,} |", flush=True)


if __name__ == "__main__":
    sys.exit(main())
