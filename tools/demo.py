#!/usr/bin/env python3
"""`make demo`: pexc end to end.

1. A small MobileNetV2 inverted-residual model that this repository builds
   with the real TFLite converter (tools/gen_models.py, committed as
   tests/models/gen/block_mobilenet_v2.tflite): inspect its schedule, run it
   with the baseline, default and min-sram schedules, and check the outputs
   against TFLite Micro's own interpreter.
2. If ../shared/models exists: every supported real model, run on its
   deterministic input (default schedule) and checked against TFLM's golden
   output, with pexc's peaks (baseline, default, min-sram) beside TFLM's
   arena_used_bytes.
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tools"))
PEXC = os.path.join(ROOT, "build", "pexc")
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared", "models"))
DEMO = os.path.join(ROOT, "tests", "models", "gen", "block_mobilenet_v2.tflite")


def pexc(*args, binary=False):
    r = subprocess.run([PEXC, *args], capture_output=True, text=not binary)
    if r.returncode != 0:
        sys.exit(f"pexc {' '.join(args)} failed: {r.stderr}")
    return r.stdout


def main():
    import numpy as np
    import tflm_ref

    print("== 1. demo model:", os.path.relpath(DEMO, ROOT))
    print(pexc("inspect", DEMO))
    svg = os.path.join(ROOT, "build", "demo_memory.svg")
    pexc("inspect", DEMO, "--svg", svg)
    j = json.loads(pexc("inspect", DEMO, "--json", "--schedule", "min-sram"))
    rng = np.random.default_rng(0)
    nbytes = int(np.prod(json.loads(pexc("inspect", DEMO, "--json", "--schedule", "baseline"))["ops"][0]["input_shape"]))
    inp = rng.integers(-128, 128, size=nbytes, dtype=np.int8).tobytes()
    path = os.path.join(ROOT, "build", "demo_input.bin")
    with open(path, "wb") as f:
        f.write(inp)
    outs = {}
    for sched in ("baseline", "default", "min-sram"):
        outs[sched] = pexc("run", DEMO, "--input", path, "--schedule", sched, "--output", "/dev/stdout", binary=True)
    ref = tflm_ref.TflmModel(DEMO).run(inp)
    same = outs["baseline"] == outs["default"] == outs["min-sram"] == bytes(ref)
    print(f"peak SRAM: baseline {j['baseline_peak_sram_bytes']} B, min-sram {j['peak_sram_bytes']} B "
          f"({j['baseline_peak_sram_bytes'] / j['peak_sram_bytes']:.2f}x less)")
    print(f"outputs of all three schedules byte-identical to TFLite Micro: {'yes' if same else 'NO'}")
    print(f"memory-over-time picture: {os.path.relpath(svg, ROOT)}")
    if not same:
        sys.exit(1)

    if not os.path.isdir(SHARED):
        print("\n(../shared/models not found: skipping the real models)")
        return
    print("\n== 2. real models (../shared/models), deterministic input vs TFLM golden output")
    meas = json.load(open(os.path.join(SHARED, "golden", "measurements.json")))["models"]
    print(f"{'model':22s} {'golden':>7s} {'TFLM arena':>11s} {'pexc baseline':>14s} {'pexc default':>13s} "
          f"{'pexc min-sram':>14s} {'ratio':>7s}")
    ok = True
    for name in ["vww_96_int8", "person_detect_int8", "kws_ds_cnn_int8", "ic_resnet8_int8", "ad_autoencoder_int8",
                 "micro_speech_int8", "sww_int8", "hello_world_int8", "hello_world_float", "mobilenet_v2_int8"]:
        model = os.path.join(SHARED, name + ".tflite")
        out = pexc("run", model, "--output", "/dev/stdout", binary=True)
        golden = open(os.path.join(SHARED, "golden", name + ".det.out"), "rb").read()
        jb = json.loads(pexc("inspect", model, "--json"))  # the default schedule, min-sram beside it
        arena = meas[name]["arena_used_bytes"]["ref_default"]
        match = out == golden
        ok &= match
        least = jb["min_sram"]["peak_sram_bytes"]
        print(f"{name:22s} {'same' if match else 'DIFF':>7s} {arena:11,d} {jb['baseline_peak_sram_bytes']:14,d} "
              f"{jb['peak_sram_bytes']:13,d} {least:14,d} {arena / least:6.2f}x")
    if not ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
