"""Views of right and left padding for notebook 04 (wrong padding side).

A decoder-only model predicts the next token from the *last* position of each row. When
prompts of different lengths share a batch, the short ones are padded: on the right, the
last position of a short row is padding, so its first new token is predicted from padding
instead of from the prompt; on the left, the last position is the prompt's last token in
every row, and the batch gives the same tokens as one prompt at a time.

Padding and generating happen in `companion.generation` (`tokenize_batch`, `generate_text`,
both with a `side` argument, "left" by default); this module only shows what they do:
`padding_table` (tokens, mask, positions), `predicted_next_tokens` (what the last column
predicts) and `compare_padding_sides` (alone vs right-padded vs left-padded batch).
None of them changes the tokenizer it is given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

from companion.generation import generate_text
from companion.inspection import forward_last_position, position_ids_for
from companion.language import Messages
from companion.validation import (
    as_prompt_list,
    require_max_new_tokens,
    require_model,
    require_model_inputs,
    require_tokenizer,
)

# The labels of padding_table and PaddingComparison.report, in the notebook's language.
MESSAGES = Messages(__name__, {
    "row_tokens": {"en": "row {row} token", "de": "Zeile {row} Token"},
    "mask": {"en": "mask", "de": "Maske"},
    "position": {"en": "position", "de": "Position"},
    "prompt": {"en": "prompt {prompt}", "de": "Prompt {prompt}"},
    "alone": {"en": "alone", "de": "allein"},
    "right_padded": {"en": "right padded", "de": "rechts aufgefüllt"},
    "left_padded": {"en": "left padded", "de": "links aufgefüllt"},
    "same_as_alone": {"en": "same as alone: {same}", "de": "wie allein: {same}"},
})


def padding_table(tokenizer, model_inputs: dict[str, torch.Tensor], title: str = "") -> str:
    """A text table of a padded batch: each row's tokens, attention mask and positions.

    Args:
        tokenizer: the tokenizer that made the batch (to turn ids into token strings).
        model_inputs: dict with "input_ids" and "attention_mask" of shape (b, t).
        title: an optional first line.
    Returns:
        a string with three lines per row: "token", "mask" (1 = real token, 0 = padding)
        and "position" (each real token's position counted from the row's first real token,
        as `generate()` derives it from the mask; "-" on padding, whose position is masked
        and does not matter). Tokens are shown with repr-like escapes so that leading
        spaces stay visible ("Ġ" from byte-level tokenizers becomes " ").
    Used in notebook 04.
    """
    require_tokenizer(tokenizer)
    require_model_inputs(model_inputs)
    input_ids = model_inputs["input_ids"]
    attention_mask = model_inputs["attention_mask"]
    position_ids = position_ids_for(attention_mask)
    lines = [title] if title else []
    for row in range(input_ids.shape[0]):
        tokens = [readable_token(tokenizer, token_id) for token_id in input_ids[row].tolist()]
        masks = [str(value) for value in attention_mask[row].tolist()]
        positions = []
        for position, mask in zip(position_ids[row].tolist(), attention_mask[row].tolist(), strict=True):
            positions.append(str(position) if mask == 1 else "-")
        widths = [
            max(len(token), len(mask), len(position))
            for token, mask, position in zip(tokens, masks, positions, strict=True)
        ]
        for label, cells in (("token", tokens), ("mask", masks), ("position", positions)):
            row_label = MESSAGES("row_tokens", row=row) if label == "token" else f"      {MESSAGES(label)}"
            padded_cells = [cell.rjust(width) for cell, width in zip(cells, widths, strict=True)]
            lines.append(f"{row_label:<15}" + "  ".join(padded_cells))
    return "\n".join(lines)


def readable_token(tokenizer, token_id: int) -> str:
    """One token as text a learner can read: its decoded string in quotes, special tokens as they are."""
    if token_id in tokenizer.all_special_ids:
        return tokenizer.convert_ids_to_tokens(token_id)
    return repr(tokenizer.decode([token_id]))


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
    require_model(model)
    require_tokenizer(tokenizer)
    require_model_inputs(model_inputs)
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
        alone, right, left = (MESSAGES(key) for key in ("alone", "right_padded", "left_padded"))
        width = max(len(alone), len(right), len(left))
        return "\n".join([
            MESSAGES("prompt", prompt=repr(self.prompt)),
            f"  {alone:<{width}}: {self.unbatched!r}",
            f"  {right:<{width}}: {self.right_padded!r}   {MESSAGES('same_as_alone', same=self.right_matches)}",
            f"  {left:<{width}}: {self.left_padded!r}   {MESSAGES('same_as_alone', same=self.left_matches)}",
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
    require_model(model)
    require_tokenizer(tokenizer)
    prompt_list = as_prompt_list(prompts)
    require_max_new_tokens(max_new_tokens)
    unbatched = []
    for prompt in prompt_list:
        # One prompt alone is one row: no padding at all, the reference for both batches.
        unbatched.append(generate_text(model, tokenizer, prompt, max_new_tokens=max_new_tokens, do_sample=False)[0])
    right_padded = generate_text(
        model, tokenizer, prompt_list, max_new_tokens=max_new_tokens, do_sample=False, side="right"
    )
    left_padded = generate_text(
        model, tokenizer, prompt_list, max_new_tokens=max_new_tokens, do_sample=False, side="left"
    )
    comparisons = []
    for index, prompt in enumerate(prompt_list):
        comparisons.append(PaddingComparison(prompt, unbatched[index], right_padded[index], left_padded[index]))
    return comparisons
