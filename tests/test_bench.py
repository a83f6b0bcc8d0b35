"""Tests for `python -m course_tools.bench`: a --quick run in a subprocess writes sane JSON.

Only the shape and sanity of the figures are checked (finite, positive ratios), not the
targets: timings on a shared machine are noisy.
"""

import json
import math
import subprocess
import sys

import pytest

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
        for key in ("footprint_mib", "peak_rss_mib", "footprint_ratio_to_fp32", "peak_rss_ratio_to_fp32", "ms_per_token"):
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
    for name, row in targets.items():
        if name != "course_total_seconds":
            assert positive_finite(row["figure"]) and row["met"] in (True, False), name


def test_table_formats_the_json(quick_results):
    table = format_table(quick_results)
    assert "Targets:" in table and "smollm2-135m" in table
