"""The course in a real browser: headless Chromium (Debian's package) driven by Playwright.

- The website (course_tools/build_site.py): every page opens without a console error, every chart
  is a visible image, and the links walk the course from the index to the last notebook.
- JupyterLab: notebook 01 opened through the UI and run with the menu's Run > Run All Cells,
  on a copy in a temporary folder (JupyterLab never gets to save over a committed notebook).
Screenshots go to build/screenshots/. Without Chromium (`make browser` installs it), these
tests skip.
"""

from __future__ import annotations

import hashlib
import json
import shutil

import nbformat
import pytest
from browser import PageProblems, find_chromium, jupyterlab, launched_chromium, serve_folder

from course_tools import build_site
from course_tools.layout import ROOT, editions, notebook_paths

pytestmark = pytest.mark.browser

SCREENSHOTS = ROOT / "build" / "screenshots"
EDITIONS = editions()
LAB_NOTEBOOK = ROOT / "notebooks" / "en" / "01_generating_text.ipynb"
LAB_TOKEN = "course-browser-test-token"
# JupyterLab 4.6 renders an error output like a stderr stream (data-mime-type
# application/vnd.jupyter.stderr, as for a warning); what tells it apart is IPython's traceback.
# application/vnd.jupyter.error is checked too, in case a later JupyterLab renders errors on their own.
ERROR_OUTPUTS = """() => [...document.querySelectorAll('.jp-NotebookPanel .jp-OutputArea-output')]
    .filter(output => output.dataset.mimeType === 'application/vnd.jupyter.error'
        || (output.dataset.mimeType === 'application/vnd.jupyter.stderr'
            && output.textContent.includes('Traceback (most recent call last)')))
    .map(output => output.textContent.slice(0, 2000))"""
# The notebook's kernel has started and is idle (the toolbar names it and its indicator says so).
KERNEL_READY = """() => {
    const name = document.querySelector('.jp-NotebookPanel-toolbar .jp-Toolbar-kernelName');
    const indicator = document.querySelector('.jp-NotebookPanel-toolbar .jp-Notebook-ExecutionIndicator');
    return Boolean(name && (name.getAttribute('aria-label') || '').startsWith('Python 3')
        && indicator && indicator.dataset.status === 'idle');
}"""
# Every code cell of the open notebook shows an execution count ("[12]:"), or the run stopped at an error.
RUN_FINISHED = """() => {
    const prompts = [...document.querySelectorAll('.jp-NotebookPanel .jp-CodeCell .jp-InputPrompt')]
        .map(prompt => prompt.textContent.trim());
    if (!prompts.length || prompts.includes('[*]:')) return false;
    const failed = document.querySelector('.jp-NotebookPanel [data-mime-type="application/vnd.jupyter.stderr"]')
        && document.body.textContent.includes('Traceback (most recent call last)');
    return failed || prompts.every(prompt => /^\\[\\d+\\]:$/.test(prompt));
}"""


def png_outputs(notebook_path) -> int:
    """How many image/png outputs the committed notebook holds."""
    notebook = nbformat.read(notebook_path, as_version=4)
    return sum("image/png" in output.get("data", {}) for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.outputs)


@pytest.fixture(scope="session")
def chromium() -> str:
    """The Chromium executable; the browser tests skip (one line) without it."""
    executable, reason = find_chromium()
    if executable is None:
        pytest.skip(reason)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    return executable


@pytest.fixture(scope="module")
def browser(chromium):
    with launched_chromium(chromium) as launched:
        yield launched


@pytest.fixture(scope="module")
def site_url(tmp_path_factory):
    """The course website, built into a temporary folder and served on 127.0.0.1."""
    folder = tmp_path_factory.mktemp("site")
    build_site.build_site(folder)
    with serve_folder(folder) as url:
        yield url


def test_every_site_page_shows_its_charts_without_errors(browser, site_url):
    pages = [("index.html", None)] + [(f"{language}/{path.stem}.html", path)
                                      for language in EDITIONS for path in notebook_paths(language)]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems = PageProblems(page)
    try:
        for address, notebook_path in pages:
            response = page.goto(f"{site_url}/{address}", wait_until="load")
            assert response is not None and response.ok, address
            charts = page.locator('img[src^="data:image/png"]')
            expected = png_outputs(notebook_path) if notebook_path else 0
            assert charts.count() == expected, f"{address}: {charts.count()} charts, the notebook has {expected}"
            for number in range(expected):
                chart = charts.nth(number)
                chart.scroll_into_view_if_needed()
                assert chart.is_visible(), f"{address}: chart {number + 1} is not visible"
                assert chart.evaluate("image => image.complete && image.naturalWidth > 0"), \
                    f"{address}: chart {number + 1} did not decode"
            name = "index" if notebook_path is None else f"{notebook_path.parent.name}-{notebook_path.stem[:2]}"
            if expected:
                charts.first.scroll_into_view_if_needed()
                page.screenshot(path=SCREENSHOTS / f"site-{name}-chart.png")
            page.evaluate("window.scrollTo(0, 0)")
            page.screenshot(path=SCREENSHOTS / f"site-{name}.png")
            assert not problems.messages, f"{address}: {problems.messages}"
    finally:
        context.close()


