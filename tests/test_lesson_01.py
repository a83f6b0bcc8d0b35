"""Content checks on the committed notebook 01: its outputs say what its prose says.

Reads notebooks/en/01_generating_text.ipynb as committed (no execution) and finds cells by
their code, not by position.
"""

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOK = next(Path(__file__).resolve().parent.parent.glob("notebooks/en/01_*.ipynb"))


@pytest.fixture(scope="module")
def cells():
    return nbformat.read(NOTEBOOK, as_version=4).cells


def output_text(cell) -> str:
    """All text a code cell printed or displayed (stdout, stderr, text/plain)."""
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output:
            parts.append(output.data.get("text/plain", ""))
    return "".join(parts)


def code_cell(cells, snippet: str):
    """The one code cell whose source contains `snippet`."""
    found = [cell for cell in cells if cell.cell_type == "code" and snippet in cell.source]
    assert len(found) == 1, f"expected one code cell containing {snippet!r}, found {len(found)}"
    return found[0]


def markdown_before(cells, cell) -> str:
    """The markdown cell right before `cell`."""
    index = cells.index(cell)
    assert cells[index - 1].cell_type == "markdown"
    return cells[index - 1].source


def test_loads_with_the_plain_transformers_calls(cells):
    cell = code_cell(cells, "AutoModelForCausalLM.from_pretrained(")
    assert 'device_map="auto"' in cell.source and "quantization_config=" in cell.source
    assert "AutoTokenizer.from_pretrained(" in cell.source
    assert "BitsAndBytesConfig(load_in_4bit=True)" in cell.source
    prose = "".join(c.source for c in cells if c.cell_type == "markdown")
    assert "makes exactly these calls" not in prose
    assert "Q4_1" in prose and "bf16" in prose  # what "full precision" means for smollm2-135m


def test_calls_generate_directly(cells):
    generate_cells = [c for c in cells if c.cell_type == "code" and "model.generate(" in c.source]
    assert generate_cells
    for cell in generate_cells:
        assert "max_new_tokens=" in cell.source and "do_sample=" in cell.source


def test_token_table_has_no_zero_rows(cells):
    cell = code_cell(cells, "print(format_token_table(")
    rows = [line for line in output_text(cell).splitlines() if re.match(r"\s+\d+\s+\d+\s", line)]
    assert len(rows) == 5
    for row in rows:
        percent = row.split()[-1]
        assert percent.endswith("%") and float(percent[:-1]) > 0, row
        assert percent != "100.0%", row  # the top token is not certain; the table must not say so


def test_chart_prompt_leaves_the_room_the_prose_claims(cells):
    cell = code_cell(cells, "plot_top_tokens(")
    assert any("image/png" in output.get("data", {}) for output in cell.outputs)
    match = re.search(r"most likely: '.*' with ([\d.]+)%; the ten most likely together: ([\d.]+)%", output_text(cell))
    assert match, output_text(cell)
    top, top_ten = float(match.group(1)), float(match.group(2))
    prose = markdown_before(cells, cell)
    assert "about 5 %" in prose  # "each with only about 5 %"
    assert top < 10, f"the prose says the probability is spread, but the top token has {top}%"
    assert top_ten < 80, "ten tokens should not carry almost everything"


def test_loop_diagram_is_drawn(cells):
    cell = code_cell(cells, "plot_autoregressive_loop(")
    assert any("image/png" in output.get("data", {}) for output in cell.outputs)


def test_hand_loop_and_generate_agree(cells):
    cell = code_cell(cells, 'print("identical: "')
    assert "identical:  True" in output_text(cell)


def test_pipeline_gives_the_same_text_as_generate(cells):
    cell = code_cell(cells, 'transformers.pipeline("text-generation"')
    assert "max_new_tokens=" in cell.source and "do_sample=False" in cell.source
    assert "same text as generate(): True" in output_text(cell)


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
        assert not re.search(r"\.\w+\(|\[0, -1\]|torch\.", hint), f"the hint spells out code: {hint}"
    for solution in solutions:
        assert "Correct!" in output_text(solution)
        assert "check_" in solution.source.strip().splitlines()[-1], "a solution ends with its check"
    prose = "".join(c.source for c in cells if c.cell_type == "markdown")
    for kind in ("predict, then run", "fix a broken call", "change a setting"):
        assert kind in prose.lower()
