"""Build the course's .ipynb files from their one source per notebook, and optionally execute them.

    python -m course_tools.build_notebooks            # write notebooks/<lang>/*.ipynb (no outputs)
    python -m course_tools.build_notebooks --execute  # ... and execute them, keeping the outputs
    python -m course_tools.build_notebooks --check    # exit 1 if a committed notebook's cells differ

Source format (`notebooks/src/NN_name.py`): cells begin with a line `# %%`.
- `# %% [markdown] lang=en` is prose in one language; its lines start with `# `.
  Every language gets its own markdown cells; code cells are shared by all languages,
  so code cannot drift between editions.
- `# %%` is a code cell; `# %% tags=parameters,nbval-ignore-output` adds cell tags.
- `# %% [colab-install]` (no body) becomes the standard first code cell that installs the
  course on Google Colab; its URL and packages come from pyproject.toml, written once.
The languages are those that appear in `lang=` (en, de). A source gives every markdown cell
in each language, the German right after the English, so both editions have the same cells
in the same order. The one code line that differs is the setup call, which declares the
edition's language (`language_setup_line`); everything else in a code cell is shared.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

from companion.language import DEFAULT_LANGUAGE
from course_tools.layout import LOCK, NOTEBOOKS, ROOT, languages, project, project_facts, source_paths
from course_tools.lock import normalise, pinned

KERNELSPEC = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
# The setup call as the source writes it; other editions add their language (see language_setup_line).
SETUP_LINE = "companion.setup_notebook(seed=SEED)"


def language_setup_line(language: str) -> str:
    """The setup call of one edition: the only code line that may differ between languages."""
    if language == DEFAULT_LANGUAGE:
        return SETUP_LINE
    return SETUP_LINE[:-1] + f', language="{language}")'


def colab_requirements() -> tuple[list[str], list[str]]:
    """(the libraries Colab gets at the lock's versions, the no-deps packages at the lock's versions).

    The names come from pyproject.toml's `[tool.companion] colab-locked`, the versions from
    requirements-lock.txt, so the cell cannot drift from the lock.
    """
    facts = project_facts()
    versions = pinned(LOCK.read_text())
    locked = [f"{name}=={versions[normalise(name)]}" for name in facts["colab-locked"]]
    no_deps = [f"{name}=={versions[normalise(name)]}" for name in facts["no-deps-requirements"]]
    return locked, no_deps


def colab_install_source() -> str:
    """The first code cell of every notebook: on Colab, installs the course at the lock's versions."""
    repository = project()["project"]["urls"]["Repository"]
    locked, no_deps = colab_requirements()
    quoted = ", ".join(f'"{requirement}"' for requirement in locked)
    return "\n".join([
        "# On Google Colab: install the course package and the library versions its outputs were made with",
        "# (requirements-lock.txt), keeping Colab's own CUDA torch. Elsewhere this cell does nothing.",
        "import importlib.metadata",
        "import os",
        "import subprocess",
        "import sys",
        "",
        'if "google.colab" in sys.modules:',
        f"    locked = [{quoted}]",
        '    names = [requirement.split("==")[0] for requirement in locked]',
        "    before = {}",
        "    for name in names:",
        "        try:",
        "            before[name] = importlib.metadata.version(name)",
        "        except importlib.metadata.PackageNotFoundError:",
        "            before[name] = None",
        f'    course_package = "companion @ git+{repository}"',
        '    subprocess.run([sys.executable, "-m", "pip", "install", "-q", course_package, *locked], check=True)',
        f'    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "{no_deps[0]}"], check=True)' if len(no_deps) == 1 else  # noqa: E501 (the cell's lines as learners see them)
        f'    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", {", ".join(repr(r) for r in no_deps)}], check=True)',  # noqa: E501 (as above)
        "    # A library that was already imported keeps its old version in memory until the runtime restarts.",
        "    stale = [name for name in names",
        '             if name.replace("-", "_") in sys.modules and before[name] != importlib.metadata.version(name)]',
        "    if stale:",
        '        print(f"Restarting the runtime to load the new {\', \'.join(stale)}: then run the notebook again from the top.")',  # noqa: E501 (as above)
        "        os.kill(os.getpid(), 9)  # Colab restarts a runtime whose kernel has ended",
    ])


