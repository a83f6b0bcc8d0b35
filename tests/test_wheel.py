"""The wheel that Colab installs (`pip install git+...` builds it from pyproject.toml) holds the learner's package only.

`companion/` is what a learner imports; the course's tooling (`course_tools/`), the tests and the
notebooks stay in the repository. The wheel is built from a copy of exactly the files git tracks
for the package, as a fresh clone has them (a stale setuptools `build/lib` in a working copy
would otherwise slip old modules in).
"""

import subprocess
import sys
import zipfile
from importlib.metadata import version

from course_tools.layout import ROOT


def tracked_files(*paths: str) -> list[str]:
    listing = subprocess.run(["git", "ls-files", "--", *paths], cwd=ROOT, capture_output=True, text=True, check=True)
    return listing.stdout.split()


def test_the_wheel_contains_exactly_the_tracked_files_of_companion(tmp_path):
    source = tmp_path / "source"
    for name in tracked_files("pyproject.toml", "README.md", "companion"):
        target = source / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((ROOT / name).read_bytes())
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(source), "--no-deps", "--no-build-isolation", "--quiet",
         "--disable-pip-version-check", "-w", str(tmp_path / "wheel")],
        check=True, capture_output=True, text=True,
    )
    [wheel] = (tmp_path / "wheel").glob("companion-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    package = sorted(name for name in names if not name.split("/")[0].endswith(".dist-info"))
    assert package == sorted(tracked_files("companion")), "the wheel holds exactly companion/'s tracked files"
    assert {name.split("/")[0] for name in names} == {"companion", f"companion-{version('companion')}.dist-info"}
    assert "companion/tiny/tutorial-tiny/model.safetensors" in names and "companion/recorded_versions.json" in names
