"""Checks for the exercises of notebook 07, token scores (`notebooks/src/07_token_scores.py`).

Each check computes the right answer itself from the model in use (so the exercises work
with any MODEL), prints "Correct!" or a hint (see `companion.exercises.report`) and never
raises on a wrong answer. Every text they print comes from MESSAGES at the end of this
module, in the notebook's language.
"""

from __future__ import annotations

import math

import torch
from transformers import set_seed

from companion.exercises import Verdict, report
from companion.exercises.answers import as_number, as_token_id
from companion.generation import end_of_sequence_ids, generated_token_mask, pad_token_id_or_eos, tokenize_batch
from companion.language import Messages


def scored_generation(model, tokenizer, prompts, max_new_tokens: int, *, with_mask: bool = True, **generate_kwargs):
    """generate() on a left-padded batch with scores and raw logits; the call notebook 07 teaches.

    Returns:
        (outputs, prompt_length): outputs.sequences (b, t + n), outputs.scores and
        outputs.logits (tuples of n tensors of shape (b, vocab)); t = prompt columns.
    """
    model_inputs = tokenize_batch(tokenizer, prompts, device=model.device)
    if not with_mask:
        model_inputs = {"input_ids": model_inputs["input_ids"]}
    with torch.inference_mode():
        outputs = model.generate(
            **model_inputs,
            max_new_tokens=max_new_tokens,
            pad_token_id=pad_token_id_or_eos(tokenizer),
            output_scores=True,
            output_logits=True,
            return_dict_in_generate=True,
            **generate_kwargs,
        )
    return outputs, model_inputs["input_ids"].shape[1]


def check_top_k_one_prediction(answer, model, tokenizer, prompt: str, max_new_tokens: int) -> Verdict:
    """Exercise 1 (predict, then run): the probability compute_transition_scores gives each token
    sampled with top_k=1, computed from `outputs.scores` with normalize_logits=True.

    Args:
        answer: your prediction, a float between 0 and 1 (the same for every token).
        model, tokenizer: the notebook's model.
        prompt: the prompt of the exercise.
        max_new_tokens: how many tokens the check samples.
    Returns:
        a Verdict, truthy if the prediction matches every measured probability within 0.01.
    """
    # top_k=1 leaves one candidate per step, so no seed is needed: the draw is always the same.
    outputs, prompt_length = scored_generation(model, tokenizer, prompt, max_new_tokens, do_sample=True, top_k=1)
    probabilities = model.compute_transition_scores(outputs.sequences, outputs.scores, normalize_logits=True).exp()
    model_probabilities = model.compute_transition_scores(
        outputs.sequences, outputs.logits, normalize_logits=True
    ).exp()
    lowest, highest = probabilities.min().item(), probabilities.max().item()
    value = as_number(answer)
    if value is None:
        hint = MESSAGES("top_k_one_format")
    elif value > 1:
        hint = MESSAGES("top_k_one_percentage")
    elif abs(value - lowest) <= 0.01 and abs(value - highest) <= 0.01:
        hint = ""
    elif abs(value - model_probabilities[0, 0].item()) <= 0.01:
        hint = MESSAGES("top_k_one_model_probability")
    else:
        hint = MESSAGES("top_k_one_survivors")
    return report(
        not hint,
        MESSAGES(
            "top_k_one_praise",
            lowest=lowest,
            model_lowest=model_probabilities.min().item(),
            model_highest=model_probabilities.max().item(),
        ),
        hint,
    )


