"""The German-journey helper finds English words of the base templates and lets German through."""

from django.template.loader import render_to_string
from django.test import RequestFactory
from django.utils import translation

from tests.e2e.i18n import english_left, english_words


def test_the_word_list_holds_base_template_english_but_not_shared_words():
    words = english_words("de")
    assert {"skip", "content", "language"} <= words
    assert "dashboard" not in words and "virtualq" not in words  # the same in German


def test_english_is_found_and_german_passes():
    assert english_left("Zum Inhalt springen · Log out") == ["log", "out"]
    assert english_left("Zum Inhalt springen · Abmelden · Dashboard") == []
    assert english_left("Corner Bakery: Skip the queue", allow=["Skip the queue"]) == []
    assert english_left("Corner Bakery: Skip the queue", allow=["Skip"]) == ["queue", "the"]


def test_the_german_home_page_has_no_english_left(db):
    request = RequestFactory().get("/")
    from django.contrib.auth.models import AnonymousUser

    request.user = AnonymousUser()
    with translation.override("de"):
        html = render_to_string("core/home.html", {"tenants": []}, request=request)
    text = " ".join(__import__("re").sub(r"<[^>]+>", " ", html).split())
    assert "Warteschlangen und Tickets" in text
    assert english_left(text) == []
