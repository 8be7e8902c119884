"""The C side of `pip install .` (metadata: pyproject.toml).

The library and the command (every src/ and runtime/src/ file but the
executable's main, src/cli/pexc.c) become one shared object,
pexc/_pexc_c*.so, which python/pexc loads with ctypes: plain C, no Python
API. The runtime sources `pexc.compile` copies into generated code are
installed as pexc/runtime/. Intermediate files go to build/setuptools/.
"""

import glob
import os
import shutil

from setuptools import Extension, setup
from setuptools.command.build_py import build_py

ROOT = os.path.dirname(os.path.abspath(__file__))


def c_sources():
    srcs = sorted(glob.glob("src/*/*.c")) + sorted(glob.glob("runtime/src/*.c"))
    return [s for s in srcs if s != "src/cli/pexc.c"]


class BuildPyWithRuntime(build_py):
    def run(self):
        super().run()
        dst = os.path.join(self.build_lib, "pexc", "runtime")
        shutil.rmtree(dst, ignore_errors=True)
        for sub in ("include", "src"):
            shutil.copytree(os.path.join(ROOT, "runtime", sub), os.path.join(dst, sub))


setup(
    ext_modules=[Extension(
        "pexc._pexc_c",
        sources=c_sources(),
        include_dirs=["include", "runtime/include", "src"],
        # -ffp-contract=off: float layers bit-exact with TFLite Micro on cores with FMA
        # -O3 -march=native: the host kernels vectorise for this machine (batch
        # evaluation; PEXC_PORTABLE=1 for a library other x86 machines can load);
        # -pthread: invoke_batch's workers
        extra_compile_args=["-std=c11", "-O3", "-ffp-contract=off", "-pthread"]
        + ([] if os.environ.get("PEXC_PORTABLE") else ["-march=native"]),
        extra_link_args=["-pthread"],
        libraries=["m"],
    )],
    cmdclass={"build_py": BuildPyWithRuntime},
    options={"build": {"build_base": os.path.join("build", "setuptools")}},
)
