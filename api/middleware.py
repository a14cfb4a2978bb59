"""The API's conventions, applied to every request under ``/api/`` in one place, before the view:

1. who is calling (``api.principal``),
2. the per-principal rate limit, announced on every response with the ``RateLimit`` and
   ``RateLimit-Policy`` fields (draft-ietf-httpapi-ratelimit-headers), 429 with ``Retry-After`` past it,
3. ``Idempotency-Key`` on POST: the first response is stored and replayed for the same key and the same
   request; the same key with another method, path or body gets 422; a key still running gets 409,
4. ``ETag`` on successful reads, and 304 for a matching ``If-None-Match``.

The view itself only authorises and calls services. Storing a response happens after the view's own
transaction has committed (services own theirs), so a replay never shows something that rolled back.
"""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.translation import gettext

from api import services
from api.principal import resolve_principal
from api.problems import ApiProblem, problem_response
from core.errors import DomainError
from core.ratelimit import count_hit

API_PREFIX = "/api/"
# The schema and the docs page are not counted against anyone's limit.
UNMETERED = ("/api/v1/openapi.json", "/api/v1/docs")
# Responses worth replaying. 5xx, 429 and "busy" (503) are transient: the claim is released so a retry
# with the same key runs again.
NOT_STORED = {409, 429}
# The schema and the docs page are read-only documents (ninja would answer them on any method).
READ_ONLY_METHODS = ("GET", "HEAD")
REPLAYED_HEADERS = ("Location", "ETag")


def _rate(principal) -> str:
    return settings.API_RATE_LIMIT if principal.kind != "anonymous" else settings.API_PUBLIC_RATE_LIMIT


def _fingerprint(request) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(b"\n" + request.get_full_path().encode() + b"\n")
    digest.update(_canonical_body(request.body))
    return digest.hexdigest()


def _canonical_body(body: bytes) -> bytes:
    """The same JSON document however it is spelled (key order, spacing) is the same request; anything
    that does not parse is compared byte for byte (the handler refuses it anyway)."""
    try:
        document = json.loads(body)
    except ValueError:
        return body
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def _is_json(request) -> bool:
    media_type = request.content_type or ""
    return media_type == "application/json" or media_type.endswith("+json")


def _valid_idempotency_key(key: str) -> bool:
    return 0 < len(key) <= 255 and all(33 <= ord(char) <= 126 for char in key)


def _method_not_allowed(request, allow: str) -> HttpResponse:
    return problem_response(
        status=405,
        code="method_not_allowed",
        detail=gettext("%(method)s is not allowed here. Allowed: %(allow)s.")
        % {"method": request.method, "allow": allow},
        headers={"Allow": allow},
    )


def as_problem(request, response):
    """Django's and ninja's own 404 (no such route: the HTML not-found page) and 405 (a route without
    that method: a bare text body) become problem+json like every other API error; the Allow header of
    a 405 is kept."""
    if response.status_code not in (404, 405):
        return response
    content_type = response.get("Content-Type", "")
    if "json" in content_type:
        return response
    if response.status_code == 404:
        problem = problem_response(
            status=404, code="not_found", detail=gettext("There is no such API resource.")
        )
    else:
        problem = _method_not_allowed(request, response.get("Allow", ""))
    for name in ("Vary", "RateLimit", "RateLimit-Policy"):
        if name in response:
            problem[name] = response[name]
    return problem


class ApiMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API_PREFIX):
            return self.get_response(request)
        try:
            principal = resolve_principal(request)
        except ApiProblem as problem:
            return problem.response()
        except DomainError as error:
            return problem_response(status=error.status_code, code=error.code, detail=error.message)
        request.api_principal = principal
        if request.path.startswith(UNMETERED) and request.method not in READ_ONLY_METHODS:
            return _method_not_allowed(request, ", ".join(READ_ONLY_METHODS))
        if request.method in ("POST", "PUT", "PATCH") and request.body and not _is_json(request):
            # Only JSON bodies: a cross-site HTML form cannot send application/json without a CORS
            # preflight, so no page elsewhere can make a visitor's browser call the public endpoints.
            return problem_response(
                status=415,
                code="unsupported_media_type",
                detail=gettext("Send the body as application/json."),
            )
        rate_headers: dict[str, str] = {}
        if not request.path.startswith(UNMETERED):
            hits, limit, reset = count_hit("api", principal.identity, _rate(principal))
            _, window = (int(part) for part in _rate(principal).split("/"))
            rate_headers = {
                "RateLimit-Policy": f"{limit};w={window}",
                "RateLimit": f"limit={limit}, remaining={max(0, limit - hits)}, reset={reset}",
            }
            if hits > limit:
                return problem_response(
                    status=429,
                    code="rate_limited",
                    detail=gettext(
                        "At most %(limit)s requests per %(window)s seconds. Try again in %(reset)s s."
                    )
                    % {"limit": limit, "window": window, "reset": reset},
                    headers={**rate_headers, "Retry-After": str(reset)},
                )
        key = request.headers.get("Idempotency-Key")
        if request.method == "POST" and key is not None:
            response = self._idempotent(request, principal, key)
        else:
            response = self.get_response(request)
        if request.method in ("GET", "HEAD") and response.status_code == 200 and not response.streaming:
            response = self._etag(request, response)
        for name, value in rate_headers.items():
            response[name] = value
        response.setdefault("Vary", "Authorization, Cookie, X-Tenant")
        return as_problem(request, response)

    def _idempotent(self, request, principal, key: str):
        if not _valid_idempotency_key(key):
            return problem_response(
                status=400,
                code="invalid_idempotency_key",
                detail=gettext(
                    "An Idempotency-Key is 1 to 255 visible ASCII characters (a UUID is a good choice)."
                ),
            )
        fingerprint = _fingerprint(request)
        record, created = services.idempotency_begin(
            tenant=principal.tenant,
            principal=principal.identity,
            key=key,
            fingerprint=fingerprint,
            method=request.method,
            path=request.get_full_path(),
        )
        if not created:
            if record.fingerprint != fingerprint:
                return problem_response(
                    status=422,
                    code="idempotency_key_reused",
                    detail=gettext("This Idempotency-Key was used for a different request. Use a new key."),
                )
            if record.completed_at is None:
                return problem_response(
                    status=409,
                    code="idempotency_in_progress",
                    detail=gettext(
                        "A request with this Idempotency-Key is still running. Retry in a moment."
                    ),
                    headers={"Retry-After": "1"},
                )
            replay = HttpResponse(
                bytes(record.response_body), status=record.status_code, content_type=record.content_type
            )
            for name, value in record.response_headers.items():
                replay[name] = value
            replay["Idempotent-Replayed"] = "true"
            return replay
        request.idempotency_key = key
        try:
            response = self.get_response(request)
        except BaseException:
            services.idempotency_release(record=record)
            raise
        if response.status_code >= 500 or response.status_code in NOT_STORED or response.streaming:
            services.idempotency_release(record=record)
        else:
            services.idempotency_finish(
                record=record,
                status_code=response.status_code,
                content_type=response.get("Content-Type", ""),
                body=response.content,
                headers={name: response[name] for name in REPLAYED_HEADERS if name in response},
            )
        return response

    def _etag(self, request, response):
        etag = '"' + hashlib.sha256(response.content).hexdigest()[:32] + '"'
        wanted = {
            tag.strip().removeprefix("W/") for tag in request.headers.get("If-None-Match", "").split(",")
        }
        if etag in wanted or "*" in wanted:
            not_modified = HttpResponseNotModified()
            not_modified["ETag"] = etag
            return not_modified
        response["ETag"] = etag
        return response
