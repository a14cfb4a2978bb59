"""The workflow engine: ticket life cycles stored as data (javascript-state-machine format).

A workflow is ``{"init": state, "states": [...], "transitions": [{"name", "from", "to"}], "phases": {...}}``.
``from`` may be one state, a list of states or ``"*"`` (every state except the transition's own target).
``phases`` (our extension) maps each state to where the ticket stands in its queue:

- ``pending``   awaiting review, not in line (a creator's request before approval)
- ``waiting``   in line; counts for positions
- ``serving``   being handled
- ``done``      finished
- ``cancelled`` left the line without being served (rejected, expired, withdrawn)

Transitions may also carry ``label`` (button text) and ``needs_reason`` (a note is required, e.g. reject).

:func:`parse_workflow` validates a definition and returns a :class:`Workflow`; every problem is reported
with the state or transition it concerns. Nothing here touches the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

PENDING, WAITING, SERVING, DONE, CANCELLED = "pending", "waiting", "serving", "done", "cancelled"
PHASES = (PENDING, WAITING, SERVING, DONE, CANCELLED)
PHASE_LABELS = {
    PENDING: "awaiting review",
    WAITING: "in line",
    SERVING: "being served",
    DONE: "done",
    CANCELLED: "closed",
}
ANY_STATE = "*"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
TRANSITION_KEYS = {"name", "from", "to", "label", "needs_reason"}
WORKFLOW_KEYS = {"init", "states", "transitions", "phases"}
# Bounds that keep validation fast and recursion-free whatever is posted: a real workflow is a few
# levels deep (object → transitions → transition → from-list) and a few KB.
MAX_WORKFLOW_DEPTH = 6
MAX_WORKFLOW_BYTES = 64 * 1024
MAX_STATES = 100
MAX_TRANSITIONS = 200


class WorkflowError(ValueError):
    """A workflow definition is invalid; ``errors`` lists every problem found, in plain words."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__("; ".join(errors))


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[str, ...]
    target: str
    label: str
    needs_reason: bool = False


@dataclass(frozen=True)
class Workflow:
    init: str
    states: tuple[str, ...]
    transitions: tuple[Transition, ...]
    phases: dict[str, str] = field(default_factory=dict)

    def phase(self, state: str) -> str:
        return self.phases[state]

    def allowed(self, state: str) -> list[Transition]:
        """Transitions that can fire from ``state``, in definition order."""
        return [t for t in self.transitions if state in t.sources]

    def find(self, state: str, event: str) -> Transition | None:
        for transition in self.transitions:
            if transition.name == event and state in transition.sources:
                return transition
        return None

    def first_into(self, state: str, phase: str) -> Transition | None:
        """The first transition from ``state`` that lands in ``phase`` (e.g. "call next" → serving)."""
        for transition in self.allowed(state):
            if self.phases[transition.target] == phase:
                return transition
        return None

    def states_in(self, *phases: str) -> list[str]:
        return [state for state in self.states if self.phases[state] in phases]

    def is_terminal(self, state: str) -> bool:
        return not self.allowed(state)


def json_shape_problem(value: object, *, max_depth: int, max_bytes: int) -> str | None:
    """Why ``value`` (decoded JSON) is too deep or too big, or None. Walks with an explicit stack (no
    recursion, so 10 000 levels of nesting cannot raise RecursionError) and stops as soon as a bound
    is passed (so a 10 MB document costs no more than ``max_bytes`` of work). The size is the length
    of its compact JSON text, counted approximately."""
    too_large = f"too large (more than {max_bytes // 1024} KB)"
    stack = [(value, 1)]
    size = 0
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            return f"nested too deeply (more than {max_depth} levels)"
        if isinstance(node, dict):
            children = ((str(key), child) for key, child in node.items())
        elif isinstance(node, list | tuple):
            children = (("", child) for child in node)
        else:
            size += len(node) + 2 if isinstance(node, str) else 8
            children = iter(())
        size += 2
        for key, child in children:
            size += len(key) + (4 if key else 1)
            if size > max_bytes:
                return too_large
            stack.append((child, depth + 1))
        if size > max_bytes:
            return too_large
    return None


def _as_list(value) -> list:
    return value if isinstance(value, list) else [value]


