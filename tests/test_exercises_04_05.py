"""The exercise checks of notebooks 04 (padding side) and 05 (prompt format): right answers pass,
typical wrong ones get a hint."""

import copy

import pytest
import torch

import companion
from companion.exercises.padding_side import (
    check_batch_continuations,
    check_batch_ready_for_generation,
    check_position_ids,
)
from companion.exercises.prompt_format import check_continued_message, check_fixed_chat_batch, check_header_token_count

PROMPTS = ["A, B", "A sequence of numbers: 1, 2, 3, 4, 5, 6, 7"]  # notebook 04's prompts
EXERCISE_PROMPTS = ["I am a cat.", "A sequence of numbers: 1, 2, 3, 4, 5, 6, 7"]  # its exercise 3
MAX_NEW_TOKENS = 12
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
    batch = tokenizer(PROMPTS, padding=True, return_tensors="pt")
    correct, printed = verdict(capsys, check_batch_ready_for_generation(batch))
    assert correct and printed.startswith("Correct!")


def test_right_padded_batch_gets_a_hint(capsys):
    _, tokenizer = companion.load_model("tutorial-tiny")
    tokenizer.pad_token = tokenizer.eos_token  # padding_side stays "right"
    batch = tokenizer(PROMPTS, padding=True, return_tensors="pt")
    correct, printed = verdict(capsys, check_batch_ready_for_generation(batch))
    assert not correct and "last column" in printed and "left" not in printed  # a hint, not the answer


@pytest.mark.parametrize("make_answer", ["none", "lists", "unpadded_single", "a_string"])
def test_other_batch_answers_get_hints(capsys, make_answer):
    _, tokenizer = companion.load_model("tutorial-tiny")
    tokenizer.pad_token = tokenizer.eos_token
    answers = {
        "none": None,
        "lists": tokenizer(PROMPTS, padding=True),  # no return_tensors: lists, not a (b, t) tensor
        "unpadded_single": tokenizer(PROMPTS[:1], return_tensors="pt"),
        "a_string": "left",
    }
    correct, printed = verdict(capsys, check_batch_ready_for_generation(answers[make_answer]))
    assert not correct and printed.startswith("Not yet. Hint:")


@pytest.mark.parametrize("side", ["left", "right"])
def test_position_ids_accept_any_value_at_padding(capsys, tiny, side):
    _, tokenizer = tiny
    attention_mask = companion.tokenize_batch(tokenizer, PROMPTS, side=side)["attention_mask"]
    counted = attention_mask.cumsum(dim=-1) - 1  # -1 on left padding: masked, so it does not matter
    for fill in (None, 0, 1, 99):
        answer = counted if fill is None else counted.masked_fill(attention_mask == 0, fill)
        correct, printed = verdict(capsys, check_position_ids(attention_mask, answer))
        assert correct and printed.startswith("Correct!")


def test_position_ids_wrong_answers_get_hints(capsys, tiny):
    _, tokenizer = tiny
    attention_mask = companion.tokenize_batch(tokenizer, PROMPTS, side="left")["attention_mask"]
    right = attention_mask.cumsum(dim=-1) - 1
    wrong_answers = {
        "column numbers": torch.arange(attention_mask.shape[1]).expand_as(attention_mask),
        "position 0, not 1": attention_mask.cumsum(dim=-1),
        "one position per token": right[:, 1:],
        "Compute a tensor": None,
        "Count the real tokens": right.flip(dims=[-1]),
    }
    for expected_hint, answer in wrong_answers.items():
        correct, printed = verdict(capsys, check_position_ids(attention_mask, answer))
        assert not correct and expected_hint in printed
    correct, printed = verdict(capsys, check_position_ids(attention_mask, right.tolist()))  # a list, not a tensor
    assert not correct and printed.startswith("Not yet. Hint:")


