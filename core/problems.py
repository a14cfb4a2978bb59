"""RFC 9457 problem details, the response shape: ``application/problem+json`` with a stable ``code``
(``type`` is ``urn:virtualq:problem:<code>``). The API app keeps its own codes and titles
(``api.problems``) and builds on this; core's middleware uses it for the API paths it answers itself (an
unknown HTTP method), without importing the API."""

from __future__ import annotations

import json
from http import HTTPStatus

from django.http import HttpResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"


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
        "title": title or HTTPStatus(status).phrase,
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
