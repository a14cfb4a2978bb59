"""Custom fields: a ticket type's JSON Schema (draft 2020-12) rendered as ordinary Django form fields, and
the server-side validation of ``custom_data`` with ``jsonschema`` (always, whatever the form did).

The form renderer supports a flat object whose properties are strings (optionally ``enum``, ``format``
email/date/uri, ``maxLength``/``minLength``/``pattern``), integers and numbers (``minimum``/``maximum``),
booleans, and arrays of string enums (checkboxes). Anything else is refused when the type is saved, so a
public form can always be drawn.
"""

from __future__ import annotations

import datetime

from django import forms
from django.utils.translation import gettext, pgettext, pgettext_lazy
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from core.regex import FORMAT_CHECKER, SafeValidator, UnsafePattern, compile_user_regex, schema_patterns
from queues.workflow import json_shape_problem

FIELD_PREFIX = "custom__"

# The system types' schemas are the app's text (``services.SUPPORT_SCHEMA``): their titles and choices
# read in the page's language; the stored values stay the English ones. A tenant's own schema is its text.
SYSTEM_LABELS = {
    "Category": pgettext_lazy("support field", "Category"),
    "Account": pgettext_lazy("support category", "Account"),
    "Equipment": pgettext_lazy("support category", "Equipment"),
    "Facilities": pgettext_lazy("support category", "Facilities"),
    "Other": pgettext_lazy("support category", "Other"),
}
# A renderable schema is a flat object (schema → properties → field → items → enum): a few levels.
MAX_SCHEMA_DEPTH = 12
MAX_SCHEMA_BYTES = 64 * 1024


def check_schema(schema: dict) -> None:
    """Raise ValueError with a clear message when ``schema`` is not a renderable 2020-12 object schema."""
    if schema in (None, {}):
        return
    problem = json_shape_problem(schema, max_depth=MAX_SCHEMA_DEPTH, max_bytes=MAX_SCHEMA_BYTES)
    if problem:  # before jsonschema, which recurses into the document
        raise ValueError(gettext("The custom-fields schema is %(problem)s.") % {"problem": problem})
    if not isinstance(schema, dict):
        raise ValueError(gettext("The custom-fields schema must be a JSON object."))
    # Patterns run on RE2 (linear time); one it cannot run is refused here, not at a customer's submit.
    for pattern in schema_patterns(schema):
        try:
            compile_user_regex(pattern)
        except UnsafePattern as error:
            raise ValueError(str(error)) from None
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        raise ValueError(
            gettext("Not a valid JSON Schema: %(problem)s") % {"problem": error.message}
        ) from None
    if schema.get("type") != "object":
        raise ValueError(gettext('The custom-fields schema must have "type": "object" at the top.'))
    properties = schema.get("properties", {})
    for name, spec in properties.items():
        kind = spec.get("type")
        if kind == "array":
            items = spec.get("items", {})
            if items.get("type") != "string" or "enum" not in items:
                raise ValueError(
                    gettext("Custom field '%(name)s': lists must be of string choices (items with enum).")
                    % {"name": name}
                )
        elif kind not in ("string", "integer", "number", "boolean"):
            raise ValueError(
                gettext(
                    "Custom field '%(name)s': type %(kind)r cannot be shown on a form "
                    "(use string, integer, number, boolean or a list of choices)."
                )
                % {"name": name, "kind": kind}
            )
    for name in schema.get("required", []):
        if name not in properties:
            raise ValueError(
                gettext("Required custom field '%(name)s' is not among the properties.") % {"name": name}
            )


# Numbers a schema leaves unbounded still get a range: JSON (and the JavaScript that reads it back) holds
# integers exactly up to 2^53 - 1, and a bound keeps a hostile 10^400 a field error instead of a crash.
JSON_SAFE_INTEGER = 2**53 - 1


def _bounds(spec: dict) -> tuple[float, float]:
    low, high = spec.get("minimum"), spec.get("maximum")
    low = -JSON_SAFE_INTEGER if not isinstance(low, int | float) else max(low, -JSON_SAFE_INTEGER)
    high = JSON_SAFE_INTEGER if not isinstance(high, int | float) else min(high, JSON_SAFE_INTEGER)
    return low, high


def _label(name: str, spec: dict) -> str:
    return spec.get("title") or name.replace("_", " ").capitalize()


def system_text(text) -> str:
    """A system schema's title or choice in the active language (unknown texts as they are)."""
    return str(SYSTEM_LABELS.get(text, text))


