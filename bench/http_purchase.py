"""The purchase over HTTP: daphne, the full middleware stack (sessions, CSRF, messages), the public
checkout pages — compared with the trivial view (``/healthz``) on the same server at the same concurrency.

One purchase is the buyer's three POSTs: start checkout (take a seat), details (name, email), pay (test
card); each must answer 302. Every buyer presents its own address through ``X-Forwarded-For`` (daphne
runs with ``--proxy-headers``, like the Procfile), as an on-sale's buyers do, so the per-address checkout
rate limit does not turn the benchmark into a rate-limit test.

Target: purchase requests/s ≥ 0.5 × trivial requests/s, zero 5xx. Invariants: zero 5xx, one order per
successful purchase, no oversell.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from bench import _ticketing, harness, loadgen, servers

ORDER = 30
FORM = "application/x-www-form-urlencoded"


def _csrf_cookie(response: loadgen.Response) -> str:
    for cookie in response.headers.get("set-cookie", "").split("\n"):
        if cookie.startswith("csrftoken="):
            return cookie.split(";", 1)[0].split("=", 1)[1]
    raise RuntimeError(f"no CSRF cookie on the event page (status {response.status})")


def make_purchase_op(sale: dict):
    tenant, event_slug, tier_id = sale["tenant_slug"], sale["event_slug"], sale["tier_ids"][0]
    event_path = f"/{tenant}/e/{event_slug}/"

    async def prepare(conn: loadgen.HttpConnection, number: int) -> dict:
        response = await conn.request("GET", event_path, headers={"X-Forwarded-For": f"10.200.0.{number}"})
        return {"csrf": _csrf_cookie(response)}

    async def op(conn: loadgen.HttpConnection, number: int, iteration: int, context: dict) -> str:
        csrf = context["csrf"]
        headers = {
            "Cookie": f"csrftoken={csrf}",
            "Content-Type": FORM,
            "X-Forwarded-For": f"10.{number % 250}.{iteration // 250 % 250}.{iteration % 250 + 1}",
        }

        async def post(path: str, fields: dict) -> loadgen.Response:
            body = urlencode({"csrfmiddlewaretoken": csrf, **fields}).encode()
            return await conn.request("POST", path, headers=headers, body=body)

        started = await post(f"{event_path}checkout/", {f"tier_{tier_id}": "1"})
        location = started.headers.get("location", "")
        if started.status >= 500:
            return "5xx"
        if started.status != 302 or "/checkout/" not in location:
            return f"start_{started.status}"
        details = await post(location, {"step": "details", "name": "Bench Buyer",
                                        "email": f"h{number}-{iteration}@bench.test"})  # fmt: skip
        if details.status != 302:
            return "5xx" if details.status >= 500 else f"details_{details.status}"
        paid = await post(
            location,
            {"step": "pay", "provider": "test_card", "card_number": "4242 4242 4242 4242",
             "idempotency_key": secrets.token_hex(8)},
        )  # fmt: skip
        if paid.status != 302 or "/orders/" not in paid.headers.get("location", ""):
            return "5xx" if paid.status >= 500 else f"pay_{paid.status}"
        return "ok"

    return prepare, op


def run(report: harness.Report) -> None:
    harness.setup_django()
    concurrency = harness.HTTP_CONCURRENCY
    trivial = report.baseline("http_trivial", concurrency=concurrency)
    sale = _ticketing.make_sale(label="http", tiers=1, checkout_limit=200)
    server = servers.daphne()
    prepare, op = make_purchase_op(sale)
    result = loadgen.http_session_load(
        servers.HOST, server.port, op, concurrency=concurrency, seconds=harness.duration(15), prepare=prepare
    )
    purchases = result.outcomes.get("ok", 0)
    requests_per_second = result.completed / result.seconds if result.seconds else 0.0
    summary = {
        "concurrency": concurrency,
        "seconds": round(result.seconds, 2),
        "purchases_per_second": round(purchases / result.seconds, 2) if result.seconds else 0,
        "requests_per_second": round(requests_per_second, 1),
        "outcomes": dict(result.outcomes),
        "statuses": {str(status): count for status, count in result.statuses.items()},
        "failures": dict(result.failures),
        "purchase_latency": harness.latency_summary(result.latencies),
        "server_rss_mb": server.rss_mb(),
    }
    report.result("http_purchase", **summary)
    print(f"   {summary}", flush=True)
    report.invariant("http purchase: zero 5xx", result.server_errors == 0, f"statuses {summary['statuses']}")
    _ticketing.check_invariants(report, "http purchase", sale, expected_orders=purchases)
    report.compare(
        f"HTTP purchase requests vs trivial view @{concurrency}",
        value=requests_per_second,
        baseline=trivial["ops_per_second"],
        baseline_name=f"GET /healthz under daphne @{concurrency}",
        target="≥ 0.5, zero 5xx",
        meets=requests_per_second >= 0.5 * (trivial["ops_per_second"] or 0) and result.server_errors == 0,
        unit="requests/s",
        note=f"{summary['purchases_per_second']} purchases/s (3 POSTs each); "
        f"purchase p99 {summary['purchase_latency']['p99_ms']} ms",
    )


if __name__ == "__main__":
    harness.main(run)
