"""Form helpers shared by every app's views."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms

from core.errors import DomainError


def show_domain_error(form: forms.BaseForm, error: DomainError, *, skip: Iterable[str] = ()) -> None:
    """Put a service's refusal onto the form it came from: each of ``error.field_errors`` next to its
    field (a key the form has no field for, ``__all__`` included, above the form), or, when the error
    names no field, its message above the form. Keys in ``skip`` are shown by the caller elsewhere (a
    sub-form of its own)."""
    skipped = set(skip)
    for key, messages in error.field_errors.items():
        if key in skipped:
            continue
        for message in messages:
            form.add_error(key if key in form.fields else None, message)
    if not error.field_errors:
        form.add_error(None, error.message)
