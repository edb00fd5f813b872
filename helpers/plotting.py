"""One plotting style for every notebook: matplotlib, PNG output, the same sizes and fonts.

Every plot names its axes; epoch axes have integer ticks; heatmaps have a colour bar; labels do not
overlap (:func:`labels_overlap` checks it, :func:`plot_word_groups` spreads its word labels apart);
image grids draw each picture at least 28 screen pixels wide.

PNG because nbval does not compare images (SVG embeds random ids and a date and would fail every
run). Plot cells end with ``plt.show()`` so that no ``<matplotlib...at 0x...>`` repr with a memory
address becomes part of the compared output.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.text import Annotation, Text
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Bbox

STYLE = {
    "figure.figsize": (6.4, 3.6),
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "font.size": 10,
    "image.cmap": "viridis",
    "svg.hashsalt": "helpers",  # in case someone saves SVG: no random ids
}


def use_style() -> None:
    """Apply the project style and make Jupyter's inline backend emit PNG only."""
    matplotlib.rcParams.update(STYLE)
    try:
        from matplotlib_inline.backend_inline import set_matplotlib_formats

        set_matplotlib_formats("png")
    except ImportError:  # plain Python, no Jupyter: nothing to configure
        pass


def _as_array(values: object) -> np.ndarray:
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def plot_curves(
    curves: Mapping[str, Sequence[float]],
    *,
    title: str = "",
    xlabel: str = "step",
    ylabel: str = "",
    ax: plt.Axes | None = None,
    smooth: int = 1,
) -> plt.Axes:
    """Line plot of named series (loss curves, accuracies); ``smooth`` > 1 applies a moving mean."""
    if ax is None:
        _, ax = plt.subplots()
    for name, values in curves.items():
        y = _as_array(values).astype(float)
        x = np.arange(1, len(y) + 1)
        if smooth > 1 and len(y) >= smooth:
            y = np.convolve(y, np.ones(smooth) / smooth, mode="valid")
            x = x[smooth - 1 :]
        ax.plot(x, y, label=name)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel or ("value" if len(curves) > 1 else next(iter(curves), "")))
    if xlabel in ("epoch", "step"):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    if len(curves) > 1:
        ax.legend()
    return ax


def heatmap(
    matrix: object,
    *,
    row_labels: Sequence[str] | None = None,
    column_labels: Sequence[str] | None = None,
    title: str = "",
    ax: plt.Axes | None = None,
    xlabel: str = "",
    ylabel: str = "",
    annotate: bool = False,
    colorbar: bool = True,
    colorbar_label: str = "",
    cmap: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
) -> plt.Axes:
    """A labelled matrix (attention weights, a confusion matrix, a score table); ``colorbar_label`` says what
    the colours measure (e.g. "attention weight")."""
    values = _as_array(matrix).astype(float)
    if values.ndim != 2:
        raise ValueError(f"heatmap needs a 2-D matrix, got shape {values.shape}")
    if ax is None:
        _, ax = plt.subplots()
    image = ax.imshow(values, cmap=cmap, vmin=vmin, vmax=vmax, aspect="auto")
    ax.grid(False)
    if row_labels is not None:
        ax.set_yticks(range(len(row_labels)), labels=list(row_labels))
    if column_labels is not None:
        longest = max((len(str(label)) for label in column_labels), default=0)
        rotation = 90 if len(column_labels) * max(longest, 1) > 40 else 0  # upright when they fit side by side
        ax.set_xticks(range(len(column_labels)), labels=list(column_labels), rotation=rotation)
    if annotate:
        middle = (np.nanmax(values) + np.nanmin(values)) / 2
        for (i, j), value in np.ndenumerate(values):
            color = "white" if value < middle else "black"
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8, color=color)
    if colorbar:
        ax.figure.colorbar(image, ax=ax, label=colorbar_label)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    return ax


def image_grid(
    images: object,
    *,
    columns: int = 10,
    title: str = "",
    pixels_per_image: int = 56,
    row_labels: Sequence[str] | None = None,
) -> plt.Figure:
    """Show a batch of grey images (N, H, W) as a grid, each drawn ``pixels_per_image`` screen pixels wide;
    ``row_labels`` (one per row) are written left of the rows, so that a reader need not decode the title."""
    pictures = _as_array(images)
    if pictures.ndim != 3:
        raise ValueError(f"image_grid needs images of shape (count, height, width), got {pictures.shape}")
    rows = int(np.ceil(len(pictures) / columns))
    if row_labels is not None and len(row_labels) != rows:
        raise ValueError(f"row_labels has {len(row_labels)} labels for {rows} rows of {columns} images")
    inches = pixels_per_image / plt.rcParams["figure.dpi"]
    label_inches = 0.0 if row_labels is None else 0.08 * max(len(label) for label in row_labels) + 0.2
    width = columns * inches + label_inches
    figure, axes = plt.subplots(
        rows,
        columns,
        figsize=(width, rows * inches + (0.3 if title else 0)),
        squeeze=False,
        gridspec_kw={"wspace": 0.05, "hspace": 0.05, **({"left": label_inches / width} if row_labels else {})},
    )
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < len(pictures):
            ax.imshow(pictures[index], cmap="gray_r")
    for ax, label in zip(axes[:, 0], row_labels or [], strict=False):
        ax.text(-0.1, 0.5, label, transform=ax.transAxes, ha="right", va="center", fontsize=9)
    if title:
        figure.suptitle(title)
    return figure


