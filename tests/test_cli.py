"""The pexc command line: the conventions users expect (issue 17).

Fast: small models from tests/models/gen, no TFLM.
"""

import os
import re
import subprocess

import pytest

import pexc_harness as H

pytestmark = pytest.mark.skipif(not H.pexc_available(), reason="pexc is not built")

MODEL = os.path.join(H.GEN_DIR, "block_tiny_cnn.tflite")  # baseline 2560 B, min-sram 720 B, input 256 B
IN_BYTES = 256


def pexc(*args, stdin=None):
    return subprocess.run([H.PEXC] + [str(a) for a in args], input=stdin, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=120)


def one_line(r):
    err = r.stderr.decode()
    assert len(err.strip().splitlines()) == 1, "expected one line on stderr, got:\n" + err
    return err


# ---- input sizes --------------------------------------------------------------

@pytest.mark.parametrize("batch", [1, 2])
def test_too_long_input_reports_its_real_size(tmp_path, batch):
    big = tmp_path / "big.bin"
    big.write_bytes(bytes(100000))
    r = pexc("run", MODEL, "--input", big, "--batch", batch)
    assert r.returncode == 1
    err = one_line(r)
    assert "100000 bytes, expected %d" % (IN_BYTES * batch) in err, err


def test_too_long_stdin_reports_its_real_size():
    r = pexc("run", MODEL, "--input", "-", stdin=bytes(100000))
    assert r.returncode == 1
    assert "stdin: 100000 bytes, expected 256" in one_line(r)


# ---- --sram -----------------------------------------------------------------------

@pytest.mark.parametrize("size,ok", [("65536", True), ("64K", True), ("64k", True), ("64KiB", True),
                                     ("1M", True), ("1MiB", True)])
def test_sram_sizes_accepted(size, ok):
    r = pexc("inspect", MODEL, "--json", "--sram", size)
    assert r.returncode == 0, r.stderr.decode()


def test_sram_units_are_1024_based():
    # 2K = 2048 is below the baseline's 2560, 3K = 3072 above it
    two = pexc("inspect", MODEL, "--sram", "2K").stdout.decode()
    three = pexc("inspect", MODEL, "--sram", "3KiB").stdout.decode()
    assert re.search(r"^schedule min-sram: ", two, re.M), two
    assert re.search(r"^schedule baseline: ", three, re.M), three


@pytest.mark.parametrize("size", ["999999999999999", str(2 ** 64), "4097M", "4194305K"])
def test_sram_overflow_refused(size):
    r = pexc("inspect", MODEL, "--sram", size)
    assert r.returncode == 2
    assert "more than 4 GiB" in one_line(r)


@pytest.mark.parametrize("size", ["1.5K", "0x1000", "1e4", "0", "-5", "", "64KB", "K"])
def test_sram_not_a_size_refused_naming_the_forms(size):
    r = pexc("inspect", MODEL, "--sram", size)
    assert r.returncode == 2
    err = one_line(r)
    for form in ("65536", "64K", "KiB", "MiB"):
        assert form in err, err


def test_compile_sram_same_parser(tmp_path):
    assert pexc("compile", MODEL, "-o", tmp_path / "a", "--sram", "1.5K").returncode == 2
    assert pexc("compile", MODEL, "-o", tmp_path / "b", "--sram=64KiB").returncode == 0


# ---- help, version, option forms, stdin/stdout ------------------------------------

@pytest.mark.parametrize("cmd", ["inspect", "run", "compile"])
def test_help_per_command(cmd):
    for argv in ([cmd, "--help"], [cmd, "-h"], ["help", cmd], [cmd, MODEL, "--help"]):
        r = pexc(*argv)
        assert r.returncode == 0, (argv, r.stderr.decode())
        out = r.stdout.decode()
        assert out.startswith("usage: pexc %s MODEL" % cmd), (argv, out)
        assert not r.stderr


def test_help_and_version():
    r = pexc("--help")
    assert r.returncode == 0 and b"inspect" in r.stdout and b"compile" in r.stdout
    for flag in ("--version", "-V"):
        r = pexc(flag)
        assert r.returncode == 0 and re.match(rb"pexc \d+\.\d+\.\d+\n$", r.stdout), r.stdout
    assert pexc("help", "frobnicate").returncode == 2


def test_help_lists_every_schedule_and_target():
    text = pexc("--help").stdout.decode()
    for word in ("baseline", "channels", "min-sram", "host", "cortex-m4", "cortex-m7", "cortex-m33",
                 "cortex-m55", "--arena"):
        assert word in text, word
    for cmd in ("inspect", "run", "compile"):
        sub = pexc("help", cmd).stdout.decode()
        for word in ("baseline", "channels", "min-sram"):
            assert word in sub, (cmd, word)


