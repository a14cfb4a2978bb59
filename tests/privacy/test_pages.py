"""Data-rights pages: ask → emailed link → confirm; the team's list and actions; tenancy on each page."""

import pytest
from django.core import mail
from django.urls import reverse

from privacy import services
from privacy.models import DataRequest, RequestKind, RequestStatus
from tests.queues.factories import creator_queue, submit

pytestmark = pytest.mark.django_db


def _link_path(body: str) -> str:
    line = next(part for part in body.split() if "/privacy/confirm/" in part)
    return line[line.index("/", len("http://")) :]


def test_ask_emails_a_link_and_confirming_opens_the_request(client, tenant):
    submit(creator_queue(tenant), "personal", email="ann@a.test")
    url = reverse("privacy_public:ask", args=[tenant.slug])
    assert client.get(url).status_code == 200
    bad = client.post(url, {"email": "nope", "kind": "export"})
    assert bad.status_code == 422 and "Enter a valid email address" in bad.content.decode()
    assert client.post(url, {"email": "Ann@A.test", "kind": "export"}).status_code == 302
    assert not DataRequest.objects.exists()  # nothing until the address is proven
    (message,) = mail.outbox
    assert message.to == ["ann@a.test"]
    link = _link_path(message.body)
    page = client.get(link)
    assert page.status_code == 200 and "ann@a.test" in page.content.decode()
    assert not DataRequest.objects.exists()  # GET changes nothing
    done = client.post(link)
    assert done.status_code == 200 and "Request received" in done.content.decode()
    assert DataRequest.objects.get().status == RequestStatus.PENDING
    again = client.post(link, follow=True)
    assert "already asked" in again.content.decode() and DataRequest.objects.count() == 1
    assert client.get(link.replace("/confirm/", "/confirm/x")).status_code == 404


def test_a_link_for_one_tenant_does_nothing_at_another(client, tenant, other_tenant):
    token = services.ask_link_token(tenant, "ann@a.test", RequestKind.DELETE)
    url = reverse("privacy_public:confirm", args=[other_tenant.slug, token])
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert not DataRequest.objects.exists()


def _pending(tenant, kind=RequestKind.EXPORT):
    token = services.ask_link_token(tenant, "ann@a.test", kind)
    return services.data_request_confirm(tenant=tenant, token=token)


def test_managers_see_and_process_requests(client, tenant, manager, django_capture_on_commit_callbacks):
    submit(creator_queue(tenant), "personal", email="ann@a.test", need_text="My song")
    data_request = _pending(tenant)
    client.force_login(manager)
    listing = client.get(reverse("privacy:requests", args=[tenant.slug])).content.decode()
    assert "ann@a.test" in listing and "Prepare and send the export" in listing
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("privacy:action", args=[tenant.slug, data_request.pk, "process"]))
    assert response.status_code == 302
    download = client.get(reverse("privacy:download", args=[tenant.slug, data_request.pk]))
    assert download.status_code == 200 and b"My song" in download.content
    twice = client.post(
        reverse("privacy:action", args=[tenant.slug, data_request.pk, "process"]), follow=True
    )
    assert "already done" in twice.content.decode()
    rejected = _pending(tenant, RequestKind.DELETE)
    empty = client.post(
        reverse("privacy:action", args=[tenant.slug, rejected.pk, "reject"]), {"note": ""}, follow=True
    )
    assert "Say why" in empty.content.decode()
    client.post(reverse("privacy:action", args=[tenant.slug, rejected.pk, "reject"]), {"note": "Open order"})
    assert DataRequest.objects.get(pk=rejected.pk).status == RequestStatus.REJECTED


def test_staff_and_outsiders_cannot_reach_requests(client, tenant, staff, outsider, other_tenant):
    data_request = _pending(tenant)
    urls = [
        ("get", reverse("privacy:requests", args=[tenant.slug])),
        ("get", reverse("privacy:download", args=[tenant.slug, data_request.pk])),
        ("post", reverse("privacy:action", args=[tenant.slug, data_request.pk, "process"])),
    ]
    client.force_login(staff)
    for method, url in urls:
        assert getattr(client, method)(url).status_code == 403, url
    client.force_login(outsider)
    for method, url in urls:
        assert getattr(client, method)(url).status_code == 404, url
    # Our request's id under the outsider's own tenant is 404 too.
    own = reverse("privacy:action", args=[other_tenant.slug, data_request.pk, "process"])
    assert client.post(own).status_code == 404
    assert DataRequest.objects.get(pk=data_request.pk).status == RequestStatus.PENDING


def test_export_links_are_bound_to_their_tenant(client, tenant, other_tenant, owner):
    data_request = _pending(tenant)
    services.data_request_process(tenant=tenant, actor=owner, data_request=data_request)
    token = services.export_link_token(data_request)
    assert client.get(reverse("privacy_public:export", args=[tenant.slug, token])).status_code == 200
    assert client.get(reverse("privacy_public:export", args=[other_tenant.slug, token])).status_code == 404
    assert client.get(reverse("privacy_public:export", args=[tenant.slug, token + "x"])).status_code == 404
