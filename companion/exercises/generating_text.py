"""Checks for the exercises of notebook 01 (generating text).

Each check computes the right answer itself from the model in use, so the exercises work
with any MODEL, and prints "Correct!" or a hint (see `companion.exercises.report`). Hints
name the idea to look at, not the code of the answer; a wrong answer never raises.
"""

from __future__ import annotations

import torch

from companion.exercises import Verdict, is_whole_number, report
from companion.generation import generate_ids, generate_text, tokenize_batch
from companion.inspection import next_token_distribution


def as_token_id(answer, tokenizer) -> int | None:
    """Read an answer given as an int, a 0-d/1-element tensor, or the token's text; None if unreadable."""
    if isinstance(answer, torch.Tensor) and answer.numel() == 1:
        return int(answer.item())
    if isinstance(answer, int) and not isinstance(answer, bool):
        return answer
    if isinstance(answer, str):
        token_ids = tokenizer(answer, add_special_tokens=False)["input_ids"]
        return token_ids[0] if len(token_ids) == 1 else None
    return None


def as_shape(answer) -> tuple[int, ...] | None:
    """Read a shape given as a tuple or list of ints or a torch.Size; None if unreadable."""
    if not isinstance(answer, (tuple, list, torch.Size)):
        return None
    if not all(is_whole_number(size) for size in answer):
        return None
    return tuple(answer)


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
        hint = "write the shape as a tuple of three whole numbers: (batch, length, vocabulary)."
    elif len(shape) != 3:
        hint = "the logits have three axes: one for the prompts, one for the positions, one for the vocabulary."
    elif shape[0] != expected[0]:
        hint = "the first axis counts the prompts in the batch; how many prompts does the tokenizer get here?"
    elif shape[1] != expected[1]:
        hint = ("the second axis has one entry per token the model reads. Count the tokens the tokenizer "
                "makes of this prompt, including any special token it adds at the start.")
    else:
        hint = "the last axis has one score for every entry of the vocabulary: look at the model's config."
    return report(correct, f"The logits have shape {expected}: one score for each of the "
                  f"{expected[2]:,} vocabulary entries at each of the {expected[1]} positions.", hint)


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
        hint = ("run the model on the tokenized prompt; the scores for the token after the prompt "
                "sit at one particular position of the logits. Which one holds the largest score?")
    elif answer_id is None:
        hint = "give one token: its id as an int or a one-element tensor, or its text."
    elif answer_id != expected_id:
        input_ids = tokenize_batch(tokenizer, prompt)["input_ids"]
        with torch.inference_mode():
            first_position = model(input_ids=input_ids.to(model.device)).logits[0, 0].argmax().item()
        if answer_id == first_position and input_ids.shape[1] > 1:
            hint = ("you read the scores at the first position: they predict the second token of the "
                    "prompt. The prediction for the token after the prompt sits at the other end.")
        else:
            hint = ("the logits have shape (batch, length, vocabulary): pick the prompt, then the "
                    "position that predicts the next token, then the vocabulary entry with the largest score.")
    else:
        hint = ""
    token = tokenizer.decode([expected_id])
    return report(answer_id == expected_id,
                  f"The most likely next token is {token!r} (id {expected_id}), "
                  f"with probability {distribution[expected_id].item():.1%}.", hint)


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
        hint = "hand in what the pipeline returned (the list), or the text inside it."
    elif text.strip() == with_prompt.strip() or text.startswith(prompt):
        hint = ("the prompt is still there. The text-generation pipeline returns the full text by default; "
                "one of its settings controls whether the prompt is part of the answer "
                "(help(generator) lists them).")
    else:
        hint = (f"ask for greedy decoding and at most {max_new_tokens} new tokens, as in the "
                "generate() calls of this notebook.")
    return report(correct, "The pipeline returned only the new text, the same as slicing generate()'s "
                  "output after the prompt.", hint)


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
        return report(False, "", "build the ids as a tensor: start from the prompt's input_ids and "
                      "append one new token id per step.")
    answer = answer.detach().cpu().reshape(-1)
    correct = torch.equal(answer, expected)
    if correct:
        hint = ""
    elif answer.shape[0] < prompt_length:
        hint = "the ids should start with the prompt's own ids (the tokenizer's input_ids), then the new ones."
    elif answer.shape[0] == prompt_length:
        hint = "the ids are still just the prompt: append the chosen token to the ids at every step."
    elif answer.shape[0] > expected.shape[0] and torch.equal(answer[: expected.shape[0]], expected):
        hint = ("your loop went on after the model's end-of-sequence token; generate() stops there. "
                "Leave the loop once the picked token is an EOS token.")
    elif answer.shape[0] < expected.shape[0]:
        hint = (f"your loop added {answer.shape[0] - prompt_length} tokens; generate() added "
                f"{expected.shape[0] - prompt_length}. Let it run for up to {steps} steps.")
    elif answer.shape[0] > expected.shape[0]:
        hint = (f"your ids are longer than the prompt plus at most {steps} new tokens; start from the "
                "prompt's ids and run at most that many steps.")
    elif not torch.equal(answer[:prompt_length], expected[:prompt_length]):
        hint = "the first ids should be the prompt's own: start from the tokenizer's input_ids."
    else:
        hint = ("at every step pick the most likely token at the position that predicts the next one, "
                "and feed the whole longer sequence back in.")
    return report(correct, f"Your loop reproduces generate() token for token: "
                  f"{tokenizer.decode(expected[prompt_length:])!r}.", hint)
