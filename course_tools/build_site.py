"""Render the committed, executed notebooks as a static course website.

    python -m course_tools.build_site                  # (make site) write build/site/
    python -m course_tools.build_site --output DIR     # ... into DIR
    python -m http.server -d build/site         # then read it at http://localhost:8000

Pages: index.html (the course title and a table of every notebook: its title, the first
sentence of its introduction, a link to each edition) and <lang>/NN_name.html for every
notebook of notebooks/en and notebooks/de, each with links to the previous and next
notebook of its edition, the same notebook in the other edition, and the index.

The pages come from nbconvert's HTMLExporter with its `lab` template, extended (below, as
a template string) only to add the navigation, a page icon and a text alternative for each
chart, and to leave out the scripts it would fetch from a CDN (require.js and MathJax: the
course has no widgets and no formulas), so that a page works offline and shows no errors.
Charts are PNG outputs, which the exporter embeds as data: URIs. Titles and summaries come
from course_tools/readme_table.py, as in the README.
"""

from __future__ import annotations

import argparse
import html
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import jinja2
import nbformat
from nbconvert import HTMLExporter

from course_tools.layout import BUILD, NOTEBOOKS, README, editions, languages, notebook_paths, shown_path
from course_tools.readme_table import title_and_summary  # the one place titles and summaries are read

DEFAULT_OUTPUT = BUILD / "site"
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch"}
# Navigation words and the charts' text alternative, per edition.
WORDS = {
    "en": {"previous": "Previous", "next": "Next", "index": "Course index",
           "chart": "Chart drawn by the code cell above"},
    "de": {"previous": "Zurück", "next": "Weiter", "index": "Kursübersicht",
           "chart": "Diagramm, gezeichnet von der Code-Zelle darüber"},
}

NAV_MACRO = """
{%- macro course_nav(nav, position) -%}
<nav class="course-nav course-nav-{{ position }}">
  {%- if nav.previous %}
  <a class="course-nav-previous" rel="prev" href="{{ nav.previous.href }}">&larr; {{ nav.previous.label }}</a>
  {%- else %}<span></span>{% endif %}
  <a class="course-nav-index" rel="index" href="../index.html">{{ nav.index_label }}</a>
  {%- if nav.other %}
  <a class="course-nav-other" hreflang="{{ nav.other.language }}" href="{{ nav.other.href }}">{{ nav.other.label }}</a>
  {%- endif %}
  {%- if nav.next %}
  <a class="course-nav-next" rel="next" href="{{ nav.next.href }}">{{ nav.next.label }} &rarr;</a>
  {%- else %}<span></span>{% endif %}
</nav>
{%- endmacro -%}
"""

# Extends nbconvert's lab template: navigation at the top and bottom, no CDN scripts.
PAGE_TEMPLATE = NAV_MACRO + """
{%- extends 'lab/index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{% block extra_css %}
<link rel="icon" href="data:,">
<style type="text/css">
.course-nav { display: flex; justify-content: space-between; gap: 1em; flex-wrap: wrap;
  font-family: var(--jp-ui-font-family, sans-serif); padding: 0.6em 1em; margin: 0 0 1em 0;
  border-bottom: 1px solid #ddd; background: #f7f7f7; }
.course-nav-bottom { border-top: 1px solid #ddd; border-bottom: none; margin: 1em 0 0 0; }
.course-nav a { text-decoration: none; }
</style>
{% endblock extra_css %}
{% block data_png scoped %}
{{ super() | replace('<img src=', '<img alt="' ~ resources.course_nav.chart_label ~ '" src=', 1) }}
{% endblock data_png %}
{%- block body_header -%}
{{ super() }}
{{ course_nav(resources.course_nav, "top") }}
{%- endblock body_header -%}
{% block body_footer %}
{{ course_nav(resources.course_nav, "bottom") }}
{{ super() }}
{% endblock body_footer %}
"""

