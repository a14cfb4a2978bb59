"""The translation check (``manage.py i18n_check``): it finds what makemessages would extract, and fails
on a missing, empty or fuzzy translation, on changed placeholders and on unmarked template text. The
project's translated parts must pass it."""

import textwrap
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from core.i18n_check import Part, check, check_catalogs, check_templates, part_messages, project_app_names

# Parts whose catalogs are still being written (issue 17); each engineer removes theirs when done.
PENDING: set[str] = set()

PO_HEADER = """msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"

"""


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")


@pytest.fixture
def demo(tmp_path):
    write(
        tmp_path / "demo" / "views.py",
        """
        from django.utils.translation import gettext as _, ngettext, pgettext, gettext_lazy

        LABEL = gettext_lazy("Saved")

        def view(n, name):
            _("Hello")
            pgettext("month", "May")
            ngettext("%(n)s item", "%(n)s items", n) % {"n": n}
            _(f"not extracted {name}")
        """,
    )
    write(
        tmp_path / "demo" / "templates" / "demo" / "page.html",
        """
        {% load i18n %}{% block title %}{% translate "Title" %}{% endblock %}
        {% block body_class %}wide page{% endblock %}
        <h1>{% translate "Title" %}</h1>
        <p>Unmarked words</p>
        <img src="/x.png" alt="A picture">
        <p>{{ price }} &middot; VirtualQ</p>
        {% comment %}A note for developers{% endcomment %}
        <p>{% blocktranslate with name=user.name %}Hi {{ name }}{% endblocktranslate %}</p>
        <button data-done-text="All done now" data-url="/a/b/">{% translate "Go" context "verb" %}</button>
        """,
    )
    write(
        tmp_path / "demo" / "locale" / "de" / "LC_MESSAGES" / "django.po",
        PO_HEADER
        + """
        msgid "Hello"
        msgstr "Hallo"

        msgid "Saved"
        msgstr ""

        #, fuzzy
        msgid "Title"
        msgstr "Titel"

        msgid "Hi %(name)s"
        msgstr "Hallo %(nom)s"

        msgctxt "verb"
        msgid "Go"
        msgstr "Los"

        msgid "%(n)s item"
        msgid_plural "%(n)s items"
        msgstr[0] "ein Artikel"
        msgstr[1] "%(n)s Artikel"
        """,
    )
    return Part("demo", tmp_path / "demo" / "locale", [tmp_path / "demo"], [tmp_path / "demo" / "templates"])


def test_extracts_what_makemessages_would(demo, tmp_path):
    found = {(m.msgid, m.plural, m.context) for m in part_messages(demo, tmp_path)}
    assert found == {
        ("Saved", None, None),
        ("Hello", None, None),
        ("May", None, "month"),
        ("%(n)s item", "%(n)s items", None),
        ("Title", None, None),
        ("Hi %(name)s", None, None),
        ("Go", None, "verb"),
    }


def test_catalog_problems_are_each_reported(demo, tmp_path):
    problems = {(p.kind, p.text.split(" → ")[0]) for p in check_catalogs(demo, tmp_path, ["de", "es"])}
    assert ("missing", "month|May") in problems
    assert ("empty", "Saved") in problems
    assert ("fuzzy", "Title") in problems
    assert ("placeholders", "Hi %(name)s") in problems
    assert ("missing", "no catalog (8 msgids)") in problems  # es
    # A singular that says "one" in words is fine; these are right.
    assert not {text for kind, text in problems if text in ("Hello", "%(n)s item", "verb|Go")}


def test_unmarked_template_text_is_reported_and_marked_text_is_not(demo, tmp_path):
    texts = {p.text for p in check_templates(demo, tmp_path)}
    assert texts == {"Unmarked words", 'alt="A picture"', 'data-done-text="All done now"'}


def test_the_command_fails_on_problems_and_names_them(capsys):
    with pytest.raises(CommandError):
        call_command("i18n_check", "nosuchapp")


@pytest.mark.parametrize("part", sorted(set(project_app_names(settings.BASE_DIR)) - PENDING))
def test_translated_parts_are_complete(part):
    problems = check(settings.BASE_DIR, [part])
    assert not problems, "\n".join(str(p) for p in problems[:40])


def test_pending_parts_are_real_parts():
    assert set(project_app_names(settings.BASE_DIR)) >= PENDING
