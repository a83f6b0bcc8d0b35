"""The exercise checks of notebook 07: right answers pass, typical mistakes get a hint, nothing raises."""

import pytest
import torch
from transformers import set_seed

from companion.exercises.token_scores import (
    check_batch_probabilities,
    check_confident_temperature,
    check_least_certain_token,
    check_top_k_one_prediction,
)
from companion.generation import end_of_sequence_ids, tokenize_batch
from companion.scores import generated_token_mask

SAMPLING_PROMPT = "I am a cat."
FRUITS = "A list of fruits:"
EXERCISE_PROMPTS = ["A, B, C", "A sequence of numbers: 1, 2, 3"]


def verdict(capsys):
    """The line the last check printed."""
    return capsys.readouterr().out.strip()


def greedy(model, tokenizer, prompts, max_new_tokens, with_mask=True):
    """The learner's call: generate with scores on a left-padded batch."""
    batch = tokenize_batch(tokenizer, prompts)
    if not with_mask:
        batch = {"input_ids": batch["input_ids"]}
    outputs = model.generate(
        **batch, max_new_tokens=max_new_tokens, do_sample=False, pad_token_id=tokenizer.eos_token_id
        if tokenizer.pad_token_id is None else tokenizer.pad_token_id,
        output_scores=True, return_dict_in_generate=True,
    )
    return outputs, batch["input_ids"].shape[1]


# ---------------------------------------------------------------- exercise 1


@pytest.mark.parametrize("model_name", ["tiny", "smollm2"])
def test_top_k_one_prediction(request, model_name, capsys):
    model, tokenizer = request.getfixturevalue(model_name)
    assert check_top_k_one_prediction(1.0, model, tokenizer, SAMPLING_PROMPT, 8)
    assert verdict(capsys).startswith("Correct!")
    assert check_top_k_one_prediction(torch.tensor(1.0), model, tokenizer, SAMPLING_PROMPT, 8)
    capsys.readouterr()


def test_top_k_one_prediction_hints(tiny, capsys):
    model, tokenizer = tiny
    for wrong, expected in [(None, "one number"), ("1", "one number"), (100, "not a percentage"),
                            (0.5, "How many survive"), (True, "one number")]:
        assert not check_top_k_one_prediction(wrong, model, tokenizer, SAMPLING_PROMPT, 8)
        assert expected in verdict(capsys)
    # the model's own probability of the first token
    inputs = tokenizer(SAMPLING_PROMPT, return_tensors="pt")
    with torch.inference_mode():
        first = torch.softmax(model(**inputs).logits[0, -1], dim=-1).max().item()
    assert not check_top_k_one_prediction(first, model, tokenizer, SAMPLING_PROMPT, 8)
    assert "model's own probability" in verdict(capsys)


# ---------------------------------------------------------------- exercise 2


@pytest.mark.parametrize("model_name", ["tiny", "smollm2"])
def test_least_certain_token(request, model_name, capsys):
    model, tokenizer = request.getfixturevalue(model_name)
    outputs, prompt_length = greedy(model, tokenizer, FRUITS, 12)
    scores = model.compute_transition_scores(outputs.sequences, outputs.scores, normalize_logits=True)[0]
    mask = generated_token_mask(outputs.sequences, prompt_length, end_of_sequence_ids(model, tokenizer))[0]
    new_ids = outputs.sequences[0, prompt_length:][mask]
    least = new_ids[scores[mask].argmin()]
    assert check_least_certain_token(least, model, tokenizer, FRUITS, 12)
    assert verdict(capsys).startswith("Correct!")
    assert check_least_certain_token(int(least), model, tokenizer, FRUITS, 12)
    capsys.readouterr()
    most = new_ids[scores[mask].argmax()]
    if int(most) != int(least):
        assert not check_least_certain_token(most, model, tokenizer, FRUITS, 12)
        assert "most sure" in verdict(capsys)


