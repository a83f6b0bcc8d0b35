"""Notebook 03's committed outputs say what its prose says (read with nbformat, nothing executed).

Cells are found by their code, not by their position, so that adding a cell does not break
these checks.
"""

import ast
import re

import pytest
from committed_notebooks import code_cell, displayed, notebook_cells, printed

FLAGS_WARNING = "The following generation flags are not valid and may be ignored: ['temperature']"


@pytest.fixture(scope="module")
def code_cells():
    return [cell for cell in notebook_cells("03") if cell.cell_type == "code"]


def shown_value(cell):
    """The Python value a cell displayed (its last expression)."""
    return ast.literal_eval(displayed(cell))


def test_generate_is_called_directly(code_cells):
    calls = [cell for cell in code_cells if "model.generate(**inputs" in cell.source]
    assert len(calls) >= 6
    assert any("tokenizer.batch_decode(" in cell.source for cell in calls)
    assert not any("max_length" in cell.source for cell in code_cells)


def test_greedy_output_loops(code_cells):
    greedy = shown_value(code_cell(code_cells, "greedy_ids = model.generate(", "do_sample=False"))[0]
    assert greedy.count("I am a cat.") >= 4


def test_temperature_without_do_sample_warns_and_stays_greedy(code_cells):
    mistake = code_cell(code_cells, "temperature=0.7)")
    assert "do_sample" not in mistake.source.split("print(")[0], "the mistake cell forgets do_sample"
    assert FLAGS_WARNING in printed(mistake, "stderr")
    text = printed(mistake, "stdout")
    assert "identical to the greedy output: True" in text
    greedy = shown_value(code_cell(code_cells, "greedy_ids = model.generate(", "do_sample=False"))
    assert text.splitlines()[0] == repr(greedy)


def test_the_fix_samples(code_cells):
    fixed = code_cell(code_cells, "fixed_ids = model.generate(", "do_sample=True, temperature=0.7")
    lines = printed(fixed, "stdout").splitlines()
    assert len(lines) == 3
    assert all(line.startswith("identical to the greedy output: False") for line in lines)
    assert "warning" not in printed(fixed, "stderr").lower()


def test_same_seed_same_sample(code_cells):
    seeds = code_cell(code_cells, "def sample_with_seed(")
    assert "same seed, same sample: True" in printed(seeds, "stdout")


def test_generate_can_draw_50_tokens_by_default(code_cells):
    """The prose: a plain generate(do_sample=True) keeps 50 of 768 tokens; top_k=None keeps all."""
    lines = printed(code_cell(code_cells, "output_scores=True, return_dict_in_generate=True"), "stdout").splitlines()
    assert [line.split()[-7:] for line in lines] == [
        ["50", "of", "768", "tokens", "can", "be", "drawn"], ["768", "of", "768", "tokens", "can", "be", "drawn"],
    ]
    processors = printed(code_cell(code_cells, "generate_logits_processors(model, **options)"), "stdout")
    assert "{}: ['TopKLogitsWarper']" in processors
    assert "['TemperatureLogitsWarper', 'TopKLogitsWarper', 'TopPLogitsWarper']" in processors


def test_table_numbers_match_the_prose(code_cells):
    """The prose after the table quotes 57 % -> 94 % / 33 % and the tokens left (768, 50, 50, 50, 3, 9, 3)."""
    table = printed(code_cell(code_cells, "compare_settings_table(model, tokenizer"), "stdout").splitlines()
    assert table[0].split() == ["token", "no", "filter", "default", "T=0.5", "T=1.5", "top_k=3", "top_p=0.9",
                                "min_p=0.1"]
    assert table[1].startswith("' I'") and table[1].split()[2:6] == ["56.7%", "56.8%", "94.4%", "33.0%"]
    assert table[-1].split() == ["tokens", "left", "768", "50", "50", "50", "3", "9", "3"]


