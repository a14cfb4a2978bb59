"""Maps domain errors raised anywhere below a view to HTTP responses, in one place."""

from django.http import JsonResponse
from django.template.response import TemplateResponse

from core.errors import Busy, DomainError, RateLimited


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
        return None
