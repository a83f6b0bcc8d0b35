"""Checks for the exercises of notebook 04 (wrong padding side).

Each check computes the right answer itself from the tokenizer or model in use, so the
exercises work with any MODEL; it prints "Correct! ..." or "Not yet. Hint: ..." (see
`companion.exercises.report`) and never raises on a wrong answer. Hints name the idea to
look at, not the code of the answer.
"""

from __future__ import annotations

from typing import Sequence

import torch

from companion.exercises import Verdict, report
from companion.generation import generate_text


def check_batch_ready_for_generation(answer) -> Verdict:
    """Exercise 1: a tokenized batch of prompts of different lengths that `generate()` can continue.

    Args:
        answer: what `tokenizer(prompts, padding=True, return_tensors="pt")` returned: a
            dict-like with "input_ids" and "attention_mask", LongTensors of shape (b, t), b >= 2.
    Returns:
        a Verdict, truthy when every row ends in a real token (padding on the left) and
        some row is padded.
    Used in notebook 04.
    """
    if answer is None or not hasattr(answer, "keys"):
        return report(False, "", "Store what the tokenizer returns for the whole batch in `answer`.")
    if "attention_mask" not in answer or "input_ids" not in answer:
        return report(False, "", "The batch needs both input_ids and attention_mask: call the tokenizer itself, not tokenizer.encode.")
    attention_mask = answer["attention_mask"]
    if not isinstance(attention_mask, torch.Tensor) or attention_mask.dim() != 2:
        return report(False, "", "Ask the tokenizer for PyTorch tensors so that the batch has shape (rows, length).")
    if attention_mask.shape[0] < 2 or bool(attention_mask.all()):
        return report(False, "", "Tokenize all the prompts together with padding: they have different lengths, so a row gets padding.")
    if bool((attention_mask[:, -1] == 0).any()):
        return report(
            False,
            "",
            "A short row ends in padding (a 0 in the last column of the attention mask). "
            "Which tokenizer attribute decides where padding goes?",
        )
    return report(
        True,
        "Every row ends in its prompt's last token, so the model continues each prompt, not the padding.",
        "",
    )


def check_position_ids(attention_mask: torch.Tensor, answer) -> Verdict:
    """Exercise 2: the positions of the real tokens of a padded batch, from its attention mask.

    Args:
        attention_mask: LongTensor of shape (b, t); 1 = real token, 0 = padding (either side).
        answer: a tensor of shape (b, t): 0, 1, 2, ... along each row's real tokens.
    Returns:
        a Verdict, truthy when every real token has the right position. Padded positions may
        hold any value: the attention mask hides them, and transformers versions have filled
        them with different numbers (1 in Llama's generation code of 4.x, 0 in 5.24).
    Used in notebook 04.
    """
    if not isinstance(attention_mask, torch.Tensor) or attention_mask.dim() != 2:
        return report(False, "", "Pass the batch's attention mask (a tensor of shape (rows, length)) as the first argument.")
    if not isinstance(answer, torch.Tensor):
        return report(False, "", "Compute a tensor from the attention mask, with one position per token.")
    if answer.shape != attention_mask.shape:
        return report(
            False,
            "",
            f"The answer needs one position per token: shape {tuple(attention_mask.shape)}, got {tuple(answer.shape)}.",
        )
    real = attention_mask == 1
    expected = attention_mask.long().cumsum(dim=-1) - 1
    answer = answer.long().to(attention_mask.device)
    if torch.equal(answer[real], expected[real]):
        return report(
            True,
            "Each prompt counts from 0 at its first real token, however much padding sits before it, "
            "exactly as if it were alone; what padding holds does not matter, the mask hides it.",
            "",
        )
    columns = torch.arange(attention_mask.shape[1], device=attention_mask.device).expand_as(attention_mask)
    if torch.equal(answer[real], columns[real]):
        return report(False, "", "Those are column numbers: they count the padding too. Count only the real tokens (the 1s of the mask).")
    if torch.equal(answer[real], expected[real] + 1):
        return report(False, "", "Almost: the first real token of a row has position 0, not 1.")
    return report(False, "", "Count the real tokens of each row from left to right, starting at 0 (a running sum of the mask helps).")


def check_batch_continuations(model, tokenizer, prompts: Sequence[str], answer, max_new_tokens: int) -> Verdict:
    """Exercise 3: the new text of a batch generated correctly (left padding, attention mask passed).

    Args:
        model, tokenizer: the notebook's model and tokenizer.
        prompts: the b prompts of the exercise (of different lengths).
        answer: a list of b strings, the greedily generated new text of each prompt
            (prompt and special tokens left out).
        max_new_tokens: the limit the exercise uses.
    Returns:
        a Verdict, truthy when `answer` equals what `companion.generate_text` gives
        (greedy, left-padded batch, attention mask passed).
    Used in notebook 04.
    """
    expected = generate_text(model, tokenizer, list(prompts), max_new_tokens=max_new_tokens, do_sample=False)
    if answer == expected:
        return report(
            True,
            "Every row continues its own prompt: the padding sits where the model does not read "
            "from, and the attention mask tells it which tokens are padding.",
            "",
        )
    if isinstance(answer, str) or not isinstance(answer, (list, tuple)):
        return report(False, "", f"Store a list of {len(expected)} strings, one new text per prompt, in `answer`.")
    if len(answer) != len(expected) or not all(isinstance(text, str) for text in answer):
        return report(False, "", f"Decode every row of the output: `answer` needs {len(expected)} strings, one per prompt.")
    if all(text.startswith(prompt) for text, prompt in zip(answer, prompts)):
        return report(False, "", "Keep only the new text of each row: the output of generate() starts with the prompt.")
    wrong_rows = [row for row in range(len(expected)) if answer[row] != expected[row]]
    return report(
        False,
        "",
        f"Row(s) {wrong_rows} do not continue their prompt. Two things break a padded row: where the "
        "padding sits, and whether generate() is told which tokens are padding. Fix both.",
    )
