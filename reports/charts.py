"""Server-side SVG charts: the one way every report draws (pages and the casebook PDF).

Pure functions from numbers to a `Chart`: its SVG markup and the same data as a table.
The markup keeps to what fpdf2's SVG renderer draws (svg, g, path, line, polyline, rect,
circle, text with presentation attributes): the casebook PDF embeds the very same SVG. No
classes or style="" are needed for the looks (strict CSP), and the viewBox without width or
height lets a page scale the picture to a phone's width. Series differ by dash pattern and
marker shape as well as by colour (Okabe-Ito, safe for colour-blind readers), so a
grey-scale print still tells them apart.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from xml.sax.saxutils import escape, quoteattr

from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

# Okabe & Ito (2008): distinguishable with every common colour-vision deficiency.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")
DASHES = ("", "6 3", "2 3", "8 3 2 3", "12 4", "4 2 1 2", "1 2")
SHAPES = ("circle", "square", "triangle", "diamond", "triangle-down", "cross", "x")
# The casebook registers its Unicode font under this family name (fpdf2 picks the first
# family it knows); browsers fall back to their sans-serif.
FONT_FAMILY = "DejaVu Sans, sans-serif"
MUTED = "#9a9a9a"
INK = "#212529"
GRID = "#dee2e6"
# Stage strips: light to dark, each segment also carries its stage as text.
BAND_TONES = ("#f1f3f5", "#dde1e6", "#c3c9d0", "#a5adb6", "#868e96", "#6c757d")

WIDTH = 400
FONT = 13
SMALL = 11
LEFT, RIGHT = 60, 14
PLOT_HEIGHT = 200
STRIP = 18
LEGEND_ROW = 18


# -- data ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Point:
    x: float
    y: float | None  # None: no value here, the line breaks
    error: float | None = None  # half the error bar (e.g. the standard error)
    hollow: bool = False  # drawn open, e.g. a visit out of its window
    note: str = ""  # shown in the data table (why it is hollow, n, ...)


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[Point]
    style: int | None = None  # index into the palette/dash/shape; default: its order
    line: bool = True
    markers: bool = True
    muted: bool = False  # background series (spaghetti): thin grey, one legend entry
    width: float = 2.0


@dataclass(frozen=True)
class Band:
    """A stretch of the x axis in a labelled strip under the plot (King's stage 2 from
    month -8 to 3). `level` picks the shade, darker for later stages."""

    row: str
    start: float
    end: float
    label: str
    level: int = 0


@dataclass(frozen=True)
class Marker:
    """An event on the x axis, in its lane under the plot (an AE, a con-med change)."""

    lane: str
    x: float
    label: str  # the table's description of it
    symbol: str = "triangle"  # one of SHAPES
    filled: bool = True
    text: str = ""  # a short tag printed beside it (e.g. the AE grade)
    emphasis: bool = False  # drawn in the alert colour (a serious event)


@dataclass(frozen=True)
class Reference:
    """A vertical line across the plot (the transplantation at month 0)."""

    x: float
    label: str


@dataclass(frozen=True)
class BarGroup:
    name: str
    values: Sequence[float | None]
    hrefs: Sequence[str | None] = ()  # one per category: the list behind the bar
    style: int | None = None


@dataclass(frozen=True)
class Table:
    caption: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


@dataclass(frozen=True)
class Chart:
    title: str
    svg: SafeString
    table: Table
    extra_tables: tuple[Table, ...] = ()
    empty: bool = False
    notes: tuple[str, ...] = field(default=())  # said under the figure (e.g. the x origin)

    @property
    def tables(self) -> tuple[Table, ...]:
        return (self.table, *self.extra_tables)


# -- numbers ---------------------------------------------------------------------------


def fmt(value: float | None, decimals: int = 2) -> str:
    """A number as the tables print it: no trailing zeros, '' for None."""
    if value is None:
        return ""
    text = f"{value:.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _nice(value: float, round_: bool) -> float:
    exponent = math.floor(math.log10(value))
    fraction = value / 10**exponent
    if round_:
        nice = 1 if fraction < 1.5 else 2 if fraction < 3 else 5 if fraction < 7 else 10
    else:
        nice = 1 if fraction <= 1 else 2 if fraction <= 2 else 5 if fraction <= 5 else 10
    return nice * 10**exponent


def nice_ticks(lo: float, hi: float, count: int = 5) -> tuple[float, float, list[float]]:
    """A round axis range covering lo..hi and its ticks (Heckbert's labels)."""
    if hi < lo:
        lo, hi = hi, lo
    if hi == lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    step = _nice(_nice(hi - lo, False) / max(count - 1, 1), True)
    start = math.floor(lo / step + 1e-9) * step
    stop = math.ceil(hi / step - 1e-9) * step
    ticks = [round(start + i * step, 10) for i in range(round((stop - start) / step) + 1)]
    return round(start, 10), round(stop, 10), ticks


def tight_ticks(lo: float, hi: float, most: int = 10) -> tuple[float, float, list[float]]:
    """The round range with the least empty space around lo..hi, at most `most` ticks
    (data ending at month 24 gets an axis to 25, not to 30)."""
    options = [nice_ticks(lo, hi, count) for count in range(4, most + 2)]
    fitting = [o for o in options if len(o[2]) <= most] or options[:1]
    return min(fitting, key=lambda o: (round(o[1] - o[0], 9), abs(len(o[2]) - 6)))


def _ticks_within(lo: float, hi: float, count: int = 5) -> list[float]:
    _, _, ticks = nice_ticks(lo, hi, count)
    return [t for t in ticks if lo - 1e-9 <= t <= hi + 1e-9]


def _tick_label(value: float, ticks: Sequence[float]) -> str:
    step = min((b - a for a, b in itertools.pairwise(ticks)), default=1.0)
    decimals = max(0, -math.floor(math.log10(step))) if step > 0 else 0
    return fmt(value, min(decimals, 4))


# -- drawing ---------------------------------------------------------------------------


class _Scale:
    def __init__(self, lo: float, hi: float, start: float, stop: float) -> None:
        self.lo, self.hi, self.start, self.stop = lo, hi, start, stop

    def __call__(self, value: float) -> float:
        value = min(max(value, self.lo), self.hi)  # drawn at the edge, the table keeps it
        span = self.hi - self.lo or 1.0
        return round(self.start + (value - self.lo) / span * (self.stop - self.start), 2)


def _attrs(**attributes: object) -> str:
    parts = []
    for name, value in attributes.items():
        if value is None or value == "":
            continue
        parts.append(f" {name.rstrip('_').replace('_', '-')}={quoteattr(str(value))}")
    return "".join(parts)


def _text(
    x: float,
    y: float,
    content: str,
    *,
    size: int = FONT,
    anchor: str = "start",
    fill: str = INK,
    weight: str = "",
) -> str:
    return (
        f"<text{_attrs(x=round(x, 1), y=round(y, 1), font_size=size, text_anchor=anchor, fill=fill, font_family=FONT_FAMILY, font_weight=weight)}>"
        f"{escape(content)}</text>"
    )


def _shape(shape: str, x: float, y: float, r: float, colour: str, *, filled: bool = True) -> str:
    fill = colour if filled else "#ffffff"
    paint = _attrs(fill=fill, stroke=colour, stroke_width=1.5)
    if shape == "circle":
        return f'<circle cx="{x}" cy="{y}" r="{r}"{paint}/>'
    if shape == "square":
        return f'<rect x="{round(x - r, 2)}" y="{round(y - r, 2)}" width="{2 * r}" height="{2 * r}"{paint}/>'
    if shape in ("cross", "x"):
        d = r if shape == "cross" else round(r * 0.8, 2)
        if shape == "cross":
            path = f"M{x - d} {y}H{x + d}M{x} {y - d}V{y + d}"
        else:
            path = f"M{x - d} {y - d}L{x + d} {y + d}M{x - d} {y + d}L{x + d} {y - d}"
        return f'<path d="{path}"{_attrs(fill="none", stroke=colour, stroke_width=2)}/>'
    pts: tuple[tuple[float, float], ...]
    if shape == "triangle":
        pts = ((x, y - r * 1.15), (x + r * 1.1, y + r * 0.8), (x - r * 1.1, y + r * 0.8))
    elif shape == "triangle-down":
        pts = ((x, y + r * 1.15), (x + r * 1.1, y - r * 0.8), (x - r * 1.1, y - r * 0.8))
    else:  # diamond
        pts = ((x, y - r * 1.25), (x + r * 1.1, y), (x, y + r * 1.25), (x - r * 1.1, y))
    outline = "M" + "L".join(f"{round(px, 2)} {round(py, 2)}" for px, py in pts) + "Z"
    return f'<path d="{outline}"{paint}/>'


def _style(index: int) -> tuple[str, str, str]:
    return PALETTE[index % len(PALETTE)], DASHES[index % len(DASHES)], SHAPES[index % len(SHAPES)]


def _uid(title: str, body: str) -> str:
    return "chart-" + hashlib.sha1((title + body).encode(), usedforsecurity=False).hexdigest()[:10]


def _svg(title: str, height: float, body: str, description: str = "") -> SafeString:
    uid = _uid(title, body)
    desc = f'<desc id="{uid}-d">{escape(description)}</desc>' if description else ""
    described = f' aria-describedby="{uid}-d"' if description else ""
    # An image has no focusable parts: a chart whose bars are links is a group of them
    # (axe-core: nested-interactive), still named by its title.
    role = "group" if "<a " in body else "img"
    return mark_safe(  # noqa: S308 - every text and attribute above is escaped
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {round(height)}" '
        f'role="{role}" aria-labelledby="{uid}-t"{described} preserveAspectRatio="xMidYMid meet">'
        f'<title id="{uid}-t">{escape(title)}</title>{desc}'
        f'<rect x="0" y="0" width="{WIDTH}" height="{round(height)}" fill="#ffffff"/>'
        f"{body}</svg>"
    )


def _legend_entries(
    series: Sequence[Series], styles: Sequence[int]
) -> list[tuple[str, str, str, str, bool, bool]]:
    entries: list[tuple[str, str, str, str, bool, bool]] = []
    seen_muted: set[str] = set()
    for s, index in zip(series, styles, strict=True):
        if s.muted:
            if s.name in seen_muted:
                continue
            seen_muted.add(s.name)
            entries.append((s.name, MUTED, "", "", True, False))
            continue
        colour, dash, shape = _style(index)
        entries.append((s.name, colour, dash, shape, s.line, s.markers))
    return entries


def _legend(
    entries: Sequence[tuple[str, str, str, str, bool, bool]], top: float
) -> tuple[str, float]:
    """Entries left to right, wrapping; returns the markup and the height used."""
    parts: list[str] = []
    x, y = float(LEFT), top + LEGEND_ROW / 2
    for name, colour, dash, shape, line, marker in entries:
        width = 34 + len(name) * FONT * 0.56
        if x + width > WIDTH - RIGHT and x > LEFT:
            x, y = LEFT, y + LEGEND_ROW
        if line:
            parts.append(
                f'<line x1="{x}" y1="{y}" x2="{x + 24}" y2="{y}"'
                f"{_attrs(stroke=colour, stroke_width=2, stroke_dasharray=dash)}/>"
            )
        if marker and shape:
            parts.append(_shape(shape, x + 12, y, 3.5, colour))
        parts.append(_text(x + 30, y + 4, name, size=SMALL + 1))
        x += width + 12
    return "".join(parts), (y + LEGEND_ROW / 2) - top if entries else 0.0


def _no_data(title: str, message: str, caption: str, columns: tuple[str, ...]) -> Chart:
    body = (
        f'<rect x="{LEFT}" y="10" width="{WIDTH - LEFT - RIGHT}" height="100"'
        f"{_attrs(fill='#f8f9fa', stroke=GRID)}/>"
        + _text(WIDTH / 2, 64, message, anchor="middle", fill="#6c757d")
    )
    return Chart(
        title=title,
        svg=_svg(title, 120, body, message),
        table=Table(caption, columns, ()),
        empty=True,
    )


def _strips(
    bands: Sequence[Band], markers: Sequence[Marker], sx: _Scale, top: float, right: float
) -> tuple[str, float]:
    """Stage strips and event lanes under the x axis, one row each, named at the left."""
    parts: list[str] = []
    y = top
    rows = list(dict.fromkeys(b.row for b in bands))
    for row in rows:
        parts.append(_text(LEFT - 4, y + STRIP / 2 + 4, row, size=SMALL, anchor="end"))
        for band in (b for b in bands if b.row == row):
            x0, x1 = sx(band.start), sx(band.end)
            if x1 - x0 < 0.5:
                continue
            tone = BAND_TONES[min(max(band.level, 0), len(BAND_TONES) - 1)]
            ink = "#ffffff" if band.level >= 4 else INK
            parts.append(
                f'<rect x="{x0}" y="{y + 1}" width="{round(x1 - x0, 2)}" height="{STRIP - 2}"'
                f"{_attrs(fill=tone, stroke='#ffffff', stroke_width=1)}/>"
            )
            if x1 - x0 >= 10:
                parts.append(
                    _text(
                        (x0 + x1) / 2,
                        y + STRIP / 2 + 4,
                        band.label,
                        size=SMALL,
                        anchor="middle",
                        fill=ink,
                    )
                )
        y += STRIP
    lanes = list(dict.fromkeys(m.lane for m in markers))
    for lane in lanes:
        mid = y + STRIP / 2
        parts.append(_text(LEFT - 4, mid + 4, lane, size=SMALL, anchor="end"))
        parts.append(
            f'<line x1="{LEFT}" y1="{mid}" x2="{right}" y2="{mid}"{_attrs(stroke=GRID, stroke_width=1)}/>'
        )
        for m in (m for m in markers if m.lane == lane):
            colour = PALETTE[1] if m.emphasis else INK
            cx = sx(m.x)
            parts.append(
                _shape(m.symbol, cx, mid, 4.5 if m.emphasis else 4, colour, filled=m.filled)
            )
            if m.text:
                # beside the mark, or before it when it would run off the right edge
                if cx + 7 + len(m.text) * SMALL * 0.62 > WIDTH:
                    parts.append(
                        _text(cx - 7, mid + 4, m.text, size=SMALL, fill=colour, anchor="end")
                    )
                else:
                    parts.append(_text(cx + 7, mid + 4, m.text, size=SMALL, fill=colour))
        y += STRIP
    return "".join(parts), y - top


def _strip_tables(
    bands: Sequence[Band], markers: Sequence[Marker], x_label: str, x_format: Callable[[float], str]
) -> tuple[Table, ...]:
    tables: list[Table] = []
    if bands:
        tables.append(
            Table(
                _("Stages"),
                (
                    _("Staging"),
                    _("Stage"),
                    _("From (%(axis)s)") % {"axis": x_label},
                    _("To (%(axis)s)") % {"axis": x_label},
                ),
                tuple((b.row, b.label, x_format(b.start), x_format(b.end)) for b in bands),
            )
        )
    if markers:
        tables.append(
            Table(
                _("Events"),
                (_("Kind"), x_label, _("Event")),
                tuple(
                    (m.lane, x_format(m.x), m.label)
                    for m in sorted(markers, key=lambda m: (m.lane, m.x))
                ),
            )
        )
    return tuple(tables)


def _series_table(
    caption: str,
    x_label: str,
    y_label: str,
    series: Sequence[Series],
    x_format: Callable[[float], str],
) -> Table:
    has_error = any(p.error is not None for s in series for p in s.points)
    has_note = any(p.note for s in series for p in s.points)
    columns: tuple[str, ...] = (_("Series"), x_label, y_label)
    if has_error:
        columns += (_("± (error bar)"),)
    if has_note:
        columns += (_("Note"),)
    rows = []
    for s in series:
        for p in s.points:
            row: tuple[str, ...] = (s.name, x_format(p.x), fmt(p.y))
            if has_error:
                row += (fmt(p.error),)
            if has_note:
                row += (p.note,)
            rows.append(row)
    return Table(caption, columns, tuple(rows))


def _xy_chart(
    title: str,
    x_label: str,
    y_label: str,
    series: Sequence[Series],
    *,
    bands: Sequence[Band] = (),
    markers: Sequence[Marker] = (),
    references: Sequence[Reference] = (),
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    x_ticks: Sequence[tuple[float, str]] | None = None,
    x_format: Callable[[float], str] = fmt,
    identity_line: bool = False,
    notes: Sequence[str] = (),
    description: str = "",
) -> Chart:
    caption = _("Data of: %(title)s") % {"title": title}
    values = [p for s in series for p in s.points if p.y is not None]
    if not values:
        chart = _no_data(title, _("No data to show yet."), caption, (_("Series"), x_label, y_label))
        return Chart(
            chart.title,
            chart.svg,
            chart.table,
            _strip_tables(bands, markers, x_label, x_format),
            True,
            tuple(notes),
        )

    xs = [p.x for p in values] + [b.start for b in bands] + [b.end for b in bands]
    xs += [m.x for m in markers] + [r.x for r in references]
    ys = [p.y for p in values if p.y is not None]
    ys += [p.y + p.error for p in values if p.y is not None and p.error]
    ys += [p.y - p.error for p in values if p.y is not None and p.error]
    if identity_line:
        both = xs[: len(values)] + ys
        lo = min(both)
        hi = max(both)
        xs, ys = [lo, hi], [lo, hi]
    x_lo, x_hi, x_tick_values = tight_ticks(min(xs), max(xs))
    if x_range:
        x_lo, x_hi = x_range
        x_tick_values = _ticks_within(x_lo, x_hi, 6)
    y_lo, y_hi, y_tick_values = nice_ticks(min(ys), max(ys), 5)
    if y_range:
        y_lo, y_hi = y_range
        y_tick_values = _ticks_within(y_lo, y_hi, 5)

    right = WIDTH - RIGHT
    top = 40  # the y label, then a row for the labels of the reference lines
    bottom = top + PLOT_HEIGHT
    sx = _Scale(x_lo, x_hi, LEFT, right)
    sy = _Scale(y_lo, y_hi, bottom, top)
    parts: list[str] = [_text(4, 14, y_label, size=FONT, weight="bold")]

    # grid and axes
    for t in y_tick_values:
        y = sy(t)
        parts.append(
            f'<line x1="{LEFT}" y1="{y}" x2="{right}" y2="{y}"{_attrs(stroke=GRID, stroke_width=1)}/>'
        )
        parts.append(
            _text(LEFT - 5, y + 4, _tick_label(t, y_tick_values), size=SMALL, anchor="end")
        )
    labelled = (
        list(x_ticks)
        if x_ticks is not None
        else [(t, _tick_label(t, x_tick_values)) for t in x_tick_values]
    )
    for t, label in labelled:
        x = sx(t)
        parts.append(
            f'<line x1="{x}" y1="{bottom}" x2="{x}" y2="{bottom + 4}"{_attrs(stroke=INK, stroke_width=1)}/>'
        )
        parts.append(_text(x, bottom + 16, label, size=SMALL, anchor="middle"))
    parts.append(
        f'<line x1="{LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}"{_attrs(stroke=INK, stroke_width=1)}/>'
    )
    parts.append(
        f'<line x1="{LEFT}" y1="{top}" x2="{LEFT}" y2="{bottom}"{_attrs(stroke=INK, stroke_width=1)}/>'
    )

    for ref in references:
        x = sx(ref.x)
        parts.append(
            f'<line x1="{x}" y1="{top - 16}" x2="{x}" y2="{bottom}"'
            f"{_attrs(stroke=INK, stroke_width=1, stroke_dasharray='4 3')}/>"
        )
        anchor = "start" if x < (LEFT + right) / 2 else "end"
        parts.append(
            _text(
                x + (3 if anchor == "start" else -3), top - 6, ref.label, size=SMALL, anchor=anchor
            )
        )
    if identity_line:
        lo = max(x_lo, y_lo)
        hi = min(x_hi, y_hi)
        parts.append(
            f'<line x1="{sx(lo)}" y1="{sy(lo)}" x2="{sx(hi)}" y2="{sy(hi)}"'
            f"{_attrs(stroke=MUTED, stroke_width=1.5, stroke_dasharray='5 4')}/>"
        )

    styles: list[int] = []
    order = 0
    for s in series:
        if s.muted:
            styles.append(-1)
        else:
            styles.append(s.style if s.style is not None else order)
            order += 1
    # muted (background) series first, so the highlighted ones are drawn over them
    drawing = sorted(zip(series, styles, strict=True), key=lambda pair: not pair[0].muted)
    for s, index in drawing:
        colour, dash, shape = (MUTED, "", "circle") if s.muted else _style(index)
        width = 1 if s.muted else s.width
        if s.line:
            runs: list[list[Point]] = [[]]
            for p in sorted(s.points, key=lambda p: p.x):
                if p.y is None:
                    runs.append([])
                else:
                    runs[-1].append(p)
            for run in runs:
                if len(run) >= 2:
                    coords = " ".join(f"{sx(p.x)},{sy(p.y)}" for p in run if p.y is not None)
                    parts.append(
                        f'<polyline points="{coords}"'
                        f"{_attrs(fill='none', stroke=colour, stroke_width=width, stroke_dasharray=dash, stroke_linejoin='round')}/>"
                    )
        for p in s.points:
            if p.y is None:
                continue
            x, y = sx(p.x), sy(p.y)
            if p.error:
                y0, y1 = sy(p.y - p.error), sy(p.y + p.error)
                parts.append(
                    f'<path d="M{x} {y0}V{y1}M{x - 4} {y0}H{x + 4}M{x - 4} {y1}H{x + 4}"'
                    f"{_attrs(fill='none', stroke=colour, stroke_width=1.5)}/>"
                )
            if s.markers or p.hollow or not s.line:
                parts.append(
                    _shape(shape, x, y, 2.5 if s.muted else 4, colour, filled=not p.hollow)
                )

    y = bottom + 22
    parts.append(
        _text((LEFT + right) / 2, y + 12, x_label, size=FONT, anchor="middle", weight="bold")
    )
    y += 20
    strips, used = _strips(bands, markers, sx, y, right)
    parts.append(strips)
    y += used + 4
    legend, used = _legend(_legend_entries(series, styles), y)
    parts.append(legend)
    y += used + 6

    body = "".join(parts)
    return Chart(
        title=title,
        svg=_svg(title, y, body, description),
        table=_series_table(caption, x_label, y_label, series, x_format),
        extra_tables=_strip_tables(bands, markers, x_label, x_format),
        notes=tuple(notes),
    )


# -- public ----------------------------------------------------------------------------


def line_chart(
    title: str,
    x_label: str,
    y_label: str,
    series: Sequence[Series],
    *,
    bands: Sequence[Band] = (),
    markers: Sequence[Marker] = (),
    references: Sequence[Reference] = (),
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    x_ticks: Sequence[tuple[float, str]] | None = None,
    x_format: Callable[[float], str] = fmt,
    notes: Sequence[str] = (),
    description: str = "",
) -> Chart:
    """Lines over x (months); None values break a line; `error` draws mean ± error bars.
    Units belong in the labels: "ALSFRS-R total (points)", "Months from transplantation"."""
    return _xy_chart(
        title, x_label, y_label, series, bands=bands, markers=markers, references=references,
        x_range=x_range, y_range=y_range, x_ticks=x_ticks, x_format=x_format, notes=notes,
        description=description,
    )  # fmt: skip


def scatter_chart(
    title: str,
    x_label: str,
    y_label: str,
    series: Sequence[Series],
    *,
    identity_line: bool = True,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    notes: Sequence[str] = (),
    description: str = "",
) -> Chart:
    """Points only; with the dashed identity line y = x (same range on both axes) so that
    points below it read as 'y smaller than x'."""
    plain = [
        Series(s.name, s.points, s.style, line=False, markers=True, muted=s.muted) for s in series
    ]
    return _xy_chart(
        title, x_label, y_label, plain, x_range=x_range, y_range=y_range,
        identity_line=identity_line, notes=notes, description=description,
    )  # fmt: skip


def _bar_fill(x: float, y: float, w: float, h: float, index: int, colour: str) -> str:
    """Solid, lined, cross-hatched...: told apart without colour; drawn with plain lines
    (fpdf2 renders no SVG patterns)."""
    rect = f'<rect x="{round(x, 2)}" y="{round(y, 2)}" width="{round(w, 2)}" height="{round(h, 2)}"'
    kind = index % 4
    if kind == 0:
        return rect + f"{_attrs(fill=colour, stroke='#ffffff', stroke_width=0.5)}/>"
    parts = [rect + f"{_attrs(fill='#ffffff', stroke=colour, stroke_width=1.5)}/>"]
    lines = []
    if kind in (1, 3):
        steps = int(h // 4)
        lines += [
            f"M{round(x, 2)} {round(y + 4 * i, 2)}h{round(w, 2)}"
            for i in range(1, steps + (1 if h % 4 else 0))
        ]
    if kind in (2, 3):
        steps = int(w // 4)
        lines += [
            f"M{round(x + 4 * i, 2)} {round(y, 2)}v{round(h, 2)}"
            for i in range(1, steps + (1 if w % 4 else 0))
        ]
    if lines:
        parts.append(
            f'<path d="{"".join(lines)}"{_attrs(fill="none", stroke=colour, stroke_width=1)}/>'
        )
    return "".join(parts)


def bar_chart(
    title: str,
    x_label: str,
    y_label: str,
    categories: Sequence[str],
    groups: Sequence[BarGroup],
    *,
    stacked: bool = False,
    horizontal: bool = False,
    y_range: tuple[float, float] | None = None,
    notes: Sequence[str] = (),
    description: str = "",
) -> Chart:
    """Grouped (side by side) or stacked bars per category; a bar with an href is a link
    to the list behind it. Horizontal suits long category names (screen-failure
    criteria): x_label then names the categories and y_label the values all the same."""
    caption = _("Data of: %(title)s") % {"title": title}
    columns = (x_label, *(g.name for g in groups)) + (
        (_("Total"),) if stacked and len(groups) > 1 else ()
    )
    rows = []
    for i, category in enumerate(categories):
        cells = [g.values[i] if i < len(g.values) else None for g in groups]
        row = (category, *(fmt(v) for v in cells))
        if stacked and len(groups) > 1:
            row += (fmt(sum(v or 0 for v in cells)),)
        rows.append(row)
    table = Table(caption, columns, tuple(rows))
    values = [v for g in groups for v in g.values if v is not None]
    if not categories or not groups or not values:
        chart = _no_data(title, _("No data to show yet."), caption, columns)
        return Chart(title, chart.svg, table, (), True, tuple(notes))

    if stacked:
        totals = [
            sum((g.values[i] or 0) for g in groups if i < len(g.values))
            for i in range(len(categories))
        ]
        lows = [
            sum(min(g.values[i] or 0, 0) for g in groups if i < len(g.values))
            for i in range(len(categories))
        ]
        hi, lo = max([*totals, 0.0]), min([*lows, 0.0])
    else:
        hi, lo = max([*values, 0.0]), min([*values, 0.0])
    v_lo, v_hi, ticks = nice_ticks(lo, hi if hi > lo else lo + 1, 5)
    if y_range:
        v_lo, v_hi = y_range
        ticks = _ticks_within(v_lo, v_hi, 5)

    parts: list[str] = []
    styles = [g.style if g.style is not None else n for n, g in enumerate(groups)]
    slots = len(categories)
    per = 1 if stacked else len(groups)

    def bar(
        cat: int, member: int, start: float, end: float, href: str | None, name: str, value: float
    ) -> str:
        index = styles[member]
        colour = PALETTE[index % len(PALETTE)]
        if horizontal:
            band_h = plot_h / slots
            inner = band_h * 0.72
            thick = inner / per
            y = top + cat * band_h + (band_h - inner) / 2 + (0 if stacked else member * thick)
            x0, x1 = sv(min(start, end)), sv(max(start, end))
            shape = _bar_fill(x0, y, max(x1 - x0, 0.5), thick, index, colour)
        else:
            band_w = plot_w / slots
            inner = band_w * 0.72
            thick = inner / per
            x = left + cat * band_w + (band_w - inner) / 2 + (0 if stacked else member * thick)
            y0, y1 = sv(max(start, end)), sv(min(start, end))
            shape = _bar_fill(x, y0, thick, max(y1 - y0, 0.5), index, colour)
        label = f"<title>{escape(f'{categories[cat]} · {name}: {fmt(value)}')}</title>"
        if href:
            return f"<a{_attrs(href=href)}>{label}{shape}</a>"
        return f"<g>{label}{shape}</g>"

    if horizontal:
        longest = max(len(c) for c in categories)
        left = min(max(LEFT, 8 + longest * SMALL * 0.56), WIDTH * 0.45)
        top = 26
        row_h = 26 if per == 1 else 12 * per + 10
        plot_h = row_h * slots
        plot_w = WIDTH - RIGHT - left
        bottom = top + plot_h
        sv = _Scale(v_lo, v_hi, left, WIDTH - RIGHT)
        parts.append(_text(4, 14, x_label, weight="bold"))
        for t in ticks:
            x = sv(t)
            parts.append(
                f'<line x1="{x}" y1="{top}" x2="{x}" y2="{bottom}"{_attrs(stroke=GRID, stroke_width=1)}/>'
            )
            parts.append(_text(x, bottom + 14, _tick_label(t, ticks), size=SMALL, anchor="middle"))
        max_chars = int((left - 8) / (SMALL * 0.56))
        for i, category in enumerate(categories):
            short = category if len(category) <= max_chars else category[: max_chars - 1] + "…"
            parts.append(
                _text(
                    left - 5, top + (i + 0.5) * plot_h / slots + 4, short, size=SMALL, anchor="end"
                )
            )
        axis_label_y = bottom + 34
        parts.append(
            _text((left + WIDTH - RIGHT) / 2, axis_label_y, y_label, anchor="middle", weight="bold")
        )
    else:
        left = LEFT
        top = 26
        plot_h = PLOT_HEIGHT
        plot_w = WIDTH - RIGHT - left
        bottom = top + plot_h
        sv = _Scale(v_lo, v_hi, bottom, top)
        parts.append(_text(4, 14, y_label, weight="bold"))
        for t in ticks:
            y = sv(t)
            parts.append(
                f'<line x1="{left}" y1="{y}" x2="{WIDTH - RIGHT}" y2="{y}"{_attrs(stroke=GRID, stroke_width=1)}/>'
            )
            parts.append(_text(left - 5, y + 4, _tick_label(t, ticks), size=SMALL, anchor="end"))
        max_chars = max(3, int(plot_w / slots / (SMALL * 0.56)))
        for i, category in enumerate(categories):
            short = category if len(category) <= max_chars else category[: max_chars - 1] + "…"
            parts.append(
                _text(
                    left + (i + 0.5) * plot_w / slots,
                    bottom + 14,
                    short,
                    size=SMALL,
                    anchor="middle",
                )
            )
        axis_label_y = bottom + 34
        parts.append(
            _text((left + WIDTH - RIGHT) / 2, axis_label_y, x_label, anchor="middle", weight="bold")
        )

    for cat in range(slots):
        up = down = 0.0
        for member, group in enumerate(groups):
            value = group.values[cat] if cat < len(group.values) else None
            if value is None or (stacked and value == 0):
                continue
            href = group.hrefs[cat] if cat < len(group.hrefs) else None
            if stacked:
                start = up if value >= 0 else down
                end = start + value
                if value >= 0:
                    up = end
                else:
                    down = end
                parts.append(bar(cat, member, start, end, href, group.name, value))
            else:
                parts.append(bar(cat, member, 0.0, value, href, group.name, value))
    zero = sv(0.0) if v_lo <= 0 <= v_hi else None
    if zero is not None:
        if horizontal:
            parts.append(
                f'<line x1="{zero}" y1="{top}" x2="{zero}" y2="{bottom}"{_attrs(stroke=INK, stroke_width=1)}/>'
            )
        else:
            parts.append(
                f'<line x1="{left}" y1="{zero}" x2="{WIDTH - RIGHT}" y2="{zero}"{_attrs(stroke=INK, stroke_width=1)}/>'
            )

    y = axis_label_y + 8
    if len(groups) > 1:
        entries = []
        for member, group in enumerate(groups):
            entries.append((group.name, PALETTE[styles[member] % len(PALETTE)], styles[member]))
        legend = []
        x, row_y = LEFT, y + LEGEND_ROW / 2
        for name, colour, index in entries:
            width = 22 + len(name) * (SMALL + 1) * 0.56
            if x + width > WIDTH - RIGHT and x > LEFT:
                x, row_y = LEFT, row_y + LEGEND_ROW
            legend.append(_bar_fill(x, row_y - 6, 14, 12, index, colour))
            legend.append(_text(x + 18, row_y + 4, name, size=SMALL + 1))
            x += width + 12
        parts.extend(legend)
        y = row_y + LEGEND_ROW / 2
    y += 6
    body = "".join(parts)
    return Chart(
        title=title, svg=_svg(title, y, body, description), table=table, notes=tuple(notes)
    )
