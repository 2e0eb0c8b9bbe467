"""Bar charts as inline SVG, drawn on the server: no chart library, nothing from a CDN.

:func:`bar_chart` draws groups of bars (one group per slot) with a capacity mark over each
group. Every bar has a ``<title>`` so hovering shows the figure; the chart has a text
alternative, and the pages show the same figures in a table next to it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

HEIGHT = 180  # plot area in px
LABEL_SPACE = 34
LEFT = 34
TOP = 10


@dataclass(frozen=True)
class Series:
    name: str
    values: Sequence[int]
    css_class: str


def _nice_max(value: int) -> int:
    """A round top for the axis at or above ``value``."""
    if value <= 5:
        return max(value, 1)
    for step in (2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if value <= step * 5:
            return -(-value // step) * step
    return value


def bar_chart(
    labels: Sequence[str],
    series: Sequence[Series],
    limits: Sequence[int | None],
    limit_name: str,
    title: str,
) -> Markup:
    """Grouped bars per label, with a horizontal mark at each group's limit (capacity)."""
    groups = len(labels)
    bar = 9 if len(series) > 1 else 14
    group_width = bar * len(series) + 6
    width = LEFT + max(groups, 1) * group_width + 10
    top_value = _nice_max(
        max([0, *(v for s in series for v in s.values), *(lim or 0 for lim in limits)])
    )

    def y(value: int) -> float:
        return TOP + HEIGHT - HEIGHT * value / top_value

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {TOP + HEIGHT + LABEL_SPACE}" width="{width}" '
        f'height="{TOP + HEIGHT + LABEL_SPACE}" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for tick in sorted({0, top_value // 2, top_value}):
        parts.append(
            f'<line class="grid" x1="{LEFT}" x2="{width - 6}" y1="{y(tick):.1f}" '
            f'y2="{y(tick):.1f}"/><text class="axis" x="{LEFT - 4}" y="{y(tick) + 4:.1f}" '
            f'text-anchor="end">{tick}</text>'
        )
    every = max(1, -(-groups * 38 // max(width - LEFT, 1)))  # keep labels from overlapping
    for i, label in enumerate(labels):
        x0 = LEFT + i * group_width + 3
        for j, s in enumerate(series):
            value = s.values[i]
            parts.append(
                f'<rect class="{s.css_class}" x="{x0 + j * bar}" y="{y(value):.1f}" '
                f'width="{bar - 1}" height="{HEIGHT * value / top_value:.1f}">'
                f"<title>{escape(label)} {escape(s.name)}: {value}</title></rect>"
            )
        limit = limits[i] if i < len(limits) else None
        if limit is not None:
            parts.append(
                f'<line class="limit" x1="{x0 - 2}" x2="{x0 + bar * len(series) + 1}" '
                f'y1="{y(limit):.1f}" y2="{y(limit):.1f}">'
                f"<title>{escape(label)} {escape(limit_name)}: {limit}</title></line>"
            )
        if i % every == 0:
            parts.append(
                f'<text class="axis" x="{x0}" y="{TOP + HEIGHT + 14}">{escape(label)}</text>'
            )
    legend_x = LEFT
    for s in [*series, Series(limit_name, [], "limit")]:
        y_legend = TOP + HEIGHT + 28
        shape = (
            f'<line class="limit" x1="{legend_x}" x2="{legend_x + 10}" y1="{y_legend - 4}" '
            f'y2="{y_legend - 4}"/>'
            if s.css_class == "limit"
            else f'<rect class="{s.css_class}" x="{legend_x}" y="{y_legend - 9}" width="10" '
            f'height="10"/>'
        )
        parts.append(
            f'{shape}<text class="legend" x="{legend_x + 14}" y="{y_legend}">'
            f"{escape(s.name)}</text>"
        )
        legend_x += 14 + 12 * len(s.name) + 16
    parts.append("</svg>")
    return Markup("".join(parts))


MAX_BARS = 96  # more slots than this are drawn (and tabled) one group per day


def by_day(rows: Sequence[dict], fields: Sequence[str]) -> list[dict]:
    """``rows`` (each with ``label`` and ``day``) summed per day when there are more than
    :data:`MAX_BARS`, each day labelled by ``day``; else ``rows`` as they are.

    A ten-day distribution has hundreds of slots: a bar each would make a chart thousands
    of pixels wide and a page hundreds of KB, so they are summed per day instead.
    """
    if len(rows) <= MAX_BARS:
        return list(rows)
    days: dict[str, dict] = {}
    for row in rows:
        day = days.setdefault(row["day"], {"label": row["day"], **dict.fromkeys(fields, 0)})
        for name in fields:
            day[name] += row[name] or 0
    return list(days.values())
