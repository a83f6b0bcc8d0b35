"""The English and German editions: the same notebook in two languages, code identical by construction.

Both .ipynb files are generated from one source (course_tools/build_notebooks.py); these tests prove
parity on the committed files, so a hand edit of one edition or a stale build fails here:
- the same cells in the same order, with identical code cells and tags; the one code line
  allowed to differ is the setup call that declares the language (`language_setup_line`);
- identical outputs, apart from lines the package prints in the notebook's language: such a
  line pair must render the same message of a `companion.language.Messages` catalogue, the
  English template in the English notebook and the German template in the German one, with
  the same values (a number may be written the German way, and a table's columns may be
  aligned differently, as its headers have other widths); a figure may differ only in its
  pixels, where the package draws its labels in the notebook's language: its text form
  (size and number of axes) is the same;
- only the markdown differs, and the German markdown is German.
Strict nbval executes the English edition (pyproject.toml's testpaths); this file executes
nothing. Together they verify the German edition without executing it at the same parameters
again: its code is the English code with another setup line, and each of its outputs is the
English output, or the same catalogue message with the same values filled in. What the
German setup line changes at run time is executed by tests/test_student_edition.py.
"""

import re

import nbformat
import pytest

from companion.language import LANGUAGES, all_catalogues, localized_number, rendered_pattern
from course_tools import build_notebooks
from course_tools.layout import notebook_paths, source_paths

ENGLISH = notebook_paths("en")
PAIRS = [(path, path.parent.parent / "de" / path.name) for path in ENGLISH]


def message_patterns() -> list[tuple[tuple, tuple]]:
    """For every catalogue line with some literal text: (English pattern, German pattern)."""
    pairs = []
    for catalogue in all_catalogues():
        for templates in catalogue.entries.values():
            english, german = templates["en"].split("\n"), templates["de"].split("\n")
            if len(english) != len(german):
                continue  # whole-message line counts differ: such a message cannot be compared line by line
            for english_line, german_line in zip(english, german, strict=True):
                if re.sub(r"\{[^{}]*\}", "", english_line).strip():
                    pairs.append((rendered_pattern(english_line), rendered_pattern(german_line)))
    return pairs


PATTERNS = message_patterns()


def same_message(english_line: str, german_line: str) -> bool:
    """True if the two lines render one package message, in English and in German.

    The message may sit inside the line (`print("CompanionError:", error)`); what the code
    printed around it must then be the same in both.
    """
    for (en, english_names), (de, german_names) in PATTERNS:
        english, german = en.match(english_line), de.match(german_line)
        if not (english and german):
            continue
        english_values = dict(zip(english_names, english.groups(), strict=True))
        german_values = dict(zip(german_names, german.groups(), strict=True))
        # The same values in both, whatever order the two sentences put them in; a value may
        # itself be a message in the two languages ("Running on {place}").
        if all(same_value(english_values[name], german_values[name]) for name in english_names):
            return True
    return False


def same_value(english: str, german: str) -> bool:
    """One value of a message, filled into its English and its German template.

    Equal; or the same number written the German way (a message writes 84.8% and 1,024 in
    English, 84,8 % and 1.024 in German: `companion.language.localized_number`); or itself one
    message in the two languages.
    """
    if english == german:
        return True
    if re.fullmatch(r"-?[\d.,]*\d%?", english) and localized_number(english, "de") == german:
        return True
    if squeezed(german_numbers(english)) == squeezed(german):
        return True  # the cells of a table row beside a label ("removed"/"entfernt")
    return same_message(english, german)


def without_numbers(text: str) -> str:
    """Text with every number replaced by N: timings and memory figures vary between runs.

    German numbers count too: 84,8 % and 84.8% both become N%.
    """
    return re.sub(r"\d+([.,]\d+)*( %)?", lambda match: "N%" if match.group(2) else "N", text)


def german_numbers(line: str) -> str:
    """The line with every number written the German way (84.8% -> 84,8 %, -1.981 -> -1,981)."""
    return re.sub(r"\d+(?:[.,]\d+)*%?", lambda number: localized_number(number.group(0), "de"), line)


def squeezed(line: str) -> str:
    """The line with each run of spaces as one: a table's columns are as wide as its headers,
    which differ between the languages ("probability", "Wahrscheinlichkeit")."""
    return re.sub(r" {2,}", " ", line)


def assert_same_text(english: str, german: str, where: str, varies: bool = False) -> None:
    """Line by line: equal, or one package message in the two languages.

    varies: the cell is tagged nbval-ignore-output (timings, versions), so numbers may differ.
    """
    english_lines, german_lines = english.split("\n"), german.split("\n")
    assert len(english_lines) == len(german_lines), (
        f"{where}: {len(english_lines)} lines in English, {len(german_lines)} in German"
    )
    for english_line, german_line in zip(english_lines, german_lines, strict=True):
        if english_line == german_line or varies and squeezed(without_numbers(english_line)) == squeezed(
            without_numbers(german_line)
        ):
            continue  # a timing in a fixed-width column: 99.3 and 101.6 take different room
        if squeezed(german_numbers(english_line)) == squeezed(german_line):
            continue  # a table row: its numbers written the German way, its columns as wide as the German headers
        assert same_message(english_line, german_line) or same_message(squeezed(english_line), squeezed(german_line)), (
            f"{where}: outputs differ and are not one package message in two languages:\n"
            f"  en: {english_line}\n  de: {german_line}"
        )


