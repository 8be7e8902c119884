#!/usr/bin/env python3
"""Peak SRAM per model: TFLM against pexc's three schedules.

Prints a markdown table: TFLM arena_used_bytes from
../shared/models/golden/measurements.json, pexc's baseline peak (TFLite's
order, whole tensors), its channel-split peak (partial execution only), its
streamed peak (min-sram: channel splits and row streaming), the ratio TFLM
arena / pexc streamed, the live-bytes lower bound, and where the remaining
peak sits. The model input is held whole in SRAM at the start, as TFLM holds
it; pexc's figure is its whole arena, input and output included. The last
columns are min-sram with --stream-input: the input's rows arrive in a ring
as the plan reads them (a model whose first operator takes its input whole
holds it whole, the same peak), and TFLM arena / that peak; then
--stream-input --stream-output (a fully-connected layer reads its input in
chunks, outputs leave as they are made: src/sched/stream_io.c) and its
ratio. An LSTM's input sequence arrives a time step (a row) at a time; the
geometric means of the sequence models held whole and streamed follow the
table.

    .venv/bin/python bench/sram.py [--models a,b,...]
"""
import argparse
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared", "models"))
PEXC = os.environ.get("PEXC", os.path.join(ROOT, "build", "pexc"))
MODELS = ["vww_96_int8", "person_detect_int8", "kws_ds_cnn_int8", "ic_resnet8_int8", "ad_autoencoder_int8",
          "micro_speech_int8", "sww_int8", "hello_world_int8", "hello_world_float", "mobilenet_v2_int8",
          "mnist_lstm_int8", "mnist_lstm_float", "micro_speech_lstm_int8", "dtln_int8"]
BLOCKS = os.path.join(ROOT, "tests", "models", "ops")
# the sequence models: with --stream-input their LSTM asks for a time step
# at a time (dtln's input is a single one)
SEQ = ["micro_speech_lstm_int8", "mnist_lstm_int8", "mnist_lstm_float", "dtln_int8"]
TARGET = ["vww_96_int8", "person_detect_int8", "kws_ds_cnn_int8", "ic_resnet8_int8", "ad_autoencoder_int8",
          "micro_speech_int8", "sww_int8", "mobilenet_v2_int8"]


def tflm_numbers():
    path = os.path.join(SHARED, "golden", "measurements.json")
    with open(path) as f:
        d = json.load(f)["models"]
    out = {}
    for name, m in d.items():
        head = None
        for line in m.get("recording_allocator", {}).get("ref_default", []):
            g = re.search(r"head (\d+) bytes", line)
            if g:
                head = int(g.group(1))
        out[name] = (m["arena_used_bytes"]["ref_default"], head)
    return out


