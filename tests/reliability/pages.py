"""Every page of the site, found from the URL conf, for the crawling abuse tests (CSP, output encoding,
the fuzz test): new pages are covered without editing a list."""

from __future__ import annotations

import contextlib
import re

from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from tests.reliability.test_abuse import World, every_route

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/(?:ld\+)?json\")[^>]*>", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[a-z][^>]*\sstyle\s*=", re.I)
EVENT_HANDLER = re.compile(r"<[a-z][^>]*\son[a-z]+\s*=", re.I)
JAVASCRIPT_URL = re.compile(r"(?:href|src|action)\s*=\s*[\"']?\s*javascript:", re.I)


def page_urls(world: World) -> list[tuple[str, str]]:
    """``(route name, URL)`` for every route outside the admin, with the world's real objects."""
    urls = []
    for name, keys, _callback in every_route():
        urls.append((name, reverse(name, kwargs=world.kwargs_for(name, keys))))
    return urls


def admin_urls(world: World) -> list[tuple[str, str]]:
    """The admin's index, and every registered model's list, add and change page."""
    urls = [("admin:index", reverse("admin:index"))]
    for model, model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        urls.append((f"{prefix}_changelist", reverse(f"{prefix}_changelist")))
        if model_admin.has_add_permission(_superuser_request(world)):
            urls.append((f"{prefix}_add", reverse(f"{prefix}_add")))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            with contextlib.suppress(NoReverseMatch):
                urls.append((f"{prefix}_change", reverse(f"{prefix}_change", args=[first.pk])))
    return urls


def _superuser_request(world: World):
    from django.test import RequestFactory

    request = RequestFactory().get("/admin/")
    request.user = world.operator
    return request


def inline_code(html: str) -> list[str]:
    """Inline scripts, style attributes, event-handler attributes and javascript: URLs in ``html``."""
    found = []
    for pattern in (INLINE_SCRIPT, STYLE_ATTRIBUTE, EVENT_HANDLER, JAVASCRIPT_URL):
        found.extend(match.group(0)[:120] for match in pattern.finditer(html))
    return found
