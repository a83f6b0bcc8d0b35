"""Benchmarks of the course on this machine: `python -m companion.bench [--quick] [--json PATH]`.

Measures, in one run, and prints as a table (targets marked met / missed):

1. course execution time: every notebook with its default parameters (papermill);
2. helper overhead: `companion.generate_text` vs the same work written by hand;
3. batching: tokens per second of one left-padded batch of 16 prompts vs one by one;
4. memory: weight footprint and peak process memory in fp32, bf16, 8-bit and 4-bit;
5. latency: milliseconds per new token vs the memory-bandwidth floor of this machine;
6. load time of "smollm2-135m": first load (GGUF conversion) vs cached load.

`--quick` runs a reduced version in well under a minute (used by tests/test_bench.py).
Memory and load times are measured in fresh child processes (`--memory-child`,
`--load-child`): peak RSS only ever grows within a process, and a load must not
profit from files another measurement already brought into memory.
The README's "Performance" section (docs/performance.md) quotes a full run.
"""

from __future__ import annotations

import companion  # noqa: F401  (sets OMP_WAIT_POLICY=PASSIVE etc. before torch is imported)

import argparse
import copy
import datetime
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from companion.memory import peak_rss_mb, proc_status_mb

CHILD_RESULT_PREFIX = "BENCH-RESULT "
REAL_MODEL = "smollm2-135m"
TINY_MODEL = "tutorial-tiny"
LATENCY_PROMPT = "The capital of France is"
MEMORY_CONFIGURATIONS = ("fp32", "bf16", "8bit", "4bit")

TARGETS = {
    "course_total_seconds": ("<=", 180.0),
    "helper_overhead_ratio": ("<=", 1.05),
    "batching_speedup_smollm2": (">=", 4.0),
    "footprint_4bit_ratio": ("<=", 0.4),
    "latency_to_floor_ratio": ("<=", 2.0),
    "cached_load_seconds": ("<=", 5.0),
}