def test_least_certain_token_hints(tiny, capsys):
    model, tokenizer = tiny
    for wrong in (None, [1, 2], 3.5):
        assert not check_least_certain_token(wrong, model, tokenizer, FRUITS, 12)
        assert "give one token" in verdict(capsys)
    prompt_id = tokenizer(FRUITS, add_special_tokens=False)["input_ids"][0]
    assert not check_least_certain_token(prompt_id, model, tokenizer, FRUITS, 12)
    assert "not one of the new tokens" in verdict(capsys)


# ---------------------------------------------------------------- exercise 3


@pytest.mark.parametrize("model_name", ["tiny", "smollm2"])
def test_batch_probabilities(request, model_name, capsys):
    model, tokenizer = request.getfixturevalue(model_name)
    outputs, _ = greedy(model, tokenizer, EXERCISE_PROMPTS, 8)
    fixed = model.compute_transition_scores(outputs.sequences, outputs.scores, normalize_logits=True).exp()
    assert check_batch_probabilities(fixed, model, tokenizer, EXERCISE_PROMPTS, 8)
    assert verdict(capsys).startswith("Correct!")


def test_batch_probabilities_hints(tiny, capsys):
    model, tokenizer = tiny
    outputs, _ = greedy(model, tokenizer, EXERCISE_PROMPTS, 8)
    raw = model.compute_transition_scores(outputs.sequences, outputs.scores)
    assert not check_batch_probabilities(raw.exp(), model, tokenizer, EXERCISE_PROMPTS, 8)
    assert "normalised" in verdict(capsys)
    log_probabilities = model.compute_transition_scores(outputs.sequences, outputs.scores, normalize_logits=True)
    assert not check_batch_probabilities(log_probabilities, model, tokenizer, EXERCISE_PROMPTS, 8)
    assert "exp()" in verdict(capsys)
    no_mask, _ = greedy(model, tokenizer, EXERCISE_PROMPTS, 8, with_mask=False)
    unmasked = model.compute_transition_scores(no_mask.sequences, no_mask.scores, normalize_logits=True).exp()
    correct = log_probabilities.exp()
    assert not torch.allclose(unmasked, correct, atol=1e-4), "without the mask the padded row must differ"
    assert not check_batch_probabilities(unmasked, model, tokenizer, EXERCISE_PROMPTS, 8)
    assert "padding" in verdict(capsys)
    assert not check_batch_probabilities(None, model, tokenizer, EXERCISE_PROMPTS, 8)
    assert "tensor" in verdict(capsys)
    assert not check_batch_probabilities(correct[:1], model, tokenizer, EXERCISE_PROMPTS, 8)
    assert "shape" in verdict(capsys)


# ---------------------------------------------------------------- exercise 4


@pytest.mark.parametrize("model_name", ["tiny", "smollm2"])
def test_confident_temperature(request, model_name, capsys):
    model, tokenizer = request.getfixturevalue(model_name)
    assert check_confident_temperature(0.1, model, tokenizer, SAMPLING_PROMPT, 12, 0)
    assert verdict(capsys).startswith("Correct!")
    # the check measures exactly what the learner's own sampling call gives
    set_seed(0)
    inputs = tokenizer(SAMPLING_PROMPT, return_tensors="pt")
    outputs = model.generate(**inputs, max_new_tokens=12, do_sample=True, temperature=0.1,
                             pad_token_id=tokenizer.eos_token_id, output_scores=True, return_dict_in_generate=True)
    probabilities = model.compute_transition_scores(outputs.sequences, outputs.scores, normalize_logits=True).exp()
    assert probabilities.min().item() > 0.5


def test_confident_temperature_hints(tiny, capsys):
    model, tokenizer = tiny
    for wrong, expected in [(None, "one positive number"), ("low", "one positive number"),
                            (float("nan"), "one positive number"), (0, "above 0"), (-1.0, "above 0"),
                            (1.5, "which way sharpens")]:
        assert not check_confident_temperature(wrong, model, tokenizer, SAMPLING_PROMPT, 12, 0)
        assert expected in verdict(capsys)
