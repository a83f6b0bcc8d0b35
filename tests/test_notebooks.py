"""The notebooks: built from their sources, clean, and executable with papermill.

Strict output comparison is nbval's job (pyproject.toml runs `--nbval` on notebooks/en).
"""

import re
import subprocess
import sys

import nbformat
import pytest

from companion.course import REPOSITORY_ROOT, notebook_paths, run_notebook

NOTEBOOKS = notebook_paths("en")
# Notebooks that reproduce the guide's examples must also work with a real LLM.
REAL_LLM_NOTEBOOKS = [path for path in NOTEBOOKS if path.name[:2] in {"01", "02", "03", "04"}]
ABSOLUTE_PATH = re.compile(r"(/work/|/home/|/root/|/tmp/|/Users/|C:\\\\)")


def test_there_is_a_notebook_per_section():
    assert [path.name[:2] for path in NOTEBOOKS] == ["01", "02", "03", "04", "05", "06"]


def test_notebooks_are_built_from_current_sources():
    completed = subprocess.run(
        [sys.executable, "tools/build_notebooks.py", "--check"], cwd=REPOSITORY_ROOT, capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_structure(path):
    notebook = nbformat.read(path, as_version=4)
    first = notebook.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert "what you will learn" in first.source.lower()
    sources = [cell.source for cell in notebook.cells if cell.cell_type == "code"]
    assert 'google.colab' in sources[0], "first code cell installs the package on Colab"
    parameter_cells = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(parameter_cells) == 1
    assert sources[1] == parameter_cells[0].source, "the parameters cell comes right after the Colab cell"
    assert "companion.setup_notebook(seed=SEED)" in sources[2], "setup uses the SEED parameter, after papermill's injection"
    assert "MODEL =" in parameter_cells[0].source and "QUANTIZATION =" in parameter_cells[0].source
    exercise_checks = sum(source.count("check_") for source in sources)
    assert exercise_checks >= 4, "at least two exercises, each checked twice (attempt and solution)"
    assert any("summary" in cell.source.lower() for cell in notebook.cells if cell.cell_type == "markdown")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_with_papermill(path, tmp_path):
    run = run_notebook(path, tmp_path / path.name)
    assert run.error is None, run.error


@pytest.mark.parametrize("path", REAL_LLM_NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_with_a_real_llm(path, tmp_path):
    run = run_notebook(path, tmp_path / path.name, parameters={"MODEL": "smollm2-135m"})
    assert run.error is None, run.error
