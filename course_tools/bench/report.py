"""The targets, and the table that `python -m course_tools.bench` prints."""

from __future__ import annotations

import math
import operator

from companion.models import REAL_MODEL
from course_tools.bench.children import TINY_MODEL
from course_tools.bench.learner_waits import FIRST_MODEL_OUTPUT_TARGET_SECONDS, SLOWEST_CELL_TARGET_SECONDS

TARGETS = {
    "course_total_seconds": ("<=", 180.0),
    "learner_slowest_cell_seconds": ("<=", SLOWEST_CELL_TARGET_SECONDS),  # no notebook cell over 10 s
    "learner_first_model_output_seconds": ("<", FIRST_MODEL_OUTPUT_TARGET_SECONDS),  # kernel start to it
    "helper_overhead_ratio": ("<=", 1.05),
    "batching_speedup_smollm2": (">=", 4.0),
    "footprint_4bit_ratio": ("<=", 0.4),
    "latency_to_floor_ratio": ("<=", 2.0),
    "cached_load_seconds": ("<=", 5.0),
}


def target_rows(results: dict) -> list[dict]:
    """One row per target: the figure, the target and whether it was met (None = not measured).

    The learner-waits rows hold the worst notebook's figure and name it in "note" (with
    --quick, the one notebook measured). With --course-only, measurements 2-6 are None.
    """
    waits = results["learner_waits"]
    if results.get("course_only"):
        measured = {}
    else:
        measured = {
            "helper_overhead_ratio": results["helper_overhead"][TINY_MODEL]["ratio"],
            "batching_speedup_smollm2": results["batching"][REAL_MODEL]["speedup"],
            "footprint_4bit_ratio": results["memory"].get("4bit", {}).get("footprint_ratio_to_fp32"),
            "latency_to_floor_ratio": results["latency"]["variants"]["fp32"]["ratio_to_floor"],
            "cached_load_seconds": results["load_time"]["cached_seconds"],
        }
    figures = {
        "course_total_seconds": results["course"]["total_seconds"],
        "learner_slowest_cell_seconds": waits["slowest_cell_seconds"],
        "learner_first_model_output_seconds": waits["first_model_output_seconds"],
        **measured,
    }
    notes = {
        "learner_slowest_cell_seconds": f"{waits['slowest_cell_notebook']}, of {len(waits['notebooks'])} notebook(s)",
        "learner_first_model_output_seconds":
            f"{waits['first_model_output_notebook']}, of {len(waits['notebooks'])} notebook(s)",
    }
    comparisons = {"<=": operator.le, "<": operator.lt, ">=": operator.ge}
    rows = []
    for name, (comparison, target) in TARGETS.items():
        figure = figures.get(name)
        met = None if figure is None else comparisons[comparison](figure, target)
        rows.append({"name": name, "figure": figure, "comparison": comparison, "target": target, "met": met,
                     "note": notes.get(name, "")})
    return rows


def shorten(text: str, width: int) -> str:
    """`text` cut to `width` characters, with "..." where it was cut."""
    return text if len(text) <= width else text[: width - 3] + "..."


def format_learner_waits(waits: dict) -> list[str]:
    """The learner-waits table: per notebook its slowest cell and kernel start to first model output."""
    lines = [
        f"1. Learner waits: {waits['jobs']} notebook at a time, default parameters, warm model cache, "
        f"medians of {waits['repeats']} run(s)",
        f"   kernel threads: {waits['kernel_threads']}",
        f"   targets: no cell over {SLOWEST_CELL_TARGET_SECONDS:g} s; kernel start to first model output "
        f"under {FIRST_MODEL_OUTPUT_TARGET_SECONDS:g} s",
        f"   {'notebook':<38} {'slowest cell':<50} {'s':>5}  {'first model output':<34} {'s':>5}  load (1 min)",
    ]
    for notebook in waits["notebooks"]:
        slowest = notebook["slowest_cell"]
        first = notebook["first_model_output"]
        slowest_text = shorten(f"{slowest['id']}: {slowest['first_line']}", 50)
        first_text = shorten(f"{first['id']}: {first['first_line']}", 34) if first else "none"
        first_seconds = f"{first['seconds']:5.1f}" if first else "    -"
        slow_mark = " " if slowest["seconds"] <= SLOWEST_CELL_TARGET_SECONDS else "!"
        first_mark = " " if first is None or first["seconds"] < FIRST_MODEL_OUTPUT_TARGET_SECONDS else "!"
        loads = ", ".join(f"{load[0]:.1f}" for load in notebook["load_average_at_start"] if load)
        lines.append(f"   {notebook['name']:<38} {slowest_text:<50} {slowest['seconds']:5.1f}{slow_mark} "
                     f"{first_text:<34} {first_seconds}{first_mark} {loads}")
    lines.append("   ! = target missed")
    return lines


