"""Checks for the exercises of notebook 05 (wrong prompt format)."""

from __future__ import annotations

from typing import Sequence

import torch

from companion.exercises import Verdict, report


def check_generation_prompt(tokenizer, messages: Sequence[dict], answer) -> Verdict:
    """Exercise 1: the prompt text for `messages`, ending where the assistant's answer begins.

    Args:
        tokenizer: the instruct model's tokenizer (it has a chat template).
        messages: the chat the notebook gives, a list of {"role", "content"} dicts.
        answer: a string, what `tokenizer.apply_chat_template(...)` returned with tokenize=False.
    """
    expected = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    without_header = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=False)
    if answer is None:
        return report(False, "", "Store the text that tokenizer.apply_chat_template(...) returns in `answer`.")
    if not isinstance(answer, str):
        return report(False, "", "Ask apply_chat_template for text (tokenize=False), not token ids.")
    if answer == expected:
        return report(
            True,
            "The text ends with the assistant's header, so the model's next tokens are its answer.",
            "",
        )
    if answer == without_header:
        return report(
            False,
            "",
            "The text ends after the user's turn: the model would first have to open its own turn. "
            "Which argument of apply_chat_template adds the assistant's header?",
        )
    if answer.strip() == messages[-1]["content"].strip():
        return report(False, "", "That is the raw question. Let the tokenizer's chat template format the messages.")
    return report(False, "", "Pass the whole `messages` list to tokenizer.apply_chat_template.")


def check_answers_only(tokenizer, sequences: torch.Tensor, prompt_ids: torch.Tensor, answer) -> Verdict:
    """Exercise 2: decode only the new tokens of a generated batch, without special tokens.

    Args:
        tokenizer: the tokenizer that made the batch.
        sequences: LongTensor (b, t + n) from `companion.generate_ids` (prompts + new tokens).
        prompt_ids: LongTensor (b, t), the left-padded prompts.
        answer: a list of b strings, the answers alone.
    """
    new_tokens = sequences[:, prompt_ids.shape[1]:]
    expected = tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
    if isinstance(answer, str):
        return report(False, "", "Decode every row: batch_decode returns a list with one string per chat.")
    if not isinstance(answer, (list, tuple)) or len(answer) != len(expected):
        return report(False, "", f"The answer is a list of {len(expected)} strings, one per chat.")
    answer = list(answer)
    if answer == expected:
        return report(True, "Slicing off the prompt columns and skipping special tokens leaves just the answers.", "")
    if answer == tokenizer.batch_decode(new_tokens, skip_special_tokens=False):
        return report(False, "", "Right tokens, but the special tokens (<|im_end|>, padding) are still in the text.")
    with_prompt = tokenizer.batch_decode(sequences, skip_special_tokens=True)
    holds_more = [isinstance(text, str) and new in text and text != new for text, new in zip(answer, expected)]
    if answer == with_prompt or any(holds_more):
        return report(
            False,
            "",
            "The text still holds the prompt. The first prompt_ids.shape[1] columns of sequences are the prompt: slice them off.",
        )
    return report(False, "", "Take sequences[:, prompt_ids.shape[1]:] and decode it with skip_special_tokens=True.")
