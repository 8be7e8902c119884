#!/usr/bin/env python3
"""pexc-generated C on an emulated Cortex-M4 beside TFLite Micro.

    .venv/bin/python bench/m4.py [--only SUBSTR] [--opt -O2] [--json FILE] [--keep DIR]
                                 [--sram 6K,8K] [--steps]

For every supported model and the three schedules (baseline, channels,
min-sram), and each SRAM budget given with --sram (the fastest schedule
that fits it: `pexc compile --sram B`):

  1. `pexc compile MODEL --schedule S --target cortex-m4`;
  2. the generated NAME.c and the runtime sources are compiled one object
     each with arm-none-eabi-gcc (the flags mcu-run uses for mps2-an386,
     -std=c11 -ffp-contract=off, OPT), so the linker map can say which bytes
     belong to whom;
  3. tests/codegen/mcu_main.c runs NAME_run_io() once on the deterministic
     input with `mcu-run --count --heap 0 mps2-an386`; the output must equal
     the golden file.

Columns:
  instr        instructions executed inside the mcu_region_begin/end pair
               around NAME_run_io() (mcu-run's count, which includes a
               constant 2 for the region calls), as TFLM's Invoke() was counted
  x CMSIS-NN   pexc instr over TFLM + CMSIS-NN's (below 1: pexc is faster)
  arena        NAME_ARENA_BYTES: the static activation arena (.bss)
  other RAM    every other .data/.bss byte of the whole firmware (mcu runtime,
               newlib, the driver's output buffer); the stack and heap blocks
               are not included
  stack        peak thread-stack bytes of the whole firmware (stack painting
               in mcu_main.c), comparable to TFLM's thread_stack_used_bytes
  weights      flash of the generated object's named constants: weights,
               biases, multipliers, shifts, parameter structs
  steps        flash of the generated object's step table (a {template, a,
               b} row per step) and the static const views and tiles of its
               step templates
  code         flash of code: the generated NAME_run_io (+ NAME_run) and the
               runtime kernels it links (text + their small .rodata tables)
With --steps each pass of the generated step loop gets a count region of its
own (as tools/fit_cost.py measures them) and a table per model and schedule
lists the instructions of every step (the table row, dispatch and kernel
call) beside its operator, shapes and MACs: where the instructions go.
TFLM columns come from ../shared/models/golden/tflm-m4.json (reference and
CMSIS-NN builds, -O2, same board and counter). TFLM "lib code" is its
flash_lib figure for the int8-only op registrations (interpreter + kernels,
model excluded); "arena" is arena_used_bytes of the CMSIS-NN build.
"""

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tests"))
import pexc_harness as H  # noqa: E402

MCU_RUN = os.path.join(H.SHARED, "mcu", "mcu-run")
MCU_MAIN = os.path.join(ROOT, "tests", "codegen", "mcu_main.c")
TFLM_JSON = os.path.join(H.GOLDEN_DIR, "tflm-m4.json")
CPU = ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard"]
# The core: bench/m55.py sets these four for the Cortex-M55 and reuses the rest.
BOARD = "mps2-an386"
TARGET = "cortex-m4"
TFLM_KEY = "m4"  # tflm-m4.json's <key>_ref / <key>_cmsis_nn entries
CORE_NAME = "mps2-an386 (Cortex-M4, QEMU"
SCHEDULES = ["baseline", "channels", "min-sram"]


def run(cmd, timeout=900, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout, **kw)


def compile_cmd(work):
    """argv prefix and env for `pexc compile` (a driver while main.c lacks it)."""
    env = dict(os.environ)
    if run([H.PEXC, "compile", "--help"]).returncode == 0:
        return [H.PEXC, "compile"], env
    drv = os.path.join(work, "drv.c")
    with open(drv, "w") as f:
        f.write('#include <string.h>\nint cli_compile(int argc, char **argv);\n'
                'int main(int argc, char **argv) {\n'
                '    if (argc >= 2 && !strcmp(argv[1], "compile")) return cli_compile(argc - 1, argv + 1);\n'
                '    return 2;\n}\n')
    exe = os.path.join(work, "pexc")
    r = run(["cc", "-std=c11", "-O2", "-I" + os.path.join(ROOT, "include"), "-I" + os.path.join(ROOT, "runtime", "include"),
             "-I" + os.path.join(ROOT, "src"), "-o", exe, drv, os.path.join(ROOT, "src", "cli", "compile.c"),
             os.path.join(ROOT, "build", "libpexc.a"), "-lm"])
    if r.returncode:
        sys.exit("cannot build a compile driver:\n" + r.stderr.decode())
    env["PEXC_RUNTIME_DIR"] = os.path.join(ROOT, "runtime")
    return [exe, "compile"], env


