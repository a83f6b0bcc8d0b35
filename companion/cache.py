"""A user cache for models that are slow to prepare (the GGUF -> safetensors conversion).

Used by `companion.models.load_model("smollm2-135m")`. The cache lives in
`$COMPANION_CACHE`, else `$XDG_CACHE_HOME/companion`, else `~/.cache/companion`.
Each entry is a folder written atomically: it is built in a temporary folder beside
its final place and renamed into place only when complete, and it carries a manifest
with the size and sha256 of every file. Loading checks the source key and every file's
size (milliseconds), which catches a half-written, truncated or stale entry; hashing the
~540 MB of smollm2-135m took about a second, so it happens only when an entry is built,
or on every load when `COMPANION_VERIFY_CACHE=1` asks for a full verify.

Many processes at once (twenty kernels on a shared JupyterHub loading the same model into
an empty cache): building an entry holds an exclusive `fcntl.flock` on `.<name>.lock` in
the cache folder, so one process builds and the others wait silently, then load the
finished entry. The kernel releases the lock when its holder dies, so a killed build never
blocks later ones. Where `fcntl` does not exist (Windows) there is no lock: each process
may build its own copy, and the atomic rename still ensures that only a complete entry is
ever trusted. A valid entry is read without the lock, so a read-only cache prepared by an
administrator works.

Leftovers of killed builds (`.<name>-building-<host>-<pid>-*` folders) are removed by the
next build, under the lock, when they are stale: their owner process (same host) is gone,
or they are older than `STALE_BUILD_MINUTES`.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
import socket
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from companion.errors import CompanionError

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; see the module docstring
    fcntl = None

MANIFEST_NAME = "companion-manifest.json"
FULL_VERIFY_VARIABLE = "COMPANION_VERIFY_CACHE"  # set to 1 to hash every file on every load
# A leftover build folder older than this is stale even if its owner cannot be checked
# (another host on a shared file system, or a reused PID). Converting smollm2-135m takes
# ~13 s on a 2-core CPU, so an hour leaves a wide margin.
STALE_BUILD_MINUTES = 60

NOT_WRITABLE_ERRNOS = {errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR, errno.EEXIST}
DISK_FULL_ERRNOS = {errno.ENOSPC, errno.EDQUOT}


def cache_root() -> Path:
    """Return the folder that holds all cache entries (not created here)."""
    if os.environ.get("COMPANION_CACHE"):
        return Path(os.environ["COMPANION_CACHE"]).expanduser()
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]).expanduser() / "companion"
    return Path.home() / ".cache" / "companion"


def file_sha256(path: Path) -> str:
    """Return the hex sha256 of a file, read in 8 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(8 * 1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def write_manifest(folder: Path, source_key: str) -> None:
    """Record size and sha256 of every file in `folder`, plus the key of what it was built from."""
    files = {}
    for path in sorted(folder.iterdir()):
        if path.is_file() and path.name != MANIFEST_NAME:
            files[path.name] = {"bytes": path.stat().st_size, "sha256": file_sha256(path)}
    manifest = {"source_key": source_key, "files": files}
    (folder / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2))


def full_verify_requested() -> bool:
    """True when `COMPANION_VERIFY_CACHE` asks to hash every cached file on load."""
    return os.environ.get(FULL_VERIFY_VARIABLE, "").strip().lower() in {"1", "true", "yes"}


def is_valid_entry(folder: Path, source_key: str, *, full: bool = False) -> bool:
    """True if `folder` is a complete entry built from `source_key`.

    Checks the manifest's source key and each file's size; with `full=True` also each
    file's sha256 (slow for large models: about a second for smollm2-135m).
    """
    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text())
    except (OSError, ValueError):
        return False
    if manifest.get("source_key") != source_key or not manifest.get("files"):
        return False
    for name, facts in manifest["files"].items():
        path = folder / name
        if not path.is_file() or path.stat().st_size != facts["bytes"]:
            return False
        if full and file_sha256(path) != facts["sha256"]:
            return False
    return True


def cache_error(root: Path, error: OSError) -> CompanionError | None:
    """The message for a cache folder that cannot be written or whose disk is full (else None)."""
    if error.errno in DISK_FULL_ERRNOS:
        return CompanionError(
            f"The disk that holds the model cache {root} is full ({error.strerror}); the partly "
            "written files were removed.\nFree some space there, or set COMPANION_CACHE to a "
            "folder on a disk with room (about 600 MB for smollm2-135m), then run this again."
        )
    if error.errno in NOT_WRITABLE_ERRNOS:
        if error.errno == errno.ENOTDIR:
            reason = "a part of that path is a file, not a folder"
        elif error.errno == errno.EEXIST:
            reason = "it is a file, not a folder"
        else:
            reason = f"{error.strerror} ({error.filename or root})"
        return CompanionError(
            f"Cannot write to the model cache folder {root}: {reason}.\n"
            "Set COMPANION_CACHE to a writable folder, e.g. "
            "os.environ['COMPANION_CACHE'] = '/tmp/companion-cache' before loading, "
            "or `export COMPANION_CACHE=...` in a terminal."
        )
    return None


