"""The exercise checks of notebooks 01-03: right answers pass, typical mistakes get the right hint."""

import copy

import pytest
import torch
import transformers
from transformers import GenerationConfig

import companion
from companion.exercises.generating_text import (
    check_greedy_loop,
    check_logits_shape,
    check_most_likely_token,
    check_pipeline_new_text,
)
from companion.exercises.generation_mode import (
    BROKEN_CALL_SETTINGS,
    CALLS_TO_PREDICT,
    DECODING_FOR_TASK,
    check_decoding_modes,
    check_fixed_sampling,
    check_greedy_predictions,
    check_loop_breaking_penalty,
    check_tokens_left,
    effective_settings,
    repeats_a_sentence,
    sentences,
)
from companion.exercises.output_length import (
    check_generation_config,
    check_max_length_new_tokens,
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


def test_logits_shape_accepts_the_real_shape(tiny, capsys):
    model, tokenizer = tiny
    inputs = tokenizer(["The cat likes fish."], return_tensors="pt")
    with torch.inference_mode():
        shape = model(**inputs).logits.shape
    assert check_logits_shape(tuple(shape), model, tokenizer, "The cat likes fish.")
    assert verdict(capsys).startswith("Correct!")
    assert check_logits_shape(shape, model, tokenizer, "The cat likes fish.")  # a torch.Size works too
    capsys.readouterr()


def test_logits_shape_hints(tiny, capsys):
    model, tokenizer = tiny
    inputs = tokenizer(["The cat likes fish."], return_tensors="pt")
    batch, length, vocabulary = tuple(model(**inputs).logits.shape)
    for wrong, expected_hint in [
        (None, "tuple of three whole numbers"),
        ((batch, length), "three axes"),
        ((batch, length - 1, vocabulary), "special token"),  # forgot the BOS token
        ((batch, length, vocabulary + 1), "vocabulary"),
        ((2, length, vocabulary), "prompts in the batch"),
        ("(1, 6, 768)", "tuple of three whole numbers"),
    ]:
        assert not check_logits_shape(wrong, model, tokenizer, "The cat likes fish.")
        assert expected_hint in verdict(capsys)


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
    assert "position" in verdict(capsys)
    inputs = tokenizer("A list of colors:", return_tensors="pt")
    with torch.inference_mode():
        first_position = model(**inputs).logits[0, 0].argmax()  # the broken cell of exercise 2
    assert not check_most_likely_token(first_position, model, tokenizer, "A list of colors:")
    assert "first position" in verdict(capsys)
    assert not check_most_likely_token([1, 2], model, tokenizer, "A list of colors:")
    assert "give one token" in verdict(capsys)


@pytest.mark.parametrize("model_name", ["tiny", "smollm2"])
def test_pipeline_new_text_accepts_the_pipeline_output(request, model_name, capsys):
    model, tokenizer = request.getfixturevalue(model_name)
    # The pipeline switches the tokenizer it is given to left padding: give it a copy, not the shared fixture's.
    generator = transformers.pipeline("text-generation", model=model, tokenizer=copy.deepcopy(tokenizer))
    output = generator("I am a cat.", max_new_tokens=12, do_sample=False, return_full_text=False)
    assert check_pipeline_new_text(output, model, tokenizer, "I am a cat.", 12)
    assert check_pipeline_new_text(output[0]["generated_text"], model, tokenizer, "I am a cat.", 12)
    assert verdict(capsys).startswith("Correct!")


def test_pipeline_new_text_hints(tiny, capsys):
    model, tokenizer = tiny
    generator = transformers.pipeline("text-generation", model=model, tokenizer=copy.deepcopy(tokenizer))
    full = generator("I am a cat.", max_new_tokens=12, do_sample=False)
    assert not check_pipeline_new_text(full, model, tokenizer, "I am a cat.", 12)
    assert "prompt is still there" in verdict(capsys)
    shorter = generator("I am a cat.", max_new_tokens=3, do_sample=False, return_full_text=False)
    assert not check_pipeline_new_text(shorter, model, tokenizer, "I am a cat.", 12)
    assert "at most 12 new tokens" in verdict(capsys)
    assert not check_pipeline_new_text(None, model, tokenizer, "I am a cat.", 12)
    assert "hand in what the pipeline returned" in verdict(capsys)


def hand_loop(model, tokenizer, prompt, steps, pick=lambda logits: logits.argmax(dim=-1), stop_at_eos=True):
    """The loop notebook 01 asks for: forward pass, pick, append, repeat (until EOS)."""
    ids = tokenizer(prompt, return_tensors="pt")["input_ids"]
    for _ in range(steps):
        with torch.inference_mode():
            logits = model(input_ids=ids).logits[:, -1]
        next_id = pick(logits)
        ids = torch.cat([ids, next_id[:, None]], dim=-1)
        if stop_at_eos and next_id.item() == tokenizer.eos_token_id:
            break
    return ids


@pytest.mark.parametrize("model_name, prompt, steps", [
    ("tiny", COUNT_PROMPT, 5),
    ("tiny", COLOR_PROMPT, 30),  # the tiny model ends the colour list with EOS after about a dozen tokens
    ("smollm2", COUNT_PROMPT, 5),
    ("smollm2", COLOR_PROMPT, 12),  # a real LLM; fewer steps than tiny's, each a full pass over the prompt
])
def test_greedy_loop_accepts_the_hand_loop(request, model_name, prompt, steps, capsys):
    model, tokenizer = request.getfixturevalue(model_name)
    assert check_greedy_loop(hand_loop(model, tokenizer, prompt, steps), model, tokenizer, prompt, steps)
    assert verdict(capsys).startswith("Correct!")


def test_greedy_loop_hints(tiny, capsys):
    model, tokenizer = tiny
    prompt_ids = tokenizer(COUNT_PROMPT, return_tensors="pt")["input_ids"]
    assert not check_greedy_loop(None, model, tokenizer, COUNT_PROMPT, 5)
    assert "as a tensor" in verdict(capsys)
    assert not check_greedy_loop(prompt_ids, model, tokenizer, COUNT_PROMPT, 5)
    assert "still just the prompt" in verdict(capsys)
    assert not check_greedy_loop(hand_loop(model, tokenizer, COUNT_PROMPT, 3), model, tokenizer, COUNT_PROMPT, 5)
    assert "up to 5 steps" in verdict(capsys)
    least_likely = hand_loop(model, tokenizer, COUNT_PROMPT, 5, pick=lambda logits: logits.argmin(dim=-1))
    assert not check_greedy_loop(least_likely, model, tokenizer, COUNT_PROMPT, 5)
    assert "most likely token" in verdict(capsys)
    # The colour list ends with EOS after about a dozen tokens: the plain loop runs on past it.
    no_stop = hand_loop(model, tokenizer, COLOR_PROMPT, 30, stop_at_eos=False)
    assert not check_greedy_loop(no_stop, model, tokenizer, COLOR_PROMPT, 30)
    assert "end-of-sequence" in verdict(capsys)


# ---------------------------------------------------------------- notebook 02

LONG_COUNT_PROMPT = "A sequence of numbers: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10"


@pytest.mark.parametrize("model_name", ["tiny", "smollm2"])
def test_max_length_new_tokens_equals_a_real_run(request, model_name, capsys):
    model, tokenizer = request.getfixturevalue(model_name)
    inputs = tokenizer([LONG_COUNT_PROMPT], return_tensors="pt")
    prompt_length = inputs["input_ids"].shape[1]
    assert 20 <= prompt_length < 40  # longer than the old total default, shorter than the exercise's max_length
    output = model.generate(**inputs, max_length=40, do_sample=False)  # the learner's run
    new_tokens = output.shape[1] - prompt_length
    assert new_tokens == 40 - prompt_length  # neither course model ends the count early
    assert check_max_length_new_tokens(new_tokens, model, tokenizer, LONG_COUNT_PROMPT, 40)
    assert "counts the prompt" in verdict(capsys)
    assert check_max_length_new_tokens(torch.tensor(new_tokens), model, tokenizer, LONG_COUNT_PROMPT, 40)
    capsys.readouterr()


def test_max_length_new_tokens_hints(tiny, capsys):
    model, tokenizer = tiny
    assert not check_max_length_new_tokens(40, model, tokenizer, LONG_COUNT_PROMPT, 40)
    assert "whole output" in verdict(capsys)
    assert not check_max_length_new_tokens(20, model, tokenizer, LONG_COUNT_PROMPT, 40)
    assert "default of 20" in verdict(capsys)
    assert not check_max_length_new_tokens(None, model, tokenizer, LONG_COUNT_PROMPT, 40)
    assert "store one whole number" in verdict(capsys)
    assert not check_max_length_new_tokens(True, model, tokenizer, LONG_COUNT_PROMPT, 40)
    assert verdict(capsys).startswith("Not yet.")


def test_new_text_only(tiny, capsys):
    model, tokenizer = tiny
    inputs = tokenizer(COLOR_PROMPT, return_tensors="pt")
    prompt_length = inputs["input_ids"].shape[1]
    output = model.generate(**inputs, max_new_tokens=15, do_sample=False)
    new_text = tokenizer.batch_decode(output[:, prompt_length:], skip_special_tokens=True)[0]
    assert check_new_text_only(new_text, model, tokenizer, COLOR_PROMPT, 15)
    assert verdict(capsys).startswith("Correct!")
    full_text = tokenizer.batch_decode(output, skip_special_tokens=True)[0]
    assert not check_new_text_only(full_text, model, tokenizer, COLOR_PROMPT, 15)
    assert "prompt is still there" in verdict(capsys)
    with_special = tokenizer.batch_decode(output[:, prompt_length:])[0]
    assert "</s>" in with_special  # the tiny model ends the list with EOS
    assert not check_new_text_only(with_special, model, tokenizer, COLOR_PROMPT, 15)
    assert "special tokens" in verdict(capsys)
    # The broken cell of exercise 2 with only the slicing fixed: max_length counts the prompt.
    total_length = model.generate(**inputs, max_length=15, do_sample=False)
    short = tokenizer.batch_decode(total_length[:, prompt_length:], skip_special_tokens=True)[0]
    assert not check_new_text_only(short, model, tokenizer, COLOR_PROMPT, 15)
    assert "counts the prompt" in verdict(capsys)
    assert not check_new_text_only(None, model, tokenizer, COLOR_PROMPT, 15)
    assert "one string" in verdict(capsys)


def test_stop_string(tiny, capsys):
    model, tokenizer = tiny
    inputs = tokenizer(COUNT_PROMPT, return_tensors="pt")
    output = model.generate(**inputs, max_new_tokens=40, do_sample=False, stop_strings=["10"], tokenizer=tokenizer)
    text = tokenizer.batch_decode(output, skip_special_tokens=True)[0]
    assert check_stop_string(text, model, tokenizer, COUNT_PROMPT, "10", 40)
    assert verdict(capsys).startswith("Correct!")
    no_stop = companion.generate_text(model, tokenizer, COUNT_PROMPT, max_new_tokens=40, do_sample=False,
                                      return_full_text=True)[0]
    assert not check_stop_string(no_stop, model, tokenizer, COUNT_PROMPT, "10", 40)
    hint = verdict(capsys)
    assert "did not stop early" in hint and "stop_strings=" not in hint  # the concept, not the call
    assert not check_stop_string(text[len(COUNT_PROMPT):], model, tokenizer, COUNT_PROMPT, "10", 40)
    assert "keep the prompt" in verdict(capsys)
    assert not check_stop_string(None, model, tokenizer, COUNT_PROMPT, "10", 40)
    assert "one string" in verdict(capsys)


@pytest.mark.parametrize("model_name", ["tiny", "smollm2"])
def test_generation_config_accepts_min_and_max_new_tokens(request, model_name, capsys):
    model, tokenizer = request.getfixturevalue(model_name)
    config = GenerationConfig(min_new_tokens=20, max_new_tokens=25, do_sample=False)
    assert check_generation_config(config, model, tokenizer, COLOR_PROMPT, 20, 25)
    assert verdict(capsys).startswith("Correct!")
    assert config.pad_token_id is None  # the check left the learner's config as it was


def test_generation_config_hints(tiny, capsys):
    model, tokenizer = tiny
    for wrong, expected_hint in [
        (None, "GenerationConfig object"),
        ({"min_new_tokens": 20, "max_new_tokens": 25}, "GenerationConfig object"),
        (GenerationConfig(max_new_tokens=25, do_sample=False), "EOS token too soon"),  # tiny stops after ~12
        (GenerationConfig(min_new_tokens=30, max_new_tokens=40, do_sample=False), "upper limit"),
        (GenerationConfig(min_new_tokens=20, max_new_tokens=25, do_sample=True), "greedy"),
    ]:
        assert not check_generation_config(wrong, model, tokenizer, COLOR_PROMPT, 20, 25)
        assert expected_hint in verdict(capsys)


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


@pytest.mark.parametrize("model_name", ["tiny", "smollm2"])
def test_tokens_left(request, model_name, capsys):
    """The learner's count by hand (default top_k=50, then top_p) equals what generate() can draw."""
    model, tokenizer = request.getfixturevalue(model_name)
    logits = next_token_logits(model, tokenizer, "I like to")[0]
    top_50 = torch.topk(torch.softmax(logits, dim=-1), 50).values
    running_total = torch.cumsum(top_50 / top_50.sum(), dim=-1)
    needed = int((running_total < 0.8).sum()) + 1  # the learner's way
    inputs = tokenizer(["I like to"], return_tensors="pt")
    output = model.generate(
        **inputs, max_new_tokens=1, do_sample=True, top_p=0.8, output_scores=True, return_dict_in_generate=True
    )
    assert needed == int(torch.isfinite(output.scores[0]).sum()), "the tokens generate() itself could draw"
    assert check_tokens_left(needed, model, tokenizer, "I like to", 0.8)
    assert verdict(capsys).startswith("Correct!")
    assert check_tokens_left(torch.tensor(needed), model, tokenizer, "I like to", 0.8)
    capsys.readouterr()
    assert not check_tokens_left(needed - 1, model, tokenizer, "I like to", 0.8)
    assert "include the token" in verdict(capsys)
    without_top_k = int((torch.cumsum(torch.sort(torch.softmax(logits, dim=-1), descending=True).values, dim=-1)
                         < 0.8).sum()) + 1
    if without_top_k != needed:
        assert not check_tokens_left(without_top_k, model, tokenizer, "I like to", 0.8)
        assert "Which filter" in verdict(capsys)
    assert not check_tokens_left(None, model, tokenizer, "I like to", 0.8)
    assert "store one whole number" in verdict(capsys)
    # A count is a whole number, as in check_max_length_new_tokens: the float with the right value gets the hint.
    assert not check_tokens_left(float(needed), model, tokenizer, "I like to", 0.8)
    assert "store one whole number" in verdict(capsys)


CAT_PROMPT = "I am a cat."


def real_calls_same_as_greedy(model, tokenizer, prompt, max_new_tokens, seed):
    """Run each call of CALLS_TO_PREDICT exactly as written (the notebook's solution) and compare with greedy."""
    inputs = tokenizer([prompt], return_tensors="pt")
    greedy = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False)
    same = {}
    for label, options in CALLS_TO_PREDICT.items():
        transformers.set_seed(seed)
        output = model.generate(**inputs, max_new_tokens=max_new_tokens, **options)
        same[label] = torch.equal(output, greedy)
    return same


