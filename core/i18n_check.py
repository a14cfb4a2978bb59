"""The translation check behind ``manage.py i18n_check`` (and its test): pure Python, no GNU gettext.

For each part of the project (an app folder, or the project templates plus ``config/``):
1. extract every msgid the way ``makemessages`` does: Python files through babel's Python extractor with
   Django's gettext keywords; templates through Django's ``templatize`` (what makemessages hands to
   xgettext) and then the same extractor;
2. read its catalogs (``<part>/locale/{de,es}/LC_MESSAGES/django.po``) and report a msgid missing from
   one, an empty or fuzzy translation, and placeholders (``%(name)s``, ``%s``, ``{name}``) that differ
   between a msgid and its msgstr;
3. read its templates with Django's template lexer and report visible text outside ``translate`` /
   ``blocktranslate``: text nodes with letters, and the attributes people read (``alt``, ``title``,
   ``placeholder``, ``aria-label``…, multi-word ``data-*``), after a short allowlist (brand names,
   entities, punctuation).
"""

from __future__ import annotations

import html
import io
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.extract import extract
from babel.messages.pofile import read_po

LANGUAGES = ("de", "es")
# Django's makemessages keywords (xgettext's Python defaults plus Django's own).
KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
TEMPLATE_SUFFIXES = (".html", ".txt", ".xml", ".svg")
SKIP_DIRS = {"migrations", "locale", "__pycache__", "static", "node_modules"}
# Words that are the same in every language we speak (brands, units, codes), and marks that carry none.
ALLOWED_WORDS = {
    "VirtualQ",
    "Stripe",
    "QR",
    "API",
    "OpenAPI",
    "Swagger",
    "JSON",
    "CSV",
    "URL",
    "UTC",
    "SMS",
    "TOTP",
    "HMAC",
    "SHA",
    "ID",
    "OK",
    "px",
}
VISIBLE_ATTRIBUTES = {
    "alt",
    "title",
    "placeholder",
    "aria-label",
    "aria-description",
    "aria-placeholder",
    "aria-roledescription",
    "aria-valuetext",
    "label",
}
_MARK = "\x00"
HIDDEN_BLOCKS = {"head", "scripts", "extra_head"}
_PLACEHOLDER = re.compile(
    r"%\((?P<name>[^)]+)\)[#0 +-]*\d*(?:\.\d+)?[sdifr]|%[#0 +-]*\d*(?:\.\d+)?[sdifr]|\{[a-z_]\w*\}"
)
_STRING = r"""u?(?:'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
_CALL = re.compile(rf"\b(?:n?p?gettext|_)\(\s*{_STRING}(?:\s*,\s*(?:{_STRING}|[\w.]+))*\s*\)")
_WORD = re.compile(r"[^\W\d_]{2,}")


@dataclass(frozen=True)
class Message:
    msgid: str
    plural: str | None
    context: str | None
    location: str


@dataclass(frozen=True)
class Problem:
    part: str
    kind: str  # missing, empty, fuzzy, placeholders, unmarked
    where: str
    text: str

    def __str__(self) -> str:
        return f"{self.part}: {self.kind} — {self.where}: {self.text!r}"


# --- extraction -----------------------------------------------------------------------------------


def _extract(source: str, location: str) -> list[Message]:
    found = []
    for lineno, message, _comments, context in extract(
        "python",
        io.BytesIO(source.encode("utf-8")),
        keywords=KEYWORDS,
        comment_tags=(),
        strip_comment_tags=True,
    ):
        if isinstance(message, tuple):
            msgid, plural = message[0], message[1]
        else:
            msgid, plural = message, None
        if msgid:
            found.append(Message(msgid, plural, context, f"{location}:{lineno}"))
    return found


def extract_python(path: Path, root: Path) -> list[Message]:
    return _extract(path.read_text(encoding="utf-8"), str(path.relative_to(root)))


def extract_template(path: Path, root: Path) -> list[Message]:
    from django.utils.translation.template import templatize

    code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
    # xgettext reads templatize's output leniently; Python's tokenizer trips over the blanked-out text
    # around the calls (a stray quote, an indentation). Keep only the gettext calls, each on its line
    # (templatize writes every call on one line, with repr() literals).
    code = "\n".join("; ".join(m.group(0) for m in _CALL.finditer(line)) for line in code.split("\n"))
    return _extract(code, str(path.relative_to(root)))


def _walk(folder: Path, suffixes: tuple[str, ...]) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(
        path
        for path in folder.rglob("*")
        if path.is_file()
        and path.suffix in suffixes
        and not SKIP_DIRS.intersection(path.relative_to(folder).parts[:-1])
    )


@dataclass
class Part:
    """A unit with its own catalogs: ``python_dirs`` and ``template_dirs`` feed ``locale_dir``."""

    name: str
    locale_dir: Path
    python_dirs: list[Path]
    template_dirs: list[Path]

    def python_files(self) -> list[Path]:
        return [path for folder in self.python_dirs for path in _walk(folder, (".py",))]

    def template_files(self) -> list[Path]:
        return [path for folder in self.template_dirs for path in _walk(folder, TEMPLATE_SUFFIXES)]


def project_parts(root: Path, app_names: list[str]) -> list[Part]:
    """One part per app folder, and "project" (templates/ and config/, catalogs in locale/)."""
    parts = []
    for name in app_names:
        if name == "project":
            parts.append(Part("project", root / "locale", [root / "config"], [root / "templates"]))
        else:
            folder = root / name
            parts.append(Part(name, folder / "locale", [folder], [folder / "templates"]))
    return parts


def part_messages(part: Part, root: Path) -> list[Message]:
    messages = []
    for path in part.python_files():
        if "templates" in path.relative_to(root).parts:
            continue
        messages.extend(extract_python(path, root))
    for path in part.template_files():
        messages.extend(extract_template(path, root))
    return messages


# --- catalogs -------------------------------------------------------------------------------------


def placeholders(text: str) -> list[str]:
    return sorted(match.group(0) for match in _PLACEHOLDER.finditer(text or ""))


def check_catalogs(part: Part, root: Path, languages=LANGUAGES) -> list[Problem]:
    messages = part_messages(part, root)
    problems = []
    for language in languages:
        po_path = part.locale_dir / language / "LC_MESSAGES" / "django.po"
        where = str(po_path.relative_to(root)) if po_path.is_relative_to(root) else str(po_path)
        if not po_path.exists():
            if messages:
                problems.append(Problem(part.name, "missing", where, f"no catalog ({len(messages)} msgids)"))
            continue
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=language)
        seen = set()
        for message in messages:
            key = (message.msgid, message.context)
            if key in seen:
                continue
            seen.add(key)
            entry = catalog.get(message.msgid, context=message.context)
            label = message.msgid if message.context is None else f"{message.context}|{message.msgid}"
            if entry is None:
                problems.append(Problem(part.name, "missing", f"{where} ({message.location})", label))
                continue
            if entry.fuzzy:
                problems.append(Problem(part.name, "fuzzy", where, label))
            strings = list(entry.string) if isinstance(entry.string, tuple | list) else [entry.string]
            if not all(s for s in strings):
                problems.append(Problem(part.name, "empty", where, label))
                continue
            sources = [message.msgid] + ([message.plural] * (len(strings) - 1) if message.plural else [])
            for index, (source, translated) in enumerate(zip(sources, strings, strict=False)):
                if _placeholders_differ(
                    source, translated, plural_form=message.plural is not None and index == 0
                ):
                    problems.append(Problem(part.name, "placeholders", where, f"{label} → {translated}"))
                    break
    return problems


def _placeholders_differ(source: str, translated: str, *, plural_form: bool) -> bool:
    wanted, got = placeholders(source), placeholders(translated)
    if plural_form:
        # The singular may say "one" in words instead of "%(count)s"; it may not invent placeholders.
        return not set(got) <= set(wanted)
    return wanted != got


# --- unmarked template text -----------------------------------------------------------------------


def _template_skeleton(source: str) -> str:
    """The template with every tag, variable and translated piece replaced by a marker, so only text a
    translator never saw is left (``{% comment %}`` and ``{# #}`` blocks dropped)."""
    from django.template.base import Lexer, TokenType

    pieces = []
    depth_translate = 0
    in_comment = False
    blocks: list[str] = []
    for token in Lexer(source).tokenize():
        if token.token_type == TokenType.BLOCK:
            bits = token.contents.split()
            command = bits[0] if bits else ""
            if command == "block":
                blocks.append(bits[1] if len(bits) > 1 else "")
            elif command == "endblock" and blocks:
                blocks.pop()
            if command == "comment":
                in_comment = True
            elif command == "endcomment":
                in_comment = False
            elif command in ("blocktranslate", "blocktrans"):
                depth_translate += 1
            elif command in ("endblocktranslate", "endblocktrans"):
                depth_translate -= 1
            pieces.append(_MARK)
        elif token.token_type == TokenType.TEXT:
            # Blocks that fill an attribute or the head (``{% block body_class %}``) hold no prose.
            hidden = blocks and (blocks[-1].endswith("_class") or blocks[-1] in HIDDEN_BLOCKS)
            pieces.append(_MARK if (depth_translate or in_comment or hidden) else token.contents)
        elif token.token_type == TokenType.VAR:
            pieces.append(_MARK)
    # A tag whose name is computed (``<{% if href %}a{% else %}button{% endif %} …>``) is still a tag.
    return re.sub(r"<(/?)\x00", r"<\1x-dynamic ", "".join(pieces))


def _has_words(text: str) -> bool:
    text = html.unescape(text.replace(_MARK, " "))
    return any(word not in ALLOWED_WORDS for word in _WORD.findall(text))


class _VisibleText(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=False)
        self.found: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        for name, value in attrs:
            if value is None:
                continue
            visible = name in VISIBLE_ATTRIBUTES or (
                name == "value" and dict(attrs).get("type") in ("submit", "button", "reset")
            )
            # Text handed to JavaScript: more than one word of it.
            if name.startswith("data-") and re.search(
                r"[^\W\d_]{2,}\s+[^\W\d_]{2,}", value.replace(_MARK, "")
            ):
                visible = True
            if visible and _has_words(value):
                self.found.append(f'{name}="{value.replace(_MARK, "…")}"')

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._hidden:
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden and _has_words(data):
            self.found.append(" ".join(data.replace(_MARK, "…").split()))


def unmarked_text(source: str, *, is_html: bool = True) -> list[str]:
    skeleton = _template_skeleton(source)
    if not is_html:
        return [
            " ".join(line.replace(_MARK, "…").split()) for line in skeleton.splitlines() if _has_words(line)
        ]
    parser = _VisibleText()
    # Markers inside a tag (``<a{% if x %} class="y"{% endif %}>``) would read as attribute names.
    parser.feed(skeleton.replace(_MARK, " "))
    parser.close()
    return parser.found


def check_templates(part: Part, root: Path) -> list[Problem]:
    problems = []
    for path in part.template_files():
        source = path.read_text(encoding="utf-8")
        for text in unmarked_text(source, is_html=path.suffix != ".txt"):
            problems.append(Problem(part.name, "unmarked", str(path.relative_to(root)), text))
    return problems


def check(root: Path, app_names: list[str], languages=LANGUAGES) -> list[Problem]:
    problems = []
    for part in project_parts(root, app_names):
        problems.extend(check_catalogs(part, root, languages))
        problems.extend(check_templates(part, root))
    return problems


def project_app_names(root: Path) -> list[str]:
    """The project's own apps (installed apps whose folder is in the checkout), and "project"."""
    from django.apps import apps

    names = [
        config.name
        for config in apps.get_app_configs()
        if Path(config.path).resolve().parent == root.resolve()
    ]
    return ["project", *sorted(names)]
