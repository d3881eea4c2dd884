"""Bar charts drawn as SVG on the server (no script, no charting dependency); each also as a table.

A chart scales with its container (``viewBox``); text stays readable on a phone because the
horizontal charts put labels above their bars.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape
from typing import Any

PALETTE = ("#1f6feb", "#2da44e", "#d1242f", "#bf8700", "#8250df")


@dataclass
class Series:
    """One named set of values, one per label."""

    name: str
    values: list[float]
    color: str = PALETTE[0]


def _fmt(value: float, percent: bool) -> str:
    if percent:
        return f"{value * 100:.0f}%"
    return f"{value:.1f}".rstrip("0").rstrip(".").replace(".", ",") if isinstance(value, float) else str(value)


def _legend(series: list[Series], y: int) -> str:
    out, x = [], 0
    for s in series:
        out.append(f'<rect x="{x}" y="{y}" width="12" height="12" fill="{s.color}"/>'
                   f'<text x="{x + 16}" y="{y + 11}" font-size="12">{escape(s.name)}</text>')
        x += 24 + 8 * len(s.name)
    return "".join(out)


def columns(chart_id: str, title: str, labels: list[str], series: list[Series], percent: bool = False) -> str:
    """Vertical grouped bars (a trend by week): labels along the bottom."""
    width, height, left, top, bottom = 640, 260, 36, 28, 40
    plot_w, plot_h = width - left - 8, height - top - bottom
    peak = 1.0 if percent else math.ceil(max([v for s in series for v in s.values] + [1]) / 4) * 4  # whole ticks
    slot = plot_w / max(1, len(labels))
    bar = max(2.0, min(28.0, slot * 0.8 / max(1, len(series))))
    parts = [_legend(series, 4)]
    for tick in range(5):
        value = peak * tick / 4
        y = top + plot_h - plot_h * tick / 4
        parts.append(f'<line x1="{left}" x2="{width - 8}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                     f'<text x="{left - 4}" y="{y + 4:.1f}" font-size="10" text-anchor="end">{_fmt(value, percent)}</text>')
    every = max(1, len(labels) // 12)
    for i, label in enumerate(labels):
        x0 = left + i * slot + (slot - bar * len(series)) / 2
        for j, s in enumerate(series):
            v = s.values[i]
            h = plot_h * v / peak if peak else 0
            parts.append(f'<rect class="batang" x="{x0 + j * bar:.1f}" y="{top + plot_h - h:.1f}" width="{bar - 1:.1f}" '
                         f'height="{h:.1f}" fill="{s.color}"><title>{escape(label)}: {escape(s.name)} '
                         f'{_fmt(v, percent)}</title></rect>')
        if i % every == 0:
            parts.append(f'<text x="{left + i * slot + slot / 2:.1f}" y="{height - bottom + 14}" font-size="10" '
                         f'text-anchor="middle">{escape(label)}</text>')
    return _svg(chart_id, title, width, height, parts)


def bars(chart_id: str, title: str, labels: list[str], series: list[Series], percent: bool = False) -> str:
    """Horizontal bars (agencies side by side, channels, kecamatan): the label above each group."""
    width, row_h, top = 640, 18, 24
    group_h = row_h * len(series) + 22
    height = top + group_h * max(1, len(labels)) + 4
    peak = 1.0 if percent else max([v for s in series for v in s.values] + [1])
    plot_w = width - 70
    parts = [_legend(series, 4)]
    for i, label in enumerate(labels):
        y = top + i * group_h
        parts.append(f'<text x="0" y="{y + 13}" font-size="12" font-weight="600">{escape(label)}</text>')
        for j, s in enumerate(series):
            v = s.values[i]
            w = plot_w * min(v, peak) / peak if peak else 0
            by = y + 18 + j * row_h
            parts.append(f'<rect class="batang" x="0" y="{by}" width="{w:.1f}" height="{row_h - 4}" fill="{s.color}">'
                         f'<title>{escape(label)}: {escape(s.name)} {_fmt(v, percent)}</title></rect>'
                         f'<text x="{w + 4:.1f}" y="{by + 11}" font-size="11">{_fmt(v, percent)}</text>')
    return _svg(chart_id, title, width, height, parts)


def _svg(chart_id: str, title: str, width: int, height: int, parts: list[str]) -> str:
    return (f'<svg id="{escape(chart_id)}" class="grafik" role="img" aria-labelledby="{escape(chart_id)}-judul" '
            f'viewBox="0 0 {width} {height}" xmlns="http://www.w3.org/2000/svg" font-family="sans-serif">'
            f'<title id="{escape(chart_id)}-judul">{escape(title)}</title>{"".join(parts)}</svg>')


def table(table_id: str, headers: list[str], rows: list[list[Any]]) -> str:
    """The chart's numbers as an HTML table."""
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f'<table id="{escape(table_id)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'
