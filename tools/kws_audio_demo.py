#!/usr/bin/env python3
"""Keyword spotting from raw audio, every step run by pexc.

    .venv/bin/python tools/kws_audio_demo.py [CLIP.bin ...] [--words yes,no] [--limit N] [--tflm]

A clip is 1 s of 16 kHz mono int16 little-endian PCM (16,000 samples, the
layout of ../shared/data/mlperf_tiny/kws01_td_samples, whose clips are used
when none are named). TFLM's micro_speech pipeline, as micro_speech_test.cc
feeds it:

1. the audio front end, micro_speech_preproc_int8 (TFLM's signal-library
   operators: window, FFT, mel filter bank, noise reduction, PCAN, log), on
   49 windows of 480 samples (30 ms) every 320 samples (20 ms), 40 int8
   features each: one `pexc run --keep-state --batch 49` per clip;
2. the keyword model, micro_speech_int8, on the 49 x 40 features:
   `pexc run --batch` over all clips; its 4 scores are silence, unknown,
   yes, no.

State: the front end's noise reduction keeps a noise estimate from one
window to the next, as in the micro_speech application (one TFLM
interpreter kept across a clip's windows). pexc carries it the same way:
`--keep-state` runs a clip's windows as one stream, and each clip starts
in a new process, from the zero estimate TFLM's Reset() gives. On the 178
kws01 clips of "yes" and "no" this recognises 168 (94.38 %), clip for clip
what TFLM's stateful pipeline gives. --stateless runs every window from a
zero estimate instead (a fresh interpreter per window, the golden outputs'
convention): 88 of the 178 (49.44 %).

--tflm runs TFLM's interpreter on the same pipeline (kept across a clip's
windows and reset per clip, or reset per window with --stateless) and
checks that every clip's scores are the same bytes as pexc's.
"""

import argparse
import os
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import pexc_harness as H  # noqa: E402

PREPROC = H.shared_model("micro_speech_preproc_int8")
KWS = H.shared_model("micro_speech_int8")
CLIPS = os.path.join(H.SHARED, "data", "mlperf_tiny", "kws01_td_samples")
CLASSES = ["silence", "unknown", "yes", "no"]
WINDOW, STRIDE, FEATURES = 480, 320, 40
SAMPLES = 16000
N_WINDOWS = (SAMPLES - WINDOW) // STRIDE + 1  # 49


def windows(clip):
    """[49, 480] int16 windows of a 16,000-sample clip."""
    clip = np.asarray(clip, dtype=np.int16)
    if clip.size != SAMPLES:
        raise ValueError("a clip is %d samples, got %d" % (SAMPLES, clip.size))
    return np.stack([clip[k * STRIDE:k * STRIDE + WINDOW] for k in range(N_WINDOWS)])


def read_clip(path):
    return np.fromfile(path, dtype="<i2")


def kws01_clips(words=None):
    """[(file name, word)] of kws01_td_samples, in file order; words: only these (lower case)."""
    out = []
    with open(os.path.join(CLIPS, "y_labels.csv")) as f:
        for line in f:
            parts = [p.strip() for p in line.split(",")]
            if len(parts) < 3 or not parts[0]:
                continue
            word = parts[0].split("_")[2].lower()
            if words is None or word in words:
                out.append((parts[0], word))
    return out


def pexc_features(clips, stateful=True):
    """[n, 1960] int8: the front end on every window. Stateful: one pexc
    process per clip, the noise estimate carried across its windows
    (--keep-state); otherwise one process, every window from a reset."""
    if not stateful:
        frames = [w.astype("<i2").tobytes() for c in clips for w in windows(c)]
        outs = H.run_pexc(PREPROC, frames, FEATURES)
    else:
        outs = []
        for c in clips:
            outs += H.run_pexc(PREPROC, [w.astype("<i2").tobytes() for w in windows(c)], FEATURES,
                               extra=["--keep-state"])
    return np.frombuffer(b"".join(outs), dtype=np.int8).reshape(len(clips), N_WINDOWS * FEATURES)


