"""`make test-latest`: the whole test suite on the newest release of every package, in .venv-latest/.

    python -m course_tools.test_latest                 # what `make test-latest` and the weekly workflow job run
    python -m course_tools.test_latest --locked-torch  # every package newest but torch, which stays at the lock's

The course's own environment (.venv/, requirements-lock.txt) stays as it is: this builds a
second one with `pip install --upgrade --upgrade-strategy eager`, so that an upgrade is seen
before anyone decides on it. torch is installed first and on its own, so that TORCH_INDEX_URL
chooses its build as in `make install` (newest release, or the lock's with --locked-torch); the
upgrade of everything else is then held to that torch by a constraint, so it cannot swap the build.

Written to build/latest/: `changes.txt` (every package whose version differs from the lock),
`report.txt` (pytest's output) and `junit.xml`. The exit status is pytest's. Notebook outputs
that differ show up as failing nbval cells in the report: that is the list to review.
Taking an upgrade is then: move `lock-exclude-newer` in pyproject.toml, `make lock`,
`make notebooks`, review the diffs of the outputs, commit.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

from course_tools.bootstrap import installed_torch_version, locked_torch_version, pip_install, torch_index_arguments
from course_tools.layout import BUILD, LOCK, ROOT, project_facts
from course_tools.lock import NOT_LOCKED, TORCH_BUILD_PACKAGES, normalise, pinned

VENV = ROOT / ".venv-latest"
REPORT = BUILD / "latest"


def installed_versions(python: Path) -> dict[str, str]:
    """{normalised name: version} of every package in the environment of `python`."""
    listing = subprocess.run(
        [str(python), "-c", "import importlib.metadata as m, json; "
         "print(json.dumps({d.metadata['Name']: d.version for d in m.distributions()}))"],
        capture_output=True, text=True, check=True,
    ).stdout
    return {normalise(name): version for name, version in json.loads(listing).items()}


def changes_from_lock(installed: dict[str, str], locked: dict[str, str]) -> list[str]:
    """One line per package whose installed version differs from the lock, or that the lock lacks."""
    lines = []
    for name in sorted(installed):
        if name in NOT_LOCKED or TORCH_BUILD_PACKAGES.match(name):
            continue  # the project, the venv's installers, and the libraries of torch's chosen build
        version = installed[name].split("+")[0] if name == "torch" else installed[name]
        if name not in locked:
            lines.append(f"{name}: {version} (not in the lock)")
        elif locked[name] != version:
            lines.append(f"{name}: {locked[name]} -> {version}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--locked-torch", action="store_true", help="keep torch at the lock's version")
    parser.add_argument("--jobs", default=os.environ.get("TEST_JOBS", "2"), help="pytest workers (default 2)")
    arguments = parser.parse_args(argv)
    python = VENV / "bin" / "python"
    if not python.exists():
        print(f"Creating {VENV.name}/ ...", flush=True)
        venv.create(VENV, with_pip=True)
    lock_text = LOCK.read_text()
    if arguments.locked_torch:
        if installed_torch_version(python) != locked_torch_version(lock_text):
            pip_install(python, f"torch=={locked_torch_version(lock_text)}", *torch_index_arguments())
    else:
        pip_install(python, "--upgrade", "torch", *torch_index_arguments())
    REPORT.mkdir(parents=True, exist_ok=True)
    held = REPORT / "torch-constraint.txt"
    held.write_text(f"torch=={installed_torch_version(python)}\n")
    facts = project_facts()
    extras = ",".join(facts["extras"])
    pip_install(python, "--upgrade", "--upgrade-strategy", "eager", "-c", str(held), "-e", f".[{extras}]")
    pip_install(python, "--upgrade", "--no-deps", *facts["no-deps-requirements"])
    changes = changes_from_lock(installed_versions(python), pinned(lock_text))
    (REPORT / "changes.txt").write_text("\n".join(changes) + "\n")
    print(f"{len(changes)} packages differ from the lock (build/latest/changes.txt):", *changes, sep="\n  ", flush=True)
    # tests/test_lock.py checks that the environment is the lock's; here it is not, on purpose.
    command = [str(python), "-m", "pytest", "-n", arguments.jobs, "--dist", "loadfile",
               "--ignore", "tests/test_lock.py", "--junitxml", str(REPORT / "junit.xml")]
    with open(REPORT / "report.txt", "w") as report:
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for line in process.stdout:
            sys.stdout.write(line)
            report.write(line)
        status = process.wait()
    print(f"pytest exited with {status}; report in build/latest/report.txt", flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
