"""companion.padding (notebook 04's views) against the real tokenizer and model.generate(), token for token."""

import pytest
import torch
from transformers import AutoTokenizer

import companion
from companion.errors import PaddingError
from companion.inspection import position_ids_for
from companion.models import resolve_model_path
from companion.padding import (
    PaddingComparison,
    compare_padding_sides,
    padding_table,
    predicted_next_tokens,
)

# Notebook 04's prompts: the short row gets many pad tokens, so right padding shows.
LESSON_PROMPTS = ["A, B", "A sequence of numbers: 1, 2, 3, 4, 5, 6, 7"]
MAX_NEW_TOKENS = 12


def learner_batch(model_name, prompts, side):
    """What a learner writes by hand: a tokenizer loaded with `padding_side`, pad = eos if missing."""
    tokenizer = AutoTokenizer.from_pretrained(resolve_model_path(model_name), padding_side=side)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer(prompts, padding=True, return_tensors="pt")


def learner_new_ids(model, model_inputs, pad_token_id, max_new_tokens):
    """model.generate() greedy with the attention mask; the new token ids of each row as lists."""
    with torch.inference_mode():
        sequences = model.generate(
            **model_inputs, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=pad_token_id
        )
    return sequences[:, model_inputs["input_ids"].shape[1]:].tolist()


def without_trailing_padding(token_ids, pad_token_id):
    """Drop the padding generate() appends to rows that finished before the others."""
    token_ids = list(token_ids)
    while token_ids and token_ids[-1] == pad_token_id:
        token_ids.pop()
    return token_ids


def test_require_left_padded_raises_on_right_padding(tiny):
    _, tokenizer = tiny
    with pytest.raises(PaddingError, match="padded on the right"):
        companion.require_left_padded(
            companion.tokenize_batch(tokenizer, LESSON_PROMPTS, side="right")["attention_mask"]
        )
    companion.require_left_padded(companion.tokenize_batch(tokenizer, LESSON_PROMPTS, side="left")["attention_mask"])


@pytest.mark.parametrize("model_name", ["tutorial-tiny", "smollm2-135m"])
def test_left_padded_batch_equals_unbatched_token_for_token(model_name, built_in):
    model, tokenizer = built_in(model_name)
    pad_token_id = tokenizer.eos_token_id
    left = learner_batch(model_name, LESSON_PROMPTS, "left")
    left_ids = learner_new_ids(model, left, pad_token_id, MAX_NEW_TOKENS)
    for row, prompt in enumerate(LESSON_PROMPTS):
        single = tokenizer(prompt, return_tensors="pt")
        single_ids = learner_new_ids(model, single, pad_token_id, MAX_NEW_TOKENS)[0]
        assert without_trailing_padding(left_ids[row], pad_token_id) == without_trailing_padding(
            single_ids, pad_token_id
        )

    comparisons = compare_padding_sides(model, tokenizer, LESSON_PROMPTS, max_new_tokens=MAX_NEW_TOKENS)
    for row, comparison in enumerate(comparisons):
        assert comparison.prompt == LESSON_PROMPTS[row]
        assert comparison.left_padded == comparison.unbatched and comparison.left_matches
        assert comparison.left_padded == tokenizer.decode(left_ids[row], skip_special_tokens=True)


@pytest.mark.parametrize("model_name", ["tutorial-tiny", "smollm2-135m"])
def test_right_padding_breaks_the_short_row(model_name, built_in):
    model, tokenizer = built_in(model_name)
    right = learner_batch(model_name, LESSON_PROMPTS, "right")
    right_ids = learner_new_ids(model, right, tokenizer.eos_token_id, MAX_NEW_TOKENS)
    comparisons = compare_padding_sides(model, tokenizer, LESSON_PROMPTS, max_new_tokens=MAX_NEW_TOKENS)
    short, long = comparisons
    assert short.right_padded == tokenizer.decode(right_ids[0], skip_special_tokens=True)
    assert short.right_padded != short.unbatched and not short.right_matches
    assert long.right_padded == long.unbatched  # the longest row has no padding at all


def test_predicted_next_token_is_the_first_generated_token(tiny):
    model, tokenizer = tiny
    for side in ("left", "right"):
        batch = companion.tokenize_batch(tokenizer, LESSON_PROMPTS, side=side)
        first_ids = [row[0] for row in learner_new_ids(model, batch, tokenizer.eos_token_id, 1)]
        pairs = predicted_next_tokens(model, tokenizer, batch)
        assert [next_token for _, next_token in pairs] == [repr(tokenizer.decode([i])) for i in first_ids]
    right_pairs = predicted_next_tokens(
        model, tokenizer, companion.tokenize_batch(tokenizer, LESSON_PROMPTS, side="right")
    )
    assert right_pairs[0][0] == tokenizer.eos_token  # the short row's last column is padding


@pytest.mark.parametrize("side", ["left", "right"])
def test_padding_table_shows_tokens_mask_and_positions(tiny, side):
    _, tokenizer = tiny
    batch = companion.tokenize_batch(tokenizer, LESSON_PROMPTS, side=side)
    table = padding_table(tokenizer, batch, title=side)
    lines = table.splitlines()
    assert lines[0] == side and len(lines) == 1 + 3 * len(LESSON_PROMPTS)
    assert lines[1].startswith("row 0 token") and "</s>" in lines[1] and "' B'" in lines[1]
    mask = batch["attention_mask"][0].tolist()
    mask_cells = [int(cell) for cell in lines[2].split()[1:]]
    position_cells = lines[3].split()[1:]
    assert mask_cells == mask
    positions = position_ids_for(batch["attention_mask"])[0].tolist()
    for cell, position, is_real in zip(position_cells, positions, mask, strict=True):
        # Real tokens count 0, 1, 2, ...; padding shows "-": its position is masked and does not matter.
        assert cell == (str(position) if is_real else "-")
    real_positions = [int(cell) for cell in position_cells if cell != "-"]
    assert real_positions == list(range(sum(mask)))


def test_comparison_properties():
    comparison = PaddingComparison("p", unbatched="a", right_padded="b", left_padded="a")
    assert comparison.left_matches and not comparison.right_matches
    assert comparison.report().splitlines() == [
        "prompt 'p'",
        "  alone       : 'a'",
        "  right padded: 'b'   same as alone: False",
        "  left padded : 'a'   same as alone: True",
    ]
