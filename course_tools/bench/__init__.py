"""Benchmarks of the course on this machine: `python -m course_tools.bench [--quick] [--json PATH]`.

Measures, in one run, and prints as a table (targets marked met / missed):

1. course execution time: every notebook with its default parameters (papermill);
2. helper overhead: `companion.generate_text` vs the same work written by hand;
3. batching: tokens per second of one left-padded batch of 16 prompts vs one by one;
4. memory: weight footprint and peak process memory in fp32, bf16, 8-bit and 4-bit;
5. latency: milliseconds per new token vs the memory-bandwidth floor of this machine;
6. load time of "smollm2-135m": first load (GGUF conversion) vs cached load.

`--quick` runs a reduced version in well under a minute (used by tests/test_bench.py).
The README's "Performance" section quotes a full run.

Modules: `machine` (what the figures were measured on), `children` (measurements that
need a fresh process), `measurements` (the six measurements), `report` (targets and the
printed table), `__main__` (the command). Notebooks never import this package.
"""