def learner_generate(model, tokenizer, prompts, side, with_mask):
    """The exercise's plain calls: tokenize with padding on `side`, generate greedily, keep the new text."""
    tokenizer.padding_side = side
    inputs = tokenizer(prompts, padding=True, return_tensors="pt")
    model_inputs = dict(inputs) if with_mask else {"input_ids": inputs["input_ids"]}
    sequences = model.generate(**model_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False,
                               pad_token_id=tokenizer.pad_token_id)
    return tokenizer.batch_decode(sequences[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)


@pytest.mark.parametrize("model_name", ["tutorial-tiny", "smollm2-135m"])
def test_batch_continuations(capsys, model_name, built_in):
    model, tokenizer = built_in(model_name)
    tokenizer = copy.deepcopy(tokenizer)  # a tokenizer of its own, which this test changes
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    fixed = learner_generate(model, tokenizer, EXERCISE_PROMPTS, "left", with_mask=True)
    correct, printed = verdict(capsys, check_batch_continuations(model, tokenizer, EXERCISE_PROMPTS, fixed,
                                                                 MAX_NEW_TOKENS))
    assert correct and printed.startswith("Correct!")
    half_fixed = {
        "right padding, mask passed": learner_generate(model, tokenizer, EXERCISE_PROMPTS, "right", with_mask=True),
        "left padding, no mask": learner_generate(model, tokenizer, EXERCISE_PROMPTS, "left", with_mask=False),
        "as broken": learner_generate(model, tokenizer, EXERCISE_PROMPTS, "right", with_mask=False),
    }
    for answer in half_fixed.values():
        assert answer != fixed  # each half fix still breaks a row on this model
        correct, printed = verdict(capsys, check_batch_continuations(model, tokenizer, EXERCISE_PROMPTS, answer,
                                                                     MAX_NEW_TOKENS))
        assert not correct and "Fix both" in printed
        assert "padding_side" not in printed and "attention_mask" not in printed  # a hint, not the code


def test_batch_continuations_wrong_shapes_get_hints(capsys, tiny):
    model, tokenizer = tiny
    fixed = companion.generate_text(model, tokenizer, EXERCISE_PROMPTS, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)
    wrong_answers = {
        "list of 2 strings": None,
        "list of 2 strings, one": fixed[0],
        "needs 2 strings": fixed[:1],
        "starts with the prompt": [prompt + text for prompt, text in zip(EXERCISE_PROMPTS, fixed, strict=True)],
    }
    for expected_hint, answer in wrong_answers.items():
        correct, printed = verdict(capsys, check_batch_continuations(model, tokenizer, EXERCISE_PROMPTS, answer,
                                                                     MAX_NEW_TOKENS))
        assert not correct and expected_hint in printed


# ---------------------------------------------------------------- notebook 05

CHATS = [
    [{"role": "user", "content": "Name three colors."}],
    [{"role": "system", "content": "You are a helpful assistant. Answer in one short sentence."},
     {"role": "user", "content": "What is the moon?"}],
]
PREFILL = [{"role": "user", "content": "Name three colors."}, {"role": "assistant", "content": "1."}]
CHAT_TOKENS = 12


def test_header_token_count(capsys, smollm2):
    _, tokenizer = smollm2
    with_header = tokenizer.apply_chat_template(MESSAGES, add_generation_prompt=True)["input_ids"]
    without_header = tokenizer.apply_chat_template(MESSAGES)["input_ids"]
    right = len(with_header) - len(without_header)
    correct, printed = verdict(capsys, check_header_token_count(tokenizer, MESSAGES, right))
    assert correct and printed.startswith("Correct!") and "<|im_start|>" in printed
    header_text = tokenizer.decode(with_header[len(without_header):])
    wrong_answers = [
        ("whole number", None),
        ("whole number", str(right)),
        ("whole number", True),
        ("characters", len(header_text)),
        ("More than that", 1),
        ("Fewer than that", right + 3),
    ]
    for expected_hint, answer in wrong_answers:
        correct, printed = verdict(capsys, check_header_token_count(tokenizer, MESSAGES, answer))
        assert not correct and printed.startswith("Not yet. Hint:") and expected_hint in printed
        assert str(right) not in printed  # the hint never gives the number away


def generate_chats(model, tokenizer, side, skip_special_tokens=True):
    """The exercise's code with padding on `side`: apply_chat_template -> generate(**inputs) -> slice -> decode."""
    saved_side = tokenizer.padding_side
    tokenizer.padding_side = side
    try:
        inputs = tokenizer.apply_chat_template(
            CHATS, add_generation_prompt=True, padding=True, return_tensors="pt", return_dict=True
        )
    finally:
        tokenizer.padding_side = saved_side
    with torch.inference_mode():
        outputs = model.generate(**inputs, max_new_tokens=CHAT_TOKENS, do_sample=False)
    return (
        tokenizer.batch_decode(outputs[:, inputs["input_ids"].shape[1]:], skip_special_tokens=skip_special_tokens),
        tokenizer.batch_decode(outputs, skip_special_tokens=True),
    )


def test_fixed_chat_batch(capsys, smollm2):
    model, tokenizer = smollm2
    right, with_prompt = generate_chats(model, tokenizer, "left")
    correct, printed = verdict(capsys, check_fixed_chat_batch(model, tokenizer, CHATS, right,
                                                              max_new_tokens=CHAT_TOKENS))
    assert correct and printed.startswith("Correct!")
    right_padded, _ = generate_chats(model, tokenizer, "right")
    assert right_padded != right  # the mistake the exercise's hint is about really changes the answers
    with_special_tokens, _ = generate_chats(model, tokenizer, "left", skip_special_tokens=False)
    wrong_answers = {
        "where does their padding sit": right_padded,
        "end-of-turn and padding tokens": with_special_tokens,
        "still holds the chat's prompt": with_prompt,
        "one string per chat, in `answer`": None,
        "one string per chat, in a list": right[0],
        "one per chat": right[:1],
        "not ids": [[1, 2], [3]],
        "Compare shapes": ["", ""],
    }
    for expected_hint, answer in wrong_answers.items():
        correct, printed = verdict(capsys, check_fixed_chat_batch(model, tokenizer, CHATS, answer,
                                                                  max_new_tokens=CHAT_TOKENS))
        assert not correct and printed.startswith("Not yet. Hint:") and expected_hint in printed
        assert "padding_side" not in printed and "**" not in printed  # hints point at concepts, not at the code
    assert tokenizer.padding_side == "right"  # the check leaves the tokenizer as it found it


def test_continued_message(capsys, smollm2):
    _, tokenizer = smollm2
    right = tokenizer.apply_chat_template(PREFILL, tokenize=False, continue_final_message=True)
    assert right.endswith("1.")
    correct, printed = verdict(capsys, check_continued_message(tokenizer, PREFILL, right))
    assert correct and printed.startswith("Correct!")
    wrong_answers = {
        "leaves the final message open": tokenizer.apply_chat_template(PREFILL, tokenize=False),
        "second answer": tokenizer.apply_chat_template(PREFILL, tokenize=False, add_generation_prompt=True),
        "not token ids": tokenizer.apply_chat_template(PREFILL, continue_final_message=True),
        "Store the prompt text": None,
        "whole `messages`": tokenizer.apply_chat_template(PREFILL[:1], tokenize=False, add_generation_prompt=True),
    }
    for expected_hint, answer in wrong_answers.items():
        correct, printed = verdict(capsys, check_continued_message(tokenizer, PREFILL, answer))
        assert not correct and printed.startswith("Not yet. Hint:") and expected_hint in printed
        assert "continue_final_message" not in printed
