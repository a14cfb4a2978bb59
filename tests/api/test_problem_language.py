"""Problem details speak the caller's language (``Accept-Language``): ``title`` and ``detail`` are for
people, so they are translated; ``code`` and ``type`` are the contract and never change."""

import pytest

from tests.api.conftest import ApiClient, make_key

pytestmark = pytest.mark.django_db


def test_a_bad_key_is_explained_in_german_with_the_same_code(client):
    bad = ApiClient(client, "vq_nothing_here")
    english = bad.get("/api/v1/queues").json()
    german = bad.get("/api/v1/queues", HTTP_ACCEPT_LANGUAGE="de").json()
    assert english["title"] == "Invalid API key"
    assert english["detail"] == "This API key is not valid (wrong, or revoked)."
    assert german["title"] == "Ungültiger API-Schlüssel"
    assert german["detail"] == "Dieser API-Schlüssel ist ungültig (falsch oder widerrufen)."
    assert german["code"] == english["code"] == "invalid_api_key"
    assert german["type"] == english["type"]


def test_a_missing_scope_and_an_unknown_resource_in_spanish(client, tenant):
    _key, secret = make_key(tenant, scopes=("read",))
    api = ApiClient(client, secret)
    scope = api.post("/api/v1/queues/1/tickets", {}, HTTP_ACCEPT_LANGUAGE="es")
    assert scope.status_code == 403 and scope.json()["code"] == "scope_missing"
    assert scope.json()["detail"] == "Para esto necesitas una clave de API con el ámbito 'write'."
    missing = api.get("/api/v1/no-such-thing", HTTP_ACCEPT_LANGUAGE="es")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert missing.json()["detail"] == "Ese recurso de la API no existe."
    assert "Accept-Language" in missing["Vary"]
