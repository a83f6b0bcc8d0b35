"""The pitfall doctor's sweep over the course's own generate() calls, riding along strict nbval.

When nbval executes an English notebook 01-08 (`pytest` with the repository's conftest.py), the
root conftest runs RECORDER in the notebook's kernel right after its setup cell: it wraps
`GenerationMixin.generate` so that every call the notebook makes (its own cells, and the companion
helpers and exercise checks they call) is first shown to `companion.diagnose` with the same
arguments and the model's tokenizer, and then runs unchanged; one JSON line per call goes to a
record file. After the notebook's last cell, one more item (`doctor sweep`) reads the records and
calls `require_sound`. The notebooks run once for both purposes: strict nbval proves the recorder
changes no output. A call may draw a finding only where the notebook makes that mistake on
purpose (DELIBERATE, with the notebook's own words for it), and every listed mistake must be found.
Cells are found by a snippet of their code, as in the lesson tests.
"""

from __future__ import annotations

import json
import os
import queue
import tempfile
from pathlib import Path

import pytest

from course_tools.layout import NOTEBOOKS, notebook_number, notebook_paths

# The notebooks swept: every English notebook but 09, whose calls run in a server process.
NOT_SWEPT = ("09",)
SWEPT = tuple(number for number in map(notebook_number, notebook_paths("en")) if number not in NOT_SWEPT)
# The cell after which the recorder goes in: the setup cell.
SETUP_CALL = "companion.setup_notebook("

RECORDER = '''
# Run by the test session after the setup cell (tests/doctor_sweep.py):
# every generate() call is shown to companion.diagnose first.
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


def accepted(number: str, cell: str) -> set[str]:
    """The rules that may fire in this cell of notebook `number`: its deliberate mistakes, and plain text on purpose."""
    rules = set()
    for listed_number, snippet, listed_rules, _ in DELIBERATE:
        if listed_number == number and snippet in cell:
            rules |= listed_rules
    if any(listed_number == number and snippet in cell for listed_number, snippet in PLAIN_TEXT_ON_PURPOSE):
        rules.add("no_chat_template")
    return rules


def records(path: Path) -> list[dict]:
    """The recorded calls of one notebook run: one dict per generate() call."""
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def require_sound(number: str, calls: list[dict]) -> None:
    """Assert the sweep of notebook `number`: every call read, no false alarm, every deliberate mistake found."""
    assert calls, f"notebook {number}: no generate() call was recorded (did its setup cell run?)"
    where = f"notebook {number}"
    for call in calls:
        assert "error" not in call, f"{where}: the doctor failed on a call: {call['error']}\n{call['cell'][:300]}"
        assert "skipped" not in call, f"{where}: {call['skipped']}\n{call['cell'][:300]}"
    alarms = []
    for call in calls:
        unexpected = set(call.get("rules", [])) - accepted(number, call["cell"])
        if unexpected:
            alarms.append(f"notebook {number}: {sorted(unexpected)} in the cell\n{call['cell'][:400]}")
    assert not alarms, "\n\n".join(alarms)
    for listed_number, snippet, rules, reason in DELIBERATE:
        if listed_number != number:
            continue
        found = set()
        for call in calls:
            if snippet in call["cell"]:
                found |= set(call.get("rules", []))
        assert rules <= found, (
            f"notebook {number} ({reason}): expected {sorted(rules)}, the doctor found {sorted(found)}")


# --- riding along nbval (called from the root conftest.py) ----------------------------------------

RECORDER_TIMEOUT = 120  # seconds for the recorder cell: it imports nothing the setup cell has not


class DoctorSweep(pytest.Item):
    """One item after the last cell of a swept notebook: `require_sound` on what its cells recorded.

    It runs only when every cell of the notebook ran and passed in this session (not under `-k`,
    not after a failed cell, which fails on its own), so a partial run cannot look like a missed
    mistake.
    """

    def __init__(self, *, number: str, cells: int, **kwargs):
        super().__init__(**kwargs)
        self.number = number
        self.cells = cells  # the notebook's code cells, each an nbval item
        self.passed_cells: set[int] = set()
        self.record_path: Path | None = None  # set when the recorder is installed in the kernel

    def runtest(self):
        if self.record_path is None:
            pytest.skip("the notebook's setup cell did not run in this session, so nothing was recorded")
        try:
            if len(self.passed_cells) < self.cells:
                pytest.skip(f"{len(self.passed_cells)} of the notebook's {self.cells} cells ran and passed")
            require_sound(self.number, records(self.record_path))
        finally:
            self.record_path.unlink(missing_ok=True)

    def reportinfo(self):
        return self.path, None, f"{self.path.name}::doctor sweep"


def add_sweep_items(items: list) -> None:
    """Put a DoctorSweep item right after the last nbval cell of every swept notebook in `items`.

    Swept: a notebook that nbval runs from notebooks/en/ and whose number is in SWEPT. Its tier
    (`notebooks`) is given with everyone else's, by the root conftest's tiers_of.
    """
    last_cell, cells = {}, {}  # per notebook (nbval's IPyNbFile): index of its last cell, its cell count
    for index, item in enumerate(items):
        path = Path(item.path)
        if type(item).__name__ == "IPyNbCell" and path.parent == NOTEBOOKS / "en" and notebook_number(path) in SWEPT:
            last_cell[item.parent] = index
            cells[item.parent] = cells.get(item.parent, 0) + 1
    for notebook, index in sorted(last_cell.items(), key=lambda entry: -entry[1]):  # from the end: indices hold
        sweep = DoctorSweep.from_parent(notebook, name="doctor sweep", number=notebook_number(Path(notebook.path)),
                                        cells=cells[notebook])
        notebook.stash[SWEEP_KEY] = sweep
        items.insert(index + 1, sweep)


SWEEP_KEY = pytest.StashKey[DoctorSweep]()  # on the notebook's IPyNbFile: its DoctorSweep item


def after_cell(cell) -> None:
    """After an nbval cell of a swept notebook passed: count it; after the setup cell, install RECORDER."""
    sweep = cell.parent.stash.get(SWEEP_KEY, None)
    if sweep is None:
        return
    sweep.passed_cells.add(cell.cell_num)
    if SETUP_CALL not in cell.cell.source or sweep.record_path is not None:
        return
    handle, name = tempfile.mkstemp(prefix=f"doctor-sweep-{sweep.number}-", suffix=".jsonl")
    os.close(handle)
    sweep.record_path = Path(name)
    run_in_kernel(cell.parent.kernel, RECORDER.format(record_path=name))


def run_in_kernel(kernel, source: str) -> None:
    """Execute `source` in nbval's kernel for the notebook, outside its history; raise on an error in it."""
    msg_id = kernel.execute_cell_input(source, allow_stdin=False)
    kernel.await_reply(msg_id, timeout=RECORDER_TIMEOUT)
    errors = []
    while True:  # read this execution's messages up to its idle, so nbval's next cell starts clean
        try:
            message = kernel.get_message(stream="iopub", timeout=RECORDER_TIMEOUT)
        except queue.Empty as empty:
            raise RuntimeError("the doctor sweep's recorder got no idle from the kernel") from empty
        if message["parent_header"].get("msg_id") != msg_id:
            continue
        if message["msg_type"] == "error":
            errors.append("\n".join(message["content"]["traceback"]))
        if message["msg_type"] == "status" and message["content"]["execution_state"] == "idle":
            break
    if errors:
        raise RuntimeError("the doctor sweep's recorder failed in the kernel:\n" + "\n".join(errors))
