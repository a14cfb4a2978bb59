"""Branding: the accent's WCAG AA check, the logo check, the owners' page, and the tenant's branding on
every public page (a stylesheet and a logo, never an inline style), with tenancy on every page."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from branding import services
from branding.contrast import accent_problems, contrast_ratio
from branding.images import NotAnImage, inspect_image
from branding.models import TenantLogo
from core.errors import PermissionDenied, ValidationError
from team.models import AuditAction, AuditEntry
from tests.branding.images import GIF, JPEG, SVG, WEBP_VP8X, png
from tests.queues.factories import creator_queue, submit
from tests.ticketing.factories import make_event


def test_contrast_ratios_match_wcag():
    assert round(contrast_ratio("#000000", "#ffffff"), 2) == 21.0
    assert round(contrast_ratio("#767676", "#ffffff"), 2) == 4.54  # the classic AA-grey on white
    assert accent_problems("#3b5bdb") == []
    # #767676 passes on white but not on the page background it is also used on.
    (problem,) = accent_problems("#767676")
    assert "page background" in problem and "4.5:1" in problem
    assert len(accent_problems("#ffff00")) == 2
    assert accent_problems("red") and accent_problems("#12345")


@pytest.mark.parametrize(
    "data, kind, size",
    [(png(3, 2), "image/png", (3, 2)), (GIF, "image/gif", (1, 1)), (JPEG, "image/jpeg", (32, 16)),
     (WEBP_VP8X, "image/webp", (64, 32))],
)  # fmt: skip
def test_logo_header_check_reads_type_and_size(data, kind, size):
    info = inspect_image(data)
    assert (info.content_type, (info.width, info.height)) == (kind, size)


@pytest.mark.parametrize(
    "data", [SVG, b"", b"hello", png()[:20], b"\xff\xd8\xff\xe0\x00\x10JFIF", png(5000, 1)]
)
def test_anything_else_is_not_a_logo(data):
    with pytest.raises(NotAnImage):
        inspect_image(data)


@pytest.mark.django_db
def test_owner_saves_branding_and_it_is_audited(tenant, owner):
    services.tenant_branding_update(
        tenant=tenant, actor=owner, accent_colour="#5F3DC4", intro="We sing.", logo=png()
    )
    tenant.refresh_from_db()
    assert (tenant.brand_colour, tenant.brand_intro, tenant.brand_logo_version) == ("#5f3dc4", "We sing.", 1)
    assert TenantLogo.objects.get(tenant=tenant).content_type == "image/png"
    entry = AuditEntry.objects.get(tenant=tenant, action=AuditAction.BRANDING_UPDATED)
    assert entry.actor == owner and entry.details["changed"] == ["accent colour", "intro", "logo"]
    services.tenant_branding_update(
        tenant=tenant, actor=owner, accent_colour="#5f3dc4", intro="We sing.", remove_logo=True
    )
    tenant.refresh_from_db()
    assert tenant.brand_logo_version == 0 and not TenantLogo.objects.filter(tenant=tenant).exists()


@pytest.mark.django_db
def test_refused_branding_saves_nothing(tenant, owner, manager):
    before = (tenant.brand_colour, tenant.brand_intro)
    with pytest.raises(ValidationError) as caught:
        services.tenant_branding_update(
            tenant=tenant, actor=owner, accent_colour="#ffd43b", intro="x" * 501, logo=SVG
        )
    assert set(caught.value.field_errors) == {"accent_colour", "intro", "logo"}
    with pytest.raises(ValidationError, match="branding"):
        services.tenant_branding_update(
            tenant=tenant,
            actor=owner,
            accent_colour="#3b5bdb",
            intro="",
            logo=b"\x89PNG" + b"0" * (300 * 1024),
        )
    with pytest.raises(PermissionDenied):
        services.tenant_branding_update(tenant=tenant, actor=manager, accent_colour="#5f3dc4", intro="")
    tenant.refresh_from_db()
    assert (tenant.brand_colour, tenant.brand_intro) == before and not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_branding_page_shows_field_errors_and_saves(owner_client, tenant):
    url = reverse("branding:edit", args=[tenant.slug])
    assert owner_client.get(url).status_code == 200
    bad = owner_client.post(url, {"accent_colour": "#fab005", "intro": "Hi"})
    assert bad.status_code == 422 and "WCAG AA needs 4.5:1" in bad.content.decode()
    svg = SimpleUploadedFile("logo.png", SVG, content_type="image/png")
    bad_logo = owner_client.post(url, {"accent_colour": "#0b7285", "intro": "Hi", "logo": svg})
    assert bad_logo.status_code == 422 and "SVG and other files are not accepted" in bad_logo.content.decode()
    good = SimpleUploadedFile("logo.gif", GIF, content_type="application/octet-stream")
    assert (
        owner_client.post(url, {"accent_colour": "#0b7285", "intro": "<b>Hi</b>", "logo": good}).status_code
        == 302
    )
    tenant.refresh_from_db()
    assert tenant.brand_colour == "#0b7285" and tenant.brand_logo_version == 1


@pytest.mark.django_db
def test_branding_page_is_for_owners_of_this_tenant_only(client, tenant, manager, outsider):
    url = reverse("branding:edit", args=[tenant.slug])
    client.force_login(manager)
    assert client.get(url).status_code == 403
    client.force_login(outsider)
    assert client.get(url).status_code == 404
    assert client.post(url, {"accent_colour": "#000000"}).status_code == 404


@pytest.mark.django_db
def test_every_public_page_of_the_tenant_carries_its_branding(client, tenant, owner, other_tenant):
    services.tenant_branding_update(
        tenant=tenant, actor=owner, accent_colour="#5f3dc4", intro="<script>x</script> Songs", logo=png()
    )
    tenant.refresh_from_db()
    queue = creator_queue(tenant)
    ticket = submit(queue, "personal")
    event = make_event(tenant=tenant)
    stylesheet = reverse("branding_public:stylesheet", args=[tenant.slug])
    logo = reverse("branding_public:logo", args=[tenant.slug])
    pages = [
        reverse("tenant_home", args=[tenant.slug]),
        reverse("queues_public:submit", args=[tenant.slug, queue.slug]),
        reverse("queues:status", args=[ticket.reference]),
        reverse("ticketing_public:events", args=[tenant.slug]),
        reverse("ticketing_public:event", args=[tenant.slug, event.slug]),
    ]
    for url in pages:
        html = client.get(url).content.decode()
        assert f'href="{stylesheet}?v=5f3dc4-1"' in html, url
        assert f'src="{logo}?v=1"' in html, url
        assert " style=" not in html, url
    home = client.get(pages[0]).content.decode()
    assert "&lt;script&gt;x&lt;/script&gt; Songs" in home and "<script>x" not in home
    css = client.get(f"{stylesheet}?v=5f3dc4-1")
    assert css["Content-Type"].startswith("text/css") and "--brand: #5f3dc4;" in css.content.decode()
    assert "max-age" in css["Cache-Control"]
    image = client.get(logo)
    assert image["Content-Type"] == "image/png" and image["X-Content-Type-Options"] == "nosniff"
    assert image.content == png()
    # Another tenant's pages carry neither; its logo is 404; the dashboard is not re-branded.
    other_home = client.get(reverse("tenant_home", args=[other_tenant.slug])).content.decode()
    assert stylesheet not in other_home and logo not in other_home
    assert client.get(reverse("branding_public:logo", args=[other_tenant.slug])).status_code == 404
    client.force_login(owner)
    dashboard = client.get(reverse("dashboard:tenant", args=[tenant.slug])).content.decode()
    assert stylesheet not in dashboard


@pytest.mark.django_db
def test_an_unreadable_stored_colour_never_reaches_a_page(client, tenant):
    tenant.brand_colour = "#e8590c"  # saved before the contrast check existed
    tenant.save()
    html = client.get(reverse("tenant_home", args=[tenant.slug])).content.decode()
    assert "brand.css" not in html
    assert (
        "--brand"
        not in client.get(reverse("branding_public:stylesheet", args=[tenant.slug])).content.decode()
    )
