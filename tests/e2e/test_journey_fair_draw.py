"""Fair admission, seen by a buyer (issue 22): before the room opens the event page and the waiting room
show the draw's commitment; after joining, the buyer's page shows their entry id; at opening the page
reloads by itself and shows the revealed seed (which hashes to the commitment) and the link to verify;
the public log names the buyer's entry, and the stand-alone verifier accepts the downloaded log."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import ROOT, check_page, wait_for_email, wait_live

pytestmark = pytest.mark.browser

SETUP = """
from datetime import timedelta
from django.utils import timezone
from tenants.models import Tenant, User
from tenants.services import customer_upsert
from ticketing import services as ticketing
from ticketing.models import Venue
from waitingroom import services as rooms
tenant = Tenant.objects.get(slug="nightowl-live")
owner = User.objects.get(email="promoter@demo.virtualq.test")
venue = Venue.objects.for_tenant(tenant).get(name="The Night Owl")
starts = timezone.now() + timedelta(days=40)
event = ticketing.event_create(
    tenant=tenant, actor=owner, venue=venue, title="Fair Draw Night", performer="The Draws",
    description="Tickets go through a waiting room with a draw at opening.", starts_at=starts,
    ends_at=starts + timedelta(hours=3), checkout_limit=1, per_order_max=4, currency=tenant.currency,
)
ticketing.tier_create(
    tenant=tenant, actor=owner, event=event, name="Standing", price_cents=2000, quantity=100,
    position=0, max_per_order=4,
)
event = ticketing.event_publish(tenant=tenant, actor=owner, event=event)
rooms.waiting_room_configure(
    tenant=tenant, actor=owner, event=event, enabled=True, prequeue_shuffle=True,
    opens_at=timezone.now() + timedelta(hours=2), admission_minutes=10,
)
for number in range(3):  # three others joined before opening too
    other = customer_upsert(tenant=tenant, email=f"early{number}@example.test", name=f"Early {number}")
    rooms.waiting_room_join(tenant=tenant, event=event, customer=other)
print(event.id, event.slug)
"""

OPEN_NOW = """
from django.utils import timezone
from waitingroom import services as rooms
from waitingroom.models import WaitingRoom
WaitingRoom.objects.filter(event_id={event_id}).update(opens_at=timezone.now())  # time travel to opening
rooms.waiting_room_admit(event_id={event_id})
"""


def test_buyer_sees_commitment_entry_id_then_seed_and_verifies(live_app, page, tmp_path):
    event_id, slug = live_app.shell(SETUP).split()[-2:]
    event_page = f"/nightowl-live/e/{slug}/"

    # Before opening: the commitment is on the event page and at the waiting room's front door.
    page.goto(live_app.url(event_page))
    commitment = page.locator("[data-wr-commitment]").first.inner_text().strip()
    assert re.fullmatch(r"[0-9a-f]{64}", commitment)
    expect(page.locator("[data-wr-seed]")).to_have_count(0)
    page.goto(live_app.url(event_page + "waiting-room/"))
    expect(page.locator("p.notice", has_text="The room opens")).to_be_visible()
    expect(page.locator("[data-wr-commitment]")).to_have_text(commitment)
    check_page(page, "j22-fair-1-front-door-commitment")

    # Joining (email link): the place page shows the entry id, the draw still to come, the commitment.
    email = "fair.buyer@example.test"
    page.get_by_label(re.compile(r"^Email:?$")).fill(email)
    page.get_by_role("button", name="Email me my link to join").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your email")
    text = wait_for_email(live_app, lambda body: email in body and "/waiting-room/join/" in body)
    page.goto(re.search(r"https?://\S+/waiting-room/join/\S+/", text).group(0))
    page.get_by_role("button", name="Take my place in line").click()
    page.wait_for_url(re.compile(r"/nightowl-live/line/[^/]+/$"))
    entry_id = page.locator("[data-wr-entry-id]").inner_text().strip()
    assert re.fullmatch(r"[0-9A-Z]{3}(-[0-9A-Z]{3}){3}", entry_id)
    expect(page.locator('[data-live-field="position"]')).to_have_text("Drawn at opening")
    expect(page.locator("[data-wr-commitment]")).to_have_text(commitment)
    expect(page.locator("[data-wr-seed]")).to_have_count(0)
    check_page(page, "j22-fair-2-entry-before-draw")

    # Opening: the draw is made with the committed seed; the open page reloads by itself and shows it.
    wait_live(page)
    live_app.shell(OPEN_NOW.format(event_id=int(event_id)))
    seed_field = page.locator("[data-wr-seed]")
    expect(seed_field).to_be_visible(timeout=30_000)
    seed = seed_field.inner_text().strip()
    assert hashlib.sha256(f"virtualq-draw-v1:{event_id}:{seed}".encode()).hexdigest() == commitment
    expect(page.locator("[data-wr-entry-id]")).to_have_text(entry_id)
    check_page(page, "j22-fair-3-after-draw-seed")

    # The link to verify: the public log names the buyer's entry; the verifier accepts the download.
    page.get_by_role("link", name="See the admission log and how to verify it").click()
    page.wait_for_url(re.compile(r"/fairness/"))
    expect(page.locator("[data-wr-seed]")).to_have_text(seed)
    page.get_by_label("Entry id").fill(entry_id)
    page.get_by_role("button", name="Check").click()
    expect(page.locator("[data-wr-check]")).to_contain_text(entry_id)
    expect(page.locator("[data-wr-check]")).to_contain_text(re.compile(r"Drawn place \d of 4"))
    check_page(page, "j22-fair-4-fairness-entry-check")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the log (JSON lines)").click()
    log = tmp_path / "admission-log.jsonl"
    download.value.save_as(log)
    assert entry_id in log.read_text()
    result = subprocess.run(
        [sys.executable, "-m", "waitingroom.verify", str(log)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0 and result.stdout.startswith("OK:"), result.stdout + result.stderr
