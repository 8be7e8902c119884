#!/usr/bin/env python3
"""The operator coverage table, docs/operators.md, generated.

Every builtin operator TFLite Micro registers, with:

- the types TFLM's kernel accepts for it (tools/tflm_ops.json, written by
  `--scan-tflm DIR` from a TFLM source checkout: the kTfLite<Type> cases of
  each operator's kernel file, with the shared-file corrections listed in
  OVERRIDES below);
- whether pexc compiles it (`pexc ops --json`: the core lowering and the
  operator families answer from the code, with the reason when not);
- the types pexc is shown to compile it in: every model of tests/models/*
  that pexc accepts and that a conformance test compares with TFLM byte
  for byte (models listed as refused are not counted), by the type of the
  operator's first input;
- whether it streams (a row-streamed segment of a min-sram plan) or splits
  (a channel-split segment), seen in `pexc inspect --json` of those models.

    .venv/bin/python tools/op_coverage.py [--check]    # writes docs/operators.md
    .venv/bin/python tools/op_coverage.py --scan-tflm /path/to/tflite-micro
"""

import argparse
import json
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PEXC = os.environ.get("PEXC", os.path.join(ROOT, "build", "pexc"))
TFLM_JSON = os.path.join(HERE, "tflm_ops.json")
OUT = os.path.join(ROOT, "docs", "operators.md")
MODELS = os.path.join(ROOT, "tests", "models")

# Kernel files that hold several operators (elementwise.cc) or that name a
# type only in a comment: the types each operator's Prepare really accepts.
OVERRIDES = {
    "SIN": ["f32"], "COS": ["f32"], "LOG": ["f32"], "SQRT": ["f32"], "SQUARE": ["f32"],
    "LOGICAL_NOT": ["bool"], "LOGICAL_AND": ["bool"], "LOGICAL_OR": ["bool"],
    "ABS": ["f32", "i8", "i16"], "RSQRT": ["f32", "i8"], "NEG": ["f32"],
    "BROADCAST_ARGS": ["i32"],
    # type-agnostic data movement, state and control flow: any tensor type
    "RESHAPE": ["any"], "SQUEEZE": ["any"], "SHAPE": ["any"], "BROADCAST_TO": ["any"],
    "EXPAND_DIMS": ["any"], "WHILE": ["any"], "IF": ["any"], "CALL_ONCE": ["any"],
    "VAR_HANDLE": ["any"], "READ_VARIABLE": ["any"], "ASSIGN_VARIABLE": ["any"],
}
REG_NAMES = {"L2NORM_REF": "L2_NORMALIZATION"}
RESOURCE = 13  # schema TensorType.RESOURCE
TYPE_NAMES = {0: "f32", 2: "i32", 3: "u8", 4: "i64", 6: "bool", 7: "i16", 9: "i8"}


def scan_tflm(src):
    """{op: [types]} from a TFLM checkout's kernel registrations."""
    kdir = os.path.join(src, "tensorflow", "lite", "micro", "kernels")
    reg = re.compile(r"TFLMRegistration Register_([A-Z_0-9]+)\(\)")
    ops = {}
    for fn in sorted(os.listdir(kdir)):
        if not fn.endswith(".cc") or fn.endswith("_test.cc"):
            continue
        with open(os.path.join(kdir, fn)) as f:
            text = f.read()
        names = reg.findall(text)
        if not names:
            continue
        common = os.path.join(kdir, fn[:-3] + "_common.cc")
        if os.path.exists(common):
            with open(common) as f:
                text += f.read()
        types = [t for t, k in (("f32", "kTfLiteFloat32"), ("i8", "kTfLiteInt8"), ("i16", "kTfLiteInt16"))
                 if k in text]
        for n in names:
            n = REG_NAMES.get(n, n)
            ops[n] = OVERRIDES.get(n, types)
    return ops