def form_fields(schema: dict, *, system: bool = False) -> dict[str, forms.Field]:
    """Django form fields for the schema's properties, keyed ``custom__<name>``. ``system``: the schema is
    a system type's, whose titles and choices are translated (``SYSTEM_LABELS``)."""
    show = system_text if system else str
    fields: dict[str, forms.Field] = {}
    required = set((schema or {}).get("required", []))
    for name, spec in (schema or {}).get("properties", {}).items():
        common = {
            "label": show(_label(name, spec)),
            "required": name in required,
            "help_text": spec.get("description", ""),
        }
        kind = spec.get("type")
        if kind == "string" and "enum" in spec:
            choices = [(value, show(value)) for value in spec["enum"]]
            if name not in required:
                choices = [("", "—"), *choices]
            field: forms.Field = forms.ChoiceField(choices=choices, **common)
        elif kind == "string" and spec.get("format") == "email":
            field = forms.EmailField(max_length=spec.get("maxLength", 254), **common)
        elif kind == "string" and spec.get("format") == "date":
            field = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
        elif kind == "string" and spec.get("format") == "uri":
            field = forms.URLField(max_length=spec.get("maxLength", 500), **common)
        elif kind == "string":
            max_length = spec.get("maxLength")
            widget = forms.Textarea(attrs={"rows": 3}) if (max_length or 1000) > 200 else None
            field = forms.CharField(
                max_length=max_length, min_length=spec.get("minLength"), widget=widget, **common
            )
            if "pattern" in spec:
                field.widget.attrs["pattern"] = spec["pattern"]
        elif kind == "integer":
            low, high = _bounds(spec)
            field = forms.IntegerField(min_value=low, max_value=high, **common)
        elif kind == "number":
            low, high = _bounds(spec)
            field = forms.FloatField(min_value=low, max_value=high, **common)
        elif kind == "boolean":
            common["required"] = False  # an unticked box is "false", not missing
            field = forms.BooleanField(**common)
        elif kind == "array":
            field = forms.MultipleChoiceField(
                choices=[(value, show(value)) for value in spec["items"]["enum"]],
                widget=forms.CheckboxSelectMultiple,
                **common,
            )
        else:  # refused by check_schema; skip defensively
            continue
        fields[FIELD_PREFIX + name] = field
    return fields


def data_rows(schema: dict, data: dict, *, system: bool = False) -> list[tuple[str, str]]:
    """``custom_data`` as (title, value) pairs to show: a field's title from the schema (its name when the
    schema no longer has it), lists joined, yes/no for booleans; a system schema's texts translated."""
    show = system_text if system else str
    properties = (schema or {}).get("properties", {})
    rows = []
    for name, value in (data or {}).items():
        spec = properties.get(name)
        label = show(_label(name, spec)) if isinstance(spec, dict) else name
        if isinstance(value, bool):
            text = pgettext("custom field", "yes") if value else pgettext("custom field", "no")
        elif isinstance(value, list):
            text = ", ".join(show(item) for item in value)
        else:
            text = show(value)
        rows.append((label, text))
    return rows


def data_from_cleaned(schema: dict, cleaned: dict) -> dict:
    """Turn cleaned form values into the JSON object stored as ``custom_data`` (blanks left out)."""
    data: dict = {}
    for name, spec in (schema or {}).get("properties", {}).items():
        value = cleaned.get(FIELD_PREFIX + name)
        if value in (None, "", []):
            if spec.get("type") == "boolean":
                data[name] = False
            continue
        if isinstance(value, datetime.date):
            value = value.isoformat()
        data[name] = value
    return data


def validate_custom_data(schema: dict, data: dict) -> dict[str, list[str]]:
    """Validate ``data`` against ``schema``; return errors keyed by field name ("" for the whole object)."""
    if not schema:
        return {} if not data else {"": [gettext("This ticket type has no custom fields.")]}
    # RE2 for every pattern keyword (core.regex), never Python's backtracking re.
    validator = SafeValidator(schema, format_checker=FORMAT_CHECKER)
    errors: dict[str, list[str]] = {}
    for error in sorted(validator.iter_errors(data), key=lambda e: list(e.path)):
        if error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else ""
            spec = schema.get("properties", {}).get(missing, {})
            errors.setdefault(missing, []).append(f"{_label(missing, spec)} is required.")
            continue
        key = str(error.path[0]) if error.path else ""
        errors.setdefault(key, []).append(error.message)
    return errors
