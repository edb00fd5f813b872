"""Draw the five model diagrams the notebooks show near their top, as PNGs in assets/figures/.

    .venv/bin/python scripts/make_figures.py            # (re)write every PNG
    .venv/bin/python scripts/make_figures.py --check    # draw into a temp dir, compare with the committed PNGs
    .venv/bin/python scripts/make_figures.py --draft --out /tmp/figs   # while editing: save despite layout problems

Every diagram is drawn on a canvas whose data coordinates are its pixels (1 unit = 1 px at 100 dpi), so
the layout numbers below read as positions in the final image. Only fonts that matplotlib ships are used
(DejaVu Sans, and its mathtext set), no Hangul (DejaVu has no Hangul glyphs), and the PNGs carry no
software tag or date, so the same code gives the same pixels on every machine with the locked matplotlib.

Before saving, each canvas checks its own layout: every label drawn in a box lies inside that box, no two
labels overlap, and nothing leaves the image. A diagram that breaks one of these raises instead of saving.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Circle, Ellipse, FancyArrowPatch, FancyBboxPatch, Rectangle
from matplotlib.path import Path as MplPath

ROOT = Path(__file__).resolve().parent.parent
FIGURE_DIR = ROOT / "assets" / "figures"
DPI = 100

STYLE = {
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "mathtext.fontset": "dejavusans",
    "font.size": 11,
    "text.color": "#222222",
}

# One colour per kind of block, the same in every figure (close to the 2017 paper's Figure 1).
COLORS = {
    "embedding": "#f8d7da",
    "attention": "#fde2bf",
    "feed_forward": "#d4e6f7",
    "norm": "#fbf3b4",
    "linear": "#e4daf2",
    "softmax": "#d5eed5",
    "neutral": "#eeeeee",
    "query": "#f6c7c3",
    "key": "#cfe9cf",
    "value": "#cddff3",
    "frame": "#f7f7f7",
}
INK = "#333333"
MUTED = "#666666"


@dataclass(frozen=True)
class Box:
    x: float
    y: float
    w: float
    h: float

    @property
    def left(self) -> float:
        return self.x

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y

    @property
    def top(self) -> float:
        return self.y + self.h

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


class Canvas:
    """A figure whose data coordinates are pixels, with a layout check before saving."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.figure = Figure(figsize=(width / DPI, height / DPI), dpi=DPI, facecolor="white")
        FigureCanvasAgg(self.figure)
        self.ax = self.figure.add_axes((0, 0, 1, 1))
        self.ax.set_xlim(0, width)
        self.ax.set_ylim(0, height)
        self.ax.set_axis_off()
        self.boxed: list[tuple[matplotlib.text.Text, Box]] = []  # label, the box it must stay inside
        self.texts: list[matplotlib.text.Text] = []  # every label: none may overlap another

    # --- drawing ----------------------------------------------------------------------------------
    def box(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        label: str = "",
        color: str = COLORS["neutral"],
        *,
        fontsize: float = 11,
        weight: str = "normal",
        edge: str = INK,
        linewidth: float = 1.3,
        radius: float = 6,
        linestyle: str = "-",
        zorder: float = 2,
    ) -> Box:
        patch = FancyBboxPatch(
            (x, y),
            w,
            h,
            boxstyle=f"round,pad=0,rounding_size={radius}",
            facecolor=color,
            edgecolor=edge,
            linewidth=linewidth,
            linestyle=linestyle,
            zorder=zorder,
        )
        self.ax.add_patch(patch)
        box = Box(x, y, w, h)
        if label:
            text = self.ax.text(
                box.cx,
                box.cy,
                label,
                ha="center",
                va="center",
                fontsize=fontsize,
                weight=weight,
                linespacing=1.35,
                zorder=zorder + 0.5,
            )
            self.boxed.append((text, box))
            self.texts.append(text)
        return box

    def text(self, x: float, y: float, label: str, *, fontsize: float = 10, **kwargs: object) -> None:
        kwargs.setdefault("ha", "center")
        kwargs.setdefault("va", "center")
        kwargs.setdefault("linespacing", 1.35)
        kwargs.setdefault("zorder", 6)
        self.texts.append(self.ax.text(x, y, label, fontsize=fontsize, **kwargs))

    def arrow(
        self,
        *points: tuple[float, float],
        color: str = INK,
        linewidth: float = 1.4,
        head: bool = True,
        linestyle: str = "-",
        zorder: float = 1,
    ) -> None:
        """A polyline through ``points`` with an arrow head at the last point."""
        path = MplPath(points, [MplPath.MOVETO] + [MplPath.LINETO] * (len(points) - 1))
        style = "-|>,head_length=0.45,head_width=0.22" if head else "-"
        self.ax.add_patch(
            FancyArrowPatch(
                path=path,
                arrowstyle=style,
                mutation_scale=16,
                color=color,
                linewidth=linewidth,
                linestyle=linestyle,
                shrinkA=0,
                shrinkB=0,
                joinstyle="miter",
                capstyle="butt",
                zorder=zorder,
            )
        )

    def dot(self, x: float, y: float, color: str = INK) -> None:
        self.ax.add_patch(Circle((x, y), 3.2, color=color, zorder=3))

    def cells(
        self,
        x: float,
        y_top: float,
        values: np.ndarray,
        *,
        cell_w: float,
        cell_h: float,
        colors: Sequence[Sequence[str]] | None = None,
        cmap: str = "Blues",
        vmin: float = 0.0,
        vmax: float = 1.0,
        edge: str = "#555555",
        zorder: float = 2,
    ) -> Box:
        """A grid of cells (rows top to bottom), coloured by value or by an explicit colour per cell."""
        rows, columns = values.shape
        colormap = matplotlib.colormaps[cmap]
        for i in range(rows):
            for j in range(columns):
                if colors is not None:
                    face = colors[i][j]
                else:
                    face = colormap(float(np.clip((values[i, j] - vmin) / (vmax - vmin), 0, 1)))
                self.ax.add_patch(
                    Rectangle(
                        (x + j * cell_w, y_top - (i + 1) * cell_h),
                        cell_w,
                        cell_h,
                        facecolor=face,
                        edgecolor=edge,
                        linewidth=0.8,
                        zorder=zorder,
                    )
                )
        return Box(x, y_top - rows * cell_h, columns * cell_w, rows * cell_h)

    # --- checking and saving ------------------------------------------------------------------------
    def layout_problems(self) -> list[str]:
        renderer = self.figure.canvas.get_renderer()
        self.figure.draw(renderer)
        extents = [text.get_window_extent(renderer) for text in self.texts]
        problems = []
        margin = 3  # px of air a label keeps from its box edge
        for text, box in self.boxed:
            extent = text.get_window_extent(renderer)
            if (
                extent.x0 < box.left + margin
                or extent.x1 > box.right - margin
                or extent.y0 < box.bottom + margin
                or extent.y1 > box.top - margin
            ):
                problems.append(f"label {text.get_text()!r} does not fit in its box {box}")
        for i, a in enumerate(extents):
            if a.x0 < 0 or a.y0 < 0 or a.x1 > self.width or a.y1 > self.height:
                problems.append(f"label {self.texts[i].get_text()!r} leaves the image")
            for j in range(i + 1, len(extents)):
                if a.overlaps(extents[j]):
                    problems.append(f"labels {self.texts[i].get_text()!r} and {self.texts[j].get_text()!r} overlap")
        return problems

    def save(self, path: Path, *, draft: bool = False) -> None:
        problems = self.layout_problems()
        if problems and draft:
            print(f"{path.name}: layout problems (saved anyway, --draft):\n  " + "\n  ".join(problems))
        elif problems:
            raise ValueError(f"{path.name}: layout problems:\n  " + "\n  ".join(problems))
        self.figure.savefig(path, format="png", dpi=DPI, facecolor="white", metadata={"Software": None})


