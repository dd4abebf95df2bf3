"""SVG charts of compare.py's scaling sweep, written without any plotting library.

For each axis of the sweep (the offered rate, the number of clients) one SVG with two
panels: latency p50 (solid) and p99 (dashed) on a logarithmic scale, and the server's CPU
share; one colour per server. `draw` is called by `compare.py --scaling --charts DIR`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")
WIDTH, HEIGHT = 460, 380  # one panel
LEFT, RIGHT, TOP, BOTTOM = 62, 16, 40, 110  # the legend goes under the x axis

Series = tuple[str, str, bool, list[tuple[float, float]]]  # label, colour, dashed, points


def draw(out_dir: Path, targets: Sequence[Any], sweep: dict[str, dict[str, Any]],
         results: dict[str, dict[str, dict[str, Any]]]) -> list[Path]:  # fmt: skip
    """Write one SVG per axis of the sweep into `out_dir`; return their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for prefix, x_key in (("rate", "rate"), ("clients", "clients")):
        points = {name: spec for name, spec in sweep.items() if name.startswith(prefix + "-")}
        if not points:
            continue
        first = next(iter(points.values()))
        if x_key == "rate":
            x_title = (f"offered load, messages/s ({first['clients']:,} clients, "
                       f"{first['channels']:,} channels)")  # fmt: skip
        else:
            per = first["clients"] // first["channels"]
            x_title = f"clients ({per} to a channel, {first['rate']:,} messages/s)"
        latency: list[Series] = []
        cpu: list[Series] = []
        for index, target in enumerate(targets):
            colour = COLOURS[index % len(COLOURS)]
            runs = [(float(spec[x_key]), results[target.label].get(name, {}))
                    for name, spec in points.items()]  # fmt: skip
            for key, dashed in (("p50", False), ("p99", True)):
                line = [(x, float(r[key])) for x, r in runs if r.get(key)]
                latency.append((f"{target.label} {key}", colour, dashed, line))
            line = [(x, 100 * float(r["server_cpu"])) for x, r in runs if r.get("server_cpu")]
            cpu.append((target.label, colour, False, line))
        svg = _figure(
            [_panel("latency, ms (log scale)", x_title, latency, log_y=True),
             _panel("server CPU, % of one core", x_title, cpu, log_y=False, y_max=100)]
        )  # fmt: skip
        path = out_dir / f"scaling-{prefix}.svg"
        path.write_text(svg)
        written.append(path)
    return written


def _figure(panels: list[str]) -> str:
    width = WIDTH * len(panels)
    body = "".join(
        f'<g transform="translate({WIDTH * i},0)">{panel}</g>' for i, panel in enumerate(panels)
    )
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{HEIGHT}" '
            f'viewBox="0 0 {width} {HEIGHT}" font-family="sans-serif" font-size="11">'
            f'<rect width="100%" height="100%" fill="white"/>{body}</svg>\n')  # fmt: skip


def _panel(title: str, x_title: str, series: list[Series], log_y: bool,
           y_max: float | None = None) -> str:  # fmt: skip
    xs = [x for *_, line in series for x, _ in line]
    ys = [y for *_, line in series for _, y in line]
    if not xs:
        return f'<text x="{LEFT}" y="{TOP}">{escape(title)}: no data</text>'
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    x_lo, x_hi = min(xs), max(xs)
    x_span = math.log(x_hi / x_lo) or 1.0  # the x axis is logarithmic: 1k to 20k
    if log_y:
        y_lo = 10 ** math.floor(math.log10(max(min(ys), 1e-3)))
        y_hi = 10 ** math.ceil(math.log10(max(ys)))
        ticks = [y_lo * 10**i for i in range(round(math.log10(y_hi / y_lo)) + 1)]

        def scale(y: float) -> float:
            return math.log10(max(y, y_lo) / y_lo) / math.log10(y_hi / y_lo)
    else:
        y_lo, y_hi = 0.0, y_max or max(ys)
        ticks = [y_hi * i / 4 for i in range(5)]
        scale = lambda y: (y - y_lo) / (y_hi - y_lo)  # noqa: E731

    def px(x: float) -> float:
        return LEFT + math.log(x / x_lo) / x_span * plot_w

    def py(y: float) -> float:
        return TOP + plot_h - scale(y) * plot_h

    parts = [f'<text x="{LEFT}" y="20" font-size="13" font-weight="bold">{escape(title)}</text>',
             f'<text x="{LEFT + plot_w / 2}" y="{TOP + plot_h + 32}" text-anchor="middle">'
             f'{escape(x_title)}</text>',
             f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" '
             f'stroke="#999"/>']  # fmt: skip
    for tick in ticks:
        y = py(tick)
        label = f"{tick:g}"
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y:.1f}" y2="{y:.1f}" '
                     f'stroke="#ddd"/><text x="{LEFT - 4}" y="{y + 4:.1f}" '
                     f'text-anchor="end">{label}</text>')  # fmt: skip
    for x in sorted(set(xs)):
        parts.append(f'<text x="{px(x):.1f}" y="{TOP + plot_h + 14}" text-anchor="middle">'
                     f'{x / 1000:g}k</text>')  # fmt: skip
    for index, (label, colour, dashed, line) in enumerate(series):
        if not line:
            continue
        path = " ".join(f"{px(x):.1f},{py(y):.1f}" for x, y in sorted(line))
        dash = ' stroke-dasharray="5,3"' if dashed else ""
        parts.append(f'<polyline points="{path}" fill="none" stroke="{colour}" '
                     f'stroke-width="2"{dash}/>')  # fmt: skip
        parts += [f'<circle cx="{px(x):.1f}" cy="{py(y):.1f}" r="2.5" fill="{colour}"/>'
                  for x, y in line]  # fmt: skip
        lx = LEFT + (index % 2) * plot_w / 2
        ly = HEIGHT - BOTTOM + 52 + 14 * (index // 2)
        parts.append(f'<line x1="{lx:.1f}" x2="{lx + 20:.1f}" y1="{ly - 4}" y2="{ly - 4}" '
                     f'stroke="{colour}" stroke-width="2"{dash}/><text x="{lx + 24:.1f}" '
                     f'y="{ly}">{escape(label)}</text>')  # fmt: skip
    return "".join(parts)
