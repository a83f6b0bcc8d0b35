"""Checks for the exercises of notebook 03, wrong generation mode (`notebooks/src/03_generation_mode.py`).

Each check prints "Correct!" or a hint (see `companion.exercises.report`); those that depend on
the model compute the right answer from the model in use. The texts come from MESSAGES at the
end of this module, in the notebook's language.
"""

from __future__ import annotations

import torch

from companion.exercises import Verdict, report
from companion.exercises.answers import is_number, is_whole_number, tensor_as_int
from companion.generation import generate_ids
from companion.language import Messages
from companion.sampling import count_candidates, sampling_distribution

# Which decoding suits which task: tasks grounded in their input want the most likely
# output (greedy), open-ended creative ones want variety (sampling).
DECODING_FOR_TASK = {
    "translate a sentence into German": "greedy",
    "transcribe a voice recording": "greedy",
    "extract the date from an email": "greedy",
    "write a bedtime story": "sampling",
    "suggest names for a new cafe": "sampling",
}


def check_decoding_modes(answer) -> Verdict:
    """Exercise 1: "greedy" or "sampling" for each task in `DECODING_FOR_TASK`.

    Args:
        answer: dict task -> "greedy" or "sampling" (the notebook gives the keys).
    Returns:
        a Verdict, truthy if every task has the suitable mode.
    """
    if not isinstance(answer, dict):
        return report(False, "", MESSAGES("modes_fill_in"))
    missing = [task for task in DECODING_FOR_TASK if answer.get(task) not in ("greedy", "sampling")]
    wrong = [task for task in DECODING_FOR_TASK if task not in missing and answer[task] != DECODING_FOR_TASK[task]]
    if missing:
        hint = MESSAGES("modes_missing", tasks=", ".join(missing))
    else:
        hint = MESSAGES("modes_rethink", tasks=", ".join(wrong))
    return report(not missing and not wrong, MESSAGES("modes_praise"), hint)


def check_tokens_left(answer, model, tokenizer, prompt: str, top_p: float) -> Verdict:
    """Exercise 4: how many tokens `model.generate(do_sample=True, top_p=top_p)` can still draw after `prompt`.

    Args:
        answer: an int.
        model, tokenizer: the notebook's model; the right count is computed from the logits
            processors generate() builds for it, its default top_k included.
        prompt, top_p: those of the exercise.
    Returns:
        a Verdict, truthy if `answer` equals the number of tokens left.
    """
    if answer is None:
        return report(False, "", MESSAGES("top_p_store"))
    expected = count_candidates(sampling_distribution(model, tokenizer, prompt, top_p=top_p))
    without_top_k = count_candidates(sampling_distribution(model, tokenizer, prompt, top_p=top_p, top_k=None))
    answer = tensor_as_int(answer)
    correct = is_whole_number(answer) and answer == expected  # a count: 12.0 gets the hint, as in notebook 02
    if not is_whole_number(answer):
        hint = MESSAGES("top_p_store")
    elif answer == without_top_k and without_top_k != expected:
        hint = MESSAGES("top_p_default_top_k")
    elif answer == expected - 1:
        hint = MESSAGES("top_p_include_last")
    else:
        hint = MESSAGES("top_p_running_total")
    return report(correct, MESSAGES("top_p_praise", top_p=top_p, expected=expected), hint)


# ---------------------------------------------------------------- which calls decode greedily?

# Exercise "predict, then run": calls of generate() on the same prompt after set_seed(SEED);
# which of them give exactly the greedy text? Label -> the keyword arguments of the call.
CALLS_TO_PREDICT = {
    "temperature=1.5": {"temperature": 1.5},
    "do_sample=True, temperature=1.5": {"do_sample": True, "temperature": 1.5},
    "do_sample=True, top_k=1": {"do_sample": True, "top_k": 1},
    "top_k=5, top_p=0.5": {"top_k": 5, "top_p": 0.5},
    "do_sample=False, repetition_penalty=1.3": {"do_sample": False, "repetition_penalty": 1.3},
}

# The flags that only the sampling warpers read.
SAMPLING_ONLY_FLAGS = ("temperature", "top_k", "top_p", "min_p", "typical_p", "epsilon_cutoff", "eta_cutoff")