def tint(color: str, amount: float) -> tuple[float, float, float]:
    """``color`` mixed with white: amount 0 = white, 1 = the colour itself."""
    rgb = np.array(matplotlib.colors.to_rgb(color))
    return tuple(float(v) for v in 1 - amount * (1 - rgb))


# =====================================================================================================
# Notebook 01: one-hot versus dense word vectors
# =====================================================================================================
def draw_word_embeddings() -> Canvas:
    canvas = Canvas(1150, 470)
    canvas.text(575, 440, "Word embeddings: from sparse one-hot vectors to dense vectors", fontsize=14, weight="bold")
    words = ["cat", "dog", "car"]
    row_y = [340, 290, 240]

    # --- A: one-hot, |V| dimensions with a single 1 ---------------------------------------------------
    canvas.text(200, 395, "One-hot vectors (sparse)", fontsize=12, weight="bold")
    hot = {"cat": 1, "dog": 3, "car": 9}
    cell, x0, count = 22, 80, 12
    for word, y in zip(words, row_y):
        canvas.text(x0 - 8, y, word, fontsize=11, ha="right")
        for j in range(count):
            x = x0 + j * cell
            if j == 5:
                canvas.ax.text(x + cell / 2, y, "...", ha="center", va="center", fontsize=10, color=MUTED)
                continue
            one = j == hot[word]
            canvas.ax.add_patch(
                Rectangle(
                    (x, y - cell / 2),
                    cell,
                    cell,
                    facecolor="#333333" if one else "white",
                    edgecolor="#777777",
                    linewidth=0.8,
                )
            )
            canvas.ax.text(
                x + cell / 2,
                y,
                "1" if one else "0",
                ha="center",
                va="center",
                fontsize=9,
                color="white" if one else "#999999",
            )
    right = x0 + count * cell
    canvas.text((x0 + right) / 2, 370, r"$|V|$ entries (one per vocabulary word)", fontsize=10, color=MUTED)
    canvas.text(
        200, 183, "|V| = vocabulary size (thousands), a single 1\nany two different words: cos = 0", fontsize=10
    )
    canvas.text(200, 146, "(no notion of similarity)", fontsize=10, color=MUTED)

    # --- the bridge: a one-hot vector times E picks one row of E ----------------------------------------
    canvas.arrow((right + 22, 290), (448, 290), linewidth=1.8)
    canvas.text((right + 22 + 448) / 2, 312, r"one-hot $\times\ E$", fontsize=10)
    canvas.text((right + 22 + 448) / 2, 259, "$E$: $|V| \\times d$\n= row lookup", fontsize=10)

    # --- B: dense, d real values, learned -----------------------------------------------------------
    dense = np.array(
        [
            [0.8, -0.3, 0.5, 0.1, -0.6, 0.4],
            [0.7, -0.2, 0.6, 0.2, -0.5, 0.3],
            [-0.4, 0.9, -0.1, -0.7, 0.3, 0.2],
        ]
    )
    canvas.text(615, 395, "Dense embeddings", fontsize=12, weight="bold")
    width, x1 = 36, 508
    colormap = matplotlib.colormaps["RdBu_r"]
    for word, y, vector in zip(words, row_y, dense):
        canvas.text(x1 - 8, y, word, fontsize=11, ha="right")
        for j, value in enumerate(vector):
            canvas.ax.add_patch(
                Rectangle(
                    (x1 + j * width, y - 11),
                    width,
                    22,
                    facecolor=colormap((value + 1.2) / 2.4),
                    edgecolor="#777777",
                    linewidth=0.8,
                )
            )
            canvas.ax.text(
                x1 + (j + 0.5) * width, y, f"{value:+.1f}".replace("-", "\u2212"), ha="center", va="center", fontsize=9
            )
    canvas.text(x1 + 3 * width, 370, r"$d$ entries (e.g. 50 to 300)", fontsize=10, color=MUTED)

    def cos(a: np.ndarray, b: np.ndarray) -> float:
        return float(a @ b / np.linalg.norm(a) / np.linalg.norm(b))

    cat_dog, cat_car = cos(dense[0], dense[1]), cos(dense[0], dense[2])
    caption = (
        f"small d, real values, learned from context\ncos(cat, dog) = {cat_dog:.2f}\ncos(cat, car) = {cat_car:.2f}"
    )
    canvas.text(615, 172, caption.replace("-", "\u2212"), fontsize=10)

    # --- C: similar words close together --------------------------------------------------------------
    canvas.text(955, 395, "Similar words lie close together", fontsize=12, weight="bold")
    ax = canvas.figure.add_axes((800 / 1150, 95 / 470, 310 / 1150, 280 / 470))
    ax.set_xlim(0, 6.2)
    ax.set_ylim(0, 5)
    ax.set_xticks([])
    ax.set_yticks([])
    for spine in ax.spines.values():
        spine.set_color("#999999")
    ax.set_xlabel("dimension 1", fontsize=9, color=MUTED, labelpad=2)
    ax.set_ylabel("dimension 2", fontsize=9, color=MUTED, labelpad=2)
    points = {
        "cat": (0.8, 4.1),
        "kitten": (0.5, 3.45),
        "dog": (1.7, 4.3),
        "puppy": (1.45, 3.6),
        "car": (0.9, 1.4),
        "truck": (1.65, 1.85),
        "bus": (1.2, 0.7),
        "man": (3.3, 0.75),
        "woman": (3.7, 2.05),
        "king": (4.8, 1.35),
        "queen": (5.2, 2.65),
    }
    groups = [((1.2, 3.85), 2.3, 1.5, "#f3b27a"), ((1.3, 1.3), 1.9, 1.8, "#8fbbe0"), ((4.25, 1.7), 3.2, 2.9, "#a8d5a2")]
    for center, w, h, color in groups:
        ax.add_patch(Ellipse(center, w, h, facecolor=tint(color, 0.35), edgecolor="none", zorder=0))
    for word, (px, py) in points.items():
        ax.plot(px, py, "o", color=INK, markersize=4, zorder=3)
        label = ax.text(px + 0.13, py, word, fontsize=10, va="center", ha="left", zorder=4)
        canvas.texts.append(label)
    for a, b in [("man", "woman"), ("king", "queen")]:
        ax.annotate(
            "",
            xy=points[b],
            xytext=points[a],
            arrowprops=dict(arrowstyle="-|>", color="#2e7d32", linewidth=1.4, shrinkA=4, shrinkB=4),
        )
    canvas.text(955, 52, "king \u2212 man + woman \u2248 queen", fontsize=10.5, color="#2e7d32")
    canvas.text(955, 28, "(a schematic 2-D picture of trained vectors)", fontsize=9.5, color=MUTED)
    return canvas