INDEX_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 70em; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 0.45em 0.6em; border-bottom: 1px solid #ddd; }
th { background: #f3f3f3; }
"""


@dataclass
class Page:
    """One notebook of one edition, and where its page goes."""

    language: str
    notebook: Path
    title: str
    summary: str

    @property
    def href(self) -> str:
        """The page's address relative to the site's root."""
        return f"{self.language}/{self.notebook.stem}.html"


def course_title() -> str:
    """The course's title: the README's first heading."""
    for line in README.read_text(encoding="utf-8").splitlines():
        if line.startswith("# "):
            return line[2:].strip()
    return "Course"


def collect_pages(notebook_root: Path = NOTEBOOKS) -> dict[str, list[Page]]:
    """Every edition's notebooks in reading order, with their titles and summaries."""
    return {
        language: [Page(language, path, *title_and_summary(path)) for path in notebook_paths(language, notebook_root)]
        for language in editions(notebook_root)
    }


def navigation(pages: dict[str, list[Page]], page: Page, position: int) -> dict:
    """The links of one page, relative to its own folder: previous, next, other edition, index."""
    edition = pages[page.language]
    words = WORDS.get(page.language, WORDS["en"])

    def link(target: Page | None, word: str) -> dict | None:
        if target is None:
            return None
        return {"href": f"../{target.href}", "label": f"{word}: {target.title}", "language": target.language}

    others = [other for language, other_pages in pages.items() if language != page.language
              for other in other_pages if other.notebook.name == page.notebook.name]
    other = others[0] if others else None
    return {
        "previous": link(edition[position - 1] if position > 0 else None, words["previous"]),
        "next": link(edition[position + 1] if position + 1 < len(edition) else None, words["next"]),
        "other": {"href": f"../{other.href}", "label": LANGUAGE_NAMES[other.language],
                  "language": other.language} if other else None,
        "index_label": words["index"],
        "chart_label": words["chart"],
    }


def page_exporter(language: str) -> HTMLExporter:
    """nbconvert's HTMLExporter with the course's template extension, for one edition's language."""
    exporter = HTMLExporter(
        extra_loaders=[jinja2.DictLoader({"course_page.html.j2": PAGE_TEMPLATE})],
        template_file="course_page.html.j2",
    )
    exporter.language_code = language
    return exporter


def render_page(pages: dict[str, list[Page]], page: Page, position: int) -> str:
    """The HTML of one notebook's page."""
    notebook = nbformat.read(page.notebook, as_version=4)
    notebook.metadata["title"] = page.title  # the page's <title>, instead of the file name
    resources = {"course_nav": navigation(pages, page, position), "metadata": {"name": page.notebook.stem}}
    body, _ = page_exporter(page.language).from_notebook_node(notebook, resources=resources)
    return body


def render_index(pages: dict[str, list[Page]]) -> str:
    """The index page: the course title and a table of every notebook, with a link to each edition."""
    title = html.escape(course_title())
    by_name = {language: {page.notebook.name: page for page in pages.get(language, [])} for language in languages()}
    names = sorted({name for language in languages() for name in by_name[language]})

    def edition_cell(language: str, name: str) -> str:
        page = by_name[language].get(name)
        if page is None:
            return "<td>&ndash;</td>"
        return f'<td><a href="{page.href}" hreflang="{language}">{html.escape(page.title)}</a></td>'

    first, *others = languages()
    rows = []
    for name in names:
        summary = next(by_name[language][name].summary for language in languages() if name in by_name[language])
        rows.append(f"<tr>{edition_cell(first, name)}<td>{html.escape(summary)}</td>"
                    f"{''.join(edition_cell(language, name) for language in others)}</tr>")
    other_headers = "".join(f"<th>{LANGUAGE_NAMES[language]}</th>" for language in others)
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1.0">',
        f"<title>{title}</title>",
        '<link rel="icon" href="data:,">',  # no favicon request (it would be a 404)
        f"<style>{INDEX_STYLE}</style>",
        "</head>",
        "<body>",
        f"<h1>{title}</h1>",
        "<p>Every notebook of the course as a web page, executed, with its outputs and charts. "
        "To run the code yourself, open the notebooks in Jupyter.</p>",
        '<table class="course-index">',
        f"<thead><tr><th>Notebook</th><th>What it teaches</th>{other_headers}</tr></thead>",
        "<tbody>",
        *rows,
        "</tbody>",
        "</table>",
        "</body>",
        "</html>",
        "",
    ])


def build_site(output: Path = DEFAULT_OUTPUT, notebook_root: Path = NOTEBOOKS) -> list[Path]:
    """Write the whole site into `output` (replacing what was there); return the pages written."""
    output = Path(output)
    pages = collect_pages(notebook_root)
    if output.exists():
        shutil.rmtree(output)
    written = []
    for language, edition in pages.items():
        (output / language).mkdir(parents=True, exist_ok=True)
        for position, page in enumerate(edition):
            target = output / page.href
            target.write_text(render_page(pages, page, position), encoding="utf-8")
            written.append(target)
    output.mkdir(parents=True, exist_ok=True)
    (output / "index.html").write_text(render_index(pages), encoding="utf-8")
    written.append(output / "index.html")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="the site's folder (replaced)")
    arguments = parser.parse_args(argv)
    written = build_site(arguments.output)
    folder = shown_path(arguments.output)
    print(f"{len(written)} pages in {folder}; read them with `python -m http.server -d {folder}` "
          f"and http://localhost:8000")
    return 0


if __name__ == "__main__":
    sys.exit(main())
