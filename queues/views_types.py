"""The ticket-type form (states, phases, transitions, custom fields as rows) with the workflow diagram.

Managers and owners only (``member_required(Role.MANAGER)``); a type is fetched with ``get_for_tenant``
(another tenant's type, or a system type, is a 404). Saving goes through ``services.ticket_type_save``,
the same service and validation as the JSON view (``views_dashboard.type_edit``), which stays as the
advanced view. GET never writes; "more rows" re-shows the posted form and writes nothing.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from core.errors import ValidationError
from core.forms import show_domain_error
from core.tenancy import get_for_tenant
from queues import services
from queues import type_builder as tb
from queues import workflow as wf
from queues.models import TicketType
from queues.workflow_diagram import workflow_svg
from tenants.access import member_required
from tenants.models import Role


def _initial(ticket_type: TicketType | None) -> tuple[dict, dict[str, list[dict]], bool]:
    """Basics, rows per section (with a few empty ones to fill) and whether the custom fields fit rows."""
    if ticket_type is None:
        workflow, schema = wf.SERVICE, {}
        basics: dict = {"init": wf.SERVICE["init"]}
    else:
        workflow, schema = ticket_type.workflow, ticket_type.custom_fields_schema
        basics = {
            "code": ticket_type.code,
            "name": ticket_type.name,
            "description": ticket_type.description,
            "init": workflow.get("init", ""),
            "ttl_minutes": ticket_type.ttl_minutes,
        }
    states, transitions = tb.workflow_rows(workflow)
    fields = tb.schema_rows(schema)
    rows = {"states": states, "transitions": transitions, "fields": fields or []}
    for section, extra in tb.EXTRA_ROWS.items():
        rows[section] = rows[section] + [{} for _ in range(extra)]
    return basics, rows, fields is not None


def _with_more_rows(data, section: str):
    """The posted data with more empty rows in ``section`` (the no-JavaScript "more rows" button)."""
    data = data.copy()
    key = f"{section}-TOTAL_FORMS"
    try:
        total = int(data.get(key, "0"))
    except ValueError:
        total = 0
    data[key] = str(min(max(total, 0) + tb.EXTRA_ROWS[section], tb.ROW_LIMIT))
    return data


def _preview(document: dict | None, fallback: TicketType | None):
    """The diagram of what was typed when it is a valid workflow, else of the saved version (or none)."""
    if document is not None:
        try:
            return workflow_svg(wf.parse_workflow(document)), False
        except wf.WorkflowError:
            pass
    if fallback is not None:
        return workflow_svg(fallback.machine, title=fallback.name), document is not None
    return None, False


@member_required(Role.MANAGER)
def type_build(request, pk: int | None = None):
    ticket_type = get_for_tenant(TicketType, request.tenant, pk=pk) if pk else None
    basics_initial, rows, fields_fit = _initial(ticket_type)
    data = request.POST if request.method == "POST" else None
    more = request.POST.get("more", "") if data is not None else ""
    if more in tb.SECTIONS:
        data = _with_more_rows(data, more)
    basics = tb.TypeBasicsForm(data, initial=basics_initial)
    if ticket_type is not None:
        basics.fields["code"].disabled = True
        basics.fields["code"].help_text = _("The code of a saved type stays as it is.")
    formsets = {
        section: formset(data, initial=None if data is not None else rows[section], prefix=section)
        for section, formset in tb.SECTIONS.items()
    }
    workflow_errors: list[str] = []
    fields_errors: list[str] = []
    document = None
    status = 200
    if data is not None:
        checked = [formset.is_valid() for formset in formsets.values()]  # every one, for its errors
        valid = basics.is_valid() and all(checked)
        if formsets["states"].is_valid() and formsets["transitions"].is_valid():
            document = tb.workflow_document(
                init=basics.cleaned_data.get("init", ""),
                states=formsets["states"].cleaned_data,
                transitions=formsets["transitions"].cleaned_data,
                previous=ticket_type.workflow if ticket_type else None,
            )
        if not more and valid:
            schema = (
                tb.fields_schema(formsets["fields"].cleaned_data)
                if fields_fit
                else ticket_type.custom_fields_schema
            )
            try:
                saved = services.ticket_type_save(
                    tenant=request.tenant,
                    actor=request.user,
                    ticket_type=ticket_type,
                    code=basics.cleaned_data["code"] if ticket_type is None else ticket_type.code,
                    name=basics.cleaned_data["name"],
                    description=basics.cleaned_data["description"],
                    ttl_minutes=basics.cleaned_data["ttl_minutes"],
                    workflow=document,
                    custom_fields_schema=schema,
                )
            except ValidationError as error:
                workflow_errors = error.field_errors.get("workflow", [])
                fields_errors = error.field_errors.get("custom_fields_schema", [])
                show_domain_error(basics, error, skip=("workflow", "custom_fields_schema"))
            else:
                messages.success(
                    request,
                    _("Saved %(name)s (version %(version)s).")
                    % {"name": saved.name, "version": saved.version},
                )
                return redirect("queues:type_build", request.tenant.slug, saved.pk)
        if not more:
            status = 400
    if data is None and ticket_type is None:
        document = wf.SERVICE  # a new type starts from the service workflow: draw it
    diagram, diagram_is_saved = _preview(document, ticket_type)
    return render(
        request,
        "queues/dashboard/type_builder.html",
        {
            "tenant": request.tenant,
            "ticket_type": ticket_type,
            "basics": basics,
            "formsets": formsets,
            "workflow_errors": workflow_errors,
            "fields_errors": fields_errors,
            "fields_fit": fields_fit,
            "diagram": diagram,
            "diagram_is_saved": diagram_is_saved,
            "phases": [(phase, wf.PHASE_LABELS[phase]) for phase in wf.PHASES],
        },
        status=status,
    )