# =====================================================================================================
# Notebook 02: Kim (2014) Text CNN, with this project's window sizes and map counts
# =====================================================================================================
def draw_text_cnn() -> Canvas:
    canvas = Canvas(1200, 600)
    canvas.text(600, 575, "Text CNN (Kim, 2014) as configured in notebook 02", fontsize=14, weight="bold")
    words = ["wait", "for", "the", "video", "and", "do", "n't", "rent", "it"]
    n, k_shown = len(words), 6
    row_h, cell_w, top = 32, 26, 470
    x_matrix = 110
    header_y = 520
    rng = np.random.default_rng(7)

    # --- 1. sentence -> n x k matrix (two channels in CNN-multichannel) ---------------------------------
    canvas.text(190, header_y, "1. sentence as an\nn \u00d7 k matrix", fontsize=11.5, weight="bold")
    canvas.cells(
        x_matrix + 12,
        top + 12,
        rng.uniform(0.05, 0.45, (n, k_shown)),
        cell_w=cell_w,
        cell_h=row_h,
        cmap="Greens",
        edge="#8a8a8a",
        zorder=1,
    )
    matrix = canvas.cells(
        x_matrix, top, rng.uniform(0.1, 0.6, (n, k_shown)), cell_w=cell_w, cell_h=row_h, cmap="Blues", zorder=2
    )
    for i, word in enumerate(words):
        canvas.text(x_matrix - 8, top - (i + 0.5) * row_h, word, fontsize=11, ha="right")
    canvas.text(matrix.cx + 6, matrix.bottom - 22, "n words \u00d7 k-dim word vectors", fontsize=10)
    canvas.text(
        matrix.cx + 6,
        matrix.bottom - 78,
        "channels: 1 (CNN-rand, static, non-static)\nor 2 (multichannel: a static copy\n"
        "+ a non-static copy, shown behind)",
        fontsize=10,
        color=MUTED,
    )

    # windows of 3, 4 and 5 words (brackets), each colour followed through the network
    windows = [(3, 0, "#d62728", 292), (4, 3, "#2ca02c", 292), (5, 4, "#1f77b4", 306)]
    maps_x, map_w, map_h = 420, 24, 18
    group_tops = [462, 314, 186]
    max_index = {3: 1, 4: 3, 5: 3}
    pooled_x, pooled_top, pooled_h = 690, 371, 18
    pooled_cells: list[tuple[float, str]] = []
    canvas.text(500, header_y, "2. convolutions\n+ ReLU", fontsize=11.5, weight="bold")
    for (h, start, color, bracket_x), group_top in zip(windows, group_tops):
        y_top, y_bottom = top - start * row_h - 3, top - (start + h) * row_h + 3
        canvas.ax.plot(
            [bracket_x - 7, bracket_x, bracket_x, bracket_x - 7],
            [y_top, y_top, y_bottom, y_bottom],
            color=color,
            linewidth=2.6,
            solid_joinstyle="miter",
            zorder=3,
        )
        length = n - h + 1
        # the stack of 100 maps: two shadows behind the front map
        for shift in (10, 5):
            canvas.cells(
                maps_x + shift,
                group_top + shift,
                np.zeros((length, 1)),
                cell_w=map_w,
                cell_h=map_h,
                colors=[[tint(color, 0.12)]] * length,
                edge=tint(color, 0.6),
                zorder=1,
            )
        values = rng.uniform(0.15, 0.55, length)
        values[max_index[h]] = 1.0
        colors = [[tint(color, 0.95) if v == 1.0 else tint(color, 0.15 + 0.35 * v)] for v in values]
        canvas.cells(
            maps_x,
            group_top,
            values[:, None],
            cell_w=map_w,
            cell_h=map_h,
            colors=colors,
            edge=tint(color, 0.9),
            zorder=2,
        )
        canvas.text(
            maps_x + map_w + 18, group_top - map_h / 2, f"h = {h}", fontsize=10.5, ha="left", color=color, weight="bold"
        )
        # the window -> the entry of the map it produces
        target_y = group_top - (start + 0.5) * map_h
        canvas.arrow((bracket_x + 3, (y_top + y_bottom) / 2), (maps_x - 4, target_y), color=color, linewidth=1.5)
        pooled_cells.append((group_top - (max_index[h] + 0.5) * map_h, color))
    canvas.text(
        maps_x + 110,
        56,
        "100 maps per window size h, each of length n \u2212 h + 1:\n"
        r"$c_i = \mathrm{ReLU}(w \cdot x_{i:i+h-1} + b)$ for every i",
        fontsize=10.5,
    )

    # --- 3. max-over-time pooling: one number per map, 3 x 100 = 300 ---------------------------------------
    canvas.text(pooled_x + 12, header_y, "3. max-over-time\npooling", fontsize=11.5, weight="bold")
    pooled_colors = []
    for segment, (max_y, color) in enumerate(pooled_cells):
        segment_top = pooled_top - segment * 3 * pooled_h
        canvas.arrow(
            (maps_x + map_w + 2, max_y), (pooled_x - 4, segment_top - pooled_h / 2), color=color, linewidth=1.5
        )
        pooled_colors += [[tint(color, 0.95)], [tint(color, 0.55)], [tint(color, 0.35)]]
    pooled = canvas.cells(pooled_x, pooled_top, np.zeros((9, 1)), cell_w=24, cell_h=pooled_h, colors=pooled_colors)
    canvas.text(pooled.cx, pooled.bottom - 32, "max of each map:\n3 \u00d7 100 = 300", fontsize=10)

    # --- 4. dropout ---------------------------------------------------------------------------------
    dropout_x = 840
    canvas.text(dropout_x + 12, header_y, "4. dropout\np = 0.5", fontsize=11.5, weight="bold")
    dropped = {1, 4, 5, 7}
    dropout_colors = [["#d9d9d9"] if i in dropped else pooled_colors[i] for i in range(9)]
    dropout = canvas.cells(dropout_x, pooled_top, np.zeros((9, 1)), cell_w=24, cell_h=pooled_h, colors=dropout_colors)
    for i in dropped:
        y = pooled_top - (i + 0.5) * pooled_h
        canvas.ax.plot([dropout_x + 6, dropout_x + 18], [y - 5, y + 5], color="#777777", linewidth=1.1, zorder=3)
        canvas.ax.plot([dropout_x + 6, dropout_x + 18], [y + 5, y - 5], color="#777777", linewidth=1.1, zorder=3)
    canvas.arrow((pooled.right + 4, pooled.cy), (dropout.left - 6, dropout.cy), linewidth=1.6)
    canvas.text(dropout.cx, dropout.bottom - 32, "random half\n(training only)", fontsize=10, color=MUTED)

    # --- 5. fully connected softmax over the two classes ------------------------------------------------
    canvas.text(1075, header_y, "5. fully connected\n+ softmax", fontsize=11.5, weight="bold")
    fc = canvas.box(925, dropout.cy - 42, 112, 84, "fully\nconnected\n+ softmax", COLORS["softmax"], fontsize=10.5)
    canvas.arrow((dropout.right + 4, dropout.cy), (fc.left - 2, fc.cy), linewidth=1.6)
    fresh = canvas.box(1085, fc.cy + 14, 100, 40, "fresh", "#e3f1e3", fontsize=11)
    rotten = canvas.box(1085, fc.cy - 54, 100, 40, "rotten", "#f6dede", fontsize=11)
    canvas.arrow((fc.right, fc.cy + 10), (fresh.left - 2, fresh.cy), linewidth=1.4)
    canvas.arrow((fc.right, fc.cy - 10), (rotten.left - 2, rotten.cy), linewidth=1.4)
    canvas.text(1135, fresh.top + 20, "2 classes", fontsize=10)
    canvas.text(fc.cx, fc.bottom - 32, "max-norm s = 3\non its weights", fontsize=10, color=MUTED)
    return canvas


