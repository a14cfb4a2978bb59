"""Admin pages that write through the owning app's services.

``ServiceModelAdmin`` replaces the model form's own save with ``service_save`` (the tier admin calls the
tier service, the lane admin the lane service, ...), so an operator's edit takes the same locks, checks,
version bumps, broadcasts and on-commit hooks as the dashboard's. A domain error refused by the service is
shown on the form, next to its fields, with what was typed kept; nothing is saved.

Services open their own durable transactions, so the admin's wrapping ``atomic`` (Django wraps the change
form in one) is left out for these pages: each service call is its own transaction.
"""

from __future__ import annotations

from django.contrib import admin

from core.errors import DomainError


class _Refused(Exception):
    def __init__(self, error: DomainError):
        self.error = error


class ServiceModelAdmin(admin.ModelAdmin):
    """Subclasses implement ``service_save(request, obj, form, change)``: call the service with the
    changed fields (``form.changed_data``) and, when adding, set ``obj.pk`` to the created row's."""

    def service_save(self, request, obj, form, change) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        try:
            self.service_save(request, obj, form, change)
        except DomainError as error:
            raise _Refused(error) from None

    def get_form(self, request, obj=None, change=False, **kwargs):
        form_class = super().get_form(request, obj, change, **kwargs)
        refusal: DomainError | None = getattr(request, "_service_refusal", None)
        if refusal is None:
            return form_class

        class RefusedForm(form_class):
            def clean(self):
                cleaned = super().clean()
                placed = False
                for field, messages in refusal.field_errors.items():
                    if field in self.fields:
                        self.add_error(field, list(messages))
                        placed = True
                if not placed:
                    self.add_error(None, refusal.message)
                return cleaned

        return RefusedForm

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return self._changeform_view(request, object_id, form_url, extra_context)
        except _Refused as refused:
            # Render the form again from what was posted, this time with the service's answer on it.
            request._service_refusal = refused.error
            return self._changeform_view(request, object_id, form_url, extra_context)


def changed_fields(form, allowed) -> dict:
    """The posted values of the fields the operator changed, limited to ``allowed``."""
    return {name: form.cleaned_data[name] for name in form.changed_data if name in allowed}
