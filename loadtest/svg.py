"""A small SVG line chart for the benchmarks' reports: no plotting library, one file a browser
opens."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

COLOURS = ("#d9480f", "#1c7ed6", "#2b8a3e", "#862e9c", "#495057", "#e67700")
WIDTH, HEIGHT, LEFT, BOTTOM, TOP, RIGHT = 580, 300, 80, 40, 24, 100


def line_chart(title: str, series: Mapping[str, Sequence[tuple[float, float]]], *,
               x_label: str, y_label: str, x_ticks: Sequence[float] | None = None) -> str:
    """One line per series of (x, y) points; x ticks at ``x_ticks`` (default: the points' x),
    spaced evenly when given, proportionally otherwise."""
    xs = sorted({x for points in series.values() for x, _ in points})
    even = x_ticks is not None
    ticks = list(x_ticks) if x_ticks is not None else xs
    low, high = (0, len(ticks) - 1) if even else (min(xs), max(xs))
    top = max((y for points in series.values() for _, y in points), default=1.0) * 1.1 or 1.0

    def px(x: float) -> float:
        position = ticks.index(x) if even else x
        return LEFT + (WIDTH - LEFT - RIGHT) * (position - low) / max(high - low, 1)

    def py(y: float) -> float:
        return HEIGHT - BOTTOM - (HEIGHT - BOTTOM - TOP) * y / top

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
             'font-family="sans-serif" font-size="11">',
             f'<text x="{LEFT}" y="14" font-weight="bold">{title}</text>',
             f'<line x1="{LEFT}" y1="{py(0)}" x2="{WIDTH - RIGHT}" y2="{py(0)}" stroke="#999"/>',
             f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 5}" text-anchor="middle">'
             f'{x_label}</text>',
             f'<text x="12" y="{HEIGHT / 2}" transform="rotate(-90 12 {HEIGHT / 2})" '
             f'text-anchor="middle">{y_label}</text>']
    for tick in ticks[:: max(1, len(ticks) // 10)]:
        parts.append(f'<text x="{px(tick):.1f}" y="{py(0) + 15}" text-anchor="middle">'
                     f'{f"{tick:,.0f}" if float(tick).is_integer() else f"{tick:.3g}"}</text>')
    for step in range(5):
        value = top / 1.1 * step / 4
        label = f"{value:,.0f}" if top >= 20 else f"{value:.2g}"
        parts.append(f'<text x="{LEFT - 5}" y="{py(value) + 4:.1f}" text-anchor="end">'
                     f'{label}</text>')
    for (name, points), colour in zip(series.items(), COLOURS, strict=False):
        line = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in points)
        parts.append(f'<polyline points="{line}" fill="none" stroke="{colour}" '
                     'stroke-width="2"/>')
        if points:
            x, y = points[-1]
            parts.append(f'<text x="{px(x) + 6:.1f}" y="{py(y) + 4:.1f}" fill="{colour}">'
                         f'{name}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
