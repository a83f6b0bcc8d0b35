"""Greedy margins: how far each greedy choice was from a tie, and a record of them for every notebook.

At every step greedy decoding takes the token with the highest score. Its *margin* is that
score minus the best other token's score. Two computations of the same logits that should be
equal (a CPU and a CUDA GPU, a batch and one prompt alone, with and without the KV cache)
differ in the last bits, because they add the same numbers in a different order. A greedy
path flips only where that difference exceeds the margin, so the smallest margin along a path
says how robust its text is. tests/test_greedy_margins.py compares the margins of every
greedy path the notebooks show (notebooks/greedy_margins.json) with a threshold measured there.

    python -m course_tools.margins record            # all notebooks/en, into notebooks/greedy_margins.json
    python -m course_tools.margins record --only 01  # one notebook (e.g. to try it; pass --output too)

Recording: `record` starts each notebook's kernel with this module as an IPython extension
(`--IPKernelApp.extensions`, with the repository root on the kernel's PYTHONPATH), so the recorder
is in place before the first cell runs, as the tests' offline guard is; the notebooks and
`companion` know nothing of it. The extension reads COMPANION_RECORD_MARGINS=<file.jsonl> and
calls `install_recorder`, which wraps `transformers.GenerationMixin.generate`. The wrapper calls
the real `generate()` unchanged and returns its result unchanged; after a greedy call it runs
`greedy_margins` on the returned sequences and appends one JSON line per row to the file.
Without the variable nothing is wrapped.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import hashlib
import inspect
import json
import os
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch  # in a kernel, before companion: `record` runs where companion has set OMP_WAIT_POLICY already

from companion.generation import end_of_sequence_ids, generated_token_mask
from companion.inspection import position_ids_for
from course_tools.layout import NOTEBOOKS, ROOT, languages, notebook_number, notebook_paths

RECORD_VARIABLE = "COMPANION_RECORD_MARGINS"  # the JSON-lines file the recorder appends to
NOTEBOOK_VARIABLE = "COMPANION_NOTEBOOK"  # the notebook's number, set by `record` for each kernel
SUMMARY_PATH = NOTEBOOKS / "greedy_margins.json"
# How `record` starts each kernel: with this module as an IPython extension (load_ipython_extension).
KERNEL_EXTENSION = "--IPKernelApp.extensions=['course_tools.margins']"


@dataclass(frozen=True)
class GreedyMargins:
    """The margin of every greedy choice in a batch of generated sequences (all tensors on the CPU).

    margins: FloatTensor (b, n): score of the chosen token minus the best other token's score,
        at each of the n new positions (float32; negative if the chosen token was not the best).
    runner_up: LongTensor (b, n): the best token other than the chosen one.
    chosen: LongTensor (b, n): the new tokens themselves.
    valid: BoolTensor (b, n): True up to and including each row's first end-of-sequence token;
        what follows is padding that generate() filled in after the row ended.
    """

    margins: torch.Tensor
    runner_up: torch.Tensor
    chosen: torch.Tensor
    valid: torch.Tensor


def greedy_margins(
    model,
    sequences: torch.Tensor,
    prompt_length: int,
    attention_mask: torch.Tensor | None = None,
    *,
    logits_processor=None,
    end_token_ids=None,
) -> GreedyMargins:
    """Recompute the scores behind a greedy `generate()` call with one forward pass and return the margins.

    Args:
        model: the causal LM that generated `sequences`.
        sequences: LongTensor (b, t + n), what `generate()` returned: the t prompt columns
            (left-padded for a batch), then the n new tokens.
        prompt_length: t, the number of prompt columns.
        attention_mask: LongTensor (b, t), the prompt's mask as `generate()` used it (None: no
            padding). The new positions are attended to, as in `generate()`, and positions are
            counted from each row's first real token, as `generate()` counts them.
        logits_processor: the `LogitsProcessorList` that `generate()` applied to the logits
            (repetition_penalty, min_new_tokens, ...), or None for plain greedy decoding; the
            margins are taken on the processed scores, which is what the argmax chose from.
        end_token_ids: int or list of ints that end a row; default: the model's generation
            config's eos_token_id (`companion.generation.end_of_sequence_ids`).
    Returns:
        GreedyMargins with tensors of shape (b, n), on the CPU.
    The teacher-forced pass (no KV cache) calls `model.forward` directly, so forward hooks on
    the model (e.g. `companion.decoding.ForwardPassRecorder`) do not count it.
    """
    device = model.device
    sequences = sequences.to(device)
    batch_size, total_length = sequences.shape
    new_count = total_length - prompt_length
    if new_count < 1:
        raise ValueError(f"sequences have {total_length} columns, no new tokens after prompt_length={prompt_length}")
    if attention_mask is None:
        attention_mask = torch.ones(batch_size, prompt_length, dtype=torch.long)
    prompt_mask = attention_mask.to(device=device, dtype=torch.long)
    prompt_positions = position_ids_for(prompt_mask)
    steps = torch.arange(1, new_count + 1, device=device)
    # generate() counts each new position on from the prompt's last one (also for a right-padded row).
    position_ids = torch.cat([prompt_positions, prompt_positions[:, -1:] + steps], dim=-1)
    full_mask = torch.cat([prompt_mask, prompt_mask.new_ones(batch_size, new_count)], dim=-1)
    inputs = {"input_ids": sequences, "attention_mask": full_mask, "position_ids": position_ids, "use_cache": False}
    if "logits_to_keep" in inspect.signature(model.forward).parameters:
        inputs["logits_to_keep"] = new_count + 1  # the last prompt position predicts the first new token
    with torch.inference_mode():
        logits = model.forward(**inputs).logits[:, -(new_count + 1):-1].float()  # (b, n, vocabulary)
        chosen = sequences[:, prompt_length:]  # (b, n)
        margins = torch.empty(batch_size, new_count, device=device)
        runner_up = torch.empty(batch_size, new_count, dtype=torch.long, device=device)
        for step in range(new_count):
            scores = logits[:, step]
            if logits_processor is not None:
                scores = logits_processor(sequences[:, :prompt_length + step], scores.clone())
            chosen_scores = scores.gather(-1, chosen[:, step:step + 1]).squeeze(-1)
            others = scores.scatter(-1, chosen[:, step:step + 1], float("-inf"))
            best_other, runner_up[:, step] = others.max(dim=-1)
            margins[:, step] = chosen_scores - best_other
    end_ids = end_of_sequence_ids(model, eos_token_id=end_token_ids)  # the given ids, else the generation config's
    valid = generated_token_mask(sequences, prompt_length, end_ids)
    return GreedyMargins(margins.cpu(), runner_up.cpu(), chosen.cpu(), valid.cpu())


# --- The recorder: one JSON line per greedy row, while the notebooks execute -----------------

_recorder = {"path": None, "installed": False, "busy": False, "tokenizers": {}}


def install_recorder(path: str | os.PathLike) -> None:
    """Wrap `GenerationMixin.generate` so that every greedy call appends its margins to `path` (JSON lines).

    Called in each kernel that `record` starts (`load_ipython_extension`); calling it again only
    changes the file. The wrapper never changes what `generate()` does or returns; a failure
    while measuring is written to the file as an "error" line instead of being raised.
    """
    from transformers import GenerationMixin

    _recorder["path"] = Path(path)
    if _recorder["installed"]:
        return
    real_generate = GenerationMixin.generate

    @functools.wraps(real_generate)
    def generate(self, *args, **kwargs):
        if _recorder["busy"]:  # a generate() inside generate() (an assistant model): only the outer call counts
            return real_generate(self, *args, **kwargs)
        real_get_logits_processor = getattr(self, "_get_logits_processor", None)
        if real_get_logits_processor is None:  # a transformers without it (5.24 has it): say so, change nothing
            append_line({"error": "cannot record: this transformers has no GenerationMixin._get_logits_processor"})
            return real_generate(self, *args, **kwargs)
        seen = {}

        def get_logits_processor(*processor_args, **processor_kwargs):
            # generate() calls this once, after it settled the generation config, the prompt's
            # attention mask and position ids: the arguments are what the decoding used.
            processors = real_get_logits_processor(*processor_args, **processor_kwargs)
            model_kwargs = processor_kwargs.get("model_kwargs") or {}
            seen.update(
                generation_config=processor_kwargs.get("generation_config"),
                prompt_length=processor_kwargs.get("input_ids_seq_length"),
                attention_mask=model_kwargs.get("attention_mask"),
                processors=processors,
            )
            return processors

        self._get_logits_processor = get_logits_processor  # this call only; the instance attribute goes below
        _recorder["busy"] = True
        try:
            result = real_generate(self, *args, **kwargs)
        finally:
            _recorder["busy"] = False
            del self._get_logits_processor
        try:
            record_call(self, result, seen, kwargs.get("assistant_model"))
        except Exception as error:  # measuring must never break the notebook
            append_line({"error": f"{type(error).__name__}: {error}"})
        return result

    GenerationMixin.generate = generate
    _recorder["installed"] = True


def load_ipython_extension(ipython) -> None:
    """IPython calls this when a kernel starts with `--IPKernelApp.extensions=['course_tools.margins']`.

    Installs the recorder when COMPANION_RECORD_MARGINS names the file to append to; otherwise does nothing.
    """
    if os.environ.get(RECORD_VARIABLE):
        install_recorder(os.environ[RECORD_VARIABLE])


def append_line(entry: dict) -> None:
    """Append one JSON line, with the notebook and cell it comes from, to the recorder's file."""
    entry = {"notebook": os.environ.get(NOTEBOOK_VARIABLE), "cell": current_execution_count(), **entry}
    with open(_recorder["path"], "a", encoding="utf-8") as file:
        file.write(json.dumps(entry) + "\n")


