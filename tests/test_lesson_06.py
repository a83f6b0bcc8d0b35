"""Notebook 06 (going further): the committed notebook's outputs and prose agree with each other and with the README.

Reads notebooks/en/06_going_further.ipynb as committed (no execution) and finds cells by
their code, not by their position.
"""

import re
from pathlib import Path

import pytest
from committed_notebooks import code_cell, code_cells, notebook_cells, printed, prose

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def cells():
    return notebook_cells("06")


def readme_latency_figures():
    """(ms per token, linear-layer ms) of fp32 default generate() in the README's Performance section."""
    readme = (ROOT / "README.md").read_text()
    row = re.search(r"\| fp32, default `generate\(\)` \| \*\*([\d.]+)\*\*.*?\| ([\d.]+) ms \(", readme)
    assert row, "the README's latency table has changed: update this test"
    return float(row.group(1)), float(row.group(2))


def test_the_overhead_sentence_agrees_with_the_readme(cells):
    step_ms, kernels_ms = readme_latency_figures()
    text = " ".join(prose(cells).split())
    sentence = re.search(r"measured ([\d.]+) ms of linear layers in a ([\d.]+) ms step, about (\d+) %", text)
    assert sentence, "the notebook should quote the benchmark's split of a decoding step"
    quoted_kernels, quoted_step, quoted_percent = float(sentence.group(1)), float(sentence.group(2)), int(sentence.group(3))
    assert (quoted_kernels, quoted_step) == (kernels_ms, step_ms)
    assert abs(quoted_percent - 100 * kernels_ms / step_ms) <= 2
    other = re.search(r"The remaining (\d+) ms", text)
    assert other and abs(int(other.group(1)) - (step_ms - kernels_ms)) <= 2
    # The old claim that Python overhead is the rest of the time is gone.
    assert "overhead of running a few hundred small PyTorch operations" not in text


def test_the_measurement_cell_shows_the_split(cells):
    cell = code_cell(cells, "kernels_ms = linear_layers_ms(model)")
    assert "nbval-ignore-output" in cell.metadata.get("tags", [])
    assert re.search(r"linear layers alone:\s+[\d.]+ ms \(\d+% of a step\)", printed(cell))


def test_resources_are_current(cells):
    text = prose(cells)
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
    text = printed(code_cell(cells, "batching.equal_rows"))
    equal, total = (int(group) for group in re.search(r"identical answers: (\d+) of (\d+)", text).groups())
    assert equal == total  # the prose says "In float32 the answers usually agree exactly"


def test_right_padding_warning_in_the_broken_call(cells):
    cell = code_cell(cells, 'padding_side="right"')
    assert "right-padding was detected" in printed(cell, "stderr")


def test_exercises_attempts_hint_and_solutions_pass(cells):
    attempts = [cell for cell in code_cells(cells) if re.search(r"^answer = None  # your (code|answer) here", cell.source, re.M)]
    solutions = [cell for cell in code_cells(cells) if "solution" in cell.metadata.get("tags", [])]
    assert len(attempts) >= 3 and len(solutions) == len(attempts)
    for cell in attempts:
        assert printed(cell).startswith("Not yet. Hint:")
    for cell in solutions:
        assert "Correct!" in printed(cell)
