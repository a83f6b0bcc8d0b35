"""The package speaks the notebook's language: every message exists in English and German.

`setup_notebook(language="de")` switches what the package prints (setup lines, exercise
verdicts and hints, the errors a learner meets); without it everything stays English.
"""

import ast
import subprocess
import sys

import pytest

import companion
from companion.language import LANGUAGES, Messages, all_catalogues, current_language, placeholders, set_language
from course_tools.layout import ROOT

CATALOGUES = all_catalogues()  # imports every module that prints for learners
MODULES = {name: module for name, module in sys.modules.items() if name.startswith("companion.")
           and not name.startswith(("course_tools.bench", "companion.tiny"))}
# Texts that are the same word in both languages (a name), checked so that a copy of the
# English cannot pass as a translation anywhere else.
SAME_IN_BOTH = {("companion.notebook_setup", "colab")}


@pytest.fixture
def german():
    set_language("de")
    yield
    set_language("en")


# Modules of companion.exercises that print nothing themselves: the checks that use them do.
PRINT_NOTHING = {"companion.exercises.answers"}


def test_the_modules_that_print_for_learners_have_catalogues():
    owners = {catalogue.owner for catalogue in CATALOGUES}
    expected = {
        "companion.notebook_setup", "companion.exercises", "companion.models", "companion.dependencies",
        "companion.chat", "companion.generation",
        # the labels of the package's own tables and charts
        "companion.inspection", "companion.sampling", "companion.plots", "companion.scores", "companion.padding",
    } | {name for name in MODULES if name.startswith("companion.exercises.") and name not in PRINT_NOTHING}
    assert expected <= owners, f"no catalogue in {sorted(expected - owners)}"


@pytest.mark.parametrize("catalogue", CATALOGUES, ids=lambda catalogue: catalogue.owner)
def test_every_message_is_translated(catalogue):
    for key, templates in catalogue.entries.items():
        assert set(templates) == set(LANGUAGES), f"{catalogue.owner}: {key}"
        assert placeholders(templates["en"]) == placeholders(templates["de"]), f"{catalogue.owner}: {key}"
        assert templates["de"].strip(), f"{catalogue.owner}: {key} has an empty German text"
        if (catalogue.owner, key) not in SAME_IN_BOTH:
            assert templates["de"] != templates["en"], f"{catalogue.owner}: {key} is not translated"


@pytest.mark.parametrize("name", sorted(MODULES))
def test_every_message_a_module_asks_for_exists(name):
    """Every `MESSAGES("key", ...)` call with a literal key names an entry of that catalogue."""
    module = MODULES[name]
    tree = ast.parse(open(module.__file__).read())
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
            continue
        catalogue = getattr(module, node.func.id, None)
        if not isinstance(catalogue, Messages) or not node.args:
            continue
        keys = [node.args[0]] if not isinstance(node.args[0], ast.IfExp) else [node.args[0].body, node.args[0].orelse]
        for key in keys:
            if isinstance(key, ast.Constant):
                where = f"{name}: {node.func.id}({key.value!r})"
                assert key.value in catalogue, f"{where} is not in {catalogue.owner}'s catalogue"


def test_a_catalogue_refuses_a_missing_language_or_a_dropped_placeholder():
    with pytest.raises(ValueError, match="needs"):
        Messages("test", {"greeting": {"en": "Hello"}})
    with pytest.raises(ValueError, match="placeholders"):
        Messages("test", {"count": {"en": "{n} tokens", "de": "Tokens"}})


def test_setup_notebook_declares_the_language_and_refuses_others(capsys, german):
    environment = companion.setup_notebook(seed=0, language="de")
    assert environment.language == "de" and current_language() == "de"
    printed = capsys.readouterr().out
    assert "Zufalls-Seed: 0" in printed and "Random seed" not in printed
    with pytest.raises(ValueError, match='language="de"'):
        companion.setup_notebook(seed=0, language="fr")


def test_the_errors_a_learner_meets_speak_german_after_setup(tiny, german):
    model, tokenizer = tiny
    with pytest.raises(companion.UnknownModelError, match="lässt sich nicht laden"):
        companion.load_model("tutorial-tiniest")
    with pytest.raises(companion.CompanionError, match="kein Chat-Template"):
        from companion.chat import render_chat

        render_chat(tokenizer, [{"role": "user", "content": "Hallo"}])
    with pytest.raises(companion.CompanionError, match="Geben Sie max_new_tokens=... an"):
        companion.generate_text(model, tokenizer, "Hallo", max_new_tokens=None)
    from companion.dependencies import require

    with pytest.raises(companion.MissingPackageError, match="ist aber nicht installiert"):
        require("a_package_that_is_not_there", "für diesen Test")


def test_errors_outside_a_notebook_stay_english():
    """A script that never calls setup_notebook gets English messages."""
    completed = subprocess.run(
        [sys.executable, "-c", "import companion\ntry:\n    companion.load_model('tutorial-tiniest')\n"
         "except companion.UnknownModelError as error:\n    print(error)"],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )
    assert "Cannot load the model 'tutorial-tiniest'" in completed.stdout, completed.stdout + completed.stderr
