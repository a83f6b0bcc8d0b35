"""Checks for the exercises of notebook 04, wrong padding side (`notebooks/src/04_padding_side.py`).

Each check computes the right answer itself from the tokenizer or model in use, so the
exercises work with any MODEL; it prints "Correct! ..." or "Not yet. Hint: ..." (see
`companion.exercises.report`) and never raises on a wrong answer. Hints name the idea to
look at, not the code of the answer. All texts come from MESSAGES at the end of this module,
in English and German.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch

from companion.exercises import Verdict, report
from companion.exercises.answers import is_dict_like, is_list_of_strings
from companion.generation import generate_text
from companion.language import Messages


def check_batch_ready_for_generation(answer) -> Verdict:
    """Exercise 1: a tokenized batch of prompts of different lengths that `generate()` can continue.

    Args:
        answer: what `tokenizer(prompts, padding=True, return_tensors="pt")` returned: a
            dict-like with "input_ids" and "attention_mask", LongTensors of shape (b, t), b >= 2.
    Returns:
        a Verdict, truthy when every row ends in a real token (padding on the left) and
        some row is padded.
    Used in notebook 04.
    """
    if not is_dict_like(answer):
        return report(False, "", MESSAGES("batch_missing"))
    if "attention_mask" not in answer or "input_ids" not in answer:
        return report(False, "", MESSAGES("batch_needs_mask"))
    attention_mask = answer["attention_mask"]
    if not isinstance(attention_mask, torch.Tensor) or attention_mask.dim() != 2:
        return report(False, "", MESSAGES("batch_tensors"))
    if attention_mask.shape[0] < 2 or bool(attention_mask.all()):
        return report(False, "", MESSAGES("batch_unpadded"))
    if bool((attention_mask[:, -1] == 0).any()):
        return report(False, "", MESSAGES("batch_right_padded"))
    return report(True, MESSAGES("batch_praise"), "")


def check_position_ids(attention_mask: torch.Tensor, answer) -> Verdict:
    """Exercise 2: the positions of the real tokens of a padded batch, from its attention mask.

    Args:
        attention_mask: LongTensor of shape (b, t); 1 = real token, 0 = padding (either side).
        answer: a tensor of shape (b, t): 0, 1, 2, ... along each row's real tokens.
    Returns:
        a Verdict, truthy when every real token has the right position. Padded positions may
        hold any value: the attention mask hides them, and transformers versions have filled
        them with different numbers (1 in Llama's generation code of 4.x, 0 in 5.24).
    Used in notebook 04.
    """
    if not isinstance(attention_mask, torch.Tensor) or attention_mask.dim() != 2:
        return report(False, "", MESSAGES("positions_mask_argument"))
    if not isinstance(answer, torch.Tensor):
        return report(False, "", MESSAGES("positions_tensor"))
    if answer.shape != attention_mask.shape:
        return report(False, "", MESSAGES("positions_shape", expected=tuple(attention_mask.shape),
                                          got=tuple(answer.shape)))
    real = attention_mask == 1
    expected = attention_mask.long().cumsum(dim=-1) - 1
    answer = answer.long().to(attention_mask.device)
    if torch.equal(answer[real], expected[real]):
        return report(True, MESSAGES("positions_praise"), "")
    columns = torch.arange(attention_mask.shape[1], device=attention_mask.device).expand_as(attention_mask)
    if torch.equal(answer[real], columns[real]):
        return report(False, "", MESSAGES("positions_columns"))
    if torch.equal(answer[real], expected[real] + 1):
        return report(False, "", MESSAGES("positions_off_by_one"))
    return report(False, "", MESSAGES("positions_running_sum"))


def check_batch_continuations(model, tokenizer, prompts: Sequence[str], answer, max_new_tokens: int) -> Verdict:
    """Exercise 3: the new text of a batch generated correctly (left padding, attention mask passed).

    Args:
        model, tokenizer: the notebook's model and tokenizer.
        prompts: the b prompts of the exercise (of different lengths).
        answer: a list of b strings, the greedily generated new text of each prompt
            (prompt and special tokens left out).
        max_new_tokens: the limit the exercise uses.
    Returns:
        a Verdict, truthy when `answer` equals what `companion.generate_text` gives
        (greedy, left-padded batch, attention mask passed).
    Used in notebook 04.
    """
    expected = generate_text(model, tokenizer, list(prompts), max_new_tokens=max_new_tokens, do_sample=False)
    if answer == expected:
        return report(True, MESSAGES("continuations_praise"), "")
    if not isinstance(answer, (list, tuple)):
        return report(False, "", MESSAGES("continuations_list", count=len(expected)))
    if len(answer) != len(expected) or not is_list_of_strings(answer):
        return report(False, "", MESSAGES("continuations_every_row", count=len(expected)))
    if all(text.startswith(prompt) for text, prompt in zip(answer, prompts, strict=True)):
        return report(False, "", MESSAGES("continuations_prompt_included"))
    wrong_rows = [row for row in range(len(expected)) if answer[row] != expected[row]]
    return report(False, "", MESSAGES("continuations_wrong_rows", rows=wrong_rows))


# Every praise and hint these checks print, in English and German (see companion.language).
# The checks look them up when they run, which is why the catalogue can stand after them.
MESSAGES = Messages(__name__, {
    "batch_missing": {
        "en": "Store what the tokenizer returns for the whole batch in `answer`.",
        "de": "Speichern Sie in `answer`, was der Tokenizer für den ganzen Batch zurückgibt.",
    },
    "batch_needs_mask": {
        "en": "The batch needs both input_ids and attention_mask: call the tokenizer itself, not tokenizer.encode.",
        "de": "Der Batch braucht sowohl input_ids als auch attention_mask: Rufen Sie den Tokenizer selbst auf, "
              "nicht tokenizer.encode.",
    },
    "batch_tensors": {
        "en": "Ask the tokenizer for PyTorch tensors so that the batch has shape (rows, length).",
        "de": "Lassen Sie sich vom Tokenizer PyTorch-Tensoren geben, damit der Batch die Form (Zeilen, Länge) hat.",
    },
    "batch_unpadded": {
        "en": "Tokenize all the prompts together with padding: they have different lengths, so a row gets padding.",
        "de": "Tokenisieren Sie alle Prompts gemeinsam und mit Padding: Die Prompts sind unterschiedlich lang, "
              "deshalb bekommt eine Zeile Padding.",
    },
    "batch_right_padded": {
        "en": "A short row ends in padding (a 0 in the last column of the attention mask). "
              "Which tokenizer attribute decides where padding goes?",
        "de": "Eine kurze Zeile endet mit Padding (eine 0 in der letzten Spalte der Attention Mask). "
              "Welches Attribut des Tokenizers legt fest, auf welcher Seite das Padding landet?",
    },
    "batch_praise": {
        "en": "Every row ends in its prompt's last token, so the model continues each prompt, not the padding.",
        "de": "Jede Zeile endet mit dem letzten Token ihres Prompts, also setzt das Modell jeden Prompt fort "
              "und nicht das Padding.",
    },
    "positions_mask_argument": {
        "en": "Pass the batch's attention mask (a tensor of shape (rows, length)) as the first argument.",
        "de": "Übergeben Sie als erstes Argument die Attention Mask des Batches "
              "(einen Tensor der Form (Zeilen, Länge)).",
    },
    "positions_tensor": {
        "en": "Compute a tensor from the attention mask, with one position per token.",
        "de": "Berechnen Sie aus der Attention Mask einen Tensor mit einer Position pro Token.",
    },
    "positions_shape": {
        "en": "The answer needs one position per token: shape {expected}, got {got}.",
        "de": "Die Antwort braucht eine Position pro Token, also die Form {expected}; sie hat aber die Form {got}.",
    },
    "positions_praise": {
        "en": "Each prompt counts from 0 at its first real token, however much padding sits before it, "
              "exactly as if it were alone; what padding holds does not matter, the mask hides it.",
        "de": "Jeder Prompt zählt ab 0 bei seinem ersten echten Token, ganz gleich, wie viel Padding davor steht, "
              "genau so, als stünde er allein; was im Padding steht, spielt keine Rolle, die Maske blendet es aus.",
    },
    "positions_columns": {
        "en": "Those are column numbers: they count the padding too. Count only the real tokens (the 1s of the mask).",
        "de": "Das sind Spaltennummern, die das Padding mitzählen. "
              "Zählen Sie nur die echten Tokens (die Einsen der Maske).",
    },
    "positions_off_by_one": {
        "en": "Almost: the first real token of a row has position 0, not 1.",
        "de": "Fast: Der erste echte Token einer Zeile hat die Position 0, nicht 1.",
    },
    "positions_running_sum": {
        "en": "Count the real tokens of each row from left to right, starting at 0 (a running sum of the mask helps).",
        "de": "Zählen Sie die echten Tokens jeder Zeile von links nach rechts, beginnend bei 0 "
              "(eine laufende Summe über die Maske hilft).",
    },
    "continuations_praise": {
        "en": "Every row continues its own prompt: the padding sits where the model does not read "
              "from, and the attention mask tells it which tokens are padding.",
        "de": "Jede Zeile setzt ihren eigenen Prompt fort: Das Padding steht dort, wo das Modell nicht weiterschreibt, "
              "und die Attention Mask sagt ihm, welche Tokens Padding sind.",
    },
    "continuations_list": {
        "en": "Store a list of {count} strings, one new text per prompt, in `answer`.",
        "de": "Speichern Sie in `answer` eine Liste aus {count} Strings, einen neuen Text pro Prompt.",
    },
    "continuations_every_row": {
        "en": "Decode every row of the output: `answer` needs {count} strings, one per prompt.",
        "de": "Dekodieren Sie jede Zeile der Ausgabe: `answer` braucht {count} Strings, einen pro Prompt.",
    },
    "continuations_prompt_included": {
        "en": "Keep only the new text of each row: the output of generate() starts with the prompt.",
        "de": "Behalten Sie von jeder Zeile nur den neuen Text: Die Ausgabe von generate() beginnt mit dem Prompt.",
    },
    "continuations_wrong_rows": {
        "en": "Row(s) {rows} do not continue their prompt. Two things break a padded row: where the "
              "padding sits, and whether generate() is told which tokens are padding. Fix both.",
        "de": "Zeile(n) {rows} setzen ihren Prompt nicht fort. Zwei Dinge verderben eine aufgefüllte Zeile: "
              "wo das Padding steht und ob generate() erfährt, welche Tokens Padding sind. Beheben Sie beides.",
    },
})