@contextmanager
def build_lock(root: Path, name: str) -> Iterator[None]:
    """Hold an exclusive lock on `root/.<name>.lock` (blocks while another process builds `name`)."""
    if fcntl is None:
        yield
        return
    descriptor = os.open(root / f".{name}.lock", os.O_RDWR | os.O_CREAT, 0o666)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)  # waits silently; released by the kernel if we die
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def host_label() -> str:
    """This machine's name with only letters and digits, for build folder names."""
    return re.sub(r"[^A-Za-z0-9]", "_", socket.gethostname()) or "host"


def process_is_running(pid: int) -> bool:
    """True if a process with this id exists on this machine (a reused id also counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def is_stale_leftover(folder: Path, name: str) -> bool:
    """True if a `.<name>-building-*` or `.<name>-stale-*` folder belongs to no running build.

    Stale when its owner (host and PID in the folder name) is this host and that PID is
    gone, or when it was last changed more than `STALE_BUILD_MINUTES` ago.
    """
    try:
        age_seconds = time.time() - folder.stat().st_mtime
    except OSError:
        return False  # already gone
    if age_seconds > STALE_BUILD_MINUTES * 60:
        return True
    owner = re.fullmatch(rf"\.{re.escape(name)}-(?:building|stale)-([A-Za-z0-9_]+)-(\d+)-.+", folder.name)
    if owner is None or owner.group(1) != host_label():
        return False
    return not process_is_running(int(owner.group(2)))


def remove_stale_leftovers(root: Path, name: str) -> list[Path]:
    """Delete the stale build folders of `name` in `root` (see `is_stale_leftover`); return them."""
    removed = []
    for folder in root.glob(f".{name}-*-*"):
        if folder.is_dir() and is_stale_leftover(folder, name):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def share_like_umask(folder: Path) -> None:
    """Give the folder and its files the permissions the umask allows (mkdtemp makes them private).

    Without this a cache shared by several users of one JupyterHub is readable only by the
    user who built it.
    """
    umask = os.umask(0)
    os.umask(umask)
    folder.chmod(0o777 & ~umask)
    for path in folder.iterdir():
        if path.is_file():
            path.chmod(0o666 & ~umask)


def cached_folder(
    name: str, source_key: str, build: Callable[[Path], None], *, full_verify: bool | None = None
) -> tuple[Path, bool]:
    """Return a valid cache folder for `name`, building it with `build(temp_folder)` if needed.

    Args:
        name: the entry's folder name, e.g. "smollm2-135m".
        source_key: identifies what the entry is built from (a changed key forces a rebuild).
        build: writes the entry's files into the (empty) folder it is given.
        full_verify: hash every file before trusting an existing entry; None (default)
            reads `COMPANION_VERIFY_CACHE` (sizes and source key are always checked).
    Returns:
        (folder, was_built): the entry's path and whether this call built it.
    Raises:
        CompanionError: the cache folder cannot be written, or its disk is full.
    """
    if full_verify is None:
        full_verify = full_verify_requested()
    root = cache_root()
    final = root / name
    if is_valid_entry(final, source_key, full=full_verify):
        return final, False
    try:
        root.mkdir(parents=True, exist_ok=True)
        with build_lock(root, name):
            # Another process may have built it while we waited for the lock.
            if is_valid_entry(final, source_key, full=full_verify):
                return final, False
            remove_stale_leftovers(root, name)
            return build_entry(root, name, source_key, build)
    except OSError as error:
        friendly = cache_error(root, error)
        if friendly is None:
            raise
        raise friendly from error


def build_entry(root: Path, name: str, source_key: str, build: Callable[[Path], None]) -> tuple[Path, bool]:
    """Build `name` in a temporary folder beside its final place, then rename it into place.

    Returns (folder, was_built) as `cached_folder` does.
    """
    final = root / name
    owner = f"{host_label()}-{os.getpid()}"
    temporary = Path(tempfile.mkdtemp(prefix=f".{name}-building-{owner}-", dir=root))
    try:
        build(temporary)
        write_manifest(temporary, source_key)
        share_like_umask(temporary)
        if final.exists():
            # Invalid or stale: move it aside first so the rename below is a single step.
            stale = Path(tempfile.mkdtemp(prefix=f".{name}-stale-{owner}-", dir=root))
            os.replace(final, stale / "entry")
            shutil.rmtree(stale, ignore_errors=True)
        os.replace(temporary, final)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        if fcntl is None and is_valid_entry(final, source_key):
            # No lock here: another process finished the same entry first (the rename lost a race).
            return final, False
        raise
    return final, True