def parse_map(path, model):
    """{object basename: {"text": n, "rodata": n, "tables": n, "data": n, "bss": n}}
    of the input sections the linker kept (after --gc-sections). "tables" is
    the generated object's step table (MODEL_steps) and unnamed read-only
    data: the static const views and tiles of its step templates (its other
    named constants, MODEL_*, are "rodata")."""
    out = {}
    with open(path) as f:
        lines = f.read().split("\n")
    try:
        start = next(i for i, ln in enumerate(lines) if ln.startswith("Linker script and memory map"))
    except StopIteration:
        return out
    pending = None
    one = re.compile(r"^ (\.[^\s]+)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)$")
    cont = re.compile(r"^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S+)$")
    for ln in lines[start:]:
        m = one.match(ln)
        if m:
            sec, size, obj = m.group(1), int(m.group(3), 16), m.group(4)
        else:
            m2 = cont.match(ln) if pending else None
            if m2:
                sec, size, obj = pending, int(m2.group(2), 16), m2.group(3)
            else:
                pending = ln.strip() if re.match(r"^ \.[^\s]+$", ln) else None
                continue
        pending = None
        base = os.path.basename(obj)
        kind = ("text" if sec.startswith(".text")
                else "tables" if (sec.startswith(".rodata") and base == model + ".o"
                                  and (not sec.startswith(".rodata.%s_" % model)
                                       or sec == ".rodata.%s_steps" % model))
                else "rodata" if sec.startswith(".rodata")
                else "data" if sec.startswith(".data") else "bss" if sec.startswith(".bss") or sec.startswith("COMMON")
                else None)
        if kind is None or size == 0:
            continue
        out.setdefault(base, {"text": 0, "rodata": 0, "tables": 0, "data": 0, "bss": 0})[kind] += size
    return out


def elf_sections(elf):
    r = run(["arm-none-eabi-size", "-A", elf])
    sizes = {}
    for ln in r.stdout.decode().splitlines():
        parts = ln.split()
        if len(parts) >= 2 and parts[0].startswith(".") and parts[1].isdigit():
            sizes[parts[0]] = int(parts[1])
    return sizes


def step_regions(c_path):
    """A count region around each pass of the generated step loop (the
    driver's own region is then made a no-op: regions do not nest)."""
    sys.path.insert(0, os.path.join(ROOT, "tools"))
    import fit_cost  # noqa: E402
    return fit_cost.patch_loop(c_path, None)


