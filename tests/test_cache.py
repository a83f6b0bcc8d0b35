"""The conversion cache: atomic writes, validation, rebuilds (fast: no model involved)."""

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
    assert list(cache_dir.iterdir()) == []  # the temporary folder is gone too


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