# The notebook's 30 new tokens with the tiny model; 10 with smollm2, where each of the check's
# and this test's dozen generate() calls costs ~60 ms a token on one CPU thread.
@pytest.mark.parametrize("model_name, new_tokens", [("tiny", 30), ("smollm2", 10)])
def test_greedy_predictions_match_the_real_calls(request, model_name, new_tokens, capsys):
    """The check drops sampling flags without do_sample=True; the real calls must agree."""
    model, tokenizer = request.getfixturevalue(model_name)
    same = real_calls_same_as_greedy(model, tokenizer, CAT_PROMPT, new_tokens, 0)
    assert same["temperature=1.5"] and same["top_k=5, top_p=0.5"] and same["do_sample=True, top_k=1"]
    assert check_greedy_predictions(same, model, tokenizer, CAT_PROMPT, new_tokens, 0)
    assert verdict(capsys).startswith("Correct!")


def test_greedy_predictions_hints(tiny, capsys):
    model, tokenizer = tiny
    same = real_calls_same_as_greedy(model, tokenizer, CAT_PROMPT, 30, 0)
    assert not same["do_sample=True, temperature=1.5"]  # otherwise "all True" below is no mistake
    all_true = {label: True for label in CALLS_TO_PREDICT}
    assert not check_greedy_predictions(all_true, model, tokenizer, CAT_PROMPT, 30, 0)
    hint = verdict(capsys)
    assert "do_sample=True, temperature=1.5" in hint and "do_sample=True, top_k=1" not in hint
    assert not check_greedy_predictions({"temperature=1.5": "yes"}, model, tokenizer, CAT_PROMPT, 30, 0)
    assert "give True or False for" in verdict(capsys)
    assert not check_greedy_predictions(None, model, tokenizer, CAT_PROMPT, 30, 0)
    assert verdict(capsys).startswith("Not yet.")


