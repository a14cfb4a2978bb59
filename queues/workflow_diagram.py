"""A ticket type's workflow drawn as SVG, on the server (no JavaScript, no library).

Layout: one column per phase in the order a ticket lives them (pending, waiting, serving, done,
cancelled; only the phases the workflow uses), the states of a phase stacked in definition order. Each
transition is an arrow from every source state to its target, labelled with the transition's label:
forward arrows run left to right between columns, backward ones arc over the top, arrows within a column
bend round its right-hand side, a self-loop is a small loop. The initial state has an entry dot; terminal
states (no way out) a heavier border.

Every label is tenant-written text: all of it goes through ``escape`` and nothing else is interpolated
but numbers. Colours are SVG presentation attributes (not ``style``), so the strict CSP allows them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from queues import workflow as wf

NODE_W, NODE_H = 168, 40
GAP_X, GAP_Y = 120, 46
MARGIN_X, HEADER_H, ARC_ROOM = 34, 40, 60
PHASE_FILL = {
    wf.PENDING: "#fff3bf",
    wf.WAITING: "#d0ebff",
    wf.SERVING: "#d3f9d8",
    wf.DONE: "#e9ecef",
    wf.CANCELLED: "#ffe3e3",
}
MAX_LABEL = 24


@dataclass(frozen=True)
class _Node:
    x: float
    y: float
    column: int

    @property
    def middle_y(self) -> float:
        return self.y + NODE_H / 2


def _short(text: str, limit: int = MAX_LABEL) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _point(p0, p1, p2, p3, t=0.5):
    """A point of the cubic Bézier curve p0..p3 (where the arrow's label goes)."""
    u = 1 - t
    return tuple(
        u**3 * a + 3 * u * u * t * b + 3 * u * t * t * c + t**3 * d
        for a, b, c, d in zip(p0, p1, p2, p3, strict=True)
    )


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def layout(machine: wf.Workflow) -> dict[str, _Node]:
    """Each state's box: its phase's column, its place in that column."""
    columns = [phase for phase in wf.PHASES if any(machine.phases[s] == phase for s in machine.states)]
    rows: dict[str, int] = {}
    nodes: dict[str, _Node] = {}
    for state in machine.states:
        column = columns.index(machine.phases[state])
        row = rows.get(machine.phases[state], 0)
        rows[machine.phases[state]] = row + 1
        nodes[state] = _Node(
            x=MARGIN_X + column * (NODE_W + GAP_X),
            y=HEADER_H + ARC_ROOM + row * (NODE_H + GAP_Y),
            column=column,
        )
    return nodes


def workflow_svg(machine: wf.Workflow, *, title: str = "") -> SafeString:
    """The workflow as an inline ``<svg>`` (escaped labels, sized to fit, readable with a text list
    beside it — see ``_diagram.html``)."""
    nodes = layout(machine)
    columns = [phase for phase in wf.PHASES if any(machine.phases[s] == phase for s in machine.states)]
    tallest = max(sum(1 for s in machine.states if machine.phases[s] == phase) for phase in columns)
    width = 2 * MARGIN_X + len(columns) * NODE_W + (len(columns) - 1) * GAP_X + 60
    height = HEADER_H + ARC_ROOM + tallest * (NODE_H + GAP_Y) + 10
    heading = title or _("Workflow")
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="q-diagram-svg" role="img" '
        f'aria-labelledby="workflow-diagram-title" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" font-family="system-ui, sans-serif" font-size="13">',
        f'<title id="workflow-diagram-title">{escape(heading)}</title>',
        '<defs><marker id="workflow-arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto-start-reverse">'
        '<path d="M0 0L10 5L0 10z" fill="#495057"/></marker></defs>',
    ]
    for index, phase in enumerate(columns):
        x = MARGIN_X + index * (NODE_W + GAP_X) + NODE_W / 2
        parts.append(
            f'<text x="{_fmt(x)}" y="22" text-anchor="middle" font-weight="700" fill="#495057">'
            f"{escape(str(wf.PHASE_LABELS[phase]))}</text>"
        )
    # Arrows first, boxes over them.
    router = _Router()
    for transition in machine.transitions:
        for source in transition.sources:
            parts.append(router.arrow(nodes[source], nodes[transition.target], transition.label))
    for state in machine.states:
        node = nodes[state]
        terminal = machine.is_terminal(state)
        label = state.replace("_", " ")
        phase = machine.phases[state]
        parts.append(
            f'<g class="q-diagram-state"><title>{escape(label)} '
            f"({escape(str(wf.PHASE_LABELS[phase]))})</title>"
            f'<rect x="{_fmt(node.x)}" y="{_fmt(node.y)}" width="{NODE_W}" height="{NODE_H}" rx="8" '
            f'fill="{PHASE_FILL[phase]}" stroke="#343a40" stroke-width="{3 if terminal else 1.2}"/>'
            f'<text x="{_fmt(node.x + NODE_W / 2)}" y="{_fmt(node.middle_y + 4.5)}" text-anchor="middle" '
            f'fill="#212529">{escape(_short(label))}</text></g>'
        )
        if state == machine.init:
            parts.append(
                f'<circle cx="{_fmt(node.x - 22)}" cy="{_fmt(node.middle_y)}" r="6" fill="#212529"/>'
                f'<line x1="{_fmt(node.x - 16)}" y1="{_fmt(node.middle_y)}" x2="{_fmt(node.x - 1)}" '
                f'y2="{_fmt(node.middle_y)}" stroke="#212529" stroke-width="1.5" '
                'marker-end="url(#workflow-arrow)"/>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every interpolated text went through escape()


class _Router:
    """Draws arrows so that none crosses a state's box: a self-loop loops, an arrow to the next column
    or within one column curves through the gap beside it, and any other runs orthogonally — out into
    the gap beside its source column, along the corridor between the rows just above its target, into
    the gap beside the target column. Arrows that share a gap or corridor are spread a few pixels apart.
    """

    def __init__(self):
        self.used: dict[tuple, int] = {}
        self.pairs: dict[tuple[int, int], int] = {}

    def _offset(self, key: tuple, step: float, limit: float) -> float:
        count = self.used.get(key, 0)
        self.used[key] = count + 1
        return min(count * step, limit)

    def arrow(self, source: _Node, target: _Node, label: str) -> str:
        repeat = self.pairs.get((id(source), id(target)), 0)
        self.pairs[(id(source), id(target))] = repeat + 1
        spread = repeat * 14
        if source is target:
            x, y = source.x + NODE_W, source.middle_y
            p0, p1, p2, p3 = (
                (x - 30, source.y),
                (x + 30 + spread, source.y - 40),
                (x + 50 + spread, y),
                (x, y),
            )
            return _curve(p0, p1, p2, p3, label)
        if target.column == source.column + 1:
            p0 = (source.x + NODE_W, source.middle_y + spread / 2)
            p3 = (target.x, target.middle_y + spread / 2)
            bend = (p3[0] - p0[0]) / 2
            return _curve(p0, (p0[0] + bend, p0[1]), (p3[0] - bend, p3[1]), p3, label)
        if target.column == source.column:
            side = source.x + NODE_W + 30 + self._offset(("side", source.column), 10, 40)
            p0 = (source.x + NODE_W, source.middle_y - 6)
            p3 = (target.x + NODE_W, target.middle_y + 6)
            # The label beside the bend, not on it: arrows into and out of one state stay readable.
            pair = ("side-label", source.column, min(source.y, target.y), max(source.y, target.y))
            mid_y = (p0[1] + p3[1]) / 2 + self._offset(pair, 14, 28)
            return _drawn(
                _path(p0, (side, p0[1]), (side, p3[1]), p3),
                label,
                (side * 0.75 + p0[0] * 0.25 + 6, mid_y + 4),
                anchor="start",
            )
        forward = target.column > source.column
        half_gap = GAP_X / 2
        if forward:
            start = (source.x + NODE_W, source.middle_y + 5)
            out_x = source.x + NODE_W + half_gap - 20 + self._offset(("gap", source.column, "out"), 7, 30)
            in_x = target.x - half_gap + 20 - self._offset(("gap", target.column, "in"), 7, 30)
            end = (target.x, target.middle_y + 5)
        else:
            start = (source.x, source.middle_y - 5)
            out_x = source.x - half_gap + 20 - self._offset(("gap", source.column, "back-out"), 7, 30)
            in_x = target.x + NODE_W + half_gap - 20 + self._offset(("gap", target.column, "back-in"), 7, 30)
            end = (target.x + NODE_W, target.middle_y - 5)
        room = ARC_ROOM - 24 if target.y == HEADER_H + ARC_ROOM else GAP_Y / 2 - 6  # top row: more room
        corridor = target.y - GAP_Y / 2 - self._offset(("corridor", target.y), 13, room)
        points = [start, (out_x, start[1]), (out_x, corridor), (in_x, corridor), (in_x, end[1]), end]
        path = "M" + " L".join(f"{_fmt(x)} {_fmt(y)}" for x, y in points)
        return _drawn(path, label, ((out_x + in_x) / 2, corridor - 3))


def _path(p0, p1, p2, p3) -> str:
    return f"M{_fmt(p0[0])} {_fmt(p0[1])} C" + " ".join(f"{_fmt(a)} {_fmt(b)}" for a, b in (p1, p2, p3))


def _curve(p0, p1, p2, p3, label: str) -> str:
    mx, my = _point(p0, p1, p2, p3)
    return _drawn(_path(p0, p1, p2, p3), label, (mx, my - 4))


def _drawn(path: str, label: str, at: tuple[float, float], anchor: str = "middle") -> str:
    """One arrow and its label (escaped; cut short, the whole of it in the arrow's ``<title>``)."""
    return (
        f'<g class="q-diagram-transition"><title>{escape(label)}</title>'
        f'<path d="{path}" fill="none" stroke="#495057" stroke-width="1.4" '
        'marker-end="url(#workflow-arrow)"/>'
        f'<text x="{_fmt(at[0])}" y="{_fmt(at[1])}" text-anchor="{anchor}" font-size="12" fill="#212529" '
        f'stroke="#ffffff" stroke-width="4" paint-order="stroke">{escape(_short(label, 20))}</text></g>'
    )