def check_least_certain_token(answer, model, tokenizer, prompt: str, max_new_tokens: int) -> Verdict:
    """Exercise 2: the new token the model was least sure of in the greedy continuation of `prompt`.

    Args:
        answer: the token's id (an int or a one-element tensor, e.g. from argmin()) or its text.
        model, tokenizer: the notebook's model.
        prompt: the prompt of the exercise.
        max_new_tokens: the length of the greedy continuation.
    Returns:
        a Verdict, truthy if the answer is the token with the lowest probability (padding
        after an end-of-sequence token does not count).
    """
    outputs, prompt_length = scored_generation(model, tokenizer, prompt, max_new_tokens, do_sample=False)
    log_probabilities = model.compute_transition_scores(outputs.sequences, outputs.scores, normalize_logits=True)[0]
    mask = generated_token_mask(outputs.sequences, prompt_length, end_of_sequence_ids(model, tokenizer))[0]
    new_ids = outputs.sequences[0, prompt_length:]
    real_ids = new_ids[mask].tolist()
    real_log_probabilities = log_probabilities[mask]
    least = int(real_log_probabilities.argmin())
    expected_id = real_ids[least]
    raw_scores = model.compute_transition_scores(outputs.sequences, outputs.scores)[0][mask]
    answer_id = as_token_id(answer, tokenizer)
    if answer_id == expected_id:
        hint = ""
    elif answer is None or answer_id is None:
        hint = MESSAGES("least_certain_format")
    elif answer_id == real_ids[int(real_log_probabilities.argmax())]:
        hint = MESSAGES("least_certain_most_sure")
    elif answer_id == real_ids[int(raw_scores.argmin())]:
        hint = MESSAGES("least_certain_raw_score")
    elif answer_id not in real_ids:
        hint = MESSAGES("least_certain_not_new")
    else:
        hint = MESSAGES("least_certain_compare")
    probability = math.exp(float(real_log_probabilities[least]))
    return report(
        not hint,
        MESSAGES("least_certain_praise", token=tokenizer.decode([expected_id]), position=least,
                 probability=probability),
        hint,
    )


def check_batch_probabilities(answer, model, tokenizer, prompts, max_new_tokens: int) -> Verdict:
    """Exercise 3 (fix a broken call): the probability of every new token of a greedy batch.

    Args:
        answer: FloatTensor of shape (b, n), n = max_new_tokens: exp() of the normalised
            transition scores of `generate(..., max_new_tokens=n, do_sample=False)` on the
            left-padded batch of `prompts`, with the attention mask passed.
        model, tokenizer: the notebook's model.
        prompts: the b prompts of the exercise.
        max_new_tokens: n.
    Returns:
        a Verdict, truthy if the answer matches within 1e-4.
    """
    outputs, _ = scored_generation(model, tokenizer, prompts, max_new_tokens, do_sample=False)
    expected = model.compute_transition_scores(outputs.sequences, outputs.scores, normalize_logits=True).exp().cpu()
    if not isinstance(answer, torch.Tensor):
        return report(False, "", MESSAGES("batch_not_tensor"))
    answer = answer.detach().float().cpu()
    if tuple(answer.shape) != tuple(expected.shape):
        return report(False, "", MESSAGES("batch_shape", expected_shape=tuple(expected.shape),
                                          shape=tuple(answer.shape)))
    if torch.allclose(answer, expected, atol=1e-4):
        return report(True, MESSAGES("batch_praise"), "")
    if bool((answer > 1).any()):
        hint = MESSAGES("batch_above_one")
    elif bool((answer <= 0).all()):
        hint = MESSAGES("batch_log_probabilities")
    else:
        hint = MESSAGES("batch_padding")
    return report(False, "", hint)


def check_confident_temperature(answer, model, tokenizer, prompt: str, max_new_tokens: int, seed: int) -> Verdict:
    """Exercise 4 (reach a goal): a temperature at which every sampled token has p > 0.5
    under the sampling distribution (normalised `outputs.scores`).

    Args:
        answer: a positive temperature (float).
        model, tokenizer: the notebook's model.
        prompt: the prompt of the exercise.
        max_new_tokens: how many tokens are sampled.
        seed: `set_seed(seed)` runs before sampling, so the check is repeatable.
    Returns:
        a Verdict, truthy if the goal is reached with do_sample=True and this temperature.
    """
    temperature = as_number(answer)
    if temperature is None or not math.isfinite(temperature):
        return report(False, "", MESSAGES("temperature_format"))
    if temperature <= 0:
        return report(False, "", MESSAGES("temperature_positive"))
    set_seed(seed)
    outputs, prompt_length = scored_generation(
        model, tokenizer, prompt, max_new_tokens, do_sample=True, temperature=temperature
    )
    mask = generated_token_mask(outputs.sequences, prompt_length, end_of_sequence_ids(model, tokenizer))[0]
    sampling = model.compute_transition_scores(outputs.sequences, outputs.scores, normalize_logits=True)[0][mask].exp()
    raw = model.compute_transition_scores(outputs.sequences, outputs.logits, normalize_logits=True)[0][mask].exp()
    lowest = sampling.min().item()
    if lowest > 0.5:
        return report(
            True,
            MESSAGES("temperature_praise", temperature=temperature, lowest=lowest, model_lowest=raw.min().item()),
            "",
        )
    if temperature >= 1:
        hint = MESSAGES("temperature_not_below_one", lowest=lowest)
    else:
        hint = MESSAGES("temperature_further", lowest=lowest)
    return report(False, "", hint)


