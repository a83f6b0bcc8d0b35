"""Checks for the exercises of notebook 05 (wrong prompt format).

Each check computes the right answer from the tokenizer (and model) in use, so it works for
any instruct MODEL, prints "Correct! ..." or "Not yet. Hint: ..." and never raises on a
wrong answer.
"""

from __future__ import annotations

from typing import Sequence

from companion.chat import render_chat, require_chat_template
from companion.exercises import Verdict, is_whole_number, report
from companion.generation import generate_ids


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
        return report(False, "", "Write your prediction as a whole number, e.g. `answer = 7`.")
    if answer == expected:
        pieces = tokenizer.convert_ids_to_tokens(header_ids)
        return report(
            True,
            f"add_generation_prompt=True adds {expected} tokens, {pieces}: the header {header_text!r}.",
            "",
        )
    if answer == len(header_text) and answer != expected:
        return report(False, "", "That counts characters; the model reads tokens. Count the pieces the tokenizer makes.")
    if answer < expected:
        return report(
            False,
            "",
            "More than that. A special token is one token, but the role name after it is ordinary text, "
            "which the tokenizer splits like any other word; the line break counts as well.",
        )
    return report(False, "", "Fewer than that: a special token such as the one that opens a turn is a single token.")


def check_fixed_chat_batch(model, tokenizer, chats: Sequence[Sequence[dict]], answer, *, max_new_tokens: int) -> Verdict:
    """Exercise 2 (fix a broken call): the greedy answers to a batch of chats, prompt cut off.

    Args:
        model, tokenizer: the instruct model in use and a tokenizer of it (its settings are not changed).
        chats: b chats, each a list of {"role", "content"} dicts, of different lengths.
        answer: a list of b strings, the decoded new tokens of each row (special tokens skipped).
        max_new_tokens: the limit the exercise's code uses.
    """
    prompts = [render_chat(tokenizer, messages) for messages in chats]
    sequences, prompt_ids = generate_ids(model, tokenizer, prompts, max_new_tokens=max_new_tokens, do_sample=False)
    new_tokens = sequences[:, prompt_ids.shape[1]:]
    expected = tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
    if answer is None:
        return report(False, "", "Store the list of answers, one string per chat, in `answer`.")
    if isinstance(answer, str):
        return report(False, "", "Decode every row of the batch: one string per chat, in a list.")
    if not isinstance(answer, (list, tuple)) or len(answer) != len(expected):
        return report(False, "", f"The answer is a list of {len(expected)} strings, one per chat.")
    answer = list(answer)
    if not all(isinstance(text, str) for text in answer):
        return report(False, "", "Decode the token ids into text: the answer holds strings, not ids.")
    if answer == expected:
        return report(
            True,
            "The whole tokenizer output goes into generate(), the batch is padded on the left, "
            "and only the new columns are decoded.",
            "",
        )
    if answer == tokenizer.batch_decode(new_tokens, skip_special_tokens=False):
        return report(False, "", "Right tokens, but the end-of-turn and padding tokens are still in the text.")
    holds_prompt = [new in text and text != new for text, new in zip(answer, expected)]
    if any(holds_prompt):
        return report(False, "", "The text still holds the chat's prompt: decode only the columns after the prompt.")
    prompt_lengths = [len(tokenizer(prompt)["input_ids"]) for prompt in prompts]
    longest = max(prompt_lengths)
    padded_rows = [row for row, length in enumerate(prompt_lengths) if length < longest]
    wrong_rows = [row for row in range(len(expected)) if answer[row] != expected[row]]
    if wrong_rows and set(wrong_rows) <= set(padded_rows):
        return report(
            False,
            "",
            f"Only the answers to the shorter chats (rows {wrong_rows}) are off: where does their padding sit? "
            "Read the warning under your cell, and remember notebook 04.",
        )
    return report(
        False,
        "",
        "Compare shapes: how many columns does the prompt take, and what does generate() need besides the ids?",
    )


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
        return report(False, "", "Store the prompt text (a string) in `answer`.")
    if not isinstance(answer, str):
        return report(False, "", "Ask apply_chat_template for text, not token ids or a dict.")
    if answer == expected:
        return report(True, "The text stops inside the assistant's message, so the model's next tokens continue it.", "")
    if answer == closed:
        return report(
            False,
            "",
            "The assistant's message is closed by the end-of-turn token: the model would start after its own "
            "finished answer. Look for the setting that leaves the final message open.",
        )
    if answer == new_turn:
        return report(
            False,
            "",
            "After the started answer a new assistant turn is opened: the model would begin a second answer "
            "instead of finishing the first.",
        )
    return report(False, "", "Let the chat template write the text from the whole `messages` list.")
