"""Checks for the exercises of notebook 05, wrong prompt format (`notebooks/src/05_prompt_format.py`).

Each check computes the right answer from the tokenizer (and model) in use, so it works for
any instruct MODEL, prints "Correct! ..." or "Not yet. Hint: ..." and never raises on a
wrong answer.
Every text it prints comes from MESSAGES at the end of this module, in the notebook's language.
"""

from __future__ import annotations

from collections.abc import Sequence

from companion.chat import render_chat, require_chat_template
from companion.exercises import Verdict, report
from companion.exercises.answers import is_list_of_strings, is_whole_number
from companion.generation import generate_ids
from companion.language import Messages


def header_token_ids(tokenizer, messages: Sequence[dict]) -> list[int]:
    """The token ids that add_generation_prompt=True appends to `messages` (the assistant's header).

    Returns:
        list of ints, e.g. 4 ids for SmolLM2's "<|im_start|>assistant\\n".
    Raises the CompanionError of `require_chat_template` for a base model's tokenizer
    (the notebook's model, not the learner's answer, is wrong then).
    """
    require_chat_template(tokenizer)
    with_header = tokenizer.apply_chat_template(list(messages), add_generation_prompt=True, return_dict=True)
    without_header = tokenizer.apply_chat_template(list(messages), add_generation_prompt=False, return_dict=True)
    return list(with_header["input_ids"][len(without_header["input_ids"]):])


def check_header_token_count(tokenizer, messages: Sequence[dict], answer) -> Verdict:
    """Exercise 1 (predict, then run): how many tokens add_generation_prompt=True adds.

    Args:
        tokenizer: the instruct model's tokenizer (it has a chat template).
        messages: the chat the notebook gives, a list of {"role", "content"} dicts.
        answer: an int, the learner's prediction.
    """
    header_ids = header_token_ids(tokenizer, messages)
    expected = len(header_ids)
    header_text = tokenizer.decode(header_ids)
    if not is_whole_number(answer):
        return report(False, "", MESSAGES("header_whole_number"))
    if answer == expected:
        pieces = tokenizer.convert_ids_to_tokens(header_ids)
        return report(True, MESSAGES("header_praise", expected=expected, pieces=pieces, header_text=header_text), "")
    if answer == len(header_text) and answer != expected:
        return report(False, "", MESSAGES("header_characters"))
    if answer < expected:
        return report(False, "", MESSAGES("header_more"))
    return report(False, "", MESSAGES("header_fewer"))


def check_fixed_chat_batch(model, tokenizer, chats: Sequence[Sequence[dict]], answer, *,
                           max_new_tokens: int) -> Verdict:
    """Exercise 2 (fix a broken call): the greedy answers to a batch of chats, prompt cut off.

    Args:
        model, tokenizer: the instruct model in use and a tokenizer of it (its settings are not changed).
        chats: b chats, each a list of {"role", "content"} dicts, of different lengths.
        answer: a list of b strings, the decoded new tokens of each row (special tokens skipped).
        max_new_tokens: the limit the exercise's code uses.
    """
    if answer is None:
        return report(False, "", MESSAGES("batch_missing"))
    if isinstance(answer, str):
        return report(False, "", MESSAGES("batch_single_string"))
    if not isinstance(answer, (list, tuple)) or len(answer) != len(chats):
        return report(False, "", MESSAGES("batch_length", count=len(chats)))
    answer = list(answer)
    if not is_list_of_strings(answer):
        return report(False, "", MESSAGES("batch_not_text"))
    # Only an answer of the right shape is worth the reference run (seconds on a CPU).
    prompts = [render_chat(tokenizer, messages) for messages in chats]
    sequences, prompt_ids = generate_ids(model, tokenizer, prompts, max_new_tokens=max_new_tokens, do_sample=False)
    new_tokens = sequences[:, prompt_ids.shape[1]:]
    expected = tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
    if answer == expected:
        return report(True, MESSAGES("batch_praise"), "")
    if answer == tokenizer.batch_decode(new_tokens, skip_special_tokens=False):
        return report(False, "", MESSAGES("batch_special_tokens"))
    holds_prompt = [new in text and text != new for text, new in zip(answer, expected, strict=True)]
    if any(holds_prompt):
        return report(False, "", MESSAGES("batch_holds_prompt"))
    prompt_lengths = [len(tokenizer(prompt)["input_ids"]) for prompt in prompts]
    longest = max(prompt_lengths)
    padded_rows = [row for row, length in enumerate(prompt_lengths) if length < longest]
    wrong_rows = [row for row in range(len(expected)) if answer[row] != expected[row]]
    if wrong_rows and set(wrong_rows) <= set(padded_rows):
        return report(False, "", MESSAGES("batch_padding", rows=wrong_rows))
    return report(False, "", MESSAGES("batch_compare_shapes"))


