#!/usr/bin/env python3
"""Runs the pexc Python package on a job for tests/test_python.py; needs
only numpy and pexc, so it also runs in a fresh venv holding just them.

    python pexc_py_worker.py JOB.npz RESULT.npz

JOB.npz: n_models; model_K (path); in_K_I (N inputs for input I, stacked);
bad (a file pexc refuses); compile_model, compile_dir.
RESULT.npz: out_K_O (outputs of N set_input/invoke/get_output rounds),
batch_K_O (invoke_batch on the same inputs), info_K (JSON: schedule, peak
figures, tensor details), bad_error (JSON: exception type and message),
compile (JSON: what pexc.compile returned).
"""

import json
import sys

import numpy as np


def _details(d):
    return {"name": d["name"], "shape": [int(v) for v in d["shape"]], "dtype": np.dtype(d["dtype"]).name,
            "quantization": [float(d["quantization"][0]), int(d["quantization"][1])],
            "scales": [float(v) for v in d["quantization_parameters"]["scales"]],
            "zero_points": [int(v) for v in d["quantization_parameters"]["zero_points"]]}


def run_job(pexc, job):
    res = {}
    for k in range(int(job["n_models"])):
        it = pexc.Interpreter(str(job["model_%d" % k]))
        ins = [job["in_%d_%d" % (k, i)] for i in range(it.num_inputs)]
        singles = [[] for _ in range(it.num_outputs)]
        for b in range(len(ins[0])):
            for i in range(it.num_inputs):
                it.set_input(ins[i][b], i)
            it.invoke()
            for o in range(it.num_outputs):
                singles[o].append(it.get_output(o))
        batch = it.invoke_batch(ins[0] if it.num_inputs == 1 else ins)
        if it.num_outputs == 1:
            batch = [batch]
        for o in range(it.num_outputs):
            res["out_%d_%d" % (k, o)] = np.stack(singles[o])
            res["batch_%d_%d" % (k, o)] = batch[o]
        res["info_%d" % k] = json.dumps({
            "schedule": it.schedule, "peak_sram_bytes": it.peak_sram_bytes,
            "baseline_peak_sram_bytes": it.baseline_peak_sram_bytes,
            "inputs": [_details(it.get_input_details(i)) for i in range(it.num_inputs)],
            "outputs": [_details(it.get_output_details(o)) for o in range(it.num_outputs)]})
    try:
        pexc.Interpreter(str(job["bad"]))
        res["bad_error"] = json.dumps(None)
    except Exception as exc:  # the test checks that it is a PexcError
        res["bad_error"] = json.dumps([type(exc).__name__, str(exc)])
    res["compile"] = json.dumps(pexc.compile(str(job["compile_model"]), str(job["compile_dir"])))
    return res


def main(argv):
    import pexc
    with np.load(argv[1]) as job:
        res = run_job(pexc, dict(job))
    np.savez(argv[2], **res)


if __name__ == "__main__":
    main(sys.argv)
