"""The ticket-type form (issue 16): states, phases, transitions and custom fields as rows, the JSON view
kept as the advanced view, both validated by the same service; the server-drawn workflow diagram."""

import json
import re

import pytest
from django.urls import reverse

from queues import services
from queues import type_builder as tb
from queues import workflow as wf
from queues.models import TicketType
from queues.workflow_diagram import workflow_svg

pytestmark = pytest.mark.django_db


def form_data(*, code="orders", name="Orders", init="", states=(), transitions=(), fields=(), **extra):
    data = {"code": code, "name": name, "description": "", "init": init, "ttl_minutes": ""}
    for prefix, rows in (("states", states), ("transitions", transitions), ("fields", fields)):
        data[f"{prefix}-TOTAL_FORMS"] = str(len(rows))
        data[f"{prefix}-INITIAL_FORMS"] = "0"
        for index, row in enumerate(rows):
            for key, value in row.items():
                if value is True:
                    value = "on"
                if value is not False:
                    data[f"{prefix}-{index}-{key}"] = value
    data.update(extra)
    return data


STATES = [
    {"name": "ordered", "phase": "waiting"},
    {"name": "making", "phase": "serving"},
    {"name": "collected", "phase": "done"},
    {"name": "refused", "phase": "cancelled"},
    {"name": "", "phase": "waiting"},  # an empty row is no row
]
TRANSITIONS = [
    {"name": "start", "label": "Start", "sources": "ordered", "target": "making"},
    {"name": "hand_over", "label": "", "sources": "making", "target": "collected"},
    {
        "name": "refuse",
        "label": "Refuse",
        "sources": "ordered, making",
        "target": "refused",
        "needs_reason": True,
    },
    {"name": "", "label": "", "sources": "", "target": ""},
]
FIELDS = [
    {"name": "size", "title": "Size", "kind": "choice", "choices": "small, large", "required": True},
    {"name": "extras", "title": "", "kind": "choices", "choices": "milk, sugar"},
    {"name": "note", "title": "Note", "kind": "long_text", "description": "Anything else"},
]


def test_a_type_made_with_the_form_is_the_documents_the_rows_say(owner_client, tenant):
    url = reverse("queues:type_build_create", args=[tenant.slug])
    page = owner_client.get(url)
    assert page.status_code == 200 and "<svg" in page.content.decode()  # the starting point, drawn
    response = owner_client.post(url, form_data(states=STATES, transitions=TRANSITIONS, fields=FIELDS))
    assert response.status_code == 302, response.content.decode()[:3000]
    saved = TicketType.objects.get(tenant=tenant, code="orders")
    assert response["Location"] == reverse("queues:type_build", args=[tenant.slug, saved.pk])
    assert saved.workflow == {
        "init": "ordered",
        "states": ["ordered", "making", "collected", "refused"],
        "transitions": [
            {"name": "start", "from": "ordered", "to": "making", "label": "Start"},
            {"name": "hand_over", "from": "making", "to": "collected"},
            {
                "name": "refuse",
                "from": ["ordered", "making"],
                "to": "refused",
                "label": "Refuse",
                "needs_reason": True,
            },
        ],
        "phases": {"ordered": "waiting", "making": "serving", "collected": "done", "refused": "cancelled"},
    }
    assert saved.custom_fields_schema == {
        "type": "object",
        "properties": {
            "size": {"type": "string", "enum": ["small", "large"], "title": "Size"},
            "extras": {"type": "array", "items": {"type": "string", "enum": ["milk", "sugar"]}},
            "note": {"type": "string", "maxLength": 4000, "title": "Note", "description": "Anything else"},
        },
        "required": ["size"],
    }
    # Edited again with the form, it shows what was saved, row by row, and its diagram.
    page = owner_client.get(response["Location"]).content.decode()
    assert (
        'value="hand_over"' in page and 'value="ordered, making"' in page and 'value="small, large"' in page
    )
    assert page.count('class="q-diagram-state"') == 4 and page.count('class="q-diagram-transition"') == 4


