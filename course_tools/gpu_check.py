"""`make test-gpu`: the course on a CUDA GPU, in four steps, each printed with its result.

    python -m course_tools.gpu_check                       # what `make test-gpu` and the workflow's gpu job run
    python -m course_tools.gpu_check --hub-model ID --instruct-model ID   # another pair of hub models

1. Strict nbval of every notebook (notebooks/en and notebooks/de) at its default parameters:
   the outputs on the GPU are compared with the committed CPU outputs, apart from the cells
   tagged `device-dependent` (course_tools.devices.DEVICE_DEPENDENT_CELLS), whose copies under
   build/gpu/nbval/<lang>/ get nbval-ignore-output.
2. The tests marked `gpu` (tests/test_gpu.py): the built-in models on CUDA, generate_text
   against model.generate, 4-bit and 8-bit bitsandbytes, greedy tokens on CUDA equal to the CPU's.
3. The hub-model pass: every notebook of notebooks/en executed with papermill into
   build/gpu/hub/en/ with course_tools.devices.hub_parameters (HUB_MODEL in 4-bit; an instruct
   model for 05; no fp32 load in 06).
4. nbval --nbval-lax on those executed notebooks (errors only: a different model writes
   different text), offline, from the model files that step 3 downloaded.

Every step runs even when an earlier one failed; the exit status is 1 if any failed. On a
machine without CUDA it prints one line and exits 2 before doing anything.
The CPU tests (tests/test_gpu_machinery.py) run the same functions, with smollm2-135m in
4-bit standing in for the hub models.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import companion  # noqa: F401  (imported before torch, for the notebooks' quiet environment)
from course_tools.devices import (
    DEVICE_DEPENDENT_TAG,
    HUB_INSTRUCT_MODEL,
    HUB_MODEL,
    HUB_QUANTIZATION,
    hub_parameters,
)
from course_tools.layout import BUILD, ROOT, all_notebook_paths
from course_tools.run import NotebookRun, run_course

OUTPUT = BUILD / "gpu"
NO_CUDA_MESSAGE = "make test-gpu needs a CUDA GPU: torch.cuda.is_available() is False on this machine"
IGNORE_OUTPUT_TAG = "nbval-ignore-output"
# pytest as the project runs it, minus pyproject's addopts (they add --nbval and the testpaths).
PYTEST = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-o", "addopts=", "-ra"]
NBVAL = ["--nbval", "--nbval-current-env", "--nbval-sanitize-with", "tests/nbval_sanitize.cfg"]


def ignore_device_dependent_outputs(notebook) -> list[str]:
    """Add nbval-ignore-output to every cell of `notebook` tagged device-dependent; return those cells' ids.

    Nothing else changes: the cells, their code and their committed outputs stay as they are.
    """
    changed = []
    for cell in notebook.cells:
        tags = cell.metadata.get("tags", [])
        if DEVICE_DEPENDENT_TAG in tags and IGNORE_OUTPUT_TAG not in tags:
            cell.metadata["tags"] = [*tags, IGNORE_OUTPUT_TAG]
            changed.append(cell.id)
    return changed


def nbval_copies(destination: Path) -> list[Path]:
    """Copy the committed notebooks to destination/<lang>/, device-dependent cells' outputs ignored.

    Returns the copies' paths (every edition that has notebooks; the German one may be partial).
    Copies left in `destination` by an earlier run are removed first.
    """
    import nbformat

    shutil.rmtree(destination, ignore_errors=True)
    copies = []
    for path in all_notebook_paths():
        notebook = nbformat.read(path, as_version=4)
        ignore_device_dependent_outputs(notebook)
        copy = destination / path.parent.name / path.name
        copy.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, copy)
        copies.append(copy)
    return copies


def hub_pass(
    output: Path,
    model: str = HUB_MODEL,
    quantization: str | None = HUB_QUANTIZATION,
    instruct_model: str = HUB_INSTRUCT_MODEL,
    numbers: list[str] | None = None,
    language: str = "en",
    jobs: int = 1,
    verbose: bool = True,
) -> list[NotebookRun]:
    """Execute every notebook (or `numbers`) with the hub-pass parameters into output/<language>/<name>.

    Args:
        output: the folder for the executed copies (the GPU job: build/gpu/hub).
        model, quantization, instruct_model: see course_tools.devices.hub_parameters.
        numbers: only these notebooks ("05", "06"); None for all.
        jobs: notebooks executed side by side.
    Returns:
        one NotebookRun per notebook (error None when it ran through), in reading order.
    The code is the same in every edition, so one edition is enough.
    """
    def parameters(path: Path) -> dict:
        return hub_parameters(path.name[:2], model, quantization, instruct_model)

    return run_course(language, Path(output), parameters, verbose=verbose, jobs=jobs, numbers=numbers)


def run_step(number: int, title: str, action) -> bool:
    """Run one step, print its title and its result with the time it took; True if it passed."""
    print(f"[{number}/4] {title}", flush=True)
    start = time.perf_counter()
    passed = action()
    seconds = time.perf_counter() - start
    print(f"[{number}/4] {'passed' if passed else 'FAILED'} ({seconds:.0f} s): {title}\n", flush=True)
    return passed


def pytest_passes(arguments: list[str]) -> bool:
    """Run pytest from the repository root with `arguments`; True if it exits 0."""
    return subprocess.run([*PYTEST, *arguments], cwd=ROOT).returncode == 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hub-model", default=HUB_MODEL, help=f"default: {HUB_MODEL}")
    parser.add_argument("--instruct-model", default=HUB_INSTRUCT_MODEL, help=f"default: {HUB_INSTRUCT_MODEL}")
    parser.add_argument("--no-hub", action="store_true",
                        help="steps 1 and 2 only: the built-in models (a machine without the hub models' download)")
    arguments = parser.parse_args(argv)
    import torch

    if not torch.cuda.is_available():
        print(NO_CUDA_MESSAGE)
        return 2
    print(f"GPU: {torch.cuda.get_device_name(0)}; torch {torch.__version__}\n", flush=True)
    nbval_folder, hub_folder = OUTPUT / "nbval", OUTPUT / "hub"

    def strict_nbval() -> bool:
        copies = nbval_copies(nbval_folder)
        print(f"    {len(copies)} notebooks copied to {nbval_folder.relative_to(ROOT)}/", flush=True)
        jobs = os.environ.get("GPU_CHECK_JOBS", "1")  # pytest-xdist workers, a notebook per worker
        parallel = ["-n", jobs, "--dist", "loadfile"] if jobs != "1" else []
        return pytest_passes([*NBVAL, *parallel, str(nbval_folder.relative_to(ROOT))])

    def hub_notebooks_run() -> bool:
        shutil.rmtree(hub_folder, ignore_errors=True)
        runs = hub_pass(hub_folder, arguments.hub_model, HUB_QUANTIZATION, arguments.instruct_model)
        return bool(runs) and all(run.error is None for run in runs)

    steps = [
        (1, "strict nbval of every notebook at its default parameters, against the CPU outputs",
                 strict_nbval),
        (2, "the tests marked gpu (tests/test_gpu.py)",
                 lambda: pytest_passes(["-m", "gpu", "tests/test_gpu.py"])),
        (3, f"every notebook with {arguments.hub_model} in {HUB_QUANTIZATION} (papermill, "
                    f"05 with {arguments.instruct_model})", hub_notebooks_run),
        (4, "nbval --nbval-lax on the executed hub-model notebooks",
                 lambda: pytest_passes(["--nbval-lax", "--nbval-current-env", str(hub_folder.relative_to(ROOT))])),
    ]
    if arguments.no_hub:
        print("--no-hub: skipping steps 3 and 4 (the hub models)\n", flush=True)
        steps = steps[:2]
    results = [run_step(number, title, action) for number, title, action in steps]
    print(f"make test-gpu: {sum(results)} of {len(results)} steps passed; executed notebooks in "
          f"{OUTPUT.relative_to(ROOT)}/")
    return 0 if all(results) else 1


if __name__ == "__main__":
    sys.exit(main())