# =====================================================================================================
# Notebook 03: generative adversarial network
# =====================================================================================================
def draw_gan() -> Canvas:
    canvas = Canvas(1150, 500)
    canvas.text(575, 472, "Generative adversarial network (Goodfellow et al., 2014)", fontsize=14, weight="bold")
    rng = np.random.default_rng(3)

    # noise row
    z_values = rng.normal(size=(8, 1))
    z = canvas.cells(50, 300, z_values, cell_w=18, cell_h=16, cmap="Greys", vmin=-2.5, vmax=2.5)
    canvas.text(z.cx, z.top + 18, "noise z", fontsize=11)
    canvas.text(z.cx, z.bottom - 18, r"$z \sim \mathcal{N}(0, I)$", fontsize=11)
    generator = canvas.box(
        130, z.cy - 42, 170, 84, "Generator G\n(neural net, $\\theta_g$)", COLORS["feed_forward"], fontsize=11.5
    )
    canvas.arrow((z.right + 6, z.cy), (generator.left - 2, generator.cy))

    # a fake sample: a blurry blob; a real one: a crisp ring (a digit "0")
    yy, xx = np.mgrid[-1:1:10j, -1:1:10j]
    radius = np.sqrt(xx**2 + yy**2)
    real_image = np.exp(-((radius - 0.6) ** 2) / 0.03)
    fake_image = np.clip(np.exp(-((radius - 0.5) ** 2) / 0.08) * 0.8 + rng.uniform(0, 0.35, (10, 10)), 0, 1)
    fake = Box(360, z.cy - 35, 70, 70)
    real = Box(360, 345, 70, 70)
    for image, where in [(fake_image, fake), (real_image, real)]:
        extent = (where.left, where.right, where.bottom, where.top)
        canvas.ax.imshow(image, cmap="gray_r", vmin=0, vmax=1, extent=extent, interpolation="nearest", zorder=2)
        canvas.ax.add_patch(
            Rectangle((where.x, where.y), where.w, where.h, fill=False, edgecolor=INK, linewidth=1.2, zorder=3)
        )
    canvas.arrow((generator.right, generator.cy), (fake.left - 4, fake.cy))
    canvas.text(fake.cx, fake.bottom - 18, "fake sample G(z)", fontsize=11)
    data = canvas.box(130, real.cy - 32, 170, 64, "training data\n(real samples)", COLORS["neutral"], fontsize=11.5)
    canvas.arrow((data.right, data.cy), (real.left - 4, real.cy))
    canvas.text(real.cx, real.top + 18, r"real sample $x \sim p_{data}$", fontsize=11)
    canvas.ax.set_xlim(0, canvas.width)  # imshow resets the limits; put the pixel canvas back
    canvas.ax.set_ylim(0, canvas.height)

    discriminator = canvas.box(
        540, 262, 170, 84, "Discriminator D\n(neural net, $\\theta_d$)", COLORS["attention"], fontsize=11.5
    )
    canvas.arrow(
        (real.right + 4, real.cy),
        (480, real.cy),
        (480, discriminator.cy + 18),
        (discriminator.left - 2, discriminator.cy + 18),
    )
    canvas.arrow(
        (fake.right + 4, fake.cy),
        (480, fake.cy),
        (480, discriminator.cy - 18),
        (discriminator.left - 2, discriminator.cy - 18),
    )
    verdict = "D(\u00b7) \u2208 (0, 1):\nprobability that\nthe input is real"
    output = canvas.box(762, discriminator.cy - 40, 150, 80, verdict, COLORS["softmax"], fontsize=10.5)
    canvas.arrow((discriminator.right, discriminator.cy), (output.left - 2, output.cy))
    canvas.box(
        948,
        output.cy + 8,
        190,
        70,
        "D learns to say\nreal: D(x) \u2192 1\nfake: D(G(z)) \u2192 0",
        tint(COLORS["attention"], 0.6),
        fontsize=10,
        edge=MUTED,
        linewidth=1,
    )
    canvas.box(
        948,
        output.cy - 78,
        190,
        70,
        "G learns to fool D:\nD(G(z)) \u2192 1",
        tint(COLORS["feed_forward"], 0.6),
        fontsize=10,
        edge=MUTED,
        linewidth=1,
    )
    canvas.arrow((output.right, output.cy + 14), (946, output.cy + 43), linewidth=1.1, color=MUTED)
    canvas.arrow((output.right, output.cy - 14), (946, output.cy - 43), linewidth=1.1, color=MUTED)

    # G's gradient comes back through D
    canvas.arrow(
        (output.cx, output.bottom),
        (output.cx, 150),
        (generator.cx, 150),
        (generator.cx, generator.bottom - 2),
        linestyle=(0, (5, 3)),
        color="#1f5fa8",
        linewidth=1.4,
    )
    canvas.text(
        (output.cx + generator.cx) / 2,
        136,
        "G's gradient flows back through D (D held fixed)",
        fontsize=10,
        color="#1f5fa8",
    )
    canvas.text(
        575,
        78,
        r"$\min_G\ \max_D\ V(D, G) = \mathbb{E}_{x \sim p_{data}}[\log D(x)]"
        r" + \mathbb{E}_{z \sim p_z}[\log(1 - D(G(z)))]$",
        fontsize=15,
    )
    canvas.text(
        575,
        36,
        "in practice G maximises log D(G(z)) instead (the non-saturating loss the paper recommends)",
        fontsize=10,
        color=MUTED,
    )
    return canvas