def current_execution_count() -> int | None:
    """The execution count of the notebook cell running now (papermill writes it into the output), or None.

    Read from the input history (`In[n]` is cell n's code, stored before the cell runs): IPython 9
    has already advanced `shell.execution_count` to n + 1 while cell n runs.
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    shell = get_ipython()
    if shell is None or "In" not in shell.user_ns:
        return None
    return len(shell.user_ns["In"]) - 1


def is_greedy(generation_config, assistant_model) -> bool:
    """True for plain greedy decoding: no sampling, one beam, no assistant or prompt lookup."""
    from transformers.generation.configuration_utils import GenerationMode

    return generation_config.get_generation_mode(assistant_model) == GenerationMode.GREEDY_SEARCH


def model_label(model) -> str:
    """The model's name for the record: a built-in name or the basename of its folder or hub id."""
    return Path(str(model.name_or_path).rstrip("/")).name


def quantization_label(model) -> str | None:
    """"4bit", "8bit" or None, from the model's quantization config."""
    config = getattr(model.config, "quantization_config", None)
    if config is None:
        return None
    config = config.to_dict() if hasattr(config, "to_dict") else dict(config)
    if config.get("load_in_4bit"):
        return "4bit"
    if config.get("load_in_8bit"):
        return "8bit"
    return str(config.get("quant_method"))


