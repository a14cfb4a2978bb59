"""Public event search (seed 002): text, sale status and city, capped at ``SEARCH_LIMIT``.

Text matches in either of two indexed ways, best first:
- **word prefixes** through the full-text index (``search_vector``, GIN): every word typed becomes a
  prefix term (``velv:*``), so "Velv" finds "Velvet" and "jazz nig" finds "Jazz Night";
- **small typos** through pg_trgm word similarity on ``search_text`` (trigram GIN index): "Velvit" finds
  "Velvet". The operator ``%>`` uses the index; its threshold is set for this transaction only.

Input is the buyer's: NUL and other control characters are dropped (PostgreSQL refuses NUL in text),
lengths are capped, words are reduced to letters and digits before they reach ``to_tsquery`` (its syntax
characters never pass), and an unknown status or city filter is ignored rather than refused.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from django.contrib.postgres.search import SearchQuery, SearchRank, TrigramWordSimilarity
from django.db import connection, transaction
from django.db.models import Q
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ticketing.models import Event, EventStatus

SEARCH_LIMIT = 100
QUERY_MAX_LENGTH = 200
MAX_WORDS = 8
# "velvit" shares 4 of its 7 trigrams with "velvet" (0.57); pg_trgm's default of 0.6 would miss it.
TYPO_THRESHOLD = 0.45
PUBLIC_STATUSES = (EventStatus.ON_SALE, EventStatus.SOLD_OUT, EventStatus.CANCELLED)

SALE_FILTERS = {
    "on_sale": _("On sale now"),
    "upcoming": _("Sale not open yet"),
    "sold_out": _("Sold out"),
    "cancelled": _("Cancelled"),
}

_WORD = re.compile(r"[^\W_]+")


def clean_text(value: object, *, limit: int = QUERY_MAX_LENGTH) -> str:
    """``value`` as one line of printable text: control characters (NUL included) become spaces,
    surrounding space is stripped, at most ``limit`` characters."""
    text = "".join(
        " " if unicodedata.category(char).startswith("C") else char for char in str(value or "")[: limit * 2]
    )
    return " ".join(text.split())[:limit]


def prefix_terms(query: str) -> str:
    """A raw tsquery of the query's words, each as a prefix (``jazz:* & nig:*``); "" without words."""
    words = _WORD.findall(query.lower())[:MAX_WORDS]
    return " & ".join(f"{word}:*" for word in words)


def _sale_filter(events, sale: str, now: datetime):
    open_now = (Q(sale_starts_at__isnull=True) | Q(sale_starts_at__lte=now)) & (
        Q(sale_ends_at__isnull=True) | Q(sale_ends_at__gt=now)
    )
    if sale == "on_sale":
        return events.filter(open_now, status=EventStatus.ON_SALE)
    if sale == "upcoming":
        return events.filter(status__in=(EventStatus.ON_SALE, EventStatus.SOLD_OUT), sale_starts_at__gt=now)
    if sale == "sold_out":
        return events.filter(status=EventStatus.SOLD_OUT)
    if sale == "cancelled":
        return events.filter(status=EventStatus.CANCELLED)
    return events


def public_cities(tenant, *, now: datetime | None = None) -> list[str]:
    """The cities of the tenant's listed events, for the city filter (one query)."""
    now = now or timezone.now()
    return list(
        Event.objects.for_tenant(tenant)
        .filter(status__in=PUBLIC_STATUSES, ends_at__gt=now)
        .order_by("venue_city")
        .values_list("venue_city", flat=True)
        .distinct()[:SEARCH_LIMIT]
    )


def public_events(
    tenant, *, query: str = "", sale: str = "", city: str = "", now: datetime | None = None
) -> list[Event]:
    """Upcoming public events of ``tenant`` matching ``query`` (word prefixes or small typos over title,
    performer, venue and city), ``sale`` (a key of ``SALE_FILTERS``) and ``city`` (exact, any case).
    Best matches first with a query, else soonest first. At most ``SEARCH_LIMIT``."""
    now = now or timezone.now()
    events = Event.objects.for_tenant(tenant).filter(status__in=PUBLIC_STATUSES, ends_at__gt=now)
    events = _sale_filter(events, sale if sale in SALE_FILTERS else "", now)
    city = clean_text(city, limit=120)
    if city:
        events = events.filter(venue_city__iexact=city)
    query = clean_text(query).lower()
    terms = prefix_terms(query)
    if not terms:
        return list(events.order_by("starts_at")[:SEARCH_LIMIT])
    words = " ".join(_WORD.findall(query)[:MAX_WORDS])
    search = SearchQuery(terms, search_type="raw", config="english")
    events = (
        events.filter(Q(search_vector=search) | Q(search_text__trigram_word_similar=words))
        .annotate(
            rank=Greatest(SearchRank("search_vector", search), TrigramWordSimilarity(words, "search_text"))
        )
        .order_by("-rank", "starts_at")
    )
    with transaction.atomic(), connection.cursor() as cursor:
        # Local to this transaction, and put back after (the search may run inside a caller's
        # transaction): every other query keeps the threshold it had.
        cursor.execute(
            "SELECT coalesce(current_setting('pg_trgm.word_similarity_threshold', true), '0.6'),"
            " set_config('pg_trgm.word_similarity_threshold', %s, true)",
            [str(TYPO_THRESHOLD)],
        )
        previous = cursor.fetchone()[0]
        found = list(events[:SEARCH_LIMIT])
        cursor.execute("SELECT set_config('pg_trgm.word_similarity_threshold', %s, true)", [previous])
    return found
