"""Checks for the exercises of notebook 08, the KV cache and faster decoding
(`notebooks/src/08_kv_cache_and_faster_decoding.py`).

Each check runs the real `model.generate()` on the model in use to find the right answer,
so the exercises work with any MODEL. Nothing here checks a timing: the checks compare
cache shapes, tokens and counts of forward passes, which are the same on every run.
Every check prints "Correct!" or a hint (see `companion.exercises.report`) and never raises.
The texts it prints come from MESSAGES at the end of this module, in English and German.
"""

from __future__ import annotations

import torch

from companion.decoding import ForwardPassRecorder
from companion.exercises import Verdict, report
from companion.exercises.answers import as_shape, is_whole_number, is_whole_number_between
from companion.language import Messages

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
    shape = as_shape(answer)
    if shape is None or len(shape) != 4:
        return report(False, "", MESSAGES("cache_format"))
    new_tokens = CACHE_EXERCISE_NEW_TOKENS
    with torch.inference_mode():
        output = model.generate(
            **model_inputs, max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False,
            return_dict_in_generate=True,
        )
    expected = tuple(output.cache.layers[0].keys.shape)
    if shape == expected:
        return report(True, MESSAGES("cache_praise"), "")
    config = model.config.get_text_config()
    batch, heads, positions, head_size = shape
    prompt_length = model_inputs["input_ids"].shape[1]
    if batch != expected[0]:
        hint = MESSAGES("cache_batch")
    elif heads != expected[1]:
        if heads == config.num_attention_heads and heads != expected[1]:
            hint = MESSAGES("cache_query_heads")
        else:
            hint = MESSAGES("cache_heads")
    elif head_size != expected[3]:
        hint = MESSAGES("cache_head_size")
    elif positions == expected[2] + 1:
        hint = MESSAGES("cache_one_too_many")
    elif positions == prompt_length:
        hint = MESSAGES("cache_grows")
    else:
        hint = MESSAGES("cache_count")
    return report(False, "", hint)


def generate_arguments_problem(answer) -> str | None:
    """Why the dict of generate() arguments in exercise 2 cannot be right yet, or None if it may be."""
    if not isinstance(answer, dict):
        return MESSAGES("arguments_dict")
    if "max_length" in answer or "max_new_tokens" not in answer:
        return MESSAGES("arguments_length")
    max_new_tokens = answer["max_new_tokens"]
    if not is_whole_number_between(max_new_tokens, 1, MOST_NEW_TOKENS):
        return MESSAGES("arguments_max_new_tokens", most_new_tokens=MOST_NEW_TOKENS)
    if answer.get("do_sample") is not False:
        return MESSAGES("arguments_do_sample")
    if answer.get("prompt_lookup_num_tokens") is None:
        return MESSAGES("arguments_lookup")
    num_beams = answer.get("num_beams", 1)
    if not is_whole_number(num_beams) or num_beams != 1:
        return MESSAGES("arguments_beams")
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
        return report(False, "", MESSAGES("lookup_refused", error_type=type(error).__name__, error=error))
    new_tokens = output.shape[1] - model_inputs["input_ids"].shape[1]
    if not torch.equal(output, greedy):
        return report(False, "", MESSAGES("lookup_not_greedy"))
    if passes.count >= new_tokens:
        return report(False, "", MESSAGES("lookup_no_draft", passes=passes.count, new_tokens=new_tokens))
    return report(True, MESSAGES("lookup_praise", passes=passes.count, new_tokens=new_tokens), "")


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
    if not is_whole_number_between(answer, 1, MOST_LOOKUP_TOKENS):
        return report(False, "", MESSAGES("smallest_format", most_lookup_tokens=MOST_LOOKUP_TOKENS))
    # Try 1, 2, 3, ... in order: the first value that reaches the goal is the right answer.
    for lookup_tokens in range(1, answer + 1):
        reached = tokens_per_pass(model, model_inputs, max_new_tokens, lookup_tokens) >= goal
        if reached and lookup_tokens < answer:
            return report(False, "", MESSAGES("smallest_too_large"))
        if reached:
            return report(True, MESSAGES("smallest_praise", answer=answer, goal=goal), "")
    return report(False, "", MESSAGES("smallest_out_of_reach", goal=goal))


