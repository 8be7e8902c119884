#!/usr/bin/env python3
"""The table behind the generated header's code-flash and stack figures.

`pexc compile` states, for the target it compiles for, how many bytes of
flash the code of one model takes and how deep one run's stack goes. Both
come from this table (src/emit/kernel_table.c, generated, compiled into
pexc), measured here once per target:

- every runtime/src file is compiled alone as the generated CMakeLists and
  header ask (arm-none-eabi-gcc -O2, the core's flags, -std=c11
  -ffp-contract=off) with -ffunction-sections -fdata-sections, so that each
  function and each constant is a section of its own, and -fstack-usage;
- a node per section (its size from readelf -S), an edge per relocation
  (readelf -r): exactly what `ld --gc-sections` follows, so the sections
  reachable from the kernels a model calls are the sections a firmware
  keeps, and their sizes add up to its kernel code byte for byte;
- a function's worst stack is its frame (-fstack-usage, all "static" here)
  plus the deepest of what it can reach (any relocation to a function counts
  as a call: a pointer taken may be called);
- the C library and libgcc functions the kernels call (memcpy, expf,
  __aeabi_*) are not in the objects: they are linked into a probe program
  with newlib-nano, their sizes read from the symbol table and their frames
  from the disassembly (every push, vpush, stmdb sp! and sub sp in the body
  added up, an over-estimate), their calls from the bl/b.w they contain;
- the generated NAME.c's own code and NAME_run's frame depend on the model:
  the real models are compiled with build/pexc for the target and a line
  (fixed part + bytes per distinct step body) is fitted to their code; the
  largest NAME_run_io + NAME_run frame seen is kept, and the largest miss
  of the fit is stated in the header.

Each runtime source's SHA-256 is kept in the table; tests/test_header_figures.py
fails when the sources and the table disagree (`make kernel-table`
regenerates it).

    tools/kernel_sizes.py                 # print the per-target summary
    tools/kernel_sizes.py --write         # (re)write src/emit/kernel_table.c
"""

import argparse
import concurrent.futures
import hashlib
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
RT_SRC = os.path.join(ROOT, "runtime", "src")
RT_INC = os.path.join(ROOT, "runtime", "include")
TABLE = os.path.join(ROOT, "src", "emit", "kernel_table.c")
PEXC = os.path.join(ROOT, "build", "pexc")
MODELS = os.path.join(os.path.dirname(ROOT), "shared", "models")
CC, READELF, NM, OBJDUMP = "arm-none-eabi-gcc", "arm-none-eabi-readelf", "arm-none-eabi-nm", "arm-none-eabi-objdump"

# the cores and their flags, as the header's "For <target>:" line states them
TARGETS = {
    "cortex-m4": "-mcpu=cortex-m4 -mthumb -mfpu=fpv4-sp-d16 -mfloat-abi=hard",
    "cortex-m7": "-mcpu=cortex-m7 -mthumb -mfpu=fpv5-d16 -mfloat-abi=hard",
    "cortex-m33": "-mcpu=cortex-m33 -mthumb -mfpu=fpv5-sp-d16 -mfloat-abi=hard",
    "cortex-m55": "-mcpu=cortex-m55 -mthumb -mfloat-abi=hard",
}
COMMON = "-O2 -std=c11 -ffp-contract=off -ffunction-sections -fdata-sections"
# real models the NAME.c fit is made on (every one pexc compiles)
FIT_MODELS = ["hello_world_int8", "hello_world_float", "kws_ds_cnn_int8", "ic_resnet8_int8", "ad_autoencoder_int8",
              "micro_speech_int8", "vww_96_int8", "person_detect_int8", "sww_int8", "mnist_lstm_int8",
              "micro_speech_preproc_int8"]


def _run(cmd, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=600, **kw)
    if r.returncode:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr[-2000:]))
    return r.stdout


def runtime_sources():
    return sorted(f for f in os.listdir(RT_SRC) if f.endswith((".c", ".h"))) + sorted(
        "include/" + f for f in os.listdir(RT_INC) if f.endswith(".h"))


