"""The generated header's code-flash and stack figures (issue 17) against a
firmware built and run on the emulated Cortex-M4.

- The table they come from (src/emit/kernel_table.c, tools/kernel_sizes.py)
  was measured from today's runtime sources: every SHA-256 in it matches.
- For real models, `pexc compile --target cortex-m4` states the kernels'
  code exactly: the .text and .rodata sections the linker keeps from the
  runtime objects of a firmware linked with --gc-sections (its map file)
  add up to the header's figure byte for byte; NAME.c's own code is within
  the fit's stated miss.
- The stack bound is at least what one NAME_run_io call took in that
  firmware (stack painted, high-water mark read back: tests/codegen/mcu_main.c)
  and not more than twice it plus 256 bytes.
- `pexc inspect --json` gives the same figures (cortex-m4 by default).
"""

import json
import os
import re
import subprocess
import sys

import pytest

import pexc_harness as H
import test_codegen as C

sys.path.insert(0, os.path.join(H.ROOT, "tools"))
import kernel_sizes as K  # noqa: E402

MODELS = ["ic_resnet8_int8", "kws_ds_cnn_int8", "hello_world_float"]
TABLE = os.path.join(H.ROOT, "src", "emit", "kernel_table.c")

needs_mcu = pytest.mark.skipif(not C._have_mcu(), reason="arm-none-eabi-gcc / qemu-system-arm not installed "
                               "(../shared/mcu/install-deps.sh)")


def _run(cmd, **kw):
    return subprocess.run([str(c) for c in cmd], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=600, **kw)


def test_table_matches_runtime_sources():
    with open(TABLE) as f:
        text = f.read()
    table = dict(re.findall(r'^\s*\{"([^"]+)", "([0-9a-f]{64})"\},$', text, re.M))
    now = dict(K.source_hashes())
    stale = sorted(f for f in set(table) | set(now) if table.get(f) != now.get(f))
    assert not stale, ("src/emit/kernel_table.c was measured from other runtime sources (%s): run "
                       "`make kernel-table`" % ", ".join(stale))
    for t in K.TARGETS:
        assert '{"%s", ' % t in text, t


def header_figures(h, name):
    """{code, kernels, library, model, within, stack, kernel_stack, frames, weights}."""
    one = re.sub(r"\s+", " ", re.sub(r"\n \*", " ", h))
    m = re.search(r"flash, code (\d+) bytes on cortex-m4: the kernels (\d+) \(exact\), the C library functions "
                  r"they call (\d+), %s\.c about (\d+) \(fit, within (\d+)\)" % name, one)
    s = re.search(r"stack (\d+) bytes at most for one %s_run\(\) call: the deepest kernel call path (\d+), "
                  r"%s_run and %s_run_io (\d+)" % (name, name, name), one)
    c = re.search(r"flash, constants (\d+) bytes", one)
    t = re.search(r"flash, schedule (\d+) bytes", one)
    assert m and s and c and t, "no code/stack figures in the header:\n" + h[:3000]
    keys = ["code", "kernels", "library", "model", "within"]
    out = dict(zip(keys, map(int, m.groups())))
    out.update(stack=int(s.group(1)), kernel_stack=int(s.group(2)), frames=int(s.group(3)),
               weights=int(c.group(1)) + int(t.group(1)))
    return out


def map_sections(path):
    """[(section, bytes, object)] the linker kept (after the map's 'Linker script and memory map')."""
    with open(path) as f:
        text = f.read()
    text = text[text.index("Linker script and memory map"):]
    return [(s, int(n, 16), o) for s, n, o in
            re.findall(r"^ (\.(?:text|rodata)\S*)\s+0x[0-9a-f]+\s+0x([0-9a-f]+)\s+(\S+\.o)$", text, re.M)]


@pytest.fixture(scope="module")
def pexc_cmd():
    if not H.pexc_available():
        pytest.skip("build/pexc not built")
    return H.PEXC


