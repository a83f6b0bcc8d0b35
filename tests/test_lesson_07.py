"""Notebook 07's committed outputs say what its prose says (no execution here: nbval does that)."""

import re

import pytest
from committed_notebooks import code_cell, notebook_cells, printed

PERCENT = re.compile(r"(-?\d+(?:\.\d+)?)%")


@pytest.fixture(scope="module")
def cells():
    return notebook_cells("07")


def test_generate_is_called_directly_with_output_scores(cells):
    sources = [cell.source for cell in cells if cell.cell_type == "code"]
    direct = [source for source in sources if "model.generate(" in source and "output_scores=True" in source]
    assert len(direct) >= 4
    assert any("output_logits=True" in source for source in direct)
    assert any("model.compute_transition_scores(" in source and "normalize_logits=True" in source
               for source in sources)


def test_output_scores_without_return_dict_warns_and_returns_a_tensor(cells):
    cell = code_cell(cells, "output_scores=True)", "hasattr(outputs")
    assert "return_dict_in_generate" not in cell.source
    assert "not valid and may be ignored: ['output_scores']" in printed(cell, "stderr")
    assert "returned a Tensor" in printed(cell, "stdout")
    assert "does it have scores? False" in printed(cell, "stdout")


def test_unnormalised_scores_are_not_probabilities(cells):
    cell = code_cell(cells, "raw_chosen_scores = model.compute_transition_scores(")
    exp_line = next(line for line in printed(cell, "stdout").splitlines() if line.startswith("exp() of those"))
    values = [float(value) for value in re.findall(r"-?\d+(?:\.\d+)?", exp_line.split(":", 1)[1])]
    assert all(value > 1 for value in values), "prose: exp() gives numbers far above 1"


def table_probabilities(text):
    """(token, probability) for each line of a printed table that ends in a percentage."""
    rows = []
    for line in text.splitlines():
        match = re.match(r"\s*(?:\d+\s+)?('.*?'|\".*?\")\s.*?(-?\d+(?:\.\d+)?)%\s*$", line)
        if match:
            rows.append((match.group(1), float(match.group(2)) / 100))
    return rows


def test_greedy_table_probabilities_are_in_range_and_match_the_prose(cells):
    plain = code_cell(cells, "transition_scores = model.compute_transition_scores(", "for token_id, log_probability")
    helper = code_cell(cells, "greedy_table = token_probability_table(")
    plain_rows = table_probabilities(printed(plain, "stdout"))
    helper_rows = table_probabilities(printed(helper, "stdout").split("least certain")[0])
    assert len(plain_rows) >= 5
    assert plain_rows == helper_rows, "the helper's table repeats the plain loop's numbers"
    assert all(0.0 <= probability <= 1.0 for _, probability in plain_rows)
    # prose: "the name right after 'My name is' is the least certain token ... the full stop after it is
    # close to certain"
    least = min(range(len(plain_rows)), key=lambda index: plain_rows[index][1])
    assert least == 0
    assert plain_rows[1][0] == "'.'" and plain_rows[1][1] > 0.9
    assert "least certain token: " + plain_rows[0][0] in printed(helper, "stdout")
    # prose: greedy takes the most likely token, yet it can be unlikely
    assert plain_rows[0][1] < 0.5


def test_forward_pass_agrees(cells):
    cell = code_cell(cells, "softmax of a forward pass")
    text = printed(cell, "stdout")
    values = re.findall(r"(?:transition score\)|outputs.scores|forward pass)\s+(\d\.\d{4})", text)
    assert len(values) == 3 and len(set(values)) == 1
    assert "agree with the forward pass: True" in text


def test_sampled_probabilities_differ_from_the_models(cells):
    cell = code_cell(cells, "output_logits=True", "p when sampling")
    text = printed(cell, "stdout")
    assert "tokens left in the sampling distribution at step 0: 5 of" in text
    rows = []
    for line in text.splitlines():
        numbers = PERCENT.findall(line)
        if len(numbers) == 2:
            rows.append((float(numbers[0]) / 100, float(numbers[1]) / 100))
    assert len(rows) >= 5
    assert all(0 <= value <= 1 for row in rows for value in row)
    # prose: the likely tokens come out well above the model's own figure
    assert max(sampling - model for sampling, model in rows) > 0.2
    assert all(sampling >= model - 1e-3 for sampling, model in rows if model > 0.5)


def test_batch_row_ends_early_and_padding_changes_the_sum(cells):
    batch = code_cell(cells, "BATCH_PROMPTS = ", "padding_side = \"left\"")
    assert "attention_mask" in batch.source or "**batch" in batch.source
    first_row = printed(batch, "stdout").split("row 1:")[0]
    assert "'</s>'" in first_row, "prose: the first row ends with </s> after a few tokens"
    sums = code_cell(cells, "text_mask = torch.ones_like(new_tokens, dtype=torch.bool)")
    assert "generated_token_mask" not in sums.source, "the mask is built by hand first"
    text = printed(sums, "stdout")
    row_0 = re.search(r"row 0: (\d+) tokens of text; sum over all columns (-?\d+\.\d+), over the text only "
                      r"(-?\d+\.\d+) \(p = (\S+)\)", text)
    assert row_0 and float(row_0.group(2)) != float(row_0.group(3)), "padding columns carry scores"
    assert 0 <= float(row_0.group(4)) <= 1
    assert "the same mask: True" in printed(code_cell(cells, "generated_token_mask(batch_outputs.sequences"), "stdout")


def test_candidates_prose(cells):
    cell = code_cell(cells, "num_return_sequences=4")
    rows = re.findall(r"^(sample \d|greedy)\s+sum\s+(-?\d+\.\d+)\s+mean per token\s+(-?\d+\.\d+)\s+'(.*)'$",
                      printed(cell, "stdout"), re.M)
    assert len(rows) == 5
    totals = [float(total) for _, total, _, _ in rows]
    means = [float(mean) for _, _, mean, _ in rows]
    best_total = totals.index(max(totals))
    # prose: the sample that stops right after the name has the highest total and is the shortest
    assert rows[best_total][0].startswith("sample") and rows[best_total][3].endswith("</s>")
    lengths = [float(total) / float(mean) for total, mean in zip(totals, means, strict=True)]
    assert lengths[best_total] == min(lengths)
    # prose: per token, the greedy answer scores best
    assert means.index(max(means)) == 4


def test_broken_exercise_cell_shows_the_mistakes(cells):
    cell = code_cell(cells, "broken_probabilities = model.compute_transition_scores(")
    assert "attention mask is not set" in printed(cell, "stderr")
    largest = float(re.search(r"largest 'probability': (\S+)", printed(cell, "stdout")).group(1))
    assert largest > 1, "prose: its numbers are far above 1"