def source_hashes():
    """[(path relative to runtime/src or 'include/...', sha256)]: what the table was measured from."""
    out = []
    for f in runtime_sources():
        p = os.path.join(RT_INC, f[8:]) if f.startswith("include/") else os.path.join(RT_SRC, f)
        with open(p, "rb") as fh:
            out.append((f, hashlib.sha256(fh.read()).hexdigest()))
    return out


def flags(target):
    return TARGETS[target].split() + COMMON.split()


# ---- one object: sections, symbols, relocations -----------------------------------

def read_object(obj):
    """{section name: size}, {symbol: section name} (defined ones), {section: set of symbols it refers to}."""
    sections = {}
    for line in _run([READELF, "-S", "-W", obj]).splitlines():
        m = re.match(r"\s*\[\s*(\d+)\]\s+(\S+)\s+\S+\s+[0-9a-f]+\s+[0-9a-f]+\s+([0-9a-f]+)", line)
        if m:
            sections[int(m.group(1))] = (m.group(2), int(m.group(3), 16))
    syms = {}
    for line in _run([READELF, "-s", "-W", obj]).splitlines():
        t = line.split()
        if len(t) >= 7 and t[0].endswith(":") and t[6].isdigit() and t[3] in ("FUNC", "OBJECT", "SECTION"):
            name = t[7] if len(t) > 7 else ""
            sec = sections.get(int(t[6]), ("?", 0))[0]
            if t[3] == "SECTION":
                name = sec
            syms.setdefault(name, sec)
    refs, cur = {}, None
    for line in _run([READELF, "-r", "-W", obj]).splitlines():
        m = re.match(r"Relocation section '\.rel(\S+)'", line)
        if m:
            cur = refs.setdefault(m.group(1), set())
            continue
        t = line.split()
        if cur is not None and len(t) >= 5 and t[2].startswith("R_ARM_"):
            cur.add(t[4])
    return {n: s for n, s in sections.values()}, syms, refs


def read_su(path):
    """{function: frame bytes}; a frame that is not 'static' is refused."""
    out = {}
    with open(path) as f:
        for line in f:
            loc, n, kind = line.rstrip("\n").split("\t")
            if kind != "static":
                raise RuntimeError("%s: %s has a %s frame (VLA or alloca): no stack bound" % (path, loc, kind))
            out[loc.rsplit(":", 1)[1]] = int(n)
    return out


def frame_of(frames, fn, obj):
    """fn's frame; -fstack-usage names a clone "f.isra" where its section says "f.isra.0"."""
    for name in (fn, re.sub(r"\.\d+$", "", fn)):
        if name in frames:
            return frames[name]
    raise RuntimeError("%s: no -fstack-usage entry for %s" % (obj, fn))


def kept(sec):
    return sec.startswith((".text", ".rodata"))


# ---- the C library's functions ----------------------------------------------------

