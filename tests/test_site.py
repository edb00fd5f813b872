"""`make site`: every committed notebook as a static HTML page, read offline in a real browser.

The site is built once (scripts/build_site.py) into a temporary folder. Without a browser the tests check
the files: a page per notebook, the index in the course's order, no link left to an .ipynb, every relative
link and image pointing at a file of the site, no script or style from the network. In headless Chromium
(opened from the disk, as a reader opens it, with every network request refused) each page must load
without a script error or a failed request, show every image, render every formula with MathJax and no
TeX error, and leave no raw ``$...$`` in the prose. A screenshot of each page's first formula goes to
``test-artifacts/site/``.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import build_site  # noqa: E402  (a script, not a package)

ARTIFACTS = ROOT / "test-artifacts" / "site"
SOURCES = sorted(
    p.relative_to(ROOT).as_posix() for folder, _ in build_site.SECTIONS for p in (ROOT / folder).glob("*.ipynb")
)
_ATTRIBUTE = re.compile(r'\b(href|src)="([^"]*)"')


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list]:
    output = tmp_path_factory.mktemp("site") / "site"
    pages = build_site.build(output)
    return output, pages


def page_paths(site) -> list[str]:
    return [page.path for page in site[1]]


def test_every_notebook_has_a_page_in_the_course_order(site) -> None:
    output, pages = site
    assert [page.source.relative_to(ROOT).as_posix() for page in pages] == SOURCES
    for page in pages:
        assert (output / page.path).is_file()
        assert page.title and page.title[:2] == Path(page.path).name[:2] or page.section != "Notebooks", page
    index = (output / "index.html").read_text(encoding="utf-8")
    positions = [index.index(f'href="{page.path}"') for page in pages]
    assert positions == sorted(positions), "the index does not list the pages in the course's order"


def test_links_point_into_the_site_and_nothing_is_loaded_from_the_network(site) -> None:
    output, pages = site
    for path in ["index.html", *page_paths(site)]:
        text = (output / path).read_text(encoding="utf-8")
        for attribute, url in _ATTRIBUTE.findall(text):
            url = html.unescape(url)
            if url.startswith(("data:", "#")):
                continue
            assert not url.startswith(("http:", "https:", "//")) or attribute == "href", (
                f"{path} loads {url} from the network: the site must read offline"
            )
            if re.match(r"^[a-z]+:", url):
                continue  # a link to a web page, followed only by the reader
            target = (output / path).parent / url.split("#")[0].split("?")[0]
            assert not url.split("#")[0].endswith(".ipynb"), f"{path} still links to a notebook file: {url}"
            assert target.exists(), f"{path}: {attribute}={url} points at nothing in the site"


def test_a_link_to_a_missing_file_stops_the_build(tmp_path: Path) -> None:
    page = build_site.Page(
        ROOT / "notebooks" / "00_setup_check.ipynb", "notebooks/00_setup_check.html", "t", "s", "Notebooks"
    )
    body = '<img src="../assets/figures/no_such_figure.png"><a href="no_such_notebook.ipynb">x</a>'
    with pytest.raises(build_site.SiteError, match=r"no_such_figure\.png .*no_such_notebook\.ipynb \(no such notebook"):
        build_site.resolve_links(body, page, [page], tmp_path)


def test_notebook_links_are_rewritten_with_their_anchor(tmp_path: Path) -> None:
    one = build_site.Page(
        ROOT / "notebooks" / "00_setup_check.ipynb", "notebooks/00_setup_check.html", "a", "", "Notebooks"
    )
    two = build_site.Page(
        ROOT / "notebooks" / "05_transformer.ipynb", "notebooks/05_transformer.html", "b", "", "Notebooks"
    )
    body = build_site.resolve_links('<a href="05_transformer.ipynb#training">x</a>', one, [one, two], tmp_path)
    assert body == '<a href="05_transformer.html#training">x</a>'


# --- in a real browser ----------------------------------------------------------------------------------------

_PAGE_STATE = """() => {
  // A browser matches the fragment as written first, then percent-decoded (nbconvert's ids are encoded).
  const byDecodedId = f => { try { return document.getElementById(decodeURIComponent(f)); } catch { return null; } };
  const markdown = Array.from(document.querySelectorAll('.jp-RenderedMarkdown, .jp-MarkdownOutput'));
  const prose = markdown.map(m => {
    const copy = m.cloneNode(true);
    copy.querySelectorAll('code, pre, script, .MathJax, .MathJax_Display, .MathJax_Preview').forEach(e => e.remove());
    return copy.innerText;
  }).join('\\n');
  return {
    images: Array.from(document.images).map(i => ({src: i.getAttribute('src').slice(0, 120),
                                                  ok: i.complete && i.naturalWidth > 0})),
    formulas: document.querySelectorAll('.MathJax, .MathJax_Display').length,
    unrendered: (prose.match(/\\$[^$\\n]+\\$/g) || []).slice(0, 5),
    mathErrors: window.siteMathErrors || null,
    anchors: Array.from(document.querySelectorAll('a[href^="#"]')).map(a => a.getAttribute('href'))
      .filter(h => h.length > 1 && !document.getElementById(h.slice(1)) && !byDecodedId(h.slice(1))),
  };
}"""


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from test_browser import launched_chromium  # skips (fails under CI=true) where there is no browser

    with launched_chromium() as browser:
        yield browser


def check_page(context: Any, output: Path, path: str) -> list[str]:
    """Everything wrong with one page of the site, opened from the disk with the network refused."""
    page = context.new_page()
    network, failed, errors = [], [], []
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith("file:")
            else (network.append(route.request.url), route.abort())
        ),
    )
    page.on(
        "requestfailed",
        lambda request: (
            None
            if request.url == "about:blank"  # MathJax's font probe
            else failed.append(f"{request.url} ({request.failure})")
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        page.goto((output / path).as_uri(), wait_until="load", timeout=120_000)
        if path != "index.html":  # MathJax has typeset the whole page when its startup ends
            page.evaluate("() => new Promise(done => MathJax.Hub.Register.StartupHook('End', done))")
        state = page.evaluate(_PAGE_STATE)
        problems = [f"requested {url} from the network" for url in network]
        problems += [f"could not load {what}" for what in failed]
        problems += [f"script error {error}" for error in errors]
        problems += [f"broken image {image['src']}" for image in state["images"] if not image["ok"]]
        problems += [f"link to a missing anchor {anchor}" for anchor in state["anchors"]]
        if path != "index.html":
            source = (ROOT / path).with_suffix(".ipynb").read_text(encoding="utf-8")
            if "$" in source and state["formulas"] == 0:
                problems.append("has TeX but MathJax rendered no formula")
            problems += [f"TeX error: {error}" for error in state["mathErrors"] or []]
            problems += [f"formula left as text: {text}" for text in state["unrendered"]]
            if state["formulas"]:
                page.locator(".MathJax_Display, .MathJax").first.scroll_into_view_if_needed()
                page.screenshot(path=str(ARTIFACTS / f"{Path(path).stem}-formula.png"))
        return [f"{path}: {problem}" for problem in problems]
    finally:
        page.close()


@pytest.mark.browser
def test_every_page_reads_offline_in_chromium(site, chromium) -> None:
    output, _ = site
    if ARTIFACTS.exists():
        shutil.rmtree(ARTIFACTS)
    ARTIFACTS.mkdir(parents=True)
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    try:
        problems = [
            problem for path in ["index.html", *page_paths(site)] for problem in check_page(context, output, path)
        ]
    finally:
        context.close()
    assert not problems, "\n".join(problems)
    assert len(os.listdir(ARTIFACTS)) >= 1, "no page showed a formula"
