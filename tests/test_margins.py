"""course_tools.margins: greedy margins from one forward pass, the recorder around generate(), the summary."""

import json
import os

import pytest
import torch
from committed_notebooks import notebook_cells
from transformers import GenerationMixin, LogitsProcessorList, RepetitionPenaltyLogitsProcessor

from companion.decoding import ForwardPassRecorder
from companion.generation import pad_token_id_or_eos, tokenize_batch
from course_tools import margins
from course_tools.devices import GUIDE_PROMPTS
from course_tools.margins import greedy_margins, install_recorder


def top_two_margins(logits: torch.Tensor) -> torch.Tensor:
    """(b, n, vocabulary) scores -> (b, n) best minus second best."""
    top = logits.topk(2, dim=-1).values
    return top[..., 0] - top[..., 1]


@pytest.mark.parametrize("side", ["left", "right"])
def test_greedy_margins_agree_with_the_logits_generate_returns(tiny, side):
    """Also for notebook 04's right-padded batch, whose new positions generate() counts on from the padding."""
    model, tokenizer = tiny
    inputs = tokenize_batch(tokenizer, GUIDE_PROMPTS, device=model.device, side=side)  # rows end at EOS
    prompt_length = inputs["input_ids"].shape[1]
    outputs = model.generate(
        **inputs, max_new_tokens=20, do_sample=False, pad_token_id=pad_token_id_or_eos(tokenizer),
        output_logits=True, return_dict_in_generate=True,
    )
    logits = torch.stack(outputs.logits, dim=1)  # (b, n, vocabulary), with the KV cache, batched
    measured = greedy_margins(model, outputs.sequences, prompt_length, inputs["attention_mask"])
    assert measured.margins.shape == measured.valid.shape == (len(GUIDE_PROMPTS), 20)
    valid = measured.valid
    assert not valid.all() and valid[:, 0].all(), "some rows end early; every row has its first step"
    assert torch.equal(logits.argmax(dim=-1)[valid], measured.chosen[valid])
    difference = (measured.margins - top_two_margins(logits))[valid].abs().max().item()
    assert difference < 1e-4, difference
    assert (measured.margins[valid] > 0).all()
    second = logits.topk(2, dim=-1).indices[..., 1]
    clear = valid & (measured.margins > 1e-4)
    assert torch.equal(second[clear], measured.runner_up[clear])


def test_greedy_margins_take_the_logits_processors_into_account(tiny):
    model, tokenizer = tiny
    inputs = tokenize_batch(tokenizer, ["I am a cat."], device=model.device)
    outputs = model.generate(
        **inputs, max_new_tokens=20, do_sample=False, repetition_penalty=1.3,
        output_scores=True, return_dict_in_generate=True,
    )
    scores = torch.stack(outputs.scores, dim=1)  # what the argmax chose from
    processors = LogitsProcessorList([RepetitionPenaltyLogitsProcessor(1.3)])
    measured = greedy_margins(model, outputs.sequences, inputs["input_ids"].shape[1], logits_processor=processors)
    valid = measured.valid
    assert (measured.margins - top_two_margins(scores))[valid].abs().max().item() < 1e-4
    plain = greedy_margins(model, outputs.sequences, inputs["input_ids"].shape[1])
    assert (plain.margins[valid] < 0).any(), "on the raw logits some chosen tokens were not the best"


@pytest.fixture
def recorder(tmp_path, monkeypatch):
    """The recorder installed for one test, writing to a temporary file; generate() is restored afterwards."""
    monkeypatch.setattr(GenerationMixin, "generate", GenerationMixin.generate)
    monkeypatch.setitem(margins._recorder, "installed", False)
    monkeypatch.setenv(margins.NOTEBOOK_VARIABLE, "99")
    path = tmp_path / "margins.jsonl"
    install_recorder(path)

    def lines() -> list[dict]:
        return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []

    return lines


