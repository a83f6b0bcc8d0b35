"""companion.padding (notebook 04) against the real tokenizer and model.generate(), token for token."""

import logging

import pytest
import torch

import companion
from companion.errors import CompanionError, PaddingError
from companion.inspection import position_ids_for
from companion.padding import (
    PaddingComparison,
    compare_padding_sides,
    generate_padded,
    pad_batch,
    padding_table,
    predicted_next_tokens,
    transformers_warnings,
)

GUIDE_PROMPTS = ["1, 2, 3", "A, B, C, D, E"]
MAX_NEW_TOKENS = 10


def fresh_tokenizer(model_name):
    """A tokenizer of its own that a test may change (load_model gives a new one each call)."""
    return companion.load_model(model_name)[1]


def reference_batch(model_name, prompts, side):
    """What the guide writes by hand: pad = eos, padding_side set on the tokenizer."""
    tokenizer = fresh_tokenizer(model_name)
    tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = side
    return tokenizer(prompts, padding=True, return_tensors="pt")


def reference_new_ids(model, model_inputs, pad_token_id, max_new_tokens):
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


@pytest.mark.parametrize("side", ["left", "right"])
def test_pad_batch_equals_the_tokenizer_and_leaves_it_unchanged(tiny, side):
    _, tokenizer = tiny
    batch = pad_batch(tokenizer, GUIDE_PROMPTS, side=side)
    reference = reference_batch("tutorial-tiny", GUIDE_PROMPTS, side)
    assert torch.equal(batch["input_ids"], reference["input_ids"])
    assert torch.equal(batch["attention_mask"], reference["attention_mask"])
    assert tokenizer.pad_token is None and tokenizer.padding_side == "right"


def test_pad_batch_puts_the_padding_on_the_side_asked_for(tiny):
    _, tokenizer = tiny
    right = pad_batch(tokenizer, GUIDE_PROMPTS, side="right")["attention_mask"]
    left = pad_batch(tokenizer, GUIDE_PROMPTS, side="left")["attention_mask"]
    assert right[0, -1] == 0 and right[0, 0] == 1  # short row: padding at the end
    assert left[0, 0] == 0 and left[0, -1] == 1  # short row: padding at the start
    assert right.sum() == left.sum()  # same real tokens either way


def test_pad_batch_refuses_an_unknown_side(tiny):
    _, tokenizer = tiny
    with pytest.raises(CompanionError, match="'left' or 'right'"):
        pad_batch(tokenizer, GUIDE_PROMPTS, side="middle")


def test_check_left_padded_raises_on_right_padding(tiny):
    _, tokenizer = tiny
    with pytest.raises(PaddingError, match="padded on the right"):
        companion.check_left_padded(pad_batch(tokenizer, GUIDE_PROMPTS, side="right")["attention_mask"])
    companion.check_left_padded(pad_batch(tokenizer, GUIDE_PROMPTS, side="left")["attention_mask"])


@pytest.mark.parametrize("model_name", ["tutorial-tiny", "smollm2-135m"])
def test_left_padded_batch_equals_unbatched_token_for_token(model_name):
    model, tokenizer = companion.load_model(model_name)
    pad_token_id = tokenizer.eos_token_id
    left = reference_batch(model_name, GUIDE_PROMPTS, "left")
    left_ids = reference_new_ids(model, left, pad_token_id, MAX_NEW_TOKENS)
    for row, prompt in enumerate(GUIDE_PROMPTS):
        single = tokenizer(prompt, return_tensors="pt")
        single_ids = reference_new_ids(model, single, pad_token_id, MAX_NEW_TOKENS)[0]
        assert without_trailing_padding(left_ids[row], pad_token_id) == without_trailing_padding(single_ids, pad_token_id)

    comparisons = compare_padding_sides(model, tokenizer, GUIDE_PROMPTS, max_new_tokens=MAX_NEW_TOKENS)
    for row, comparison in enumerate(comparisons):
        assert comparison.prompt == GUIDE_PROMPTS[row]
        assert comparison.left_padded == comparison.unbatched and comparison.left_matches
        assert comparison.left_padded == tokenizer.decode(left_ids[row], skip_special_tokens=True)


