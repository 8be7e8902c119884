#!/usr/bin/env python3
"""The runtime's int8 kernels on an emulated Cortex-M4: Arm DSP build against
its plain C twin, on layer shapes taken from the real models.

    .venv/bin/python bench/kernels_m4.py [--opt -O2] [--json FILE] [--keep DIR]

What it measures. For every case below (one layer of a model in
../shared/models, shapes as `build/pexc inspect MODEL --schedule baseline`
and the .tflite give them), one call of the runtime kernel over the whole
output (pexc_conv2d_s8, pexc_depthwise_conv2d_s8 or pexc_fully_connected_s8),
built two ways and run in the same firmware:

  DSP    runtime/src/*.c as generated code ships them: on the Cortex-M4
         __ARM_FEATURE_DSP is defined, so the inner products of
         runtime/src/pexc_dot.h take their SXTAB16/SMLAD/SMLABB paths;
  plain  the same sources with -DPEXC_NO_DSP, the plain C twin.

Filters are laid out as the compiler emits them: fully connected weights
and the filters of gathered first layers whose window is whole words in
four-unit blocks (src/emit/fc_layout.c; pexc_fully_connected_s8_il, and
filter_by_channel = PEXC_FILTER_GATHER_IL4), the plain build over the same
layout.

How:
  1. runtime/src/*.c are compiled one object each, twice, with
     arm-none-eabi-gcc and the flags bench/m4.py uses for generated code
     (-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard, OPT, -g,
     -std=c11, -Wall -Wextra -Werror, -ffunction-sections -fdata-sections,
     -ffp-contract=off); the second set adds -DPEXC_NO_DSP and has its global
     symbols renamed pexc_* -> nodsp_pexc_* (objcopy --redefine-syms), so
     both sets link into one program. The disassembly must show SXTAB16 in
     the DSP set and none in the plain set.
  2. bench/kernels_m4.c (the firmware) fills static buffers (no malloc) with
     deterministic pseudo-random data (xorshift32, seeded per case): inputs
     uniform int8; weights bell-shaped in [-127, 127]; per-channel Q31
     multipliers uniform in [2^30, 2^31); per-channel shifts base + {-1, 0,
     1}, the base chosen per case from the expected spread of the int32 sums
     so that few outputs clamp (it lands at -8..-13, where the real models'
     shifts lie); biases uniform in +-half that spread; the input zero point
     of the real layer (nonzero everywhere: -128, or 83, 89, -1); output zero
     point 0 and no fused clamp beyond [-128, 127], so that nearly every
     output byte carries information for the comparison below (with a ReLU at
     zero point -128 half of them would read -128).
  3. `mcu-run --count --heap 0 mps2-an386` runs it under QEMU; each kernel
     call sits alone in an mcu_region_begin/end pair. The firmware compares
     the plain and DSP outputs byte for byte (memcmp-style, in the guest) and
     prints an FNV-1a checksum of each.

Columns:
  MACs         multiply-accumulates of the layer as TFLite and
               `pexc inspect` count them (out pixels x Cout x taps x Cin per
               group, padding taps included)
  in input     the MACs the kernel really executes: taps in the padding are
               skipped (they differ for padded windows near the border)
  instr        instructions executed in the kernel's region less mcu-run's
               constant 2 for the region calls: the kernel call, its
               argument checks and the few instructions setting up its
               arguments
  /MAC         instr / MACs (the nominal count, as usual for such figures)
  plain/DSP    speed-up of the DSP build (instruction ratio)
  checksum     FNV-1a 32 of the output bytes (identical for both builds, or
               the run fails)
  clamped      share of outputs at -128 or 127 (a check that the
               requantisation parameters are not degenerate)
Instructions are not cycles: QEMU has no pipeline model (SMLAD and MUL each
count one), see ../shared/mcu/README.md.

Exit status 1 (FAIL) when the two builds disagree on any output byte, a
kernel returns an error, or the build or run fails.
"""

import argparse
import concurrent.futures
import glob
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SHARED = os.path.normpath(os.path.join(ROOT, "..", "shared"))
MCU_RUN = os.path.join(SHARED, "mcu", "mcu-run")
FIRMWARE = os.path.join(HERE, "kernels_m4.c")
RUNTIME_INC = os.path.join(ROOT, "runtime", "include")
RUNTIME_SRC = sorted(glob.glob(os.path.join(ROOT, "runtime", "src", "*.c")))
BOARD = "mps2-an386"
CPU = ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"]
PLAIN_PREFIX = "nodsp_"
REGION_CONST = 2  # a region's count includes one bl and one bx lr (../shared/mcu/README.md)

