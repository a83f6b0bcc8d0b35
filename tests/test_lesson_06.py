"""Notebook 06 (going further): the committed notebook's outputs and prose agree with each other and with the README.

Reads notebooks/en/06_going_further.ipynb as committed (no execution) and finds cells by
their code, not by their position.
"""

import re

import pytest
from committed_notebooks import code_cell, code_cells, notebook_cells, printed, prose


@pytest.fixture(scope="module")
def cells():
    return notebook_cells("06")


def test_the_latency_prose_is_about_the_output_above_it(cells):
    """The prose under the latency cell quotes no single run (the README keeps the benchmark's figures), and
    what it states holds for any run: measured / floor above 1, the linear layers' share read from the output."""
    text = " ".join(prose(cells).split())
    assert "`measured / floor` is always above 1" in text and "Its share of the step is the figure to read" in text
    assert not re.search(r"\d+(\.\d+)? ms of linear layers", text), "no benchmark figures in the prose"
    output = printed(code_cell(cells, "kernels_ms = linear_layers_ms(model)"), "stdout")
    assert float(re.search(r"measured / floor:\s+([\d.]+)x", output).group(1)) > 1
    assert 0 < int(re.search(r"\((\d+)% of a step\)", output).group(1)) <= 100


def test_a_plain_batched_generate_call_comes_before_the_helper(cells):
    code = [cell.source for cell in code_cells(cells)]
    plain = next(index for index, source in enumerate(code) if "time.perf_counter()" in source)
    helper = next(index for index, source in enumerate(code) if "measure_batching(model" in source)
    assert plain < helper
    assert "model.generate(**batch_inputs" in code[plain] and "new_token_count" in code[plain]
    assert not any("pad_token_id=tokenizer.eos_token_id" in source for source in code)


def test_further_reading_names_serving_engines_and_the_strategies_that_left(cells):
    text = " ".join(prose(cells).split())
    for name in ("vLLM", "SGLang", "transformers serve", "maintenance mode",
                 "transformers-community/contrastive-search", "transformers-community/dola", "trust_remote_code=True"):
        assert name in text, name


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
    attempts = [
        cell for cell in code_cells(cells) if re.search(r"^answer = None  # your (code|answer) here", cell.source, re.M)
    ]
    solutions = [cell for cell in code_cells(cells) if "solution" in cell.metadata.get("tags", [])]
    assert len(attempts) >= 3 and len(solutions) == len(attempts)
    for cell in attempts:
        assert printed(cell).startswith("Not yet. Hint:")
    for cell in solutions:
        assert "Correct!" in printed(cell)
