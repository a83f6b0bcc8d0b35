"""Tests for `python -m course_tools.bench`: a --quick run in a subprocess writes sane JSON.

Only the shape and sanity of the figures are checked (finite, positive ratios), not the
targets: timings on a shared machine are noisy. The learner-waits definitions (slowest cell,
first model output) are checked on a hand-made executed notebook, without a kernel.
"""

import json
import math
import subprocess
import sys

import nbformat
import pytest

from course_tools.bench.learner_waits import FIRST_MODEL_CALL, median_waits, notebook_waits
from course_tools.bench.report import TARGETS, format_table
from course_tools.layout import ROOT


def positive_finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value > 0


@pytest.fixture(scope="module")
def quick_results(tmp_path_factory):
    json_path = tmp_path_factory.mktemp("bench") / "bench.json"
    completed = subprocess.run(
        [sys.executable, "-m", "course_tools.bench", "--quick", "--json", str(json_path)],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "Targets:" in completed.stdout
    return json.loads(json_path.read_text())


def test_json_describes_date_and_machine(quick_results):
    assert quick_results["quick"] is True
    assert quick_results["date"][:2] == "20"
    machine = quick_results["machine"]
    for key in ("cpu", "logical_cores", "ram_gib", "torch", "transformers", "bitsandbytes", "python"):
        assert machine[key], key
    assert machine["OMP_WAIT_POLICY"] == "PASSIVE"


def test_quick_run_skips_the_course(quick_results):
    assert quick_results["course"] == {"skipped": True, "notebooks": [], "total_seconds": None}


def test_quick_run_measures_the_first_notebooks_waits(quick_results):
    waits = quick_results["learner_waits"]
    assert waits["jobs"] == 1 and waits["repeats"] == 1
    [notebook] = waits["notebooks"]
    assert notebook["name"] == "01_generating_text.ipynb" and notebook["errors"] == []
    assert positive_finite(notebook["slowest_cell"]["seconds"]) and notebook["slowest_cell"]["first_line"]
    first = notebook["first_model_output"]
    assert FIRST_MODEL_CALL.search(first["first_line"]) or first["position"] > 0
    # The first model output comes after the kernel started and every cell before it ran.
    assert notebook["kernel_start_seconds"] < first["seconds"] < notebook["seconds"]
    assert waits["slowest_cell_seconds"] == notebook["slowest_cell"]["seconds"]
    assert waits["first_model_output_seconds"] == first["seconds"]


def executed_notebook(path, cells):
    """A notebook as papermill leaves it: `cells` are (source, has_output, start, seconds), times in s."""
    def stamp(seconds):
        return f"2026-12-04T10:00:{seconds:09.6f}+00:00"

    notebook = nbformat.v4.new_notebook()
    notebook.metadata["papermill"] = {"start_time": stamp(0), "duration": 30.0}
    for number, (source, has_output, start, seconds) in enumerate(cells):
        cell = nbformat.v4.new_code_cell(source, id=f"cell-{number}")
        cell.metadata["papermill"] = {"start_time": stamp(start), "end_time": stamp(start + seconds),
                                      "duration": seconds}
        if has_output:
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x\n")]
        notebook.cells.append(cell)
    notebook.cells.insert(1, nbformat.v4.new_markdown_cell("prose, not timed"))
    nbformat.write(notebook, path)
    return path


def test_waits_follow_their_definitions(tmp_path):
    generate_line = "generated_ids = model.generate(**inputs, max_new_tokens=5, do_sample=False)"
    path = executed_notebook(tmp_path / "01_example.ipynb", [
        ("import companion", True, 0.5, 1.5),
        ("# load it\nmodel, tokenizer = companion.load_model(MODEL)", True, 2.0, 2.0),  # load_model( is no call
        ("with torch.inference_mode():\n    outputs = model(**inputs)", False, 4.0, 0.5),  # calls it, prints nothing
        ("# the shape\nprint(outputs.logits.shape)", True, 4.5, 0.25),  # so this is the first model output
        (generate_line, True, 4.75, 12.0),
    ])
    waits = notebook_waits(path)
    assert waits["kernel_start_seconds"] == 0.5
    assert waits["slowest_cell"] == {"id": "cell-4", "position": 5, "seconds": 12.0, "first_line": generate_line}
    assert waits["first_model_output"] == {"id": "cell-3", "position": 4, "seconds": 4.75,
                                           "first_line": "print(outputs.logits.shape)"}


def test_a_notebook_without_a_model_call_has_no_first_model_output(tmp_path):
    path = executed_notebook(tmp_path / "01_example.ipynb", [("measured_model.generate(x)", True, 1.0, 1.0)])
    assert notebook_waits(path)["first_model_output"] is None


def test_medians_pick_the_slowest_cell_by_its_median(tmp_path):
    runs = []
    for number, (first_cell, second_cell) in enumerate([(9.0, 3.0), (1.0, 3.0), (1.0, 3.0)]):
        path = executed_notebook(tmp_path / f"{number}.ipynb", [
            ("import companion", True, 0.5, first_cell), ("model(x)", True, 0.5 + first_cell, second_cell),
        ])
        runs.append({**notebook_waits(path), "load_average": [1.0, 1.0, 1.0], "error": None, "wall_seconds": 31.0})
    medians = median_waits(runs)
    assert medians["slowest_cell"]["id"] == "cell-1" and medians["slowest_cell"]["seconds"] == 3.0
    assert medians["slowest_cell"]["runs_seconds"] == [3.0, 3.0, 3.0]
    assert medians["first_model_output"]["seconds"] == 4.5
    assert medians["first_model_output"]["runs_seconds"] == [12.5, 4.5, 4.5]


def test_helper_overhead_is_a_sane_ratio(quick_results):
    overhead = quick_results["helper_overhead"]["tutorial-tiny"]
    assert positive_finite(overhead["ratio"])
    assert 0.2 < overhead["ratio"] < 5  # not the target: only that both sides did the same work
    assert overhead["same_texts"] is True


def test_batching_figures(quick_results):
    for model_name in ("tutorial-tiny", "smollm2-135m"):
        batching = quick_results["batching"][model_name]
        for key in ("sequential_tokens_per_second", "batched_tokens_per_second", "speedup"):
            assert positive_finite(batching[key]), (model_name, key)
        assert 0 <= batching["equal_rows"] <= batching["prompts"]
        assert len(batching["first_differences"]) == batching["prompts"] - batching["equal_rows"]


def test_memory_figures(quick_results):
    memory = quick_results["memory"]
    assert {"fp32", "4bit"} <= set(memory)
    assert memory["fp32"]["footprint_ratio_to_fp32"] == 1.0
    for configuration, figures in memory.items():
        for key in ("footprint_mib", "peak_rss_mib", "footprint_ratio_to_fp32", "peak_rss_ratio_to_fp32",
                    "ms_per_token"):
            assert positive_finite(figures[key]), (configuration, key)
    # Footprints are deterministic: 4-bit weights are far smaller than fp32 ones.
    assert memory["4bit"]["footprint_ratio_to_fp32"] < 0.6


def test_latency_figures(quick_results):
    latency = quick_results["latency"]
    assert positive_finite(latency["bandwidth"]["copy_gb_per_s"])
    fp32 = latency["variants"]["fp32"]
    for key in ("ms_per_token", "floor_ms_per_token", "ratio_to_floor", "fraction_of_floor_speed", "linear_kernels_ms"):
        assert positive_finite(fp32[key]), key
    assert fp32["ratio_to_floor"] == pytest.approx(1 / fp32["fraction_of_floor_speed"])
    assert latency["best_variant"] in latency["variants"]


def test_load_time_and_targets(quick_results):
    assert positive_finite(quick_results["load_time"]["cached_seconds"])
    targets = {row["name"]: row for row in quick_results["targets"]}
    assert set(targets) == set(TARGETS)
    assert targets["course_total_seconds"]["met"] is None  # skipped with --quick
    assert "01_generating_text.ipynb" in targets["learner_first_model_output_seconds"]["note"]
    for name, row in targets.items():
        if name != "course_total_seconds":
            assert positive_finite(row["figure"]) and row["met"] in (True, False), name


def test_table_formats_the_json(quick_results):
    table = format_table(quick_results)
    assert "Targets:" in table and "smollm2-135m" in table
