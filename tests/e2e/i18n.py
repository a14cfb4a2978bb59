"""Pages in German for the browser journeys, and the check that no English is left on them.

``german(context, app)`` sets the language cookie the switcher sets (and the browser's language), so
every page of that browser context speaks German. ``assert_no_english(page)`` reads the visible text
of the page and fails on any word of the base templates' English msgids (templates/, the project
catalog) that is not also a German word (those that are the same in German — "Ticket", "Dashboard",
"VirtualQ" — are the words found in the German translations, and are left out). Tenant- and
customer-written text is data, not translated: pass its words in ``allow``.
"""

from __future__ import annotations

import functools
import html
import re
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
_WORD = re.compile(r"[^\W\d_]{3,}")


def german(context, app, language: str = "de") -> None:
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": app.base_url}])
    context.set_extra_http_headers({"Accept-Language": language})


@functools.cache
def english_words(language: str = "de") -> frozenset[str]:
    from babel.messages.pofile import read_po

    from core.i18n_check import part_messages, project_parts

    part = project_parts(ROOT, ["project"])[0]
    english = set()
    for message in part_messages(part, ROOT):
        text = re.sub(r"%\([^)]+\)s|<[^>]+>", " ", message.msgid + " " + (message.plural or ""))
        english.update(word.lower() for word in _WORD.findall(text))
    same = set()
    with (part.locale_dir / language / "LC_MESSAGES" / "django.po").open("rb") as handle:
        for entry in read_po(handle, locale=language):
            if not entry.id:
                continue  # the header
            strings = entry.string if isinstance(entry.string, tuple | list) else [entry.string]
            for string in strings:
                same.update(word.lower() for word in _WORD.findall(string or ""))
    return frozenset(english - same)


def english_left(text: str, *, language: str = "de", allow=()) -> list[str]:
    allowed = {word.lower() for phrase in allow for word in _WORD.findall(phrase)}
    words = english_words(language)
    return sorted({w for w in (m.lower() for m in _WORD.findall(text)) if w in words and w not in allowed})


def assert_no_english(page, *, language: str = "de", allow=()) -> None:
    left = english_left(page.inner_text("body"), language=language, allow=allow)
    assert not left, f"English left on {page.url}: {left}"


# --- a journey's pages: no English text of the apps' catalogs ----------------------------------------

_PIECE = re.compile(r"%\(\w+\)[sd]|%[sd]|%%|\{\w*\}|<[^>]+>|&lt;|&gt;")
_STRIP = " .,:;()—–-·…?!\"“”„'"
# The elements whose whole text is a label of its own (a button, a badge, a heading…), and the attributes
# people read.
_LABELS_JS = """() => {
  const texts = [];
  const own = 'a, button, th, dt, label, legend, caption, summary, option, h1, h2, h3, h4, .badge, '
    + '.messages p, [data-live-field]';
  for (const element of document.body.querySelectorAll(own)) {
    if (element.closest('[hidden], template')) continue;
    texts.push(element.innerText || element.textContent || '');
  }
  for (const element of document.body.querySelectorAll('[aria-label], [title], [placeholder]')) {
    for (const name of ['aria-label', 'title', 'placeholder']) {
      if (element.hasAttribute(name)) texts.push(element.getAttribute(name));
    }
  }
  return texts;
}"""


# Dashboard sections whose labels may stay English (none: every app's catalog is complete since issue 17);
# kept so a new app can be listed while its catalog is written.
UNTRANSLATED_SECTIONS: frozenset[str] = frozenset()


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text or "").strip()


def _catalog_path(name: str, language: str) -> Path:
    folder = ROOT / "locale" if name == "project" else ROOT / name / "locale"
    return folder / language / "LC_MESSAGES" / "django.po"


@functools.cache
def translated_parts(language: str = "de") -> tuple[str, ...]:
    """The project's parts whose catalogs are complete (``manage.py i18n_check`` finds nothing in them):
    a journey's pages may show none of their English. A part still being translated joins by itself once
    its catalog is done."""
    from core.i18n_check import check_catalogs, project_app_names, project_parts

    return tuple(
        part.name
        for part in project_parts(ROOT, project_app_names(ROOT))
        if _catalog_path(part.name, language).exists() and not check_catalogs(part, ROOT, (language,))
    )


@functools.cache
def _translations(language: str) -> tuple[str, ...]:
    """Every translation (msgstr) of every catalog in ``language``, squashed."""
    from babel.messages.pofile import read_po

    from core.i18n_check import project_app_names

    found = []
    for name in project_app_names(ROOT):
        path = _catalog_path(name, language)
        if not path.exists():
            continue
        with path.open("rb") as handle:
            for message in read_po(handle, locale=language):
                strings = message.string if isinstance(message.string, tuple | list) else (message.string,)
                found.extend(html.unescape(_squash(string)) for string in strings if message.id and string)
    # And what Django merges from its own and the third-party apps' catalogs (the admin's "Filter").
    from django.utils.translation import trans_real

    merged = trans_real.translation(language)._catalog
    for _key, value in merged.items():
        found.extend(
            html.unescape(_squash(v)) for v in (value if isinstance(value, list | tuple) else [value]) if v
        )
    return tuple(found)