def parse_workflow(definition: object) -> Workflow:
    """Validate ``definition`` and return the workflow, or raise WorkflowError listing every problem.

    Rules: a JSON object with ``init``, ``states``, ``transitions`` and ``phases``; states are unique
    lowercase names; ``init`` and every ``from``/``to`` are states; ``from`` may be a list or ``"*"``;
    transition names are unique per source state; every state has a known phase and the initial state
    is ``pending`` or ``waiting``; at least one terminal state (no way out) exists; every state is
    reachable from ``init``. Bounds, checked first so hostile input is refused at once: at most
    ``MAX_WORKFLOW_DEPTH`` levels, ``MAX_WORKFLOW_BYTES`` of JSON, ``MAX_STATES`` and ``MAX_TRANSITIONS``.
    """
    errors: list[str] = []
    problem = json_shape_problem(definition, max_depth=MAX_WORKFLOW_DEPTH, max_bytes=MAX_WORKFLOW_BYTES)
    if problem:
        raise WorkflowError([f"The workflow is {problem}."])
    if not isinstance(definition, dict):
        raise WorkflowError(["The workflow must be a JSON object with init, states, transitions and phases."])
    unknown = sorted(set(definition) - WORKFLOW_KEYS)
    if unknown:
        errors.append(f"Unknown workflow keys: {', '.join(unknown)}.")

    states = definition.get("states")
    if not isinstance(states, list) or not states:
        raise WorkflowError([*errors, "'states' must be a non-empty list of state names."])
    if len(states) > MAX_STATES:
        raise WorkflowError([*errors, f"A workflow can have at most {MAX_STATES} states."])
    seen: set[str] = set()
    for state in states:
        if not isinstance(state, str) or not NAME_PATTERN.match(state):
            errors.append(f"State {state!r} is not a valid name (lowercase letters, digits, underscores).")
        elif state in seen:
            errors.append(f"State '{state}' is listed twice.")
        else:
            seen.add(state)
    state_set = {s for s in states if isinstance(s, str)}

    init = definition.get("init")
    if not isinstance(init, str) or init not in state_set:
        errors.append(f"The initial state {init!r} is not one of the states.")

    phases = definition.get("phases")
    if not isinstance(phases, dict):
        errors.append("'phases' must map every state to one of: " + ", ".join(PHASES) + ".")
        phases = {}
    for state in states:
        if isinstance(state, str) and state not in phases:
            errors.append(f"State '{state}' has no phase.")
    for state, phase in phases.items():
        if state not in state_set:
            errors.append(f"Phase given for unknown state '{state}'.")
        elif phase not in PHASES:
            errors.append(f"State '{state}' has unknown phase {phase!r} (use one of: {', '.join(PHASES)}).")
    if isinstance(init, str) and phases.get(init) not in (PENDING, WAITING, None):
        errors.append(
            f"The initial state '{init}' must be in phase pending or waiting, not {phases[init]!r}."
        )

    raw_transitions = definition.get("transitions")
    if not isinstance(raw_transitions, list):
        errors.append("'transitions' must be a list.")
        raw_transitions = []
    if len(raw_transitions) > MAX_TRANSITIONS:
        raise WorkflowError([*errors, f"A workflow can have at most {MAX_TRANSITIONS} transitions."])
    transitions: list[Transition] = []
    names_by_source: set[tuple[str, str]] = set()
    for index, raw in enumerate(raw_transitions, start=1):
        if not isinstance(raw, dict):
            errors.append(f"Transition #{index} must be an object with name, from and to.")
            continue
        name = raw.get("name")
        where = f"Transition '{name}'" if isinstance(name, str) else f"Transition #{index}"
        extra = sorted(set(raw) - TRANSITION_KEYS)
        if extra:
            errors.append(f"{where} has unknown keys: {', '.join(extra)}.")
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            errors.append(f"{where} needs a name of lowercase letters, digits and underscores.")
            continue
        target = raw.get("to")
        if not isinstance(target, str) or target not in state_set:
            errors.append(f"{where} goes to unknown state {target!r}.")
            continue
        source = raw.get("from")
        if source == ANY_STATE:
            sources = [s for s in states if isinstance(s, str) and s != target]
        else:
            sources = _as_list(source)
            bad = [s for s in sources if not isinstance(s, str) or s not in state_set]
            if bad or not sources:
                errors.append(
                    f"{where} comes from unknown state(s): {', '.join(map(repr, bad or [source]))}."
                )
                continue
        for state in sources:
            if (state, name) in names_by_source:
                errors.append(f"{where} is defined twice from state '{state}'.")
            names_by_source.add((state, name))
        label = raw.get("label") or name.replace("_", " ").capitalize()
        if not isinstance(label, str):
            errors.append(f"{where} has a label that is not text.")
            continue
        transitions.append(
            Transition(
                name=name,
                sources=tuple(dict.fromkeys(sources)),
                target=target,
                label=label[:60],
                needs_reason=bool(raw.get("needs_reason", False)),
            )
        )

    if errors:
        raise WorkflowError(errors)

    workflow = Workflow(init=init, states=tuple(states), transitions=tuple(transitions), phases=dict(phases))
    if not any(workflow.is_terminal(state) for state in states):
        errors.append("No terminal state: every state has a way out, so no ticket could ever finish.")
    reachable = {init}
    frontier = [init]
    while frontier:
        state = frontier.pop()
        for transition in workflow.allowed(state):
            if transition.target not in reachable:
                reachable.add(transition.target)
                frontier.append(transition.target)
    for state in states:
        if state not in reachable:
            errors.append(f"State '{state}' cannot be reached from '{init}'.")
    if errors:
        raise WorkflowError(errors)
    return workflow


