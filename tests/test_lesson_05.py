"""Notebook 05 (wrong prompt format): the committed notebook teaches the real API and its outputs match its prose.

Reads notebooks/en/05_prompt_format.ipynb as committed (no execution) and finds cells by
their code, not by their position.
"""

import ast
from pathlib import Path

import nbformat
import pytest

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "en" / "05_prompt_format.ipynb"


@pytest.fixture(scope="module")
def cells():
    return nbformat.read(NOTEBOOK, as_version=4).cells


def code_cells(cells):
    return [cell for cell in cells if cell.cell_type == "code"]


def cell_with(cells, *snippets):
    """The one code cell whose source holds every snippet."""
    found = [cell for cell in code_cells(cells) if all(snippet in cell.source for snippet in snippets)]
    assert len(found) == 1, f"expected one code cell with {snippets}, found {len(found)}"
    return found[0]


def output_text(cell):
    """Everything the cell printed (stdout and stderr), in order."""
    return "".join(output.get("text", "") for output in cell.get("outputs", []) if output.output_type == "stream")


def printed_value(cell, label):
    """The Python literal printed after `label` on one line of the cell's output."""
    for line in output_text(cell).splitlines():
        if line.startswith(label):
            return ast.literal_eval(line[len(label):].strip())
    raise AssertionError(f"no line starting with {label!r} in:\n{output_text(cell)}")


def test_default_parameters_use_the_instruct_model(cells):
    parameters = next(cell for cell in code_cells(cells) if "parameters" in cell.metadata.get("tags", []))
    assert 'MODEL = "smollm2-135m"' in parameters.source
    assert 'BASE_MODEL = "tutorial-tiny"' in parameters.source
    assert "INSTRUCT_MODEL" not in "".join(cell.source for cell in code_cells(cells))


def test_generate_is_called_directly_with_the_chat_template_inputs(cells):
    cell = cell_with(cells, "inputs = tokenizer.apply_chat_template(", "model.generate(**inputs,")
    assert "return_dict=True" in cell.source and "add_generation_prompt=True" in cell.source
    assert 'outputs[:, inputs["input_ids"].shape[1]:]' in cell.source and "batch_decode" in cell.source
    assert "BatchEncoding {'input_ids'" in output_text(cell)


def test_every_generate_call_passes_max_new_tokens_and_do_sample(cells):
    for cell in code_cells(cells):
        for line in cell.source.splitlines():
            if "model.generate(" in line:
                assert "max_new_tokens=" in line and "do_sample=" in line, line
                assert "max_length" not in line


def test_a_bare_question_gets_only_the_end_of_turn_token(cells):
    cell = cell_with(cells, "raw_inputs = tokenizer(QUESTION")
    assert output_text(cell) == "new tokens: 1\n'<|im_end|>'\n"


def test_older_code_shows_its_error_then_the_fix(cells):
    broken = cell_with(cells, "model.generate(old_inputs,")
    text = output_text(broken)
    assert "apply_chat_template returned a BatchEncoding" in text
    assert "AttributeError in generate()" in text and "KeyError('shape')" in text
    fixed = cell_with(cells, "model.generate(**old_inputs,")
    assert "same answer as above: True" in output_text(fixed)


def test_the_system_message_changes_the_answer(cells):
    cell = cell_with(cells, "chats_to_compare")
    text = output_text(cell)
    max_new_tokens = int(cell_with(cells, "MAX_NEW_TOKENS = ").source.split("MAX_NEW_TOKENS = ")[1].split()[0])
    # The prose: with the default system message the answer runs into the limit; with ours it ends by itself.
    assert f"the template's default system message: {max_new_tokens} new tokens, ended with <|im_end|>: False" in text
    ours = [line for line in text.splitlines() if line.startswith("our SYSTEM_PROMPT:")]
    assert len(ours) == 1 and ours[0].endswith("ended with <|im_end|>: True")
    assert int(ours[0].split(": ")[1].split()[0]) < max_new_tokens


def test_without_the_generation_prompt_the_model_writes_the_header_itself(cells):
    cell = cell_with(cells, "add_generation_prompt=False", "model.generate(**inputs_without_header")
    with_special_tokens = printed_value(cell, "with special tokens     :")
    skipped = printed_value(cell, "skip_special_tokens=True:")
    first_answer = ast.literal_eval(output_text(cell_with(cells, "first_answer = tokenizer.batch_decode")).splitlines()[-1])
    # What the prose says: the header comes first, "assistant" stays in the decoded text, then the same answer.
    assert with_special_tokens.startswith("<|im_start|>assistant\n")
    assert skipped == "assistant\n" + first_answer
    assert "ends with first_answer  : True" in output_text(cell)


def test_the_conversation_continues(cells):
    conversation = cell_with(cells, "FOLLOW_UP = ", '"role": "assistant", "content": first_answer')
    in_conversation = printed_value(conversation, "in the conversation:")
    assert in_conversation.strip() and "sun" in in_conversation.lower()
    alone = printed_value(cell_with(cells, "alone_messages = ["), "asked alone        :")
    assert alone.strip() and "sun" not in alone.lower()


def test_the_base_model_has_no_template_and_does_not_answer(cells):
    error = cell_with(cells, "base_tokenizer.apply_chat_template(")
    assert "ValueError: Cannot use chat template functions because tokenizer.chat_template is not set" in output_text(error)
    comparison = cell_with(cells, 'for question in [QUESTION, "Is the sun warm?"]')
    lines = output_text(comparison).splitlines()
    base_lines = [line for line in lines if line.startswith("  tutorial-tiny, plain text:")]
    chat_lines = [line for line in lines if line.startswith("  smollm2-135m, chat format:")]
    assert len(base_lines) == 2 and len(chat_lines) == 2
    first_base, second_base = (ast.literal_eval(line.split(":", 1)[1].strip()) for line in base_lines)
    assert first_base == "</s>"
    assert second_base.count("I am a fish.") >= 2
    for line in chat_lines:
        answer = ast.literal_eval(line.split(":", 1)[1].strip())
        assert answer.strip() and "<|im_end|>" not in answer  # answered, and cut off by MAX_NEW_TOKENS


def test_the_batch_is_left_padded_and_matches_the_single_chat(cells):
    cell = cell_with(cells, "padding=True", "model.generate(**batch_inputs")
    text = output_text(cell)
    assert "padding side before: right" in text
    assert "second answer equals first_answer: True" in text
    recap = cell_with(cells, "from companion.chat import")
    assert "render_chat gives prompt_text: True" in output_text(recap)
    assert "chat() gives batch_answers: True" in output_text(recap)


def test_exercises_have_checks_and_solutions_after_them(cells):
    checks = ["check_header_token_count(", "check_fixed_chat_batch(", "check_continued_message("]
    positions = {cell_index: cell for cell_index, cell in enumerate(cells)}
    for check in checks:
        exercise_index = next(
            index for index, cell in positions.items()
            if cell.cell_type == "code" and "answer = None  # your code here" in cell.source and check in cell.source
        )
        assert output_text(cells[exercise_index]).startswith("Not yet. Hint:")
        solution_index = next(
            index for index, cell in positions.items()
            if index > exercise_index and "solution" in cell.metadata.get("tags", [])
        )
        solution = cells[solution_index]
        assert solution.source.rstrip().splitlines()[-1].startswith(check)
        assert "Correct!" in output_text(solution)
