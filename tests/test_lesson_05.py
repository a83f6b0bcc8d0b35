"""Notebook 05 (wrong prompt format): the committed notebook teaches the real API and its outputs match its prose.

Reads notebooks/en/05_prompt_format.ipynb as committed (no execution) and finds cells by
their code, not by their position.
"""

import ast

import pytest
from committed_notebooks import code_cell, code_cells, notebook_cells, printed, printed_value


@pytest.fixture(scope="module")
def cells():
    return notebook_cells("05")


def test_default_parameters_use_the_instruct_model(cells):
    parameters = next(cell for cell in code_cells(cells) if "parameters" in cell.metadata.get("tags", []))
    assert 'MODEL = "smollm2-135m"' in parameters.source
    assert 'BASE_MODEL = "tutorial-tiny"' in parameters.source
    assert "INSTRUCT_MODEL" not in "".join(cell.source for cell in code_cells(cells))


def test_generate_is_called_directly_with_the_chat_template_inputs(cells):
    cell = code_cell(cells, "inputs = tokenizer.apply_chat_template(", "model.generate(**inputs,")
    assert "return_dict=True" in cell.source and "add_generation_prompt=True" in cell.source
    assert 'outputs[:, inputs["input_ids"].shape[1]:]' in cell.source and "batch_decode" in cell.source
    assert "BatchEncoding {'input_ids'" in printed(cell)


def test_every_generate_call_passes_max_new_tokens_and_do_sample(cells):
    for cell in code_cells(cells):
        for line in cell.source.splitlines():
            if "model.generate(" in line:
                assert "max_new_tokens=" in line and "do_sample=" in line, line
                assert "max_length" not in line


def test_a_bare_question_gets_only_the_end_of_turn_token(cells):
    cell = code_cell(cells, "raw_inputs = tokenizer(QUESTION")
    assert printed(cell) == "new tokens: 1\n'<|im_end|>'\n"


def test_older_code_shows_its_error_then_the_fix(cells):
    broken = code_cell(cells, "model.generate(old_inputs,")
    text = printed(broken)
    assert "apply_chat_template returned a BatchEncoding" in text
    assert "AttributeError: \n" in text, "the learner's bare AttributeError, as the traceback ends"
    source = code_cell(cells, "old_inputs = tokenizer.apply_chat_template(").source
    assert "extract_tb" not in source and "__context__" not in source, "transformers' own error, as a learner meets it"
    fixed = code_cell(cells, "model.generate(**old_inputs,")
    assert "same answer as above: True" in printed(fixed)


def test_the_system_message_changes_the_answer(cells):
    cell = code_cell(cells, "chats_to_compare")
    text = printed(cell)
    max_new_tokens = int(code_cell(cells, "MAX_NEW_TOKENS = ").source.split("MAX_NEW_TOKENS = ")[1].split()[0])
    # The prose: with the default system message the answer runs into the limit; with ours it ends by itself.
    assert f"the template's default system message: {max_new_tokens} new tokens, ended with <|im_end|>: False" in text
    ours = [line for line in text.splitlines() if line.startswith("our SYSTEM_PROMPT:")]
    assert len(ours) == 1 and ours[0].endswith("ended with <|im_end|>: True")
    assert int(ours[0].split(": ")[1].split()[0]) < max_new_tokens


def test_without_the_generation_prompt_the_model_writes_the_header_itself(cells):
    cell = code_cell(cells, "add_generation_prompt=False", "model.generate(**inputs_without_header")
    with_special_tokens = printed_value(cell, "with special tokens     :")
    skipped = printed_value(cell, "skip_special_tokens=True:")
    first_answer = ast.literal_eval(printed(code_cell(cells, "first_answer = tokenizer.batch_decode")).splitlines()[-1])
    # What the prose says: the header comes first, "assistant" stays in the decoded text, then the same answer.
    assert with_special_tokens.startswith("<|im_start|>assistant\n")
    assert skipped == "assistant\n" + first_answer
    assert "ends with first_answer  : True" in printed(cell)


def test_the_conversation_continues(cells):
    conversation = code_cell(cells, "FOLLOW_UP = ", '"role": "assistant", "content": first_answer')
    in_conversation = printed_value(conversation, "in the conversation:")
    assert in_conversation.strip() and "sun" in in_conversation.lower()
    alone = printed_value(code_cell(cells, "alone_messages = ["), "asked alone        :")
    assert alone.strip() and "sun" not in alone.lower()


def test_the_base_model_has_no_template_and_does_not_answer(cells):
    error = code_cell(cells, "base_tokenizer.apply_chat_template(")
    assert "ValueError: Cannot use chat template functions because tokenizer.chat_template is not set" in printed(error)
    comparison = code_cell(cells, 'for question in [QUESTION, "Is the sun warm?"]')
    lines = printed(comparison).splitlines()
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
    cell = code_cell(cells, "padding=True", "model.generate(**batch_inputs")
    text = printed(cell)
    assert "padding side before: right" in text
    assert "second answer equals first_answer: True" in text
    recap = code_cell(cells, "from companion.chat import")
    assert "render_chat gives prompt_text: True" in printed(recap)
    assert "chat() gives batch_answers: True" in printed(recap)


def test_exercises_have_checks_and_solutions_after_them(cells):
    checks = ["check_header_token_count(", "check_fixed_chat_batch(", "check_continued_message("]
    positions = {cell_index: cell for cell_index, cell in enumerate(cells)}
    for check in checks:
        exercise_index = next(
            index for index, cell in positions.items()
            if cell.cell_type == "code" and "answer = None  # your code here" in cell.source and check in cell.source
        )
        assert printed(cells[exercise_index]).startswith("Not yet. Hint:")
        solution_index = next(
            index for index, cell in positions.items()
            if index > exercise_index and "solution" in cell.metadata.get("tags", [])
        )
        solution = cells[solution_index]
        assert solution.source.rstrip().splitlines()[-1].startswith(check)
        assert "Correct!" in printed(solution)
