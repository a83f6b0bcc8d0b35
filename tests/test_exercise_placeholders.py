"""An untouched exercise is never judged: every attempt cell, run as committed (answer = None, or a dict of
None), prints "Not yet" and a hint about what to store, in every notebook and both editions.

Reads the committed notebooks (strict nbval proves their outputs current); the exercise modules' own tests
call each check with None directly.
"""

import re

import nbformat
import pytest

from course_tools.layout import all_notebook_paths

EDITIONS = all_notebook_paths()
NOT_YET = {"en": "Not yet. Hint: ", "de": "Noch nicht. Tipp: "}
STORE_WORDS = {"en": re.compile(r"\b(store|give|hand in|write|fill in|compute|build|answer)\b", re.I),
               "de": re.compile(
                   r"\b(speichern|geben|tragen|füllen|berechnen|schreiben|erstellen|bauen|antwort|answer)\b", re.I
               )}


def attempt_cells(notebook) -> list:
    """Code cells where the learner answers: they set `answer` to a placeholder with None and call a check."""
    cells = []
    for cell in notebook.cells:
        if cell.cell_type != "code" or "solution" in cell.metadata.get("tags", []):
            continue
        assigns_placeholder = re.search(r"^answer = (None|\{)", cell.source, re.M) and "None" in cell.source
        if assigns_placeholder and re.search(r"\bcheck_\w+\(", cell.source):
            cells.append(cell)
    return cells


@pytest.mark.parametrize("path", EDITIONS, ids=lambda path: f"{path.parent.name}/{path.name[:2]}")
def test_every_untouched_exercise_says_not_yet_and_what_to_store(path):
    language = path.parent.name
    notebook = nbformat.read(path, as_version=4)
    cells = attempt_cells(notebook)
    solutions = [cell for cell in notebook.cells if "solution" in cell.metadata.get("tags", [])]
    assert len(cells) >= 3 and len(cells) <= len(solutions), (len(cells), len(solutions))
    for cell in cells:
        stdout = "".join(output.text for output in cell.outputs if output.get("name") == "stdout")
        verdicts = [
            line for line in stdout.splitlines() if line.startswith(("Not yet", "Noch nicht", "Correct", "Richtig"))
        ]
        assert verdicts, f"{path.name} cell {cell.id}: no verdict printed"
        for verdict in verdicts:
            assert verdict.startswith(NOT_YET[language]), (
                f"{path.name} cell {cell.id} judged the placeholder: {verdict}"
            )
            hint = verdict[len(NOT_YET[language]):]
            assert len(hint) > 20 and STORE_WORDS[language].search(hint), f"{path.name} cell {cell.id}: {hint!r}"
