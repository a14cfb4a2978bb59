"""The OpenAPI document as committed (``docs/api/openapi-v1.json``): generated from the routers, with
keys sorted so a diff shows exactly what changed. ``python manage.py api_openapi --write`` refreshes
it; a test fails while the committed copy and the code disagree."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings

SNAPSHOT = Path(settings.BASE_DIR) / "docs" / "api" / "openapi-v1.json"


def openapi_document() -> dict:
    from api.api import api

    # A JSON round trip turns the status-code keys into strings, as served.
    return json.loads(json.dumps(api.get_openapi_schema(path_prefix="/api/v1/")))


def openapi_text() -> str:
    return json.dumps(openapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
