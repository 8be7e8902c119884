"""Control flow (WHILE, IF): pexc against TFLite Micro, byte for byte, on the
converter-made models of tests/models/control (tools/gen_models_control.py).

pexc writes a WHILE out once per iteration, an IF on a constant as its
taken branch, and an IF on data as both branches and a SELECT_V2 of their
outputs (src/ir/inline.c); TFLM runs the subgraphs. So:

- every model pexc compiles gives TFLM's bytes on random inputs, under the
  baseline and min-sram schedules: counted tf.while_loop bodies (float,
  int8, a loop nested in a loop body), Keras 3 GRU and LSTM layers (a WHILE
  over the time steps), an IF on a constant true and on a constant false
  (the two branches differ, so taking the wrong one fails), an IF on data
  (float, int8) with inputs that take each branch;
- the unrolled MNIST-sized LSTM needs less arena than TFLM's;
- the unrolled GRU has its body once per time step, and its weights once in
  its generated C, which (built with -Werror) gives TFLM's bytes, as do
  the generated C of the nested loop and of the int8 IF on data;
- refusals, one line each: a loop whose condition reads the input, an IF on
  data with a GATHER in a branch, a loop that never ends, a WHILE without
  its options, a branch index past the subgraphs, a loop value whose shape
  the body does not keep.
"""

import os

import numpy as np
import pytest

import pexc_harness as H

CONTROL_DIR = os.path.join(H.ROOT, "tests", "models", "control")
SCHEDULES = ["baseline", "min-sram"]
COMPILED = ["while_count_f32", "while_count_int8", "while_two_counters_f32", "while_nested_f32", "gru_f32",
            "lstm_f32", "lstm_mnist_f32", "if_const_true_f32", "if_const_false_f32", "if_data_f32", "if_data_int8"]

pytestmark = pytest.mark.skipif(not H.pexc_available(), reason="build/pexc is not built")


def model_path(name):
    path = os.path.join(CONTROL_DIR, name + ".tflite")
    if not os.path.exists(path):
        pytest.skip("%s is missing (tools/gen_models_control.py)" % path)
    return path


def ref_of(name):
    if not H.tflm_ref.available():
        pytest.skip("tflite-micro is not importable")
    return H.tflm_ref.TflmModel(model_path(name))


def inputs_of(ref, model):
    """Random inputs, and for an IF on data each of them negated as well:
    the models branch on the sign of the sum, so both branches are taken."""
    items = H.conformance_inputs(ref, 6, 0, model)
    if model.startswith("if_data"):
        dt = ref.input_dtype
        for label, d in list(items):
            x = np.frombuffer(d, dt).astype(np.float64)
            lo, hi = (-128, 127) if dt == np.int8 else (-1e30, 1e30)
            items.append((label + "-negated", np.clip(-x, lo, hi).astype(dt).tobytes()))
    return items


@pytest.mark.parametrize("model", COMPILED)
def test_live_tflm(model):
    ref = ref_of(model)
    H.check_matches_tflm(model_path(model), ref, inputs_of(ref, model), model, SCHEDULES)


def test_if_on_data_selects_each_branch():
    # the inputs of test_live_tflm reach both branches: TFLM's outputs
    # match the constant-true model on some and the constant-false one on
    # others
    ref, ref_t, ref_f = ref_of("if_data_f32"), ref_of("if_const_true_f32"), ref_of("if_const_false_f32")
    taken = set()
    for _, d in inputs_of(ref, "if_data_f32"):
        y = ref.run(d)
        taken |= {b for b, r in (("then", ref_t), ("else", ref_f)) if r.run(d) == y}
    assert taken == {"then", "else"}


def test_branches_differ():
    # the two constant-condition models share their branches: their outputs
    # must differ, or test_live_tflm could not tell the branches apart
    ref_t, ref_f = ref_of("if_const_true_f32"), ref_of("if_const_false_f32")
    x = H.conformance_inputs(ref_t, 1, 0, "if")[0][1]
    assert ref_t.run(x) != ref_f.run(x)


