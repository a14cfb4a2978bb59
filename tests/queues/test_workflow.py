import copy

import pytest
from django.core.exceptions import ValidationError as DjangoValidationError

from queues.models import TicketType
from queues.workflow import CREATOR_REQUEST, SERVICE, SUPPORT, SYSTEM_TYPES, WorkflowError, parse_workflow


@pytest.mark.parametrize("definition", [CREATOR_REQUEST, SERVICE, SUPPORT])
def test_system_workflows_are_valid(definition):
    machine = parse_workflow(definition)
    assert machine.init in machine.states
    assert any(machine.is_terminal(state) for state in machine.states)


def test_service_example_from_design():
    machine = parse_workflow(SERVICE)
    assert machine.find("received", "start").target == "in_progress"
    assert machine.find("received", "pickup") is None
    assert machine.first_into("received", "serving").name == "start"


def test_from_list_and_star():
    definition = {
        "init": "a",
        "states": ["a", "b", "c"],
        "transitions": [
            {"name": "go", "from": ["a"], "to": "b"},
            {"name": "stop", "from": "*", "to": "c"},
        ],
        "phases": {"a": "waiting", "b": "serving", "c": "cancelled"},
    }
    machine = parse_workflow(definition)
    assert machine.find("a", "stop").target == "c" and machine.find("b", "stop").target == "c"
    assert machine.find("c", "stop") is None  # "*" means every other state
    assert machine.is_terminal("c")


def broken(mutate):
    definition = copy.deepcopy(SERVICE)
    mutate(definition)
    with pytest.raises(WorkflowError) as error:
        parse_workflow(definition)
    return " | ".join(error.value.errors)


def test_not_an_object():
    with pytest.raises(WorkflowError, match="JSON object"):
        parse_workflow(["received"])


def test_unknown_initial_state():
    assert "initial state 'nowhere'" in broken(lambda d: d.update(init="nowhere"))


def test_initial_state_must_be_pending_or_waiting():
    assert "must be in phase pending or waiting" in broken(lambda d: d["phases"].update(received="serving"))


def test_transition_to_unknown_state_is_named():
    message = broken(lambda d: d["transitions"].append({"name": "teleport", "from": "ready", "to": "mars"}))
    assert "Transition 'teleport' goes to unknown state 'mars'" in message


def test_transition_from_unknown_state_is_named():
    message = broken(
        lambda d: d["transitions"].append({"name": "back", "from": ["ready", "limbo"], "to": "received"})
    )
    assert "Transition 'back' comes from unknown state(s): 'limbo'" in message


def test_duplicate_name_from_same_source():
    message = broken(lambda d: d["transitions"].append({"name": "start", "from": "received", "to": "ready"}))
    assert "Transition 'start' is defined twice from state 'received'" in message


def test_state_without_phase_and_unknown_phase():
    message = broken(lambda d: d["phases"].pop("ready"))
    assert "State 'ready' has no phase" in message
    message = broken(lambda d: d["phases"].update(ready="sleeping"))
    assert "unknown phase 'sleeping'" in message


def test_no_terminal_state():
    def loop(definition):
        definition["transitions"] += [
            {"name": "again", "from": ["completed", "expired", "cancelled"], "to": "received"},
        ]

    assert "No terminal state" in broken(loop)


def test_unreachable_state_is_named():
    def orphan(definition):
        definition["states"].append("archived")
        definition["phases"]["archived"] = "done"

    assert "State 'archived' cannot be reached from 'received'" in broken(orphan)


def test_bad_names_duplicates_and_unknown_keys():
    message = broken(lambda d: d["states"].append("received"))
    assert "listed twice" in message
    message = broken(
        lambda d: d["transitions"].append({"name": "Bad Name", "from": "received", "to": "ready"})
    )
    assert "needs a name" in message
    message = broken(lambda d: d["transitions"][0].update(colour="red"))
    assert "unknown keys: colour" in message
    message = broken(lambda d: d.update(extra=1))
    assert "Unknown workflow keys: extra" in message


def test_empty_states():
    assert "non-empty list" in broken(lambda d: d.update(states=[]))


@pytest.mark.django_db
def test_saving_a_type_validates_workflow_and_schema(tenant):
    bad = copy.deepcopy(SERVICE)
    bad["init"] = "nowhere"
    with pytest.raises(DjangoValidationError) as error:
        TicketType.objects.create(tenant=tenant, code="x", name="X", workflow=bad)
    assert "workflow" in error.value.message_dict
    with pytest.raises(DjangoValidationError) as error:
        TicketType.objects.create(
            tenant=tenant,
            code="y",
            name="Y",
            workflow=SERVICE,
            custom_fields_schema={"type": "object", "properties": {"n": {"type": "nonsense"}}},
        )
    assert "custom_fields_schema" in error.value.message_dict
    with pytest.raises(DjangoValidationError, match="cannot be shown on a form"):
        TicketType.objects.create(
            tenant=tenant,
            code="z",
            name="Z",
            workflow=SERVICE,
            custom_fields_schema={"type": "object", "properties": {"n": {"type": "object"}}},
        )


@pytest.mark.django_db
def test_system_types_ship_as_data():
    from importlib import import_module

    from django.apps import apps as global_apps

    from queues.services import SUPPORT_SCHEMA, system_ticket_type

    TicketType.objects.filter(tenant=None).delete()  # a flushed database (transactional tests do that)
    migration = import_module("queues.migrations.0002_system_ticket_types")
    migration.forward(global_apps, None)
    migration.forward(global_apps, None)  # idempotent
    assert migration.SUPPORT_SCHEMA == SUPPORT_SCHEMA
    shipped = {t.code: t for t in TicketType.objects.filter(tenant=None)}
    assert len(shipped) == 3 and system_ticket_type("service") == shipped["service"]
    assert set(SYSTEM_TYPES) <= set(shipped)
    assert shipped["creator-request"].machine.phase("pending") == "pending"
    assert shipped["support"].workflow == SUPPORT
