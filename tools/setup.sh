#!/bin/sh
# Creates .venv with what the demo and tools need (numpy, pytest,
# tflite-micro). --tf installs TensorFlow too: the tests compare the
# trainer's gradients and converter-made models with it (make test runs
# this with --tf), and it regenerates the conformance models.
set -e
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
# A fresh Debian may lack python3 altogether, and `import venv` works
# without python3-venv, but `python3 -m venv` then fails for want of
# ensurepip, so test for both modules.
if ! command -v $PY >/dev/null 2>&1 || ! $PY -c 'import venv, ensurepip' 2>/dev/null; then
    apt-get update && apt-get install -y python3 python3-venv
fi
[ -x .venv/bin/python ] || $PY -m venv .venv
.venv/bin/pip install -q -r tools/requirements.txt
if [ "$1" = "--tf" ]; then .venv/bin/pip install -q tensorflow-cpu; fi
