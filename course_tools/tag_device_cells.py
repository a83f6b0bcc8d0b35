"""Tag the device-dependent code cells in the notebook sources, from the one table of them.

    python -m course_tools.tag_device_cells          # write the tags into notebooks/src/NN_*.py
    python -m course_tools.tag_device_cells --check  # exit 1 if a source's tags differ from the table

The table is `course_tools.devices.DEVICE_DEPENDENT_CELLS`: (notebook number, a snippet of code
that exactly one code cell of that notebook contains, reason). This script makes the
`device-dependent` tag in the sources match it: it adds the tag to the header of each listed
cell (`# %%` becomes `# %% tags=device-dependent`, `# %% tags=a,b` becomes
`# %% tags=a,b,device-dependent`) and removes it from every cell the table no longer lists.
Only cell headers change. Then `make notebooks` carries the tags into notebooks/<lang>/.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from course_tools.build_notebooks import parse_header
from course_tools.devices import DEVICE_DEPENDENT_CELLS, DEVICE_DEPENDENT_TAG
from course_tools.layout import SOURCES, source_paths

TAGS = re.compile(r"\btags=(\S*)")


def code_cells(lines: list[str]) -> list[tuple[int, str]]:
    """The code cells of a source file: (index of the header line, the cell's code) for each."""
    headers = [index for index, line in enumerate(lines) if line.startswith("# %%")]
    cells = []
    for position, header in enumerate(headers):
        kind, _ = parse_header(lines[header].rstrip("\n"))
        if kind != "code":
            continue
        end = headers[position + 1] if position + 1 < len(headers) else len(lines)
        cells.append((header, "".join(lines[header + 1:end])))
    return cells


def with_tag(header: str, tagged: bool) -> str:
    """The header line `header` (no newline) with DEVICE_DEPENDENT_TAG added (tagged) or removed."""
    match = TAGS.search(header)
    tags = [tag for tag in match.group(1).split(",") if tag] if match else []
    tags = [tag for tag in tags if tag != DEVICE_DEPENDENT_TAG] + ([DEVICE_DEPENDENT_TAG] if tagged else [])
    without = TAGS.sub("", header).rstrip() if match else header.rstrip()
    return f"{without} tags={','.join(tags)}" if tags else without


def tagged_source(text: str, snippets: list[str], name: str) -> str:
    """`text` (a source file) with exactly the code cells that contain one of `snippets` tagged.

    Raises ValueError naming the snippet when a snippet is in no code cell or in more than one.
    """
    lines = text.splitlines(keepends=True)
    cells = code_cells(lines)
    listed = set()
    for snippet in snippets:
        found = [header for header, code in cells if snippet in code]
        if len(found) != 1:
            raise ValueError(f"{name}: {len(found)} code cells contain {snippet!r}; the table needs exactly one")
        listed.add(found[0])
    for header, _ in cells:
        newline = "\n" if lines[header].endswith("\n") else ""
        lines[header] = with_tag(lines[header].rstrip("\n"), header in listed) + newline
    return "".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a source would change")
    parser.add_argument("--source-dir", type=Path, default=SOURCES, help="default: notebooks/src")
    arguments = parser.parse_args(argv)
    paths = source_paths(arguments.source_dir)
    numbers = {path.name[:2] for path in paths}
    unknown = sorted({number for number, _, _ in DEVICE_DEPENDENT_CELLS} - numbers)
    if unknown:
        print(f"The table lists notebooks without a source in {arguments.source_dir}: {', '.join(unknown)}")
        return 1
    changed = []
    for path in paths:
        snippets = [snippet for number, snippet, _ in DEVICE_DEPENDENT_CELLS if number == path.name[:2]]
        text = path.read_text()
        try:
            new_text = tagged_source(text, snippets, path.name)
        except ValueError as error:
            print(error)
            return 1
        if new_text != text:
            changed.append(path.name)
            if not arguments.check:
                path.write_text(new_text)
    if arguments.check:
        print("Tags differ from the table in: " + ", ".join(changed) if changed else "Tags match the table.")
        return 1 if changed else 0
    print(f"Tagged {len(DEVICE_DEPENDENT_CELLS)} cells; changed: {', '.join(changed) or 'nothing'}. "
          "Now rebuild the notebooks (make notebooks) so that notebooks/<lang>/ carries the tags.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
