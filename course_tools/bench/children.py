"""Measurements that need a fresh process, and how the parent runs them.

Peak memory only ever grows within a process, and a timed load must not profit from
files that another measurement already brought into memory, so `python -m course_tools.bench
--memory-child CONFIG` and `--load-child` run in a child and print one JSON result line.
"""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import time

from companion.models import REAL_MODEL
from course_tools.bench.machine import peak_rss_mib, proc_status_mib
from course_tools.layout import ROOT

CHILD_RESULT_PREFIX = "BENCH-RESULT "
TINY_MODEL = "tutorial-tiny"
LATENCY_PROMPT = "The capital of France is"
MEMORY_CONFIGURATIONS = ("fp32", "bf16", "8bit", "4bit")


def run_child(arguments: list[str], environment: dict | None = None) -> dict:
    """Run `python -m course_tools.bench ARGUMENTS` in a fresh process and return its JSON result."""
    command = [sys.executable, "-m", "course_tools.bench", *arguments]
    child_environment = dict(os.environ, **(environment or {}))
    start = time.perf_counter()
    completed = subprocess.run(command, capture_output=True, text=True, env=child_environment, cwd=ROOT)
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

    from companion.memory import footprint_mib
    from companion.models import load_model
    from companion.throughput import decode_ms_per_token

    baseline_rss = peak_rss_mib()  # Python + torch + transformers, no model yet
    quantization = configuration if configuration in ("4bit", "8bit") else None
    dtype = torch.bfloat16 if configuration == "bf16" else None
    start = time.perf_counter()
    model, tokenizer = load_model(REAL_MODEL, quantization=quantization, dtype=dtype)
    load_seconds = time.perf_counter() - start
    rss_after_load = peak_rss_mib()
    ms_per_token = decode_ms_per_token(model, tokenizer, LATENCY_PROMPT, new_tokens=new_tokens, repeats=1)
    gc.collect()
    release_free_heap_memory()
    rss_now = proc_status_mib("VmRSS")
    rss_file_backed = proc_status_mib("RssFile")  # pages of the mapped weights file (reclaimable)
    print_child_result({
        "configuration": configuration,
        "footprint_mib": footprint_mib(model),
        "baseline_rss_mib": baseline_rss,
        "peak_rss_after_load_mib": rss_after_load,
        "peak_rss_mib": peak_rss_mib(),
        "rss_after_generation_mib": rss_now if rss_now is not None else peak_rss_mib(),
        "rss_file_backed_after_generation_mib": rss_file_backed,
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
