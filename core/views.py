import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)


@require_GET
@never_cache
def healthz(request):
    """The process is up and serving requests; touches nothing else."""
    return JsonResponse({"status": "ok"})


@require_GET
@never_cache
def readyz(request):
    """PostgreSQL, Redis and the channel layer are reachable."""
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        checks["postgres"] = "ok"
    except Exception as error:  # noqa: BLE001
        checks["postgres"] = f"error: {error.__class__.__name__}"
    try:
        cache.set("readyz", "1", timeout=5)
        checks["redis"] = "ok" if cache.get("readyz") == "1" else "error: no round trip"
    except Exception as error:  # noqa: BLE001
        checks["redis"] = f"error: {error.__class__.__name__}"
    try:
        layer = get_channel_layer()
        channel = async_to_sync(layer.new_channel)()
        async_to_sync(layer.send)(channel, {"type": "readyz"})
        received = async_to_sync(layer.receive)(channel)
        checks["channels"] = "ok" if received.get("type") == "readyz" else "error: no round trip"
    except Exception as error:  # noqa: BLE001
        checks["channels"] = f"error: {error.__class__.__name__}"
    ready = all(value == "ok" for value in checks.values())
    if not ready:
        logger.warning("readiness check failed", extra={"checks": checks})
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )


def not_found(request, exception=None):
    return render(request, "core/not_found.html", status=404)


def favicon(request):
    """``/favicon.ico``: browsers ask for it on every site whatever the page links; answer with the icon."""
    from django.shortcuts import redirect
    from django.templatetags.static import static

    return redirect(static("favicon.ico"), permanent=True)


ROBOTS = """User-agent: *
Disallow: /dashboard/
Disallow: /admin/
Disallow: /accounts/
Disallow: /api/
"""


def robots(request):
    """``/robots.txt``: public pages may be indexed; staff, account and API addresses are not for crawlers."""
    from django.http import HttpResponse

    return HttpResponse(ROBOTS, content_type="text/plain; charset=utf-8")
