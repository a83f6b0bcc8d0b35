"""The German edition uses one word for one thing: the glossary in README.md ("German terms").

The table names, for each term, the German word to use and the forms to avoid. This file
reads the table (so the README is the one place the glossary is written) and checks every
German markdown cell of notebooks/src/*.py and every German template of the package's
`Messages` catalogues: no avoided form may occur. Code is not prose: fenced blocks, `spans`
and link targets are left out, and so is the English word named once where a term is
introduced, written "(englisch *forward pass*)".
"""

import re

import pytest

from companion.language import all_catalogues
from course_tools import build_notebooks
from course_tools.layout import ROOT, source_paths

README = ROOT / "README.md"


def glossary() -> list[tuple[str, str, list[str]]]:
    """The rows of README.md's "German terms" table: (term, use, [avoided forms])."""
    text = README.read_text()
    section = re.search(r"^### German terms\n(.*?)(?=^#)", text, flags=re.M | re.S)
    assert section, 'README.md has no "### German terms" section in its authors\' part'
    rows = []
    for line in section.group(1).splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or cells[0] in ("Term", "") or set(cells[0]) <= set("-"):
            continue
        rows.append((cells[0], cells[1], re.findall(r"`([^`]+)`", cells[2])))
    return rows


def avoided_pattern(form: str) -> re.Pattern:
    """A regex for one avoided form: whole words, any case, `*` for any word ending.

    "die Softmax" matches "Die Softmax." but not "die Softmax-Funktion"; "Pass" does not match
    "passt".
    """
    body = r"\s+".join(re.escape(word).replace(r"\*", r"[\w-]*") for word in form.split())
    return re.compile(rf"(?<![\w-]){body}(?![\w-])", re.IGNORECASE)


def prose(text: str) -> str:
    """German text without code, link targets and the English word named at a term's introduction."""
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)
    return re.sub(r"\(?englisch \*[^*]+\*\)?", " ", text)


def german_texts() -> list[tuple[str, str]]:
    """(where, text) for every German markdown cell of the sources and every German message template."""
    texts = []
    for source in source_paths():
        for number, cell in enumerate(build_notebooks.parse_source(source)):
            if cell["kind"] == "markdown" and cell["lang"] == "de":
                texts.append((f"{source.name}, cell {number}", prose(cell["text"])))
    for catalogue in all_catalogues():
        for key, templates in catalogue.entries.items():
            texts.append((f"{catalogue.owner}: {key}", re.sub(r"\{[^{}]*\}", " ", templates["de"])))
    return texts


GLOSSARY = glossary()
TEXTS = german_texts()


def test_the_glossary_names_the_courses_terms():
    uses = {re.sub(r"^(der|die|das) ", "", use).split(",")[0].split(" (")[0] for _, use, _ in GLOSSARY}
    assert {"Anleitung", "dekodieren", "Spezial-Token", "Chat-Template", "Generierungskonfiguration", "Softmax",
            "Dict", "Durchlauf"} <= uses, uses
    assert all(avoided for _, _, avoided in GLOSSARY), "every row names the forms to avoid"


@pytest.mark.parametrize("term, use, avoided", GLOSSARY, ids=[row[0] for row in GLOSSARY])
def test_german_prose_and_messages_use_the_glossary_word(term, use, avoided):
    found = []
    for form in avoided:
        pattern = avoided_pattern(form)
        for where, text in TEXTS:
            for match in pattern.finditer(text):
                context = text[max(0, match.start() - 40):match.end() + 40].replace("\n", " ")
                found.append(f"{where}: {match.group(0)!r} in …{context}…")
    assert not found, f"{term}: write {use!r}, not:\n" + "\n".join(found)


def test_the_matcher_finds_whole_words_only():
    assert avoided_pattern("die Softmax").search("Dann macht die Softmax daraus")
    assert not avoided_pattern("die Softmax").search("mit der die Softmax-Funktion")
    assert avoided_pattern("decodier*").search("Decodieren Sie")
    assert not avoided_pattern("Pass").search("Das passt.")
    assert avoided_pattern("Forward Pass*").search("wie viele Forward\nPasses")
    assert prose("ein *Durchlauf* (englisch *forward pass*)") .strip() == "ein *Durchlauf*"
