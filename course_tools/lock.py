"""`make lock`: resolve the course's whole environment into requirements-lock.txt, with hashes.

    python -m course_tools.lock            # what `make lock` runs
    python -m course_tools.lock --check    # exit 1 if the committed lock differs from a fresh resolution

The lock is what every install gets (course_tools/bootstrap.py, the Colab install cell, the GPU
runner), so the committed notebook outputs are reproduced exactly. It is made by
`uv pip compile` (a standard resolver from PyPI) from pyproject.toml's dependencies and the
extras in `[tool.companion] extras`, for every platform and every Python the project
supports (`--universal`; a package whose version depends on the Python carries a marker).

Three facts in pyproject.toml's `[tool.companion]` steer it, so that a lock can be made again
and give the same result:
- `torch-requirement`: the torch release to lock (its build, CPU or CUDA, is chosen at install
  time by TORCH_INDEX_URL, so the lock leaves out the CUDA libraries that only the CUDA build
  needs: the `nvidia-*`, `cuda-*` and `triton` packages, see TORCH_BUILD_PACKAGES);
- `lock-exclude-newer`: resolve as if it were this date (uv's `--exclude-newer`). An upgrade is
  a decision: move the date, `make lock`, `make notebooks`, review the outputs' diffs, commit;
- `no-deps-requirements`: packages locked and installed without their own dependencies.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from course_tools.layout import LOCK, ROOT, project_facts

# The oldest Python the lock resolves for; pyproject's requires-python says the same.
PYTHON_FLOOR = "3.11"
# Packages that only torch's CUDA build needs; which of them an install gets depends on the
# build chosen (TORCH_INDEX_URL), so they are not locked: torch brings the ones its build needs.
TORCH_BUILD_PACKAGES = re.compile(r"^(nvidia-[a-z0-9-]+|cuda-[a-z0-9-]+|triton)$")
# Installed but never locked: the project itself (-e .), and the installers that `python -m venv`
# puts in every environment (pip; setuptools on Python 3.11) before the lock is read.
NOT_LOCKED = {"companion", "pip", "setuptools"}
REQUIREMENT_LINE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


def uv_compile(arguments: list[str], output: Path) -> str:
    """Run `uv pip compile` with `arguments` into `output`; return the file's text."""
    facts = project_facts()
    command = [
        sys.executable, "-m", "uv", "pip", "compile", "--quiet", "--universal",
        "--python-version", PYTHON_FLOOR, "--generate-hashes", "--no-header",
        "--exclude-newer", facts["lock-exclude-newer"], "-o", str(output), *arguments,
    ]
    subprocess.run(command, cwd=ROOT, check=True)
    return output.read_text()


def resolve() -> str:
    """The lock's text: the project's environment, then the packages installed without their dependencies."""
    facts = project_facts()
    extras = [argument for extra in facts["extras"] for argument in ("--extra", extra)]
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        constraints = folder / "torch.txt"
        constraints.write_text(facts["torch-requirement"] + "\n")
        everything = uv_compile(["pyproject.toml", *extras, "-c", str(constraints)], folder / "all.txt")
        left_out = sorted({name for name, _ in pinned(everything).items() if TORCH_BUILD_PACKAGES.match(name)})
        omit = [argument for name in left_out for argument in ("--no-emit-package", name)]
        project = uv_compile(["pyproject.toml", *extras, "-c", str(constraints), *omit], folder / "project.txt")
        no_deps_input = folder / "no-deps.in"
        no_deps_input.write_text("\n".join(facts["no-deps-requirements"]) + "\n")
        no_deps = uv_compile([str(no_deps_input), "--no-deps"], folder / "no-deps.txt")
        # uv's "via" comments name the input files; without their temporary folder the lock is the same every time.
        project, no_deps = (text.replace(f"{folder}/", "") for text in (project, no_deps))
    header = "\n".join([
        "# The course's whole environment, exact versions with hashes. Made by `make lock`",
        "# (course_tools/lock.py: uv pip compile --universal, resolved as on the date in pyproject.toml's",
        "# [tool.companion] lock-exclude-newer). Do not edit by hand.",
        f"# Left out on purpose: {', '.join(left_out) or 'nothing'} (torch's CUDA build brings them;",
        "# TORCH_INDEX_URL chooses the build) and the project itself (installed with -e .).",
        "",
    ])
    no_deps_section = "\n# Installed with --no-deps (pyproject.toml: [tool.companion] no-deps-requirements)\n"
    return header + project.rstrip() + "\n" + no_deps_section + no_deps.lstrip()


def pinned(lock_text: str) -> dict[str, str]:
    """{normalised name: version} of every `name==version` line of a lock (the first line of each name).

    A package pinned twice with different markers (one version per Python) is returned once, with
    the first version; see `pinned_entries` for all of them.
    """
    versions: dict[str, str] = {}
    for name, version, _ in pinned_entries(lock_text):
        versions.setdefault(name, version)
    return versions


def pinned_entries(lock_text: str) -> list[tuple[str, str, str]]:
    """(normalised name, version, marker or "") for each requirement line of a lock."""
    entries = []
    for line in lock_text.splitlines():
        match = REQUIREMENT_LINE.match(line)
        if match:
            marker = line.split(";", 1)[1].split("\\")[0].strip() if ";" in line else ""
            entries.append((normalise(match.group(1)), match.group(2), marker))
    return entries


def normalise(name: str) -> str:
    """A package name as PEP 503 compares them ("Huggingface_Hub" -> "huggingface-hub")."""
    return re.sub(r"[-_.]+", "-", name).lower()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the committed lock instead of writing it")
    arguments = parser.parse_args(argv)
    text = resolve()
    if arguments.check:
        if LOCK.is_file() and LOCK.read_text() == text:
            print(f"{LOCK.name} is current.")
            return 0
        print(f"{LOCK.name} differs from a fresh resolution: run make lock and commit it.")
        return 1
    LOCK.write_text(text)
    print(f"Wrote {LOCK.name}: {len(pinned(text))} packages.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
