"""Fuzz: hostile values posted to every form and sent in every query parameter of every page.

The pages come from the URL conf (tests.reliability.pages, with the abuse tests' world of one object of
every kind), so a new page and its forms are covered without editing this file. Each page is fetched as
the tenant's owner; every ``<form>`` in it is parsed (its action, method and fields with their values).
Then, with hypothesis choosing which field and which hostile value (huge and malformed numbers, decimal
commas, NUL bytes, markup, long and odd Unicode text):

- a POST form gets its own values with one field replaced: never a 5xx, and when the answer is a refusal
  (a 4xx, or the form shown again with errors) no row of any domain table changed;
- a GET form's fields and the query keys of the page's links get the hostile value: never a 5xx.

Every form covered is named in the test's output (``-rP`` / ``-s``) and in a failure's message. Run time is
bounded by ``VQ_FUZZ_EXAMPLES`` examples per form (default 4). The Django admin's own forms are Django's.
"""

# The hypothesis functions defined in the loops run at once, inside their own iteration.
# ruff: noqa: B023
from __future__ import annotations

import os
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.factories import UserFactory
from tests.reliability.pages import page_urls
from tests.reliability.test_abuse import World

pytestmark = pytest.mark.django_db

EXAMPLES = int(os.environ.get("VQ_FUZZ_EXAMPLES", "4"))
HOSTILE = [
    "999999999",
    "1e9",
    "-1",
    "0",
    "5,50",
    "1,000",
    "NaN",
    "inf",
    "-0",
    "1.5",
    "9" * 40,
    "1" * 5000,
    "²",
    "١٢",
    "a\x00b",
    "\x00",
    "",
    " ",
    "<script>alert(1)</script>",
    "'; DROP TABLE x; --",
    "../../etc/passwd",
    "%00",
    "null",
    "{}",
    "😀" * 300,
    "\u202egnp.exe",
]
VALUES = st.one_of(
    st.sampled_from(HOSTILE),
    st.integers(min_value=-(10**30), max_value=10**30).map(str),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60),
)
# Bookkeeping that a refused request may still write (a session, a failed-login record): not domain data.
NOT_DOMAIN = ("django_session", "axes_", "account_", "mfa_")
# Posting these ends the fuzzing client's own session; it is signed in again after every example anyway.
SKIP_ACTIONS = ("/accounts/logout/",)