CONV, DW, FC = 0, 1, 2
KIND_FN = {CONV: "conv2d_s8", DW: "depthwise_conv2d_s8", FC: "fully_connected_s8_il"}

# (label, source layer, kind, input HWC, Cout, kernel, stride, SAME?, depth
#  multiplier, input zero point). Checked against the .tflite files:
#  stride/padding/zero points from the operator options and tensors.
CASES = [
    ("kws first conv", "kws_ds_cnn op 0", CONV, (49, 10, 1), 64, (10, 4), 2, True, 1, 83),
    ("kws depthwise", "kws_ds_cnn op 1", DW, (25, 5, 64), 64, (3, 3), 1, True, 1, -128),
    ("kws pointwise", "kws_ds_cnn op 2", CONV, (25, 5, 64), 64, (1, 1), 1, True, 1, -128),
    ("vww first conv", "vww_96 op 0", CONV, (96, 96, 3), 8, (3, 3), 2, True, 1, -128),
    ("person first depthwise", "person_detect op 0", DW, (96, 96, 1), 8, (3, 3), 2, True, 8, -1),
    ("vww depthwise", "vww_96 op 1", DW, (48, 48, 8), 8, (3, 3), 1, True, 1, -128),
    ("vww pointwise", "vww_96 op 2", CONV, (48, 48, 8), 16, (1, 1), 1, True, 1, -128),
    ("vww depthwise s2", "vww_96 op 3", DW, (48, 48, 16), 16, (3, 3), 2, True, 1, -128),
    ("vww pointwise", "vww_96 op 6", CONV, (24, 24, 32), 32, (1, 1), 1, True, 1, -128),
    ("vww pointwise", "vww_96 op 8", CONV, (12, 12, 32), 64, (1, 1), 1, True, 1, -128),
    ("vww pointwise", "vww_96 op 14", CONV, (6, 6, 128), 128, (1, 1), 1, True, 1, -128),
    ("resnet conv 3x3", "ic_resnet8 op 1", CONV, (32, 32, 16), 16, (3, 3), 1, True, 1, -128),
    ("micro_speech depthwise", "micro_speech op 1", DW, (49, 40, 1), 8, (10, 8), 2, True, 8, -128),
    ("fully connected", "micro_speech op 2", FC, (1, 1, 4000), 4, (1, 1), 1, False, 1, -128),
    ("fully connected", "ad_autoencoder op 0", FC, (1, 1, 640), 128, (1, 1), 1, False, 1, 89),
]

W_MS = 5461.25 * 4 / 16  # mean square of the firmware's bell-shaped weights (sum of 4 bytes / 4)
X_VAR = (256 ** 2 - 1) / 12.0  # variance of a uniform int8 input
TARGET_STD = 32.0  # aimed spread of the requantised outputs