def test_the_form_and_the_json_view_refuse_the_same_workflow_with_the_same_words(owner_client, tenant):
    bad_transitions = [{"name": "start", "label": "", "sources": "ordered", "target": "mars"}]
    states = STATES[:3]
    response = owner_client.post(
        reverse("queues:type_build_create", args=[tenant.slug]),
        form_data(states=states, transitions=bad_transitions),
    )
    assert response.status_code == 400
    form_page = response.content.decode()
    document = tb.workflow_document(init="", states=states, transitions=bad_transitions)
    with pytest.raises(wf.WorkflowError) as parsed:
        wf.parse_workflow(document)
    json_page = owner_client.post(
        reverse("queues:type_create", args=[tenant.slug]),
        {"code": "orders", "name": "Orders", "workflow": json.dumps(document)},
    ).content.decode()
    for problem in parsed.value.errors:  # "goes to unknown state 'mars'", "cannot be reached", …
        escaped = problem.replace("'", "&#x27;")
        assert escaped in form_page and escaped in json_page, problem
    assert not TicketType.objects.filter(tenant=tenant, code="orders").exists()
    # Nothing typed is lost.
    assert 'value="mars"' in form_page and 'value="collected"' in form_page


def test_row_errors_are_next_to_their_fields(owner_client, tenant):
    rows = [{"name": "go", "label": "", "sources": "", "target": ""}]
    fields = [{"name": "size", "title": "", "kind": "choice", "choices": ""}]
    response = owner_client.post(
        reverse("queues:type_build_create", args=[tenant.slug]),
        form_data(states=STATES[:3], transitions=rows, fields=fields),
    )
    assert response.status_code == 400
    body = response.content.decode()
    for field_id, message in [
        ("id_transitions-0-sources", "Say which state(s) it starts from."),
        ("id_transitions-0-target", "Say which state it leads to."),
        ("id_fields-0-choices", "Give at least one choice."),
    ]:
        at = body.index(f'id="{field_id}"')
        block = body[body.rindex('<div class="field', 0, at) : body.index("</div>", at)]
        assert "field-invalid" in block and message in block, field_id


def test_more_rows_adds_empty_rows_and_saves_nothing(owner_client, tenant):
    data = form_data(states=STATES[:3], transitions=TRANSITIONS[:2], more="states")
    response = owner_client.post(reverse("queues:type_build_create", args=[tenant.slug]), data)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="states-TOTAL_FORMS" value="5"' in body and 'id="id_states-4-name"' in body
    assert 'value="making"' in body and not TicketType.objects.filter(tenant=tenant).exists()


def test_a_schema_the_rows_cannot_say_is_kept_as_it_is(owner_client, tenant, owner):
    schema = {"type": "object", "properties": {"code": {"type": "string", "pattern": "^[A-Z]{3}$"}}}
    saved = services.ticket_type_save(
        tenant=tenant,
        actor=owner,
        code="coded",
        name="Coded",
        workflow=wf.SERVICE,
        custom_fields_schema=schema,
    )
    assert tb.schema_rows(schema) is None
    url = reverse("queues:type_build", args=[tenant.slug, saved.pk])
    page = owner_client.get(url).content.decode()
    assert "Edit them in the JSON view" in page and 'id="id_fields-0-name"' not in page
    states, transitions = tb.workflow_rows(wf.SERVICE)
    response = owner_client.post(
        url, form_data(code="coded", name="Coded v2", states=states, transitions=transitions)
    )
    assert response.status_code == 302
    saved.refresh_from_db()
    assert saved.name == "Coded v2" and saved.custom_fields_schema == schema and saved.version == 2
    assert saved.code == "coded"  # the code of a saved type is not changed by the form


