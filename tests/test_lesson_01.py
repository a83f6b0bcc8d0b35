"""Content checks on the committed notebook 01: its outputs say what its prose says.

Reads notebooks/en/01_generating_text.ipynb as committed (no execution) and finds cells by
their code, not by position.
"""

import re

import pytest
from committed_notebooks import assert_exercises_with_hints_and_solutions, code_cell, notebook_cells, printed, prose


@pytest.fixture(scope="module")
def cells():
    return notebook_cells("01")


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
    text = prose(cells)
    assert "makes exactly these calls" not in text
    assert "Q4_1" in text and "bf16" in text  # what "full precision" means for smollm2-135m


def test_calls_generate_directly(cells):
    generate_cells = [c for c in cells if c.cell_type == "code" and "model.generate(" in c.source]
    assert generate_cells
    for cell in generate_cells:
        assert "max_new_tokens=" in cell.source and "do_sample=" in cell.source


def test_token_table_has_no_zero_rows(cells):
    cell = code_cell(cells, "print(format_token_table(")
    text = printed(cell, with_text_plain=True)
    rows = [line for line in text.splitlines() if re.match(r"\s+\d+\s+\d+\s", line)]
    assert len(rows) == 5
    for row in rows:
        percent = row.split()[-1]
        assert percent.endswith("%") and float(percent[:-1]) > 0, row
        assert percent != "100.0%", row  # the top token is not certain; the table must not say so


def test_chart_prompt_leaves_the_room_the_prose_claims(cells):
    cell = code_cell(cells, "plot_top_tokens(")
    assert any("image/png" in output.get("data", {}) for output in cell.outputs)
    text = printed(cell, with_text_plain=True)
    match = re.search(r"most likely: '.*' with ([\d.]+)%; the ten most likely together: ([\d.]+)%", text)
    assert match, text
    top, top_ten = float(match.group(1)), float(match.group(2))
    before = markdown_before(cells, cell)
    assert "about 5 %" in before  # "each with only about 5 %"
    assert top < 10, f"the prose says the probability is spread, but the top token has {top}%"
    assert top_ten < 80, "ten tokens should not carry almost everything"


def test_loop_diagram_is_drawn(cells):
    cell = code_cell(cells, "plot_autoregressive_loop(")
    assert any("image/png" in output.get("data", {}) for output in cell.outputs)


def test_hand_loop_and_generate_agree(cells):
    cell = code_cell(cells, 'print("identical: "')
    assert "identical:  True" in printed(cell, with_text_plain=True)


def test_pipeline_gives_the_same_text_as_generate(cells):
    cell = code_cell(cells, 'transformers.pipeline("text-generation"')
    assert "max_new_tokens=" in cell.source and "do_sample=False" in cell.source
    assert "same text as generate(): True" in printed(cell, with_text_plain=True)


def test_exercises_have_checks_and_later_solutions(cells):
    assert_exercises_with_hints_and_solutions(cells, code_in_hint=r"\.\w+\(|\[0, -1\]|torch\.")
