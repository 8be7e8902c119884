"""--format idx (src/train/idx.c): a data set as two IDX files, images and
labels, given as IMAGES,LABELS to pexc eval, train and prune. The same
CIFAR-10 images as IDX give the same accuracies as the CIFAR-10 records
they came from; bad pairs are refused in one line naming the file and what
is wrong, exit 1, no output file."""
import os
import re
import struct
import subprocess

import numpy as np
import pytest

from pexc_harness import PEXC, SHARED, SHARED_MODELS

RESNET = os.path.join(SHARED_MODELS, "ic_resnet8_int8.tflite")
CIFAR = os.path.join(SHARED, "data", "cifar10", "test_batch_sorted.bin")


def pexc(*args):
    return subprocess.run([PEXC] + [str(a) for a in args], capture_output=True, text=True, timeout=600)


def write_idx(path, arr, type_byte=0x08):
    arr = np.ascontiguousarray(arr)
    head = bytes([0, 0, type_byte, arr.ndim]) + b"".join(struct.pack(">I", d) for d in arr.shape)
    path.write_bytes(head + arr.tobytes())


@pytest.fixture(scope="module")
def sets(tmp_path_factory):
    """120 test images spread over the classes: as CIFAR-10 records and as
    an IDX pair ([n][32][32][3] images, [n] labels)."""
    d = tmp_path_factory.mktemp("idx")
    rec = np.fromfile(CIFAR, np.uint8).reshape(-1, 3073)[np.linspace(0, 9999, 120).astype(int)]
    cifar = d / "test.bin"
    rec.tofile(cifar)
    hwc = rec[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    write_idx(d / "img.idx", hwc)
    write_idx(d / "lab.idx", rec[:, 0])
    return d, cifar, f"{d / 'img.idx'},{d / 'lab.idx'}", hwc, rec[:, 0]


def accuracies(text):
    return re.findall(r"accuracy ([0-9.]+) %", text)


def test_eval_idx_equals_cifar10(sets):
    _, cifar, idx, _, _ = sets
    a = pexc("eval", RESNET, "--data", cifar, "--format", "cifar10")
    b = pexc("eval", RESNET, "--data", idx, "--format", "idx")
    assert a.returncode == 0 and b.returncode == 0, a.stderr + b.stderr
    assert len(accuracies(a.stdout)) == 2 and accuracies(a.stdout) == accuracies(b.stdout)
    assert "on 120 records" in b.stdout


def test_prune_test_report_idx_equals_cifar10(sets, tmp_path):
    """The int8 accuracy pexc prune reports (a budget above the peak: the
    model written back) is the same from either format."""
    _, cifar, idx, _, _ = sets
    rows = []
    for fmt, path in (("cifar10", cifar), ("idx", idx)):
        r = pexc("prune", RESNET, "--sram", "12K", "--test", path, "--format", fmt, "-o", tmp_path / f"{fmt}.tflite")
        assert r.returncode == 0, r.stderr
        rows.append([l for l in r.stdout.splitlines() if l.startswith("test accuracy")])
    assert len(rows[0]) == 1 and rows[0] == rows[1]


def bad_pairs(d, hwc, labels):
    """name -> (IMAGES,LABELS argument, words the one line must hold)."""
    img, lab = d / "img.idx", d / "lab.idx"
    out = {}
    magic = d / "magic.idx"
    magic.write_bytes(b"\x01" + img.read_bytes()[1:])
    out["magic"] = (f"{magic},{lab}", ["magic.idx", "magic 01 00"])
    flt = d / "float.idx"
    write_idx(flt, labels.astype(np.float32).view(np.uint8).reshape(-1, 4), type_byte=0x0D)
    out["type"] = (f"{img},{flt}", ["float.idx", "type 0x0d", "unsigned bytes"])
    cut = d / "cut.idx"
    cut.write_bytes(img.read_bytes()[:-7])
    out["cut"] = (f"{cut},{lab}", ["cut.idx", "header describes"])
    few = d / "few.idx"
    write_idx(few, labels[:100])
    out["count"] = (f"{img},{few}", ["few.idx", "100 labels for 120 images"])
    bad = labels.copy()
    bad[7] = 12
    badl = d / "badlab.idx"
    write_idx(badl, bad)
    out["label"] = (f"{img},{badl}", ["record 7 has label 12"])
    gray = d / "gray.idx"
    write_idx(gray, hwc[:, 2:30, 2:30, 0])  # MNIST's [n][28][28]
    out["shape"] = (f"{gray},{lab}", ["28x28x1", "32x32x3", "input tensor"])
    out["comma"] = (str(img), ["IMAGES,LABELS"])
    out["missing"] = (f"{img},{d / 'nope.idx'}", ["nope.idx", "cannot open"])
    return out


BAD = ["magic", "type", "cut", "count", "label", "shape", "comma", "missing"]


@pytest.mark.parametrize("name", BAD)
def test_bad_idx_refused(sets, name, tmp_path):
    d, _, _, hwc, labels = sets
    arg, words = bad_pairs(d, hwc, labels)[name]
    out = tmp_path / "out.tflite"
    for cmd in (["prune", RESNET, "--sram", "8K", "--data", arg, "--format", "idx", "-o", out],
                ["eval", RESNET, "--data", arg, "--format", "idx"]):
        r = pexc(*cmd)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        assert r.returncode == 1 and len(lines) == 1, (cmd, r.stderr)
        for w in words:
            assert w in lines[0], (w, lines[0])
    assert os.listdir(tmp_path) == []
