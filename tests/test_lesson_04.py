"""Content checks on the committed notebook 04: each padding pitfall shows transformers' real
message in the cell that makes it, and the outputs agree with the prose (the right-padded row
is visibly wrong, the left-padded batch equals each prompt alone, the mask matters).

Reads notebooks/en/04_padding_side.ipynb as committed (no execution) and finds cells by
their code, not by position.
"""

import ast
import re

import pytest
from committed_notebooks import code_cell, notebook_cells, printed

# The messages as transformers 5.24 writes them (tokenization_utils_base.py, generation/utils.py).
PAD_TOKEN_ERROR = "ValueError: Asking to pad but the tokenizer does not have a padding token"
RIGHT_PADDING_WARNING = "[transformers] A decoder-only architecture is being used, but right-padding was detected!"
MISSING_MASK_WARNING = "[transformers] The attention mask is not set with a batched input, and cannot be inferred"


@pytest.fixture(scope="module")
def cells():
    return notebook_cells("04")


def printed_strings(cell) -> list[str]:
    """The repr()-printed strings of a cell's stdout, in order (e.g. "'A, B, C'" lines)."""
    strings = []
    for line in printed(cell, "stdout").splitlines():
        match = re.match(r"^('.*?'|\".*?\")(\s|$)", line)
        if match:
            strings.append(ast.literal_eval(match.group(1)))
    return strings


def letters_and_digits(text: str) -> str:
    """`text` without punctuation and spaces: what is left when a misplaced comma is forgiven."""
    return re.sub(r"[\W_]+", "", text)


def test_calls_generate_and_the_tokenizer_directly(cells):
    code = "\n".join(cell.source for cell in cells if cell.cell_type == "code")
    assert "model.generate(**right_inputs" in code and "model.generate(**left_inputs" in code
    assert "AutoTokenizer.from_pretrained(path)" in code
    assert 'AutoTokenizer.from_pretrained(path, padding_side="left")' in code
    assert "tokenizer.batch_decode(" in code
    assert "transformers_warnings" not in code and "catch_warnings" not in code  # warnings show by themselves


def test_missing_pad_token_shows_the_real_value_error(cells):
    cell = code_cell(cells, "except ValueError as error:")
    assert PAD_TOKEN_ERROR in printed(cell, "stdout")


def test_right_padding_warning_shows_in_the_right_padded_generate_cell(cells):
    cell = code_cell(cells, "right_ids = model.generate(**right_inputs")
    assert RIGHT_PADDING_WARNING in printed(cell, "stderr")
    fixed = code_cell(cells, "left_ids = model.generate(**left_inputs")
    assert "right-padding" not in printed(fixed)


def test_missing_mask_warning_shows_in_the_cell_that_leaves_it_out(cells):
    cell = code_cell(cells, 'model.generate(input_ids=left_inputs["input_ids"]')
    assert "attention_mask" not in cell.source
    assert MISSING_MASK_WARNING in printed(cell, "stderr")


def test_right_padded_row_is_visibly_wrong_and_left_padded_equals_alone(cells):
    right = printed_strings(code_cell(cells, "right_ids = model.generate(**right_inputs"))
    alone = printed_strings(code_cell(cells, "alone_texts = []"))
    left = printed_strings(code_cell(cells, "left_ids = model.generate(**left_inputs"))
    assert len(right) == len(alone) == len(left) == 2
    # The short row: more than punctuation differs between right padding and the prompt alone.
    assert letters_and_digits(right[0]) != letters_and_digits(alone[0])
    assert left == alone
    assert right[1] == alone[1]  # the long row has no padding: unaffected
    fixed_output = printed(code_cell(cells, "left_ids = model.generate(**left_inputs"), "stdout")
    assert fixed_output.count("same as alone: True") == 2


def test_leaving_out_the_mask_changes_the_padded_row(cells):
    output = printed(code_cell(cells, 'model.generate(input_ids=left_inputs["input_ids"]'), "stdout")
    assert "same as with the mask: False" in output  # the padded row, as the prose says
    assert "same as with the mask: True" in output  # the row without padding


def test_the_guides_empty_string_is_a_decoding_slip(cells):
    output = printed(code_cell(cells, "texts_of_single_ids = "), "stdout")
    assert "the guide's [0] in 4.x: ''" in output
    whole_row = re.search(r"the guide's line in transformers 5\.24: (.*)", output).group(1)
    assert ast.literal_eval(whole_row)  # the row was generated: not empty


def test_recap_comparison_agrees(cells):
    output = printed(code_cell(cells, "compare_padding_sides(model, tokenizer, PROMPTS"), "stdout")
    left_lines = [line for line in output.splitlines() if line.strip().startswith("left padded")]
    right_lines = [line for line in output.splitlines() if line.strip().startswith("right padded")]
    assert len(left_lines) == len(right_lines) == 2
    assert all(line.endswith("same as alone: True") for line in left_lines)
    assert right_lines[0].endswith("same as alone: False")  # the short, padded row


def test_real_model_right_padding_is_visibly_wrong(cells):
    output = printed(code_cell(cells, "real_model, _ = companion.load_model(REAL_MODEL)"), "stdout")
    rows = dict(re.findall(r"^(row 0 padded on the (?:right|left)) *: (.*)$", output, flags=re.MULTILINE))
    right = ast.literal_eval(rows["row 0 padded on the right"])
    left = ast.literal_eval(rows["row 0 padded on the left"])
    assert letters_and_digits(right) != letters_and_digits(left)


def test_exercises_have_checks_and_solutions_after_them(cells):
    code_cells = [cell for cell in cells if cell.cell_type == "code"]
    checks = ["check_batch_ready_for_generation(", "check_position_ids(", "check_batch_continuations("]
    for check in checks:
        with_check = [index for index, cell in enumerate(code_cells) if check in cell.source]
        learner = [i for i in with_check if "answer = None  # your code here" in code_cells[i].source]
        solutions = [i for i in with_check if "solution" in code_cells[i].metadata.get("tags", [])]
        assert len(learner) == 1 and len(solutions) == 1 and solutions[0] > learner[0]
        assert "Not yet. Hint:" in printed(code_cells[learner[0]])
        assert "Correct!" in printed(code_cells[solutions[0]])
        assert code_cells[solutions[0]].source.rstrip().splitlines()[-1].startswith(check)


def test_the_guides_own_pair_comes_first(cells):
    """The guide's pair runs before the longer one: right padding drops a comma (easy to miss), left padding
    gives the guide's own output '1, 2, 3, 4, 5, 6,' verbatim."""
    code = [cell.source for cell in cells if cell.cell_type == "code"]
    guide_cell = next(
        index for index, source in enumerate(code) if 'GUIDE_PROMPTS = ["1, 2, 3", "A, B, C, D, E"]' in source
    )
    longer_cell = next(
        index for index, source in enumerate(code) if "right_ids = model.generate(**right_inputs" in source
    )
    assert guide_cell < longer_cell
    right = printed(code_cell(cells, "guide_right_ids = model.generate("), "stdout")
    assert right.startswith("['1, 2, 3 4, 5, 6, 7'")
    left = printed(code_cell(cells, "guide_left_ids = model.generate("), "stdout")
    assert "the guide's pair: ['1, 2, 3, 4, 5, 6,'" in left


def test_the_position_formula_is_revealed_only_after_exercise_2(cells):
    attempt = next(
        index for index, cell in enumerate(cells) if "check_position_ids(exercise_mask, answer)" in cell.source
    )
    assert not any("cumsum" in cell.source for cell in cells[:attempt] if cell.cell_type == "markdown")
