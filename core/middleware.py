"""Maps domain errors raised anywhere below a view to HTTP responses, in one place."""

import logging

from django.db import OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.response import TemplateResponse

from core.errors import Busy, DomainError, RateLimited

logger = logging.getLogger(__name__)
DATABASE_UNAVAILABLE = "We can't reach our database for a moment. Please try again in a few seconds."


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
