"""Which language a page speaks, and the language a person is written to in.

Order for a page (the first that gives a supported language wins):
1. the visitor's explicit choice: the language cookie that the switcher (``/i18n/setlang/``) sets;
2. the signed-in person's saved language (``User.language``, saved by the switcher too);
3. on a tenant's public pages, the tenant's default language: ``speak_tenant_language``, called where
   the page looks its tenant up (``tenants.access.get_public_tenant``), so it costs no query (the
   dashboard is the members' own: it follows their choice or their browser, not the tenant's default);
4. the browser's ``Accept-Language``;
5. English (``settings.LANGUAGE_CODE``).

Django's LocaleMiddleware does 1, 4 and 5 in ``process_request``; this subclass applies 2 in
``process_view``, when the user is known, and 3 through ``speak_tenant_language`` once the view knows
its tenant. No URL carries a language prefix.

Emails and texts are written in the recipient's language (``recipient_language``), under
``translation.override`` in the notifications sender.
"""

from __future__ import annotations

from asgiref.local import Local
from django.conf import settings
from django.middleware.locale import LocaleMiddleware
from django.utils import translation

# Per request (thread / async-task local like Django's active language): may a tenant's page still speak
# the tenant's default language, i.e. did the visitor neither choose a language nor save one?
_state = Local()


def supported(code: str | None) -> str | None:
    """``code`` when it is one of settings.LANGUAGES (a regional variant maps to its language), else None."""
    if not code:
        return None
    try:
        return translation.get_supported_language_variant(code)
    except LookupError:
        return None


def explicit_choice(request) -> str | None:
    return supported(request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME))


def saved_language(user) -> str | None:
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    return supported(getattr(user, "language", ""))


class VisitorLocaleMiddleware(LocaleMiddleware):
    """LocaleMiddleware plus the signed-in person's saved language and the tenant's default language."""

    def process_request(self, request):
        super().process_request(request)
        _state.tenant_default = False

    def process_view(self, request, view_func, view_args, view_kwargs):
        if explicit_choice(request):
            return None
        language = saved_language(getattr(request, "user", None))
        if language is not None:
            _activate(request, language)
            return None
        # The tenant's pages (those that look their tenant up through tenants.access) call
        # ``speak_tenant_language``, which applies the tenant's default from here on.
        _state.tenant_default = True
        _state.request = request
        return None

    def process_response(self, request, response):
        _state.tenant_default = False
        _state.request = None
        return super().process_response(request, response)


def _activate(request, language: str) -> None:
    if language != translation.get_language():
        translation.activate(language)
    if request is not None:
        request.LANGUAGE_CODE = translation.get_language()


def speak_tenant_language(tenant) -> None:
    """On a tenant's public page: speak the tenant's default language, unless the visitor chose a
    language or has a saved one. ``get_public_tenant`` calls it; a public page that finds its tenant
    another way (``/status/<reference>/``) calls it with the tenant it found. Outside a request it does
    nothing."""
    if not getattr(_state, "tenant_default", False):
        return
    language = supported(getattr(tenant, "language", ""))
    if language:
        _activate(getattr(_state, "request", None), language)


def recipient_language(*, customer=None, user=None, tenant=None) -> str:
    """The language to write to a person in: their own (a customer's remembered language, a user's saved
    one), else the tenant's default, else English."""
    for candidate in (
        getattr(customer, "language", "") if customer is not None else "",
        getattr(user, "language", "") if user is not None else "",
        getattr(tenant, "language", "") if tenant is not None else "",
    ):
        if language := supported(candidate):
            return language
    return settings.LANGUAGE_CODE


def active_language() -> str:
    """The language of the current request (or override), as one of settings.LANGUAGES."""
    return supported(translation.get_language()) or settings.LANGUAGE_CODE