# Every praise and hint these checks print, in English and German (see companion.language).
# The checks look them up when they run, which is why the catalogue can stand after them.
MESSAGES = Messages(__name__, {
    # Exercise 1: top_k=1
    "top_k_one_format": {
        "en": "give one number between 0 and 1: the probability of each chosen token under the "
              "sampling distribution, once top_k has kept only one candidate.",
        "de": "Geben Sie eine einzige Zahl zwischen 0 und 1 an: die Wahrscheinlichkeit jedes gewählten Tokens "
              "unter der Sampling-Verteilung, nachdem top_k nur noch einen Kandidaten übrig gelassen hat.",
    },
    "top_k_one_percentage": {
        "en": "give a probability between 0 and 1, not a percentage or a raw score.",
        "de": "Geben Sie eine Wahrscheinlichkeit zwischen 0 und 1 an, keinen Prozentwert und keinen rohen Score.",
    },
    "top_k_one_model_probability": {
        "en": "that is the model's own probability (outputs.logits). outputs.scores hold the scores after "
              "top_k: how much probability is left for the one token that survives?",
        "de": "Das ist die eigene Wahrscheinlichkeit des Modells (outputs.logits). outputs.scores enthalten die "
              "Scores nach top_k: Wie viel Wahrscheinlichkeit bleibt für den einen Token, der übrig bleibt?",
    },
    "top_k_one_survivors": {
        "en": "outputs.scores hold the scores after top_k; the softmax spreads the probability over the "
              "tokens that survive. How many survive top_k=1?",
        "de": "outputs.scores enthalten die Scores nach top_k; die Softmax-Funktion verteilt die "
              "Wahrscheinlichkeit auf die Tokens, die übrig bleiben. Wie viele bleiben bei top_k=1 übrig?",
    },
    "top_k_one_praise": {
        "en": "Every sampled token has probability {lowest:.0%} under the sampling distribution: top_k=1 keeps one "
              "token, which gets all of it. The model's own probabilities of the same tokens range from "
              "{model_lowest:.0%} to {model_highest:.0%}.",
        "de": "Jeder gezogene Token hat unter der Sampling-Verteilung die Wahrscheinlichkeit {lowest:.0%}: "
              "top_k=1 behält einen einzigen Token, und der bekommt alles. Die eigenen Wahrscheinlichkeiten des "
              "Modells für dieselben Tokens reichen von {model_lowest:.0%} bis {model_highest:.0%}.",
    },
    # Exercise 2: the least certain token
    "least_certain_format": {
        "en": "give one token, its id (an int) or its text: the new token whose log-probability is the "
              "lowest.",
        "de": "Geben Sie einen einzigen Token an, als ID (ein int) oder als Text: den neuen Token mit der "
              "niedrigsten Log-Wahrscheinlichkeit.",
    },
    "least_certain_most_sure": {
        "en": "that is the token the model was most sure of; look for the smallest log-probability instead.",
        "de": "Bei diesem Token war sich das Modell am sichersten; suchen Sie stattdessen die kleinste "
              "Log-Wahrscheinlichkeit.",
    },
    "least_certain_raw_score": {
        "en": "that token has the lowest raw score, but raw scores are not comparable from one step to the "
              "next: normalise them over the vocabulary first.",
        "de": "Dieser Token hat den niedrigsten rohen Score, aber rohe Scores lassen sich nicht von einem Schritt "
              "zum nächsten vergleichen: Normieren Sie sie zuerst über das Vokabular.",
    },
    "least_certain_not_new": {
        "en": "that token is not one of the new tokens: look only at the tokens generate() added after the prompt.",
        "de": "Dieser Token gehört nicht zu den neuen Tokens: Betrachten Sie nur die Tokens, die generate() "
              "nach dem Prompt angefügt hat.",
    },
    "least_certain_compare": {
        "en": "compare the log-probabilities of all new tokens and take the position of the smallest one.",
        "de": "Vergleichen Sie die Log-Wahrscheinlichkeiten aller neuen Tokens und nehmen Sie die Position der "
              "kleinsten.",
    },
    "least_certain_praise": {
        "en": "The least certain token is {token!r} (position {position}), chosen with "
              "probability {probability:.0%}.",
        "de": "Am wenigsten sicher war sich das Modell bei dem Token {token!r} (Position {position}), gewählt "
              "mit der Wahrscheinlichkeit {probability:.0%}.",
    },
    # Exercise 3: the batch
    "batch_not_tensor": {
        "en": "give the probabilities as a tensor with one row per prompt and one column per "
              "new token.",
        "de": "Geben Sie die Wahrscheinlichkeiten als Tensor an, mit einer Zeile pro Prompt und einer Spalte pro "
              "neuem Token.",
    },
    "batch_shape": {
        "en": "the answer should have shape {expected_shape} (prompts, new tokens), got {shape}.",
        "de": "Die Antwort sollte die Form {expected_shape} haben (Prompts, neue Tokens), sie hat aber {shape}.",
    },
    "batch_praise": {
        "en": "Every value is a probability between 0 and 1, and the model knew which columns "
              "of the short prompt were padding.",
        "de": "Jeder Wert ist eine Wahrscheinlichkeit zwischen 0 und 1, und das Modell wusste, welche Spalten "
              "des kurzen Prompts Padding waren.",
    },
    "batch_above_one": {
        "en": "some values are above 1, so they are not probabilities: the scores must be normalised over the "
              "vocabulary (a log-softmax) before exp().",
        "de": "Einige Werte liegen über 1, es sind also keine Wahrscheinlichkeiten: Die Scores müssen vor exp() "
              "über das Vokabular normiert werden (ein Log-Softmax).",
    },
    "batch_log_probabilities": {
        "en": "these look like log-probabilities; turn them into probabilities with exp().",
        "de": "Diese Werte sehen wie Log-Wahrscheinlichkeiten aus; machen Sie mit exp() Wahrscheinlichkeiten daraus.",
    },
    "batch_padding": {
        "en": "the probabilities are right for some tokens only: does the model know which columns of the "
              "short prompt are padding? (Read the warning under the broken cell.)",
        "de": "Die Wahrscheinlichkeiten stimmen nur für manche Tokens: Weiß das Modell, welche Spalten des kurzen "
              "Prompts Padding sind? (Lesen Sie die Warnung unter der fehlerhaften Zelle.)",
    },
    # Exercise 4: a confident temperature
    "temperature_format": {
        "en": "give a temperature: one positive number.",
        "de": "Geben Sie eine Temperatur an: eine einzige positive Zahl.",
    },
    "temperature_positive": {
        "en": "the temperature divides the logits, so it must be above 0.",
        "de": "Die Logits werden durch die Temperatur geteilt, deshalb muss sie größer als 0 sein.",
    },
    "temperature_praise": {
        "en": "At temperature {temperature:g} every sampled token has p > 0.5 under the sampling distribution "
              "(lowest {lowest:.0%}), while the model's own probability of those tokens goes down to "
              "{model_lowest:.0%}: a low temperature makes the sampling sure, not the model.",
        "de": "Bei der Temperatur {temperature:g} hat jeder gezogene Token unter der Sampling-Verteilung p > 0,5 "
              "(niedrigster Wert {lowest:.0%}), während die eigene Wahrscheinlichkeit des Modells für diese Tokens "
              "bis auf {model_lowest:.0%} sinkt: Eine niedrige Temperatur macht das Sampling sicher, nicht das "
              "Modell.",
    },
    "temperature_not_below_one": {
        "en": "the least certain sampled token has p = {lowest:.0%}. A temperature of 1 or more keeps the "
              "distribution as flat as the model's, or flattens it; which way sharpens it?",
        "de": "Der unsicherste gezogene Token hat p = {lowest:.0%}. Eine Temperatur von 1 oder mehr lässt die "
              "Verteilung so flach wie die des Modells oder macht sie noch flacher; in welche Richtung wird sie "
              "schärfer?",
    },
    "temperature_further": {
        "en": "the least certain sampled token still has p = {lowest:.0%}; go further in the same direction.",
        "de": "Der unsicherste gezogene Token hat immer noch p = {lowest:.0%}; gehen Sie weiter in dieselbe "
              "Richtung.",
    },
})
