"""Checks for the exercises of notebook 04 (wrong padding side)."""

from __future__ import annotations

import torch

from companion.errors import PaddingError
from companion.exercises import Verdict, report
from companion.generation import check_left_padded
from companion.inspection import position_ids_for


def check_batch_ready_for_generation(answer) -> Verdict:
    """Exercise 1: a tokenized batch of prompts of different lengths that `generate()` can continue.

    Args:
        answer: what `tokenizer(prompts, ...)` returned: a dict-like with "input_ids" and
            "attention_mask", LongTensors of shape (b, t) with b >= 2.
    Correct when every row ends in a real token (padding on the left) and some row is padded.
    """
    if answer is None or not hasattr(answer, "keys"):
        return report(False, "", "Store what tokenizer(PROMPTS, padding=True, return_tensors='pt') returns in `answer`.")
    if "attention_mask" not in answer or "input_ids" not in answer:
        return report(False, "", "The batch needs both input_ids and attention_mask: call the tokenizer itself, not tokenizer.encode.")
    attention_mask = answer["attention_mask"]
    if not isinstance(attention_mask, torch.Tensor) or attention_mask.dim() != 2:
        return report(False, "", "Ask for tensors with return_tensors='pt' so that the batch has shape (rows, length).")
    if attention_mask.shape[0] < 2 or bool(attention_mask.all()):
        return report(False, "", "Tokenize both PROMPTS together with padding=True: they have different lengths, so one row gets padding.")
    try:
        check_left_padded(attention_mask)
    except PaddingError:
        return report(
            False,
            "",
            "The short row ends in padding (a 0 in the last column of the attention mask). "
            "Which tokenizer attribute decides where padding goes?",
        )
    return report(
        True,
        "Every row ends in its prompt's last token, so the model continues each prompt, not the padding.",
        "",
    )


def check_position_ids(attention_mask: torch.Tensor, answer) -> Verdict:
    """Exercise 2: the position ids `generate()` derives from a left-padded attention mask.

    Args:
        attention_mask: LongTensor of shape (b, t), padded on the left.
        answer: LongTensor of shape (b, t): 0, 1, 2, ... from each row's first real token, 0 on padding.
    """
    expected = position_ids_for(attention_mask)
    if not isinstance(answer, torch.Tensor):
        return report(False, "", "Compute a tensor from attention_mask, e.g. starting with attention_mask.cumsum(dim=-1).")
    if answer.shape != expected.shape:
        return report(False, "", f"The answer needs one position per token: shape {tuple(expected.shape)}, got {tuple(answer.shape)}.")
    if torch.equal(answer, expected):
        return report(
            True,
            "Each prompt starts at position 0 however much padding sits before it, exactly as if it were alone.",
            "",
        )
    columns = torch.arange(attention_mask.shape[1]).expand_as(attention_mask)
    if torch.equal(answer, columns):
        return report(False, "", "Those are column numbers: they count the padding too. Count only real tokens (the 1s of the mask).")
    if torch.equal(answer, attention_mask.cumsum(dim=-1)):
        return report(False, "", "Almost: positions start at 0, not 1, for the first real token.")
    if torch.equal(answer, attention_mask.cumsum(dim=-1) - 1):
        return report(False, "", "Almost: padding gets -1 here. Set the positions of padding (mask 0) to 0, e.g. with masked_fill.")
    return report(False, "", "Count the real tokens of each row from left to right, starting at 0; padding gets position 0.")
