"""Tests for the exercise checks of notebook 08 (companion/exercises/faster_decoding.py).

Right answers are worked out here from first principles (the model's config, real
generate() calls counted with a streamer), wrong answers must give a hint, never raise.
"""

import pytest
import torch
from decoding_helpers import REPEATING_PROMPT, ChunkCounter, tokenize

import companion  # noqa: F401  (quiet environment before torch)
from companion.exercises.faster_decoding import (
    CACHE_EXERCISE_NEW_TOKENS,
    check_cache_shape,
    check_fixed_lookup_call,
    check_smallest_lookup_tokens,
)


def expected_cache_shape(model, model_inputs):
    config = model.config.get_text_config()
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    positions = model_inputs["input_ids"].shape[1] + CACHE_EXERCISE_NEW_TOKENS - 1
    return (1, config.num_key_value_heads, positions, head_dim)


def test_cache_shape_accepts_the_right_answer(tiny, capsys):
    model, tokenizer = tiny
    model_inputs = tokenize(tokenizer, "A list of colors: red, blue", model)
    right = expected_cache_shape(model, model_inputs)
    assert check_cache_shape(right, model, model_inputs)
    assert check_cache_shape(list(right), model, model_inputs)
    assert check_cache_shape(torch.Size(right), model, model_inputs)
    assert capsys.readouterr().out.count("Correct!") == 3


@pytest.mark.parametrize(
    ("change", "hint_word"),
    [
        (lambda shape: None, "four whole numbers"),
        (lambda shape: "shape", "four whole numbers"),
        (lambda shape: shape[:3], "four whole numbers"),
        (lambda shape: (shape[0], shape[1], shape[2] + 1, shape[3]), "no forward pass"),
        (lambda shape: (2, *shape[1:]), "batch"),
        (lambda shape: (shape[0], shape[1], shape[2], shape[3] + 1), "head"),
        (lambda shape: (shape[0], shape[1], shape[2] - CACHE_EXERCISE_NEW_TOKENS + 1, shape[3]), "grows"),
        (lambda shape: (1, shape[1], 3, shape[3]), "count the positions"),
        (lambda shape: (1.0, *shape[1:]), "four whole numbers"),
    ],
)
def test_cache_shape_hints(tiny, capsys, change, hint_word):
    model, tokenizer = tiny
    model_inputs = tokenize(tokenizer, "A list of colors: red, blue", model)
    answer = change(expected_cache_shape(model, model_inputs))
    assert not check_cache_shape(answer, model, model_inputs)
    output = capsys.readouterr().out
    assert output.startswith("Not yet. Hint:") and hint_word in output


def test_cache_shape_on_smollm2_points_at_grouped_query_attention(smollm2, capsys):
    model, tokenizer = smollm2
    model_inputs = tokenize(tokenizer, "The capital of France is", model)
    right = expected_cache_shape(model, model_inputs)
    assert check_cache_shape(right, model, model_inputs)
    with_query_heads = (1, model.config.num_attention_heads, right[2], right[3])
    assert model.config.num_attention_heads != model.config.num_key_value_heads
    assert not check_cache_shape(with_query_heads, model, model_inputs)
    assert "key/value heads" in capsys.readouterr().out.splitlines()[-1]


FIXED_CALL = {"max_new_tokens": 12, "do_sample": False, "prompt_lookup_num_tokens": 4}


def test_fixed_lookup_call_accepts_the_fix(tiny, capsys):
    model, tokenizer = tiny
    model_inputs = tokenize(tokenizer, REPEATING_PROMPT, model)
    assert check_fixed_lookup_call(dict(FIXED_CALL), model, model_inputs)
    assert capsys.readouterr().out.startswith("Correct!")