def assert_same_output(english, german, where: str, varies: bool) -> None:
    assert english.output_type == german.output_type, where
    if english.output_type == "stream":
        assert english.name == german.name, where
        assert_same_text(english.text, german.text, where, varies)
    elif english.output_type == "error":
        assert english.ename == german.ename, where
        assert_same_text(english.evalue, german.evalue, where, varies)
    else:
        assert sorted(english.data) == sorted(german.data), where
        for mime, value in english.data.items():
            if mime == "text/plain":
                assert_same_text(value, german.data[mime], where, varies)
            elif not varies and not mime.startswith("image/"):
                # A figure's pixels differ where the package labels it in German; its text/plain
                # form (size, number of axes) is compared above.
                assert value == german.data[mime], f"{where}: {mime} differs"


def streams_joined(outputs: list) -> list:
    """The other outputs in order, then one output per stream (stderr, stdout) with all its text.

    Where a warning (stderr) lands among a cell's prints (stdout) depends on when the kernel
    flushed, as nbval knows (it joins streams too); the text of each stream does not.
    """
    streams = {}
    for output in outputs:
        if output.output_type == "stream":
            streams[output.name] = streams.get(output.name, "") + output.text
    others = [output for output in outputs if output.output_type != "stream"]
    return others + [nbformat.v4.new_output("stream", name=name, text=text) for name, text in sorted(streams.items())]


@pytest.mark.parametrize("english_path, german_path", PAIRS, ids=lambda path: path.stem)
def test_the_editions_have_the_same_cells_code_and_outputs(english_path, german_path):
    assert german_path.exists(), f"{german_path.name} has no German edition (notebooks/de/)"
    english = nbformat.read(english_path, as_version=4)
    german = nbformat.read(german_path, as_version=4)
    assert [cell.cell_type for cell in english.cells] == [cell.cell_type for cell in german.cells]
    for english_cell, german_cell in zip(english.cells, german.cells, strict=True):
        where = f"{german_path.name}, cell {german_cell.id}"
        assert english_cell.id == german_cell.id, where
        assert english_cell.metadata.get("tags", []) == german_cell.metadata.get("tags", []), where
        if english_cell.cell_type == "markdown":
            assert english_cell.source != german_cell.source, f"{where}: the German prose is the English"
            continue
        setup = build_notebooks.language_setup_line
        assert english_cell.source.replace(setup("en"), setup("de")) == german_cell.source, where
        assert english_cell.execution_count == german_cell.execution_count, where
        english_outputs, german_outputs = streams_joined(english_cell.outputs), streams_joined(german_cell.outputs)
        assert len(english_outputs) == len(german_outputs), f"{where}: number of outputs"
        varies = "nbval-ignore-output" in english_cell.metadata.get("tags", [])
        for english_output, german_output in zip(english_outputs, german_outputs, strict=True):
            assert_same_output(english_output, german_output, where, varies)


@pytest.mark.parametrize("english_path, german_path", PAIRS, ids=lambda path: path.stem)
def test_only_the_setup_line_differs_in_code(english_path, german_path):
    """The one code line that differs declares the language, in the setup cell only."""
    english = nbformat.read(english_path, as_version=4)
    german = nbformat.read(german_path, as_version=4)
    differing = [
        (english_cell.source, german_cell.source)
        for english_cell, german_cell in zip(english.cells, german.cells, strict=True)
        if english_cell.cell_type == "code" and english_cell.source != german_cell.source
    ]
    assert len(differing) == 1
    english_lines, german_lines = (source.splitlines() for source in differing[0])
    changed = [(a, b) for a, b in zip(english_lines, german_lines, strict=True) if a != b]
    assert changed == [(build_notebooks.language_setup_line("en"), build_notebooks.language_setup_line("de"))]


ENGLISH_WORDS = {"the", "and", "is", "you", "of", "to", "with", "that", "this", "it", "which", "what", "are", "for"}
GERMAN_WORDS = {
    "der", "die", "das", "und", "ist", "sie", "mit", "ein", "eine", "nicht", "den", "dem", "zu", "für", "wie"
}


def words_of_prose(markdown: str) -> list[str]:
    """The words of a markdown cell outside code (fenced blocks, `spans`) and link targets."""
    text = re.sub(r"```.*?```", " ", markdown, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return re.findall(r"[A-Za-zÄÖÜäöüß]+", text.lower())


@pytest.mark.parametrize("german_path", [pair[1] for pair in PAIRS], ids=lambda path: path.stem)
def test_german_notebooks_have_no_english_prose(german_path):
    for cell in nbformat.read(german_path, as_version=4).cells:
        if cell.cell_type != "markdown":
            continue
        words = words_of_prose(cell.source)
        english = sum(word in ENGLISH_WORDS for word in words)
        german = sum(word in GERMAN_WORDS for word in words)
        assert german >= english, f"{german_path.name}, cell {cell.id} reads as English:\n{cell.source[:300]}"
        if len(words) >= 12:
            assert german >= 2, f"{german_path.name}, cell {cell.id} has no German:\n{cell.source[:300]}"


def test_every_source_has_both_languages():
    for source in source_paths():
        assert build_notebooks.source_languages(build_notebooks.parse_source(source)) == list(LANGUAGES), source.name


def test_the_editions_have_the_same_notebooks():
    assert [path.name for path in notebook_paths("de")] == [path.name for path in ENGLISH]
