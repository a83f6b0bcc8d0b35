"""Tests for the exercise checks of notebook 09 (companion/exercises/application.py).

Each check is run on the real tutorial-tiny with a right answer (it prints "Correct!") and with
typical wrong ones (a hint, never an exception). The right answers are computed here with
plain transformers calls, not written down.
"""

import copy

import pytest
import torch
from transformers import LogitsProcessor, LogitsProcessorList

from companion.exercises.application import check_digits_and_spaces, check_fixed_call, check_max_time_tokens

TEXTS = ["A list of colors: red, blue", "I am a cat."]


@pytest.fixture()
def padded(tiny):
    tokenizer = copy.deepcopy(tiny[1])
    tokenizer.pad_token = tokenizer.eos_token
    return tiny[0], tokenizer


def verdict(capsys) -> str:
    return capsys.readouterr().out


def test_max_time_tokens(tiny, capsys):
    model, tokenizer = tiny
    inputs = tokenizer(["I am a cat."], return_tensors="pt")
    with torch.inference_mode():
        output = model.generate(**inputs, max_new_tokens=20, do_sample=False, max_time=1e-6)
    right = output.shape[1] - inputs["input_ids"].shape[1]
    assert check_max_time_tokens(right, model, inputs) and "Correct!" in verdict(capsys)
    assert not check_max_time_tokens(0, model, inputs) and "never before the first" in verdict(capsys)
    assert not check_max_time_tokens(20, model, inputs) and "clock starts" in verdict(capsys)
    assert not check_max_time_tokens("1", model, inputs) and "whole number" in verdict(capsys)


def test_fixed_call(padded, capsys):
    model, tokenizer = padded
    fixed = tokenizer(TEXTS, padding=True, padding_side="left", return_tensors="pt")
    assert check_fixed_call((fixed, {"max_new_tokens": 8, "do_sample": False}), model, tokenizer, TEXTS)
    assert "Correct!" in verdict(capsys)
    right = tokenizer(TEXTS, padding=True, padding_side="right", return_tensors="pt")
    assert not check_fixed_call((right, {"max_new_tokens": 8, "do_sample": False}), model, tokenizer, TEXTS)
    assert "right_padding" in verdict(capsys)
    assert not check_fixed_call((fixed, {"max_new_tokens": 8}), model, tokenizer, TEXTS)
    assert "do_sample" in verdict(capsys)
    not_a_pair = (fixed["input_ids"], {"max_new_tokens": 8, "do_sample": False})
    assert not check_fixed_call(not_a_pair, model, tokenizer, TEXTS)
    assert "pair" in verdict(capsys)
    swapped = tokenizer(TEXTS[::-1], padding=True, padding_side="left", return_tensors="pt")
    assert not check_fixed_call((swapped, {"max_new_tokens": 8, "do_sample": False}), model, tokenizer, TEXTS)
    assert "same prompts" in verdict(capsys)
    assert not check_fixed_call((fixed, {"max_new_tokens": 8, "do_sample": True}), model, tokenizer, TEXTS)
    assert "greedy" in verdict(capsys)


class OnlyDigitsAndSpaces(LogitsProcessor):
    def __init__(self, allowed):
        self.allowed = torch.tensor(allowed)

    def __call__(self, input_ids, scores):
        blocked = torch.full_like(scores, float("-inf"))
        blocked[:, self.allowed] = 0.0
        return scores + blocked


def test_digits_and_spaces(tiny, capsys):
    model, tokenizer = tiny
    inputs = tokenizer(["A sequence of numbers: 1, 2"], return_tensors="pt")
    digits = [token_id for token_id in range(len(tokenizer))
              if (text := tokenizer.decode([token_id])) and set(text) <= set("0123456789 ") and not text.isspace()]
    answer = {"logits_processor": LogitsProcessorList([OnlyDigitsAndSpaces(digits)])}
    assert check_digits_and_spaces(answer, model, tokenizer, inputs, 8) and "Correct!" in verdict(capsys)
    assert not check_digits_and_spaces({}, model, tokenizer, inputs, 8) and "other than digits" in verdict(capsys)
    only_eos = {"logits_processor": LogitsProcessorList([OnlyDigitsAndSpaces([tokenizer.eos_token_id])])}
    assert not check_digits_and_spaces(only_eos, model, tokenizer, inputs, 8) and "no digit" in verdict(capsys)
    assert not check_digits_and_spaces({"max_new_tokens": -1}, model, tokenizer, inputs, 8)
    assert "refused" in verdict(capsys)
    assert not check_digits_and_spaces(None, model, tokenizer, inputs, 8) and "dict" in verdict(capsys)
