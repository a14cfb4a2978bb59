"""RFC 9457 problem details: every API error is ``application/problem+json`` with a stable ``code``.

``type`` is ``urn:virtualq:problem:<code>``; ``code`` repeats it for clients that only want the word;
``errors`` lists field errors (``{"field": …, "message": …}``). The codes are listed in the README and
on the docs page; they never change meaning once published.
"""

from __future__ import annotations

import json
from http import HTTPStatus

from django.http import HttpResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"

# code → (status, title). Domain errors bring their own code and status (core.errors); these are the
# API layer's own.
API_PROBLEMS = {
    "unauthenticated": (401, "Authentication required"),
    "invalid_api_key": (401, "Invalid API key"),
    "scope_missing": (403, "Scope missing"),
    "csrf_failed": (403, "CSRF check failed"),
    "invalid_idempotency_key": (400, "Invalid Idempotency-Key"),
    "idempotency_key_reused": (422, "Idempotency-Key reused with another request"),
    "idempotency_in_progress": (409, "A request with this Idempotency-Key is still running"),
    "unsupported_media_type": (415, "Unsupported media type"),
    "rate_limited": (429, "Too many requests"),
    "invalid": (422, "Invalid request"),
    "not_found": (404, "Not found"),
    "method_not_allowed": (405, "Method not allowed"),
    "server_error": (500, "Server error"),
}


class ApiProblem(Exception):
    """Raised inside the API layer for an API-level problem (not a domain rule)."""

    def __init__(self, code: str, detail: str, *, status: int | None = None, headers: dict | None = None):
        self.code = code
        self.status = status or API_PROBLEMS[code][0]
        self.detail = detail
        self.headers = headers or {}
        super().__init__(detail)

    def response(self) -> HttpResponse:
        return problem_response(status=self.status, code=self.code, detail=self.detail, headers=self.headers)


def problem_response(
    *,
    status: int,
    code: str,
    detail: str,
    title: str | None = None,
    errors: list[dict] | None = None,
    headers: dict | None = None,
) -> HttpResponse:
    body = {
        "type": f"urn:virtualq:problem:{code}",
        "title": title or API_PROBLEMS.get(code, (status, HTTPStatus(status).phrase))[1],
        "status": status,
        "detail": detail,
        "code": code,
    }
    if errors:
        body["errors"] = errors
    response = HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_CONTENT_TYPE)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def field_errors_list(field_errors: dict[str, list[str]]) -> list[dict]:
    return [
        {"field": field, "message": message}
        for field, messages in field_errors.items()
        for message in messages
    ]
