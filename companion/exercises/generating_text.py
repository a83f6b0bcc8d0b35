"""Checks for the exercises of notebook 01 (generating text).

Each check computes the right answer itself from the model in use, so the exercises work
with any MODEL, and prints "Correct!" or a hint (see `companion.exercises.report`).
"""

from __future__ import annotations

import torch

from companion.exercises import Verdict, report
from companion.generation import generate_ids, tokenize_batch
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


def check_most_likely_token(answer, model, tokenizer, prompt: str) -> Verdict:
    """Exercise 1: the id (or text) of the token the model finds most likely after `prompt`.

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
        hint = ("run the model on the tokenized prompt, then take the logits of the last position, "
                "outputs.logits[0, -1], and find the index of the largest one with .argmax().")
    elif answer_id is None:
        hint = "give one token: its id as an int (e.g. int(logits.argmax())) or its text."
    elif answer_id != expected_id:
        input_ids = tokenize_batch(tokenizer, prompt)["input_ids"]
        with torch.inference_mode():
            first_position = model(input_ids=input_ids.to(model.device)).logits[0, 0].argmax().item()
        if answer_id == first_position and input_ids.shape[1] > 1:
            hint = "you read the first position; the next token is predicted at the last one: logits[0, -1]."
        else:
            hint = ("take the largest score at the last position: logits has shape (batch, length, vocab), "
                    "so use outputs.logits[0, -1].argmax().")
    else:
        hint = ""
    token = tokenizer.decode([expected_id])
    return report(answer_id == expected_id,
                  f"The most likely next token is {token!r} (id {expected_id}), "
                  f"with probability {distribution[expected_id].item():.1%}.", hint)


def check_greedy_loop(answer, model, tokenizer, prompt: str, steps: int) -> Verdict:
    """Exercise 2: token ids from your own greedy loop, `steps` tokens after `prompt`.

    Args:
        answer: LongTensor of shape (1, t + steps) or (t + steps,): the prompt's ids
            followed by the tokens your loop appended.
        model, tokenizer: the notebook's model.
        prompt: the prompt of the exercise.
        steps: how many tokens the loop should add.
    Returns:
        a Verdict, truthy if the ids equal `model.generate(..., max_new_tokens=steps, do_sample=False)`.
    """
    expected, prompt_ids = generate_ids(model, tokenizer, prompt, max_new_tokens=steps, do_sample=False)
    expected = expected[0].cpu()
    prompt_length = prompt_ids.shape[1]
    if not isinstance(answer, torch.Tensor):
        return report(False, "", "build the ids as a tensor: start from inputs['input_ids'] and "
                      "torch.cat one new token per step, e.g. torch.cat([ids, next_id[:, None]], dim=-1).")
    answer = answer.detach().cpu().reshape(-1)
    correct = torch.equal(answer, expected)
    if correct:
        hint = ""
    elif answer.shape[0] == prompt_length:
        hint = "the ids are still just the prompt: append the chosen token to the ids at every step."
    elif answer.shape[0] < expected.shape[0]:
        hint = f"your loop added {answer.shape[0] - prompt_length} tokens; run it for {steps} steps."
    elif answer.shape[0] > expected.shape[0]:
        hint = (f"your ids are longer than the prompt plus {steps} new tokens; start from the prompt's "
                "ids and run exactly that many steps (generate() also stops early at an EOS token).")
    elif not torch.equal(answer[:prompt_length], expected[:prompt_length]):
        hint = "the first ids should be the prompt's own: start from inputs['input_ids']."
    else:
        hint = ("at every step pick the most likely token at the last position, "
                "logits[:, -1].argmax(dim=-1), and feed the whole longer sequence back in.")
    return report(correct, f"Your loop reproduces generate() token for token: "
                  f"{tokenizer.decode(expected[prompt_length:])!r}.", hint)
