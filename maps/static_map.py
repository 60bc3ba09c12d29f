"""A static herd-count map (matplotlib) for PDF and printed reports: the same cells, one image.

Drawn in EPSG:3576 metres, so equal-area cells stay equal squares on paper. No pyplot: a
bare Figure is safe in worker threads and needs no display.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PatchCollection
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from shapely.geometry import shape

from data.records import HerdCount
from geo.coords import to_equal_area
from geo.grid import parse_cell_key


def herd_count_figure(
    counts: Sequence[HerdCount], *, cell_size_m: float, period: str | None = None,
    boundaries: dict[str, Any] | None = None, title: str = "", width_in: float = 7.0,
) -> Figure:  # fmt: skip
    """Animals per cell (all populations, one period or all) as a choropleth of squares."""
    per_cell: dict[str, int] = defaultdict(int)
    for c in counts:
        if period is None or c.period == period:
            per_cell[c.key] += c.animals
    fig = Figure(figsize=(width_in, width_in * 0.8))
    ax = fig.add_subplot()
    if boundaries:
        _draw_boundaries(ax, boundaries)
    if per_cell:
        _draw_cells(fig, ax, per_cell, cell_size_m)
    ax.set_aspect("equal")
    ax.set_axis_off()
    km = cell_size_m / 1000
    ax.set_title(title or f"Animals in raw sightings per {km:g} km cell"
                 + (f", {period}" if period else ""), fontsize=10)  # fmt: skip
    return fig


def herd_count_png(counts: Sequence[HerdCount], *, dpi: int = 150, **options: Any) -> bytes:
    """The figure as PNG bytes."""
    fig = herd_count_figure(counts, **options)
    buffer = io.BytesIO()
    FigureCanvasAgg(fig)  # attaches itself: savefig needs a canvas, pyplot is not used
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def _draw_cells(fig: Figure, ax: Any, per_cell: dict[str, int], size: float) -> None:
    squares, values = [], []
    for key, animals in per_cell.items():
        ix, iy = parse_cell_key(key)
        squares.append(Rectangle((ix * size, iy * size), size, size))
        values.append(max(animals, 1))
    cells = PatchCollection(squares, cmap="viridis", norm=LogNorm(vmin=1, vmax=max(values)),
                            edgecolor="none", alpha=0.85)  # fmt: skip
    cells.set_array(np.asarray(values, dtype=float))
    ax.add_collection(cells)
    xs = [r.get_x() for r in squares]
    ys = [r.get_y() for r in squares]
    pad = 3 * size
    ax.set_xlim(min(xs) - pad, max(xs) + size + pad)
    ax.set_ylim(min(ys) - pad, max(ys) + size + pad)
    fig.colorbar(cells, ax=ax, shrink=0.7, label="animals (log scale)")


def _draw_boundaries(ax: Any, boundaries: dict[str, Any]) -> None:
    for feature in boundaries.get("features", []):
        sakha = feature["properties"].get("shapeName") == "Sakha Republic"
        geometry = shape(feature["geometry"]).simplify(0.02)
        polygons = getattr(geometry, "geoms", [geometry])
        for polygon in polygons:
            lons, lats = polygon.exterior.xy
            xs, ys = to_equal_area(np.asarray(lons), np.asarray(lats))
            ax.plot(xs, ys, color="#333" if sakha else "#aaa", linewidth=1.2 if sakha else 0.5)