def effective_settings(options: dict) -> dict:
    """The settings `generate()` actually uses: without do_sample=True, the sampling flags are dropped.

    In transformers 5.24, `GenerationMixin._get_logits_processor` adds the temperature, top-k,
    top-p and min-p warpers only when `do_sample` is True, so in greedy mode these flags change
    nothing. Leaving them out here also keeps the library's "flags are not valid" warning out
    of the learner's check cell (it is logged only once per session and belongs to the
    notebook's own demonstration). tests/test_exercises_01_03.py checks this against the
    real calls.
    """
    if options.get("do_sample") is True:
        return dict(options)
    return {name: value for name, value in options.items() if name not in SAMPLING_ONLY_FLAGS}


def same_as_greedy(model, tokenizer, prompt: str, options: dict, max_new_tokens: int, seed: int,
                   greedy: torch.Tensor | None = None) -> bool:
    """True if `generate(**options)` after set_seed(seed) returns exactly the greedy token ids.

    `greedy` (LongTensor (1, t + n)) is the greedy result if the caller has it already.
    """
    from transformers import set_seed

    if greedy is None:
        greedy, _ = generate_ids(model, tokenizer, prompt, max_new_tokens=max_new_tokens, do_sample=False)
    settings = effective_settings(options)
    do_sample = settings.pop("do_sample", False)
    set_seed(seed)
    other, _ = generate_ids(model, tokenizer, prompt, max_new_tokens=max_new_tokens, do_sample=do_sample, **settings)
    return torch.equal(greedy, other)


def check_greedy_predictions(answer, model, tokenizer, prompt: str, max_new_tokens: int, seed: int) -> Verdict:
    """Exercise "predict, then run": which calls in `CALLS_TO_PREDICT` give exactly the greedy text?

    Args:
        answer: dict label -> True (same token ids as greedy decoding) or False.
        model, tokenizer: the notebook's model; the right answers are computed from it.
        prompt, max_new_tokens, seed: the calls' prompt, length, and the seed set before each.
    Returns:
        a Verdict, truthy if every prediction matches what the calls really return.
    Used in notebook 03.
    """
    if not isinstance(answer, dict):
        return report(False, "", MESSAGES("predictions_fill_in"))
    missing = [label for label in CALLS_TO_PREDICT if not isinstance(answer.get(label), bool)]
    if missing:
        return report(False, "", MESSAGES("predictions_missing", labels=", ".join(missing)))
    greedy, _ = generate_ids(model, tokenizer, prompt, max_new_tokens=max_new_tokens, do_sample=False)
    truth = {
        label: same_as_greedy(model, tokenizer, prompt, options, max_new_tokens, seed, greedy)
        for label, options in CALLS_TO_PREDICT.items()
    }
    wrong = [label for label in CALLS_TO_PREDICT if answer[label] != truth[label]]
    hint = MESSAGES("predictions_rethink", labels="; ".join(wrong))
    return report(not wrong, MESSAGES("predictions_praise"), hint)


# ---------------------------------------------------------------- fix a broken sampling call

# The settings of the broken call in notebook 03's exercise (it forgets do_sample=True).
BROKEN_CALL_SETTINGS = {"temperature": 1.2, "top_p": 0.95}


def check_fixed_sampling(answer, model, tokenizer, prompt: str, max_new_tokens: int, seed: int) -> Verdict:
    """Exercise "fix a broken call": the token ids of the repaired call, drawn right after set_seed(seed).

    Args:
        answer: LongTensor of shape (1, t + n), what `model.generate()` returned.
        model, tokenizer: the notebook's model; the expected sample is drawn from it.
        prompt, max_new_tokens, seed: those of the exercise.
    Returns:
        a Verdict, truthy if `answer` is the sample that `BROKEN_CALL_SETTINGS` with sampling
        switched on gives after set_seed(seed).
    Used in notebook 03.
    """
    from transformers import set_seed

    greedy, prompt_ids = generate_ids(model, tokenizer, prompt, max_new_tokens=max_new_tokens, do_sample=False)
    prompt_length = prompt_ids.shape[1]
    set_seed(seed)
    expected, _ = generate_ids(
        model, tokenizer, prompt, max_new_tokens=max_new_tokens, do_sample=True, **BROKEN_CALL_SETTINGS
    )
    praise = MESSAGES("fixed_praise")
    if not isinstance(answer, torch.Tensor) or answer.dim() != 2:
        return report(False, praise, MESSAGES("fixed_token_ids"))
    answer = answer.to(expected.device)
    if torch.equal(answer, expected):
        return report(True, praise, "")
    if torch.equal(answer, greedy):
        return report(False, praise, MESSAGES("fixed_still_greedy"))
    if answer.shape[1] < prompt_length or not torch.equal(answer[:, :prompt_length], prompt_ids.to(answer.device)):
        return report(False, praise, MESSAGES("fixed_prompt"))
    return report(False, praise, MESSAGES("fixed_other_sample"))


