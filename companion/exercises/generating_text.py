"""Checks for the exercises of notebook 01, generating text (`notebooks/src/01_generating_text.py`).

Each check computes the right answer itself from the model in use, so the exercises work
with any MODEL, and prints "Correct!" or a hint (see `companion.exercises.report`). Hints
name the idea to look at, not the code of the answer; a wrong answer never raises.
All texts come from MESSAGES at the end of this module, in English and German (see
`companion.language`).
"""

from __future__ import annotations

import torch

from companion.exercises import Verdict, report
from companion.exercises.answers import as_shape, as_token_id
from companion.generation import generate_ids, generate_text, tokenize_batch
from companion.inspection import next_token_distribution
from companion.language import Messages


def check_logits_shape(answer, model, tokenizer, prompt: str) -> Verdict:
    """Exercise 1: the shape of `model(**inputs).logits` for one tokenized `prompt`, predicted.

    Args:
        answer: a tuple of three ints (batch, length, vocabulary), or a torch.Size.
        model, tokenizer: the notebook's model.
        prompt: the prompt of the exercise.
    Returns:
        a Verdict, truthy if the answer equals the real shape (the verdict is printed).
    """
    model_inputs = tokenizer([prompt], return_tensors="pt").to(model.device)
    with torch.inference_mode():
        expected = tuple(model(**model_inputs).logits.shape)
    shape = as_shape(answer)
    correct = shape == expected
    if correct:
        hint = ""
    elif shape is None:
        hint = MESSAGES("shape_format")
    elif len(shape) != 3:
        hint = MESSAGES("shape_axes")
    elif shape[0] != expected[0]:
        hint = MESSAGES("shape_batch")
    elif shape[1] != expected[1]:
        hint = MESSAGES("shape_length")
    else:
        hint = MESSAGES("shape_vocabulary")
    return report(correct, MESSAGES("shape_praise", shape=expected, vocabulary=expected[2],
                                    positions=expected[1]), hint)


def check_most_likely_token(answer, model, tokenizer, prompt: str) -> Verdict:
    """Exercise 2: the id (or text) of the token the model finds most likely after `prompt`.

    Args:
        answer: an int token id, a one-element tensor (e.g. from argmax()) or the token text.
        model, tokenizer: the notebook's model.
        prompt: the prompt of the exercise.
    Returns:
        a Verdict, truthy if the answer is right (the verdict is printed).
    """
    distribution = next_token_distribution(model, tokenizer, prompt)[0]  # (vocab,)
    expected_id = int(distribution.argmax())
    answer_id = as_token_id(answer, tokenizer)
    if answer is None:
        hint = MESSAGES("token_missing")
    elif answer_id is None:
        hint = MESSAGES("token_format")
    elif answer_id != expected_id:
        input_ids = tokenize_batch(tokenizer, prompt)["input_ids"]
        with torch.inference_mode():
            first_position = model(input_ids=input_ids.to(model.device)).logits[0, 0].argmax().item()
        if answer_id == first_position and input_ids.shape[1] > 1:
            hint = MESSAGES("token_first_position")
        else:
            hint = MESSAGES("token_position")
    else:
        hint = ""
    token = tokenizer.decode([expected_id])
    return report(answer_id == expected_id,
                  MESSAGES("token_praise", token=token, token_id=expected_id,
                           probability=distribution[expected_id].item()), hint)


def pipeline_text(answer) -> str | None:
    """The text of a pipeline answer: a string, or the pipeline's [{"generated_text": ...}] list."""
    if isinstance(answer, str):
        return answer
    if isinstance(answer, list) and len(answer) == 1 and isinstance(answer[0], dict):
        text = answer[0].get("generated_text")
        return text if isinstance(text, str) else None
    return None