def inspect(model, *args):
    r = subprocess.run([PEXC, "inspect", model, "--json", *args], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


def short_peak(desc):
    # "N live bytes at step S (op O TYPE): tensor 3 (name) 123 B; ..."
    head, _, rest = desc.partition(":")
    step = re.search(r"step (\d+) \(op (\d+) (\w+)\)", head)
    items = [f"t{t}{kind} {b}" for t, kind, b in
             re.findall(r"tensor (\d+)( slice| partial sums| ring of \d+ rows(?: \+ \d+ px)?| rows \d+-\d+)? (\d+) B", rest)]
    where = f"op {step.group(2)} {step.group(3)}" if step else "?"
    return f"{where}: " + " + ".join(items)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default=",".join(MODELS))
    ap.add_argument("--blocks", action="store_true",
                    help="the model-level blocks of tests/models/ops (block_*.tflite), TFLM's arena measured live")
    args = ap.parse_args()
    if args.blocks:
        return blocks()
    if not os.path.isdir(SHARED):
        sys.exit("bench/sram.py needs ../shared/models")
    tflm = tflm_numbers()
    print("| model | TFLM arena_used_bytes | pexc baseline | pexc channel-split | pexc streamed (min-sram) |"
          " TFLM / pexc streamed | lower bound | where the streamed peak sits (tensor bytes) |"
          " pexc --stream-input | TFLM / pexc --stream-input | pexc --stream-input --stream-output |"
          " TFLM / pexc both streamed | pexc default (predicted x baseline instructions) |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|")
    ratios, sratios, ioratios = {}, {}, {}
    for name in args.models.split(","):
        model = os.path.join(SHARED, name + ".tflite")
        base = inspect(model, "--schedule", "baseline")
        chan = inspect(model, "--schedule", "channels")
        best = inspect(model, "--schedule", "min-sram")
        dflt = inspect(model)
        sin = inspect(model, "--stream-input")
        sio = inspect(model, "--stream-input", "--stream-output")
        arena, _ = tflm[name]
        ioratios[name] = arena / sio["peak_sram_bytes"]
        ratios[name] = arena / best["peak_sram_bytes"]
        sratios[name] = arena / sin["peak_sram_bytes"]
        print(f"| {name} | {arena:,} | {base['peak_sram_bytes']:,} | {chan['peak_sram_bytes']:,} | "
              f"{best['peak_sram_bytes']:,} | {ratios[name]:.2f}x | {best['lower_bound_bytes']:,} | "
              f"{short_peak(best['peak'])} | {sin['peak_sram_bytes']:,} | {sratios[name]:.2f}x | "
              f"{sio['peak_sram_bytes']:,} | {ioratios[name]:.2f}x | "
              f"{dflt['peak_sram_bytes']:,} ({dflt['predicted_instructions'] / dflt['baseline_predicted_instructions']:.2f}x) |")

    def geo(names, r=ratios):
        g = 1.0
        for n in names:
            g *= r[n]
        return g ** (1 / len(names))

    print(f"\ngeometric mean TFLM arena / pexc streamed over {len(ratios)} models: {geo(list(ratios)):.2f}x")
    seq = [n for n in SEQ if n in ratios]
    if len(seq) == len(SEQ):
        print(f"over the {len(SEQ)} sequence models ({', '.join(SEQ)}): {geo(seq):.2f}x held whole, "
              f"{geo(seq, sratios):.2f}x with --stream-input")
    target = [n for n in TARGET if n in ratios]
    if len(target) == len(TARGET):
        print(f"over the 8 models of the streaming target ({', '.join(TARGET)}): {geo(target):.2f}x")
        print(f"the same 8 with --stream-input: {geo(target, sratios):.2f}x")
        print(f"the same 8 with --stream-input --stream-output: {geo(target, ioratios):.2f}x")
        # issue 16's floors: the targets for the same 8
        for label, r, want in (("--stream-input", sratios, 10.0), ("--stream-input --stream-output", ioratios, 10.0), ("input held whole", ratios, 5.5)):
            got = geo(target, r)
            print(f"issue 16 target {label}: {want:g}x, {'reached' if got >= want else 'short by %.2fx' % (want / got)}")


def blocks():
    """The converter-made model-level blocks: TFLM's arena (its recording
    allocator's total, measured here) against pexc's baseline and min-sram."""
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import tflm_ref
    print("| block | TFLM arena (total) | pexc baseline | pexc min-sram | TFLM / pexc min-sram | where the min-sram peak sits |")
    print("|---|---:|---:|---:|---:|---|")
    for fn in sorted(os.listdir(BLOCKS)):
        if not (fn.startswith("block_") and fn.endswith(".tflite")):
            continue
        model = os.path.join(BLOCKS, fn)
        try:
            base = inspect(model, "--schedule", "baseline")
            best = inspect(model, "--schedule", "min-sram")
        except subprocess.CalledProcessError as exc:
            print(f"| {fn[:-7]} | | refused: {exc.stderr.strip()[:90]} | | | |")
            continue
        ref = tflm_ref.TflmModel(model)
        ref.run(None)
        arena = ref.arena_bytes["total"]
        print(f"| {fn[:-7]} | {arena:,} | {base['peak_sram_bytes']:,} | {best['peak_sram_bytes']:,} | "
              f"{arena / best['peak_sram_bytes']:.2f}x | {short_peak(best['peak'])} |")


if __name__ == "__main__":
    main()