def test_usage_md_agrees_with_help():
    with open(os.path.join(H.ROOT, "docs", "usage.md")) as f:
        doc = f.read()
    for cmd in ("inspect", "run", "compile"):
        sub = pexc("help", cmd).stdout.decode()
        opts = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", sub))
        doc_opts = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", doc))
        assert opts <= doc_opts, "%s: options in --help but not in docs/usage.md: %s" % (cmd, opts - doc_opts)
    for word in ("baseline", "channels", "min-sram", "cortex-m55", "KiB", "MiB", "--arena"):
        assert word in doc, word


def test_equals_form_for_every_option(tmp_path):
    inp, out = tmp_path / "in.bin", tmp_path / "out.bin"
    inp.write_bytes(bytes(range(256)) * 2)
    r = pexc("run", MODEL, "--input=%s" % inp, "--output=%s" % out, "--batch=2", "--schedule=channels",
             "--sram=64K", "--dump-dir=%s" % (tmp_path / "dump"))
    assert r.returncode == 0, r.stderr.decode()
    spaced = tmp_path / "out2.bin"
    r = pexc("run", MODEL, "--input", inp, "--output", spaced, "--batch", "2", "--schedule", "channels")
    assert r.returncode == 0 and out.read_bytes() == spaced.read_bytes()
    r = pexc("inspect", MODEL, "--json", "--schedule=baseline", "--svg=%s" % (tmp_path / "m.svg"))
    assert r.returncode == 0 and (tmp_path / "m.svg").stat().st_size > 0
    r = pexc("compile", MODEL, "--output=%s" % (tmp_path / "g"), "--name=net", "--target=cortex-m4",
             "--schedule=min-sram", "--arena=caller")
    assert r.returncode == 0, r.stderr.decode()
    assert (tmp_path / "g" / "net.h").exists()
    assert pexc("run", MODEL, "--batch").returncode == 2  # a value is missing


def test_stdin_and_stdout(tmp_path):
    data = bytes((i * 7) & 0xFF for i in range(IN_BYTES))
    inp, out = tmp_path / "in.bin", tmp_path / "out.bin"
    inp.write_bytes(data)
    assert pexc("run", MODEL, "--input", inp, "--output", out).returncode == 0
    r = pexc("run", MODEL, "--input", "-", "--output", "-", stdin=data)
    assert r.returncode == 0, r.stderr.decode()
    assert r.stdout == out.read_bytes()


# ---- the schedule named is the schedule chosen -------------------------------------

def header_schedule(text):
    m = re.search(r"^schedule (\S+):", text, re.M)
    assert m, text
    return m.group(1)


def test_budget_that_keeps_the_baseline_says_baseline(tmp_path):
    r = pexc("inspect", MODEL, "--sram", "64K")
    assert header_schedule(r.stdout.decode()) == "baseline"
    r = pexc("inspect", MODEL, "--sram", "64K", "--json")
    assert '"schedule": "baseline"' in r.stdout.decode()
    r = pexc("compile", MODEL, "-o", tmp_path, "--sram", "64K", "--name", "m")
    assert r.returncode == 0
    head = (tmp_path / "m.h").read_text()
    assert "Schedule: baseline," in head and "min-sram" not in head
    # a budget that needs streaming says min-sram
    assert header_schedule(pexc("inspect", MODEL, "--sram", "1K").stdout.decode()) == "min-sram"


def test_baseline_with_budget_is_honoured_or_refused(tmp_path):
    r = pexc("inspect", MODEL, "--schedule", "baseline", "--sram", "3K")
    assert r.returncode == 0 and header_schedule(r.stdout.decode()) == "baseline"
    for argv in (["inspect", MODEL], ["run", MODEL], ["compile", MODEL, "-o", tmp_path / "x"]):
        r = pexc(*argv, "--schedule", "baseline", "--sram", "2K")
        assert r.returncode == 1, argv
        err = one_line(r)
        assert "2048" in err and "baseline" in err and "2560" in err, err
    assert not (tmp_path / "x").exists()


def test_channels_with_budget_stays_channels():
    r = pexc("inspect", MODEL, "--schedule", "channels", "--sram", "2K")
    assert r.returncode == 0, r.stderr.decode()
    assert header_schedule(r.stdout.decode()) == "channels"
    assert "0 streamed segments" in r.stdout.decode()


