"""`python -m course_tools.bench`: run the six measurements, print the table, write JSON."""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

import companion  # noqa: F401  (first: it sets OMP_WAIT_POLICY=PASSIVE etc. before torch)
import course_tools.bench as bench_package
from companion.models import REAL_MODEL
from course_tools.bench.children import MEMORY_CONFIGURATIONS, TINY_MODEL, load_child, memory_child
from course_tools.bench.machine import load_average, machine_description
from course_tools.bench.measurements import (
    measure_batching_figures,
    measure_course,
    measure_helper_overhead,
    measure_latency,
    measure_load_time,
    measure_memory,
)
from course_tools.bench.report import format_table, require_finite, target_rows


def run_benchmarks(quick: bool, try_compile: bool, course_only: bool = False, course_repeats: int = 1) -> dict:
    """All six measurements in order (only the first with `course_only`); returns the dict --json writes."""
    from companion.models import load_model

    results = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "quick": quick,
        "course_only": course_only,
        "machine": machine_description(),
        "load_average_start": load_average(),
    }
    print("1/6 course execution and learner waits (one notebook at a time)", flush=True)
    results["course"], results["learner_waits"] = measure_course(quick, course_repeats)
    if course_only:
        return finish(results)

    print("2/6 helper overhead", flush=True)
    tiny_model, tiny_tokenizer = load_model(TINY_MODEL)
    real_model, real_tokenizer = load_model(REAL_MODEL)
    from companion.throughput import BATCH_PROMPTS

    results["helper_overhead"] = {
        TINY_MODEL: measure_helper_overhead(tiny_model, tiny_tokenizer, BATCH_PROMPTS[:4], 20, 15 if quick else 41),
    }
    if not quick:
        results["helper_overhead"][REAL_MODEL] = measure_helper_overhead(
            real_model, real_tokenizer, BATCH_PROMPTS[:4], 8, 9
        )

    print("3/6 batching", flush=True)
    results["batching"] = {
        TINY_MODEL: measure_batching_figures(tiny_model, tiny_tokenizer, 16, 20),
        REAL_MODEL: measure_batching_figures(real_model, real_tokenizer, 4 if quick else 16, 6 if quick else 24),
    }

    print("4/6 memory (one process per configuration)", flush=True)
    configurations = ("fp32", "4bit") if quick else MEMORY_CONFIGURATIONS
    results["memory"] = measure_memory(configurations, new_tokens=4 if quick else 16)

    print("5/6 latency vs memory-bandwidth floor", flush=True)
    results["latency"] = measure_latency(real_model, real_tokenizer, quick, try_compile)

    print("6/6 load time", flush=True)
    results["load_time"] = measure_load_time(quick)
    return finish(results)


def finish(results: dict) -> dict:
    """Add the final load average and the targets; refuse NaN or infinite figures."""
    results["load_average_end"] = load_average()
    results["targets"] = target_rows(results)
    require_finite(results)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_tools.bench",
                                     description=bench_package.__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="reduced run (about a minute): of the course, only notebook 01's learner waits")
    parser.add_argument("--course-only", action="store_true",
                        help="only measurement 1: the course's execution time and the learner waits")
    parser.add_argument("--course-repeats", type=int, default=1, metavar="N",
                        help="execute the course N times (rounds) and report medians (default 1)")
    parser.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    parser.add_argument("--no-compile", action="store_true",
                        help="skip the torch.compile variant of the latency test (compiling takes minutes on 2 cores)")
    parser.add_argument("--memory-child", choices=MEMORY_CONFIGURATIONS, help=argparse.SUPPRESS)
    parser.add_argument("--new-tokens", type=int, default=16, help=argparse.SUPPRESS)
    parser.add_argument("--load-child", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args(argv)

    from companion.notebook_setup import silence_known_noise

    silence_known_noise()
    if arguments.memory_child:
        memory_child(arguments.memory_child, arguments.new_tokens)
        return 0
    if arguments.load_child:
        load_child()
        return 0
    if arguments.course_repeats < 1:
        parser.error(f"--course-repeats must be at least 1, got {arguments.course_repeats}")
    results = run_benchmarks(arguments.quick, try_compile=not (arguments.quick or arguments.no_compile),
                             course_only=arguments.course_only, course_repeats=arguments.course_repeats)
    print()
    print(format_table(results))
    if arguments.json:
        arguments.json.parent.mkdir(parents=True, exist_ok=True)
        arguments.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nwrote {arguments.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
