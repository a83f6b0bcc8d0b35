"""The German edition reads as German written for this course, not as a copy or a translation slip.

- No run of 9 consecutive words of the German edition of the guide (the Hugging Face
  tutorial "Generation with LLMs" the course follows) appears in the German prose: the
  course explains in its own words. The guide's text is not part of the repository; its
  9-word runs are, as short hashes in tests/guide_de_9_word_runs.txt (make that file with
  `python tests/test_german_prose.py PATH_TO_THE_GUIDE_TEXT`).
- An exercise's German hint begins like a sentence after "Tipp:" ("Tipp: Geben Sie ...").
- German messages write numbers the German way ("84,8 %", "3,5 GB"); a value written as
  code ("top_p=0.9") keeps its point.
"""

import hashlib
import re
import sys
from pathlib import Path

import nbformat
import pytest

from companion.language import all_catalogues, format_message
from course_tools import build_notebooks
from course_tools.layout import notebook_paths, source_paths

RUN_LENGTH = 9
GUIDE_RUNS = Path(__file__).with_name("guide_de_9_word_runs.txt")


def words(text: str) -> list[str]:
    """The words of a markdown text, lower-cased: without fenced code, HTML and link targets.

    Punctuation, markup and line breaks do not count, so a copied sentence cannot hide behind
    another line wrap, an asterisk or a comma; the text inside `code spans` does count.
    """
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"<!--.*?-->|<[^>]+>", " ", text, flags=re.S)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return re.findall(r"\w+", text.lower())


def run_hashes(text: str, length: int = RUN_LENGTH) -> set[str]:
    """A short hash of every run of `length` consecutive words of `text`."""
    found = words(text)
    return {
        hashlib.sha256(" ".join(found[start:start + length]).encode()).hexdigest()[:16]
        for start in range(len(found) - length + 1)
    }


def german_cells() -> list[tuple[str, str]]:
    """(where, text) of every German markdown cell of notebooks/src."""
    return [
        (f"{source.name}, cell {number}", cell["text"])
        for source in source_paths()
        for number, cell in enumerate(build_notebooks.parse_source(source))
        if cell["kind"] == "markdown" and cell["lang"] == "de"
    ]


def test_german_prose_repeats_no_nine_words_of_the_guide():
    guide = set(GUIDE_RUNS.read_text().split())
    assert len(guide) > 1000, f"{GUIDE_RUNS.name} holds too few runs: make it again from the guide"
    copied = []
    for where, text in german_cells():
        found = words(text)
        for start in range(len(found) - RUN_LENGTH + 1):
            run = " ".join(found[start:start + RUN_LENGTH])
            if hashlib.sha256(run.encode()).hexdigest()[:16] in guide:
                copied.append(f"{where}: {run!r}")
    assert not copied, (
        "German prose repeats the guide word for word; say it in the course's own words:\n" + "\n".join(copied)
    )


def test_the_check_finds_a_copied_sentence_across_line_breaks_and_markup():
    sentence = "Ein Sprachmodell, das für *Causal Language Modeling* trainiert wurde, nimmt eine Folge"
    copy = "# Text\n\nEin Sprachmodell, das\nfür **causal language modeling** trainiert wurde, nimmt eine Folge ..."
    assert run_hashes(sentence) and run_hashes(sentence) <= run_hashes(copy)
    assert not (
        run_hashes("Ein kausales Sprachmodell beantwortet eine einzige Frage: welcher Token folgt")
        & run_hashes(sentence)
    )


def exercise_catalogues():
    return [catalogue for catalogue in all_catalogues() if catalogue.owner.startswith("companion.exercises.")]


def opens_with_code(text: str) -> bool:
    """True if the text's first word is code (generate(), max_new_tokens, top_p=..., outputs.scores)."""
    first = text.split()[0] if text.split() else ""
    return bool(re.search(r"[_().=]", first))


@pytest.mark.parametrize("catalogue", exercise_catalogues(), ids=lambda catalogue: catalogue.owner)
def test_german_exercise_messages_begin_like_a_sentence(catalogue):
    """Every verdict and hint is printed after "Richtig!" or "Tipp:", so it starts with a capital."""
    for key, templates in catalogue.entries.items():
        german = templates["de"]
        if german[:1].isalpha() and not opens_with_code(german):
            assert german[0].isupper(), f"{catalogue.owner}: {key} begins with a small letter: {german[:60]!r}"


def outputs_of(path: Path) -> list[tuple[str, str]]:
    """(cell id, line) for every line of text a notebook's code cells printed."""
    lines = []
    for cell in nbformat.read(path, as_version=4).cells:
        for output in cell.get("outputs", []):
            text = output.get("text") or output.get("data", {}).get("text/plain", "")
            lines.extend((cell.id, line) for line in text.split("\n"))
    return lines


@pytest.mark.parametrize("path", notebook_paths("de"), ids=lambda path: path.stem)
def test_german_verdicts_capitalise_after_tipp_and_write_decimal_commas(path):
    problems = []
    for cell_id, line in outputs_of(path):
        if not line.startswith(("Richtig!", "Noch nicht.")):
            continue
        hint = re.search(r"Tipp: (\S+)", line)
        if hint and not hint.group(1)[0].isupper() and not opens_with_code(hint.group(1)):
            problems.append(f"{cell_id}: small letter after 'Tipp:': {line[:100]}")
        # A decimal point belongs to code ("top_p=0.9", "answer = 1.7") or to a version
        # ("transformers 4.47", "bis 4.46"); everything else is a German number.
        for number in re.finditer(r"(?<![\w.=])(?<!= )(?<!transformers )(?<!bis )\d+\.\d+|\d%", line):
            problems.append(f"{cell_id}: {number.group(0)!r} is not written the German way: {line[:140]}")
    assert not problems, "\n".join(problems)


def test_german_messages_write_numbers_the_german_way_and_code_as_code():
    fields = {"share": 0.848, "gigabytes": 3.5, "count": 1024, "top_p": 0.9, "flag": True}
    template = "{share:.1%} | {gigabytes:g} GB | {count:,} | top_p={top_p} | {flag}"
    assert format_message(template, "de", fields) == "84,8 % | 3,5 GB | 1.024 | top_p=0.9 | True"
    assert format_message(template, "en", fields) == "84.8% | 3.5 GB | 1,024 | top_p=0.9 | True"


if __name__ == "__main__":
    # python tests/test_german_prose.py GUIDE.txt: write the guide's 9-word runs as hashes.
    guide_text = Path(sys.argv[1]).read_text()
    GUIDE_RUNS.write_text("\n".join(sorted(run_hashes(guide_text))) + "\n")
    print(f"wrote {len(run_hashes(guide_text))} runs to {GUIDE_RUNS}")
