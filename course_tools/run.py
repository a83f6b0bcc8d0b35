"""Execute the course's notebooks headless with papermill: `python -m course_tools.run run`.

This is what `make run` does; the tests, the builder, the margins recorder and `course_tools.bench`
execute notebooks through `execute_notebook` too.
Each notebook is executed from its own folder into `build/executed/<lang>/`, one
progress line per notebook, and a summary at the end.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from course_tools.layout import BUILD, NOTEBOOKS, languages, notebook_number, notebook_paths, shown_path

DEFAULT_OUTPUT = BUILD / "executed"
# The kernel's own log goes to the terminal, not the notebook. Only CRITICAL lines: below that
# come "Kernel is running over TCP without encryption" and, now and then, "ERROR | KeyboardInterrupt
# caught in kernel." when the finished kernel is shut down (jupyter_client 8.10's shutdown_kernel
# sends SIGINT before the shutdown request, and ipykernel 7.4 logs it at error level if it arrives
# while the kernel still listens; it varies between runs and means nothing). A cell's error is
# papermill's to report, and a dead kernel too.
KERNEL_ARGUMENTS = ["--IPKernelApp.log_level=CRITICAL"]


@dataclass
class NotebookRun:
    """The result of executing one notebook."""

    notebook: Path
    output: Path
    seconds: float
    error: str | None = None


def default_parameters(notebook: Path) -> dict:
    """The notebook's parameters cell, evaluated: {"MODEL": ..., "QUANTIZATION": ..., ...}.

    Reads the committed notebook (the cell tagged `parameters`); executes nothing.
    """
    import ast

    import nbformat

    cell = next(
        (cell for cell in nbformat.read(notebook, as_version=4).cells if "parameters" in cell.metadata.get("tags", [])),
        None,
    )
    if cell is None:
        raise ValueError(f"{notebook.name} has no cell tagged 'parameters' (see the README's section for authors)")
    return {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in ast.parse(cell.source).body
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
    }


def longest_first(paths: list[Path]) -> list[Path]:
    """`paths` in the order to start them two at a time: the notebooks that load the real LLM first.

    A notebook whose default MODEL is a real LLM (not the instant tutorial-tiny) takes several
    times longer than the others (05, 06 and 08: ~30 s each on one CPU thread, the rest
    5-15 s). Started first, they run side by side and the short notebooks fill the gaps;
    started in reading order, the last of them would run alone at the end. Otherwise reading order.
    """
    def light(path: Path) -> bool:
        try:
            return default_parameters(path).get("MODEL") == "tutorial-tiny"
        except (ValueError, SyntaxError):  # no parameters cell, or not literals: only the order is at stake
            return True

    return sorted(paths, key=light)


def execute_notebook(notebook: Path, output: Path, parameters: dict | None = None,
                     kernel_arguments: list[str] = ()) -> None:
    """Execute `notebook` with papermill into `output`, from the notebook's own folder.

    The one way the project executes a notebook: `make run`, the tests, the benchmarks and
    the notebook builder (`course_tools/build_notebooks.py --execute`) all come here.
    `kernel_arguments` go to the kernel after KERNEL_ARGUMENTS (the margins recorder loads itself
    as an IPython extension this way). Raises papermill's PapermillExecutionError (with the
    failing cell's error) on failure.
    """
    import papermill

    notebook, output = Path(notebook).resolve(), Path(output).resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(
        str(notebook),
        str(output),
        parameters=parameters or {},
        kernel_name="python3",
        progress_bar=False,
        extra_arguments=[*KERNEL_ARGUMENTS, *kernel_arguments],
        # The kernel starts in the notebook's folder: nbclient (0.11) starts it in the resources
        # path. Not papermill's cwd=: papermill (2.7) os.chdir()s this whole process for the run,
        # and two runs in threads (run_course with jobs=2) could leave it wherever the other was.
        resources={"metadata": {"path": str(notebook.parent)}},
    )


def run_notebook(notebook: Path, output: Path, parameters: dict | None = None) -> NotebookRun:
    """Execute `notebook` into `output`; an error is caught and reported in the result, not raised."""
    start = time.perf_counter()
    error = None
    try:
        execute_notebook(notebook, output, parameters)
    except Exception as exception:  # papermill raises PapermillExecutionError with the cell's error
        message = str(exception).strip()
        error = f"{type(exception).__name__}: {message.splitlines()[-1] if message else ''}"
    return NotebookRun(notebook, output, time.perf_counter() - start, error)


def use_one_thread_per_kernel() -> None:
    """Start every notebook kernel from here on with one CPU thread (kernels inherit the environment).

    Every path that executes notebooks does this: `make run` (two kernels side by side on
    two cores, instead of two kernels fighting over them with two threads each), the
    notebook builder that writes the committed outputs, and the tests (tests/conftest.py).
    The thread count can change the last digits of a float sum, so one setting everywhere
    keeps strict nbval's comparison exact, however many notebooks run at a time.
    """
    os.environ["OMP_NUM_THREADS"] = "1"


def default_jobs() -> int:
    """Notebooks to execute at once: one per CPU core, at most two (memory stays modest)."""
    return max(1, min(2, os.cpu_count() or 1))


def run_course(
    language: str = "en",
    output_dir: Path = DEFAULT_OUTPUT,
    parameters: dict | Callable[[Path], dict] | None = None,
    verbose: bool = True,
    jobs: int = 1,
    numbers: list[str] | None = None,
    notebook_root: Path = NOTEBOOKS,
) -> list[NotebookRun]:
    """Execute every notebook of one edition, `jobs` at a time; print a line each and a summary.

    Args:
        language: the edition's folder under notebooks/ ("en" or "de").
        output_dir: executed copies go to output_dir/<language>/.
        parameters: papermill parameters for every notebook, e.g. {"MODEL": "smollm2-135m"},
            or a function of the notebook's path that returns them (the GPU job's hub pass
            gives each notebook its own).
        jobs: notebooks executed side by side (each kernel has one CPU thread).
        numbers: only these notebooks ("05", "06"); None for all.
        notebook_root: the folder that holds the editions (default notebooks/).
    Returns:
        one NotebookRun per notebook, in reading order.
    """
    from concurrent.futures import ThreadPoolExecutor

    paths = [path for path in notebook_paths(language, notebook_root)
             if numbers is None or notebook_number(path) in numbers]
    if not paths:
        if verbose:
            print(f"No notebooks in notebooks/{language}/ yet: nothing to execute.")
        return []
    use_one_thread_per_kernel()
    start = time.perf_counter()

    def run_and_report(path: Path) -> NotebookRun:
        arguments = parameters(path) if callable(parameters) else parameters
        run = run_notebook(path, Path(output_dir) / language / path.name, arguments)
        if verbose:
            status = "ok" if run.error is None else f"FAILED: {run.error}"
            print(f"{path.name:<45} {run.seconds:6.1f} s  {status}", flush=True)
        return run

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        started = longest_first(paths) if jobs > 1 else paths
        # each papermill run waits on its kernel, so threads are enough
        finished = dict(zip(started, pool.map(run_and_report, started), strict=True))
    runs = [finished[path] for path in paths]
    if verbose:
        failed = [run for run in runs if run.error]
        print(f"{len(runs) - len(failed)} of {len(runs)} notebooks ran without errors in "
              f"{time.perf_counter() - start:.1f} s ({jobs} at a time); "
              f"executed copies are in {shown_path(Path(output_dir) / language)}")
    return runs


def parse_parameter(text: str) -> tuple[str, object]:
    """Parse NAME=VALUE; VALUE is read as a Python literal when it is one (50, None, '4bit')."""
    import ast

    if "=" not in text:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    name, value = text.split("=", 1)
    try:
        return name, ast.literal_eval(value)
    except (ValueError, SyntaxError):
        return name, value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_tools.run", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="execute every notebook")
    run_parser.add_argument("--language", default="en", choices=languages(),
                            help="the edition to execute: en (default) or de")
    run_parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    run_parser.add_argument("-j", "--jobs", type=int, default=default_jobs(),
                            help="notebooks executed at once (default: one per core, at most 2)")
    run_parser.add_argument("-p", "--parameter", type=parse_parameter, action="append", default=[],
                            help="override a notebook parameter, e.g. -p MODEL=smollm2-135m")
    arguments = parser.parse_args(argv)
    if arguments.jobs < 1:
        parser.error(f"--jobs must be at least 1, got {arguments.jobs}")
    runs = run_course(arguments.language, arguments.output, dict(arguments.parameter), jobs=arguments.jobs)
    return 1 if any(run.error for run in runs) else 0


if __name__ == "__main__":
    sys.exit(main())
