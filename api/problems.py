"""RFC 9457 problem details: every API error is ``application/problem+json`` with a stable ``code``.

``type`` is ``urn:virtualq:problem:<code>``; ``code`` repeats it for clients that only want the word;
``errors`` lists field errors (``{"field": …, "message": …}``). The codes are listed in the README and
on the docs page; they never change meaning once published.
"""

from __future__ import annotations

from http import HTTPStatus

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _

from core.problems import PROBLEM_CONTENT_TYPE  # noqa: F401 - part of this module's interface
from core.problems import problem_response as core_problem_response

# code → (status, title). Domain errors bring their own code and status (core.errors); these are the
# API layer's own. The code is the contract; the title and detail are for people, in the request's
# language (RFC 9457 allows a title to change with localisation).
API_PROBLEMS = {
    "unauthenticated": (401, _("Authentication required")),
    "invalid_api_key": (401, _("Invalid API key")),
    "scope_missing": (403, _("Scope missing")),
    "csrf_failed": (403, _("CSRF check failed")),
    "invalid_idempotency_key": (400, _("Invalid Idempotency-Key")),
    "idempotency_key_reused": (422, _("Idempotency-Key reused with another request")),
    "idempotency_in_progress": (409, _("A request with this Idempotency-Key is still running")),
    "unsupported_media_type": (415, _("Unsupported media type")),
    "rate_limited": (429, _("Too many requests")),
    "invalid": (422, _("Invalid request")),
    "not_found": (404, _("Not found")),
    "method_not_allowed": (405, _("Method not allowed")),
    "server_error": (500, _("Server error")),
}


class ApiProblem(Exception):
    """Raised inside the API layer for an API-level problem (not a domain rule)."""

    def __init__(self, code: str, detail: str, *, status: int | None = None, headers: dict | None = None):
        self.code = code
        self.status = status or API_PROBLEMS[code][0]
        self.detail = str(detail)
        self.headers = headers or {}
        super().__init__(detail)

    def response(self) -> HttpResponse:
        return problem_response(status=self.status, code=self.code, detail=self.detail, headers=self.headers)


def problem_response(
    *, status: int, code: str, detail: str, title: str | None = None, **extra
) -> HttpResponse:
    """A problem response with the API's own title for ``code`` (core.problems builds the body)."""
    title = title or API_PROBLEMS.get(code, (status, HTTPStatus(status).phrase))[1]
    return core_problem_response(status=status, code=code, detail=str(detail), title=str(title), **extra)


def field_errors_list(field_errors: dict[str, list[str]]) -> list[dict]:
    return [
        {"field": field, "message": message}
        for field, messages in field_errors.items()
        for message in messages
    ]