def bench_one(cmd_env, model, schedule, work, opt, steps=False):
    cmd, env = cmd_env
    d = os.path.join(work, "%s-%s" % (model, schedule))
    shutil.rmtree(d, ignore_errors=True)
    how = ["--sram", schedule[5:]] if schedule.startswith("sram=") else ["--schedule", schedule]
    r = run(cmd + [H.shared_model(model), "-o", d] + how + ["--target", TARGET], env=env)
    if r.returncode:
        return {"error": "pexc compile: " + r.stderr.decode().strip()}
    objs, rt_objs = [], []
    for fn in sorted(os.listdir(d)):
        if not fn.endswith(".c"):
            continue
        obj = os.path.join(d, fn[:-2] + ".o")
        if steps and fn == model + ".c" and not step_regions(os.path.join(d, fn)):
            return {"error": "--steps: no step loop found in " + fn}
        r = run(["arm-none-eabi-gcc"] + CPU + [opt, "-g", "-std=c11", "-Wall", "-Wextra", "-Werror", "-ffunction-sections",
                 "-fdata-sections", "-ffp-contract=off", "-I" + d, "-c", os.path.join(d, fn), "-o", obj])
        if r.returncode:
            return {"error": "arm-none-eabi-gcc %s: %s" % (fn, r.stderr.decode()[-500:])}
        objs.append(obj)
        if fn != model + ".c":
            rt_objs.append(os.path.basename(obj))
    det = open(os.path.join(H.INPUTS_DIR, model + ".det.bin"), "rb").read()
    inp = os.path.join(d, "bench_input.c")
    with open(inp, "w") as f:
        f.write(("#include <stdint.h>\nvoid fit_nop(void);\nvoid fit_nop(void) {}\n" if steps else "#include <stdint.h>\n")
                + "const uint8_t pexc_test_input[%d] __attribute__((aligned(16))) = {\n%s\n};\n"
                % (len(det), ",".join(str(b) for b in det)))
    bdir = os.path.join(d, "fw")
    counts = os.path.join(d, "counts.txt")
    main_src = MCU_MAIN
    if steps:
        # the driver alone gets its region made a no-op (mcu-run's own
        # sources define the real mcu_region_begin/end)
        main_src = os.path.join(d, "mcu_main_steps.o")
        r = run(["arm-none-eabi-gcc"] + CPU + [opt, "-std=gnu11", "-I" + d, "-I" + os.path.join(H.SHARED, "mcu", "src"),
                 "-DPEXC_MODEL=" + model, "-DPEXC_MACRO=" + model.upper(), "-Dmcu_region_begin=fit_nop",
                 "-Dmcu_region_end=fit_nop", "-c", MCU_MAIN, "-o", main_src])
        if r.returncode:
            return {"error": "mcu_main.c: " + r.stderr.decode()[-300:]}
    r = run([MCU_RUN, "-q", "-t", "600", "--count", "--count-out", counts, "--heap", "0", "-b", bdir, BOARD,
             main_src, inp] + objs + ["-I" + d, "-DPEXC_MODEL=" + model, "-DPEXC_MACRO=" + model.upper(), opt, "-ffp-contract=off"],
            timeout=900)
    out = r.stdout.decode()
    if r.returncode:
        return {"error": "mcu-run exit %d: %s %s" % (r.returncode, out[-300:], r.stderr.decode()[-500:])}
    m = re.search(r"^out ([0-9a-f]*)$", out, re.M)
    s = re.search(r"^stack (\d+)$", out, re.M)
    kv = dict(ln.split("=", 1) for ln in open(counts).read().split() if "=" in ln)
    golden = open(os.path.join(H.GOLDEN_DIR, model + ".det.out"), "rb").read()
    got = bytes.fromhex(m.group(1)) if m else b""
    secs = parse_map(os.path.join(bdir, "prog.map"), model)
    gen = secs.get(model + ".o", {"text": 0, "rodata": 0, "tables": 0, "data": 0, "bss": 0})
    kernels = sum(secs.get(o, {}).get("text", 0) + secs.get(o, {}).get("rodata", 0) for o in rt_objs)
    kernels_ram = sum(secs.get(o, {}).get("data", 0) + secs.get(o, {}).get("bss", 0) for o in rt_objs)
    arena = int(re.search(r"#define %s_ARENA_BYTES (\d+)" % model.upper(), open(os.path.join(d, model + ".h")).read()).group(1))
    es = elf_sections(os.path.join(bdir, "prog.elf"))
    ram = sum(v for k, v in es.items() if k in (".data", ".bss", ".tdata", ".tbss"))
    per_step = [int(kv["region.%d" % (i + 1)]) - 2 for i in range(int(kv.get("regions", 0)))] if steps else None
    return {
        "instr": sum(per_step) if steps else int(kv.get("region.1", 0)),
        "steps": per_step,
        "match": got == golden,
        "arena": arena,
        "other_ram": ram - arena,
        "gen_ram_other": gen["data"] + gen["bss"] - arena + kernels_ram,
        "stack": int(s.group(1)) if s else None,
        "weights": gen["rodata"],
        "tables": gen["tables"],
        "model_code": gen["text"],
        "kernel_code": kernels,
        "flash_total": es.get(".text", 0) + es.get(".data", 0) + es.get(".ARM.exidx", 0),
    }


def fmt(n):
    return "—" if n is None else "{:,}".format(n)


