"""Render the executed notebooks to a static site that reads without installing anything (`make site`).

- Every committed notebook (``notebooks/*.ipynb``, then ``notebooks/exercises/`` and ``notebooks/solutions/``
  where they exist) becomes an HTML page with nbconvert (JupyterLab's own look), as committed: nothing is
  re-executed. An index page lists them in the course's order, with each notebook's title and opening line.
- The site mirrors the project's layout (``notebooks/04_self_attention.html`` beside ``assets/figures/``), so
  the notebooks' relative links work unchanged; links to another notebook (``05_transformer.ipynb#...``)
  are rewritten to its page, and every other file a page links to (a figure, a module of ``helpers/``) is
  copied in. A link to a file that does not exist stops the build with the page and the link named.
- Math renders offline: MathJax 2.7 comes from the pinned PyPI wheel ``jupyter-server-mathjax`` (the
  Jupyter project's own offline MathJax), fetched once with ``pip download --no-deps`` (nothing is
  installed), checked by SHA-256 and kept in ``build/mathjax/``. No page loads anything from the network.

Usage: python scripts/build_site.py [--output build/site]
"""

from __future__ import annotations

import argparse
import hashlib
import html
import logging
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = ROOT / "scripts" / "site_template"
MATHJAX_WHEEL = ("jupyter-server-mathjax", "0.2.6", "416389dde2010df46d5fbbb7adb087a5607111070af65a1445391040f2babb5e")
MATHJAX_CACHE = ROOT / "build" / "mathjax"
SECTIONS = [("notebooks", "Notebooks"), ("notebooks/exercises", "Exercises"), ("notebooks/solutions", "Solutions")]
COURSE_TITLE = "Applied deep learning, from the papers"
_LINK = re.compile(r'(?P<attribute>\b(?:href|src))="(?P<url>[^"]*)"')
_EXTERNAL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|#)", re.IGNORECASE)  # http:, data:, mailto:, //host, #anchor


class SiteError(RuntimeError):
    """The site cannot be built as asked; the message says what to fix."""


@dataclass(frozen=True)
class Page:
    source: Path  # the .ipynb
    path: str  # its page inside the site, e.g. "notebooks/04_self_attention.html"
    title: str
    summary: str
    section: str


# --- MathJax ------------------------------------------------------------------------------------------------


def mathjax_folder() -> Path:
    """MathJax's files, extracted from the pinned wheel into build/mathjax/ on first use."""
    package, version, sha256 = MATHJAX_WHEEL
    marker = MATHJAX_CACHE / f".{package}-{version}"
    if marker.exists():
        return MATHJAX_CACHE
    with tempfile.TemporaryDirectory() as download:
        command = [
            sys.executable,
            "-m",
            "pip",
            "download",
            "--quiet",
            "--no-deps",
            "--only-binary=:all:",
            "--dest",
            download,
            f"{package}=={version}",
        ]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            raise SiteError(
                f"could not download {package}=={version} (MathJax, for the formulas) with pip: "
                f"check the connection or pip's index (`pip config list`), then run `make site` "
                f"again.\npip said:\n{result.stderr.strip()[-1500:]}"
            )
        wheel = next(Path(download).glob("*.whl"))
        if hashlib.sha256(wheel.read_bytes()).hexdigest() != sha256:
            raise SiteError(
                f"{wheel.name} does not have the SHA-256 this project pinned: your index does not "
                f"serve PyPI's {package}=={version}"
            )
        prefix = "jupyter_server_mathjax/static/"
        shutil.rmtree(MATHJAX_CACHE, ignore_errors=True)
        with zipfile.ZipFile(wheel) as archive:
            for member in archive.namelist():
                if member.startswith(prefix) and not member.endswith("/"):
                    target = MATHJAX_CACHE / member[len(prefix) :]
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(archive.read(member))
    marker.touch()
    return MATHJAX_CACHE


# --- pages --------------------------------------------------------------------------------------------------


