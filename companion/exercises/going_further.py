"""Checks for the exercises of notebook 06 (going further: latency, throughput, memory).

Each check computes the right answer itself from what the notebook measured, so the
exercises work with any MODEL and on any machine, and prints "Correct!" or a hint
(see `companion.exercises.report`).
"""

from __future__ import annotations

import math

import torch

from companion.decoding import ForwardPassRecorder
from companion.errors import CompanionError
from companion.exercises import Verdict, is_number, report
from companion.generation import generate_text, pad_token_id_or_eos, tokenize_batch
from companion.throughput import weight_bytes

# The guide's model, openlm-research/open_llama_7b, has about 7 billion parameters.
SEVEN_BILLION = 7e9
BYTES_PER_PARAMETER = {"fp32": 4.0, "bf16": 2.0, "4bit": 0.5}


def check_floor_ms_per_token(answer, model, bandwidth_gb_per_s: float) -> Verdict:
    """Exercise 1: the fastest possible time per new token, in milliseconds, on this machine.

    Args:
        answer: a number, milliseconds per token.
        model: the notebook's model (each decoding step reads all its weights once).
        bandwidth_gb_per_s: the measured memory bandwidth in GB/s (1 GB = 10**9 bytes).
    Returns:
        whether `answer` is weight bytes / bandwidth, in ms (within 2 %).
    A wrong answer prints a hint; a bandwidth that is not a positive number (the notebook's
    measurement, not the learner's answer) raises a CompanionError that says what to pass.
    """
    if not is_number(bandwidth_gb_per_s) or bandwidth_gb_per_s <= 0:
        raise CompanionError(
            f"bandwidth_gb_per_s must be a positive number of GB/s, got {bandwidth_gb_per_s!r}: pass the "
            "notebook's measurement, memory_bandwidth_gb_per_s()['read_gb_per_s']."
        )
    expected = weight_bytes(model) / (bandwidth_gb_per_s * 1e9) * 1000
    correct = is_number(answer) and math.isclose(answer, expected, rel_tol=0.02)
    if not is_number(answer):
        hint = "the answer is one number, in milliseconds: how long reading every weight once takes at this bandwidth."
    elif math.isclose(answer, expected / 1000, rel_tol=0.02):
        hint = "that is in seconds; multiply by 1000 for milliseconds."
    elif math.isclose(answer, expected * 1000, rel_tol=0.02) or math.isclose(answer, expected * 1e6, rel_tol=0.02):
        hint = "check the units: GB/s means 10**9 bytes per second, and the answer is in milliseconds."
    elif math.isclose(answer, 1 / expected, rel_tol=0.02) or math.isclose(answer, 1000 / expected, rel_tol=0.02):
        hint = "that is upside down: time = bytes to read / bytes per second."
    else:
        hint = ("one step reads every weight byte once; time is the bytes to read divided by the bytes per "
                "second the memory delivers (GB/s means 10**9 bytes per second).")
    return report(correct, "No implementation beats this floor without reading fewer bytes (smaller "
                  "weights) or sharing each read among more tokens (batching).", hint)


def check_seven_billion_memory(answer) -> Verdict:
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


def check_batch_forward_passes(answer, model, tokenizer, prompts, max_new_tokens: int) -> Verdict:
    """Predict, then run: how many forward passes one `generate()` call makes for a batch.

    The call is greedy, on `prompts` padded on the left, with `max_new_tokens` and
    `min_new_tokens` both set to `max_new_tokens` (no row stops early).
    Args:
        answer: the predicted number of forward passes (an int).
        model, tokenizer: the notebook's model; prompts: a list of strings.
    Returns:
        whether `answer` equals the count of a `ForwardPassRecorder` around the real call.
    """
    if not is_number(answer) or int(answer) != answer:
        return report(False, "", "the answer is one whole number: how many times the model runs.")
    model_inputs = tokenize_batch(tokenizer, prompts, device=model.device)
    with torch.inference_mode():
        with ForwardPassRecorder(model) as passes:
            model.generate(
                **model_inputs, max_new_tokens=max_new_tokens, min_new_tokens=max_new_tokens, do_sample=False,
                pad_token_id=pad_token_id_or_eos(tokenizer),
            )
    if answer == passes.count:
        return report(True, "one forward pass per new token, and each pass serves every row of the batch: "
                      "that shared read of the weights is where batching gets its speed.", "")
    if answer == passes.count * len(prompts):
        hint = "that is one pass per row and token; a pass computes the next token of every row at once."
    elif answer in (passes.count - 1, passes.count + 1):
        hint = "close: which pass produces the first new token, and does the last token need a pass of its own?"
    else:
        hint = "count the passes: one over the prompts, then one for each further new token, for the whole batch."
    return report(False, "", hint)


