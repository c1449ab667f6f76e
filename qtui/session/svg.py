"""Small inline SVG charts for the HTML decision record (no JS, no external files)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape

PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")


def _nice_max(v: float) -> float:
    """A round axis maximum at or above ``v``."""
    if v <= 0:
        return 1.0
    mag = 10 ** len(str(int(v))) / 10 if v >= 1 else 1.0
    for step in (1, 2, 2.5, 5, 10):
        if step * mag >= v:
            return step * mag
    return 10 * mag


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def bar_chart(title: str, labels: Sequence[str], values: Sequence[float | None], unit: str) -> str:
    """Horizontal bars, one per label; a missing value is shown as 'n/a'."""
    row_h, left, width = 26, 150, 640
    height = 40 + row_h * len(labels) + 10
    top = max([v for v in values if v is not None] or [0.0])
    vmax = _nice_max(top)
    plot_w = width - left - 90
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f'<text x="4" y="18" font-size="14" font-weight="bold">{escape(title)} ({escape(unit)})'
        "</text>",
    ]
    for i, (label, v) in enumerate(zip(labels, values, strict=True)):
        y = 34 + i * row_h
        out.append(
            f'<text x="{left - 6}" y="{y + 15}" font-size="12" text-anchor="end">'
            f"{escape(label)}</text>"
        )
        if v is None:
            out.append(f'<text x="{left + 4}" y="{y + 15}" font-size="12" fill="#777">n/a</text>')
            continue
        w = max(1.0, plot_w * v / vmax)
        color = PALETTE[i % len(PALETTE)]
        out.append(f'<rect x="{left}" y="{y + 3}" width="{w:.1f}" height="16" fill="{color}"/>')
        out.append(f'<text x="{left + w + 4:.1f}" y="{y + 15}" font-size="12">{_fmt(v)}</text>')
    out.append("</svg>")
    return "\n".join(out)


def line_chart(
    title: str,
    series: Mapping[str, tuple[Sequence[float], Sequence[float | None]]],
    unit: str,
    x_unit: str = "min",
) -> str:
    """One polyline per series (x already in ``x_unit``); gaps where y is missing."""
    width, height, left, bottom, top_pad, right = 640, 260, 60, 30, 28, 120
    xs = [x for xv, _ in series.values() for x in xv]
    ys = [y for _, yv in series.values() for y in yv if y is not None]
    x0, x1 = (min(xs), max(xs)) if xs else (0.0, 1.0)
    if x1 <= x0:
        x1 = x0 + 1
    ymax = _nice_max(max(ys) if ys else 0.0)
    pw, ph = width - left - right, height - top_pad - bottom

    def px(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * pw

    def py(y: float) -> float:
        return top_pad + ph - y / ymax * ph

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
        f'<text x="4" y="18" font-size="14" font-weight="bold">{escape(title)} ({escape(unit)})'
        "</text>",
        f'<line x1="{left}" y1="{top_pad + ph}" x2="{left + pw}" y2="{top_pad + ph}" '
        'stroke="#999"/>',
        f'<line x1="{left}" y1="{top_pad}" x2="{left}" y2="{top_pad + ph}" stroke="#999"/>',
    ]
    for frac in (0.0, 0.5, 1.0):
        y = ymax * frac
        out.append(
            f'<text x="{left - 4}" y="{py(y) + 4:.1f}" font-size="11" text-anchor="end">'
            f"{_fmt(y)}</text>"
        )
        x = x0 + (x1 - x0) * frac
        out.append(
            f'<text x="{px(x):.1f}" y="{height - 8}" font-size="11" text-anchor="middle">'
            f"{_fmt(x)} {escape(x_unit)}</text>"
        )
    for i, (name, (xv, yv)) in enumerate(series.items()):
        color = PALETTE[i % len(PALETTE)]
        runs: list[list[str]] = [[]]
        for xx, yy in zip(xv, yv, strict=True):
            if yy is None:
                if runs[-1]:
                    runs.append([])
                continue
            runs[-1].append(f"{px(xx):.1f},{py(yy):.1f}")
        for run in runs:
            if len(run) > 1:
                out.append(
                    f'<polyline fill="none" stroke="{color}" stroke-width="1.5" '
                    f'points="{" ".join(run)}"/>'
                )
        ly = top_pad + 14 + i * 16
        out.append(
            f'<rect x="{left + pw + 10}" y="{ly - 9}" width="10" height="10" fill="{color}"/>'
        )
        out.append(f'<text x="{left + pw + 24}" y="{ly}" font-size="12">{escape(name)}</text>')
    out.append("</svg>")
    return "\n".join(out)