def parse_header(header: str) -> tuple[str, dict[str, str]]:
    """Parse '# %% [markdown] lang=en tags=a,b' into ('markdown', {'lang': 'en', 'tags': 'a,b'})."""
    words = header[len("# %%"):].split()
    kind = "code"
    attributes = {}
    for word in words:
        if word == "[markdown]":
            kind = "markdown"
        elif word == "[colab-install]":
            kind = "colab-install"
        elif "=" in word:
            key, value = word.split("=", 1)
            attributes[key] = value
        else:
            raise ValueError(f"Cannot read cell header {header!r}")
    return kind, attributes


def parse_source(path: Path) -> list[dict]:
    """Return the cells of a source file: dicts with kind, lang, tags and text."""
    cells = []
    current = None
    for line in path.read_text().splitlines():
        if line.startswith("# %%"):
            kind, attributes = parse_header(line)
            current = {
                "kind": kind,
                "lang": attributes.get("lang"),
                "tags": [tag for tag in attributes.get("tags", "").split(",") if tag],
                "lines": [],
            }
            if kind == "markdown" and current["lang"] is None:
                raise ValueError(f"{path.name}: markdown cell without lang=: {line!r}")
            cells.append(current)
        elif current is None:
            if line.strip():
                raise ValueError(f"{path.name}: text before the first '# %%' line")
        elif current["kind"] == "markdown":
            if line.strip() and not line.startswith("#"):
                raise ValueError(f"{path.name}: markdown line must start with '#': {line!r}")
            current["lines"].append(line[2:] if line.startswith("# ") else line[1:])
        else:
            current["lines"].append(line)
    for cell in cells:
        cell["text"] = "\n".join(cell.pop("lines")).strip("\n")
        if cell["kind"] == "colab-install" and cell["text"]:
            raise ValueError(f"{path.name}: a [colab-install] cell is generated; leave its body empty")
    return cells


def source_languages(cells: list[dict]) -> list[str]:
    """The languages a source file has prose for, in order of first appearance.

    Raises ValueError unless every language has a markdown cell wherever English has one:
    the editions must have the same cells in the same order.
    """
    found = []
    for cell in cells:
        if cell["lang"] and cell["lang"] not in found:
            found.append(cell["lang"])
    layouts = {language: [] for language in found}
    for cell in cells:
        for language, layout in layouts.items():
            if cell["kind"] != "markdown":
                layout.append("code")
            elif cell["lang"] == language:
                layout.append("markdown")
    first = found[0] if found else None
    for language, layout in layouts.items():
        if layout != layouts[first]:
            raise ValueError(
                f"the {language!r} edition's cells differ from the {first!r} edition's: "
                "give every markdown cell in each language, one after the other"
            )
    return found


def build_notebook(source: Path, language: str) -> nbformat.NotebookNode:
    """The notebook for one language: its markdown cells plus all code cells, no outputs."""
    notebook = nbformat.v4.new_notebook()
    notebook.metadata = {
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
    }
    for cell in parse_source(source):
        if cell["kind"] == "markdown":
            if cell["lang"] != language:
                continue
            new_cell = nbformat.v4.new_markdown_cell(cell["text"])
        elif cell["kind"] == "colab-install":
            new_cell = nbformat.v4.new_code_cell(colab_install_source())
        else:
            text = cell["text"]
            if SETUP_LINE in text.splitlines():
                text = text.replace(SETUP_LINE, language_setup_line(language))
            new_cell = nbformat.v4.new_code_cell(text)
        # Stable ids keep diffs small; by position, so a cell has the same id in every edition.
        new_cell.id = f"{source.stem[:2]}-{len(notebook.cells):03d}"
        if cell["tags"]:
            new_cell.metadata["tags"] = cell["tags"]
        notebook.cells.append(new_cell)
    return notebook


def target_path(source: Path, language: str) -> Path:
    """Where the .ipynb of `source` in `language` lives."""
    return NOTEBOOKS / language / f"{source.stem}.ipynb"


