"""Checks for the exercises of notebook 08 (the KV cache and faster decoding).

Each check runs the real `model.generate()` on the model in use to find the right answer,
so the exercises work with any MODEL. Nothing here checks a timing: the checks compare
cache shapes, tokens and counts of forward passes, which are the same on every run.
Every check prints "Correct!" or a hint (see `companion.exercises.report`) and never raises.
"""

from __future__ import annotations

import torch

from companion.decoding import ForwardPassRecorder
from companion.exercises import Verdict, is_whole_number, report

# Exercise 1 generates this many tokens before looking at the cache.
CACHE_EXERCISE_NEW_TOKENS = 5
# Exercises 2 and 3 run generate() for the answer: keep the work bounded.
MOST_NEW_TOKENS = 64
MOST_LOOKUP_TOKENS = 32


def check_cache_shape(answer, model, model_inputs) -> Verdict:
    """Exercise 1: the shape of the first layer's keys in the cache that `generate()` returns.

    The notebook's call is `model.generate(**model_inputs, max_new_tokens=5,
    min_new_tokens=5, do_sample=False, return_dict_in_generate=True)`; its `.cache` is a
    DynamicCache, and `cache.layers[0].keys` has shape (batch, key/value heads, positions, head size).
    Args:
        answer: the predicted shape, a tuple (or list, or torch.Size) of 4 ints.
        model, model_inputs: the notebook's model and one tokenized prompt.
    Returns:
        whether `answer` equals the real shape.
    """
    if isinstance(answer, torch.Size):
        answer = tuple(answer)
    if not isinstance(answer, (tuple, list)) or len(answer) != 4 or not all(is_whole_number(n) for n in answer):
        return report(False, "", "hand in four whole numbers: (batch, key/value heads, positions, head size).")
    new_tokens = CACHE_EXERCISE_NEW_TOKENS
    with torch.inference_mode():
        output = model.generate(
            **model_inputs, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
            return_dict_in_generate=True,
        )
    expected = tuple(output.cache.layers[0].keys.shape)
    answer = tuple(answer)
    if answer == expected:
        return report(True, "the cache holds keys for every position the model has read: the prompt and "
                      "every new token except the last, which was chosen but never fed back.", "")
    config = model.config.get_text_config()
    batch, heads, positions, head_size = answer
    prompt_length = model_inputs["input_ids"].shape[1]
    if batch != expected[0]:
        hint = "the first number is the batch: how many prompts went in?"
    elif heads != expected[1]:
        if heads == config.num_attention_heads and heads != expected[1]:
            hint = ("this model has fewer key/value heads than query heads (grouped-query attention): "
                    "look for the key/value heads in model.config.")
        else:
            hint = "the second number is the number of key/value heads per layer: it is in model.config."
    elif head_size != expected[3]:
        hint = "the last number is the size of one head: model.config says it (head_dim)."
    elif positions == expected[2] + 1:
        hint = ("one position too many: the last new token came out of the logits, but no forward pass "
                "has read it yet, so it has no keys.")
    elif positions == prompt_length:
        hint = "the cache grows during generation: every decoding step adds the position it read."
    else:
        hint = ("count the positions the model has read: all the prompt tokens, then one per "
                "decoding step after the first new token.")
    return report(False, "", hint)


def generate_arguments_problem(answer) -> str | None:
    """Why the dict of generate() arguments in exercise 2 cannot be right yet, or None if it may be."""
    if not isinstance(answer, dict):
        return "hand in the keyword arguments of the fixed generate() call as a dict."
    if "max_length" in answer or "max_new_tokens" not in answer:
        return "bound the answer's length by the number of new tokens, as in every call of this course."
    max_new_tokens = answer["max_new_tokens"]
    if not is_whole_number(max_new_tokens) or not 1 <= max_new_tokens <= MOST_NEW_TOKENS:
        return f"max_new_tokens should be a whole number from 1 to {MOST_NEW_TOKENS} here."
    if answer.get("do_sample") is not False:
        return "the goal is the greedy answer: say explicitly that this call does not sample."
    if answer.get("prompt_lookup_num_tokens") is None:
        return "the fixed call should still draft tokens from the prompt: that is where the speed comes from."
    num_beams = answer.get("num_beams", 1)
    if not is_whole_number(num_beams) or num_beams != 1:
        return ("read the warning under the broken cell: prompt lookup only works on top of greedy search "
                "or sampling, and any other search throws the drafts away.")
    return None


