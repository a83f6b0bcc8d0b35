"""The exercise checks of notebooks 04 (padding side) and 05 (prompt format): right answers pass, typical wrong ones get a hint."""

import pytest
import torch

import companion
from companion.exercises.padding_side import check_batch_ready_for_generation, check_position_ids
from companion.exercises.prompt_format import check_answers_only, check_generation_prompt
from companion.chat import chat_prompt
from companion.padding import pad_batch

PROMPTS = ["1, 2, 3", "A, B, C, D, E"]
MESSAGES = [
    {"role": "system", "content": "You are a friendly geography teacher."},
    {"role": "user", "content": "What is the capital of Italy?"},
]


def verdict(capsys, result):
    """The check's return value and the line it printed."""
    return result, capsys.readouterr().out.strip()


# ---------------------------------------------------------------- notebook 04


def test_left_padded_batch_is_correct(capsys):
    _, tokenizer = companion.load_model("tutorial-tiny")
    tokenizer.pad_token = tokenizer.eos_token
    tokenizer.padding_side = "left"
    correct, printed = verdict(capsys, check_batch_ready_for_generation(tokenizer(PROMPTS, padding=True, return_tensors="pt")))
    assert correct and printed.startswith("Correct!")


def test_right_padded_batch_gets_a_hint(capsys):
    _, tokenizer = companion.load_model("tutorial-tiny")
    tokenizer.pad_token = tokenizer.eos_token  # padding_side stays "right"
    correct, printed = verdict(capsys, check_batch_ready_for_generation(tokenizer(PROMPTS, padding=True, return_tensors="pt")))
    assert not correct and "last column" in printed and "left" not in printed  # a hint, not the answer


@pytest.mark.parametrize("make_answer", ["none", "lists", "unpadded_single"])
def test_other_batch_answers_get_hints(capsys, make_answer):
    _, tokenizer = companion.load_model("tutorial-tiny")
    tokenizer.pad_token = tokenizer.eos_token
    answers = {
        "none": None,
        "lists": tokenizer(PROMPTS, padding=True),  # no return_tensors: lists, not a (b, t) tensor
        "unpadded_single": tokenizer(PROMPTS[:1], return_tensors="pt"),
    }
    correct, printed = verdict(capsys, check_batch_ready_for_generation(answers[make_answer]))
    assert not correct and printed.startswith("Not yet. Hint:")


def test_position_ids(capsys, tiny):
    _, tokenizer = tiny
    attention_mask = pad_batch(tokenizer, PROMPTS, side="left")["attention_mask"]
    right = (attention_mask.cumsum(dim=-1) - 1).masked_fill(attention_mask == 0, 0)
    correct, printed = verdict(capsys, check_position_ids(attention_mask, right))
    assert correct and printed.startswith("Correct!")
    wrong_answers = {
        "column numbers": torch.arange(attention_mask.shape[1]).expand_as(attention_mask),
        "start at 0": attention_mask.cumsum(dim=-1),
        "masked_fill": attention_mask.cumsum(dim=-1) - 1,
        "one position per token": right[:, 1:],
        "tensor": None,
    }
    for expected_hint, answer in wrong_answers.items():
        correct, printed = verdict(capsys, check_position_ids(attention_mask, answer))
        assert not correct and expected_hint in printed


# ---------------------------------------------------------------- notebook 05


def test_generation_prompt(capsys, smollm2):
    _, tokenizer = smollm2
    right = tokenizer.apply_chat_template(MESSAGES, tokenize=False, add_generation_prompt=True)
    correct, printed = verdict(capsys, check_generation_prompt(tokenizer, MESSAGES, right))
    assert correct and printed.startswith("Correct!")
    without_header = tokenizer.apply_chat_template(MESSAGES, tokenize=False)
    wrong_answers = {
        "Which argument": without_header,
        "raw question": MESSAGES[-1]["content"],
        "Store the text": None,
        "tokenize=False": tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=True),
        "whole `messages`": tokenizer.apply_chat_template(MESSAGES[-1:], tokenize=False, add_generation_prompt=True),
    }
    for expected_hint, answer in wrong_answers.items():
        correct, printed = verdict(capsys, check_generation_prompt(tokenizer, MESSAGES, answer))
        assert not correct and expected_hint in printed


def test_answers_only(capsys, smollm2):
    model, tokenizer = smollm2
    questions = ["What is 2 + 3?", "What is the capital of France?"]
    prompts = [chat_prompt(tokenizer, question) for question in questions]
    sequences, prompt_ids = companion.generate_ids(model, tokenizer, prompts, max_new_tokens=12, do_sample=False)
    new_tokens = sequences[:, prompt_ids.shape[1]:]
    assert (new_tokens == tokenizer.eos_token_id).any()  # a finished row: special tokens to skip
    right = tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
    correct, printed = verdict(capsys, check_answers_only(tokenizer, sequences, prompt_ids, right))
    assert correct and printed.startswith("Correct!")
    wrong_answers = {
        "still holds the prompt": tokenizer.batch_decode(sequences, skip_special_tokens=True),
        "special tokens": tokenizer.batch_decode(new_tokens, skip_special_tokens=False),
        "one per chat": right[:1],
        "Decode every row": right[0],
    }
    for expected_hint, answer in wrong_answers.items():
        correct, printed = verdict(capsys, check_answers_only(tokenizer, sequences, prompt_ids, answer))
        assert not correct and expected_hint in printed