def library_nodes(target, names, tmp):
    """{name: (bytes, frame, [callees])} for the library functions named and
    whatever they call, from a probe program linked with newlib-nano."""
    probe = os.path.join(tmp, "probe.c")
    with open(probe, "w") as f:
        f.write("int main(void) { return 0; }\n")
    elf = os.path.join(tmp, "probe_%s.elf" % target)
    undef = sum((["-Wl,-u," + n] for n in sorted(names)), [])
    _run([CC] + TARGETS[target].split() + ["-O2", "--specs=nano.specs", "--specs=nosys.specs", "-Wl,--gc-sections"]
         + undef + [probe, "-o", elf, "-lm"])
    sizes, addr = {}, {}
    for line in _run([NM, "-S", elf]).splitlines():
        t = line.split()
        if len(t) == 4 and t[2] in "tTwW":
            sizes[t[3]] = int(t[1], 16)
            addr[t[3]] = t[0]
    frames, calls, cur, last = {}, {}, None, ("", "")
    for line in _run([OBJDUMP, "-d", "--no-show-raw-insn", elf]).splitlines():
        m = re.match(r"[0-9a-f]+ <([^>]+)>:$", line)
        if m:
            # an entry whose code runs on into the next (__aeabi_dsub into
            # __adddf3) reaches whatever that one does
            if cur is not None and not _ends(last):
                calls[cur].add(m.group(1))
            cur, last = m.group(1), ("", "")
            frames[cur], calls[cur] = 0, set()
            continue
        if cur is None or "\t" not in line:
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            continue
        op, args = parts[1].strip(), (parts[2].strip() if len(parts) > 2 else "")
        if not op.startswith("."):  # a literal pool's .word is not code
            last = (op, args)
        op = op.split(".")[0]
        if op in ("push", "stmdb") and ("sp!" in args or op == "push"):
            regs = args[args.index("{") + 1:args.index("}")]
            frames[cur] += 4 * _count_regs(regs)
        elif op == "vpush":
            regs = args[args.index("{") + 1:args.index("}")]
            frames[cur] += (8 if "d" in regs else 4) * _count_regs(regs)
        elif op in ("sub", "subw") and re.match(r"sp,\s*(sp,\s*)?#", args):
            frames[cur] += int(re.search(r"#(\d+)", args).group(1))
        elif op.startswith("st") and re.search(r"\[sp,\s*#-(\d+)\]!", args):
            frames[cur] += int(re.search(r"\[sp,\s*#-(\d+)\]!", args).group(1))
        m = re.search(r"<([^>+]+)>", args)
        if op in ("bl", "b", "blx") and m and m.group(1) != cur:
            calls[cur].add(m.group(1))
    out, todo = {}, list(names)
    while todo:
        n = todo.pop()
        if n in out:
            continue
        if n not in frames:
            # objdump labels an address with one of its names: __aeabi_dadd
            # is __adddf3's other name (libgcc's soft double, pexc_mathf.c)
            same = [a for a in frames if a != n and n in addr and addr.get(a) == addr[n]]
            if same:
                out[n] = (0, 0, [same[0]])  # its bytes are counted once, there
                todo.append(same[0])
                continue
            raise RuntimeError("%s: library function %s not found in the probe link" % (target, n))
        out[n] = (sizes.get(n, 0), frames[n], sorted(c for c in calls[n] if c in frames))
        todo.extend(out[n][2])
    return out


def _ends(insn):
    """Does the instruction leave the function for good (return or jump)?"""
    op, args = insn
    op = op.split(".")[0]
    return (op in ("b", "bx") or (op in ("pop", "ldmia", "ldm") and "pc" in args)
            or (op == "ldr" and args.startswith("pc")))


def _count_regs(s):
    n = 0
    for part in s.split(","):
        part = part.strip()
        if "-" in part:
            a, b = part.split("-")
            n += int(re.sub(r"\D", "", b)) - int(re.sub(r"\D", "", a)) + 1
        elif part:
            n += 1
    return n


# ---- the graph of one target ------------------------------------------------------

