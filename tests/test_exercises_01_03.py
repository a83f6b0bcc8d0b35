"""The exercise checks of notebooks 01-03: right answers pass, typical mistakes get the right hint."""

import pytest
import torch

import companion
from companion.exercises.generating_text import check_greedy_loop, check_most_likely_token
from companion.exercises.generation_mode import DECODING_FOR_TASK, check_decoding_modes, check_tokens_left
from companion.exercises.output_length import (
    check_default_new_tokens,
    check_new_text_only,
    check_stop_string,
)
from companion.inspection import next_token_logits

COLOR_PROMPT = "A list of colors: red, blue"
COUNT_PROMPT = "A sequence of numbers: 1, 2"


def verdict(capsys):
    """The line the last check printed."""
    return capsys.readouterr().out.strip()


# ---------------------------------------------------------------- notebook 01


def test_most_likely_token_accepts_id_tensor_and_text(tiny, capsys):
    model, tokenizer = tiny
    inputs = tokenizer("A list of colors:", return_tensors="pt")
    with torch.inference_mode():
        logits = model(**inputs).logits
    best = logits[0, -1].argmax()
    assert check_most_likely_token(best, model, tokenizer, "A list of colors:")
    assert verdict(capsys).startswith("Correct!")
    assert check_most_likely_token(int(best), model, tokenizer, "A list of colors:")
    assert check_most_likely_token(tokenizer.decode([int(best)]), model, tokenizer, "A list of colors:")
    capsys.readouterr()


def test_most_likely_token_hints(tiny, capsys):
    model, tokenizer = tiny
    assert not check_most_likely_token(None, model, tokenizer, "A list of colors:")
    assert "outputs.logits[0, -1]" in verdict(capsys)
    inputs = tokenizer("A list of colors:", return_tensors="pt")
    with torch.inference_mode():
        first_position = model(**inputs).logits[0, 0].argmax()
    assert not check_most_likely_token(first_position, model, tokenizer, "A list of colors:")
    assert "first position" in verdict(capsys)
    assert not check_most_likely_token([1, 2], model, tokenizer, "A list of colors:")
    assert "give one token" in verdict(capsys)


def hand_loop(model, tokenizer, prompt, steps, pick=lambda logits: logits.argmax(dim=-1)):
    """The loop notebook 01 asks for: forward pass, pick, append, repeat."""
    ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
    for _ in range(steps):
        with torch.inference_mode():
            logits = model(input_ids=ids).logits[:, -1]
        ids = torch.cat([ids, pick(logits)[:, None]], dim=-1)
    return ids


@pytest.mark.parametrize("model_name", ["tiny", "smollm2"])
def test_greedy_loop_accepts_the_hand_loop(request, model_name, capsys):
    model, tokenizer = request.getfixturevalue(model_name)
    assert check_greedy_loop(hand_loop(model, tokenizer, COUNT_PROMPT, 5), model, tokenizer, COUNT_PROMPT, 5)
    assert verdict(capsys).startswith("Correct!")


def test_greedy_loop_hints(tiny, capsys):
    model, tokenizer = tiny
    prompt_ids = tokenizer(COUNT_PROMPT, return_tensors="pt")["input_ids"]
    assert not check_greedy_loop(None, model, tokenizer, COUNT_PROMPT, 5)
    assert "torch.cat" in verdict(capsys)
    assert not check_greedy_loop(prompt_ids, model, tokenizer, COUNT_PROMPT, 5)
    assert "still just the prompt" in verdict(capsys)
    assert not check_greedy_loop(hand_loop(model, tokenizer, COUNT_PROMPT, 3), model, tokenizer, COUNT_PROMPT, 5)
    assert "run it for 5 steps" in verdict(capsys)
    least_likely = hand_loop(model, tokenizer, COUNT_PROMPT, 5, pick=lambda logits: logits.argmin(dim=-1))
    assert not check_greedy_loop(least_likely, model, tokenizer, COUNT_PROMPT, 5)
    assert "most likely token" in verdict(capsys)