@needs_mcu
@pytest.mark.parametrize("model", MODELS)
def test_m4_code_and_stack(pexc_cmd, model, tmp_path):
    gen, objs, build = tmp_path / "gen", tmp_path / "obj", tmp_path / "fw"
    objs.mkdir()
    r = _run([pexc_cmd, "compile", H.shared_model(model), "-o", gen, "--target", "cortex-m4"])
    assert r.returncode == 0, r.stderr
    fig = header_figures((gen / (model + ".h")).read_text(), model)
    assert fig["code"] == fig["kernels"] + fig["library"] + fig["model"]
    assert fig["stack"] == fig["kernel_stack"] + fig["frames"]

    # model and kernels compiled as the header says, linked by mcu-run (--gc-sections)
    o_files = []
    for src in C.c_sources(gen):
        o = objs / (os.path.basename(src)[:-2] + ".o")
        r = _run(["arm-none-eabi-gcc"] + K.flags("cortex-m4") + ["-I" + str(gen), "-c", src, "-o", o])
        assert r.returncode == 0, r.stderr[-2000:]
        o_files.append(str(o))
    label, data, want = C.golden_inputs(model)[0]
    inp = C.write_input_c(tmp_path, data)
    r = _run([C.MCU_RUN, "-q", "-t", "120", "--heap", "0", "-b", build, "mps2-an386", C.MCU_MAIN, inp] + o_files
             + ["-I" + str(gen), "-DPEXC_MODEL=" + model, "-DPEXC_MACRO=" + model.upper()])
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    got = bytes.fromhex(re.search(r"^out ([0-9a-f]*)$", r.stdout, re.M).group(1))
    assert got == want, "%s.%s: the firmware's output is not the golden one" % (model, label)

    kept = map_sections(build / "prog.map")
    model_o = str(objs / (model + ".o"))
    kernels = sum(n for s, n, o in kept if o in o_files and o != model_o)
    own = sum(n for s, n, o in kept if o == model_o and s.startswith(".text"))
    assert kernels == fig["kernels"], "kernel code: header %d bytes, firmware %d" % (fig["kernels"], kernels)
    assert abs(own - fig["model"]) <= fig["within"], (
        "%s.c code: header about %d (within %d), firmware %d" % (model, fig["model"], fig["within"], own))

    used = int(re.search(r"^stack (\d+)$", r.stdout, re.M).group(1))
    base = int(re.search(r"^base (\d+)$", r.stdout, re.M).group(1))
    run = used - base
    print("%s: code %d bytes (kernels %d = firmware %d; %s.c about %d, firmware %d); stack bound %d, measured %d"
          % (model, fig["code"], fig["kernels"], kernels, model, fig["model"], own, fig["stack"], run))
    assert fig["stack"] >= run, "stack: bound %d bytes, the run took %d" % (fig["stack"], run)
    assert fig["stack"] <= 2 * run + 256, "stack: bound %d bytes is far above the %d measured" % (fig["stack"], run)


def test_inspect_json_gives_the_header_figures(pexc_cmd, tmp_path):
    model = "kws_ds_cnn_int8"
    r = _run([pexc_cmd, "compile", H.shared_model(model), "-o", tmp_path, "--target", "cortex-m4"])
    assert r.returncode == 0, r.stderr
    fig = header_figures((tmp_path / (model + ".h")).read_text(), model)
    js = H.inspect_json(H.shared_model(model))
    assert js["weight_flash_bytes"] == fig["weights"]
    assert js["code_flash_bytes"] == fig["code"]
    assert js["stack_bytes"] == fig["stack"]
    dev = js["device"]
    assert dev["target"] == "cortex-m4" and "-mcpu=cortex-m4" in dev["flags"]
    assert (dev["kernel_code_bytes"], dev["model_code_bytes"], dev["run_frame_bytes"]) == (
        fig["kernels"], fig["model"], fig["frames"])
    # another core: its own table, its own figures
    r = _run([pexc_cmd, "compile", H.shared_model(model), "-o", tmp_path / "m7", "--target", "cortex-m7"])
    assert r.returncode == 0, r.stderr
    h7 = (tmp_path / "m7" / (model + ".h")).read_text()
    assert "bytes on cortex-m7:" in h7 and "-mcpu=cortex-m7" in h7
    assert json.dumps(js)  # plain JSON
