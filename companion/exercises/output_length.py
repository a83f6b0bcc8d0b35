"""Checks for the exercises of notebook 02, output too short or too long (`notebooks/src/02_output_length.py`).

Each check computes the right answer itself with the model in use, so the exercises work
with any MODEL, and prints "Correct!" or a hint (see `companion.exercises.report`). Hints
name the idea to look at, not the code of the answer; a wrong answer never raises.
Every text a learner sees comes from MESSAGES at the end of this module, in the notebook's language.
"""

from __future__ import annotations

import copy

import torch

from companion.exercises import Verdict, report
from companion.exercises.answers import is_whole_number, tensor_as_int
from companion.generation import generate_text, pad_token_id_or_eos, tokenize_batch
from companion.language import Messages

# transformers' model-agnostic default length, used when neither the call nor the model's
# generation config sets one (GenerationConfig._get_default_generation_params, max_length=20).
# Since transformers 4.47.0, generate() adds the prompt length to it: 20 NEW tokens
# (_prepare_generated_length, "by default let's always generate 20 new tokens"). Up to 4.46
# the 20 included the prompt; a prompt of 20 tokens or more raised a ValueError from 4.38.0 on
# (_validate_generated_length) and was only a UserWarning up to 4.37.
DEFAULT_NEW_TOKENS = 20


def check_max_length_new_tokens(answer, model, tokenizer, prompt: str, max_length: int) -> Verdict:
    """Exercise 1: how many new tokens `generate(..., max_length=max_length)` adds to a long `prompt`.

    Args:
        answer: an int (or a one-element tensor), the predicted number of new tokens.
        model, tokenizer: the notebook's model; the right number comes from a real greedy run.
        prompt: the exercise's prompt (longer than 20 tokens on purpose).
        max_length: the call's max_length (it must exceed the prompt's length).
    Returns:
        a Verdict, truthy if the answer equals the new tokens of that run (max_length minus the
        prompt's length, unless the model stops earlier with its EOS token).
    """
    if answer is None:
        return report(False, "", MESSAGES("max_length_not_whole"))
    model_inputs = tokenize_batch(tokenizer, prompt, device=model.device)
    prompt_length = model_inputs["input_ids"].shape[1]
    with torch.inference_mode():
        sequences = model.generate(**model_inputs, max_length=max_length, do_sample=False,
                                   pad_token_id=pad_token_id_or_eos(tokenizer))
    expected = sequences.shape[1] - prompt_length
    answer = tensor_as_int(answer)
    correct = is_whole_number(answer) and answer == expected
    if correct:
        hint = ""
    elif not is_whole_number(answer):
        hint = MESSAGES("max_length_not_whole")
    elif answer == max_length or answer == prompt_length + expected:
        hint = MESSAGES("max_length_is_total")
    elif answer == DEFAULT_NEW_TOKENS:
        hint = MESSAGES("max_length_not_default")
    else:
        hint = MESSAGES("max_length_run_and_compare")
    return report(correct, MESSAGES("max_length_praise", max_length=max_length, prompt_length=prompt_length,
                                    expected=expected), hint)


def new_text(model, tokenizer, prompt: str, **limit) -> str:
    """The decoded new tokens of a greedy `generate()` run with the given length setting."""
    model_inputs = tokenize_batch(tokenizer, prompt, device=model.device)
    with torch.inference_mode():
        sequences = model.generate(**model_inputs, do_sample=False, pad_token_id=pad_token_id_or_eos(tokenizer),
                                   **limit)
    return tokenizer.batch_decode(sequences[:, model_inputs["input_ids"].shape[1]:], skip_special_tokens=True)[0]