def test_saving_the_form_keeps_the_labels_per_language(owner_client, tenant, owner):
    """The rows show names and button texts only; the labels per language (issue 17) and a state's own
    label are kept for every state and transition saved under the same name, and dropped with a removed
    one."""
    workflow = {
        "init": "ordered",
        "states": [
            "ordered",
            {"name": "making", "label": "Being made", "labels": {"de": "In Arbeit", "es": "En preparación"}},
            "collected",
        ],
        "transitions": [
            {"name": "start", "from": "ordered", "to": "making", "label": "Start", "labels": {"de": "Los"}},
            {"name": "hand_over", "from": "making", "to": "collected", "labels": {"es": "Entregar"}},
        ],
        "phases": {"ordered": "waiting", "making": "serving", "collected": "done"},
    }
    saved = services.ticket_type_save(
        tenant=tenant,
        actor=owner,
        code="labelled",
        name="Labelled",
        workflow=workflow,
        custom_fields_schema={},
    )
    states, transitions = tb.workflow_rows(saved.workflow)
    transitions[0]["label"] = "Begin"  # the button text changes; its German label stays
    transitions = transitions[:1]  # hand_over is removed, its labels with it
    states = states[:2] + [{"name": "done", "phase": "done"}]
    transitions.append({"name": "finish", "label": "Finish", "sources": "making", "target": "done"})
    url = reverse("queues:type_build", args=[tenant.slug, saved.pk])
    response = owner_client.post(
        url, form_data(code="labelled", name="Labelled", states=states, transitions=transitions)
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    saved.refresh_from_db()
    assert saved.version == 2
    assert saved.workflow["states"] == [
        "ordered",
        {"name": "making", "label": "Being made", "labels": {"de": "In Arbeit", "es": "En preparación"}},
        "done",
    ]
    start, finish = saved.workflow["transitions"]
    assert start == {
        "name": "start",
        "from": "ordered",
        "to": "making",
        "label": "Begin",
        "labels": {"de": "Los"},
    }
    assert "labels" not in finish
    machine = wf.parse_workflow(saved.workflow)
    assert machine.state_labels["making"] == {"de": "In Arbeit", "es": "En preparación"}


def test_rows_and_schemas_round_trip():
    rows = [
        {"name": "when", "title": "", "kind": "date", "choices": "", "required": True, "description": ""},
        {
            "name": "count",
            "title": "How many",
            "kind": "integer",
            "choices": "",
            "required": False,
            "description": "",
        },
        {
            "name": "ok",
            "title": "",
            "kind": "boolean",
            "choices": "",
            "required": False,
            "description": "Tick it",
        },
    ]
    schema = tb.fields_schema(rows)
    assert tb.schema_rows(schema) == rows
    states, transitions = tb.workflow_rows(wf.SUPPORT)
    document = tb.workflow_document(init=wf.SUPPORT["init"], states=states, transitions=transitions)
    assert wf.parse_workflow(document) == wf.parse_workflow(wf.SUPPORT)


def test_the_diagram_draws_every_state_and_arrow_and_escapes_every_label(owner_client, tenant):
    hostile = '<script>alert("x")</script>'
    transitions = [{**TRANSITIONS[0], "label": hostile}, *TRANSITIONS[1:3]]
    response = owner_client.post(
        reverse("queues:type_build_create", args=[tenant.slug]),
        form_data(name=hostile, states=STATES, transitions=transitions),
    )
    assert response.status_code == 302
    page = owner_client.get(response["Location"]).content.decode()
    assert hostile not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    svg = str(workflow_svg(wf.parse_workflow(wf.CREATOR_REQUEST), title="<b>"))
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    arrows = sum(len(t.sources) for t in wf.parse_workflow(wf.CREATOR_REQUEST).transitions)
    assert svg.count('class="q-diagram-transition"') == arrows
    assert svg.count('class="q-diagram-state"') == len(wf.CREATOR_REQUEST["states"])
    # Columns follow the phases: every state's box sits in its phase's column, left to right.
    xs = {
        state: float(x)
        for state, x in re.findall(r'<title>([a-z ]+) \([^)]*\)</title><rect x="([\d.]+)"', svg)
    }
    assert xs["pending"] < xs["approved"] < xs["in progress"] < xs["completed"] < xs["rejected"]
    assert xs["rejected"] == xs["expired"] == xs["cancelled"]


def test_the_type_form_is_for_the_tenants_managers_only(client, outsider_client, tenant, owner, staff):
    saved = services.ticket_type_save(tenant=tenant, actor=owner, code="own", name="Own", workflow=wf.SERVICE)
    url = reverse("queues:type_build", args=[tenant.slug, saved.pk])
    assert outsider_client.get(url).status_code == 404
    assert outsider_client.post(url, form_data(code="own", name="Hacked")).status_code == 404
    client.force_login(staff)
    assert client.get(url).status_code == 403
    system = services.system_ticket_type("service")
    client.force_login(owner)
    assert client.get(reverse("queues:type_build", args=[tenant.slug, system.pk])).status_code == 404
    assert TicketType.objects.get(pk=saved.pk).name == "Own"