def pca_2d(vectors: torch.Tensor) -> torch.Tensor:
    """``(n, d)`` -> ``(n, 2)``: coordinates on the two directions of largest variance (PCA by SVD)."""
    if not isinstance(vectors, torch.Tensor) or vectors.ndim != 2:
        raise ValueError(f"pca_2d needs a (n, dimension) tensor, got {getattr(vectors, 'shape', type(vectors))}")
    centred = vectors.double() - vectors.double().mean(dim=0)
    _, _, right = torch.linalg.svd(centred, full_matrices=False)  # rows of `right`: principal directions
    coordinates = centred @ right[:2].T  # (n, 2)
    # An SVD may flip a direction's sign; fix it so the picture is the same on every machine.
    signs = torch.sign(coordinates[coordinates.abs().argmax(dim=0), torch.arange(2)])
    return (coordinates * signs).float()


def _text_box(text: plt.Text, renderer: object) -> Bbox:
    """The label's own box: an annotation's extent would include its arrow, which is redrawn only at the next
    draw (so a stale arrow would make every box look large while labels are being moved)."""
    if isinstance(text, Annotation):
        text.update_positions(renderer)
    return Text.get_window_extent(text, renderer).expanded(1.05, 1.15)


def _boxes(texts: Sequence[plt.Text]) -> list:
    renderer = texts[0].figure.canvas.get_renderer()
    return [_text_box(text, renderer) for text in texts]


def labels_overlap(texts: Sequence[plt.Text]) -> int:
    """How many pairs of the given text labels overlap on the drawn figure (0 is readable)."""
    if not texts:
        return 0
    boxes = _boxes(texts)
    return sum(boxes[i].overlaps(boxes[j]) for i in range(len(boxes)) for j in range(i + 1, len(boxes)))


def place_labels(
    texts: Sequence[plt.Annotation],
    points: Sequence[tuple[float, float]],
    point_radius: float = 4.0,
    farthest: int = 100,
) -> None:
    """Move each label (an annotation of ``points[i]``) to the nearest offset, up to ``farthest`` screen points
    away, where it covers no label placed before it and no point but its own. Greedy and deterministic: the
    same figure always gets the same layout; a label with no free place within reach takes the place that covers
    the fewest labels, then the fewest points."""
    if not texts:
        return
    ax = texts[0].axes
    renderer = ax.figure.canvas.get_renderer()
    radius = point_radius * ax.figure.dpi / 72  # screen points -> pixels
    markers = [
        Bbox.from_extents(x - radius, y - radius, x + radius, y + radius)
        for x, y in ax.transData.transform(np.asarray(points, dtype=float))
    ]
    offsets = [
        (dx * distance, dy * distance)
        for distance in range(4, farthest + 1, 4)
        for dx, dy in ((1, 1), (1, -1), (-1, 1), (-1, -1), (1, 0), (-1, 0), (0, 1), (0, -1))
    ]
    placed: list[Bbox] = []
    for index, text in enumerate(texts):
        best = None  # (labels covered, points covered, try): the first place that covers nothing, else the least
        for order, (dx, dy) in enumerate(offsets):
            _move(text, dx, dy)
            box = _text_box(text, renderer)
            labels = sum(box.overlaps(other) for other in placed)
            points_covered = sum(box.overlaps(marker) for k, marker in enumerate(markers) if k != index)
            if best is None or (labels, points_covered, order) < best[:3]:
                best = (labels, points_covered, order, dx, dy, box)
            if labels == points_covered == 0:
                break
        _move(text, *best[3:5])
        placed.append(best[5])


def _move(text: plt.Annotation, dx: float, dy: float) -> None:
    """Put the label ``(dx, dy)`` points from its point, on the side the offset points to."""
    text.xyann = (dx, dy)
    text.set_horizontalalignment("right" if dx < 0 else "left" if dx > 0 else "center")
    text.set_verticalalignment("top" if dy < 0 else "bottom" if dy > 0 else "center")


def plot_word_groups(
    vector_of: Callable[[str], torch.Tensor], groups: Mapping[str, Sequence[str]], title: str = ""
) -> plt.Axes:
    """Scatter the PCA projection of a few groups of words, one colour per group, each word labelled.

    ``vector_of`` maps a word to its vector (e.g. ``WordVectors.vector``).
    """
    words = [word for members in groups.values() for word in members]
    points = pca_2d(torch.stack([vector_of(word) for word in words]))
    _, ax = plt.subplots(figsize=(8, 6))
    labels, start = [], 0
    for name, members in groups.items():
        chunk = points[start : start + len(members)]
        ax.scatter(chunk[:, 0], chunk[:, 1], label=name)
        for word, (x, y) in zip(members, chunk.tolist()):
            labels.append(
                ax.annotate(
                    word,
                    (x, y),
                    fontsize=9,
                    xytext=(4, 4),
                    textcoords="offset points",
                    arrowprops={"arrowstyle": "-", "color": "grey", "lw": 0.5, "shrinkA": 0, "shrinkB": 3},
                )
            )
        start += len(members)
    ax.set(title=title, xlabel="principal component 1", ylabel="principal component 2")
    ax.legend(loc="best")
    ax.figure.canvas.draw()
    place_labels(labels, points.tolist())
    ax.labels = labels  # for labels_overlap(ax.labels)
    return ax