def check_new_text_only(answer, model, tokenizer, prompt: str, max_new_tokens: int) -> Verdict:
    """Exercise 2: only the text `generate()` added after `prompt` (up to `max_new_tokens`), no prompt.

    Args:
        answer: a string, the decoded new tokens of a greedy run with `max_new_tokens`.
        model, tokenizer: the notebook's model.
        prompt, max_new_tokens: the settings of the exercise.
    Returns:
        a Verdict, truthy if `answer` equals the decoded new tokens (special tokens skipped).
    """
    expected = generate_text(model, tokenizer, prompt, max_new_tokens=max_new_tokens, do_sample=False)[0]
    correct = answer == expected
    if correct:
        hint = ""
    elif not isinstance(answer, str):
        hint = MESSAGES("new_text_not_string")
    elif answer.startswith(prompt):
        hint = MESSAGES("new_text_has_prompt")
    elif answer == new_text(model, tokenizer, prompt, max_length=max_new_tokens):
        hint = MESSAGES("new_text_max_length", max_new_tokens=max_new_tokens)
    elif "<" in answer and ">" in answer:
        hint = MESSAGES("new_text_special_tokens")
    else:
        hint = MESSAGES("new_text_generic", max_new_tokens=max_new_tokens)
    return report(correct, MESSAGES("new_text_praise"), hint)


def check_stop_string(answer, model, tokenizer, prompt: str, stop_string: str, max_new_tokens: int) -> Verdict:
    """Exercise 3: the full greedy text that stops right after `stop_string` appears.

    Args:
        answer: a string, the decoded output (prompt included, special tokens skipped).
        model, tokenizer: the notebook's model.
        prompt, stop_string, max_new_tokens: the settings of the exercise.
    Returns:
        a Verdict, truthy if `answer` equals generate(..., stop_strings=[stop_string], tokenizer=tokenizer).
    """
    model_inputs = tokenize_batch(tokenizer, prompt, device=model.device)
    with torch.inference_mode():
        sequences = model.generate(
            **model_inputs, max_new_tokens=max_new_tokens, do_sample=False,
            stop_strings=[stop_string], tokenizer=tokenizer,
            pad_token_id=pad_token_id_or_eos(tokenizer),
        )
    expected = tokenizer.batch_decode(sequences, skip_special_tokens=True)[0]
    full = generate_text(model, tokenizer, prompt, max_new_tokens=max_new_tokens, do_sample=False,
                         return_full_text=True)[0]
    correct = answer == expected
    if correct:
        hint = ""
    elif not isinstance(answer, str):
        hint = MESSAGES("stop_not_string")
    elif answer == full and full != expected:
        hint = MESSAGES("stop_not_early")
    elif not answer.startswith(prompt):
        hint = MESSAGES("stop_no_prompt")
    else:
        hint = MESSAGES("stop_generic", max_new_tokens=max_new_tokens, stop_string=stop_string)
    return report(correct, MESSAGES("stop_praise", stop_string=stop_string), hint)


def check_generation_config(answer, model, tokenizer, prompt: str, min_new_tokens: int,
                            max_new_tokens: int) -> Verdict:
    """Exercise 4: a GenerationConfig that makes greedy output between two lengths.

    Args:
        answer: a `transformers.GenerationConfig`.
        model, tokenizer: the notebook's model.
        prompt: the exercise's prompt.
        min_new_tokens, max_new_tokens: the goal: at least / at most this many new tokens, greedy.
    Returns:
        a Verdict, truthy if `generate(**inputs, generation_config=answer)` gives the same ids as
        `generate(**inputs, min_new_tokens=..., max_new_tokens=..., do_sample=False)`.
    """
    from transformers import GenerationConfig

    model_inputs = tokenize_batch(tokenizer, prompt, device=model.device)
    prompt_length = model_inputs["input_ids"].shape[1]
    pad_token_id = pad_token_id_or_eos(tokenizer)
    with torch.inference_mode():
        expected = model.generate(**model_inputs, min_new_tokens=min_new_tokens, max_new_tokens=max_new_tokens,
                                  do_sample=False, pad_token_id=pad_token_id)
    if not isinstance(answer, GenerationConfig):
        return report(False, "", MESSAGES("config_not_config"))
    if answer.do_sample:
        return report(False, "", MESSAGES("config_sampling"))
    config = copy.deepcopy(answer)  # leave the learner's object as it was
    if config.pad_token_id is None:
        config.pad_token_id = pad_token_id  # the course models have no pad token; not part of the exercise
    with torch.inference_mode():
        sequences = model.generate(**model_inputs, generation_config=config)
    new_tokens = sequences.shape[1] - prompt_length
    correct = torch.equal(sequences.cpu(), expected.cpu())
    if correct:
        hint = ""
    elif new_tokens < min_new_tokens:
        hint = MESSAGES("config_too_short", new_tokens=new_tokens)
    elif new_tokens > max_new_tokens:
        hint = MESSAGES("config_too_long", new_tokens=new_tokens)
    else:
        hint = MESSAGES("config_differs", min_new_tokens=min_new_tokens, max_new_tokens=max_new_tokens)
    return report(correct, MESSAGES("config_praise", new_tokens=new_tokens, min_new_tokens=min_new_tokens,
                                    max_new_tokens=max_new_tokens), hint)