def geometry(case):
    label, src, kind, (h, w, cin), cout, (kh, kw), s, same, dm, in_zp = case
    if kind == FC:
        return dict(oh=1, ow=1, pt=0, pl=0)
    if same:
        oh, ow = -(-h // s), -(-w // s)
        pt = max((oh - 1) * s + kh - h, 0) // 2
        pl = max((ow - 1) * s + kw - w, 0) // 2
    else:
        oh, ow, pt, pl = (h - kh) // s + 1, (w - kw) // s + 1, 0, 0
    return dict(oh=oh, ow=ow, pt=pt, pl=pl)


def describe(case):
    """Everything the table, the JSON and the C header need about one case."""
    label, src, kind, (h, w, cin), cout, (kh, kw), s, same, dm, in_zp = case
    g = geometry(case)
    oh, ow, pt, pl = g["oh"], g["ow"], g["pt"], g["pl"]
    per_tap = cin if kind == CONV else 1  # input channels summed per tap and output
    taps = cin if kind == FC else kh * kw * per_tap
    macs = oh * ow * cout * taps
    if kind == FC:
        executed = macs
    else:
        rows = [sum(1 for ky in range(kh) if 0 <= oy * s - pt + ky < h) for oy in range(oh)]
        cols = [sum(1 for kx in range(kw) if 0 <= ox * s - pl + kx < w) for ox in range(ow)]
        executed = sum(rows) * sum(cols) * cout * per_tap
    off = -in_zp
    acc_std = math.sqrt(taps * W_MS * (X_VAR + (off - 0.5) ** 2))
    shift_base = int(round(math.log2(TARGET_STD / (0.75 * acc_std))))
    if kind == FC:
        shape = "%d -> %d" % (cin, cout)
    else:
        shape = "%dx%dx%d -> %dx%dx%d, %dx%d s%d %s" % (h, w, cin, oh, ow, cout, kh, kw, s, "SAME" if same else "VALID")
        if kind == DW and dm != 1:
            shape += " dm %d" % dm
    return {
        "label": label, "source": src, "kernel": "pexc_" + KIND_FN[kind], "kind": kind, "shape": shape,
        "h": h, "w": w, "cin": cin, "oh": oh, "ow": ow, "cout": cout, "kh": kh, "kw": kw, "stride": s,
        "pad_top": pt, "pad_left": pl, "depth_mult": dm, "input_zero_point": in_zp,
        "input_offset": off, "output_offset": 0, "shift_base": shift_base,
        "bias_range": max(1, int(acc_std / 2)), "seed": (zlib.crc32(("%s|%s" % (src, shape)).encode()) | 1) & 0xFFFFFFFF,
        "macs": macs, "macs_in_input": executed,
    }


def check_case(d):
    """The firmware's kernels expect these; a wrong table entry fails loudly."""
    if d["kind"] == DW:
        assert d["cout"] == d["cin"] * d["depth_mult"], d
        # the firmware lays a one-channel filter out by channel through the output buffer
        assert d["cin"] != 1 or d["oh"] * d["ow"] >= d["kh"] * d["kw"], d
    if d["kind"] == FC:
        assert d["h"] == d["w"] == 1 and d["kh"] == d["kw"] == 1, d
    assert -127 <= d["input_offset"] <= 128, d
    # the short requantisation the firmware sets up needs a right shift
    # everywhere and sums below 2^30 (taps x 127 x 255 + bias)
    taps = d["kh"] * d["kw"] * (1 if d["kind"] == DW else d["cin"])
    assert d["shift_base"] + 1 <= -1 and taps * 127 * 255 + d["bias_range"] < 2 ** 30, d


def cases_header(descs):
    lines = ["/* Generated by bench/kernels_m4.py; do not edit. */",
             "#define KB_N_CASES %d" % len(descs),
             "#define KB_IN_MAX %d" % max(d["h"] * d["w"] * d["cin"] for d in descs),
             "#define KB_OUT_MAX %d" % max(d["oh"] * d["ow"] * d["cout"] for d in descs),
             "#define KB_FILTER_MAX %d" % max(
                 d["cout"] * d["kh"] * d["kw"] * (d["cin"] if d["kind"] != DW else 1) for d in descs),
             "#define KB_COUT_MAX %d" % max(d["cout"] for d in descs),
             "static const kb_case kb_cases[KB_N_CASES] = {"]
    for d in descs:
        lines.append("    /* %s: %s, %s */" % (d["source"], d["kernel"], d["shape"]))
        lines.append("    {%d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %uu}," % (
            d["kind"], d["h"], d["w"], d["cin"], d["oh"], d["ow"], d["cout"], d["kh"], d["kw"], d["stride"],
            d["stride"], d["pad_top"], d["pad_left"], d["depth_mult"], d["input_offset"], d["output_offset"],
            d["shift_base"], d["bias_range"], d["seed"]))
    lines.append("};")
    return "\n".join(lines) + "\n"


def run(cmd, timeout=300):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)


def compile_runtime(work, opt, plain):
    d = os.path.join(work, "plain" if plain else "dsp")
    os.makedirs(d, exist_ok=True)
    flags = CPU + [opt, "-g", "-std=c11", "-Wall", "-Wextra", "-Werror", "-ffunction-sections", "-fdata-sections",
                   "-ffp-contract=off", "-I" + RUNTIME_INC] + (["-DPEXC_NO_DSP"] if plain else [])

    def one(src):
        obj = os.path.join(d, os.path.basename(src)[:-2] + ".o")
        r = run(["arm-none-eabi-gcc"] + flags + ["-c", src, "-o", obj])
        if r.returncode:
            raise RuntimeError("arm-none-eabi-gcc %s%s:\n%s" % (
                os.path.basename(src), " -DPEXC_NO_DSP" if plain else "", r.stderr.decode()[-2000:]))
        return obj

    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as ex:
        return list(ex.map(one, RUNTIME_SRC))


