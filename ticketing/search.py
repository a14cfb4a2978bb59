"""Public event search (seed 002): text, sale status and city, capped at ``SEARCH_LIMIT``.

Text matches in either of two indexed ways, best first:
- **word prefixes** through the full-text index (``search_vector``, GIN): every word typed becomes a
  prefix term (``velv:*``), so "Velv" finds "Velvet" and "jazz nig" finds "Jazz Night";
- **small typos** through trigram word similarity: each event stores the trigrams of its words
  (``search_trigrams``, pg_trgm's padding: "  v", " ve", "vel" …, GIN-indexed with PostgreSQL's built-in
  array operators, so no extension is needed — the embedded PostgreSQL has none). Events sharing a
  trigram with the query are found through the index (``&&``); each query word's best match among the
  event's words scores shared trigrams / the word's trigrams (pg_trgm's ``word_similarity``), and the
  mean over the query's words must reach ``TYPO_THRESHOLD``: "Velvit" finds "Velvet" (4 of 7).

Input is the buyer's: NUL and other control characters are dropped (PostgreSQL refuses NUL in text),
lengths are capped, words are reduced to letters and digits before they reach ``to_tsquery`` (its syntax
characters never pass), and an unknown status or city filter is ignored rather than refused.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime

from django.contrib.postgres.search import SearchQuery, SearchRank
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ticketing.models import Event, EventStatus

SEARCH_LIMIT = 100
QUERY_MAX_LENGTH = 200
MAX_WORDS = 8
# "velvit" shares 4 of its 7 trigrams with "velvet" (0.57); pg_trgm's default of 0.6 would miss it.
TYPO_THRESHOLD = 0.45
# Events sharing at least one trigram with the query that are scored (soonest first); past this a query
# is too vague to be a typo of one name.
TYPO_CANDIDATES = 2000
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


def word_trigrams(word: str) -> set[str]:
    """pg_trgm's trigrams of one word: lower-cased, two spaces before and one after."""
    padded = f"  {word.lower()} "
    return {padded[index : index + 3] for index in range(len(padded) - 2)}


def text_trigrams(text: str) -> list[str]:
    """Every word's trigrams, sorted and unique (what ``Event.search_trigrams`` stores)."""
    return sorted(set().union(*(word_trigrams(word) for word in _WORD.findall(text.lower()))))


def word_similarity(query_words: list[str], text: str) -> float:
    """The mean over ``query_words`` of each word's best share of its trigrams found in one word of
    ``text`` (0 … 1)."""
    wanted = [word_trigrams(word) for word in query_words]
    words = [word_trigrams(word) for word in _WORD.findall(text.lower())]
    if not wanted or not words:
        return 0.0
    return sum(max(len(query & word) for word in words) / len(query) for query in wanted) / len(wanted)


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
    words = _WORD.findall(query)[:MAX_WORDS]
    search = SearchQuery(terms, search_type="raw", config="english")
    ranks = dict(
        events.filter(search_vector=search)
        .annotate(rank=SearchRank("search_vector", search))
        .order_by("-rank", "starts_at")
        .values_list("id", "rank")[:SEARCH_LIMIT]
    )
    wanted = sorted(set().union(*(word_trigrams(word) for word in words)))
    candidates = (
        events.filter(search_trigrams__overlap=wanted)
        .order_by("starts_at")
        .values_list("id", "search_text")[:TYPO_CANDIDATES]
    )
    for event_id, text in candidates:
        score = word_similarity(words, text)
        if score >= TYPO_THRESHOLD:
            ranks[event_id] = max(ranks.get(event_id, 0.0), score)
    found = sorted(
        events.filter(pk__in=ranks), key=lambda event: (-ranks[event.pk], event.starts_at, event.pk)
    )
    for event in found:
        event.rank = ranks[event.pk]
    return found[:SEARCH_LIMIT]