def check_pipeline_new_text(answer, model, tokenizer, prompt: str, max_new_tokens: int) -> Verdict:
    """Exercise 3: a text-generation pipeline's greedy output for `prompt`, without the prompt.

    Args:
        answer: the pipeline's output, either its list [{"generated_text": ...}] or that string.
        model, tokenizer: the notebook's model.
        prompt, max_new_tokens: the settings of the exercise.
    Returns:
        a Verdict, truthy if the text equals the new tokens of
        `model.generate(..., max_new_tokens=max_new_tokens, do_sample=False)`, decoded.
    """
    expected = generate_text(model, tokenizer, prompt, max_new_tokens=max_new_tokens, do_sample=False)[0]
    with_prompt = generate_text(model, tokenizer, prompt, max_new_tokens=max_new_tokens, do_sample=False,
                                return_full_text=True)[0]
    text = pipeline_text(answer)
    correct = text is not None and text.strip() == expected.strip()
    if correct:
        hint = ""
    elif text is None:
        hint = MESSAGES("pipeline_format")
    elif text.strip() == with_prompt.strip() or text.startswith(prompt):
        hint = MESSAGES("pipeline_prompt")
    else:
        hint = MESSAGES("pipeline_settings", max_new_tokens=max_new_tokens)
    return report(correct, MESSAGES("pipeline_praise"), hint)


def check_greedy_loop(answer, model, tokenizer, prompt: str, steps: int) -> Verdict:
    """Exercise 4: token ids from your own greedy loop, at most `steps` tokens after `prompt`.

    Args:
        answer: LongTensor of shape (1, t + n) or (t + n,), n <= steps: the prompt's ids
            followed by the tokens your loop appended (stopping after an EOS token).
        model, tokenizer: the notebook's model.
        prompt: the prompt of the exercise.
        steps: the most tokens the loop may add.
    Returns:
        a Verdict, truthy if the ids equal `model.generate(..., max_new_tokens=steps, do_sample=False)`.
    """
    expected, prompt_ids = generate_ids(model, tokenizer, prompt, max_new_tokens=steps, do_sample=False)
    expected = expected[0].cpu()
    prompt_length = prompt_ids.shape[1]
    if not isinstance(answer, torch.Tensor):
        return report(False, "", MESSAGES("loop_not_tensor"))
    answer = answer.detach().cpu().reshape(-1)
    correct = torch.equal(answer, expected)
    if correct:
        hint = ""
    elif answer.shape[0] < prompt_length:
        hint = MESSAGES("loop_prompt_missing")
    elif answer.shape[0] == prompt_length:
        hint = MESSAGES("loop_only_prompt")
    elif answer.shape[0] > expected.shape[0] and torch.equal(answer[: expected.shape[0]], expected):
        hint = MESSAGES("loop_past_eos")
    elif answer.shape[0] < expected.shape[0]:
        hint = MESSAGES("loop_too_short", added=answer.shape[0] - prompt_length,
                        expected_added=expected.shape[0] - prompt_length, steps=steps)
    elif answer.shape[0] > prompt_length + steps:
        hint = MESSAGES("loop_too_long", steps=steps)
    elif not torch.equal(answer[:prompt_length], expected[:prompt_length]):
        hint = MESSAGES("loop_prompt_ids")
    else:
        hint = MESSAGES("loop_wrong_token")
    return report(correct, MESSAGES("loop_praise", text=tokenizer.decode(expected[prompt_length:])), hint)


