"""Measuring a model's memory: the bytes its weights and buffers take.

Used in notebook 06 (footprint in fp32 vs 8-bit vs 4-bit). What the whole process uses
(peak resident memory) is a benchmark figure: see `course_tools.bench.machine`.
"""

from __future__ import annotations

MEBIBYTE = 1024 * 1024


def footprint_mib(model) -> float:
    """Return the memory the model's parameters and buffers take, in MiB (`get_memory_footprint`)."""
    return model.get_memory_footprint() / MEBIBYTE
