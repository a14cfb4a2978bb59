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
A state may be given as an object instead of its bare name: ``{"name": "in_progress", "label": "in
progress"}``. States and transitions may carry ``labels``, the label per language (``{"de": "In
Bearbeitung", "es": "En curso"}``, keys from ``settings.LANGUAGES``): the label shown is the one for the
active language, else the default ``label`` (the standard names of the shipped types are translated by
the catalog), else the name in words. Labels are tenant text: templates escape them like any other.

:func:`parse_workflow` validates a definition and returns a :class:`Workflow`; every problem is reported
with the state or transition it concerns. Nothing here touches the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.utils.translation import get_language, gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

PENDING, WAITING, SERVING, DONE, CANCELLED = "pending", "waiting", "serving", "done", "cancelled"
PHASES = (PENDING, WAITING, SERVING, DONE, CANCELLED)
PHASE_LABELS = {
    PENDING: _("awaiting review"),
    WAITING: _("in line"),
    SERVING: _("being served"),
    DONE: _("done"),
    CANCELLED: _("closed"),
}
ANY_STATE = "*"
NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
TRANSITION_KEYS = {"name", "from", "to", "label", "labels", "needs_reason"}
STATE_KEYS = {"name", "label", "labels"}
MAX_LABEL_LENGTH = 60

# The names of the shipped types' states and the labels of their transitions, in the catalog: a state
# without a label of its own, or a transition whose label is one of these English words, reads in the
# active language (a tenant type copied from a shipped one gets them too). Anything else the tenant
# wrote is shown as written unless it carries ``labels`` for the language.
STANDARD_STATE_LABELS = {
    "pending": pgettext_lazy("ticket state", "pending"),
    "approved": pgettext_lazy("ticket state", "approved"),
    "in_progress": pgettext_lazy("ticket state", "in progress"),
    "completed": pgettext_lazy("ticket state", "completed"),
    "rejected": pgettext_lazy("ticket state", "rejected"),
    "expired": pgettext_lazy("ticket state", "expired"),
    "cancelled": pgettext_lazy("ticket state", "cancelled"),
    "received": pgettext_lazy("ticket state", "received"),
    "ready": pgettext_lazy("ticket state", "ready"),
    "open": pgettext_lazy("ticket state", "open"),
    "awaiting_customer": pgettext_lazy("ticket state", "awaiting customer"),
    "resolved": pgettext_lazy("ticket state", "resolved"),
    "closed": pgettext_lazy("ticket state", "closed"),
    "forwarded": pgettext_lazy("ticket state", "forwarded"),
}
STANDARD_TRANSITION_LABELS = {
    "Approve": pgettext_lazy("ticket action", "Approve"),
    "Reject": pgettext_lazy("ticket action", "Reject"),
    "Start": pgettext_lazy("ticket action", "Start"),
    "Complete": pgettext_lazy("ticket action", "Complete"),
    "Cancel": pgettext_lazy("ticket action", "Cancel"),
    "Expire": pgettext_lazy("ticket action", "Expire"),
    "Ready": pgettext_lazy("ticket action", "Ready"),
    "Picked up": pgettext_lazy("ticket action", "Picked up"),
    "Start work": pgettext_lazy("ticket action", "Start work"),
    "Ask customer": pgettext_lazy("ticket action", "Ask customer"),
    "Customer replied": pgettext_lazy("ticket action", "Customer replied"),
    "Resolve": pgettext_lazy("ticket action", "Resolve"),
    "Close": pgettext_lazy("ticket action", "Close"),
    "Reopen": pgettext_lazy("ticket action", "Reopen"),
    "Forward": pgettext_lazy("ticket action", "Forward"),
}
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


def known_languages() -> list[str]:
    from django.conf import settings

    return [code for code, _name in settings.LANGUAGES]


def _for_language(labels: dict[str, str]) -> str | None:
    """The label of ``labels`` for the active language (``de-at`` falls back to ``de``), or None."""
    if not labels:
        return None
    language = (get_language() or "").lower()
    return labels.get(language) or labels.get(language.split("-")[0])


@dataclass(frozen=True)
class Transition:
    name: str
    sources: tuple[str, ...]
    target: str
    label: str
    needs_reason: bool = False
    labels: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def shown_label(self) -> str:
        """The button text in the active language."""
        chosen = _for_language(self.labels)
        if chosen:
            return chosen
        standard = STANDARD_TRANSITION_LABELS.get(self.label)
        return str(standard) if standard is not None else self.label


@dataclass(frozen=True)
class Workflow:
    init: str
    states: tuple[str, ...]
    transitions: tuple[Transition, ...]
    phases: dict[str, str] = field(default_factory=dict)
    # Per state: its own default label (absent: none given) and its labels per language.
    state_default_labels: dict[str, str] = field(default_factory=dict)
    state_labels: dict[str, dict[str, str]] = field(default_factory=dict)

    def phase(self, state: str) -> str:
        return self.phases[state]

    def state_label(self, state: str) -> str:
        """How ``state`` reads in the active language (see the module docstring for the fallbacks)."""
        chosen = _for_language(self.state_labels.get(state, {}))
        if chosen:
            return chosen
        if state in self.state_default_labels:
            return self.state_default_labels[state]
        standard = STANDARD_STATE_LABELS.get(state)
        return str(standard) if standard is not None else state.replace("_", " ")

    def transition_label(self, event: str) -> str:
        """The label of the first transition named ``event`` in the active language (its name in words
        when the workflow has no such transition, e.g. a history row written under an older version)."""
        for transition in self.transitions:
            if transition.name == event:
                return transition.shown_label
        return event.replace("_", " ")

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
    too_large = gettext("too large (more than %(size)s KB)") % {"size": max_bytes // 1024}
    stack = [(value, 1)]
    size = 0
    while stack:
        node, depth = stack.pop()
        if depth > max_depth:
            return gettext("nested too deeply (more than %(depth)s levels)") % {"depth": max_depth}
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


def _label_problem(value: object) -> str | None:
    if not isinstance(value, str):
        return gettext("is not text")
    if not value.strip():
        return gettext("is empty")
    if len(value) > MAX_LABEL_LENGTH:
        return gettext("is longer than %(limit)s characters") % {"limit": MAX_LABEL_LENGTH}
    return None


def _parse_labels(value: object, where: str, languages: list[str], errors: list[str]) -> dict[str, str]:
    """``labels`` of a state or transition: an object from language codes to label texts."""
    if not isinstance(value, dict):
        errors.append(
            gettext("%(where)s: 'labels' must map language codes (%(languages)s) to labels.")
            % {"where": where, "languages": ", ".join(languages)}
        )
        return {}
    labels: dict[str, str] = {}
    for language, text in value.items():
        if language not in languages:
            errors.append(
                gettext(
                    "%(where)s has a label for unknown language %(language)r (use one of: %(languages)s)."
                )
                % {"where": where, "language": language, "languages": ", ".join(languages)}
            )
            continue
        problem = _label_problem(text)
        if problem:
            errors.append(
                gettext("%(where)s has a %(language)s label that %(problem)s.")
                % {"where": where, "language": language, "problem": problem}
            )
            continue
        labels[language] = text.strip()
    return labels


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
        raise WorkflowError([gettext("The workflow is %(problem)s.") % {"problem": problem}])
    if not isinstance(definition, dict):
        raise WorkflowError(
            [gettext("The workflow must be a JSON object with init, states, transitions and phases.")]
        )
    unknown = sorted(set(definition) - WORKFLOW_KEYS)
    if unknown:
        errors.append(gettext("Unknown workflow keys: %(keys)s.") % {"keys": ", ".join(unknown)})

    states = definition.get("states")
    if not isinstance(states, list) or not states:
        raise WorkflowError([*errors, gettext("'states' must be a non-empty list of state names.")])
    if len(states) > MAX_STATES:
        raise WorkflowError(
            [*errors, gettext("A workflow can have at most %(count)s states.") % {"count": MAX_STATES}]
        )
    seen: set[str] = set()
    languages = known_languages()
    state_default_labels: dict[str, str] = {}
    state_labels: dict[str, dict[str, str]] = {}
    names: list[object] = []
    for entry in states:
        state = entry
        if isinstance(entry, dict):
            state = entry.get("name")
            where = (
                gettext("State '%(state)s'") % {"state": state}
                if isinstance(state, str)
                else gettext("A state")
            )
            extra = sorted(set(entry) - STATE_KEYS)
            if extra:
                errors.append(
                    gettext("%(where)s has unknown keys: %(keys)s.")
                    % {"where": where, "keys": ", ".join(map(str, extra))}
                )
            if isinstance(state, str):
                if "label" in entry:
                    label_problem = _label_problem(entry["label"])
                    if label_problem:
                        errors.append(
                            gettext("%(where)s has a label that %(problem)s.")
                            % {"where": where, "problem": label_problem}
                        )
                    else:
                        state_default_labels[state] = entry["label"].strip()
                if "labels" in entry:
                    state_labels[state] = _parse_labels(entry["labels"], where, languages, errors)
        names.append(state)
        if not isinstance(state, str) or not NAME_PATTERN.match(state):
            errors.append(
                gettext("State %(state)r is not a valid name (lowercase letters, digits, underscores).")
                % {"state": state}
            )
        elif state in seen:
            errors.append(gettext("State '%(state)s' is listed twice.") % {"state": state})
        else:
            seen.add(state)
    states = names
    state_set = {s for s in states if isinstance(s, str)}

    init = definition.get("init")
    if not isinstance(init, str) or init not in state_set:
        errors.append(gettext("The initial state %(state)r is not one of the states.") % {"state": init})

    phases = definition.get("phases")
    if not isinstance(phases, dict):
        errors.append(
            gettext("'phases' must map every state to one of: %(phases)s.") % {"phases": ", ".join(PHASES)}
        )
        phases = {}
    for state in states:
        if isinstance(state, str) and state not in phases:
            errors.append(gettext("State '%(state)s' has no phase.") % {"state": state})
    for state, phase in phases.items():
        if state not in state_set:
            errors.append(gettext("Phase given for unknown state '%(state)s'.") % {"state": state})
        elif phase not in PHASES:
            errors.append(
                gettext("State '%(state)s' has unknown phase %(phase)r (use one of: %(phases)s).")
                % {"state": state, "phase": phase, "phases": ", ".join(PHASES)}
            )
    if isinstance(init, str) and phases.get(init) not in (PENDING, WAITING, None):
        errors.append(
            gettext("The initial state '%(state)s' must be in phase pending or waiting, not %(phase)r.")
            % {"state": init, "phase": phases[init]}
        )

    raw_transitions = definition.get("transitions")
    if not isinstance(raw_transitions, list):
        errors.append(gettext("'transitions' must be a list."))
        raw_transitions = []
    if len(raw_transitions) > MAX_TRANSITIONS:
        raise WorkflowError(
            [
                *errors,
                gettext("A workflow can have at most %(count)s transitions.") % {"count": MAX_TRANSITIONS},
            ]
        )
    transitions: list[Transition] = []
    names_by_source: set[tuple[str, str]] = set()
    for index, raw in enumerate(raw_transitions, start=1):
        if not isinstance(raw, dict):
            errors.append(
                gettext("Transition #%(index)s must be an object with name, from and to.") % {"index": index}
            )
            continue
        name = raw.get("name")
        where = (
            gettext("Transition '%(name)s'") % {"name": name}
            if isinstance(name, str)
            else gettext("Transition #%(index)s") % {"index": index}
        )
        extra = sorted(set(raw) - TRANSITION_KEYS)
        if extra:
            errors.append(
                gettext("%(where)s has unknown keys: %(keys)s.") % {"where": where, "keys": ", ".join(extra)}
            )
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            errors.append(
                gettext("%(where)s needs a name of lowercase letters, digits and underscores.")
                % {"where": where}
            )
            continue
        target = raw.get("to")
        if not isinstance(target, str) or target not in state_set:
            errors.append(
                gettext("%(where)s goes to unknown state %(state)r.") % {"where": where, "state": target}
            )
            continue
        source = raw.get("from")
        if source == ANY_STATE:
            sources = [s for s in states if isinstance(s, str) and s != target]
        else:
            sources = _as_list(source)
            bad = [s for s in sources if not isinstance(s, str) or s not in state_set]
            if bad or not sources:
                errors.append(
                    gettext("%(where)s comes from unknown state(s): %(states)s.")
                    % {"where": where, "states": ", ".join(map(repr, bad or [source]))}
                )
                continue
        for state in sources:
            if (state, name) in names_by_source:
                errors.append(
                    gettext("%(where)s is defined twice from state '%(state)s'.")
                    % {"where": where, "state": state}
                )
            names_by_source.add((state, name))
        label = raw.get("label") or name.replace("_", " ").capitalize()
        if not isinstance(label, str):
            errors.append(
                gettext("%(where)s has a label that %(problem)s.")
                % {"where": where, "problem": gettext("is not text")}
            )
            continue
        labels = _parse_labels(raw["labels"], where, languages, errors) if "labels" in raw else {}
        transitions.append(
            Transition(
                name=name,
                sources=tuple(dict.fromkeys(sources)),
                target=target,
                label=label[:MAX_LABEL_LENGTH],
                needs_reason=bool(raw.get("needs_reason", False)),
                labels=labels,
            )
        )

    if errors:
        raise WorkflowError(errors)

    workflow = Workflow(
        init=init,
        states=tuple(states),
        transitions=tuple(transitions),
        phases=dict(phases),
        state_default_labels=state_default_labels,
        state_labels=state_labels,
    )
    if not any(workflow.is_terminal(state) for state in states):
        errors.append(
            gettext("No terminal state: every state has a way out, so no ticket could ever finish.")
        )
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
            errors.append(
                gettext("State '%(state)s' cannot be reached from '%(init)s'.")
                % {"state": state, "init": init}
            )
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
# The system types' names as pages show them, in the page's language (the rows keep the English name).
SYSTEM_TYPE_NAMES = {
    "creator-request": pgettext_lazy("ticket type", "Creator request"),
    "service": pgettext_lazy("ticket type", "Service"),
    "support": pgettext_lazy("ticket type", "Support"),
}