def measure_target(target, tmp):
    """(nodes, edges): nodes [name, bytes, own frame]; edges {node index: set of node indices}."""
    d = os.path.join(tmp, target)
    os.makedirs(d, exist_ok=True)
    files = sorted(f for f in os.listdir(RT_SRC) if f.endswith(".c"))

    def compile_one(f):
        obj = os.path.join(d, f[:-2] + ".o")
        _run([CC] + flags(target) + ["-fstack-usage", "-I" + RT_INC, "-I" + RT_SRC, "-c",
                                     os.path.join(RT_SRC, f), "-o", obj], cwd=d)
        return f, obj

    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        objs = list(pool.map(compile_one, files))
    nodes, index, refs_of, global_sec, local = [], {}, {}, {}, {}
    for f, obj in objs:
        sections, syms, refs = read_object(obj)
        frames = read_su(obj[:-2] + ".su")
        for sec, size in sections.items():
            if kept(sec) and size:
                key = (f, sec)
                fn = sec[len(".text."):] if sec.startswith(".text.") else None
                index[key] = len(nodes)
                nodes.append([f + ":" + sec, size, frame_of(frames, fn, obj) if fn else 0])
                refs_of[key] = refs.get(sec, set())
        gl = _run([NM, "-g", "--defined-only", obj]).split()
        for name, sec in syms.items():
            local[(f, name)] = sec
            if name in gl:
                global_sec[name] = (f, sec)
        for (ff, sec) in list(index):
            if ff == f and sec.startswith(".text.") and sec[6:] in global_sec and global_sec[sec[6:]] == (f, sec):
                nodes[index[(f, sec)]][0] = sec[6:]  # a kernel entry point: found by its name
    libs = set()
    resolved = {}
    for key, rs in refs_of.items():
        f = key[0]
        out = set()
        for r in rs:
            if (f, r) in local and (f, local[(f, r)]) in index:
                out.add(("obj", (f, local[(f, r)])))
            elif r in global_sec and global_sec[r] in index:
                out.add(("obj", global_sec[r]))
            elif (f, r) in index:
                out.add(("obj", (f, r)))
            elif (f, r) in local or r.startswith("."):
                continue  # a section of no size (an empty .bss or .data)
            else:
                libs.add(r)
                out.add(("lib", r))
        resolved[key] = out
    lib = library_nodes(target, libs, tmp)
    for n in sorted(lib):
        index[("lib", n)] = len(nodes)
        nodes.append(["lib:" + n, lib[n][0], lib[n][1]])
    edges = {}
    for key, out in resolved.items():
        edges[index[key]] = sorted(index[k if kind == "obj" else ("lib", k)] for kind, k in out)
    for n, (_, _, callees) in lib.items():
        edges[index[("lib", n)]] = sorted(index[("lib", c)] for c in callees)
    for n in nodes:
        if n[0].endswith((":.data", ":.bss")) or ":.data." in n[0] or ":.bss." in n[0]:
            raise RuntimeError("%s: runtime kernels must keep no writable static data" % n[0])
    return nodes, edges


def worst_stacks(nodes, edges):
    """Per node: own frame + the deepest path below it (recursion refused)."""
    memo, busy = {}, set()

    def ws(i):
        if i in memo:
            return memo[i]
        if i in busy:
            if nodes[i][0].startswith("lib:"):
                # a branch back between libgcc entry points sharing one body
                # (cdcmpeq / cdcmple), not a call: its frame is counted once
                return 0
            raise RuntimeError("recursion through %s: no stack bound" % nodes[i][0])
        busy.add(i)
        below = max([ws(j) for j in edges.get(i, []) if j != i] or [0])
        busy.discard(i)
        memo[i] = nodes[i][2] + below
        return memo[i]

    return [ws(i) for i in range(len(nodes))]


# ---- the generated NAME.c ------------------------------------------------------------

def fit_model_code(target, tmp):
    """(fixed bytes, bytes per step body, largest miss, run frame bytes, models used):
    NAME.c's code (its .text sections, -O2, the target's flags) against the
    number of distinct step bodies the header states."""
    rows, frame = [], 0
    for name in FIT_MODELS:
        model = os.path.join(MODELS, name + ".tflite")
        if not os.path.exists(model):
            continue
        d = os.path.join(tmp, "fit_%s_%s" % (target, name))
        r = subprocess.run([PEXC, "compile", model, "-o", d, "--target", target], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=600)
        if r.returncode:
            continue
        with open(os.path.join(d, name + ".h")) as f:
            bodies = int(re.search(r"\((\d+) distinct step bod", f.read()).group(1))
        obj = os.path.join(d, name + ".o")
        _run([CC] + flags(target) + ["-fstack-usage", "-I" + d, "-c", os.path.join(d, name + ".c"), "-o", obj],
             cwd=d)
        sections, _, _ = read_object(obj)
        code = sum(s for n, s in sections.items() if n.startswith(".text"))
        fr = read_su(obj[:-2] + ".su")
        frame = max(frame, fr.get(name + "_run_io", 0) + fr.get(name + "_run", 0))
        rows.append((name, bodies, code))
    if len(rows) < 3:
        raise RuntimeError("%s: fewer than 3 real models compiled (build/pexc built? %s present?)" % (target, MODELS))
    n = len(rows)
    mx = sum(b for _, b, _ in rows) / n
    my = sum(c for _, _, c in rows) / n
    sxx = sum((b - mx) ** 2 for _, b, _ in rows)
    slope = sum((b - mx) * (c - my) for _, b, c in rows) / sxx if sxx else 0.0
    per = int(round(slope))
    base = int(round(my - per * mx))
    miss = max(abs(c - (base + per * b)) for _, b, c in rows)
    return base, per, miss, frame, [r[0] for r in rows]


