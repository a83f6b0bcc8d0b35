"""A classroom at once: many processes load the same model into an empty shared cache.

On a shared JupyterHub twenty kernels may run `load_model("smollm2-135m")` at the same
moment. companion.cache holds a file lock while it builds an entry, so the conversion runs
once, the other processes wait without printing anything, then load the finished entry.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from companion import cache, models

# Started first; each waits for the `go` file so that all of them start the load together.
WAIT_FOR_GO = """
import os, sys, time
from pathlib import Path
ready, go = Path(sys.argv[1]), Path(sys.argv[2])
ready.touch()
while not go.exists():
    time.sleep(0.005)
"""

CHEAP_BUILD = WAIT_FOR_GO + """
from companion import cache
marker = Path(sys.argv[3])

def build(target):
    with open(marker, "a") as handle:  # one line per build that really ran
        handle.write(f"{os.getpid()}\\n")
    time.sleep(0.5)  # long enough for every other process to arrive while it builds
    (target / "weights.bin").write_bytes(b"\\x01" * 100_000)

folder, built = cache.cached_folder("entry", "key-1", build)
print(folder, built)
"""

SMOLLM2_LOAD = """
import companion, torch, transformers  # imported before the start line: only the load is timed
from companion import models
from course_tools.bench.machine import peak_rss_mib
import json, resource
""" + WAIT_FOR_GO + """
marker = Path(sys.argv[3])
convert = models.build_smollm2_folder

def counting_convert(gguf_path, target):
    with open(marker, "a") as handle:  # one line per conversion that really ran
        handle.write(f"{os.getpid()}\\n")
    convert(gguf_path, target)

models.build_smollm2_folder = counting_convert
start = time.perf_counter()
model, tokenizer = companion.load_model("smollm2-135m")
load_seconds = time.perf_counter() - start
inputs = tokenizer("The capital of France is", return_tensors="pt")
tokens = model.generate(**inputs, max_new_tokens=8, do_sample=False)[0, inputs["input_ids"].shape[1]:]
print(json.dumps({
    "tokens": tokens.tolist(),
    "text": tokenizer.decode(tokens),
    "load_seconds": load_seconds,
    "peak_rss_mib": peak_rss_mib(),
    "converter_peak_rss_mib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
}))
"""


def stampede(script: str, count: int, tmp_path: Path, timeout_seconds: float):
    """Start `count` processes running `script`, release them at once; return (results, wall seconds, marker)."""
    marker = tmp_path / "builds.txt"
    go = tmp_path / "go"
    environment = {**os.environ, "COMPANION_CACHE": str(tmp_path / "cache"), "OMP_NUM_THREADS": "1"}
    children = []
    for index in range(count):
        ready = tmp_path / f"ready-{index}"
        command = [sys.executable, "-c", script, str(ready), str(go), str(marker)]
        children.append((ready, subprocess.Popen(command, env=environment, stdout=subprocess.PIPE,
                                                 stderr=subprocess.PIPE, text=True)))
    deadline = time.monotonic() + timeout_seconds
    while not all(ready.exists() for ready, _ in children):
        assert time.monotonic() < deadline, "the processes did not start"
        assert all(child.poll() is None for _, child in children), [c.communicate() for _, c in children]
        time.sleep(0.01)
    start = time.perf_counter()
    go.touch()
    results = [child.communicate(timeout=max(1.0, deadline - time.monotonic())) for _, child in children]
    wall_seconds = time.perf_counter() - start
    for (_, child), (_, stderr) in zip(children, results, strict=True):
        assert child.returncode == 0, stderr[-3000:]
    return results, wall_seconds, marker


def test_cheap_stampede_builds_once(tmp_path):
    results, _, marker = stampede(CHEAP_BUILD, 4, tmp_path, timeout_seconds=120)
    assert len(marker.read_text().splitlines()) == 1  # one build; the other three waited
    outputs = [stdout.split() for stdout, _ in results]
    assert {folder for folder, _ in outputs} == {str(tmp_path / "cache" / "entry")}
    assert sorted(built for _, built in outputs) == ["False"] * 3 + ["True"]
    assert all(stderr == "" for _, stderr in results)  # waiting prints nothing
    assert cache.is_valid_entry(tmp_path / "cache" / "entry", "key-1", full=True)


@pytest.mark.slow
def test_classroom_stampede_on_smollm2_converts_once(tmp_path):
    count = 4  # on 2 cores; twenty kernels behave the same, only slower
    results, wall_seconds, marker = stampede(SMOLLM2_LOAD, count, tmp_path, timeout_seconds=600)
    reports = [json.loads(stdout.strip().splitlines()[-1]) for stdout, _ in results]
    assert len(marker.read_text().splitlines()) == 1, "the GGUF file was converted more than once"
    assert len({tuple(report["tokens"]) for report in reports}) == 1  # the same model in every process
    assert "Paris" in reports[0]["text"]
    for stdout, stderr in results:
        assert stdout.strip().count("\n") == 0, stdout  # nothing printed but the report
        assert stderr == "", stderr[-2000:]
    entry = tmp_path / "cache" / "smollm2-135m"
    assert cache.is_valid_entry(entry, models.smollm2_source_key(models.smollm2_gguf_path()), full=True)
    assert sorted(path.name for path in (tmp_path / "cache").iterdir()) == [".smollm2-135m.lock", "smollm2-135m"]
    busiest = max(reports, key=lambda report: report["peak_rss_mib"])
    print(
        f"\nstampede of {count} processes: {wall_seconds:.1f} s wall; load times "
        + ", ".join(f"{report['load_seconds']:.1f}" for report in reports)
        + f" s; busiest process peak {busiest['peak_rss_mib']:.0f} MiB (VmHWM); converter child peak "
        + f"{max(report['converter_peak_rss_mib'] for report in reports):.0f} MiB (ru_maxrss)"
    )
