"""What a learner waits for: each notebook's slowest cell, and kernel start to the first model output.

Measured on notebooks executed by papermill (`course_tools.run.execute_notebook`), one at a
time, at their default parameters, with a warm model cache, the kernel started as a learner's
JupyterLab starts it (torch's default thread count: one per core; OMP_NUM_THREADS unset).
Papermill writes the times this module reads: the notebook's `metadata.papermill.start_time`
(taken just before the kernel is launched) and every code cell's `start_time`, `end_time`
and `duration`.

Definitions, so that a figure can be checked by hand in an executed notebook:

- **slowest cell**: the code cell with the largest `metadata.papermill.duration`.
- **first model output**: the first code cell, in reading order, whose code runs the model,
  `model(...)` (a forward pass) or `model.generate` (FIRST_MODEL_CALL); if that cell prints
  nothing, the first code cell after it that has an output. A companion helper that runs the
  model for a figure (e.g. 06's ms per token) does not count: the lesson's own call does. **Kernel start to first model
  output** is that cell's `end_time` minus the notebook's `start_time`: the kernel's start and
  every cell before it, as a learner who runs the notebook from the top waits for them.

Targets (LEARNER_TARGETS), for a 2-core CPU: no cell over 10 s; first model output under 8 s.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import statistics
from pathlib import Path

# The model itself at work: `model(**inputs)`, `model.generate(...)`, or `model.generate` handed to
# a thread (notebook 09's streamer: `Thread(target=model.generate, ...)`). Not `load_model(`, not
# `measured_model.generate(` ("model" must not follow a word character or a dot).
FIRST_MODEL_CALL = re.compile(r"(?<![\w.])model(?:\(|\.generate\b)")
SLOWEST_CELL_TARGET_SECONDS = 10.0
FIRST_MODEL_OUTPUT_TARGET_SECONDS = 8.0
# Thread settings a learner's kernel does not have; removed from the kernels' environment here.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def parse_time(text: str) -> datetime.datetime:
    """A papermill timestamp ("2026-12-04T18:20:08.955439+00:00") as an aware datetime."""
    return datetime.datetime.fromisoformat(text)


def first_code_line(source: str) -> str:
    """The first line of a cell's code that is neither blank nor a comment ("" if none)."""
    for line in source.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return line.strip()
    return ""


def cell_summary(cell, position: int, seconds: float) -> dict:
    """What the report says about one cell: its id, position among all cells, first code line, seconds."""
    return {"id": cell.get("id"), "position": position, "first_line": first_code_line(cell.source), "seconds": seconds}


def notebook_waits(executed: Path) -> dict:
    """The waits of one notebook that papermill executed into `executed`.

    Returns:
        {"name", "seconds" (papermill's duration of the whole run, kernel start and shutdown
        included), "kernel_start_seconds" (notebook start to the first cell's start),
        "cells" (a cell_summary of every executed code cell, in reading order),
        "slowest_cell" and "first_model_output" (cell_summary dicts; the latter with its
        `seconds` counted from the notebook's start, None when no cell calls the model)}.
    """
    import nbformat

    notebook = nbformat.read(executed, as_version=4)
    started = parse_time(notebook.metadata.papermill.start_time)
    timed = [
        (position, cell) for position, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and cell.metadata.get("papermill", {}).get("duration") is not None
    ]
    if not timed:
        raise ValueError(f"{executed} has no code cell with papermill timings: was it executed by papermill?")
    slowest_position, slowest = max(timed, key=lambda item: item[1].metadata.papermill.duration)
    first_output = None
    called = False
    for position, cell in timed:
        called = called or bool(FIRST_MODEL_CALL.search(cell.source))
        if called and cell.outputs:
            ended = parse_time(cell.metadata.papermill.end_time)
            first_output = cell_summary(cell, position, (ended - started).total_seconds())
            break
    return {
        "name": Path(executed).name,
        "seconds": notebook.metadata.papermill.duration,
        "kernel_start_seconds": (parse_time(timed[0][1].metadata.papermill.start_time) - started).total_seconds(),
        "cells": [cell_summary(cell, position, cell.metadata.papermill.duration) for position, cell in timed],
        "slowest_cell": cell_summary(slowest, slowest_position, slowest.metadata.papermill.duration),
        "first_model_output": first_output,
    }


