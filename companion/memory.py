"""Measuring memory: the model's weights and the process as a whole.

Used in notebook 06 (memory footprint in fp32 vs 8-bit vs 4-bit) and by `companion.bench`.
"""

from __future__ import annotations

import resource
import sys
from pathlib import Path

MEBIBYTE = 1024 * 1024


def footprint_mb(model) -> float:
    """Return the memory the model's parameters and buffers take, in MiB (`get_memory_footprint`)."""
    return model.get_memory_footprint() / MEBIBYTE


def proc_status_mb(field: str) -> float | None:
    """A memory figure ("VmHWM" = peak, "VmRSS" = now) of this process from /proc/self/status,
    in MiB; None where there is no /proc (macOS, Windows)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """Return this process's peak resident memory so far, in MiB.

    On Linux this is VmHWM, which belongs to this process alone: `ru_maxrss` is carried
    over from the parent through fork and exec, so a child of a 1 GB parent would report
    at least 1 GB. Elsewhere `ru_maxrss` (macOS reports bytes, others KiB).
    """
    peak = proc_status_mb("VmHWM")
    if peak is not None:
        return peak
    maximum = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maximum / MEBIBYTE if sys.platform == "darwin" else maximum / 1024
