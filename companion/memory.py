"""Measuring memory: the model's weights and the process as a whole.

Used in notebook 06 (memory footprint in fp32 vs 8-bit vs 4-bit) and by `companion.bench`.
"""

from __future__ import annotations

import resource
import sys

MEBIBYTE = 1024 * 1024


def footprint_mb(model) -> float:
    """Return the memory the model's parameters and buffers take, in MiB (`get_memory_footprint`)."""
    return model.get_memory_footprint() / MEBIBYTE


def peak_rss_mb() -> float:
    """Return this process's peak resident memory so far, in MiB (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / MEBIBYTE if sys.platform == "darwin" else peak / 1024
