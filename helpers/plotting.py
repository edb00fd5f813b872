"""One plotting style for every notebook: matplotlib, PNG output, the same sizes and fonts.

PNG because nbval does not compare images (SVG embeds random ids and a date and would fail every
run). Plot cells end with ``plt.show()`` so that no ``<matplotlib...at 0x...>`` repr with a memory
address becomes part of the compared output.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import torch

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
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
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
    annotate: bool = False,
    colorbar: bool = True,
    cmap: str | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
) -> plt.Axes:
    """A labelled matrix (attention weights, a confusion matrix, a score table)."""
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
        ax.set_xticks(range(len(column_labels)), labels=list(column_labels), rotation=90)
    if annotate:
        middle = (np.nanmax(values) + np.nanmin(values)) / 2
        for (i, j), value in np.ndenumerate(values):
            color = "white" if value < middle else "black"
            ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=8, color=color)
    if colorbar:
        ax.figure.colorbar(image, ax=ax)
    ax.set_title(title)
    return ax


def image_grid(images: object, *, columns: int = 10, title: str = "", scale: float = 0.6) -> plt.Figure:
    """Show a batch of grey images (N, H, W) as a grid, e.g. generated digits."""
    pictures = _as_array(images)
    if pictures.ndim != 3:
        raise ValueError(f"image_grid needs images of shape (count, height, width), got {pictures.shape}")
    rows = int(np.ceil(len(pictures) / columns))
    figure, axes = plt.subplots(rows, columns, figsize=(columns * scale, rows * scale), squeeze=False)
    for index, ax in enumerate(axes.flat):
        ax.axis("off")
        if index < len(pictures):
            ax.imshow(pictures[index], cmap="gray_r")
    if title:
        figure.suptitle(title)
    return figure
