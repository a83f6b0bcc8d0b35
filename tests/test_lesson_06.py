"""Notebook 06 (going further): the committed notebook's outputs and prose agree with each other and with the README.

Reads notebooks/en/06_going_further.ipynb as committed (no execution) and finds cells by
their code, not by their position.
"""

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK = ROOT / "notebooks" / "en" / "06_going_further.ipynb"


@pytest.fixture(scope="module")
def cells():
    return nbformat.read(NOTEBOOK, as_version=4).cells


def code_cells(cells):
    return [cell for cell in cells if cell.cell_type == "code"]


def markdown(cells):
    return "\n".join(cell.source for cell in cells if cell.cell_type == "markdown")


def cell_with(cells, *snippets):
    """The one code cell whose source holds every snippet."""
    found = [cell for cell in code_cells(cells) if all(snippet in cell.source for snippet in snippets)]
    assert len(found) == 1, f"expected one code cell with {snippets}, found {len(found)}"
    return found[0]


def output_text(cell, stream=None):
    return "".join(
        output.get("text", "") for output in cell.get("outputs", [])
        if output.output_type == "stream" and (stream is None or output.name == stream)
    )


def readme_latency_figures():
    """(ms per token, linear-layer ms) of fp32 default generate() in the README's Performance section."""
    readme = (ROOT / "README.md").read_text()
    row = re.search(r"\| fp32, default `generate\(\)` \| \*\*([\d.]+)\*\*.*?\| ([\d.]+) ms \(", readme)
    assert row, "the README's latency table has changed: update this test"
    return float(row.group(1)), float(row.group(2))


def test_the_overhead_sentence_agrees_with_the_readme(cells):
    step_ms, kernels_ms = readme_latency_figures()
    prose = " ".join(markdown(cells).split())
    sentence = re.search(r"measured ([\d.]+) ms of linear layers in a ([\d.]+) ms step, about (\d+) %", prose)
    assert sentence, "the notebook should quote the benchmark's split of a decoding step"
    quoted_kernels, quoted_step, quoted_percent = float(sentence.group(1)), float(sentence.group(2)), int(sentence.group(3))
    assert (quoted_kernels, quoted_step) == (kernels_ms, step_ms)
    assert abs(quoted_percent - 100 * kernels_ms / step_ms) <= 2
    other = re.search(r"The remaining (\d+) ms", prose)
    assert other and abs(int(other.group(1)) - (step_ms - kernels_ms)) <= 2
    # The old claim that Python overhead is the rest of the time is gone.
    assert "overhead of running a few hundred small PyTorch operations" not in prose


def test_the_measurement_cell_shows_the_split(cells):
    cell = cell_with(cells, "kernels_ms = linear_layers_ms(model)")
    assert "nbval-ignore-output" in cell.metadata.get("tags", [])
    assert re.search(r"linear layers alone:\s+[\d.]+ ms \(\d+% of a step\)", output_text(cell))


def test_resources_are_current(cells):
    text = markdown(cells)
    assert "open_llm_leaderboard" not in text and "Open LLM Leaderboard" not in text
    for url in ("https://huggingface.co/docs/transformers/generation_strategies",
                "https://huggingface.co/docs/transformers/llm_optims",
                "https://huggingface.co/docs/transformers/kv_cache"):
        assert url in text
    assert "07" in text and "08" in text


def test_generate_is_called_directly(cells):
    sources = [cell.source for cell in code_cells(cells)]
    assert sum("model.generate(" in source for source in sources) >= 3


def test_batching_keeps_greedy_answers(cells):
    text = output_text(cell_with(cells, "batching.equal_rows"))
    equal, total = (int(group) for group in re.search(r"identical answers: (\d+) of (\d+)", text).groups())
    assert equal == total  # the prose says "In float32 the answers usually agree exactly"


def test_right_padding_warning_in_the_broken_call(cells):
    cell = cell_with(cells, 'padding_side="right"')
    assert "right-padding was detected" in output_text(cell, "stderr")


def test_exercises_attempts_hint_and_solutions_pass(cells):
    attempts = [cell for cell in code_cells(cells) if re.search(r"^answer = None  # your (code|answer) here", cell.source, re.M)]
    solutions = [cell for cell in code_cells(cells) if "solution" in cell.metadata.get("tags", [])]
    assert len(attempts) >= 3 and len(solutions) == len(attempts)
    for cell in attempts:
        assert output_text(cell).startswith("Not yet. Hint:")
    for cell in solutions:
        assert "Correct!" in output_text(cell)
