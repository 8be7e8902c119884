"""Resource variables (VAR_HANDLE, READ_VARIABLE, ASSIGN_VARIABLE) and their
CALL_ONCE init subgraphs: pexc against TFLite Micro, byte for byte, on the
converter-made models of tests/models/resvar (tools/gen_models_resvar.py).

- each input after a Reset(), as the conformance harness runs TFLM: the first
  run starts from CALL_ONCE's initial value, later ones from the zero point
  TFLM's Reset() fills in (it does not rerun CALL_ONCE); both schedules;
- state carried across runs (pexc run --keep-state) against one TFLM
  interpreter invoked repeatedly without Reset(), both schedules;
- the generated C, built with -Werror, run as a stream, reset, run again;
- refusals: init subgraphs that compute, variables assigned two shapes,
  subgraphs CALL_ONCE does not name.
"""

import os
import subprocess

import pytest

import pexc_harness as H

RESVAR_DIR = os.path.join(H.ROOT, "tests", "models", "resvar")
SCHEDULES = ["baseline", "min-sram"]

pytestmark = pytest.mark.skipif(not H.pexc_available(), reason="build/pexc is not built")


def models():
    if not os.path.isdir(RESVAR_DIR):
        return []
    return sorted(f[:-7] for f in os.listdir(RESVAR_DIR) if f.endswith(".tflite"))


def model_path(name):
    return os.path.join(RESVAR_DIR, name + ".tflite")


def ref_of(name, reset_between=True):
    if not H.tflm_ref.available():
        pytest.skip("tflite-micro is not importable")
    return H.tflm_ref.TflmModel(model_path(name), reset_between=reset_between)


@pytest.mark.parametrize("model", models())
def test_live_tflm_with_reset(model):
    ref = ref_of(model)
    H.check_matches_tflm(model_path(model), ref, H.conformance_inputs(ref, 5, 0, model), model, SCHEDULES)


@pytest.mark.parametrize("model", models())
def test_state_carries_over(model):
    H.check_state_carries(model_path(model), lambda: ref_of(model, reset_between=False), model)


# ---- generated C ---------------------------------------------------------------

# Runs N inputs as one stream, resets, runs them again: TFLM's first Invoke()
# runs CALL_ONCE, its Reset() fills the zero point and does not rerun it.
DRIVER = r"""
#include <stdio.h>
#include <stdlib.h>
#include "m.h"
int main(int argc, char **argv) {
    if (argc != 4) return 1;
    static unsigned char in[M_INPUT0_BYTES], out[M_OUTPUT0_BYTES];
    int n = atoi(argv[1]);
    FILE *fi = fopen(argv[2], "rb"), *fo = fopen(argv[3], "wb");
    if (!fi || !fo) return 1;
    for (int pass = 0; pass < 2; pass++) {
        rewind(fi);
        for (int i = 0; i < n; i++) {
            const void *ins[1] = {in};
            void *outs[1] = {out};
            if (fread(in, 1, sizeof in, fi) != sizeof in) return 1;
            if (m_run_io(ins, outs)) return 2;
            fwrite(out, 1, sizeof out, fo);
        }
        m_reset();
    }
    return fclose(fo) != 0;
}
"""