# ---------------------------------------------------------------- the machine


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what `platform` knows."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def total_ram_gib() -> float | None:
    """Total memory in GiB from /proc/meminfo, or None where there is none."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024 / 1024, 1)
    except OSError:
        pass
    return None


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (other processes compete for the CPU)."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def machine_description() -> dict:
    """What the figures were measured on: CPU, cores, RAM, library versions."""
    import torch
    import transformers

    try:
        usable_cores = len(os.sched_getaffinity(0))
    except AttributeError:
        usable_cores = os.cpu_count()
    try:
        import bitsandbytes

        bitsandbytes_version = bitsandbytes.__version__
    except ImportError:
        bitsandbytes_version = "not installed"
    return {
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": usable_cores,
        "torch_threads": torch.get_num_threads(),
        "ram_gib": total_ram_gib(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "bitsandbytes": bitsandbytes_version,
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"),
    }


# ---------------------------------------------------------------- child processes


def run_child(arguments: list[str], environment: dict | None = None) -> dict:
    """Run `python -m companion.bench ARGUMENTS` in a fresh process and return its JSON result."""
    command = [sys.executable, "-m", "companion.bench", *arguments]
    child_environment = dict(os.environ, **(environment or {}))
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env=child_environment)
    wall_seconds = time.perf_counter() - start
    for line in completed.stdout.splitlines():
        if line.startswith(CHILD_RESULT_PREFIX):
            result = json.loads(line[len(CHILD_RESULT_PREFIX):])
            result["process_wall_seconds"] = wall_seconds
            return result
    last_lines = "\n".join(completed.stderr.strip().splitlines()[-10:])
    raise RuntimeError(f"Child {' '.join(arguments)} failed (exit {completed.returncode}):\n{last_lines}")


def release_free_heap_memory() -> None:
    """Ask glibc to hand freed heap memory back to the system (Linux only; elsewhere nothing).

    Without it the resident size after loading keeps the temporary full-precision copies
    that quantization freed, and would not show what the quantized model occupies.
    """
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def print_child_result(result: dict) -> None:
    print(CHILD_RESULT_PREFIX + json.dumps(result), flush=True)


def memory_child(configuration: str, new_tokens: int) -> None:
    """Load smollm2-135m in one configuration; report footprint, peak RSS and ms per token."""
    import torch

    from companion.memory import footprint_mb
    from companion.models import load_model
    from companion.throughput import decode_ms_per_token

    baseline_rss = peak_rss_mb()  # Python + torch + transformers, no model yet
    quantization = configuration if configuration in ("4bit", "8bit") else None
    dtype = torch.bfloat16 if configuration == "bf16" else None
    start = time.perf_counter()
    model, tokenizer = load_model(REAL_MODEL, quantization=quantization, dtype=dtype)
    load_seconds = time.perf_counter() - start
    rss_after_load = peak_rss_mb()
    ms_per_token = decode_ms_per_token(model, tokenizer, LATENCY_PROMPT, new_tokens=new_tokens, repeats=1)
    gc.collect()
    release_free_heap_memory()
    rss_now = proc_status_mb("VmRSS")
    rss_file_backed = proc_status_mb("RssFile")  # pages of the mapped weights file (reclaimable)
    print_child_result({
        "configuration": configuration,
        "footprint_mb": footprint_mb(model),
        "baseline_rss_mb": baseline_rss,
        "peak_rss_after_load_mb": rss_after_load,
        "peak_rss_mb": peak_rss_mb(),
        "rss_after_generation_mb": rss_now if rss_now is not None else peak_rss_mb(),
        "rss_file_backed_after_generation_mb": rss_file_backed,
        "load_seconds": load_seconds,
        "ms_per_token": ms_per_token,
    })


def load_child() -> None:
    """Time `load_model("smollm2-135m")` in a fresh process (the cache folder comes from the environment)."""
    from companion.cache import cache_root
    from companion.models import load_model

    had_cache = (cache_root() / REAL_MODEL).is_dir()
    start = time.perf_counter()
    load_model(REAL_MODEL)
    print_child_result({"load_seconds": time.perf_counter() - start, "cache_existed": had_cache})


# ---------------------------------------------------------------- the measurements


def measure_course(quick: bool) -> dict:
    """Execute every notebook (default parameters) and time each; skipped with --quick."""
    from companion.course import notebook_paths, run_notebook

    if quick:
        return {"skipped": True, "notebooks": [], "total_seconds": None}
    notebooks = []
    with tempfile.TemporaryDirectory(prefix="companion-bench-course-") as output_folder:
        for path in notebook_paths("en"):
            run = run_notebook(path, Path(output_folder) / path.name)
            notebooks.append({"name": path.name, "seconds": run.seconds, "error": run.error})
            print(f"  executed {path.name}: {run.seconds:.1f} s {run.error or ''}", flush=True)
    return {
        "skipped": False,
        "notebooks": notebooks,
        "total_seconds": sum(notebook["seconds"] for notebook in notebooks),
    }


def raw_generate_text(model, tokenizer, prompts: list[str], max_new_tokens: int) -> list[str]:
    """The helper's work written by hand as in the guide: tokenize, generate, decode the new tokens.

    `tokenizer` must already pad on the left and have a pad token.
    """
    model_inputs = tokenizer(prompts, padding=True, return_tensors="pt")
    input_ids = model_inputs["input_ids"].to(model.device)
    attention_mask = model_inputs["attention_mask"].to(model.device)
    generated_ids = model.generate(
        input_ids=input_ids, attention_mask=attention_mask, max_new_tokens=max_new_tokens,
        do_sample=False, pad_token_id=tokenizer.pad_token_id,
    )
    return tokenizer.batch_decode(generated_ids[:, input_ids.shape[1]:], skip_special_tokens=True)


def measure_helper_overhead(model, tokenizer, prompts: list[str], max_new_tokens: int, repeats: int) -> dict:
    """Median time of `generate_text` vs `raw_generate_text` on the same prompts, interleaved."""
    from companion.generation import generate_text

    raw_tokenizer = copy.deepcopy(tokenizer)
    raw_tokenizer.padding_side = "left"
    if raw_tokenizer.pad_token is None:
        raw_tokenizer.pad_token = raw_tokenizer.eos_token

    def helper():
        return generate_text(model, tokenizer, prompts, max_new_tokens=max_new_tokens, do_sample=False)

    def raw():
        return raw_generate_text(model, raw_tokenizer, prompts, max_new_tokens)

    same_texts = helper() == raw()  # also the warm-up
    helper_times, raw_times = [], []
    for repeat in range(repeats):
        # Alternate the order so that a slow phase of the machine hits both sides alike.
        order = [(helper, helper_times), (raw, raw_times)]
        if repeat % 2:
            order.reverse()
        for function, times in order:
            start = time.perf_counter()
            function()
            times.append(time.perf_counter() - start)
    helper_median = statistics.median(helper_times)
    raw_median = statistics.median(raw_times)
    return {
        "prompts": len(prompts),
        "max_new_tokens": max_new_tokens,
        "repeats": repeats,
        "helper_median_seconds": helper_median,
        "raw_median_seconds": raw_median,
        "ratio": helper_median / raw_median,
        "same_texts": same_texts,
    }


def measure_batching_figures(model, tokenizer, prompt_count: int, max_new_tokens: int) -> dict:
    """Run `companion.throughput.measure_batching` and keep the figures as plain JSON."""
    from companion.throughput import BATCH_PROMPTS, measure_batching

    result = measure_batching(model, tokenizer, BATCH_PROMPTS[:prompt_count], max_new_tokens=max_new_tokens)
    return {
        "prompts": len(result.prompts),
        "max_new_tokens": result.max_new_tokens,
        "sequential_seconds": result.sequential_seconds,
        "batched_seconds": result.batched_seconds,
        "sequential_new_tokens": result.sequential_new_tokens,
        "batched_new_tokens": result.batched_new_tokens,
        "sequential_tokens_per_second": result.sequential_tokens_per_second,
        "batched_tokens_per_second": result.batched_tokens_per_second,
        "speedup": result.speedup,
        "equal_rows": result.equal_rows,
        "first_differences": [list(pair) for pair in result.first_differences],
    }


def measure_memory(configurations: tuple[str, ...], new_tokens: int) -> dict:
    """One fresh process per configuration; ratios are relative to fp32."""
    results = {}
    for configuration in configurations:
        results[configuration] = run_child(["--memory-child", configuration, "--new-tokens", str(new_tokens)])
        print(f"  memory {configuration}: {results[configuration]['footprint_mb']:.0f} MiB weights", flush=True)
    reference = results["fp32"]
    for result in results.values():
        result["footprint_ratio_to_fp32"] = result["footprint_mb"] / reference["footprint_mb"]
        result["peak_rss_ratio_to_fp32"] = result["peak_rss_mb"] / reference["peak_rss_mb"]
        result["rss_after_generation_ratio_to_fp32"] = (
            result["rss_after_generation_mb"] / reference["rss_after_generation_mb"]
        )
    return results


def latency_figures(model, tokenizer, bandwidth_gb_per_s: float, new_tokens: int, repeats: int, **generate_kwargs) -> dict:
    """ms per new token of `model` and the floor that this machine's bandwidth allows."""
    from companion.throughput import decode_ms_per_token, linear_layers_ms, weight_bytes

    ms_per_token = decode_ms_per_token(
        model, tokenizer, LATENCY_PROMPT, new_tokens=new_tokens, repeats=repeats, **generate_kwargs
    )
    floor_ms = weight_bytes(model) / (bandwidth_gb_per_s * 1e9) * 1000
    kernels_ms = linear_layers_ms(model)
    return {
        "linear_kernels_ms": kernels_ms,  # the matrix-vector products alone (see linear_layers_ms)
        "linear_kernels_to_floor_ratio": kernels_ms / floor_ms,
        "overhead_ms": ms_per_token - kernels_ms,  # attention, norms, cache, Python: everything else
        "weight_mb": weight_bytes(model) / 1e6,
        "ms_per_token": ms_per_token,
        "tokens_per_second": 1000 / ms_per_token,
        "floor_ms_per_token": floor_ms,
        "ratio_to_floor": ms_per_token / floor_ms,
        "fraction_of_floor_speed": floor_ms / ms_per_token,
    }


