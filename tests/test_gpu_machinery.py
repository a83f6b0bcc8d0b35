"""The machinery of `make test-gpu`, proven on a CPU: the GPU job's logic is not tested only where a GPU runs.

- the one table of device-dependent cells (course_tools.devices) matches the tags in the
  committed notebooks, and course_tools/tag_device_cells.py writes exactly those tags;
- the strict-nbval copies for the GPU ignore the outputs of those cells and change nothing else;
- the hub-model pass (tools/gpu_check.hub_pass, the same function the GPU job runs) executes a
  notebook with its overrides, a built-in model in 4-bit standing in for the hub model, and
  every notebook's hub parameters name parameters that the notebook has;
- without CUDA, `make test-gpu` says so in one line and exits non-zero.
"""

import copy
import re
import shutil
import subprocess
import sys

import nbformat
import pytest
import torch
from committed_notebooks import notebook_cells, notebook_path, printed

from course_tools import build_notebooks, gpu_check, tag_device_cells
from course_tools.devices import (
    DEVICE_DEPENDENT_CELLS,
    DEVICE_DEPENDENT_TAG,
    HUB_INSTRUCT_MODEL,
    HUB_MODEL,
    HUB_OVERRIDES,
    hub_parameters,
)
from course_tools.layout import NOTEBOOKS, ROOT, all_notebook_paths, notebook_paths, source_paths
from course_tools.run import default_parameters

STAND_IN = "smollm2-135m"  # a built-in instruct model in place of both hub models: no download


def listed_cell_ids() -> set[str]:
    """The ids of the committed English cells that the table lists (each snippet must match one code cell)."""
    ids = set()
    for number, snippet, _ in DEVICE_DEPENDENT_CELLS:
        found = [cell.id for cell in notebook_cells(number) if cell.cell_type == "code" and snippet in cell.source]
        assert len(found) == 1, f"notebook {number}: {len(found)} code cells contain {snippet!r}; the table needs one"
        ids.add(found[0])
    return ids


def tagged_cell_ids(notebooks) -> set[str]:
    """The ids of the cells tagged device-dependent in `notebooks` (nbformat notebooks)."""
    return {
        cell.id for notebook in notebooks for cell in notebook.cells
        if DEVICE_DEPENDENT_TAG in cell.metadata.get("tags", [])
    }


def test_each_table_entry_names_one_code_cell_and_a_reason():
    assert len(listed_cell_ids()) == len(DEVICE_DEPENDENT_CELLS), "two entries name the same cell"
    for number, _, reason in DEVICE_DEPENDENT_CELLS:
        assert reason.strip(), f"notebook {number}: every entry says why its output depends on the device"


def test_the_cells_tagged_device_dependent_are_exactly_the_table():
    committed = [nbformat.read(path, as_version=4) for path in notebook_paths("en")]
    tagged = tagged_cell_ids(committed)
    if not tagged:
        pytest.skip(
            "no cell is tagged device-dependent yet: "
            "run `python -m course_tools.tag_device_cells`, then `make notebooks`"
        )
    assert tagged == listed_cell_ids(), (
        f"tagged but not listed: {sorted(tagged - listed_cell_ids())}; listed but not tagged: "
        f"{sorted(listed_cell_ids() - tagged)}. Run `python -m course_tools.tag_device_cells`, then `make notebooks`."
    )


def test_the_tag_script_tags_exactly_the_listed_cells_and_changes_only_headers(tmp_path):
    sources = tmp_path / "src"
    shutil.copytree(ROOT / "notebooks" / "src", sources)
    before = {path.name: path.read_text() for path in sources.glob("*.py")}
    assert tag_device_cells.main(["--source-dir", str(sources)]) == 0
    assert tag_device_cells.main(["--source-dir", str(sources), "--check"]) == 0, "a second run changes nothing"
    built = []
    for source in source_paths(sources):
        old_lines, new_lines = before[source.name].splitlines(), source.read_text().splitlines()
        assert len(old_lines) == len(new_lines)
        for old, new in zip(old_lines, new_lines, strict=True):
            assert old == new or (old.startswith("# %%") and new.startswith("# %%")), f"{source.name}: {new!r}"
        notebook = build_notebooks.build_notebook(source, "en")
        committed = nbformat.read(ROOT / "notebooks" / "en" / f"{source.stem}.ipynb", as_version=4)
        assert [cell.source for cell in notebook.cells] == [cell.source for cell in committed.cells]
        built.append(notebook)
    assert tagged_cell_ids(built) == listed_cell_ids()


def test_the_tag_script_removes_the_tag_from_a_cell_the_table_no_longer_lists():
    text = (
        "# %% [markdown] lang=en\n# Prose\n"
        "# %% tags=solution,device-dependent\nprint(1)\n"
        "# %% tags=device-dependent\nprint(2)\n"
    )
    assert tag_device_cells.tagged_source(text, ["print(1)"], "test") == (
        "# %% [markdown] lang=en\n# Prose\n"
        "# %% tags=solution,device-dependent\nprint(1)\n"
        "# %%\nprint(2)\n"
    )
    with pytest.raises(ValueError, match="0 code cells"):
        tag_device_cells.tagged_source(text, ["print(3)"], "test")