def check_continued_message(tokenizer, messages: Sequence[dict], answer) -> Verdict:
    """Exercise 3 (change a setting to reach a goal): a prompt whose last, started assistant message stays open.

    Args:
        tokenizer: the instruct model's tokenizer.
        messages: a chat that ends with an assistant message the model should continue.
        answer: a string, the prompt text (what apply_chat_template returns with tokenize=False).
    """
    message_list = list(messages)
    expected = tokenizer.apply_chat_template(message_list, tokenize=False, continue_final_message=True)
    closed = tokenizer.apply_chat_template(message_list, tokenize=False)
    new_turn = tokenizer.apply_chat_template(message_list, tokenize=False, add_generation_prompt=True)
    if answer is None:
        return report(False, "", MESSAGES("continue_missing"))
    if not isinstance(answer, str):
        return report(False, "", MESSAGES("continue_not_text"))
    if answer == expected:
        return report(True, MESSAGES("continue_praise"), "")
    if answer == closed:
        return report(False, "", MESSAGES("continue_closed"))
    if answer == new_turn:
        return report(False, "", MESSAGES("continue_new_turn"))
    return report(False, "", MESSAGES("continue_whole_chat"))


# Every praise and hint these checks print, in English and German (see companion.language).
# The checks look them up when they run, which is why the catalogue can stand after them.
MESSAGES = Messages(__name__, {
    # Exercise 1: how many tokens the assistant's header adds
    "header_whole_number": {
        "en": "Write your prediction as a whole number, e.g. `answer = 7`.",
        "de": "Schreiben Sie Ihre Vorhersage als ganze Zahl, z. B. `answer = 7`.",
    },
    "header_praise": {
        "en": "add_generation_prompt=True adds {expected} tokens, {pieces}: the header {header_text!r}.",
        "de": "add_generation_prompt=True fügt {expected} Tokens an, {pieces}; zusammen ergeben sie den Header "
              "{header_text!r}.",
    },
    "header_characters": {
        "en": "That counts characters; the model reads tokens. Count the pieces the tokenizer makes.",
        "de": "Das zählt Zeichen; das Modell liest aber Tokens. Zählen Sie die Stücke, in die der Tokenizer "
              "den Text zerlegt.",
    },
    "header_more": {
        "en": "More than that. A special token is one token, but the role name after it is ordinary text, "
              "which the tokenizer splits like any other word; the line break counts as well.",
        "de": "Mehr als das. Ein Spezial-Token ist ein einziger Token, der Rollenname danach aber gewöhnlicher "
              "Text, den der Tokenizer zerlegt wie jedes andere Wort; auch der Zeilenumbruch zählt mit.",
    },
    "header_fewer": {
        "en": "Fewer than that: a special token such as the one that opens a turn is a single token.",
        "de": "Weniger als das: Ein Spezial-Token wie der, der einen Gesprächsbeitrag eröffnet, ist ein "
              "einziger Token.",
    },
    # Exercise 2: fix code written for transformers 4
    "batch_missing": {
        "en": "Store the list of answers, one string per chat, in `answer`.",
        "de": "Speichern Sie die Liste der Antworten, einen String pro Chat, in `answer`.",
    },
    "batch_single_string": {
        "en": "Decode every row of the batch: one string per chat, in a list.",
        "de": "Dekodieren Sie jede Zeile des Batches: einen String pro Chat, in einer Liste.",
    },
    "batch_length": {
        "en": "The answer is a list of {count} strings, one per chat.",
        "de": "Die Antwort ist eine Liste aus {count} Strings, einer pro Chat.",
    },
    "batch_not_text": {
        "en": "Decode the token ids into text: the answer holds strings, not ids.",
        "de": "Dekodieren Sie die Token-IDs zu Text: Die Antwort enthält Strings, keine IDs.",
    },
    "batch_praise": {
        "en": "The whole tokenizer output goes into generate(), the batch is padded on the left, "
              "and only the new columns are decoded.",
        "de": "Die gesamte Ausgabe des Tokenizers geht in generate(), der Batch ist links aufgefüllt, "
              "und nur die neuen Spalten werden dekodiert.",
    },
    "batch_special_tokens": {
        "en": "Right tokens, but the end-of-turn and padding tokens are still in the text.",
        "de": "Die Tokens stimmen, aber der Token für das Ende des Beitrags und die Padding-Tokens stehen noch "
              "im Text.",
    },
    "batch_holds_prompt": {
        "en": "The text still holds the chat's prompt: decode only the columns after the prompt.",
        "de": "Der Text enthält noch den Prompt des Chats: Dekodieren Sie nur die Spalten nach dem Prompt.",
    },
    "batch_padding": {
        "en": "Only the answers to the shorter chats (rows {rows}) are off: where does their padding sit? "
              "Read the warning under your cell, and remember notebook 04.",
        "de": "Nur die Antworten auf die kürzeren Chats (Zeilen {rows}) weichen ab: Wo sitzt ihr Padding? "
              "Lesen Sie die Warnung unter Ihrer Zelle und denken Sie an Notebook 04.",
    },
    "batch_compare_shapes": {
        "en": "Compare shapes: how many columns does the prompt take, and what does generate() need besides the ids?",
        "de": "Vergleichen Sie die Formen: Wie viele Spalten nimmt der Prompt ein, und was braucht generate() "
              "außer den IDs?",
    },
    # Exercise 3: continue a started assistant message
    "continue_missing": {
        "en": "Store the prompt text (a string) in `answer`.",
        "de": "Speichern Sie den Text des Prompts (einen String) in `answer`.",
    },
    "continue_not_text": {
        "en": "Ask apply_chat_template for text, not token ids or a dict.",
        "de": "Lassen Sie sich von apply_chat_template Text geben, keine Token-IDs und kein Dict.",
    },
    "continue_praise": {
        "en": "The text stops inside the assistant's message, so the model's next tokens continue it.",
        "de": "Der Text endet mitten in der Nachricht des Assistenten, also setzen die nächsten Tokens des "
              "Modells sie fort.",
    },
    "continue_closed": {
        "en": "The assistant's message is closed by the end-of-turn token: the model would start after its own "
              "finished answer. Look for the setting that leaves the final message open.",
        "de": "Der Token für das Ende des Beitrags schließt die Nachricht des Assistenten ab: Das Modell würde "
              "hinter seiner eigenen, fertigen Antwort beginnen. Suchen Sie die Einstellung, die die letzte "
              "Nachricht offen lässt.",
    },
    "continue_new_turn": {
        "en": "After the started answer a new assistant turn is opened: the model would begin a second answer "
              "instead of finishing the first.",
        "de": "Nach der begonnenen Antwort wird ein neuer Beitrag des Assistenten eröffnet: Das Modell würde "
              "eine zweite Antwort beginnen, statt die erste zu Ende zu schreiben.",
    },
    "continue_whole_chat": {
        "en": "Let the chat template write the text from the whole `messages` list.",
        "de": "Lassen Sie das Chat-Template den Text aus der ganzen Liste `messages` schreiben.",
    },
})
