"""Regular expressions that people supply (JSON Schema ``pattern`` in custom fields, and any other) run on
RE2 (google-re2), never on Python's backtracking ``re``: RE2 matches in time linear in the input, so a
pattern like ``^(a+)+$`` cannot hang a worker on a long value. Patterns RE2 cannot run (back-references,
look-around) are refused with a clear message when they are saved.

``SafeValidator`` is jsonschema's Draft 2020-12 validator with every keyword that evaluates a pattern
(``pattern``, ``patternProperties``, ``additionalProperties`` next to patterns, ``format: regex``) moved
onto RE2."""

from __future__ import annotations

from functools import lru_cache

import re2
from django.utils.translation import gettext as _
from jsonschema import Draft202012Validator, FormatChecker, validators
from jsonschema.exceptions import ValidationError as SchemaValidationError

# A pattern longer than this is not a form field's rule; RE2's memory budget bounds the compiled program.
MAX_PATTERN_LENGTH = 1000
MAX_PROGRAM_MEMORY = 8 << 20


class UnsafePattern(ValueError):
    """The pattern cannot run on RE2 (or is too large); the message says why, for a field error."""


def _options() -> re2.Options:
    options = re2.Options()
    options.log_errors = False
    options.max_mem = MAX_PROGRAM_MEMORY
    return options


@lru_cache(maxsize=512)
def compile_user_regex(pattern: str):
    """The RE2 program for ``pattern``; raises UnsafePattern with a message a person can act on."""
    if not isinstance(pattern, str):
        raise UnsafePattern(_("A pattern must be text."))
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise UnsafePattern(
            _("The pattern is longer than %(limit)s characters.") % {"limit": MAX_PATTERN_LENGTH}
        )
    if "\x00" in pattern:
        raise UnsafePattern(_("The pattern contains a NUL character."))
    try:
        return re2.compile(pattern, _options())
    except re2.error as error:
        detail = (
            error.args[0].decode(errors="replace") if error.args and isinstance(error.args[0], bytes) else ""
        )
        raise UnsafePattern(
            _(
                "The pattern %(pattern)s cannot be used (%(detail)s): patterns run on RE2, which has no "
                "back-references or look-around."
            )
            % {"pattern": repr(pattern), "detail": detail or _("invalid")}
        ) from None


def user_regex_search(pattern: str, text: str) -> bool:
    return compile_user_regex(pattern).search(text) is not None


# --- jsonschema on RE2 ----------------------------------------------------------------------------


def _pattern(validator, pattern, instance, schema):
    if not validator.is_type(instance, "string"):
        return
    try:
        matched = user_regex_search(pattern, instance)
    except UnsafePattern as error:
        yield SchemaValidationError(str(error))
        return
    if not matched:
        yield SchemaValidationError(f"{instance!r} does not match {pattern!r}")


def _pattern_properties(validator, pattern_properties, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    for pattern, subschema in pattern_properties.items():
        for key, value in instance.items():
            try:
                matched = user_regex_search(pattern, key)
            except UnsafePattern as error:
                yield SchemaValidationError(str(error))
                return
            if matched:
                yield from validator.descend(value, subschema, path=key, schema_path=pattern)


def _additional_properties(validator, additional, instance, schema):
    if not validator.is_type(instance, "object"):
        return
    properties = schema.get("properties", {})
    patterns = list(schema.get("patternProperties", {}))
    extras = []
    for key in instance:
        if key in properties:
            continue
        try:
            if any(user_regex_search(pattern, key) for pattern in patterns):
                continue
        except UnsafePattern as error:
            yield SchemaValidationError(str(error))
            return
        extras.append(key)
    if validator.is_type(additional, "object"):
        for key in extras:
            yield from validator.descend(instance[key], additional, path=key)
    elif not additional and extras:
        listed = ", ".join(repr(key) for key in sorted(extras))
        yield SchemaValidationError(f"Additional properties are not allowed ({listed} unexpected)")


def _is_regex(instance) -> bool:
    if not isinstance(instance, str):
        return True
    compile_user_regex(instance)
    return True


FORMAT_CHECKER = FormatChecker()
FORMAT_CHECKER.checks("regex", raises=UnsafePattern)(_is_regex)

SafeValidator = validators.extend(
    Draft202012Validator,
    {
        "pattern": _pattern,
        "patternProperties": _pattern_properties,
        "additionalProperties": _additional_properties,
    },
)


def schema_patterns(document) -> list[str]:
    """Every regular expression a JSON Schema document names (``pattern`` values and
    ``patternProperties`` keys), at any depth."""
    found: list[str] = []
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "pattern" and isinstance(value, str):
                    found.append(value)
                elif key == "patternProperties" and isinstance(value, dict):
                    found.extend(value)
                stack.append(value)
        elif isinstance(node, list):
            stack.extend(node)
    return found