def token_text(model, token_id: int) -> str | None:
    """The text of one token, from the model's own tokenizer (loaded once per model), or None."""
    key = str(model.name_or_path)
    if key not in _recorder["tokenizers"]:
        try:
            from transformers import AutoTokenizer

            _recorder["tokenizers"][key] = AutoTokenizer.from_pretrained(key)
        except Exception:
            _recorder["tokenizers"][key] = None
    tokenizer = _recorder["tokenizers"][key]
    return None if tokenizer is None else tokenizer.decode([token_id])


def record_call(model, result, seen: dict, assistant_model) -> None:
    """Measure one finished generate() call and append a line per row, if it decoded greedily."""
    generation_config = seen.get("generation_config")
    if generation_config is None or not is_greedy(generation_config, assistant_model):
        return  # sampling, beams, assisted decoding, or a call that never reached decoding
    sequences = result if isinstance(result, torch.Tensor) else result.sequences
    processors = seen["processors"]
    measured = greedy_margins(
        model,
        sequences,
        seen["prompt_length"],
        seen["attention_mask"],
        logits_processor=processors if len(processors) else None,
        end_token_ids=generation_config.eos_token_id,
    )
    for row in range(sequences.shape[0]):
        valid = measured.valid[row]
        margins = measured.margins[row][valid]
        step = int(margins.argmin())
        chosen, runner_up = int(measured.chosen[row, step]), int(measured.runner_up[row, step])
        path = sequences[row, : seen["prompt_length"] + int(valid.sum())].tolist()
        append_line({
            "model": model_label(model),
            "dtype": str(model.dtype).replace("torch.", ""),
            "quantization": quantization_label(model),
            "device": model.device.type,
            "processors": [type(processor).__name__ for processor in processors],
            "row": row,
            "steps": int(valid.sum()),
            "min_margin": round(float(margins[step]), 6),
            "step": step,
            "token": token_text(model, chosen),
            "runner_up": token_text(model, runner_up),
            "path": hashlib.sha1(json.dumps(path).encode()).hexdigest()[:12],
        })


