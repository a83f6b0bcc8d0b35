"""`make lab` serves the course: a real JupyterLab server lists and opens the notebooks."""

import json
import urllib.request

import pytest
from browser import jupyterlab

from course_tools.layout import NOTEBOOKS, notebook_paths

TOKEN = "course-test-token"


def get(url: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {TOKEN}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, response.read()


@pytest.fixture(scope="module")
def lab_server():
    with jupyterlab(NOTEBOOKS, TOKEN) as base:
        yield base


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
