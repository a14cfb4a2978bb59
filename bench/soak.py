"""Soak (on demand: ``make bench SOAK=1``, ``SOAK_MINUTES``, default 30): the HTTP purchase flow against one
daphne process for the whole time, measured in one-minute windows.

Targets: p99 drift ≤ 20 % (median p99 of the last five windows against the first five) and bounded
memory (daphne's RSS at the end against after the first window). Invariants: zero 5xx, one order per
successful purchase, no oversell.
"""

from __future__ import annotations

import os
import statistics

from bench import _ticketing, harness, loadgen, servers
from bench.http_purchase import make_purchase_op

ORDER = 90
SOAK_ONLY = True


def run(report: harness.Report) -> None:
    harness.setup_django()
    minutes = int(os.environ.get("SOAK_MINUTES", "30"))
    window = 60.0
    concurrency = harness.HTTP_CONCURRENCY
    sale = _ticketing.make_sale(label="soak", tiers=4, checkout_limit=200)
    server = servers.daphne(name="daphne-soak", port_offset=2)
    prepare, op = make_purchase_op(sale)
    windows = []
    purchases = 0
    server_errors = 0
    for minute in range(minutes):
        result = loadgen.http_session_load(
            servers.HOST, server.port, op, concurrency=concurrency, seconds=window, prepare=prepare
        )
        purchases += result.outcomes.get("ok", 0)
        server_errors += result.server_errors
        summary = {
            "minute": minute + 1,
            "purchases_per_second": round(result.outcomes.get("ok", 0) / result.seconds, 2),
            "rss_mb": server.rss_mb(),
            "outcomes": dict(result.outcomes),
            **harness.latency_summary(result.latencies),
        }
        windows.append(summary)
        print(f"   soak {summary}", flush=True)
    head = [w["p99_ms"] for w in windows[:5] if w["p99_ms"] is not None]
    tail = [w["p99_ms"] for w in windows[-5:] if w["p99_ms"] is not None]
    drift = statistics.median(tail) / statistics.median(head) if head and tail else None
    rss_start, rss_end = windows[0]["rss_mb"], windows[-1]["rss_mb"]
    report.result("soak", minutes=minutes, concurrency=concurrency, windows=windows, p99_drift=drift)
    report.invariant("soak: zero 5xx", server_errors == 0, f"{server_errors} responses ≥ 500")
    _ticketing.check_invariants(report, "soak", sale, expected_orders=purchases)
    report.compare(
        f"soak {minutes} min: p99 last 5 min vs first 5 min",
        value=statistics.median(tail) if tail else None,
        baseline=statistics.median(head) if head else None,
        baseline_name="median p99 of the first five minutes",
        target="≤ 1.2",
        meets=drift is not None and drift <= 1.2,
        unit="ms (p99)",
    )
    report.compare(
        f"soak {minutes} min: daphne RSS end vs first minute",
        value=rss_end,
        baseline=rss_start,
        baseline_name="RSS after the first minute",
        target="bounded (≤ 1.2)",
        meets=bool(rss_start and rss_end) and rss_end <= 1.2 * rss_start,
        unit="MB",
    )


if __name__ == "__main__":
    os.environ["SOAK"] = "1"
    harness.main(run)
