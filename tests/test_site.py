"""The course website (`make site`, course_tools/build_site.py): its pages and links, read as HTML files.

tests/test_browser.py opens the same pages in a real browser; this file needs none.
"""

import html
import html.parser

import nbformat
import pytest

from course_tools import build_site
from course_tools.layout import ROOT, all_notebook_paths, editions, notebook_paths
from course_tools.readme_table import title_and_summary

EDITIONS = editions()
EDITION_NOTEBOOKS = all_notebook_paths()


class Links(html.parser.HTMLParser):
    """The <a>, <img> and <script> tags of a page, and the text of its <title>."""

    def __init__(self, text: str):
        super().__init__()
        self.anchors: list[dict] = []
        self.images: list[dict] = []
        self.scripts: list[dict] = []
        self.title = ""
        self._in_title = False
        self.feed(text)

    def handle_starttag(self, tag, attributes):
        attributes = dict(attributes)
        {"a": self.anchors, "img": self.images, "script": self.scripts}.get(tag, []).append(attributes)
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


def png_outputs(notebook_path) -> int:
    """How many image/png outputs the committed notebook holds."""
    notebook = nbformat.read(notebook_path, as_version=4)
    return sum("image/png" in output.get("data", {}) for cell in notebook.cells if cell.cell_type == "code"
               for output in cell.outputs)


def nav_links(page: Links) -> dict[str, str]:
    """{class: href} of a page's navigation links (the top and the bottom bar have the same)."""
    return {anchor["class"]: anchor["href"] for anchor in page.anchors if "course-nav" in anchor.get("class", "")}


def page_path(site, notebook_path):
    return site / notebook_path.parent.name / f"{notebook_path.stem}.html"


@pytest.fixture(scope="session")
def site(tmp_path_factory):
    """The course website built from the committed notebooks into a temporary folder."""
    folder = tmp_path_factory.mktemp("site")
    build_site.build_site(folder)
    return folder


def test_one_page_per_notebook_and_an_index(site):
    pages = sorted(path.relative_to(site).as_posix() for path in site.rglob("*.html"))
    wanted = sorted(["index.html"] + [f"{path.parent.name}/{path.stem}.html" for path in EDITION_NOTEBOOKS])
    assert pages == wanted
    assert not [path for path in site.rglob("*") if path.is_file() and path.suffix != ".html"]


def test_index_lists_every_notebook_with_its_title_summary_and_editions(site):
    text = (site / "index.html").read_text(encoding="utf-8")
    index = Links(text)
    assert index.title == build_site.course_title()
    assert {anchor["href"] for anchor in index.anchors} == {
        f"{path.parent.name}/{path.stem}.html" for path in EDITION_NOTEBOOKS
    }
    for path in EDITION_NOTEBOOKS:
        title, summary = title_and_summary(path)
        assert title in text
        if path.parent.name == "en":
            assert html.escape(summary) in text


@pytest.mark.parametrize("notebook_path", EDITION_NOTEBOOKS, ids=lambda path: f"{path.parent.name}-{path.stem[:2]}")
def test_page_has_its_navigation_charts_and_nothing_from_outside(site, notebook_path):
    language = notebook_path.parent.name
    edition = notebook_paths(language)
    position = edition.index(notebook_path)
    text = page_path(site, notebook_path).read_text(encoding="utf-8")
    page = Links(text)
    assert page.title == title_and_summary(notebook_path)[0]
    assert f'<html lang="{language}">' in text

    hrefs = nav_links(page)
    assert hrefs["course-nav-index"] == "../index.html"
    if position > 0:
        assert hrefs["course-nav-previous"] == f"../{language}/{edition[position - 1].stem}.html"
    else:
        assert "course-nav-previous" not in hrefs
    if position + 1 < len(edition):
        assert hrefs["course-nav-next"] == f"../{language}/{edition[position + 1].stem}.html"
    else:
        assert "course-nav-next" not in hrefs
    assert text.count('class="course-nav course-nav-') == 2  # top and bottom

    charts = [image for image in page.images if image.get("src", "").startswith("data:image/png;base64,")]
    assert len(charts) == len(page.images) == png_outputs(notebook_path)
    # Nothing is fetched from elsewhere (the site works offline) and no local path leaks out.
    assert not [script for script in page.scripts if script.get("src")]
    assert str(ROOT) not in text and str(site) not in text and "file://" not in text


def test_every_chart_of_the_course_is_on_a_page(site):
    assert sum(png_outputs(path) for path in notebook_paths("en")) >= 3  # the course draws charts


def test_two_editions_link_to_each_other(tmp_path):
    """With an English and a German edition, each page links to its twin and the index to both."""
    notebooks = tmp_path / "notebooks"
    for language, heading, body in [("en", "Generating text", "It teaches generating."),
                                    ("de", "Text erzeugen", "Es lehrt das Erzeugen.")]:
        (notebooks / language).mkdir(parents=True)
        for number in ("01", "02"):
            first_cell = f"# {number} · {heading}\n\n{body} More.\n\n**What you will learn**\n\n- a"
            notebook = nbformat.v4.new_notebook(cells=[
                nbformat.v4.new_markdown_cell(first_cell),
                nbformat.v4.new_code_cell("print(1)"),
            ])
            nbformat.write(notebook, notebooks / language / f"{number}_text.ipynb")
    site = tmp_path / "site"
    build_site.build_site(site, notebook_root=notebooks)
    german = Links((site / "de" / "01_text.html").read_text(encoding="utf-8"))
    assert nav_links(german)["course-nav-other"] == "../en/01_text.html"
    assert nav_links(german)["course-nav-next"] == "../de/02_text.html"
    german_text = (site / "de" / "01_text.html").read_text(encoding="utf-8")
    assert build_site.WORDS["de"]["next"] in german_text and '<html lang="de">' in german_text
    english = Links((site / "en" / "02_text.html").read_text(encoding="utf-8"))
    assert nav_links(english)["course-nav-other"] == "../de/02_text.html"
    index = (site / "index.html").read_text(encoding="utf-8")
    assert "02 · Text erzeugen" in index and "It teaches generating." in index
    assert sorted(anchor["href"] for anchor in Links(index).anchors) == [
        "de/01_text.html", "de/02_text.html", "en/01_text.html", "en/02_text.html"]