def measure_latency(model, tokenizer, quick: bool, try_compile: bool) -> dict:
    """fp32 eager (the course's default) vs the floor, plus the fixes: static cache, bf16, torch.compile."""
    import torch

    from companion.models import load_model
    from companion.throughput import memory_bandwidth_gb_per_s

    bandwidth = memory_bandwidth_gb_per_s(megabytes=128 if quick else 512, repeats=3 if quick else 7)
    floor_bandwidth = bandwidth["copy_gb_per_s"]
    new_tokens = 8 if quick else 32
    repeats = 1 if quick else 5
    variants = {"fp32": latency_figures(model, tokenizer, floor_bandwidth, new_tokens, repeats)}
    print(f"  latency fp32: {variants['fp32']['ms_per_token']:.1f} ms/token", flush=True)
    if not quick:
        variants["fp32 + static cache"] = latency_figures(
            model, tokenizer, floor_bandwidth, new_tokens, repeats, cache_implementation="static"
        )
        bf16_model, _ = load_model(REAL_MODEL, dtype=torch.bfloat16)
        variants["bf16"] = latency_figures(bf16_model, tokenizer, floor_bandwidth, new_tokens, repeats)
        del bf16_model
    if try_compile:
        compiled_model, _ = load_model(REAL_MODEL)
        compiled_model.forward = torch.compile(compiled_model.forward)
        start = time.perf_counter()
        variants["fp32 + static cache + torch.compile"] = latency_figures(
            compiled_model, tokenizer, floor_bandwidth, new_tokens, repeats, cache_implementation="static"
        )
        variants["fp32 + static cache + torch.compile"]["compile_and_measure_seconds"] = time.perf_counter() - start
        del compiled_model
    best = min(variants, key=lambda name: variants[name]["ratio_to_floor"])
    return {"bandwidth": bandwidth, "new_tokens": new_tokens, "variants": variants, "best_variant": best}


