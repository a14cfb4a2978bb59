"""django-ninja auth classes: they read the principal the middleware resolved and check one scope.

The OpenAPI document shows one bearer scheme (``ApiKey``); each operation's description names the scope
it needs. No key → 401 ``unauthenticated``; a key without the scope → 403 ``scope_missing``.
"""

from __future__ import annotations

from django.utils.translation import gettext as _
from ninja.security import HttpBearer

from api.models import Scope
from api.problems import ApiProblem


class ApiKey(HttpBearer):
    def __init__(self, scope: str):
        self.scope = scope
        super().__init__()

    def __call__(self, request):
        principal = getattr(request, "api_principal", None)
        if principal is None or principal.tenant is None:
            return None
        if self.scope not in principal.scopes:
            raise ApiProblem(
                "scope_missing",
                _("This needs an API key with the '%(scope)s' scope.") % {"scope": self.scope},
            )
        return principal

    def authenticate(self, request, token):  # pragma: no cover - __call__ does the work
        return None


READ = ApiKey(Scope.READ)
WRITE = ApiKey(Scope.WRITE)
CHECK_IN = ApiKey(Scope.CHECK_IN)