# --- the system types (shipped by data migration 0002) ---------------------------------------------

CREATOR_REQUEST = {
    "init": "pending",
    "states": ["pending", "approved", "in_progress", "completed", "rejected", "expired", "cancelled"],
    "transitions": [
        {"name": "approve", "from": "pending", "to": "approved", "label": "Approve"},
        {"name": "reject", "from": "pending", "to": "rejected", "label": "Reject", "needs_reason": True},
        {"name": "start", "from": "approved", "to": "in_progress", "label": "Start"},
        {"name": "complete", "from": "in_progress", "to": "completed", "label": "Complete"},
        {"name": "cancel", "from": ["approved", "in_progress"], "to": "cancelled", "label": "Cancel",
         "needs_reason": True},
        {"name": "expire", "from": ["pending", "approved"], "to": "expired", "label": "Expire"},
    ],
    "phases": {
        "pending": PENDING, "approved": WAITING, "in_progress": SERVING, "completed": DONE,
        "rejected": CANCELLED, "expired": CANCELLED, "cancelled": CANCELLED,
    },
}  # fmt: skip

SERVICE = {
    "init": "received",
    "states": ["received", "in_progress", "ready", "completed", "expired", "cancelled"],
    "transitions": [
        {"name": "start", "from": "received", "to": "in_progress", "label": "Start"},
        {"name": "complete", "from": "in_progress", "to": "ready", "label": "Ready"},
        {"name": "pickup", "from": "ready", "to": "completed", "label": "Picked up"},
        {"name": "cancel", "from": ["received", "in_progress"], "to": "cancelled", "label": "Cancel"},
        {"name": "expire", "from": "received", "to": "expired", "label": "Expire"},
    ],
    "phases": {
        "received": WAITING, "in_progress": SERVING, "ready": SERVING, "completed": DONE,
        "expired": CANCELLED, "cancelled": CANCELLED,
    },
}  # fmt: skip

SUPPORT = {
    "init": "open",
    "states": ["open", "in_progress", "awaiting_customer", "resolved", "closed", "forwarded"],
    "transitions": [
        {"name": "start", "from": "open", "to": "in_progress", "label": "Start work"},
        {"name": "ask_customer", "from": "in_progress", "to": "awaiting_customer", "label": "Ask customer"},
        {"name": "customer_replied", "from": "awaiting_customer", "to": "in_progress", "label": "Customer replied"},  # noqa: E501
        {"name": "resolve", "from": ["open", "in_progress", "awaiting_customer"], "to": "resolved", "label": "Resolve"},  # noqa: E501
        {"name": "close", "from": "resolved", "to": "closed", "label": "Close"},
        {"name": "reopen", "from": "resolved", "to": "open", "label": "Reopen"},
        {"name": "forward", "from": ["open", "in_progress", "awaiting_customer"], "to": "forwarded",
         "label": "Forward", "needs_reason": True},
    ],
    "phases": {
        "open": WAITING, "in_progress": SERVING, "awaiting_customer": SERVING, "resolved": DONE,
        "closed": DONE, "forwarded": CANCELLED,
    },
}  # fmt: skip

SYSTEM_TYPES = {
    "creator-request": ("Creator request", CREATOR_REQUEST),
    "service": ("Service", SERVICE),
    "support": ("Support", SUPPORT),
}
