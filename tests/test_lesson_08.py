"""Notebook 08 (KV cache and faster decoding): the committed notebook teaches the real API
and its outputs match its prose.

Reads notebooks/en/08_kv_cache_and_faster_decoding.ipynb as committed (no execution) and
finds cells by their code, not by their position.
"""

import ast
import re

import pytest
from committed_notebooks import code_cell, code_cells, notebook_cells, printed, printed_line, printed_value, tags


@pytest.fixture(scope="module")
def cells():
    return notebook_cells("08")


def printed_list(cell, label):
    """The Python list printed after `label` (e.g. 'positions per pass: [96, 1, 1]')."""
    text = printed_line(cell, label, "stdout")
    return ast.literal_eval(text[: text.index("]") + 1])


def test_lessons_call_generate_directly(cells):
    sources = [cell.source for cell in code_cells(cells)]
    assert sum("model.generate(" in source for source in sources) >= 4
    assert any("use_cache=False" in source and "model.generate(" in source for source in sources)
    assert any("prompt_lookup_num_tokens=LOOKUP_TOKENS" in source and "model.generate(" in source for source in sources)
    assert any("assistant_model=" in source for source in sources)
    for source in sources:
        if "model.generate(" in source:
            assert "max_length" not in source


def test_timings_are_only_in_ignored_cells(cells):
    for cell in code_cells(cells):
        if "perf_counter" in cell.source or "time_prefill_and_decode(" in cell.source:
            assert "nbval-ignore-output" in tags(cell), cell.source[:80]


def test_cache_shapes_match_the_config(cells):
    cell = code_cell(cells, "cache = outputs.cache")
    passage = code_cell(cells, "passage_inputs = tokenizer.apply_chat_template")
    prompt_length = int(printed_line(passage, "", "stdout").split()[0])
    keys = printed_value(cell, "layer 0 keys:", "stdout")
    values = printed_value(cell, "layer 0 values:", "stdout")
    assert keys == values
    config = re.search(r"(\d+) layers, (\d+) query heads, (\d+) key/value heads, head size (\d+)", printed(cell))
    layers, _, kv_heads, head_size = (int(group) for group in config.groups())
    assert keys == (1, kv_heads, prompt_length, head_size)
    assert f"DynamicCache with {layers} layers, positions stored: {prompt_length}" in printed(cell)


def test_past_key_values_warning_is_shown(cells):
    cell = code_cell(cells, "outputs.past_key_values")
    assert "`past_key_values`/`cache_params` are deprecated. Use `cache` instead." in printed(cell, "stderr")
    assert "the same object: True" in printed(cell, "stdout")


def test_one_step_by_hand_matches_recomputing(cells):
    cell = code_cell(cells, "cache=cache, use_cache=True")
    assert "same next token: True" in printed(cell)


def test_use_cache_false_gives_identical_tokens(cells):
    cell = code_cell(cells, "lengths_with_cache")
    assert "same tokens: True" in printed(cell)
    with_cache = printed_list(cell, "use_cache=True,  positions per pass:")
    without_cache = printed_list(cell, "use_cache=False, positions per pass:")
    prompt_length = with_cache[0]
    assert with_cache == [prompt_length] + [1] * (len(with_cache) - 1)
    assert without_cache == [prompt_length + step for step in range(len(with_cache))]


def test_the_cache_is_faster_and_prefill_is_cheaper_per_token(cells):
    timing = printed(code_cell(cells, "use_cache=use_cache"))
    assert float(re.search(r"the cache makes it ([\d.]+)x faster", timing).group(1)) > 1
    phases = printed(code_cell(cells, "greedy_times = time_prefill_and_decode("))
    per_prompt_token = float(re.search(r"= ([\d.]+) ms per prompt token", phases).group(1))
    per_new_token = float(re.search(r"decode:\s+([\d.]+) ms per new token", phases).group(1))
    assert per_prompt_token < per_new_token  # "Per token, the prompt is far cheaper than the answer"


