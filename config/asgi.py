"""ASGI entry point: HTTP goes to Django, websockets to Channels consumers behind session auth (the user is
resolved only by consumers that need one: ``core.live.LiveAuthMiddlewareStack``) and an origin check.
Each project app (core.registry) contributes ``<app>/routing.py: websocket_urlpatterns``."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from core.live import LiveAuthMiddlewareStack, LiveOriginValidator  # noqa: E402
from core.registry import app_modules  # noqa: E402


def websocket_urlpatterns() -> list:
    return [pattern for _app, module in app_modules("routing") for pattern in module.websocket_urlpatterns]


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": LiveOriginValidator(LiveAuthMiddlewareStack(URLRouter(websocket_urlpatterns()))),
    }
)
