"""Write the student edition of the course: every notebook with its solutions taken out.

    python -m course_tools.student_edition                  # (make student) every edition into build/student/<lang>/
    python -m course_tools.student_edition --output DIR     # ... into DIR/<lang>/
    python -m course_tools.student_edition --language en    # one edition only

For every notebook of every edition (notebooks/en, notebooks/de where it exists):
- each code cell tagged `solution` becomes a skeleton cell (tag `student-skeleton` instead of
  `solution`): a comment that the solution was removed, then only the solution's last
  statement, its `check_...(...)` call, commented out, so the learner sees how to check
  without seeing the answer;
- every output and execution count is cleared (no chart is needed before its cell runs);
- markdown cells stay as they are.
The committed notebooks are only read, never written.
"""

from __future__ import annotations

import argparse
import ast
import copy
import sys
from pathlib import Path

import nbformat

from course_tools.layout import BUILD, NOTEBOOKS, editions, notebook_paths, shown_path

DEFAULT_OUTPUT = BUILD / "student"
SOLUTION_TAG = "solution"
SKELETON_TAG = "student-skeleton"
# The skeleton's first line, per edition (the edition is the notebook folder's name), for every
# language in companion.language.LANGUAGES.
REMOVED_MESSAGE = {
    "en": "# Solution removed in the student edition: write your own answer in the cell above.",
    "de": "# Lösung in der Ausgabe für Lernende entfernt: Schreiben Sie Ihre eigene Antwort in die Zelle darüber.",
}


def last_statement(source: str) -> str:
    """The source text of the last top-level statement of `source` (all its lines).

    A cell that is not plain Python (an IPython magic such as `%timeit`) gives its last line.
    """
    try:
        tree = ast.parse(source)
    except SyntaxError:
        lines = [line for line in source.splitlines() if line.strip()]
        return lines[-1] if lines else ""
    if not tree.body:
        return ""
    statement = tree.body[-1]
    lines = source.splitlines()
    return "\n".join(lines[statement.lineno - 1:statement.end_lineno])


def skeleton_source(solution_source: str, language: str) -> str:
    """The skeleton of a solution cell: the removal note and its final check call, commented out."""
    lines = [REMOVED_MESSAGE[language]]
    check = last_statement(solution_source)
    if "check_" in check:
        lines += [f"# {line}" if line.strip() else "#" for line in check.splitlines()]
    return "\n".join(lines)


def student_notebook(notebook: nbformat.NotebookNode, language: str) -> nbformat.NotebookNode:
    """A copy of `notebook` with skeletons for its solution cells and no outputs."""
    student = copy.deepcopy(notebook)
    for cell in student.cells:
        if cell.cell_type != "code":
            continue
        tags = list(cell.metadata.get("tags", []))
        if SOLUTION_TAG in tags:
            cell.source = skeleton_source(cell.source, language)
            cell.metadata["tags"] = [tag for tag in tags if tag != SOLUTION_TAG] + [SKELETON_TAG]
        cell.outputs = []
        cell.execution_count = None
        cell.metadata.pop("execution", None)  # papermill/nbclient timestamps
    student.metadata.pop("papermill", None)
    return student


def write_student_edition(output: Path = DEFAULT_OUTPUT, languages: list[str] | None = None,
                          notebook_root: Path = NOTEBOOKS) -> list[Path]:
    """Write output/<lang>/NN_*.ipynb for every notebook of the given editions; return the paths."""
    written = []
    for language in languages or editions(notebook_root):
        folder = Path(output) / language
        folder.mkdir(parents=True, exist_ok=True)
        for path in notebook_paths(language, notebook_root):
            notebook = nbformat.read(path, as_version=4)
            target = folder / path.name
            nbformat.write(student_notebook(notebook, language), target)
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="folder for <lang>/NN_*.ipynb")
    parser.add_argument("--language", action="append", choices=sorted(REMOVED_MESSAGE),
                        help="an edition to write (repeatable; default: every edition present)")
    arguments = parser.parse_args(argv)
    written = write_student_edition(arguments.output, arguments.language)
    for language in sorted({path.parent.name for path in written}):
        count = sum(path.parent.name == language for path in written)
        print(f"{count} student notebooks ({language}) in {shown_path(arguments.output / language)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
