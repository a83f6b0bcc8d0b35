"""The lock (requirements-lock.txt) agrees with pyproject.toml, and the course's environment is the lock.

The committed notebook outputs are exact, so they hold only in the environment they were made
in: every install takes its versions from the lock (course_tools/bootstrap.py), and these tests fail
when pyproject's dependencies and the lock disagree, or when the environment running the tests
holds a package or a version that the lock does not.
"""

import importlib.metadata
import re
import tomllib

from packaging.markers import Marker
from packaging.requirements import Requirement

from course_tools import lock
from course_tools.layout import LOCK, ROOT

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
FACTS = PYPROJECT["tool"]["companion"]
LOCK_TEXT = LOCK.read_text()
# Installed but never locked: the project itself, and the installers that `python -m venv` puts in
# every environment (pip; setuptools on Python 3.11) before the lock is read.
NOT_LOCKED = {"companion", "pip", "setuptools"}


def pyproject_requirements() -> list[Requirement]:
    """Every requirement pyproject.toml declares: dependencies, the installed extras, the no-deps packages."""
    texts = list(PYPROJECT["project"]["dependencies"])
    for extra in FACTS["extras"]:
        texts += PYPROJECT["project"]["optional-dependencies"][extra]
    texts += FACTS["no-deps-requirements"]
    return [Requirement(text) for text in texts]


def applicable_entries() -> dict[str, str]:
    """{name: version} of the lock's entries whose marker holds for this interpreter and platform."""
    return {
        name: version for name, version, marker in lock.pinned_entries(LOCK_TEXT)
        if not marker or Marker(marker).evaluate()
    }


def test_every_pyproject_requirement_is_locked_at_a_version_it_allows():
    entries = lock.pinned_entries(LOCK_TEXT)
    for requirement in pyproject_requirements():
        versions = [version for name, version, _ in entries if name == lock.normalise(requirement.name)]
        assert versions, f"{requirement.name} is in pyproject.toml but not in the lock: run make lock"
        for version in versions:
            assert requirement.specifier.contains(version, prereleases=True), (
                f"the lock pins {requirement.name}=={version}, outside pyproject's {requirement}: run make lock"
            )


def test_the_lock_asks_for_nothing_that_pyproject_no_longer_declares():
    declared = {lock.normalise(requirement.name) for requirement in pyproject_requirements()}
    blocks = re.split(r"\n(?=[A-Za-z0-9])", LOCK_TEXT)
    direct = {
        lock.normalise(lock.REQUIREMENT_LINE.match(block).group(1))
        for block in blocks
        if lock.REQUIREMENT_LINE.match(block) and "companion (pyproject.toml)" in block
    }
    assert direct <= declared, (
        f"locked for pyproject but no longer declared: {sorted(direct - declared)}: run make lock"
    )


def test_the_lock_pins_pyprojects_torch_and_leaves_out_only_torchs_build_packages():
    assert f"torch=={lock.pinned(LOCK_TEXT)['torch']}" == FACTS["torch-requirement"]
    assert not any(lock.TORCH_BUILD_PACKAGES.match(name) for name in lock.pinned(LOCK_TEXT))


def test_every_installed_package_is_the_locks_version():
    locked = applicable_entries()
    wrong = []
    for distribution in importlib.metadata.distributions():
        name = lock.normalise(distribution.metadata["Name"])
        if name in lock.NOT_LOCKED or lock.TORCH_BUILD_PACKAGES.match(name):
            continue
        # torch's local label names its build (2.13.0+cpu); the lock pins the release
        version = distribution.version.split("+")[0] if name == "torch" else distribution.version
        if locked.get(name) != version:
            wrong.append(f"{name} {version} (lock: {locked.get(name, 'not locked')})")
    assert not wrong, "the environment differs from the lock; run make install: " + ", ".join(sorted(wrong))


def test_every_locked_package_is_installed():
    installed = {lock.normalise(d.metadata["Name"]) for d in importlib.metadata.distributions()}
    missing = sorted(set(applicable_entries()) - installed)
    assert not missing, f"locked but not installed: {missing}; run make install"
