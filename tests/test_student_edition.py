"""The student edition (`make student`, course_tools/student_edition.py): the notebooks without their solutions.

The structure tests read every committed notebook of every edition and its student copy;
they execute nothing. The `notebooks`-marked test executes the German student edition with the parameters a
learner changes (the other built-in model, 4- or 8-bit, a smaller token budget), one notebook per
test, and proves that a learner who has written nothing yet gets a hint from every exercise
and that the notebook still runs from top to bottom.
"""


import nbformat
import pytest
from committed_notebooks import verdict_prefix

from course_tools import student_edition
from course_tools.layout import NOTEBOOKS, ROOT, editions, notebook_paths
from course_tools.run import default_parameters, run_notebook

EDITIONS = editions()
SOURCES = [path for language in EDITIONS for path in notebook_paths(language)]


def is_exercise(cell) -> bool:
    """An exercise cell: `answer = None` for the learner to replace, and the check that judges it."""
    lines = cell.source.splitlines()
    has_answer = any(line.startswith("answer = None") for line in lines)
    return cell.cell_type == "code" and has_answer and "check_" in cell.source


def tags(cell) -> list[str]:
    return list(cell.metadata.get("tags", []))


@pytest.fixture(scope="session")
def student_folder(tmp_path_factory):
    """The student edition of every edition, written once into a temporary folder."""
    folder = tmp_path_factory.mktemp("student")
    written = student_edition.write_student_edition(folder)
    assert len(written) == len(SOURCES)
    return folder


def test_every_edition_is_found():
    assert "en" in EDITIONS and SOURCES


@pytest.mark.parametrize("source", SOURCES, ids=lambda path: f"{path.parent.name}-{path.stem[:2]}")
def test_student_copy_has_no_solution_and_no_output(student_folder, source):
    language = source.parent.name
    original = nbformat.read(source, as_version=4)
    student = nbformat.read(student_folder / language / source.name, as_version=4)
    assert len(student.cells) == len(original.cells)

    solutions = [cell for cell in original.cells if "solution" in tags(cell)]
    skeletons = [cell for cell in student.cells if student_edition.SKELETON_TAG in tags(cell)]
    assert solutions, f"{source.name} has no solution cells"
    assert len(skeletons) == len(solutions)
    assert not [cell for cell in student.cells if "solution" in tags(cell)]

    for before, after in zip(original.cells, student.cells, strict=True):  # same length, asserted above
        assert after.cell_type == before.cell_type
        if before.cell_type == "markdown":
            assert after.source == before.source and after.metadata == before.metadata
            continue
        assert after.outputs == [] and after.execution_count is None
        if "solution" not in tags(before):
            assert after.source == before.source and tags(after) == tags(before)
            continue
        # A skeleton: the other tags kept, only comments, no line of the solution but its check call.
        assert tags(after) == [tag for tag in tags(before) if tag != "solution"] + [student_edition.SKELETON_TAG]
        lines = after.source.splitlines()
        assert lines[0] == student_edition.REMOVED_MESSAGE[language]
        assert all(line.startswith("#") for line in lines)
        check = student_edition.last_statement(before.source)
        assert "check_" in check
        assert lines[1:] == [f"# {line}" for line in check.splitlines()]
        answer_lines = [line.strip() for line in before.source.splitlines()
                        if line.strip() and not line.lstrip().startswith("#") and line.strip() not in check]
        for line in answer_lines:
            assert line not in after.source, f"the student copy of {source.name} gives away {line!r}"

    assert "papermill" not in student.metadata
    nbformat.validate(student)


def test_skeleton_keeps_a_multi_line_check_call_and_speaks_the_edition_language():
    solution = "answer = 3\nprint(answer)\ncorrect = check_thing(\n    answer,\n    model,\n)\n"
    assert student_edition.skeleton_source(solution, "de").splitlines() == [
        student_edition.REMOVED_MESSAGE["de"], "# correct = check_thing(", "#     answer,", "#     model,", "# )",
    ]
    assert student_edition.skeleton_source("answer = 3", "en") == student_edition.REMOVED_MESSAGE["en"]
    magic = "%timeit -n 1 model(**inputs)\ncheck_speed(answer)"
    assert student_edition.skeleton_source(magic, "en").splitlines()[1:] == ["# check_speed(answer)"]


def test_command_line_writes_build_student_per_edition(tmp_path, capsys):
    assert student_edition.main(["--output", str(tmp_path), "--language", "en"]) == 0
    written = sorted(path.name for path in (tmp_path / "en").glob("*.ipynb"))
    assert written == [path.name for path in notebook_paths("en")]
    assert "student notebooks (en)" in capsys.readouterr().out
    assert student_edition.DEFAULT_OUTPUT == ROOT / "build" / "student"
    assert (NOTEBOOKS / "en").is_dir()


