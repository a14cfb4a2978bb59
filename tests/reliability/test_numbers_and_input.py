"""Numbers and input: every numeric field has a range, malformed or out-of-range numbers are field errors
(never a 500), a decimal comma means a decimal point (5,50 is 5.50, never 550) or is refused, and a NUL
byte in a path, query parameter, form field or JSON body is a clear 400 (cookies with one are dropped).

The fuzz test (test_fuzz.py) posts hostile values to every form; this file holds the named instances
and the rule that no numeric form field anywhere is left without a range."""

from __future__ import annotations

import importlib
import inspect

import pytest
from django import forms
from django.urls import reverse

from core.money import MAX_AMOUNT_MINOR, parse_money
from core.numbers import whole_number
from queues.models import Ticket
from tests.queues.factories import creator_queue
from tests.queues.test_public_pages import form_url, post_data, token_of
from tests.ticketing.factories import make_event

pytestmark = pytest.mark.django_db

PROJECT_APPS = ["tenants", "queues", "support", "ticketing", "waitingroom", "waitlists", "notifications"]


def project_form_classes():
    for app in PROJECT_APPS + ["accounts", "team", "api", "payments"]:
        for module_name in ("forms", "admin", "schema_forms"):
            try:
                module = importlib.import_module(f"{app}.{module_name}")
            except ModuleNotFoundError:
                continue
            for _name, cls in inspect.getmembers(module, inspect.isclass):
                if issubclass(cls, forms.BaseForm) and cls.__module__ == module.__name__:
                    yield cls


NUMERIC = (forms.IntegerField, forms.FloatField, forms.DecimalField)


def unbounded(cls_name: str, fields: dict) -> list[str]:
    return [
        f"{cls_name}.{name}"
        for name, field in fields.items()
        if isinstance(field, NUMERIC) and (field.min_value is None or field.max_value is None)
    ]


def instantiate(cls):
    """The form with whatever its constructor needs: keyword arguments are given the demo objects."""
    from tests.factories import TenantFactory

    tenant = TenantFactory()
    queue = creator_queue(tenant)
    event = make_event(tenant=tenant)
    candidates = {
        "tenant": tenant,
        "queue": queue,
        "lanes": list(queue.lanes.all()),
        "members": [],
        "currency": "USD",
        "event": event,
        "schema": {},
        "support_queue": None,
    }
    parameters = inspect.signature(cls.__init__).parameters
    kwargs = {
        name: candidates.get(name)
        for name, parameter in parameters.items()
        if parameter.kind == parameter.KEYWORD_ONLY and parameter.default is parameter.empty
    }
    return cls(**kwargs)


def test_every_numeric_form_field_has_a_range():
    checked, problems = [], []
    for cls in project_form_classes():
        try:
            form = instantiate(cls)
        except (TypeError, AttributeError, ValueError):
            form = None  # a constructor we cannot satisfy here: its declared fields are still checked
        problems += unbounded(cls.__name__, form.fields if form is not None else cls.base_fields)
        checked.append(cls.__name__)
    assert {"TierForm", "EventForm", "SupportSettingsForm", "QueueSettingsForm", "LaneSettingsForm"} <= set(
        checked
    )
    assert problems == []


def test_custom_number_fields_are_bounded_even_when_the_schema_is_not():
    from queues.schema_forms import JSON_SAFE_INTEGER, form_fields

    fields = form_fields(
        {
            "type": "object",
            "properties": {"n": {"type": "integer"}, "x": {"type": "number", "maximum": 1e300}},
        }
    )
    assert fields["custom__n"].max_value == JSON_SAFE_INTEGER and fields["custom__n"].min_value is not None
    assert fields["custom__x"].max_value == JSON_SAFE_INTEGER


@pytest.mark.parametrize(
    ("typed", "cents"),
    [("5", 500), ("5.5", 550), ("5.50", 550), ("5,50", 550), ("5,5", 550), (" 12 ", 1200), ("0", 0)],
)
def test_amounts_read_a_decimal_comma_as_a_decimal_point(typed, cents):
    assert parse_money(typed, "USD") == cents


