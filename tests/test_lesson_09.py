"""Notebook 09 (generate() inside an application): the committed notebook teaches the real API
and its outputs match its prose.

Reads notebooks/en/09_generate_in_an_application.ipynb as committed (no execution) and finds
cells by their code. The notebook's own `LogitsProcessor` is also run here, taken from the
committed cell, and compared with transformers' built-in processors.
"""

import ast
import re

import pytest
import torch
from committed_notebooks import code_cell, code_cells, notebook_cells, printed, printed_line, tags
from transformers import LogitsProcessor, LogitsProcessorList, SuppressTokensLogitsProcessor


@pytest.fixture(scope="module")
def cells():
    return notebook_cells("09")


def test_lessons_use_the_real_api(cells):
    sources = "\n".join(cell.source for cell in code_cells(cells))
    for call in ("TextIteratorStreamer(", "Thread(target=model.generate", "stop_strings=", "tokenizer=tokenizer",
                 "class StopAfterWords(StoppingCriteria)", "eos_token_id=eos_ids", "max_time=",
                 "class OnlyTheseTokens(LogitsProcessor)", "suppress_tokens=", "bad_words_ids=", "sequence_bias=",
                 '"serve"', "OpenAI(base_url=", "stream=True", "diagnose("):
        assert call in sources, call
    for cell in code_cells(cells):
        if "model.generate(" in cell.source:
            assert "max_length" not in cell.source


def test_timings_are_only_in_ignored_cells(cells):
    for cell in code_cells(cells):
        if ":.2f} s" in cell.source or "max_time=0.5" in cell.source:
            assert "nbval-ignore-output" in tags(cell), cell.source[:80]


def test_streamed_pieces_join_to_the_answer(cells):
    pieces = ast.literal_eval(printed(code_cell(cells, "for piece in streamer:")).strip())
    assert len(pieces) > 1 and all(isinstance(piece, str) for piece in pieces)
    assert "same text: True" in printed(code_cell(cells, "story_answer = tokenizer.decode("))


def test_stopping_leaves_what_the_prose_says(cells):
    assert "you must pass the model's tokenizer" in printed(code_cell(cells, "try:\n    model.generate("))
    stopped = printed(code_cell(cells, 'stop_strings=[",", "."], tokenizer=tokenizer'))
    text = ast.literal_eval(stopped.splitlines()[0])
    assert text[-1] in ",." and text.count(",") + text.count(".") == 1  # ends right after the first, which stays
    assert "the start of the full answer: True" in stopped
    words = ast.literal_eval(printed(code_cell(cells, "StopAfterWords(tokenizer, story_length, words=4)")).strip())
    assert len(words.split()) == 4
    eos = code_cell(cells, "eos_token_id=eos_ids")
    assert printed_line(eos, "last token:", "stdout").strip() in ("','", "'.'")


def test_steered_answer_has_only_digits_commas_and_spaces(cells):
    steered = printed(code_cell(cells, "class OnlyTheseTokens(LogitsProcessor)"))
    text = ast.literal_eval(
        printed_line(code_cell(cells, "class OnlyTheseTokens(LogitsProcessor)"), "steered:", "stdout").strip()
    )
    assert text and set(text) <= set("0123456789, ")
    assert "free:" in steered
    assert "same tokens as suppress_tokens: True" in printed(code_cell(cells, "suppress_tokens=blocked_ids"))


def test_serving_says_what_is_missing_or_serves(cells):
    check = printed(code_cell(cells, "SERVING_PACKAGES = ["))
    assert "missing for transformers serve:" in check
    reply = printed(code_cell(cells, "OpenAI(base_url="))
    assert "joined equal to the reply: True" in reply and "the same as generate() here: True" in reply


def test_doctor_walkthrough(cells):
    assert "No length given" in printed(code_cell(cells, "print(diagnose(model, tokenizer, story_inputs))"))
    sampling = printed(code_cell(cells, "temperature=0.7, top_p=0.9"))
    assert "Sampling settings without sampling" in sampling and "will include the prompt" in sampling
    padding = printed(code_cell(cells, "right_padded = tokenizer(texts"))
    assert "Right padding" in padding and "No attention mask" in padding
    too_long = printed(code_cell(cells, "max_new_tokens=context"))
    assert "Longer than the model's context" in too_long and "max_position_embeddings=" in too_long
    fixed = printed(code_cell(cells, "prompt_columns = left_padded"))
    assert "found no pitfall" in fixed
    assert "first answer as alone: True" in fixed and "second answer as alone: True" in fixed


def the_notebooks_processor(cells) -> type:
    """The class OnlyTheseTokens exactly as the committed notebook defines it."""
    source = code_cell(cells, "class OnlyTheseTokens(LogitsProcessor)").source
    definition = source[source.index("class OnlyTheseTokens"): source.index("\n\n\nwith torch.inference_mode()")]
    namespace = {"LogitsProcessor": LogitsProcessor, "torch": torch}
    exec(definition, namespace)
    return namespace["OnlyTheseTokens"]


def test_the_notebooks_processor_equals_transformers_suppress_tokens(cells, tiny):
    only_these_tokens = the_notebooks_processor(cells)
    model, tokenizer = tiny
    vocabulary = model.config.vocab_size
    allowed = [
        token_id for token_id in range(vocabulary)
        if (text := tokenizer.decode([token_id])) and set(text) <= set("0123456789, ")
    ] + [tokenizer.eos_token_id]
    blocked = [token_id for token_id in range(vocabulary) if token_id not in set(allowed)]
    scores = torch.randn(2, vocabulary, generator=torch.Generator().manual_seed(0))
    input_ids = torch.zeros(2, 3, dtype=torch.long)
    ours = only_these_tokens(allowed)(input_ids, scores.clone())
    theirs = SuppressTokensLogitsProcessor(blocked)(input_ids, scores.clone())
    assert torch.equal(torch.isinf(ours), torch.isinf(theirs))
    assert torch.equal(ours[torch.isfinite(ours)], theirs[torch.isfinite(theirs)])

    inputs = tokenizer(["A sequence of numbers: 1, 2"], return_tensors="pt")
    with torch.inference_mode():
        steered = model.generate(**inputs, max_new_tokens=12, do_sample=False,
                                 logits_processor=LogitsProcessorList([only_these_tokens(allowed)]))
        suppressed = model.generate(**inputs, max_new_tokens=12, do_sample=False, suppress_tokens=blocked)
    assert torch.equal(steered, suppressed)
    text = tokenizer.decode(steered[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)
    assert set(text) <= set("0123456789, ")


def test_exercises_with_checks_and_solutions(cells):
    sources = [cell.source for cell in code_cells(cells)]
    for check in ("check_max_time_tokens(", "check_fixed_call(", "check_digits_and_spaces("):
        unanswered = [cell for cell in code_cells(cells) if check in cell.source and "answer = None" in cell.source]
        solved = [cell for cell in code_cells(cells) if check in cell.source and "solution" in tags(cell)]
        assert len(unanswered) == 1 and len(solved) == 1, check
        assert "Not yet. Hint:" in printed(unanswered[0])
        assert "Correct!" in printed(solved[0])
    assert any("import check_digits_and_spaces" in source or "check_digits_and_spaces," in source for source in sources)
    assert re.search(r"## Summary", "\n".join(cell.source for cell in cells if cell.cell_type == "markdown"))
