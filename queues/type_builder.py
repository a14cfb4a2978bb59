"""The ticket-type form: states, transitions and custom fields as rows of ordinary form fields (formsets),
turned into the same workflow and JSON Schema documents the JSON view edits — and validated the same
way, by ``services.ticket_type_save`` (``workflow.parse_workflow`` and ``schema_forms.check_schema``).

The rows only collect and tidy; every rule about states, phases and transitions is the workflow
parser's. A row whose name is left empty is no row (that is how one is removed). "More rows" buttons
post the form back with extra empty rows, so everything works without JavaScript.

Custom fields: a field kind stands for one JSON Schema property shape (see ``KINDS``). A schema that the
rows cannot say exactly (a pattern, a minimum, …) is kept as it is and edited in the JSON view: the
form says so instead of dropping what it cannot show (``schema_rows`` returns None).
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from queues import workflow as wf

ROW_LIMIT = 60  # rows per section the form accepts (the parser's own bounds are higher; a form is not)
PHASE_CHOICES = [(phase, f"{phase} — {wf.PHASE_LABELS[phase]}") for phase in wf.PHASES]

KINDS = {
    "text": (_("Short text"), {"type": "string", "maxLength": 200}),
    "long_text": (_("Long text"), {"type": "string", "maxLength": 4000}),
    "email": (_("Email address"), {"type": "string", "format": "email"}),
    "date": (_("Date"), {"type": "string", "format": "date"}),
    "url": (_("Web address"), {"type": "string", "format": "uri"}),
    "integer": (_("Whole number"), {"type": "integer"}),
    "number": (_("Number"), {"type": "number"}),
    "boolean": (_("Yes / no"), {"type": "boolean"}),
    "choice": (_("One of a list"), {"type": "string"}),
    "choices": (_("Several of a list"), {"type": "array"}),
}
LIST_KINDS = ("choice", "choices")


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


class TypeBasicsForm(forms.Form):
    code = forms.SlugField(max_length=50, label=_("Code"), help_text=_("Letters, digits and dashes."))
    name = forms.CharField(max_length=100, label=_("Name"))
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, label=_("Description")
    )
    init = forms.CharField(
        max_length=50,
        required=False,
        label=_("Initial state"),
        help_text=_("Where a new ticket starts. Empty: the first state below."),
    )
    ttl_minutes = forms.IntegerField(
        min_value=1, max_value=43200, required=False, label=_("Time limit (minutes)")
    )

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class StateRowForm(forms.Form):
    name = forms.CharField(
        max_length=50,
        required=False,
        label=_("State"),
        help_text=_("Lowercase letters, digits, underscores."),
    )
    phase = forms.ChoiceField(choices=PHASE_CHOICES, initial=wf.WAITING, label=_("Phase"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class TransitionRowForm(forms.Form):
    name = forms.CharField(max_length=50, required=False, label=_("Transition"))
    label = forms.CharField(max_length=60, required=False, label=_("Button text"))
    sources = forms.CharField(
        max_length=1000,
        required=False,
        label=_("From"),
        help_text=_("A state, several separated by commas, or * for any state."),
    )
    target = forms.CharField(max_length=50, required=False, label=_("To"))
    needs_reason = forms.BooleanField(required=False, label=_("Needs a reason"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        if (cleaned.get("name") or "").strip():
            if not (cleaned.get("sources") or "").strip():
                self.add_error("sources", _("Say which state(s) it starts from."))
            if not (cleaned.get("target") or "").strip():
                self.add_error("target", _("Say which state it leads to."))
        return cleaned


class FieldRowForm(forms.Form):
    name = forms.SlugField(max_length=50, required=False, label=_("Field"))
    title = forms.CharField(max_length=100, required=False, label=_("Label"))
    kind = forms.ChoiceField(
        choices=[(key, label) for key, (label, _shape) in KINDS.items()], label=_("Kind")
    )
    choices = forms.CharField(
        max_length=2000,
        required=False,
        label=_("Choices"),
        help_text=_("For a list kind: the choices, separated by commas."),
    )
    required = forms.BooleanField(required=False, label=_("Required"))
    description = forms.CharField(max_length=300, required=False, label=_("Help text"))

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("name")
            and cleaned.get("kind") in LIST_KINDS
            and not _names(cleaned.get("choices", ""))
        ):
            self.add_error("choices", _("Give at least one choice."))
        return cleaned


StateFormSet = forms.formset_factory(StateRowForm, extra=0, max_num=ROW_LIMIT, validate_max=True)
TransitionFormSet = forms.formset_factory(TransitionRowForm, extra=0, max_num=ROW_LIMIT, validate_max=True)
FieldFormSet = forms.formset_factory(FieldRowForm, extra=0, max_num=ROW_LIMIT, validate_max=True)
SECTIONS = {"states": StateFormSet, "transitions": TransitionFormSet, "fields": FieldFormSet}
EXTRA_ROWS = {"states": 2, "transitions": 2, "fields": 1}


# --- documents → rows ---------------------------------------------------------------------------------


def workflow_rows(workflow: dict) -> tuple[list[dict], list[dict]]:
    """State rows and transition rows of a (valid) workflow document."""
    phases = workflow.get("phases", {})
    # A state may be an object carrying its labels (``workflow``): the row shows its name.
    names = [
        state.get("name", "") if isinstance(state, dict) else state for state in workflow.get("states", [])
    ]
    states = [{"name": name, "phase": phases.get(name, wf.WAITING)} for name in names]
    transitions = []
    for raw in workflow.get("transitions", []):
        source = raw.get("from")
        transitions.append(
            {
                "name": raw.get("name", ""),
                "label": raw.get("label", ""),
                "sources": ", ".join(source) if isinstance(source, list) else str(source or ""),
                "target": raw.get("to", ""),
                "needs_reason": bool(raw.get("needs_reason")),
            }
        )
    return states, transitions


def _kind_of(spec: dict) -> str | None:
    for key, (_label, shape) in KINDS.items():
        if key in LIST_KINDS:
            continue
        if {name: spec.get(name) for name in shape} == shape:
            return key
    if spec.get("type") == "string" and "enum" in spec:
        return "choice"
    if spec.get("type") == "array":
        return "choices"
    return None


def schema_rows(schema: dict) -> list[dict] | None:
    """Field rows that say ``schema`` exactly, or None when the rows cannot (edit it as JSON then)."""
    schema = schema or {}
    if not schema or schema == {"type": "object", "properties": {}}:
        return []
    if not isinstance(schema.get("properties"), dict):
        return None
    required = set(schema.get("required", []))
    rows = []
    for name, spec in schema["properties"].items():
        kind = _kind_of(spec) if isinstance(spec, dict) else None
        if kind is None:
            return None
        values = spec.get("enum") if kind == "choice" else (spec.get("items") or {}).get("enum", [])
        rows.append(
            {
                "name": name,
                "title": spec.get("title", ""),
                "kind": kind,
                "choices": ", ".join(str(value) for value in values or []) if kind in LIST_KINDS else "",
                "required": name in required,
                "description": spec.get("description", ""),
            }
        )
    return rows if fields_schema(rows) == schema else None


# --- rows → documents ---------------------------------------------------------------------------------


def _filled(rows: list[dict]) -> list[dict]:
    return [row for row in rows if row and (row.get("name") or "").strip()]


def _kept_labels(previous: dict | None) -> tuple[dict[str, dict], dict[str, dict]]:
    """What the rows cannot show of ``previous`` (the saved workflow), by state and transition name: a
    state's own label and the labels per language of states and transitions. Saving the form keeps them
    for every state and transition it keeps under the same name (edit them in the JSON view)."""
    states: dict[str, dict] = {}
    transitions: dict[str, dict] = {}
    for raw in (previous or {}).get("states", []):
        if isinstance(raw, dict) and raw.get("name"):
            states[raw["name"]] = {key: raw[key] for key in ("label", "labels") if raw.get(key)}
    for raw in (previous or {}).get("transitions", []):
        if isinstance(raw, dict) and raw.get("name") and raw.get("labels"):
            transitions[raw["name"]] = {"labels": raw["labels"]}
    return states, transitions


def workflow_document(
    *, init: str, states: list[dict], transitions: list[dict], previous: dict | None = None
) -> dict:
    """The workflow document the rows say (unvalidated: the parser judges it), keeping the labels of
    ``previous`` the rows do not show (``_kept_labels``)."""
    kept_states, kept_transitions = _kept_labels(previous)
    states = _filled(states)
    names = [row["name"].strip() for row in states]
    document: dict = {
        "init": (init or "").strip() or (names[0] if names else ""),
        "states": [{"name": name, **kept_states[name]} if kept_states.get(name) else name for name in names],
        "transitions": [],
        "phases": {row["name"].strip(): row["phase"] for row in states},
    }
    for row in _filled(transitions):
        sources = (row.get("sources") or "").strip()
        if sources != wf.ANY_STATE:
            listed = _names(sources)
            sources = listed[0] if len(listed) == 1 else listed
        transition = {"name": row["name"].strip(), "from": sources, "to": (row.get("target") or "").strip()}
        if (row.get("label") or "").strip():
            transition["label"] = row["label"].strip()
        if row.get("needs_reason"):
            transition["needs_reason"] = True
        transition.update(kept_transitions.get(transition["name"], {}))
        document["transitions"].append(transition)
    return document


def fields_schema(rows: list[dict]) -> dict:
    """The JSON Schema object the field rows say."""
    properties: dict = {}
    required: list[str] = []
    for row in _filled(rows):
        name = row["name"].strip()
        kind = row.get("kind") or "text"
        spec = dict(KINDS[kind][1])
        if kind == "choice":
            spec["enum"] = _names(row.get("choices", ""))
        elif kind == "choices":
            spec["items"] = {"type": "string", "enum": _names(row.get("choices", ""))}
        if (row.get("title") or "").strip():
            spec["title"] = row["title"].strip()
        if (row.get("description") or "").strip():
            spec["description"] = row["description"].strip()
        properties[name] = spec
        if row.get("required"):
            required.append(name)
    schema: dict = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema
