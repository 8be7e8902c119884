#!/usr/bin/env python3
"""Top-1 accuracy of pexc on real data, and agreement with TFLite Micro.

    .venv/bin/python bench/accuracy.py [--tflm-limit N] [--only SUBSTR] [--before LIB]

Data sets (read in place from ../shared/data, never copied into the repo;
layouts and quantisation as described in ../shared/data/SOURCES.md):

  ic_resnet8_int8 / cifar10   10,000 CIFAR-10 test images. Records are
                              label + planar R,G,B 32x32; converted to HWC.
  ic_resnet8_int8 / ic01      the 200 MLPerf Tiny IC samples (HWC uint8).
                              Input scale 1, zero point -128: q = pixel - 128.
  kws_ds_cnn_int8 / kws01     1,000 int8 MFCC 49x10 files, used as they are.
  vww_96_int8 / vww01         1,000 96x96x3 HWC uint8 images. Input scale
                              1/255, zero point -128: q = pixel - 128.
  micro_speech_preproc_int8 + micro_speech_int8 / kws01 yes, no audio
                              the 178 kws01_td_samples clips of "yes" and
                              "no" (1 s of 16 kHz int16 audio) through the
                              audio front end (49 windows of 480 samples,
                              stride 320) and the keyword model, both run
                              by pexc (tools/kws_audio_demo.py), the
                              front end's noise estimate carried across a
                              clip's windows and reset per clip, as
                              micro_speech runs it; correct when the top
                              score is the word said. TFLM runs the same
                              pipeline; the one with the front end reset
                              before every window is noted under the table.

pexc runs every input of a data set in one call of the Python package,
pexc.Interpreter(model).invoke_batch(xs) (python/pexc from the source tree,
loading build/libpexc.so: `make pylib`).  TFLM (tools/tflm_ref.py)
runs the first --tflm-limit inputs of each set (default: all) and the table
reports its accuracy on those and how many outputs agree byte for byte
with pexc's.
"""

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
import pexc_harness as H  # noqa: E402

sys.path.insert(0, os.path.join(ROOT, "python"))
try:
    import pexc  # noqa: E402
except ImportError as exc:  # build/libpexc.so not built
    pexc, PEXC_MISSING = None, str(exc)

DATA = os.path.join(H.SHARED, "data")


def _labels_csv(directory):
    """[(file name, label)] from y_labels.csv (',' or ', ' separated)."""
    rows = []
    with open(os.path.join(directory, "y_labels.csv")) as f:
        for line in f:
            parts = [p.strip() for p in line.split(",")]
            if len(parts) >= 3 and parts[0]:
                rows.append((parts[0], int(parts[2])))
    return rows


def _per_file_set(directory, convert):
    rows = _labels_csv(directory)
    xs, ys = [], []
    for name, label in rows:
        with open(os.path.join(directory, name), "rb") as f:
            xs.append(convert(np.frombuffer(f.read(), dtype=np.uint8)))
        ys.append(label)
    return np.stack(xs), np.array(ys)


def pixels_to_int8(u8):
    # scale 1 (IC) or 1/255 (VWW) with zero point -128: both give pixel - 128
    return (u8.astype(np.int16) - 128).astype(np.int8)


def load_cifar10():
    raw = np.fromfile(os.path.join(DATA, "cifar10", "test_batch_sorted.bin"), dtype=np.uint8)
    rec = raw.reshape(-1, 3073)
    labels = rec[:, 0].astype(np.int64)
    chw = rec[:, 1:].reshape(-1, 3, 32, 32)
    hwc = chw.transpose(0, 2, 3, 1).reshape(len(rec), -1)
    return pixels_to_int8(hwc), labels


def load_ic01():
    return _per_file_set(os.path.join(DATA, "mlperf_tiny", "ic01"), pixels_to_int8)


def load_kws01():
    return _per_file_set(os.path.join(DATA, "mlperf_tiny", "kws01"), lambda u: u.view(np.int8))


def load_vww01():
    return _per_file_set(os.path.join(DATA, "mlperf_tiny", "vww01"), pixels_to_int8)


