#!/usr/bin/env python3
"""Instructions per step of pexc's generated C on the emulated Cortex-M55
(mps3-an547, Helium), to see which layers cost most.

    .venv/bin/python bench/m55_layers.py [--only SUBSTR] [--schedule baseline] [--top N]

tools/fit_cost.py's per-step measurement with the core swapped: the
generated step loop gets an instruction-count region around each pass
(region i is step i: table row, dispatch and kernel call), the firmware
(tests/codegen/mcu_main.c, its own region a no-op) is built with the M55
flags of bench/m55.py and run once on the model's deterministic input under
`mcu-run --count mps3-an547`. Prints per model the steps sorted by
instructions, with their MACs and instructions per MAC, and the totals per
operator type, so a layer can be set beside what CMSIS-NN's MVE kernel
would need for the same shape (TFLM's figures are per model only).
"""
import argparse
import os
import re
import shutil
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
import fit_cost as F  # noqa: E402
import pexc_harness as H  # noqa: E402

CPU = ["-mcpu=cortex-m55", "-mthumb", "-mfpu=auto", "-mfloat-abi=hard"]
BOARD = "mps3-an547"


def measure(name, path, schedule, work):
    """[(step json, instructions)] or an error string."""
    d = os.path.join(work, name)
    shutil.rmtree(d, ignore_errors=True)
    cname = "m_" + re.sub(r"[^a-z0-9_]", "_", name.lower())
    how = ["--schedule", schedule]
    j = F.inspect(path, how)
    if j is None:
        return "inspect refused"
    r = F.run([H.PEXC, "compile", path, "-o", d, "--name", cname, "--target", "cortex-m55"] + how)
    if r.returncode:
        return "compile: " + r.stderr.decode().strip()[:200]
    if not F.patch_loop(os.path.join(d, cname + ".c"), cname):
        return "no step loop found"
    objs = []
    for fn in sorted(os.listdir(d)):
        if fn.endswith(".c"):
            obj = os.path.join(d, fn[:-2] + ".o")
            r = F.run(["arm-none-eabi-gcc"] + CPU + ["-O2", "-std=c11", "-ffunction-sections", "-fdata-sections",
                       "-ffp-contract=off", "-I" + d, "-c", os.path.join(d, fn), "-o", obj])
            if r.returncode:
                return "gcc %s: %s" % (fn, r.stderr.decode()[-300:])
            objs.append(obj)
    data = open(os.path.join(H.INPUTS_DIR, name + ".det.bin"), "rb").read()
    inp = os.path.join(d, "fit_input.c")
    with open(inp, "w") as f:
        f.write("#include <stdint.h>\nvoid fit_nop(void);\nvoid fit_nop(void) {}\n"
                "const uint8_t pexc_test_input[%d] __attribute__((aligned(16))) = {\n%s\n};\n"
                % (len(data), ",".join(str(b) for b in data)))
    drv = os.path.join(d, "fit_main.o")
    r = F.run(["arm-none-eabi-gcc"] + CPU + ["-O2", "-std=gnu11", "-I" + d, "-I" + os.path.join(H.SHARED, "mcu", "src"),
               "-DPEXC_MODEL=" + cname, "-DPEXC_MACRO=" + cname.upper(), "-Dmcu_region_begin=fit_nop",
               "-Dmcu_region_end=fit_nop", "-c", F.MCU_MAIN, "-o", drv])
    if r.returncode:
        return "gcc mcu_main.c: " + r.stderr.decode()[-300:]
    counts = os.path.join(d, "counts.txt")
    r = F.run([F.MCU_RUN, "-q", "-t", "1200", "--count", "--count-out", counts, "--heap", "0", BOARD,
               drv, inp] + objs + ["-O2", "-ffp-contract=off"])
    if r.returncode:
        return "mcu-run exit %d: %s" % (r.returncode, r.stderr.decode()[-300:])
    kv = dict(ln.split("=", 1) for ln in open(counts).read().split() if "=" in ln)
    if int(kv.get("regions", 0)) != j["steps"]:
        return "%s regions for %d steps" % (kv.get("regions"), j["steps"])
    shutil.rmtree(d, ignore_errors=True)
    return [(st, int(kv["region.%d" % (i + 1)]) - 2) for i, st in enumerate(j["ops"])]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", help="models whose name contains one of these (comma-separated)")
    ap.add_argument("--schedule", default="baseline")
    ap.add_argument("--top", type=int, default=8, help="steps listed per model")
    a = ap.parse_args()
    work = tempfile.mkdtemp(prefix="m55_layers_")
    for name in H.SUPPORTED_SHARED:
        if a.only and not any(o in name for o in a.only.split(",")):
            continue
        if not os.path.exists(os.path.join(H.INPUTS_DIR, name + ".det.bin")) or name in F.SKIP:
            continue
        res = measure(name, H.shared_model(name), a.schedule, work)
        if isinstance(res, str):
            print("%s: %s" % (name, res))
            continue
        total = sum(n for _, n in res)
        print("\n%s (%s): %d instructions in %d steps" % (name, a.schedule, total, len(res)))
        by = {}
        for st, n in res:
            by.setdefault(st["type"], [0, 0])
            by[st["type"]][0] += n
            by[st["type"]][1] += st.get("macs", 0)
        for t, (n, m) in sorted(by.items(), key=lambda kv: -kv[1][0]):
            print("  %-22s %10d  %5.1f %%  %s" % (t, n, 100.0 * n / total,
                                                 "%.2f /MAC" % (n / m) if m else ""))
        print("  step op type                   in -> out                          MACs      instr  /MAC")
        for st, n in sorted(res, key=lambda r: -r[1])[:a.top]:
            print("  %4d %3d %-20s %-16s -> %-16s %9d %10d %5s" % (
                st["step"], st["op"], st["type"], "x".join(map(str, st["input_shape"])),
                "x".join(map(str, st["output_shape"])), st.get("macs", 0), n,
                "%.2f" % (n / st["macs"]) if st.get("macs") else ""))
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