@functools.cache
def _catalog_texts(apps: tuple[str, ...], language: str) -> tuple[frozenset[str], frozenset[str]]:
    """(English pieces of 12+ characters, whole English labels) of the apps' msgids; a piece or label that
    is found in a translation too (the same in German) is left out."""
    from babel.messages.pofile import read_po

    pieces, labels = set(), set()
    for app in apps:
        with _catalog_path(app, language).open("rb") as handle:
            catalog = read_po(handle, locale=language)
        for message in catalog:
            if not message.id:
                continue
            for english in message.id if isinstance(message.id, tuple | list) else (message.id,):
                english = html.unescape(english)
                found = [_squash(piece).strip(_STRIP) for piece in _PIECE.split(english)]
                pieces.update(piece for piece in found if len(piece) >= 12)
                if not _PIECE.search(english) and re.search(r"[^\W\d_]{3,}", english):
                    labels.add(_squash(english).strip(_STRIP))
    joined = "\n".join(_translations(language))
    words = set(re.findall(r"\w+", joined))

    def translated_too(text: str) -> bool:
        # Whole words and the same case: "Start" is not in "Starten", "Approve" not in "z. B. approve".
        if re.fullmatch(r"\w+", text):
            return text in words
        return text in joined and re.search(rf"(?<!\w){re.escape(text)}(?!\w)", joined) is not None

    return (
        frozenset(piece for piece in pieces if not translated_too(piece)),
        frozenset(label for label in labels if not translated_too(label)),
    )


def english_phrases(apps=None, language: str = "de") -> frozenset[str]:
    """Literal English pieces (12+ characters between placeholders and tags) of the apps' msgids (by
    default those of every translated part) that no translation contains — none may show on a page in
    ``language``."""
    return _catalog_texts(tuple(apps or translated_parts(language)), language)[0]


def english_labels(apps=None, language: str = "de") -> frozenset[str]:
    """Whole English msgids without placeholders ("Approve", "closed", "Waiting rooms") that no
    translation contains: a button, badge, heading, link or label reading exactly one is English left."""
    return _catalog_texts(tuple(apps or translated_parts(language)), language)[1]


def english_on_page(page, *, apps=None, language: str = "de", allow=(), where: str = "body") -> list[str]:
    """The English left on the page:

    - pieces of the apps' msgids in the visible text of ``where``;
    - whole msgids as the text of a label-like element (button, badge, heading, link, table header…) or
      as an aria-label, title or placeholder;
    - words of the base templates' English (``english_left``) in the site's header and footer and the
      dashboard's navigation;
    - a dashboard section whose name is no translation of any catalog (an unmarked label).

    Texts in ``allow`` (tenant data, customers' words) do not count."""
    # The spaces in the header's switcher are tenant names: data.
    switcher = page.locator("#tenant-switch option").all_inner_texts()
    allowed = {_squash(text) for text in (*allow, *switcher) if text}
    text = _squash(page.locator(where).first.inner_text())
    for data in sorted(allowed, key=len, reverse=True):
        text = text.replace(data, " ")
    left = {phrase for phrase in english_phrases(apps, language) if phrase in text}
    labels = english_labels(apps, language)
    for label in page.evaluate(_LABELS_JS):
        label = _squash(label).strip(_STRIP)
        if label in labels and label not in allowed:
            left.add(label)
    chrome = [
        page.locator(selector)
        for selector in ("header.site-header", "footer.site-footer", "nav.dashboard-nav")
    ]
    left.update(
        english_left(
            " ".join(part.first.inner_text() for part in chrome if part.count()),
            language=language,
            allow=allowed,
        )
    )
    translations = set(_translations(language))
    for label in page.locator("nav.dashboard-nav a").all_inner_texts():
        label = _squash(label)
        if label not in translations and label not in allowed and label not in UNTRANSLATED_SECTIONS:
            left.add(label)
    return sorted(left)


def assert_page_in_language(page, name: str, *, apps=None, language: str = "de", allow=(), where="body"):
    """The page speaks ``language`` (``<html lang>``), shows no English of the apps' catalogs
    (``english_on_page``), and is axe clean (``check_page``, which also takes the screenshots)."""
    from playwright.sync_api import expect

    from tests.e2e.conftest import check_page

    expect(page.locator("html")).to_have_attribute("lang", language)
    left = english_on_page(page, apps=apps, language=language, allow=allow, where=where)
    assert not left, f"{name} ({page.url}): English left on a page in {language}: {left[:15]}"
    check_page(page, name)
