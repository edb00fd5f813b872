"""`make site`: every committed notebook as a static HTML page, read offline in a real browser.

The site is built once (scripts/build_site.py) into a temporary folder. Without a browser the tests check
the files: a page per notebook, the index in the course's order, no link left to an .ipynb, every relative
link and image pointing at a file of the site, no script or style from the network. In headless Chromium
(opened from the disk, as a reader opens it, with every network request refused) each page must load
without a script error, a console error or a failed request, show every image, render every formula with
MathJax and no TeX error, leave no raw ``$...$`` in the prose, and draw every character with a font that has
its glyph: no empty box ("tofu") where, say, a Korean term meets a font without Hangul. Chromium reports the
fonts it drew each element's text with (DevTools' ``CSS.getPlatformFontsForNode``); each character must be
in the character map of one of them. That needs a CJK font on the machine: ``scripts/install_browser.sh``
(`make test`) installs Debian's ``fonts-noto-cjk``; without one the check skips with the reason (fails under
``CI=true``). A screenshot of each page's first formula goes to ``test-artifacts/site/``.
"""

from __future__ import annotations

import functools
import html
import os
import re
import shutil
import subprocess
import sys
import unicodedata
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


_MARK_TEXT = """() => {
  // Elements whose own text (not their children's) has a non-ASCII character, MathJax's output aside: its
  // web fonts are checked by MathJax itself.
  let marked = 0;
  for (const element of document.querySelectorAll('body *')) {
    if (element.closest('.MathJax, .MathJax_Display, .MJX_Assistive_MathML, script, style')) continue;
    const own = Array.from(element.childNodes).filter(n => n.nodeType === 3).map(n => n.data).join('');
    if (/[^\\x00-\\x7f]/.test(own)) { element.setAttribute('data-glyph-check', own); marked++; }
  }
  return marked;
}"""


@functools.cache
def _system_fonts() -> dict[str, tuple[str, int]]:
    """Every installed font by its PostScript name: (file, index in a collection), from fontconfig."""
    listing = subprocess.run(
        ["fc-list", "--format", "%{postscriptname}\t%{file}\t%{index}\n"], capture_output=True, text=True, check=True
    ).stdout
    fonts = {}
    for line in listing.splitlines():
        name, file, index = line.split("\t")
        fonts.setdefault(name, (file, int(index or 0)))
    return fonts


@functools.cache
def _characters_of(postscript_name: str) -> frozenset[int] | None:
    """The code points a system font has glyphs for (None: a font fontconfig does not know)."""
    from fontTools.ttLib import TTFont

    found = _system_fonts().get(postscript_name)
    if found is None:
        return None
    file, index = found
    with TTFont(file, fontNumber=index, lazy=True) as font:
        return frozenset(font.getBestCmap())


def _cjk_font_or_skip() -> None:
    try:
        korean = subprocess.run(["fc-list", ":lang=ko", "family"], capture_output=True, text=True).stdout.strip()
    except FileNotFoundError:
        korean = ""
    if not korean:
        message = (
            "the tofu check needs a font with Korean glyphs, none is installed: run "
            "`sudo scripts/install_browser.sh` (Debian's fonts-noto-cjk)"
        )
        if os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}:
            pytest.fail(f"{message} (CI=true: it must run, not skip)", pytrace=False)
        pytest.skip(message)


def missing_glyphs(page: Any) -> list[str]:
    """Text drawn with no font that has its glyph (an empty box), as 'characters (fonts used): text'."""
    if not page.evaluate(_MARK_TEXT):
        return []
    devtools = page.context.new_cdp_session(page)
    try:
        devtools.send("DOM.enable")
        devtools.send("CSS.enable")
        root = devtools.send("DOM.getDocument", {"depth": -1})["root"]["nodeId"]
        nodes = devtools.send("DOM.querySelectorAll", {"nodeId": root, "selector": "[data-glyph-check]"})["nodeIds"]
        problems = []
        for node in nodes:
            text = dict(zip(*[iter(devtools.send("DOM.getAttributes", {"nodeId": node})["attributes"])] * 2))[
                "data-glyph-check"
            ]
            fonts = devtools.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
            if not fonts:
                continue  # not drawn (hidden, like the "¶" of a heading until the mouse is over it)
            if any(font["isCustomFont"] for font in fonts):
                continue  # a web font of the page (none outside MathJax today): not fontconfig's to know
            maps = [_characters_of(font["postScriptName"]) for font in fonts]
            if any(m is None for m in maps):
                problems.append(f"a font fontconfig does not list ({fonts}): {text[:80]!r}")
                continue
            covered = frozenset().union(*maps)
            absent = sorted(
                {c for c in text if not c.isspace() and unicodedata.category(c) not in {"Cc", "Cf"}}
                - {chr(code) for code in covered}
            )
            if absent:
                used = ", ".join(sorted({font["familyName"] for font in fonts}))
                problems.append(f"no glyph for {''.join(absent)!r} in {used}: {' '.join(text.split())[:80]!r}")
        return problems
    finally:
        devtools.detach()


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    from test_browser import launched_chromium  # skips (fails under CI=true) where there is no browser

    with launched_chromium() as browser:
        yield browser


def check_page(context: Any, output: Path, path: str) -> list[str]:
    """Everything wrong with one page of the site, opened from the disk with the network refused."""
    page = context.new_page()
    network, failed, errors, console = [], [], [], []
    page.route(
        "**/*",
        lambda route: (
            route.continue_()
            if route.request.url.startswith("file:")
            else (network.append(route.request.url), route.abort())
        ),
    )
    page.on("requestfailed", lambda request: failed.append(f"{request.url} ({request.failure})"))
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: console.append(message.text) if message.type == "error" else None)
    try:
        page.goto((output / path).as_uri(), wait_until="load", timeout=120_000)
        if path.startswith("notebooks/"):  # MathJax has typeset the whole page when its startup ends
            page.evaluate("() => new Promise(done => MathJax.Hub.Register.StartupHook('End', done))")
        state = page.evaluate(_PAGE_STATE)
        problems = [f"requested {url} from the network" for url in network]
        problems += [f"could not load {what}" for what in failed]
        problems += [f"script error {error}" for error in errors]
        problems += [f"console error: {text[:300]}" for text in console]
        problems += [f"tofu: {problem}" for problem in missing_glyphs(page)]
        problems += [f"broken image {image['src']}" for image in state["images"] if not image["ok"]]
        problems += [f"link to a missing anchor {anchor}" for anchor in state["anchors"]]
        if path.startswith("notebooks/"):
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
def test_the_checks_find_tofu_and_console_errors(chromium, tmp_path: Path) -> None:
    # A Tangut character has no font on these machines; Hangul has one once fonts-noto-cjk is installed.
    _cjk_font_or_skip()
    (tmp_path / "page.html").write_text(
        '<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><p>밀집 표현 · dense</p><p>\U00017000</p>'
        "<script>console.error('a deliberate error')</script></body></html>",
        encoding="utf-8",
    )
    context = chromium.new_context()
    try:
        problems = check_page(context, tmp_path, "page.html")
    finally:
        context.close()
    assert len(problems) == 2 and problems[0] == "page.html: console error: a deliberate error", problems
    assert re.fullmatch(r"page\.html: tofu: no glyph for '\U00017000' in [^:]+: '\U00017000'", problems[1]), problems


@pytest.mark.browser
def test_every_page_reads_offline_in_chromium(site, chromium) -> None:
    _cjk_font_or_skip()
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