# =====================================================================================================
# Notebook 04: self-attention
# =====================================================================================================
def draw_self_attention() -> Canvas:
    canvas = Canvas(1200, 560)
    canvas.text(600, 532, "Self-attention: Q, K and V from one input X", fontsize=14, weight="bold")
    canvas.text(
        600,
        488,
        r"$\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\left(\frac{Q K^\top}{\sqrt{d_k}}\right) V$",
        fontsize=18,
    )
    rng = np.random.default_rng(4)
    tokens = ["the", "cat", "sat", "down"]
    n = len(tokens)

    # X: n tokens x d_model
    x_matrix = canvas.cells(70, 330, rng.uniform(0.15, 0.7, (n, 5)), cell_w=18, cell_h=22, cmap="Greys")
    for i, token in enumerate(tokens):
        canvas.text(x_matrix.left - 6, 330 - (i + 0.5) * 22, token, fontsize=10.5, ha="right")
    canvas.text(x_matrix.cx, x_matrix.top + 18, "input X", fontsize=11.5, weight="bold")
    canvas.text(x_matrix.cx, x_matrix.bottom - 18, r"$n \times d_{model}$", fontsize=10.5)
    canvas.text(x_matrix.cx - 10, x_matrix.bottom - 58, "one sequence,\nused three times", fontsize=10, color=MUTED)

    rows = {"Q": 410, "K": 290, "V": 170}
    names = {"Q": "queries", "K": "keys", "V": "values"}
    shapes = {"Q": r"$n \times d_k$", "K": r"$n \times d_k$", "V": r"$n \times d_v$"}
    fills = {"Q": COLORS["query"], "K": COLORS["key"], "V": COLORS["value"]}
    branch_x = 200
    canvas.arrow((x_matrix.right + 4, x_matrix.cy), (branch_x, x_matrix.cy), head=False)
    canvas.dot(branch_x, x_matrix.cy)
    boxes = {}
    for name, y in rows.items():
        weight = canvas.box(222, y - 22, 78, 44, rf"$\times\ W_{name}$", COLORS["linear"], fontsize=12)
        canvas.arrow((branch_x, x_matrix.cy), (branch_x, y), (weight.left - 2, y))
        boxes[name] = canvas.box(
            328, y - 30, 88, 60, f"{name} ({names[name]})\n{shapes[name]}", fills[name], fontsize=10
        )
        canvas.arrow((weight.right, y), (boxes[name].left - 2, y))

    # the flow: scores -> scale -> mask -> softmax -> weighted sum
    flow_y, flow_h = 350, 70
    steps = [
        ("MatMul\n$Q K^\\top$\nscores $n \\times n$", COLORS["neutral"], 452, 100),
        ("Scale\n$\\div \\sqrt{d_k}$", COLORS["neutral"], 580, 84),
        ("Mask\n(optional)\nblocked: \u2212\u221e", COLORS["neutral"], 692, 114),
        ("Softmax\n(each row)", COLORS["softmax"], 834, 94),
        ("MatMul\nweights $\\cdot\\ V$", COLORS["neutral"], 956, 94),
    ]
    flow = [canvas.box(x, flow_y - flow_h / 2, w, flow_h, label, color, fontsize=10.5) for label, color, x, w in steps]
    canvas.arrow((boxes["Q"].right, rows["Q"]), (434, rows["Q"]), (434, flow_y + 14), (flow[0].left - 2, flow_y + 14))
    canvas.arrow((boxes["K"].right, rows["K"]), (434, rows["K"]), (434, flow_y - 14), (flow[0].left - 2, flow_y - 14))
    for a, b in zip(flow, flow[1:]):
        canvas.arrow((a.right, flow_y), (b.left - 2, flow_y))
    canvas.arrow((boxes["V"].right, rows["V"]), (flow[4].cx, rows["V"]), (flow[4].cx, flow[4].bottom - 2))
    output = canvas.box(1078, flow_y - 35, 96, 70, "output\n$n \\times d_v$", COLORS["value"], fontsize=10.5)
    canvas.arrow((flow[4].right, flow_y), (output.left - 2, flow_y))

    # small pictures of the n x n matrices under the steps they come from
    scores = rng.normal(size=(n, n))
    causal = np.tril(np.ones((n, n), dtype=bool))
    masked = np.where(causal, scores, np.nan)
    weights = np.exp(masked - np.nanmax(masked, axis=1, keepdims=True))
    weights = np.where(causal, weights, 0.0)
    weights /= weights.sum(axis=1, keepdims=True)
    grid_top, grid_cell = 290, 16
    pictures = [
        (flow[0], [[matplotlib.colormaps["coolwarm"]((v + 2) / 4) for v in row] for row in scores], "any real numbers"),
        (
            flow[2],
            [
                ["#444444" if not c else matplotlib.colormaps["coolwarm"]((v + 2) / 4) for v, c in zip(row_s, row_c)]
                for row_s, row_c in zip(scores, causal)
            ],
            "causal mask (example)",
        ),
        (flow[3], [[matplotlib.colormaps["Greens"](0.1 + 0.9 * v) for v in row] for row in weights], "rows sum to 1"),
    ]
    for step, colors, caption in pictures:
        canvas.cells(
            step.cx - 2 * grid_cell,
            grid_top,
            np.zeros((n, n)),
            cell_w=grid_cell,
            cell_h=grid_cell,
            colors=colors,
            edge="#888888",
        )
        canvas.text(step.cx, grid_top - n * grid_cell - 14, caption, fontsize=9.5, color=MUTED)
        canvas.arrow(
            (step.cx, step.bottom), (step.cx, grid_top + 4), head=False, linestyle=(0, (2, 2)), color=MUTED, linewidth=1
        )

    canvas.text(
        600,
        88,
        "Self-attention: Q, K and V are all computed from the same X; only the learned weights $W_Q, W_K, W_V$ differ.",
        fontsize=10.5,
    )
    canvas.text(
        600,
        64,
        "Encoder-decoder attention uses the same formula with Q from the decoder and K, V from the encoder.",
        fontsize=10.5,
        color=MUTED,
    )
    canvas.text(
        600,
        40,
        "Mask in this project: True = may attend (as in F.scaled_dot_product_attention); blocked "
        "scores become \u2212\u221e before the softmax.",
        fontsize=10.5,
        color=MUTED,
    )
    return canvas