def test_effective_settings_drop_only_sampling_flags():
    assert effective_settings({"temperature": 0.7, "repetition_penalty": 1.3}) == {"repetition_penalty": 1.3}
    assert effective_settings({"do_sample": True, "temperature": 0.7}) == {"do_sample": True, "temperature": 0.7}
    assert effective_settings({"do_sample": False, "top_p": 0.5}) == {"do_sample": False}


STORY_PROMPT = "My name is"


@pytest.mark.parametrize("model_name", ["tiny", "smollm2"])
def test_fixed_sampling_accepts_the_fixed_call(request, model_name, capsys):
    model, tokenizer = request.getfixturevalue(model_name)
    inputs = tokenizer([STORY_PROMPT], return_tensors="pt").to(model.device)  # as the notebook does
    transformers.set_seed(0)
    fixed = model.generate(**inputs, max_new_tokens=20, do_sample=True, **BROKEN_CALL_SETTINGS)
    assert check_fixed_sampling(fixed, model, tokenizer, STORY_PROMPT, 20, 0)
    assert verdict(capsys).startswith("Correct!")


def test_fixed_sampling_hints(tiny, capsys):
    model, tokenizer = tiny
    inputs = tokenizer([STORY_PROMPT], return_tensors="pt").to(model.device)  # as the notebook does
    broken = model.generate(**inputs, max_new_tokens=20, **BROKEN_CALL_SETTINGS)  # the broken call, unchanged
    assert not check_fixed_sampling(broken, model, tokenizer, STORY_PROMPT, 20, 0)
    assert "still the greedy text" in verdict(capsys)
    transformers.set_seed(1)  # the wrong seed
    other_sample = model.generate(**inputs, max_new_tokens=20, do_sample=True, **BROKEN_CALL_SETTINGS)
    assert not check_fixed_sampling(other_sample, model, tokenizer, STORY_PROMPT, 20, 0)
    assert "set the seed" in verdict(capsys)
    other_prompt = model.generate(**tokenizer([CAT_PROMPT], return_tensors="pt"), max_new_tokens=20, do_sample=False)
    assert not check_fixed_sampling(other_prompt, model, tokenizer, STORY_PROMPT, 20, 0)
    assert "exercise's prompt" in verdict(capsys)
    text = tokenizer.batch_decode(broken, skip_special_tokens=True)
    for wrong in (None, text, text[0], broken[0]):
        assert not check_fixed_sampling(wrong, model, tokenizer, STORY_PROMPT, 20, 0)
        assert "token ids" in verdict(capsys)


