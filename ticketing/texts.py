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
    """The language a customer last used with the tenant (``Customer.language``), or None."""
    from core.i18n import supported

    return supported(str(getattr(customer, "language", "") or "")) if customer is not None else None


@contextmanager
def customer_language(customer) -> Iterator[None]:
    """Texts written for ``customer`` (emails, notifications) in the language they are sent in
    (``core.i18n.recipient_language``: the customer's own, else the tenant's default)."""
    from core.i18n import recipient_language

    if customer is None:
        yield
        return
    with translation.override(
        recipient_language(customer=customer, tenant=getattr(customer, "tenant", None))
    ):
        yield
