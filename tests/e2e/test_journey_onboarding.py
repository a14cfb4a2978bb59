"""Journey — a new person: signs up → verifies the email from the local mail outbox → creates a space
with a creator queue → opens the share link in another browser → a fan submits → the new creator
approves the request on the dashboard. Every page axe clean (no serious/critical problem)."""

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import check_page, login, snap

pytestmark = pytest.mark.browser

PASSWORD = "a-long-pass-4711"


def _confirmation_link(live_app, email: str) -> str:
    for message in reversed(live_app.emails()):
        if f"To: {email}" in message:
            match = re.search(r"https?://\S+/accounts/confirm-email/\S+/", message)
            if match:
                return match.group(0)
    raise AssertionError(f"no confirmation email to {email} in {live_app.email_dir}")


def test_new_creator_signs_up_opens_a_space_and_approves_a_fan(live_app, browser, page):
    suffix = uuid.uuid4().hex[:6]
    email = f"mia.{suffix}@example.test"
    slug = f"mia-draws-{suffix}"

    # The home page offers "Create your space"; it needs a login, so the person signs up.
    page.goto(live_app.url("/"))
    page.get_by_role("link", name="Create your space").first.click()
    page.wait_for_url("**/accounts/login/**")
    page.get_by_role("main").get_by_role("link", name="Sign up").click()
    page.wait_for_url("**/accounts/signup/**")
    check_page(page, "onboarding-1-sign-up")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_label("Your name").fill("Mia Draws")
    page.get_by_role("button", name="Sign up").click()
    page.wait_for_url("**/accounts/confirm-email/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Verify")
    check_page(page, "onboarding-2-verify-sent")

    # The verification email, read from the local mail outbox: the link's page confirms with a POST.
    page.goto(_confirmation_link(live_app, email))
    check_page(page, "onboarding-3-confirm")
    page.get_by_role("button", name="Confirm").click()
    page.wait_for_url(lambda url: "/confirm-email/" not in url)
    if "/start/" not in page.url:
        page.goto(live_app.url("/start/"))
    page.wait_for_url("**/start/")

    # Create your space: the address is checked while it is typed (a taken one, then a free one).
    page.get_by_label("Name of your space").fill("Mia Draws")
    address = page.get_by_label("Address")
    expect(address).to_have_value("mia-draws")  # suggested from the name
    address.fill("ava-sings")
    expect(page.locator("#slug-status")).to_contain_text("taken")
    address.fill("dashboard")
    expect(page.locator("#slug-status")).to_contain_text("reserved")
    address.fill(slug)
    expect(page.locator("#slug-status")).to_contain_text("available")
    page.get_by_label("Time zone").select_option("Europe/Madrid")
    page.get_by_label("Currency").select_option("EUR")
    page.locator("#id_language").select_option("en")  # the space's default language (not the switcher)
    check_page(page, "onboarding-4-create-space")
    page.get_by_role("button", name="Create my space").click()
    page.wait_for_url(f"**/dashboard/{slug}/setup/")
    check_page(page, "onboarding-5-what-it-runs")

    # A creator queue with a minimum tip; it ends on the share page with the link and its QR code.
    page.get_by_role("link", name="A creator queue").click()
    page.get_by_label("Queue name").fill("Portrait requests")
    page.get_by_label(re.compile("Minimum tip")).fill("4")
    check_page(page, "onboarding-6-creator-queue")
    page.get_by_role("button", name="Open it").click()
    page.wait_for_url(f"**/dashboard/{slug}/setup/creator/portrait-requests/share/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Portrait requests is live")
    expect(page.locator(".share-qr svg")).to_be_visible()
    share_url = page.get_by_label("Share link").input_value()
    assert share_url == live_app.url(f"/{slug}/q/portrait-requests/")
    check_page(page, "onboarding-7-share")

    # A fan, in another browser, opens the share link and sends a free personal request.
    fan_context = browser.new_context(viewport={"width": 390, "height": 844})
    fan_context.set_default_timeout(15_000)
    fan = fan_context.new_page()
    fan.goto(share_url)
    expect(fan.get_by_role("heading", level=1)).to_contain_text("Portrait requests")
    fan.get_by_label("Your name").fill("Robin Fan")
    fan.get_by_label("Email", exact=True).fill(f"robin.{suffix}@example.test")
    fan.get_by_label("What do you need?").fill("A portrait of my cat, please")
    fan.get_by_role("radio", name=re.compile(r"^Personal")).check()
    check_page(fan, "onboarding-8-fan-form")
    fan.get_by_role("button", name="Send").click()
    fan.wait_for_url(re.compile(r"/status/[0-9A-Z-]{15}/$"))
    reference = fan.url.rstrip("/").rsplit("/", 1)[-1]
    expect(fan.locator('[data-live-field="state"]')).to_have_text("pending")

    # The new creator approves it on the dashboard; the fan's page follows.
    page.goto(live_app.url(f"/dashboard/{slug}/queues/portrait-requests/"))
    row = page.locator("tr", has_text=reference)
    expect(row).to_contain_text("Robin Fan")
    check_page(page, "onboarding-9-board")
    row.get_by_role("button", name="Approve").click()
    expect(page.locator(".messages")).to_contain_text(f"{reference} is now approved")
    fan.reload()
    expect(fan.locator('[data-live-field="state"]')).to_have_text("approved")
    snap(fan, "onboarding-10-fan-approved")
    fan_context.close()