# --- `python -m course_tools.margins record`: the summary, notebooks/greedy_margins.json --------------

def cell_ids_by_execution_count(executed_notebook: Path) -> dict[int, str]:
    """{execution count: cell id} of an executed notebook (papermill numbers the code cells it ran)."""
    import nbformat

    notebook = nbformat.read(executed_notebook, as_version=4)
    return {
        cell.execution_count: cell.id
        for cell in notebook.cells
        if cell.cell_type == "code" and cell.execution_count is not None
    }


def summarize(lines: list[dict], cell_ids: dict[str, dict[int, str]], environment: dict) -> dict:
    """The summary of recorded JSON lines: per notebook and model, each distinct greedy path's smallest margin.

    A path that several calls decoded (an exercise check re-running the lesson's call) is
    listed once, with the first cell that decoded it and how many calls did.
    """
    notebooks: dict[str, dict[str, list[dict]]] = {}
    errors = []
    seen_paths: dict[tuple, dict] = {}
    for line in lines:
        number = line.get("notebook") or "?"
        cell = cell_ids.get(number, {}).get(line.get("cell"), line.get("cell"))
        if "error" in line:
            errors.append({"notebook": number, "cell": cell, "error": line["error"]})
            continue
        model = f"{line['model']} ({line['quantization'] or line['dtype']})"
        key = (number, model, line["path"], tuple(line["processors"]))
        if key in seen_paths:
            seen_paths[key]["calls"] += 1
            continue
        entry = {
            "cell": cell,
            "row": line["row"],
            "steps": line["steps"],
            "min_margin": line["min_margin"],
            "step": line["step"],
            "token": line["token"],
            "runner_up": line["runner_up"],
            "processors": line["processors"],
            "calls": 1,
        }
        seen_paths[key] = entry
        notebooks.setdefault(number, {}).setdefault(model, []).append(entry)
    everything = [
        {"notebook": number, "model": model, **entry}
        for number, models in notebooks.items() for model, entries in models.items() for entry in entries
    ]
    minimum = min(everything, key=lambda entry: entry["min_margin"]) if everything else None
    return {
        "about": "The smallest logit margin (chosen token's score minus the best other token's) along every "
                 "greedy path the notebooks decode at their default parameters. Written by "
                 "`python -m course_tools.margins record`; checked by tests/test_greedy_margins.py.",
        "environment": environment,
        "notebooks": notebooks,
        "minimum": minimum,
        "errors": errors,
    }


