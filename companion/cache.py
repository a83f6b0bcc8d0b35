"""A user cache for models that are slow to prepare (the GGUF -> safetensors conversion).

Used by `companion.models.load_model("smollm2-135m")`. The cache lives in
`$COMPANION_CACHE`, else `$XDG_CACHE_HOME/companion`, else `~/.cache/companion`.
Each entry is a folder written atomically: it is built in a temporary folder beside
its final place and renamed into place only when complete, and it carries a manifest
with the size and sha256 of every file. Loading checks the source key and every file's
size (milliseconds), which catches a half-written, truncated or stale entry; hashing the
~540 MB of smollm2-135m took about a second, so it happens only when an entry is built,
or on every load when `COMPANION_VERIFY_CACHE=1` asks for a full verify.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

MANIFEST_NAME = "companion-manifest.json"
FULL_VERIFY_VARIABLE = "COMPANION_VERIFY_CACHE"  # set to 1 to hash every file on every load


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
    """
    if full_verify is None:
        full_verify = full_verify_requested()
    root = cache_root()
    final = root / name
    if is_valid_entry(final, source_key, full=full_verify):
        return final, False
    root.mkdir(parents=True, exist_ok=True)
    temporary = Path(tempfile.mkdtemp(prefix=f".{name}-building-", dir=root))
    try:
        build(temporary)
        write_manifest(temporary, source_key)
        if final.exists():
            # Invalid or stale: move it aside first so the rename below is a single step.
            stale = Path(tempfile.mkdtemp(prefix=f".{name}-stale-", dir=root))
            os.replace(final, stale / "entry")
            shutil.rmtree(stale, ignore_errors=True)
        os.replace(temporary, final)
    except BaseException:
        shutil.rmtree(temporary, ignore_errors=True)
        if is_valid_entry(final, source_key):
            # Another process finished the same entry first (the rename lost a race).
            return final, False
        raise
    return final, True