@pytest.mark.parametrize("model_name", ["tutorial-tiny", "smollm2-135m"])
def test_right_padding_breaks_the_short_row(model_name):
    model, tokenizer = companion.load_model(model_name)
    right = reference_batch(model_name, GUIDE_PROMPTS, "right")
    right_ids = reference_new_ids(model, right, tokenizer.eos_token_id, MAX_NEW_TOKENS)
    comparisons = compare_padding_sides(model, tokenizer, GUIDE_PROMPTS, max_new_tokens=MAX_NEW_TOKENS)
    short, long = comparisons
    assert short.right_padded == tokenizer.decode(right_ids[0], skip_special_tokens=True)
    assert short.right_padded != short.unbatched and not short.right_matches
    assert long.right_padded == long.unbatched  # the longest row has no padding at all


def test_generate_padded_equals_model_generate(tiny):
    model, tokenizer = tiny
    for side in ("left", "right"):
        batch = pad_batch(tokenizer, GUIDE_PROMPTS, side=side)
        texts = generate_padded(model, tokenizer, batch, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
        reference_ids = reference_new_ids(model, batch, tokenizer.eos_token_id, MAX_NEW_TOKENS)
        assert texts == tokenizer.batch_decode(reference_ids, skip_special_tokens=True)


def test_generate_padded_insists_on_mask_and_length(tiny):
    model, tokenizer = tiny
    batch = pad_batch(tokenizer, GUIDE_PROMPTS, side="left")
    with pytest.raises(CompanionError, match="attention_mask"):
        generate_padded(model, tokenizer, {"input_ids": batch["input_ids"]}, max_new_tokens=3)
    with pytest.raises(CompanionError, match="max_new_tokens"):
        generate_padded(model, tokenizer, batch)


def test_predicted_next_token_is_the_first_generated_token(tiny):
    model, tokenizer = tiny
    for side in ("left", "right"):
        batch = pad_batch(tokenizer, GUIDE_PROMPTS, side=side)
        first_ids = [row[0] for row in reference_new_ids(model, batch, tokenizer.eos_token_id, 1)]
        pairs = predicted_next_tokens(model, tokenizer, batch)
        assert [next_token for _, next_token in pairs] == [repr(tokenizer.decode([i])) for i in first_ids]
    right_pairs = predicted_next_tokens(model, tokenizer, pad_batch(tokenizer, GUIDE_PROMPTS, side="right"))
    assert right_pairs[0][0] == tokenizer.eos_token  # the short row's last column is padding


def test_padding_table_shows_tokens_mask_and_positions(tiny):
    _, tokenizer = tiny
    batch = pad_batch(tokenizer, GUIDE_PROMPTS, side="left")
    table = padding_table(tokenizer, batch, title="left")
    lines = table.splitlines()
    assert lines[0] == "left" and len(lines) == 1 + 3 * len(GUIDE_PROMPTS)
    assert lines[1].startswith("row 0 token") and "</s>" in lines[1] and "' 3'" in lines[1]
    mask_cells = [int(cell) for cell in lines[2].split()[1:]]
    position_cells = [int(cell) for cell in lines[3].split()[1:]]
    assert mask_cells == batch["attention_mask"][0].tolist()
    assert position_cells == position_ids_for(batch["attention_mask"])[0].tolist()


def test_transformers_warnings_collects_and_restores(tiny):
    model, tokenizer = tiny
    library_logger = logging.getLogger("transformers")
    level, handlers, propagate = library_logger.level, list(library_logger.handlers), library_logger.propagate
    right = pad_batch(tokenizer, GUIDE_PROMPTS, side="right")
    with transformers_warnings() as messages:
        generate_padded(model, tokenizer, right, max_new_tokens=2, do_sample=False)
    assert any("right-padding was detected" in message for message in messages)
    assert (library_logger.level, library_logger.handlers, library_logger.propagate) == (level, handlers, propagate)


def test_comparison_properties():
    comparison = PaddingComparison("p", unbatched="a", right_padded="b", left_padded="a")
    assert comparison.left_matches and not comparison.right_matches
    assert comparison.report().splitlines() == [
        "prompt 'p'",
        "  alone       : 'a'",
        "  right padded: 'b'   same as alone: False",
        "  left padded : 'a'   same as alone: True",
    ]