def rename_plain(objs, work):
    """Rename every global symbol the plain objects define (pexc_* and any
    other) to nodsp_*, references among them included."""
    syms = set()
    for o in objs:
        r = run(["arm-none-eabi-nm", "-g", "--defined-only", o])
        for ln in r.stdout.decode().splitlines():
            parts = ln.split()
            if len(parts) == 3:
                syms.add(parts[2])
    mapping = os.path.join(work, "plain-syms.txt")
    with open(mapping, "w") as f:
        for s in sorted(syms):
            f.write("%s %s%s\n" % (s, PLAIN_PREFIX, s))
    for o in objs:
        r = run(["arm-none-eabi-objcopy", "--redefine-syms=" + mapping, o])
        if r.returncode:
            raise RuntimeError("objcopy %s: %s" % (o, r.stderr.decode()))
    return sorted(syms)


def count_insn(objs, mnemonic):
    n = 0
    pat = re.compile(r"\t%s(\.w)?\s" % mnemonic)
    for o in objs:
        r = run(["arm-none-eabi-objdump", "-d", o])
        n += len(pat.findall(r.stdout.decode()))
    return n


def fmt(n):
    return "{:,}".format(n)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--opt", default="-O2", help="optimisation flag for runtime and firmware (default -O2)")
    ap.add_argument("--json", help="also write the raw figures here")
    ap.add_argument("--keep", help="keep objects, generated header and firmware in this directory")
    # "--opt -O3" as well as "--opt=-O3" (argparse takes "-O3" for an option)
    argv, i = [], 0
    while i < len(sys.argv[1:]):
        x = sys.argv[1 + i]
        if x == "--opt" and i + 1 < len(sys.argv[1:]):
            x, i = "--opt=" + sys.argv[2 + i], i + 1
        argv.append(x)
        i += 1
    a = ap.parse_args(argv)
    for tool in ("arm-none-eabi-gcc", "arm-none-eabi-objcopy", "arm-none-eabi-nm", "qemu-system-arm"):
        if not shutil.which(tool):
            sys.exit("%s not found: run %s/mcu/install-deps.sh" % (tool, SHARED))
    if not os.access(MCU_RUN, os.X_OK):
        sys.exit("mcu-run not found at " + MCU_RUN)

    descs = [describe(c) for c in CASES]
    for d in descs:
        check_case(d)
    work = a.keep or tempfile.mkdtemp(prefix="pexc-kernels-m4-")
    os.makedirs(work, exist_ok=True)
    try:
        return bench(a, descs, work)
    finally:
        if not a.keep:
            shutil.rmtree(work, ignore_errors=True)