# Every praise and hint these checks print, in English and German (see companion.language).
# The checks look them up when they run, which is why the catalogue can stand after them.
MESSAGES = Messages(__name__, {
    "cache_format": {
        "en": "hand in four whole numbers: (batch, key/value heads, positions, head size).",
        "de": "Geben Sie vier ganze Zahlen ab: (Batch, Key/Value-Heads, Positionen, Head-Größe).",
    },
    "cache_praise": {
        "en": "the cache holds keys for every position the model has read: the prompt and "
              "every new token except the last, which was chosen but never fed back.",
        "de": "Der Cache enthält Keys für jede Position, die das Modell gelesen hat: den Prompt und "
              "jeden neuen Token außer dem letzten, der zwar gewählt, aber nie ins Modell zurückgegeben wurde.",
    },
    "cache_batch": {
        "en": "the first number is the batch: how many prompts went in?",
        "de": "Die erste Zahl ist die Größe des Batches: Wie viele Prompts hat das Modell bekommen?",
    },
    "cache_query_heads": {
        "en": "this model has fewer key/value heads than query heads (grouped-query attention): "
              "look for the key/value heads in model.config.",
        "de": "Dieses Modell hat weniger Key/Value-Heads als Query-Heads (Grouped-Query Attention): "
              "Suchen Sie die Key/Value-Heads in model.config.",
    },
    "cache_heads": {
        "en": "the second number is the number of key/value heads per layer: it is in model.config.",
        "de": "Die zweite Zahl ist die Anzahl der Key/Value-Heads pro Schicht: Sie steht in model.config.",
    },
    "cache_head_size": {
        "en": "the last number is the size of one head: model.config says it (head_dim).",
        "de": "Die letzte Zahl ist die Größe eines Heads: model.config nennt sie (head_dim).",
    },
    "cache_one_too_many": {
        "en": "one position too many: the last new token came out of the logits, but no forward pass "
              "has read it yet, so it has no keys.",
        "de": "Eine Position zu viel: Der letzte neue Token ist aus den Logits hervorgegangen, aber noch "
              "kein Durchlauf hat ihn gelesen, also hat er keine Keys.",
    },
    "cache_grows": {
        "en": "the cache grows during generation: every decoding step adds the position it read.",
        "de": "Der Cache wächst während der Generierung: Jeder Decoding-Schritt fügt die Position hinzu, "
              "die er gelesen hat.",
    },
    "cache_count": {
        "en": "count the positions the model has read: all the prompt tokens, then one per "
              "decoding step after the first new token.",
        "de": "Zählen Sie die Positionen, die das Modell gelesen hat: alle Tokens des Prompts, dann eine "
              "pro Decoding-Schritt nach dem ersten neuen Token.",
    },
    "arguments_dict": {
        "en": "hand in the keyword arguments of the fixed generate() call as a dict.",
        "de": "Geben Sie die Keyword-Argumente des reparierten generate()-Aufrufs als Dict ab.",
    },
    "arguments_length": {
        "en": "bound the answer's length by the number of new tokens, as in every call of this course.",
        "de": "Begrenzen Sie die Länge der Antwort über die Anzahl neuer Tokens, wie bei jedem Aufruf "
              "in diesem Kurs.",
    },
    "arguments_max_new_tokens": {
        "en": "max_new_tokens should be a whole number from 1 to {most_new_tokens} here.",
        "de": "max_new_tokens sollte hier eine ganze Zahl von 1 bis {most_new_tokens} sein.",
    },
    "arguments_do_sample": {
        "en": "the goal is the greedy answer: say explicitly that this call does not sample.",
        "de": "Das Ziel ist die Antwort des Greedy Decoding: Legen Sie ausdrücklich fest, dass dieser "
              "Aufruf kein Sampling verwendet.",
    },
    "arguments_lookup": {
        "en": "the fixed call should still draft tokens from the prompt: that is where the speed comes from.",
        "de": "Der reparierte Aufruf soll weiterhin Entwurfs-Tokens aus dem Prompt vorschlagen: Daher "
              "kommt der Geschwindigkeitsgewinn.",
    },
    "arguments_beams": {
        "en": "read the warning under the broken cell: prompt lookup only works on top of greedy search "
              "or sampling, and any other search throws the drafts away.",
        "de": "Lesen Sie die Warnung unter der fehlerhaften Zelle: Prompt Lookup funktioniert nur zusammen "
              "mit Greedy Search oder Sampling, und jede andere Suche verwirft die Entwürfe.",
    },
    "lookup_refused": {
        "en": "generate() refused these arguments ({error_type}: {error}).",
        "de": "generate() hat diese Argumente abgelehnt ({error_type}: {error}).",
    },
    "lookup_not_greedy": {
        "en": "the output differs from plain greedy decoding: which argument changes the search?",
        "de": "Die Ausgabe weicht vom einfachen Greedy Decoding ab: Welches Argument ändert die Suche?",
    },
    "lookup_no_draft": {
        "en": "{passes} forward passes for {new_tokens} new tokens: no draft was "
              "accepted. Is prompt lookup really on?",
        "de": "{passes} Durchläufe für {new_tokens} neue Tokens: Kein Entwurf wurde angenommen. "
              "Ist Prompt Lookup wirklich eingeschaltet?",
    },
    "lookup_praise": {
        "en": "the greedy answer in {passes} forward passes for {new_tokens} new tokens.",
        "de": "Dieselbe Antwort wie beim Greedy Decoding, in {passes} Durchläufen für {new_tokens} neue Tokens.",
    },
    "smallest_format": {
        "en": "hand in one whole number from 1 to {most_lookup_tokens}: the number of tokens "
              "drafted per pass.",
        "de": "Geben Sie eine ganze Zahl von 1 bis {most_lookup_tokens} ab: die Anzahl der Entwurfs-Tokens "
              "pro Durchlauf.",
    },
    "smallest_too_large": {
        "en": "a smaller value already reaches the goal; every drafted token that is "
              "rejected is work the model did for nothing.",
        "de": "Schon ein kleinerer Wert erreicht das Ziel; jeder abgelehnte Entwurfs-Token ist Arbeit, "
              "die das Modell umsonst geleistet hat.",
    },
    "smallest_praise": {
        "en": "{answer} drafted tokens per pass are enough for {goal:g} new tokens per pass; "
              "longer drafts would mostly be rejected.",
        "de": "{answer} Entwurfs-Tokens pro Durchlauf reichen für {goal:g} neue Tokens pro Durchlauf; "
              "längere Entwürfe würden größtenteils abgelehnt.",
    },
    "smallest_out_of_reach": {
        "en": "not yet {goal:g} new tokens per pass: a pass can keep at most its drafted tokens "
              "plus one of its own, so the drafts must be longer.",
        "de": "Noch keine {goal:g} neuen Tokens pro Durchlauf: Ein Durchlauf kann höchstens seine "
              "Entwurfs-Tokens plus einen eigenen Token übernehmen, also müssen die Entwürfe länger sein.",
    },
})