def test_every_setup_form_is_accessible_and_a_help_desk_goes_live(live_app, page):
    login(page, live_app, "shop@demo.virtualq.test")
    for kind in ("service", "event", "help-desk"):
        page.goto(live_app.url(f"/dashboard/corner-bakery/setup/{kind}/"))
        check_page(page, f"onboarding-setup-{kind}")
    page.goto(live_app.url("/dashboard/corner-bakery/security/"))
    check_page(page, "onboarding-security")
    # Bad input keeps what was typed and says why next to the field.
    page.goto(live_app.url("/dashboard/corner-bakery/setup/help-desk/"))
    page.get_by_label("Help desk name").fill("Orders help")
    page.get_by_label("Answer within (hours)").fill("0")
    page.get_by_role("button", name="Open it").click()
    expect(page.locator(".field-error")).to_be_visible()
    expect(page.get_by_label("Help desk name")).to_have_value("Orders help")
    page.get_by_label("Answer within (hours)").fill("6")
    page.get_by_role("button", name="Open it").click()
    page.wait_for_url("**/dashboard/corner-bakery/setup/help-desk/orders-help/share/")
    page.get_by_role("link", name="Open the public page").click()
    page.wait_for_url("**/corner-bakery/help/orders-help/")
    check_page(page, "onboarding-help-desk-public")


PEOPLE = """
from onboarding import services
from tenants.models import Role, User
from tenants.services import membership_set

owner = User.objects.create_user(email="{owner}", password="{password}", name="Tess Owner")
staff = User.objects.create_user(email="{staff}", password="{password}", name="Sid Staff")
for user in (owner, staff):
    services.email_address_mark_verified(user=user)
tenant = services.space_create(actor=owner, account_name="", billing_email="", name="Tess Tattoo",
                               slug="{slug}", time_zone="UTC", currency="USD", language="en")
membership_set(tenant=tenant, user=staff, role=Role.STAFF)
"""


def _reauthenticate_if_asked(page) -> None:
    if "/accounts/reauthenticate/" in page.url:
        check_page(page, "onboarding-2fa-reauthenticate")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Confirm").click()


def test_an_owner_turns_on_two_factor_and_requires_it_for_the_team(live_app, browser, page):
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value, yield_hotp_counters_from_time

    suffix = uuid.uuid4().hex[:6]
    owner, staff, slug = f"tess.{suffix}@example.test", f"sid.{suffix}@example.test", f"tess-{suffix}"
    live_app.shell(PEOPLE.format(owner=owner, staff=staff, slug=slug, password=PASSWORD))
    login(page, live_app, owner, PASSWORD)

    # Requiring it before having it is refused: the owner would lock themselves out.
    page.goto(live_app.url(f"/dashboard/{slug}/security/"))
    page.get_by_label("Require two-factor authentication for every member").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".field-error")).to_contain_text("for yourself first")

    # TOTP with an authenticator app: allauth asks for the password again, shows the secret and a QR.
    page.goto(live_app.url("/accounts/2fa/totp/activate/"))
    _reauthenticate_if_asked(page)
    page.wait_for_url("**/accounts/2fa/totp/activate/")
    check_page(page, "onboarding-2fa-activate")
    secret = page.locator("#authenticator_secret").input_value()
    code = format_hotp_value(hotp_value(secret, next(yield_hotp_counters_from_time())))
    page.locator("input[name=code]").fill(code)
    page.get_by_role("button", name="Activate").click()
    page.wait_for_url(lambda url: "/totp/activate/" not in url)
    page.goto(live_app.url("/accounts/2fa/recovery-codes/"))
    expect(page.get_by_role("main")).to_contain_text("recovery codes")
    check_page(page, "onboarding-2fa-recovery-codes")

    page.goto(live_app.url(f"/dashboard/{slug}/security/"))
    page.get_by_label("Require two-factor authentication for every member").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator(".messages")).to_contain_text("Saved")
    check_page(page, "onboarding-security-required")

    # A staff member without it is sent to set it up before the dashboard.
    staff_context = browser.new_context(viewport={"width": 1200, "height": 900})
    staff_context.set_default_timeout(15_000)
    staff_page = staff_context.new_page()
    login(staff_page, live_app, staff, PASSWORD)
    staff_page.goto(live_app.url(f"/dashboard/{slug}/"))
    staff_page.wait_for_url(lambda url: "/accounts/" in url)
    assert "/dashboard/" not in staff_page.url.split("?")[0]
    expect(staff_page.locator(".messages")).to_contain_text("requires two-factor authentication")
    staff_context.close()
