"""Access helpers that fetch *and* authorise in one call (zulip's ``access_*`` pattern)."""

from __future__ import annotations

from typing import TypeVar

from django.db import models

from core.errors import NotFound

M = TypeVar("M", bound=models.Model)


def get_for_tenant(model_or_queryset: type[M] | models.QuerySet, tenant, **lookups) -> M:
    """Return the one object of ``tenant`` matching ``lookups``, or raise NotFound.

    An object that belongs to another tenant raises exactly the same NotFound as one that does not exist.
    """
    queryset = (
        model_or_queryset
        if isinstance(model_or_queryset, models.QuerySet)
        else model_or_queryset._default_manager.all()
    )
    if tenant is None:
        raise NotFound()
    try:
        return queryset.filter(tenant=tenant).get(**lookups)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise NotFound() from None
    except queryset.model.MultipleObjectsReturned:
        raise NotFound() from None
