"""Hooks for django-axes (login throttling). The client address comes from core.ratelimit, so logins are
limited on the same real address as every other limit."""

from __future__ import annotations


def axes_username(request, credentials: dict | None) -> str | None:
    """The account a login names: allauth authenticates with ``email=`` (its form field is ``login``),
    Django's admin login with ``username=``. Lower-cased, as emails are stored."""
    credentials = credentials or {}
    value = credentials.get("email") or credentials.get("username") or credentials.get("login")
    if value is None and request is not None:
        value = request.POST.get("login") or request.POST.get("username")
    return value.strip().lower() if isinstance(value, str) else None


def lockout_response(request, original_response=None, credentials=None):
    """django-axes' AXES_LOCKOUT_CALLABLE: a 429 page that says what happened, for how long, and what to
    do (reset the password, or ask an operator to unlock)."""
    from django.conf import settings
    from django.template.response import TemplateResponse

    minutes = max(1, int(settings.AXES_COOLOFF_TIME.total_seconds() // 60))
    response = TemplateResponse(
        request,
        "core/lockout.html",
        {"failure_limit": settings.AXES_FAILURE_LIMIT, "minutes": minutes},
        status=429,
    ).render()
    response["Retry-After"] = str(minutes * 60)
    return response


from axes.backends import AxesStandaloneBackend  # noqa: E402


class AxesBackend(AxesStandaloneBackend):
    """django-axes' backend, skipped for an ``authenticate()`` without a request (a management command, a
    script, a test): only requests come from outside, and axes would refuse such calls outright."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