def test_the_recorder_measures_greedy_calls_only_and_changes_nothing(tiny, recorder):
    model, tokenizer = tiny
    inputs = tokenize_batch(tokenizer, GUIDE_PROMPTS[:3], device=model.device)
    pad = pad_token_id_or_eos(tokenizer)
    with ForwardPassRecorder(model) as passes:
        greedy = model.generate(**inputs, max_new_tokens=8, min_new_tokens=8, do_sample=False, pad_token_id=pad)
    assert passes.count == 8, "the recorder's own forward pass is not counted"
    assert len(recorder()) == 3, "one line per row of a greedy call"
    torch.manual_seed(0)
    model.generate(**inputs, max_new_tokens=8, do_sample=True, pad_token_id=pad)
    model.generate(**inputs, max_new_tokens=8, do_sample=False, num_beams=2, pad_token_id=pad)
    one_prompt = tokenize_batch(tokenizer, GUIDE_PROMPTS[0], device=model.device)  # assisted decoding: batch size 1
    model.generate(**one_prompt, max_new_tokens=8, do_sample=False, prompt_lookup_num_tokens=3, pad_token_id=pad)
    with pytest.raises(ValueError):
        model.generate(**inputs, max_new_tokens=8, do_sample=False, num_beams=2, num_return_sequences=3)
    assert "_get_logits_processor" not in vars(model), "the per-call hook is gone, also after an error"
    assert len(recorder()) == 3, "sampling, beam search and prompt lookup are not recorded"
    penalised = model.generate(**inputs, max_new_tokens=8, do_sample=False, repetition_penalty=1.3, pad_token_id=pad)
    lines = recorder()
    assert len(lines) == 6
    first, last = lines[0], lines[-1]
    assert first["notebook"] == "99" and first["model"] == "tutorial-tiny" and first["dtype"] == "float32"
    assert first["quantization"] is None and first["device"] == "cpu" and first["steps"] == 8
    assert "MinNewTokensLengthLogitsProcessor" in first["processors"]
    assert "RepetitionPenaltyLogitsProcessor" in last["processors"]
    assert all(line["min_margin"] > 0 and isinstance(line["token"], str) for line in lines), lines
    real_generate = GenerationMixin.generate.__wrapped__  # what install_recorder wrapped
    settings = {"max_new_tokens": 8, "do_sample": False, "pad_token_id": pad}
    assert torch.equal(greedy, real_generate(model, **inputs, **settings, min_new_tokens=8))
    assert torch.equal(penalised, real_generate(model, **inputs, **settings, repetition_penalty=1.3))


def test_the_summary_lists_each_path_once_with_its_cell_and_the_overall_minimum():
    line = {"notebook": "01", "cell": 5, "model": "tutorial-tiny", "dtype": "float32", "quantization": None,
            "processors": [], "row": 0, "steps": 6, "min_margin": 2.5, "step": 1, "token": " a",
            "runner_up": " b", "path": "abc"}
    lines = [line, {**line, "cell": 7}, {**line, "path": "def", "min_margin": 0.5, "cell": 7},
             {"notebook": "01", "cell": 9, "error": "RuntimeError: boom"}]
    summary = margins.summarize(lines, {"01": {5: "01-010", 7: "01-014"}}, {"device": "cpu"})
    entries = summary["notebooks"]["01"]["tutorial-tiny (float32)"]
    assert [(entry["cell"], entry["calls"], entry["min_margin"]) for entry in entries] == [
        ("01-010", 2, 2.5), ("01-014", 1, 0.5)
    ]
    assert summary["minimum"]["min_margin"] == 0.5 and summary["minimum"]["cell"] == "01-014"
    assert summary["errors"] == [{"notebook": "01", "cell": 9, "error": "RuntimeError: boom"}]


@pytest.mark.notebooks
def test_record_executes_a_notebook_with_the_recorder_and_writes_the_summary(tmp_path):
    output = tmp_path / "greedy_margins.json"
    summary = margins.record(["01"], output=output, verbose=False)
    assert json.loads(output.read_text()) == summary
    assert summary["errors"] == [] and summary["notebooks_recorded"] == ["01"]
    entries = summary["notebooks"]["01"]["tutorial-tiny (float32)"]
    code = {cell.id: cell.source for cell in notebook_cells("01") if cell.cell_type == "code"}
    for entry in entries:
        assert entry["cell"] in code, entry
        cell_code = code[entry["cell"]]
        assert "generate" in cell_code or "check_" in cell_code or "generator(" in cell_code
    assert "01-020" in {entry["cell"] for entry in entries}, "the first model.generate of notebook 01"
    assert summary["minimum"]["min_margin"] == min(entry["min_margin"] for entry in entries) > 0


def test_the_recorder_installs_itself_in_a_kernel_the_notebook_knows_nothing_of(tmp_path):
    """`record` starts kernels with the recorder as an IPython extension: no notebook or companion code asks for it."""
    import nbformat

    code = ("import companion\nmodel, tokenizer = companion.load_model('tutorial-tiny')\n"
            "inputs = tokenizer(['I am a cat.'], return_tensors='pt')\n"
            "ids = model.generate(**inputs, max_new_tokens=5, do_sample=False)")
    notebook = tmp_path / "07_probe.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)]), notebook)
    record_file = tmp_path / "margins.jsonl"
    margins.execute_with_recorder(notebook, tmp_path / "executed.ipynb", record_file)
    [line] = [json.loads(line) for line in record_file.read_text().splitlines()]
    assert line["notebook"] == "07" and line["cell"] == 1 and line["steps"] == 5 and line["min_margin"] > 0
    assert margins.RECORD_VARIABLE not in os.environ, "the variables are put back after the run"
