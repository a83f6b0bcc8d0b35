"""What the figures were measured on: CPU, cores, memory, library versions, load."""

from __future__ import annotations

import os
import platform
import resource
import sys
from pathlib import Path

MEBIBYTE = 1024 * 1024


def proc_field(path: str, field: str) -> str | None:
    """The value of the first line `field: value` in a /proc file, or None without /proc.

    Args:
        path: e.g. "/proc/meminfo", "/proc/cpuinfo", "/proc/self/status".
        field: the name before the colon, e.g. "MemTotal", "model name", "VmHWM".
    """
    try:
        for line in Path(path).read_text().splitlines():
            name, _, value = line.partition(":")
            if name.strip() == field:
                return value.strip()
    except OSError:
        pass
    return None


def proc_status_mib(field: str) -> float | None:
    """A memory figure of this process from /proc/self/status ("VmHWM" = peak, "VmRSS" = now,
    "RssFile" = file-backed), in MiB; None where there is no /proc (macOS, Windows)."""
    value = proc_field("/proc/self/status", field)
    return int(value.split()[0]) / 1024 if value else None


def peak_rss_mib() -> float:
    """This process's peak resident memory so far, in MiB.

    On Linux this is VmHWM, which belongs to this process alone: `ru_maxrss` is carried
    over from the parent through fork and exec, so a child of a 1 GB parent would report
    at least 1 GB. Elsewhere `ru_maxrss` (macOS reports bytes, others KiB).
    """
    peak = proc_status_mib("VmHWM")
    if peak is not None:
        return peak
    maximum = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return maximum / MEBIBYTE if sys.platform == "darwin" else maximum / 1024


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo (Linux), else what `platform` knows."""
    return proc_field("/proc/cpuinfo", "model name") or platform.processor() or platform.machine()


def total_ram_gib() -> float | None:
    """Total memory in GiB from /proc/meminfo, or None where there is none."""
    value = proc_field("/proc/meminfo", "MemTotal")  # "24641200 kB"
    return round(int(value.split()[0]) / 1024 / 1024, 1) if value else None


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages (other processes compete for the CPU)."""
    try:
        return [round(value, 2) for value in os.getloadavg()]
    except OSError:
        return None


def machine_description() -> dict:
    """What the figures were measured on: CPU, cores, RAM, threads, library versions."""
    import torch

    from companion.notebook_setup import library_versions

    try:
        usable_cores = len(os.sched_getaffinity(0))
    except AttributeError:
        usable_cores = os.cpu_count()
    return {
        "cpu": cpu_model(),
        "logical_cores": os.cpu_count(),
        "usable_cores": usable_cores,
        "torch_threads": torch.get_num_threads(),
        "ram_gib": total_ram_gib(),
        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "platform": platform.platform(),
        **library_versions(),
        "OMP_WAIT_POLICY": os.environ.get("OMP_WAIT_POLICY"),
    }