# ---------------------------------------------------------------- break the greedy loop

PENALTIES_TO_TRY = [round(1.0 + step / 10, 1) for step in range(11)]  # 1.0, 1.1, ..., 2.0


def sentences(text: str) -> list[str]:
    """The sentences of a text: pieces ending in '.', '!' or '?', or at a line break, stripped."""
    pieces = []
    current = ""
    for character in text:
        current += character
        if character in ".!?\n":
            if current.strip():
                pieces.append(current.strip())
            current = ""
    if current.strip():
        pieces.append(current.strip())
    return pieces


def repeats_a_sentence(text: str) -> bool:
    """True if some sentence of `text` appears twice (the greedy loop "I am a cat. I am a cat.")."""
    seen = set()
    for sentence in sentences(text):
        if sentence in seen:
            return True
        seen.add(sentence)
    return False


def smallest_loop_breaking_penalty(model, tokenizer, prompt: str, max_new_tokens: int) -> float | None:
    """The smallest repetition_penalty in 1.0, 1.1, ..., 2.0 whose greedy text repeats no sentence.

    The text checked is the prompt plus its continuation, decoded without special tokens;
    None if no penalty up to 2.0 breaks the loop.
    """
    for penalty in PENALTIES_TO_TRY:
        sequences, _ = generate_ids(
            model, tokenizer, prompt, max_new_tokens=max_new_tokens, do_sample=False, repetition_penalty=penalty
        )
        if not repeats_a_sentence(tokenizer.batch_decode(sequences, skip_special_tokens=True)[0]):
            return penalty
    return None


def check_loop_breaking_penalty(answer, model, tokenizer, prompt: str, max_new_tokens: int) -> Verdict:
    """Exercise "reach a goal": the smallest repetition_penalty (steps of 0.1) that ends the greedy loop.

    Args:
        answer: a number, e.g. 1.4, or the string "none" when no penalty up to 2.0 works
            (None is the untouched placeholder and never an answer).
        model, tokenizer: the notebook's model; the right penalty is computed from it.
        prompt, max_new_tokens: those of the exercise (greedy decoding).
    Returns:
        a Verdict, truthy if `answer` is the smallest penalty in 1.0, 1.1, ..., 2.0 whose
        text (prompt included) repeats no sentence ("none" if there is none).
    Used in notebook 03.
    """
    if answer is None:
        return report(False, "", MESSAGES("penalty_number"))
    expected = smallest_loop_breaking_penalty(model, tokenizer, prompt, max_new_tokens)
    said_none = isinstance(answer, str) and answer.strip().lower() == "none"
    if expected is None:
        hint = MESSAGES("penalty_too_weak", answer=answer) if is_number(answer) else MESSAGES("penalty_number")
        return report(said_none, MESSAGES("penalty_none_praise"), hint)
    praise = MESSAGES("penalty_praise", expected=expected)
    if said_none:
        return report(False, praise, MESSAGES("penalty_none_wrong"))
    if not is_number(answer):  # also refuses True/False, nan and inf
        return report(False, praise, MESSAGES("penalty_number"))
    answer = round(float(answer), 1)
    if answer == expected:
        return report(True, praise, "")
    if answer < 1.0:
        return report(False, praise, MESSAGES("penalty_below_one"))
    if answer < expected:
        return report(False, praise, MESSAGES("penalty_too_weak", answer=answer))
    return report(False, praise, MESSAGES("penalty_smaller_works", answer=answer))