def pexc_json(args):
    p = subprocess.run([PEXC] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
    return json.loads(p.stdout) if p.returncode == 0 else None


def refused_lists():
    out = set()
    for d in sorted(os.listdir(MODELS)):
        path = os.path.join(MODELS, d, "EXPECTED_REFUSED.txt")
        if os.path.exists(path):
            with open(path) as f:
                out |= {(d, ln.strip()) for ln in f if ln.strip() and not ln.startswith("#")}
    return out


def model_ops(path):
    """[(op name, type of input 0)] of a .tflite file."""
    sys.path.insert(0, HERE)
    from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as s
    with open(path, "rb") as f:
        m = s.ModelT.InitFromObj(s.Model.GetRootAsModel(f.read(), 0))
    names = {v: k for k, v in vars(s.BuiltinOperator).items() if not k.startswith("_")}
    g = m.subgraphs[0]
    res = []
    for op in g.operators:
        oc = m.operatorCodes[op.opcodeIndex]
        name = names.get(max(oc.builtinCode, oc.deprecatedBuiltinCode), "?")
        # the first input's type, or for resource-variable operators (a
        # RESOURCE handle first, or no inputs) the value's: the first
        # non-resource tensor among the inputs then the outputs
        # IF: the branches' values, not the bool condition in front of them
        ins = list(op.inputs)[1:] if name == "IF" else list(op.inputs)
        ts = [g.tensors[i].type for i in ins + list(op.outputs) if i >= 0]
        t = ts[0] if ts and ts[0] != RESOURCE else next((x for x in ts if x != RESOURCE), None)
        res.append((name, TYPE_NAMES.get(t, "?") if t is not None else "any"))
    return res


def evidence():
    """{op: {"types": set, "streams": bool, "splits": bool, "models": n}}."""
    refused = refused_lists()
    ev = {}
    for d in sorted(os.listdir(MODELS)):
        full = os.path.join(MODELS, d)
        if not os.path.isdir(full):
            continue
        for fn in sorted(os.listdir(full)):
            if not fn.endswith(".tflite") or (d, fn[:-7]) in refused or fn.endswith("_refused.tflite"):
                continue
            path = os.path.join(full, fn)
            info = pexc_json(["inspect", path, "--json", "--schedule", "min-sram"])
            if info is None:
                continue
            ops = model_ops(path)
            order = info.get("op_order", list(range(len(ops))))
            mode = {}
            for sg in info.get("segments", []):
                for pos in range(sg["first_op"], sg["last_op"] + 1):
                    if pos < len(order):
                        mode[order[pos]] = "rows" if "rows" in sg else "slices"
            for i, (name, t) in enumerate(ops):
                e = ev.setdefault(name, {"types": set(), "streams": False, "splits": False, "models": 0})
                e["types"].add(t)
                e["models"] += 1
                e["streams"] |= mode.get(i) == "rows"
                e["splits"] |= mode.get(i) == "slices"
    return ev


def table():
    with open(TFLM_JSON) as f:
        tflm = json.load(f)["ops"]
    pexc = {o["name"]: o for o in pexc_json(["ops", "--json"])}
    ev = evidence()
    rows, n8, s8 = [], 0, 0
    for name in sorted(tflm):
        if name not in pexc:
            continue  # registered by TFLM but not a builtin of the schema (a custom operator)
        types = tflm[name]
        int8 = "i8" in types or "any" in types
        p = pexc.get(name, {"supported": False})
        e = ev.get(name)
        shown = sorted(e["types"]) if e else []
        if int8:
            n8 += 1
            s8 += bool(p["supported"])
        where = []
        if e and e["streams"]:
            where.append("streams")
        if e and e["splits"]:
            where.append("splits")
        note = p.get("reason", "") if not p["supported"] else ""
        if not p["supported"] and not note:
            note = "not implemented yet"
        rows.append("| %s | %s | %s | %s | %s | %s |" % (
            name, ", ".join(types) or "-", "yes" if p["supported"] else "**no**",
            ", ".join(shown) if shown else "-", ", ".join(where) or "-", note))
    head = [
        "# Operator coverage",
        "",
        "Generated by `tools/op_coverage.py` from the code (`pexc ops --json`: the",
        "core lowering and the operator families, with the reason for each operator",
        "left out), from the conformance models under tests/models (the types pexc",
        "is shown byte-identical to TFLM in, and whether min-sram plans stream or",
        "split the operator there) and from TFLM's kernel sources",
        "(tools/tflm_ops.json). Do not edit by hand.",
        "",
        "**%d of the %d TFLM builtin operators that take int8 tensors compile in pexc (%.1f %%).**"
        % (s8, n8, 100.0 * s8 / max(n8, 1)),
        "",
        "| operator | TFLM types | pexc | tested types (byte-identical to TFLM) | in min-sram plans | why not |",
        "|---|---|---|---|---|---|",
    ]
    return "\n".join(head + rows) + "\n", s8, n8


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scan-tflm", metavar="DIR")
    ap.add_argument("--check", action="store_true", help="fail if docs/operators.md is out of date")
    args = ap.parse_args()
    if args.scan_tflm:
        ops = scan_tflm(args.scan_tflm)
        with open(TFLM_JSON, "w") as f:
            json.dump({"source": "tensorflow/lite/micro/kernels of TFLM, scanned by tools/op_coverage.py",
                       "ops": ops}, f, indent=1, sort_keys=True)
        print("%d TFLM operators -> %s" % (len(ops), TFLM_JSON))
        return
    text, s8, n8 = table()
    if args.check:
        with open(OUT) as f:
            if f.read() != text:
                sys.exit("docs/operators.md is out of date: run tools/op_coverage.py")
        return
    with open(OUT, "w") as f:
        f.write(text)
    print("%d of %d int8 TFLM operators -> %s" % (s8, n8, OUT))


if __name__ == "__main__":
    main()