@pytest.mark.parametrize(
    "typed",
    ["1e9", "999999999", "1000000.01", "NaN", "inf", "-1", "1,000", "1.234,56", "5.555", "", "abc", "١٢"],
)
def test_malformed_or_huge_amounts_are_refused_with_a_message(typed):
    with pytest.raises(ValueError, match=r"amount"):
        parse_money(typed, "USD")
    assert parse_money("1000000", "USD") == MAX_AMOUNT_MINOR


@pytest.mark.parametrize("tip", ["999999999", "1e9", "NaN", "-5", "5.555", "1,000"])
def test_a_hostile_tip_on_the_public_form_is_a_field_error(client, tenant, tip):
    queue = creator_queue(tenant)
    page = client.get(form_url(queue))
    response = client.post(
        form_url(queue), post_data(queue, "priority", tip=tip, submission_token=token_of(page))
    )
    assert response.status_code == 400
    assert 'class="field-error" id="id_tip_error"' in response.content.decode()
    assert not Ticket.objects.exists()


def test_a_tip_with_a_decimal_comma_is_five_fifty_not_five_hundred_fifty(client, tenant):
    queue = creator_queue(tenant)
    page = client.get(form_url(queue))
    response = client.post(
        form_url(queue), post_data(queue, "priority", tip="5,50", submission_token=token_of(page))
    )
    assert response.status_code == 302
    assert Ticket.objects.get().tip_cents == 550


def test_staff_numbers_out_of_range_are_field_errors(owner_client, tenant):
    queue = creator_queue(tenant)
    url = reverse("queues:queue_settings", args=[tenant.slug, queue.slug])
    response = owner_client.post(
        url,
        {
            "queue-name": "Requests",
            "queue-description": "",
            "queue-enabled": "on",
            "queue-default_service_minutes": "99999999999",
            "queue-ttl_minutes": "1e9",
        },
    )
    assert response.status_code in (200, 400)
    html = response.content.decode()
    assert "id_queue-default_service_minutes_error" in html and "id_queue-ttl_minutes_error" in html


@pytest.mark.parametrize(
    "path",
    [
        "/{tenant}/events/?q=a%00b",
        "/status/?reference=AB%00C",
        "/status/AB%00CD/",
        "/dashboard/{tenant}/orders/?q=a%00b",
        "/dashboard/{tenant}/orders/?status=%00",
        "/dashboard/{tenant}/notifications/?related=%00",
    ],
)
def test_a_nul_byte_in_a_path_or_query_parameter_is_a_clear_400(owner_client, tenant, path):
    make_event(tenant=tenant)
    response = owner_client.get(path.format(tenant=tenant.slug))
    assert response.status_code == 400
    assert "NUL character" in response.content.decode()


def test_a_nul_byte_in_a_form_field_or_json_body_is_a_clear_400_and_changes_nothing(client, tenant):
    queue = creator_queue(tenant)
    page = client.get(form_url(queue))
    data = post_data(queue, "personal", submission_token=token_of(page), name="Ann\x00Evil")
    response = client.post(form_url(queue), data)
    assert response.status_code == 400 and "NUL character" in response.content.decode()
    response = client.post(form_url(queue), '{"name": "a\\u0000b"}', content_type="application/json")
    assert response.status_code == 400
    assert not Ticket.objects.exists()


def test_a_cookie_with_a_nul_byte_is_ignored(client, tenant):
    client.cookies["sessionid"] = "abc\x00def"
    assert client.get(f"/{tenant.slug}/").status_code == 200


@pytest.mark.parametrize(
    ("text", "expected"), [("12", 12), ("²", None), ("١٢", None), ("9" * 40, None), ("-1", None), ("", None)]
)
def test_whole_numbers_from_a_request_are_ascii_and_in_range(text, expected):
    assert whole_number(text) == expected