# Every praise and hint these checks print, in English and German (see companion.language).
# The checks look them up when they run, which is why the catalogue can stand after them.
MESSAGES = Messages(__name__, {
    # Exercise 1: check_logits_shape
    "shape_praise": {
        "en": "The logits have shape {shape}: one score for each of the "
              "{vocabulary:,} vocabulary entries at each of the {positions} positions.",
        # German: no "," grouping (it would read as a decimal comma).
        "de": "Die Logits haben die Form {shape}: je ein Score für jeden der {vocabulary} Einträge "
              "des Vokabulars, an jeder der {positions} Positionen.",
    },
    "shape_format": {
        "en": "write the shape as a tuple of three whole numbers: (batch, length, vocabulary).",
        "de": "Schreiben Sie die Form als Tupel aus drei ganzen Zahlen: (Batch, Länge, Vokabular).",
    },
    "shape_axes": {
        "en": "the logits have three axes: one for the prompts, one for the positions, one for the vocabulary.",
        "de": "Die Logits haben drei Achsen: eine für die Prompts, eine für die Positionen, eine für das Vokabular.",
    },
    "shape_batch": {
        "en": "the first axis counts the prompts in the batch; how many prompts does the tokenizer get here?",
        "de": "Die erste Achse zählt die Prompts im Batch. Wie viele Prompts bekommt der Tokenizer hier?",
    },
    "shape_length": {
        "en": "the second axis has one entry per token the model reads. Count the tokens the tokenizer "
              "makes of this prompt, including any special token it adds at the start.",
        "de": "Die zweite Achse hat einen Eintrag pro Token, den das Modell liest. Zählen Sie die Tokens, "
              "die der Tokenizer aus diesem Prompt macht, einschließlich eines Spezial-Tokens, den er "
              "gegebenenfalls an den Anfang setzt.",
    },
    "shape_vocabulary": {
        "en": "the last axis has one score for every entry of the vocabulary: look at the model's config.",
        "de": "Die letzte Achse hat einen Score für jeden Eintrag des Vokabulars: Sehen Sie in der "
              "Konfiguration (config) des Modells nach.",
    },
    # Exercise 2: check_most_likely_token
    "token_praise": {
        "en": "The most likely next token is {token!r} (id {token_id}), "
              "with probability {probability:.1%}.",
        "de": "Der wahrscheinlichste nächste Token ist {token!r} (ID {token_id}), "
              "mit einer Wahrscheinlichkeit von {probability:.1%}.",
    },
    "token_missing": {
        "en": "store the id of the most likely next token in answer (an int, or its text). Run the model "
              "on the tokenized prompt; the scores for the token after the prompt sit at one particular "
              "position of the logits. Which one holds the largest score?",
        "de": "Speichern Sie die ID des wahrscheinlichsten nächsten Tokens in answer (als int oder als "
              "Text). Lassen Sie das Modell auf dem tokenisierten Prompt laufen. Die Scores für den Token "
              "nach dem Prompt stehen an einer bestimmten Position der Logits. Welcher Eintrag dort hat den "
              "größten Score?",
    },
    "token_format": {
        "en": "give one token: its id as an int or a one-element tensor, or its text.",
        "de": "Geben Sie genau einen Token an: seine ID als int oder als Tensor mit einem Element, "
              "oder seinen Text.",
    },
    "token_first_position": {
        "en": "you read the scores at the first position: they predict the second token of the "
              "prompt. The prediction for the token after the prompt sits at the other end.",
        "de": "Sie haben die Scores an der ersten Position gelesen: Sie sagen den zweiten Token des "
              "Prompts voraus. Die Vorhersage für den Token nach dem Prompt steht am anderen Ende.",
    },
    "token_position": {
        "en": "the logits have shape (batch, length, vocabulary): pick the prompt, then the "
              "position that predicts the next token, then the vocabulary entry with the largest score.",
        "de": "Die Logits haben die Form (Batch, Länge, Vokabular): Wählen Sie zuerst den Prompt, "
              "dann die Position, die den nächsten Token vorhersagt, und dann den Eintrag des Vokabulars "
              "mit dem größten Score.",
    },
    # Exercise 3: check_pipeline_new_text
    "pipeline_praise": {
        "en": "The pipeline returned only the new text, the same as slicing generate()'s "
              "output after the prompt.",
        "de": "Die Pipeline hat nur den neuen Text zurückgegeben, genau das, was übrig bleibt, wenn man "
              "den Prompt vorn von der Ausgabe von generate() abschneidet.",
    },
    "pipeline_format": {
        "en": "hand in what the pipeline returned (the list), or the text inside it.",
        "de": "Geben Sie ab, was die Pipeline zurückgegeben hat (die Liste), oder den Text darin.",
    },
    "pipeline_prompt": {
        "en": "the prompt is still there. The text-generation pipeline returns the full text by default; "
              "one of its settings controls whether the prompt is part of the answer "
              "(help(generator) lists them).",
        "de": "Der Prompt steht noch im Text. Die text-generation-Pipeline gibt standardmäßig den "
              "vollständigen Text zurück; eine ihrer Einstellungen legt fest, ob der Prompt Teil der "
              "Antwort ist (help(generator) listet sie auf).",
    },
    "pipeline_settings": {
        "en": "ask for greedy decoding and at most {max_new_tokens} new tokens, as in the "
              "generate() calls of this notebook.",
        "de": "Verlangen Sie Greedy Decoding und höchstens {max_new_tokens} neue Tokens, wie bei den "
              "Aufrufen von generate() in diesem Notebook.",
    },
    # Exercise 4: check_greedy_loop
    "loop_praise": {
        "en": "Your loop reproduces generate() token for token: {text!r}.",
        "de": "Ihre Schleife liefert Token für Token dasselbe wie generate(): {text!r}.",
    },
    "loop_not_tensor": {
        "en": "build the ids as a tensor: start from the prompt's input_ids and "
              "append one new token id per step.",
        "de": "Bauen Sie die IDs als Tensor auf: Beginnen Sie mit den input_ids des Prompts und "
              "hängen Sie in jedem Schritt eine neue Token-ID an.",
    },
    "loop_prompt_missing": {
        "en": "the ids should start with the prompt's own ids (the tokenizer's input_ids), then the new ones.",
        "de": "Die IDs sollten mit den IDs des Prompts selbst beginnen (den input_ids des Tokenizers), "
              "danach folgen die neuen.",
    },
    "loop_only_prompt": {
        "en": "the ids are still just the prompt: append the chosen token to the ids at every step.",
        "de": "Die IDs sind noch immer nur der Prompt: Hängen Sie in jedem Schritt den gewählten Token "
              "an die IDs an.",
    },
    "loop_past_eos": {
        "en": "your loop went on after the model's end-of-sequence token; generate() stops there. "
              "Leave the loop once the picked token is an EOS token.",
        "de": "Ihre Schleife lief nach dem End-of-Sequence-Token des Modells weiter; generate() hört "
              "dort auf. Verlassen Sie die Schleife, sobald der gewählte Token ein EOS-Token ist.",
    },
    "loop_too_short": {
        "en": "your loop added {added} tokens; generate() added "
              "{expected_added}. Let it run for up to {steps} steps.",
        "de": "Ihre Schleife hat {added} Tokens angehängt, generate() dagegen {expected_added}. "
              "Lassen Sie sie bis zu {steps} Schritte laufen.",
    },
    "loop_too_long": {
        "en": "your ids are longer than the prompt plus at most {steps} new tokens; start from the "
              "prompt's ids and run at most that many steps.",
        "de": "Ihre IDs sind länger als der Prompt plus höchstens {steps} neue Tokens. Beginnen Sie "
              "mit den IDs des Prompts und führen Sie höchstens so viele Schritte aus.",
    },
    "loop_prompt_ids": {
        "en": "the first ids should be the prompt's own: start from the tokenizer's input_ids.",
        "de": "Die ersten IDs sollten die des Prompts sein: Beginnen Sie mit den input_ids des Tokenizers.",
    },
    "loop_wrong_token": {
        "en": "at every step pick the most likely token at the position that predicts the next one, "
              "and feed the whole longer sequence back in.",
        "de": "Wählen Sie in jedem Schritt den wahrscheinlichsten Token an der Position, die den nächsten "
              "vorhersagt, und geben Sie die ganze, um ihn verlängerte Sequenz erneut in das Modell.",
    },
})
