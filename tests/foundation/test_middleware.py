"""Errors below a view become clear answers: a lost database is a 503 with Retry-After, never a 500."""

from django.db import OperationalError
from django.http import HttpResponse
from django.test import RequestFactory

from core.middleware import DATABASE_UNAVAILABLE, DomainErrorMiddleware


def failing_view(request):
    raise OperationalError("connection failed: FATAL:  sorry, too many clients already")


def answer(request):
    middleware = DomainErrorMiddleware(lambda r: HttpResponse("ok"))
    try:
        return failing_view(request)
    except OperationalError as error:
        return middleware.process_exception(request, error)


def test_a_lost_database_is_a_503_with_retry_after_in_json(caplog):
    request = RequestFactory().post("/api/anything/", HTTP_ACCEPT="application/json")
    response = answer(request)
    assert response.status_code == 503 and response["Retry-After"] == "2"
    assert str(DATABASE_UNAVAILABLE) in response.content.decode()
    assert any("database unavailable" in record.getMessage() for record in caplog.records)


def test_the_page_falls_back_to_plain_text_when_it_cannot_render(monkeypatch):
    import core.middleware

    def broken(*args, **kwargs):
        raise OperationalError("still down")

    monkeypatch.setattr(core.middleware, "domain_error_response", broken)
    response = answer(RequestFactory().get("/somewhere/"))
    assert response.status_code == 503 and response["Retry-After"] == "2"
    assert response.content.decode() == str(DATABASE_UNAVAILABLE)


def test_other_exceptions_are_left_to_django():
    middleware = DomainErrorMiddleware(lambda r: HttpResponse("ok"))
    assert middleware.process_exception(RequestFactory().get("/"), KeyError("x")) is None


def test_a_lost_database_on_a_page_is_a_503_page(rf, django_user_model, db):
    from django.contrib.auth.models import AnonymousUser

    request = rf.get("/ava-sings/")
    request.user = AnonymousUser()
    response = answer(request)
    assert response.status_code == 503 and response["Retry-After"] == "2"
    assert "<html" in response.content.decode() and "try again in a few seconds" in response.content.decode()
