"""The model diagrams: every image a notebook shows exists, and the committed PNGs are what the code draws.

Each figure checked here is also kept in ``test-artifacts/figures/`` for a person to look at: the diagrams as
drawn now (``diagrams/``) and every plot in the notebooks' committed outputs (``plots/``, named by notebook
and cell, with ``plots/index.md`` saying which cell drew each). Writing them costs well under a second.

Pixels are compared exactly (decoded RGBA, no tolerance). Matplotlib's Agg renderer and the FreeType it
bundles are deterministic for a given version, and that version is pinned in requirements.lock, so the
same code gives bit-identical pixels; any tolerance would also let a changed label or a moved arrow (a
few hundred pixels) slip through, which is exactly the drift this test exists to catch.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import re
import shutil
import sys
import warnings
from pathlib import Path

import matplotlib.image
import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "scripts" / "make_figures.py"
FIGURE_DIR = ROOT / "assets" / "figures"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EXPECTED = ["word_embeddings.png", "text_cnn.png", "gan.png", "self_attention.png", "transformer.png"]
# Which topic notebook shows which diagram (by the notebook's number).
TOPIC_FIGURE = {
    "01": "word_embeddings.png",
    "02": "text_cnn.png",
    "03": "gan.png",
    "04": "self_attention.png",
    "05": "transformer.png",
}
MARKDOWN_IMAGE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
DRAWING_WARNINGS: list[str] = []
HTML_IMAGE = re.compile(r"<img\b[^>]*?\bsrc\s*=\s*[\"']([^\"']+)[\"']", re.IGNORECASE)
ARTIFACTS = ROOT / "test-artifacts" / "figures"


@pytest.fixture(scope="module")
def figures():
    """scripts/make_figures.py, imported as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("make_figures", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_figures"] = module  # dataclasses look the module up by name
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def drawn(figures, tmp_path_factory) -> Path:
    """Every figure drawn afresh into a temporary directory (about 2 s for all five)."""
    directory = tmp_path_factory.mktemp("figures")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        figures.write_figures(directory)
    DRAWING_WARNINGS.extend(str(warning.message) for warning in caught)
    kept = ARTIFACTS / "diagrams"
    shutil.rmtree(kept, ignore_errors=True)
    shutil.copytree(directory, kept)  # for a person to look at
    return directory


def image_references(notebook: Path) -> list[str]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    found = []
    for cell in cells:
        if cell["cell_type"] != "markdown":
            continue
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        found += MARKDOWN_IMAGE.findall(source) + HTML_IMAGE.findall(source)
    return [ref for ref in found if not re.match(r"^(https?:|data:|attachment:)", ref)]


def test_reference_parser_finds_both_forms() -> None:
    source = '![a diagram](../assets/figures/gan.png)\n<img alt="x" src="../assets/figures/transformer.png" width=600>'
    assert MARKDOWN_IMAGE.findall(source) + HTML_IMAGE.findall(source) == [
        "../assets/figures/gan.png",
        "../assets/figures/transformer.png",
    ]


def test_the_script_draws_exactly_the_expected_figures(figures) -> None:
    assert list(figures.FIGURES) == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_expected_figure_is_committed_as_a_png(name: str) -> None:
    path = FIGURE_DIR / name
    assert path.exists(), f"{path.relative_to(ROOT)} is missing: run `make figures`"
    assert path.read_bytes()[:8] == PNG_SIGNATURE, f"{name} is not a PNG file"
    height, width = matplotlib.image.imread(path).shape[:2]
    assert 900 <= width <= 1200, f"{name} is {width} px wide; notebooks show it at natural size (keep 900-1200)"
    assert height <= 1100, f"{name} is {height} px tall"


def test_pngs_carry_no_software_tag_or_date() -> None:
    for name in EXPECTED:
        data = (FIGURE_DIR / name).read_bytes()
        assert b"Software" not in data and b"tIME" not in data, f"{name} has metadata that changes between runs"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_image_a_notebook_shows_exists(notebook: Path) -> None:
    for reference in image_references(notebook):
        path = (notebook.parent / reference).resolve()
        assert path.exists(), f"{notebook.name} shows {reference}, which does not exist"
        assert path.read_bytes()[:8] == PNG_SIGNATURE, f"{notebook.name} shows {reference}, which is not a PNG"
        assert matplotlib.image.imread(path).size > 0


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_topic_notebook_shows_its_diagram(notebook: Path) -> None:
    figure = TOPIC_FIGURE.get(notebook.name[:2])
    if figure is None:
        pytest.skip("not a topic notebook with a diagram")
    names = [Path(reference).name for reference in image_references(notebook)]
    assert figure in names, f"{notebook.name} should show ../assets/figures/{figure} near its top"


def test_committed_figures_are_what_the_code_draws(figures, drawn: Path) -> None:
    drift = figures.differences(drawn, FIGURE_DIR)
    assert drift == [], f"the PNGs drifted from scripts/make_figures.py (run `make figures`): {drift}"


def test_drawing_twice_gives_identical_bytes(figures, drawn: Path, tmp_path: Path) -> None:
    figures.write_figures(tmp_path, names=["gan.png"])
    assert (tmp_path / "gan.png").read_bytes() == (drawn / "gan.png").read_bytes()


def test_comparison_catches_a_changed_pixel_a_changed_size_and_a_missing_file(figures, drawn: Path, tmp_path) -> None:
    for name in EXPECTED:
        shutil.copy(drawn / name, tmp_path / name)
    assert figures.differences(drawn, tmp_path) == []
    pixels = matplotlib.image.imread(drawn / "text_cnn.png").copy()
    pixels[10, 10, :3] = 1 - pixels[10, 10, :3]  # one pixel, inverted
    matplotlib.image.imsave(tmp_path / "text_cnn.png", pixels)
    shutil.copy(drawn / "gan.png", tmp_path / "transformer.png")  # a different picture
    (tmp_path / "self_attention.png").unlink()
    found = " | ".join(figures.differences(drawn, tmp_path))
    assert "text_cnn.png: 1 pixels differ" in found
    assert "transformer.png: size" in found
    assert "self_attention.png: missing" in found


def test_layout_check_catches_overflowing_and_overlapping_labels(figures) -> None:
    canvas = figures.Canvas(400, 200)
    canvas.box(10, 10, 60, 30, "a label far too long for this box")
    canvas.text(200, 100, "one label")
    canvas.text(205, 102, "another label")
    canvas.text(395, 150, "off the edge")
    problems = " | ".join(canvas.layout_problems())
    assert "does not fit in its box" in problems
    assert "'one label' and 'another label' overlap" in problems
    assert "'off the edge' leaves the image" in problems
    with pytest.raises(ValueError, match="layout problems"):
        canvas.save(Path("unused.png"))


def test_figures_use_only_bundled_fonts_and_no_hangul(figures) -> None:
    assert figures.STYLE["font.sans-serif"] == ["DejaVu Sans"]
    assert figures.STYLE["mathtext.fontset"] == "dejavusans"
    source = SCRIPT.read_text(encoding="utf-8")
    assert not re.search("[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]", source), "DejaVu Sans has no Hangul glyphs"


def test_drawing_warns_about_nothing(drawn: Path) -> None:
    """A missing glyph or a font that is not found shows up as a warning while drawing."""
    assert DRAWING_WARNINGS == []


# --- the plots in the notebooks' committed outputs -------------------------------------------------------------


def notebook_plots(notebook: Path) -> list[tuple[str, int, str, bytes]]:
    """Every PNG a notebook's committed outputs show: (file name to keep it under, cell number, cell's first
    line, PNG bytes). Cells are numbered from 1 in the notebook's order, as JupyterLab lists them."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    plots = []
    for number, cell in enumerate(cells, start=1):
        pngs = [o["data"]["image/png"] for o in cell.get("outputs", []) if "image/png" in o.get("data", {})]
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        first = next((line.strip() for line in source.splitlines() if line.strip()), "")
        for k, data in enumerate(pngs, start=1):
            suffix = f"-{k}" if len(pngs) > 1 else ""
            png = base64.b64decode("".join(data) if isinstance(data, list) else data)
            plots.append((f"{notebook.stem}-cell{number:02d}{suffix}.png", number, first, png))
    return plots


def test_every_plot_in_the_notebooks_is_a_picture_and_is_kept_to_look_at() -> None:
    kept = ARTIFACTS / "plots"
    shutil.rmtree(kept, ignore_errors=True)
    kept.mkdir(parents=True)
    index = ["| file | notebook | cell | size (px) | first line of the cell |", "|---|---|---|---|---|"]
    problems = []
    for notebook in NOTEBOOKS:
        for name, number, first, png in notebook_plots(notebook):
            (kept / name).write_bytes(png)
            pixels = matplotlib.image.imread(kept / name)
            height, width = pixels.shape[:2]
            index.append(f"| {name} | {notebook.name} | {number} | {width}×{height} | `{first[:80]}` |")
            if png[:8] != PNG_SIGNATURE:
                problems.append(f"{name}: not a PNG")
            elif float(pixels[..., :3].std()) == 0:
                problems.append(f"{name}: a blank picture")
            elif not (200 <= width <= 2400 and 150 <= height <= 2400):
                problems.append(f"{name}: {width}×{height} px, outside 200-2400 × 150-2400")
    (kept / "index.md").write_text("\n".join(index) + "\n", encoding="utf-8")
    assert len(index) > 2, "no notebook shows a plot"
    assert not problems, problems
