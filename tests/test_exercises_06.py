"""Tests for the exercise checks of notebook 06 (companion/exercises/going_further.py)."""

import pytest

import companion  # noqa: F401  (quiet environment before torch)
from companion.exercises.going_further import (
    check_batch_forward_passes,
    check_floor_ms_per_token,
    check_left_padded_answers,
    check_quantization_for_gpu,
    check_seven_billion_memory,
)
from companion.generation import tokenize_batch
from companion.models import load_model
from companion.throughput import BATCH_PROMPTS, weight_bytes


@pytest.fixture(scope="module")
def tiny_model():
    return load_model("tutorial-tiny")[0]


def test_floor_accepts_the_right_answer(tiny_model, capsys):
    right = weight_bytes(tiny_model) / (20.0 * 1e9) * 1000
    assert check_floor_ms_per_token(right, tiny_model, 20.0)
    assert capsys.readouterr().out.startswith("Correct!")


@pytest.mark.parametrize(
    ("scale", "hint_word"),
    [(1 / 1000, "seconds"), (1000, "units"), (None, "one number")],
)
def test_floor_hints_point_at_the_mistake(tiny_model, capsys, scale, hint_word):
    right = weight_bytes(tiny_model) / (20.0 * 1e9) * 1000
    answer = None if scale is None else right * scale
    assert not check_floor_ms_per_token(answer, tiny_model, 20.0)
    output = capsys.readouterr().out
    assert output.startswith("Not yet. Hint:") and hint_word in output


def test_floor_hint_for_an_inverted_answer(tiny_model, capsys):
    right = weight_bytes(tiny_model) / (20.0 * 1e9) * 1000
    assert not check_floor_ms_per_token(1 / right, tiny_model, 20.0)
    assert "upside down" in capsys.readouterr().out


def test_seven_billion_memory(capsys):
    assert check_seven_billion_memory({"fp32": 28, "bf16": 14, "4bit": 3.9})
    assert capsys.readouterr().out.startswith("Correct!")
    assert not check_seven_billion_memory({"fp32": 28, "bf16": 14, "4bit": 28})
    assert '"4bit"' in capsys.readouterr().out
    assert not check_seven_billion_memory({"fp32": 224, "bf16": 14, "4bit": 3.5})
    assert "bits" in capsys.readouterr().out
    assert not check_seven_billion_memory({"fp32": 28e9, "bf16": 14, "4bit": 3.5})
    assert "bytes" in capsys.readouterr().out
    assert not check_seven_billion_memory(None)
    assert "dict" in capsys.readouterr().out
    assert not check_seven_billion_memory({"fp32": True, "bf16": 14, "4bit": 3.5})


# ---------------------------------------------------------------- checks added with notebook 08's recorder

EXERCISE_PROMPTS = BATCH_PROMPTS[:4]


def test_batch_forward_passes(tiny_model, capsys):
    _, tokenizer = load_model("tutorial-tiny")
    # One pass per new token, counted from the real call's output length.
    model_inputs = tokenize_batch(tokenizer, EXERCISE_PROMPTS)
    output = tiny_model.generate(**model_inputs, max_new_tokens=5, min_new_tokens=5, do_sample=False,
                                 pad_token_id=tokenizer.eos_token_id)
    passes = output.shape[1] - model_inputs["input_ids"].shape[1]
    assert check_batch_forward_passes(passes, tiny_model, tokenizer, EXERCISE_PROMPTS, max_new_tokens=5)
    assert capsys.readouterr().out.startswith("Correct!")
    for wrong, hint_word in [(passes * 4, "every row"), (passes + 1, "close"), (1, "count the passes"),
                             (None, "whole number"), ("5", "whole number"), (2.5, "whole number")]:
        assert not check_batch_forward_passes(wrong, tiny_model, tokenizer, EXERCISE_PROMPTS, max_new_tokens=5)
        output_text = capsys.readouterr().out
        assert output_text.startswith("Not yet. Hint:") and hint_word in output_text


def test_left_padded_answers(tiny_model, capsys):
    _, tokenizer = load_model("tutorial-tiny")
    # The reference: each prompt alone with plain generate() (no padding at all).
    alone = []
    for prompt in EXERCISE_PROMPTS:
        model_inputs = tokenizer(prompt, return_tensors="pt")
        ids = tiny_model.generate(**model_inputs, max_new_tokens=6, do_sample=False,
                                  pad_token_id=tokenizer.eos_token_id)
        alone.append(tokenizer.decode(ids[0, model_inputs["input_ids"].shape[1]:], skip_special_tokens=True))
    assert check_left_padded_answers(alone, tiny_model, tokenizer, EXERCISE_PROMPTS, max_new_tokens=6)
    assert capsys.readouterr().out.startswith("Correct!")
    right_padded = companion.generate_text(tiny_model, tokenizer, EXERCISE_PROMPTS, max_new_tokens=6,
                                           do_sample=False, side="right")
    assert right_padded != alone  # tutorial-tiny goes wrong with right padding (notebook 04)
    assert not check_left_padded_answers(right_padded, tiny_model, tokenizer, EXERCISE_PROMPTS, max_new_tokens=6)
    assert "right-padded" in capsys.readouterr().out
    with_prompts = [prompt + text for prompt, text in zip(EXERCISE_PROMPTS, alone, strict=True)]
    assert not check_left_padded_answers(with_prompts, tiny_model, tokenizer, EXERCISE_PROMPTS, max_new_tokens=6)
    assert "only the new tokens" in capsys.readouterr().out
    for wrong, hint_word in [(None, "list of strings"), (alone[:2], "one answer per prompt"), ([1, 2, 3, 4], "list")]:
        assert not check_left_padded_answers(wrong, tiny_model, tokenizer, EXERCISE_PROMPTS, max_new_tokens=6)
        assert hint_word in capsys.readouterr().out


def test_quantization_for_gpu(capsys):
    assert check_quantization_for_gpu(4, gpu_gb=6.0)
    out = capsys.readouterr().out
    assert out.startswith("Correct!") and 'QUANTIZATION = "4bit"' in out
    assert check_quantization_for_gpu(8, gpu_gb=8.0)  # 7 GB fits in 8 GB
    assert capsys.readouterr().out.startswith("Correct!")
    assert not check_quantization_for_gpu(32, gpu_gb=6.0)
    assert "28 GB" in capsys.readouterr().out
    assert not check_quantization_for_gpu(4, gpu_gb=8.0)
    assert "more bits" in capsys.readouterr().out
    for wrong in (None, "4bit", "int4", 3, True, "fp32"):  # None: the untouched placeholder is never judged
        assert not check_quantization_for_gpu(wrong)
        assert "store the bits per weight" in capsys.readouterr().out
