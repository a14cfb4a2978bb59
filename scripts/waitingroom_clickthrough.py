"""Click-through of the waiting room in headless Chromium, two people (two browser contexts).

Needs the app served (daphne on WR_BASE, default :8107) with a Celery worker + beat and the demo seeded;
usage: ``python scripts/waitingroom_clickthrough.py <owner email> <password>`` from the repository root.

Ava joins first and is admitted (checkout limit 1); a scripted third person (Xavier) then joins; Ben
joins last (position 2). Ava buys; the next admission lets Xavier in and Ben's position moves 2 → 1
live (no reload: a marker set in the page survives). Screenshots in /tmp/wr-shots/.
"""

import glob
import os
import re
import subprocess
import sys
import time

from playwright.sync_api import sync_playwright

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the checkout, wherever it is

DATA = os.environ.get("VQ_DATA_DIR", "/tmp/vq-waitingroom")  # noqa: S108 - the dev server's data folder
BASE = os.environ.get("WR_BASE", "http://127.0.0.1:8107")
ROOM = f"{BASE}/nightowl-live/e/the-velvet-owls-farewell-night/waiting-room/"
SHOTS = os.environ.get("WR_SHOTS", "screenshots/waitingroom")
EMAILS = f"{DATA}/emails"
os.makedirs(SHOTS, exist_ok=True)
stamp = str(int(time.time()))


def link_for(email):
    for _ in range(40):
        for path in sorted(glob.glob(f"{EMAILS}/*"), key=os.path.getmtime, reverse=True):
            with open(path, encoding="utf-8", errors="replace") as handle:
                text = handle.read()
            if email in text:
                match = re.findall(r"(http://\S+/waiting-room/join/\S+/)", text.replace("=\n", ""))
                if match:
                    return match[-1]
        time.sleep(0.25)
    raise RuntimeError(f"no link for {email}")


def join(page, email, name):
    page.goto(ROOM)
    page.fill("input[name=email]", email)
    page.fill("input[name=name]", name)
    page.click("button:has-text('Email me my link')")
    page.wait_for_selector("text=Check your email")
    page.goto(link_for(email).replace("http://testserver", BASE))
    page.click("button:has-text('Take my place in line')")
    page.wait_for_url(re.compile(r"/line/"))


def field(page, name):
    return page.locator(f'[data-live-field="{name}"]').first.inner_text()


def shell(code):
    env = dict(os.environ, VQ_DATA_DIR=DATA)
    out = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else ""


with sync_playwright() as p:
    browser = p.chromium.launch(
        executable_path="/usr/bin/chromium",
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-quic",
            "--no-first-run",
        ],
    )
    ava = browser.new_context(viewport={"width": 1200, "height": 1300}).new_page()
    ben = browser.new_context(viewport={"width": 390, "height": 1500}).new_page()

    ava.goto(ROOM)
    ava.screenshot(path=f"{SHOTS}/01-room.png", full_page=True)
    join(ava, f"ava{stamp}@example.test", "Ava")
    ava.screenshot(path=f"{SHOTS}/02-ava-joined.png", full_page=True)
    # The beat (every 5 s) admits Ava; her page reloads itself through the websocket.
    ava.wait_for_selector('h1:has-text("It\'s your turn")', timeout=30000)
    ava.screenshot(path=f"{SHOTS}/03-ava-admitted.png", full_page=True)
    print("ava admitted:", ava.url)

    print(
        "xavier:",
        shell(
            "from tenants.services import customer_upsert; from ticketing.models import Event; "
            "from waitingroom import services; e=Event.objects.get(slug='the-velvet-owls-farewell-night'); "
            f"c=customer_upsert(tenant=e.tenant, email='xavier{stamp}@example.test', name='Xavier'); "
            "entry,_=services.waiting_room_join(tenant=e.tenant, event=e, customer=c); print(entry.number)"
        ),
    )
    join(ben, f"ben{stamp}@example.test", "Ben")
    ben.wait_for_function(
        "document.querySelector('[data-wr-entry]').dataset.liveState === 'connected'", timeout=15000
    )
    before = (field(ben, "position"), field(ben, "ahead"))
    print("ben before:", before)
    ben.evaluate("window.__noReload = 'still here'")
    ben.screenshot(path=f"{SHOTS}/04-ben-waiting-position2.png", full_page=True)
    assert before == ("2", "1"), before

    # Ava buys.
    ava.select_option("select[name^=tier_]", "2")
    ava.click("button:has-text('Continue to checkout')")
    ava.wait_for_url(re.compile(r"/checkout/"))
    ava.fill("input[name=name]", "Ava")
    ava.fill("input[name=email]", f"ava{stamp}@example.test")
    ava.click("button:has-text('Continue to payment')")
    ava.check("input[value=test_card]")
    ava.fill("input[name=card_number]", "4242 4242 4242 4242")
    ava.screenshot(path=f"{SHOTS}/05-ava-checkout.png", full_page=True)
    ava.click("button:has-text('Pay')")
    ava.wait_for_url(re.compile(r"/orders/"))
    ava.screenshot(path=f"{SHOTS}/06-ava-order.png", full_page=True)
    print("ava bought:", ava.url)

    # Ben's position moves live when Xavier (ahead of him) is admitted by the next pass.
    ben.wait_for_function(
        "document.querySelector('[data-live-field=position]').textContent.trim() === '1'", timeout=30000
    )
    after = (field(ben, "position"), field(ben, "ahead"), field(ben, "eta"))
    marker = ben.evaluate("window.__noReload")
    print("ben after:", after, "marker:", marker)
    assert after[:2] == ("1", "0") and marker == "still here"
    ben.screenshot(path=f"{SHOTS}/07-ben-position1-live.png", full_page=True)

    # Staff view (owner of nightowl-live).
    staff = browser.new_context(viewport={"width": 1200, "height": 1300}).new_page()
    staff.goto(f"{BASE}/accounts/login/")
    print("owner:", sys.argv[1:])
    if len(sys.argv) > 2:
        staff.fill("input[name=username]", sys.argv[1])
        staff.fill("input[name=password]", sys.argv[2])
        staff.click("button[type=submit]")
        event_id = shell(
            "from ticketing.models import Event; "
            "print(Event.objects.get(slug='the-velvet-owls-farewell-night').id)"
        )
        staff.goto(f"{BASE}/dashboard/nightowl-live/waiting-rooms/{event_id}/")
        staff.screenshot(path=f"{SHOTS}/08-staff.png", full_page=True)
        print("staff counts:", staff.locator(".wr-stats").inner_text().replace("\n", " | "))
    browser.close()
print("OK")
