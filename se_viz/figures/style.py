"""The shared look of every se_viz figure: fonts, colours, axis names, labels, and the projector.

Every builder in :mod:`se_viz.figures` takes its title, fonts, gate colour scale and block labels
from here, so a gate is the same colour and a block has the same name in every figure. Gates are
always coloured on one fixed, perceptually uniform scale (Viridis, 0…1). :func:`projector` turns
any figure — ours or anybody's — into one readable from the back of a lecture hall.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from typing import Optional, Sequence

import plotly.graph_objects as go

from ..analysis.stats import normalise_sort
from ..engine.blocks import BlockInfo
from ..i18n import N_, _

__all__ = [
    "GATE_AXIS",
    "GATE_COLORSCALE",
    "PROJECTOR_SCALE",
    "SQUEEZE_AXIS",
    "channel_dtick",
    "panel_groups",
    "projector",
    "wrap_title",
]

GATE_COLORSCALE = "Viridis"
#: Axis titles, marked for the catalogue: builders show them as ``_(GATE_AXIS)``.
GATE_AXIS = N_("gate s (0–1)")
SQUEEZE_AXIS = N_("squeeze z (mean activation)")
TEMPLATE = "plotly_white"
FONT_SIZE = 14
TITLE_SIZE = 18
# One colour per stage / panel group, so the same stage has the same colour across figures.
GROUP_COLOURS = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


# ---------------------------------------------------------------------------------------------
# Names and groups


def panel_groups(blocks: Sequence[BlockInfo]) -> list[list[BlockInfo]]:
    """Split blocks (in forward order) into the panels of a per-stage figure.

    Consecutive blocks share a panel when they share a stage and a channel count; blocks without
    a stage (EfficientNet, MobileNet, user models) are grouped by consecutive equal channel
    count. Keeping runs consecutive preserves forward order top-to-bottom, and a panel never
    mixes widths, so each panel's x-axis can span exactly its own channel count.
    """
    groups: list[list[BlockInfo]] = []
    key_prev: object = object()
    for b in blocks:
        key = (b.stage, b.channels)
        if groups and key == key_prev:
            groups[-1].append(b)
        else:
            groups.append([b])
        key_prev = key
    return groups


def group_colours(blocks: Sequence[BlockInfo]) -> dict[str, str]:
    """Block name → the colour of its panel group (same stage, same colour in every figure)."""
    return {
        b.name: GROUP_COLOURS[gi % len(GROUP_COLOURS)] for gi, g in enumerate(panel_groups(blocks)) for b in g
    }


def image_label(index: int, name: Optional[str]) -> str:
    return name if name else _("image {i}").format(i=index)


def sort_axis_title(sort: str) -> str:
    key = normalise_sort(sort)
    if key == "natural":
        return _("channel index")
    if key == "gate ↓":
        return _("rank (channels sorted by gate s, largest first)")
    return _("rank (channels sorted by gate s, smallest first)")


# ---------------------------------------------------------------------------------------------
# Layout


def layout_dict(title: str, height: int, **kwargs: object) -> dict:
    """The common look as a layout dict: white template, projector-sized fonts, left title."""
    return dict(
        template=TEMPLATE,
        title=dict(text=title, x=0.01, xanchor="left", font=dict(size=TITLE_SIZE)),
        font=dict(size=FONT_SIZE),
        height=int(height),
        hoverlabel=dict(font_size=FONT_SIZE),
        **kwargs,
    )


def layout(fig: go.Figure, title: str, height: int, **kwargs: object) -> go.Figure:
    """Apply :func:`layout_dict` to an existing figure."""
    fig.update_layout(**layout_dict(title, height, **kwargs))
    return fig


def gate_colorbar(title: str = GATE_AXIS) -> dict:
    return dict(
        colorscale=GATE_COLORSCALE,
        cmin=0.0,
        cmax=1.0,
        colorbar=dict(title=dict(text=_(title), side="right"), thickness=16),
    )


# ---------------------------------------------------------------------------------------------
# Projector

PROJECTOR_SCALE = 1.4  # fonts ×1.4: 14 px body text becomes 19.6 px
_PROJECTOR_LINE = 1.6  # line widths and marker sizes grow a little more than text
_PROJECTOR_GRID = "#a6a6a6"  # plotly_white's grid (#EBF0F8) vanishes on a washed-out projector
_INK = "#000000"


def _scaled(size: Optional[float], default: float) -> float:
    return round((size or default) * PROJECTOR_SCALE, 1)


def projector(fig: go.Figure) -> go.Figure:
    """A copy of ``fig`` restyled for a projector; ``fig`` itself is left unchanged.

    Fonts grow by :data:`PROJECTOR_SCALE` (≈1.4×: body, titles, ticks, annotations, hover),
    lines and markers by 1.6×, all text is black on white, gridlines are a mid grey (plotly's
    default pale blue-grey disappears on a projector) and axis lines are drawn. Fixed tick
    spacings double, so the bigger labels never touch. The title keeps one main line (long ones
    wrap, :func:`wrap_title`) and its other lines become the subtitle, hung from the top of the
    figure; margins and the height grow with the fonts so no title is cut. Data, colour scales and
    ranges are kept:
    this changes how a figure looks, never what it says. Works on any Plotly figure.
    """
    out = go.Figure(fig)
    layout = out.layout
    base = layout.font.size or (layout.template.layout.font.size if layout.template else None) or 12
    out.update_layout(
        font=dict(size=_scaled(layout.font.size, base), color=_INK),
        paper_bgcolor="white",
        plot_bgcolor="white",
        hoverlabel=dict(font_size=_scaled(layout.hoverlabel.font.size, base)),
    )
    if layout.height:
        layout.height = int(layout.height * 1.15)
    if layout.margin.t is not None:
        layout.margin.t = int(layout.margin.t * PROJECTOR_SCALE)
    if layout.title.text:
        _projector_title(out, base)
    if layout.margin.b is not None:
        layout.margin.b = int(layout.margin.b * PROJECTOR_SCALE)
    axes = [k for k in layout.to_plotly_json() if k.startswith(("xaxis", "yaxis"))]
    for key in axes:
        axis = layout[key]
        axis.update(
            gridcolor=_PROJECTOR_GRID,
            zerolinecolor="#666666",
            tickfont=dict(size=_scaled(axis.tickfont.size, base), color=_INK),
        )
        if axis.showticklabels is not False:  # a picture panel (feature map) gets no frame
            axis.update(showline=True, linecolor=_INK)
        if isinstance(axis.dtick, (int, float)) and axis.tickmode != "array":
            axis.dtick = axis.dtick * 2  # labels 1.4× wider: half as many fixed ticks, so they never touch
        axis.title.font.update(size=_scaled(axis.title.font.size, base), color=_INK)
    for note in layout.annotations:
        note.font.update(size=_scaled(note.font.size, base), color=_INK)
        if note.yshift:
            note.yshift = note.yshift * PROJECTOR_SCALE
    for shape in layout.shapes:
        if shape.line is not None:
            shape.line.width = (shape.line.width or 2) * _PROJECTOR_LINE
    if layout.coloraxis.colorbar is not None:
        bar = layout.coloraxis.colorbar
        bar.tickfont.update(size=_scaled(bar.tickfont.size, base), color=_INK)
        bar.title.font.update(size=_scaled(bar.title.font.size, base), color=_INK)
    for trace in out.data:
        _thicken(trace, base)
    return out


_TITLE_CHARS, _SUB_CHARS = 48, 75  # characters per line of title and of <sup> at projector sizes


def wrap_title(text: str, title_chars: int = _TITLE_CHARS, sub_chars: int = _SUB_CHARS) -> str:
    """``text`` (a Plotly title: lines split by ``<br>``, subtitles in ``<sup>…</sup>``) with long
    lines broken at spaces, so a title fits a narrow chart instead of being cut at the edge.

    Lengths count visible characters (tags excluded); a ``<sup>`` line may hold ``sub_chars``.
    Lines holding other markup than one outer ``<sup>``/``<b>`` are left as they are.
    """
    lines: list[str] = []
    for line in text.split("<br>"):
        match = re.fullmatch(r"(<(sup|b)>)?([^<>]*)(</(sup|b)>)?", line)
        if match is None or bool(match.group(1)) != bool(match.group(4)):
            lines.append(line)
            continue
        opening, body, closing = match.group(1) or "", match.group(3), match.group(4) or ""
        limit = sub_chars if opening == "<sup>" else title_chars
        lines += [f"{opening}{part}{closing}" for part in _wrap(body, limit)]
    return "<br>".join(lines)


#: Punctuation that must not begin a line of Chinese text (it stays with the character before).
_NO_LINE_START = set("，。：；、！？）》」』”’")
#: One unit a line may break before: a run of spaces, a Latin word, or one wide character.
_UNIT = re.compile(r"\s+|[^\s\u2e80-\u9fff\u3000-\u303f\uff00-\uffef]+|.")


def _columns(text: str) -> int:
    """How wide ``text`` is, in Latin letters: a Chinese character is as wide as two."""
    return sum(2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1 for ch in text)


def _wrap(body: str, limit: int) -> list[str]:
    """``body`` in lines of at most ``limit`` columns. Latin text breaks at spaces (textwrap);
    Chinese text has no spaces between words, so it may break between any two characters, never
    before a closing punctuation mark, and its characters count double (a translated title would
    otherwise run off a narrow chart)."""
    if _columns(body) == len(body):
        return textwrap.wrap(body, limit) or [body]
    units: list[str] = []
    for unit in _UNIT.findall(body):
        if units and unit[0] in _NO_LINE_START:
            units[-1] += unit
        else:
            units.append(unit)
    lines, line = [], ""
    for unit in units:
        if not line and unit.isspace():
            continue
        if line and not unit.isspace() and _columns(line.rstrip() + unit) > limit:
            lines.append(line.rstrip())
            line = unit
        else:
            line += unit
    if line.strip():
        lines.append(line.rstrip())
    return lines or [body]


def _split_title(text: str) -> tuple[str, list[str]]:
    """(first line, the other lines without their ``<sup>`` tags), after wrapping long lines."""
    lines = wrap_title(text).split("<br>")
    rest = [re.sub(r"^<sup>(.*)</sup>$", r"\1", line) for line in lines[1:]]
    return lines[0], rest


def _projector_title(fig: go.Figure, base: float) -> None:
    """Enlarge and blacken the title; keep ONE main line (Plotly pushes a multi-line title above
    the figure when it is anchored at the top) and move every other line into the subtitle; hang
    both from the top of the figure in a margin tall enough for all lines."""
    title = fig.layout.title
    size = _scaled(title.font.size, base * 1.3)
    sub_size = _scaled(title.subtitle.font.size, base)
    main, rest = _split_title(title.text)
    if title.subtitle.text:
        rest += wrap_title(title.subtitle.text, title_chars=_SUB_CHARS).split("<br>")
    title.text = main
    title.font.update(size=size, color=_INK)
    if rest:
        title.subtitle.text = "<br>".join(rest)
        title.subtitle.font.update(size=sub_size, color=_INK)
    top = int(10 + 1.3 * size + 1.3 * sub_size * len(rest) + 20)
    if fig.layout.margin.t is None or fig.layout.margin.t < top:
        if fig.layout.height:
            fig.layout.height += top - (fig.layout.margin.t if fig.layout.margin.t is not None else 100)
        fig.layout.margin.t = top
    if fig.layout.height:
        title.update(yref="container", yanchor="top", y=1 - 10 / fig.layout.height)


def _thicken(trace: go.Figure, base: float) -> None:
    """Thicker lines, bigger markers and larger bar text for one trace, whatever its type."""
    if "line" in trace and "width" in trace.line:
        width = trace.line.width
        trace.line.width = (width if width is not None else 2) * _PROJECTOR_LINE
    if trace.type in ("scatter", "scattergl") and "markers" in (trace.mode or "markers"):
        size = trace.marker.size
        if size is None or isinstance(size, (int, float)):
            trace.marker.size = (size or 6) * _PROJECTOR_LINE  # plotly's default marker is 6 px
    if "textfont" in trace and trace.text is not None:
        trace.textfont.update(size=_scaled(trace.textfont.size, base), color=_INK)


def channel_dtick(channels: int, max_ticks: int = 8) -> int:
    """Tick spacing for a channel axis: the smallest power of two giving at most ``max_ticks`` ticks.

    Channel counts are mostly powers of two (256…2048) or multiples of 8, so power-of-two steps
    land on round, countable numbers (0, 256, 512, …) instead of Plotly's decimal 0, 500, 1000.
    """
    step = 1
    while channels / step > max_ticks:
        step *= 2
    return step