def _plain(markdown: str) -> str:
    """Markdown to one line of plain text (for the index): links, emphasis and code marks removed."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    text = re.sub(r"[*_`]+", "", text)
    return " ".join(text.split())


def describe(source: Path, section: str) -> Page:
    import nbformat

    notebook = nbformat.read(source, as_version=4)
    markdown = "\n\n".join(cell.source for cell in notebook.cells if cell.cell_type == "markdown")
    heading = re.search(r"^#\s+(.+)$", markdown, re.MULTILINE)
    title = _plain(heading.group(1)) if heading else source.stem.replace("_", " ")
    paragraphs = [
        p
        for p in re.split(r"\n\s*\n", markdown)
        if p.strip() and not p.lstrip().startswith(("#", "!", "|", "<", "-", "*", "$"))
    ]
    summary = _plain(paragraphs[0]) if paragraphs else ""
    sentence = re.match(r"(.{40,}?[.!?])(?:\s|$)", summary)
    summary = sentence.group(1) if sentence else summary
    return Page(
        source, str(source.relative_to(ROOT).with_suffix(".html")).replace(os.sep, "/"), title, summary, section
    )


def find_pages() -> list[Page]:
    pages = []
    for folder, section in SECTIONS:
        for source in sorted((ROOT / folder).glob("*.ipynb")):
            pages.append(describe(source, section))
    if not pages:
        raise SiteError(f"no notebooks found in {ROOT / 'notebooks'}")
    return pages


def relative(from_page: str, to_path: str) -> str:
    return posixpath.relpath(to_path, posixpath.dirname(from_page) or ".")


def navigation(page: Page, pages: list[Page]) -> str:
    index = pages.index(page)
    links = [f'<a href="{relative(page.path, "index.html")}">{html.escape(COURSE_TITLE)}: contents</a>']
    if index > 0:
        links.append(
            f'<a href="{relative(page.path, pages[index - 1].path)}">&larr; {html.escape(pages[index - 1].title)}</a>'
        )
    if index + 1 < len(pages):
        links.append(
            f'<a href="{relative(page.path, pages[index + 1].path)}">{html.escape(pages[index + 1].title)} &rarr;</a>'
        )
    return "\n".join(links)


def resolve_links(body: str, page: Page, pages: list[Page], output: Path) -> str:
    """Point notebook links at their pages, copy linked project files in, refuse a link to nothing."""
    by_source = {p.source.relative_to(ROOT).as_posix(): p.path for p in pages}
    site_pages = {p.path for p in pages} | {"index.html"}  # written by this build, before or after this page
    broken: list[str] = []

    def fix(match: re.Match) -> str:
        url = html.unescape(match.group("url"))
        if not url or _EXTERNAL.match(url):
            return match.group(0)
        target, _, anchor = url.partition("#")
        target = target.split("?", 1)[0]
        in_site = posixpath.normpath(posixpath.join(posixpath.dirname(page.path), target))
        if in_site.startswith("../"):
            broken.append(f"{url} (outside the project)")
            return match.group(0)
        if in_site.endswith(".ipynb"):
            if in_site not in by_source:
                broken.append(f"{url} (no such notebook)")
                return match.group(0)
            new = relative(page.path, by_source[in_site]) + (f"#{anchor}" if anchor else "")
            return f'{match.group("attribute")}="{html.escape(new)}"'
        if in_site not in site_pages and not (output / in_site).exists():
            source = ROOT / in_site
            if not source.is_file():
                broken.append(f"{url} (no such file: {in_site})")
                return match.group(0)
            (output / in_site).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(source, output / in_site)
        return match.group(0)

    body = _LINK.sub(fix, body)
    if broken:
        raise SiteError(f"{page.source.relative_to(ROOT)} links to files that do not exist: {', '.join(broken)}")
    return body


def render(page: Page, pages: list[Page], exporter, output: Path) -> None:
    import nbformat

    notebook = nbformat.read(page.source, as_version=4)
    resources = {
        "metadata": {"name": page.title},
        "site_root": relative(page.path, ".") + "/",
        "site_nav": navigation(page, pages),
    }
    body, _ = exporter.from_notebook_node(notebook, resources=resources)
    body = resolve_links(body, page, pages, output)
    target = output / page.path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(body, encoding="utf-8")


INDEX = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<title>{title}</title>
<style>
  /* CJK fonts named before the generic family: the summaries quote Korean terms (scripts/site_template). */
  body {{ font-family: system-ui, -apple-system, "Segoe UI", helvetica, arial, "Noto Sans CJK KR", "Noto Sans CJK JP",
          "Noto Sans CJK SC", "Apple SD Gothic Neo", "Malgun Gothic", "Hiragino Sans", "Yu Gothic",
          "Microsoft YaHei", sans-serif; max-width: 50em; margin: 2em auto; padding: 0 1em; line-height: 1.5; }}
  ul {{ list-style: none; padding-left: 0; }}
  li {{ margin-bottom: 0.8em; }}
  .summary {{ color: #444; }}
</style>
</head>
<body>
<h1>{title}</h1>
<p>The course's notebooks as they ran, with every output, formula and plot: a copy to read without installing
anything. To run them yourself, clone the project and run <code>make lab</code> (see its README).</p>
{sections}
</body>
</html>
"""


def write_index(pages: list[Page], output: Path) -> None:
    sections = []
    for _, section in SECTIONS:
        items = [
            f'<li><a href="{html.escape(p.path)}">{html.escape(p.title)}</a>'
            f'<div class="summary">{html.escape(p.summary)}</div></li>'
            for p in pages
            if p.section == section
        ]
        if items:
            sections.append(f"<h2>{section}</h2>\n<ul>\n" + "\n".join(items) + "\n</ul>")
    (output / "index.html").write_text(
        INDEX.format(title=html.escape(COURSE_TITLE), sections="\n".join(sections)), encoding="utf-8"
    )


def build(output: Path) -> list[Page]:
    """Build the whole site into ``output`` (emptied first); return its pages in the course's order."""
    from nbconvert import HTMLExporter

    pages = find_pages()
    mathjax = mathjax_folder()
    if output.exists():
        shutil.rmtree(output)
    output.mkdir(parents=True)
    shutil.copytree(mathjax, output / "mathjax", ignore=shutil.ignore_patterns(".*"))
    exporter = HTMLExporter(template_name="site", extra_template_basedirs=[str(TEMPLATES)])
    exporter.log.setLevel(logging.ERROR)  # "alternative text is missing" for every plot
    for page in pages:
        render(page, pages, exporter, output)
    write_index(pages, output)
    return pages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", type=Path, default=ROOT / "build" / "site")
    output = parser.parse_args().output.resolve()
    try:
        pages = build(output)
    except SiteError as error:
        print(f"make site: {error}", file=sys.stderr)
        return 1
    shown = output.relative_to(ROOT) if output.is_relative_to(ROOT) else output
    print(f"site: {len(pages)} pages in {shown}/; open {shown}/index.html in a browser")
    return 0


if __name__ == "__main__":
    sys.exit(main())
