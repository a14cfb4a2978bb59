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