def test_nbval_copies_ignore_the_outputs_of_device_dependent_cells_and_change_nothing_else(tmp_path):
    notebook = nbformat.read(notebook_paths("en")[2], as_version=4)  # 03: device print and sampled cells
    for cell in notebook.cells:  # tagged as the tag script and the builder will tag them
        if cell.id in listed_cell_ids():
            cell.metadata["tags"] = [*cell.metadata.get("tags", []), DEVICE_DEPENDENT_TAG]
    original = copy.deepcopy(notebook)
    changed = gpu_check.ignore_device_dependent_outputs(notebook)
    assert changed and set(changed) == {cell.id for cell in original.cells if cell.id in listed_cell_ids()}
    for before, after in zip(original.cells, notebook.cells, strict=True):
        tags = after.metadata.pop("tags", [])
        before_tags = before.metadata.pop("tags", [])
        expected = [*before_tags, "nbval-ignore-output"] if before.id in changed else before_tags
        assert tags == expected, before.id
        assert after == before, f"{before.id}: only the tags may change"
    copies = gpu_check.nbval_copies(tmp_path / "nbval")
    assert [copied.relative_to(tmp_path / "nbval") for copied in copies] == [
        path.relative_to(NOTEBOOKS) for path in all_notebook_paths()
    ]


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_gpu_check_without_cuda_says_so_in_one_line_and_exits_non_zero():
    completed = subprocess.run(
        [sys.executable, "-m", "course_tools.gpu_check"], cwd=ROOT, capture_output=True, text=True
    )
    assert completed.returncode == 2
    assert completed.stdout == gpu_check.NO_CUDA_MESSAGE + "\n"


def test_make_test_gpu_runs_the_gpu_check_and_nothing_before_it():
    makefile = (ROOT / "Makefile").read_text()
    target = re.search(r"^test-gpu:(.*)\n((?:\t.*\n)+)", makefile, re.M)
    assert target, "a test-gpu target"
    assert target.group(1).split("#")[0].strip() == "", "no prerequisite: without CUDA the answer is one line"
    assert target.group(2).strip() == "@$(BIN)/python -m course_tools.gpu_check"
    assert re.search(r"^\.PHONY:.*\btest-gpu\b", makefile, re.M)


def test_hub_parameters_per_notebook():
    numbers = [path.name[:2] for path in notebook_paths("en")]
    assert set(HUB_OVERRIDES) <= set(numbers)
    for number in numbers:
        parameters = hub_parameters(number)
        assert set(parameters) <= set(default_parameters(notebook_path(number))), (
            f"{number}: papermill would inject an unknown name"
        )
        assert parameters["QUANTIZATION"] == "4bit"
        assert None not in parameters.get("QUANTIZATIONS_TO_COMPARE", []), f"{number}: no fp32 load of a 7B model"
    assert hub_parameters("01")["MODEL"] == HUB_MODEL
    assert hub_parameters("05")["MODEL"] == HUB_INSTRUCT_MODEL, "the chat lessons get an instruct model"
    assert hub_parameters("06") == {
        "MODEL": HUB_MODEL, "QUANTIZATION": "4bit", "QUANTIZATIONS_TO_COMPARE": ["8bit", "4bit"]
    }
    assert hub_parameters("05", STAND_IN, "4bit", STAND_IN) == {"MODEL": STAND_IN, "QUANTIZATION": "4bit"}


@pytest.mark.notebooks
def test_the_hub_pass_runs_a_notebook_with_its_overrides(tmp_path):
    """The GPU job's step 3 on notebook 06, with tutorial-tiny in 4-bit for the hub model.

    06 is the notebook whose override matters on any machine (no fp32 load of a 7B model).
    That every notebook runs quantized and with the other built-in model is proven by the
    student-edition run (tests/test_student_edition.py); test_hub_parameters_per_notebook
    checks every notebook's hub parameters without executing them.
    """
    number, model = "06", "tutorial-tiny"  # 06 needs no chat template: the instant model, as this tests the machinery
    runs = gpu_check.hub_pass(tmp_path, model, "4bit", STAND_IN, numbers=[number], verbose=False)
    assert [run.notebook.name[:2] for run in runs] == [number]
    run = runs[0]
    assert run.error is None, f"{run.notebook.name}: {run.error}"
    assert run.output == tmp_path / "en" / run.notebook.name
    executed = nbformat.read(run.output, as_version=4)
    injected = next(cell for cell in executed.cells if "injected-parameters" in cell.metadata.get("tags", []))
    for name, value in hub_parameters(number, model, "4bit", STAND_IN).items():
        assert f"{name} = {value!r}" in injected.source.replace('"', "'"), (name, injected.source)
    footprints = next(
        cell for cell in executed.cells if cell.cell_type == "code" and "footprints[quantization] = " in cell.source
    )
    assert "8bit" in printed(footprints) and "4bit" in printed(footprints)
    assert "full precision" not in printed(footprints), "06 loaded the model in fp32"
