"""Server-rendered SVG charts. Pure: numbers in, markup out; every chart also gives its numbers as a table.

Colours come from CSS classes (static/monitoring/dashboard.css) so the admin's light and dark themes both
apply; shapes carry `<title>`s for pointer users and the table carries the numbers for screen readers.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

# Series classes s0..s5 in the stylesheet; families beyond six reuse them.
SERIES = 6


@dataclass
class Chart:
    svg: SafeString
    caption: str
    headers: list[str] = field(default_factory=list)
    rows: Sequence[Sequence[object]] = field(default_factory=list)


def _series_class(index: int) -> str:
    return f"s{index % SERIES}"


def _svg(width: int, height: int, body: str, label: str) -> SafeString:
    return format_html(
        '<svg class="chart" viewBox="0 0 {} {}" preserveAspectRatio="none" role="img" '
        'aria-label="{}">{}</svg>',
        width,
        height,
        label,
        mark_safe(body),  # noqa: S308 - body is built from escaped parts below
    )


def sparkline(values: Sequence[float], *, label: str, width: int = 120, height: int = 24) -> SafeString:
    """A small line of counts (e.g. per hour of today); empty values give a flat line."""
    top = max(values, default=0) or 1
    step = width / max(len(values) - 1, 1)
    points = " ".join(
        f"{i * step:.1f},{height - 1 - (v / top) * (height - 2):.1f}" for i, v in enumerate(values)
    )
    return _svg(width, height, f'<polyline class="spark" points="{points}"/>', label)


def meter(used: float, limit: float | None, *, label: str) -> SafeString:
    """A horizontal bar: used of limit (None or ≤ 0 = no limit, drawn empty); full past 100 %."""
    share = min(used / limit, 1.0) if limit and limit > 0 else 0.0
    level = "over" if share >= 1 else "high" if share >= 0.8 else "ok"
    body = (
        '<rect class="track" x="0" y="0" width="100" height="8" rx="2"/>'
        f'<rect class="fill {level}" x="0" y="0" width="{share * 100:.1f}" height="8" rx="2"/>'
    )
    return _svg(100, 8, body, label)


def stacked_bars(
    columns: list[str], series: Mapping[str, Sequence[float]], *, caption: str, unit: str, height: int = 140
) -> Chart:
    """One bar per column (e.g. a day), stacked by series (e.g. model family)."""
    names = list(series)
    totals = [sum(series[n][i] for n in names) for i in range(len(columns))]
    top = max(totals, default=0) or 1
    width = max(len(columns), 1) * 10
    parts = []
    for i, column in enumerate(columns):
        y = float(height)
        for index, name in enumerate(names):
            value = series[name][i]
            if not value:
                continue
            size = value / top * (height - 4)
            y -= size
            parts.append(
                f'<rect class="{_series_class(index)}" x="{i * 10 + 1}" y="{y:.1f}" width="8" '
                f'height="{size:.1f}"><title>{escape(column)} {escape(name)}: {value:g} {escape(unit)}'
                "</title></rect>"
            )
    rows: list[list[object]] = [
        [column, *[series[n][i] for n in names], totals[i]] for i, column in enumerate(columns)
    ]
    return Chart(_svg(width, height, "".join(parts), caption), caption, ["", *names, "total"], rows)


def lines(
    points: Mapping[str, Sequence[tuple[float, float | None]]],
    *,
    span: tuple[float, float],
    caption: str,
    markers: list[tuple[float, str]] = (),  # type: ignore[assignment]
    height: int = 120,
    table: Sequence[Sequence[object]] | None = None,
    headers: list[str] | None = None,
) -> Chart:
    """Series of (x, y%) on 0..100 over x in `span`; None breaks a line; markers are vertical rules."""
    width = 300
    start, end = span
    scale = width / ((end - start) or 1)
    parts = [
        f'<line class="grid" x1="0" x2="{width}" y1="{height * (1 - p / 100):.1f}" '
        f'y2="{height * (1 - p / 100):.1f}"/>'
        for p in (50, 100)
    ]
    for x, text in markers:
        px = (x - start) * scale
        parts.append(
            f'<line class="marker" x1="{px:.1f}" x2="{px:.1f}" y1="0" y2="{height}">'
            f"<title>{escape(text)}</title></line>"
        )
    for index, (name, series) in enumerate(points.items()):
        segment: list[str] = []
        for x, y in [*series, (end, None)]:
            if y is None:
                if len(segment) > 1:
                    parts.append(
                        f'<polyline class="line {_series_class(index)}" points="{" ".join(segment)}">'
                        f"<title>{escape(name)}</title></polyline>"
                    )
                segment = []
                continue
            segment.append(f"{(x - start) * scale:.1f},{height * (1 - min(max(y, 0), 100) / 100):.1f}")
    return Chart(_svg(width, height, "".join(parts), caption), caption, headers or [], table or [])


def timeline(
    lanes: list[tuple[str, list[tuple[float, float, str]]]], *, span: tuple[float, float], caption: str
) -> Chart:
    """One lane per subject with spans (start, end, text) over x in `span`: when a limit was hit, how long."""
    width, lane_height = 300, 14
    start, end = span
    scale = width / ((end - start) or 1)
    parts = []
    rows: list[list[object]] = []
    for i, (name, spans) in enumerate(lanes):
        y = i * lane_height
        parts.append(f'<rect class="track" x="0" y="{y + 3}" width="{width}" height="{lane_height - 6}"/>')
        for left, right, text in spans:
            x = max(left - start, 0) * scale
            w = max((min(right, end) - max(left, start)) * scale, 1.5)
            parts.append(
                f'<rect class="fill over" x="{x:.1f}" y="{y + 2}" width="{w:.1f}" '
                f'height="{lane_height - 4}"><title>{escape(name)}: {escape(text)}</title></rect>'
            )
            rows.append([name, text])
    height = max(len(lanes), 1) * lane_height
    return Chart(_svg(width, height, "".join(parts), caption), caption, ["subject", "when"], rows)
