"""Checks for the exercises of notebook 03 (wrong generation mode).

They print "Correct!" or a hint (see `companion.exercises.report`).
"""

from __future__ import annotations

import torch

from companion.exercises import Verdict, report
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
        return report(False, "", "fill in the dictionary: each task gets \"greedy\" or \"sampling\".")
    missing = [task for task in DECODING_FOR_TASK if answer.get(task) not in ("greedy", "sampling")]
    wrong = [task for task in DECODING_FOR_TASK if task not in missing and answer[task] != DECODING_FOR_TASK[task]]
    if missing:
        hint = f"give \"greedy\" or \"sampling\" for: {', '.join(missing)}."
    else:
        hint = (f"think again about: {', '.join(wrong)}. Is there one right output fixed by the input "
                "(greedy), or do you want variety (sampling)?")
    return report(not missing and not wrong,
                  "Input-grounded tasks (translation, transcription, extraction) want the most likely "
                  "output; creative ones benefit from sampling.", hint)


def check_tokens_left(answer, logits: torch.Tensor, top_p: float) -> Verdict:
    """Exercise 2: how many tokens top-p (nucleus) filtering with `top_p` keeps for these logits.

    Args:
        answer: an int.
        logits: FloatTensor of shape (vocab,) for one prompt.
        top_p: the nucleus threshold of the exercise.
    Returns:
        a Verdict, truthy if `answer` equals the number of tokens left (as transformers' TopPLogitsWarper keeps).
    """
    expected = count_candidates(sampling_distribution(logits, top_p=top_p))
    if isinstance(answer, torch.Tensor) and answer.numel() == 1:
        answer = int(answer.item())
    correct = answer == expected and not isinstance(answer, bool)
    if isinstance(answer, int) and answer == expected - 1:
        hint = "include the token that makes the running total reach top_p: it is kept too."
    else:
        hint = ("sort the probabilities from high to low, add them up one by one, and count how many "
                "tokens you need until the sum reaches top_p (torch.sort and torch.cumsum help).")
    return report(correct, f"top_p={top_p} keeps {expected} tokens here; the rest can no longer be drawn.", hint)
