"""Turn the offline socket guard on in every Python process that has this folder on PYTHONPATH.

Python imports `sitecustomize` at start-up. tests/conftest.py prepends this folder to
PYTHONPATH, so the children of the test session (notebook kernels started by nbval and
papermill, `python -m ...` subprocesses) start with the guard installed (see offline_guard.py).

This file shadows any other `sitecustomize` further down sys.path (some Linux
distributions ship one), so that one is run afterwards, as Python would have run it.
"""

import importlib.util
import os
import sys

import offline_guard

offline_guard.install()


def run_shadowed_sitecustomize() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    others = [entry for entry in sys.path if os.path.abspath(entry or os.curdir) != here]
    spec = None  # not importlib's find_spec("sitecustomize"): that finds this file
    for entry in others:
        candidate = os.path.join(entry or os.curdir, "sitecustomize.py")
        if os.path.isfile(candidate):
            spec = importlib.util.spec_from_file_location("_shadowed_sitecustomize", candidate)
            break
    if spec is not None:
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)


run_shadowed_sitecustomize()