def measure_load_time(quick: bool) -> dict:
    """Cold load (conversion into an empty cache) and cached load, each in a fresh process."""
    if quick:
        cached = run_child(["--load-child"])  # the user's cache; a first-ever run builds it here
        return {"cold_seconds": None, "cached_seconds": cached["load_seconds"],
                "cached_process_seconds": cached["process_wall_seconds"]}
    with tempfile.TemporaryDirectory(prefix="companion-bench-cache-") as cache_folder:
        environment = {"COMPANION_CACHE": cache_folder}
        cold = run_child(["--load-child"], environment)
        cached = run_child(["--load-child"], environment)
    return {
        "cold_seconds": cold["load_seconds"],
        "cached_seconds": cached["load_seconds"],
        "cold_process_seconds": cold["process_wall_seconds"],
        "cached_process_seconds": cached["process_wall_seconds"],
        "cold_to_cached_ratio": cold["load_seconds"] / cached["load_seconds"],
    }


# ---------------------------------------------------------------- targets and report


def target_rows(results: dict) -> list[dict]:
    """One row per target: the figure, the target and whether it was met (None = not measured)."""
    figures = {
        "course_total_seconds": results["course"]["total_seconds"],
        "helper_overhead_ratio": results["helper_overhead"][TINY_MODEL]["ratio"],
        "batching_speedup_smollm2": results["batching"][REAL_MODEL]["speedup"],
        "footprint_4bit_ratio": results["memory"].get("4bit", {}).get("footprint_ratio_to_fp32"),
        "latency_to_floor_ratio": results["latency"]["variants"]["fp32"]["ratio_to_floor"],
        "cached_load_seconds": results["load_time"]["cached_seconds"],
    }
    rows = []
    for name, (comparison, target) in TARGETS.items():
        figure = figures[name]
        if figure is None:
            met = None
        elif comparison == "<=":
            met = figure <= target
        else:
            met = figure >= target
        rows.append({"name": name, "figure": figure, "comparison": comparison, "target": target, "met": met})
    return rows


def format_table(results: dict) -> str:
    """The human-readable summary printed at the end of a run."""
    lines = []

    def row(label: str, value: str, note: str = "") -> None:
        lines.append(f"{label:<52} {value:>14}  {note}")

    machine = results["machine"]
    lines.append(f"companion.bench {results['date']}  {'(quick)' if results['quick'] else ''}")
    lines.append(f"{machine['cpu']}, {machine['usable_cores']} cores, {machine['ram_gib']} GiB RAM, "
                 f"torch {machine['torch']}, transformers {machine['transformers']}")
    lines.append(f"load average at start {results['load_average_start']}, at end {results['load_average_end']}")
    lines.append("")
    course = results["course"]
    if course["skipped"]:
        row("1. course execution", "skipped", "(--quick)")
    else:
        for notebook in course["notebooks"]:
            row(f"1. {notebook['name']}", f"{notebook['seconds']:.1f} s", "FAILED" if notebook["error"] else "")
        row("1. course total", f"{course['total_seconds']:.1f} s")
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
            f"{memory['footprint_mb']:.0f} / {memory['peak_rss_mb']:.0f} / {memory['rss_after_generation_mb']:.0f} MiB",
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
    lines.append("")
    lines.append("Targets:")
    for target in results["targets"]:
        status = {True: "met", False: "MISSED", None: "not measured"}[target["met"]]
        figure = "-" if target["figure"] is None else f"{target['figure']:.3g}"
        row(f"  {target['name']} {target['comparison']} {target['target']:g}", figure, status)
    return "\n".join(lines)


def check_finite(value, path: str = "results") -> None:
    """Raise if a number anywhere in the results is NaN or infinite (JSON would not hold it)."""
    if isinstance(value, dict):
        for key, item in value.items():
            check_finite(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_finite(item, f"{path}[{index}]")
    elif isinstance(value, float) and not math.isfinite(value):
        raise ValueError(f"{path} is {value}")


def run_benchmarks(quick: bool, try_compile: bool) -> dict:
    """All six measurements in order; returns the results dict that --json writes."""
    from companion.models import load_model

    results = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "quick": quick,
        "machine": machine_description(),
        "load_average_start": load_average(),
    }
    print("1/6 course execution", flush=True)
    results["course"] = measure_course(quick)

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

    results["load_average_end"] = load_average()
    results["targets"] = target_rows(results)
    check_finite(results)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m companion.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="reduced run (< 1 minute), skips the course")
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
    results = run_benchmarks(arguments.quick, try_compile=not (arguments.quick or arguments.no_compile))
    print()
    print(format_table(results))
    if arguments.json:
        arguments.json.parent.mkdir(parents=True, exist_ok=True)
        arguments.json.write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nwrote {arguments.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