def print_steps(models, schedules, results):
    for model in models:
        for sched in schedules:
            r = results["%s/%s" % (model, sched)]
            if not r.get("steps"):
                continue
            how = ["--sram", sched[5:]] if sched.startswith("sram=") else ["--schedule", sched]
            j = json.loads(run([H.PEXC, "inspect", H.shared_model(model), "--json"] + how).stdout.decode())
            if len(j["ops"]) != len(r["steps"]):
                print("\n%s/%s: %d regions for %d steps" % (model, sched, len(r["steps"]), len(j["ops"])))
                continue
            total = sum(r["steps"])
            print("\n%s, %s: %s instructions in %d steps\n" % (model, sched, fmt(total), len(r["steps"])))
            print("| step | op | type | in | out | MACs | instr | instr/MAC | share |")
            print("|---:|---:|---|---|---|---:|---:|---:|---:|")
            for st, n in zip(j["ops"], r["steps"]):
                print("| %d | %d | %s | %s | %s | %s | %s | %s | %.1f %% |" % (
                    st["step"], st["op"], st["type"], "x".join(map(str, st["input_shape"])),
                    "x".join(map(str, st["output_shape"])), fmt(st["macs"]), fmt(n),
                    "%.2f" % (n / st["macs"]) if st["macs"] else "-", 100.0 * n / total))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", help="models whose name contains this")
    ap.add_argument("--opt", default="-O2", help="optimisation flag for the firmware (default -O2, as TFLM's)")
    ap.add_argument("--json", help="also write the raw figures here")
    ap.add_argument("--keep", help="keep generated sources and firmware in this directory")
    ap.add_argument("--sram", help="also compile with these --sram budgets (comma-separated, e.g. 6K,8K)")
    ap.add_argument("--steps", action="store_true",
                    help="count each step on its own and print where the instructions go (instr then leaves out "
                         "NAME_run_io's own work outside the step loop)")
    ap.add_argument("--schedules", help="only these schedules (comma-separated, e.g. baseline; default all)")
    a = ap.parse_args()
    schedules = (a.schedules.split(",") if a.schedules else SCHEDULES) + ["sram=" + b for b in (a.sram.split(",") if a.sram else [])]
    for tool in ("arm-none-eabi-gcc", "qemu-system-arm"):
        if not shutil.which(tool):
            sys.exit("%s not found: run %s/mcu/install-deps.sh" % (tool, H.SHARED))
    tflm = json.load(open(TFLM_JSON))
    work = a.keep or tempfile.mkdtemp(prefix="pexc-%s-" % TFLM_KEY)
    os.makedirs(work, exist_ok=True)
    cmd_env = compile_cmd(work)
    results = {}
    models = [m for m in H.SUPPORTED_SHARED if not a.only or a.only in m]
    for model in models:
        for sched in schedules:
            print("%-22s %-9s ..." % (model, sched), file=sys.stderr, flush=True)
            results["%s/%s" % (model, sched)] = bench_one(cmd_env, model, sched, work, a.opt, a.steps)
    if not a.keep:
        shutil.rmtree(work, ignore_errors=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"opt": a.opt, "pexc": results, "tflm_source": TFLM_JSON}, f, indent=1)

    print("pexc on %s, %s), deterministic input; TFLM 90b983c2 from tflm-m4.json\n" % (CORE_NAME, a.opt))
    print("| model | schedule | golden | pexc instr | x baseline | TFLM ref instr | TFLM CMSIS-NN instr | x CMSIS-NN "
          "| pexc arena | TFLM arena | pexc other RAM | pexc stack | TFLM stack | pexc weights | pexc steps "
          "| pexc code (model + kernels) | TFLM lib code |")
    print("|---|---|:-:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for model in models:
        t = tflm.get(model, {})
        ref, cm, cm8 = (t.get(TFLM_KEY + "_ref", {}), t.get(TFLM_KEY + "_cmsis_nn", {}),
                        t.get(TFLM_KEY + "_cmsis_nn_int8", {}))
        for sched in schedules:
            r = results["%s/%s" % (model, sched)]
            if "error" in r:
                print("| %s | %s | error: %s |" % (model, sched, r["error"].replace("|", "/")[:200]))
                continue
            b = results.get("%s/baseline" % model, {})
            ratio = "%.3f" % (r["instr"] / b["instr"]) if b.get("instr") else "-"
            vs_cm = "%.2f" % (r["instr"] / cm["invoke_insn"]) if cm.get("invoke_insn") else "-"
            print("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s + %s | %s |" % (
                model, sched, "ok" if r["match"] else "**DIFF**", fmt(r["instr"]), ratio, fmt(ref.get("invoke_insn")),
                fmt(cm.get("invoke_insn")), vs_cm, fmt(r["arena"]), fmt(cm.get("arena_used_bytes")), fmt(r["other_ram"]),
                fmt(r["stack"]), fmt(cm.get("thread_stack_used_bytes")), fmt(r["weights"]), fmt(r["tables"]),
                fmt(r["model_code"]),
                fmt(r["kernel_code"]), fmt(cm8.get("flash_lib"))))
    if a.steps:
        print_steps(models, schedules, results)
    for sched in schedules:
        ratios = [results["%s/%s" % (m, sched)]["instr"] / tflm[m][TFLM_KEY + "_cmsis_nn"]["invoke_insn"]
                  for m in models if results["%s/%s" % (m, sched)].get("instr")
                  and tflm.get(m, {}).get(TFLM_KEY + "_cmsis_nn", {}).get("invoke_insn")]
        if ratios:
            print("\n%s: geometric mean x CMSIS-NN over %d models: %.3f" % (
                sched, len(ratios), math.exp(sum(math.log(x) for x in ratios) / len(ratios))))
    bad = [k for k, r in results.items() if "error" in r or not r["match"]]
    if bad:
        print("\nfailed or differing from golden: " + ", ".join(bad), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
