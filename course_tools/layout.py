"""Where things are in the course repository: the one module that knows its layout.

Everything in `course_tools/` and `tests/` that needs a folder, the editions or the notebooks of
an edition asks here. Standard library only (the bootstrap imports it before anything is
installed); the editions' languages come from the package (`companion.language.LANGUAGES`),
read when first asked for.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"  # one folder per edition: notebooks/en, notebooks/de
SOURCES = NOTEBOOKS / "src"  # the notebooks' sources (tools: build_notebooks), one file per notebook
BUILD = ROOT / "build"  # everything the commands write: executed notebooks, site, student edition, bench
PYPROJECT = ROOT / "pyproject.toml"
README = ROOT / "README.md"
LOCK = ROOT / "requirements-lock.txt"
TESTS = ROOT / "tests"

# A notebook's file name starts with its two-digit number: 01_generating_text.ipynb.
NUMBERED = "[0-9][0-9]_*"


def languages() -> tuple[str, ...]:
    """The editions, in the order the course lists them: ("en", "de") (companion.language.LANGUAGES)."""
    from companion.language import LANGUAGES

    return LANGUAGES


def notebook_paths(language: str = "en", root: Path = NOTEBOOKS) -> list[Path]:
    """The notebooks of one edition, in reading order: root/<language>/01_....ipynb, 02_..., ...

    Raises FileNotFoundError with what to do when the edition's folder is missing.
    """
    folder = Path(root) / language
    if not folder.is_dir():
        raise FileNotFoundError(f"No notebooks folder {folder}: run this from a clone of the course repository.")
    return sorted(folder.glob(f"{NUMBERED}.ipynb"))


def editions(root: Path = NOTEBOOKS) -> list[str]:
    """The languages that have notebooks under `root` (default notebooks/), in the order of `languages()`."""
    return [language for language in languages()
            if (Path(root) / language).is_dir() and notebook_paths(language, root)]


def all_notebook_paths(root: Path = NOTEBOOKS) -> list[Path]:
    """The notebooks of every edition under `root`: the English ones in reading order, then the German ones."""
    return [path for language in editions(root) for path in notebook_paths(language, root)]


def source_paths(folder: Path = SOURCES) -> list[Path]:
    """The notebooks' sources in reading order: notebooks/src/01_....py, ... (not _template.py)."""
    return sorted(Path(folder).glob(f"{NUMBERED}.py"))


def notebook_number(path: Path) -> str:
    """The two-digit number of a notebook or its source: "01" for 01_generating_text.ipynb."""
    return Path(path).name[:2]


def project() -> dict:
    """pyproject.toml, parsed."""
    return tomllib.loads(PYPROJECT.read_text())


def project_facts() -> dict:
    """pyproject.toml's [tool.companion]: the install facts pip's metadata cannot express."""
    return project()["tool"]["companion"]


def shown_path(path: Path) -> str:
    """`path` as printed to a person: relative to the current folder when it lies inside it."""
    try:
        return Path(path).resolve().relative_to(Path.cwd()).as_posix()
    except ValueError:
        return str(path)
