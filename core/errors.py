"""The domain error hierarchy. Services raise these; ``core.middleware`` maps them to HTTP in one place
(an HTML page with a message, or JSON for API/AJAX clients)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status_code = 400
    code = "error"
    default_message = _("Something went wrong.")

    def __init__(self, message: str | None = None, *, field_errors: dict[str, list[str]] | None = None):
        # A lazy translation is resolved in the language active where the error is raised.
        self.message = str(message or self.default_message)
        self.field_errors = field_errors or {}
        super().__init__(self.message)


class NotFound(DomainError):
    status_code = 404
    code = "not_found"
    default_message = _("We could not find that.")


class PermissionDenied(DomainError):
    status_code = 403
    code = "forbidden"
    default_message = _("You do not have permission to do that.")


class Conflict(DomainError):
    status_code = 409
    code = "conflict"
    default_message = _("That changed while you were looking at it. Reload and try again.")


class SoldOut(Conflict):
    code = "sold_out"
    default_message = _("Sold out.")


class InvalidTransition(Conflict):
    code = "invalid_transition"
    default_message = _("That action is not allowed in the current state.")


class Busy(DomainError):
    status_code = 503
    code = "busy"
    default_message = _("We are busy right now. Please try again in a moment.")
    retry_after = 2


class RateLimited(DomainError):
    status_code = 429
    code = "rate_limited"
    default_message = _("Too many requests. Please wait a minute and try again.")
    retry_after = 60


class ValidationError(DomainError):
    status_code = 422
    code = "invalid"
    default_message = _("Please correct the errors below.")
