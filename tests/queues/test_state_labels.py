"""Ticket-type state and transition labels per language (issue 17): the type definition may carry
``labels`` on a state or transition; what is shown is the active language's label, else the default
label, else the catalog's word for a standard state, else the name in words. Validated (known languages,
text, length), escaped wherever shown, and used on the status page, the dashboard and the live socket."""

import copy

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.urls import reverse
from django.utils import translation

from core.errors import ValidationError
from queues import services
from queues.live import StatusWatch, read_status_state, scope_language
from queues.models import QueueKind, Ticket
from queues.workflow import CREATOR_REQUEST, MAX_LABEL_LENGTH, WorkflowError, parse_workflow
from tests.queues.factories import submit

LABELLED = {
    "init": "waiting",
    "states": [
        "waiting",
        {"name": "in_progress", "label": "Being made", "labels": {"de": "In Bearbeitung", "es": "En curso"}},
        {"name": "done", "labels": {"de": "Fertig"}},
        "gone",
    ],
    "transitions": [
        {"name": "start", "from": "waiting", "to": "in_progress", "label": "Start",
         "labels": {"de": "Loslegen"}},
        {"name": "finish", "from": "in_progress", "to": "done", "label": "Hand over"},
        {"name": "drop", "from": ["waiting", "in_progress"], "to": "gone", "label": "Drop",
         "labels": {"es": "Descartar"}},
    ],
    "phases": {"waiting": "waiting", "in_progress": "serving", "done": "done", "gone": "cancelled"},
}  # fmt: skip


def with_change(mutate):
    definition = copy.deepcopy(LABELLED)
    mutate(definition)
    return definition


def problems(definition) -> str:
    with pytest.raises(WorkflowError) as caught:
        parse_workflow(definition)
    return " | ".join(caught.value.errors)


def test_labels_parse_and_states_stay_names():
    machine = parse_workflow(LABELLED)
    assert machine.states == ("waiting", "in_progress", "done", "gone")
    assert machine.find("waiting", "start").target == "in_progress"
    assert machine.state_labels["in_progress"] == {"de": "In Bearbeitung", "es": "En curso"}


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda d: d["states"][1]["labels"].update(xx="?"), "unknown language 'xx'"),
        (lambda d: d["transitions"][0]["labels"].update(klingon="Qapla"), "unknown language 'klingon'"),
        (lambda d: d["states"][1]["labels"].update(de=5), "de label that is not text"),
        (lambda d: d["states"][1]["labels"].update(de="   "), "de label that is empty"),
        (lambda d: d["states"][1]["labels"].update(de="x" * (MAX_LABEL_LENGTH + 1)), "longer than 60"),
        (lambda d: d["transitions"][0].update(labels=["Loslegen"]), "'labels' must map language codes"),
        (lambda d: d["states"][1].update(label=["x"]), "label that is not text"),
        (lambda d: d["states"][1].update(colour="red"), "unknown keys: colour"),
        (lambda d: d["states"].append({"label": "nameless"}), "not a valid name"),
    ],
)
def test_bad_labels_are_named(mutate, expected):
    assert expected in problems(with_change(mutate))


def test_label_for_the_active_language_then_the_default_then_words():
    machine = parse_workflow(LABELLED)
    with translation.override("de"):
        assert machine.state_label("in_progress") == "In Bearbeitung"
        assert machine.state_label("done") == "Fertig"
        assert machine.find("waiting", "start").shown_label == "Loslegen"
        assert machine.find("waiting", "drop").shown_label == "Drop"  # no German label: the default
    with translation.override("es"):
        assert machine.state_label("in_progress") == "En curso"
        assert machine.state_label("done") == "done"  # only German given: the name in words
        assert machine.find("waiting", "drop").shown_label == "Descartar"
        assert machine.find("in_progress", "finish").shown_label == "Hand over"
    with translation.override("de-at"):  # a regional variant falls back to its language
        assert machine.state_label("in_progress") == "In Bearbeitung"
    with translation.override("en"):
        assert machine.state_label("in_progress") == "Being made"
        assert machine.state_label("gone") == "gone"
        assert machine.transition_label("start") == "Start"
        assert machine.transition_label("vanished") == "vanished"  # history of an older version


def test_standard_states_and_actions_come_from_the_catalog():
    machine = parse_workflow(CREATOR_REQUEST)
    with translation.override("de"):
        assert machine.state_label("in_progress") == "in Bearbeitung"
        assert machine.find("pending", "approve").shown_label == "Annehmen"
    with translation.override("es"):
        assert machine.state_label("approved") == "aprobado"
        assert machine.find("pending", "reject").shown_label == "Rechazar"
    with translation.override("en"):
        assert machine.state_label("in_progress") == "in progress"
        assert machine.find("pending", "approve").shown_label == "Approve"


