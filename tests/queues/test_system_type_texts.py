"""The system ticket types are the app's text: their names and the help-desk type's category field read
in the page's language (the stored values stay English); a tenant's own type and schema stay as written."""

import pytest
from django.utils import translation

from queues import schema_forms
from queues.services import SUPPORT_SCHEMA, system_ticket_type

pytestmark = pytest.mark.django_db


def test_system_type_names_follow_the_language():
    support = system_ticket_type("support")
    creator = system_ticket_type("creator-request")
    assert (support.display_name, creator.display_name) == ("Support", "Creator request")
    with translation.override("de"):
        assert creator.display_name == "Creator-Anfrage"
        assert str(creator) == "Creator-Anfrage (System)"
    with translation.override("es"):
        assert (support.display_name, creator.display_name) == ("Soporte", "Solicitud para creadores")
    assert support.name == "Support"  # the row keeps its name


def test_the_support_category_field_is_translated_not_its_values():
    with translation.override("de"):
        field = schema_forms.form_fields(SUPPORT_SCHEMA, system=True)["custom__category"]
        assert field.label == "Kategorie"
        assert list(field.choices) == [
            ("", "—"),
            ("Account", "Konto"),
            ("Equipment", "Geräte"),
            ("Facilities", "Gebäude und Räume"),
            ("Other", "Sonstiges"),
        ]
        # A tenant's own schema with the same words is the tenant's text.
        own = schema_forms.form_fields(SUPPORT_SCHEMA)["custom__category"]
        assert own.label == "Category" and ("Other", "Other") in list(own.choices)


def test_custom_data_rows_use_titles_and_words():
    schema = {
        "type": "object",
        "properties": {
            "category": SUPPORT_SCHEMA["properties"]["category"],
            "gift": {"type": "boolean", "title": "Gift wrap"},
            "extras": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}},
        },
    }
    data = {"category": "Other", "gift": True, "extras": ["a", "b"], "gone": "kept"}
    with translation.override("de"):
        assert schema_forms.data_rows(schema, data, system=True) == [
            ("Kategorie", "Sonstiges"),
            ("Gift wrap", "ja"),
            ("Extras", "a, b"),
            ("gone", "kept"),
        ]
        assert schema_forms.data_rows(schema, data)[0] == ("Category", "Other")
