"""PNG charts for Telegram, drawn with matplotlib's Agg backend (no display, no pyplot state).

Each function returns PNG bytes of a fixed pixel size. Rendering takes a
noticeable fraction of a second, so handlers call these through
``asyncio.to_thread``. Labels arrive already translated. matplotlib is
imported with the first chart, not at start-up (about 1.4 s and 55 MB).
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DPI = 100
EQUITY_SIZE = (1200, 800)
ALLOCATION_SIZE = (1000, 600)
HEATMAP_SIZE = (900, 800)
LOSS_COLOR = "#c0392b"
LINE_COLOR = "#1f6fb2"


def _figure(size: tuple[int, int]) -> Figure:
    from matplotlib.figure import Figure

    width, height = size
    return Figure(figsize=(width / DPI, height / DPI), dpi=DPI)


def _png(figure: Figure) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    buffer = io.BytesIO()
    FigureCanvasAgg(figure)
    # No bbox_inches="tight": it would change the pixel size.
    figure.savefig(buffer, format="png", dpi=DPI)
    return buffer.getvalue()


def equity_chart(
    timestamps: Sequence[datetime], equity: Sequence[float], drawdown: Sequence[float], labels: dict[str, str]
) -> bytes:
    """Equity curve above its drawdown (in %), sharing the time axis.

    ``labels`` holds ``title``, ``equity`` and ``drawdown``.
    """
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    figure = _figure(EQUITY_SIZE)
    grid = figure.add_gridspec(2, 1, height_ratios=(3, 1.3), hspace=0.08)
    top = figure.add_subplot(grid[0])
    bottom = figure.add_subplot(grid[1], sharex=top)

    top.plot(timestamps, equity, color=LINE_COLOR, linewidth=1.6)
    top.set_title(labels["title"])
    top.set_ylabel(labels["equity"])
    top.grid(alpha=0.3)
    top.tick_params(labelbottom=False)

    percent = np.asarray(drawdown, dtype=float) * 100
    bottom.fill_between(timestamps, percent, 0, color=LOSS_COLOR, alpha=0.35, step=None)
    bottom.plot(timestamps, percent, color=LOSS_COLOR, linewidth=1.0)
    bottom.set_ylabel(labels["drawdown"])
    bottom.grid(alpha=0.3)
    locator = AutoDateLocator()
    bottom.xaxis.set_major_locator(locator)
    bottom.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    figure.subplots_adjust(left=0.09, right=0.97, top=0.93, bottom=0.08)
    return _png(figure)


def allocation_chart(assets: Sequence[str], weights: Sequence[float], title: str) -> bytes:
    """Horizontal bars of each holding's share of equity, in %, largest on top."""
    figure = _figure(ALLOCATION_SIZE)
    axes = figure.add_subplot()
    order = np.argsort(np.asarray(weights, dtype=float))
    names = [assets[i] for i in order]
    values = np.asarray(weights, dtype=float)[order] * 100
    bars = axes.barh(names, values, color=LINE_COLOR)
    axes.bar_label(bars, labels=[f"{v:.1f} %" for v in values], padding=3)
    axes.set_title(title)
    axes.set_xlim(0, max(100.0, float(values.max()) * 1.15) if values.size else 100.0)
    axes.grid(axis="x", alpha=0.3)
    figure.subplots_adjust(left=0.15, right=0.95, top=0.9, bottom=0.08)
    return _png(figure)


def correlation_heatmap(assets: Sequence[str], matrix: np.ndarray, title: str) -> bytes:
    """Correlation matrix as a red-blue heat map from -1 to 1, with each value printed."""
    figure = _figure(HEATMAP_SIZE)
    axes = figure.add_subplot()
    shown = np.ma.masked_invalid(np.asarray(matrix, dtype=float))
    image = axes.imshow(shown, cmap="RdBu_r", vmin=-1, vmax=1)
    axes.set_xticks(range(len(assets)), labels=list(assets), rotation=45, ha="right")
    axes.set_yticks(range(len(assets)), labels=list(assets))
    for row in range(len(assets)):
        for column in range(len(assets)):
            value = matrix[row, column]
            text = "—" if not np.isfinite(value) else f"{value:.2f}"
            color = "white" if np.isfinite(value) and abs(value) > 0.6 else "black"
            axes.text(column, row, text, ha="center", va="center", fontsize=9, color=color)
    figure.colorbar(image, ax=axes, fraction=0.046, pad=0.04)
    axes.set_title(title)
    figure.subplots_adjust(left=0.1, right=0.86, top=0.92, bottom=0.12)
    return _png(figure)