def _mnist(quantised):
    """The 10,000 MNIST test images as the mnist_lstm example feeds them:
    pixels / 255, quantised with the int8 model's input scale and zero
    point, or as float32 for the float model."""
    import gzip
    d = os.path.join(DATA, "mnist")
    with gzip.open(os.path.join(d, "t10k-images-idx3-ubyte.gz")) as f:
        imgs = np.frombuffer(f.read()[16:], np.uint8).reshape(-1, 28 * 28)
    with gzip.open(os.path.join(d, "t10k-labels-idx1-ubyte.gz")) as f:
        ys = np.frombuffer(f.read()[8:], np.uint8).astype(np.int64)
    x = imgs.astype(np.float32) / 255.0
    if not quantised:
        return x, ys
    ref = H.tflm_ref.TflmModel(H.shared_model("mnist_lstm_int8"))
    scale, zp = ref.input_quant["scales"][0], ref.input_quant["zero_points"][0]
    return np.clip(np.round(x / scale) + zp, -128, 127).astype(np.int8), ys


SETS = [
    ("mnist_lstm_int8", "mnist test", lambda: _mnist(True)),
    ("mnist_lstm_float", "mnist test", lambda: _mnist(False)),
    ("ic_resnet8_int8", "cifar10 test", load_cifar10),
    ("ic_resnet8_int8", "ic01", load_ic01),
    ("kws_ds_cnn_int8", "kws01", load_kws01),
    ("vww_96_int8", "vww01", load_vww01),
]


def audio_row(limit):
    """The keyword pipeline from raw audio: front end + micro_speech_int8."""
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import kws_audio_demo as K
    chosen = K.kws01_clips({"yes", "no"})
    clips = [K.read_clip(os.path.join(K.CLIPS, name)) for name, _ in chosen]
    ys = np.array([K.CLASSES.index(word) for _, word in chosen])
    n = len(clips)
    row = {"model": "micro_speech_preproc_int8 + micro_speech_int8", "set": "kws01 yes/no audio", "n": n}
    t = time.time()
    po = K.pexc_scores(K.pexc_features(clips))
    row["pexc_s"] = time.time() - t
    row["pexc_acc"] = float(np.mean(np.argmax(po, axis=1) == ys))
    m = n if limit is None else min(n, limit)
    t = time.time()
    to = K.tflm_scores(K.tflm_features(clips[:m]))
    row["tflm_s"] = time.time() - t
    row["tflm_n"] = m
    row["tflm_acc"] = float(np.mean(np.argmax(to, axis=1) == ys[:m]))
    row["same_bytes"] = int(np.sum(np.all(to == po[:m], axis=1)))
    row["same_top1"] = int(np.sum(np.argmax(to, axis=1) == np.argmax(po[:m], axis=1)))
    po_reset = K.pexc_scores(K.pexc_features(clips[:m], stateful=False))
    to_reset = K.tflm_scores(K.tflm_features(clips[:m], stateful=False))
    row["note"] = ("with the front end reset before every window instead (the golden outputs' convention): "
                   "pexc %.2f %%, TFLM %.2f %% on the same %d clips, %d of %d score vectors identical" %
                   (100 * float(np.mean(np.argmax(po_reset, axis=1) == ys[:m])),
                    100 * float(np.mean(np.argmax(to_reset, axis=1) == ys[:m])), m,
                    int(np.sum(np.all(po_reset == to_reset, axis=1))), m))
    return row


def run_pexc_batch(model, xs):
    """Every input of xs (N, input bytes) in one C call: (N, output elements)."""
    out = pexc.Interpreter(model).invoke_batch(xs)
    return out.reshape(len(xs), -1)


_TIMED = """
import sys, time
import numpy as np
sys.path.insert(0, sys.argv[1])
import pexc
xs = np.load(sys.argv[3])
it = pexc.Interpreter(sys.argv[2])
t = time.time(); c = time.process_time()
it.invoke_batch(xs)
print(time.time() - t, time.process_time() - c)
"""


def time_other_build(lib, threads, model, xs):
    """(wall s, CPU s) of the same batch through another build of the
    library (PEXC_LIBRARY) with PEXC_THREADS workers, in a subprocess."""
    import subprocess
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "xs.npy")
        np.save(path, xs)
        env = dict(os.environ, PEXC_LIBRARY=os.path.abspath(lib), PEXC_THREADS=str(threads))
        r = subprocess.run([sys.executable, "-c", _TIMED, os.path.join(ROOT, "python"), model, path], env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=True)
    wall, cpu = r.stdout.split()
    return float(wall), float(cpu)


