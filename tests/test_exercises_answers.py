"""The readers of a learner's answer in companion.exercises.answers: each accepts the forms its docstring
names, in every exercise alike, and returns None / False for anything else, never raising."""

import math

import pytest
import torch

import companion
from companion.exercises.answers import (
    as_number,
    as_shape,
    as_token_id,
    is_dict_like,
    is_list_of_strings,
    is_number,
    is_whole_number,
    is_whole_number_between,
    tensor_as_int,
)

NOT_AN_ANSWER = [None, ..., "text", [1, 2], {"a": 1}, object()]


def test_whole_numbers_are_ints_but_not_booleans():
    assert is_whole_number(3) and is_whole_number(0) and is_whole_number(-2)
    assert not any(is_whole_number(answer) for answer in [True, False, 3.0, torch.tensor(3), *NOT_AN_ANSWER])
    assert is_whole_number_between(1, 1, 64) and is_whole_number_between(64, 1, 64)
    assert not any(is_whole_number_between(answer, 1, 64) for answer in [0, 65, True, 8.0, None])


def test_numbers_are_finite_ints_and_floats():
    assert is_number(3) and is_number(1.5) and is_number(-0.25)
    assert not any(is_number(answer) for answer in [True, math.nan, math.inf, torch.tensor(1.5), *NOT_AN_ANSWER])


def test_as_number_reads_one_element_tensors_too():
    assert as_number(2) == 2.0 and isinstance(as_number(2), float)
    assert as_number(torch.tensor(0.5)) == 0.5 and as_number(torch.tensor([0.25])) == 0.25
    assert math.isnan(as_number(math.nan))  # the check decides what nan means
    assert all(as_number(answer) is None for answer in [True, torch.tensor([1.0, 2.0]), *NOT_AN_ANSWER])


def test_tensor_as_int_unwraps_one_element_tensors_only():
    assert tensor_as_int(torch.tensor(7)) == 7 and type(tensor_as_int(torch.tensor([7]))) is int
    for answer in [7, 7.0, "7", None, True]:
        assert tensor_as_int(answer) is answer
    pair = torch.tensor([1, 2])
    assert tensor_as_int(pair) is pair


def test_as_token_id_reads_an_id_a_tensor_or_the_token_text():
    _, tokenizer = companion.load_model("tutorial-tiny")
    token_id = tokenizer(" the", add_special_tokens=False)["input_ids"]
    assert len(token_id) == 1
    token_id = token_id[0]
    assert as_token_id(token_id, tokenizer) == token_id
    assert as_token_id(torch.tensor([token_id]), tokenizer) == token_id
    assert as_token_id(" the", tokenizer) == token_id
    assert as_token_id(" the cat sat", tokenizer) is None  # more than one token
    assert all(as_token_id(answer, tokenizer) is None for answer in [True, 3.0, torch.tensor([1, 2]), None, ...])


@pytest.mark.parametrize("answer", [(1, 5, 100), [1, 5, 100], torch.Size([1, 5, 100])])
def test_as_shape_reads_tuples_lists_and_torch_size(answer):
    assert as_shape(answer) == (1, 5, 100)


def test_as_shape_refuses_other_answers():
    assert as_shape((1, 5)) == (1, 5)  # any number of axes: the check compares the count
    assert all(as_shape(answer) is None for answer in [(1, 5.0, 100), (True, 2), "1, 5, 100", None, ...])


def test_lists_of_strings_and_dict_likes():
    assert is_list_of_strings(["a", "b"]) and is_list_of_strings(("a",)) and is_list_of_strings([])
    assert not any(is_list_of_strings(answer) for answer in ["ab", ["a", 1], {"a": "b"}, None])
    _, tokenizer = companion.load_model("tutorial-tiny")
    assert is_dict_like({"input_ids": 1}) and is_dict_like(tokenizer(["a"], return_tensors="pt"))
    assert not any(is_dict_like(answer) for answer in [None, ["input_ids"], torch.tensor([1])])
