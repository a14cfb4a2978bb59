import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.core import mail
from django.urls import reverse

from config.asgi import application
from config.beat import BEAT_SCHEDULE
from tests import factories

pytestmark = pytest.mark.django_db


def test_home_and_tenant_public_page(client, tenant):
    assert client.get("/").status_code == 200
    page = client.get(f"/{tenant.slug}/")
    assert page.status_code == 200 and tenant.name in page.content.decode()


def test_unknown_tenant_is_a_friendly_404(client):
    response = client.get("/no-such-tenant/")
    assert response.status_code == 404
    assert "reference" in response.content.decode().lower()


def test_login_and_dashboard(client, owner, tenant):
    assert client.get(reverse("account_login")).status_code == 200
    response = client.post(reverse("account_login"), {"login": owner.email, "password": "pw-for-tests"})
    assert response.status_code == 302
    assert client.get(reverse("dashboard:tenant", args=[tenant.slug])).status_code == 200


def test_logout_is_post_only(owner_client, tenant):
    # GET only asks for confirmation: the session survives it.
    assert owner_client.get(reverse("account_logout")).status_code == 200
    assert owner_client.get(reverse("dashboard:tenant", args=[tenant.slug])).status_code == 200
    assert owner_client.post(reverse("account_logout")).status_code == 302
    assert owner_client.get(reverse("dashboard:tenant", args=[tenant.slug])).status_code == 302


def test_password_reset_sends_a_working_link(client, owner):
    response = client.post(reverse("account_reset_password"), {"email": owner.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    link = next(line for line in body.splitlines() if "/accounts/password/reset/key/" in line).strip()
    path = link[link.index("/accounts/") :]
    form = client.get(path, follow=True)
    assert form.status_code == 200 and "new password" in form.content.decode().lower()
    response = client.post(
        form.redirect_chain[-1][0], {"password1": "a-new-pw-4711", "password2": "a-new-pw-4711"}
    )
    assert response.status_code == 302
    owner.refresh_from_db()
    assert owner.check_password("a-new-pw-4711")


def test_admin_lists_every_model(client):
    from django.apps import apps
    from django.contrib import admin

    operator = factories.UserFactory(is_staff=True, is_superuser=True)
    client.force_login(operator)
    assert client.get("/admin/").status_code == 200
    ours = {"tenants", "queues", "ticketing", "waitlists", "notifications"}
    for model in apps.get_models():
        if model._meta.app_label in ours and not model._meta.auto_created:
            assert admin.site.is_registered(model), f"{model.__name__} is not in the admin"
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            assert client.get(url).status_code == 200, url


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200, ready.content
    assert ready.json()["checks"] == {"postgres": "ok", "redis": "ok", "channels": "ok"}


def test_heartbeat_is_on_the_beat_schedule():
    assert BEAT_SCHEDULE["core-heartbeat"]["task"] == "core.tasks.heartbeat"


def test_websocket_route_handshake():
    async def scenario():
        communicator = WebsocketCommunicator(
            application, "/ws/ping/", headers=[(b"origin", b"http://127.0.0.1:8000"), (b"host", b"127.0.0.1")]
        )
        connected, _ = await communicator.connect()
        assert connected
        assert (await communicator.receive_json_from())["type"] == "hello"
        await communicator.send_json_to({"type": "ping"})
        assert await communicator.receive_json_from() == {"type": "pong"}
        await communicator.disconnect()

    async_to_sync(scenario)()


def test_websocket_from_a_foreign_origin_is_refused():
    async def scenario():
        communicator = WebsocketCommunicator(
            application, "/ws/ping/", headers=[(b"origin", b"https://evil.example"), (b"host", b"127.0.0.1")]
        )
        connected, _ = await communicator.connect()
        assert not connected

    async_to_sync(scenario)()
