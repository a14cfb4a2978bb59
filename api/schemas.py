"""Schemas shared by every router: problems, pagination query, the error responses of an operation."""

from __future__ import annotations

from typing import Annotated

from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _
from ninja import Field, Schema
from pydantic import AfterValidator


def _valid_email(value: str) -> str:
    try:
        validate_email(value)
    except DjangoValidationError:
        raise ValueError(_("Enter a valid email address.")) from None
    return value


Email = Annotated[str, Field(min_length=3, max_length=254), AfterValidator(_valid_email)]


class FieldError(Schema):
    field: str
    message: str


class Problem(Schema):
    """RFC 9457 problem details."""

    type: str = Field(examples=["urn:virtualq:problem:not_found"])
    title: str
    status: int
    detail: str
    code: str = Field(description="Stable machine-readable code (see the README's list).")
    errors: list[FieldError] | None = None


# Every operation documents the same error answers: a bad request header (400), no or a bad key (401),
# a missing scope or role (403), another tenant's or a missing object (404), a conflict with the current
# state (409), a body that is not JSON (415), invalid input (422), the rate limit (429), busy or the
# database unavailable (503).
ERROR_CODES = frozenset({400, 401, 403, 404, 409, 415, 422, 429, 503})


def responses(ok_status: int, ok_schema) -> dict:
    return {ok_status: ok_schema, ERROR_CODES: Problem}
