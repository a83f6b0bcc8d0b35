"""Checks for the exercises of notebook 09, generate() inside an application and the pitfall doctor
(`notebooks/src/09_generate_in_an_application.py`).

Each check runs the real `model.generate()` (and for exercise 2 `companion.diagnose`) on the
model in use, so the exercises work with any MODEL. Nothing here checks a timing: exercise 1
counts tokens, which a time budget of one microsecond fixes. Every check prints "Correct!" or
a hint (see `companion.exercises.report`) and never raises. The texts come from MESSAGES at the
end of this module, in English and German.
"""

from __future__ import annotations

import torch

from companion.doctor import diagnose
from companion.exercises import report
from companion.exercises.answers import is_dict_like, is_whole_number, is_whole_number_between
from companion.language import Messages

MOST_NEW_TOKENS = 64  # the checks run generate() themselves: keep each answer short on a CPU


def new_token_count(output: torch.Tensor, prompt_length: int) -> int:
    return output.shape[1] - prompt_length


def check_max_time_tokens(answer, model, inputs):
    """Exercise 1: how many new tokens does generate() return with max_time=1e-6 and max_new_tokens=20?

    Args:
        answer: the learner's prediction, an int.
        model: the causal LM in use.
        inputs: the tokenized prompt (a dict with input_ids (1, t) and attention_mask).
    Runs the call once (greedy) and compares the number of new tokens.
    """
    if not is_whole_number(answer):
        return report(False, "", MESSAGES("time_format"))
    with torch.inference_mode():
        output = model.generate(**inputs, max_new_tokens=20, do_sample=False, max_time=1e-6)
    new_tokens = new_token_count(output, inputs["input_ids"].shape[1])
    if answer == new_tokens:
        return report(True, MESSAGES("time_praise", new_tokens=new_tokens), "")
    return report(False, "", MESSAGES("time_zero" if answer < new_tokens else "time_more"))


def check_fixed_call(answer, model, tokenizer, texts):
    """Exercise 2: repair a broken batched call so that the doctor is silent and every row is right.

    Args:
        answer: (inputs, generate_kwargs): the tokenizer's output for `texts` and a dict.
        model, tokenizer: the model in use.
        texts: the prompts of the broken call, as text (b strings).
    Judges the shape first, then asks `companion.diagnose`, then compares each row's greedy
    new tokens with its prompt generated alone.
    """
    if not (isinstance(answer, tuple) and len(answer) == 2 and isinstance(answer[1], dict)
            and is_dict_like(answer[0]) and "input_ids" in answer[0]):
        return report(False, "", MESSAGES("fixed_format"))
    inputs, generate_kwargs = answer
    max_new_tokens = generate_kwargs.get("max_new_tokens")
    if "do_sample" not in generate_kwargs or not is_whole_number_between(max_new_tokens, 1, MOST_NEW_TOKENS):
        return report(False, "", MESSAGES("fixed_explicit", most=MOST_NEW_TOKENS))
    findings = diagnose(model, tokenizer, inputs, **generate_kwargs)
    if findings:
        return report(False, "", MESSAGES("fixed_findings", rules=", ".join(findings.rules)))
    if generate_kwargs["do_sample"] is not False:
        return report(False, "", MESSAGES("fixed_greedy"))
    mask = inputs.get("attention_mask")
    rows = []
    for row in range(inputs["input_ids"].shape[0]):
        ids = inputs["input_ids"][row]
        rows.append(ids[mask[row].bool()].tolist() if mask is not None else ids.tolist())
    expected = [tokenizer(text)["input_ids"] for text in texts]
    if rows != expected:
        return report(False, "", MESSAGES("fixed_prompts"))
    device_inputs = {name: value.to(model.device) for name, value in inputs.items() if isinstance(value, torch.Tensor)}
    with torch.inference_mode():
        batch = model.generate(**device_inputs, **generate_kwargs)[:, inputs["input_ids"].shape[1]:]
    wrong = []
    for row, text in enumerate(texts):
        alone = tokenizer([text], return_tensors="pt").to(model.device)
        with torch.inference_mode():
            reference = model.generate(**alone, **generate_kwargs)[0, alone["input_ids"].shape[1]:].tolist()
        if batch[row, : len(reference)].tolist() != reference:
            wrong.append(row)
    if wrong:
        return report(False, "", MESSAGES("fixed_rows", rows=wrong))
    return report(True, MESSAGES("fixed_praise"), "")


