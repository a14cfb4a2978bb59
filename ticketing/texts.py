"""Small helpers for translated texts of ticketing (and the apps that build on it)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import translation


def status_word(label: str) -> str:
    """A state label used inside a sentence ("A cancelled order cannot …"): lower case, except in German,
    where labels such as "Entwurf" are nouns and keep their capitals."""
    language = (translation.get_language() or "").split("-")[0]
    return str(label) if language == "de" else str(label).lower()


def language_of(customer) -> str | None:
    """The language a customer last used (when the customer model remembers one), else None."""
    code = str(getattr(customer, "language", "") or "")
    from tenants.models import LANGUAGES

    known = {language for language, _name in LANGUAGES}
    return code if code in known else None


@contextmanager
def customer_language(customer) -> Iterator[None]:
    """Texts written for ``customer`` (emails, notifications) in their language; without a remembered
    language, the active one (the request's)."""
    code = language_of(customer)
    if code is None:
        yield
        return
    with translation.override(code):
        yield