@pytest.mark.parametrize("model", ["ema_int8", "counter_f32"])
def test_generated_c_builds_and_matches(model, tmp_path):
    out = tmp_path / "gen"
    r = subprocess.run([H.PEXC, "compile", model_path(model), "-o", str(out), "--name", "m"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert r.returncode == 0, r.stderr.decode()
    (tmp_path / "driver.c").write_text(DRIVER)
    srcs = sorted(str(out / f) for f in os.listdir(out) if f.endswith(".c"))
    exe = str(tmp_path / "run")
    r = H.cc_build(["gcc", "-std=c11", "-O2", "-Wall", "-Wextra", "-Werror", "-ffp-contract=off",
                    "-I" + str(out), str(tmp_path / "driver.c")] + srcs + ["-o", exe, "-lm"])
    assert r.returncode == 0, r.stderr.decode()[-3000:]
    ref = ref_of(model, reset_between=False)
    items = H.conformance_inputs(ref, 4, 7, model)
    want = [ref.run(d) for _, d in items]
    ref.reset()
    want += [ref.run(d) for _, d in items]
    inp, res = tmp_path / "in.bin", tmp_path / "out.bin"
    inp.write_bytes(b"".join(d for _, d in items))
    r = subprocess.run([exe, str(len(items)), str(inp), str(res)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert r.returncode == 0, r.stderr.decode()
    got = res.read_bytes()
    n = ref.output_nbytes
    for i, w in enumerate(want):
        why = H.describe_mismatch(w, got[i * n:(i + 1) * n], ref.output_dtype)
        assert why is None, "generated C of %s, run %d: %s" % (model, i, why)


# ---- refusals ---------------------------------------------------------------

def _patched(name, edit, tmp_path):
    """A copy of a model of this family with edit applied."""
    return H.patched_model(model_path(name), edit, tmp_path / ("%s_patched.tflite" % name), pass_schema=True)


def _refusal(path):
    return H.refusal_line(path)


def _code(m, s, name):
    return [i for i, c in enumerate(m.operatorCodes)
            if max(c.builtinCode, c.deprecatedBuiltinCode) == getattr(s.BuiltinOperator, name)][0]


def test_refuses_init_value_that_is_not_constant(tmp_path):
    def edit(m, s):
        sg = m.subgraphs[1]
        op = [o for o in sg.operators if o.opcodeIndex == _code(m, s, "ASSIGN_VARIABLE")][0]
        sg.tensors[op.inputs[1]].buffer = 0
    line = _refusal(_patched("ema_f32", edit, tmp_path))
    assert "init subgraph 1" in line and "ASSIGN_VARIABLE" in line and "not a constant" in line


def test_refuses_other_operators_in_init_subgraph(tmp_path):
    def edit(m, s):
        for o in m.subgraphs[1].operators:
            if o.opcodeIndex == _code(m, s, "ASSIGN_VARIABLE"):
                o.opcodeIndex = _code(m, s, "MUL")
    line = _refusal(_patched("ema_f32", edit, tmp_path))
    assert "init subgraph 1" in line and "MUL" in line and "compile time" in line


def test_refuses_variable_assigned_two_shapes(tmp_path):
    def edit(m, s):
        # counter_f32 assigns n ([1]) then acc ([1,3,4]): give acc's value to n
        ops = [o for o in m.subgraphs[0].operators if o.opcodeIndex == _code(m, s, "ASSIGN_VARIABLE")]
        ops[0].inputs = [int(ops[0].inputs[0]), int(ops[1].inputs[1])]
    line = _refusal(_patched("counter_f32", edit, tmp_path))
    assert "ASSIGN_VARIABLE" in line and "one shape per variable" in line


def test_refuses_subgraph_not_called_once(tmp_path):
    def edit(m, s):
        m.subgraphs[0].operators = [o for o in m.subgraphs[0].operators
                                    if o.opcodeIndex != _code(m, s, "CALL_ONCE")]
    line = _refusal(_patched("ema_f32", edit, tmp_path))
    assert "subgraph 1 is not a CALL_ONCE init subgraph" in line


def test_refuses_variable_never_assigned(tmp_path):
    # what Keras 3 models wrapped in a tf.function convert to: variables
    # read with no CALL_ONCE and no assignment, which TFLM reads from a
    # buffer it never allocated
    def edit(m, s):
        for sg in m.subgraphs:
            sg.operators = [o for o in sg.operators if o.opcodeIndex != _code(m, s, "ASSIGN_VARIABLE")]
    line = _refusal(_patched("ema_f32", edit, tmp_path))
    assert "READ_VARIABLE" in line and "never assigned" in line