# ---------------------------------------------------------------- notebook 02


def test_default_new_tokens(capsys):
    assert check_default_new_tokens(20)
    assert verdict(capsys).startswith("Correct!")
    assert not check_default_new_tokens(29)
    assert "includes the prompt" in verdict(capsys)
    assert not check_default_new_tokens(None)
    assert verdict(capsys).startswith("Not yet.")


def test_new_text_only(tiny, capsys):
    model, tokenizer = tiny
    inputs = tokenizer(COLOR_PROMPT, return_tensors="pt")
    output = model.generate(**inputs, max_new_tokens=15, do_sample=False)
    new_text = tokenizer.batch_decode(output[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)[0]
    assert check_new_text_only(new_text, model, tokenizer, COLOR_PROMPT, 15)
    assert verdict(capsys).startswith("Correct!")
    full_text = tokenizer.batch_decode(output, skip_special_tokens=True)[0]
    assert not check_new_text_only(full_text, model, tokenizer, COLOR_PROMPT, 15)
    assert "prompt is still there" in verdict(capsys)
    with_special = tokenizer.batch_decode(output[:, inputs["input_ids"].shape[1]:])[0]
    assert "</s>" in with_special  # the tiny model ends the list with EOS
    assert not check_new_text_only(with_special, model, tokenizer, COLOR_PROMPT, 15)
    assert "skip_special_tokens" in verdict(capsys)


def test_stop_string(tiny, capsys):
    model, tokenizer = tiny
    inputs = tokenizer(COUNT_PROMPT, return_tensors="pt")
    output = model.generate(**inputs, max_new_tokens=40, do_sample=False, stop_strings=["10"], tokenizer=tokenizer)
    text = tokenizer.batch_decode(output, skip_special_tokens=True)[0]
    assert check_stop_string(text, model, tokenizer, COUNT_PROMPT, "10", 40)
    assert verdict(capsys).startswith("Correct!")
    no_stop = companion.generate_text(model, tokenizer, COUNT_PROMPT, max_new_tokens=40, return_full_text=True)[0]
    assert not check_stop_string(no_stop, model, tokenizer, COUNT_PROMPT, "10", 40)
    assert "tokenizer=tokenizer" in verdict(capsys)
    assert not check_stop_string(text[len(COUNT_PROMPT):], model, tokenizer, COUNT_PROMPT, "10", 40)
    assert "keep the prompt" in verdict(capsys)


# ---------------------------------------------------------------- notebook 03


def test_decoding_modes(capsys):
    assert check_decoding_modes(dict(DECODING_FOR_TASK))
    assert verdict(capsys).startswith("Correct!")
    half = {task: None for task in DECODING_FOR_TASK}
    assert not check_decoding_modes(half)
    assert "give \"greedy\" or \"sampling\" for" in verdict(capsys)
    swapped = {task: "sampling" for task in DECODING_FOR_TASK}
    assert not check_decoding_modes(swapped)
    hint = verdict(capsys)
    assert "translate a sentence into German" in hint and "bedtime story" not in hint
    assert not check_decoding_modes(None)
    capsys.readouterr()


def test_tokens_left(tiny, capsys):
    model, tokenizer = tiny
    logits = next_token_logits(model, tokenizer, "I am a cat.")[0]
    probabilities = torch.softmax(logits, dim=-1)
    sorted_probabilities = torch.sort(probabilities, descending=True).values
    needed = int((torch.cumsum(sorted_probabilities, dim=-1) < 0.9).sum()) + 1  # the learner's way
    assert check_tokens_left(needed, logits, 0.9)
    assert verdict(capsys).startswith("Correct!")
    assert check_tokens_left(torch.tensor(needed), logits, 0.9)
    capsys.readouterr()
    assert not check_tokens_left(needed - 1, logits, 0.9)
    assert "include the token" in verdict(capsys)
    assert not check_tokens_left(None, logits, 0.9)
    assert "torch.cumsum" in verdict(capsys)