def test_a_pass_over_a_draft_costs_less_than_a_pass_per_position(cells):
    text = printed(code_cell(cells, "pass_ms[positions]"))
    ratio, positions = re.search(r"cost ([\d.]+)x one position, instead of (\d+)x", text).groups()
    assert 1 < float(ratio) < int(positions)


def test_prompt_lookup_equals_greedy_and_accepts_drafts(cells):
    assert "same tokens as greedy: True" in printed(code_cell(cells, "lookup_ids = model.generate("))
    cell = code_cell(cells, "draft_acceptance(lookup_passes.input_lengths")
    passes_line = re.search(r"(\d+) new tokens in (\d+) forward passes", printed(cell))
    new_tokens, passes = (int(group) for group in passes_line.groups())
    assert passes < new_tokens
    proposed, accepted = (int(group) for group in re.search(r"(\d+) proposed, (\d+) accepted", printed(cell)).groups())
    assert accepted == new_tokens - passes and 0 < accepted <= proposed
    lengths = printed_list(cell, "positions per pass:")
    assert len(lengths) == passes


def test_prompt_lookup_is_faster_in_the_committed_run(cells):
    text = printed(code_cell(cells, "lookup_times = time_prefill_and_decode("))
    assert float(re.search(r"speed-up:\s+([\d.]+)x", text).group(1)) > 1  # "Prompt lookup pays off ..."


def test_different_tokenizers_error_is_shown(cells):
    text = printed(code_cell(cells, "assistant_model=draft_model"))
    assert "ValueError: The main and assistant models have different tokenizers" in text
    assert "`tokenizer` and `assistant_tokenizer`" in text


def test_beam_search_warning_in_the_broken_call(cells):
    cell = code_cell(cells, "num_beams=2")
    assert "some of the set flags will be ignored" in printed(cell, "stderr")
    passes, new_tokens = (int(group) for group in re.search(r"(\d+) forward passes for (\d+) new tokens",
                                                            printed(cell)).groups())
    assert passes == new_tokens  # the drafts were ignored: one pass per token


def test_exercises_attempts_hint_and_solutions_pass(cells):
    attempts = [cell for cell in code_cells(cells) if "answer = None  # your code here" in cell.source]
    solutions = [cell for cell in code_cells(cells) if "solution" in tags(cell)]
    assert len(attempts) >= 3 and len(solutions) == len(attempts)
    for cell in attempts:
        assert printed(cell).startswith("Not yet. Hint:")
    for cell in solutions:
        assert "Correct!" in printed(cell)
        assert "check_" in cell.source.strip().splitlines()[-1]


def test_time_to_first_token_is_measured_by_hand_before_the_helper(cells):
    """A plain streamer that notes time.perf_counter() and a plain generate() call come before
    time_prefill_and_decode."""
    code = [cell.source for cell in cells if cell.cell_type == "code"]
    plain = next(index for index, source in enumerate(code) if "class ClockStreamer(BaseStreamer)" in source)
    helper = next(index for index, source in enumerate(code) if "time_prefill_and_decode(model" in source)
    assert plain < helper
    assert "time.perf_counter()" in code[plain] and "model.generate(**passage_inputs" in code[plain]
    text = printed(code_cell(cells, "class ClockStreamer(BaseStreamer)"), "stdout")
    assert re.search(r"time to first token:\s+[\d.]+ ms", text) and re.search(
        r"decode:\s+[\d.]+ ms per new token", text
    )


def test_the_cache_names_come_with_the_version_they_run_on(cells):
    """outputs.cache / cache= are new in transformers 5.24.0
    (5.23.0's modeling_outputs.py still says past_key_values)."""
    text = " ".join(cell.source for cell in cells if cell.cell_type == "markdown")
    assert "new in 5.24.0" in text and "5.23 and earlier call it `past_key_values`" in " ".join(text.split())
