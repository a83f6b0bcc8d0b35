"""Checks for the notebooks' exercises: each says "correct" or gives a helpful hint.

One module per notebook (e.g. `companion.exercises.generating_text` for notebook 01);
all of them report through `report` so that every exercise reads the same way.
"""

from __future__ import annotations


def report(correct: bool, praise: str, hint: str) -> bool:
    """Print the verdict on an answer and return whether it was correct.

    Args:
        correct: the result of the exercise's check.
        praise: one sentence on why the answer is right (shown when correct).
        hint: what to look at next (shown when not correct); never the answer itself.
    """
    if correct:
        print(f"Correct! {praise}")
    else:
        print(f"Not yet. Hint: {hint}")
    return correct