def median_waits(runs: list[dict]) -> dict:
    """One notebook's repeated runs as medians.

    `runs` are notebook_waits dicts plus "load_average" (at the run's start), "error" and
    "wall_seconds" (the runner's clock: papermill's start-up, the run and the kernel's shutdown).

    The slowest cell is the cell with the largest median duration, so that one slow phase of
    a shared machine does not pick it; `runs_seconds` keeps every run's figure. Runs that
    failed are left out (their errors are kept) unless every run failed.
    """
    errors = [run["error"] for run in runs if run.get("error")]
    runs = [run for run in runs if not run.get("error")] or runs  # a failed run's cells stop early
    cells = {cell["id"]: cell for cell in runs[-1]["cells"]}
    durations = {cell_id: [] for cell_id in cells}
    for run in runs:
        for cell in run["cells"]:
            durations.setdefault(cell["id"], []).append(cell["seconds"])
    slowest_id = max(cells, key=lambda cell_id: statistics.median(durations[cell_id])) if cells else None
    slowest = None if slowest_id is None else {
        **cells[slowest_id], "seconds": statistics.median(durations[slowest_id]), "runs_seconds": durations[slowest_id],
    }
    first_output = runs[-1]["first_model_output"]
    if first_output is not None:
        times = [run["first_model_output"]["seconds"] for run in runs if run["first_model_output"]]
        first_output = {**first_output, "seconds": statistics.median(times), "runs_seconds": times}
    return {
        "name": runs[-1]["name"],
        "runs": len(runs),
        "seconds": statistics.median(run["seconds"] for run in runs),
        "wall_seconds": statistics.median(run["wall_seconds"] for run in runs),
        "kernel_start_seconds": statistics.median(run["kernel_start_seconds"] for run in runs),
        "slowest_cell": slowest,
        "first_model_output": first_output,
        "load_average_at_start": [run["load_average"] for run in runs],
        "errors": errors,
    }


def measure_learner_waits(paths: list[Path], repeats: int = 1, executed_folder: Path | None = None) -> dict:
    """Execute `paths` one at a time, `repeats` rounds, and return the medians per notebook.

    The executed copies stay in `executed_folder`/round-N/ (default build/bench/executed/, emptied
    first), where every figure can be checked against papermill's timings.

    Rounds rather than back-to-back repeats of one notebook, so that a busy phase of a shared
    machine spreads over all notebooks. Every run records the load average at its start
    (1, 5, 15 minutes; it includes this measurement's own previous notebook).
    """
    from course_tools.bench.machine import load_average
    from course_tools.layout import BUILD
    from course_tools.run import run_notebook

    folder = Path(executed_folder or BUILD / "bench" / "executed")
    shutil.rmtree(folder, ignore_errors=True)

    # Kernels inherit this process's environment; a learner's has no thread settings.
    removed = {name: os.environ.pop(name) for name in THREAD_VARIABLES if name in os.environ}
    runs: dict[str, list[dict]] = {path.name: [] for path in paths}
    try:
        for repeat in range(repeats):
            for path in paths:
                load = load_average()
                output = Path(folder) / f"round-{repeat + 1}" / path.name
                run = run_notebook(path, output)
                if not output.exists():  # papermill stopped before writing anything
                    raise RuntimeError(f"{path.name} could not be executed: {run.error}")
                waits = notebook_waits(output)  # after a failed cell: the cells up to it (see "errors")
                waits.update(load_average=load, error=run.error, wall_seconds=run.seconds)
                runs[path.name].append(waits)
                first = waits["first_model_output"]
                first_text = f"{first['seconds']:.1f} s" if first else "none"
                print(f"  {repeat + 1}/{repeats} {path.name}: {waits['seconds']:.1f} s, slowest cell "
                      f"{waits['slowest_cell']['seconds']:.1f} s, first model output {first_text} "
                      f"(load {load[0] if load else '?'}) {run.error or ''}", flush=True)
    finally:
        os.environ.update(removed)
    notebooks = [median_waits(notebook_runs) for notebook_runs in runs.values()]
    slowest = max(notebooks, key=lambda notebook: notebook["slowest_cell"]["seconds"])
    with_output = [notebook for notebook in notebooks if notebook["first_model_output"]]
    latest = max(with_output, key=lambda notebook: notebook["first_model_output"]["seconds"]) if with_output else None
    loads = [run["load_average"][0] for notebook_runs in runs.values() for run in notebook_runs if run["load_average"]]
    return {
        "jobs": 1,
        "repeats": repeats,
        "kernel_threads": "torch's default (one per core); OMP_NUM_THREADS unset",
        "notebooks": notebooks,
        "slowest_cell_seconds": slowest["slowest_cell"]["seconds"],
        "slowest_cell_notebook": slowest["name"],
        "first_model_output_seconds": latest["first_model_output"]["seconds"] if latest else None,
        "first_model_output_notebook": latest["name"] if latest else None,
        "load_average_1min": (
            {"median": statistics.median(loads), "min": min(loads), "max": max(loads)} if loads else None
        ),
    }
