"""The language of what the package prints in a notebook: English (default) or German.

A notebook declares its language once, `companion.setup_notebook(seed=SEED, language="de")`;
from then on setup messages, exercise verdicts and hints, and the errors a learner meets in
the notebooks (unknown model, missing package, no chat template, missing max_new_tokens)
speak that language. Code outside a notebook never calls `setup_notebook`, so its errors
stay English.

Every text lives in a `Messages` catalogue beside the code that prints it, with one template
per language. A catalogue checks itself when its module is imported: each entry must have
every language in LANGUAGES and the same `{placeholders}` in each, so no language can fall
back silently and no translation can drop a value. `tests/test_language.py` checks all of them.

Numbers follow the language: a number filled into a German template is written the German way
("84,8 %", "3,5 GB", "1.024"), except where the template writes it as code, right after an
`=` ("top_p={top_p}" stays "top_p=0.9", as a learner types it). English is left as Python
formats it.
"""

from __future__ import annotations

import numbers
import re
import string

LANGUAGES = ("en", "de")
DEFAULT_LANGUAGE = "en"

_current = DEFAULT_LANGUAGE
CATALOGUES: list[Messages] = []  # every catalogue, in import order (for the tests)


def all_catalogues() -> list[Messages]:
    """Every catalogue of the package: imports each module that prints for learners first.

    Catalogues register themselves when their module is imported; the tests use this to see
    all of them (tests/test_language.py, tests/test_editions.py). The course's tooling
    (course_tools/: benchmarks, the tiny model's trainer) prints for authors only and has none.
    """
    import importlib
    import pkgutil
    from pathlib import Path

    # The package's folder, not `import companion`: this lower layer imports no module above it.
    for info in pkgutil.walk_packages([str(Path(__file__).parent)], "companion."):
        importlib.import_module(info.name)
    return CATALOGUES


def current_language() -> str:
    """The language that package messages print in now: "en" or "de"."""
    return _current


def set_language(language) -> str:
    """Make package messages print in `language` ("en" or "de"); return it.

    Called by `setup_notebook(language=...)`; raises a ValueError naming the choices otherwise.
    """
    global _current
    if language not in LANGUAGES:
        raise ValueError(
            f"language must be one of {', '.join(repr(code) for code in LANGUAGES)}, got {language!r}: "
            'use setup_notebook(language="en") for English or language="de" for German.'
        )
    _current = language
    return _current


def is_plain_number(value) -> bool:
    """True for an int or float (also NumPy's); False for bool, text and everything else."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def localized_number(text: str, language: str) -> str:
    """A number as Python formatted it ("84.8%", "1,024", "3.5"), written the way `language` writes it.

    German swaps the decimal point and the digit-grouping comma and puts a space before the
    percent sign ("84,8 %", "1.024", "3,5"); English returns `text` unchanged.
    """
    if language != "de":
        return text
    text = text.translate(str.maketrans({".": ",", ",": "."}))
    if text.endswith("%"):
        text = text[:-1].rstrip() + " %"
    return text


def format_message(template: str, language: str, fields: dict) -> str:
    """`template.format(**fields)`, with every number written the way `language` writes it.

    A field right after an `=` is code (`top_p={top_p}`) and keeps Python's notation, so a
    value a learner types reads the same in the message as in the code.
    """
    formatter = string.Formatter()
    parts = []
    for literal, field, spec, conversion in formatter.parse(template):
        parts.append(literal)
        if field is None:
            continue
        value, _ = formatter.get_field(field, (), fields)
        value = formatter.convert_field(value, conversion)
        spec = formatter.vformat(spec, (), fields) if spec and "{" in spec else spec or ""
        text = formatter.format_field(value, spec)
        if is_plain_number(value) and not literal.endswith("="):
            text = localized_number(text, language)
        parts.append(text)
    return "".join(parts)


def placeholders(template: str) -> set[str]:
    """The names of the `{placeholders}` in a str.format template ("{n:,}" -> {"n"})."""
    return {field for _, field, _, _ in string.Formatter().parse(template) if field is not None}


def rendered_pattern(template: str) -> tuple[re.Pattern, list[str]]:
    """A regex for a line that holds what `template` renders to, and the names of its groups.

    Groups, in order: the text before the message, one per placeholder (in the template's
    order; any text, or a number where the field's format makes one: "{p:.1%}" holds "84.8%"
    or "84,8 %", never a sentence's final period), the text after the message.
    tests/test_editions.py matches the two editions' outputs to catalogue messages with it
    and compares the values filled in.
    """
    parts, names = ["^(.*?)"], ["<before>"]
    for literal, field, spec, _ in string.Formatter().parse(template):
        parts.append(re.escape(literal))
        if field is not None:
            if spec and spec[-1] == "%":
                parts.append(r"(-?[\d.,]+(?:e[-+]?\d+)? ?%)")
            elif spec and spec[-1] in "eEfFgGdn,":
                parts.append(r"(-?[\d.,]*\d(?:e[-+]?\d+)?|-?inf|nan)")
            else:
                parts.append("(.*?)")
            names.append(field)
    return re.compile("".join(parts) + "(.*)$", re.DOTALL), names + ["<after>"]


class Messages:
    """One module's texts in every language: `MESSAGES("key", name=value)` renders one.

    Args:
        owner: the module that prints them (for error messages and tests), e.g. __name__.
        entries: {key: {"en": template, "de": template}}; templates use str.format fields.
    Raises:
        ValueError at import time when an entry lacks a language or the languages'
        placeholders differ.
    """

    def __init__(self, owner: str, entries: dict[str, dict[str, str]]):
        for key, templates in entries.items():
            if set(templates) != set(LANGUAGES):
                raise ValueError(f"{owner}: message {key!r} has languages {sorted(templates)}, needs {list(LANGUAGES)}")
            english = placeholders(templates[DEFAULT_LANGUAGE])
            for language, template in templates.items():
                if placeholders(template) != english:
                    raise ValueError(
                        f"{owner}: message {key!r} in {language!r} has placeholders {sorted(placeholders(template))}, "
                        f"English has {sorted(english)}"
                    )
        self.owner = owner
        self.entries = entries
        CATALOGUES.append(self)

    def __call__(self, key: str, **fields) -> str:
        """The text of `key` in the current language, with `fields` filled in (numbers as the language writes them)."""
        return format_message(self.entries[key][_current], _current, fields)

    def __contains__(self, key: str) -> bool:
        return key in self.entries

    def __repr__(self) -> str:
        return f"Messages({self.owner!r}, {len(self.entries)} entries)"