# Every praise and hint these checks print, in English and German (see companion.language).
# The checks look them up when they run, which is why the catalogue can stand after them.
MESSAGES = Messages(__name__, {
    # Exercise 1: how many new tokens max_length leaves
    "max_length_not_whole": {
        "en": "store one whole number in answer: how many tokens come after the prompt in the output, "
              "e.g. answer = 12.",
        "de": "Speichern Sie eine ganze Zahl in answer: Wie viele Tokens folgen in der Ausgabe auf den Prompt? "
              "Zum Beispiel answer = 12.",
    },
    "max_length_is_total": {
        "en": "that is max_length itself, the length of the whole output; the prompt's tokens are part of it. "
              "Count only the new ones.",
        "de": "Das ist max_length selbst, die Länge der gesamten Ausgabe, und die Tokens des Prompts gehören "
              "dazu. Zählen Sie nur die neuen.",
    },
    "max_length_not_default": {
        "en": "that is the default of 20 new tokens, but this call sets a length: max_length. What does it count?",
        "de": "Das ist der Standardwert von 20 neuen Tokens, aber dieser Aufruf legt eine Länge fest: "
              "max_length. Was zählt sie?",
    },
    "max_length_run_and_compare": {
        "en": "count the prompt's tokens (long_inputs[\"input_ids\"].shape[1]), then run the call and "
              "compare the length of its output with the length of the prompt.",
        "de": "Zählen Sie die Tokens des Prompts (long_inputs[\"input_ids\"].shape[1]), führen Sie dann den "
              "Aufruf aus und vergleichen Sie die Länge der Ausgabe mit der Länge des Prompts.",
    },
    "max_length_praise": {
        "en": "max_length={max_length} counts the prompt: its {prompt_length} tokens leave room for "
              "{expected} new ones, and a longer prompt would leave fewer. max_new_tokens does not depend "
              "on the prompt.",
        "de": "max_length={max_length} zählt den Prompt mit: Seine {prompt_length} Tokens lassen Platz für "
              "{expected} neue, und ein längerer Prompt ließe weniger. max_new_tokens hängt nicht vom Prompt ab.",
    },
    # Exercise 2: only the new text
    "new_text_not_string": {
        "en": "hand in one string: the decoded text of the new tokens.",
        "de": "Geben Sie einen einzigen String ab: den dekodierten Text der neuen Tokens.",
    },
    "new_text_has_prompt": {
        "en": "the prompt is still there. generate() returns the prompt's ids followed by the new ones; "
              "decode only the part after the prompt.",
        "de": "Der Prompt steht noch im Text. generate() liefert die IDs des Prompts und danach die neuen; "
              "dekodieren Sie nur den Teil nach dem Prompt.",
    },
    "new_text_max_length": {
        "en": "fewer new tokens than asked for: the limit you set counts the prompt's tokens too. "
              "Use the setting that counts only new tokens, with {max_new_tokens}.",
        "de": "Weniger neue Tokens als verlangt: Ihre Grenze zählt die Tokens des Prompts mit. "
              "Nehmen Sie die Einstellung, die nur neue Tokens zählt, mit dem Wert {max_new_tokens}.",
    },
    "new_text_special_tokens": {
        "en": "special tokens such as </s> are still in the text; the decoder can leave them out.",
        "de": "Spezial-Tokens wie </s> stehen noch im Text; beim Dekodieren lassen sie sich weglassen.",
    },
    "new_text_generic": {
        "en": "generate greedily with at most {max_new_tokens} new tokens, "
              "then decode only the ids after the prompt.",
        "de": "Erzeugen Sie mit Greedy Decoding höchstens {max_new_tokens} neue Tokens "
              "und dekodieren Sie danach nur die IDs nach dem Prompt.",
    },
    "new_text_praise": {
        "en": "The output of generate() starts with the prompt; slicing it off leaves "
              "just the new text (what companion.generate_text returns by default).",
        "de": "Die Ausgabe von generate() beginnt mit dem Prompt; ohne ihn bleibt nur der neue Text übrig "
              "(das, was companion.generate_text standardmäßig zurückgibt).",
    },
    # Exercise 3: a stop string
    "stop_not_string": {
        "en": "hand in one string: the whole decoded output, prompt included, special tokens skipped.",
        "de": "Geben Sie einen einzigen String ab: die gesamte dekodierte Ausgabe, mit Prompt und ohne "
              "Spezial-Tokens.",
    },
    "stop_not_early": {
        "en": "generation did not stop early. generate() can end at a piece of text; to see text it "
              "needs something that turns tokens back into text (see the stop_strings section).",
        "de": "Die Generierung hat nicht vorzeitig angehalten. generate() kann an einem Textstück enden; "
              "um Text zu erkennen, braucht es etwas, das Tokens wieder in Text umwandelt "
              "(siehe den Abschnitt zu stop_strings).",
    },
    "stop_no_prompt": {
        "en": "keep the prompt in this answer: decode the whole output, not only the new tokens.",
        "de": "In dieser Antwort gehört der Prompt dazu: Dekodieren Sie die gesamte Ausgabe, "
              "nicht nur die neuen Tokens.",
    },
    "stop_generic": {
        "en": "generate greedily with at most {max_new_tokens} new tokens and let it end at "
              "{stop_string!r}, then decode the whole output.",
        "de": "Erzeugen Sie mit Greedy Decoding höchstens {max_new_tokens} neue Tokens, lassen Sie die "
              "Generierung bei {stop_string!r} enden und dekodieren Sie dann die gesamte Ausgabe.",
    },
    "stop_praise": {
        "en": "Generation ended as soon as the text contained {stop_string!r}.",
        "de": "Die Generierung endete, sobald der Text {stop_string!r} enthielt.",
    },
    # Exercise 4: a GenerationConfig
    "config_not_config": {
        "en": "build a GenerationConfig object with the settings (not a dict, "
              "not keyword arguments of generate()).",
        "de": "Erstellen Sie ein GenerationConfig-Objekt mit den Einstellungen (kein Dict und "
              "keine Keyword-Argumente von generate()).",
    },
    "config_sampling": {
        "en": "this goal asks for greedy decoding: the config must switch sampling off.",
        "de": "Dieses Ziel verlangt Greedy Decoding: Die Konfiguration muss das Sampling ausschalten.",
    },
    "config_too_short": {
        "en": "only {new_tokens} new tokens: the model ends the text with its EOS token too soon. "
              "One of the length settings in this notebook forbids that token for a while.",
        "de": "Nur {new_tokens} neue Tokens: Das Modell beendet den Text zu früh mit seinem EOS-Token. "
              "Eine der Längeneinstellungen aus diesem Notebook verbietet diesen Token eine Zeit lang.",
    },
    "config_too_long": {
        "en": "{new_tokens} new tokens: set an upper limit that counts new tokens only.",
        "de": "{new_tokens} neue Tokens: Setzen Sie eine Obergrenze, die nur neue Tokens zählt.",
    },
    "config_differs": {
        "en": "the length is right but the tokens differ from greedy decoding with at least "
              "{min_new_tokens} and at most {max_new_tokens} new tokens; leave other settings at their defaults.",
        "de": "Die Länge stimmt, aber die Tokens weichen vom Greedy Decoding mit mindestens {min_new_tokens} "
              "und höchstens {max_new_tokens} neuen Tokens ab; lassen Sie alle anderen Einstellungen auf "
              "ihren Standardwerten.",
    },
    "config_praise": {
        "en": "Your config gives {new_tokens} new tokens, between {min_new_tokens} and "
              "{max_new_tokens}: a GenerationConfig carries the same settings as keyword arguments.",
        "de": "Ihre Konfiguration ergibt {new_tokens} neue Tokens, also zwischen {min_new_tokens} und "
              "{max_new_tokens}: Eine GenerationConfig enthält dieselben Einstellungen wie Keyword-Argumente.",
    },
})
