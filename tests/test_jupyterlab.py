"""`make lab` serves the course: a real JupyterLab server lists and opens the notebooks."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from companion.course import NOTEBOOK_ROOT, notebook_paths

TOKEN = "course-test-token"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read()


@pytest.fixture(scope="module")
def lab_server():
    port = free_port()
    command = [
        sys.executable, "-m", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--IdentityProvider.token={TOKEN}", "--ServerApp.open_browser=False",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    server = subprocess.Popen(command, cwd=NOTEBOOK_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):  # up to 60 s for a cold start
            try:
                get(f"{base}/api/status")
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("JupyterLab did not start within 60 s")
        yield base
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_lab_page_is_served(lab_server):
    status, body = get(f"{lab_server}/lab")
    assert status == 200 and b"JupyterLab" in body


def test_lab_lists_and_opens_every_notebook(lab_server):
    _, body = get(f"{lab_server}/api/contents/en")
    listed = {entry["name"] for entry in json.loads(body)["content"]}
    assert {path.name for path in notebook_paths("en")} <= listed
    for path in notebook_paths("en"):
        _, body = get(f"{lab_server}/api/contents/en/{path.name}")
        notebook = json.loads(body)
        assert notebook["type"] == "notebook" and notebook["content"]["cells"]


def test_python3_kernel_is_available(lab_server):
    _, body = get(f"{lab_server}/api/kernelspecs")
    assert "python3" in json.loads(body)["kernelspecs"]
