"""The notebooks: built from their sources, clean, well-formed, and runnable with other parameters.

Execution at the default parameters, with every output compared, is nbval's job
(pyproject.toml runs strict `--nbval` on notebooks/en; the German edition is the same code
and its outputs equal the English ones up to the messages' language, test_editions.py);
this file does not execute a notebook at its defaults a second time. A learner will change
the parameters, so every notebook also runs once with the other built-in model, quantized
(4- or 8-bit) and with a smaller token budget (the German student edition, tests/test_student_edition.py).
The list of notebooks is derived from notebooks/<lang>/: adding a notebook needs no edit here.
"""

import os
import re
import subprocess
import sys

import nbformat
import pytest
from committed_notebooks import code_cell, notebook_cells, printed, verdict_prefix

from companion.language import LANGUAGES
from course_tools import build_notebooks
from course_tools.layout import ROOT, notebook_paths, source_paths
from course_tools.run import default_parameters, run_notebook

NOTEBOOKS = notebook_paths("en")
EDITIONS = [path for language in LANGUAGES for path in notebook_paths(language)]  # en/01..., de/01...
# Fixed words of the notebook contract, per edition (README, "Adding a notebook").
LEARN = {"en": "what you will learn", "de": "was sie lernen"}
SUMMARY = {"en": "summary", "de": "zusammenfassung"}


def edition_id(path) -> str:
    return f"{path.parent.name}-{path.stem}"

ABSOLUTE_PATH = re.compile(r"(/work/|/home/|/root/|/tmp/|/Users/|C:\\\\|site-packages)")


def test_notebooks_are_numbered_in_order_and_each_has_a_source():
    numbers = [int(path.name[:2]) for path in NOTEBOOKS]
    assert numbers == list(range(1, len(NOTEBOOKS) + 1)), "notebooks are numbered 01, 02, ... without gaps"
    sources = [path.stem for path in source_paths()]
    assert sources == [path.stem for path in NOTEBOOKS]


def test_notebooks_are_built_from_current_sources():
    completed = subprocess.run(
        [sys.executable, "-m", "course_tools.build_notebooks", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


@pytest.mark.parametrize("path", EDITIONS, ids=edition_id)
def test_notebook_is_clean(path):
    notebook = nbformat.read(path, as_version=4)
    assert notebook.metadata["kernelspec"]["name"] == "python3"
    assert "papermill" not in notebook.metadata
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    counts = [cell.execution_count for cell in code_cells]
    assert counts == list(range(1, len(code_cells) + 1)), "execute top to bottom once (make notebooks)"
    for cell in code_cells:
        assert "execution" not in cell.metadata
        for output in cell.outputs:
            assert output.output_type != "error", f"error output in cell {cell.id}"
            text = nbformat.writes(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(outputs=[output])]))
            assert not ABSOLUTE_PATH.search(text), f"absolute path in the output of cell {cell.id}"
            assert "it/s]" not in text, f"progress bar in the output of cell {cell.id}"
            assert "warnings.warn(" not in text, f"a warning printed with its source line in cell {cell.id}"


@pytest.mark.parametrize("path", EDITIONS, ids=edition_id)
def test_notebook_structure(path, language=None):
    language = language or path.parent.name
    notebook = nbformat.read(path, as_version=4)
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith((f"# {path.name[:2]} · ", "# NN · "))
    assert LEARN[language] in first.source.lower()
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    sources = [cell.source for cell in code_cells]
    assert "google.colab" in sources[0], "first code cell installs the package on Colab"
    parameter_cells = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(parameter_cells) == 1
    assert sources[1] == parameter_cells[0].source, "the parameters cell comes right after the Colab cell"
    assert build_notebooks.language_setup_line(language) in sources[2], "setup uses SEED, after papermill's injection"
    for name in ("MODEL", "QUANTIZATION", "SEED"):
        assert name in default_parameters(path), f"parameters cell lacks {name}"
    for line in parameter_cells[0].source.splitlines():
        assert "#" in line, f"every parameter has a one-line comment: {line!r}"
        assert "=" not in line.split("#", 1)[1], f"papermill cannot parse a second '=' in a comment: {line!r}"
    assert any(SUMMARY[language] in cell.source.lower() for cell in notebook.cells if cell.cell_type == "markdown")


