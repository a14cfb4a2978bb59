"""The English left on a page rendered in German, without a browser: the visible text of the HTML (text
nodes and the attributes people read) against the English words of the given parts' msgids, less every
word that also occurs in their German translations ("Webhook", "Status", "Dashboard" are German too).
Tenant- and customer-written text is data, not translated: pass its words in ``allow``."""

from __future__ import annotations

import functools
import html
import re
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_WORD = re.compile(r"[^\W\d_]{3,}")
_READ_ATTRIBUTES = {"alt", "title", "placeholder", "aria-label", "label"}


@functools.cache
def english_words(parts: tuple[str, ...], language: str = "de") -> frozenset[str]:
    from babel.messages.pofile import read_po

    from core.i18n_check import part_messages, project_parts

    english, same = set(), set()
    for part in project_parts(ROOT, ["project", *parts]):
        for message in part_messages(part, ROOT):
            text = re.sub(r"%\([^)]+\)s|\{\w+\}|<[^>]+>", " ", message.msgid + " " + (message.plural or ""))
            english.update(word.lower() for word in _WORD.findall(text))
        with (part.locale_dir / language / "LC_MESSAGES" / "django.po").open("rb") as handle:
            for entry in read_po(handle, locale=language):
                strings = entry.string if isinstance(entry.string, tuple | list) else [entry.string]
                for string in strings:
                    same.update(word.lower() for word in _WORD.findall(string or ""))
    return frozenset(english - same)


class _Visible(HTMLParser):
    def __init__(self):
        super().__init__()
        self.pieces: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        self.pieces.extend(value for name, value in attrs if name in _READ_ATTRIBUTES and value)

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.pieces.append(data)


def visible_text(content: str) -> str:
    parser = _Visible()
    parser.feed(content)
    return html.unescape(" ".join(parser.pieces))


def english_left(content: str, *, parts: tuple[str, ...], language: str = "de", allow=()) -> list[str]:
    allowed = {word.lower() for phrase in allow for word in _WORD.findall(phrase)}
    words = english_words(tuple(parts), language)
    found = (word.lower() for word in _WORD.findall(visible_text(content)))
    return sorted({word for word in found if word in words and word not in allowed})


def german(client, url: str) -> str:
    """The visible text (whitespace collapsed) of ``url`` rendered in German (language cookie, header and
    the active language); the page must answer 200."""
    from django.conf import settings
    from django.utils import translation

    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    with translation.override("de"):
        response = client.get(url, HTTP_ACCEPT_LANGUAGE="de")
    assert response.status_code == 200, url
    return " ".join(visible_text(response.content.decode()).split())


def assert_german(text: str, url: str, english: set[str]) -> None:
    """No English piece is in ``text``, matched as whole words ("Waiting room" is not left in another
    app's "Waiting rooms")."""
    left = sorted(piece for piece in english if re.search(rf"(?<!\w){re.escape(piece)}(?!\w)", text))
    assert not left, f"{url} still shows English: {left}"
