"""Event search (seed 002): word prefixes, small typos, sale-status and city filters, the cap, bad input."""

from datetime import timedelta

import pytest
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from tests.ticketing.factories import VenueFactory, buy, make_event
from ticketing import search, services

pytestmark = pytest.mark.django_db


def titles(events):
    return sorted(event.title for event in events)


def events_url(tenant):
    return reverse("ticketing_public:events", kwargs={"tenant_slug": tenant.slug})


def test_word_prefixes_and_small_typos_find_the_event(tenant):
    make_event(tenant=tenant, title="Velvet Underground Revival", performer="The Velvets")
    make_event(tenant=tenant, title="Jazz Night", performer="Blue Trio")
    assert titles(search.public_events(tenant, query="Velv")) == ["Velvet Underground Revival"]
    assert titles(search.public_events(tenant, query="Velvit")) == ["Velvet Underground Revival"]
    assert titles(search.public_events(tenant, query="jazz nig")) == ["Jazz Night"]
    assert titles(search.public_events(tenant, query="Jazz Nigth")) == ["Jazz Night"]
    assert search.public_events(tenant, query="polka") == []


def test_exact_match_ranks_above_a_typo_match(tenant):
    make_event(tenant=tenant, title="Velvit Dreams", starts_at=timezone.now() + timedelta(days=5))
    make_event(tenant=tenant, title="Velvet Morning", starts_at=timezone.now() + timedelta(days=50))
    assert [event.title for event in search.public_events(tenant, query="velvet")] == [
        "Velvet Morning",
        "Velvit Dreams",
    ]


def test_search_text_follows_event_edits(tenant):
    event = make_event(tenant=tenant, title="Old Title")
    services.event_update(tenant=tenant, actor=None, event=event, title="Moonlight Sonata")
    assert titles(search.public_events(tenant, query="moonli")) == ["Moonlight Sonata"]
    assert search.public_events(tenant, query="old title") == []


def test_sale_status_and_city_filters(tenant):
    now = timezone.now()
    london = VenueFactory(tenant=tenant, city="London")
    leeds = VenueFactory(tenant=tenant, city="Leeds")
    make_event(tenant=tenant, venue=london, title="Open Now")
    make_event(
        tenant=tenant,
        venue=leeds,
        title="Opens Later",
        sale_starts_at=now + timedelta(days=3),
        sale_ends_at=now + timedelta(days=20),
    )
    sold = make_event(tenant=tenant, venue=leeds, title="All Gone", tiers=(("General", 1000, 1),))
    buy(tenant=tenant, event=sold, quantities={sold.tiers.get().id: 1})
    cancelled = make_event(tenant=tenant, venue=london, title="Called Off")
    services.event_cancel(tenant=tenant, actor=None, event=cancelled)
    assert titles(search.public_events(tenant, sale="on_sale")) == ["Open Now"]
    assert titles(search.public_events(tenant, sale="upcoming")) == ["Opens Later"]
    assert titles(search.public_events(tenant, sale="sold_out")) == ["All Gone"]
    assert titles(search.public_events(tenant, sale="cancelled")) == ["Called Off"]
    assert titles(search.public_events(tenant, city="leeds")) == ["All Gone", "Opens Later"]
    assert titles(search.public_events(tenant, city="Leeds", sale="upcoming", query="open")) == [
        "Opens Later"
    ]
    assert len(search.public_events(tenant, sale="nonsense")) == 4
    assert search.public_cities(tenant) == ["Leeds", "London"]


def test_capped_at_one_hundred(tenant, django_assert_max_num_queries):
    venue = VenueFactory(tenant=tenant)
    start = timezone.now() + timedelta(days=10)
    for number in range(search.SEARCH_LIMIT + 3):
        make_event(
            tenant=tenant,
            venue=venue,
            title=f"Velvet Session {number}",
            starts_at=start + timedelta(hours=number),
            tiers=(("General", 1000, 1),),
        )
    with django_assert_max_num_queries(5):  # savepoint, threshold, search, threshold back, release
        found = search.public_events(tenant, query="velv")
    assert len(found) == search.SEARCH_LIMIT == 100
    assert len(search.public_events(tenant)) == 100


def test_other_tenants_events_are_never_found(tenant, other_tenant):
    make_event(tenant=other_tenant, title="Velvet Elsewhere")
    assert search.public_events(tenant, query="velvet") == []
    assert search.public_cities(tenant) == []


@pytest.mark.parametrize(
    "query",
    ["\x00", "velv\x00et", "'\"&|!():*<>", "a:* | b", "😀", "x" * 5000, "the", "\\", "%", "_"],
)
def test_garbage_queries_never_fail(tenant, query):
    make_event(tenant=tenant, title="Velvet")
    found = search.public_events(tenant, query=query)
    assert len(found) <= 1


def test_page_keeps_filters_together_and_handles_garbage(client, tenant):
    now = timezone.now()
    leeds = VenueFactory(tenant=tenant, city="Leeds")
    make_event(tenant=tenant, title="Velvet Nights", venue=leeds)
    make_event(
        tenant=tenant,
        title="Velvet Later",
        venue=leeds,
        sale_starts_at=now + timedelta(days=2),
        sale_ends_at=now + timedelta(days=9),
    )
    make_event(tenant=tenant, title="Velvet South", venue=VenueFactory(tenant=tenant, city="Brighton"))
    page = client.get(events_url(tenant), {"q": "velvit", "status": "on_sale", "city": "leeds"})
    body = page.content.decode()
    assert page.status_code == 200
    assert "Velvet Nights" in body and "Velvet Later" not in body and "Velvet South" not in body
    # One form carries the text and both filters, each kept as chosen.
    assert 'name="q" value="velvit"' in body
    assert '<option value="on_sale" selected>' in body and '<option value="Leeds" selected>' in body
    assert "1 event found" in body
    later = client.get(events_url(tenant), {"status": "upcoming"}).content.decode()
    assert "Velvet Later" in later and "Velvet Nights" not in later and "Sale opens" in later
    for params in ({"q": "\x00velvet"}, {"status": "\x00"}, {"city": "\x00"}):
        refused = client.get(events_url(tenant), params)
        assert refused.status_code == 400 and "NUL" in refused.content.decode(), params
    for params in (
        {"city": "Nowhere", "status": "<script>"},
        {"q": "velvet\u200b\u202e", "city": "\u0007"},
        {"q": "<b>velvet</b>"},
    ):
        response = client.get(events_url(tenant), params)
        assert response.status_code == 200, params
        assert "<b>velvet</b>" not in response.content.decode()


def test_typo_matching_can_use_the_trigram_index(tenant):
    from ticketing.models import Event
    from ticketing.search import word_trigrams

    make_event(tenant=tenant, title="Indexed Velvet")
    queryset = Event.objects.filter(search_trigrams__overlap=sorted(word_trigrams("velvit")))
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        plan = queryset.explain()
    assert "event_search_trigrams_gin" in plan


def test_typo_search_needs_no_database_extension():
    # The embedded PostgreSQL (pgserver) ships no contrib extensions: nothing may ask for pg_trgm.
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    for path in [*root.glob("*/migrations/*.py"), *root.glob("*/search.py")]:
        text = path.read_text()
        assert "TrigramExtension" not in text and "gin_trgm_ops" not in text, path
