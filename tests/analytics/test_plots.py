"""analytics.plots: KM figures render in every format, deterministically, with text kept as text."""

from __future__ import annotations

import struct
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from analytics.plots import FORMATS, OKABE_ITO, render_km_figure
from analytics.survival import KaplanMeierResult, kaplan_meier

DATA = Path(__file__).resolve().parents[2] / "analytics" / "reference" / "datasets"
AT_RISK = [0, 24, 48, 72, 96, 120, 144, 168, 192]
MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-", "svg": b"<?xml"}


@pytest.fixture(scope="module")
def curves() -> list[tuple[str, KaplanMeierResult]]:
    d = pd.read_csv(DATA / "gi_lms.csv")
    t = d["os_days"] / 30.4375
    out = []
    for stage in ("localized", "metastatic"):
        m = d["stage"] == stage
        out.append((f"{stage.capitalize()} (n={m.sum()})", kaplan_meier(t[m], d["os_status"][m])))
    return out


def png_dpi(data: bytes) -> tuple[float, float]:
    """DPI from the PNG pHYs chunk (pixels per metre)."""
    pos = 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        if kind == b"pHYs":
            x, y, unit = struct.unpack(">IIB", data[pos + 8 : pos + 17])
            assert unit == 1  # metre
            return x * 0.0254, y * 0.0254
        pos += 12 + length
    raise AssertionError("no pHYs chunk")


def svg_texts(data: bytes) -> list[str]:
    root = ET.fromstring(data)  # noqa: S314 - our own SVG output
    return [el.text.strip() for el in root.iter("{http://www.w3.org/2000/svg}text") if el.text]


@pytest.mark.parametrize("fmt", FORMATS)
def test_each_format_renders(fmt: str, curves: list) -> None:
    data = render_km_figure(curves, title="Overall survival", at_risk_times=AT_RISK, format=fmt)
    assert data.startswith(MAGIC[fmt])
    assert len(data) > 5_000


def test_png_is_300_dpi(curves: list) -> None:
    data = render_km_figure(curves, title="OS", at_risk_times=AT_RISK, format="png")
    x, y = png_dpi(data)
    assert round(x) == 300 and round(y) == 300
    width, height = struct.unpack(">II", data[16:24])  # IHDR
    assert width >= 6 * 300 and height >= 5 * 300  # 6.5 in wide at 300 dpi
    low = render_km_figure(curves, title="OS", at_risk_times=AT_RISK, format="png", dpi=100)
    assert round(png_dpi(low)[0]) == 100


@pytest.mark.parametrize("fmt", ["svg", "pdf", "png"])
def test_output_is_deterministic(fmt: str, curves: list) -> None:
    a = render_km_figure(curves, title="OS", at_risk_times=AT_RISK, format=fmt)
    b = render_km_figure(curves, title="OS", at_risk_times=AT_RISK, format=fmt)
    assert a == b


def test_svg_has_no_date_and_text_stays_text(curves: list) -> None:
    data = render_km_figure(
        curves, title="Overall survival by stage", at_risk_times=AT_RISK, format="svg"
    )
    assert b"<dc:date>" not in data
    texts = svg_texts(data)
    assert "Overall survival by stage" in texts
    assert "Survival probability" in texts and "Months" in texts
    assert "Number at risk" in texts
    assert any("log-log" in t for t in texts)  # caption names the CI method
    assert "Localized (n=24)" in texts and "Metastatic (n=9)" in texts


def test_at_risk_numbers_appear_in_svg(curves: list) -> None:
    data = render_km_figure(curves, title="OS", at_risk_times=AT_RISK, format="svg")
    texts = svg_texts(data)
    for _, km in curves:
        expected = [str(km.n_at_risk(t)) for t in AT_RISK]
        assert expected[0] == str(km.n)
        # the row of numbers is present (in order) among the SVG text elements
        it = iter(texts)
        assert all(any(x == e for x in it) for e in expected), expected
    # the table is aligned to the x ticks: every tick label is present too
    for t in AT_RISK:
        assert str(t) in texts


def test_at_risk_counts_are_counts_of_patients_still_followed(curves: list) -> None:
    d = pd.read_csv(DATA / "gi_lms.csv")
    t = d["os_days"] / 30.4375
    for (_, km), stage in zip(curves, ("localized", "metastatic"), strict=True):
        times = t[d["stage"] == stage]
        assert {a: km.n_at_risk(a) for a in AT_RISK} == {
            a: int((times >= a).sum()) for a in AT_RISK
        }


def test_colour_blind_palette(curves: list) -> None:
    text = render_km_figure(curves, title="OS", at_risk_times=AT_RISK, format="svg").decode()
    for colour in OKABE_ITO[: len(curves)]:
        assert colour.lower() in text.lower()


def test_default_ticks_and_log_ci_caption() -> None:
    km = kaplan_meier([3.0, 10.0, 20.0, 40.0, 70.0], [1, 0, 1, 1, 0], ci_method="log")
    data = render_km_figure([("All", km)], title="DFS", format="svg")
    texts = svg_texts(data)
    assert any("(log transformation" in t for t in texts)
    assert "0" in texts and "60" in texts


def test_rejects_bad_arguments(curves: list) -> None:
    with pytest.raises(ValueError):
        render_km_figure(curves, title="x", format="jpeg")
    with pytest.raises(ValueError):
        render_km_figure([], title="x")
    with pytest.raises(ValueError):
        render_km_figure(curves, title="x", at_risk_times=[24, 0])


def test_curve_dropping_to_zero_and_single_patient_render() -> None:
    to_zero = kaplan_meier([1.0, 2.0, 3.0], [1, 1, 1])
    one = kaplan_meier([5.0], [0])
    for fmt in FORMATS:
        assert render_km_figure([("a", to_zero), ("b", one)], title="t", format=fmt)