def test_bottleneck_names_one_number():
    r = pexc("inspect", MODEL, "--sram", "500")
    assert r.returncode == 1
    err = one_line(r)
    assert "below the least peak" in err and "bottleneck" in err
    least = re.search(r"least peak pexc reaches, (\d+) bytes", err)
    assert least, err
    # the totals in the message: the budget and the least peak, nothing else
    totals = re.findall(r"(\d+) (?:live )?bytes", err)
    assert totals == ["500", least.group(1)], err
    assert "live bytes" not in err
    assert re.search(r"step \d+ \(op \d+ [A-Z_0-9]+\)", err), err


# ---- files and directories ----------------------------------------------------------

def test_svg_unwritable_fails_before_printing(tmp_path):
    for bad in (tmp_path / "missing" / "m.svg", tmp_path):
        r = pexc("inspect", MODEL, "--svg", bad)
        assert r.returncode == 1
        assert r.stdout == b"", "printed the schedule before failing"
        assert "SVG" in one_line(r)


def test_dump_dir_is_created(tmp_path):
    d = tmp_path / "a" / "b"
    r = pexc("run", MODEL, "--dump-dir", d)
    assert r.returncode == 0, r.stderr.decode()
    assert any(p.suffix == ".bin" for p in d.iterdir())
    f = tmp_path / "file"
    f.write_text("x")
    r = pexc("run", MODEL, "--dump-dir", f / "sub")
    assert r.returncode == 1 and "dump directory" in one_line(r)


def test_directories_are_named(tmp_path):
    for argv in (["run", tmp_path], ["inspect", tmp_path], ["compile", tmp_path, "-o", tmp_path / "o"]):
        r = pexc(*argv)
        assert r.returncode == 1, argv
        assert "is a directory" in one_line(r)
    r = pexc("run", MODEL, "--input", tmp_path)
    assert r.returncode == 1 and "is a directory" in one_line(r)
    r = pexc("run", MODEL, "--output", tmp_path)
    assert r.returncode == 1 and "is a directory" in one_line(r)


# ---- generated code conventions -------------------------------------------------------

def test_macros_upper_case_functions_keep_the_name(tmp_path):
    r = pexc("compile", MODEL, "-o", tmp_path, "--name", "net")
    assert r.returncode == 0, r.stderr.decode()
    h = (tmp_path / "net.h").read_text()
    for macro in ("NET_ARENA_BYTES", "NET_INPUT_BYTES", "NET_OUTPUT_BYTES", "NET_NUM_INPUTS", "NET_INPUT0_BYTES"):
        assert re.search(r"#define %s \w+" % macro, h), macro
    assert not re.search(r"#define net_", h)
    assert "int net_run(const void *input, void *output);" in h
    assert "#ifndef NET_H" in h
    c = (tmp_path / "net.c").read_text()
    assert "static uint8_t net_arena[NET_ARENA_BYTES]" in c


def test_arena_caller(tmp_path):
    r = pexc("compile", MODEL, "-o", tmp_path, "--name", "Net", "--arena", "caller")
    assert r.returncode == 0, r.stderr.decode()
    h = (tmp_path / "Net.h").read_text()
    assert "int Net_run(void *arena, const void *input, void *output);" in h
    assert "int Net_run_io(void *arena, const void *const *inputs, void *const *outputs);" in h
    assert "#define NET_ARENA_ALIGN 16" in h
    c = (tmp_path / "Net.c").read_text()
    assert "static uint8_t Net_arena" not in c
    assert pexc("compile", MODEL, "-o", tmp_path, "--arena", "heap").returncode == 2


def test_header_figures_and_cmake(tmp_path):
    r = pexc("compile", MODEL, "-o", tmp_path, "--name", "net", "--target", "cortex-m4")
    assert r.returncode == 0, r.stderr.decode()
    h = (tmp_path / "net.h").read_text()
    j = pexc("inspect", MODEL, "--json").stdout.decode()
    peak = int(re.search(r'"peak_sram_bytes": (\d+)', j).group(1))
    assert re.search(r"SRAM, activations\s+%d bytes" % peak, h), h[:1500]
    assert re.search(r"flash, constants\s+\d+ bytes", h)
    assert re.search(r"flash, schedule\s+\d+ bytes", h)
    # the header names the plan inspect reports (the default rule may keep
    # the baseline where the least peak costs more than it allows)
    sched = re.search(r'"schedule": "([a-z-]+)"', j).group(1)
    assert "Schedule: %s," % sched in h
    cm = (tmp_path / "CMakeLists.txt").read_text()
    assert "add_library(net STATIC net.c" in cm
    srcs = re.search(r"add_library\(net STATIC ([^)]*)\)", cm).group(1).split()
    assert sorted(srcs) == sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".c")
    assert "-ffp-contract=off" in cm and "C_STANDARD 11" in cm
