"""Padding a batch on the right or on the left, and what each does to `generate()`.

Taught in notebook 04 (wrong padding side). A decoder-only model predicts the next token
from the *last* position of each row. When prompts of different lengths share a batch,
the short ones are padded: on the right, the last position of a short row is padding, so
its first new token is predicted from padding instead of from the prompt; on the left,
the last position is the prompt's last token in every row, and the batch gives the same
tokens as one prompt at a time. `companion.tokenize_batch` (used by every other notebook)
always pads on the left; the helpers here pad on either side so that both can be compared.

None of these helpers changes the tokenizer it is given: padding side and pad token are
set for the call and restored afterwards.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Iterator, Sequence

import torch

from companion.errors import CompanionError
from companion.generation import (  # noqa: F401  (PADDING_SIDES, check_padding_side: re-exported)
    PADDING_SIDES,
    as_prompt_list,
    check_max_new_tokens,
    check_padding_side,
    pad_token_id_or_eos,
    padding_on,
)
from companion.inspection import forward_last_position, position_ids_for



def pad_batch(tokenizer, prompts: str | Sequence[str], side: str) -> dict[str, torch.Tensor]:
    """Tokenize prompts into one batch padded on `side`, without changing the tokenizer.

    Args:
        tokenizer: a transformers tokenizer; a missing pad token falls back to EOS.
        prompts: one string or a list of b strings.
        side: "left" (what generation needs) or "right" (many tokenizers' default, which breaks it).
    Returns:
        dict with "input_ids" and "attention_mask", LongTensors of shape (b, t) on the CPU;
        t is the longest prompt, and shorter rows carry padding on `side` (mask 0 there).
    Taught in notebook 04.
    """
    prompt_list = as_prompt_list(prompts)
    with padding_on(tokenizer, side):
        model_inputs = tokenizer(prompt_list, padding=True, return_tensors="pt")
    return {name: model_inputs[name] for name in ("input_ids", "attention_mask")}


def padding_table(tokenizer, model_inputs: dict[str, torch.Tensor], title: str = "") -> str:
    """A text table of a padded batch: each row's tokens, attention mask and positions.

    Args:
        tokenizer: the tokenizer that made the batch (to turn ids into token strings).
        model_inputs: dict with "input_ids" and "attention_mask" of shape (b, t).
        title: an optional first line.
    Returns:
        a string with three lines per row: "token", "mask" (1 = real token, 0 = padding)
        and "position" (what `generate()` computes from the mask, see
        `companion.inspection.position_ids_for`). Tokens are shown with repr-like escapes
        so that leading spaces stay visible ("Ġ" from byte-level tokenizers becomes " ").
    Used in notebook 04.
    """
    input_ids = model_inputs["input_ids"]
    attention_mask = model_inputs["attention_mask"]
    position_ids = position_ids_for(attention_mask)
    lines = [title] if title else []
    for row in range(input_ids.shape[0]):
        tokens = [readable_token(tokenizer, token_id) for token_id in input_ids[row].tolist()]
        masks = [str(value) for value in attention_mask[row].tolist()]
        positions = [str(value) for value in position_ids[row].tolist()]
        widths = [max(len(token), len(mask), len(position)) for token, mask, position in zip(tokens, masks, positions)]
        for label, cells in (("token", tokens), ("mask", masks), ("position", positions)):
            row_label = f"row {row} {label}" if label == "token" else f"      {label}"
            padded_cells = [cell.rjust(width) for cell, width in zip(cells, widths)]
            lines.append(f"{row_label:<15}" + "  ".join(padded_cells))
    return "\n".join(lines)


def readable_token(tokenizer, token_id: int) -> str:
    """One token as text a learner can read: its decoded string in quotes, special tokens as they are."""
    if token_id in tokenizer.all_special_ids:
        return tokenizer.convert_ids_to_tokens(token_id)
    return repr(tokenizer.decode([token_id]))


def generate_padded(
    model,
    tokenizer,
    model_inputs: dict[str, torch.Tensor],
    *,
    max_new_tokens: int | None = None,
    do_sample: bool = False,
    **generate_kwargs,
) -> list[str]:
    """Run `model.generate()` on an already padded batch (either side) and decode the new text.

    Args:
        model, tokenizer: as returned by `companion.load_model`.
        model_inputs: dict with "input_ids" and "attention_mask" of shape (b, t), e.g. from
            `pad_batch`; both are passed to `generate()`.
        max_new_tokens: required; the most tokens to add to each row.
        do_sample: False = greedy decoding (default), True = sampling.
        **generate_kwargs: passed on to `model.generate()`.
    Returns:
        list of b strings: only the new text of each row (generate appends after column t
        whatever the padding side), special tokens and padding dropped.
    Used in notebook 04.
    """
    check_max_new_tokens(max_new_tokens)
    if "attention_mask" not in model_inputs:
        raise CompanionError("model_inputs has no attention_mask: always pass it with a padded batch.")
    pad_token_id = pad_token_id_or_eos(tokenizer)
    generate_kwargs.setdefault("pad_token_id", pad_token_id)
    input_ids = model_inputs["input_ids"].to(model.device)
    attention_mask = model_inputs["attention_mask"].to(model.device)
    with torch.inference_mode():
        sequences = model.generate(
            input_ids=input_ids,
            attention_mask=attention_mask,
            max_new_tokens=max_new_tokens,
            do_sample=do_sample,
            **generate_kwargs,
        )
    new_tokens = sequences[:, input_ids.shape[1]:]
    return tokenizer.batch_decode(new_tokens, skip_special_tokens=True)


def predicted_next_tokens(model, tokenizer, model_inputs: dict[str, torch.Tensor]) -> list[tuple[str, str]]:
    """For each row: the token in the last column and the token the model predicts after it.

    One forward pass with the attention mask and the positions `generate()` would use;
    the greedy choice at the last position is the first token `generate()` adds.
    Args:
        model, tokenizer: as returned by `companion.load_model`.
        model_inputs: dict with "input_ids" and "attention_mask" of shape (b, t), padded on
            either side (padding on the right is allowed here: it is what we want to see).
    Returns:
        list of b pairs (last token, predicted next token), both readable strings.
    Used in notebook 04.
    """
    input_ids = model_inputs["input_ids"].to(model.device)
    attention_mask = model_inputs["attention_mask"].to(model.device)
    # The last column of each row predicts the next token; with right padding that is padding.
    next_token_ids = forward_last_position(model, input_ids, attention_mask, allow_right_padding=True).argmax(dim=-1)
    pairs = []
    for row in range(input_ids.shape[0]):
        last_token = readable_token(tokenizer, int(input_ids[row, -1]))
        next_token = readable_token(tokenizer, int(next_token_ids[row]))
        pairs.append((last_token, next_token))
    return pairs


@dataclass(frozen=True)
class PaddingComparison:
    """The greedy continuation of one prompt: alone, in a right-padded and in a left-padded batch."""

    prompt: str
    unbatched: str  # the prompt generated on its own (no padding at all)
    right_padded: str  # the same prompt's row in a batch padded on the right
    left_padded: str  # the same prompt's row in a batch padded on the left

    @property
    def right_matches(self) -> bool:
        """True if right padding gave the same text as generating the prompt alone."""
        return self.right_padded == self.unbatched

    @property
    def left_matches(self) -> bool:
        """True if left padding gave the same text as generating the prompt alone."""
        return self.left_padded == self.unbatched

    def report(self) -> str:
        """Four lines for notebook 04: the prompt and its three continuations, side by side."""
        return "\n".join([
            f"prompt {self.prompt!r}",
            f"  alone       : {self.unbatched!r}",
            f"  right padded: {self.right_padded!r}   same as alone: {self.right_matches}",
            f"  left padded : {self.left_padded!r}   same as alone: {self.left_matches}",
        ])


def compare_padding_sides(
    model, tokenizer, prompts: Sequence[str], *, max_new_tokens: int | None = None
) -> list[PaddingComparison]:
    """Generate each prompt alone, then all of them in a right- and in a left-padded batch.

    Greedy decoding (do_sample=False), attention mask always passed, tokenizer unchanged.
    Args:
        model, tokenizer: as returned by `companion.load_model`.
        prompts: a list of b strings of different lengths (so that some rows are padded).
        max_new_tokens: required; the most tokens to add to each prompt.
    Returns:
        list of b PaddingComparison, in the order of `prompts`.
    Taught in notebook 04.
    """
    prompt_list = as_prompt_list(prompts)
    check_max_new_tokens(max_new_tokens)
    unbatched = []
    for prompt in prompt_list:
        single = pad_batch(tokenizer, [prompt], side="left")  # one row: no padding at all
        unbatched.append(generate_padded(model, tokenizer, single, max_new_tokens=max_new_tokens, do_sample=False)[0])
    right_batch = pad_batch(tokenizer, prompt_list, side="right")
    right_padded = generate_padded(model, tokenizer, right_batch, max_new_tokens=max_new_tokens, do_sample=False)
    left_batch = pad_batch(tokenizer, prompt_list, side="left")
    left_padded = generate_padded(model, tokenizer, left_batch, max_new_tokens=max_new_tokens, do_sample=False)
    comparisons = []
    for index, prompt in enumerate(prompt_list):
        comparisons.append(PaddingComparison(prompt, unbatched[index], right_padded[index], left_padded[index]))
    return comparisons


class WarningCollector(logging.Handler):
    """A logging handler that keeps the messages it receives in a list."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextmanager
def transformers_warnings() -> Iterator[list[str]]:
    """Collect the warnings transformers logs inside the `with` block, instead of hiding them.

    `companion.setup_notebook` silences transformers' logger; notebook 04 uses this to show
    the warnings that `generate()` gives about right padding and a missing attention mask.
    Yields a list that fills with the warning messages (strings) as they are logged.
    Some warnings are logged only once per Python process (transformers' `warning_once`).
    """
    library_logger = logging.getLogger("transformers")
    collector = WarningCollector()
    saved_level = library_logger.level
    saved_propagate = library_logger.propagate
    saved_handlers = list(library_logger.handlers)
    for handler in saved_handlers:  # keep the messages out of stderr: the list shows them
        library_logger.removeHandler(handler)
    library_logger.addHandler(collector)
    library_logger.setLevel(logging.WARNING)
    library_logger.propagate = False
    try:
        yield collector.messages
    finally:
        library_logger.removeHandler(collector)
        for handler in saved_handlers:
            library_logger.addHandler(handler)
        library_logger.setLevel(saved_level)
        library_logger.propagate = saved_propagate
