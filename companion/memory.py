"""Measuring a model's memory: the bytes its weights and buffers take, and what a precision costs.

Used in notebook 06 (footprint in fp32 vs 8-bit vs 4-bit, and its exercises on a 7-billion-parameter
model). What the whole process uses (peak resident memory) is a benchmark figure: see
`course_tools.bench.machine`. The bytes one decoding step reads are `companion.throughput.weight_bytes`.
"""

from __future__ import annotations

MEBIBYTE = 1024 * 1024
BITS_PER_BYTE = 8


def footprint_mib(model) -> float:
    """Return the memory the model's parameters and buffers take, in MiB (`get_memory_footprint`)."""
    return model.get_memory_footprint() / MEBIBYTE


def bytes_per_parameter(bits: float) -> float:
    """The bytes one parameter takes when it is stored in `bits` bits: bits / 8.

    Args:
        bits: bits per parameter, e.g. 32 (fp32), 16 (bf16), 8 ("8bit") or 4 ("4bit").
    Returns:
        float: 4.0, 2.0, 1.0 or 0.5 for those. Real quantized checkpoints take a little more
        (scales, and layers that stay in full precision), which `footprint_mib` shows.
    The one conversion from a precision to bytes (notebook 06's exercises on a 7B model).
    """
    return bits / BITS_PER_BYTE