def format_table(results: dict) -> str:
    """The human-readable summary printed at the end of a run."""
    lines = []

    def row(label: str, value: str, note: str = "") -> None:
        lines.append(f"{label:<52} {value:>14}  {note}")

    machine = results["machine"]
    lines.append(f"course_tools.bench {results['date']}  {'(quick)' if results['quick'] else ''}")
    lines.append(f"{machine['cpu']}, {machine['usable_cores']} cores, {machine['ram_gib']} GiB RAM, "
                 f"torch {machine['torch']}, transformers {machine['transformers']}")
    lines.append(f"load average at start {results['load_average_start']}, at end {results['load_average_end']}")
    lines.append("")
    course = results["course"]
    if course["skipped"]:
        row("1. course execution", "skipped", "(--quick: only notebook 01's waits)")
    else:
        for notebook in course["notebooks"]:
            row(f"1. {notebook['name']}", f"{notebook['seconds']:.1f} s", "FAILED" if notebook["error"] else "")
        row("1. course total (one notebook at a time)", f"{course['total_seconds']:.1f} s")
    lines.extend(format_learner_waits(results["learner_waits"]))
    if not results.get("course_only"):
        format_measurements(results, row)
    lines.append("")
    lines.append("Targets:")
    for target in results["targets"]:
        status = {True: "met", False: "MISSED", None: "not measured"}[target["met"]]
        figure = "-" if target["figure"] is None else f"{target['figure']:.3g}"
        note = f" ({target['note']})" if target.get("note") else ""
        row(f"  {target['name']} {target['comparison']} {target['target']:g}", figure, status + note)
    return "\n".join(lines)


def format_measurements(results: dict, row) -> None:
    """Rows of measurements 2-6 (not with --course-only)."""
    for model_name, overhead in results["helper_overhead"].items():
        row(f"2. generate_text / raw generate ({model_name})", f"{overhead['ratio']:.3f}x",
            f"same texts: {overhead['same_texts']}")
    for model_name, batching in results["batching"].items():
        row(f"3. one by one ({model_name}, {batching['prompts']} prompts)",
            f"{batching['sequential_tokens_per_second']:.1f} tok/s")
        row(f"3. batched ({model_name})", f"{batching['batched_tokens_per_second']:.1f} tok/s",
            f"speed-up {batching['speedup']:.2f}x, equal rows {batching['equal_rows']}/{batching['prompts']}")
    for configuration, memory in results["memory"].items():
        row(f"4. {configuration}: weights / peak RSS / RSS after",
            f"{memory['footprint_mib']:.0f} / {memory['peak_rss_mib']:.0f} / "
            f"{memory['rss_after_generation_mib']:.0f} MiB",
            f"x fp32: {memory['footprint_ratio_to_fp32']:.2f} / {memory['peak_rss_ratio_to_fp32']:.2f} / "
            f"{memory['rss_after_generation_ratio_to_fp32']:.2f}, {memory['ms_per_token']:.0f} ms/token")
    latency = results["latency"]
    row("5. memory bandwidth (copy, read+write)", f"{latency['bandwidth']['copy_gb_per_s']:.1f} GB/s",
        f"read only {latency['bandwidth']['read_gb_per_s']:.1f} GB/s")
    for name, variant in latency["variants"].items():
        row(f"5. {name}: ms/token (floor)", f"{variant['ms_per_token']:.1f} ({variant['floor_ms_per_token']:.1f})",
            f"{variant['ratio_to_floor']:.2f}x the floor; linear kernels alone {variant['linear_kernels_ms']:.1f} ms "
            f"({variant['linear_kernels_to_floor_ratio']:.2f}x)")
    load_time = results["load_time"]
    if load_time["cold_seconds"] is not None:
        row("6. smollm2-135m first load (conversion)", f"{load_time['cold_seconds']:.1f} s")
    row("6. smollm2-135m cached load", f"{load_time['cached_seconds']:.2f} s")


def require_finite(value, path: str = "results") -> None:
    """Raise if a number anywhere in the results is NaN or infinite (JSON would not hold it)."""
    if isinstance(value, dict):
        for key, item in value.items():
            require_finite(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            require_finite(item, f"{path}[{index}]")
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{path} is {value}")
