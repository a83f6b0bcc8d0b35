"""Checks for the exercises of notebook 02 (output too short or too long).

Each check computes the right answer itself with the model in use, so the exercises work
with any MODEL, and prints "Correct!" or a hint (see `companion.exercises.report`).
"""

from __future__ import annotations

import torch

from companion.exercises import Verdict, report
from companion.generation import generate_text, pad_token_id_or_eos, tokenize_batch

# transformers' model-agnostic default when neither the call nor the model's generation
# config sets a length: max_length = prompt length + 20 (transformers 5; earlier
# versions counted the prompt in the 20).
DEFAULT_NEW_TOKENS = 20


def check_default_new_tokens(answer) -> Verdict:
    """Exercise 1: how many new tokens `generate()` adds at most when no length is set.

    Args:
        answer: an int.
    Returns:
        a Verdict, truthy if it is 20 (for a model whose generation config sets no max_length, as the
        course's models).
    """
    correct = answer == DEFAULT_NEW_TOKENS and not isinstance(answer, bool)
    if isinstance(answer, int) and answer > DEFAULT_NEW_TOKENS:
        hint = ("that number includes the prompt's tokens; count only the new ones: "
                "output.shape[1] - inputs['input_ids'].shape[1], or read the number in the warning.")
    else:
        hint = ("generate a long counting sequence without max_new_tokens and count the new tokens: "
                "output.shape[1] - inputs['input_ids'].shape[1].")
    return report(correct, "Without max_new_tokens, generate() stops after 20 new tokens: "
                  "always pass max_new_tokens yourself.", hint)


def check_new_text_only(answer, model, tokenizer, prompt: str, max_new_tokens: int) -> Verdict:
    """Exercise 2: only the text `generate()` added after `prompt`, without the prompt.

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
    elif answer is None or not isinstance(answer, str):
        hint = ("generate, slice off the prompt's columns, output[:, inputs['input_ids'].shape[1]:], and "
                "decode to a string: tokenizer.batch_decode(new_ids, skip_special_tokens=True)[0].")
    elif answer.startswith(prompt) or answer.endswith(expected) and len(answer) > len(expected):
        hint = ("the prompt is still there. Slice the output ids after the prompt: "
                "output[:, inputs['input_ids'].shape[1]:], then decode.")
    elif "<" in answer and ">" in answer:
        hint = "drop special tokens such as </s> when decoding: skip_special_tokens=True."
    else:
        hint = (f"generate greedily (do_sample=False) with max_new_tokens={max_new_tokens}, "
                "then decode only the ids after the prompt.")
    return report(correct, "The output of generate() starts with the prompt; slicing it off leaves "
                  "just the new text (what companion.generate_text returns by default).", hint)


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
        hint = (f"call generate() with stop_strings=[{stop_string!r}] and tokenizer=tokenizer, then decode "
                "the whole output to a string with tokenizer.batch_decode(..., skip_special_tokens=True)[0].")
    elif answer == full and full != expected:
        hint = (f"generation did not stop early: pass stop_strings=[{stop_string!r}] and also "
                "tokenizer=tokenizer to generate() (it needs the tokenizer to read the text).")
    elif not answer.startswith(prompt):
        hint = "keep the prompt in this answer: decode the whole output, not only the new tokens."
    else:
        hint = (f"call generate() with max_new_tokens={max_new_tokens}, do_sample=False, "
                f"stop_strings=[{stop_string!r}] and tokenizer=tokenizer, then decode the whole output.")
    return report(correct, f"Generation ended as soon as the text contained {stop_string!r}.", hint)