def test_repeats_a_sentence():
    assert repeats_a_sentence("I am a cat. I am a cat.")
    assert repeats_a_sentence("She is a cat. She is a cat. She is a cat")
    assert not repeats_a_sentence("I am a cat. I like to run. My name is Lily.")
    assert sentences("Hi! Who are you?\nMe. ") == ["Hi!", "Who are you?", "Me."]


def learners_smallest_penalty(model, tokenizer, prompt, max_new_tokens):
    """The notebook's solution: try 1.0, 1.1, ... with real generate() calls until no sentence repeats."""
    inputs = tokenizer([prompt], return_tensors="pt")
    for step in range(11):
        penalty = round(1.0 + step / 10, 1)
        output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False, repetition_penalty=penalty)
        if not repeats_a_sentence(tokenizer.batch_decode(output, skip_special_tokens=True)[0]):
            return penalty
    return None


@pytest.mark.parametrize("model_name", ["tiny", "smollm2"])
def test_loop_breaking_penalty_accepts_the_smallest(request, model_name, capsys):
    model, tokenizer = request.getfixturevalue(model_name)
    smallest = learners_smallest_penalty(model, tokenizer, CAT_PROMPT, 30)
    assert smallest is not None and smallest > 1.0  # greedy decoding loops on both models
    assert check_loop_breaking_penalty(smallest, model, tokenizer, CAT_PROMPT, 30)
    assert verdict(capsys).startswith("Correct!")


def test_loop_breaking_penalty_hints(tiny, capsys):
    model, tokenizer = tiny
    smallest = learners_smallest_penalty(model, tokenizer, CAT_PROMPT, 30)
    assert not check_loop_breaking_penalty(round(smallest + 0.3, 1), model, tokenizer, CAT_PROMPT, 30)
    assert "a smaller penalty does too" in verdict(capsys)
    assert not check_loop_breaking_penalty(round(smallest - 0.1, 1), model, tokenizer, CAT_PROMPT, 30)
    assert "too weak" in verdict(capsys)
    assert not check_loop_breaking_penalty(0.8, model, tokenizer, CAT_PROMPT, 30)
    assert "below 1" in verdict(capsys)
    for wrong in (None, True, "1.3"):
        assert not check_loop_breaking_penalty(wrong, model, tokenizer, CAT_PROMPT, 30)
        assert "store a number" in verdict(capsys)
    assert not check_loop_breaking_penalty("none", model, tokenizer, CAT_PROMPT, 30)
    assert "does break the loop" in verdict(capsys)