def test_a_checkpoint_that_samples_by_default(code_cells):
    """The local copy's generation_config.json samples; plain calls differ; do_sample=False and update() are greedy."""
    written = printed(code_cell(code_cells, "shipped_config.save_pretrained(checkpoint)"), "stdout")
    assert '"do_sample": true' in written and '"temperature": 0.6' in written and '"top_p": 0.9' in written
    plain = code_cell(code_cells, "plain_ids = sampling_model.generate(")
    first, second = printed(plain, "stdout").splitlines()
    assert first.split(":", 1)[1] != second.split(":", 1)[1], "two plain calls, two samples"
    assert printed(plain, "stderr") == "", "no message from transformers"
    greedy = code_cell(code_cells, "greedy_once = sampling_model.generate(")
    assert "the same tokens: True" in printed(greedy, "stdout")
    assert printed(greedy, "stderr") == "", "inherited sampling flags are not reported (_should_warn)"


def test_min_p_against_top_p_as_the_prose_says(code_cells):
    text = printed(code_cell(code_cells, "kept_by_min_p = count_candidates("), "stdout")
    counts = {}
    for line in text.splitlines():
        prompt = ast.literal_eval(line.split(" top token")[0].strip())
        min_p_count, top_p_count = (int(number) for number in re.findall(r"(\d+) tokens", line))
        counts[prompt] = (min_p_count, top_p_count)
    assert counts["The cat is"] == (1, 10)
    assert counts["I like to"] == (27, 95)


def test_top_k_1_is_greedy(code_cells):
    assert "sampling with top_k=1 equals greedy: True" in printed(code_cell(code_cells, "top_k=1)"), "stdout")


def temperature_blocks(code_cells):
    """temperature -> (how many of 10 are greedy, how many distinct, the three printed samples)."""
    text = printed(code_cell(code_cells, "for temperature in (0.3, 1.0, 1.5):"), "stdout")
    blocks = {}
    for line in text.splitlines():
        header = re.match(r"temperature=([\d.]+): (\d+) of 10 are the greedy text, (\d+) distinct", line)
        if header:
            current = float(header.group(1))
            blocks[current] = (int(header.group(2)), int(header.group(3)), [])
        else:
            blocks[current][2].append(ast.literal_eval(line.strip()))
    return blocks


def test_temperature_outputs_differ_as_the_prose_says(code_cells):
    blocks = temperature_blocks(code_cells)
    assert sorted(blocks) == [0.3, 1.0, 1.5]
    assert blocks[0.3][:2] == (10, 1), "at 0.3 all ten samples are the greedy loop"
    assert blocks[1.0][0] == 0 and blocks[1.5][0] == 0, "at 1.0 and 1.5 none is"
    for low, high in zip(blocks[1.0][2], blocks[1.5][2], strict=True):
        assert low != high, "the samples at 1.0 and 1.5 differ"
        assert low.split()[0] == high.split()[0], "... but begin with the same words"
    assert re.search(r"\d", blocks[1.5][2][2]), "the third sample at 1.5 turns into numbers"
    assert not re.search(r"\d", "".join(blocks[1.0][2]))


def test_repetition_controls_break_the_loop(code_cells):
    lines = printed(code_cell(code_cells, "loop_breakers = {"), "stdout").splitlines()
    texts = {lines[index].rstrip(":"): ast.literal_eval(lines[index + 1].strip()) for index in range(0, 6, 2)}
    assert "I am a cat. I am a cat." in texts["do_sample=False"]
    for label in ("do_sample=False, repetition_penalty=1.5", "do_sample=False, no_repeat_ngram_size=3"):
        assert "I am a cat. I am a cat." not in texts[label]
        assert texts[label].count("I am a cat.") == 1
    assert "I am a hen." in texts["do_sample=False, no_repeat_ngram_size=3"]


def test_real_model_outputs_match_the_prose(code_cells):
    lines = printed(code_cell(code_cells, "real_settings = {"), "stdout").splitlines()
    texts = {lines[index].rstrip(":"): ast.literal_eval(lines[index + 1].strip())
             for index in range(0, len(lines), 2)}
    assert texts["greedy"].count("She is a cat.") >= 3
    assert "She is a cat. She is a cat." not in texts["greedy, repetition_penalty=1.3"]
    assert len(set(texts.values())) == len(texts), "every setting gives a different text"
