"""Maps domain errors raised anywhere below a view to HTTP responses, in one place."""

import logging

from django.core.exceptions import BadRequest, SuspiciousOperation
from django.db import OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _

from core.errors import Busy, DomainError, RateLimited
from core.problems import problem_response

logger = logging.getLogger(__name__)
DATABASE_UNAVAILABLE = _("We can't reach our database for a moment. Please try again in a few seconds.")


def wants_json(request) -> bool:
    accept = request.headers.get("Accept", "")
    return (
        request.path.startswith("/api/")
        or "application/json" in accept
        or request.headers.get("X-Requested-With") == "XMLHttpRequest"
    )


def domain_error_response(request, error: DomainError):
    if wants_json(request):
        response = JsonResponse(
            {"error": error.code, "message": error.message, "fields": error.field_errors},
            status=error.status_code,
        )
    else:
        response = TemplateResponse(
            request, "core/error.html", {"error": error}, status=error.status_code
        ).render()
    if isinstance(error, Busy | RateLimited):
        response["Retry-After"] = str(error.retry_after)
    return response


class DomainErrorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, DomainError):
            return domain_error_response(request, exception)
        if isinstance(exception, OperationalError):
            return database_unavailable_response(request, exception)
        return None


def database_unavailable_response(request, exception: OperationalError):
    """The database refused or lost the connection (a restart, too many clients, a deadlock victim): the
    open transaction was rolled back, so the request can be repeated (purchases carry an idempotency key).
    Answer 503 with Retry-After instead of a 500, and log it for the operators."""
    logger.error("database unavailable during %s %s", request.method, request.path, exc_info=exception)
    error = Busy(DATABASE_UNAVAILABLE)
    try:
        return domain_error_response(request, error)
    except Exception:  # the error page itself may need the database (the signed-in user, the session)
        response = HttpResponse(DATABASE_UNAVAILABLE, status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = str(error.retry_after)
        return response


NUL = "\x00"
NUL_MESSAGE = _(
    "The request contains a NUL character (%00), which no field accepts. Remove it and try again."
)


class RejectNulBytesMiddleware:
    """A NUL character anywhere a person can type (the path, a query parameter, a form field, a JSON
    body) is refused with a clear 400 before any view runs: PostgreSQL cannot store it in text, so it
    used to surface as a 500 wherever a view queried with the raw value (the event search, staff
    filters, a reference in the path). Cookies carrying one are dropped instead (a browser never sends
    them; the request goes on without that cookie). Sits before the session middleware for that reason.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        bad_cookies = [name for name, value in request.COOKIES.items() if NUL in name or NUL in value]
        for name in bad_cookies:
            del request.COOKIES[name]
        if self._has_nul(request):
            from core.errors import DomainError

            return domain_error_response(request, DomainError(NUL_MESSAGE))
        return self.get_response(request)

    @staticmethod
    def _has_nul(request) -> bool:
        if request.path_info.startswith("/api/"):
            return False  # the API answers its own bad input (422 with its documented error shape)
        if NUL in request.path_info:
            return True
        if any(NUL in key or any(NUL in value for value in values) for key, values in request.GET.lists()):
            return True
        if request.method != "POST":
            return False
        content_type = request.content_type or ""
        if content_type == "application/json":
            return b"\\u0000" in request.body or b"\x00" in request.body
        try:
            fields = request.POST.lists()
        except (SuspiciousOperation, BadRequest):
            raise  # too big or too many fields: Django answers 400 (and the view must not see an empty form)
        except Exception:  # noqa: BLE001 - another malformed body is Django's to answer, not ours
            return False
        return any(NUL in key or any(NUL in value for value in values) for key, values in fields)


# Methods any page or API route answers; anything else (TRACE, CONNECT, WebDAV verbs, made-up words)
# is refused before any view runs: function views do not check the method and would answer a TRACE
# with the page itself (200), which scanners rightly flag.
KNOWN_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


class KnownMethodsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method in KNOWN_METHODS:
            return self.get_response(request)
        allow = ", ".join(KNOWN_METHODS)
        if request.path_info.startswith("/api/"):
            return problem_response(
                status=405,
                code="method_not_allowed",
                title="Method not allowed",
                detail=f"{request.method} is not allowed here. Allowed: {allow}.",
                headers={"Allow": allow},
            )
        response = HttpResponse(
            _("Method not allowed."), status=405, content_type="text/plain; charset=utf-8"
        )
        response["Allow"] = allow
        return response
