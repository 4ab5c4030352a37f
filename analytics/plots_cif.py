"""Stacked cumulative-incidence figure (Aalen-Johansen), in the style of analytics.plots.

The causes are stacked from the bottom (cause 1, then 1 + 2, ...), so the height of each band
at a time is that cause's cumulative incidence and the white space above is the probability of
being alive without any event.  Okabe-Ito colours plus hatching (greyscale printing), a
number-at-risk row, and a caption naming the estimator and what the bands are.  Deterministic
bytes as analytics.plots; the SVG scales to its container (``width="100%"`` and a viewBox).
"""

from __future__ import annotations

import io
import re
import textwrap
from collections.abc import Mapping
from typing import Any

import matplotlib as mpl
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .plots import _METADATA, FORMATS, OKABE_ITO, STYLE, _default_ticks

__all__ = ["render_cif_figure"]

HATCHES = ("", "//", "..", "xx", "\\\\")
CAPTION = (
    "Stacked cumulative incidence (Aalen-Johansen estimator; competing events not censored): "
    "the height of each band is the probability of that first event by that time; the space "
    "above is the probability of being alive and event-free."
)


def render_cif_figure(curves: Mapping[str, Any], *, title: str, format: str = "svg") -> bytes:  # noqa: A002
    """``curves``: :meth:`analytics.competing_risks.CumulativeIncidence.to_dict` plus a
    ``labels`` map {cause: label}."""
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    times = np.concatenate([[0.0], np.asarray(curves["times"], dtype=float)])
    causes = [str(c) for c in curves["causes"]]
    ticks = _default_ticks(float(times[-1]))
    with mpl.rc_context():
        mpl.rcdefaults()
        mpl.rcParams.update(STYLE)
        fig = Figure(figsize=(6.5, 4.8), layout="constrained")
        grid = fig.add_gridspec(3, 1, height_ratios=[3.9, 0.45, 0.5])
        ax = fig.add_subplot(grid[0])
        bottom = np.zeros(times.size)
        for i, cause in enumerate(causes):
            top = bottom + np.concatenate([[0.0], curves["estimate"][cause]])
            label = f"{curves['labels'].get(cause, cause)} ({curves['events'].get(cause, 0)})"
            ax.fill_between(
                times,
                bottom,
                top,
                step="post",
                color=OKABE_ITO[i % len(OKABE_ITO)],
                alpha=0.75,
                hatch=HATCHES[i % len(HATCHES)],
                linewidth=0,
                label=label,
            )
            ax.step(times, top, where="post", color="black", linewidth=0.6)
            bottom = top
        ax.set_title(title, loc="left", fontweight="bold")
        ax.set_ylim(0, 1.0)
        ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
        ax.set_ylabel("Cumulative incidence")
        ax.set_xlim(0, max(ticks[-1], times[-1]) * 1.02)
        ax.set_xticks(ticks)
        ax.set_xticklabels([f"{t:g}" for t in ticks])
        ax.set_xlabel("Months from surgery")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
        ax.legend(loc="upper left", frameon=False, title="First event (n)")
        table = fig.add_subplot(grid[1], sharex=ax)
        table.axis("off")
        table.set_title("Number at risk", loc="left", fontsize=8, fontweight="bold")
        grid_times = np.asarray(curves["times"], dtype=float)
        for t in ticks:
            idx = int(np.searchsorted(grid_times, t, side="left"))
            n = curves["n_risk"][idx] if idx < grid_times.size else 0
            table.text(t, 0.3, str(n), ha="center", va="center", fontsize=8)
        caption = fig.add_subplot(grid[2])
        caption.axis("off")
        caption.text(
            0,
            1,
            textwrap.fill(CAPTION, 100),
            ha="left",
            va="top",
            fontsize=7,
            color="#333333",
            transform=caption.transAxes,
        )
        buf = io.BytesIO()
        FigureCanvasAgg(fig)
        fig.savefig(buf, format=format, dpi=300, metadata=_METADATA[format])
    data = buf.getvalue()
    if format == "svg":
        data = re.sub(
            rb'<svg([^>]*?) width="[^"]*" height="[^"]*"', rb'<svg\1 width="100%"', data, count=1
        )
    return data