def bench(a, descs, work):
    print("compiling runtime/src/*.c twice (DSP, -DPEXC_NO_DSP) ...", file=sys.stderr, flush=True)
    try:
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as ex:
            fd, fp = ex.submit(compile_runtime, work, a.opt, False), ex.submit(compile_runtime, work, a.opt, True)
            dsp_objs, plain_objs = fd.result(), fp.result()
        renamed = rename_plain(plain_objs, work)
    except RuntimeError as e:
        print("FAIL: %s" % e, file=sys.stderr)
        return 1
    sx_dsp, sx_plain = count_insn(dsp_objs, "sxtab16"), count_insn(plain_objs, "sxtab16")
    if sx_dsp == 0 or sx_plain != 0:
        print("FAIL: SXTAB16 in the DSP objects: %d, in the -DPEXC_NO_DSP objects: %d (expected > 0 and 0)"
              % (sx_dsp, sx_plain), file=sys.stderr)
        return 1
    with open(os.path.join(work, "kernels_m4_cases.h"), "w") as f:
        f.write(cases_header(descs))

    print("running %d cases x 2 builds on %s ..." % (len(descs), BOARD), file=sys.stderr, flush=True)
    counts = os.path.join(work, "counts.txt")
    bdir = os.path.join(work, "fw")
    r = run([MCU_RUN, "-q", "-t", "240", "--count", "--count-out", counts, "--heap", "0", "-b", bdir, BOARD,
             FIRMWARE] + dsp_objs + plain_objs + ["-I" + RUNTIME_INC, "-I" + work, a.opt, "-std=c11",
                                                  "-ffp-contract=off"], timeout=600)
    out, err = r.stdout.decode(), r.stderr.decode()
    lines = re.findall(r"^case (\d+) plain_status (-?\d+) dsp_status (-?\d+) plain_sum (0x[0-9a-f]+) "
                       r"dsp_sum (0x[0-9a-f]+) equal (\d) first_diff (-?\d+) clamped (\d+) outputs (\d+)$", out, re.M)
    if r.returncode not in (0, 1) or len(lines) != len(descs) or "done" not in out:
        print("FAIL: mcu-run exit %d\n%s\n%s" % (r.returncode, out[-2000:], err[-2000:]), file=sys.stderr)
        return 1
    kv = dict(ln.split("=", 1) for ln in open(counts).read().split() if "=" in ln)
    nreg = int(kv.get("regions", 0))
    if nreg != 2 * len(descs):
        print("FAIL: %d count regions, expected %d" % (nreg, 2 * len(descs)), file=sys.stderr)
        return 1

    results, failed = [], []
    for i, (d, ln) in enumerate(zip(descs, lines)):
        idx, sp, sd, sum_p, sum_d, eq, first_diff, clamped, nout = ln
        assert int(idx) == i
        res = dict(d)
        res.update({
            "instr_plain": int(kv["region.%d" % (1 + 2 * i)]) - REGION_CONST,
            "instr_dsp": int(kv["region.%d" % (2 + 2 * i)]) - REGION_CONST,
            "status_plain": int(sp), "status_dsp": int(sd),
            "checksum_plain": sum_p, "checksum_dsp": sum_d,
            "identical": eq == "1", "first_diff": int(first_diff),
            "clamped": int(clamped), "outputs": int(nout),
        })
        res["instr_per_mac_plain"] = res["instr_plain"] / d["macs"]
        res["instr_per_mac_dsp"] = res["instr_dsp"] / d["macs"]
        res["speedup"] = res["instr_plain"] / res["instr_dsp"] if res["instr_dsp"] else None
        results.append(res)
        if not res["identical"] or res["status_plain"] or res["status_dsp"] or sum_p != sum_d:
            failed.append(res)

    tp = sum(x["instr_plain"] for x in results)
    td = sum(x["instr_dsp"] for x in results)
    tm = sum(x["macs"] for x in results)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"board": BOARD, "opt": a.opt, "region_constant_subtracted": REGION_CONST, "insn_total": int(kv.get("insn_total", 0)),
                       "sxtab16_in_dsp_objects": sx_dsp, "plain_symbols_renamed": renamed,
                       "cases": results}, f, indent=1)

    print("runtime int8 kernels on %s (Cortex-M4, QEMU), %s: plain C (-DPEXC_NO_DSP) vs Arm DSP build, "
          "instructions per kernel call\n" % (BOARD, a.opt))
    print("| kernel | layer | shape | MACs | in input | instr plain C | instr DSP | plain /MAC | DSP /MAC "
          "| plain/DSP | checksum | clamped |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    for x in results:
        ck = x["checksum_dsp"] if x["identical"] else "**%s / %s DIFFER**" % (x["checksum_plain"], x["checksum_dsp"])
        print("| %s | %s | %s | %s | %s | %s | %s | %.2f | %.2f | %.2fx | %s | %.1f %% |" % (
            x["kernel"], x["source"], x["shape"], fmt(x["macs"]), fmt(x["macs_in_input"]), fmt(x["instr_plain"]),
            fmt(x["instr_dsp"]), x["instr_per_mac_plain"], x["instr_per_mac_dsp"], x["speedup"] or 0, ck,
            100.0 * x["clamped"] / x["outputs"]))
    print("| **all** | | | %s | %s | %s | %s | %.2f | %.2f | %.2fx | | |" % (
        fmt(tm), fmt(sum(x["macs_in_input"] for x in results)), fmt(tp), fmt(td), tp / tm, td / tm, tp / td))
    if failed:
        for x in failed:
            print("FAIL: %s (%s, %s): plain status %d, DSP status %d, checksums %s / %s, first differing byte %d"
                  % (x["kernel"], x["source"], x["shape"], x["status_plain"], x["status_dsp"], x["checksum_plain"],
                     x["checksum_dsp"], x["first_diff"]), file=sys.stderr)
        return 1
    print("\nplain and DSP outputs byte-identical in all %d cases" % len(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
