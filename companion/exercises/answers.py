"""Reading a learner's answer: every exercise check accepts an answer in the same forms.

Each reader takes whatever a learner stored in `answer` and never raises: it returns the
value in one form (or None / False when the answer is not of that kind), and the check
turns that into a hint. True and False are never numbers here, although Python counts
them as ints. Used by every module of `companion.exercises` (notebooks 01-09); prints nothing.
"""

from __future__ import annotations

import math

import torch


def is_whole_number(answer) -> bool:
    """True if a learner's answer is an int (True/False are not numbers here)."""
    return isinstance(answer, int) and not isinstance(answer, bool)


def is_whole_number_between(answer, lowest: int, highest: int) -> bool:
    """True if a learner's answer is an int with `lowest <= answer <= highest`, e.g. a max_new_tokens."""
    return is_whole_number(answer) and lowest <= answer <= highest


def is_number(answer) -> bool:
    """True if a learner's answer is a finite int or float (True/False are not numbers here)."""
    return isinstance(answer, (int, float)) and not isinstance(answer, bool) and math.isfinite(answer)


def as_number(answer) -> float | None:
    """Read an int, a float or a one-element tensor (shape () or (1,)) as a float; None for anything else.

    Unlike `is_number`, nan and inf are read as they are: the check decides what they mean.
    """
    if isinstance(answer, bool):
        return None
    if isinstance(answer, torch.Tensor) and answer.numel() == 1:
        return float(answer.item())
    if isinstance(answer, (int, float)):
        return float(answer)
    return None


def tensor_as_int(answer):
    """A one-element tensor (shape () or (1,), e.g. from `argmax()` or `.shape[1] - t`) as a
    Python int, `int(answer.item())`; any other answer is returned unchanged."""
    if isinstance(answer, torch.Tensor) and answer.numel() == 1:
        return int(answer.item())
    return answer


def as_token_id(answer, tokenizer) -> int | None:
    """Read one token given as an int id, a one-element tensor of it, or its text; None if unreadable.

    A text counts only if `tokenizer` makes exactly one token of it (no special tokens added).
    """
    answer = tensor_as_int(answer)
    if is_whole_number(answer):
        return answer
    if isinstance(answer, str):
        token_ids = tokenizer(answer, add_special_tokens=False)["input_ids"]
        return token_ids[0] if len(token_ids) == 1 else None
    return None


def as_shape(answer) -> tuple[int, ...] | None:
    """Read a shape given as a tuple or list of ints or a torch.Size, as a tuple; None if unreadable.

    Any number of axes is read; the check compares the count with the one it expects.
    """
    if not isinstance(answer, (tuple, list, torch.Size)):
        return None
    if not all(is_whole_number(size) for size in answer):
        return None
    return tuple(answer)


def is_list_of_strings(answer) -> bool:
    """True if a learner's answer is a list or tuple whose items are all str (a text per prompt)."""
    return isinstance(answer, (list, tuple)) and all(isinstance(text, str) for text in answer)


def is_dict_like(answer) -> bool:
    """True for a dict or anything with keys(), e.g. the BatchEncoding a tokenizer returns."""
    return hasattr(answer, "keys")
