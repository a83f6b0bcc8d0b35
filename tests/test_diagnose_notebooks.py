"""The pitfall doctor raises no false alarm on the course's own generate() calls (notebooks 01-08).

Each notebook runs as committed, at its default parameters, with one cell added after the
setup cell: it wraps `GenerationMixin.generate` so that every call a notebook makes (its own
cells and the companion helpers and exercise checks they call) is first shown to
`companion.diagnose` with the same arguments and the model's tokenizer, and then runs as usual.
The wrapper records, per call, the cell's code and the rules that fired. A call may draw a
finding only where the notebook makes that mistake on purpose: those cells are listed in
DELIBERATE with the notebook's own words for it, and every listed mistake must be found.
The notebooks are read, never edited (other authors change them); cells are found by a snippet
of their code, as in the lesson tests.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from course_tools.layout import notebook_paths
from course_tools.run import execute_notebook, use_one_thread_per_kernel

pytestmark = [pytest.mark.slow, pytest.mark.notebooks]

RECORDER = '''
# Added by tests/test_diagnose_notebooks.py: every generate() call is shown to companion.diagnose first.
import functools, json
import torch
import companion, companion.models
from companion.doctor import diagnose as _diagnose
from transformers.generation.utils import GenerationMixin

_RECORD_PATH = {record_path!r}
_tokenizers = {{}}
_cell = {{"source": ""}}
_depth = [0]
_original_load = companion.models.load_model


@functools.wraps(_original_load)
def _recording_load(*args, **kwargs):
    model, tokenizer = _original_load(*args, **kwargs)
    _tokenizers[id(model)] = tokenizer
    return model, tokenizer


companion.load_model = companion.models.load_model = _recording_load


def _tokenizer_in_notebook(model):
    """A tokenizer of the notebook's own for a model it loaded with from_pretrained: the same folder."""
    found = [value for value in get_ipython().user_ns.values()
             if callable(getattr(value, "batch_decode", None))
             and getattr(value, "name_or_path", None) == model.name_or_path]
    return found[0] if found else None
get_ipython().events.register("pre_run_cell", lambda info: _cell.update(source=info.raw_cell))
_original_generate = GenerationMixin.generate


def _doctor_generate(self, inputs=None, *args, **kwargs):
    if _depth[0] == 0:  # the learner's call, not one that generate() makes inside (assisted decoding)
        record = {{"cell": _cell["source"]}}
        tokenizer = _tokenizers.get(id(self)) or _tokenizer_in_notebook(self)
        if inputs is not None:
            doctor_inputs, doctor_kwargs = inputs, kwargs
        else:
            doctor_inputs = {{name: kwargs[name] for name in ("input_ids", "attention_mask") if name in kwargs}}
            doctor_kwargs = {{name: value for name, value in kwargs.items() if name not in doctor_inputs}}
        if tokenizer is None:
            record["skipped"] = "a model not loaded with companion.load_model"
        elif not isinstance(doctor_inputs, torch.Tensor) and "input_ids" not in doctor_inputs:
            record["skipped"] = "no input_ids"
        else:
            try:
                record["rules"] = _diagnose(self, tokenizer, doctor_inputs, **doctor_kwargs).rules
            except Exception as error:
                record["error"] = f"{{type(error).__name__}}: {{error}}"
        with open(_RECORD_PATH, "a") as file:
            file.write(json.dumps(record) + "\\n")
    _depth[0] += 1
    try:
        return _original_generate(self, inputs, *args, **kwargs)
    finally:
        _depth[0] -= 1


