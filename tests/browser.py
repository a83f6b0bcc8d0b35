"""Helpers for the browser tests: find Debian's Chromium, launch it through Playwright, serve a folder.

The browser is Debian's `chromium` package (`make browser` installs it), driven by Playwright
from PyPI. Playwright's own browser download (`playwright install`) is never used: it needs
a download site that the project's machines cannot reach.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

DEFAULT_CHROMIUM = "/usr/bin/chromium"
# Headless and quiet: no GPU, no background traffic (updates, sync, QUIC probes), no first-run UI.
CHROMIUM_ARGUMENTS = [
    "--no-sandbox",  # the tests run as root in a container, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def find_chromium() -> tuple[str | None, str]:
    """(path of a Chromium executable, "") or (None, one line on why the browser tests skip)."""
    candidates = [os.environ.get("CHROMIUM"), DEFAULT_CHROMIUM, shutil.which("chromium")]
    executable = next((path for path in candidates if path and os.access(path, os.X_OK)), None)
    if executable is None:
        return None, f"no Chromium at {DEFAULT_CHROMIUM}: run `make browser` (Debian's chromium package)"
    if importlib.util.find_spec("playwright") is None:
        return None, "the Python package playwright is missing: make install (it is in the test extras)"
    return executable, ""


@contextmanager
def jupyterlab(folder: Path, token: str, environment: dict | None = None, log: Path | None = None) -> Iterator[str]:
    """A real JupyterLab server on 127.0.0.1 serving `folder` with token auth; yields its base URL.

    Args:
        folder: the server's root (the notebooks it lists).
        token: the token a client must send (`Authorization: token ...` or `?token=...`).
        environment: extra environment variables (e.g. JUPYTERLAB_SETTINGS_DIR).
        log: where the server's output goes (None: discarded).
    Waits up to 60 s for the server to answer; stops it (and its kernels) afterwards.
    Used by tests/test_jupyterlab.py (`make lab`) and tests/test_browser.py.
    """
    port = free_port()
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={token}", "--ServerApp.open_browser=False",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # JupyterLab refuses to run as root without it
    base = f"http://127.0.0.1:{port}"
    output = log.open("w") if log else subprocess.DEVNULL
    server = subprocess.Popen(command, cwd=folder, env=dict(os.environ, **(environment or {})),
                              stdout=output, stderr=subprocess.STDOUT)
    try:
        request = urllib.request.Request(f"{base}/api/status", headers={"Authorization": f"token {token}"})
        for _ in range(120):  # up to 60 s for a cold start
            try:
                urllib.request.urlopen(request, timeout=5).close()
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start within 60 s" + (f":\n{log.read_text()[-2000:]}" if log else ""))
        yield base
    finally:
        server.terminate()  # shuts its kernels down too
        server.wait(timeout=30)
        if log:
            output.close()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """http.server's file handler without a log line per request."""

    def log_message(self, format, *args):  # the base class names its argument `format`
        pass


@contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve `folder` over HTTP on 127.0.0.1 in a thread; yields the base URL (no trailing slash)."""
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@contextmanager
def launched_chromium(executable: str) -> Iterator[object]:
    """A headless Chromium (Playwright Browser) with a fresh profile, closed afterwards."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGUMENTS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


class PageProblems:
    """Collects what a page reports as broken: console errors and uncaught exceptions."""

    def __init__(self, page):
        self.messages: list[str] = []
        page.on("console", self._console)
        page.on("pageerror", lambda error: self.messages.append(f"uncaught exception: {error}"))

    def _console(self, message) -> None:
        if message.type == "error":
            self.messages.append(f"console error: {message.text}")
