"""The OpenAPI 3.1 document: valid (openapi-spec-validator), served, equal to the committed snapshot,
and the docs page is served from our own static files."""

from __future__ import annotations

import json

import pytest
from django.contrib.staticfiles import finders
from openapi_spec_validator import validate

from api.openapi import SNAPSHOT, openapi_document, openapi_text


def test_the_document_is_valid_openapi_3_1():
    document = openapi_document()
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_the_committed_snapshot_matches_the_code():
    assert SNAPSHOT.exists(), "run: python manage.py api_openapi --write"
    assert SNAPSHOT.read_text() == openapi_text(), (
        "The API changed: review the diff and refresh the snapshot with python manage.py api_openapi --write"
    )


def test_every_operation_documents_its_errors_as_problem_json():
    for path, item in openapi_document()["paths"].items():
        for method, operation in item.items():
            codes = set(operation["responses"])
            assert {"401", "404", "422", "429"} <= codes, (method, path)
            for code, response in operation["responses"].items():
                if int(code) >= 400:
                    assert list(response["content"]) == ["application/problem+json"], (method, path, code)
            if method == "post":
                assert any(p["name"] == "Idempotency-Key" for p in operation["parameters"]), path


@pytest.mark.django_db
def test_served_document_and_docs_page(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert json.loads(response.content) == openapi_document()
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "https://" not in html
    assert finders.find("ninja/swagger-ui-bundle.js") and finders.find("ninja/swagger-ui.css")
