"""ASGI entry point: HTTP goes to Django, websockets to Channels consumers behind session auth (the user is
resolved only by consumers that need one: ``core.live.LiveAuthMiddlewareStack``) and an origin check.
Each app contributes ``<app>/routing.py: websocket_urlpatterns``."""

import os
from importlib import import_module

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from core.live import LiveAuthMiddlewareStack, LiveOriginValidator  # noqa: E402

WEBSOCKET_APPS = ["core", "queues", "support", "ticketing", "waitingroom", "waitlists", "notifications"]


def websocket_urlpatterns() -> list:
    patterns = []
    for app in WEBSOCKET_APPS:
        try:
            module = import_module(f"{app}.routing")
        except ModuleNotFoundError as error:
            if error.name != f"{app}.routing":
                raise
            continue
        patterns.extend(module.websocket_urlpatterns)
    return patterns


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": LiveOriginValidator(LiveAuthMiddlewareStack(URLRouter(websocket_urlpatterns()))),
    }
)