def test_gru_unrolled_once_per_step(tmp_path):
    # 5 time steps of a body with two FULLY_CONNECTED layers: 10 of them in
    # the plan, and their weights, [12, 4] and [12, 3] float32, once each in
    # the generated C
    info = H.inspect_json(model_path("gru_f32"))
    fcs = {o["op"] for o in info["ops"] if o["type"] == "FULLY_CONNECTED"}
    assert len(fcs) == 10, info["ops"]
    ref = ref_of("gru_f32")
    data = H.conformance_inputs(ref, 1, 5, "gru_f32")[0][1]
    got = H.run_generated_c(model_path("gru_f32"), tmp_path, data)
    why = H.describe_mismatch(ref.run(data), got, ref.output_dtype)
    assert why is None, "generated C of gru_f32: %s" % why
    with open(os.path.join(str(tmp_path), "gen", "m.c")) as f:
        src = f.read()
    assert src.count("FULLY_CONNECTED: weights [12, 4] float32") == 1
    assert src.count("FULLY_CONNECTED: weights [12, 3] float32") == 1


def test_unrolled_lstm_below_tflm_arena():
    # the 28 unrolled steps of the MNIST-sized LSTM reuse each other's
    # memory: pexc's arena stays below the activation arena TFLM plans for
    # the WHILE and its subgraphs
    ref = ref_of("lstm_mnist_f32")
    tflm = ref.arena_bytes["head"]
    for schedule in SCHEDULES:
        peak = H.inspect_json(model_path("lstm_mnist_f32"), schedule)["peak_sram_bytes"]
        assert peak < tflm, (schedule, peak, tflm)


@pytest.mark.parametrize("model", ["while_nested_f32", "if_data_int8"])
def test_generated_c(model, tmp_path):
    # the unrolled nested loop and the SELECT_V2 of an IF on data in C,
    # on inputs that take each branch
    ref = ref_of(model)
    for k, (label, data) in enumerate(inputs_of(ref, model)[::5]):
        got = H.run_generated_c(model_path(model), tmp_path / str(k), data)
        why = H.describe_mismatch(ref.run(data), got, ref.output_dtype)
        assert why is None, "generated C of %s, %s: %s" % (model, label, why)


# ---- refusals ---------------------------------------------------------------

def test_refuses_loop_on_data():
    line = H.refusal_line(model_path("refuse_while_data_f32"))
    assert "operator 0 (WHILE)" in line and "loop variable 0, tensor 0 (x)" in line, line
    assert "known only at run time" in line and "trip count" in line, line


def test_refuses_if_on_data_with_gather():
    line = H.refusal_line(model_path("refuse_if_gather_f32"))
    assert "operator 7 (IF)" in line and "tensor 9 (Greater)" in line and "known only at run time" in line, line
    assert "GATHER" in line, line


def _patched(name, edit, tmp_path):
    return H.patched_model(model_path(name), edit, tmp_path / ("%s_patched.tflite" % name), pass_schema=True)


def _const(m, sg, name):
    """The buffer of sg's constant tensor called name."""
    t = [t for t in sg.tensors if t.name.decode() == name][0]
    return m.buffers[t.buffer]


def test_refuses_endless_loop(tmp_path):
    # the body steps its counter by 0: TFLM would loop for ever, pexc stops
    # unrolling at the reader's limits (10000 tensors, 10000 operators)
    def edit(m, s):
        import numpy as np
        _const(m, m.subgraphs[2], "arith.constant1").data = np.zeros(4, np.uint8)
    line = H.refusal_line(_patched("while_count_f32", edit, tmp_path))
    assert "operator 0 (WHILE)" in line and "give more than 10000" in line and "unrolls loops" in line, line


def test_refuses_branch_index_out_of_range(tmp_path):
    def edit(m, s):
        m.subgraphs[0].operators[0].builtinOptions.thenSubgraphIndex = 7
    line = H.refusal_line(_patched("if_const_true_f32", edit, tmp_path))
    assert "operator 0 (IF)" in line and "then_subgraph_index 7" in line, line


def test_refuses_while_without_options(tmp_path):
    def edit(m, s):
        op = m.subgraphs[0].operators[0]
        op.builtinOptionsType, op.builtinOptions = 0, None
    line = H.refusal_line(_patched("while_count_f32", edit, tmp_path))
    assert "operator 0 (WHILE)" in line and "no WhileOptions" in line, line


def test_refuses_loop_value_changing_shape(tmp_path):
    # the body's float input claims [1, 3] where the loop passes [1, 6]
    def edit(m, s):
        import numpy as np
        body = m.subgraphs[2]
        body.tensors[body.inputs[1]].shape = np.array([1, 3], np.int32)
    line = H.refusal_line(_patched("while_count_f32", edit, tmp_path))
    assert "operator 0 (WHILE)" in line and "float32[1,6]" in line and "float32[1,3]" in line, line