def execute_with_recorder(notebook: Path, executed: Path, record_file: Path) -> None:
    """Execute `notebook` into `executed` in a kernel with the recorder installed; it appends to `record_file`.

    The kernel loads this module as an IPython extension (KERNEL_EXTENSION) before the first cell,
    with the repository root on its PYTHONPATH; it inherits the file and the notebook's number
    through the environment. Raises papermill's error if a cell fails.
    """
    from course_tools.run import execute_notebook

    python_path = os.pathsep.join(entry for entry in (str(ROOT), os.environ.get("PYTHONPATH")) if entry)
    variables = {RECORD_VARIABLE: str(record_file), NOTEBOOK_VARIABLE: notebook_number(notebook),
                 "PYTHONPATH": python_path}
    with variables_set(**variables):
        execute_notebook(notebook, executed, kernel_arguments=[KERNEL_EXTENSION])


@contextlib.contextmanager
def variables_set(**values: str):
    """Set environment variables (which the kernels started meanwhile inherit); put the old values back after."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def record(numbers: list[str] | None = None, language: str = "en", output: Path = SUMMARY_PATH,
           verbose: bool = True) -> dict:
    """Execute the notebooks one at a time with the recorder on and write the summary to `output`.

    Args:
        numbers: notebook numbers to execute ("01", ...); None for all of the edition.
        language: the edition (the code, and so the greedy paths, are the same in every edition).
        output: the summary's path (default notebooks/greedy_margins.json).
    Returns:
        the summary (a dict, as written). Raises papermill's error if a notebook fails.
    One at a time, because each kernel reads its notebook number from the environment.
    """
    import platform

    import transformers

    from course_tools.run import use_one_thread_per_kernel

    use_one_thread_per_kernel()  # the committed outputs were computed with one thread per kernel
    paths = [path for path in notebook_paths(language) if numbers is None or notebook_number(path) in numbers]
    if numbers is not None and len(paths) != len(set(numbers)):
        raise ValueError(f"no notebook for some of {numbers} in notebooks/{language}/")
    lines: list[dict] = []
    cell_ids: dict[str, dict[int, str]] = {}
    with tempfile.TemporaryDirectory(prefix="greedy-margins-") as folder:
        for path in paths:
            number = notebook_number(path)
            record_file = Path(folder) / f"{number}.jsonl"
            executed = Path(folder) / path.name
            execute_with_recorder(path, executed, record_file)
            cell_ids[number] = cell_ids_by_execution_count(executed)
            if record_file.exists():
                lines += [json.loads(line) for line in record_file.read_text().splitlines() if line]
            if verbose:
                print(f"{path.name:<45} recorded", flush=True)
    environment = {
        "torch": torch.__version__, "transformers": transformers.__version__,
        "device": "cuda" if torch.cuda.is_available() else "cpu", "machine": platform.machine(),
        "threads per kernel": os.environ.get("OMP_NUM_THREADS"),
    }
    summary = summarize(lines, cell_ids, environment)
    summary["notebooks_recorded"] = [notebook_number(path) for path in paths]
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n")
    if verbose:
        minimum = summary["minimum"]
        where = f" ({minimum['notebook']}, cell {minimum['cell']}, {minimum['model']})" if minimum else ""
        print(f"wrote {output}: smallest margin {minimum['min_margin'] if minimum else None}{where}; "
              f"{len(summary['errors'])} recording errors")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_tools.margins", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    record_parser = commands.add_parser("record", help="execute the notebooks and write the margins summary")
    record_parser.add_argument("--only", nargs="+", metavar="NN", help="only these notebooks, e.g. --only 01 03")
    record_parser.add_argument("--language", default="en", choices=languages())
    record_parser.add_argument("--output", type=Path, default=SUMMARY_PATH,
                               help="default: notebooks/greedy_margins.json")
    arguments = parser.parse_args(argv)
    summary = record(arguments.only, arguments.language, arguments.output)
    return 1 if summary["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