class FormParser(HTMLParser):
    """Forms of a page: action, method, and fields as (name, value, kind); plus the links' query keys."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms: list[dict] = []
        self.query_keys: set[str] = set()
        self._form: dict | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and "?" in (attrs.get("href") or ""):
            self.query_keys.update(
                key for key, _ in parse_qsl(urlsplit(attrs["href"]).query, keep_blank_values=True)
            )
        if tag == "form":
            self._form = {
                "action": attrs.get("action") or "",
                "method": (attrs.get("method") or "get").lower(),
                "fields": {},
            }
            self.forms.append(self._form)
            return
        if self._form is None:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                if kind in ("submit", "button") and attrs.get("value") is not None:
                    self._form.setdefault("buttons", {})[name] = attrs.get("value")
                return
            if kind in ("checkbox", "radio") and "checked" not in attrs:
                self._form["fields"].setdefault(name, None)
                return
            self._form["fields"][name] = attrs.get("value") or ""
        elif tag == "select" and name:
            self._select = name
            self._form["fields"].setdefault(name, None)
        elif tag == "option" and self._select:
            fields = self._form["fields"]
            if fields.get(self._select) is None or "selected" in attrs:
                fields[self._select] = attrs.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self._form["fields"][name] = ""
        elif tag == "button" and name and attrs.get("value") is not None:
            self._form.setdefault("buttons", {})[name] = attrs.get("value")

    def handle_data(self, data):
        if self._form is not None and self._textarea:
            self._form["fields"][self._textarea] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def domain_fingerprint() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        tables = [name for (name,) in cursor.fetchall() if not name.startswith(NOT_DOMAIN)]
        union = " UNION ALL ".join(
            f"SELECT '{name}', md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) FROM \"{name}\" t"
            for name in tables
        )
        cursor.execute(union)
        return dict(cursor.fetchall())


def refused(response) -> bool:
    if 400 <= response.status_code < 500:
        return True
    if response.status_code == 200:
        html = response.content.decode(errors="replace")
        return 'class="field-error"' in html or 'class="form-errors"' in html or "errorlist" in html
    return False


@pytest.fixture
def world(django_capture_on_commit_callbacks, settings):
    for name in ("RATE_LIMIT_LOOKUPS", "RATE_LIMIT_SUBMISSIONS", "RATE_LIMIT_SUBMISSIONS_PER_EMAIL"):
        setattr(settings, name, "10000000/60")
    settings.ACCOUNT_RATE_LIMITS = False
    settings.AXES_ENABLED = False
    cache.clear()
    world = World(django_capture_on_commit_callbacks)
    world.operator = UserFactory(is_staff=True, is_superuser=True)
    yield world
    cache.clear()


def discover(world, client) -> tuple[dict, dict]:
    """POST forms keyed by (action, field names), and GET targets (URL → parameter names)."""
    posts: dict[tuple, dict] = {}
    gets: dict[str, set[str]] = {}
    for name, url in page_urls(world):
        response = client.get(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        parser = FormParser()
        parser.feed(response.content.decode(errors="replace"))
        if parser.query_keys:
            gets.setdefault(url, set()).update(parser.query_keys)
        for form in parser.forms:
            action = urlsplit(urljoin(url, form["action"] or url)).path
            fields = {key: value for key, value in form["fields"].items() if key != "csrfmiddlewaretoken"}
            if form["method"] == "get":
                gets.setdefault(action, set()).update(fields)
                continue
            if action.startswith(SKIP_ACTIONS) or not fields:
                continue
            key = (action, tuple(sorted(fields)))
            posts.setdefault(
                key, {"page": name, "action": action, "fields": fields, "buttons": form.get("buttons", {})}
            )
    return posts, gets


def test_hostile_values_on_every_form_and_query_parameter(world):
    client = Client()
    client.force_login(world.owner)
    posts, gets = discover(world, client)
    covered = []
    for (action, names), form in sorted(posts.items()):
        label = f"POST {action} [{', '.join(names)}] (from {form['page']})"
        covered.append(label)

        @settings(
            max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(field=st.sampled_from(names), value=VALUES)
        def post_hostile(field, value):
            client.force_login(world.owner)
            data = {key: value_ for key, value_ in form["fields"].items() if value_ is not None}
            data.update(form["buttons"])
            data[field] = value
            before = domain_fingerprint()
            response = client.post(form["action"], data)
            assert response.status_code < 500, (label, field, value, response.status_code)
            if refused(response):
                assert domain_fingerprint() == before, (label, field, value, "refused but changed rows")

        post_hostile()
    for url, params in sorted(gets.items()):
        names = sorted(params | {"page"})
        covered.append(f"GET {url} ?{'&'.join(names)}")

        @settings(
            max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        @given(param=st.sampled_from(names), value=VALUES)
        def get_hostile(param, value):
            client.force_login(world.owner)
            response = client.get(f"{url}?{urlencode({param: value})}")
            assert response.status_code < 500, ("GET", url, param, value, response.status_code)

        get_hostile()
    print("fuzzed forms and query parameters:\n  " + "\n  ".join(covered))
    actions = {label.split()[1] for label in covered}
    tenant = world.tenant.slug
    for expected in (
        f"/{tenant}/q/{world.queue.slug}/",
        f"/{tenant}/events/",
        f"/dashboard/{tenant}/orders/",
    ):
        assert expected in actions, expected
    assert len([label for label in covered if label.startswith("POST")]) > 25
