"""Checks for the notebooks' exercises: each says "correct" or gives a helpful hint.

One module per notebook (e.g. `companion.exercises.generating_text` for notebook 01);
all of them report through `report` so that every exercise reads the same way.
"""

from __future__ import annotations

import math

from companion.language import Messages

MESSAGES = Messages(__name__, {
    "correct": {"en": "Correct! {praise}", "de": "Richtig! {praise}"},
    "not_yet": {"en": "Not yet. Hint: {hint}", "de": "Noch nicht. Tipp: {hint}"},
})


class Verdict:
    """The outcome of a check: truthy when correct. Jupyter shows nothing for it,
    so an exercise cell's output is just the printed verdict line."""

    def __init__(self, correct: bool):
        self.correct = bool(correct)

    def __bool__(self) -> bool:
        return self.correct

    def __repr__(self) -> str:
        return f"Verdict(correct={self.correct})"

    def _ipython_display_(self) -> None:
        """Display nothing: `report` has already printed the verdict."""


def is_whole_number(answer) -> bool:
    """True if a learner's answer is an int (True/False are not numbers here)."""
    return isinstance(answer, int) and not isinstance(answer, bool)


def is_number(answer) -> bool:
    """True if a learner's answer is a finite int or float (True/False are not numbers here)."""
    return isinstance(answer, (int, float)) and not isinstance(answer, bool) and math.isfinite(answer)


def report(correct: bool, praise: str, hint: str) -> Verdict:
    """Print the verdict on an answer and return it (truthy when correct).

    Args:
        correct: the result of the exercise's check.
        praise: one sentence on why the answer is right (shown when correct).
        hint: what to look at next (shown when not correct); never the answer itself.
        Both come from the calling module's `Messages` catalogue, in the notebook's language.
    """
    if correct:
        print(MESSAGES("correct", praise=praise))
    else:
        print(MESSAGES("not_yet", hint=hint))
    return Verdict(correct)
