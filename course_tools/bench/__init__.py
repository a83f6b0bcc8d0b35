"""Benchmarks of the course on this machine: `python -m course_tools.bench [--quick] [--json PATH]`.

Measures, in one run, and prints as a table (targets marked met / missed):

1. course execution time and learner waits: every notebook of notebooks/en, one at a time, with
   its default parameters (papermill); from the same runs, each notebook's slowest cell and the
   time from kernel start to its first model output (`learner_waits`);
2. helper overhead: `companion.generate_text` vs the same work written by hand;
3. batching: tokens per second of one left-padded batch of 16 prompts vs one by one;
4. memory: weight footprint and peak process memory in fp32, bf16, 8-bit and 4-bit;
5. latency: milliseconds per new token vs the memory-bandwidth floor of this machine;
6. load time of "smollm2-135m": first load (GGUF conversion) vs cached load.

`--quick` runs a reduced version in about a minute (used by tests/test_bench.py): of the course,
only notebook 01's waits. `--course-only` runs measurement 1 alone, `--course-repeats N` executes
the course N times and reports medians. docs/performance.md quotes full runs.

Modules: `machine` (what the figures were measured on), `children` (measurements that
need a fresh process), `learner_waits` (slowest cell and first model output, read from
papermill's timings), `measurements` (the six measurements), `report` (targets and the
printed table), `__main__` (the command). Notebooks never import this package.
"""
