"""generate_text / generate_ids against the real model.generate(), token for token."""

import pytest
import torch
from transformers import AutoTokenizer

import companion
from companion.tiny import MODEL_DIR
from companion.errors import CompanionError, PaddingError

PROMPTS = ["1, 2, 3", "A list of colors: red, blue", "I am a cat."]


def reference_generate(model, tokenizer, prompts, max_new_tokens, **kwargs):
    """What a careful learner writes by hand: left padding, pad = eos, attention mask."""
    tokenizer.padding_side = "left"
    tokenizer.pad_token = tokenizer.pad_token or tokenizer.eos_token
    inputs = tokenizer(prompts, padding=True, return_tensors="pt")
    output = model.generate(
        **inputs, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id, **kwargs
    )
    return inputs, output


@pytest.mark.parametrize("model_name", ["tutorial-tiny", "smollm2-135m"])
def test_generate_ids_equal_model_generate(model_name):
    model, tokenizer = companion.load_model(model_name)
    sequences, prompt_ids = companion.generate_ids(model, tokenizer, PROMPTS, max_new_tokens=12)
    _, reference_tokenizer = companion.load_model(model_name)
    inputs, reference = reference_generate(model, reference_tokenizer, PROMPTS, 12, do_sample=False)
    assert torch.equal(prompt_ids, inputs["input_ids"])
    assert torch.equal(sequences, reference)


def test_generate_text_new_text_and_full_text(tiny):
    model, tokenizer = tiny
    new_text = companion.generate_text(model, tokenizer, PROMPTS, max_new_tokens=10)
    full_text = companion.generate_text(model, tokenizer, PROMPTS, max_new_tokens=10, return_full_text=True)
    assert len(new_text) == len(PROMPTS)
    for prompt, new, full in zip(PROMPTS, new_text, full_text):
        assert full == prompt + new


def test_batch_equals_one_by_one(tiny):
    model, tokenizer = tiny
    batched = companion.generate_text(model, tokenizer, PROMPTS, max_new_tokens=15)
    single = [companion.generate_text(model, tokenizer, prompt, max_new_tokens=15)[0] for prompt in PROMPTS]
    assert batched == single


def test_tokenizer_is_left_as_it_was(tiny):
    model, tokenizer = tiny
    assert tokenizer.pad_token is None and tokenizer.padding_side == "right"
    companion.generate_text(model, tokenizer, PROMPTS, max_new_tokens=3)
    assert tokenizer.pad_token is None and tokenizer.padding_side == "right"


def test_tokenize_batch_is_left_padded(tiny):
    _, tokenizer = tiny
    batch = companion.tokenize_batch(tokenizer, ["1, 2, 3", "A, B, C, D, E"])
    assert batch["input_ids"].shape == batch["attention_mask"].shape
    assert batch["attention_mask"][0, 0] == 0 and batch["attention_mask"][:, -1].all()
    companion.check_left_padded(batch["attention_mask"])


def test_sampling_is_reproducible_with_a_seed(tiny):
    model, tokenizer = tiny
    outputs = []
    for _ in range(2):
        companion.setup_notebook(seed=0, verbose=False)
        outputs.append(companion.generate_text(model, tokenizer, "I am a cat.", max_new_tokens=20, do_sample=True))
    assert outputs[0] == outputs[1]


def test_right_padded_batch_is_refused():
    tokenizer = AutoTokenizer.from_pretrained(MODEL_DIR)  # a copy we may change
    tokenizer.pad_token = tokenizer.eos_token
    right = tokenizer(["1, 2, 3", "A, B, C, D, E"], padding=True, return_tensors="pt")
    with pytest.raises(PaddingError, match="padding_side = 'left'"):
        companion.check_left_padded(right["attention_mask"])


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({}, "Pass max_new_tokens"),
        ({"max_new_tokens": 0}, "positive integer"),
        ({"max_new_tokens": "20"}, "positive integer"),
        ({"max_new_tokens": 5, "max_length": 20}, "Use max_new_tokens instead"),
    ],
)
def test_bad_lengths_are_explained(tiny, kwargs, message):
    model, tokenizer = tiny
    with pytest.raises(CompanionError, match=message):
        companion.generate_text(model, tokenizer, "1, 2", **kwargs)


@pytest.mark.parametrize("prompts", [[], [1, 2], [None]])
def test_bad_prompts_are_explained(tiny, prompts):
    model, tokenizer = tiny
    with pytest.raises(CompanionError):
        companion.generate_text(model, tokenizer, prompts, max_new_tokens=3)