@pytest.mark.parametrize("language", EDITIONS)
def test_next_links_walk_the_course_from_the_index(browser, site_url, language):
    edition = notebook_paths(language)
    page = browser.new_page()
    try:
        page.goto(f"{site_url}/index.html")
        linked = {page.evaluate("a => a.getAttribute('href')", anchor)
                  for anchor in page.locator("table.course-index a").element_handles()}
        assert {f"{language}/{path.stem}.html" for path in edition} <= linked
        page.click(f'table.course-index a[href="{language}/{edition[0].stem}.html"]')
        page.wait_for_url(f"{site_url}/{language}/{edition[0].stem}.html")
        for following in edition[1:]:
            page.click("nav.course-nav-top a[rel=next]")
            page.wait_for_url(f"{site_url}/{language}/{following.stem}.html")
            assert page.title() == build_site.title_and_summary(following)[0]
        assert page.locator("nav.course-nav-top a[rel=next]").count() == 0  # the last notebook
        page.click("nav.course-nav-bottom a[rel=index]")
        page.wait_for_url(f"{site_url}/index.html")
    finally:
        page.close()


@pytest.fixture
def lab_server(tmp_path):
    """JupyterLab on 127.0.0.1 (token auth) serving a folder with a copy of notebook 01.

    Its settings live in the temporary folder: all cells attached to the page (so every
    prompt can be read), no autosave, no news fetched from the internet.
    """
    served = tmp_path / "notebooks"
    served.mkdir()
    shutil.copy(LAB_NOTEBOOK, served / LAB_NOTEBOOK.name)
    settings = {
        "notebook-extension/tracker": {"windowingMode": "none"},
        "docmanager-extension/plugin": {"autosave": False},
        "apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    }
    for name, values in settings.items():
        path = tmp_path / "lab-settings" / "@jupyterlab" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    environment = {"JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab-settings"),
                   "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "lab-workspaces")}
    with jupyterlab(served, LAB_TOKEN, environment, log=tmp_path / "jupyterlab.log") as base:
        yield base


def test_jupyterlab_runs_notebook_01_through_the_menu(browser, lab_server):
    committed = hashlib.sha256(LAB_NOTEBOOK.read_bytes()).hexdigest()
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    try:
        page.goto(f"{lab_server}/lab/tree/{LAB_NOTEBOOK.name}?token={LAB_TOKEN}")
        page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-CodeCell", timeout=60_000)
        page.wait_for_function(KERNEL_READY, timeout=60_000, polling=250)
        code_cells = page.locator(".jp-NotebookPanel .jp-CodeCell").count()
        assert code_cells == sum(cell.cell_type == "code" for cell in nbformat.read(LAB_NOTEBOOK, as_version=4).cells)

        page.click(".lm-MenuBar-itemLabel:text-is('Run')")
        page.click(".lm-Menu-itemLabel:text-is('Run All Cells')")
        page.wait_for_function(RUN_FINISHED, timeout=240_000, polling=500)

        errors = page.evaluate(ERROR_OUTPUTS)
        assert not errors, "a cell failed in JupyterLab:\n" + "\n---\n".join(errors)
        prompts = page.locator(".jp-NotebookPanel .jp-CodeCell .jp-InputPrompt").all_text_contents()
        assert len(prompts) == code_cells and all(prompt.strip()[1:-2].isdigit() for prompt in prompts), prompts

        charts = page.locator(".jp-NotebookPanel .jp-RenderedImage img")
        assert charts.count() == png_outputs(LAB_NOTEBOOK) >= 1
        for number in range(charts.count()):
            charts.nth(number).scroll_into_view_if_needed()
            assert charts.nth(number).evaluate("image => image.complete && image.naturalWidth > 0")
        charts.first.scroll_into_view_if_needed()
        page.screenshot(path=SCREENSHOTS / "jupyterlab-01.png")
    finally:
        context.close()
    assert hashlib.sha256(LAB_NOTEBOOK.read_bytes()).hexdigest() == committed
