"""Issue 16 in a real browser: a tenant builds a ticket type with the form (no JSON typed) and sees its
workflow drawn; the board's "From" column holds a very long name at a phone's width; axe finds nothing
serious on either page."""

import re

import pytest

from tests.e2e.conftest import axe_violations, login, screenshot

pytestmark = pytest.mark.browser


def _fill_row(page, prefix: str, index: int, **values) -> None:
    for key, value in values.items():
        field = page.locator(f"#id_{prefix}-{index}-{key}")
        if isinstance(value, bool):
            field.set_checked(value)
        elif field.evaluate("(element) => element.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)


def test_a_tenant_creates_a_ticket_type_with_the_form_and_sees_its_diagram(live_app, page):
    login(page, live_app, "creator@demo.virtualq.test")
    page.goto(live_app.url("/dashboard/ava-sings/queues/types/"))
    page.get_by_role("link", name="New type").click()
    page.wait_for_url(re.compile(r"/types/new/form/$"))
    assert page.locator("svg.q-diagram-svg").count() == 1  # the starting workflow, drawn
    assert axe_violations(page) == []

    page.get_by_label("Code").fill("cake-order")
    page.get_by_label("Name", exact=True).fill("Cake <order>")
    # The rows start from the service workflow; make it a four-state cake order.
    states = [("ordered", "waiting"), ("baking", "serving"), ("ready", "serving"), ("collected", "done")]
    page.get_by_role("button", name="More state rows").click()  # no JavaScript needed: the form comes back
    page.wait_for_load_state()
    assert page.locator("#id_states-7-name").count() == 1
    for index in range(8):
        name, phase = states[index] if index < len(states) else ("", "waiting")
        _fill_row(page, "states", index, name=name, phase=phase)
    transitions = [
        ("bake", "Bake", "ordered", "baking"),
        ("finish", "Ready!", "baking", "ready"),
        ("collect", "Collected", "ready", "collected"),
    ]
    for index in range(page.locator("[id^=id_transitions-][id$=-name]").count()):
        name, label, source, target = transitions[index] if index < len(transitions) else ("", "", "", "")
        _fill_row(page, "transitions", index, name=name, label=label, sources=source, target=target)
        _fill_row(page, "transitions", index, needs_reason=False)
    page.locator("#id_init").fill("")
    _fill_row(page, "fields", 0, name="flavour", title="Flavour", kind="choice", choices="chocolate, lemon")
    _fill_row(page, "fields", 0, required=True)
    page.get_by_role("button", name="Save ticket type").click()
    page.wait_for_url(re.compile(r"/types/\d+/form/$"))
    assert "Saved Cake <order> (version 1)" in page.locator(".messages").inner_text()

    diagram = page.locator("svg.q-diagram-svg")
    assert diagram.count() == 1
    assert page.locator("g.q-diagram-state").count() == 4
    assert page.locator("g.q-diagram-transition").count() == 3
    assert diagram.locator("text", has_text="Ready!").count() == 1
    assert diagram.locator("title").first.text_content() == "Cake <order>"  # escaped, shown as text
    # The boxes sit in phase columns, left to right: waiting, serving, done.
    boxes = {
        name: page.locator("g.q-diagram-state", has_text=name).locator("rect").bounding_box()
        for name in ("ordered", "baking", "ready", "collected")
    }
    assert boxes["ordered"]["x"] < boxes["baking"]["x"] == boxes["ready"]["x"] < boxes["collected"]["x"]
    assert axe_violations(page) == []
    screenshot(page, "queues-type-form-diagram")

    # The JSON view is the same type, the advanced way.
    page.get_by_role("link", name="Advanced: edit as JSON").click()
    assert '"bake"' in page.locator("textarea#id_workflow").input_value()
    assert page.locator("svg.q-diagram-svg").count() == 1
    assert axe_violations(page) == []


def test_a_long_name_fits_the_boards_from_column_on_a_phone(live_app, browser):
    long_name = "Maximiliana Bartholomew-Featherstonehaugh-Vandersteen of Upper Wallop " * 2
    fan = browser.new_context(viewport={"width": 360, "height": 800})
    public = fan.new_page()
    public.goto(live_app.url("/ava-sings/q/requests/"))
    public.get_by_label("Your name").fill(long_name.strip()[:200])
    public.get_by_label("Email", exact=True).fill("longname@example.test")
    public.get_by_label("What do you need?").fill("A song with a long dedication")
    public.get_by_label("Personal", exact=True).check()
    public.get_by_role("button", name="Send").click()
    public.wait_for_url(re.compile(r"/status/[0-9A-Z-]{15}/$"))
    fan.close()

    staff = browser.new_context(viewport={"width": 360, "height": 800})
    page = staff.new_page()
    login(page, live_app, "creator@demo.virtualq.test")
    page.goto(live_app.url("/dashboard/ava-sings/queues/requests/"))
    person = page.locator("td.q-from .q-person", has_text="Maximiliana").first
    assert person.get_attribute("title") == long_name.strip()[:200]  # the whole name, on hover
    assert person.text_content() == long_name.strip()[:200]  # and as text, for screen readers
    box = person.bounding_box()
    assert box["width"] <= 8 * 16 + 1 and box["height"] < 30  # one line, cut at 8rem
    # The name's cell does not push the table wider than the column's cut (the table scrolls itself).
    cell = page.locator("td.q-from", has_text="Maximiliana").first.bounding_box()
    assert cell["width"] < 200
    assert axe_violations(page) == []
    screenshot(page, "queues-board-long-name-phone")
    staff.close()
