"""The conversion cache: atomic writes, validation, rebuilds (fast: no model involved)."""

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from companion import cache


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("COMPANION_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def write_files(target: Path) -> None:
    (target / "weights.bin").write_bytes(b"\x01" * 1000)
    (target / "config.json").write_text("{}")


def test_cache_root_honours_variables(tmp_path, monkeypatch):
    monkeypatch.delenv("COMPANION_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache.cache_root() == tmp_path / "xdg" / "companion"
    monkeypatch.setenv("COMPANION_CACHE", str(tmp_path / "mine"))
    assert cache.cache_root() == tmp_path / "mine"


def test_builds_once_then_reuses(cache_dir):
    calls = []

    def build(target):
        calls.append(target)
        write_files(target)

    folder, built = cache.cached_folder("entry", "key-1", build)
    assert built and folder == cache_dir / "entry"
    assert (folder / "weights.bin").read_bytes() == b"\x01" * 1000
    folder_again, built_again = cache.cached_folder("entry", "key-1", build)
    assert folder_again == folder and not built_again and len(calls) == 1


def test_interrupted_build_leaves_no_valid_entry(cache_dir):
    def failing_build(target):
        write_files(target)
        raise KeyboardInterrupt  # as if the learner stopped the kernel mid-conversion

    with pytest.raises(KeyboardInterrupt):
        cache.cached_folder("entry", "key-1", failing_build)
    assert not (cache_dir / "entry").exists()
    assert [path.name for path in cache_dir.iterdir()] == [".entry.lock"]  # the temporary folder is gone too


@pytest.mark.parametrize("damage", ["truncate", "delete_file", "delete_manifest"])
def test_damaged_entry_is_rebuilt(cache_dir, damage):
    cache.cached_folder("entry", "key-1", write_files)
    weights = cache_dir / "entry" / "weights.bin"
    if damage == "truncate":
        weights.write_bytes(b"\x01" * 10)
    elif damage == "delete_file":
        weights.unlink()
    else:
        (cache_dir / "entry" / cache.MANIFEST_NAME).unlink()
    assert not cache.is_valid_entry(cache_dir / "entry", "key-1")
    folder, built = cache.cached_folder("entry", "key-1", write_files)
    assert built and cache.is_valid_entry(folder, "key-1", full=True)
    assert weights.read_bytes() == b"\x01" * 1000


def test_same_size_corruption_is_caught_by_a_full_verify_only(cache_dir, monkeypatch):
    cache.cached_folder("entry", "key-1", write_files)
    weights = cache_dir / "entry" / "weights.bin"
    weights.write_bytes(b"\x01" * 500 + b"\x02" + b"\x01" * 499)  # same size, other content
    assert cache.is_valid_entry(cache_dir / "entry", "key-1")  # the quick check trusts sizes
    assert not cache.is_valid_entry(cache_dir / "entry", "key-1", full=True)
    monkeypatch.setenv(cache.FULL_VERIFY_VARIABLE, "1")
    folder, built = cache.cached_folder("entry", "key-1", write_files)
    assert built and weights.read_bytes() == b"\x01" * 1000


def test_the_quick_check_reads_no_file_contents(cache_dir, monkeypatch):
    cache.cached_folder("entry", "key-1", write_files)

    def no_hashing(path):
        raise AssertionError(f"hashed {path.name} on a quick load")

    monkeypatch.setattr(cache, "file_sha256", no_hashing)
    _, built = cache.cached_folder("entry", "key-1", write_files)
    assert not built


def test_changed_source_key_forces_rebuild(cache_dir):
    cache.cached_folder("entry", "key-1", write_files)
    _, built = cache.cached_folder("entry", "key-2", write_files)
    assert built


def leftover_folder(root: Path, owner_pid: int, *, host: str | None = None, age_minutes: float = 0) -> Path:
    """A build folder as a build by `owner_pid` (killed or still running) leaves it."""
    folder = root / f".entry-building-{host or cache.host_label()}-{owner_pid}-abcd1234"
    folder.mkdir(parents=True)
    (folder / "weights.bin").write_bytes(b"\x01" * 10)  # half-written, no manifest
    if age_minutes:
        then = time.time() - age_minutes * 60
        os.utime(folder, (then, then))
    return folder


def test_a_later_build_removes_only_stale_leftovers(cache_dir):
    killed = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    killed.kill()
    killed.wait()  # its PID is gone now
    dead = leftover_folder(cache_dir, killed.pid)
    running = leftover_folder(cache_dir, os.getpid())  # a live build (e.g. without a lock, on Windows)
    other_host = leftover_folder(cache_dir, 1, host="elsewhere")  # cannot check its PID from here
    old_other_host = leftover_folder(cache_dir, 2, host="faraway", age_minutes=cache.STALE_BUILD_MINUTES + 1)
    _, built = cache.cached_folder("entry", "key-1", write_files)
    assert built
    assert not dead.exists() and not old_other_host.exists()
    assert running.exists() and other_host.exists()
    assert not cache.is_valid_entry(running, "key-1")  # a leftover is never trusted as an entry


def test_entry_is_readable_by_others_as_the_umask_allows(cache_dir):
    old_umask = os.umask(0o022)
    try:
        folder, _ = cache.cached_folder("entry", "key-1", write_files)
    finally:
        os.umask(old_umask)
    assert stat.S_IMODE(folder.stat().st_mode) == 0o755  # mkdtemp alone gives 0o700
    assert {stat.S_IMODE(path.stat().st_mode) for path in folder.iterdir()} == {0o644}
