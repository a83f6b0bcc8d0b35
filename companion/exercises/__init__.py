"""Checks for the notebooks' exercises: each says "correct" or gives a helpful hint.

One module per notebook (e.g. `companion.exercises.generating_text` for notebook 01). What
they all share lives here: `report`, which prints every verdict the same way,  and the
readers of a learner's answer live in `companion.exercises.answers`, so that an answer such
as a token id or a list of texts is accepted in the same forms in every notebook.

An exercise cell starts with the placeholder `answer = None`; a check never judges it, it
prints a hint that says what to store. Every text is in a `Messages` catalogue at the end
of its module, in English and German (see `companion.language`).
"""

from __future__ import annotations

from companion.language import Messages


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


# The texts this module prints, in English and German (see companion.language). The functions
# above look them up when they run, which is why the catalogue can stand after them.
MESSAGES = Messages(__name__, {
    "correct": {"en": "Correct! {praise}", "de": "Richtig! {praise}"},
    "not_yet": {"en": "Not yet. Hint: {hint}", "de": "Noch nicht. Tipp: {hint}"},
})
