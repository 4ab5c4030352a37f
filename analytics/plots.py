"""Publication-ready Kaplan-Meier figures (matplotlib, Agg; no pyplot global state).

``render_km_figure`` draws step curves with shaded pointwise CI bands, censoring tick marks,
a legend, a number-at-risk table aligned to the x ticks, and a caption naming the CI method.
Colours are the Okabe-Ito colour-blind-safe palette, paired with distinct line styles so the
figure also survives greyscale printing.  Output is deterministic: the same input gives the
same bytes (SVG hash salt fixed, no dates in SVG / PDF metadata, matplotlib defaults reset
for the duration of the call so a local matplotlibrc cannot leak in).  SVG keeps text as text
(``svg.fonttype = 'none'``).
"""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
from django.utils.translation import gettext
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from analytics.survival import KaplanMeierResult

__all__ = ["FORMATS", "OKABE_ITO", "render_km_figure"]

FORMATS = ("svg", "png", "pdf")

#: Okabe & Ito (2008) colour-blind-safe palette (yellow left out: too light for lines).
OKABE_ITO = (
    "#0072B2",  # blue
    "#D55E00",  # vermillion
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#E69F00",  # orange
    "#56B4E9",  # sky blue
    "#000000",  # black
)
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)), (0, (1, 1)), (0, (8, 2)))

STYLE = {
    "font.family": "sans-serif",
    # DejaVu Sans ships with matplotlib (rasters are identical everywhere); SVG text falls back
    # to the viewer's Helvetica / Arial.
    "font.sans-serif": ["DejaVu Sans", "Helvetica", "Arial", "Liberation Sans"],
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "legend.fontsize": 8,
    "axes.linewidth": 0.8,
    "xtick.major.width": 0.8,
    "ytick.major.width": 0.8,
    "xtick.direction": "out",
    "ytick.direction": "out",
    "svg.fonttype": "none",
    "svg.hashsalt": "gi-lms-km",
    "pdf.fonttype": 42,
    "path.simplify": False,
}

_METADATA = {
    "svg": {"Date": None},
    "pdf": {"CreationDate": None, "ModDate": None},
    "png": {},
}


