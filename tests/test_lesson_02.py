"""Content checks on the committed notebook 02: the default-length pitfall shows its real
warning, and the outputs agree with the prose (20 new tokens, the keyword argument wins).

Reads notebooks/en/02_output_length.ipynb as committed (no execution) and finds cells by
their code, not by position.
"""

import re

import pytest
from committed_notebooks import assert_exercises_with_hints_and_solutions, code_cell, notebook_cells, printed, prose

DEFAULT_LENGTH_WARNING = "UserWarning: Using the model-agnostic default `max_length`"


@pytest.fixture(scope="module")
def cells():
    return notebook_cells("02")


def test_calls_generate_directly(cells):
    assert any("model.generate(" in c.source for c in cells if c.cell_type == "code")


def test_default_length_warning_shows_in_the_cell_that_forgets_the_length(cells):
    cell = code_cell(cells, "default_ids = model.generate(")
    assert "max_new_tokens" not in cell.source.split("default_ids = model.generate(")[1].split(")")[0]
    stderr = printed(cell, "stderr")
    assert DEFAULT_LENGTH_WARNING in stderr
    for other in cells:
        if other is not cell and other.cell_type == "code" and "solution" not in other.metadata.get("tags", []):
            shown = printed(other, with_text_plain=True)
            assert DEFAULT_LENGTH_WARNING not in shown, "only the mistake (and its exercise) warns"
    assert not any("catch_warnings" in c.source for c in cells if c.cell_type == "code")


def test_default_run_adds_20_new_tokens_and_the_warning_counts_the_prompt(cells):
    cell = code_cell(cells, "default_ids = model.generate(")
    match = re.search(r"prompt: (\d+) tokens, new: (\d+) tokens", printed(cell, "stdout"))
    assert match
    prompt_length, new_tokens = int(match.group(1)), int(match.group(2))
    assert new_tokens == 20
    reported = int(re.search(r"`max_length` \(=(\d+)\)", printed(cell, "stderr")).group(1))
    assert reported == prompt_length + 20


def test_history_of_the_default_is_stated_with_versions(cells):
    text = prose(cells)
    assert "4.47" in text and "4.46" in text
    assert "4.38.0" in text and "4.37" in text, "ValueError from 4.38.0, a UserWarning before"
    assert not re.search(r"[Ii]n transformers 5(?![.\d])", text), "the 20-new-token default came in 4.47, not 5"


def test_the_guides_50_token_run_is_explained_by_the_tokenizers(cells):
    """The prose: the guide's 50 tokens end at "16," (3 tokens per ", 3", 4 per ", 10"); tutorial-tiny's
    tokenizer keeps the space and the number in one token, so its 50 tokens reach "27"."""
    pieces = printed(code_cell(cells, 'tokenizer(", 3, 16,", add_special_tokens=False)'), "stdout").strip()
    assert pieces == "[',', 'Ġ3', ',', 'Ġ16', ',']"
    run = printed(
        code_cell(cells, "generated_ids = model.generate(**model_inputs, max_new_tokens=MAX_NEW_TOKENS"), "stdout"
    )
    assert run.splitlines()[0].endswith(", 26, 27") and "new: 50 tokens" in run
    assert "7 × 3 + 7 × 4 + 1" in prose(cells)


def test_generation_config_round_trip_and_kwarg_wins(cells):
    saved = code_cell(cells, "save_pretrained(folder)")
    assert "GenerationConfig.from_pretrained(folder)" in saved.source
    assert "files written: ['generation_config.json']" in printed(saved, with_text_plain=True)
    assert "/tmp" not in printed(saved, with_text_plain=True)
    passed = code_cell(cells, "generation_config=loaded_config)")
    assert "new: 12 tokens" in printed(passed, with_text_plain=True)
    assert "max_new_tokens=12" in saved.source
    conflict = code_cell(cells, "generation_config=loaded_config, max_new_tokens=5")
    assert "new: 5 tokens (config: 12)" in printed(conflict, "stdout")
    assert "[transformers] Passing `generation_config` together" in printed(conflict, "stderr")
    index = cells.index(conflict)
    assert "keyword argument won" in cells[index + 1].source


def test_exercises_have_checks_and_later_solutions(cells):
    assert_exercises_with_hints_and_solutions(cells, code_in_hint=r"\.\w+\(|stop_strings=|tokenizer=tokenizer")
