"""One app registry: the project's own apps are the installed apps whose folder sits at the top of the
checkout, in ``INSTALLED_APPS`` order. Each contributes by convention, through optional modules:

- ``<app>/urls.py``: ``urlpatterns`` (mounted at ``AppConfig.url_prefix``, default the root) and
  ``public_urlpatterns`` (under ``/<tenant_slug>/``); namespaces ``app_name`` and ``<app_name>_public``;
- ``<app>/routing.py``: ``websocket_urlpatterns``;
- ``<app>/sections.py``: ``public_section``, ``dashboard_section``, ``DASHBOARD_NAV`` (the tenant home pages);
- ``<app>/demo.py``: ``seed(tenants, users)`` and ``LOGINS`` (``manage.py seed_demo``).

``config/urls.py``, ``config/asgi.py``, ``tenants.views`` and the demo seed iterate this registry, so adding
an app is one line in ``INSTALLED_APPS``. core imports no domain app: it only walks the app configs."""

from __future__ import annotations

from functools import lru_cache
from importlib import import_module
from pathlib import Path
from types import ModuleType

from django.apps import apps
from django.conf import settings


@lru_cache(maxsize=1)
def project_apps() -> tuple[str, ...]:
    base = Path(settings.BASE_DIR).resolve()
    return tuple(
        config.name for config in apps.get_app_configs() if Path(config.path).resolve().parent == base
    )


def app_config(name: str):
    return apps.get_app_config(name.rpartition(".")[2])


def optional_module(app: str, part: str) -> ModuleType | None:
    """``<app>.<part>`` if the app has one (an import error inside it is raised, not hidden)."""
    try:
        return import_module(f"{app}.{part}")
    except ModuleNotFoundError as error:
        if error.name != f"{app}.{part}":
            raise
        return None


def app_modules(part: str) -> list[tuple[str, ModuleType]]:
    """Every project app's ``<app>.<part>`` module, in ``INSTALLED_APPS`` order."""
    found = []
    for app in project_apps():
        module = optional_module(app, part)
        if module is not None:
            found.append((app, module))
    return found