def _nan(values: Sequence[float | None]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _forward_fill(a: np.ndarray) -> np.ndarray:
    idx = np.where(np.isnan(a), 0, np.arange(a.size))
    return a[np.maximum.accumulate(idx)]


def _default_ticks(max_time: float) -> list[float]:
    """Every 12 months (24, 36, 60 ... for long follow-up) from 0 past the last time."""
    step = 12.0
    for step in (6.0, 12.0, 24.0, 36.0, 60.0, 120.0):
        if max_time / step <= 8:
            break
    return [step * i for i in range(int(math.ceil(max_time / step)) + 1)]


def _ci_caption(curves: Sequence[tuple[str, KaplanMeierResult]]) -> str:
    methods = sorted({km.ci_method for _, km in curves})
    levels = sorted({round(100 * (1 - km.alpha), 1) for _, km in curves})
    level = "/".join(f"{lv:g}%" for lv in levels)
    method = gettext(" and ").join(
        gettext("%(method)s transformation") % {"method": m} for m in methods
    )
    return gettext(
        "Shaded bands: pointwise %(level)s confidence intervals (%(method)s, Greenwood "
        "variance). Vertical ticks: censored observations. Kaplan-Meier estimates."
    ) % {"level": level, "method": method}


def render_km_figure(
    curves: Sequence[tuple[str, KaplanMeierResult]],
    *,
    title: str,
    xlabel: str | None = None,
    at_risk_times: Sequence[float] | None = None,
    format: str = "svg",  # noqa: A002 - public API name
    dpi: int = 300,
    ylabel: str | None = None,
    show_ci: bool = True,
) -> bytes:
    """Render Kaplan-Meier curves to SVG, PNG or PDF bytes.

    ``curves``: (label, result) pairs, drawn in order with the Okabe-Ito palette.
    ``at_risk_times``: x ticks and columns of the number-at-risk table (default: every 12
    months, coarser for long follow-up, up to the last observed time). Axis labels and the
    caption are in the active language (English "Months" and "Survival probability" by default).
    """
    xlabel = gettext("Months") if xlabel is None else xlabel
    ylabel = gettext("Survival probability") if ylabel is None else ylabel
    if format not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {format!r}")
    if not curves:
        raise ValueError("at least one curve is needed")
    if dpi <= 0:
        raise ValueError("dpi must be positive")
    max_time = max(km.times[-1] for _, km in curves)
    ticks = [float(t) for t in (at_risk_times or _default_ticks(max_time))]
    if sorted(ticks) != ticks or ticks[0] < 0:
        raise ValueError("at_risk_times must be increasing and >= 0")

    with mpl.rc_context():
        mpl.rcdefaults()
        mpl.rcParams.update(STYLE)
        fig = _draw(curves, ticks, title, xlabel, ylabel, show_ci, max_time)
        buf = io.BytesIO()
        FigureCanvasAgg(fig)
        fig.savefig(buf, format=format, dpi=dpi, metadata=_METADATA[format])
    return buf.getvalue()


def _draw(
    curves: Sequence[tuple[str, KaplanMeierResult]],
    ticks: list[float],
    title: str,
    xlabel: str,
    ylabel: str,
    show_ci: bool,
    max_time: float,
) -> Figure:
    n_curves = len(curves)
    table_h = 0.35 + 0.2 * n_curves
    fig = Figure(figsize=(6.5, 3.9 + table_h + 0.45), layout="constrained")
    grid = fig.add_gridspec(3, 1, height_ratios=[3.9, table_h, 0.45])
    ax = fig.add_subplot(grid[0])
    table = fig.add_subplot(grid[1], sharex=ax)
    caption = fig.add_subplot(grid[2])

    right = max(ticks[-1], max_time)
    for i, (label, km) in enumerate(curves):
        color = OKABE_ITO[i % len(OKABE_ITO)]
        style = LINESTYLES[i % len(LINESTYLES)]
        x = np.concatenate([[0.0], km.times])
        s = np.concatenate([[1.0], km.survival])
        if show_ci:
            lo = np.concatenate([[1.0], _nan(km.ci_lower)])
            hi = np.concatenate([[1.0], _nan(km.ci_upper)])
            at_one = s == 1.0  # R's log-log CI is NA where S = 1: the band is degenerate there
            lo[at_one & np.isnan(lo)] = 1.0
            hi[at_one & np.isnan(hi)] = 1.0
            # NA where S = 0 (only ever the last time): carry the previous band up to the drop
            lo, hi = _forward_fill(lo), _forward_fill(hi)
            ax.fill_between(x, lo, hi, step="post", color=color, alpha=0.15, linewidth=0)
        ax.step(x, s, where="post", color=color, linestyle=style, linewidth=1.4, label=label)
        cens = np.asarray(km.censor_times)
        if cens.size:
            ax.plot(
                cens,
                [km.survival_at_time(t) for t in cens],
                linestyle="none",
                marker="|",
                markersize=6,
                markeredgewidth=1.0,
                color=color,
            )

    ax.set_title(title, loc="left", fontweight="bold")
    ax.set_ylim(0, 1.02)
    ax.set_yticks([0, 0.2, 0.4, 0.6, 0.8, 1.0])
    ax.set_ylabel(ylabel)
    ax.set_xlim(0, right * 1.02)
    ax.set_xticks(ticks)
    ax.set_xticklabels([f"{t:g}" for t in ticks])
    ax.set_xlabel(xlabel)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.legend(loc="best", frameon=False, handlelength=2.6)

    # Number-at-risk table: one row per curve, one column per x tick (shared x axis).
    table.set_ylim(n_curves - 0.5, -0.5)
    table.set_yticks(range(n_curves))
    table.set_yticklabels([label for label, _ in curves])
    for i, tick_label in enumerate(table.get_yticklabels()):
        tick_label.set_color(OKABE_ITO[i % len(OKABE_ITO)])
    table.tick_params(axis="both", length=0)
    table.tick_params(axis="y", pad=14)
    table.tick_params(axis="x", labelbottom=False)
    for spine in table.spines.values():
        spine.set_visible(False)
    table.set_title(gettext("Number at risk"), loc="left", fontsize=8, fontweight="bold")
    for i, (_, km) in enumerate(curves):
        for t in ticks:
            table.text(t, i, str(km.n_at_risk(t)), ha="center", va="center", fontsize=8)

    caption.axis("off")
    caption.text(
        0,
        1,
        textwrap.fill(_ci_caption(curves), 100),
        ha="left",
        va="top",
        fontsize=7,
        color="#333333",
        transform=caption.transAxes,
    )
    return fig