# =====================================================================================================
# Notebook 05: the Transformer, post-norm, as in the 2017 paper
# =====================================================================================================
def _residual_sublayer(
    canvas: Canvas,
    *,
    cx: float,
    entry_y: float,
    block_y: float,
    label: str,
    color: str,
    norm_y: float,
    side: int,
    inputs: Sequence[float] = (0.0,),
    width: float = 190,
) -> tuple[Box, Box]:
    """One sublayer with its residual path and its Add & Norm box; ``side`` -1 = residual on the left."""
    block = canvas.box(cx - width / 2, block_y, width, 58, label, color, fontsize=10.5)
    norm = canvas.box(cx - width / 2, norm_y, width, 34, "Add & Norm", COLORS["norm"], fontsize=10.5)
    split_y = entry_y + 16
    canvas.arrow((cx, entry_y), (cx, split_y), head=False)
    canvas.dot(cx, split_y)
    for offset in inputs:
        points = [(cx, split_y)]
        if offset:
            points.append((cx + offset, split_y))
        points.append((cx + offset, block.bottom - 2))
        canvas.arrow(*points)
    canvas.arrow((cx, block.top), (cx, norm.bottom - 2))
    rail = cx + side * (width / 2 + 22)
    edge = norm.left if side < 0 else norm.right
    canvas.arrow((cx, split_y), (rail, split_y), (rail, norm.cy), (edge + side * 2, norm.cy))
    return block, norm