def check_left_padded_answers(answer, model, tokenizer, prompts, max_new_tokens: int) -> Verdict:
    """Fix a broken call: the greedy answers of a correctly padded batch (new text only, one per prompt).

    Args:
        answer: a list of strings, the decoded new tokens of each prompt (special tokens skipped).
        model, tokenizer: the notebook's model; prompts: the batch's strings.
        max_new_tokens: the call's token budget.
    Returns:
        whether `answer` equals `companion.generate_text` (left padding, greedy) on the batch.
    """
    if not isinstance(answer, (list, tuple)) or not all(isinstance(text, str) for text in answer):
        return report(False, "", "hand in a list of strings: the decoded answer of each prompt.")
    if len(answer) != len(prompts):
        return report(False, "", f"one answer per prompt: {len(prompts)} strings.")
    expected = generate_text(model, tokenizer, prompts, max_new_tokens=max_new_tokens, do_sample=False)
    if list(answer) == expected:
        return report(True, "padded on the left, every row ends with its prompt's last token, where the "
                      "next token is predicted.", "")
    right_padded = generate_text(model, tokenizer, prompts, max_new_tokens=max_new_tokens, do_sample=False, side="right")
    if list(answer) == right_padded:
        hint = "these are still the answers of the right-padded batch: read the warning under the broken cell."
    elif all(text.strip().startswith(prompt.strip()[:10]) for text, prompt in zip(answer, prompts)):
        hint = "decode only the new tokens, not the prompts in front of them."
    else:
        hint = "the answers differ from greedy decoding of a left-padded batch; check the padding side and do_sample."
    return report(False, "", hint)


GPU_PRECISIONS = {None: 4.0, "8bit": 1.0, "4bit": 0.5}  # bytes per weight for QUANTIZATION = ...


def check_quantization_for_gpu(answer, gpu_gb: float = 6.0) -> Verdict:
    """Change a setting to reach a goal: the QUANTIZATION with the most precision whose 7B weights fit `gpu_gb`.

    Args:
        answer: None, "8bit" or "4bit" (the values of the notebooks' QUANTIZATION parameter).
        gpu_gb: GPU memory for the weights, in GB (1 GB = 10**9 bytes).
    Returns:
        whether `answer` is the most precise setting whose weights (7e9 x bytes per weight) fit.
    """
    if not (answer is None or isinstance(answer, str)) or answer not in GPU_PRECISIONS:  # a list is unhashable
        return report(False, "", 'choose one of the QUANTIZATION values: None, "8bit" or "4bit".')
    fitting = [setting for setting, size in GPU_PRECISIONS.items() if SEVEN_BILLION * size / 1e9 <= gpu_gb]
    best = max(fitting, key=lambda setting: GPU_PRECISIONS[setting]) if fitting else None
    needed_gb = SEVEN_BILLION * GPU_PRECISIONS[answer] / 1e9
    if fitting and answer == best:
        return report(True, f"{needed_gb:g} GB of weights fit in {gpu_gb:g} GB; the next more precise setting "
                      "would not.", "")
    if needed_gb > gpu_gb:
        hint = f"with that setting the weights alone need {needed_gb:g} GB: more than the {gpu_gb:g} GB."
    else:
        hint = "that fits, but a setting with more bits per weight fits too, and keeps more quality."
    return report(False, "", hint)
