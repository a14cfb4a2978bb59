"""The ``/api/v1/`` NinjaAPI: routers per resource, errors as problem+json, the OpenAPI 3.1 document.

Conventions (rate limits, idempotency, ETags) live in ``api.middleware``; authentication and scopes in
``api.auth``; every router only authorises, calls a selector or a service, and shapes the answer.
"""

from __future__ import annotations

import logging

from django.db import DataError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError

from api.problems import PROBLEM_CONTENT_TYPE, ApiProblem, field_errors_list, problem_response
from core.errors import Busy, DomainError, RateLimited

logger = logging.getLogger(__name__)

DESCRIPTION = """\
The VirtualQ REST API: queues and tickets, events and checkout, orders and check-in, the waiting room,
waitlists and the help desk of one tenant.

**Authentication.** `Authorization: Bearer <API key>`. Keys are created (and revoked) by owners and
managers on the dashboard (*API keys*), belong to one tenant and carry scopes: `read` (every GET),
`write` (everything that changes something), `check_in` (door scans). The dashboard's own calls may use
the session cookie with `X-Tenant: <tenant slug>` and the CSRF token. Endpoints under `/public/` need no key.

**Conventions.** Lists are cursor-paginated (`limit`, `cursor` → `next_cursor`). Every POST accepts an
`Idempotency-Key` (same key and same request → the same response, marked `Idempotent-Replayed: true`;
same key with another request → 422 `idempotency_key_reused`). Reads carry an `ETag` (send
`If-None-Match` for a 304). Each key has a rate limit, announced in `RateLimit` / `RateLimit-Policy`
headers; past it: 429 with `Retry-After`. Errors are RFC 9457 `application/problem+json` with a stable `code`.
"""


class VirtualQApi(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for path_item in schema.get("paths", {}).values():
            for method, operation in path_item.items():
                for status, response in operation.get("responses", {}).items():
                    if int(status) >= 400 and "content" in response:
                        response["content"] = {PROBLEM_CONTENT_TYPE: response["content"]["application/json"]}
                if method == "post":
                    operation.setdefault("parameters", []).append(
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "description": "Makes a retried POST safe: the first response is replayed.",
                            "schema": {
                                "type": "string",
                                "minLength": 1,
                                "maxLength": 255,
                                "pattern": "^[!-~]+$",
                            },
                        }
                    )
        return schema


api = VirtualQApi(
    title="VirtualQ API",
    version="1.0.0",
    description=DESCRIPTION,
    urls_namespace="api_v1",
    docs_url="/docs",
    openapi_url="/openapi.json",
)


@api.exception_handler(ApiProblem)
def _api_problem(request, error: ApiProblem):
    return error.response()


@api.exception_handler(DomainError)
def _domain_error(request, error: DomainError):
    headers = {"Retry-After": str(error.retry_after)} if isinstance(error, Busy | RateLimited) else None
    return problem_response(
        status=error.status_code,
        code=error.code,
        detail=error.message,
        errors=field_errors_list(error.field_errors),
        headers=headers,
    )


def _field_name(loc) -> str:
    # ninja's loc is (source, parameter, field…) for bodies ("body", "payload", "email") and (source,
    # field) for query and path parameters; clients want the field as they sent it.
    parts = [str(part) for part in loc]
    parts = parts[2:] if parts[:1] == ["body"] and len(parts) > 2 else parts[1:]
    return ".".join(parts) or "body"


@api.exception_handler(NinjaValidationError)
def _validation_error(request, error: NinjaValidationError):
    errors = [
        {"field": _field_name(item.get("loc", ())), "message": item.get("msg", "")} for item in error.errors
    ]
    return problem_response(
        status=422,
        code="invalid",
        detail=_("The request does not match the documented schema."),
        errors=errors,
    )


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, error):
    return problem_response(
        status=401, code="unauthenticated", detail=_("Send an API key: 'Authorization: Bearer <key>'.")
    )


@api.exception_handler(HttpError)
def _http_error(request, error: HttpError):
    code = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "error")
    return problem_response(status=error.status_code, code=code, detail=str(error))


@api.exception_handler(DataError)
def _data_error(request, error):
    # A value PostgreSQL cannot store or compare (a number out of range): bad input, not a server error.
    return problem_response(status=422, code="invalid", detail=_("A value in the request is out of range."))


@api.exception_handler(ValueError)
def _value_error(request, error: ValueError):
    if "NUL" in str(error):  # psycopg refuses NUL characters in text parameters
        return problem_response(status=422, code="invalid", detail=_("Text may not contain NUL characters."))
    raise error


@api.exception_handler(Http404)
def _not_found(request, error):
    return problem_response(status=404, code="not_found", detail=_("We could not find that."))


def _register_routers() -> None:
    from api.routers import public, queues, support, ticketing, waiting

    api.add_router("/queues", queues.queues_router)
    api.add_router("/queue-tickets", queues.tickets_router)
    api.add_router("/ticket-types", queues.types_router)
    api.add_router("/events", ticketing.events_router)
    api.add_router("/checkouts", ticketing.checkout_router)
    api.add_router("/orders", ticketing.orders_router)
    api.add_router("/issued-tickets", ticketing.issued_router)
    api.add_router("/waiting-room", waiting.waiting_room_router)
    api.add_router("/waitlist-entries", waiting.waitlist_router)
    api.add_router("/support", support.router)
    api.add_router("/public", public.router)


_register_routers()