def draw_transformer() -> Canvas:
    canvas = Canvas(1100, 1080)
    canvas.text(
        550, 1052, "Transformer (Vaswani et al., 2017), post-norm, as built in notebook 05", fontsize=14, weight="bold"
    )
    canvas.text(550, 1022, r"every sublayer: $x \leftarrow \mathrm{LayerNorm}(x + \mathrm{Sublayer}(x))$", fontsize=12)
    enc_x, dec_x = 330, 740
    three = (-45.0, 0.0, 45.0)  # Q, K, V: three copies of the same input

    # --- inputs, embeddings, positional encoding --------------------------------------------------------
    for cx, name, tokens in [
        (enc_x, "Input", "inputs (source tokens)"),
        (dec_x, "Output", "outputs, shifted right (target tokens)"),
    ]:
        canvas.text(cx, 32, tokens, fontsize=10.5)
        embed = canvas.box(
            cx - 95,
            62,
            190,
            54,
            f"{name} embedding\n" + r"$\times \sqrt{d_{model}}$",
            COLORS["embedding"],
            fontsize=10.5,
        )
        canvas.arrow((cx, 44), (cx, embed.bottom - 2))
        canvas.ax.add_patch(Circle((cx, 160), 13, facecolor="white", edgecolor=INK, linewidth=1.3, zorder=3))
        canvas.ax.text(cx, 160, "+", ha="center", va="center", fontsize=15, zorder=4)
        canvas.arrow((cx, embed.top), (cx, 147 - 2))
        side = -1 if cx == enc_x else 1
        wave_x = cx + side * 62
        t = np.linspace(-17, 17, 60)
        canvas.ax.add_patch(Circle((wave_x, 160), 20, facecolor="white", edgecolor=INK, linewidth=1.2, zorder=3))
        canvas.ax.plot(wave_x + t, 160 + 9 * np.sin(t / 17 * 2 * np.pi), color="#7b3fa0", linewidth=1.4, zorder=4)
        canvas.arrow((wave_x - side * 20, 160), (cx - side * 15, 160))
        anchor = "right" if side < 0 else "left"
        canvas.text(
            wave_x + side * 28, 160, "positional\nencoding\n(sinusoidal)", fontsize=10, ha=anchor, multialignment=anchor
        )

    # --- encoder layer: self-attention -> add & norm -> feed-forward -> add & norm ------------------------
    canvas.box(enc_x - 150, 196, 300, 398, "", COLORS["frame"], edge="#888888", radius=12, zorder=0.5)
    canvas.arrow((enc_x, 173), (enc_x, 206), head=False)
    _, norm1 = _residual_sublayer(
        canvas,
        cx=enc_x,
        entry_y=206,
        block_y=262,
        label="Multi-head\nself-attention",
        color=COLORS["attention"],
        norm_y=350,
        side=-1,
        inputs=three,
    )
    _, enc_out = _residual_sublayer(
        canvas,
        cx=enc_x,
        entry_y=norm1.top,
        block_y=440,
        label="Feed-forward",
        color=COLORS["feed_forward"],
        norm_y=528,
        side=-1,
    )
    canvas.text(enc_x - 197, 410, "N\u00d7", fontsize=16, weight="bold")
    canvas.text(enc_x - 197, 372, "encoder\nlayer", fontsize=10, color=MUTED)

    # --- decoder layer: masked self-attn -> A&N -> enc-dec attn -> A&N -> feed-forward -> A&N ---------------
    canvas.box(dec_x - 150, 196, 300, 644, "", COLORS["frame"], edge="#888888", radius=12, zorder=0.5)
    canvas.arrow((dec_x, 173), (dec_x, 206), head=False)
    masked, dec_norm1 = _residual_sublayer(
        canvas,
        cx=dec_x,
        entry_y=206,
        block_y=262,
        label="Masked multi-head\nself-attention",
        color=COLORS["attention"],
        norm_y=350,
        side=1,
        inputs=three,
    )
    cross, dec_norm2 = _residual_sublayer(
        canvas,
        cx=dec_x,
        entry_y=dec_norm1.top,
        block_y=496,
        label="Multi-head encoder-\ndecoder attention",
        color=COLORS["attention"],
        norm_y=584,
        side=1,
        inputs=(45.0,),
    )
    _, dec_out = _residual_sublayer(
        canvas,
        cx=dec_x,
        entry_y=dec_norm2.top,
        block_y=688,
        label="Feed-forward",
        color=COLORS["feed_forward"],
        norm_y=776,
        side=1,
    )
    canvas.text(dec_x + 197, 530, "N\u00d7", fontsize=16, weight="bold")
    canvas.text(dec_x + 197, 492, "decoder\nlayer", fontsize=10, color=MUTED)
    canvas.text(dec_x + 45 + 7, cross.bottom - 22, "Q", fontsize=10.5, ha="left", weight="bold")

    # the causal mask as a small picture beside the masked attention
    mask_cells = [["#555555" if j > i else "#fde2bf" for j in range(4)] for i in range(4)]
    canvas.cells(
        masked.left - 118, masked.top, np.zeros((4, 4)), cell_w=12, cell_h=12, colors=mask_cells, edge="#888888"
    )
    canvas.text(masked.left - 94, masked.bottom - 8, "causal\nmask", fontsize=9.5, color=MUTED)
    canvas.arrow(
        (masked.left - 66, masked.top - 24),
        (masked.left - 2, masked.top - 24),
        head=False,
        linestyle=(0, (2, 2)),
        color=MUTED,
        linewidth=1,
    )

    # encoder output -> keys and values of every decoder layer's encoder-decoder attention
    route_y, turn_x, feed_y = 626, 545, 450
    canvas.arrow((enc_x, enc_out.top), (enc_x, route_y), (turn_x, route_y), (turn_x, feed_y), head=False, linewidth=1.8)
    canvas.arrow((turn_x, feed_y), (dec_x - 45, feed_y), (dec_x - 45, cross.bottom - 2), linewidth=1.8)
    canvas.dot(dec_x - 90, feed_y)
    canvas.arrow((dec_x - 90, feed_y), (dec_x - 90, cross.bottom - 2), linewidth=1.8)
    canvas.text(dec_x - 90 - 7, cross.bottom - 22, "K", fontsize=10.5, ha="right", weight="bold")
    canvas.text(dec_x - 45 + 7, cross.bottom - 22, "V", fontsize=10.5, ha="left", weight="bold")
    canvas.text(enc_x + 20, route_y + 16, "encoder output (from its last layer)", fontsize=10, color=MUTED)

    # --- output head -----------------------------------------------------------------------------------
    linear = canvas.box(dec_x - 95, 876, 190, 40, "Linear", COLORS["linear"], fontsize=11)
    softmax = canvas.box(dec_x - 95, 944, 190, 40, "Softmax", COLORS["softmax"], fontsize=11)
    canvas.arrow((dec_x, dec_out.top), (dec_x, linear.bottom - 2))
    canvas.arrow((dec_x, linear.top), (dec_x, softmax.bottom - 2))
    canvas.text(dec_x + 112, softmax.cy, "output probabilities", fontsize=10.5, ha="left")
    canvas.text(dec_x + 112, linear.cy, "next-token logits", fontsize=10.5, ha="left", color=MUTED)

    # --- what to read off the picture ----------------------------------------------------------------------
    canvas.text(enc_x - 10, 940, "Encoder: every source position\nattends to every source position.", fontsize=10.5)
    canvas.text(
        enc_x - 10,
        868,
        "Decoder: position t attends to target\npositions up to t (masked), then\nto the encoder output.",
        fontsize=10.5,
    )
    canvas.text(
        enc_x - 10,
        786,
        "paper: N = 6, d_model = 512, 8 heads;\nnotebook 05 trains a smaller model",
        fontsize=10.5,
        color=MUTED,
    )
    return canvas