# Every praise and hint these checks print, in English and German (see companion.language).
# The checks look them up when they run, which is why the catalogue can stand after them.
MESSAGES = Messages(__name__, {
    # check_decoding_modes
    "modes_fill_in": {
        "en": "fill in the dictionary: each task gets \"greedy\" or \"sampling\".",
        "de": "Füllen Sie das Dict aus: Jede Aufgabe bekommt \"greedy\" oder \"sampling\".",
    },
    "modes_missing": {
        "en": "give \"greedy\" or \"sampling\" for: {tasks}.",
        "de": "Tragen Sie \"greedy\" oder \"sampling\" ein für: {tasks}.",
    },
    "modes_rethink": {
        "en": "think again about: {tasks}. Is there one right output fixed by the input "
              "(greedy), or do you want variety (sampling)?",
        "de": "Überlegen Sie noch einmal bei: {tasks}. Legt die Eingabe genau eine richtige Ausgabe fest "
              "(greedy), oder ist Abwechslung erwünscht (sampling)?",
    },
    "modes_praise": {
        "en": "Input-grounded tasks (translation, transcription, extraction) want the most likely "
              "output; creative ones benefit from sampling.",
        "de": "Aufgaben, deren Ergebnis in der Eingabe steckt (Übersetzung, Transkription, Extraktion), "
              "brauchen die wahrscheinlichste Ausgabe; kreative Aufgaben profitieren vom Sampling.",
    },
    # check_tokens_left
    "top_p_store": {
        "en": "store one whole number in answer: how many tokens generate() can still draw, e.g. answer = 12.",
        "de": "Speichern Sie eine ganze Zahl in answer: wie viele Tokens generate() noch ziehen kann, "
              "z. B. answer = 12.",
    },
    "top_p_default_top_k": {
        "en": "that is what top_p alone keeps. Which filter does generate(do_sample=True) apply before "
              "top_p when the call does not set it?",
        "de": "So viele lässt top_p allein übrig. Welchen Filter wendet generate(do_sample=True) vor top_p "
              "an, wenn der Aufruf ihn nicht festlegt?",
    },
    "top_p_include_last": {
        "en": "include the token that makes the running total reach top_p: it is kept too.",
        "de": "Zählen Sie auch den Token mit, durch den die laufende Summe top_p erreicht: "
              "Er bleibt ebenfalls übrig.",
    },
    "top_p_running_total": {
        "en": "sort the probabilities of the tokens still in play from high to low, add them up one by "
              "one, and count how many tokens you need until the running total reaches top_p.",
        "de": "Sortieren Sie die Wahrscheinlichkeiten der Tokens, die noch im Spiel sind, absteigend, "
              "addieren Sie sie nacheinander auf und zählen Sie, wie viele Tokens Sie brauchen, bis die "
              "laufende Summe top_p erreicht.",
    },
    "top_p_praise": {
        "en": "After the default top_k, top_p={top_p} keeps {expected} tokens here; the rest can no longer "
              "be drawn.",
        "de": "Nach dem voreingestellten top_k lässt top_p={top_p} hier {expected} Tokens übrig; alle anderen "
              "können nicht mehr gezogen werden.",
    },
    # check_greedy_predictions
    "predictions_fill_in": {
        "en": "fill in the dictionary: each call gets True (greedy text) or False.",
        "de": "Füllen Sie das Dict aus: Jeder Aufruf bekommt True (Greedy-Text) oder False.",
    },
    "predictions_missing": {
        "en": "give True or False for: {labels}.",
        "de": "Tragen Sie True oder False ein für: {labels}.",
    },
    "predictions_rethink": {
        "en": "think again about: {labels}. Which mode is generate() in without do_sample=True, "
              "and which settings act in that mode too? Then run the calls and compare.",
        "de": "Überlegen Sie noch einmal bei: {labels}. In welchem Modus arbeitet generate() ohne "
              "do_sample=True, und welche Einstellungen wirken auch in diesem Modus? Führen Sie danach "
              "die Aufrufe aus und vergleichen Sie.",
    },
    "predictions_praise": {
        "en": "Sampling flags count only with do_sample=True (top_k=1 makes sampling greedy again); "
              "repetition controls change greedy decoding too.",
        "de": "Sampling-Flags zählen nur mit do_sample=True (top_k=1 macht das Sampling wieder greedy); "
              "Einstellungen gegen Wiederholungen verändern auch das Greedy Decoding.",
    },
    # check_fixed_sampling
    "fixed_praise": {
        "en": "With do_sample=True the temperature and top_p settings take effect, and set_seed makes "
              "the draw repeatable.",
        "de": "Mit do_sample=True wirken die Einstellungen temperature und top_p, und set_seed macht "
              "die Ziehung wiederholbar.",
    },
    "fixed_token_ids": {
        "en": "store the token ids that the generation call returns (a 2-D tensor), "
              "not the decoded text.",
        "de": "Speichern Sie die Token-IDs, die der Generierungsaufruf zurückgibt (einen 2-D-Tensor), "
              "nicht den dekodierten Text.",
    },
    "fixed_still_greedy": {
        "en": "this is still the greedy text: temperature and top_p are ignored until "
              "generate() is switched from greedy decoding to sampling.",
        "de": "Das ist noch immer der Greedy-Text: temperature und top_p werden ignoriert, solange "
              "generate() nicht vom Greedy Decoding auf Sampling umgestellt ist.",
    },
    "fixed_prompt": {
        "en": "start from the exercise's prompt and keep max_new_tokens as it is.",
        "de": "Gehen Sie vom Prompt der Übung aus und lassen Sie max_new_tokens unverändert.",
    },
    "fixed_other_sample": {
        "en": "a sample, but not the one the check expects: set the seed right before "
              "the call and keep temperature and top_p as they are.",
        "de": "Ein Sample, aber nicht das erwartete: Setzen Sie den Seed unmittelbar vor dem "
              "Aufruf und lassen Sie temperature und top_p unverändert.",
    },
    # check_loop_breaking_penalty
    "penalty_none_praise": {
        "en": "No penalty up to 2.0 breaks this model's loop here: try no_repeat_ngram_size instead.",
        "de": "Kein Strafwert bis 2,0 durchbricht hier die Schleife dieses Modells: Probieren Sie "
              "stattdessen no_repeat_ngram_size aus.",
    },
    "penalty_none_wrong": {
        "en": "a penalty up to 2.0 does break the loop here: try them in steps of 0.1 from 1.0 upward "
              "and store the first that works.",
        "de": "Hier durchbricht sehr wohl ein Strafwert bis 2,0 die Schleife: Probieren Sie die Werte ab "
              "repetition_penalty=1.0 in Schritten von 0,1 aufwärts und speichern Sie den ersten, der "
              "wirkt.",
    },
    "penalty_praise": {
        "en": "From repetition_penalty={expected} on, the tokens already in the text are penalised enough "
              "that the loop never starts again.",
        "de": "Ab repetition_penalty={expected} werden die Tokens, die schon im Text stehen, so stark "
              "bestraft, dass die Schleife nicht wieder beginnt.",
    },
    "penalty_number": {
        "en": "store a number in answer: the penalty, e.g. answer = 1.7 (or answer = \"none\" if no "
              "penalty up to 2.0 works).",
        "de": "Speichern Sie eine Zahl in answer: den Strafwert, z. B. answer = 1.7 (oder "
              "answer = \"none\", falls kein Strafwert bis 2,0 wirkt).",
    },
    "penalty_below_one": {
        "en": "a penalty below 1 rewards tokens that are already in the text: "
              "it makes the loop stronger.",
        "de": "Ein Strafwert unter 1 belohnt Tokens, die schon im Text stehen: "
              "Er verstärkt die Schleife.",
    },
    "penalty_too_weak": {
        "en": "at {answer} a sentence still repeats: the penalty is too weak.",
        "de": "Bei repetition_penalty={answer} wiederholt sich noch ein Satz: Der Strafwert ist zu schwach.",
    },
    "penalty_smaller_works": {
        "en": "{answer} breaks the loop, but a smaller penalty does too: "
              "try them in steps of 0.1 from 1.0 upward.",
        "de": "repetition_penalty={answer} durchbricht die Schleife, aber ein kleinerer Strafwert schafft das "
              "auch: Probieren Sie die Werte ab repetition_penalty=1.0 in Schritten von 0,1 aufwärts.",
    },
})
