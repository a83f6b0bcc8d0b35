"""Reading the committed notebooks (notebooks/en/NN_*.ipynb) for the lesson tests, without executing them.

The tests in test_lesson_NN.py check that a notebook's stored outputs say what its prose says.
They find cells by their code, not by their position, so that adding a cell breaks nothing;
these helpers load the cells and read what a cell printed or displayed, and one checks the
exercise pattern that notebooks 01 and 02 share. (Executing the notebooks is nbval's job.)
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from course_tools.layout import notebook_number, notebook_paths


def notebook_path(number: str) -> Path:
    """The committed English notebook `number` ("01", "02", ...)."""
    paths = [path for path in notebook_paths("en") if notebook_number(path) == number]
    assert len(paths) == 1, f"expected one notebook notebooks/en/{number}_*.ipynb, found {len(paths)}"
    return paths[0]


def notebook_cells(number: str) -> list[NotebookNode]:
    """All cells of the committed notebook `number` ("01", "02", ...), read as nbformat 4."""
    return nbformat.read(notebook_path(number), as_version=4).cells


def code_cells(cells: list[NotebookNode]) -> list[NotebookNode]:
    """The code cells among `cells`, in order."""
    return [cell for cell in cells if cell.cell_type == "code"]


def code_cell(cells: list[NotebookNode], *snippets: str) -> NotebookNode:
    """The one code cell whose source contains every snippet (fails unless exactly one does)."""
    found = [cell for cell in code_cells(cells) if all(snippet in cell.source for snippet in snippets)]
    assert len(found) == 1, f"expected one code cell containing {snippets}, found {len(found)}"
    return found[0]


def tags(cell: NotebookNode) -> list[str]:
    """The cell's tags (e.g. "solution", "nbval-ignore-output")."""
    return cell.metadata.get("tags", [])


def printed(cell: NotebookNode, stream: str | None = None, *, with_text_plain: bool = False) -> str:
    """What a code cell printed, in output order.

    Args:
        cell: a code cell.
        stream: "stdout" or "stderr" for that stream only; None for both.
        with_text_plain: also take the text/plain of every displayed value (execute_result,
            display_data), in order with the streams; only where `stream` is None.
    """
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream" and stream in (None, output.name):
            parts.append(output.text)
        elif with_text_plain and stream is None and "data" in output:
            parts.append(output.data.get("text/plain", ""))
    return "".join(parts)


def displayed(cell: NotebookNode) -> str:
    """The text/plain of the value a cell displayed as its last expression (its one execute_result)."""
    results = [output for output in cell.get("outputs", []) if output.output_type == "execute_result"]
    assert len(results) == 1, f"expected one execute_result, found {len(results)}"
    return results[0].data["text/plain"]


def printed_line(cell: NotebookNode, label: str, stream: str | None = None) -> str:
    """The rest of the first printed line that starts with `label`, stripped."""
    for line in printed(cell, stream).splitlines():
        if line.startswith(label):
            return line[len(label):].strip()
    raise AssertionError(f"no line starting with {label!r} in the output of:\n{cell.source}\n---\n{printed(cell)}")


def printed_value(cell: NotebookNode, label: str, stream: str | None = None) -> object:
    """The Python literal printed after `label` (the rest of the first line starting with it)."""
    return ast.literal_eval(printed_line(cell, label, stream))


def prose(cells: list[NotebookNode]) -> str:
    """The markdown of the notebook, one cell after the other (joined with newlines)."""
    return "\n".join(cell.source for cell in cells if cell.cell_type == "markdown")


def assert_exercises_with_hints_and_solutions(cells: list[NotebookNode], code_in_hint: str) -> None:
    """Assert the exercise pattern of notebooks 01 and 02.

    At least three attempt cells (`answer = None`), each printing a hint that starts with
    "Not yet. Hint:" and does not spell out code (no match of the regex `code_in_hint`), each
    followed right away by a cell tagged "solution" that prints "Correct!" and ends with its
    check_ call; and the prose names the three kinds of exercise.
    """
    attempts = [cell for cell in code_cells(cells) if "answer = None" in cell.source]
    solutions = [cell for cell in code_cells(cells) if "solution" in tags(cell)]
    assert len(attempts) >= 3 and len(solutions) == len(attempts)
    for attempt in attempts:
        index = cells.index(attempt)
        assert "solution" in tags(cells[index + 1]), "the solution follows its check"
        hint = printed(attempt, with_text_plain=True)
        assert hint.startswith("Not yet. Hint:"), hint
        assert not re.search(code_in_hint, hint), f"the hint spells out code: {hint}"
    for solution in solutions:
        assert "Correct!" in printed(solution, with_text_plain=True)
        assert "check_" in solution.source.strip().splitlines()[-1], "a solution ends with its check"
    text = prose(cells).lower()
    for kind in ("predict, then run", "fix a broken call", "change a setting"):
        assert kind in text


def verdict_prefix(language: str, verdict: str) -> str:
    """The fixed start of a printed verdict ("correct" or "not_yet") in one edition's language:
    "Correct!", "Not yet. Hint:", "Richtig!", "Noch nicht. Tipp:"."""
    from companion.exercises import MESSAGES

    return MESSAGES.entries[verdict][language].split("{")[0].strip()