FIGURES: dict[str, Callable[[], Canvas]] = {
    "word_embeddings.png": draw_word_embeddings,
    "text_cnn.png": draw_text_cnn,
    "gan.png": draw_gan,
    "self_attention.png": draw_self_attention,
    "transformer.png": draw_transformer,
}


def write_figures(directory: Path, *, names: Sequence[str] | None = None, draft: bool = False) -> list[Path]:
    """Draw every figure (or those in ``names``) into ``directory``; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    with matplotlib.rc_context():
        matplotlib.rcdefaults()  # independent of the caller's style (a notebook's, a matplotlibrc)
        matplotlib.rcParams.update(STYLE)
        for name, draw in FIGURES.items():
            if names is not None and name not in names:
                continue
            path = directory / name
            draw().save(path, draft=draft)
            written.append(path)
    return written


def read_pixels(path: Path) -> np.ndarray:
    """Decoded RGBA pixels of a PNG, as floats in [0, 1]."""
    import matplotlib.image

    return matplotlib.image.imread(path, format="png")


def differences(directory: Path, reference: Path = FIGURE_DIR) -> list[str]:
    """What differs between the PNGs in ``directory`` and those in ``reference`` (empty = identical pixels)."""
    found = []
    for name in FIGURES:
        ours, theirs = directory / name, reference / name
        if not theirs.exists():
            found.append(f"{name}: missing from {reference}")
            continue
        a, b = read_pixels(ours), read_pixels(theirs)
        if a.shape != b.shape:
            found.append(f"{name}: size {b.shape[1]}x{b.shape[0]} committed, {a.shape[1]}x{a.shape[0]} drawn")
            continue
        changed = int(np.any(a != b, axis=-1).sum())
        if changed:
            found.append(f"{name}: {changed} pixels differ (max difference {float(np.abs(a - b).max()):.3f})")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare freshly drawn figures with the committed ones")
    parser.add_argument("--out", type=Path, default=FIGURE_DIR, help="where to write the PNGs")
    parser.add_argument("--draft", action="store_true", help="save even if a layout check fails (while editing)")
    args = parser.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory() as scratch:
            write_figures(Path(scratch))
            found = differences(Path(scratch), args.out)
        for line in found:
            print(line)
        if found:
            print("figures differ from the code that draws them: run `make figures`", file=sys.stderr)
            return 1
        print(f"all {len(FIGURES)} figures match the code")
        return 0
    for path in write_figures(args.out, draft=args.draft):
        print(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
