"""Content checks on the committed notebook 02: the default-length pitfall shows its real
warning, and the outputs agree with the prose (20 new tokens, the keyword argument wins).

Reads notebooks/en/02_output_length.ipynb as committed (no execution) and finds cells by
their code, not by position.
"""

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOK = next(Path(__file__).resolve().parent.parent.glob("notebooks/en/02_*.ipynb"))
DEFAULT_LENGTH_WARNING = "UserWarning: Using the model-agnostic default `max_length`"


@pytest.fixture(scope="module")
def cells():
    return nbformat.read(NOTEBOOK, as_version=4).cells


def output_text(cell, stream: str | None = None) -> str:
    """What a code cell printed: one stream ("stdout"/"stderr"), or everything incl. text/plain."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream" and stream in (None, output.name):
            parts.append(output.text)
        elif "data" in output and stream is None:
            parts.append(output.data.get("text/plain", ""))
    return "".join(parts)


def code_cell(cells, snippet: str):
    """The one code cell whose source contains `snippet`."""
    found = [cell for cell in cells if cell.cell_type == "code" and snippet in cell.source]
    assert len(found) == 1, f"expected one code cell containing {snippet!r}, found {len(found)}"
    return found[0]


def prose(cells) -> str:
    return "\n".join(cell.source for cell in cells if cell.cell_type == "markdown")


def test_calls_generate_directly(cells):
    assert any("model.generate(" in c.source for c in cells if c.cell_type == "code")


def test_default_length_warning_shows_in_the_cell_that_forgets_the_length(cells):
    cell = code_cell(cells, "default_ids = model.generate(")
    assert "max_new_tokens" not in cell.source.split("default_ids = model.generate(")[1].split(")")[0]
    stderr = output_text(cell, "stderr")
    assert DEFAULT_LENGTH_WARNING in stderr
    for other in cells:
        if other is not cell and other.cell_type == "code" and "solution" not in other.metadata.get("tags", []):
            assert DEFAULT_LENGTH_WARNING not in output_text(other), "only the mistake (and its exercise) warns"
    assert not any("catch_warnings" in c.source for c in cells if c.cell_type == "code")


def test_default_run_adds_20_new_tokens_and_the_warning_counts_the_prompt(cells):
    cell = code_cell(cells, "default_ids = model.generate(")
    match = re.search(r"prompt: (\d+) tokens, new: (\d+) tokens", output_text(cell, "stdout"))
    assert match
    prompt_length, new_tokens = int(match.group(1)), int(match.group(2))
    assert new_tokens == 20
    reported = int(re.search(r"`max_length` \(=(\d+)\)", output_text(cell, "stderr")).group(1))
    assert reported == prompt_length + 20


def test_history_of_the_default_is_stated_with_versions(cells):
    text = prose(cells)
    assert "4.47" in text and "4.46" in text
    assert not re.search(r"[Ii]n transformers 5(?![.\d])", text), "the 20-new-token default came in 4.47, not 5"


def test_generation_config_round_trip_and_kwarg_wins(cells):
    saved = code_cell(cells, "save_pretrained(folder)")
    assert "GenerationConfig.from_pretrained(folder)" in saved.source
    assert "files written: ['generation_config.json']" in output_text(saved)
    assert "/tmp" not in output_text(saved)
    passed = code_cell(cells, "generation_config=loaded_config)")
    assert "new: 12 tokens" in output_text(passed)
    assert "max_new_tokens=12" in saved.source
    conflict = code_cell(cells, "generation_config=loaded_config, max_new_tokens=5")
    assert "new: 5 tokens (config: 12)" in output_text(conflict, "stdout")
    assert "[transformers] Passing `generation_config` together" in output_text(conflict, "stderr")
    index = cells.index(conflict)
    assert "keyword argument won" in cells[index + 1].source


def test_exercises_have_checks_and_later_solutions(cells):
    code_cells = [c for c in cells if c.cell_type == "code"]
    attempts = [c for c in code_cells if "answer = None" in c.source]
    solutions = [c for c in code_cells if "solution" in c.metadata.get("tags", [])]
    assert len(attempts) >= 3 and len(solutions) == len(attempts)
    for attempt in attempts:
        index = cells.index(attempt)
        assert "solution" in cells[index + 1].metadata.get("tags", []), "the solution follows its check"
        hint = output_text(attempt)
        assert hint.startswith("Not yet. Hint:"), hint
        assert not re.search(r"\.\w+\(|stop_strings=|tokenizer=tokenizer", hint), f"the hint spells out code: {hint}"
    for solution in solutions:
        assert "Correct!" in output_text(solution)
        assert "check_" in solution.source.strip().splitlines()[-1]
    text = prose(cells).lower()
    for kind in ("predict, then run", "fix a broken call", "change a setting"):
        assert kind in text