def main(argv=None):
    ap = argparse.ArgumentParser(description="pexc accuracy on real data")
    ap.add_argument("--tflm-limit", type=int, default=None,
                    help="run TFLM on only the first N inputs of each set")
    ap.add_argument("--only", help="only data sets whose model or name contains this")
    ap.add_argument("--no-pexc", action="store_true", help="TFLM only")
    ap.add_argument("--before", metavar="LIB",
                    help="also time pexc's batch with this libpexc.so on one worker (the build before "
                         "batch workers and host vectorisation: make BUILD=build-plain HOSTFAST= pylib)")
    args = ap.parse_args(argv)
    if not os.path.isdir(DATA):
        sys.exit("accuracy: %s is missing" % DATA)
    use_pexc = not args.no_pexc and pexc is not None
    if not use_pexc and not args.no_pexc:
        print("note: %s; reporting TFLM only" % PEXC_MISSING, file=sys.stderr)

    rows = []
    for model_name, set_name, loader in SETS:
        if args.only and args.only not in model_name and args.only not in set_name:
            continue
        model = H.shared_model(model_name)
        xs, ys = loader()
        ref = H.tflm_ref.TflmModel(model)
        assert xs.shape[1] * xs.itemsize == ref.input_nbytes, (model_name, xs.shape, ref.input_nbytes)
        n = len(xs)
        row = {"model": model_name, "set": set_name, "n": n}
        if use_pexc:
            t, c = time.time(), time.process_time()
            po = run_pexc_batch(model, xs)
            row["pexc_s"], row["pexc_cpu"] = time.time() - t, time.process_time() - c
            if args.before:
                row["before_s"], row["before_cpu"] = time_other_build(args.before, 1, model, xs)
            row["pexc_acc"] = float(np.mean(np.argmax(po, axis=1) == ys))
        m = n if args.tflm_limit is None else min(n, args.tflm_limit)
        t = time.time()
        to = np.stack([np.frombuffer(ref.run(x.tobytes()), dtype=ref.output_dtype) for x in xs[:m]])
        row["tflm_s"] = time.time() - t
        row["tflm_n"] = m
        row["tflm_acc"] = float(np.mean(np.argmax(to, axis=1) == ys[:m]))
        if use_pexc:
            row["same_bytes"] = int(np.sum(np.all(to == po[:m], axis=1)))
            row["same_top1"] = int(np.sum(np.argmax(to, axis=1) == np.argmax(po[:m], axis=1)))
            row["pexc_acc_on_tflm_subset"] = float(np.mean(np.argmax(po[:m], axis=1) == ys[:m]))
        rows.append(row)
        print("done %s / %s" % (model_name, set_name), file=sys.stderr)
    audio = "micro_speech kws01 yes/no audio"
    if use_pexc and (not args.only or any(args.only in w for w in audio.split())):
        rows.append(audio_row(args.tflm_limit))
        print("done audio pipeline", file=sys.stderr)

    print("| model | dataset | N | pexc top-1 | TFLM top-1 (N) | identical outputs | "
          "same top-1 | pexc s | TFLM s |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        acc = "%.2f %%" % (100 * r["pexc_acc"]) if "pexc_acc" in r else "-"
        same = "%d / %d" % (r["same_bytes"], r["tflm_n"]) if "same_bytes" in r else "-"
        top1 = "%d / %d" % (r["same_top1"], r["tflm_n"]) if "same_top1" in r else "-"
        print("| %s | %s | %d | %s | %.2f %% (%d) | %s | %s | %s | %.1f |" % (
            r["model"], r["set"], r["n"], acc, 100 * r["tflm_acc"], r["tflm_n"], same, top1,
            "%.1f" % r["pexc_s"] if "pexc_s" in r else "-", r["tflm_s"]))
    for r in rows:
        if "note" in r:
            print("\n%s / %s: %s" % (r["model"], r["set"], r["note"]))
    timed = [r for r in rows if "before_s" in r]
    if timed:
        print("\npexc batch time, this build (PEXC_THREADS=%s) against --before %s on one worker, same data:\n"
              % (os.environ.get("PEXC_THREADS", "all cores"), args.before))
        print("| model | dataset | N | before s (CPU s) | now s (CPU s) | speed-up (wall) |")
        print("|---|---|---:|---:|---:|---:|")
        for r in timed:
            print("| %s | %s | %d | %.1f (%.1f) | %.1f (%.1f) | %.1fx |" % (
                r["model"], r["set"], r["n"], r["before_s"], r["before_cpu"], r["pexc_s"], r["pexc_cpu"],
                r["before_s"] / r["pexc_s"]))
    bad = [r for r in rows if "same_bytes" in r and r["same_bytes"] != r["tflm_n"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
