"""User regular expressions run on RE2 (google-re2) or are refused.

- jsonschema's ``pattern`` (and ``patternProperties``, ``format: regex``) in custom-field schemas is
  evaluated by RE2: Python's ``re`` is never called while validating.
- The catastrophic-backtracking pattern ``^(a+)+$`` against 10 000 characters completes (in a subprocess
  under a generous timeout, so a backtracking engine fails the test instead of hanging the suite).
- Patterns RE2 cannot run (back-references, look-around) or that are not patterns are refused when the
  type is saved, with a clear message, from the service, the dashboard form and the admin.
"""

from __future__ import annotations

import json
import subprocess
import sys
from unittest import mock

import pytest
import re2
from django.urls import reverse

from core.errors import ValidationError
from core.regex import SafeValidator, UnsafePattern, compile_user_regex
from queues import services
from queues.models import Ticket, TicketType
from queues.schema_forms import validate_custom_data
from queues.workflow import SERVICE
from tests.queues.factories import service_queue
from tests.queues.test_public_pages import form_url, post_data, token_of

pytestmark = pytest.mark.django_db

PATHOLOGICAL = {"type": "object", "properties": {"word": {"type": "string", "pattern": "^(a+)+$"}}}


def test_the_pattern_keyword_runs_on_re2_not_on_python_re():
    schema = {
        "type": "object",
        "properties": {"code": {"type": "string", "pattern": r"^[A-Z]{3}-\d{2}$"}},
        "patternProperties": {"^x-": {"type": "integer"}},
        "additionalProperties": False,
    }
    forbidden = mock.Mock(side_effect=AssertionError("Python's re ran a user pattern"))
    with (
        mock.patch("jsonschema._keywords.re.search", forbidden),
        mock.patch("jsonschema._utils.re.search", forbidden),
        mock.patch("core.regex.compile_user_regex", wraps=compile_user_regex) as compiled,
    ):
        assert validate_custom_data(schema, {"code": "ABC-12"}) == {}
        errors = validate_custom_data(schema, {"code": "abc-12", "x-n": "no", "other": 1})
    assert "does not match" in " ".join(errors["code"])
    assert errors[""] and "x-n" in errors
    assert {call.args[0] for call in compiled.call_args_list} >= {r"^[A-Z]{3}-\d{2}$", "^x-"}
    assert isinstance(compile_user_regex("^a$"), type(re2.compile("a")))
    assert SafeValidator.VALIDATORS["pattern"].__module__ == "core.regex"


def test_a_catastrophic_pattern_on_10000_characters_completes():
    code = f"""
import json, os, django
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()
from queues.schema_forms import validate_custom_data
schema = {json.dumps(PATHOLOGICAL)}
print(json.dumps(validate_custom_data(schema, {{"word": "a" * 10000 + "!"}})))
print(json.dumps(validate_custom_data(schema, {{"word": "a" * 10000}})))
"""
    # A backtracking engine needs ~2^10000 steps here; 120 s is generous for RE2's milliseconds.
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    refused, accepted = (json.loads(line) for line in result.stdout.strip().splitlines()[-2:])
    assert "does not match" in refused["word"][0]
    assert accepted == {}


def test_a_pathological_value_on_the_public_form_is_a_field_error(client, tenant, owner):
    kind = services.ticket_type_save(
        tenant=tenant,
        actor=owner,
        code="word",
        name="Word",
        workflow=SERVICE,
        custom_fields_schema=PATHOLOGICAL,
    )
    queue = service_queue(tenant, ticket_type=kind)
    page = client.get(form_url(queue))
    data = post_data(queue, "main", submission_token=token_of(page), custom__word="a" * 5000 + "!")
    response = client.post(form_url(queue), data)
    assert response.status_code == 400
    assert "does not match" in response.content.decode()
    assert not Ticket.objects.exists()
    data["custom__word"] = "a" * 50
    assert client.post(form_url(queue), data).status_code == 302


@pytest.mark.parametrize(
    "pattern",
    [r"(a)\1", r"(?=a)b", r"(?<!x)y", "[unclosed", "a{5000}", "x" * 2000, "a\x00b"],
)
def test_patterns_re2_cannot_run_are_refused_when_saved(tenant, owner, pattern):
    with pytest.raises(UnsafePattern):
        compile_user_regex(pattern)
    schema = {"type": "object", "properties": {"f": {"type": "string", "pattern": pattern}}}
    with pytest.raises(ValidationError) as error:
        services.ticket_type_save(
            tenant=tenant, actor=owner, code="bad", name="Bad", workflow=SERVICE, custom_fields_schema=schema
        )
    message = " ".join(error.value.field_errors["custom_fields_schema"])
    assert "pattern" in message.lower() or "regular expression" in message.lower(), message
    assert not TicketType.objects.filter(tenant=tenant, code="bad").exists()


def test_the_dashboard_and_the_admin_refuse_a_backreference_with_a_field_error(owner_client, tenant):
    schema = json.dumps({"type": "object", "properties": {"f": {"type": "string", "pattern": r"(a)\1"}}})
    response = owner_client.post(
        reverse("queues:type_create", args=[tenant.slug]),
        {
            "code": "bad",
            "name": "Bad",
            "workflow": json.dumps(SERVICE),
            "custom_fields_schema": schema,
            "ttl_minutes": "",
            "description": "",
        },
    )
    assert response.status_code in (200, 400)
    assert "back-references" in response.content.decode()
    assert not TicketType.objects.filter(code="bad").exists()