# ---- the C table ------------------------------------------------------------------

def compiler_version():
    return _run([CC, "-dumpversion"]).strip()


def c_string(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def write_table(results, path=TABLE):
    lines = [
        "/* Generated by tools/kernel_sizes.py (make kernel-table): do not edit.",
        " * Per target: every function and constant of the runtime kernels as",
        " * arm-none-eabi-gcc %s builds them with the target's flags and" % compiler_version(),
        " * " + COMMON + ", with its size, its worst stack",
        " * (own frame and the deepest path below it) and the sections it refers to;",
        " * the library functions they call; and the fit of NAME.c's own code.",
        " * src/emit/figures.c reads it. */",
        "#include \"emit/figures.h\"",
        "",
        "const kt_source kt_sources[] = {",
    ]
    for f, h in source_hashes():
        lines.append("    {%s, %s}," % (c_string(f), c_string(h)))
    lines += ["};", "const int32_t kt_n_sources = (int32_t)(sizeof kt_sources / sizeof kt_sources[0]);", ""]
    for t, (nodes, edges, stacks, fit) in results.items():
        ident = t.replace("-", "_")
        flat, first = [], []
        for i in range(len(nodes)):
            first.append(len(flat))
            flat.extend(edges.get(i, []))
        lines.append("static const uint16_t kt_edges_%s[] = {" % ident)
        for k in range(0, len(flat), 16):
            lines.append("    " + ", ".join(str(v) for v in flat[k:k + 16]) + ",")
        if not flat:
            lines.append("    0,")
        lines.append("};")
        lines.append("static const kt_node kt_nodes_%s[] = {" % ident)
        for i, (name, size, _) in enumerate(nodes):
            lines.append("    {%s, %d, %d, %d, %d}," % (c_string(name), size, stacks[i], first[i],
                                                      len(edges.get(i, []))))
        lines.append("};")
        lines.append("")
    lines.append("const kt_target kt_targets[] = {")
    for t, (nodes, edges, stacks, fit) in results.items():
        ident = t.replace("-", "_")
        base, per, miss, frame, used = fit
        lines.append("    {%s, %s, %s, kt_nodes_%s, %d, kt_edges_%s, %d, %d, %d, %d, %d}," % (
            c_string(t), c_string("arm-none-eabi-gcc %s %s %s" % (compiler_version(), TARGETS[t], COMMON)),
            c_string(compiler_version()), ident, len(nodes), ident, base, per, miss, frame, len(used)))
    lines += ["};", "const int32_t kt_n_targets = (int32_t)(sizeof kt_targets / sizeof kt_targets[0]);", ""]
    with open(path, "w") as f:
        f.write("\n".join(lines))


def measure(targets):
    results = {}
    with tempfile.TemporaryDirectory(prefix="kernel_sizes_") as tmp:
        for t in targets:
            nodes, edges = measure_target(t, tmp)
            stacks = worst_stacks(nodes, edges)
            results[t] = (nodes, edges, stacks, fit_model_code(t, tmp))
    return results


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--write", action="store_true", help="write %s" % os.path.relpath(TABLE, ROOT))
    ap.add_argument("--target", action="append", choices=sorted(TARGETS), help="only these targets")
    args = ap.parse_args(argv)
    results = measure(args.target or list(TARGETS))
    for t, (nodes, edges, stacks, fit) in results.items():
        kern = sum(n[1] for n in nodes if not n[0].startswith("lib:"))
        print("%-11s %4d sections, %6d bytes of kernels; NAME.c code = %d + %d per step body (within %d bytes, "
              "%d models); NAME_run frames <= %d bytes" % (t, len(nodes), kern, fit[0], fit[1], fit[2],
                                                           len(fit[4]), fit[3]))
    if args.write:
        write_table(results)
        print("wrote %s" % os.path.relpath(TABLE, ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