def test_the_service_refuses_bad_labels_with_a_field_error(tenant, owner):
    bad = with_change(lambda d: d["states"][1]["labels"].update(fr_xx="Oui"))
    with pytest.raises(ValidationError) as caught:
        services.ticket_type_save(tenant=tenant, actor=owner, code="bakery", name="Bakery", workflow=bad)
    assert "unknown language 'fr_xx'" in " ".join(caught.value.field_errors["workflow"])


@pytest.fixture
def labelled_queue(tenant, owner):
    definition = copy.deepcopy(LABELLED)
    definition["states"][1]["labels"]["es"] = "<b>En curso</b>"  # tenant text: escaped when shown
    ticket_type = services.ticket_type_save(
        tenant=tenant, actor=owner, code="bakery", name="Bakery", workflow=definition
    )
    return services.queue_create(
        tenant=tenant,
        actor=owner,
        slug="bakery",
        name="Bakery",
        kind=QueueKind.SERVICE,
        ticket_type=ticket_type,
    )


def german(client, url):
    """The page in German however the language is chosen (cookie, browser, or active in this thread)."""
    client.cookies["django_language"] = "de"
    with translation.override("de"):
        return client.get(url, HTTP_ACCEPT_LANGUAGE="de")


@pytest.mark.django_db
def test_status_page_shows_the_german_label_and_escapes_labels(client, tenant, owner, labelled_queue):
    ticket = submit(labelled_queue)
    services.ticket_transition(tenant=tenant, actor=owner, ticket=ticket, event="start")
    page = german(client, reverse("queues:status", args=[ticket.reference]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "In Bearbeitung" in body and "Being made" not in body
    assert "Loslegen" in body  # the history names the transition by its German label

    client.cookies["django_language"] = "es"
    with translation.override("es"):
        spanish = client.get(reverse("queues:status", args=[ticket.reference]), HTTP_ACCEPT_LANGUAGE="es")
    body = spanish.content.decode()
    assert "&lt;b&gt;En curso&lt;/b&gt;" in body and "<b>En curso</b>" not in body


@pytest.mark.django_db
def test_dashboard_buttons_and_states_use_the_labels(client, tenant, owner, labelled_queue):
    ticket = submit(labelled_queue)
    client.force_login(owner)
    detail = german(client, reverse("queues:ticket_detail", args=[tenant.slug, ticket.reference]))
    assert detail.status_code == 200
    assert ">Loslegen</button>" in detail.content.decode()
    services.ticket_transition(tenant=tenant, actor=owner, ticket=ticket, event="start")
    board = german(client, reverse("queues:queue_board", args=[tenant.slug, labelled_queue.slug]))
    assert "In Bearbeitung" in board.content.decode()
    with translation.override("de"):
        ticket = Ticket.objects.get(pk=ticket.pk)
        assert ticket.state_label == "In Bearbeitung"


@pytest.mark.django_db
def test_a_status_watcher_reads_the_label_in_its_language(tenant, owner, labelled_queue):
    ticket = submit(labelled_queue)
    services.ticket_transition(tenant=tenant, actor=owner, ticket=ticket, event="start")
    state = read_status_state(ticket.reference)
    with translation.override("de"):
        assert StatusWatch(state, "de").fields()["state"] == "In Bearbeitung"
    with translation.override("en"):
        assert StatusWatch(state, "en").fields()["state"] == "Being made"


def test_a_socket_finds_its_page_language():
    def scope(*headers):
        return {"headers": list(headers)}

    assert scope_language(scope((b"cookie", b"a=1; django_language=de"))) == "de"
    assert scope_language(scope((b"accept-language", b"es-ES,es;q=0.9,en;q=0.5"))) == "es"
    assert scope_language(scope((b"cookie", b"django_language=es"), (b"accept-language", b"de"))) == "es"
    assert scope_language(scope((b"cookie", b"django_language=\x00??"))) in ("en", "en-us")
    assert scope_language(scope()) in ("en", "en-us")


HEADERS = [(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1")]


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("in_memory_channels")
def test_the_live_status_socket_speaks_the_page_language(tenant, owner, labelled_queue):
    from channels.db import database_sync_to_async

    from config.asgi import application

    ticket = submit(labelled_queue)

    async def scenario():
        headers = [*HEADERS, (b"cookie", b"django_language=de")]
        socket = WebsocketCommunicator(application, f"/ws/queues/status/{ticket.reference}/", headers=headers)
        connected, _ = await socket.connect()
        assert connected
        hello = await socket.receive_json_from(timeout=5)
        assert hello["fields"]["phase"] == "Sie sind in der Warteschlange."
        fresh = await database_sync_to_async(
            lambda: Ticket.objects.select_related("ticket_type", "lane", "queue", "tenant").get(pk=ticket.pk)
        )()
        await database_sync_to_async(
            lambda: services.ticket_transition(tenant=tenant, actor=owner, ticket=fresh, event="start")
        )()
        update = await socket.receive_json_from(timeout=5)
        assert update["fields"]["state"] == "In Bearbeitung"
        assert update["history"][0].endswith("— Loslegen → In Bearbeitung")
        await socket.disconnect()

    async_to_sync(scenario)()