GenerationMixin.generate = _doctor_generate
'''

# The cells whose generate() calls make a mistake on purpose, at the notebooks' default parameters:
# (notebook, a snippet only that cell contains, the rules the doctor must find there, why).
DELIBERATE: list[tuple[str, str, set[str], str]] = [
    ("02", "default_ids = model.generate(**model_inputs, do_sample=False)", {"no_length"},
     "the call without a length that notebook 02 starts from"),
    ("03", "forgotten_ids = model.generate(", {"sampling_flags_ignored"}, "temperature without do_sample=True"),
    ("03", "plain_ids = sampling_model.generate(", {"inherited_sampling"},
     "a checkpoint whose generation config samples, called without do_sample"),
    ("03", "check_greedy_predictions(", {"sampling_flags_ignored"},
     "exercise: predict which of these calls sample (some set flags without do_sample)"),
    ("04", "right_inputs = tokenizer(", {"right_padding"},
     "the right-padded batches (the guide's pair and the course's)"),
    ("04", 'no_mask_ids = model.generate(input_ids=left_inputs["input_ids"]', {"no_attention_mask"},
     "the batch without its attention mask"),
    ("04", "compare_padding_sides(model, tokenizer, PROMPTS", {"right_padding"}, "the recap runs both sides"),
    ("04", "real_ids = real_model.generate(**real_inputs", {"right_padding"}, "both sides on the real model"),
    ("05", "raw_outputs = model.generate(**raw_inputs", {"no_chat_template"}, "the question without the template"),
    ("05", "outputs_without_header = model.generate(", {"no_generation_prompt"},
     "the template without add_generation_prompt"),
    ("06", "broken_ids = model.generate(**broken_inputs", {"right_padding"}, "exercise: a right-padded batch"),
    ("07", "broken_batch = tokenizer(EXERCISE_PROMPTS", {"no_attention_mask"},
     "exercise: a padded batch passed without its mask"),
]

# Where a notebook prompts the instruct model smollm2-135m with plain text to continue, before (01-04)
# or beside (06, which times the guide's prompts) notebook 05's lesson on chat templates. The
# doctor names it (`no_chat_template`: the instruct model gets no template) and is right to; these
# notebooks do it knowingly, so the finding is accepted there: (notebook, snippet of the cell, or
# "" for every cell of the notebook).
PLAIN_TEXT_ON_PURPOSE: list[tuple[str, str]] = [
    ("01", "real_"),  # REAL_MODEL = "smollm2-135m": the guide's prompts on a real LLM
    ("03", "real_"),
    ("04", "real_"),
    ("06", ""),  # MODEL = "smollm2-135m" and plain-text prompts, to measure speed
]


def with_recorder(notebook: Path, folder: Path) -> tuple[Path, Path]:
    """A copy of `notebook` in `folder` with the recorder cell after the setup cell; and its record file."""
    record_path = folder / f"{notebook.stem}.jsonl"
    copy = nbformat.read(notebook, as_version=4)
    setup = next(index for index, cell in enumerate(copy.cells)
                 if cell.cell_type == "code" and "companion.setup_notebook(" in cell.source)
    copy.cells.insert(setup + 1, nbformat.v4.new_code_cell(RECORDER.format(record_path=str(record_path))))
    path = folder / notebook.name
    nbformat.write(copy, path)
    return path, record_path


@pytest.fixture(scope="module")
def records(tmp_path_factory) -> dict[str, list[dict]]:
    """{notebook number: [one record per generate() call]} from running notebooks 01-08 with the recorder."""
    folder = tmp_path_factory.mktemp("doctor")
    use_one_thread_per_kernel()
    notebooks = [path for path in notebook_paths("en") if path.name[:2] < "09"]
    copies = [with_recorder(path, folder) for path in notebooks]

    def run(copy) -> str | None:
        try:
            execute_notebook(copy[0], folder / "executed" / copy[0].name)
        except Exception as error:  # papermill's PapermillExecutionError names the failing cell
            return str(error)
        return None

    with ThreadPoolExecutor(max_workers=2) as pool:
        failures = list(pool.map(run, copies))
    result = {}
    for notebook, (_, record_path), failure in zip(notebooks, copies, failures, strict=True):
        lines = record_path.read_text().splitlines() if record_path.exists() else []
        result[notebook.name[:2]] = [json.loads(line) for line in lines]
        if failure:
            result[notebook.name[:2]].append({"cell": "", "error": f"the notebook failed: {failure[-1500:]}"})
    return result


def accepted(number: str, cell: str) -> set[str]:
    """The rules that may fire in this cell of notebook `number`: its deliberate mistakes, and plain text on purpose."""
    rules = set()
    for listed_number, snippet, listed_rules, _ in DELIBERATE:
        if listed_number == number and snippet in cell:
            rules |= listed_rules
    if any(listed_number == number and snippet in cell for listed_number, snippet in PLAIN_TEXT_ON_PURPOSE):
        rules.add("no_chat_template")
    return rules


def test_every_notebook_calls_generate_and_the_doctor_reads_every_call(records):
    assert sorted(records) == [f"{number:02d}" for number in range(1, 9)]
    for number, calls in records.items():
        assert calls, f"notebook {number}: no generate() call was recorded"
        for call in calls:
            assert "error" not in call, (
                f"notebook {number}: the doctor failed on a call: {call['error']}\n{call['cell'][:300]}")
            assert "skipped" not in call, f"notebook {number}: {call['skipped']}\n{call['cell'][:300]}"


def test_no_false_alarm_on_the_notebooks_calls(records):
    alarms = []
    for number, calls in records.items():
        for call in calls:
            unexpected = set(call.get("rules", [])) - accepted(number, call["cell"])
            if unexpected:
                alarms.append(f"notebook {number}: {sorted(unexpected)} in the cell\n{call['cell'][:400]}")
    assert not alarms, "\n\n".join(alarms)


def test_the_notebooks_deliberate_mistakes_are_found(records):
    for number, snippet, rules, reason in DELIBERATE:
        found = set()
        for call in records[number]:
            if snippet in call["cell"]:
                found |= set(call.get("rules", []))
        assert rules <= found, (
            f"notebook {number} ({reason}): expected {sorted(rules)}, the doctor found {sorted(found)}")