def check_fixed_lookup_call(answer, model, model_inputs) -> Verdict:
    """Exercise 2: repair a generate() call whose prompt lookup was silently switched off.

    Args:
        answer: a dict of keyword arguments for `model.generate(**model_inputs, **answer)`.
        model, model_inputs: the notebook's model and one tokenized prompt (batch 1).
    Returns:
        whether the call gives the greedy answer and needs fewer forward passes than new tokens.
    """
    problem = generate_arguments_problem(answer)
    if problem is not None:
        return report(False, "", problem)
    try:
        with torch.inference_mode():
            with ForwardPassRecorder(model) as passes:
                output = model.generate(**model_inputs, **answer)
            greedy = model.generate(**model_inputs, max_new_tokens=answer["max_new_tokens"], do_sample=False)
    except Exception as error:  # a wrong argument must give a hint, not a traceback
        return report(False, "", f"generate() refused these arguments ({type(error).__name__}: {error}).")
    new_tokens = output.shape[1] - model_inputs["input_ids"].shape[1]
    if not torch.equal(output, greedy):
        return report(False, "", "the output differs from plain greedy decoding: which argument changes the search?")
    if passes.count >= new_tokens:
        return report(False, "", f"{passes.count} forward passes for {new_tokens} new tokens: no draft was "
                      "accepted. Is prompt lookup really on?")
    return report(True, f"the greedy answer in {passes.count} forward passes for {new_tokens} new tokens.", "")


def tokens_per_pass(model, model_inputs, max_new_tokens: int, lookup_tokens: int) -> float:
    """New tokens per forward pass of greedy prompt-lookup generation with `lookup_tokens` drafted tokens."""
    with torch.inference_mode():
        with ForwardPassRecorder(model) as passes:
            output = model.generate(
                **model_inputs, max_new_tokens=max_new_tokens, do_sample=False, prompt_lookup_num_tokens=lookup_tokens,
            )
    return (output.shape[1] - model_inputs["input_ids"].shape[1]) / passes.count


def check_smallest_lookup_tokens(answer, model, model_inputs, max_new_tokens: int, goal: float = 3.0) -> Verdict:
    """Exercise 3: the smallest prompt_lookup_num_tokens that reaches `goal` new tokens per forward pass.

    Args:
        answer: a whole number, the value for `prompt_lookup_num_tokens`.
        model, model_inputs: the notebook's model and one tokenized prompt (batch 1).
        max_new_tokens: the token budget of the generate() calls.
        goal: new tokens per forward pass to reach (greedy decoding without drafts makes 1).
    Returns:
        whether `answer` reaches the goal and every smaller value does not.
    """
    if not is_whole_number(answer) or not 1 <= answer <= MOST_LOOKUP_TOKENS:
        return report(False, "", f"hand in one whole number from 1 to {MOST_LOOKUP_TOKENS}: the number of tokens "
                      "drafted per pass.")
    # Try 1, 2, 3, ... in order: the first value that reaches the goal is the right answer.
    for lookup_tokens in range(1, answer + 1):
        reached = tokens_per_pass(model, model_inputs, max_new_tokens, lookup_tokens) >= goal
        if reached and lookup_tokens < answer:
            return report(False, "", "a smaller value already reaches the goal; every drafted token that is "
                          "rejected is work the model did for nothing.")
        if reached:
            return report(True, f"{answer} drafted tokens per pass are enough for {goal:g} new tokens per pass; "
                          "longer drafts would mostly be rejected.", "")
    return report(False, "", f"not yet {goal:g} new tokens per pass: a pass can keep at most its drafted tokens "
                  "plus one of its own, so the drafts must be longer.")
