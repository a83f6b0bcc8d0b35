"""Checks for the exercises of notebook 06 (going further: latency, throughput, memory).

Each check computes the right answer itself from what the notebook measured, so the
exercises work with any MODEL and on any machine, and prints "Correct!" or a hint
(see `companion.exercises.report`).
"""

from __future__ import annotations

import math

from companion.exercises import report
from companion.throughput import weight_bytes

# The guide's model, openlm-research/open_llama_7b, has about 7 billion parameters.
SEVEN_BILLION = 7e9
BYTES_PER_PARAMETER = {"fp32": 4.0, "bf16": 2.0, "4bit": 0.5}


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def check_floor_ms_per_token(answer, model, bandwidth_gb_per_s: float) -> bool:
    """Exercise 1: the fastest possible time per new token, in milliseconds, on this machine.

    Args:
        answer: a number, milliseconds per token.
        model: the notebook's model (each decoding step reads all its weights once).
        bandwidth_gb_per_s: the measured memory bandwidth in GB/s (1 GB = 10**9 bytes).
    Returns:
        whether `answer` is weight bytes / bandwidth, in ms (within 2 %).
    """
    expected = weight_bytes(model) / (bandwidth_gb_per_s * 1e9) * 1000
    correct = is_number(answer) and math.isclose(answer, expected, rel_tol=0.02)
    if not is_number(answer):
        hint = "the answer is one number: weight_bytes(model) divided by the bandwidth in bytes per second, in ms."
    elif math.isclose(answer, expected / 1000, rel_tol=0.02):
        hint = "that is in seconds; multiply by 1000 for milliseconds."
    elif math.isclose(answer, expected * 1000, rel_tol=0.02) or math.isclose(answer, expected * 1e6, rel_tol=0.02):
        hint = "check the units: GB/s means 10**9 bytes per second, and the answer is in milliseconds."
    elif math.isclose(answer, 1 / expected, rel_tol=0.02) or math.isclose(answer, 1000 / expected, rel_tol=0.02):
        hint = "that is upside down: time = bytes to read / bytes per second."
    else:
        hint = ("one step reads every weight once: time = weight_bytes(model) / (bandwidth_gb_per_s * 1e9) "
                "seconds; then convert to milliseconds.")
    return report(correct, "No implementation beats this floor without reading fewer bytes (smaller "
                  "weights) or sharing each read among more tokens (batching).", hint)


def check_seven_billion_memory(answer) -> bool:
    """Exercise 2: memory for the weights of a 7-billion-parameter model, in GB, per precision.

    Args:
        answer: a dict {"fp32": GB, "bf16": GB, "4bit": GB} (1 GB = 10**9 bytes).
    Returns:
        whether each value is within 15 % of parameters x bytes per parameter
        (real 4-bit checkpoints are a little larger: scales and unquantized layers).
    """
    expected = {name: SEVEN_BILLION * size / 1e9 for name, size in BYTES_PER_PARAMETER.items()}
    if not isinstance(answer, dict) or set(answer) != set(expected):
        return report(False, "", 'hand in a dict with the keys "fp32", "bf16" and "4bit", one number (GB) each.')
    wrong = [name for name in expected
             if not (is_number(answer[name]) and math.isclose(answer[name], expected[name], rel_tol=0.15))]
    if not wrong:
        return report(True, "28 GB in fp32 needs a large GPU; 3.5 GB in 4-bit fits a free Colab GPU, "
                      "which is why the guide loads open_llama_7b in 4-bit.", "")
    name = wrong[0]
    value = answer[name]
    if is_number(value) and math.isclose(value, expected[name] * 8, rel_tol=0.15):
        hint = f'"{name}": that counts bits; a byte has 8 of them.'
    elif is_number(value) and math.isclose(value, expected[name] * 1e9, rel_tol=0.15):
        hint = f'"{name}": that is in bytes; divide by 10**9 for GB.'
    else:
        hint = (f'"{name}": multiply 7 billion parameters by the bytes per parameter '
                "(fp32 = 32 bits, bf16 = 16 bits, 4-bit = 4 bits; 8 bits per byte).")
    return report(False, "", hint)
