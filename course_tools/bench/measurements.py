"""The six measurements of `python -m course_tools.bench` (see the package docstring)."""

from __future__ import annotations

import copy
import statistics
import tempfile
import time

from companion.models import REAL_MODEL
from course_tools.bench.children import LATENCY_PROMPT, run_child


def measure_course(quick: bool, repeats: int = 1) -> tuple[dict, dict]:
    """Execute the English notebooks one at a time (default parameters): (course, learner waits).

    The same runs give both: the course's execution time (every notebook's wall time, median
    over `repeats` rounds) and what a learner waits for in each (course_tools.bench.learner_waits).
    The executed copies stay in build/bench/executed/round-N/ (--quick: build/bench/executed-quick/).
    With --quick only the first notebook runs: its waits are measured, the course is "skipped".
    """
    from course_tools.bench.learner_waits import measure_learner_waits
    from course_tools.layout import BUILD, notebook_paths

    paths = notebook_paths("en")
    executed_folder = BUILD / "bench" / ("executed-quick" if quick else "executed")
    waits = measure_learner_waits(paths[:1] if quick else paths, repeats, executed_folder)
    if quick:
        return {"skipped": True, "notebooks": [], "total_seconds": None}, waits
    notebooks = [
        {"name": notebook["name"], "seconds": notebook["wall_seconds"], "error": "; ".join(notebook["errors"]) or None}
        for notebook in waits["notebooks"]
    ]
    course = {
        "skipped": False,
        "jobs": 1,
        "repeats": repeats,
        "notebooks": notebooks,
        "total_seconds": sum(notebook["seconds"] for notebook in notebooks),
    }
    return course, waits


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
        print(f"  memory {configuration}: {results[configuration]['footprint_mib']:.0f} MiB weights", flush=True)
    reference = results["fp32"]
    for result in results.values():
        result["footprint_ratio_to_fp32"] = result["footprint_mib"] / reference["footprint_mib"]
        result["peak_rss_ratio_to_fp32"] = result["peak_rss_mib"] / reference["peak_rss_mib"]
        result["rss_after_generation_ratio_to_fp32"] = (
            result["rss_after_generation_mib"] / reference["rss_after_generation_mib"]
        )
    return results


def latency_figures(
    model, tokenizer, bandwidth_gb_per_s: float, new_tokens: int, repeats: int, **generate_kwargs
) -> dict:
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