BUILT_IN_MODELS = ("tutorial-tiny", "smollm2-135m")
# What a learner changes next, where the notebook offers it: each value differs from the default.
# REAL_MODEL=None is the documented way to skip the real-model part of 03 and 04.
OTHER_SETTINGS = {"MAX_NEW_TOKENS": 5, "BATCH_SIZE": 3, "REPEATS": 1, "LOOKUP_TOKENS": 3,
                  "QUANTIZATIONS_TO_COMPARE": ["4bit"], "REAL_MODEL": None}


def learner_parameters(source) -> dict:
    """The parameters of the run below: the other built-in model, quantized, a smaller token budget, ...

    Only names that the notebook's parameters cell has; every value differs from its default.
    """
    defaults = default_parameters(source)
    [other_model] = [model for model in BUILT_IN_MODELS if model != defaults["MODEL"]]
    # Both bitsandbytes settings, each in several notebooks: the tiny model in 4-bit, the real one
    # in 8-bit (bitsandbytes quantizes it in ~1.5 s on a CPU, in ~5 s to 4-bit), except in 01,
    # whose own BitsAndBytesConfig call is the guide's load_in_4bit.
    quantization = "4bit" if other_model == "tutorial-tiny" or source.name.startswith("01_") else "8bit"
    parameters = {"MODEL": other_model, "QUANTIZATION": quantization}
    parameters.update({name: value for name, value in OTHER_SETTINGS.items() if name in defaults})
    assert all(parameters[name] != defaults[name] for name in parameters), (source.name, parameters, defaults)
    return parameters


def test_the_learner_parameters_change_model_quantization_and_token_budget():
    """Each built-in model and each bitsandbytes setting in at least three notebooks."""
    for source in notebook_paths("de"):
        parameters = learner_parameters(source)
        assert parameters["QUANTIZATION"] in ("4bit", "8bit")
        assert parameters["MAX_NEW_TOKENS"] < default_parameters(source)["MAX_NEW_TOKENS"]
    for name in ("MODEL", "QUANTIZATION"):
        values = [learner_parameters(source)[name] for source in notebook_paths("de")]
        assert len(set(values)) == 2 and all(values.count(value) >= 3 for value in values), (name, values)


@pytest.mark.notebooks
@pytest.mark.parametrize("source", notebook_paths("de"), ids=lambda path: path.stem[:2])
def test_student_notebook_runs_with_other_parameters_and_every_exercise_gives_a_hint(student_folder, tmp_path, source):
    """A learner who runs the student copy unchanged but for the parameters: no crash, a hint
    from each exercise, no "Richtig!".

    One run per notebook proves four things: the student edition runs top to bottom; the
    German edition's messages come in German at run time; and every notebook works with the
    parameters a learner changes first (`learner_parameters`): the other built-in model
    (smollm2-135m where the default is tutorial-tiny, and the other way round), QUANTIZATION
    "4bit" or "8bit" (bitsandbytes on the CPU), and a smaller token budget. Strict nbval runs every
    notebook at its defaults (the English edition; the German one is the same code,
    tests/test_editions.py), so each notebook runs twice in a test run, with different
    parameters.
    """
    parameters = learner_parameters(source)
    run = run_notebook(student_folder / "de" / source.name, tmp_path / source.name, parameters)
    assert run.error is None, f"{source.name} (student edition, {parameters}) failed: {run.error}"
    executed = nbformat.read(run.output, as_version=4)
    injected = next(cell for cell in executed.cells if "injected-parameters" in tags(cell))
    assert f"QUANTIZATION = {parameters['QUANTIZATION']!r}".replace("'", '"') in injected.source.replace("'", '"')
    hint, correct = verdict_prefix("de", "not_yet"), verdict_prefix("de", "correct")
    exercises = 0
    for cell in executed.cells:
        if cell.cell_type != "code":
            continue
        assert not [output for output in cell.outputs if output.output_type == "error"]
        printed = "".join(output.get("text", "") for output in cell.outputs if output.output_type == "stream")
        assert correct not in printed, f"a cell of the student edition printed {correct!r}:\n{cell.source}"
        if student_edition.SKELETON_TAG in tags(cell):
            assert cell.outputs == []
        if is_exercise(cell):
            exercises += 1
            assert hint in printed, f"no {hint!r} under the exercise:\n{cell.source}\n---\n{printed}"
    skeletons = sum(student_edition.SKELETON_TAG in tags(cell) for cell in executed.cells)
    assert exercises >= 3 and exercises == skeletons