def cell_inputs(notebook) -> list[tuple]:
    """What a notebook's author wrote: type, source and tags of each cell (outputs ignored)."""
    return [
        (cell.cell_type, cell.source, tuple(cell.metadata.get("tags", [])))
        for cell in notebook.cells
    ]


def clean_executed(notebook) -> None:
    """Drop the run-specific metadata that execution adds (timings, papermill's records, widget state)."""
    for key in ("papermill", "widgets"):
        notebook.metadata.pop(key, None)
    for cell in notebook.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("papermill", None)
        if cell.metadata.get("tags") == []:
            del cell.metadata["tags"]  # papermill adds an empty list to every untagged cell
        if cell.cell_type == "code":
            cell.outputs = merged_streams(cell.outputs)


def merged_streams(outputs: list) -> list:
    """Join consecutive outputs of the same stream into one.

    Where a print lands in a new output or the previous one depends on when the kernel
    flushed, so without this the committed files would change between runs of the same code.
    """
    merged = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (output.output_type == "stream" and previous is not None
                and previous.output_type == "stream" and previous.name == output.name):
            previous.text += output.text
        else:
            merged.append(output)
    return merged


def execute(notebook, path: Path) -> None:
    """Execute a built notebook in place at `path`, from its own folder, and keep it clean.

    Runs through `course_tools.run.execute_notebook`, the project's one notebook runner
    (papermill, the same kernel flags as `make run` and the tests).
    """
    from course_tools.run import execute_notebook, use_one_thread_per_kernel

    use_one_thread_per_kernel()  # as `make run` and the tests execute it
    nbformat.write(notebook, path)
    execute_notebook(path, path)
    executed = nbformat.read(path, as_version=4)
    clean_executed(executed)
    notebook.cells = executed.cells
    notebook.metadata = executed.metadata


def execute_all(jobs: list[tuple]) -> None:
    """Execute (notebook, path) pairs two at a time (one per core, as `make run`) and write them."""
    from concurrent.futures import ThreadPoolExecutor

    from course_tools.run import default_jobs

    def run(job) -> None:
        notebook, path = job
        execute(notebook, path)
        nbformat.write(notebook, path)
        print(f"executed and wrote {path.relative_to(ROOT)}", flush=True)

    with ThreadPoolExecutor(max_workers=default_jobs()) as pool:
        list(pool.map(run, jobs))  # list() re-raises the first failure
    if jobs:
        record_versions()


def record_versions() -> None:
    """Write the library versions that executed the notebooks to companion/recorded_versions.json.

    The kernels run in this interpreter's environment (the lock's, after `make install`);
    `setup_notebook` compares the learner's transformers with the recorded one.
    """
    import json

    from companion.notebook_setup import RECORDED_VERSIONS_FILE, library_versions

    versions = {name: version for name, version in library_versions().items() if name not in ("python", "companion")}
    versions["torch"] = versions["torch"].split("+")[0]  # the release; the build (+cpu) is the machine's
    RECORDED_VERSIONS_FILE.write_text(json.dumps(versions, indent=2) + "\n")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--execute", action="store_true", help="execute and keep outputs")
    parser.add_argument("--check", action="store_true", help="only compare with committed notebooks")
    parser.add_argument("--language", choices=languages(), help="only this edition (default: all)")
    parser.add_argument("names", nargs="*", help="only these sources (e.g. 01 03)")
    arguments = parser.parse_args()
    stale = []
    to_execute = []
    for source in source_paths():
        if arguments.names and not any(source.stem.startswith(name) for name in arguments.names):
            continue
        for language in source_languages(parse_source(source)):
            if arguments.language and language != arguments.language:
                continue
            notebook = build_notebook(source, language)
            path = target_path(source, language)
            relative = path.relative_to(ROOT)
            if arguments.check:
                committed = nbformat.read(path, as_version=4) if path.exists() else None
                if committed is None or cell_inputs(committed) != cell_inputs(notebook):
                    stale.append(str(relative))
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            if arguments.execute:
                to_execute.append((notebook, path))
                continue
            nbformat.write(notebook, path)
            print(f"wrote {relative}")
    execute_all(to_execute)
    if stale:
        print("Out of date (run `make notebooks`):", *stale, sep="\n  ")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