def pexc_scores(features):
    """[n, 4] int8 keyword scores, one pexc process."""
    outs = H.run_pexc(KWS, [f.tobytes() for f in features], len(CLASSES))
    return np.frombuffer(b"".join(outs), dtype=np.int8).reshape(len(features), len(CLASSES))


def tflm_features(clips, stateful=True):
    """[n, 1960] int8 from TFLM: stateful, one interpreter reset before
    each clip and kept across its windows; otherwise reset before every
    window."""
    ref = H.tflm_ref.TflmModel(PREPROC, reset_between=not stateful)
    out = np.zeros((len(clips), N_WINDOWS * FEATURES), dtype=np.int8)
    for i, c in enumerate(clips):
        if stateful:
            ref.reset()
        for k, w in enumerate(windows(c)):
            out[i, k * FEATURES:(k + 1) * FEATURES] = np.frombuffer(ref.run(w.astype("<i2").tobytes()), np.int8)
    return out


def tflm_scores(features):
    ref = H.tflm_ref.TflmModel(KWS)
    return np.stack([np.frombuffer(ref.run(f.tobytes()), np.int8) for f in features])


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("clips", nargs="*", help="raw 16 kHz int16 clips (default: kws01_td_samples)")
    ap.add_argument("--words", default="yes,no", help="kws01 clips of these words (default yes,no)")
    ap.add_argument("--limit", type=int, default=None, help="only the first N kws01 clips")
    ap.add_argument("--tflm", action="store_true", help="also run TFLM and compare")
    ap.add_argument("--stateless", action="store_true",
                    help="every window from a zero noise estimate (a reset front end), not carried across a clip")
    a = ap.parse_args(argv)
    if not H.pexc_available():
        sys.exit("kws_audio_demo: %s is not built (make)" % H.PEXC)
    if a.clips:
        names, truth = list(a.clips), [None] * len(a.clips)
        clips = [read_clip(p) for p in a.clips]
    else:
        chosen = kws01_clips(set(a.words.lower().split(",")) if a.words else None)[:a.limit]
        names, truth = [n for n, _ in chosen], [w for _, w in chosen]
        clips = [read_clip(os.path.join(CLIPS, n)) for n in names]
    stateful = not a.stateless
    feats = pexc_features(clips, stateful)
    scores = pexc_scores(feats)
    pred = [CLASSES[int(np.argmax(s))] for s in scores]
    if a.tflm:
        t_feats = tflm_features(clips, stateful)
        t_scores = tflm_scores(t_feats)
    for i, n in enumerate(names):
        line = "%-28s %-8s scores %s" % (os.path.basename(n), pred[i], [int(v) for v in scores[i]])
        if truth[i]:
            line += "  (said: %s)" % truth[i]
        if a.tflm:
            line += "  TFLM %s" % ("identical" if np.array_equal(t_scores[i], scores[i]) else "DIFFERS")
        print(line)
    what = "noise estimate carried across a clip's windows" if stateful else "every window from a reset front end"
    if any(truth):
        ok = sum(p == t for p, t in zip(pred, truth))
        print("pexc (%s): %d of %d clips recognised (%.2f %%)" % (what, ok, len(names), 100.0 * ok / len(names)))
    if a.tflm:
        same = int(sum(np.array_equal(t, s) for t, s in zip(t_scores, scores)))
        same_f = int(sum(np.array_equal(t, f) for t, f in zip(t_feats, feats)))
        print("TFLM, same pipeline: %d of %d clips' features and %d of %d score vectors identical to pexc's"
              % (same_f, len(names), same, len(names)))
        if any(truth):
            ok = sum(CLASSES[int(np.argmax(s))] == t for s, t in zip(t_scores, truth))
            print("TFLM (%s): %d of %d clips recognised (%.2f %%)" % (what, ok, len(names), 100.0 * ok / len(names)))
        return 0 if same == same_f == len(names) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