@pytest.mark.parametrize(
    ("answer", "hint_word"),
    [
        (None, "dict"),
        ([("max_new_tokens", 12)], "dict"),
        ({"do_sample": False, "prompt_lookup_num_tokens": 4}, "number of new tokens"),
        ({**FIXED_CALL, "max_length": 40}, "number of new tokens"),
        ({**FIXED_CALL, "max_new_tokens": 10_000}, "whole number"),
        ({**FIXED_CALL, "max_new_tokens": "12"}, "whole number"),
        ({"max_new_tokens": 12, "prompt_lookup_num_tokens": 4}, "does not sample"),
        ({**FIXED_CALL, "do_sample": True}, "does not sample"),
        ({"max_new_tokens": 12, "do_sample": False}, "draft"),
        ({**FIXED_CALL, "num_beams": 2}, "warning"),
        ({**FIXED_CALL, "not_an_argument": 1}, "refused"),
        ({**FIXED_CALL, "prompt_lookup_num_tokens": 0}, "refused"),
    ],
)
def test_fixed_lookup_call_hints(tiny, capsys, answer, hint_word):
    model, tokenizer = tiny
    model_inputs = tokenize(tokenizer, REPEATING_PROMPT, model)
    assert not check_fixed_lookup_call(answer, model, model_inputs)
    output = capsys.readouterr().out
    assert output.startswith("Not yet. Hint:") and hint_word in output


def test_fixed_lookup_call_without_accepted_drafts(tiny, capsys):
    model, tokenizer = tiny
    model_inputs = tokenize(tokenizer, "I am a cat.", model)
    # Output equal to greedy, but a prompt without repeats gives no accepted draft.
    answer = {"max_new_tokens": 3, "do_sample": False, "prompt_lookup_num_tokens": 2, "min_new_tokens": 3}
    verdict = check_fixed_lookup_call(answer, model, model_inputs)
    output = capsys.readouterr().out
    assert not verdict and output.startswith("Not yet. Hint:")


def tokens_per_pass(model, model_inputs, max_new_tokens, lookup_tokens):
    """New tokens per pass, counted with a streamer (independent of the check's recorder)."""
    chunks = ChunkCounter()
    with torch.inference_mode():
        model.generate(**model_inputs, max_new_tokens=max_new_tokens, do_sample=False,
                       prompt_lookup_num_tokens=lookup_tokens, streamer=chunks)
    accepted = chunks.chunks[1:]
    return sum(accepted) / len(accepted)


def test_smallest_lookup_tokens(tiny, capsys):
    model, tokenizer = tiny
    model_inputs = tokenize(tokenizer, REPEATING_PROMPT, model)
    per_pass = {k: tokens_per_pass(model, model_inputs, 12, k) for k in range(1, 9)}
    goal = 1.3  # tutorial-tiny copies little; on this prompt a draft of 1 or 2 tokens falls short
    smallest = next(k for k, value in per_pass.items() if value >= goal)
    assert smallest > 1
    assert check_smallest_lookup_tokens(smallest, model, model_inputs, max_new_tokens=12, goal=goal)
    assert capsys.readouterr().out.startswith("Correct!")
    assert not check_smallest_lookup_tokens(8, model, model_inputs, max_new_tokens=12, goal=goal) or smallest == 8
    if smallest < 8:
        assert "smaller value" in capsys.readouterr().out
    if smallest > 1:
        assert not check_smallest_lookup_tokens(smallest - 1, model, model_inputs, max_new_tokens=12, goal=goal)
        assert "longer" in capsys.readouterr().out


@pytest.mark.parametrize("answer", [None, 0, -3, 100, True, "3", 2.5])
def test_smallest_lookup_tokens_rejects_malformed_answers(tiny, capsys, answer):
    model, tokenizer = tiny
    model_inputs = tokenize(tokenizer, REPEATING_PROMPT, model)
    assert not check_smallest_lookup_tokens(answer, model, model_inputs, max_new_tokens=12)
    assert "whole number" in capsys.readouterr().out


def test_smallest_lookup_tokens_when_the_goal_is_out_of_reach(tiny, capsys):
    model, tokenizer = tiny
    model_inputs = tokenize(tokenizer, REPEATING_PROMPT, model)
    assert not check_smallest_lookup_tokens(2, model, model_inputs, max_new_tokens=12, goal=50.0)
    assert "longer" in capsys.readouterr().out