@pytest.mark.parametrize("path", EDITIONS, ids=edition_id)
def test_exercises_are_checked_and_solutions_come_after_their_check(path):
    """Three or more exercises; each solution cell is tagged and follows the learner's checked attempt."""
    not_yet, correct = verdict_prefix(path.parent.name, "not_yet"), verdict_prefix(path.parent.name, "correct")
    code_cells = [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"]
    solutions = [index for index, cell in enumerate(code_cells) if "solution" in cell.metadata.get("tags", [])]
    attempts = [
        index for index, cell in enumerate(code_cells)
        if index not in solutions and re.search(r"^answer = None", cell.source, re.M)
    ]
    assert len(attempts) >= 3, "at least three exercises"
    assert len(solutions) >= len(attempts), "every exercise has a reference solution cell tagged `solution`"
    for index in attempts:
        assert "check_" in code_cells[index].source, "the learner's attempt is checked right away"
        assert not_yet in printed(code_cells[index]), (
            "an unanswered exercise prints a hint (and does not raise)"
        )
    for index in solutions:
        assert any(attempt < index for attempt in attempts), "a solution comes after the exercise's check"
        assert "check_" in code_cells[index].source, "a solution cell ends by running the check"
        assert correct in printed(code_cells[index]), (
            f"the reference solution in cell {code_cells[index].id} is not correct"
        )
    hints = "".join(printed(code_cells[index]) for index in attempts)
    assert "model.generate(" not in hints and "tokenizer(" not in hints, "hints point at concepts, not at calls"


@pytest.mark.notebooks
def test_the_template_for_new_notebooks_builds_runs_and_meets_the_contract(tmp_path):
    """notebooks/src/_template.py (README, "Adding a notebook") is a valid starting point."""
    built = tmp_path / "99_template.ipynb"
    nbformat.write(build_notebooks.build_notebook(ROOT / "notebooks" / "src" / "_template.py", "en"), built)
    run = run_notebook(built, built)
    assert run.error is None, run.error
    test_notebook_structure(built, language="en")
    german = tmp_path / "99_template_de.ipynb"  # same code; its structure in German, not executed again
    nbformat.write(build_notebooks.build_notebook(ROOT / "notebooks" / "src" / "_template.py", "de"), german)
    test_notebook_structure(german, language="de")


# The pitfalls' own messages, as transformers 5.24 prints them, each in the output of the
# cell that makes the mistake (notebook, code of that cell, message). setup_notebook leaves
# transformers' warnings on for exactly this; the lesson tests check the prose around them.
PITFALL_MESSAGES = [
    ("02", "default_ids = model.generate(**model_inputs, do_sample=False)",
     "UserWarning: Using the model-agnostic default `max_length`"),
    ("03", "forgotten_ids = model.generate(**inputs, max_new_tokens=MAX_NEW_TOKENS, temperature=0.7)",
     "[transformers] The following generation flags are not valid and may be ignored: ['temperature']"),
    ("04", "    inputs = tokenizer(PROMPTS, padding=True, return_tensors=\"pt\")",
     "ValueError: Asking to pad but the tokenizer does not have a padding token"),
    ("04", "right_ids = model.generate(**right_inputs, max_new_tokens=MAX_NEW_TOKENS, do_sample=False)",
     "[transformers] A decoder-only architecture is being used, but right-padding was detected!"),
    ("04", "no_mask_ids = model.generate(input_ids=left_inputs[\"input_ids\"]",
     "[transformers] The attention mask is not set with a batched input"),
]


@pytest.mark.parametrize("number, code, message", PITFALL_MESSAGES, ids=lambda value: str(value)[:24])
def test_pitfall_messages_show_in_the_cell_that_makes_the_mistake(number, code, message):
    cells = notebook_cells(number)
    mistake = code_cell(cells, code)
    assert message in printed(mistake), f"notebook {number}: {message!r} not under the cell"
    following = cells[cells.index(mistake) + 1]
    assert following.cell_type == "markdown" and re.search(r"warn|error|message", following.source, re.I), (
        "a sentence right after the cell points at the message"
    )


@pytest.mark.parametrize("number", ["02", "03", "04", "05"])
def test_pitfall_notebooks_call_model_generate_directly(number):
    sources = [cell.source for cell in notebook_cells(number) if cell.cell_type == "code"]
    assert sum("model.generate(" in source for source in sources) >= 3


def test_two_at_a_time_starts_the_real_model_notebooks_first_and_gives_each_kernel_one_thread(tmp_path, monkeypatch):
    """`make run`'s scheduling (course_tools.run.run_course with jobs=2), on three small notebooks.

    The notebooks whose default MODEL is not tutorial-tiny start first; results come back in
    reading order; every kernel has one CPU thread, as in the builder and nbval, which is
    what keeps the outputs of two notebooks side by side identical to one at a time; each
    kernel starts in its notebook's folder, and this process's working directory stays put.
    """
    from course_tools import run as course

    folder = tmp_path / "notebooks" / "en"
    folder.mkdir(parents=True)
    probe = "import os, torch\nprint(os.environ['OMP_NUM_THREADS'], torch.get_num_threads(), os.getcwd())"
    for name, model in [("01_a", "tutorial-tiny"), ("02_b", "smollm2-135m"), ("03_c", "tutorial-tiny")]:
        parameters = nbformat.v4.new_code_cell(f"MODEL = {model!r}", metadata={"tags": ["parameters"]})
        nbformat.write(nbformat.v4.new_notebook(cells=[parameters, nbformat.v4.new_code_cell(probe)]),
                       folder / f"{name}.ipynb")
    paths = notebook_paths("en", tmp_path / "notebooks")
    assert [path.stem for path in course.longest_first(paths)] == ["02_b", "01_a", "03_c"]

    monkeypatch.setenv("OMP_NUM_THREADS", "2")  # run_course itself must set one thread per kernel
    working_directory = os.getcwd()
    runs = course.run_course("en", tmp_path / "executed", verbose=False, jobs=2, notebook_root=tmp_path / "notebooks")
    assert [run.notebook for run in runs] == paths and all(run.error is None for run in runs)
    assert os.getcwd() == working_directory, "running notebooks side by side moved this process"
    for run in runs:
        executed = nbformat.read(run.output, as_version=4)  # each kernel in its notebook's folder
        assert printed(executed.cells[-1]).split() == ["1", "1", str(folder)], run.notebook.name


def test_xdist_cannot_split_a_notebooks_cells_between_workers():
    """`pytest -n 2` alone (--dist load) would hand single nbval cells to each worker: one clear error instead."""
    completed = subprocess.run(
        [sys.executable, "-m", "pytest", "notebooks/en/02_output_length.ipynb", "-n", "2", "-q"],
        cwd=ROOT, capture_output=True, text=True,
    )
    assert completed.returncode == pytest.ExitCode.USAGE_ERROR, completed.stdout + completed.stderr
    assert "--dist loadfile" in completed.stderr and "Cell" not in completed.stdout