def check_digits_and_spaces(answer, model, tokenizer, inputs, max_new_tokens):
    """Exercise 3: steer the answer so that it holds only digits and spaces.

    Args:
        answer: a dict of keyword arguments for generate() (logits_processor, suppress_tokens, ...);
            max_new_tokens and do_sample default to the call below if the dict leaves them out.
        model, tokenizer: the model in use.
        inputs: the tokenized prompt.
        max_new_tokens: the notebook's token budget (at most 64 is used).
    """
    if not isinstance(answer, dict):
        return report(False, "", MESSAGES("digits_format"))
    generate_kwargs = {"max_new_tokens": min(max_new_tokens, MOST_NEW_TOKENS), "do_sample": False, **answer}
    try:
        with torch.inference_mode():
            output = model.generate(**inputs, **generate_kwargs)
    except (ValueError, TypeError, RuntimeError) as error:
        return report(False, "", MESSAGES("digits_refused", error_type=type(error).__name__, error=error))
    text = tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    others = sorted({character for character in text if not (character.isdigit() or character == " ")})
    if others:
        return report(False, "", MESSAGES("digits_other", text=repr(text), characters=repr("".join(others))))
    if not any(character.isdigit() for character in text):
        return report(False, "", MESSAGES("digits_none", text=repr(text)))
    return report(True, MESSAGES("digits_praise", text=repr(text)), "")


# Every praise and hint these checks print, in English and German (see companion.language).
# The checks look them up when they run, which is why the catalogue can stand after them.
MESSAGES = Messages(__name__, {
    "time_format": {
        "en": "hand in one whole number: how many new tokens the call returns.",
        "de": "Geben Sie eine ganze Zahl ab: wie viele neue Tokens der Aufruf zurückgibt.",
    },
    "time_praise": {
        "en": "generate() checks its stopping criteria after each new token, so even a budget that is over "
              "before the first step still gives {new_tokens} token.",
        "de": "generate() prüft seine Abbruchkriterien nach jedem neuen Token; selbst ein Budget, das vor dem "
              "ersten Schritt aufgebraucht ist, liefert also noch {new_tokens} Token.",
    },
    "time_zero": {
        "en": "the stopping criteria run after a step, never before the first one.",
        "de": "Die Abbruchkriterien laufen nach einem Schritt, nie vor dem ersten.",
    },
    "time_more": {
        "en": "the clock starts before the prompt is read; one microsecond is over long before the second step.",
        "de": "Die Uhr läuft schon, bevor der Prompt gelesen wird; eine Mikrosekunde ist lange vor dem zweiten "
              "Schritt vorbei.",
    },
    "fixed_format": {
        "en": "hand in a pair (inputs, generate_kwargs): the tokenizer's output and a dict of keyword arguments.",
        "de": "Geben Sie ein Paar (inputs, generate_kwargs) ab: die Ausgabe des Tokenizers und ein Dict mit "
              "Keyword-Argumenten.",
    },
    "fixed_findings": {
        "en": "the doctor still finds: {rules}. Print diagnose(model, tokenizer, inputs, **generate_kwargs).",
        "de": "Der Doktor findet noch: {rules}. Geben Sie diagnose(model, tokenizer, inputs, **generate_kwargs) aus.",
    },
    "fixed_explicit": {
        "en": "say both max_new_tokens (1 to {most}) and do_sample in the call.",
        "de": "Legen Sie im Aufruf sowohl max_new_tokens (1 bis {most}) als auch do_sample fest.",
    },
    "fixed_prompts": {
        "en": "the batch must hold the same prompts as the broken one, in the same order.",
        "de": "Der Batch muss dieselben Prompts wie der fehlerhafte enthalten, in derselben Reihenfolge.",
    },
    "fixed_greedy": {
        "en": "keep the greedy answer (do_sample=False): the check compares each row with its prompt alone.",
        "de": "Bleiben Sie bei der Greedy-Antwort (do_sample=False): Die Prüfung vergleicht jede Zeile mit ihrem "
              "Prompt allein.",
    },
    "fixed_rows": {
        "en": "row(s) {rows} answer differently than their prompt alone: is the padding on the left?",
        "de": "Zeile(n) {rows} antworten anders als ihr Prompt allein: Liegt das Padding links?",
    },
    "fixed_praise": {
        "en": "the doctor is silent, and every row answers as its prompt does alone.",
        "de": "Der Doktor schweigt, und jede Zeile antwortet wie ihr Prompt allein.",
    },
    "digits_format": {
        "en": "hand in a dict of keyword arguments for generate(), e.g. {{'logits_processor': ...}}.",
        "de": "Geben Sie ein Dict mit Keyword-Argumenten für generate() ab, z. B. {{'logits_processor': ...}}.",
    },
    "digits_refused": {
        "en": "generate() refused these arguments ({error_type}: {error}).",
        "de": "generate() hat diese Argumente abgelehnt ({error_type}: {error}).",
    },
    "digits_other": {
        "en": "the answer {text} has characters other than digits and spaces: {characters}.",
        "de": "Die Antwort {text} enthält andere Zeichen als Ziffern und Leerzeichen: {characters}.",
    },
    "digits_none": {
        "en": "the answer {text} has no digit: the model stopped first. Allow only digit tokens, not even the "
              "end-of-sequence token, and it must write digits.",
        "de": "Die Antwort {text} enthält keine Ziffer: Das Modell hat vorher aufgehört. Erlauben Sie nur Tokens aus "
              "Ziffern, nicht einmal den EOS-Token, dann muss es Ziffern schreiben.",
    },
    "digits_praise": {
        "en": "the answer {text} has only digits and spaces.",
        "de": "Die Antwort {text} besteht nur aus Ziffern und Leerzeichen.",
    },
})
